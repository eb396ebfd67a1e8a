#!/usr/bin/env bash
# hepnc infer --gpu, eval --gpu and bench --gpu (the spec's GPU object behind the CLI, compiler/scorer_gpu.c) on a GPU
# (mode gpu; "skipped: no GPU" elsewhere) or the emulated GPU (mode emulated, every CI run):
#   - each parity fixture's scores against its PyTorch reference (tests/parity/<model>/expected.h5, written by
#     weaver-core's model for the ParT fixtures) at the CPU path's tolerances (logits 1e-4, probabilities 1e-5),
#     and against hepnc infer on the CPU at 3e-5 absolute (logits reach |5|; the GPU harness tests hold each
#     model to 1e-5 relative, this checks the CLI's plumbing);
#   - eval --gpu prints the same accuracy and AUC as eval on the CPU;
#   - another model's weights: a message naming the file, exit 1, no output file;
#   - a device too small for the batch: the message says what needs the memory and what to change;
#   - bench --gpu runs and prints its latency, throughput and device workspace lines (timings not asserted).
set -euo pipefail
hepnc=$1 compare=$2 work=$3 mode=$4
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rm -rf "$work"
mkdir -p "$work"
export HEPNC_CACHE=$work/cache
if [ "$mode" = emulated ]; then export HEPNC_GPU_EMULATE=1
elif ! nvidia-smi -L >/dev/null 2>&1; then echo "skipped: no GPU"; exit 77; fi
for model in pfn fcn part_small part_small_pairs; do
  fix=$root/tests/parity/$model
  "$hepnc" infer "$root/models/$model.yaml" --weights "$fix/weights.safetensors" --data "$fix/inputs.h5" \
      --out "$work/$model-gpu.h5" --batch 37 --gpu 2> "$work/$model-gpu.log" || { cat "$work/$model-gpu.log"; exit 1; }
  grep -q "GEMMs" "$work/$model-gpu.log" || { echo "FAIL: infer --gpu did not say which GPU ran"; cat "$work/$model-gpu.log"; exit 1; }
  "$hepnc" infer "$root/models/$model.yaml" --weights "$fix/weights.safetensors" --data "$fix/inputs.h5" \
      --out "$work/$model-cpu.h5" --batch 37 --blas none 2> /dev/null
  echo "$model: GPU against the PyTorch reference, then against the CPU"
  "$compare" "$work/$model-gpu.h5" "$fix/expected.h5" logits 1e-4 scores 1e-5
  "$compare" "$work/$model-gpu.h5" "$work/$model-cpu.h5" logits 3e-5 scores 1e-5
done

# eval --gpu: the same metrics as on the CPU (scores within 1e-7: the printed digits agree)
fix=$root/tests/parity/part_small
for dev in cpu gpu; do
  flag=(); [ $dev = gpu ] && flag=(--gpu)
  "$hepnc" eval "$root/models/part_small.yaml" --weights "$fix/weights.safetensors" --data "$fix/inputs.h5" "${flag[@]}" \
      > "$work/eval-$dev.txt" 2> "$work/eval-$dev.log" || { cat "$work/eval-$dev.log"; exit 1; }
done
grep -E "^(accuracy|AUC)" "$work/eval-cpu.txt" > "$work/eval-cpu.key" || true
grep -E "^(accuracy|AUC)" "$work/eval-gpu.txt" > "$work/eval-gpu.key" || true
[ -s "$work/eval-cpu.key" ] || { echo "FAIL: eval printed no accuracy or AUC:"; cat "$work/eval-cpu.txt"; exit 1; }
diff "$work/eval-cpu.key" "$work/eval-gpu.key" || { echo "FAIL: eval --gpu differs from eval"; exit 1; }
echo "eval --gpu: $(tr '\n' ' ' < "$work/eval-gpu.key")"

# weights of another model: refused at load with the file named, exit 1, nothing written
if "$hepnc" infer "$root/models/part_small.yaml" --weights "$root/tests/parity/pfn/weights.safetensors" --data "$fix/inputs.h5" \
    --out "$work/bad-out.h5" --gpu 2> "$work/bad.log"; then
  echo "FAIL: pfn's weights were accepted for part_small"; exit 1
fi
grep -q "pfn/weights.safetensors" "$work/bad.log" || { echo "FAIL: the message does not name the weights file:"; cat "$work/bad.log"; exit 1; }
[ ! -e "$work/bad-out.h5" ] || { echo "FAIL: an output file was left behind"; exit 1; }
echo "ok   another model's weights refused: $(head -1 "$work/bad.log")"

# a device too small for the batch's workspace (the emulated GPU's HEPNC_GPU_EMULATE_MEMORY): refused with
# what needs the memory and what to change, nothing written
if [ "$mode" = emulated ]; then
  if HEPNC_GPU_EMULATE_MEMORY=2e6 "$hepnc" infer "$root/models/part_small.yaml" --weights "$fix/weights.safetensors" \
      --data "$fix/inputs.h5" --out "$work/oom-out.h5" --gpu --batch 400 2> "$work/oom.log"; then
    echo "FAIL: a 2 MB device scored batches of 400"; exit 1
  fi
  grep -q "out of memory" "$work/oom.log" && grep -q "smaller --batch" "$work/oom.log" ||
    { echo "FAIL: the out-of-memory message does not say what to change:"; cat "$work/oom.log"; exit 1; }
  [ ! -e "$work/oom-out.h5" ] || { echo "FAIL: an output file was left behind"; exit 1; }
  echo "ok   out of device memory: $(grep -o 'out of memory.*' "$work/oom.log" | head -1)"
fi

# bench --gpu: a smoke test (the emulated GPU's timings mean nothing)
"$hepnc" bench "$root/models/pfn.yaml" --gpu --reps 10 --batch 8 > "$work/bench.txt"
for want in "batch 1 .*ms/event" "batch 8 .*events/s" "device workspace [0-9]+ bytes" "GEMMs; host arrays"; do
  grep -Eq "$want" "$work/bench.txt" || { echo "FAIL: bench --gpu printed no '$want':"; cat "$work/bench.txt"; exit 1; }
done
echo "ok   bench --gpu: $(head -1 "$work/bench.txt")"
