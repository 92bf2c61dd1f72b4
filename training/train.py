"""Trains PersonFCN (or, with --members N, N of them from seeds seed .. seed+N-1, exported as one
PersonEnsemble) on a synthetic X-ray data set, validates, calibrates and exports it.

  python3 training/train.py --train <dir> [--train <dir> ...] --val <dir> --out models/person-fcn \
      --work training/.cache/run --iterations 3000

A checkpoint (model, EMA weights, optimiser, history) is written to --work every --checkpoint-every
iterations; running the same command again resumes from it. Batches are drawn from generators seeded
by (seed, iteration), so a resumed run trains on the same batches as an uninterrupted one. The members
of an ensemble each have their own checkpoint in --work/member-<seed>/.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from augment import AugmentConfig  # noqa: E402
from dataset import held_out, iter_split, load_split, parse_hold_out  # noqa: E402
from evaluate import (  # noqa: E402
    Tiling,
    fit_platt,
    infer,
    platt,
    run_validation,
    summarize,
    threshold_at_false_alarm,
)
from figures import training_curve, validation_examples, validation_roc  # noqa: E402
from export import export_onnx, git_commit, write_manifest, write_reference_io  # noqa: E402
from mining import mine_hard_negatives  # noqa: E402
from model import PersonEnsemble, PersonFCN, count_params, macs_per_megapixel  # noqa: E402
from preprocess import LOG_SCALE, model_input  # noqa: E402
from sampler import CropSampler  # noqa: E402

MAX_FALSE_ALARM = 0.02
MIN_REGION_MM2 = 40000.0
# A lane reports only regions scoring at least this (config thresholds.region, default 0.3), and
# `npm run eval` counts people found the same way: the peak threshold is chosen by what a lane shows.
REPORTED_REGION_SCORE = 0.3
PEAK_TIE = 0.01


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", action="append", required=True, help="training data set folder (repeatable)")
    p.add_argument("--val", required=True, help="validation data set folder (calibration, thresholds)")
    p.add_argument("--out", required=True, help="model folder to write (model.onnx, manifest.json, training.json)")
    p.add_argument("--work", required=True, help="folder for checkpoints and logs")
    p.add_argument("--cache", default="training/.cache/scans", help="folder for scans resampled to the model pitch")
    p.add_argument("--pixel-mm", type=float, default=20.0, help="model pixel pitch (mm)")
    p.add_argument("--tile-lines", type=int, default=192, help="tile width along the scan at the model pitch")
    p.add_argument("--overlap-lines", type=int, default=64)
    p.add_argument("--crop-rows", type=int, default=192, help="training crop height (rows) at the model pitch")
    p.add_argument("--iterations", type=int, default=3000)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--checkpoint-every", type=int, default=100)
    p.add_argument("--val-every", type=int, default=0, help="quick validation every N iterations (0: only at the end)")
    p.add_argument("--val-quick-scans", type=int, default=60)
    p.add_argument("--version", default="1.0.0")
    p.add_argument("--dataset-note", default="", help="text for manifest.training.dataset")
    p.add_argument("--train-seeds", default="", help="text for manifest.training.trainSeeds")
    p.add_argument("--val-seeds", default="", help="text for manifest.training.valSeeds")
    p.add_argument("--threshold-set", default="", help="data set of scans without people that also choose the operating threshold (with the validation set's scans without people); not used in training")
    p.add_argument("--threshold-seeds", default="", help="text for manifest.training.thresholdSeeds")
    p.add_argument("--lane-default", choices=("operating", "held-out"), default="operating",
                   help="where a lane that sets no thresholds.alert decides: the operating point chosen on the training "
                        "distribution, or the held-out point when the model names one (manifest operatingPoint.laneDefault)")
    p.add_argument("--calibration-set", default="", help="folder of scans with and without people that, with the validation set, fit the calibration (Platt) of the scan score; they choose nothing else")
    p.add_argument("--calibration-seeds", default="", help="text for manifest.training.calibrationSeeds")
    p.add_argument("--place-weights", default="", help="person crops drawn per hiding place in proportion to these weights, e.g. 'car-boot=2,cavity-in-load=2' (others 1)")
    p.add_argument("--place-weights-basis", default="", help="why these places are weighted (for the manifest and the model card)")
    p.add_argument("--single-energy-no-body-shapes", action="store_true", help="leave body-shaped random objects out of crops shown without the low-energy image")
    p.add_argument("--export-estimate", action="store_true", help="decode exported crops by the runtime's estimate of the chain instead of model 2.0.0's normalising decoding")
    p.add_argument("--export-clip", type=float, default=0.0, help="share of crops also exported through a chain whose window's top (0.8-0.97) writes thin material as open beam; 0: none")
    p.add_argument("--scale-lines", default="", help="range 'lo,hi' of the rescaling along the scan (a line pitch other than the channels', speed changes), drawn log-uniformly in half the crops, e.g. '0.5,2'; empty: 0.85-1.2 drawn uniformly, as up to 2.3.2")
    p.add_argument("--packs", action="store_true", help="domain randomisation also draws packs of rounded lumps (produce, sacks, bottles, bagged tops) in any material, water included")
    p.add_argument("--hold-out", default="", help="families never trained on, e.g. 'vehicle=bus,trailer=tanker,cargo=furniture,place=cab-roof' (validation keeps them: the operating point is chosen on them)")
    p.add_argument("--hard-negatives", type=float, default=0.0, help="share of crops centred on the model's own false alarms, mined every --mine-every iterations (training/mining.py); 0: none")
    p.add_argument("--mine-every", type=int, default=500, help="iterations between mining passes (the first at this iteration)")
    p.add_argument("--mine-keep", type=int, default=600, help="mined places kept per pass (the strongest)")
    p.add_argument("--members", type=int, default=1, help="train this many models with seeds seed, seed+1, ... and export them as one model (PersonEnsemble, combined by --combine); 1: one PersonFCN")
    p.add_argument("--combine", choices=PersonEnsemble.COMBINES, default="mean", help="how an ensemble's members are combined: mean (as up to 2.3.2) or min (each cell and tile as the least convinced member scores it); not part of a checkpoint's settings, so trained members can be exported either way")
    p.add_argument("--stop-after", type=int, default=0, help="stop (with a checkpoint) after this many iterations in this process; 0 = run to the end")
    args = p.parse_args()
    if not 0 <= args.hard_negatives <= 0.6:
        p.error(f"--hard-negatives must lie between 0 and 0.6 (the shares of clear and decoy crops), got {args.hard_negatives}")
    if not 0 <= args.export_clip <= 1:
        p.error(f"--export-clip is a share of crops, between 0 and 1, got {args.export_clip}")
    try:
        args.scale_lines = parse_scale_lines(args.scale_lines)
    except ValueError as err:
        p.error(str(err))
    if args.mine_every < 1 or args.mine_keep < 1:
        p.error(f"--mine-every and --mine-keep must be at least 1, got {args.mine_every} and {args.mine_keep}")
    return args


SCORE_SMOOTHING = 0.03


def focal_loss(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, alpha: float = 0.5, gamma: float = 2.0) -> torch.Tensor:
    """Focal loss summed over cells and normalised by the number of positive cells in the batch."""
    p = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    p_t = p * target + (1 - p) * (1 - target)
    a_t = alpha * target + (1 - alpha) * (1 - target)
    loss = a_t * (1 - p_t) ** gamma * ce * weight
    return loss.sum() / torch.clamp((target * weight).sum(), min=16.0)


def lr_at(it: int, total: int, base: float, warmup: int = 100) -> float:
    if it < warmup:
        return base * (it + 1) / warmup
    t = (it - warmup) / max(1, total - warmup)
    return 1e-5 + (base - 1e-5) * 0.5 * (1 + math.cos(math.pi * t))


def parse_scale_lines(text: str) -> tuple[float, float] | None:
    """--scale-lines 'lo,hi' (0.25 <= lo < hi <= 4), or None when empty."""
    if not text.strip():
        return None
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"--scale-lines expects 'lo,hi', e.g. '0.5,2', got {text!r}") from None
    if not 0.25 <= lo < hi <= 4:
        raise ValueError(f"--scale-lines expects 0.25 <= lo < hi <= 4, got {text!r}")
    return lo, hi


def config_key(args: argparse.Namespace, seed: int, by_folder: bool = False) -> str:
    """Identifies a trained model (one member of an ensemble): its settings, its seed and the contents of its
    data sets (a regenerated data set starts a new run), wherever the data sets lie. `by_folder`: the key that runs
    before 2.3.0 wrote, which also named the data sets' folders; a checkpoint with it resumes from those folders and
    is written again with the key that does not name them."""
    names = ("pixel_mm", "iterations", "batch", "lr", "tile_lines", "crop_rows", "place_weights", "hold_out")
    keys = {k: getattr(args, k) for k in (("train", "val") if by_folder else ()) + names}
    keys["seed"] = seed
    if args.single_energy_no_body_shapes:
        keys["single_energy_no_body_shapes"] = True
    if args.export_estimate:
        keys["export_estimate"] = True
    if args.packs:
        keys["packs"] = True
    if args.export_clip > 0:
        keys["export_clip"] = args.export_clip
    if getattr(args, "scale_lines", None):
        keys["scale_lines"] = list(args.scale_lines)
    if args.hard_negatives > 0:
        keys["hard_negatives"] = [args.hard_negatives, args.mine_every, args.mine_keep]
    for i, d in enumerate(args.train + [args.val]):
        labels = os.path.join(d, "labels.jsonl")
        with open(labels, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        keys[labels if by_folder else f"labels {'val' if i == len(args.train) else f'train {i}'}"] = digest
    return hashlib.sha256(json.dumps(keys, sort_keys=True).encode()).hexdigest()[:16]


def parse_place_weights(text: str) -> dict[str, float]:
    """'car-boot=2,cavity-in-load=1.5' -> {'car-boot': 2.0, 'cavity-in-load': 1.5}."""
    weights: dict[str, float] = {}
    for part in filter(None, (t.strip() for t in text.split(","))):
        name, sep, value = part.partition("=")
        try:
            w = float(value)
        except ValueError:
            w = -1.0
        if not sep or not name or not w > 0:
            raise SystemExit(f"train: --place-weights: '{part}' is not <hiding place>=<positive number>")
        weights[name] = w
    return weights


def save_checkpoint(path: str, state: dict) -> None:
    torch.save(state, path + ".tmp")
    os.replace(path + ".tmp", path)


def update_ema(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    with torch.no_grad():
        for pe, pm in zip(ema.parameters(), model.parameters()):
            pe.mul_(decay).add_(pm, alpha=1 - decay)
        for be, bm in zip(ema.buffers(), model.buffers()):
            be.copy_(bm)


def log(msg: str) -> None:
    print(f"[train {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(args.out, exist_ok=True)

    t_load = time.time()
    train_scans = [s for d in args.train for s in load_split(d, args.pixel_mm, cache_dir=args.cache)]
    hold = parse_hold_out(args.hold_out)
    if hold:
        before = len(train_scans)
        train_scans = [s for s in train_scans if not held_out(s, hold)]
        log(f"held out of training: {before - len(train_scans)} scans showing {args.hold_out}")
    n_people = sum(len(s.persons) for s in train_scans)
    log(f"loaded {len(train_scans)} training scans ({n_people} people) in {time.time() - t_load:.1f} s")
    val_cache: list = []

    def validation_scans() -> list:
        # Loaded on first use, so training can start while the validation set is still being written.
        if not val_cache:
            t0 = time.time()
            val_cache.extend(load_split(args.val, args.pixel_mm, cache_dir=args.cache))
            log(f"loaded {len(val_cache)} validation scans in {time.time() - t0:.1f} s")
        return val_cache

    place_weights = parse_place_weights(args.place_weights)
    known_places = {str(p.meta.get("hidingPlace")) for s in train_scans for p in s.persons}
    unknown = sorted(set(place_weights) - known_places)
    if unknown:
        raise SystemExit(f"train: --place-weights names hiding places absent from the training set: {', '.join(unknown)} (present: {', '.join(sorted(known_places))})")
    if args.members < 1:
        raise SystemExit(f"train: --members must be at least 1 (got {args.members})")
    if args.combine != "mean" and args.members == 1:
        raise SystemExit(f"train: --combine {args.combine} combines an ensemble's members; with --members 1 there is one network (set MEMBERS above 1, or COMBINE=mean)")
    # One model, or the members of an ensemble (seeds seed, seed+1, ...), each resumable from its own checkpoint.
    seeds = [args.seed + i for i in range(args.members)]
    members, histories, seconds = [], [], 0.0
    budget = [args.stop_after or None]
    for seed in seeds:
        if budget[0] is not None and budget[0] <= 0:
            log(f"stopped after {args.stop_after} iterations before member seed {seed}; run the same command again to resume")
            return
        work = args.work if args.members == 1 else os.path.join(args.work, f"member-{seed}")
        trained = train_member(args, seed, work, train_scans, place_weights, validation_scans, budget)
        if trained is None:
            return
        ema, history, train_seconds = trained
        members.append(ema)
        histories.append(history)
        seconds += train_seconds
    model = members[0] if args.members == 1 else PersonEnsemble(members, args.combine)
    finish(args, model, validation_scans(), histories, seconds, len(train_scans), n_people, composition_of(train_scans))


def train_member(args, seed: int, work: str, train_scans, place_weights: dict, validation_scans, budget: list[int]):
    """Trains (or resumes) one PersonFCN with this seed in `work`. Returns (EMA model, history, training
    seconds), or None when `budget` (iterations left in this process, 0 = unlimited) ran out first."""
    os.makedirs(work, exist_ok=True)
    torch.manual_seed(seed)
    np.random.seed(seed)
    sampler = CropSampler(train_scans, seed=seed, crop_lines=args.tile_lines, max_rows=args.crop_rows, augment_cfg=AugmentConfig(single_energy_no_body_shapes=args.single_energy_no_body_shapes, export_estimate=args.export_estimate, packs=args.packs, p_export_clip=args.export_clip), scale_lines=args.scale_lines,
                          place_weights=place_weights, hard_share=args.hard_negatives)
    tiling = Tiling(args.tile_lines, args.overlap_lines)
    model = PersonFCN()
    ema = copy.deepcopy(model)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    ckpt_path = os.path.join(work, "checkpoint.pt")
    key = config_key(args, seed)
    start, history, train_seconds = 0, {"loss": [], "val": []}, 0.0
    if os.path.exists(ckpt_path):
        state = torch.load(ckpt_path)
        if state.get("configKey") not in (key, config_key(args, seed, by_folder=True)):
            raise SystemExit(
                f"train: checkpoint {ckpt_path} belongs to other settings or data sets; delete {args.work} "
                "(npm run train -- --fresh) to start over"
            )
        if state["configKey"] != key:
            state["configKey"] = key
            save_checkpoint(ckpt_path, state)
            log(f"{ckpt_path}: key written again without the data sets' folders (checkpoints before 2.3.0 named them)")
        model.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        opt.load_state_dict(state["opt"])
        start, history, train_seconds = state["iteration"], state["history"], state["trainSeconds"]
        sampler.hard_refs = state.get("hard", [])
        if start < args.iterations:
            log(f"resumed from {ckpt_path} at iteration {start}")
        else:
            log(f"{ckpt_path}: trained ({start} iterations, seed {seed})")

    def checkpoint(it: int) -> None:
        save_checkpoint(
            ckpt_path,
            {"configKey": key, "model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
             "iteration": it, "history": history, "trainSeconds": train_seconds, "hard": sampler.hard_refs},
        )

    model.train()
    t_seg, run_start, done_here = time.time(), time.time(), 0
    acc = {"heat": 0.0, "score": 0.0, "n": 0}
    for it in range(start, args.iterations):
        if args.hard_negatives > 0 and it > 0 and it % args.mine_every == 0:
            t_mine = time.time()
            mined = mine_hard_negatives(ema, train_scans, tiling, args.mine_keep)
            sampler.hard_refs = [(si, box) for si, box, _ in mined]
            strongest, weakest = (mined[0][2], mined[-1][2]) if mined else (None, None)
            record = {"iteration": it, "places": len(mined), "scans": len({si for si, _, _ in mined}),
                      "strongest": strongest, "weakest": weakest}
            history.setdefault("mined", []).append(record)
            log(f"mined {record['places']} hard negatives in {record['scans']} scans at {it} "
                f"(heat {weakest or 0:.2f}..{strongest or 0:.2f}) in {time.time() - t_mine:.1f} s")
        lr = lr_at(it, args.iterations, args.lr)
        for g in opt.param_groups:
            g["lr"] = lr
        b = sampler.batch(it, args.batch)
        x = torch.from_numpy(b.x)
        heat_logit, score_logit = model.forward_logits(x)
        l_heat = focal_loss(heat_logit, torch.from_numpy(b.heat), torch.from_numpy(b.heat_weight))
        sw = torch.from_numpy(b.score_weight)
        # Smoothed tile-score targets keep the score's logit finite (about +-3.5): a score head trained
        # on hard 0/1 targets saturates to exactly 1.0 in float32 on many tiles, with or without a
        # person, and neither the operating point nor the calibration can then tell them apart.
        target = torch.from_numpy(b.score) * (1 - 2 * SCORE_SMOOTHING) + SCORE_SMOOTHING
        l_score = (F.binary_cross_entropy_with_logits(score_logit, target, reduction="none") * sw).sum() / sw.sum().clamp(min=1)
        loss = l_heat + l_score
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        update_ema(ema, model, 0.0 if it < 200 else 0.995)
        acc["heat"] += float(l_heat)
        acc["score"] += float(l_score)
        acc["n"] += 1
        done_here += 1
        if (it + 1) % 25 == 0:
            n = acc["n"]
            history["loss"].append({"iteration": it + 1, "heat": acc["heat"] / n, "score": acc["score"] / n, "lr": lr})
            el = time.time() - run_start
            log(f"it {it + 1}/{args.iterations} heat {acc['heat'] / n:.4f} score {acc['score'] / n:.4f} lr {lr:.2e} "
                f"{el / done_here:.2f} s/it")
            acc = {"heat": 0.0, "score": 0.0, "n": 0}
        if args.val_every and (it + 1) % args.val_every == 0 and it + 1 < args.iterations:
            train_seconds += time.time() - t_seg
            outcomes, _ = run_validation(ema, validation_scans()[: args.val_quick_scans], 0.3, MIN_REGION_MM2, args.pixel_mm, tiling)
            neg = np.asarray([o.score for o in outcomes if not o.has_person])
            s = summarize(outcomes, threshold_at_false_alarm(neg, MAX_FALSE_ALARM))
            history["val"].append({"iteration": it + 1, **s})
            log(f"quick validation at {it + 1}: AUC {s['auc']:.4f} scan recall {s['scanRecall']:.3f} person recall {s['personRecall']:.3f} at FA {s['falseAlarmRate']:.3f}")
            model.train()
            t_seg = time.time()
        if (it + 1) % args.checkpoint_every == 0 or it + 1 == args.iterations:
            train_seconds += time.time() - t_seg
            t_seg = time.time()
            checkpoint(it + 1)
        if budget[0] is not None and done_here >= budget[0] and it + 1 < args.iterations:
            train_seconds += time.time() - t_seg
            checkpoint(it + 1)
            log(f"stopped after {done_here} iterations at {it + 1}; run the same command again to resume")
            return None
    train_seconds += time.time() - t_seg
    if budget[0] is not None:
        budget[0] -= done_here
    ema.eval()
    return ema, history, train_seconds


def finish(args, ema: torch.nn.Module, val_scans, histories: list[dict], train_seconds: float, n_train: int, n_people: int, composition: dict) -> None:
    ema.eval()
    t0 = time.time()
    # Peak threshold for regions: the one that localises the most validation people, where a point
    # (PEAK_TIE, about 3 of 274 people) is within the noise of one validation set: among those, the one
    # with the fewest regions on scans without people (what an operator sees on a false alarm).
    tiling = Tiling(args.tile_lines, args.overlap_lines)
    base, heats = run_validation(ema, val_scans, 0.3, MIN_REGION_MM2, args.pixel_mm, tiling)
    outcomes_by_peak, figures = {}, {}
    for peak in (0.2, 0.3, 0.4, 0.5):
        outcomes = redecode(base, heats, val_scans, peak, args.pixel_mm)
        outcomes_by_peak[peak] = outcomes
        found = float(np.mean([f for o in outcomes for f in o.persons_found_by_region]))
        regions_on_clear = float(np.mean([len(o.regions) for o in outcomes if not o.has_person]))
        log(f"peak threshold {peak}: people localised {found:.3f}, regions per scan without people {regions_on_clear:.3f}")
        figures[peak] = (found, regions_on_clear)
    most = max(f for f, _ in figures.values())
    peak = min((p for p, (f, _) in figures.items() if f >= most - PEAK_TIE), key=lambda p: (figures[p][1], -figures[p][0], p))
    outcomes = outcomes_by_peak[peak]
    raw = np.asarray([o.score for o in outcomes])
    labels = np.asarray([o.has_person for o in outcomes], dtype=np.float64)
    saturated = float(np.mean(raw >= 1 - 1e-6))
    if saturated > 0.02:
        raise SystemExit(f"train: {saturated:.1%} of validation scan scores are 1.0 in float32; the score head saturated and "
                         "cannot be calibrated or thresholded; check SCORE_SMOOTHING and the data set")
    calibration_set = None
    extra = None
    if args.calibration_set:
        extra = split_scores(ema, args.calibration_set, args.pixel_mm, tiling)
        calibration_set = {"scans": int(len(extra[0])), "withPeople": int(extra[1].sum()), "seeds": args.calibration_seeds}
        log(f"calibration on {len(raw)} validation and {len(extra[0])} calibration-set scans ({calibration_set['withPeople']} with people)")
    a, b = fit_calibration(raw, labels, extra)
    neg = raw[labels == 0]
    threshold_set = None
    if args.threshold_set:
        extra = threshold_set_scores(ema, args, tiling)
        neg = np.concatenate([neg, extra])
        threshold_set = {"scans": int(len(extra)), "seeds": args.threshold_seeds}
    thr_raw = threshold_at_false_alarm(neg, MAX_FALSE_ALARM)
    if threshold_set is not None:
        threshold_set["falseAlarms"] = int(np.sum(extra >= thr_raw))
        log(f"operating threshold chosen on {len(neg)} scans without people ({len(neg) - len(extra)} validation, {len(extra)} "
            f"threshold set, {threshold_set['falseAlarms']} of these alarm)")
    summary = summarize(outcomes, thr_raw)
    thr_cal = float(platt(thr_raw, a, b))
    log(f"validation ({time.time() - t0:.0f} s): {json.dumps(summary)}; platt a={a:.4f} b={b:.4f}; calibrated threshold {thr_cal:.4f}")

    model_path = os.path.join(args.out, "model.onnx")
    export_onnx(ema, model_path)
    ref_scan = next((s for s in val_scans if s.persons), val_scans[0])
    x = model_input(ref_scan.high, ref_scan.low)[:, :, : args.tile_lines]
    from preprocess import pad_to_multiple
    from model import SIZE_MULTIPLE

    write_reference_io(ema, pad_to_multiple(x, SIZE_MULTIPLE), os.path.join(args.work, "reference"))
    by_category = category_breakdown(outcomes, thr_raw)
    by_hiding = hiding_breakdown(outcomes, val_scans, thr_raw)
    training = {
        "script": "training/train.py",
        "command": "npm run train",
        "seed": args.seed,
        **({"members": args.members, "memberSeeds": [args.seed + i for i in range(args.members)]} if args.members > 1 else {}),
        **({"combine": args.combine} if args.members > 1 and args.combine != "mean" else {}),
        "dataset": args.dataset_note,
        "trainSeeds": args.train_seeds,
        "valSeeds": args.val_seeds,
        **({"thresholdSeeds": args.threshold_seeds} if threshold_set else {}),
        **({"calibrationSeeds": args.calibration_seeds} if calibration_set else {}),
        "iterations": args.iterations,
        "batch": args.batch,
        "placeWeights": parse_place_weights(args.place_weights),
        **({"heldOut": args.hold_out} if args.hold_out else {}),
        **({"singleEnergyNoBodyShapes": True} if args.single_energy_no_body_shapes else {}),
        **({"exportEstimate": True} if args.export_estimate else {}),
        **({"packs": True} if args.packs else {}),
        **({"exportClip": args.export_clip} if args.export_clip > 0 else {}),
        **({"scaleLines": list(args.scale_lines)} if args.scale_lines else {}),
        **({"hardNegatives": {"share": args.hard_negatives, "mineEvery": args.mine_every, "keep": args.mine_keep}} if args.hard_negatives > 0 else {}),
        **({"placeWeightsBasis": args.place_weights_basis} if args.place_weights_basis else {}),
        "commit": git_commit(os.path.dirname(os.path.abspath(__file__))),
    }
    held_point = None if args.hold_out else held_out_point(args.out, training, neg, a, b)
    operating_point = {
        "maxFalseAlarmRate": MAX_FALSE_ALARM,
        "scoreThreshold": round(thr_cal, 6),
        "basis": "calibrated scan score at which validation scans without people alarm at most maxFalseAlarmRate"
                 + (" (the validation set's and the threshold set's together)" if threshold_set else ""),
        **({"heldOut": held_point} if held_point else {}),
        **({"laneDefault": "heldOut"} if held_point and args.lane_default == "held-out" else {}),
    }
    if args.lane_default == "held-out":
        log("lane default: " + (f"the held-out point {held_point['scoreThreshold']:.4f}" if held_point else
                                f"no held-out point, so the operating point {thr_cal:.4f}"))
    manifest = write_manifest(
        os.path.join(args.out, "manifest.json"),
        model_file=model_path,
        version=args.version,
        pixel_mm=args.pixel_mm,
        log_scale=LOG_SCALE,
        peak_threshold=peak,
        min_region_mm2=MIN_REGION_MM2,
        platt_a=round(a, 6),
        platt_b=round(b, 6),
        tile_lines=tiling.tile_lines,
        overlap_lines=tiling.overlap_lines,
        operating_point=operating_point,
        training=training,
    )
    report = {
        "manifest": manifest,
        "params": count_params(ema),
        "macsPerMegapixel": macs_per_megapixel(ema),
        "trainSeconds": round(train_seconds),
        "trainScans": n_train,
        "trainPeople": n_people,
        "valScans": len(val_scans),
        "validation": summary,
        **({"thresholdSet": threshold_set} if threshold_set else {}),
        **({"calibrationSet": calibration_set} if calibration_set else {}),
        "validationByCategory": by_category,
        "validationByHidingPlace": by_hiding,
        "trainComposition": composition,
        "sourcePixelMm": val_scans[0].meta.get("pixelMm"),
        "plattA": a,
        "plattB": b,
        "history": histories[0] if len(histories) == 1 else {"members": histories},
        "torch": torch.__version__,
        "threads": args.threads,
        "cropRows": args.crop_rows,
        "cropLines": args.tile_lines,
        "lr": args.lr,
    }
    pictures_dir = os.path.join(args.out, "pictures")
    os.makedirs(pictures_dir, exist_ok=True)
    training_curve(histories, os.path.join(pictures_dir, "training-loss.png"))
    validation_roc(outcomes, os.path.join(pictures_dir, "validation-roc.png"))
    report["examples"] = validation_examples(val_scans, outcomes, heats, thr_raw, pictures_dir)
    with open(os.path.join(args.work, "training-report.json"), "w") as f:
        json.dump(report, f, indent=2)
    with open(os.path.join(args.work, "val-outcomes.json"), "w") as f:
        json.dump([{"id": o.scan_id, "hasPerson": o.has_person, "score": o.score, "found": o.persons_found_by_region,
                    "regions": [r.__dict__ for r in o.regions]} for o in outcomes], f)
    log(f"exported {model_path} ({os.path.getsize(model_path)} bytes, sha256 {manifest['sha256'][:12]}...)")


def held_out_point(model_dir: str, training: dict, neg: np.ndarray, a: float, b: float) -> dict | None:
    """`operatingPoint.heldOut`: the operating point chosen on families never trained on, from the held-out run of this
    recipe (`<model_dir>/held-out.json`, training/held_out_report.py). That run's point is carried over as the share of
    the seen families' scans without people alarming at it; here the threshold is where this model's own scans without
    people (`neg`: validation and threshold set) alarm at that share. None without such a file."""
    from model_card import same_recipe

    path = os.path.join(model_dir, "held-out.json")
    if not os.path.exists(path):
        log(f"{path}: not there; the manifest names no held-out operating point (docs/training.md, \"Families held out\")")
        return None
    with open(path) as f:
        h = json.load(f)
    point = h.get("heldOutOperatingPoint")
    if point is None or not same_recipe(h, training):
        log(f"{path}: {'no held-out operating point' if point is None else 'another recipe'}; the manifest names none")
        return None
    share = float(point["seenFalseAlarmRate"])
    thr = threshold_at_false_alarm(neg, share)
    cal = round(float(platt(thr, a, b)), 6)
    alarms = int(np.sum(platt(neg, a, b) >= cal))  # at the threshold as written
    log(f"held-out operating point: {alarms} of {len(neg)} scans without people alarm (the held-out run's seen share "
        f"{share:.4f}); calibrated threshold {cal:.4f}")
    return {
        "scoreThreshold": cal,
        "seenFalseAlarmRate": round(share, 6),
        "falseAlarms": alarms,
        "scansWithoutPeople": int(len(neg)),
        "families": h["heldOut"],
        "basis": "calibrated scan score at which this model's validation scans without people alarm at seenFalseAlarmRate: "
                 "the share at which the seen families alarmed in the held-out run of this recipe when its held-out families' "
                 "scans without people alarmed at most maxFalseAlarmRate (training/held_out_report.py)",
    }


def threshold_set_scores(model: torch.nn.Module, args, tiling: Tiling) -> np.ndarray:
    """Raw scan scores of the threshold set (scans without people, read whole as the runtime tiles them)."""
    return split_scores(model, args.threshold_set, args.pixel_mm, tiling, clear_only=True)[0]


def split_scores(model: torch.nn.Module, root: str, pixel_mm: float, tiling: Tiling, clear_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Raw scan scores of a data set's scans (read whole as the runtime tiles them) and whether each holds a person,
    loaded one scan at a time so that a large set does not sit in memory. clear_only: a scan with people stops training."""
    t0 = time.time()
    scores, has_person = [], []
    for scan in iter_split(root, pixel_mm):
        if clear_only and scan.persons:
            raise SystemExit(f"train: {root} holds people ({scan.scan_id}); it must hold only scans without people")
        _, score = infer(model, model_input(scan.high, scan.low), tiling)
        scores.append(score)
        has_person.append(bool(scan.persons))
    if not scores:
        raise SystemExit(f"train: {root} holds no scans")
    log(f"{root}: {len(scores)} scans ({sum(has_person)} with people) read in {time.time() - t0:.0f} s")
    return np.asarray(scores), np.asarray(has_person, dtype=np.float64)


def fit_calibration(raw: np.ndarray, labels: np.ndarray, extra: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[float, float]:
    """Platt (a, b) of the scan score on the validation scans and, when given, a calibration set's (scores, labels).

    The validation set alone can be all but separable (its ROC AUC near 1), and Platt then fits a slope that makes
    every score 0 or 1; scans that choose nothing else widen the fit (docs/training.md, "Model 2.3.1").
    Stops training when the fit is degenerate or does not rise with the label."""
    if extra is not None:
        raw, labels = np.concatenate([raw, extra[0]]), np.concatenate([labels, extra[1]])
    a, b = fit_platt(raw, labels)
    if not (np.isfinite(a) and np.isfinite(b)) or abs(a) > 50 or abs(b) > 200:
        raise SystemExit(f"train: calibration did not converge (platt a = {a}, b = {b}); the scan scores it was fitted on are degenerate")
    if not a > 0:
        raise SystemExit(f"train: calibration failed: the validation scan scores do not rise with the label (platt a = {a:.4f}); "
                         "the model did not learn; train longer or check the data set")
    return a, b


def redecode(base, heats, val_scans, peak, pixel_mm):
    """The validation outcomes again with regions decoded at another peak threshold (those a lane reports)."""
    from evaluate import MATCH_IOU, ScanOutcome, box_iou, decode_regions

    out = []
    for o, scan in zip(base, val_scans):
        regions = [r for r in decode_regions(heats[scan.scan_id], peak, MIN_REGION_MM2, pixel_mm) if r.score >= REPORTED_REGION_SCORE]
        found = [any(box_iou(p.box, (r.x, r.y, r.w, r.h)) >= MATCH_IOU for r in regions) for p in scan.persons]
        out.append(ScanOutcome(o.scan_id, o.has_person, o.score, found, regions, o.meta))
    return out


def category_breakdown(outcomes, threshold: float) -> dict:
    """Validation figures per vehicle, cargo density and hiding place (scan-level keys from meta)."""
    cats: dict[str, dict[str, list]] = {}
    for o in outcomes:
        for axis in ("vehicle", "cargo", "density"):
            v = o.meta.get(axis)
            if v is not None:
                cats.setdefault(axis, {}).setdefault(str(v), []).append(o)
    result = {}
    for axis, groups in cats.items():
        result[axis] = {}
        for name, group in sorted(groups.items()):
            result[axis][name] = summarize(group, threshold)
    return result


def hiding_breakdown(outcomes, scans, threshold: float) -> dict:
    """Share of validation people found (scan flagged and localised) per hiding place."""
    groups: dict[str, list[bool]] = {}
    for o, scan in zip(outcomes, scans):
        for p, f in zip(scan.persons, o.persons_found_by_region):
            groups.setdefault(str(p.meta.get("hidingPlace")), []).append(bool(f and o.score >= threshold))
    return {k: {"people": len(v), "found": float(np.mean(v))} for k, v in sorted(groups.items())}


def composition_of(scans) -> dict:
    from collections import Counter

    comp = {
        "vehicle": Counter(str(s.meta.get("vehicle")) for s in scans),
        "density": Counter(str(s.meta.get("density")) for s in scans),
        "cargo": Counter(str(s.meta.get("cargo")) for s in scans),
        "hidingPlace": Counter(str(p.meta.get("hidingPlace")) for s in scans for p in s.persons),
        "decoy": Counter(str(k) for s in scans for k in s.meta.get("decoyKinds", [])),
        "label": Counter("person" if s.persons else "clear" for s in scans),
    }
    return {k: dict(v) for k, v in comp.items()}


if __name__ == "__main__":
    main()
