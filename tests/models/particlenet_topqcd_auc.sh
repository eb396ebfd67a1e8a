#!/usr/bin/env bash
# The published JetClass ParticleNet (../shared/data/particlenet/ParticleNet_kin.pt, converted by
# `hepnc import weaver`) must separate the bundled Pythia8 top jets from QCD jets
# (examples/data/topqcd_sample.h5, tools/gen) with the discriminant p(t→bqq′)/(p(t→bqq′) + p(QCD)) at
# AUC ≥ 0.90. JetClass class indices: QCD 0, Tbqq 8; the sample's labels: 0 = top, 1 = QCD.
# Skipped (77) when the checkpoint, the sample or the import command is absent.
set -uo pipefail
hepnc=$1 work=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
pt=$root/../shared/data/particlenet/ParticleNet_kin.pt
sample=$root/examples/data/topqcd_sample.h5
[ -f "$pt" ] || { echo "skipped: $pt is absent"; exit 77; }
[ -f "$sample" ] || { echo "skipped: $sample is absent (tools/gen)"; exit 77; }
"$hepnc" import --help >/dev/null 2>&1 || { echo "skipped: this hepnc has no 'import' command"; exit 77; }
mkdir -p "$work"
export HEPNC_CACHE=$work/cache
"$hepnc" import weaver "$pt" --spec "$root/models/particlenet_jetclass_kin.yaml" -o "$work/pn_kin.safetensors" || exit 1
out=$("$hepnc" eval "$root/models/particlenet_jetclass_kin.yaml" --weights "$work/pn_kin.safetensors" --data "$sample" \
      --signal-class 8 --background-class 0 --signal-label 0 --roc "$work/roc.csv") || { echo "$out"; exit 1; }
echo "$out"
auc=$(awk '/^AUC/ {print $2}' <<<"$out")
if awk -v a="$auc" 'BEGIN { exit !(a >= 0.90) }'; then echo "1 passed, 0 failed"; exit 0; fi
echo "FAIL: AUC $auc < 0.90"; echo "0 passed, 1 failed"; exit 1
