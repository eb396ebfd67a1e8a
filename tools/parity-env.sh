#!/usr/bin/env bash
# The environment the parity fixture generators run in (not needed by `make test`: fixtures are
# committed). Debian's PyTorch, h5py and NumPy, plus the upstream reference implementations pinned:
# weaver-core 0.4.17 (ParT / ParticleNet as published; 0.5.x changed the head scale).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sudo_apt() { if [ "$(id -u)" -eq 0 ]; then apt-get "$@"; else sudo apt-get "$@"; fi; }
for p in python3-torch python3-h5py python3-numpy python3-venv; do
  dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q "install ok installed" || { sudo_apt update -qq; sudo_apt install -y -qq $p; }
done
/usr/bin/python3 -m venv --system-site-packages "$root/.venv-parity"
"$root/.venv-parity/bin/pip" install -q --no-deps weaver-core==0.4.17
echo "parity environment ready: $root/.venv-parity/bin/python"
