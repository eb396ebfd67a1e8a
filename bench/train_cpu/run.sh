#!/usr/bin/env bash
# Training speed of the JetClass Particle Transformer (models/part_jetclass_kin.yaml, 2.14M parameters)
# on this CPU: hepnc's generated training step beside weaver-core 0.4.17's PyTorch model, same jets
# (the first B of examples/data/topqcd_sample.h5), same batch, same thread count, in one run (hepnc,
# PyTorch, hepnc again; medians). hepnc's step: `hepnc gradcheck --time` (forward in training mode,
# cross-entropy, backward) plus the AdamW step over all 2.14M parameters timed apart by
# bench/train_cpu/optim_time.c. Usage: bench/train_cpu/run.sh [BATCH] [THREADS] [STEPS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
batch=${1:-64} threads=${2:-2} steps=${3:-6}
py=${PYTHON:-}
for c in "$root/.venv-parity/bin/python" /tmp/wvenv/bin/python; do [ -z "$py" ] && [ -x "$c" ] && py=$c; done
[ -z "$py" ] && { "$root/tools/parity-env.sh" >/dev/null; py=$root/.venv-parity/bin/python; }
hepnc=$root/build/hepnc
[ -x "$hepnc" ] || make -C "$root" build >/dev/null
export HEPNC_CACHE=${HEPNC_CACHE:-$root/build/bench_cache}
data=$root/examples/data/topqcd_sample.h5
hepnc_step() {
  OMP_NUM_THREADS=$threads "$hepnc" gradcheck "$root/models/part_jetclass_kin.yaml" --init 1 --data "$data" \
      --events "$batch" --fd 0 --time "$steps" | awk '/training step/ { for (i = 1; i <= NF; ++i) if ($i == "median") print $(i + 1) }'
}
echo "machine: $(lscpu | awk -F: '/Model name/ { gsub(/^ +/, "", $2); print $2 }'), $(nproc) cores; batch $batch, $threads threads"
h1=$(hepnc_step)
torch_out=$(OMP_NUM_THREADS=$threads "$py" "$root/bench/train_cpu/bench_torch.py" "$data" --batch "$batch" --steps "$steps" --threads "$threads")
h2=$(hepnc_step)
cc -O2 -I"$root/runtime/include" "$root/bench/train_cpu/optim_time.c" "$root/build/runtime/libhepnc_runtime.a" -lm -o "$root/build/optim_time"
opt=$("$root/build/optim_time" 2142166)
echo "$torch_out"
"$py" - "$h1" "$h2" "$opt" "$batch" "$torch_out" <<'PY'
import json, statistics, sys
h1, h2, opt, B = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
h = statistics.median([h1, h2]) + opt
print(f"| side | ms per step (median) | jets/s | hepnc / this |")
print(f"|---|---|---|---|")
print(f"| hepnc (runs {h1:.0f}, {h2:.0f} ms + AdamW {opt:.1f} ms) | {h:.0f} | {B / h * 1e3:.1f} | 1 |")
for line in sys.argv[5].splitlines():
    r = json.loads(line)
    name = "PyTorch, trim=True (weaver's default)" if r["trim"] else "PyTorch, trim=False (hepnc's semantics)"
    print(f"| {name}, peak RSS {r['peak_rss_mib']} MiB | {r['median_ms']:.0f} | {r['jets_per_s']:.1f} | {r['median_ms'] / h:.2f}x |")
PY
