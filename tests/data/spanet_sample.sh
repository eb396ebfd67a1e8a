#!/usr/bin/env bash
# hepnc reads the bundled generated SPANet-layout sample (examples/data/ttbar_allhad_sample.h5, made by
# tools/gen/spanet_events.py; gzip-compressed datasets) through tests/data/spanet_source.yaml, as
# tests/data/spanet.sh does SPANet's own example: for the first events and the last one, the summed pT and
# the b-tag count of the MASK'd jets must equal the values read directly with h5dump, and every event must
# come out with at least 2 b-tags (the generator's selection). Skipped (77) when the sample is absent.
set -uo pipefail
hepnc=$1 work=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${3:-$root/examples/data/ttbar_allhad_sample.h5}
[ -f "$data" ] || { echo "skipped: $data is absent"; exit 77; }
mkdir -p "$work"
export HEPNC_CACHE=$work/cache
rm -f "$work/sp.h5"
"$hepnc" infer "$root/tests/data/spanet_source.yaml" --weights "$root/tests/parity/pfn/weights.safetensors" \
    --data "$data" --out "$work/sp.h5" || exit 1
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
ko() { fail=$((fail + 1)); echo "FAIL $*"; }
row() {  # DATASET EVENT FILE -> comma-separated row
  h5dump -d "$1" -s "$2",0 -c 1,10 "$3" | sed -n '/DATA {/,/}/p' | tr -d '\n' | sed 's/.*DATA {//; s/}.*//; s/([0-9]*,[0-9]*)://g'
}
E=$(h5dump -H -d /INPUTS/Source/pt "$data" | sed -n 's/.*SIMPLE { ( \([0-9]*\), 10 ).*/\1/p')
n=$(h5dump -H -d /total "$work/sp.h5" | sed -n 's/.*SIMPLE { ( \([0-9]*\), 5 ).*/\1/p')
[ -n "$E" ] && [ "$E" = "$n" ] && ok "$n events in, $E in the file" || ko "events: hepnc '$n', file '$E'"
for e in 0 1 2 3 $((E - 1)); do
  pts=$(row /INPUTS/Source/pt $e "$data") tags=$(row /INPUTS/Source/btag $e "$data") mask=$(row /INPUTS/Source/MASK $e "$data")
  want=$(awk -v p="$pts" -v t="$tags" -v m="$mask" 'BEGIN { n = split(p, a, ","); split(t, c, ","); split(m, b, ",");
         s = 0; k = 0; for (i = 1; i <= n; ++i) if (b[i] ~ /TRUE|1/) { s += a[i]; k += c[i] } printf "%.3f %d", s, k }')
  got=$(h5dump -d /total -s $e,1 -c 1,4 "$work/sp.h5" | sed -n 's/.*(.*,.*): //p' | tr -d ' ')
  gpt=${got%%,*} gtag=${got##*,}
  if awk -v a="$gpt" -v b="${want% *}" -v c="$gtag" -v d="${want#* }" \
       'BEGIN { x = a - b; if (x < 0) x = -x; exit !(x <= 1e-3 * (1 + b) && c == d) }'; then
    ok "event $e: sum of real-jet pT $gpt, b-tags $gtag (h5dump: $want)"
  else
    ko "event $e: hepnc pT $gpt tags $gtag, h5dump $want"
  fi
done
tags=$(h5dump -d /total -s 0,4 -c "$E",1 -y -w 0 "$work/sp.h5" | sed -n '/DATA {/,/}/p' | tr -d ' ,' | grep -c '^[0-9]')
low=$(h5dump -d /total -s 0,4 -c "$E",1 -y -w 0 "$work/sp.h5" | sed -n '/DATA {/,/}/p' | tr -d ' ,' | awk '/^[0-9]/ && $1 < 2' | wc -l)
[ "$tags" = "$E" ] && [ "$low" = 0 ] && ok "all $tags events have >= 2 b-tags among the jets hepnc reads" ||
  ko "b-tag counts: $tags read, $low below 2"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
