#!/usr/bin/env bash
# CUDA target, every CI run (no GPU needed): each model's generated .cu compiles with NVRTC for sm_80 and
# sm_90 with no warning and ptxas reports no register spill (hepnc compile --target cuda does both),
# twice gives the same bytes (every generated file); ops without a CUDA kernel yet (ParticleNet's edge_conv) are refused with a
# message naming the layer. Skipped (77) when hepnc was built without NVRTC.
set -uo pipefail
hepnc=$1 work=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$work/run-$$          # a private directory: concurrent runs must not remove each other's files
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
for spec in "$root"/models/*.yaml; do
  m=$(basename "$spec" .yaml)
  msg=$("$hepnc" compile "$spec" --target cuda -o "$work/$m" 2>&1); rc=$?
  if grep -q "built without NVRTC" <<<"$msg"; then echo "skipped: $msg"; exit 77; fi
  if grep -q "has no CUDA kernel yet" <<<"$msg"; then
    [ $rc -eq 1 ] && { pass=$((pass + 1)); echo "ok   $m: refused as expected: $(grep -m1 'no CUDA kernel' <<<"$msg")"; } \
                  || { fail=$((fail + 1)); echo "FAIL $m: exit $rc"; }
    continue
  fi
  if [ $rc -ne 0 ]; then fail=$((fail + 1)); echo "FAIL $m:"; echo "$msg"; continue; fi
  "$hepnc" compile "$spec" --target cuda -o "$work/$m-again" --no-validate 2>/dev/null
  if ! { gcc -std=c11 -Wall -Wextra -Werror -c "$work/$m/${m}_cuda.c" -I "$work/$m" -I "$root/gpu/include" \
           -I "$root/runtime/include" -o "$work/$m.o" &&
         gcc -std=c11 -Wall -Wextra -Werror -c "$work/$m/${m}_cuda_entry.c" -I "$work/$m" -I "$root/gpu/include" \
           -I "$root/runtime/include" -o "$work/$m.entry.o" &&
         gcc -std=c11 -Wall -Wextra -Werror -c "$work/$m/${m}_cuda_source.c" -o "$work/$m.src.o"; } 2>"$work/$m.host.log"; then
    fail=$((fail + 1)); echo "FAIL $m: the host code does not build with -Werror:"; cat "$work/$m.host.log"; continue
  fi
  if diff -rq "$work/$m" "$work/$m-again" >/dev/null; then
    pass=$((pass + 1)); echo "ok   $m: NVRTC sm_80 and sm_90 clean, no spills, host code -Werror clean, deterministic"
  else
    fail=$((fail + 1)); echo "FAIL $m: two compiles differ"
  fi
done
# The GPU training step (--train): these models build NAME_train.cu cleanly with NVRTC, their host
# code with -Werror, deterministically (a spec with an op the GPU step does not cover would be refused,
# naming the layer, with nothing written).
for m in fcn pfn part_small particlenet_jetclass_kin iaformer_small; do
  spec=$root/models/$m.yaml out=$work/train-$m
  msg=$("$hepnc" compile "$spec" --target cuda --train -o "$out" 2>&1); rc=$?
  if grep -q "no GPU training kernels" <<<"$msg"; then
    if [ $rc -eq 1 ] && [ ! -e "$out" ]; then pass=$((pass + 1)); echo "ok   $m --train: refused as expected: $(grep -m1 'no GPU training' <<<"$msg")"
    else fail=$((fail + 1)); echo "FAIL $m --train: exit $rc, or files written"; fi
    continue
  fi
  if [ $rc -ne 0 ]; then fail=$((fail + 1)); echo "FAIL $m --train:"; echo "$msg"; continue; fi
  "$hepnc" compile "$spec" --target cuda --train -o "$out-again" --no-validate 2>/dev/null
  if ! gcc -std=c11 -Wall -Wextra -Werror -c "$out/${m}_cuda_train.c" -I "$out" -I "$root/gpu/include" \
         -I "$root/runtime/include" -o "$work/$m.train.o" 2>"$work/$m.train.log"; then
    fail=$((fail + 1)); echo "FAIL $m --train: the host code does not build with -Werror:"; cat "$work/$m.train.log"; continue
  fi
  if diff -rq "$out" "$out-again" >/dev/null; then
    pass=$((pass + 1)); echo "ok   $m --train: NAME_train.cu NVRTC-clean, host code -Werror clean, deterministic"
  else
    fail=$((fail + 1)); echo "FAIL $m --train: two compiles differ"
  fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
