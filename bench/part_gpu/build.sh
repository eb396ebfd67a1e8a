#!/usr/bin/env bash
# bench/part_gpu/build.sh — builds, on a machine with the CUDA toolkit (no GPU needed), a self-contained
# bundle that checks and times hepnc's GPU objects on a GPU node that has only the NVIDIA driver and a
# CUDA 13 NVRTC (no libyaml, HDF5 or OpenBLAS, no hepnc): for each model, `hepnc compile --target cuda`
# and bench/part_gpu/gpu_harness.c linked with the model's C and GPU files, the shared libraries they
# need (NVRTC and the driver excepted), the weights and jets; plus weaver-core's wheel for the PyTorch side.
#
#   bench/part_gpu/build.sh [BUNDLE]          # default build/gpu_bundle, and BUNDLE.tar.xz to carry
#
# Models: the parity fixtures (part_small, part_small_pairs, pfn, fcn: tests/parity/*), and where
# bench/part_cpu and bench/particlenet_cpu have prepared their work (weights and jets; their run.sh does it),
# part_jetclass_kin and particlenet_jetclass_kin. Then bench/part_gpu/run.sh BUNDLE on the GPU node.
# Environment: MODELS (the models to bundle, default all), BUILD_DIR (hepnc's CMake build, default build;
# CMAKE_BUILD=0 takes it as built), WHEELS=0 (no weaver-core wheel), AOT=0 (no nvcc builds). tests/cuda/bench_part_gpu_emulated.sh
# builds a small bundle this way in every CI run and runs it on the emulated GPU.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bundle=${1:-$root/build/gpu_bundle}
cd "$root"
bdir=${BUILD_DIR:-build}
if [ "${CMAKE_BUILD:-1}" = 1 ]; then
  [ -f "$bdir/CMakeCache.txt" ] || cmake -S . -B "$bdir" >/dev/null
  cmake --build "$bdir" -j2 --target hepnc hepnc_runtime hepnc_gpu >/dev/null
fi
wanted() { [ -z "${MODELS:-}" ] || case " $MODELS " in *" $1 "*) return 0;; *) return 1;; esac; }
rm -rf "$bundle" "$bundle.tar.xz"
mkdir -p "$bundle/bin" "$bundle/lib" "$bundle/data" "$bundle/wheels"

cuda=${CUDA_HOME:-/usr/local/cuda}
inc="-Iruntime/include -Igpu/include -Icompiler $(pkg-config --cflags hdf5 2>/dev/null || echo -I/usr/include/hdf5/serial)"
libs="$bdir/gpu/libhepnc_gpu.a $bdir/runtime/libhepnc_runtime.a $(pkg-config --libs hdf5 2>/dev/null || echo -lhdf5)"
libs="$libs -lcjson -L$cuda/lib64 -lnvrtc -ldl -lm"

add_model() {   # MODEL WEIGHTS DATA [CHUNK] [AOT_ARCHS]: the harness gpu_harness-MODEL (…__chunkN with a chunk
                # size, …__aot with the kernels built ahead of time by nvcc)
  local m=$1 w=$2 d=$3 name=$1 defs="" aot=()
  if [ -n "${4:-}" ]; then name="$1__chunk$4"; defs="-D$(echo "$1" | tr a-z A-Z)_CUDA_CHUNK=$4"; fi
  if [ -n "${5:-}" ]; then [ "${AOT:-1}" = 1 ] || return 0; name="$1__aot"; aot=(--aot "$5"); fi
  local gen=${bundle}_gen/$name
  wanted "$m" || return 0
  [ -f "$w" ] && [ -f "$d" ] || { echo "bench/part_gpu/build.sh: $m skipped (no $w or $d)" >&2; return 0; }
  rm -rf "$gen"
  "$bdir/hepnc" compile "models/$m.yaml" --target cuda --blas none "${aot[@]}" -o "$gen" >/dev/null
  cc -std=c11 -O2 $defs -o "$bundle/bin/gpu_harness-$name" bench/part_gpu/gpu_harness.c compiler/infer_io.c \
     "$gen/$m.c" "$gen/${m}_load.c" "$gen/${m}_entry.c" "$gen/${m}_cuda.c" "$gen/${m}_cuda_source.c" \
     "$gen/${m}_cuda_entry.c" -I"$gen" $inc $libs
  mkdir -p "$bundle/data/$m"
  cp "$w" "$bundle/data/$m/weights.safetensors"
  cp "$d" "$bundle/data/$m/inputs.h5"
  echo "bench/part_gpu/build.sh: $name" >&2
}
for m in part_small part_small_pairs pfn fcn; do
  add_model $m tests/parity/$m/weights.safetensors tests/parity/$m/inputs.h5
done
add_model part_jetclass_kin build/bench/part_cpu/work/weights.safetensors build/bench/part_cpu/work/jets.h5
add_model part_jetclass_kin build/bench/part_cpu/work/weights.safetensors build/bench/part_cpu/work/jets.h5 1024
add_model part_jetclass_kin build/bench/part_cpu/work/weights.safetensors build/bench/part_cpu/work/jets.h5 "" sm_90
add_model part_small tests/parity/part_small/weights.safetensors tests/parity/part_small/inputs.h5 "" sm_80
add_model particlenet_jetclass_kin build/bench/particlenet_cpu/work/weights.safetensors build/bench/particlenet_cpu/work/jets.h5

add_train_model() {   # MODEL SPEC WEIGHTS DATA: train_harness-MODEL, its GPU training step against its C step, timed
  local m=$1 spec=$2 w=$3 d=$4 gen=${bundle}_gen/train-$1
  wanted "$m" || return 0
  [ -f "$d" ] && { [ -f "$w" ] || [ "${w#init:}" != "$w" ]; } || { echo "bench/part_gpu/build.sh: training $m skipped (no $w or $d)" >&2; return 0; }
  rm -rf "$gen"
  "$bdir/hepnc" compile "$spec" --target cuda --train --blas none -o "$gen" >/dev/null
  cc -std=c11 -O2 -o "$bundle/bin/train_harness-$m" bench/part_gpu/train_harness.c compiler/infer_io.c \
     "$gen/$m.c" "$gen/${m}_load.c" "$gen/${m}_entry.c" "$gen/${m}_train.c" "$gen/${m}_cuda_train.c" -I"$gen" $inc $libs
  mkdir -p "$bundle/data/train-$m"
  local same=$bundle/data/$m      # the inference harness's files, when they are these: named, not copied again
  if [ -f "$w" ] && cmp -s "$w" "$same/weights.safetensors" 2>/dev/null && cmp -s "$d" "$same/inputs.h5"; then
    echo "$m" > "$bundle/data/train-$m/same_as"
  else
    [ -f "$w" ] && cp "$w" "$bundle/data/train-$m/weights.safetensors" || echo "$w" > "$bundle/data/train-$m/weights.init"
    cp "$d" "$bundle/data/train-$m/inputs.h5"
  fi
  echo "bench/part_gpu/build.sh: training $m" >&2
}
for m in fcn pfn; do
  add_train_model $m models/$m.yaml tests/parity/$m/weights.safetensors tests/parity/$m/inputs.h5
done
add_train_model part_pool tests/cuda/specs/part_pool.yaml init:7 tests/parity/part_small/inputs.h5
add_train_model part_small models/part_small.yaml tests/parity/part_small/weights.safetensors tests/parity/part_small/inputs.h5
add_train_model part_jetclass_kin models/part_jetclass_kin.yaml build/bench/part_cpu/work/weights.safetensors build/bench/part_cpu/work/jets.h5
if wanted part_jetclass_kin && [ -f build/bench/part_cpu/work/weaver_state.pt ]; then
  mkdir -p "$bundle/torch_work"
  cp build/bench/part_cpu/work/{jets.h5,weaver_state.pt} "$bundle/torch_work/"
fi
pn=../shared/data/particlenet/ParticleNet_kin.pt      # ParticleNet's PyTorch peer: the trained checkpoint, its jets
if wanted particlenet_jetclass_kin && [ -f "$pn" ] && [ -f build/bench/particlenet_cpu/work/jets.h5 ]; then
  mkdir -p "$bundle/torch_work/particlenet"
  cp "$pn" build/bench/particlenet_cpu/work/jets.h5 "$bundle/torch_work/particlenet/"
fi

# the shared libraries the harnesses load, but the C library's, NVRTC (the node's CUDA) and the driver's
for b in "$bundle"/bin/*; do ldd "$b"; done | awk '$3 ~ /^\// { print $3 }' | sort -u |
  grep -Ev '/(libc|libm|libdl|libpthread|librt|ld-linux[^/]*|libnvrtc[^/]*|libcuda)\.so' |
  while read -r so; do cp -L "$so" "$bundle/lib/"; done

[ "${WHEELS:-1}" = 0 ] || python3 -m pip download -q --no-deps --only-binary=:all: -d "$bundle/wheels" weaver-core==0.4.17 2>/dev/null ||
  echo "bench/part_gpu/build.sh: no weaver-core wheel (the PyTorch side will be skipped)" >&2
du -sh "$bundle" >&2

# the archive that travels to the GPU node (run.sh takes it as BUNDLE): a device call carries at most 64 MiB
# with the working tree, and the unpacked bundle (its shared libraries, weights and jets, some twice) is
# over 50; xz's 64 MiB window takes the duplicates out (ARCHIVE=0: none; XZ_LEVEL, default -9e)
if [ "${ARCHIVE:-1}" = 1 ]; then
  tar -C "$(dirname "$bundle")" -cf - "$(basename "$bundle")" | xz "${XZ_LEVEL:--9e}" -T2 > "$bundle.tar.xz.tmp" &&
    mv "$bundle.tar.xz.tmp" "$bundle.tar.xz"
  tree=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
  arch=$(stat -c %s "$bundle.tar.xz")
  mib=$(( (tree + arch) / 1048576 ))
  echo "bench/part_gpu/build.sh: $bundle.tar.xz, $((arch / 1048576)) MiB; with the working tree $mib MiB of a device call's 64" >&2
  [ "$mib" -lt 62 ] || echo "bench/part_gpu/build.sh: WARNING: $mib MiB is too close to the device call's 64 MiB limit" >&2
fi
