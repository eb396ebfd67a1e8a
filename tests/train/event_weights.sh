#!/usr/bin/env bash
# hepnc train --event-weights: the bundled ttH/tt-bar DarkMachines events (hepnc convert keeps their
# /weights) train with the weighted loss — a different first-epoch loss from the unweighted run on the
# same data and seed, finite — and a dataset without /weights is refused with its name in the message.
set -euo pipefail
hepnc=$1 work=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$work" && mkdir -p "$work"
export HEPNC_CACHE=$work/cache OPENBLAS_NUM_THREADS=1
"$hepnc" convert darkmachines "$root/examples/data/ttH_ttbar_sample.csv" -o "$work/tth.h5" --processes ttH,ttbar >/dev/null
"$hepnc" split "$work/tth.h5" -o "$work/tth" --seed 2 >/dev/null
"$hepnc" train "$root/models/fcn.yaml" --data "$work/tth_train.h5" --val "$work/tth_val.h5" -o "$work/w" --epochs 1 \
    --event-weights --threads 1 --quiet
"$hepnc" train "$root/models/fcn.yaml" --data "$work/tth_train.h5" --val "$work/tth_val.h5" -o "$work/u" --epochs 1 \
    --threads 1 --quiet
lw=$(awk -F, 'NR == 2 { print $4 }' "$work/w/log.csv"); lu=$(awk -F, 'NR == 2 { print $4 }' "$work/u/log.csv")
echo "first-epoch train loss: weighted $lw, unweighted $lu"
awk -v a="$lw" -v b="$lu" 'BEGIN { if (!(a == a + 0 && a > 0 && a < 1e3)) { print "FAIL: weighted loss not finite"; exit 1 }
                                  if (a == b) { print "FAIL: --event-weights changed nothing"; exit 1 } }'
if "$hepnc" train "$root/models/pfn.yaml" --data "$root/tests/parity/pfn/inputs.h5" --val "$root/tests/parity/pfn/inputs.h5" \
    -o "$work/x" --epochs 1 --event-weights --quiet 2> "$work/err.txt"; then
  echo "FAIL: a dataset without /weights was accepted"; exit 1
fi
grep -q "no /weights" "$work/err.txt" || { echo "FAIL: unclear message:"; cat "$work/err.txt"; exit 1; }
echo "event weights: ok"
