"""Augmentations applied to intensity crops at the model's pixel pitch, before the log transform.

They teach the model what a fielded scanner does to an image that the synthesizer's defaults rarely
show: another dose (extra noise), gain drift, line flicker, dead channels (rows reading 0), missing
lines filled by interpolation, 8-bit export (I = round(I / 257) * 257), and no low-energy image.

Scanner physics that the synthesizer draws at one setting are varied here (`scanner_physics`): beam
hardening (the effective attenuation of a polychromatic beam falls with depth: a' = a / (1 + b a)),
scattered radiation (a share of the local mean transmission), detector blur and cross-talk (3-tap
kernel), afterglow (a share of the previous line's signal), dark offset and saturation. And 8-bit
exports through random display chains (linear or log scaling, window, gamma, JPEG) are decoded by
model 2.0.0's automatic decoding (`export_chain.py`, the mirror of core/export-chain.ts
`normaliseLut`), or linearly (grey x 257); with `export_estimate` by the runtime's estimate of the
chain instead (`estimate_export`, the mirror of core/export-chain.ts `estimateExport`).

Domain randomisation (`distractors`): objects that the synthesizer does not draw are laid over the
crop: ellipsoids, slabs with rounded tops, tyres (rings with rims and hubs), bars, corrugation and
spring packs, arcs, and lumpy bulk, each of a random material between steel and water (dual-energy
ratio mu_low / mu_high from 1.05 to 1.30; water is 1.23 at 4/6 MeV) and random areal density. They
do not change the labels: what stays stable across them is the human body. Water-like (organic)
objects are drawn only in shapes no body takes (rings, bars, slabs with corners, stripes, arcs);
body-sized ellipsoids and lumps are drawn only in inorganic materials, so that a curled-up person is
not taught as a negative where the low-energy image shows the material. (In crops shown without the
low-energy image, such inorganic body-sized blobs remain negatives that look like a body.) With
`packs` (train.sh PACKS=1, off by default) packs of rounded lumps side by side are drawn too, in any
material, water included (docs/training.md, "Domain randomisation").
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from export_chain import auto_lut, encode, estimate_export, estimate_lut, jpeg_like, random_chain
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
    # Share of exported crops decoded linearly (grey x 257) instead of automatically.
    p_export_linear: float = 0.5
    # The automatic decoding: False = model 2.0.0's normalising decoding (auto_lut); True = the runtime's
    # estimate of the chain (estimate_export, the high energy's estimate decoding both energies).
    export_estimate: bool = False
    # Share of crops exported (besides p_export) through a chain whose window's top is below 1 (drawn 0.8-0.97), so
    # that thin material is written as open beam, as some fielded exports do (docs/training.md, "Single 8-bit exports").
    p_export_clip: float = 0.0
    # Random objects laid over the crop (domain randomisation), 1 .. distractors_max of them.
    p_distractors: float = 0.5
    distractors_max: int = 5
    # Pixel pitch of the crops (mm), for the objects' sizes.
    pixel_mm: float = 20.0
    # Leave body-shaped objects (ellipsoids, lumps; inorganic) out of crops shown without the low-energy
    # image, where no material tells them from a curled-up body. False reproduces model 2.0.0.
    single_energy_no_body_shapes: bool = False
    # Draw packs of rounded lumps among the random objects (PACK_SHAPES). False reproduces model 2.1.0.
    packs: bool = False


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


# Dual-energy ratio mu_low / mu_high at 4/6 MeV (sim/xray/materials.ts): steel 1.07, aluminium 1.17,
# water 1.23, organic cargo up to ~1.25. Ratios from here up count as body-like.
ORGANIC_RATIO = 1.19
DISTRACTOR_SHAPES = ("ellipsoid", "slab", "tyre", "bar", "stripes", "arcs", "lumps")
# With AugmentConfig.packs: also packs of many rounded lumps side by side (produce in a bin, sacks in a stack,
# bottles in a crate, the rounded tops of a bagged load), in any material from steel to water.
PACK_SHAPES = DISTRACTOR_SHAPES + ("pack",)


def _rotated(h: int, w: int, cy: float, cx: float, angle: float) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dy, dx = yy - cy, xx - cx
    c, s = np.float32(np.cos(angle)), np.float32(np.sin(angle))
    return dy * c - dx * s, dy * s + dx * c


def _smooth_noise(h: int, w: int, cell: int, rng: np.random.Generator) -> np.ndarray:
    gh, gw = h // cell + 2, w // cell + 2
    g = rng.random((gh, gw)).astype(np.float32)
    ys = np.linspace(0, gh - 1.001, h, dtype=np.float32)
    xs = np.linspace(0, gw - 1.001, w, dtype=np.float32)
    yi, xi = ys.astype(np.int64), xs.astype(np.int64)
    fy, fx = (ys - yi)[:, None], (xs - xi)[None, :]
    a, b = g[yi][:, xi], g[yi][:, xi + 1]
    c, d = g[yi + 1][:, xi], g[yi + 1][:, xi + 1]
    return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy


def distractor_profile(shape: str, h: int, w: int, px_mm: float, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    """Relative thickness [h, w] in 0..1 of one random object, and whether a body could take its shape
    (then it is drawn only in inorganic materials)."""
    m = 1000.0 / px_mm  # pixels per metre
    cy, cx = rng.uniform(0, h), rng.uniform(0, w)
    ang = rng.uniform(0, np.pi)
    u, v = _rotated(h, w, cy, cx, ang)
    if shape == "ellipsoid":
        a, b = rng.uniform(0.1, 1.8) * m / 2, rng.uniform(0.1, 1.2) * m / 2
        r2 = (u / a) ** 2 + (v / b) ** 2
        body_like = max(a, b) * 2 / m >= 0.35
        return np.sqrt(np.clip(1 - r2, 0, 1)), body_like
    if shape == "slab":
        a, b = rng.uniform(0.2, 2.0) * m / 2, rng.uniform(0.05, 1.2) * m / 2
        if rng.random() < 0.7:  # most cargo stands upright
            u, v = _rotated(h, w, cy, cx, 0.0)
        t = ((np.abs(u) <= a) & (np.abs(v) <= b)).astype(np.float32)
        if rng.random() < 0.5:  # a rounded top (rows grow downwards), as a sack or a bagged load
            cap = rng.uniform(0.1, 0.5) * a + 1.0
            r2 = ((u + a) / cap) ** 2 + (v / b) ** 2
            t = np.maximum(t, ((u < -a) & (r2 <= 1)).astype(np.float32) * np.sqrt(np.clip(1 - r2, 0, 1)) ** 0.3)
        return t, False
    if shape == "tyre":
        r_out = rng.uniform(0.3, 0.6) * m
        r_in = r_out * rng.uniform(0.55, 0.8)
        r = np.sqrt(u ** 2 + v ** 2)
        tyre = ((r <= r_out) & (r >= r_in)).astype(np.float32) * rng.uniform(0.4, 1.0)
        rim = ((r < r_in) & (r >= r_in * rng.uniform(0.7, 0.95))).astype(np.float32) * rng.uniform(0.2, 1.0)
        hub = (r < r_in * rng.uniform(0.2, 0.45)).astype(np.float32)
        return np.clip(tyre + rim + hub, 0, 1), False
    if shape == "bar":
        length, width = rng.uniform(0.3, 3.0) * m / 2, rng.uniform(0.02, 0.15) * m / 2
        return ((np.abs(u) <= length) & (np.abs(v) <= width)).astype(np.float32), False
    if shape == "stripes":
        a, b = rng.uniform(0.3, 2.5) * m / 2, rng.uniform(0.1, 0.6) * m / 2
        period = rng.uniform(0.03, 0.3) * m
        duty = rng.uniform(0.2, 0.6)
        inside = (np.abs(u) <= a) & (np.abs(v) <= b)
        return (inside & ((u % period) < duty * period)).astype(np.float32), False
    if shape == "arcs":  # a leaf-spring pack or a row of hoops
        rad = rng.uniform(0.5, 3.0) * m
        n = int(rng.integers(2, 8))
        gap = rng.uniform(0.01, 0.06) * m
        thick = rng.uniform(0.01, 0.04) * m
        half = rng.uniform(0.3, 0.8) * m
        r = np.sqrt(u ** 2 + (v - rad) ** 2)
        t = np.zeros((h, w), np.float32)
        for k in range(n):
            rk = rad + k * (gap + thick)
            t = np.maximum(t, ((np.abs(r - rk) <= thick / 2) & (np.abs(u) <= half)).astype(np.float32))
        return t, False
    if shape == "pack":
        return pack_profile(h, w, m, cy, cx, rng), False
    # lumps: thresholded smooth noise inside a box, like a bulk load or a heap of parts
    a, b = rng.uniform(0.3, 2.0) * m / 2, rng.uniform(0.2, 1.5) * m / 2
    cell = int(rng.integers(3, 12))
    nz = _smooth_noise(h, w, cell, rng)
    inside = (np.abs(u) <= a) & (np.abs(v) <= b)
    t = np.clip((nz - rng.uniform(0.3, 0.6)) * 3, 0, 1) * inside
    return t.astype(np.float32), True


def pack_profile(h: int, w: int, m: float, cy: float, cx: float, rng: np.random.Generator) -> np.ndarray:
    """Relative thickness of a pack of rounded lumps: a grid of 2-6 rows by 2-8 columns (at least three in a
    row, at least 4 in all; or one row of 4-8) of near-spheres 6-35 cm across nominally (about 5-55 cm with the
    +-20 % size and 0.75-1.3 aspect jitter), packed edge to edge with jitter, sometimes inside a
    thin-walled bin. Water-rich packs are allowed: many head-sized lumps packed together are no body."""
    d = rng.uniform(0.06, 0.35) * m
    while True:
        rows, cols = int(rng.integers(2, 7)), int(rng.integers(2, 9))
        if rng.random() < 0.3:
            rows = 1  # one row: the rounded tops of a load
        if rows * cols >= 4 and max(rows, cols) >= 3:
            break
    step = d * rng.uniform(0.8, 1.1)
    t = np.zeros((h, w), np.float32)
    y0, x0 = cy - (rows - 1) * step / 2, cx - (cols - 1) * step / 2
    for i in range(rows):
        for j in range(cols):
            r_y = d / 2 * rng.uniform(0.8, 1.2)
            r_x = r_y * rng.uniform(0.75, 1.3)
            py = y0 + i * step + rng.uniform(-0.15, 0.15) * d
            px = x0 + j * step + (step / 2 if i % 2 and rng.random() < 0.5 else 0) + rng.uniform(-0.15, 0.15) * d
            ya, yb = max(0, int(py - r_y) - 1), min(h, int(py + r_y) + 2)
            xa, xb = max(0, int(px - r_x) - 1), min(w, int(px + r_x) + 2)
            if ya >= yb or xa >= xb:
                continue
            yy, xx = np.mgrid[ya:yb, xa:xb].astype(np.float32)
            r2 = ((yy - py) / r_y) ** 2 + ((xx - px) / r_x) ** 2
            t[ya:yb, xa:xb] = np.maximum(t[ya:yb, xa:xb], np.sqrt(np.clip(1 - r2, 0, 1)))
    if rng.random() < 0.5:  # a bin or crate around it: thin walls and floor
        wall = max(1.0, rng.uniform(0.01, 0.05) * m)
        top, bottom = y0 - step / 2 - wall, y0 + (rows - 0.5) * step + wall
        left, right = x0 - step / 2 - wall, x0 + (cols - 0.5) * step + wall
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        inside = (yy >= top) & (yy <= bottom) & (xx >= left) & (xx <= right)
        shell = inside & ((yy >= bottom - wall) | (xx <= left + wall) | (xx >= right - wall))
        t = np.maximum(t, shell.astype(np.float32) * np.float32(rng.uniform(0.1, 0.5)))
    return t


def distractor_ratio(shape: str, body_like: bool, rng: np.random.Generator) -> float:
    """Dual-energy ratio mu_low / mu_high of a random object's material: never organic for a shape a
    body could take, anything from steel to water otherwise."""
    if body_like:
        return float(rng.uniform(1.05, ORGANIC_RATIO - 0.02))
    return float(rng.uniform(1.05, 1.30))


def distractors(planes: list[np.ndarray], rng: np.random.Generator, cfg: "AugmentConfig", single_energy: bool = False) -> list[np.ndarray]:
    """Lays 1..cfg.distractors_max random objects over intensity planes [high] or [high, low].

    `single_energy`: the crop will be shown without its low-energy image; with
    cfg.single_energy_no_body_shapes, shapes a body could take are then left out."""
    h, w = planes[0].shape
    a_high = np.zeros((h, w), np.float32)
    a_low = np.zeros((h, w), np.float32)
    shapes = PACK_SHAPES if cfg.packs else DISTRACTOR_SHAPES
    for _ in range(int(rng.integers(1, cfg.distractors_max + 1))):
        shape = str(rng.choice(shapes))
        t, body_like = distractor_profile(shape, h, w, cfg.pixel_mm, rng)
        if body_like and single_energy and cfg.single_energy_no_body_shapes:
            continue
        ratio = distractor_ratio(shape, body_like, rng)
        # Areal density in g/cm^2 at the thickest point: thin sheet metal to half a metre of water.
        density = float(np.exp(rng.uniform(np.log(1.0), np.log(60.0))))
        mu_high = rng.uniform(0.026, 0.032)
        a = t * np.float32(density * mu_high)
        a_high += a
        a_low += a * np.float32(ratio)
    out = [planes[0] * np.exp(-a_high)]
    if len(planes) > 1:
        out.append(planes[1] * np.exp(-a_low))
    return out


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
    # Drawn before the objects when they depend on it (a later draw would change every batch of model 2.0.0).
    drop_early = None
    if cfg.single_energy_no_body_shapes:
        drop_early = low is None or rng.random() < cfg.p_drop_low
    if rng.random() < cfg.p_distractors:
        planes = distractors(planes, rng, cfg, single_energy=bool(drop_early))
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
    # Drawn only when set, so that the random stream (and a model trained without it) is as before.
    clip = cfg.p_export_clip > 0 and rng.random() < cfg.p_export_clip
    if clip or rng.random() < cfg.p_export:
        chain = random_chain(rng, cfg.export_invert)
        if clip:
            chain["window"] = (chain.get("window", (0.0, 1.0))[0], float(rng.uniform(0.8, 0.97)))
        quality = int(rng.integers(30, 96)) if rng.random() < 0.6 else 0
        linear = bool(rng.random() < cfg.p_export_linear)
        out = []
        est = None
        for k, p in enumerate(planes):
            g = encode(p, chain)
            if quality:
                g = jpeg_like(g, quality)
            grey = np.floor(g + 0.5).astype(np.uint8)
            ref = grey if ctx is None or k >= len(ctx) else np.floor(encode(ctx[k], chain) + 0.5).astype(np.uint8)
            if linear:
                out.append(grey.astype(np.float32) * 257.0)
            elif cfg.export_estimate:
                if est is None:
                    est = estimate_export(ref)  # the high energy (plane 0) decides for the pair, as the runtime does
                out.append(estimate_lut(est)[grey])
            else:
                out.append(auto_lut(ref)[grey])
        planes = out
    elif rng.random() < cfg.p_8bit:
        planes = [np.round(p / 257.0) * 257.0 for p in planes]
    high = planes[0]
    low = planes[1] if len(planes) > 1 else None
    if drop_early if drop_early is not None else (low is not None and rng.random() < cfg.p_drop_low):
        low = None
    return high, low, flipped
