#!/usr/bin/env bash
# Golden error messages: every spec in errors/ must make `hepnc check` exit 1 with exactly the
# message in errors/<name>.err (FILE:LINE:COL: error: …, the source line, a caret).
#   run_errors.sh HEPNC            check
#   run_errors.sh HEPNC --update   rewrite the .err files (review the diff before committing)
set -u
hepnc=$1
update=${2:-}
cd "$(dirname "$0")"
pass=0 fail=0
for spec in errors/*.yaml; do
  expected=${spec%.yaml}.err
  actual=$(timeout 20 "$hepnc" check "$spec" 2>&1 >/dev/null)
  rc=$?
  if [ "$update" = "--update" ]; then
    printf '%s\n' "$actual" > "$expected"
  fi
  why=""
  [ $rc -eq 1 ] || why="exit status $rc, expected 1"
  first=$(printf '%s\n' "$actual" | head -n 1)
  [[ "$first" =~ ^errors/[a-z_]+\.yaml:[0-9]+:[0-9]+:\ error:\  ]] || why="${why:+$why; }first line is not FILE:LINE:COL: error: …"
  printf '%s\n' "$actual" | grep -q '^ *\^$' || why="${why:+$why; }no caret line"
  if [ -f "$expected" ]; then
    diff -u "$expected" <(printf '%s\n' "$actual") > /tmp/hepnc-golden.diff || why="${why:+$why; }message differs from $expected"
  else
    why="${why:+$why; }missing $expected"
  fi
  if [ -z "$why" ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL $spec: $why"
    [ -f /tmp/hepnc-golden.diff ] && cat /tmp/hepnc-golden.diff
    printf '%s\n' "$actual" | sed 's/^/    /'
  fi
  rm -f /tmp/hepnc-golden.diff
done
echo "golden errors: $pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -ge 15 ]
