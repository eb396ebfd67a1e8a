#!/usr/bin/env bash
# Installs what hepnc needs on a fresh Debian machine (run by `make demo` and `make test`).
# Idempotent: packages already present are not reinstalled, so a warm machine pays nothing.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libyaml-dev libopenblas-dev libclang-14-dev libcjson-dev libhdf5-dev hdf5-tools clang-14 libzip-dev
      python3-numpy python3-h5py)   # the last two: tests/physics (checks of the bundled samples)
pkgs+=(python3-matplotlib)   # PNG plots: hepnc train's curves.png, hepnc eval --roc-png (skipped with a warning without)
pkgs+=(xz-utils)   # bench/part_gpu/build.sh packs the GPU bundle with xz (gpu_emu.bench_part_gpu runs it)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "hepnc: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
