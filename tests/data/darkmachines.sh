#!/usr/bin/env bash
# hepnc convert darkmachines: a valid file converts (values in GeV, slots filled by type and pT, labels
# from --processes, 4-vectors in the set layout) and runs through models/fcn.yaml; malformed files stop
# with the line number and the field, exit 1, and leave no output file.
set -uo pipefail
hepnc=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$work"
export HEPNC_CACHE=$work/cache
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
ko() { fail=$((fail + 1)); echo "FAIL $*"; }
dm=$here/darkmachines
rm -f "$work"/*.h5
"$hepnc" convert darkmachines "$dm/events.csv" -o "$work/fixed.h5" --processes ttH,ttbar && ok "fixed layout converts" || ko "fixed layout"
v=$(h5dump -d /objects/features -s 0,0,0 -c 1,1,4 "$work/fixed.h5" | sed -n '/(0,0,0)/s/.*: //p' | tr -d ' ')
[ "$v" = "250,120,1.2,0.5" ] && ok "event 1 jet 1 = (E, pt, eta, phi) in GeV: $v" || ko "event 1 jet 1: '$v'"
v=$(h5dump -d /objects/features -s 0,8,0 -c 1,1,11 "$work/fixed.h5" | sed -n '/(0,8,0)/s/.*: //p' | tr -d ' ')
[ "$v" = "40,35,0.5,0.1,0,0,1,0,0,0,0" ] && ok "event 1 electron in the e- slot (8), one-hot e-: $v" || ko "e- slot: '$v'"
v=$(h5dump -d /labels "$work/fixed.h5" | sed -n '/(0)/s/.*: //p' | tr -d ' ')
[ "$v" = "0,1,0" ] && ok "labels from --processes: $v" || ko "labels: '$v'"
"$hepnc" infer "$root/models/fcn.yaml" --weights "$root/tests/parity/fcn/weights.safetensors" --data "$work/fixed.h5" \
    --out "$work/scores.h5" && ok "models/fcn.yaml runs on the converted file" || ko "fcn on the converted file"
"$hepnc" convert darkmachines "$dm/events.csv" -o "$work/set.h5" --processes ttH,ttbar --layout set --max 5 &&
  ok "set layout converts" || ko "set layout"
v=$(h5dump -d /objects/mask -s 1,0 -c 1,5 "$work/set.h5" | sed -n '/(1,0)/s/.*: //p' | tr -d ' ')
[ "$v" = "1,1,1,1,1" ] && ok "event 2 keeps its 5 hardest of 7 objects: mask $v" || ko "set mask: '$v'"
# the set layout's 4-vectors (pair features, the SM interaction matrix): event 1's hardest object, E 250,
# pt 120, eta 1.2, phi 0.5 -> (pt cos phi, pt sin phi, pt sinh eta, E) = (105.30991, 57.531065, 181.13536, 250)
v=$(h5dump -d /objects/vectors -s 0,0,0 -c 1,1,4 "$work/set.h5" | sed -n '/(0,0,0)/s/.*: //p' | tr -d ' ')
[ "$v" = "105.31,57.5311,181.135,250" ] && ok "event 1 object 1 4-vector (px, py, pz, E): $v" || ko "set vectors: '$v'"
expect_error() {   # file pattern
  msg=$("$hepnc" convert darkmachines "$dm/$1" -o "$work/bad.h5" --processes ttH,ttbar 2>&1 >/dev/null); rc=$?
  if [ $rc -eq 1 ] && grep -q -- "$2" <<<"$msg" && [ ! -e "$work/bad.h5" ]; then ok "$1: $msg"; else ko "$1: exit $rc, '$msg'"; fi
}
expect_error bad_number.csv "bad_number.csv:2: error: field 4 (MET): '2000O' is not a number"
expect_error bad_object.csv "bad_object.csv:2: error: field 6: unknown object type 'q'"
expect_error short_object.csv "short_object.csv:1: error: field 6: an object is 'type, E, pt, eta, phi', got 4 values"
expect_error bad_process.csv "bad_process.csv:2: error: process 'WZ' is not in --processes"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
