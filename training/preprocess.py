"""Preprocessing shared by training, validation and the export check.

It must match the inference runtime exactly (docs/model-contract.md):
  intensity I (uint16, 65535 = open beam) -> a = -ln(max(I, 1) / 65535) -> channel value a * logScale.
Resampling to the model's pixel pitch averages intensities (not log values) over areas.
"""
from __future__ import annotations

import math

import numpy as np

OPEN_BEAM = 65535.0
LOG_SCALE = 0.25


def area_weights(n_in: int, pitch_in: float, pitch_out: float) -> np.ndarray:
    """Matrix [n_out, n_in] that averages input cells over each output cell's extent.

    Output cell j covers [j*pitch_out, (j+1)*pitch_out) mm; n_out = ceil(n_in * pitch_in / pitch_out).
    The last output cell may be only partly covered by input; it averages what is there.
    """
    n_out = max(1, math.ceil(n_in * pitch_in / pitch_out - 1e-9))
    w = np.zeros((n_out, n_in), dtype=np.float64)
    for j in range(n_out):
        lo, hi = j * pitch_out, (j + 1) * pitch_out
        i0 = int(math.floor(lo / pitch_in + 1e-9))
        i1 = min(n_in, int(math.ceil(hi / pitch_in - 1e-9)))
        for i in range(i0, i1):
            ov = min(hi, (i + 1) * pitch_in) - max(lo, i * pitch_in)
            if ov > 0:
                w[j, i] = ov
    w /= w.sum(axis=1, keepdims=True)
    return w


def resample_area(img: np.ndarray, pitch_in: float, pitch_out: float) -> np.ndarray:
    """Area-average a [H, W] image (intensities or a mask) from pitch_in to pitch_out; returns float32."""
    if abs(pitch_in - pitch_out) < 1e-9:
        return img.astype(np.float32)
    ratio = pitch_out / pitch_in
    h, w = img.shape
    if abs(ratio - round(ratio)) < 1e-9:
        f = int(round(ratio))
        ho, wo = -(-h // f), -(-w // f)
        ph, pw = ho * f - h, wo * f - w
        xp = np.pad(img, ((0, ph), (0, pw))) if ph or pw else img
        # Strided sums (float32 sums of f*f uint16 values are exact for f <= 16); far faster than reshape-sum.
        s = xp[0::f, 0::f].astype(np.float32)
        for i in range(f):
            for j in range(f):
                if i or j:
                    s += xp[i::f, j::f]
        # Divide by the number of input cells present (partial blocks at the bottom and right edges).
        cnt_r = np.full(ho, f, dtype=np.float32)
        cnt_r[-1] = f - ph
        cnt_c = np.full(wo, f, dtype=np.float32)
        cnt_c[-1] = f - pw
        return s / (cnt_r[:, None] * cnt_c[None, :])
    wr = area_weights(h, pitch_in, pitch_out)
    wc = area_weights(w, pitch_in, pitch_out)
    return (wr @ img.astype(np.float64) @ wc.T).astype(np.float32)


def log_channel(intensity: np.ndarray, log_scale: float = LOG_SCALE) -> np.ndarray:
    """uint16-range intensities (any float/int dtype) -> scaled log attenuation, float32."""
    i = np.maximum(np.asarray(intensity, dtype=np.float32), 1.0)
    return (-np.log(i / OPEN_BEAM) * log_scale).astype(np.float32)


def model_input(high: np.ndarray, low: np.ndarray | None, log_scale: float = LOG_SCALE) -> np.ndarray:
    """Intensities at the model's pitch -> [3, H, W] float32: logHigh, logLow, lowPresent."""
    lh = log_channel(high, log_scale)
    if low is None:
        return np.stack([lh, lh, np.zeros_like(lh)])
    return np.stack([lh, log_channel(low, log_scale), np.ones_like(lh)])


def pad_to_multiple(x: np.ndarray, multiple: int) -> np.ndarray:
    """Pad [C, H, W] model input on the bottom/right to multiples of `multiple` with open beam (a = 0).

    The lowPresent plane is padded with its own constant value so the flag stays uniform.
    """
    _, h, w = x.shape
    hp, wp = -(-h // multiple) * multiple, -(-w // multiple) * multiple
    if (hp, wp) == (h, w):
        return x
    out = np.zeros((x.shape[0], hp, wp), dtype=x.dtype)
    out[:, :h, :w] = x
    out[2, :, :] = x[2, 0, 0]
    return out
