#!/usr/bin/env bash
# bench/part_gpu/run.sh — on a GPU node: every model's GPU object against its CPU object (parity), the
# JetClass ParT's GPU timings at batch 1, 256 and 4096 beside weaver-core's PyTorch model (eager, eager
# with weaver's trimming, torch.compile) on the same jets and weights, every GPU training step against its
# C step, the JetClass ParT's timed at TRAIN_BATCHES (default 256,512; over every slot and trimmed to the
# batch's largest count) beside PyTorch's training step (forward, loss, backward; TRAIN_MODES), and
# weaver's ParticleNet beside hepnc's (PN_MODES), in one run.
#
#   bench/part_gpu/run.sh BUNDLE OUT        # BUNDLE from bench/part_gpu/build.sh: its folder or its .tar.xz
#
# The sections run in the order of what the CUDA issue's targets need, most needed first, so that a run
# cut short (BUDGET_S, or the device call's limit) has measured what matters most:
#   1. MAIN's inference: parity against the CPU object and timing
#   2. MAIN's training step: parity against the C step and timing
#   3. PyTorch's training step (TRAIN_MODES)        4. PyTorch's inference (MODES)
#   5. every other model's inference parity (ParticleNet timed), other chunk sizes, nvcc's image
#   6. PyTorch's ParticleNet (PN_MODES)             7. every other model's training-step parity
#   8. MAIN in TF32 and bf16                        9. the kernel profile (PROFILE=1)
#  10. compute-sanitizer's memcheck, racecheck and synccheck on SANITIZE_MODEL (default part_small; SANITIZE=0: not)
# OUT/report.md (report.py's tables) is rewritten after each section. Also OUT/raw.jsonl (one JSON object
# per timing), OUT/parity.log, OUT/gpu.txt (nvidia-smi), OUT/sections.txt (each section's seconds, or why it
# was skipped) and OUT/logs.tgz (every log).
# Environment:
#   BUDGET_S       seconds the whole run may take (default: no limit); a section that would start with
#                  less than MIN_SECTION_S (default 20) left is skipped and said so, and each command is
#                  stopped at the budget (its timings so far kept). Within one 10-minute device call: 480.
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
# Within one 10-minute device call: BUDGET_S=480 SECONDS_PER=1 PROFILE=1 MODES=eager-trim,eager
# TRAIN_MODES=eager-trim,eager PN_MODES=eager (torch.compile's compiles dominate otherwise). With
# HEPNC_GPU_EMULATE=1 and TORCH_DEVICE=cpu the whole run is a rehearsal without a GPU (docs/performance.md,
# "Before a GPU run"); tests/cuda/bench_part_gpu_emulated.sh runs a small bundle with MAIN=part_small in
# every CI run.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$2
mkdir -p "$out"
out=$(cd "$out" && pwd)
case "$1" in
  *.tar.xz)   # the archive build.sh writes to travel light: unpacked beside the node's temporary files
    unpack=$(mktemp -d "${TMPDIR:-/tmp}/hepnc_gpu_bundle.XXXXXX") || exit 2
    trap 'rm -rf "$unpack"' EXIT
    tar -xJf "$1" -C "$unpack" || { echo "run.sh: cannot unpack $1" >&2; exit 2; }
    bundle=$(find "$unpack" -mindepth 1 -maxdepth 1 -type d | head -1);;
  *) bundle=$(cd "$1" && pwd);;
esac
[ -d "$bundle/bin" ] || { echo "run.sh: $1 holds no bundle (no bin/)" >&2; exit 2; }
BATCHES=${BATCHES:-1,256,4096} SECONDS_PER=${SECONDS_PER:-2} MODES=${MODES-eager-trim,eager,compile,eager-trim-tf32}
PYTHON=${PYTHON:-python3}
main=${MAIN:-part_jetclass_kin}
timed=${TIMED:-part_jetclass_kin particlenet_jetclass_kin}
train_batches=${TRAIN_BATCHES:-256,512}
budget=${BUDGET_S:-0} min_section=${MIN_SECTION_S:-20}
SECONDS=0

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
: > "$out/sections.txt"
rc=0

# --- the budget -------------------------------------------------------------------------------------------
left() { echo $((budget - SECONDS)); }
bounded() {   # COMMAND...: runs it, stopped when the budget is spent (exit 124, its output so far kept)
  local l; l=$(left)
  if [ "$budget" -le 0 ]; then "$@"; else timeout --kill-after=5 "$((l > 1 ? l : 1))" "$@"; fi
}
section() {   # NAME FUNCTION [ARGS]: runs FUNCTION unless the budget is too short, notes its seconds
  local name=$1 start=$SECONDS; shift
  if [ "$budget" -gt 0 ] && [ "$(left)" -lt "$min_section" ]; then
    echo "skipped: $name (budget: $(left) s of $budget s left)" | tee -a "$out/sections.txt" "$out/parity.log"
    return
  fi
  "$@"
  echo "$name: $((SECONDS - start)) s" >> "$out/sections.txt"
  write_report
}
note_exit() {   # WHAT STATUS: a failed or stopped command makes the run fail, said in parity.log
  [ "$2" -eq 0 ] && return
  if [ "$2" -eq 124 ] || [ "$2" -eq 137 ]; then echo "   $1: stopped at the budget ($budget s)" | tee -a "$out/parity.log"
  else echo "   $1: exit $2" | tee -a "$out/parity.log"; fi
  rc=1
}
write_report() {   # OUT/report.md: report.py's tables of every timed model, from what raw.jsonl holds so far
  local m done_models="" tmp=$out/report.md.tmp
  : > "$tmp"
  for m in $main $timed; do
    grep -q "\"model\": \"$m" "$raw" || continue
    case " $done_models " in *" $m "*) continue;; esac
    done_models="$done_models $m"
    { echo "## $m"; echo; "$PYTHON" "$here/report.py" "$raw" --model "$m"; echo; } >> "$tmp" 2>> "$logs/report.err" || rc=1
  done
  mv "$tmp" "$out/report.md"
}

# --- the sections -----------------------------------------------------------------------------------------
run_harness() {   # LOG WHAT SED HARNESS ARGS...: a harness of the bundle within the budget, its output in
                  # logs/LOG.log; its check lines to parity.log, its JSON timing lines (through SED) to raw.jsonl
  local log=$logs/$1.log what=$2 edit=$3 r; shift 3
  LD_LIBRARY_PATH=$bundle/lib:$nvrtc bounded "$@" > "$log" 2>&1
  r=$?
  grep -v '^{' "$log" | tee -a "$out/parity.log"
  grep '^{' "$log" | sed "$edit" >> "$raw"
  note_exit "$what" $r
}
infer_harness() {   # NAME: gpu_harness-NAME (MODEL, MODEL__chunkN another chunk size, MODEL__aot nvcc's image)
  local name=$1 m=${1%%__*} args=()
  case " $timed " in *" $m "*) args=(--batches "$BATCHES" --seconds "$SECONDS_PER");; esac
  [ -n "${EVENTS:-}" ] && args+=(--events "$EVENTS")
  echo "== $name" | tee -a "$out/parity.log"
  run_harness "$name" "$name" "s/\"model\": \"$m\"/\"model\": \"$name\"/" "$bundle/bin/gpu_harness-$name" \
    "$bundle/data/$m/weights.safetensors" "$bundle/data/$m/inputs.h5" "${args[@]}"
}
infer_others() {   # every inference harness but MAIN's own
  local h name
  for h in "$bundle"/bin/gpu_harness-*; do
    name=${h##*/gpu_harness-}
    [ "$name" = "$main" ] && continue
    if [ "$budget" -gt 0 ] && [ "$(left)" -lt 5 ]; then echo "skipped: $name (budget)" | tee -a "$out/parity.log"; continue; fi
    infer_harness "$name"
  done
}
train_harness() {   # MODEL: its GPU training step against its C step; MAIN's also timed at TRAIN_BATCHES
  local m=$1 w args=()
  w=$(train_weights "$m")
  [ "$m" = "$main" ] && args=(--batches "$train_batches" --seconds "$SECONDS_PER")
  echo "== training step: $m" | tee -a "$out/parity.log"
  run_harness "train-$m" "training step $m" "" "$bundle/bin/train_harness-$m" "$w" "$(train_data "$m")/inputs.h5" \
    --events "${TRAIN_EVENTS:-64}" "${args[@]}"
}
train_others() {
  local h m
  for h in "$bundle"/bin/train_harness-*; do
    [ -e "$h" ] || continue
    m=${h##*/train_harness-}
    [ "$m" = "$main" ] && continue
    if [ "$budget" -gt 0 ] && [ "$(left)" -lt 5 ]; then echo "skipped: training step $m (budget)" | tee -a "$out/parity.log"; continue; fi
    train_harness "$m"
  done
}
site=/tmp/hepnc_bench_site
torch_ready() {   # weaver-core's wheel installed once for the PyTorch sections; false where there is none
  [ -n "$MODES" ] && [ -d "$bundle/torch_work" ] && ls "$bundle"/wheels/*.whl >/dev/null 2>&1 || return 1
  [ -e "$site/.installed" ] && return 0
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --upgrade --target "$site" "$bundle"/wheels/*.whl && touch "$site/.installed"
}
torch_bench() {   # TITLE SCRIPT WORK ARGS...: one PyTorch script, its JSON lines into raw.jsonl
  local title=$1 script=$2 work=$3 r; shift 3
  torch_ready || { echo "== $title: skipped (no PyTorch work folder or weaver-core wheel in the bundle, or MODES empty)"; return; }
  echo "== $title"
  PYTHONPATH=$site PYTHONUNBUFFERED=1 bounded "$PYTHON" "$here/$script" "$work" --seconds "$SECONDS_PER" \
    --device "${TORCH_DEVICE:-cuda}" "$@" 2>> "$logs/torch.err" | tee -a "$raw"
  r=${PIPESTATUS[0]}
  tail -3 "$logs/torch.err"
  note_exit "$title" "$r"
}
torch_train() {
  torch_bench "PyTorch training steps (forward, loss, backward)" bench_torch_gpu.py "$bundle/torch_work" --train \
    --batches "$train_batches" --modes "${TRAIN_MODES:-eager-trim,eager,compile}"
}
torch_infer() {
  torch_bench "PyTorch (weaver-core ParticleTransformer) on the GPU" bench_torch_gpu.py "$bundle/torch_work" \
    --batches "$BATCHES" --modes "$MODES"
}
torch_particlenet() {
  [ -d "$bundle/torch_work/particlenet" ] || return 0
  torch_bench "PyTorch (weaver-core ParticleNet) on the GPU" bench_torch_particlenet_gpu.py "$bundle/torch_work/particlenet" \
    --batches "$BATCHES" --modes "${PN_MODES:-eager,compile}"
}
reduced_math() {   # ENV TOLERANCE TAG: MAIN with TF32 or bf16 GEMMs
  local m=$main
  echo "== $m with $1=1 (tolerance $2)" | tee -a "$out/parity.log"
  run_harness "$m-$3" "$m $3" "" env "$1=1" "$bundle/bin/gpu_harness-$m" "$bundle/data/$m/weights.safetensors" \
    "$bundle/data/$m/inputs.h5" --tol "$2" --batches "$BATCHES" --seconds "$SECONDS_PER"
}
profile() {   # per-kernel times at the largest batch (every launch synchronised)
  local m h tb=$train_batches w
  for m in ${PROFILE_MODELS:-$main}; do
    [ -x "$bundle/bin/gpu_harness-$m" ] || continue
    echo "== $m: HEPNC_GPU_PROFILE=1 at batch ${BATCHES##*,}" | tee -a "$out/profile.txt"
    HEPNC_GPU_PROFILE=1 LD_LIBRARY_PATH=$bundle/lib:$nvrtc bounded "$bundle/bin/gpu_harness-$m" "$bundle/data/$m/weights.safetensors" \
      "$bundle/data/$m/inputs.h5" --batches "${BATCHES##*,}" --seconds 0 2>&1 | grep -v '^{' | sed -n '/GPU profile/,$p' | head -40 | tee -a "$out/profile.txt"
  done
  h=$bundle/bin/train_harness-$main
  if [ -x "$h" ]; then   # the training step's kernels (the parity steps, then the timed ones, full and trimmed)
    echo "== training step of $main: HEPNC_GPU_PROFILE=1 at batch ${tb##*,}" | tee -a "$out/profile.txt"
    w=$(train_weights "$main")
    HEPNC_GPU_PROFILE=1 LD_LIBRARY_PATH=$bundle/lib:$nvrtc bounded "$h" "$w" \
      "$(train_data "$main")/inputs.h5" --events "${TRAIN_EVENTS:-64}" --batches "${tb##*,}" --seconds 0 2>&1 | grep -v '^{' |
      sed -n '/GPU profile/,$p' | head -50 | tee -a "$out/profile.txt"
  fi
}
sanitize() {   # SANITIZE_MODEL's inference and training step under compute-sanitizer's memcheck, racecheck and
               # synccheck: out-of-bounds accesses, shared-memory races and barrier misuse on the hardware
               # (the emulated GPU runs whole lanes and warps in a few orders: a race that none of them shows,
               # or one that needs the hardware's scheduling, only shows here)
  local cs m=${SANITIZE_MODEL:-part_small} tool r w
  cs=$(command -v compute-sanitizer || ls ${CUDA_HOME:-/usr/local/cuda}/bin/compute-sanitizer \
       /usr/local/cuda/compute-sanitizer/compute-sanitizer 2>/dev/null | head -1) && [ -n "$cs" ] ||
    { echo "== compute-sanitizer: not on this node" | tee -a "$out/parity.log"; return 0; }
  [ -n "${HEPNC_GPU_EMULATE:-}" ] && { echo "== compute-sanitizer: not on the emulated GPU" | tee -a "$out/parity.log"; return 0; }
  for tool in memcheck racecheck synccheck; do
    if [ -x "$bundle/bin/gpu_harness-$m" ]; then
      LD_LIBRARY_PATH=$bundle/lib:$nvrtc bounded "$cs" --tool "$tool" --error-exitcode 3 "$bundle/bin/gpu_harness-$m" \
        "$bundle/data/$m/weights.safetensors" "$bundle/data/$m/inputs.h5" --events 8 > "$logs/sanitize-$tool-$m.log" 2>&1
      r=$?
      echo "== compute-sanitizer $tool, $m inference: $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$logs/sanitize-$tool-$m.log" | tail -1)" | tee -a "$out/parity.log"
      note_exit "compute-sanitizer $tool $m" $r
    fi
    if [ -x "$bundle/bin/train_harness-$m" ]; then
      w=$(train_weights "$m")
      LD_LIBRARY_PATH=$bundle/lib:$nvrtc bounded "$cs" --tool "$tool" --error-exitcode 3 "$bundle/bin/train_harness-$m" \
        "$w" "$(train_data "$m")/inputs.h5" --events 4 > "$logs/sanitize-$tool-train-$m.log" 2>&1
      r=$?
      echo "== compute-sanitizer $tool, $m training step: $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$logs/sanitize-$tool-train-$m.log" | tail -1)" | tee -a "$out/parity.log"
      note_exit "compute-sanitizer $tool $m training" $r
    fi
  done
}

[ -x "$bundle/bin/gpu_harness-$main" ] && section "1 $main inference" infer_harness "$main"
[ -x "$bundle/bin/train_harness-$main" ] && section "2 $main training step" train_harness "$main"
section "3 PyTorch training step" torch_train
section "4 PyTorch inference" torch_infer
section "5 other models' inference" infer_others
section "6 PyTorch ParticleNet" torch_particlenet
section "7 other models' training steps" train_others
if [ -x "$bundle/bin/gpu_harness-$main" ]; then
  [ "${TF32:-1}" = 1 ] && section "8 $main TF32" reduced_math HEPNC_GPU_TF32 1e-2 tf32
  [ "${BF16:-1}" = 1 ] && section "8 $main bf16" reduced_math HEPNC_GPU_BF16 0.1 bf16
fi
[ "${PROFILE:-0}" = 1 ] && section "9 profile" profile
[ "${SANITIZE:-1}" = 1 ] && section "10 compute-sanitizer" sanitize
write_report
echo "== sections (seconds)"; cat "$out/sections.txt"
tar -C "$out" -czf "$out/logs.tgz" logs && rm -rf "$logs"
exit $rc
