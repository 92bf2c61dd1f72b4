"""ONNX export of PersonFCN (opset 17, dynamic H and W, sigmoids inside) and the model manifest."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess

import numpy as np
import onnx
import torch

from evaluate import SPLIT_PROMINENCE
from model import HEATMAP_STRIDE, SIZE_MULTIPLE, PersonFCN

OPSET = 17


def export_onnx(model: PersonFCN, path: str) -> None:
    model.eval()
    dummy = torch.zeros(1, 3, 128, 256)
    tmp = path + ".tmp"
    torch.onnx.export(
        model,
        dummy,
        tmp,
        opset_version=OPSET,
        input_names=["scan"],
        output_names=["heatmap", "score"],
        dynamic_axes={"scan": {0: "batch", 2: "height", 3: "width"}, "heatmap": {0: "batch", 2: "cellsH", 3: "cellsW"}, "score": {0: "batch"}},
        do_constant_folding=True,
    )
    m = onnx.load(tmp)
    onnx.checker.check_model(m)
    # Keep the file small and free of the exporter's host-dependent doc strings.
    m.producer_name = "checkpoint-edge training/export.py"
    for node in m.graph.node:
        node.doc_string = ""
    onnx.save(m, tmp)
    os.replace(tmp, path)


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_commit(repo: str) -> str:
    try:
        out = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def write_manifest(
    path: str,
    *,
    model_file: str,
    version: str,
    pixel_mm: float,
    log_scale: float,
    peak_threshold: float,
    min_region_mm2: float,
    platt_a: float,
    platt_b: float,
    tile_lines: int,
    overlap_lines: int,
    operating_point: dict,
    training: dict,
) -> dict:
    manifest = {
        "schemaVersion": 1,
        "name": "person-fcn",
        "version": version,
        "file": os.path.basename(model_file),
        "sha256": sha256_file(model_file),
        "opset": OPSET,
        "pixelMm": pixel_mm,
        "input": {
            "name": "scan",
            "layout": "NCHW",
            "channels": ["logHigh", "logLow", "lowPresent"],
            "logScale": log_scale,
            "sizeMultiple": SIZE_MULTIPLE,
        },
        "outputs": {"heatmap": {"name": "heatmap", "stride": HEATMAP_STRIDE}, "score": {"name": "score"}},
        "decoding": {"peakThreshold": peak_threshold, "minRegionMm2": min_region_mm2, "splitProminence": SPLIT_PROMINENCE},
        "calibration": {"type": "platt", "a": platt_a, "b": platt_b},
        "tiling": {"tileLines": tile_lines, "overlapLines": overlap_lines},
        "operatingPoint": operating_point,
        "training": training,
    }
    with open(path + ".tmp", "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    os.replace(path + ".tmp", path)
    return manifest


def write_reference_io(model: PersonFCN, x: np.ndarray, out_dir: str) -> None:
    """Writes one input and torch's outputs (float32 little-endian) for the onnxruntime-node check."""
    model.eval()
    with torch.no_grad():
        hm, sc = model(torch.from_numpy(x[None]))
    os.makedirs(out_dir, exist_ok=True)
    x[None].astype("<f4").tofile(os.path.join(out_dir, "input.f32"))
    hm.numpy().astype("<f4").tofile(os.path.join(out_dir, "heatmap.f32"))
    sc.numpy().astype("<f4").tofile(os.path.join(out_dir, "score.f32"))
    with open(os.path.join(out_dir, "shapes.json"), "w") as f:
        json.dump({"input": list(x[None].shape), "heatmap": list(hm.shape), "score": list(sc.shape)}, f)
