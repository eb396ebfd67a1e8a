#!/usr/bin/env bash
# Convergence of hepnc's training against PyTorch's on the bundled top/QCD jets (compare.py says how the
# two are kept identical). Usage: bench/train_convergence/run.sh [SEEDS="1 2 3"]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
py=${PYTHON:-}
for c in "$root/.venv-parity/bin/python" /tmp/wvenv/bin/python; do [ -z "$py" ] && [ -x "$c" ] && py=$c; done
[ -z "$py" ] && { "$root/tools/parity-env.sh" >/dev/null; py=$root/.venv-parity/bin/python; }
work=$root/build/bench/train_convergence
mkdir -p "$work"
"$root/build/hepnc" split "$root/examples/data/topqcd_sample.h5" -o "$work/t" --seed 1 >/dev/null
for s in ${1:-1 2 3}; do OMP_NUM_THREADS=1 "$py" "$root/bench/train_convergence/compare.py" "$work" "$root/build/hepnc" --seed "$s"; done
