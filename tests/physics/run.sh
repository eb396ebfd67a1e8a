#!/usr/bin/env bash
# Runs one physics check on its bundled sample: run.sh [topqcd|spanet|ttH] [SAMPLE]
#   topqcd  tests/physics/check_topqcd.py on examples/data/topqcd_sample.h5 (the default)
#   spanet  tests/physics/check_spanet.py on examples/data/ttbar_allhad_sample.h5
#   ttH     tests/physics/check_ttH.py    on examples/data/ttH_ttbar_sample.csv
# with /usr/bin/python3 when it has numpy and h5py (Debian's python3-numpy and python3-h5py, which
# tools/install-deps.sh installs, so CI runs these), else tools/gen/.venv's python (tools/gen/setup.sh);
# else skipped (77).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
check=${1:-topqcd}
case $check in
  topqcd) default=$root/examples/data/topqcd_sample.h5 ;;
  spanet) default=$root/examples/data/ttbar_allhad_sample.h5 ;;
  ttH) default=$root/examples/data/ttH_ttbar_sample.csv ;;
  *) echo "usage: run.sh [topqcd|spanet|ttH] [SAMPLE]" >&2; exit 2 ;;
esac
sample=${2:-$default}
[ -f "$sample" ] || { echo "skipped: $sample is absent (tools/gen)"; exit 77; }
py=
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import numpy, h5py' 2>/dev/null; then
  py=/usr/bin/python3
elif [ -x "$root/tools/gen/.venv/bin/python" ] && "$root/tools/gen/.venv/bin/python" -c 'import numpy, h5py' 2>/dev/null; then
  py=$root/tools/gen/.venv/bin/python
fi
[ -n "$py" ] || { echo "skipped: no python with numpy and h5py (tools/install-deps.sh or tools/gen/setup.sh)"; exit 77; }
exec "$py" "$root/tests/physics/check_$check.py" "$sample"
