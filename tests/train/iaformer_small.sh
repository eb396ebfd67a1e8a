#!/usr/bin/env bash
# IAFormer learns: models/iaformer_small.yaml from fresh parameters on the bundled Pythia8 top/QCD sample,
# converted by `hepnc convert iaformer` (upstream's 11 particle features, labels as upstream's is_signal: 1 = top),
# 6 epochs of BCE on 70 % of the jets. The training loss must fall (last epoch below 80 % of the first) and the
# held-out test AUC (hepnc eval through the shipped inference code on the best checkpoint, the one sigmoid
# output read as P(top)) must reach 0.88 (measured: about 0.93; a tagger that learned nothing gives 0.5).
set -euo pipefail
hepnc=$1 work=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$work" && mkdir -p "$work"
export HEPNC_CACHE=$work/cache OPENBLAS_NUM_THREADS=1
"$hepnc" convert iaformer "$root/examples/data/topqcd_sample.h5" --max 64 --signal-label 0 -o "$work/jets.h5"
"$hepnc" split "$work/jets.h5" -o "$work/jets" --seed 1 >/dev/null
"$hepnc" train "$root/models/iaformer_small.yaml" --data "$work/jets_train.h5" --val "$work/jets_val.h5" \
    -o "$work/run" --epochs 6 --threads 1 --quiet
awk -F, 'NR == 2 { first = $4 } NR > 1 { last = $4 } END {
    printf "train loss: first epoch %.4f, last %.4f\n", first, last
    if (!(last < 0.8 * first)) { print "FAIL: the training loss did not fall by 20 %"; exit 1 } }' "$work/run/log.csv"
"$hepnc" eval "$root/models/iaformer_small.yaml" --weights "$work/run/best.safetensors" --data "$work/jets_test.h5" | tee "$work/eval.txt"
auc=$(awk '$1 == "AUC" { print $2 }' "$work/eval.txt")
awk -v a="$auc" 'BEGIN { if (!(a >= 0.88)) { printf "FAIL: test AUC %s < 0.88\n", a; exit 1 } printf "test AUC %s >= 0.88: ok\n", a }'
