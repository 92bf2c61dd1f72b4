"""Generalisation to families never trained on, from a run with HOLD_OUT (training/train.sh).

Reads that run's validation outcomes (`<work>/val-outcomes.json`) and the validation set, chooses the
operating threshold on the validation scans of the families the run was trained on (at most 2 % false
alarms), and applies it to the validation scans of each held-out family. Writes a JSON summary that
training/model_card.py renders into the shipped model's card:

  python3 training/held_out_report.py --work training/.cache/run-held-out --val training/data/val \
      --hold-out vehicle=bus,trailer=tanker,cargo=furniture,place=cab-roof,decoy=produce-bin \
      --out models/person-fcn/held-out.json
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dataset import held_out, load_split, parse_hold_out  # noqa: E402
from evaluate import roc_auc, threshold_at_false_alarm  # noqa: E402
from train import MAX_FALSE_ALARM  # noqa: E402


def subset_figures(rows: list[dict], threshold: float) -> dict:
    pos = np.asarray([r["score"] for r in rows if r["hasPerson"]])
    neg = np.asarray([r["score"] for r in rows if not r["hasPerson"]])
    people = [(r["score"] >= threshold) and f for r in rows if r["hasPerson"] for f in r["found"]]
    return {
        "scans": len(rows),
        "scansWithPeople": int(len(pos)),
        "scansWithoutPeople": int(len(neg)),
        "scanRecall": float((pos >= threshold).mean()) if len(pos) else None,
        "people": len(people),
        "peopleFound": int(sum(people)),
        "falseAlarms": int((neg >= threshold).sum()),
        "falseAlarmRate": float((neg >= threshold).mean()) if len(neg) else None,
        "auc": None if not len(pos) or not len(neg) else float(roc_auc(pos, neg)),
    }


def held_out_summary(outcomes: list[dict], scans: list, hold: dict[str, set[str]], hold_text: str, iterations: int | None) -> dict:
    by_id = {s.scan_id: s for s in scans}
    missing = [o["id"] for o in outcomes if o["id"] not in by_id]
    if missing:
        raise SystemExit(f"held-out report: {len(missing)} validation outcomes have no scan in the validation set (first: {missing[0]})")
    seen = [o for o in outcomes if not held_out(by_id[o["id"]], hold)]
    neg = np.asarray([o["score"] for o in seen if not o["hasPerson"]])
    threshold = threshold_at_false_alarm(neg, MAX_FALSE_ALARM)
    subsets = [{"subset": "families seen in training", **subset_figures(seen, threshold)}]
    for axis, values in hold.items():
        for value in sorted(values):
            one = {axis: {value}}
            rows = [o for o in outcomes if held_out(by_id[o["id"]], one)]
            subsets.append({"subset": f"held out: {axis} {value}", "axis": axis, "family": value, **subset_figures(rows, threshold)})
    subsets.append({"subset": f"all {len(outcomes)}", **subset_figures(outcomes, threshold)})
    unseen = [o for o in outcomes if held_out(by_id[o["id"]], hold)]
    point = held_out_operating_point(seen, unseen)
    return {"heldOut": hold_text, "iterations": iterations, "rawThreshold": threshold, "maxFalseAlarmRate": MAX_FALSE_ALARM, "subsets": subsets,
            **({"heldOutOperatingPoint": point} if point else {})}


def held_out_operating_point(seen: list[dict], unseen: list[dict]) -> dict | None:
    """The operating point chosen on the held-out families: the lowest threshold at which their scans without people
    alarm at most MAX_FALSE_ALARM. A model trained on every family has no held-out families of its own, so the point is
    carried over as the share of the seen families' scans without people that alarm at it (`seenFalseAlarmRate`):
    training/train.py puts the shipped model's `operatingPoint.heldOut` where its own scans without people alarm at
    that share."""
    unseen_neg = np.asarray([o["score"] for o in unseen if not o["hasPerson"]])
    seen_neg = np.asarray([o["score"] for o in seen if not o["hasPerson"]])
    if not len(unseen_neg) or not len(seen_neg):
        # A hiding place held out alone has no scans without people: there is no point to choose on it.
        print(f"held-out report: no held-out operating point: it needs scans without people both in the held-out families "
              f"({len(unseen_neg)}) and in the seen ones ({len(seen_neg)})")
        return None
    threshold = threshold_at_false_alarm(unseen_neg, MAX_FALSE_ALARM)
    return {
        "rawThreshold": threshold,
        "heldOutScansWithoutPeople": int(len(unseen_neg)),
        "seenFalseAlarmRate": float((seen_neg >= threshold).mean()),
        "seen": subset_figures(seen, threshold),
        "heldOut": subset_figures(unseen, threshold),
    }


def run_training(work: str) -> dict:
    """The training section of a run's manifest (from <work>/training-report.json), or {} before the run has finished."""
    path = os.path.join(work, "training-report.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)["manifest"]["training"]


def recipe_fields(training: dict) -> dict:
    """The settings that set a run's recipe apart (mining share, packs, export decoding and clipped exports, ensemble members and how they are combined, training seeds), as the reports record
    them for the card."""
    out: dict = {}
    if training.get("members", 1) > 1:
        out["members"] = training["members"]
    if training.get("combine", "mean") != "mean":
        out["combine"] = training["combine"]
    if training.get("hardNegatives"):
        out["hardNegatives"] = training["hardNegatives"]["share"]
    if training.get("packs"):
        out["packs"] = True
    if training.get("exportEstimate"):
        out["exportEstimate"] = True
    if training.get("exportClip"):
        out["exportClip"] = training["exportClip"]
    if training.get("scaleLines"):
        out["scaleLines"] = training["scaleLines"]
    if training.get("trainSeeds"):
        out["trainSeeds"] = training["trainSeeds"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", required=True, help="the held-out run's WORK_DIR (val-outcomes.json, training-report.json)")
    ap.add_argument("--val", required=True, help="the validation set folder")
    ap.add_argument("--hold-out", required=True)
    ap.add_argument("--pixel-mm", type=float, default=20.0)
    ap.add_argument("--cache", default="training/.cache/scans")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    with open(os.path.join(args.work, "val-outcomes.json")) as f:
        outcomes = json.load(f)
    training = run_training(args.work)
    iterations = training.get("iterations")
    if training and parse_hold_out(training.get("heldOut", "")) != parse_hold_out(args.hold_out):
        raise SystemExit(f"held-out report: the run in {args.work} held out '{training.get('heldOut', '')}', not '{args.hold_out}'; "
                         "read a run trained with HOLD_OUT set to these families")
    scans = load_split(args.val, args.pixel_mm, cache_dir=args.cache)
    summary = held_out_summary(outcomes, scans, parse_hold_out(args.hold_out), args.hold_out, iterations)
    # Which run this was, so that a model trained on every family can show the held-out run of its own recipe.
    if "seed" in training:
        summary["seed"] = training["seed"]
    summary.update(recipe_fields(training))
    with open(args.out, "w") as f:
        json.dump(summary, f, indent=2)
    for s in summary["subsets"]:
        print(f"{s['subset']}: scans {s['scans']}, flagged {s['scanRecall']}, people {s['peopleFound']}/{s['people']}, "
              f"false alarms {s['falseAlarms']}/{s['scansWithoutPeople']}, AUC {s['auc']}")


if __name__ == "__main__":
    main()
