#!/usr/bin/env bash
# hepnc compare: with the fixture's own weights every layer of pfn is within tolerance (exit 0); with
# one bias perturbed (f.0.bias, stdlib-only Python below) it must name 'f' as the first layer out of
# tolerance and exit 1, while the layers before it still agree.
set -uo pipefail
hepnc=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$work"
export HEPNC_CACHE=$work/cache
fix=$here/pfn
fail=0
out=$("$hepnc" compare "$root/models/pfn.yaml" --weights "$fix/weights.safetensors" --data "$fix/inputs.h5" \
      --reference "$fix/expected.h5") || { echo "FAIL: compare with the right weights exited $?"; fail=1; }
echo "$out"
python3 - "$fix/weights.safetensors" "$work/perturbed.safetensors" <<'PY'
import json, struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
begin, end = header["f.0.bias"]["data_offsets"]
for off in range(8 + n + begin, 8 + n + end, 4):
    (v,) = struct.unpack("<f", data[off:off + 4])
    data[off:off + 4] = struct.pack("<f", v + 0.5)
open(sys.argv[2], "wb").write(data)
PY
out=$("$hepnc" compare "$root/models/pfn.yaml" --weights "$work/perturbed.safetensors" --data "$fix/inputs.h5" \
      --reference "$fix/expected.h5"); rc=$?
echo "$out"
[ $rc -eq 1 ] || { echo "FAIL: a perturbed model must exit 1 (got $rc)"; fail=1; }
grep -q "^first layer out of tolerance: f$" <<<"$out" || { echo "FAIL: 'f' should be the first layer out of tolerance"; fail=1; }
grep -E "^  latent .*out of tolerance" <<<"$out" && { echo "FAIL: 'latent' precedes the perturbation"; fail=1; }
[ $fail -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $fail
