"""8-bit export chains of fielded scanners, and model 2.0.0's automatic decoding of them.

`auto_lut` mirrors core/export-chain.ts `normaliseLut` exactly (the decoding model 2.0.0 was trained
with, and its constants): training exports crops through random chains and decodes them with it or
linearly. The runtime's default for an 8-bit file whose chain nobody named is now the chain
estimated from the image (core/export-chain.ts `estimateExport`), which is not ported here yet: a
model trained after that change should decode its exports with the estimate. The JPEG step is emulated at the
model pitch: an 8 x 8 JPEG block at a 5 mm scan pitch is 2 x 2 pixels at 20 mm, so block means and
in-block deviations are quantised with steps that follow the JPEG quality's scaling of the standard
luminance table (ITU T.81 Annex K; IJG quality scaling).
"""
from __future__ import annotations

import numpy as np

OPEN_BEAM = 65535.0
AUTO_MAX_ATTENUATION = 6.0
AUTO_AIR_PERCENTILE = 99.5
AUTO_DARK_PERCENTILE = 0.2
AUTO_BORDER = 0.04


def _percentile_level(hist: np.ndarray, total: int, pct: float) -> int:
    want = (pct / 100.0) * total
    cum = np.cumsum(hist)
    idx = np.flatnonzero(cum >= want)
    return int(idx[0]) if idx.size else 255


def looks_inverted(grey: np.ndarray) -> bool:
    h, w = grey.shape
    bh = max(1, int(np.floor(h * AUTO_BORDER + 0.5)))
    bw = max(1, int(np.floor(w * AUTO_BORDER + 0.5)))
    mask = np.zeros((h, w), dtype=bool)
    mask[:bh, :] = True
    mask[:, :bw] = True
    mask[:, w - bw :] = True
    border = np.bincount(grey[mask].ravel(), minlength=256).astype(np.float64)
    allh = np.bincount(grey.ravel(), minlength=256).astype(np.float64)
    return _percentile_level(border, int(mask.sum()), 50) < _percentile_level(allh, grey.size, 50)


def auto_lut(grey: np.ndarray) -> np.ndarray:
    """grey: uint8 [H, W]. Returns the grey -> intensity table (uint16 values as float32)."""
    invert = looks_inverted(grey)
    g = 255 - grey if invert else grey
    hist = np.bincount(g.ravel(), minlength=256).astype(np.float64)
    air = _percentile_level(hist, grey.size, AUTO_AIR_PERCENTILE)
    dark = _percentile_level(hist, grey.size, AUTO_DARK_PERCENTILE)
    if dark >= air:
        dark = max(0, air - 1)
    levels = np.arange(256, dtype=np.float64)
    v = 255 - levels if invert else levels
    a = np.clip(AUTO_MAX_ATTENUATION * (air - v) / (air - dark), 0.0, AUTO_MAX_ATTENUATION)
    # Math.round in the runtime: floor(x + 0.5).
    return np.floor(OPEN_BEAM * np.exp(-a) + 0.5).astype(np.float32)


def decode_auto(grey: np.ndarray) -> np.ndarray:
    return auto_lut(grey)[grey]


def encode(intensity: np.ndarray, chain: dict) -> np.ndarray:
    """Float intensities (65535 = open beam) -> grey float 0..255 (not yet rounded)."""
    lo, hi = chain.get("window", (0.0, 1.0))
    gamma = chain.get("gamma", 1.0)
    log_max = chain.get("logMax", 8.0)
    t = np.maximum(intensity, 1.0) / OPEN_BEAM
    v = t if chain["scaling"] == "linear" else 1.0 + np.log(t) / log_max
    w = np.clip((v - lo) / (hi - lo), 0.0, 1.0)
    g = 255.0 * np.power(w, 1.0 / gamma)
    return 255.0 - g if chain.get("invert", False) else g


def jpeg_like(grey: np.ndarray, quality: int) -> np.ndarray:
    """JPEG quantisation at the model pitch (2 x 2 pixels = one 8 x 8 block at 5 mm), on float grey."""
    scale = (5000.0 / quality if quality < 50 else 200.0 - 2.0 * quality) / 100.0
    dc_step = max(0.25, 16.0 * scale / 8.0)  # DC table entry 16; DC = 8 x block mean
    ac_step = max(0.25, 12.0 * scale / 8.0)
    h, w = grey.shape
    h2, w2 = h - h % 2, w - w % 2
    g = grey.copy()
    blk = g[:h2, :w2].reshape(h2 // 2, 2, w2 // 2, 2)
    mean = blk.mean(axis=(1, 3), keepdims=True)
    qmean = np.round(mean / dc_step) * dc_step
    dev = blk - mean
    qdev = np.round(dev / ac_step) * ac_step
    g[:h2, :w2] = (qmean + qdev).reshape(h2, w2)
    return np.clip(g, 0.0, 255.0)


def random_chain(rng: np.random.Generator, allow_invert: bool = False) -> dict:
    """A random display chain of a fielded scanner (held-out: inverted chains unless allowed)."""
    chain: dict = {"scaling": "linear" if rng.random() < 0.4 else "log"}
    if chain["scaling"] == "log":
        chain["logMax"] = float(rng.uniform(5.0, 11.0))
    if rng.random() < 0.5:
        lo = float(rng.uniform(0.0, 0.15))
        hi = float(rng.uniform(0.85, 1.0))
        chain["window"] = (lo, hi)
    chain["gamma"] = float(np.exp(rng.uniform(np.log(0.4), np.log(2.5))))
    if allow_invert and rng.random() < 0.5:
        chain["invert"] = True
    return chain


def export_and_decode(planes: list[np.ndarray], rng: np.random.Generator, allow_invert: bool = False) -> list[np.ndarray]:
    """Exports each intensity plane through one random chain (8-bit, sometimes JPEG) and decodes it the runtime's way."""
    chain = random_chain(rng, allow_invert)
    quality = int(rng.integers(30, 96)) if rng.random() < 0.6 else 0
    out = []
    for p in planes:
        g = encode(p, chain)
        if quality:
            g = jpeg_like(g, quality)
        grey = np.floor(g + 0.5).astype(np.uint8)
        out.append(decode_auto(grey))
    return out
