#!/usr/bin/env bash
# Batches as weaver's SequenceTrimmer leaves them (tests/train/models/part_small_slots: weaver's part_small
# on inputs cut to 16 slots, each jet's first 16 particles): hepnc's training step on the full 24-slot
# batch with --slots 16 against PyTorch's gradients, batch statistics and 8-step AdamW/Ranger
# trajectories, and against finite differences; without --slots the same reference must fail (the
# statistics then count 24 slots per jet).
set -euo pipefail
hepnc=$1 work=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$work"
export HEPNC_CACHE=$work/cache
ref=$root/tests/train/models/part_small_slots
args=("$root/models/part_small.yaml" --weights "$ref/weights.safetensors" --data "$ref/batch.h5")
"$hepnc" gradcheck "${args[@]}" --events 16 --fd 2 --slots 16
"$hepnc" gradcheck "${args[@]}" --reference "$ref/expected.safetensors" --fd 0 --slots 16
for opt in adamw ranger; do
  "$hepnc" gradcheck "${args[@]}" --reference "$ref/expected.safetensors" --fd 0 --slots 16 --steps 8 --optimizer $opt
done
if "$hepnc" gradcheck "${args[@]}" --reference "$ref/expected.safetensors" --fd 0 >"$work/untrimmed.log" 2>&1; then
  echo "FAIL: without --slots the trimmed reference passed (the slot count has no effect)"; exit 1
fi
echo "without --slots: $(grep -m1 'against the reference' "$work/untrimmed.log") -- refused, as it must be"
echo "slots: passed"
