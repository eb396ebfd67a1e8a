#!/usr/bin/env bash
# bench/part_gpu/run.sh — on a GPU node: every model's GPU object against its CPU object (parity), then
# the JetClass ParT's GPU timings at batch 1, 256 and 4096 beside weaver-core's PyTorch model (eager,
# eager with weaver's trimming, torch.compile) on the same jets and weights, in one run.
#
#   bench/part_gpu/run.sh BUNDLE OUT        # BUNDLE from bench/part_gpu/build.sh
#
# Then every GPU training step against its C step (train_harness-*), the JetClass ParT's timed at TRAIN_BATCHES
# (default 256,512; over every slot and trimmed to the batch's largest count) beside PyTorch's training step
# (forward, loss, backward; TRAIN_MODES), and weaver's ParticleNet beside hepnc's (PN_MODES).
# Writes OUT/raw.jsonl (one JSON object per timing), OUT/report.md (report.py's tables of every timed model),
# OUT/parity.log, OUT/gpu.txt (nvidia-smi) and OUT/logs.tgz (every log).
# Environment:
#   BATCHES        inference batches (default 1,256,4096); SECONDS_PER timed seconds per batch (default 2)
#   MODES          PyTorch modes (default eager-trim,eager,compile,eager-trim-tf32; empty: no PyTorch)
#   TRAIN_BATCHES, TRAIN_MODES, PN_MODES   the same for the training steps and for ParticleNet
#   TIMED          models timed (default part_jetclass_kin particlenet_jetclass_kin)
#   MAIN           the model of the TF32, bf16, training-timing and profile runs (default part_jetclass_kin)
#   TF32=0, BF16=0 no TF32 / bf16 run of MAIN; PROFILE=1 per-kernel times of MAIN's inference and training
#                  step (OUT/profile.txt)
#   EVENTS         events of the inference parity checks (default the harness's 96); TRAIN_EVENTS the
#                  training steps' (default 64)
#   PYTHON         a Python with PyTorch (default python3); TORCH_DEVICE cuda (default), or cpu to check the
#                  PyTorch scripts where no GPU is
# Within one 10-minute device call: SECONDS_PER=1 MODES=eager-trim,eager TRAIN_MODES=eager-trim,eager
# PN_MODES=eager keep it to a few minutes (torch.compile's compiles dominate). With HEPNC_GPU_EMULATE=1 and
# TORCH_DEVICE=cpu the whole run is a rehearsal without a GPU (docs/performance.md, "Before a GPU run");
# tests/cuda/bench_part_gpu_emulated.sh runs a small bundle with MAIN=part_small so in every CI run.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bundle=$(cd "$1" && pwd)
out=$2
mkdir -p "$out"
BATCHES=${BATCHES:-1,256,4096} SECONDS_PER=${SECONDS_PER:-2} MODES=${MODES-eager-trim,eager,compile,eager-trim-tf32}
PYTHON=${PYTHON:-python3}
main=${MAIN:-part_jetclass_kin}
train_data() {   # MODEL: the folder of its training harness's weights and jets (build.sh names the inference
                 # harness's folder in same_as rather than copying the same files twice: the bundle stays small)
  local d=$bundle/data/train-$1
  if [ -f "$d/same_as" ]; then echo "$bundle/data/$(cat "$d/same_as")"; else echo "$d"; fi
}
train_weights() {   # MODEL: the weights file, or init:SEED (hepnc's initialisation)
  local d; d=$(train_data "$1")
  if [ -f "$d/weights.safetensors" ]; then echo "$d/weights.safetensors"; else cat "$d/weights.init"; fi
}

# NVRTC of the node's CUDA (13): the toolkit's, else the pip wheel's
nvrtc=""
for d in ${CUDA_HOME:-/usr/local/cuda}/lib64 /usr/local/cuda/lib64 /usr/local/cuda-13*/lib64 \
         $("$PYTHON" -c 'import nvidia.cu13, os; print(os.path.dirname(nvidia.cu13.__file__) + "/lib")' 2>/dev/null) \
         $("$PYTHON" -c 'import nvidia.cuda_nvrtc, os; print(os.path.dirname(nvidia.cuda_nvrtc.__file__) + "/lib")' 2>/dev/null); do
  if [ -e "$d/libnvrtc.so.13" ]; then nvrtc=$d; break; fi
done
[ -n "$nvrtc" ] || nvrtc=$(dirname "$(find / -name 'libnvrtc.so.13' 2>/dev/null | head -1)")
echo "NVRTC from $nvrtc" | tee "$out/parity.log"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv > "$out/gpu.txt" 2>&1
else
  echo "no nvidia-smi here${HEPNC_GPU_EMULATE:+ (HEPNC_GPU_EMULATE=$HEPNC_GPU_EMULATE: the emulated GPU)}" > "$out/gpu.txt"
fi
cat "$out/gpu.txt"
export HEPNC_CACHE=${HEPNC_CACHE:-/tmp/hepnc_gpu_cache}
logs=$out/logs
mkdir -p "$logs"
raw=$out/raw.jsonl
: > "$raw"
rc=0
for h in "$bundle"/bin/gpu_harness-*; do
  name=${h##*/gpu_harness-}    # MODEL, MODEL__chunkN (another chunk size), MODEL__aot (nvcc's image)
  m=${name%%__*}
  args=()
  case " ${TIMED:-part_jetclass_kin particlenet_jetclass_kin} " in *" $m "*) args=(--batches "$BATCHES" --seconds "$SECONDS_PER");; esac
  echo "== $name" | tee -a "$out/parity.log"
  [ -n "${EVENTS:-}" ] && args+=(--events "$EVENTS")
  LD_LIBRARY_PATH=$bundle/lib:$nvrtc "$h" "$bundle/data/$m/weights.safetensors" "$bundle/data/$m/inputs.h5" "${args[@]}" \
    > "$logs/$name.log" 2>&1
  r=$?
  grep -v '^{' "$logs/$name.log" | tee -a "$out/parity.log"
  grep '^{' "$logs/$name.log" | sed "s/\"model\": \"$m\"/\"model\": \"$name\"/" >> "$raw"
  [ $r -eq 0 ] || { echo "   exit $r" | tee -a "$out/parity.log"; rc=1; }
done

# the GPU training steps against the C steps (parity), the JetClass ParT's timed at TRAIN_BATCHES
for h in "$bundle"/bin/train_harness-*; do
  [ -e "$h" ] || continue
  m=${h##*/train_harness-}
  w=$(train_weights "$m")
  args=()
  [ "$m" = "$main" ] && args=(--batches "${TRAIN_BATCHES:-256,512}" --seconds "$SECONDS_PER")
  echo "== training step: $m" | tee -a "$out/parity.log"
  LD_LIBRARY_PATH=$bundle/lib:$nvrtc "$h" "$w" "$(train_data "$m")/inputs.h5" --events "${TRAIN_EVENTS:-64}" "${args[@]}" > "$logs/train-$m.log" 2>&1
  r=$?
  grep -v '^{' "$logs/train-$m.log" | tee -a "$out/parity.log"
  grep '^{' "$logs/train-$m.log" >> "$raw"
  [ $r -eq 0 ] || { echo "   exit $r" | tee -a "$out/parity.log"; rc=1; }
done

if [ "${TF32:-1}" = 1 ] && [ -x "$bundle/bin/gpu_harness-$main" ]; then   # TF32 GEMMs (HEPNC_GPU_TF32=1)
  m=$main
  echo "== $m with HEPNC_GPU_TF32=1 (tolerance 1e-2)" | tee -a "$out/parity.log"
  HEPNC_GPU_TF32=1 LD_LIBRARY_PATH=$bundle/lib:$nvrtc "$bundle/bin/gpu_harness-$m" "$bundle/data/$m/weights.safetensors" \
    "$bundle/data/$m/inputs.h5" --tol 1e-2 --batches "$BATCHES" --seconds "$SECONDS_PER" > "$logs/$m-tf32.log" 2>&1 || rc=1
  grep -v '^{' "$logs/$m-tf32.log" | tee -a "$out/parity.log"
  grep '^{' "$logs/$m-tf32.log" >> "$raw"
fi

if [ "${BF16:-1}" = 1 ] && [ -x "$bundle/bin/gpu_harness-$main" ]; then   # bf16 GEMMs (HEPNC_GPU_BF16=1)
  m=$main
  echo "== $m with HEPNC_GPU_BF16=1 (tolerance 0.1)" | tee -a "$out/parity.log"
  HEPNC_GPU_BF16=1 LD_LIBRARY_PATH=$bundle/lib:$nvrtc "$bundle/bin/gpu_harness-$m" "$bundle/data/$m/weights.safetensors" \
    "$bundle/data/$m/inputs.h5" --tol 0.1 --batches "$BATCHES" --seconds "$SECONDS_PER" > "$logs/$m-bf16.log" 2>&1 || rc=1
  grep -v '^{' "$logs/$m-bf16.log" | tee -a "$out/parity.log"
  grep '^{' "$logs/$m-bf16.log" >> "$raw"
fi

if [ "${PROFILE:-0}" = 1 ]; then   # per-kernel times at the largest batch (every launch synchronised)
  for m in ${PROFILE_MODELS:-$main}; do
    [ -x "$bundle/bin/gpu_harness-$m" ] || continue
    echo "== $m: HEPNC_GPU_PROFILE=1 at batch ${BATCHES##*,}" | tee -a "$out/profile.txt"
    HEPNC_GPU_PROFILE=1 LD_LIBRARY_PATH=$bundle/lib:$nvrtc "$bundle/bin/gpu_harness-$m" "$bundle/data/$m/weights.safetensors" \
      "$bundle/data/$m/inputs.h5" --batches "${BATCHES##*,}" --seconds 0 2>&1 | grep -v '^{' | sed -n '/GPU profile/,$p' | head -40 | tee -a "$out/profile.txt"
  done
  h=$bundle/bin/train_harness-$main tb=${TRAIN_BATCHES:-256,512}
  if [ -x "$h" ]; then   # the training step's kernels (the parity steps, then the timed ones, full and trimmed)
    echo "== training step of $main: HEPNC_GPU_PROFILE=1 at batch ${tb##*,}" | tee -a "$out/profile.txt"
    w=$(train_weights "$main")
    HEPNC_GPU_PROFILE=1 LD_LIBRARY_PATH=$bundle/lib:$nvrtc "$h" "$w" \
      "$(train_data "$main")/inputs.h5" --events "${TRAIN_EVENTS:-64}" --batches "${tb##*,}" --seconds 0 2>&1 | grep -v '^{' |
      sed -n '/GPU profile/,$p' | head -50 | tee -a "$out/profile.txt"
  fi
fi

if [ -n "$MODES" ] && [ -d "$bundle/torch_work" ] && ls "$bundle"/wheels/*.whl >/dev/null 2>&1; then
  site=/tmp/hepnc_bench_site
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --target "$site" "$bundle"/wheels/*.whl
  echo "== PyTorch (weaver-core ParticleTransformer) on the GPU"
  PYTHONPATH=$site PYTHONUNBUFFERED=1 "$PYTHON" "$here/bench_torch_gpu.py" "$bundle/torch_work" --batches "$BATCHES" \
    --seconds "$SECONDS_PER" --modes "$MODES" --device "${TORCH_DEVICE:-cuda}" 2> "$logs/torch.err" | tee -a "$raw"
  if [ -d "$bundle/torch_work/particlenet" ]; then
    echo "== PyTorch (weaver-core ParticleNet) on the GPU"
    PYTHONPATH=$site PYTHONUNBUFFERED=1 "$PYTHON" "$here/bench_torch_particlenet_gpu.py" "$bundle/torch_work/particlenet" \
      --batches "$BATCHES" --seconds "$SECONDS_PER" --modes "${PN_MODES:-eager,compile}" --device "${TORCH_DEVICE:-cuda}" 2>> "$logs/torch.err" | tee -a "$raw"
  fi
  echo "== PyTorch training steps (forward, loss, backward)"
  PYTHONPATH=$site PYTHONUNBUFFERED=1 "$PYTHON" "$here/bench_torch_gpu.py" "$bundle/torch_work" --train \
    --batches "${TRAIN_BATCHES:-256,512}" --seconds "$SECONDS_PER" --modes "${TRAIN_MODES:-eager-trim,eager,compile}" --device "${TORCH_DEVICE:-cuda}" \
    2>> "$logs/torch.err" | tee -a "$raw"
  tail -5 "$logs/torch.err"
fi
# the tables (report.py) of every timed model, for docs/performance.md
for m in $main ${TIMED:-part_jetclass_kin particlenet_jetclass_kin}; do
  grep -q "\"model\": \"$m" "$raw" || continue
  case " ${done_models:-} " in *" $m "*) continue;; esac
  done_models="${done_models:-} $m"
  { echo "## $m"; echo; "$PYTHON" "$here/report.py" "$raw" --model "$m"; echo; } >> "$out/report.md" 2>> "$logs/report.err" || rc=1
done
tar -C "$out" -czf "$out/logs.tgz" logs && rm -rf "$logs"
exit $rc
