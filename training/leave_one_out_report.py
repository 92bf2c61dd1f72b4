"""The leave-one-family-out matrix from the runs of training/leave_one_out.sh.

Each argument is `<axis>=<family>:<work dir>` (a run that held that one family out of training) or
`none:<work dir>` (the run that trained on every family). For each family, both runs are read the same way
(training/held_out_report.py): the operating threshold is chosen on the validation scans of the other
families (at most 2 % false alarms) and applied to the family's validation scans. The difference between
the two rows is what the family's absence from training costs.

  python3 training/leave_one_out_report.py --val training/data/val --out models/person-fcn/leave-one-out.json \\
      none:training/.cache/leave-one-out/none vehicle=bus:training/.cache/leave-one-out/vehicle-bus ...
"""
from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dataset import load_split, parse_hold_out  # noqa: E402
from held_out_report import held_out_summary, recipe_fields, run_training  # noqa: E402
from train import MAX_FALSE_ALARM  # noqa: E402


def family_rows(baseline: list[dict], left_out: dict[str, list[dict]], scans: list) -> list[dict]:
    """One row per family: its figures when trained on (baseline run) and when held out (its own run)."""
    rows = []
    for family, outcomes in left_out.items():
        hold = parse_hold_out(family)
        seen = held_out_summary(baseline, scans, hold, family, None)["subsets"][1]
        unseen = held_out_summary(outcomes, scans, hold, family, None)["subsets"][1]
        rows.append({"family": family, "trained": seen, "heldOut": unseen})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--val", required=True, help="the validation set folder")
    ap.add_argument("--pixel-mm", type=float, default=20.0)
    ap.add_argument("--cache", default="training/.cache/scans")
    ap.add_argument("--iterations", type=int, required=True, help="iterations of each run (for the model card)")
    ap.add_argument("--out", required=True)
    ap.add_argument("runs", nargs="+", help="<axis>=<family>:<work dir>, and none:<work dir> for the run on every family")
    args = ap.parse_args()
    baseline, left_out, recipe = None, {}, {}
    for spec in args.runs:
        family, sep, work = spec.partition(":")
        if not sep or not work:
            raise SystemExit(f"leave-one-out report: '{spec}' is not <axis>=<family>:<work dir> or none:<work dir>")
        path = os.path.join(work, "val-outcomes.json")
        if not os.path.exists(path):
            raise SystemExit(f"leave-one-out report: {path} is missing; the run for '{family}' has not finished")
        with open(path) as f:
            outcomes = json.load(f)
        if family == "none":
            baseline = outcomes
            recipe = recipe_fields(run_training(work))
        else:
            parse_hold_out(family)
            left_out[family] = outcomes
    if baseline is None:
        raise SystemExit("leave-one-out report: no run with every family trained on (none:<work dir>)")
    scans = load_split(args.val, args.pixel_mm, cache_dir=args.cache)
    report = {"iterations": args.iterations, "maxFalseAlarmRate": MAX_FALSE_ALARM, "families": family_rows(baseline, left_out, scans),
              **recipe}
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    for r in report["families"]:
        t, h = r["trained"], r["heldOut"]
        print(f"{r['family']}: trained on: flagged {t['scanRecall']}, false alarms {t['falseAlarms']}/{t['scansWithoutPeople']}, AUC {t['auc']}; "
              f"held out: flagged {h['scanRecall']}, false alarms {h['falseAlarms']}/{h['scansWithoutPeople']}, AUC {h['auc']}")


if __name__ == "__main__":
    main()
