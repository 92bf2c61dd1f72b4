#!/usr/bin/env bash
# npm run train:leave-one-out: the leave-one-family-out matrix of the model card. For each family it trains
# the recipe of `npm run train` with that one family held out (every training scan showing it left out), plus
# one run with no family held out, and compares how the family fares on the validation scans when it was
# trained on and when it was not (threshold chosen on the other families each time: training/leave_one_out_report.py).
#
#   npm run train:leave-one-out            resume, or start the runs not yet done
#   npm run train:leave-one-out -- --fresh discard the runs and start over
#
# Settings (environment): FAMILIES (space-separated axis=value), LOO_ITERATIONS (default 2000: a third of the
# shipped recipe; the six runs of 2.1.0's recipe took about an hour, three side by side), LOO_DIR, OUT (the JSON the
# model card reads), and the settings of training/train.sh except HOLD_OUT, ITERATIONS, MEMBERS, CALIBRATION_COUNT (0), THRESHOLD_COUNT (0: the
# report chooses its own thresholds), VERSION,
# WORK_DIR and OUT_DIR, which this script sets per run (DATA_DIR, THREADS, PLACE_WEIGHTS, ... apply), and SEED
# (default 2 here: the matrix's runs are single networks of seed 2, the seed of 2.1.0 and of 2.2.0's second member).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-/usr/bin/python3}
FAMILIES=${FAMILIES:-vehicle=bus trailer=tanker cargo=furniture place=cab-roof decoy=produce-bin}
LOO_ITERATIONS=${LOO_ITERATIONS:-2000}
LOO_DIR=${LOO_DIR:-training/.cache/leave-one-out}
OUT=${OUT:-models/person-fcn/leave-one-out.json}
DATA_DIR=${DATA_DIR:-training/data}
SEED=${SEED:-2}

for arg in "$@"; do
  case "$arg" in
    --fresh) rm -rf "$LOO_DIR" ;;
    *) echo "leave_one_out.sh: unknown option '$arg' (known: --fresh)" >&2; exit 2 ;;
  esac
done

runs=()
for family in none $FAMILIES; do
  name=${family/=/-}
  work=$LOO_DIR/$name
  runs+=("$family:$work")
  # train.sh resumes each run from its checkpoint (a finished run is only validated and exported again, about a
  # minute) and refuses a checkpoint of other settings or data sets, so a changed setting never reuses a stale run.
  hold=$family
  [[ $family == none ]] && hold=
  echo "leave_one_out.sh: training with ${hold:-no family} held out, $LOO_ITERATIONS iterations"
  HOLD_OUT="$hold" ITERATIONS="$LOO_ITERATIONS" MEMBERS=1 SEED="$SEED" THRESHOLD_COUNT=0 CALIBRATION_COUNT=0 VERSION="0.0.0-leave-out-$name" WORK_DIR="$work" OUT_DIR="$work/model" \
    DATA_DIR="$DATA_DIR" bash training/train.sh
done

"$PYTHON" training/leave_one_out_report.py --val "$DATA_DIR/val" --cache training/.cache/scans --iterations "$LOO_ITERATIONS" --out "$OUT" "${runs[@]}"
echo "leave_one_out.sh: wrote $OUT; the model card shows it once it is rewritten:" \
  "$PYTHON training/model_card.py --report <WORK_DIR of npm run train>/training-report.json --out $(dirname "$OUT")"
