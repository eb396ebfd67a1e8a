#!/usr/bin/env bash
# hepnc's generated training step with --loss bce (BCEWithLogits against the label's one-hot): finite
# differences of the generated loss pass, and the loss equals BCEWithLogits computed here (numpy) on
# PyTorch's own training-mode logits of the same model, weights and batch (tests/train/models/<m>/
# expected.safetensors: "logits") to 1e-5 relative (the two sides' float32 logits differ by their rounding).
set -euo pipefail
hepnc=$1 work=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$work"
export HEPNC_CACHE=$work/cache
py=
for c in ${PYTHON:-} /usr/bin/python3 "$root/tools/gen/.venv/bin/python" python3; do   # Debian's numpy/h5py (install-deps)
  if [ -z "$py" ] && command -v "$c" >/dev/null && "$c" -c "import numpy, h5py" 2>/dev/null; then py=$c; fi
done
[ -n "$py" ] || { echo "skipped: no python with numpy and h5py (tools/install-deps.sh)"; exit 77; }
for m in pfn part_small; do
  ref=$root/tests/train/models/$m
  out=$("$hepnc" gradcheck "$root/models/$m.yaml" --weights "$ref/weights.safetensors" --data "$ref/batch.h5" --fd 2 --loss bce)
  grep -q "gradcheck: passed" <<<"$out" || { echo "$out"; echo "FAIL $m: gradcheck"; exit 1; }
  got=$(sed -n "s/.*BCE with logits against the labels' one-hot \([0-9.eE+-]*\).*/\1/p" <<<"$out")
  "$py" - "$ref/expected.safetensors" "$ref/batch.h5" "$got" "$m" <<'PY'
import json, struct, sys
import h5py, numpy as np
path, batch, got, name = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
with open(path, "rb") as f:
    (n,) = struct.unpack("<Q", f.read(8))
    head = json.loads(f.read(n))
    data = f.read()
h = head["logits"]
b, e = h["data_offsets"]
x = np.frombuffer(data[b:e], "<f4").reshape(h["shape"]).astype(np.float64)
labels = h5py.File(batch, "r")["labels"][: x.shape[0]]
t = np.eye(x.shape[1])[labels]
want = np.mean(np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x))))
rel = abs(got - want) / abs(want)
print(f"{name}: BCE hepnc {got:.9g}, numpy on PyTorch's training-mode logits {want:.9g}, rel {rel:.1e}")
sys.exit(0 if rel <= 1e-5 else 1)
PY
done
echo "bce: passed"
