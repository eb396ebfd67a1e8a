#!/usr/bin/env bash
# hepnc split: the three parts hold every event exactly once (the multiset of jet pT values is the
# input's), in the requested shares, with the attributes (feature names) kept; the same seed gives the
# same bytes and another seed another split; hepnc reads a part like any dataset.
set -euo pipefail
hepnc=$1 work=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
in=$root/examples/data/topqcd_sample.h5
rm -rf "$work" && mkdir -p "$work"
"$hepnc" split "$in" -o "$work/a" --seed 3 --fractions 0.7,0.15,0.15
"$hepnc" split "$in" -o "$work/b" --seed 3 --fractions 0.7,0.15,0.15 >/dev/null
"$hepnc" split "$in" -o "$work/c" --seed 4 --fractions 0.7,0.15,0.15 >/dev/null
values() { h5dump -d /jets/pt -y -w0 "$1" | sed -n '/DATA {/,/}/p' | tr ',' '\n' | grep -Eo '[-0-9.e+]+' | sort -g; }
values "$in" > "$work/all.txt"
cat <(values "$work/a_train.h5") <(values "$work/a_val.h5") <(values "$work/a_test.h5") | sort -g > "$work/parts.txt"
cmp "$work/all.txt" "$work/parts.txt" || { echo "FAIL: the parts are not a partition of the events"; exit 1; }
n=$(values "$work/a_train.h5" | wc -l)
[ "$n" -eq 910 ] || { echo "FAIL: train has $n events, want 910 (70 % of 1300)"; exit 1; }
for p in train val test; do cmp "$work/a_$p.h5" "$work/b_$p.h5" || { echo "FAIL: same seed, different $p"; exit 1; }; done
if cmp -s "$work/a_val.h5" "$work/c_val.h5"; then echo "FAIL: another seed gives the same split"; exit 1; fi
h5dump -a /particles/features/names "$work/a_val.h5" | grep -q part_pt_log || { echo "FAIL: names attribute lost"; exit 1; }
ls "$work"/*.tmp* 2>/dev/null && { echo "FAIL: temporary files left"; exit 1; }
"$hepnc" split /nonexistent.h5 -o "$work/x" 2>/dev/null && { echo "FAIL: a missing input must fail"; exit 1; }
echo "split: partition, shares, determinism, attributes: ok"
