#!/usr/bin/env bash
# For one spec: compiling twice gives identical bytes; the output passes libclang (inside hepnc
# compile) and builds with -std=c11 -Wall -Wextra -Werror under gcc and clang, with and without cblas;
# the header also compiles as C++ (hosts in reconstruction software are C++).
set -euo pipefail
hepnc=$1 spec=$2 work=$3 runtime_inc=$4 cblas_inc=$5
name=$(basename "$spec" .yaml)
rm -rf "$work/$name" && mkdir -p "$work/$name"
cd "$work/$name"
fail=0
for blas in none openblas; do
  "$hepnc" compile "$spec" -o a-$blas --blas $blas 2>/dev/null
  "$hepnc" compile "$spec" -o b-$blas --blas $blas 2>/dev/null
  if ! diff -r a-$blas b-$blas >/dev/null; then echo "FAIL $name: two compiles differ (--blas $blas)"; fail=1; fi
  if ! g++ -std=c++17 -Wall -Wextra -Werror -fsyntax-only -x c++ a-$blas/$name.h; then
    echo "FAIL $name: the header does not compile as C++"; fail=1
  fi
  for cc in gcc clang; do
    for src in a-$blas/*.c; do
      if ! $cc -std=c11 -Wall -Wextra -Werror -O2 -c "$src" -I a-$blas -I "$runtime_inc" -I "$cblas_inc" -o /dev/null; then
        echo "FAIL $name: $cc -Werror on $(basename "$src") (--blas $blas)"; fail=1
      fi
    done
  done
done
[ $fail -eq 0 ] && echo "$name: deterministic, libclang-clean, -Werror-clean (gcc, clang; loops and cblas)"
exit $fail
