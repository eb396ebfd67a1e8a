#!/usr/bin/env bash
# SPANet parity: models/MODEL.yaml against upstream SPANet itself (tests/parity/MODEL/, from
# gen_spanet_fixture.py (spanet_small: full-hadronic ttbar) and gen_spanet_tth_fixture.py (spanet_tth_small:
# semi-leptonic ttH with the MET, regressions and a classification)). The weights are upstream's PyTorch
# Lightning checkpoint (model.ckpt), converted by `hepnc import spanet` without PyTorch; then through
# `hepnc infer`, with generated loops and with OpenBLAS:
#   - every particle's assignment log-probabilities [64 events][slots^k]: |Δ| ≤ 1e-4 (values reach −20;
#     float32 through 13 gated attention/GRU layers), −inf on exactly the same cells (padding, repeated slots);
#   - detection and class probabilities: |Δ| ≤ 1e-5; class logits |Δ| ≤ 1e-4; regressions (de-normalised)
#     |Δ| ≤ 1e-4·max(1, |value|);
#   - each event alone (batch 1) bit for bit as inside a batch of 37 mixed counts;
#   - the decoded assignments (runtime/assign.c) equal upstream's extract_predictions run with −inf kept
#     (assignment_strict; −2 there is −1 here) on every event, and no slot is used twice in an event;
#     upstream's own inference path (nan_to_num) differs only where a particle cannot be placed
#     (docs/spanet_decoding.md) — Debian's python3-h5py, which tools/install-deps.sh installs;
#   - `hepnc eval --json`: every purity and proportion of upstream's evaluation (spanet/test.py
#     evaluate_predictions on the same decoded assignments, report.json) within 1e-6.
set -euo pipefail
hepnc=$1 compare=$2 model=$3 work=$4
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
fix=$here/$model
spec=$root/models/$model.yaml
mkdir -p "$work"
export HEPNC_CACHE=$work/cache
case $model in
  spanet_small) particles="t1 t2"; extra=() ;;
  spanet_tth_small) particles="lt ht h"
    extra=(signal_logits=/classification/signal_logits 1e-4 signal=/classification/signal 1e-5)
    for r in neutrino_eta neutrino_px neutrino_py neutrino_pz log_invariant_mass; do extra+=("$r=/regression/$r" 1e-4r); done ;;
  *) echo "unknown SPANet fixture '$model'"; exit 2 ;;
esac
checks=() same=()
for p in $particles; do
  checks+=("${p}_assignment=/$p/assignment_log_probability" 1e-4 "${p}_detection=/$p/detection_probability" 1e-5)
  same+=("${p}_assignment" 0 "${p}_detection" 0)
done
checks+=("${extra[@]}")
weights=$work/$model.safetensors
rm -f "$weights"
"$hepnc" import spanet "$fix/model.ckpt" --spec "$spec" -o "$weights"
for blas in none openblas; do
  out=$work/$model-$blas.h5
  rm -f "$out"
  "$hepnc" infer "$spec" --weights "$weights" --data "$fix/inputs.h5" --out "$out" --blas $blas --batch 37
  echo "--blas $blas:"
  "$compare" "$out" "$fix/expected.h5" "${checks[@]}"
done
rm -f "$work/$model-single.h5"
"$hepnc" infer "$spec" --weights "$weights" --data "$fix/inputs.h5" --out "$work/$model-single.h5" --blas none --batch 1
echo "batch 1 against batch 37 (generated loops):"
"$compare" "$work/$model-single.h5" "$work/$model-none.h5" "${same[@]}"
echo "decoded assignments against upstream's:"
/usr/bin/python3 - "$work/$model-none.h5" "$fix/expected.h5" "$fix/inputs.h5" $particles <<'PY'
import sys
import h5py
import numpy as np
out, exp, inp = (h5py.File(p, "r") for p in sys.argv[1:4])
particles = sys.argv[4:]
mask = next(g["MASK"][:] for g in inp["INPUTS"].values() if "MASK" in g and g["MASK"].ndim == 2)
vectors = mask.sum(1)
bad = 0
for p in particles:
    ours, strict, default = out[p + "_assigned"][:], exp[p]["assignment_strict"][:], exp[p]["assignment"][:]
    strict = np.where(strict == -2, -1, strict)
    same = (ours == strict).all(1)
    print(f"{p}: {same.sum()} of {len(same)} events as upstream's decoder with -inf kept; "
          f"{(ours == default).all(1).sum()} as its nan_to_num inference path")
    bad += int((~same).sum())
rows = np.concatenate([out[p + "_assigned"][:] for p in particles], axis=1)
for e in range(len(rows)):
    used = rows[e][rows[e] >= 0]
    if len(set(used.tolist())) != len(used) or (used >= vectors[e]).any():
        print(f"event {e}: slots {rows[e].tolist()} repeat a slot or point past its {vectors[e]} vectors")
        bad += 1
print("decoded assignments:", "ok" if bad == 0 else f"{bad} FAILED")
sys.exit(1 if bad else 0)
PY
echo "hepnc eval against upstream's evaluation (spanet/test.py, SymmetricEvaluator; report.json):"
"$hepnc" eval "$spec" --weights "$weights" --data "$fix/inputs.h5" --batch 37 --json "$work/$model-report.json"
/usr/bin/python3 - "$work/$model-report.json" "$fix/report.json" <<'PY'
import json
import sys
ours, theirs = (json.load(open(p)) for p in sys.argv[1:])
bad = []
for limit, values in theirs.items():
    for key, want in values.items():
        got = ours.get(limit, {}).get(key, "absent")
        if got == "absent" or (want is None) != (got is None) or (want is not None and abs(got - want) > 1e-6):
            bad.append(f"{limit} {key}: hepnc {got}, upstream {want}")
extra = [f"{l} {k}" for l, v in ours.items() for k in v if k not in theirs.get(l, {})]
for line in bad + [f"not upstream's: {e}" for e in extra]:
    print("FAIL", line)
n = sum(len(v) for v in theirs.values())
print(f"report: {n - len(bad)} of {n} numbers as upstream's, {len(extra)} extra")
sys.exit(1 if bad or extra else 0)
PY
