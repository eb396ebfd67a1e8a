#!/usr/bin/env bash
# hepnc gradcheck on IAFormer (models/iaformer.yaml, one logit, --loss bce): the generated backward against
# float32 finite differences (one coordinate per tensor on 4 jets: the paper-size model's forward costs ~30 ms
# per jet here) on the parity checkpoint, then against upstream IAFormer's own autograd and 8 AdamW steps
# (tests/train/models/iaformer, from tests/train/gen_iaformer_train_fixture.py): per tensor ≤ 1e-3 relative,
# trajectory ≤ 1e-5, as every model's reference.
set -euo pipefail
hepnc=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
spec=$root/models/iaformer.yaml ref=$here/models/iaformer
mkdir -p "$work"
export HEPNC_CACHE=$work/cache
"$hepnc" import iaformer "$root/tests/parity/iaformer/model.ckpt" --spec "$spec" -o "$work/iaformer.safetensors" >/dev/null
"$hepnc" gradcheck "$spec" --weights "$work/iaformer.safetensors" --data "$root/tests/parity/iaformer/inputs.h5" --events 4 \
    --fd 1 --loss bce
"$hepnc" gradcheck "$spec" --weights "$ref/weights.safetensors" --data "$ref/batch.h5" --events 8 --loss bce \
    --reference "$ref/expected.safetensors" --fd 0 --steps 8 --optimizer adamw
