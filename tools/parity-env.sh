#!/usr/bin/env bash
# The environment the parity fixture generators run in (not needed by `make test`: fixtures are
# committed). Debian's PyTorch, h5py and NumPy, plus the upstream reference implementations pinned:
# weaver-core 0.4.17 (ParT / ParticleNet as published; 0.5.x changed the head scale), and SPANet's
# import-time dependencies (tests/parity/gen_spanet_fixture.py).
#
# SPANet itself is not installed: PyPI's spanet (2.1.1) is older than the code the fixture pins, and pip
# cannot reach GitHub. The generator imports an extracted snapshot of Alexanders101/SPANet at commit
# 46c68051fbc6178b932b8eec562c792886769511 (2025-02-21), passed as --spanet-src PATH or SPANET_SRC=PATH,
# and checks it against a digest of that commit's spanet/*.py:
#   git --git-dir=<a clone or mirror of SPANet> archive 46c68051fbc6178b932b8eec562c792886769511 | tar -x -C PATH
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sudo_apt() { if [ "$(id -u)" -eq 0 ]; then apt-get "$@"; else sudo apt-get "$@"; fi; }
for p in python3-torch python3-h5py python3-numpy python3-venv python3-scipy python3-packaging python3-pygments; do
  dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q "install ok installed" || { sudo_apt update -qq; sudo_apt install -y -qq $p; }
done
/usr/bin/python3 -m venv --system-site-packages "$root/.venv-parity"
"$root/.venv-parity/bin/pip" install -q --no-deps weaver-core==0.4.17
# SPANet's imports (spanet/__init__ pulls in the whole package): --no-deps keeps Debian's torch and numpy.
# pytorch-lightning 2.0.x still supports torch 1.13; numba 0.57 is the one for NumPy 1.24 on Python 3.11.
"$root/.venv-parity/bin/pip" install -q --no-deps opt_einsum==3.3.0 numba==0.57.1 llvmlite==0.40.1 \
  pytorch-lightning==2.0.9 lightning-utilities==0.9.0 torchmetrics==1.0.3 fsspec==2023.6.0 tqdm==4.66.1 \
  rich==13.5.2 markdown-it-py==3.0.0 mdurl==0.1.2 scikit-learn==1.3.0 joblib==1.3.2 threadpoolctl==3.2.0
if [ -n "${SPANET_SRC:-}" ]; then
  [ -f "$SPANET_SRC/spanet/__init__.py" ] || { echo "SPANET_SRC=$SPANET_SRC: no spanet/__init__.py there" >&2; exit 1; }
  echo "SPANet snapshot: $SPANET_SRC (gen_spanet_fixture.py reads SPANET_SRC)"
fi
echo "parity environment ready: $root/.venv-parity/bin/python"
