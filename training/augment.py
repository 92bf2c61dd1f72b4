"""Augmentations applied to intensity crops at the model's pixel pitch, before the log transform.

They teach the model what a fielded scanner does to an image that the synthesizer's defaults rarely
show: another dose (extra noise), gain drift, line flicker, dead channels (rows reading 0), missing
lines filled by interpolation, 8-bit export (I = round(I / 257) * 257), and no low-energy image.

Scanner physics that the synthesizer draws at one setting are varied here (`scanner_physics`): beam
hardening (the effective attenuation of a polychromatic beam falls with depth: a' = a / (1 + b a)),
scattered radiation (a share of the local mean transmission), detector blur and cross-talk (3-tap
kernel), afterglow (a share of the previous line's signal), dark offset and saturation. And 8-bit
exports through random display chains (linear or log scaling, window, gamma, JPEG) are decoded by
the runtime's automatic decoding (`export_chain.py`, the mirror of inference/export-chain.ts).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from export_chain import auto_lut, encode, jpeg_like, random_chain
from preprocess import OPEN_BEAM


@dataclass(frozen=True)
class AugmentConfig:
    p_flip: float = 0.5
    p_gain: float = 0.5
    gain_range: float = 0.12
    p_noise: float = 0.35
    # Extra Gaussian noise with variance = I * k (in 16-bit units): k up to 30 is roughly a 4x lower dose.
    noise_k_max: float = 30.0
    p_flicker: float = 0.3
    flicker_sigma_max: float = 0.015
    p_dead: float = 0.25
    p_missing: float = 0.25
    p_8bit: float = 0.1
    p_drop_low: float = 0.3
    p_physics: float = 0.5
    # 8-bit export through a random display chain, decoded the runtime's automatic way.
    p_export: float = 0.3
    # Inverted chains (dense shown bright) are a held-out export family unless allowed.
    export_invert: bool = False


def _blur3(p: np.ndarray, w: float, axis: int) -> np.ndarray:
    a = np.roll(p, 1, axis=axis)
    b = np.roll(p, -1, axis=axis)
    return (1 - 2 * w) * p + w * (a + b)


def _box_mean(p: np.ndarray, k: int) -> np.ndarray:
    c = np.cumsum(np.cumsum(np.pad(p, ((k, k), (k, k)), mode="edge"), axis=0), axis=1)
    c = np.pad(c, ((1, 0), (1, 0)))
    n = 2 * k + 1
    return (c[n:, n:] - c[:-n, n:] - c[n:, :-n] + c[:-n, :-n]) / (n * n)


def scanner_physics(planes: list[np.ndarray], rng: np.random.Generator, context: list[np.ndarray] | None = None) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    """Random beam hardening, scatter, blur, afterglow, dark offset and saturation on intensity planes.

    Point-wise effects also act on `context` (a subsampled whole scan, for the export decoding's statistics)."""
    b = rng.uniform(0.0, 0.08)
    scatter = rng.uniform(0.0, 0.03)
    blur = rng.uniform(0.0, 0.2)
    glow = rng.uniform(0.0, 0.2) if rng.random() < 0.5 else 0.0
    offset = rng.uniform(-150.0, 400.0)
    sat = OPEN_BEAM * rng.uniform(0.85, 1.0) if rng.random() < 0.3 else OPEN_BEAM

    def pointwise(p: np.ndarray) -> np.ndarray:
        a = -np.log(np.maximum(p, 1.0) / OPEN_BEAM)
        t = np.exp(-a / (1.0 + b * a)) * OPEN_BEAM
        return t

    def finish(p: np.ndarray) -> np.ndarray:
        return np.clip(p + offset, 0.0, sat) * (OPEN_BEAM / sat)

    out = []
    for p in planes:
        t = pointwise(p)
        if scatter > 0:
            t = t + scatter * _box_mean(t, 7)
        if blur > 0:
            t = _blur3(_blur3(t, blur, 0), blur, 1)
        if glow > 0:
            prev = np.concatenate([t[:, :1], t[:, :-1]], axis=1)
            t = (1 - glow) * t + glow * prev
        out.append(finish(t).astype(np.float32))
    ctx = None if context is None else [finish(pointwise(c) * (1 + scatter)).astype(np.float32) for c in context]
    return out, ctx


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
    high: np.ndarray, low: np.ndarray | None, rng: np.random.Generator, cfg: AugmentConfig,
    context: tuple[np.ndarray, np.ndarray | None] | None = None,
) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """Augments float32 intensity crops [H, W] (copies). Returns (high, low_or_None, flipped).

    `context`: the whole scan subsampled (high, low), whose statistics the 8-bit export decoding uses
    as the runtime uses the whole file's."""
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
    ctx = None
    if context is not None:
        ctx = [context[0].astype(np.float32)] + ([] if low is None or context[1] is None else [context[1].astype(np.float32)])
    if rng.random() < cfg.p_physics:
        planes, ctx = scanner_physics(planes, rng, ctx)
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
    if rng.random() < cfg.p_export:
        chain = random_chain(rng, cfg.export_invert)
        quality = int(rng.integers(30, 96)) if rng.random() < 0.6 else 0
        out = []
        for k, p in enumerate(planes):
            g = encode(p, chain)
            if quality:
                g = jpeg_like(g, quality)
            grey = np.floor(g + 0.5).astype(np.uint8)
            ref = grey if ctx is None or k >= len(ctx) else np.floor(encode(ctx[k], chain) + 0.5).astype(np.uint8)
            out.append(auto_lut(ref)[grey])
        planes = out
    elif rng.random() < cfg.p_8bit:
        planes = [np.round(p / 257.0) * 257.0 for p in planes]
    high = planes[0]
    low = planes[1] if len(planes) > 1 else None
    if low is not None and rng.random() < cfg.p_drop_low:
        low = None
    return high, low, flipped
