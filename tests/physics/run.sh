#!/usr/bin/env bash
# Runs tests/physics/check_topqcd.py on the bundled sample (or on $1) with tools/gen/.venv's python when
# present (tools/gen/setup.sh), else with /usr/bin/python3 when it has numpy and h5py; else skipped (77).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
sample=${1:-$root/examples/data/topqcd_sample.h5}
[ -f "$sample" ] || { echo "skipped: $sample is absent (tools/gen)"; exit 77; }
py=
if [ -x "$root/tools/gen/.venv/bin/python" ] && "$root/tools/gen/.venv/bin/python" -c 'import numpy, h5py' 2>/dev/null; then
  py=$root/tools/gen/.venv/bin/python
elif [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import numpy, h5py' 2>/dev/null; then
  py=/usr/bin/python3
fi
[ -n "$py" ] || { echo "skipped: no python with numpy and h5py (run tools/gen/setup.sh)"; exit 77; }
exec "$py" "$root/tests/physics/check_topqcd.py" "$sample"
