#!/usr/bin/env bash
# Creates tools/gen/.venv with the pinned generator stack (Pythia8 and FastJet from PyPI wheels,
# numpy, h5py, matplotlib for the plots), binary wheels only: pythia8mc 8.318.0 has no cp311 wheel and
# would compile for half an hour, 8.317.2 is the newest with one. Idempotent: a venv whose pins match
# is left alone; otherwise the missing or different packages are installed.
#   tools/gen/setup.sh            # then: tools/gen/.venv/bin/python tools/gen/topqcd.py --help
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=$here/.venv
py=${PYTHON:-python3}
pins=(pythia8mc==8.317.2 fastjet==3.5.2.0 awkward==2.14.0 numpy==2.4.6 h5py==3.16.0 matplotlib==3.11.2)

if [ ! -x "$venv/bin/python" ]; then
  "$py" -m venv "$venv"
fi
# fast path: everything already at its pin
if "$venv/bin/python" - "${pins[@]}" <<'PYEOF' 2>/dev/null; then
import sys
from importlib.metadata import version
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    if version(name) != want:
        sys.exit(1)
PYEOF
  echo "tools/gen/.venv: up to date (${pins[*]})"
  exit 0
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: "${pins[@]}"
echo "tools/gen/.venv: installed ${pins[*]}"
