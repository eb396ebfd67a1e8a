#!/usr/bin/env bash
# bench/particlenet_cpu/run.sh — hepnc's ParticleNet (models/particlenet_jetclass_kin.yaml) with the trained
# JetClass weights against weaver-core 0.4.17's PyTorch ParticleNet on the same jets and weights, in one run,
# reported as ratios. Same structure and options as bench/part_cpu/run.sh.
#
#   bench/particlenet_cpu/run.sh            # full run (about 3 minutes on 2 cores)
#   QUICK=1 bench/particlenet_cpu/run.sh    # smoke run: few repetitions, numbers not meaningful
#   FRESH=1 bench/particlenet_cpu/run.sh    # regenerate jets, weights and the PyTorch reference
#
# Environment: PYTHON (default .venv-parity/bin/python, made by tools/parity-env.sh), PARTICLENET_PT (default
# ../shared/data/particlenet/ParticleNet_kin.pt next to the repository), REPS (batch-1 calls, default 200),
# BATCHES (timed batches of 256, default 5), THREADS (default "1 2"), SKIP_BUILD=1 (use the existing
# build/hepnc and libhepnc_runtime.a as they are).
# Writes build/bench/particlenet_cpu/{results.json,results.md} and prints the table; data stays under build/.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/bench/particlenet_cpu
out=$root/build/bench/particlenet_cpu
work=$out/work
cd "$root"

PYTHON=${PYTHON:-$root/.venv-parity/bin/python}
if [ ! -x "$PYTHON" ] || ! "$PYTHON" -c "import weaver, torch, h5py" 2>/dev/null; then
  echo "bench/particlenet_cpu: no PyTorch + weaver-core environment at $PYTHON." >&2
  echo "  Run tools/parity-env.sh once (it creates .venv-parity), or set PYTHON=/path/to/python." >&2
  exit 2
fi
PT=${PARTICLENET_PT:-$root/../shared/data/particlenet/ParticleNet_kin.pt}
[ -f "$PT" ] || { echo "bench/particlenet_cpu: no trained checkpoint at $PT (set PARTICLENET_PT)" >&2; exit 2; }
export PARTICLENET_PT=$PT
REPS=${REPS:-200} BATCHES=${BATCHES:-5} THREADS=${THREADS:-"1 2"}
if [ "${QUICK:-0}" = 1 ]; then REPS=20 BATCHES=1; fi

# 1. hepnc itself
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  [ -f build/CMakeCache.txt ] || cmake -S . -B build >/dev/null
  if ! cmake --build build -j2 --target hepnc hepnc_runtime >/dev/null; then
    echo "bench/particlenet_cpu: building hepnc failed (above); SKIP_BUILD=1 benchmarks the existing build/hepnc." >&2
    exit 1
  fi
fi
[ -x build/hepnc ] && [ -f build/runtime/libhepnc_runtime.a ] || { echo "bench/particlenet_cpu: no build/hepnc" >&2; exit 1; }
mkdir -p "$work"

# 2. jets and the PyTorch reference (cached; FRESH=1, a changed script or checkpoint redoes them)
stamp=$( (cat "$here/prepare.py" "$here/common.py" bench/part_cpu/common.py tests/parity/gen_fixtures.py \
          tests/parity/gen_part_fixture.py; sha256sum "$PT" | cut -d" " -f1) | sha256sum | cut -c1-16)
if [ "${FRESH:-0}" = 1 ] || [ "$(cat "$work/stamp" 2>/dev/null)" != "$stamp" ] || [ ! -f "$work/reference.h5" ]; then
  (cd "$here" && "$PYTHON" prepare.py "$work")
  echo "$stamp" > "$work/stamp"
fi
# the trained weights for hepnc: `hepnc import weaver` where this build has it, else tools/weaver_import.py
if build/hepnc import weaver --help >/dev/null 2>&1; then
  build/hepnc import weaver "$PT" --spec models/particlenet_jetclass_kin.yaml -o "$work/weights.safetensors" >/dev/null
else
  "$PYTHON" tools/weaver_import.py "$PT" -o "$work/weights.safetensors" >/dev/null
fi

# 3. the generated model, both back-ends, and the harness
cflags="-std=c11 -O3 -march=native"
inc="-Iruntime/include -Ibench/part_cpu $(pkg-config --cflags hdf5 2>/dev/null || echo -I/usr/include/hdf5/serial)"
inc="$inc -I/usr/include/x86_64-linux-gnu/openblas-pthread"
libs="build/runtime/libhepnc_runtime.a $(pkg-config --libs hdf5 2>/dev/null || echo -lhdf5) -lcjson -lopenblas -lm"
for blas in openblas none; do
  gen=$out/gen-$blas
  build/hepnc compile models/particlenet_jetclass_kin.yaml -o "$gen" --blas $blas >/dev/null
  cc $cflags -o "$out/harness-$blas" "$here/harness.c" "$gen/particlenet_jetclass_kin.c" \
     "$gen/particlenet_jetclass_kin_load.c" -I"$gen" $inc $libs
done
commit=$(git rev-parse --short HEAD)
[ "${SKIP_BUILD:-0}" = 1 ] && commit="$commit (SKIP_BUILD: build/hepnc as found)"
if [ -n "$(git status --porcelain -- compiler templates runtime models 2>/dev/null)" ]; then
  commit="$commit + uncommitted changes in compiler/templates/runtime/models"
fi
build/hepnc check models/particlenet_jetclass_kin.yaml | sed -n 's/^ *workspace */hepnc check: workspace /p'

# 4. both sides, one after the other on an otherwise idle machine
raw=$out/raw.jsonl
load_before=$(cut -d" " -f1-3 /proc/loadavg)
: > "$raw"
args=(--reps "$REPS" --batches "$BATCHES")
[ "${QUICK:-0}" = 1 ] && args+=(--check 8)
for t in $THREADS; do
  echo "hepnc --blas openblas, OPENBLAS_NUM_THREADS=$t ..." >&2
  OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t "$out/harness-openblas" "$work/weights.safetensors" "$work/jets.h5" \
      "$work/reference.h5" "${args[@]}" --label hepnc-openblas >> "$raw"
done
echo "hepnc --blas none (generated loops, single-threaded) ..." >&2
OPENBLAS_NUM_THREADS=1 "$out/harness-none" "$work/weights.safetensors" "$work/jets.h5" "$work/reference.h5" \
    "${args[@]}" --label hepnc-none >> "$raw"
echo "PyTorch (threads: $THREADS) ..." >&2
(cd "$here" && env -u OMP_NUM_THREADS "$PYTHON" bench_torch.py "$work" --threads "$(echo $THREADS | tr ' ' ,)" \
    --reps "$REPS" --batches "$BATCHES") >> "$raw"

# 5. the report
load_after=$(cut -d" " -f1-3 /proc/loadavg)
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
ncpu=$(nproc)
(cd "$here" && COMMIT="$commit" CPU="$cpu, $ncpu CPUs" WORK="$work" LOAD="$load_before -> $load_after" "$PYTHON" - <<'PY'
import json, os, datetime, h5py, torch, importlib.metadata as md
with h5py.File(os.path.join(os.environ["WORK"], "jets.h5"), "r") as f:
    n = f["particles/mask"][...].astype(bool).sum(1)
json.dump(dict(date=datetime.date.today().isoformat(), commit=os.environ["COMMIT"], cpu=os.environ["CPU"],
               torch=torch.__version__, loadavg=os.environ["LOAD"], weaver=md.version("weaver-core"), jets=int(len(n)),
               nmin=int(n.min()), nmax=int(n.max()), nmean=float(n.mean()),
               checkpoint=os.environ["PARTICLENET_PT"]),
          open(os.path.join(os.environ["WORK"], "..", "meta.json"), "w"))
PY
)
"$PYTHON" "$here/report.py" "$raw" "$out/meta.json" "$out"
echo "wrote $out/results.json and $out/results.md" >&2
