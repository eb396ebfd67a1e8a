#!/usr/bin/env bash
# Every public header (runtime/include/hepnc, gpu/include/hepnc) compiles as C++11 on its own, warning-free,
# with C linkage for what it declares (extern "C"), so that C++ hosts (trigger and reconstruction
# frameworks) include them directly. examples/gpu_host links a C++ host against the libraries.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cxx=${CXX:-c++}
fail=0 n=0
for h in "$root"/runtime/include/hepnc/*.h "$root"/gpu/include/hepnc/*.h; do
  n=$((n + 1))
  if ! out=$(printf '#include "%s"\n' "$h" | "$cxx" -std=c++11 -fsyntax-only -Wall -Wextra -Werror \
               -I "$root/runtime/include" -I "$root/gpu/include" -x c++ - 2>&1); then
    echo "FAIL ${h#$root/}: $out"; fail=$((fail + 1)); continue
  fi
  if ! grep -q 'extern "C"' "$h"; then echo "FAIL ${h#$root/}: no extern \"C\" block"; fail=$((fail + 1)); continue; fi
done
echo "$((n - fail)) of $n headers compile as C++ with C linkage"
[ $fail -eq 0 ]
