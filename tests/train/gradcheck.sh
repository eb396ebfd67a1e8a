#!/usr/bin/env bash
# hepnc gradcheck on one model: the generated backward against finite differences and the eval-mode
# training forward against the inference code, on the parity fixture's weights and first events; then,
# when tests/train/models/<model>/ holds PyTorch's references, the gradients (per tensor ≤ 1e-3 relative),
# the running statistics, and 8 steps of AdamW and of Ranger (per tensor ‖p − p_ref‖/‖p_ref‖ ≤ 1e-5).
set -euo pipefail
hepnc=$1 model=$2 work=$3 fd=${4:-2}   # fd: float32 finite-difference coordinates per tensor (0: none)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$work"
export HEPNC_CACHE=$work/cache
par=$root/tests/parity/$model
"$hepnc" gradcheck "$root/models/$model.yaml" --weights "$par/weights.safetensors" --data "$par/inputs.h5" --events 16 --fd "$fd"
ref=$here/models/$model
if [ -f "$ref/expected.safetensors" ]; then
  "$hepnc" gradcheck "$root/models/$model.yaml" --weights "$ref/weights.safetensors" --data "$ref/batch.h5" \
      --reference "$ref/expected.safetensors" --fd 0
  for opt in adamw ranger; do
    "$hepnc" gradcheck "$root/models/$model.yaml" --weights "$ref/weights.safetensors" --data "$ref/batch.h5" \
        --reference "$ref/expected.safetensors" --fd 0 --steps 8 --optimizer $opt
  done
else
  echo "no PyTorch reference for $model (tests/train/models/$model): finite differences only"
fi
