#!/usr/bin/env bash
# Golden IR: `hepnc check models/X.yaml --dump=PASS` must print exactly tests/golden/ir/X.PASS for every
# model and pass (the stable text form of the IR). --update rewrites them (review the diff).
set -u
hepnc=$1 update=${2:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
pass=0 fail=0
for spec in models/*.yaml; do
  model=$(basename "$spec" .yaml)
  for p in lower fold fuse plan; do
    golden=tests/golden/ir/$model.$p
    actual=$("$hepnc" check "$spec" --dump=$p 2>&1)
    [ "$update" = "--update" ] && printf '%s\n' "$actual" > "$golden"
    if diff -u "$golden" <(printf '%s\n' "$actual") > /tmp/hepnc-ir.diff 2>&1; then
      pass=$((pass + 1))
    else
      fail=$((fail + 1)); echo "FAIL $model after $p:"; cat /tmp/hepnc-ir.diff
    fi
  done
done
rm -f /tmp/hepnc-ir.diff
echo "golden IR: $pass passed, $fail failed"
[ $fail -eq 0 ]
