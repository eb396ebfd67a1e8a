#!/usr/bin/env bash
# weaver's default dropouts in ParT's particle blocks (attn_dropout on the attention probabilities,
# dropout, activation_dropout; tests/train/specs/part_small_dropout.yaml) through the generated training
# code: `hepnc gradcheck` passes (finite differences of the generated loss with the masks fixed by the
# seed; eval mode equal to the inference code, which has no dropout), and the training loss differs from
# the same model without dropout (the masks are applied), while the eval-mode logits do not.
set -euo pipefail
hepnc=$1 work=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$work"
export HEPNC_CACHE=$work/cache
par=$root/tests/parity/part_small
args=(--weights "$par/weights.safetensors" --data "$par/inputs.h5" --events 16)
with=$("$hepnc" gradcheck "$root/tests/train/specs/part_small_dropout.yaml" "${args[@]}" --fd 2)
echo "$with"
without=$("$hepnc" gradcheck "$root/models/part_small.yaml" "${args[@]}" --fd 0)
loss() { sed -n 's/.*cross-entropy (label smoothing [0-9.]*) \([0-9.]*\).*/\1/p' <<<"$1"; }
l1=$(loss "$with") l0=$(loss "$without")
echo "training loss with dropout $l1, without $l0"
[ -n "$l1" ] && [ -n "$l0" ] && [ "$l1" != "$l0" ] || { echo "FAIL: dropout left the training loss unchanged"; exit 1; }
grep -q "gradcheck: passed" <<<"$with"
echo "attn_dropout: passed"
