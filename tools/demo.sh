#!/usr/bin/env bash
# `make demo`: the main job on the bundled default. Checks the Particle Flow Network spec, compiles it
# to C, runs it with `hepnc infer` over the bundled jets, shows the scores and compares them with the
# PyTorch reference computed from the same weights.
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
echo
echo "demo finished: scores in $out/pfn_scores.h5"
