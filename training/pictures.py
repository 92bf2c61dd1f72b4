"""Minimal picture output without imaging libraries: 8-bit RGB PNG writer, boxes, scan rendering, line plots."""
from __future__ import annotations

import struct
import zlib

import numpy as np

GREEN = (40, 200, 60)
RED = (230, 40, 40)
YELLOW = (240, 200, 0)
BLUE = (40, 110, 230)
GREY = (150, 150, 150)


def write_png(path: str, rgb: np.ndarray) -> None:
    """rgb: uint8 [H, W, 3]."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[r].tobytes() for r in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def scan_to_rgb(high: np.ndarray, max_attenuation: float = 7.0) -> np.ndarray:
    """Intensities -> grey picture on a log scale (open beam white, opaque black), as operators view scans."""
    a = -np.log(np.maximum(high.astype(np.float32), 1.0) / 65535.0)
    g = np.clip(255.0 * (1.0 - a / max_attenuation), 0, 255).astype(np.uint8)
    return np.repeat(g[:, :, None], 3, axis=2)


def draw_box(img: np.ndarray, x: int, y: int, w: int, h: int, color: tuple[int, int, int], t: int = 2) -> None:
    hh, ww, _ = img.shape
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(ww, x + w), min(hh, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    c = np.asarray(color, dtype=np.uint8)
    img[y0 : min(y1, y0 + t), x0:x1] = c
    img[max(y0, y1 - t) : y1, x0:x1] = c
    img[y0:y1, x0 : min(x1, x0 + t)] = c
    img[y0:y1, max(x0, x1 - t) : x1] = c


def overlay_heat(img: np.ndarray, heat: np.ndarray, stride: int, color: tuple[int, int, int] = RED) -> None:
    """Tints cells by heatmap probability (in place)."""
    up = np.repeat(np.repeat(heat, stride, axis=0), stride, axis=1)[: img.shape[0], : img.shape[1]]
    alpha = (0.5 * np.clip(up, 0, 1))[:, :, None]
    img[: up.shape[0], : up.shape[1]] = (img[: up.shape[0], : up.shape[1]] * (1 - alpha) + np.asarray(color) * alpha).astype(np.uint8)


def _line(img: np.ndarray, x0: float, y0: float, x1: float, y1: float, color: tuple[int, int, int]) -> None:
    n = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
    xs = np.clip(np.round(np.linspace(x0, x1, n)).astype(int), 0, img.shape[1] - 1)
    ys = np.clip(np.round(np.linspace(y0, y1, n)).astype(int), 0, img.shape[0] - 1)
    for dy in (0, 1):
        img[np.clip(ys + dy, 0, img.shape[0] - 1), xs] = color


def plot_series(
    series: list[tuple[np.ndarray, np.ndarray, tuple[int, int, int]]],
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    size: tuple[int, int] = (320, 480),
    log_y: bool = False,
    grid_y: list[float] | None = None,
) -> np.ndarray:
    """Line plot on a white canvas with a frame and optional horizontal grid lines (no text)."""
    h, w = size
    m = 20
    img = np.full((h, w, 3), 255, dtype=np.uint8)

    def tx(v: np.ndarray) -> np.ndarray:
        return m + (np.asarray(v, dtype=np.float64) - x_range[0]) / (x_range[1] - x_range[0]) * (w - 2 * m)

    def ty(v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=np.float64)
        lo, hi = y_range
        if log_y:
            v, lo, hi = np.log10(np.maximum(v, 1e-6)), np.log10(lo), np.log10(hi)
        return h - m - (v - lo) / (hi - lo) * (h - 2 * m)

    for gy in grid_y or []:
        yy = float(ty(np.asarray([gy]))[0])
        _line(img, m, yy, w - m, yy, (225, 225, 225))
    draw_box(img, m, m, w - 2 * m, h - 2 * m, (0, 0, 0), 1)
    for xs, ys, color in series:
        # Clip to the frame so values outside the plotted range run along its edge.
        px = np.clip(tx(xs), m, w - m)
        py = np.clip(ty(ys), m, h - m)
        for i in range(len(px) - 1):
            _line(img, px[i], py[i], px[i + 1], py[i + 1], color)
    return img
