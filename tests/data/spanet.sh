#!/usr/bin/env bash
# hepnc reads SPANet's own HDF5 layout (/INPUTS/<input>/<feature> [E, M], /INPUTS/<input>/MASK) by the
# spec's feature names: the summed jet pT of the first events of SPANet's example (through
# tests/data/spanet_source.yaml) must equal the sum over the MASK'd jets read directly with h5dump.
# Skipped (77) without ../shared/data.
set -uo pipefail
hepnc=$1 work=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
data=$root/../shared/data/spanet/full_hadronic_ttbar_example.h5
[ -f "$data" ] || { echo "skipped: $data is absent"; exit 77; }
mkdir -p "$work"
export HEPNC_CACHE=$work/cache
"$hepnc" infer "$root/tests/data/spanet_source.yaml" --weights "$root/tests/parity/pfn/weights.safetensors" \
    --data "$data" --out "$work/sp.h5" || exit 1
values() { h5dump -d "$1" -s 0,0 -c 4,"$2" "$3" | sed -n '/DATA {/,/}/p' | grep -o '([0-9]*,[0-9]*): .*' | sed 's/^([0-9]*,\([0-9]*\)): //'; }
pass=0 fail=0
for e in 0 1 2 3; do
  pts=$(h5dump -d /INPUTS/Source/pt -s $e,0 -c 1,10 "$data" | sed -n '/DATA {/,/}/p' | tr -d '\n' | sed 's/.*DATA {//; s/}.*//; s/([0-9]*,[0-9]*)://g')
  mask=$(h5dump -d /INPUTS/Source/MASK -s $e,0 -c 1,10 "$data" | sed -n '/DATA {/,/}/p' | tr -d '\n' | sed 's/.*DATA {//; s/}.*//; s/([0-9]*,[0-9]*)://g')
  want=$(awk -v p="$pts" -v m="$mask" 'BEGIN { n = split(p, a, ","); split(m, b, ","); s = 0;
         for (i = 1; i <= n; ++i) if (b[i] ~ /TRUE|1/) s += a[i]; printf "%.3f", s }')
  got=$(h5dump -d /total -s $e,1 -c 1,1 "$work/sp.h5" | sed -n 's/.*(.*,.*): //p' | tr -d ' ')
  if awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-3 * (1 + b)) }'; then
    pass=$((pass + 1)); echo "ok   event $e: sum of real-jet pT $got (h5dump: $want)"
  else
    fail=$((fail + 1)); echo "FAIL event $e: hepnc $got, h5dump $want"
  fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
