"""Reads a data set written by `checkpoint-edge sim xray --format raw --dual` (layout: docs/xray-synthesizer.md)
and brings every scan to the model's pixel pitch by area-averaging intensities, as the runtime does.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from preprocess import resample_area


@dataclass
class Person:
    """One person, in model pixels: box (x, y, w, h) and the mask window with its coverage (0..1)."""

    box: tuple[int, int, int, int]
    mask_x0: int
    mask_y0: int
    mask: np.ndarray  # float32 coverage, window at (mask_x0, mask_y0)
    meta: dict = field(default_factory=dict)

    def share_inside(self, x0: int, y0: int, w: int, h: int) -> float:
        """Share of this person's mask (by coverage) inside the window (x0, y0, w, h)."""
        total = float(self.mask.sum())
        if total <= 0:
            return 0.0
        mx0, my0 = self.mask_x0, self.mask_y0
        mh, mw = self.mask.shape
        cx0, cx1 = max(x0, mx0), min(x0 + w, mx0 + mw)
        cy0, cy1 = max(y0, my0), min(y0 + h, my0 + mh)
        if cx1 <= cx0 or cy1 <= cy0:
            return 0.0
        return float(self.mask[cy0 - my0 : cy1 - my0, cx0 - mx0 : cx1 - mx0].sum()) / total


@dataclass
class Scan:
    scan_id: str
    high: np.ndarray  # uint16 [H, W] at the model pitch
    low: np.ndarray | None
    person_mask: np.ndarray  # uint8 [H, W], union coverage of all people * 255
    persons: list[Person]
    decoys: list[tuple[int, int, int, int]]
    meta: dict


def _read_plane(path: str, width: int, height: int, dtype: str) -> np.ndarray:
    expect = width * height * np.dtype(dtype).itemsize
    size = os.path.getsize(path)
    if size != expect:
        raise ValueError(f"dataset: {path} holds {size} bytes, expected {expect} ({width} x {height} {dtype}); regenerate the data set")
    return np.fromfile(path, dtype=dtype).reshape(height, width)


def _box_to_model(box: tuple[float, float, float, float], scale: float) -> tuple[int, int, int, int]:
    """(x, y, w, h) in source pixels -> the covering box in model pixels (scale = source pitch / model pitch)."""
    x, y, w, h = box
    x0, y0 = x * scale, y * scale
    x1, y1 = (x + w) * scale, (y + h) * scale
    xi, yi = int(np.floor(x0)), int(np.floor(y0))
    return xi, yi, max(1, int(np.ceil(x1 - 1e-9)) - xi), max(1, int(np.ceil(y1 - 1e-9)) - yi)


def _decoy_box(d: dict, height: int, pitch: float) -> tuple[float, float, float, float]:
    """Decoy extent in mm (x along the vehicle, z above the ground) -> (x, y, w, h) in source pixels."""
    top_mm = height * pitch
    x0, x1 = d["x0Mm"] / pitch, d["x1Mm"] / pitch
    y0, y1 = (top_mm - d["z1Mm"]) / pitch, (top_mm - d["z0Mm"]) / pitch
    return x0, y0, x1 - x0, y1 - y0


def load_scan(root: str, rec: dict, pixel_mm: float) -> Scan:
    """One labels.jsonl entry (with its sidecar) -> Scan at the model pitch."""
    files = rec["files"]
    with open(os.path.join(root, files["sidecar"])) as f:
        side = json.load(f)
    w, h, pitch = int(side["width"]), int(side["height"]), float(side["pixelMm"])
    high = _read_plane(os.path.join(root, files["high"]), w, h, "<u2")
    low = _read_plane(os.path.join(root, files["low"]), w, h, "<u2") if files.get("low") else None
    instances = _read_plane(os.path.join(root, files["mask"]), w, h, "u1")
    scale = pitch / pixel_mm
    high_m = np.round(resample_area(high, pitch, pixel_mm)).astype(np.uint16)
    low_m = None if low is None else np.round(resample_area(low, pitch, pixel_mm)).astype(np.uint16)
    union = resample_area((instances > 0).astype(np.float32), pitch, pixel_mm)
    persons = []
    for k, p in enumerate(side.get("people", [])):
        b = p["box"]
        bx, by, bw, bh = _box_to_model((b["x"], b["y"], b["w"], b["h"]), scale)
        # The person's own coverage at the model pitch, from the instance mask (value k + 1 = people[k]),
        # resampled over the source window that maps onto the model box.
        sx0, sy0 = int(np.floor(bx / scale + 1e-9)), int(np.floor(by / scale + 1e-9))
        sx1, sy1 = min(w, int(np.ceil((bx + bw) / scale - 1e-9))), min(h, int(np.ceil((by + bh) / scale - 1e-9)))
        own = (instances[sy0:sy1, sx0:sx1] == k + 1).astype(np.float32)
        cov = np.zeros((bh, bw), np.float32)
        part = resample_area(own, pitch, pixel_mm)[:bh, :bw]
        cov[: part.shape[0], : part.shape[1]] = part
        meta = {key: v for key, v in p.items() if key not in ("box", "maskRle")}
        persons.append(Person(box=(bx, by, bw, bh), mask_x0=bx, mask_y0=by, mask=cov.astype(np.float32), meta=meta))
    scene = side.get("scene", {})
    decoys = [_box_to_model(_decoy_box(d, h, pitch), scale) for d in scene.get("decoys", [])]
    meta = {
        "vehicle": scene.get("vehicleClass"),
        "trailer": scene.get("trailer"),
        "cargo": scene.get("cargo"),
        "density": scene.get("cargoDensity"),
        "hidingPlaces": scene.get("hidingPlaces", []),
        "decoyKinds": [d.get("kind") for d in scene.get("decoys", [])],
        "seed": side.get("seed"),
        "pixelMm": pitch,
    }
    return Scan(
        scan_id=str(rec["id"]),
        high=high_m,
        low=low_m,
        person_mask=np.clip(np.round(union * 255), 0, 255).astype(np.uint8),
        persons=persons,
        decoys=decoys,
        meta=meta,
    )


def load_split(root: str, pixel_mm: float, limit: int | None = None, cache_dir: str | None = None) -> list[Scan]:
    """All scans of a data set folder at the model pitch. With cache_dir, the resampled scans are kept in a
    pickle keyed by the folder, its labels.jsonl (size, mtime) and the pitch, so a resumed run loads fast."""
    labels = os.path.join(root, "labels.jsonl")
    if not os.path.exists(labels):
        raise FileNotFoundError(f"dataset: {labels} not found; generate the data set with training/train.sh or `checkpoint-edge sim xray`")
    cache_path = None
    if cache_dir:
        st = os.stat(labels)
        key = hashlib.sha256(json.dumps([os.path.abspath(root), st.st_size, st.st_mtime_ns, pixel_mm, limit]).encode()).hexdigest()[:16]
        cache_path = os.path.join(cache_dir, f"scans-{key}.pkl")
        if os.path.exists(cache_path):
            with open(cache_path, "rb") as f:
                return pickle.load(f)
    scans = list(iter_split(root, pixel_mm, limit))
    if cache_path:
        os.makedirs(cache_dir, exist_ok=True)
        with open(cache_path + ".tmp", "wb") as f:
            pickle.dump(scans, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(cache_path + ".tmp", cache_path)
    return scans


def iter_split(root: str, pixel_mm: float, limit: int | None = None) -> Iterator[Scan]:
    """The scans of a data set folder at the model pitch, one at a time (no cache)."""
    labels = os.path.join(root, "labels.jsonl")
    if not os.path.exists(labels):
        raise FileNotFoundError(f"dataset: {labels} not found; generate the data set with training/train.sh or `checkpoint-edge sim xray`")
    count = 0
    with open(labels) as f:
        for n, line in enumerate(f):
            if not line.strip():
                continue
            if limit is not None and count >= limit:
                return
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"dataset: {labels} line {n + 1} is not JSON: {e}") from e
            count += 1
            yield load_scan(root, rec, pixel_mm)


def parse_hold_out(text: str) -> dict[str, set[str]]:
    """'vehicle=bus,cargo=furniture,place=cab-roof,trailer=tanker' -> {axis: {values}}."""
    out: dict[str, set[str]] = {}
    for part in filter(None, (t.strip() for t in text.split(","))):
        axis, sep, value = part.partition("=")
        if not sep or axis not in ("vehicle", "trailer", "cargo", "place", "decoy") or not value:
            raise ValueError(f"hold-out: '{part}' is not axis=value with axis one of vehicle, trailer, cargo, place, decoy")
        out.setdefault(axis, set()).add(value)
    return out


def held_out(scan: Scan, hold: dict[str, set[str]]) -> bool:
    """Whether a scan shows any held-out family (such scans are left out of training)."""
    m = scan.meta
    if m.get("vehicle") in hold.get("vehicle", ()) or m.get("trailer") in hold.get("trailer", ()) or m.get("cargo") in hold.get("cargo", ()):
        return True
    if any(p in hold.get("place", ()) for p in m.get("hidingPlaces", [])):
        return True
    return any(d in hold.get("decoy", ()) for d in m.get("decoyKinds", []))
