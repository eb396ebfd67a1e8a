#!/usr/bin/env bash
# `make demo`: the main job on the bundled default. Checks the Particle Flow Network spec, compiles it
# to C, runs it with `hepnc infer` over the bundled jets, shows the scores and compares them with the
# PyTorch reference computed from the same weights; then the published JetClass ParticleNet (when
# ../shared/data is present: imported from its weaver checkpoint, compared with weaver, evaluated on the
# bundled Pythia top/QCD jets when they exist) and the Particle Transformer against weaver-core; last,
# a small Particle Transformer trained from scratch on the bundled top/QCD jets (train/val/test split),
# its test AUC and ROC plot.
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
hepnc=$build/hepnc
out=$build/demo
mkdir -p "$out"
export HEPNC_CACHE=$out/cache
fixture=tests/parity/pfn

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "hepnc check models/pfn.yaml"
"$hepnc" check models/pfn.yaml

step "hepnc compile models/pfn.yaml -o $out/pfn --blas openblas"
"$hepnc" compile models/pfn.yaml -o "$out/pfn" --blas openblas
echo "generated $(cat "$out"/pfn/*.c "$out"/pfn/*.h | wc -l) lines; the API:"
grep -E '^(int|void) pfn_|^#define PFN_WORKSPACE' "$out/pfn/pfn.h"

step "hepnc infer over $(basename $fixture)/inputs.h5 (256 jets, 2-64 particles each)"
"$hepnc" infer models/pfn.yaml --weights $fixture/weights.safetensors --data $fixture/inputs.h5 \
    --out "$out/pfn_scores.h5" --batch 64

step "first jets: label and scores"
if command -v h5dump >/dev/null; then
  h5dump -d /scores -s 0,0 -c 6,2 "$out/pfn_scores.h5" | sed -n '/DATA {/,/}/p'
  h5dump -d /labels -s 0 -c 6 "$out/pfn_scores.h5" | sed -n '/DATA {/,/}/p'
fi

step "agreement with PyTorch on the same weights and jets"
"$build/compare_outputs" "$out/pfn_scores.h5" $fixture/expected.h5 logits 1e-4 scores 1e-5
pt=$root/../shared/data/particlenet/ParticleNet_kin.pt
if [ -f "$pt" ]; then
  step "the published JetClass ParticleNet: import the weaver checkpoint (no PyTorch), run it, compare with weaver"
  "$hepnc" import weaver "$pt" --spec models/particlenet_jetclass_kin.yaml -o "$out/particlenet_kin.safetensors"
  "$hepnc" infer models/particlenet_jetclass_kin.yaml --weights "$out/particlenet_kin.safetensors" \
      --data tests/parity/particlenet_kin/inputs.h5 --out "$out/particlenet_scores.h5"
  "$build/compare_outputs" "$out/particlenet_scores.h5" tests/parity/particlenet_kin/expected.h5 logits 1e-4r scores 1e-5
  if [ -f examples/data/topqcd_sample.h5 ]; then
    step "ParticleNet (JetClass) on the bundled Pythia8 top and QCD jets: t->bqq' (class 8) against QCD (class 0)"
    "$hepnc" eval models/particlenet_jetclass_kin.yaml --weights "$out/particlenet_kin.safetensors" \
        --data examples/data/topqcd_sample.h5 --signal-class 8 --background-class 0 --signal-label 0 --roc "$out/roc.csv"
  fi
fi

step "the Particle Transformer against weaver-core (reduced widths, the parity fixture)"
"$hepnc" infer models/part_small.yaml --weights tests/parity/part_small/weights.safetensors \
    --data tests/parity/part_small/inputs.h5 --out "$out/part_small_scores.h5"
"$build/compare_outputs" "$out/part_small_scores.h5" tests/parity/part_small/expected.h5 logits 1e-4 scores 1e-5

step "train a small Particle Transformer from scratch on the bundled Pythia8 top/QCD jets"
"$hepnc" split examples/data/topqcd_sample.h5 -o "$out/topqcd" --fractions 0.7,0.15,0.15 --seed 1
rm -rf "$out/run"
"$hepnc" train models/part_top_small.yaml --data "$out/topqcd_train.h5" --val "$out/topqcd_val.h5" -o "$out/run" \
    --signal-class 0 --background-class 1
step "evaluate the trained tagger on the held-out test jets (top = label 0 against QCD)"
"$hepnc" eval models/part_top_small.yaml --weights "$out/run/best.safetensors" --data "$out/topqcd_test.h5" \
    --signal-class 0 --background-class 1 --roc "$out/run/roc_test.csv" --roc-png "$out/run/roc_test.png"

echo
echo "demo finished: scores in $out/, the trained model, its log, curves and ROC in $out/run/"
