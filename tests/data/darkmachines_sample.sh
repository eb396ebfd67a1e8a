#!/usr/bin/env bash
# hepnc convert darkmachines on the bundled generated sample (examples/data/ttH_ttbar_sample.csv, made by
# tools/gen/ttH_darkmachines.py): every line converts, labels follow --processes ttH,ttbar (equal counts),
# the first event's MET and hardest b-jet come out in GeV in the b-jet slot (fixed layout) and in pT order
# (set layout), and models/fcn.yaml runs on the result. Skipped (77) when the sample is absent.
set -uo pipefail
hepnc=$1 work=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${3:-$root/examples/data/ttH_ttbar_sample.csv}
[ -f "$data" ] || { echo "skipped: $data is absent"; exit 77; }
mkdir -p "$work"
export HEPNC_CACHE=$work/cache
rm -f "$work"/*.h5
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
ko() { fail=$((fail + 1)); echo "FAIL $*"; }
close() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-4 * (1 + (b < 0 ? -b : b))) }'; }
vals() {  # DATASET FILE [h5dump selection options]: the values, one per line (the first DATA block only)
  h5dump -d "$1" "${@:3}" -y -w 0 "$2" | sed -n '/DATA {/,/}/{p;/}/q}' | tr -d ' \n' | sed 's/DATA{//; s/}.*//' | tr ',' '\n'
}
lines=$(wc -l < "$data")
"$hepnc" convert darkmachines "$data" -o "$work/fixed.h5" --processes ttH,ttbar && ok "fixed layout converts" || ko "fixed layout"
labels=$(vals /labels "$work/fixed.h5" | sort | uniq -c | awk '{ printf "%s%s:%s", sep, $2, $1; sep = " " }')
n0=$(grep -c ';ttH;' "$data") n1=$(grep -c ';ttbar;' "$data")
[ "$labels" = "0:$n0 1:$n1" ] && [ $((n0 + n1)) -eq "$lines" ] && [ "$n0" -eq "$n1" ] &&
  ok "$lines events, labels $labels (0 = ttH, 1 = ttbar)" || ko "labels '$labels', file ttH $n0 ttbar $n1 of $lines lines"
# event 1 from the CSV: MET and the hardest b-jet, MeV -> GeV
read -r met bE bpt beta bphi < <(head -1 "$data" | awk -F';' '{ for (i = 6; i <= NF; ++i) { split($i, o, ",");
  if (o[1] == "b") { printf "%.6f %.6f %.6f %s %s\n", $4 / 1000, o[2] / 1000, o[3] / 1000, o[4], o[5]; exit } } }')
v=$(vals /event/features "$work/fixed.h5" -s 0,0 -c 1,1)
close "$v" "$met" && ok "event 1 MET $v GeV (CSV: $met)" || ko "event 1 MET: hepnc '$v', CSV $met"
v=$(vals /objects/features "$work/fixed.h5" -s 0,4,0 -c 1,1,6 | paste -sd,)
IFS=, read -r e pt eta phi isj isb <<<"$v"
close "$e" "$bE" && close "$pt" "$bpt" && close "$eta" "$beta" && close "$phi" "$bphi" && [ "$isj$isb" = 01 ] &&
  ok "event 1 hardest b-jet in slot 4: E, pt, eta, phi = $e, $pt, $eta, $phi, is_b (CSV: $bE, $bpt, $beta, $bphi)" ||
  ko "event 1 slot 4: '$v', CSV $bE $bpt $beta $bphi"
"$hepnc" infer "$root/models/fcn.yaml" --weights "$root/tests/parity/fcn/weights.safetensors" --data "$work/fixed.h5" \
    --out "$work/scores.h5" && ok "models/fcn.yaml runs on the converted sample" || ko "fcn on the converted sample"
"$hepnc" convert darkmachines "$data" -o "$work/set.h5" --processes ttH,ttbar --layout set --max 18 &&
  ok "set layout converts" || ko "set layout"
nobj=$(head -1 "$data" | awk -F';' '{ n = 0; for (i = 6; i <= NF; ++i) if ($i != "") ++n; print (n < 18 ? n : 18) }')
m=$(vals /objects/mask "$work/set.h5" -s 0,0 -c 1,18 | grep -c '^1$')
pts=$(vals /objects/features "$work/set.h5" -s 0,0,1 -c 1,18,1 | paste -sd,)
desc=$(awk -v p="$pts" -v n="$nobj" 'BEGIN { split(p, a, ","); for (i = 2; i <= n; ++i) if (a[i] > a[i - 1]) { print "no"; exit } print "yes" }')
[ "$m" = "$nobj" ] && [ "$desc" = yes ] && ok "set layout, event 1: $m real objects in decreasing pT" ||
  ko "set layout event 1: mask $m of $nobj, pT order $desc ($pts)"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
