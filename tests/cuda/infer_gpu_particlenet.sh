#!/usr/bin/env bash
# hepnc infer --gpu on ParticleNet with the published JetClass weights (../shared/data/particlenet/ParticleNet_kin.pt,
# converted by `hepnc import weaver`) against weaver-core 0.4.17's outputs on the same jets
# (tests/parity/particlenet_kin/expected.h5), at the CPU path's tolerances (parity.particlenet_trained: logits
# 1e-4 relative, probabilities 1e-5), in batches of 50 (the last partial). Mode gpu on a GPU ("skipped: no GPU"
# elsewhere), emulated on the emulated GPU; skipped (77) where the checkpoint is absent.
set -euo pipefail
hepnc=$1 compare=$2 work=$3 mode=$4
root=$(cd "$(dirname "$0")/../.." && pwd)
pt=$root/../shared/data/particlenet/ParticleNet_kin.pt
if [ ! -f "$pt" ]; then echo "skipped: $pt is absent"; exit 77; fi
rm -rf "$work" && mkdir -p "$work"
export HEPNC_CACHE=$work/cache
if [ "$mode" = emulated ]; then export HEPNC_GPU_EMULATE=1
elif ! nvidia-smi -L >/dev/null 2>&1; then echo "skipped: no GPU"; exit 77; fi
"$hepnc" import weaver "$pt" --spec "$root/models/particlenet_jetclass_kin.yaml" -o "$work/pn.safetensors" >/dev/null
"$hepnc" infer "$root/models/particlenet_jetclass_kin.yaml" --weights "$work/pn.safetensors" \
    --data "$root/tests/parity/particlenet_kin/inputs.h5" --out "$work/pn-gpu.h5" --gpu --batch 50
"$compare" "$work/pn-gpu.h5" "$root/tests/parity/particlenet_kin/expected.h5" logits 1e-4r scores 1e-5
