"""8-bit export chains of fielded scanners, and model 2.0.0's automatic decoding of them.

`auto_lut` mirrors core/export-chain.ts `normaliseLut` exactly (the decoding model 2.0.0 was trained
with, and its constants): training exports crops through random chains and decodes them with it or
linearly. The runtime's default for an 8-bit file whose chain nobody named is now the chain
estimated from the image (core/export-chain.ts `estimateExport`), mirrored below by
`estimate_export` / `estimate_lut`; training uses it with `--export-estimate` (EXPORT_ESTIMATE=1). The JPEG step is emulated at the
model pitch: an 8 x 8 JPEG block at a 5 mm scan pitch is 2 x 2 pixels at 20 mm, so block means and
in-block deviations are quantised with steps that follow the JPEG quality's scaling of the standard
luminance table (ITU T.81 Annex K; IJG quality scaling).
"""
from __future__ import annotations

import math

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


# --- The runtime's estimate of an unnamed chain (core/export-chain.ts estimateExport / estimateLut), mirrored
# operation for operation so that a model trained with it sees what the runtime hands it
# (test/fixtures/export-chain/estimate-decode.json is written from here and checked by the runtime's tests).

AUTO_PLATEAU = 25
AUTO_PEAK_EDGE = 0.02
AUTO_REFERENCE_CDF = [
    0.0000, 0.0153, 0.0292, 0.0416, 0.0524, 0.0618, 0.0699, 0.0769,
    0.0828, 0.0879, 0.0923, 0.0964, 0.1004, 0.1044, 0.1091, 0.1159,
    0.1279, 0.1549, 0.2189, 0.3182, 0.3977, 0.4284, 0.4382, 0.4451,
    0.4603, 0.4854, 0.5009, 0.5130, 0.5226, 0.5304, 0.5392, 0.5537,
    0.5638, 0.6117, 0.6322, 0.6554, 0.6687, 0.6826, 0.6986, 0.7159,
    0.7430, 0.7557, 0.7688, 0.7876, 0.8030, 0.8170, 0.8326, 0.8478,
    0.8616, 0.8750, 0.8887, 0.9031, 0.9176, 0.9305, 0.9427, 0.9567,
    0.9673, 0.9774, 0.9866, 0.9931, 0.9950, 0.9964, 0.9972, 1.0000,
]
_N = len(AUTO_REFERENCE_CDF) - 1
AUTO_REFERENCE_GRID = [math.exp(math.log(0.01) + (i * (math.log(11.1) - math.log(0.01))) / _N) for i in range(_N + 1)]
_LOG_GRID = [math.log(v) for v in AUTO_REFERENCE_GRID]
AUTO_REFERENCE_QUANTILES = [10, 25, 50, 75, 90, 95, 98, 99.5]
AUTO_EXPONENTS = [0.0] + [math.exp(math.log(0.3) + (i * (math.log(3) - math.log(0.3))) / 24) for i in range(25)]
MAX_ATTENUATION = math.log(65535)


def _js_round(v: float) -> float:
    return math.floor(v + 0.5)


def _interp(x: float, xs: list, ys: list) -> float:
    if x <= xs[0]:
        return ys[0]
    n = len(xs) - 1
    if x >= xs[n]:
        return ys[n]
    k = 1
    while xs[k] < x:
        k += 1
    t = (x - xs[k - 1]) / (xs[k] - xs[k - 1]) if xs[k] > xs[k - 1] else 0.0
    return ys[k - 1] + t * (ys[k] - ys[k - 1])


def reference_quantile(a0: float, pct: float) -> float:
    f0 = _interp(math.log(a0), _LOG_GRID, AUTO_REFERENCE_CDF)
    return math.exp(_interp(f0 + ((1 - f0) * pct) / 100, AUTO_REFERENCE_CDF, _LOG_GRID))


def _shape(x: float, lam: float) -> float:
    return -math.log(x) if lam == 0 else (1 - math.pow(x, lam)) / lam


def _hist_quantile(hist: list, lo: int, hi: int, total: float, pct: float) -> int:
    want = (pct / 100) * total
    cum = 0.0
    for g in range(lo, hi + 1):
        cum += hist[g]
        if cum >= want:
            return g
    return hi


def estimate_export(grey: np.ndarray) -> dict:
    """grey: uint8 [H, W]. The chain the runtime assumes for it: {chain, air, sure} (see core/export-chain.ts)."""
    h, w = grey.shape
    bh = max(1, int(_js_round(h * AUTO_BORDER)))
    bw = max(1, int(_js_round(w * AUTO_BORDER)))
    mask = np.zeros((h, w), dtype=bool)
    mask[:bh, :] = True
    mask[:, :bw] = True
    mask[:, w - bw :] = True
    border = np.bincount(grey[mask].ravel(), minlength=256).astype(np.float64).tolist()
    top_rows = np.bincount(grey[:bh, :].ravel(), minlength=256).astype(np.float64).tolist()
    allh = np.bincount(grey.ravel(), minlength=256).astype(np.float64).tolist()
    nb = float(mask.sum())

    def ends(hh: list) -> tuple[float, float]:
        black = 0.0
        for g in range(0, AUTO_PLATEAU + 1):
            black += hh[g]
        white = 0.0
        for g in range(255 - AUTO_PLATEAU, 256):
            white += hh[g]
        return black, white

    tb, tw = ends(top_rows)
    black, white = (tb, tw) if max(tb, tw) >= 0.5 * bh * w else ends(border)
    invert = black > white
    hist = [0.0] * 256
    bside = [0.0] * 256
    for g in range(256):
        hist[255 - g if invert else g] = allh[g]
        bside[255 - g if invert else g] = border[g]
    air = 128
    for g in range(129, 256):
        if hist[g] > hist[air]:
            air = g
    foot = air
    while foot > 0 and hist[foot - 1] >= AUTO_PEAK_EDGE * hist[air]:
        foot -= 1
    top = foot - 1
    border_air = sum(bside[max(0, foot) :]) / nb if nb else 0.0
    dark = 0
    while dark < 255 and hist[dark] == 0:
        dark += 1
    total = 0.0
    for g in range(0, top + 1):
        total += hist[g]
    levels = [(_hist_quantile(hist, 0, top, total, 100 - q) if top >= 1 else 0) for q in AUTO_REFERENCE_QUANTILES]
    xs = [min(1.0, max(g, 0.5) / air) for g in range(256)]

    def fit(lam: float) -> tuple[float, float]:
        kept = [(q, g) for q, g in zip(AUTO_REFERENCE_QUANTILES, levels) if g > dark]
        if total < 20 or top < 1 or len(kept) < 4:
            return math.inf, 1.0
        u_edge = _shape(xs[min(255, top + 1)], lam)
        c = 1.0
        d: list = []
        for _ in range(6):
            a0 = max(0.01, c * u_edge)
            d = [math.log(reference_quantile(a0, q)) - math.log(max(_shape(xs[g], lam), 1e-4)) for q, g in kept]
            s = 0.0
            for x in d:
                s += x
            c = math.exp(s / len(d))
        mean = math.log(c)
        s2 = 0.0
        for x in d:
            s2 += (x - mean) ** 2
        return math.sqrt(s2 / len(d)), c

    chosen = (0.0, math.inf, 1.0)
    best_linear = math.inf
    best_log = math.inf
    for lam in AUTO_EXPONENTS:
        misfit, c = fit(lam)
        if lam == 0:
            best_linear = misfit
        else:
            best_log = min(best_log, misfit)
        if misfit < chosen[1]:
            chosen = (lam, misfit, c)
    if not math.isfinite(chosen[1]):
        chosen = (1.0, math.inf, AUTO_MAX_ATTENUATION)
    lam, misfit, c = chosen
    r3 = lambda v: _js_round(v * 1000) / 1000  # noqa: E731
    chain: dict = {"scaling": "linear", "gamma": r3(c)} if lam == 0 else {"scaling": "log", "logMax": r3(min(20.0, c / lam)), "gamma": r3(lam)}
    if invert:
        chain["invert"] = True
    other = best_log if lam == 0 else best_linear
    sure = border_air >= 0.5 and air >= 255 - AUTO_PLATEAU and math.isfinite(misfit) and other >= 3 * misfit
    return {"chain": chain, "air": air, "sure": bool(sure)}


def estimate_lut(est: dict) -> np.ndarray:
    """The grey -> intensity table of an estimate (uint16 values as float32), as core/export-chain.ts estimateLut."""
    c = est["chain"]
    gamma = c.get("gamma", 1.0)
    out = np.zeros(256, dtype=np.float32)
    for g in range(256):
        v = 255 - g if c.get("invert") else g
        x = min(1.0, max(v, 0.5) / est["air"])
        a = -gamma * math.log(x) if c["scaling"] == "linear" else c.get("logMax", 8.0) * (1 - math.pow(x, gamma))
        out[g] = _js_round(65535 * math.exp(-min(MAX_ATTENUATION, max(0.0, a))))
    return out
