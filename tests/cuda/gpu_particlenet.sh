#!/usr/bin/env bash
# ParticleNet with the published JetClass weights on the GPU (mode gpu) or the emulated GPU (mode emulated):
# the GPU object against the CPU object on the parity jets (bench/part_gpu/gpu_harness.c), which covers
# the EdgeConv kernels. The checkpoint ../shared/data/particlenet/ParticleNet_kin.pt is converted by
# `hepnc import weaver`; skipped (77) where it is absent, or (mode gpu) where no GPU exists.
set -euo pipefail
hepnc=$1 harness=$2 work=$3 mode=$4
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
pt=$root/../shared/data/particlenet/ParticleNet_kin.pt
if [ ! -f "$pt" ]; then echo "skipped: $pt is absent"; exit 77; fi
mkdir -p "$work"
weights=$work/particlenet_kin.safetensors
[ -f "$weights" ] || "$hepnc" import weaver "$pt" --spec "$root/models/particlenet_jetclass_kin.yaml" -o "$weights.$mode.tmp"
[ -f "$weights" ] || mv "$weights.$mode.tmp" "$weights"
events=96
if [ "$mode" = emulated ]; then export HEPNC_GPU_EMULATE=1 HEPNC_CACHE=$work/cache events=16; fi
exec "$harness" "$weights" "$root/tests/parity/particlenet_kin/inputs.h5" --events $events
