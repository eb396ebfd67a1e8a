#!/usr/bin/env bash
# `hepnc train` and `hepnc eval` end to end on generated code: models/pfn.yaml's training step trained
# on the bundled Pythia8 top/QCD sample (split by hepnc split). Checks:
#   - a run finishes: log.csv with 3 epochs, best/last.safetensors that `hepnc infer` (the ordinary
#     inference loader) reads, curves.png (or the warning that matplotlib is missing);
#   - --max-steps 10 then --resume gives the straight run's log columns epoch..val_auc and a
#     byte-identical last.safetensors;
#   - Ctrl-C (SIGINT to the running process) exits 130 with a loadable last.safetensors and a resume hint;
#   - hepnc eval's working-point table: s = eps_S*S, b = eps_B*B, s/sqrt(b) and s/sqrt(b+(delta*b)^2)
#     agree with the printed eps_B (awk, to the printed digits); --roc-png writes a PNG or warns;
#   - no temporary file is left in a run directory.
# Skipped (77) without the sample.
set -uo pipefail
hepnc=$1 work=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
sample=$root/examples/data/topqcd_sample.h5
[ -f "$sample" ] || { echo "skipped: $sample is absent"; exit 77; }
rm -rf "$work" && mkdir -p "$work"
export HEPNC_CACHE=$work/cache
passed=0 failed=0
check() { if [ "$1" = 0 ]; then echo "ok   $2"; passed=$((passed + 1)); else echo "FAIL $2"; failed=$((failed + 1)); fi; }

"$hepnc" split "$sample" -o "$work/tq" --seed 3 >/dev/null || { echo "FAIL hepnc split"; exit 1; }
spec=$root/models/pfn.yaml
args=(--data "$work/tq_train.h5" --val "$work/tq_val.h5" --epochs 3 --batch 128 --lr 0.005 --seed 5 --quiet)

"$hepnc" train "$spec" "${args[@]}" -o "$work/A" >"$work/A.out" 2>"$work/A.err"
check $? "a 3-epoch run finishes (exit 0)"
rows=$(($(wc -l <"$work/A/log.csv") - 1))
check $([ "$rows" = 3 ] && echo 0 || echo 1) "log.csv has 3 epochs ($rows)"
first=$(awk -F, 'NR == 2 {print $4}' "$work/A/log.csv") last=$(awk -F, 'NR == 4 {print $4}' "$work/A/log.csv")
check $(awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a) }' && echo 0 || echo 1) "train loss decreases ($first -> $last)"
grep -q "best validation AUC" "$work/A.out"
check $? "the best validation AUC is printed: $(grep -o 'best validation AUC [0-9.]*' "$work/A.out")"
if [ -f "$work/A/curves.png" ]; then check 0 "curves.png written"
else grep -q "warning: .*no PNG" "$work/A.err"; check $? "no curves.png, and a warning says why"; fi
"$hepnc" infer "$spec" --weights "$work/A/best.safetensors" --data "$work/tq_test.h5" --out "$work/scores.h5" 2>/dev/null
check $? "hepnc infer reads best.safetensors (optimiser state and metadata inside)"

"$hepnc" train "$spec" "${args[@]}" -o "$work/B" --max-steps 10 >"$work/B.out" 2>&1
check $? "--max-steps 10 stops cleanly (exit 0)"
grep -q -- "--resume $work/B" "$work/B.out"
check $? "the stop prints how to resume"
"$hepnc" train "$spec" "${args[@]}" --resume "$work/B" >/dev/null 2>&1
check $? "--resume finishes the run"
cmp -s <(cut -d, -f1-8 "$work/A/log.csv") <(cut -d, -f1-8 "$work/B/log.csv")
check $? "resumed log.csv columns epoch..val_auc equal the straight run's"
cmp -s "$work/A/last.safetensors" "$work/B/last.safetensors"
check $? "resumed last.safetensors is byte-identical to the straight run's"

"$hepnc" train "$spec" "${args[@]}" --epochs 100000 -o "$work/C" >"$work/C.out" 2>&1 &
pid=$!
for _ in $(seq 600); do [ "$({ wc -l <"$work/C/log.csv"; } 2>/dev/null || echo 0)" -ge 2 ] && break; sleep 0.05; done
kill -INT "$pid"
wait "$pid"
status=$?
check $([ "$status" = 130 ] && echo 0 || echo 1) "SIGINT: exit status $status (130)"
grep -q "interrupted after" "$work/C.out"
check $? "SIGINT: the message says where it stopped"
"$hepnc" infer "$spec" --weights "$work/C/last.safetensors" --data "$work/tq_test.h5" --out "$work/scores_c.h5" 2>/dev/null
check $? "SIGINT: last.safetensors loads for inference"

out=$("$hepnc" eval "$spec" --weights "$work/A/best.safetensors" --data "$work/tq_test.h5" --signal-class 0 \
      --background-class 1 --signal-label 0 --signal-yield 1340 --background-yield 250000 --bkg-uncertainty 0.2 \
      --roc "$work/roc.csv" --roc-png "$work/roc.png" 2>"$work/eval.err")
check $? "hepnc eval with yields runs"
echo "$out"
# rows: eps_S eps_B 1/eps_B s b Z Zsys
bad=$(awk '/^  0\.[357]0 / { S = 1340; B = 250000; d = 0.2
        s = $1 * S; b = $2 * B
        if (b == 0) { if ($6 != "inf" || $7 != "inf") n++ }
        else { z = s / sqrt(b); zs = s / sqrt(b + (d * b)^2)
               if (abs($4 - s) > 1e-4 * s || abs($5 - b) > 1e-3 * b + 0.5 || abs($6 - z) > 2e-3 * z || abs($7 - zs) > 2e-3 * zs) n++ }
        rows++ }
      function abs(x) { return x < 0 ? -x : x }
      END { print (rows == 3 ? n + 0 : "rows " rows) }' <<<"$out")
check $([ "$bad" = 0 ] && echo 0 || echo 1) "eval table: s, b, s/sqrt(b), s/sqrt(b+(0.2b)^2) recomputed from eps_S, eps_B ($bad wrong)"
if [ -f "$work/roc.png" ]; then check 0 "roc.png written"
else grep -q "warning: .*no PNG" "$work/eval.err"; check $? "no roc.png, and a warning says why"; fi

tmp=$(find "$work/A" "$work/B" "$work/C" -name '*.tmp*' | wc -l)
check $([ "$tmp" = 0 ] && echo 0 || echo 1) "no temporary files in the run directories ($tmp)"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
