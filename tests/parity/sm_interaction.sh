#!/usr/bin/env bash
# sm_interaction against the independent NumPy reference of the paper's matrix (tests/parity/
# gen_part_sm_fixture.py, /layers/sm of expected.h5), through `hepnc compare` on every pair of real
# objects of the fixture's 64 events, to 1e-6 absolute (the entries are one float rounding of a double);
# the same spec in `mode: const` must be named out of tolerance (the running is what the reference has);
# a misspelt flag and a set without 4-vectors are refused with the spec's line and column, and so is training
# the concatenated variant.
set -uo pipefail
hepnc=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
fix=$here/part_small_sm
mkdir -p "$work"
export HEPNC_CACHE=$work/cache
pass=0 fail=0
ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }
compare() { "$hepnc" compare "$1" --weights "$fix/weights.safetensors" --data "$fix/inputs.h5" --reference "$fix/expected.h5" \
              --events 64 --tol 1e-6; }

out=$(compare "$root/models/part_small_sm.yaml"); rc=$?
echo "$out"
[ $rc -eq 0 ] && grep -q '^  sm ' <<<"$out" && ok "the running matrix matches the reference" || bad "running matrix (exit $rc)"

sed 's/mode: running/mode: const/' "$root/models/part_small_sm.yaml" > "$work/const.yaml"
out=$(compare "$work/const.yaml"); rc=$?
echo "$out"
[ $rc -eq 1 ] && grep -q '^first layer out of tolerance: sm$' <<<"$out" && ok "mode: const differs from the running matrix" \
  || bad "mode: const should be named out of tolerance (exit $rc)"

sed 's/mode: running}/mode: running, ids: [is_j, is_b, is_em, is_ep, is_mm, is_mp, is_gg]}/' \
  "$root/models/part_small_sm.yaml" > "$work/misspelt.yaml"
msg=$("$hepnc" check "$work/misspelt.yaml" 2>&1); rc=$?
echo "$msg"
[ $rc -ne 0 ] && grep -q "misspelt.yaml:17:[0-9]*: error: 'objects' has no feature 'is_gg'; did you mean 'is_g'?" <<<"$msg" \
  && ok "a misspelt flag is named with its line and column" || bad "misspelt flag (exit $rc)"

grep -v 'vectors: true' "$root/models/part_small_sm.yaml" | grep -v 'op: pair_features' \
  | sed 's/in: pairs, extra: sm/in: sm/' > "$work/novectors.yaml"
msg=$("$hepnc" check "$work/novectors.yaml" 2>&1); rc=$?
echo "$msg"
[ $rc -ne 0 ] && grep -q "novectors.yaml:15:[0-9]*: error: sm_interaction needs a set input with 4-vectors" <<<"$msg" \
  && ok "a set without 4-vectors is refused" || bad "set without 4-vectors (exit $rc)"

# the collaborator variant (the matrix concatenated with the kinematic pair features, weaver's PairEmbed mode
# 'concat') runs in inference (parity.part_small_sm_concat); training it is refused, naming the layer, before
# anything is written
rm -rf "$work/concat_train"
msg=$("$hepnc" compile "$root/models/part_small_sm_concat.yaml" --train -o "$work/concat_train" 2>&1); rc=$?
echo "$msg"
[ $rc -ne 0 ] && [ ! -e "$work/concat_train" ] &&
  grep -q "part_small_sm_concat.yaml:16:[0-9]*: error: cannot train this spec: layer 'pair_embed' embeds 'pair_in', not a pair_features layer" <<<"$msg" \
  && ok "training the concatenated route is refused" || bad "training the concatenated route (exit $rc)"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
