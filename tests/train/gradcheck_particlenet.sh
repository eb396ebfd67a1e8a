#!/usr/bin/env bash
# ParticleNet's training step (the edge_conv op's training forward and backward) through hepnc gradcheck.
#   small     tests/train/models/particlenet_small/particlenet_small.yaml against PyTorch: weaver-core 0.4.17's ParticleNet in train()
#             mode, one step on tests/train/models/particlenet_small (gen_particlenet_train_fixture.py):
#             the loss (1e-5), every gradient (per tensor ||g - g_ref||/||g_ref|| <= 1e-3 against the
#             float64 autograd gradient), every running statistic after the step (1e-5); and the
#             training forward in eval mode against the inference code.
#   jetclass  models/particlenet_jetclass_kin.yaml with the published checkpoint, converted by
#             `hepnc import weaver` (skipped, exit 77, where ../shared/data is absent): the eval-mode
#             training forward against the inference code and a finite training-mode loss on the parity
#             jets (2 to 128 particles); then, where weaver-core's Python environment is found
#             ($HEPNC_WEAVER_PYTHON, else .venv-parity from tools/parity-env.sh), PyTorch's gradients of
#             the same checkpoint on 16 jets of up to 110 particles, generated here, at full size.
# Finite differences are not run (--fd 0): a central difference with gradcheck's step (1e-2 of the
# parameter) crosses kNN graph changes (the neighbours of blocks 2 and 3 are chosen in feature space)
# and ReLU kinks of the trained network; docs/training.md, "ParticleNet (EdgeConv) in training".
set -euo pipefail
hepnc=$1 which=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$work"
export HEPNC_CACHE=$work/cache
case $which in
small)
  ref=$here/models/particlenet_small
  "$hepnc" gradcheck "$ref/particlenet_small.yaml" --weights "$ref/weights.safetensors" --data "$ref/batch.h5" \
      --reference "$ref/expected.safetensors" --events 16 --fd 0
  ;;
jetclass)
  pt=$root/../shared/data/particlenet/ParticleNet_kin.pt
  if [ ! -f "$pt" ]; then echo "skipped: $pt is absent"; exit 77; fi
  spec=$root/models/particlenet_jetclass_kin.yaml
  "$hepnc" import weaver "$pt" --spec "$spec" -o "$work/particlenet_kin.safetensors"
  "$hepnc" gradcheck "$spec" --weights "$work/particlenet_kin.safetensors" --data "$root/tests/parity/particlenet_kin/inputs.h5" \
      --events 16 --fd 0
  py=${HEPNC_WEAVER_PYTHON:-$root/.venv-parity/bin/python}
  if [ -x "$py" ] && "$py" -c "import torch, h5py, weaver" 2>/dev/null; then
    "$py" "$here/gen_particlenet_train_fixture.py" --jetclass "$work/jetclass_ref" "$(dirname "$pt")"
    "$hepnc" gradcheck "$spec" --weights "$work/jetclass_ref/weights.safetensors" --data "$work/jetclass_ref/batch.h5" \
        --reference "$work/jetclass_ref/expected.safetensors" --events 16 --fd 0
  else
    echo "no weaver-core Python environment (HEPNC_WEAVER_PYTHON, or tools/parity-env.sh): PyTorch comparison at full size not run"
  fi
  ;;
*) echo "usage: $0 HEPNC small|jetclass WORKDIR" >&2; exit 2 ;;
esac
