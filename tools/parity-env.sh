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
#
# A second, isolated venv, .venv-torch2, for IAFormer (tests/parity/gen_iaformer_fixture.py): upstream uses
# nn.RMSNorm (PyTorch >= 2.4), newer than Debian's 1.13. PyPI's torch 2.4.1 wheel (the only x86-64 Linux
# build there is the CUDA 12.1 one: its libraries link libcudart, libcublas, libcudnn, ... so even a CPU-only
# `import torch` needs the nvidia-*-cu12 wheels; about 2.6 GB downloaded, 4.3 GB installed), its pure-Python
# dependencies, NumPy, h5py, and the libraries upstream's utils/graph_builder.py computes the features with
# (awkward, vector, pandas). Not installed: triton (GPU kernels only), Lightning, torchmetrics, particle,
# joblib (upstream imports them at module level only; the generator stubs them). IAFormer is not installed
# either (it is no package): the generator imports an extracted snapshot of wesmail/IAFormer at commit
# e05279675ae9be2fe0c3a5d5ce786b38b2d7bb36 (2025-11-18), --iaformer-src PATH or IAFORMER_SRC=PATH, checked
# against a digest of the files it imports:
#   git --git-dir=<a clone or mirror of IAFormer> archive e05279675ae9be2fe0c3a5d5ce786b38b2d7bb36 | tar -x -C PATH
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
# IAFormer: every version pinned, --no-deps throughout (`pip check` below confirms the set is complete but
# for triton). The nvidia-* pins are torch 2.4.1's own requirements; nvjitlink (cusparse's) the CUDA 12.1 one.
/usr/bin/python3 -m venv "$root/.venv-torch2"
"$root/.venv-torch2/bin/pip" install -q --no-deps torch==2.4.1 \
  nvidia-cuda-nvrtc-cu12==12.1.105 nvidia-cuda-runtime-cu12==12.1.105 nvidia-cuda-cupti-cu12==12.1.105 \
  nvidia-cudnn-cu12==9.1.0.70 nvidia-cublas-cu12==12.1.3.1 nvidia-cufft-cu12==11.0.2.54 \
  nvidia-curand-cu12==10.3.2.106 nvidia-cusolver-cu12==11.4.5.107 nvidia-cusparse-cu12==12.1.0.106 \
  nvidia-nccl-cu12==2.20.5 nvidia-nvtx-cu12==12.1.105 nvidia-nvjitlink-cu12==12.1.105 \
  filelock==3.16.1 typing-extensions==4.12.2 \
  sympy==1.13.3 mpmath==1.3.0 networkx==3.4.2 jinja2==3.1.4 MarkupSafe==3.0.2 fsspec==2024.10.0 \
  numpy==2.1.3 h5py==3.12.1 awkward==2.7.1 awkward-cpp==42 importlib-metadata==8.5.0 zipp==3.21.0 \
  packaging==24.2 vector==1.5.2 pandas==2.2.3 python-dateutil==2.9.0.post0 six==1.16.0 pytz==2024.2 tzdata==2024.2
"$root/.venv-torch2/bin/pip" check | grep -v '^torch .* requires triton' || true
"$root/.venv-torch2/bin/python" -c 'import torch; assert torch.__version__.startswith("2.4.1")'
if [ -n "${IAFORMER_SRC:-}" ]; then
  [ -f "$IAFORMER_SRC/training/models/models.py" ] || { echo "IAFORMER_SRC=$IAFORMER_SRC: no training/models/models.py there" >&2; exit 1; }
  echo "IAFormer snapshot: $IAFORMER_SRC (gen_iaformer_fixture.py reads IAFORMER_SRC)"
fi
echo "parity environment ready: $root/.venv-parity/bin/python, $root/.venv-torch2/bin/python (IAFormer)"
