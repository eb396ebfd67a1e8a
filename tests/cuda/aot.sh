#!/usr/bin/env bash
# hepnc compile --target cuda --aot, every CI run (no GPU needed): nvcc builds the fatbin, NAME_cuda_source.c
# embeds it and builds with -Werror, two builds give the same bytes, and a bad architecture list is refused.
# Skipped (77) where hepnc finds no nvcc.
set -uo pipefail
hepnc=$1 work=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$work/run-$$
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
nvcc=${HEPNC_NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
[ -x "$nvcc" ] || { echo "skipped: no nvcc"; exit 77; }
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1"; fi; }
m=part_small
"$hepnc" compile "$root/models/$m.yaml" --target cuda --aot sm_80,sm_90 -o "$work/a" --no-validate 2>"$work/a.log"
check "nvcc built the image and NAME_cuda_source.c embeds it" \
  "grep -q 'const unsigned char \*const ${m}_cuda_image = image;' '$work/a/${m}_cuda_source.c'"
check "the embedded image is a fatbin of more than 10 kB (its magic 0xba55ed50 first)" \
  "awk '/static const unsigned char image/,/^};/' '$work/a/${m}_cuda_source.c' | wc -c | awk '{ exit !(\$1 > 10000) }' && grep -A1 'static const unsigned char image' '$work/a/${m}_cuda_source.c' | grep -q '^    80,237,85,186,'"
check "the host files build with -Werror" \
  "gcc -std=c11 -Wall -Wextra -Werror -c '$work/a/${m}_cuda_source.c' -o '$work/s.o' && gcc -std=c11 -Wall -Wextra -Werror -c '$work/a/${m}_cuda.c' -I'$work/a' -I'$root/gpu/include' -I'$root/runtime/include' -o '$work/h.o'"
"$hepnc" compile "$root/models/$m.yaml" --target cuda --aot sm_80,sm_90 -o "$work/b" --no-validate 2>/dev/null
check "two builds give the same bytes" "diff -rq '$work/a' '$work/b' >/dev/null"
"$hepnc" compile "$root/models/$m.yaml" --target cuda -o "$work/c" --no-validate 2>/dev/null
check "without --aot: no image (NVRTC at load)" "grep -q '${m}_cuda_image = NULL' '$work/c/${m}_cuda_source.c'"
msg=$("$hepnc" compile "$root/models/$m.yaml" --target cuda --aot compute_x -o "$work/d" --no-validate 2>&1); rc=$?
check "a bad architecture list is refused (exit 1, message)" "[ $rc -eq 1 ] && grep -q 'architectures like sm_80' <<<\"\$msg\""
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
