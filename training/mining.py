"""Hard negatives mined from the model being trained (docs/training.md, "Hard negatives").

Random crops of scans without people mostly show open beam, plain cargo and the middle of a trailer; the
few structures that a run mistakes for a person (a wheel set, a tank end, a cab corner) are rarely in them.
Every few hundred iterations the run's EMA model reads every training scan whole, as the runtime reads a
scan, and the places where its heatmap peaks away from any person become the centres of a share of the
next crops, so that the model is shown its own false alarms while it trains (bootstrapping, as in
Sung and Poggio 1998 and Felzenszwalb et al. 2010).

A mining pass depends only on the EMA weights at that iteration, and its result is kept in the
checkpoint, so a resumed run mines and samples exactly as an uninterrupted one.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from dataset import Scan
from evaluate import Tiling, infer
from model import HEATMAP_STRIDE
from preprocess import model_input

# Peaks closer than this to a person's mask (heatmap cells of 4 px at the model pitch, 8 cells = 64 cm at 20 mm)
# are not false alarms: they are the person's own outline.
PERSON_MARGIN_CELLS = 8
# One peak per this many cells around it (non-maximum suppression window, cells).
PEAK_WINDOW_CELLS = 9
# Side of the focus box around a peak (model pixels); crops overlap it as they overlap a decoy.
FOCUS_PX = 16


def _away_from_people(scan: Scan, cells: tuple[int, int]) -> np.ndarray:
    """Boolean [rows, cols] over heatmap cells: True where no person's mask lies within the margin."""
    s = HEATMAP_STRIDE
    r, c = cells
    mask = np.zeros((r * s, c * s), dtype=np.float32)
    h, w = scan.person_mask.shape
    mask[: min(h, r * s), : min(w, c * s)] = scan.person_mask[: r * s, : c * s] > 0
    near = mask.reshape(r, s, c, s).max(axis=(1, 3))
    k = 2 * PERSON_MARGIN_CELLS + 1
    near = F.max_pool2d(torch.from_numpy(near)[None, None], k, stride=1, padding=PERSON_MARGIN_CELLS)[0, 0].numpy()
    return near == 0


def scan_peaks(heat: np.ndarray, allowed: np.ndarray, per_scan: int, min_prob: float) -> list[tuple[int, int, float]]:
    """Local maxima of a heatmap inside `allowed`, highest first: [(row, col, probability)], at most per_scan."""
    h = np.where(allowed, heat, 0.0).astype(np.float32)
    pooled = F.max_pool2d(torch.from_numpy(h)[None, None], PEAK_WINDOW_CELLS, stride=1, padding=PEAK_WINDOW_CELLS // 2)[0, 0].numpy()
    rows, cols = np.nonzero((h == pooled) & (h >= min_prob))
    peaks: list[tuple[int, int, float]] = []
    # Cells of equal height (a plateau, or a saturated heatmap) are all maxima of their window: keep the first.
    for i in np.argsort(-h[rows, cols], kind="stable"):
        r, c = int(rows[i]), int(cols[i])
        if all(abs(r - pr) > PEAK_WINDOW_CELLS // 2 or abs(c - pc) > PEAK_WINDOW_CELLS // 2 for pr, pc, _ in peaks):
            peaks.append((r, c, float(h[r, c])))
            if len(peaks) == per_scan:
                break
    return peaks


def mine_hard_negatives(
    model: torch.nn.Module, scans: list[Scan], tiling: Tiling, keep: int, per_scan: int = 2, min_prob: float = 0.05
) -> list[tuple[int, tuple[int, int, int, int], float]]:
    """The `keep` strongest heatmap peaks away from people over all scans: [(scan index, focus box (x, y, w, h), probability)]."""
    was_training = model.training
    model.eval()
    found: list[tuple[int, tuple[int, int, int, int], float]] = []
    s = HEATMAP_STRIDE
    for si, scan in enumerate(scans):
        heat, _ = infer(model, model_input(scan.high, scan.low), tiling)
        allowed = _away_from_people(scan, heat.shape) if scan.persons else np.ones(heat.shape, dtype=bool)
        for row, col, prob in scan_peaks(heat, allowed, per_scan, min_prob):
            cx, cy = col * s + s // 2, row * s + s // 2
            found.append((si, (cx - FOCUS_PX // 2, cy - FOCUS_PX // 2, FOCUS_PX, FOCUS_PX), prob))
    model.train(was_training)
    found.sort(key=lambda f: (-f[2], f[0], f[1]))
    return found[:keep]
