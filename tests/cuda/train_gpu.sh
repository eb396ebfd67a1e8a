#!/usr/bin/env bash
# hepnc train --gpu against hepnc train (the C step) on 52 bundled top/QCD jets: the same seed, 2 epochs of
# batch 16 (8 Ranger steps); every epoch's train and validation loss within 1e-6 relative of the CPU
# run's; then the same with --trim (weaver's SequenceTrimmer: trimmed batches after 5 steps), one epoch of
# batch 4 (13 steps); then a --gpu run stopped and resumed against the uninterrupted one, and clipping.
# With mode emulated the GPU is the emulated one (HEPNC_GPU_EMULATE=1, every CI run); with mode gpu a real
# one (77 where none exists).
set -euo pipefail
hepnc=$1 work=$2 mode=$3
root=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$work" && mkdir -p "$work"
export HEPNC_CACHE=$work/cache OPENBLAS_NUM_THREADS=1
if [ "$mode" = emulated ]; then export HEPNC_GPU_EMULATE=1
elif ! nvidia-smi -L >/dev/null 2>&1; then echo "skipped: no GPU"; exit 77; fi
"$hepnc" split "$root/examples/data/topqcd_sample.h5" -o "$work/small" --fractions 0.04,0.01,0.95 --seed 3 >/dev/null
common=(--data "$work/small_train.h5" --val "$work/small_val.h5" --threads 1 --seed 5 --quiet)
for trim in "" --trim; do
  # trimmed: batches of 4, whose longest jet is mostly below the 64 slots, so the trimmer cuts them
  run=(--epochs 2 --batch 16)
  [ -z "$trim" ] || run=(--epochs 1 --batch 4 --trim)
  "$hepnc" train "$root/models/part_top_small.yaml" "${common[@]}" "${run[@]}" -o "$work/cpu$trim"
  "$hepnc" train "$root/models/part_top_small.yaml" "${common[@]}" "${run[@]}" -o "$work/gpu$trim" --gpu
  echo "${trim:-untrimmed}:"
  paste -d, "$work/cpu$trim/log.csv" "$work/gpu$trim/log.csv" | awk -F, 'NR > 1 {
      for (k = 4; k <= 6; k += 2) {     # train_loss, val_loss
        c = $k; g = $(k + 10); d = c - g; if (d < 0) d = -d
        printf "  epoch %d %s: CPU %s, GPU %s\n", $1, k == 4 ? "train loss" : "val loss", c, g
        if (!(d <= 1e-6 * (c < 0 ? -c : c))) { print "FAIL: differ by more than 1e-6 relative"; bad = 1 }
      } } END { exit bad }'
done

# the device keeps the parameters and the optimiser state: a run stopped after 3 steps and resumed ends where
# the uninterrupted one does (the state went down to last.safetensors and up again), and gradient clipping
# (the spec's clip_grad) runs there too
"$hepnc" train "$root/models/part_top_small.yaml" "${common[@]}" --epochs 2 --batch 16 -o "$work/gpu-resumed" --gpu --max-steps 3
"$hepnc" train "$root/models/part_top_small.yaml" "${common[@]}" --epochs 2 --batch 16 --resume "$work/gpu-resumed" --gpu
paste -d, "$work/gpu/log.csv" "$work/gpu-resumed/log.csv" | awk -F, 'NR > 1 {
    c = $4; g = $14; d = c - g; if (d < 0) d = -d
    printf "resumed: epoch %d train loss %s, uninterrupted %s\n", $1, g, c
    if (!(d <= 1e-6 * c)) { print "FAIL: the resumed run differs"; bad = 1 } } END { exit bad }'
sed 's/^train:/train:\n  clip_grad: 0.05/' "$root/models/part_top_small.yaml" > "$work/clipped.yaml"
grep -q "clip_grad: 0.05" "$work/clipped.yaml"
"$hepnc" train "$work/clipped.yaml" "${common[@]}" --epochs 1 --batch 16 -o "$work/cpu-clip"
"$hepnc" train "$work/clipped.yaml" "${common[@]}" --epochs 1 --batch 16 -o "$work/gpu-clip" --gpu
paste -d, "$work/cpu-clip/log.csv" "$work/gpu-clip/log.csv" "$work/cpu/log.csv" | awk -F, 'NR == 2 {
    c = $4; g = $14; d = c - g; if (d < 0) d = -d
    printf "clipped to 0.05: train loss CPU %s, GPU %s (unclipped %s)\n", c, g, $24
    if (!(d <= 1e-6 * c)) { print "FAIL: clipped runs differ"; bad = 1 }
    if (c == $24) { print "FAIL: clipping changed nothing"; bad = 1 } } END { exit bad }'

# a device too small for the batch (the emulated GPU's HEPNC_GPU_EMULATE_MEMORY; on a GPU skipped): refused
# with what needs the memory and what to change, exit 1, no run left half-written as if it had trained
if [ "$mode" = emulated ]; then
  if HEPNC_GPU_EMULATE_MEMORY=10e6 "$hepnc" train "$root/models/part_top_small.yaml" "${common[@]}" --epochs 1 --batch 16 \
      -o "$work/gpu-oom" --gpu 2> "$work/oom.log"; then
    echo "FAIL: a 10 MB device trained batches of 16"; exit 1
  fi
  grep -q "out of memory" "$work/oom.log" && grep -q "training step of batch 16 needs" "$work/oom.log" ||
    { echo "FAIL: the out-of-memory message does not say what to change:"; cat "$work/oom.log"; exit 1; }
  [ ! -e "$work/gpu-oom/last.safetensors" ] || { echo "FAIL: a checkpoint was written"; exit 1; }
  echo "ok   out of device memory: $(grep -o 'out of memory.*' "$work/oom.log" | head -1)"
fi
