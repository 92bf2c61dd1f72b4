"""Balanced random crops with heatmap and tile-score targets.

Every batch mixes three kinds of crop in fixed shares: crops on a person, crops from scans without
people, and crops on a decoy (the hard negatives: water containers, sacks, carcasses ...). With
`hard_share`, a fourth kind is centred on places the model itself mistook for a person (training/mining.py).
Person crops can be weighted by hiding place (`place_weights`). Each
iteration draws from its own generator seeded by (seed, iteration), so a resumed run sees exactly
the batches an uninterrupted run would have seen.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from augment import AugmentConfig, augment
from dataset import Scan
from model import HEATMAP_STRIDE, SIZE_MULTIPLE
from preprocess import OPEN_BEAM, model_input

# Scale of a crop's content along the scan (speed changes) and up the detector (fan-beam
# magnification of a vehicle nearer to or farther from the source), drawn per crop in this share of crops.
P_SCALE = 0.5
SCALE_LINES = (0.85, 1.2)
SCALE_ROWS = (0.9, 1.12)


def _resample(img: np.ndarray, y0: float, x0: float, rows: int, lines: int, sy: float, sx: float, fill: float) -> np.ndarray:
    """Bilinear sample of img over a window starting at (y0, x0), `rows` x `lines` output pixels each 1/s source pixels apart."""
    h, w = img.shape
    ys = y0 + (np.arange(rows) + 0.5) / sy - 0.5
    xs = x0 + (np.arange(lines) + 0.5) / sx - 0.5
    yi = np.floor(ys).astype(np.int64)
    xi = np.floor(xs).astype(np.int64)
    fy = (ys - yi).astype(np.float32)[:, None]
    fx = (xs - xi).astype(np.float32)[None, :]
    pad = np.pad(img.astype(np.float32), 1, mode="constant", constant_values=fill)
    yi = np.clip(yi + 1, 0, h)
    xi = np.clip(xi + 1, 0, w)
    a = pad[yi][:, xi]
    b = pad[yi][:, xi + 1]
    c = pad[yi + 1][:, xi]
    d = pad[yi + 1][:, xi + 1]
    return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy


# A tile counts as containing a person when it holds at least this share of the person's mask.
SCORE_POSITIVE_SHARE = 0.5
# Heatmap cells whose person coverage is at least this are positives; between IGNORE and this, ignored.
HEAT_POSITIVE_COVERAGE = 0.5
HEAT_IGNORE_COVERAGE = 0.1


@dataclass
class Batch:
    x: np.ndarray  # [B, 3, H, W] float32
    heat: np.ndarray  # [B, 1, H/4, W/4] float32 targets
    heat_weight: np.ndarray  # [B, 1, H/4, W/4] float32 (0 = ignored)
    score: np.ndarray  # [B, 1] float32 targets
    score_weight: np.ndarray  # [B, 1] float32
    kinds: list[str]


class CropSampler:
    def __init__(
        self,
        scans: list[Scan],
        seed: int,
        crop_lines: int = 256,
        max_rows: int = 384,
        shares: tuple[float, float, float] = (0.4, 0.3, 0.3),
        augment_cfg: AugmentConfig | None = None,
        place_weights: dict[str, float] | None = None,
        hard_share: float = 0.0,
        scale_lines: tuple[float, float] | None = None,
    ) -> None:
        self.scans = scans
        # Range of the rescaling along the scan, drawn log-uniformly; None: SCALE_LINES, drawn uniformly (as up to 2.3.2).
        self.scale_lines = scale_lines
        self.seed = seed
        self.crop_lines = crop_lines
        tallest = max(s.high.shape[0] for s in scans)
        # One crop height for every batch: the scans' height (rounded up) or max_rows if they are taller.
        self.rows = min(max_rows, -(-tallest // SIZE_MULTIPLE) * SIZE_MULTIPLE)
        self.shares = np.asarray(shares, dtype=np.float64) / sum(shares)
        self.kinds = ["person", "clear", "decoy"]
        if hard_share > 0:
            # The mined crops take their share equally from the crops of scans without people and of decoys.
            person, clear, decoy = self.shares
            self.shares = np.asarray([person, clear - hard_share / 2, decoy - hard_share / 2, hard_share])
            if (self.shares < 0).any():
                raise ValueError(f"hard_share {hard_share} is larger than the shares of clear and decoy crops allow")
            self.kinds.append("hard")
        # (scan index, focus box) of mined hard negatives; until the first mining pass, "hard" crops are clear crops.
        self.hard_refs: list[tuple[int, tuple[int, int, int, int]]] = []
        self.aug = augment_cfg or AugmentConfig()
        self.person_refs = [(si, pi) for si, s in enumerate(scans) for pi in range(len(s.persons))]
        # Person crops are drawn in proportion to their hiding place's weight (default 1), so that
        # places the detector finds hardest can be shown more often than their share of the data.
        weights = np.asarray(
            [(place_weights or {}).get(str(scans[si].persons[pi].meta.get("hidingPlace")), 1.0) for si, pi in self.person_refs],
            dtype=np.float64,
        )
        self.person_p = weights / weights.sum() if weights.size and weights.sum() > 0 else None
        self.clear_scans = [si for si, s in enumerate(scans) if not s.persons]
        self.decoy_refs = [(si, di) for si, s in enumerate(scans) for di in range(len(s.decoys))]
        if not self.person_refs:
            raise ValueError("training set has no scans with people: generate more scans or check labels.jsonl")
        if not self.clear_scans:
            raise ValueError("training set has no scans without people: generate more scans or check labels.jsonl")

    def _window(self, rng: np.random.Generator, scan: Scan, focus: tuple[int, int, int, int] | None) -> tuple[int, int, int, int]:
        """(y0, x0, rows, lines) of a crop; when `focus` (x, y, w, h) is given, the crop overlaps it."""
        h, w = scan.high.shape
        rows = self.rows
        lines = self.crop_lines
        if focus is None:
            y0 = int(rng.integers(0, max(1, h - rows + 1)))
            x0 = int(rng.integers(0, max(1, w - lines + 1)))
            return y0, x0, rows, lines
        fx, fy, fw, fh = focus
        cx = fx + fw * rng.uniform(0.2, 0.8)
        cy = fy + fh * rng.uniform(0.2, 0.8)
        x0 = int(round(cx - rng.uniform(0.1, 0.9) * lines))
        y0 = int(round(cy - rng.uniform(0.1, 0.9) * rows))
        x0 = min(max(0, x0), max(0, w - lines))
        y0 = min(max(0, y0), max(0, h - rows))
        return y0, x0, rows, lines

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float, float, str]:
        kind = str(rng.choice(self.kinds, p=self.shares))
        if (kind == "decoy" and not self.decoy_refs) or (kind == "hard" and not self.hard_refs):
            kind = "clear"
        if kind == "person":
            si, pi = self.person_refs[int(rng.choice(len(self.person_refs), p=self.person_p))]
            scan = self.scans[si]
            focus = scan.persons[pi].box
        elif kind == "decoy":
            si, di = self.decoy_refs[int(rng.integers(len(self.decoy_refs)))]
            scan = self.scans[si]
            focus = scan.decoys[di]
        elif kind == "hard":
            si, focus = self.hard_refs[int(rng.integers(len(self.hard_refs)))]
            scan = self.scans[si]
        else:
            scan = self.scans[self.clear_scans[int(rng.integers(len(self.clear_scans)))]]
            focus = None
        y0, x0, rows, lines = self._window(rng, scan, focus)
        hh, ww = scan.high.shape
        if rng.random() < P_SCALE:
            if self.scale_lines is None:
                sx = float(rng.uniform(*SCALE_LINES))
            else:
                sx = float(np.exp(rng.uniform(np.log(self.scale_lines[0]), np.log(self.scale_lines[1]))))
            sy = float(rng.uniform(*SCALE_ROWS))
            src_rows, src_lines = rows / sy, lines / sx
            # Keep the window's centre; the content is magnified (s > 1) or shrunk.
            ry0 = y0 + (rows - src_rows) / 2
            rx0 = x0 + (lines - src_lines) / 2
            high = _resample(scan.high, ry0, rx0, rows, lines, sy, sx, OPEN_BEAM)
            low = None if scan.low is None else _resample(scan.low, ry0, rx0, rows, lines, sy, sx, OPEN_BEAM)
            mask = _resample(scan.person_mask, ry0, rx0, rows, lines, sy, sx, 0.0) / 255.0
            x0, y0, lines_src, rows_src = int(round(rx0)), int(round(ry0)), int(round(src_lines)), int(round(src_rows))
        else:
            high = np.full((rows, lines), OPEN_BEAM, dtype=np.float32)
            low = np.full((rows, lines), OPEN_BEAM, dtype=np.float32) if scan.low is not None else None
            mask = np.zeros((rows, lines), dtype=np.float32)
            ys, xs = slice(y0, min(hh, y0 + rows)), slice(x0, min(ww, x0 + lines))
            ch, cw = ys.stop - ys.start, xs.stop - xs.start
            high[:ch, :cw] = scan.high[ys, xs]
            if low is not None:
                low[:ch, :cw] = scan.low[ys, xs]
            mask[:ch, :cw] = scan.person_mask[ys, xs].astype(np.float32) / 255.0
            lines_src, rows_src = lines, rows
        # The whole scan, subsampled, for the statistics of the 8-bit export decoding (as the runtime sees the whole file).
        context = (scan.high[::3, ::3], None if scan.low is None else scan.low[::3, ::3])
        high, low, flipped = augment(high, low, rng, self.aug, context)
        if flipped:
            # The flip acts on the whole crop window, including the padding added beyond the scan's end.
            mask = np.ascontiguousarray(mask[:, ::-1])
        x = model_input(high, low)
        # Score target from the share of each person's mask inside the crop window.
        best, any_inside = 0.0, False
        for p in scan.persons:
            share = p.share_inside(x0, y0, lines_src, rows_src)
            if share > 0:
                any_inside = True
                best = max(best, share)
        if best >= SCORE_POSITIVE_SHARE:
            score, score_w = 1.0, 1.0
        elif any_inside:
            score, score_w = 0.0, 0.0
        else:
            score, score_w = 0.0, 1.0
        return x, mask, score, score_w, kind

    def batch(self, iteration: int, size: int) -> Batch:
        rng = np.random.default_rng([self.seed, iteration])
        xs, heats, hws, scores, sws, kinds = [], [], [], [], [], []
        for _ in range(size):
            x, mask, score, score_w, kind = self.sample(rng)
            s = HEATMAP_STRIDE
            r, c = mask.shape[0] // s, mask.shape[1] // s
            cov = mask[: r * s, : c * s].reshape(r, s, c, s).mean(axis=(1, 3))
            heat = (cov >= HEAT_POSITIVE_COVERAGE).astype(np.float32)
            hw = np.where((cov > HEAT_IGNORE_COVERAGE) & (cov < HEAT_POSITIVE_COVERAGE), 0.0, 1.0).astype(np.float32)
            xs.append(x)
            heats.append(heat[None])
            hws.append(hw[None])
            scores.append([score])
            sws.append([score_w])
            kinds.append(kind)
        return Batch(
            x=np.stack(xs),
            heat=np.stack(heats),
            heat_weight=np.stack(hws),
            score=np.asarray(scores, dtype=np.float32),
            score_weight=np.asarray(sws, dtype=np.float32),
            kinds=kinds,
        )
