#!/usr/bin/env bash
# bench/iaformer_cpu/run.sh — hepnc's IAFormer (models/iaformer.yaml: the paper's top-tagging configuration,
# 135 713 parameters) against upstream IAFormer's PyTorch code (wesmail/IAFormer at the commit
# tests/parity/gen_iaformer_fixture.py pins) on the same jets and the same weights, in one run, reported as
# ratios of medians.
#
#   IAFORMER_SRC=/tmp/iaformer-src bench/iaformer_cpu/run.sh        # about 5 minutes on 2 cores
#   QUICK=1 IAFORMER_SRC=... bench/iaformer_cpu/run.sh              # smoke run: 32 jets, batch 32, few repetitions
#
# IAFORMER_SRC: an extracted snapshot of IAFormer at the pinned commit (tests/parity/README.md):
#   mkdir -p /tmp/iaformer-src && git --git-dir=<IAFormer mirror> archive e05279675ae9 | tar -x -C /tmp/iaformer-src
# PYTHON (default .venv-torch2/bin/python: torch 2.4.1, awkward, vector, pandas; tools/parity-env.sh).
# EVENTS (jets, half top half QCD, default 256), BATCH (default 256), REPS (batch-1 calls, default 100),
# BATCHES (hepnc's timed runs at batch BATCH, default 3), TORCH_BATCHES (upstream's timed batches, default 2:
# one takes about a minute here), THREADS (default 1,2), SKIP_BUILD=1 (use build/hepnc as it is).
# Writes build/bench/iaformer_cpu/{results.md,raw.jsonl}; the work files stay in build/bench/iaformer_cpu/work.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/bench/iaformer_cpu
out=$root/build/bench/iaformer_cpu
work=$out/work
cd "$root"
PYTHON=${PYTHON:-$root/.venv-torch2/bin/python}
[ -x "$PYTHON" ] ||
  { echo "bench/iaformer_cpu: no Python at $PYTHON: run tools/parity-env.sh (it builds .venv-torch2) or set PYTHON" >&2; exit 2; }
"$PYTHON" -c "import torch, h5py, awkward, vector, pandas" 2>/dev/null ||
  { echo "bench/iaformer_cpu: $PYTHON lacks torch, h5py, awkward, vector or pandas (tools/parity-env.sh)" >&2; exit 2; }
if [ -z "${IAFORMER_SRC:-}" ] || [ ! -f "$IAFORMER_SRC/training/models/models.py" ] || [ ! -f "$IAFORMER_SRC/utils/graph_builder.py" ]; then
  echo "bench/iaformer_cpu: set IAFORMER_SRC to an extracted snapshot of IAFormer at the pinned commit e05279675ae9" \
       "(tests/parity/README.md; got '${IAFORMER_SRC:-}')" >&2
  exit 2
fi
REPS=${REPS:-100} BATCHES=${BATCHES:-3} TORCH_BATCHES=${TORCH_BATCHES:-2} EVENTS=${EVENTS:-256} BATCH=${BATCH:-256}
THREADS=${THREADS:-1,2}
if [ "${QUICK:-0}" = 1 ]; then REPS=10 BATCHES=1 TORCH_BATCHES=1 EVENTS=32 BATCH=32; fi
[ "$EVENTS" -ge "$BATCH" ] || { echo "bench/iaformer_cpu: EVENTS ($EVENTS) must be at least BATCH ($BATCH)" >&2; exit 2; }
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  [ -f build/CMakeCache.txt ] || cmake -S . -B build >/dev/null
  cmake --build build -j2 --target hepnc >/dev/null ||
    { echo "bench/iaformer_cpu: building hepnc failed (SKIP_BUILD=1 times build/hepnc as it is)" >&2; exit 1; }
fi
mkdir -p "$work"
export HEPNC_CACHE=$out/cache
spec=models/iaformer.yaml
load0=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s)

# 1. jets through upstream's graph builder and loader, upstream's model (Lightning checkpoint), its logits
echo "prepare: $EVENTS jets through upstream's graph builder, the model, upstream's logits (one thread) ..." >&2
"$PYTHON" "$here/bench_torch.py" prepare "$work" --iaformer-src "$IAFORMER_SRC" --events "$EVENTS" > "$out/raw.jsonl"
build/hepnc import iaformer "$work/model.ckpt" --spec $spec -o "$work/weights.safetensors" >/dev/null

# 2. hepnc must reproduce upstream's logits on every event before anything is timed
rm -f "$work/hepnc.h5"
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 build/hepnc infer $spec --weights "$work/weights.safetensors" \
    --data "$work/events.h5" --out "$work/hepnc.h5" --batch "$BATCH" 2>/dev/null
"$PYTHON" - "$work/hepnc.h5" "$work/reference.h5" "$out/raw.jsonl" <<'PY'
import json, sys, h5py, numpy as np
ours, ref = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
a, b = ours["logits"][...].reshape(-1), ref["logits"][...].reshape(-1)
if a.shape != b.shape or not np.all(np.isfinite(a)):
    sys.exit(f"bench/iaformer_cpu: hepnc's logits {a.shape} (finite: {np.isfinite(a).all()}) against upstream's {b.shape}")
d = np.abs(a - b)
worst, at = float(d.max()), int(d.argmax())
print(f"check: hepnc against upstream on {len(b)} events, max |d logit| {worst:.2e} (event {at}, logit {b[at]:.4f})",
      file=sys.stderr)
with open(sys.argv[3], "a") as f:
    f.write(json.dumps({"check_events": len(b), "max_abs_dlogit": worst, "tolerance": 1e-4}) + "\n")
if worst > 1e-4:
    sys.exit(f"bench/iaformer_cpu: hepnc's logits differ from upstream's by {worst:.2e} > 1e-4: not timing a wrong model")
PY

# 3. hepnc: batch-1 latency (hepnc bench: REPS single-event calls cycling through the first BATCH events, one
#    thread; its median of 7 batches of BATCH is kept as a cross-check) and throughput at batch BATCH (hepnc
#    infer's model time over the EVENTS events, median of BATCHES runs), per thread count
echo "hepnc ..." >&2
b=$(OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 build/hepnc bench $spec --weights "$work/weights.safetensors" \
      --data "$work/events.h5" --reps "$REPS" --batch "$BATCH" 2>&1)
lat=$(echo "$b" | sed -n 's/.*batch 1 *median \([0-9.]*\) ms.*/\1/p')
p90=$(echo "$b" | sed -n 's/.*p90 \([0-9.]*\) ms.*/\1/p')
bthr=$(echo "$b" | sed -n "s/.*batch $BATCH *\([0-9.]*\) events\/s.*/\1/p")
wsb=$(echo "$b" | sed -n "s/.*workspace .* at batch 1, \([0-9]*\) at batch $BATCH.*/\1/p")
[ -n "$lat" ] && [ -n "$bthr" ] || { echo "bench/iaformer_cpu: hepnc bench failed:" >&2; echo "$b" >&2; exit 1; }
for t in ${THREADS//,/ }; do
  runs=""
  for r in $(seq "$BATCHES"); do
    rm -f "$work/t.h5"
    s=$(OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=$t build/hepnc infer $spec --weights "$work/weights.safetensors" \
          --data "$work/events.h5" --out "$work/t.h5" --batch "$BATCH" --threads "$t" 2>&1 |
        sed -n 's/.*(model \([0-9.]*\) s,.*/\1/p')
    [ -n "$s" ] || { echo "bench/iaformer_cpu: hepnc infer --threads $t failed" >&2; exit 1; }
    runs="$runs $(awk -v e="$EVENTS" -v s="$s" 'BEGIN {printf "%.2f", e / s}')"
  done
  med=$(echo $runs | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
  if [ "$t" = 1 ]; then
    echo "{\"side\": \"hepnc\", \"threads\": 1, \"batch1_ms\": $lat, \"batch1_p90_ms\": $p90, \"batch${BATCH}_events_s\": $med," \
         "\"runs_events_s\": [$(echo $runs | tr ' ' ',')], \"bench_batch${BATCH}_events_s\": $bthr," \
         "\"workspace_bytes_batch${BATCH}\": ${wsb:-null}}" >> "$out/raw.jsonl"
  else                              # batch 1 is one event: it runs on one thread whatever --threads says
    echo "{\"side\": \"hepnc\", \"threads\": $t, \"batch1_ms\": null, \"batch${BATCH}_events_s\": $med," \
         "\"runs_events_s\": [$(echo $runs | tr ' ' ',')]}" >> "$out/raw.jsonl"
  fi
done

# 4. upstream IAFormer, the same jets and weights; then its feature computation, for information
echo "upstream IAFormer (a batch of 256 takes about a minute) ..." >&2
"$PYTHON" "$here/bench_torch.py" time "$work" --iaformer-src "$IAFORMER_SRC" --threads "$THREADS" --reps "$REPS" \
    --batches "$TORCH_BATCHES" --batch "$BATCH" >> "$out/raw.jsonl"
load1=$(cut -d' ' -f1-3 /proc/loadavg)

# 5. the table
"$PYTHON" - "$out/raw.jsonl" "$out/results.md" "$(git rev-parse --short HEAD)" "$BATCH" "$REPS" "$BATCHES" \
    "$TORCH_BATCHES" "$load0" "$load1" "$(( $(date +%s) - start ))" <<'PY'
import json, sys, subprocess
raw, md, commit, N, reps, batches, tbatches, load0, load1, secs = sys.argv[1:]
rows = [json.loads(l) for l in open(raw) if l.strip()]
prep = rows[0]
check = next(r for r in rows if "check_events" in r)
side = {(r["side"], r["threads"]): r for r in rows if "side" in r}
feat = side[("upstream-features", 1)]
key = f"batch{N}_events_s"
cpu = subprocess.run(["sh", "-c", "lscpu | sed -n 's/^Model name: *//p'"], capture_output=True, text=True).stdout.strip()
c = prep["constituents"]
lines = [f"IAFormer (models/iaformer.yaml, the paper's top-tagging configuration, {prep['parameters']} parameters) against "
         f"upstream IAFormer {prep['upstream_commit'][:7]} (PyTorch {prep['torch']}), {prep['events']} jets of "
         f"examples/data/topqcd_sample.h5 ({prep['top']} top, {prep['events'] - prep['top']} QCD; {c['min']} to {c['max']} "
         f"constituents, mean {c['mean']:.1f}), commit {commit}, {cpu}; load average {load0} before, {load1} after; "
         f"{secs} s in all.", "",
         f"Check before timing: hepnc's logits against upstream's on all {check['check_events']} jets, "
         f"max |Δ logit| {check['max_abs_dlogit']:.1e} (tolerance 1e-4).", "",
         f"| threads | batch 1 latency, hepnc | upstream | speed-up | batch {N} events/s, hepnc | upstream | ratio |",
         "|---|---|---|---|---|---|---|"]
for t in sorted({k[1] for k in side if k[0] == "hepnc"}):
    h, p = side[("hepnc", t)], side.get(("pytorch", t))
    if p is None:
        continue
    if h["batch1_ms"]:
        lat = f"{h['batch1_ms']:.2f} ms | {p['batch1_ms']:.2f} ms | **{p['batch1_ms'] / h['batch1_ms']:.1f}×**"
    else:
        lat = f"— | {p['batch1_ms']:.2f} ms | —"
    thr = (f"{p[key]:.2f} | **{h[key] / p[key]:.1f}×**" if p.get(key) else "not timed | —")
    lines.append(f"| {t} | {lat} | {h[key]:.1f} | {thr} |")
lines += ["",
          f"Medians: batch 1 over {reps} single-jet calls cycling through the first {N} jets (hepnc: `hepnc bench`, "
          f"p90 {side[('hepnc', 1)]['batch1_p90_ms']:.2f} ms); batch {N}: hepnc over {batches} runs of `hepnc infer "
          f"--threads t` (model time; `hepnc bench`'s own median of 7 batches at one thread: "
          f"{side[('hepnc', 1)]['bench_batch' + N + '_events_s']} events/s, warm; each `hepnc infer` run is a fresh "
          f"process whose model time includes the first touch of its "
          f"{(side[('hepnc', 1)].get('workspace_bytes_batch' + N) or 0) / 2**30:.2f} GiB workspace at batch {N} when "
          f"EVENTS = BATCH), upstream over {tbatches} batches "
          f"(eval, no_grad, torch.set_num_threads(t)). hepnc: OpenBLAS, OPENBLAS_NUM_THREADS=1, OMP_NUM_THREADS=t.",
          "",
          "What each side computes: both get upstream's 11 particle features (its graph builder's). Upstream's "
          "forward gets its loader's dense [128, 128, 6] pair-feature tensor and embeds all 128 × 128 ordered pairs "
          "(padding and diagonal included); hepnc's gets the 4-vectors, computes the 6 pair features itself, and embeds "
          f"each unordered pair of real constituents once (mean {prep['real_unordered_pairs_mean']:.0f} per jet here) "
          "and the all-zero pair once per jet.",
          "",
          f"Upstream's pair-feature computation, not in its forward (its loader precomputes it; one thread, for "
          f"information): graph builder `process_chunk` {feat['process_chunk_ms_per_event']:.2f} ms/jet (over "
          f"{feat['events']} jets in one chunk), loader's dense rebuild (`reconstruct_adjacency`) "
          f"{feat['loader_dense_pairs_ms_per_event']:.2f} ms/jet."]
open(md, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
