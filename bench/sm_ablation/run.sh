#!/usr/bin/env bash
# Does the Standard-Model interaction matrix help? models/part_int_sm.yaml against the same spec without
# its `sm` layer (the paper's baseline: ParT with kinematic pair features only), trained and evaluated the
# same way on tt̄H (signal) against tt̄ events generated here (tools/gen/ttH_darkmachines.py, Pythia8), and
# what the matrix costs in training and inference speed on this machine.
#
#   bench/sm_ablation/run.sh [EVENTS_PER_PROCESS] [SEEDS]     default 5000 and "1 2"
#
# Needs build/hepnc (make) and tools/gen/setup.sh's venv (made when absent). Work files:
# build/bench/sm_ablation/ (the events, the split 70/15/15, one run directory per spec and seed, eval
# outputs, bench lines); the summary goes to build/bench/sm_ablation/summary.txt. 8 epochs, batch 128,
# two training threads; inference timed with one OpenBLAS thread (hepnc bench, medians).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
events=${1:-5000} seeds=${2:-1 2}
[ -x build/hepnc ] || { echo "run.sh: build hepnc first (make)" >&2; exit 1; }
work=$root/build/bench/sm_ablation
mkdir -p "$work"
hepnc=build/hepnc
export HEPNC_CACHE=$work/cache
[ -x tools/gen/.venv/bin/python ] || tools/gen/setup.sh
csv=$work/ttH_ttbar_$events.csv
[ -f "$csv" ] || tools/gen/.venv/bin/python tools/gen/ttH_darkmachines.py --events "$events" --seed 7 --workers 2 --out "$csv"
$hepnc convert darkmachines "$csv" -o "$work/events.h5" --processes ttH,ttbar --layout set --max 18
$hepnc split "$work/events.h5" -o "$work/events" --seed 1
# the baseline: the same spec without the matrix (no sm layer, no extra)
grep -v '{name: sm, op: sm_interaction' models/part_int_sm.yaml | sed 's/, extra: sm//; s/^name: part_int_sm/name: part_int_nosm/' \
  > "$work/part_int_nosm.yaml"
summary=$work/summary.txt
echo "spec seed test_AUC 1/eps_B@0.5 train_events/s" > "$summary"
for seed in $seeds; do
  for spec in models/part_int_sm.yaml "$work/part_int_nosm.yaml"; do
    name=$(basename "$spec" .yaml)
    run=$work/runs/$name-s$seed
    rm -rf "$run"
    $hepnc train "$spec" --data "$work/events_train.h5" --val "$work/events_val.h5" -o "$run" --epochs 8 --batch 128 \
      --seed "$seed" --threads 2 --quiet
    $hepnc eval "$spec" --weights "$run/best.safetensors" --data "$work/events_test.h5" --signal-class 0 \
      --background-class 1 > "$run/eval.txt" 2>&1
    auc=$(awk '/^AUC/ { print $2 }' "$run/eval.txt")
    rej=$(awk '$1 == "0.50" { print $3 }' "$run/eval.txt")
    speed=$(awk -F, 'NR > 1 { print $9 }' "$run/log.csv" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    echo "$name $seed $auc $rej $speed" | tee -a "$summary"
  done
done
echo "inference (hepnc bench on the test events, one OpenBLAS thread):" | tee -a "$summary"
for spec in models/part_int_sm.yaml "$work/part_int_nosm.yaml"; do
  line=$(OPENBLAS_NUM_THREADS=1 $hepnc bench "$spec" --data "$work/events_test.h5" --reps 500 --batch 64 2>&1 |
         grep -E 'batch (1|64) ' | tr -s ' ' | tr '\n' ' ')
  echo "$(basename "$spec" .yaml): $line" | tee -a "$summary"
done
