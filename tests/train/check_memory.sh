#!/usr/bin/env bash
# `hepnc check` states the training step's memory: per model, its "training … bytes per event + … per
# batch" must be what the generated C training step allocates (NAME_train.c's workspace_bytes(batch) =
# 4 × (batch × E + F)), and the gradients it states must take under half the activations' floats
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
  bytes() {   # WHAT: the size check prints after WHAT ("12.3 kB", "4.5 MB"), in bytes
    grep -o "$1 [0-9.]* [kMG]B" "$work/$m.check" |
      awk '{ u = $3 == "kB" ? 1e3 : $3 == "MB" ? 1e6 : 1e9; printf "%.0f\n", $2 * u }'
  }
  act=$(bytes activations) grad=$(bytes gradients)
  [ -n "$act" ] && [ -n "$grad" ] || { echo "FAIL: $m: no activations / gradients sizes in: $line"; exit 1; }
  [ $((2 * grad)) -lt "$act" ] ||
    { echo "FAIL: $m: gradients $grad bytes, not under half the activations' $act (are gradients shared?)"; exit 1; }
  echo "ok   $m: $want (activations $act bytes, gradients $grad bytes)"
done
