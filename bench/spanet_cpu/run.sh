#!/usr/bin/env bash
# bench/spanet_cpu/run.sh — hepnc's SPANet (models/spanet_ttbar.yaml: upstream's example architecture for
# full-hadronic ttbar, 2.54M parameters) against upstream SPANet's PyTorch code on the same events and the
# same weights, in one run, reported as ratios.
#
#   SPANET_SRC=/tmp/spanet-src bench/spanet_cpu/run.sh     # about 3 minutes on 2 cores
#   QUICK=1 ... bench/spanet_cpu/run.sh                    # smoke run: few repetitions, numbers not meaningful
#
# SPANET_SRC: an extracted snapshot of SPANet at the commit tests/parity/spanet_upstream.py pins
# (tests/parity/README.md, "SPANet fixture"); PYTHON (default .venv-parity/bin/python, tools/parity-env.sh).
# REPS (batch-1 calls, default 200), BATCHES (timed batches of 256, default 7), EVENTS (default 2048).
# Writes build/bench/spanet_cpu/{results.md,raw.jsonl}; the events come from ../shared/data/spanet's example
# when it is there (else the parity fixture's 64 events, repeated) and stay under build/.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/bench/spanet_cpu
out=$root/build/bench/spanet_cpu
work=$out/work
cd "$root"
PYTHON=${PYTHON:-$root/.venv-parity/bin/python}
: "${SPANET_SRC:?set SPANET_SRC to an extracted snapshot of SPANet at the pinned commit (tests/parity/README.md)}"
"$PYTHON" -c "import torch, h5py, numba, opt_einsum" 2>/dev/null ||
  { echo "bench/spanet_cpu: no PyTorch + SPANet's dependencies at $PYTHON (tools/parity-env.sh)" >&2; exit 2; }
REPS=${REPS:-200} BATCHES=${BATCHES:-7} EVENTS=${EVENTS:-2048}
if [ "${QUICK:-0}" = 1 ]; then REPS=20 BATCHES=2 EVENTS=512; fi
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  [ -f build/CMakeCache.txt ] || cmake -S . -B build >/dev/null
  cmake --build build -j2 --target hepnc >/dev/null
fi
mkdir -p "$work"
export HEPNC_CACHE=$out/cache

# 1. events, upstream's randomly initialised model (Lightning checkpoint) and its reference log-probabilities
"$PYTHON" "$here/bench_torch.py" prepare "$work" --spanet-src "$SPANET_SRC" --events "$EVENTS" > "$out/raw.jsonl"
build/hepnc import spanet "$work/model.ckpt" --spec models/spanet_ttbar.yaml -o "$work/weights.safetensors" >/dev/null

# 2. hepnc must reproduce upstream's output before anything is timed
rm -f "$work/hepnc.h5"
build/hepnc infer models/spanet_ttbar.yaml --weights "$work/weights.safetensors" --data "$work/events.h5" \
    --out "$work/hepnc.h5" 2>/dev/null
"$PYTHON" - "$work/hepnc.h5" "$work/reference.h5" <<'PY'
import sys, h5py, numpy as np
ours, ref = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
worst = 0.0
for p in ("t1", "t2"):
    b = ref[p]["assignment_log_probability"][...]
    a = ours[p + "_assignment"][: len(b)].reshape(b.shape)
    if not np.array_equal(np.isfinite(a), np.isfinite(b)):
        sys.exit(f"bench/spanet_cpu: {p}: -inf cells differ from upstream's; not timing a wrong model")
    worst = max(worst, float(np.abs(a - b)[np.isfinite(b)].max()))
print(f"check: hepnc against upstream on {len(b)} events, max |d log P| {worst:.2e}", file=sys.stderr)
sys.exit(3 if worst > 1e-3 else 0)
PY

# 3. hepnc: batch-1 latency (hepnc bench) and batch-256 throughput (hepnc infer's model time), 1 and 2 threads
for t in 1 2; do
  lat=$(OPENBLAS_NUM_THREADS=1 build/hepnc bench models/spanet_ttbar.yaml --weights "$work/weights.safetensors" \
        --data "$work/events.h5" --reps "$REPS" --batch 256 2>&1 | sed -n 's/.*batch 1 *median \([0-9.]*\) ms.*/\1/p')
  best=""
  for r in $(seq "$BATCHES"); do
    rm -f "$work/t.h5"
    eps=$(OPENBLAS_NUM_THREADS=1 build/hepnc infer models/spanet_ttbar.yaml --weights "$work/weights.safetensors" \
          --data "$work/events.h5" --out "$work/t.h5" --batch 256 --threads $t 2>&1 |
          sed -n 's/.*model [0-9.]* s, \([0-9]*\) events\/s.*/\1/p')
    best="$best $eps"
  done
  med=$(echo $best | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
  [ "$t" = 1 ] || lat=null       # batch 1 is one event: hepnc bench times it single-threaded
  echo "{\"side\": \"hepnc\", \"threads\": $t, \"batch1_ms\": $lat, \"batch256_events_s\": $med}" >> "$out/raw.jsonl"
done

# 4. PyTorch (upstream SPANet), the same events and weights
"$PYTHON" "$here/bench_torch.py" time "$work" --spanet-src "$SPANET_SRC" --threads 1,2 --reps "$REPS" \
    --batches "$BATCHES" >> "$out/raw.jsonl"

# 5. the table
"$PYTHON" - "$out/raw.jsonl" "$out/results.md" "$(git rev-parse --short HEAD)" <<'PY'
import json, sys, platform, subprocess
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
prep = rows[0]
side = {(r["side"], r["threads"]): r for r in rows[1:]}
cpu = subprocess.run(["sh", "-c", "lscpu | sed -n 's/^Model name: *//p'"], capture_output=True, text=True).stdout.strip()
lines = [f"SPANet ttbar (models/spanet_ttbar.yaml, {prep['parameters']} parameters), {prep['events']} events "
         f"({prep['source']}), commit {sys.argv[3]}, {cpu}", "",
         "| threads | batch 1 latency, hepnc | PyTorch | ratio | batch 256 events/s, hepnc | PyTorch | ratio |",
         "|---|---|---|---|---|---|---|"]
for t in (1, 2):
    h, p = side[("hepnc", t)], side[("pytorch", t)]
    lat = f"{h['batch1_ms']:.3f} ms | {p['batch1_ms']:.3f} ms | {p['batch1_ms'] / h['batch1_ms']:.1f}×" if h["batch1_ms"] else \
          f"— | {p['batch1_ms']:.3f} ms | —"
    lines.append(f"| {t} | {lat} | {h['batch256_events_s']:.0f} | {p['batch256_events_s']:.0f} | "
                 f"{h['batch256_events_s'] / p['batch256_events_s']:.1f}× |")
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
