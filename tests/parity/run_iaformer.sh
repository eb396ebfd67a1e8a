#!/usr/bin/env bash
# IAFormer parity: models/iaformer.yaml (the paper's configuration) against upstream IAFormer itself
# (tests/parity/iaformer/, from gen_iaformer_fixture.py: upstream's Transformer, graph builder and loader on 32
# Pythia top and QCD jets of 17 to 128 constituents). The weights are upstream's Lightning checkpoint,
# converted by `hepnc import iaformer` without PyTorch; the pair features are computed by hepnc from the
# 4-vectors (upstream precomputes them in its graph builder); then through `hepnc infer`, with generated loops
# and with OpenBLAS:
#   - the particle and pair features themselves against upstream's (iaformer_features: |Δ| ≤ 1e-4, zero where
#     upstream's are; `hepnc convert iaformer` writes the particle features with the same kernel);
#   - logits |Δ| ≤ 1e-4 and sigmoid scores |Δ| ≤ 1e-5;
#   - each event alone (batch 1) bit for bit as inside a batch of 7.
set -euo pipefail
hepnc=$1 compare=$2 pairs=$3 work=$4
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
fix=$here/iaformer
spec=$root/models/iaformer.yaml
mkdir -p "$work"
export HEPNC_CACHE=$work/cache
echo "particle and pair features against upstream's graph builder:"
"$pairs" "$fix/inputs.h5" "$fix/expected.h5"
echo "hepnc convert iaformer on the fixture's 4-vectors against upstream's particle features:"
"$hepnc" convert iaformer "$fix/inputs.h5" -o "$work/converted.h5"
"$compare" "$work/converted.h5" "$fix/inputs.h5" particles/features 1e-5 particles/vectors 0
"$hepnc" import iaformer "$fix/model.ckpt" --spec "$spec" -o "$work/iaformer.safetensors"
for blas in none openblas; do
  out=$work/iaformer-$blas.h5
  rm -f "$out"
  "$hepnc" infer "$spec" --weights "$work/iaformer.safetensors" --data "$fix/inputs.h5" --out "$out" --blas $blas --batch 7
  echo "--blas $blas:"
  "$compare" "$out" "$fix/expected.h5" logits 1e-4 scores 1e-5
done
"$hepnc" infer "$spec" --weights "$work/iaformer.safetensors" --data "$fix/inputs.h5" --out "$work/iaformer-single.h5" \
    --blas none --batch 1
echo "batch 1 against batch 7 (generated loops):"
"$compare" "$work/iaformer-single.h5" "$work/iaformer-none.h5" logits 0 scores 0
