#!/usr/bin/env bash
# Parity of a model against its PyTorch fixture (tests/parity/<model>/), through `hepnc infer`,
# with generated loops and with OpenBLAS. Tolerances (float32 against PyTorch float32, per entry):
# |Δ logits| ≤ 1e-4 and |Δ probabilities| ≤ 1e-5, the project's targets; the fixture README gives
# the float32-vs-float64 spread they leave room for. part_small comes from weaver-core 0.4.17 itself
# (tests/parity/gen_part_fixture.py).
set -euo pipefail
hepnc=$1 compare=$2 model=$3 work=$4
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
fix=$here/$model
mkdir -p "$work"
export HEPNC_CACHE=$work/cache
for blas in none openblas; do
  out=$work/$model-$blas.h5
  rm -f "$out"
  "$hepnc" infer "$root/models/$model.yaml" --weights "$fix/weights.safetensors" --data "$fix/inputs.h5" \
      --out "$out" --blas $blas --batch 37
  echo "--blas $blas:"
  "$compare" "$out" "$fix/expected.h5" logits 1e-4 scores 1e-5
done
# run-time set sizes: each event alone gives bit for bit what it gives inside a batch of mixed sizes
"$hepnc" infer "$root/models/$model.yaml" --weights "$fix/weights.safetensors" --data "$fix/inputs.h5" \
    --out "$work/$model-single.h5" --blas none --batch 1
echo "batch 1 against batch 37 (generated loops):"
"$compare" "$work/$model-single.h5" "$work/$model-none.h5" logits 0 scores 0
