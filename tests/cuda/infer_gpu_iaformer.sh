#!/usr/bin/env bash
# hepnc infer --gpu on IAFormer (models/iaformer.yaml, the paper's configuration) with upstream's Lightning checkpoint
# (tests/parity/iaformer/model.ckpt, converted by `hepnc import iaformer`) against upstream IAFormer's outputs on the
# same 32 jets (tests/parity/iaformer/expected.h5) at the CPU path's tolerances (parity.iaformer: logits 1e-4,
# scores 1e-5), and against hepnc infer on the CPU at 1e-5 relative, in batches of 7 (the last partial). The GPU
# computes the pair features from the 4-vectors itself, embeds every pair in shared-memory tiles and runs the
# differential attention over every key (the CPU path skips the padded ones: the same numbers to rounding).
# Mode gpu on a GPU ("skipped: no GPU" elsewhere), emulated on the emulated GPU.
set -euo pipefail
hepnc=$1 compare=$2 work=$3 mode=$4
root=$(cd "$(dirname "$0")/../.." && pwd)
fix=$root/tests/parity/iaformer spec=$root/models/iaformer.yaml
rm -rf "$work" && mkdir -p "$work"
export HEPNC_CACHE=$work/cache
if [ "$mode" = emulated ]; then export HEPNC_GPU_EMULATE=1
elif ! nvidia-smi -L >/dev/null 2>&1; then echo "skipped: no GPU"; exit 77; fi
"$hepnc" import iaformer "$fix/model.ckpt" --spec "$spec" -o "$work/iaformer.safetensors" >/dev/null
"$hepnc" infer "$spec" --weights "$work/iaformer.safetensors" --data "$fix/inputs.h5" --out "$work/gpu.h5" --gpu --batch 7
"$hepnc" infer "$spec" --weights "$work/iaformer.safetensors" --data "$fix/inputs.h5" --out "$work/cpu.h5" --batch 7 \
    --blas none 2>/dev/null
echo "GPU against upstream IAFormer, then against the CPU:"
"$compare" "$work/gpu.h5" "$fix/expected.h5" logits 1e-4 scores 1e-5
"$compare" "$work/gpu.h5" "$work/cpu.h5" logits 1e-5r scores 1e-5
