"""Validation pictures for the model card: training curve, validation ROC, examples with regions drawn."""
from __future__ import annotations

import os

import numpy as np

from dataset import Scan
from evaluate import ScanOutcome
from model import HEATMAP_STRIDE
from pictures import BLUE, GREEN, RED, YELLOW, draw_box, overlay_heat, plot_series, scan_to_rgb, write_png


def training_curve(histories: list[dict], path: str) -> None:
    """Heatmap (red) and tile-score (blue) losses of each trained model (an ensemble's members drawn over each other)."""
    series, values, last = [], [], 0.0
    for history in histories:
        it = np.asarray([h["iteration"] for h in history["loss"]], dtype=np.float64)
        heat = np.asarray([h["heat"] for h in history["loss"]])
        score = np.asarray([h["score"] for h in history["loss"]])
        series += [(it, heat, RED), (it, score, BLUE)]
        values += [heat, score]
        last = max(last, float(it.max()))
    hi = float(max(v.max() for v in values) * 1.05)
    lo = float(max(1e-3, min(v.min() for v in values) * 0.9))
    img = plot_series(series, (0, last), (lo, hi), log_y=True, grid_y=[0.01, 0.03, 0.1, 0.3, 1.0])
    write_png(path, img)


def roc_points(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    thr = np.unique(np.concatenate([pos, neg, [np.inf]]))[::-1]
    fpr = np.asarray([(neg >= t).mean() for t in thr])
    tpr = np.asarray([(pos >= t).mean() for t in thr])
    return np.concatenate([[0.0], fpr, [1.0]]), np.concatenate([[0.0], tpr, [1.0]])


def validation_roc(outcomes: list[ScanOutcome], path: str) -> None:
    pos = np.asarray([o.score for o in outcomes if o.has_person])
    neg = np.asarray([o.score for o in outcomes if not o.has_person])
    fpr, tpr = roc_points(pos, neg)
    # False-alarm axis 0..0.1 so the operating region (<= 2 %) is readable; recall 0.8..1 with grid at 0.9 and 0.95.
    img = plot_series([(np.asarray([0.02, 0.02]), np.asarray([0.0, 1.0]), YELLOW), (fpr, tpr, BLUE)], (0.0, 0.1), (0.8, 1.0), grid_y=[0.85, 0.9, 0.95])
    write_png(path, img)


def example(scan: Scan, outcome: ScanOutcome, heat: np.ndarray, path: str, shrink: int = 1) -> None:
    """Scan with the heatmap tinted, true person boxes green, decoded regions red, decoys yellow."""
    img = scan_to_rgb(scan.high)
    overlay_heat(img, heat, HEATMAP_STRIDE)
    for d in scan.decoys:
        draw_box(img, *d, YELLOW, 2)
    for p in scan.persons:
        draw_box(img, *p.box, GREEN, 3)
    for r in outcome.regions:
        draw_box(img, r.x, r.y, r.w, r.h, RED, 2)
    if shrink > 1:
        h, w, _ = img.shape
        img = img[: h - h % shrink, : w - w % shrink].reshape(h // shrink, shrink, w // shrink, shrink, 3).mean(axis=(1, 3)).astype(np.uint8)
    write_png(path, img)


def validation_examples(
    scans: list[Scan], outcomes: list[ScanOutcome], heats: dict, threshold: float, out_dir: str, per_kind: int = 1
) -> dict[str, list[dict]]:
    """Picks hits, misses and false alarms (or the highest-scoring scans without people) and draws them."""
    by_id = {s.scan_id: s for s in scans}
    hits = [o for o in outcomes if o.has_person and o.score >= threshold and all(o.persons_found_by_region)]
    misses = [o for o in outcomes if o.has_person and (o.score < threshold or not all(o.persons_found_by_region))]
    clear = sorted([o for o in outcomes if not o.has_person], key=lambda o: -o.score)
    hits.sort(key=lambda o: o.score)  # the least confident hits are the most instructive
    misses.sort(key=lambda o: o.score)
    picked = {"hit": hits[:per_kind], "miss": misses[:per_kind], "clear-top": clear[:per_kind]}
    written: dict[str, list[dict]] = {}
    os.makedirs(out_dir, exist_ok=True)
    for kind, items in picked.items():
        written[kind] = []
        for k, o in enumerate(items):
            name = f"val-{kind}-{k + 1}.png"
            example(by_id[o.scan_id], o, heats[o.scan_id], os.path.join(out_dir, name))
            written[kind].append({"file": name, "scan": o.scan_id, "score": o.score, "alarm": o.score >= threshold,
                                  "people": len(o.persons_found_by_region), "found": sum(o.persons_found_by_region),
                                  "meta": o.meta})
    return written
