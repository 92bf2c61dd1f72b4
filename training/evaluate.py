"""Whole-scan inference as the runtime does it (tiles with overlap, heatmap stitched by max, scan score =
max of tile scores), region decoding, and the validation figures used for calibration and the model card.
"""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from dataset import Scan
from model import HEATMAP_STRIDE, SIZE_MULTIPLE
from preprocess import model_input, pad_to_multiple


@dataclass(frozen=True)
class Tiling:
    tile_lines: int = 256
    overlap_lines: int = 64


def tile_starts(padded_width: int, tiling: Tiling) -> list[int]:
    """Tile origins over a scan padded to the size multiple: every tile - overlap lines, the last tile
    shifted back to end at the padded scan end (the runtime's plan, inference/tiling.ts)."""
    if padded_width <= tiling.tile_lines:
        return [0]
    step = tiling.tile_lines - tiling.overlap_lines
    starts = list(range(0, padded_width - tiling.tile_lines + 1, step))
    if starts[-1] + tiling.tile_lines < padded_width:
        starts.append(padded_width - tiling.tile_lines)
    return starts


@torch.no_grad()
def infer(model: torch.nn.Module, x: np.ndarray, tiling: Tiling = Tiling()) -> tuple[np.ndarray, float]:
    """x: [3, H, W] model input. Returns (heatmap [ceil(H/4), ceil(W/4)], scan score before calibration)."""
    _, h, w = x.shape
    s = HEATMAP_STRIDE
    xp = pad_to_multiple(x, SIZE_MULTIPLE)
    starts = tile_starts(xp.shape[2], tiling)
    tiles = np.stack([xp[:, :, x0 : x0 + tiling.tile_lines] for x0 in starts])
    hm, sc = model(torch.from_numpy(tiles))
    hm, sc = hm.numpy()[:, 0], sc.numpy()[:, 0]
    full = np.zeros((xp.shape[1] // s, xp.shape[2] // s), dtype=np.float32)
    for k, x0 in enumerate(starts):
        c0 = x0 // s
        part = full[:, c0 : c0 + hm.shape[2]]
        np.maximum(part, hm[k, :, : part.shape[1]], out=part)
    return full[: math.ceil(h / s), : math.ceil(w / s)].copy(), float(sc.max())


def connected_regions(binary: np.ndarray) -> list[tuple[int, int, int, int, np.ndarray]]:
    """8-connected components of a boolean grid: (row0, col0, rows, cols, cell indices) each."""
    h, w = binary.shape
    seen = np.zeros_like(binary, dtype=bool)
    out = []
    for r, c in zip(*np.nonzero(binary)):
        if seen[r, c]:
            continue
        stack, cells = [(r, c)], []
        seen[r, c] = True
        while stack:
            y, x = stack.pop()
            cells.append((y, x))
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    yy, xx = y + dy, x + dx
                    if 0 <= yy < h and 0 <= xx < w and binary[yy, xx] and not seen[yy, xx]:
                        seen[yy, xx] = True
                        stack.append((yy, xx))
        arr = np.asarray(cells)
        r0, c0 = arr.min(axis=0)
        r1, c1 = arr.max(axis=0)
        out.append((int(r0), int(c0), int(r1 - r0 + 1), int(c1 - c0 + 1), arr))
    return out


@dataclass
class Region:
    x: int
    y: int
    w: int
    h: int
    score: float


# Splitting a region that holds several peaks (several people side by side make one component); the
# runtime reads SPLIT_PROMINENCE from the manifest (decoding.splitProminence) and SPLIT_STEP is its constant.
SPLIT_PROMINENCE = 0.1
SPLIT_STEP = 0.05


def _components(cells: np.ndarray, grid_shape: tuple[int, int]) -> list[np.ndarray]:
    """8-connected components of a set of (row, col) cells, in row-major order of their first cell."""
    mask = np.zeros(grid_shape, dtype=bool)
    mask[cells[:, 0], cells[:, 1]] = True
    return [arr for _, _, _, _, arr in connected_regions(mask)]


def _partition(cells: np.ndarray, seeds: list[np.ndarray], heat: np.ndarray) -> list[np.ndarray]:
    """Every cell of `cells` to one of `seeds`, flooded from the highest cell down (ties: lower index first)."""
    h, w = heat.shape
    inside = np.zeros(heat.shape, dtype=bool)
    inside[cells[:, 0], cells[:, 1]] = True
    owner = np.full(heat.shape, -1, dtype=np.int64)
    queue = []
    for j, s in enumerate(seeds):
        for y, x in s:
            owner[y, x] = j
            heapq.heappush(queue, (-float(heat[y, x]), int(y) * w + int(x)))
    while queue:
        _, k = heapq.heappop(queue)
        y, x = divmod(k, w)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                yy, xx = y + dy, x + dx
                if 0 <= yy < h and 0 <= xx < w and inside[yy, xx] and owner[yy, xx] < 0:
                    owner[yy, xx] = owner[y, x]
                    heapq.heappush(queue, (-float(heat[yy, xx]), yy * w + xx))
    own = owner[cells[:, 0], cells[:, 1]]
    return [cells[own == j] for j in range(len(seeds))]


def split_region(heat: np.ndarray, cells: np.ndarray, base: float, k0: int, prominence: float, min_cells: float) -> list[np.ndarray]:
    """The parts of one component (cells), split at the levels base + k * SPLIT_STEP, k > k0, as the runtime does."""
    top = heat[cells[:, 0], cells[:, 1]].max()
    k = k0 + 1
    while base + k * SPLIT_STEP < 1:
        level = base + k * SPLIT_STEP
        if level + prominence > top:
            break  # no peak can rise that far above this level or any higher one
        above = cells[heat[cells[:, 0], cells[:, 1]] >= level]
        if len(above) == 0:
            break
        subs = _components(above, heat.shape)
        peaks = [s for s in subs if len(s) >= min_cells and heat[s[:, 0], s[:, 1]].max() >= level + prominence]
        if len(peaks) >= 2:
            return [q for part in _partition(cells, peaks, heat) for q in split_region(heat, part, base, k, prominence, min_cells)]
        k += 1
    return [cells]


def decode_regions(
    heat: np.ndarray, peak_threshold: float, min_region_mm2: float, pixel_mm: float, split_prominence: float = SPLIT_PROMINENCE
) -> list[Region]:
    """Regions in model pixels (pixel_mm pitch), as the runtime decodes them (inference/decode.ts). The heatmap is
    compared in float64, as JavaScript compares its float32 cells: numpy would compare a float32 array with a level
    in float32, and a cell exactly at a level that float32 rounds down would then count as above it."""
    heat = np.asarray(heat, dtype=np.float64)
    s = HEATMAP_STRIDE
    cell_mm2 = (s * pixel_mm) ** 2
    regions = []
    for _, _, _, _, component in connected_regions(heat >= peak_threshold):
        if split_prominence > 0 and len(component) * cell_mm2 >= 2 * min_region_mm2:
            parts = split_region(heat, component, peak_threshold, 0, split_prominence, min_region_mm2 / cell_mm2)
        else:
            parts = [component]
        for cells in parts:
            if len(cells) * cell_mm2 < min_region_mm2:
                continue
            r0, c0 = cells.min(axis=0)
            r1, c1 = cells.max(axis=0)
            score = float(heat[cells[:, 0], cells[:, 1]].max())
            regions.append(Region(x=int(c0) * s, y=int(r0) * s, w=int(c1 - c0 + 1) * s, h=int(r1 - r0 + 1) * s, score=score))
    return regions


def box_iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


MATCH_IOU = 0.1


@dataclass
class ScanOutcome:
    scan_id: str
    has_person: bool
    score: float  # uncalibrated scan score
    persons_found_by_region: list[bool]
    regions: list[Region]
    meta: dict = field(default_factory=dict)


def run_validation(
    model: torch.nn.Module, scans: list[Scan], peak_threshold: float, min_region_mm2: float, pixel_mm: float, tiling: Tiling = Tiling()
) -> tuple[list[ScanOutcome], dict[str, np.ndarray]]:
    model.eval()
    outcomes, heats = [], {}
    for scan in scans:
        heat, score = infer(model, model_input(scan.high, scan.low), tiling)
        regions = decode_regions(heat, peak_threshold, min_region_mm2, pixel_mm)
        found = [any(box_iou(p.box, (r.x, r.y, r.w, r.h)) >= MATCH_IOU for r in regions) for p in scan.persons]
        outcomes.append(ScanOutcome(scan.scan_id, bool(scan.persons), score, found, regions, scan.meta))
        heats[scan.scan_id] = heat
    return outcomes, heats


def roc_auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Probability that a random positive outscores a random negative (ties count half)."""
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    allv = np.concatenate([pos, neg])
    order = allv.argsort(kind="mergesort")
    ranks = np.empty(len(allv), dtype=np.float64)
    sorted_v = allv[order]
    i = 0
    while i < len(allv):
        j = i
        while j + 1 < len(allv) and sorted_v[j + 1] == sorted_v[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    rp = ranks[: len(pos)].sum()
    return float((rp - len(pos) * (len(pos) + 1) / 2.0) / (len(pos) * len(neg)))


def threshold_at_false_alarm(neg_scores: np.ndarray, max_false_alarm: float) -> float:
    """Smallest threshold t (scores >= t alarm) with a false-alarm share <= max_false_alarm on neg_scores."""
    if len(neg_scores) == 0:
        return 0.5
    s = np.sort(neg_scores)[::-1]
    allowed = int(math.floor(max_false_alarm * len(s)))
    # Alarms are scores >= t: pick t just above the (allowed+1)-th highest negative.
    if allowed >= len(s):
        return float(s[-1])
    return float(np.nextafter(np.float32(s[allowed]), np.float32(2.0)))


def summarize(outcomes: list[ScanOutcome], threshold: float) -> dict:
    pos = np.asarray([o.score for o in outcomes if o.has_person])
    neg = np.asarray([o.score for o in outcomes if not o.has_person])
    persons = [(o.score >= threshold, f) for o in outcomes if o.has_person for f in o.persons_found_by_region]
    n_persons = len(persons)
    return {
        "scans": len(outcomes),
        "scansWithPeople": int(len(pos)),
        "scansWithoutPeople": int(len(neg)),
        "people": n_persons,
        "auc": roc_auc(pos, neg),
        "threshold": threshold,
        "scanRecall": float((pos >= threshold).mean()) if len(pos) else float("nan"),
        "falseAlarmRate": float((neg >= threshold).mean()) if len(neg) else float("nan"),
        # A person is found when the scan alarms and a decoded region overlaps the person's box.
        "personRecall": float(np.mean([a and f for a, f in persons])) if n_persons else float("nan"),
        "personLocalised": float(np.mean([f for _, f in persons])) if n_persons else float("nan"),
    }


def fit_platt(raw_scores: np.ndarray, labels: np.ndarray, l2: float = 1e-3) -> tuple[float, float]:
    """Logistic regression of labels on logit(raw score): calibrated = sigmoid(a * logit(p) + b)."""
    p = np.clip(raw_scores.astype(np.float64), 1e-7, 1 - 1e-7)
    z = np.log(p / (1 - p))
    y = labels.astype(np.float64)
    a, b = 1.0, 0.0
    for _ in range(100):
        q = 1 / (1 + np.exp(-(a * z + b)))
        g = np.array([np.sum((q - y) * z) + l2 * a, np.sum(q - y)])
        wq = q * (1 - q)
        hmat = np.array([[np.sum(wq * z * z) + l2, np.sum(wq * z)], [np.sum(wq * z), np.sum(wq) + 1e-9]])
        step = np.linalg.solve(hmat, g)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-10:
            break
    return float(a), float(b)


def platt(p: float | np.ndarray, a: float, b: float) -> float | np.ndarray:
    pc = np.clip(p, 1e-7, 1 - 1e-7)
    return 1 / (1 + np.exp(-(a * np.log(pc / (1 - pc)) + b)))
