"""Augmentations applied to intensity crops at the model's pixel pitch, before the log transform.

They teach the model what a fielded scanner does to an image that the synthesizer's defaults rarely
show: another dose (extra noise), gain drift, line flicker, dead channels (rows reading 0), missing
lines filled by interpolation, 8-bit export (I = round(I / 257) * 257), and no low-energy image.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from preprocess import OPEN_BEAM


@dataclass(frozen=True)
class AugmentConfig:
    p_flip: float = 0.5
    p_gain: float = 0.5
    gain_range: float = 0.06
    p_noise: float = 0.35
    # Extra Gaussian noise with variance = I * k (in 16-bit units): k up to 30 is roughly a 4x lower dose.
    noise_k_max: float = 30.0
    p_flicker: float = 0.3
    flicker_sigma_max: float = 0.015
    p_dead: float = 0.25
    p_missing: float = 0.25
    p_8bit: float = 0.25
    p_drop_low: float = 0.3


def interpolate_lines(img: np.ndarray, missing: np.ndarray) -> None:
    """In place: replace columns flagged in `missing` by linear interpolation between delivered neighbours."""
    good = np.flatnonzero(~missing)
    if good.size == 0:
        return
    for c in np.flatnonzero(missing):
        right = np.searchsorted(good, c)
        if right == 0:
            img[:, c] = img[:, good[0]]
        elif right >= good.size:
            img[:, c] = img[:, good[-1]]
        else:
            a, b = good[right - 1], good[right]
            t = (c - a) / (b - a)
            img[:, c] = img[:, a] * (1 - t) + img[:, b] * t


def augment(
    high: np.ndarray, low: np.ndarray | None, rng: np.random.Generator, cfg: AugmentConfig
) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """Augments float32 intensity crops [H, W] (copies). Returns (high, low_or_None, flipped)."""
    high = high.astype(np.float32, copy=True)
    low = None if low is None else low.astype(np.float32, copy=True)
    planes = [high] if low is None else [high, low]
    h, w = high.shape
    flipped = bool(rng.random() < cfg.p_flip)
    if flipped:
        planes = [np.ascontiguousarray(p[:, ::-1]) for p in planes]
    if rng.random() < cfg.p_gain:
        g = 1.0 + rng.uniform(-cfg.gain_range, cfg.gain_range)
        planes = [p * g for p in planes]
    if rng.random() < cfg.p_flicker:
        f = 1.0 + rng.normal(0.0, rng.uniform(0, cfg.flicker_sigma_max), size=(1, w)).astype(np.float32)
        planes = [p * f for p in planes]
    if rng.random() < cfg.p_noise:
        k = rng.uniform(1.0, cfg.noise_k_max)
        planes = [p + rng.standard_normal(p.shape, dtype=np.float32) * np.sqrt(np.maximum(p, 0) * k) for p in planes]
    planes = [np.clip(p, 0.0, OPEN_BEAM) for p in planes]
    if rng.random() < cfg.p_dead:
        rows = rng.integers(0, h, size=int(rng.integers(1, 5)))
        for p in planes:
            p[rows, :] = 0.0
    if rng.random() < cfg.p_missing:
        missing = np.zeros(w, dtype=bool)
        for _ in range(int(rng.integers(1, 6))):
            c = int(rng.integers(0, w))
            missing[c : c + int(rng.integers(1, 4))] = True
        for p in planes:
            interpolate_lines(p, missing)
    if rng.random() < cfg.p_8bit:
        planes = [np.round(p / 257.0) * 257.0 for p in planes]
    high = planes[0]
    low = planes[1] if len(planes) > 1 else None
    if low is not None and rng.random() < cfg.p_drop_low:
        low = None
    return high, low, flipped
