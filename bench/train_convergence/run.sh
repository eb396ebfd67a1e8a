#!/usr/bin/env bash
# Convergence of `hepnc train` against PyTorch on the bundled Pythia8 top/QCD jets (issue #5 item 6):
# models/part_top_small.yaml trained by hepnc and by weaver-core's ParticleTransformer from the same
# initial parameters on the same batch order (compare.py lists what is kept identical and how).
#
#   bench/train_convergence/run.sh [SEEDS]      default "1"; e.g. "1 2 3"
#
# Needs build/hepnc (make) and a Python with torch + weaver-core 0.4.17 + h5py + matplotlib
# ($PYTHON, else .venv-parity from tools/parity-env.sh, else /tmp/wvenv). Work files:
# build/bench/train_convergence/ (the split, per seed: hepnc's run directory, its test evaluations and
# scores, the initial parameters and per-step losses, result.json). The loss curves of the first seed
# go to docs/img/train_convergence.png. One thread everywhere (OMP, OpenBLAS, torch).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
seeds=${1:-1}
[ -x build/hepnc ] && [ -f build/runtime/libhepnc_runtime.a ] || { echo "run.sh: build hepnc first (make)" >&2; exit 1; }
py=${PYTHON:-}
for c in "$root/.venv-parity/bin/python" /tmp/wvenv/bin/python; do [ -z "$py" ] && [ -x "$c" ] && py=$c; done
[ -z "$py" ] && { "$root/tools/parity-env.sh" >/dev/null; py=$root/.venv-parity/bin/python; }
work=$root/build/bench/train_convergence
spec=models/part_top_small.yaml
mkdir -p "$work/bin"
# private copies, so that a rebuild of build/ during the run cannot mix two versions
cp build/hepnc "$work/bin/hepnc"
cp build/runtime/libhepnc_runtime.a "$work/bin/"
hepnc=$work/bin/hepnc
export HEPNC_CACHE=$work/cache OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
hdf5=/usr/lib/x86_64-linux-gnu/hdf5/serial

# 1. the split of demo.sh: 910 / 195 / 195 jets
"$hepnc" split examples/data/topqcd_sample.h5 -o "$work/tq" --seed 1

# the helper that exports hn_init_params and logs every step's loss (hepnc_steps.c), on libhepnc
cc -O2 -Wall -I runtime/include bench/train_convergence/hepnc_steps.c -o "$work/hepnc_steps" -rdynamic \
    -Wl,--whole-archive "$work/bin/libhepnc_runtime.a" -Wl,--no-whole-archive -L"$hdf5" -Wl,-rpath,"$hdf5" \
    -lhdf5 -lcjson -lopenblas -ldl -lm

for s in $seeds; do
  d=$work/seed$s
  rm -rf "$d"
  mkdir -p "$d"
  echo "== seed $s: hepnc train (fresh parameters from the seed)"
  seedflag=()
  [ "$s" != 1 ] && seedflag=(--seed "$s")          # 1 is the spec's own seed
  "$hepnc" train "$spec" --data "$work/tq_train.h5" --val "$work/tq_val.h5" -o "$d/hepnc_run" "${seedflag[@]}" \
      --threads 1 --quiet --signal-class 0 --background-class 1
  for c in best last; do
    "$hepnc" eval "$spec" --weights "$d/hepnc_run/$c.safetensors" --data "$work/tq_test.h5" \
        --signal-class 0 --background-class 1 > "$d/${c}_eval.txt"
    "$hepnc" infer "$spec" --weights "$d/hepnc_run/$c.safetensors" --data "$work/tq_test.h5" \
        --out "$d/${c}_scores.h5" >/dev/null
    echo "   $c checkpoint: test $(grep '^AUC' "$d/${c}_eval.txt")"
  done
  # 2. the initial parameters and per-step losses of that run, from libhepnc's loop with the CLI's
  # settings; the same run: its log.csv must equal the CLI's in every column but the timings
  so=$(dirname "$(ls -t "$work"/cache/*/part_top_small_train.c | head -1)")/model.so
  "$work/hepnc_steps" "$so" "$work/tq_train.h5" "$work/tq_val.h5" "$s" "$d/hx" >/dev/null
  if ! cmp -s <(cut -d, -f1-8 "$d/hepnc_run/log.csv") <(cut -d, -f1-8 "$d/hx/run/log.csv"); then
    echo "run.sh: hepnc_steps's run differs from hepnc train's (settings out of step with cmd_train.c?)" >&2
    exit 1
  fi
  # and the exported parameters are the run's: --init with them gives the same run again (first epoch)
  "$hepnc" train "$spec" --data "$work/tq_train.h5" --val "$work/tq_val.h5" -o "$d/init_check" "${seedflag[@]}" \
      --init "$d/hx/init.safetensors" --threads 1 --quiet --epochs 8 --max-steps 15 \
      --signal-class 0 --background-class 1 >/dev/null
  if ! cmp -s <(head -2 "$d/hepnc_run/log.csv" | cut -d, -f1-8) <(cut -d, -f1-8 "$d/init_check/log.csv"); then
    echo "run.sh: hx/init.safetensors does not reproduce the run's first epoch" >&2
    exit 1
  fi
  echo "   hx/: initial parameters and per-step losses of the same run (log.csv identical; --init reproduces epoch 1)"
done

# 3. PyTorch, the tables and the plot
"$py" bench/train_convergence/compare.py "$work" --seeds $seeds --plot docs/img/train_convergence.png
