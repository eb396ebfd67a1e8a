#!/usr/bin/env bash
# ParticleNet with the published JetClass weights: ../shared/data/particlenet/ParticleNet_kin.pt is
# converted by `hepnc import weaver` (no PyTorch), run by `hepnc infer` with loops and OpenBLAS, and
# compared with weaver-core 0.4.17's outputs on the same jets (tests/parity/particlenet_kin, made by
# gen_particlenet_fixture.py). Skipped (exit 77) where the shared data is absent.
# Tolerances: probabilities 1e-5 absolute; logits 1e-4 relative to max(1, |logit|): the trained model
# gives logits up to ~700 on these jets, where one float32 ulp is 6e-5.
set -euo pipefail
hepnc=$1 compare=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
pt=$root/../shared/data/particlenet/ParticleNet_kin.pt
if [ ! -f "$pt" ]; then echo "skipped: $pt is absent"; exit 77; fi
"$hepnc" import --help >/dev/null 2>&1 || { echo "skipped: this hepnc has no 'import' command"; exit 77; }
mkdir -p "$work"
export HEPNC_CACHE=$work/cache
"$hepnc" import weaver "$pt" --spec "$root/models/particlenet_jetclass_kin.yaml" -o "$work/particlenet_kin.safetensors"
for blas in none openblas; do
  "$hepnc" infer "$root/models/particlenet_jetclass_kin.yaml" --weights "$work/particlenet_kin.safetensors" \
      --data "$here/particlenet_kin/inputs.h5" --out "$work/pn-$blas.h5" --blas $blas
  echo "--blas $blas:"
  "$compare" "$work/pn-$blas.h5" "$here/particlenet_kin/expected.h5" logits 1e-4r scores 1e-5
done
