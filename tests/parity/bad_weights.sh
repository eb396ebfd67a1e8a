#!/usr/bin/env bash
# Truncated or mismatched weight files are rejected with exit 1 and a message naming the tensor.
set -uo pipefail
hepnc=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$work"
export HEPNC_CACHE=$work/cache
pass=0 fail=0
expect() {   # expect NAME PATTERN -- command...
  local name=$1 pattern=$2; shift 3
  local msg rc
  msg=$("$@" 2>&1 >/dev/null); rc=$?
  if [ $rc -eq 1 ] && grep -q -- "$pattern" <<<"$msg"; then
    pass=$((pass + 1)); echo "ok $name: $(head -n 1 <<<"$msg")"
  else
    fail=$((fail + 1)); echo "FAIL $name: exit $rc, expected 1 and a message matching '$pattern'; got:"; echo "$msg"
  fi
}
w=$here/pfn/weights.safetensors
size=$(stat -c %s "$w")
head -c $((size - 100)) "$w" > "$work/truncated.safetensors"
head -c 6 "$w" > "$work/tiny.safetensors"
printf '\x10\x00\x00\x00\x00\x00\x00\x00{"a": nonsense}' > "$work/badjson.safetensors"
expect truncated "truncated.safetensors" -- "$hepnc" compile "$root/models/pfn.yaml" -o "$work/out" --weights "$work/truncated.safetensors"
expect tiny "tiny.safetensors" -- "$hepnc" compile "$root/models/pfn.yaml" -o "$work/out" --weights "$work/tiny.safetensors"
expect bad-header "badjson.safetensors" -- "$hepnc" compile "$root/models/pfn.yaml" -o "$work/out" --weights "$work/badjson.safetensors"
expect other-model "input_bn" -- "$hepnc" compile "$root/models/pfn.yaml" -o "$work/out" --weights "$here/fcn/weights.safetensors"
expect missing-file "no-such.safetensors" -- "$hepnc" compile "$root/models/pfn.yaml" -o "$work/out" --weights "$work/no-such.safetensors"
expect infer-mismatch "input_bn" -- "$hepnc" infer "$root/models/pfn.yaml" --weights "$here/fcn/weights.safetensors" --data "$here/pfn/inputs.h5" --out "$work/x.h5"
[ ! -e "$work/x.h5" ] || { fail=$((fail + 1)); echo "FAIL: a failed infer left $work/x.h5"; }
expect wrong-data "features" -- "$hepnc" infer "$root/models/pfn.yaml" --weights "$w" --data "$here/fcn/inputs.h5" --out "$work/y.h5"
[ ! -e "$work/y.h5" ] || { fail=$((fail + 1)); echo "FAIL: a failed infer left $work/y.h5"; }
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
