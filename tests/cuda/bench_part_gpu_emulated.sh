#!/usr/bin/env bash
# bench/part_gpu end to end on the emulated GPU (HEPNC_GPU_EMULATE=1), so that the GPU benchmark's scripts
# and harnesses are exercised in every CI run and a lent GPU's few minutes are not spent on a broken script:
# build.sh bundles part_small (inference and training harnesses, no wheels) from the CMake build in BUILD,
# run.sh runs it with MAIN=part_small (parity; timings at batches 1 and 4; the TF32, bf16 and profile runs;
# the training step's parity and timing, full and trimmed), and report.py turns raw.jsonl into its tables.
# Checks: build.sh writes the archive that travels (and says its size); run.sh skips (and names) every
# section when the budget (BUDGET_S) is too short for it, and stops a hung harness at the budget (keeping
# its lines so far, failing, skipping the rest); from the archive, run.sh runs MAIN's inference
# first and exits 0, raw.jsonl holds every timing it should (inference per batch and mode, training per batch
# and slot mode), the profile holds kernel lines, and report.py prints hepnc's rows for both batches.
set -euo pipefail
build=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work"
MODELS=part_small BUILD_DIR=$build CMAKE_BUILD=0 WHEELS=0 AOT=0 XZ_LEVEL=-0 bash "$root/bench/part_gpu/build.sh" "$work/bundle" 2> "$work/build.log" ||
  { cat "$work/build.log" >&2; fail "build.sh"; }
[ -x "$work/bundle/bin/gpu_harness-part_small" ] && [ -x "$work/bundle/bin/train_harness-part_small" ] ||
  fail "build.sh bundled no part_small harnesses: $(ls "$work/bundle/bin")"
[ -z "$(ls "$work/bundle/bin" | grep -v 'part_small$')" ] || fail "MODELS=part_small bundled others: $(ls "$work/bundle/bin")"
# the training harness's weights and jets are the inference harness's: named (same_as), not copied twice
[ "$(cat "$work/bundle/data/train-part_small/same_as" 2>/dev/null)" = part_small ] &&
  [ ! -e "$work/bundle/data/train-part_small/inputs.h5" ] || fail "the training data was copied again, not named in same_as"

tar -tJf "$work/bundle.tar.xz" > "$work/archive.txt" 2>&1 && grep -q '^bundle/bin/gpu_harness-part_small$' "$work/archive.txt" ||
  fail "build.sh wrote no archive of the bundle (bundle.tar.xz, what travels to the GPU node)"
grep -q "MiB of a device call's 64" "$work/build.log" || fail "build.sh did not say how much travels: $(cat "$work/build.log")"

export HEPNC_GPU_EMULATE=1 HEPNC_CACHE=${HEPNC_CACHE:-$work/cache}
# a budget too short for any section: each skipped and said so, nothing run, a report still written
BUDGET_S=600 MIN_SECTION_S=100000 MAIN=part_small TIMED=part_small MODES= \
  bash "$root/bench/part_gpu/run.sh" "$work/bundle" "$work/short" > "$work/short.log" 2>&1 ||
  { cat "$work/short.log" >&2; fail "run.sh with a short budget exited non-zero"; }
n=$(grep -c '^skipped: ' "$work/short/sections.txt" || true)
[ "$n" -ge 7 ] || fail "$n sections said skipped with too short a budget (want every one): $(cat "$work/short/sections.txt")"
[ ! -s "$work/short/raw.jsonl" ] && [ -e "$work/short/report.md" ] || fail "a run with every section skipped timed something or wrote no report"

# a command that outlasts the budget is stopped there (a harness that hangs, in a copy of the bundle): the
# run ends within the budget, says so, fails, and skips what came after
cp -r "$work/bundle" "$work/hung"
printf '#!/bin/sh\necho "checked so far"\nexec sleep 60\n' > "$work/hung/bin/gpu_harness-part_small"
start=$SECONDS
if BUDGET_S=3 MIN_SECTION_S=1 MAIN=part_small TIMED=part_small MODES= \
     bash "$root/bench/part_gpu/run.sh" "$work/hung" "$work/hung_out" > "$work/hung.log" 2>&1; then
  cat "$work/hung.log" >&2; fail "run.sh passed with a command stopped at the budget"
fi
[ $((SECONDS - start)) -lt 30 ] || fail "run.sh took $((SECONDS - start)) s with a 3 s budget (the hung harness was not stopped)"
grep -q 'part_small: stopped at the budget' "$work/hung_out/parity.log" ||
  fail "no 'stopped at the budget' in parity.log: $(cat "$work/hung_out/parity.log")"
grep -q '^checked so far' "$work/hung_out/parity.log" || fail "the stopped harness's output so far was not kept"
grep -q '^skipped: 2 part_small training step' "$work/hung_out/sections.txt" ||
  fail "the sections after the budget ran out were not skipped: $(cat "$work/hung_out/sections.txt")"

# the whole run, from the archive (as on the GPU node), within a budget that it keeps to
MAIN=part_small TIMED=part_small BATCHES=1,4 TRAIN_BATCHES=4 SECONDS_PER=0 MODES= PROFILE=1 BUDGET_S=1500 \
  bash "$root/bench/part_gpu/run.sh" "$work/bundle.tar.xz" "$work/out" > "$work/run.log" 2>&1 ||
  { cat "$work/run.log" >&2; fail "run.sh exited non-zero"; }
! grep -q '^skipped' "$work/out/sections.txt" || fail "run.sh skipped sections within its budget: $(cat "$work/out/sections.txt")"
head -1 "$work/out/sections.txt" | grep -q '^1 part_small inference: ' || fail "MAIN's inference did not run first: $(cat "$work/out/sections.txt")"

raw=$work/out/raw.jsonl
count() { grep -c "$1" "$raw" || true; }
# inference timings: batches 1 and 4 in float32, TF32 and bf16
for math in fp32 tf32 bf16; do
  n=$(grep '"gpu_timing"' "$raw" | grep -c "\"math\": \"$math\"" || true)
  [ "$n" = 2 ] || fail "$n inference timings in $math (want 2: batches 1 and 4): $(cat "$raw")"
done
# training timings at batch 4: over every slot and trimmed
n=$(count '"gpu_train_timing"')
[ "$n" = 2 ] || fail "$n training timings (want 2: full and trimmed): $(cat "$raw")"
grep -q 'hepnc GPU profile' "$work/out/profile.txt" || fail "no kernel profile in profile.txt"
[ -s "$work/out/logs.tgz" ] || fail "no logs.tgz"
grep -q "^## part_small" "$work/out/report.md" && grep -q "hepnc" "$work/out/report.md" || fail "run.sh wrote no report.md tables"

/usr/bin/env python3 "$root/bench/part_gpu/report.py" "$raw" --model part_small > "$work/report.md" ||
  fail "report.py"
for b in 1 4; do
  grep -Eq "^\| $b \| hepnc .*\| fp32 \|" "$work/report.md" || fail "report.py printed no hepnc row at batch $b: $(cat "$work/report.md")"
done
grep -q "trimmed" "$work/report.md" || fail "report.py printed no training table: $(cat "$work/report.md")"
echo "bench/part_gpu on the emulated GPU: $(wc -l < "$raw") timings, report $(wc -l < "$work/report.md") lines"
