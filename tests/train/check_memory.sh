#!/usr/bin/env bash
# `hepnc check` states the training step's memory: per model, its "training … bytes per event + … per
# batch" must be what the generated C training step allocates (NAME_train.c's workspace_bytes(batch) =
# 4 × (batch × E + F)), and the gradients it states must take under a quarter of the activations' floats
# (gradients share floats where their lives do not overlap; unshared, they are nearly as many: every
# activation after the first parameter has one).
set -euo pipefail
hepnc=$1 work=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$work"
mkdir -p "$work"
for m in pfn part_small part_jetclass_kin; do
  "$hepnc" check "$root/models/$m.yaml" > "$work/$m.check"
  "$hepnc" compile "$root/models/$m.yaml" --train --no-validate -o "$work/$m" 2> /dev/null
  read -r e f < <(sed -n 's/.*return sizeof(float) \* ((size_t)batch \* \([0-9]*\)u + \([0-9]*\)u);.*/\1 \2/p' "$work/$m/${m}_train.c")
  [ -n "${e:-}" ] || { echo "FAIL: $m: no workspace_bytes in ${m}_train.c"; exit 1; }
  line=$(grep '^  training ' "$work/$m.check") || { echo "FAIL: $m: hepnc check printed no training line"; cat "$work/$m.check"; exit 1; }
  want="$((4 * e)) bytes per event + $((4 * f)) per batch"
  case "$line" in *"$want"*) ;; *) echo "FAIL: $m: hepnc check says '$line', the training step allocates $want"; exit 1;; esac
  act=$(grep -o 'activations [0-9.]* MB' "$work/$m.check" | grep -o '[0-9.]*')
  grad=$(grep -o 'gradients [0-9.]* MB' "$work/$m.check" | grep -o '[0-9.]*')
  awk -v a="$act" -v g="$grad" 'BEGIN { exit !(4 * g < a) }' ||
    { echo "FAIL: $m: gradients $grad MB, not under a quarter of the activations' $act MB (are gradients shared?)"; exit 1; }
  echo "ok   $m: $want (activations $act MB, gradients $grad MB)"
done
