#!/usr/bin/env python3
"""A Python host of a hepnc model through ctypes, no compiled binding: the generated files built into one
shared library (examples/python_ctypes/CMakeLists.txt), whose generic entries `hepnc_model_entry()` (the CPU
object, hepnc/model.h) and `hepnc_cuda_model_entry()` (the GPU object, hepnc/gpu.h) describe the model's
inputs and outputs and give load, infer and release. NumPy arrays are passed as pointers.

    run_model.py LIBRARY WEIGHTS [JETS]

Makes JETS (default 200) random jets shaped after the entry's input descriptions, runs them through the CPU
object and, where a GPU (or HEPNC_GPU_EMULATE=1) is there, through the GPU object's infer_host (host arrays
in, host arrays out), and prints the largest difference of every output (exit 1 above 1e-5; 77 without a
GPU or without NumPy).
"""
import ctypes as C
import sys

try:
    import numpy as np
except ImportError:
    print("skipped: no NumPy")
    sys.exit(77)


class IoDesc(C.Structure):          # hn_io_desc (hepnc/model.h)
    _fields_ = [("name", C.c_char_p), ("is_set", C.c_int), ("masked", C.c_int), ("max", C.c_int), ("width", C.c_int),
                ("nfeatures", C.c_int), ("features", C.POINTER(C.c_char_p)), ("vectors_of", C.c_int), ("pairs_of", C.c_int)]


FloatPP, IntPP = C.POINTER(C.POINTER(C.c_float)), C.POINTER(C.POINTER(C.c_int32))
LOAD = C.CFUNCTYPE(C.c_int, C.POINTER(C.c_void_p), C.c_char_p, C.c_char_p, C.c_size_t)
RELEASE = C.CFUNCTYPE(None, C.c_void_p)
BYTES = C.CFUNCTYPE(C.c_size_t, C.c_int)


class ModelEntry(C.Structure):      # hn_model_entry (hepnc/model.h), HN_MODEL_ABI 3
    _fields_ = [("abi", C.c_int), ("name", C.c_char_p), ("spec_hash", C.c_char_p), ("ninputs", C.c_int),
                ("inputs", C.POINTER(IoDesc)), ("noutputs", C.c_int), ("outputs", C.POINTER(IoDesc)),
                ("workspace_bytes", BYTES), ("load", LOAD), ("release", RELEASE),
                ("infer", C.CFUNCTYPE(C.c_int, C.c_void_p, FloatPP, IntPP, C.c_int, FloatPP, C.c_void_p))]


INFER = C.CFUNCTYPE(C.c_int, C.c_void_p, FloatPP, IntPP, C.c_int, FloatPP, C.c_void_p, C.c_char_p, C.c_size_t)


class CudaEntry(C.Structure):       # hn_cuda_model_entry (hepnc/gpu.h), HN_CUDA_MODEL_ABI 2
    _fields_ = [("abi", C.c_int), ("name", C.c_char_p), ("spec_hash", C.c_char_p), ("workspace_bytes", BYTES),
                ("load", LOAD), ("release", RELEASE), ("gpu", C.CFUNCTYPE(C.c_void_p, C.c_void_p)), ("infer", INFER),
                ("host_workspace_bytes", BYTES), ("infer_host", INFER)]


def pointers(arrays, ctype):
    """A C array of pointers to the arrays' data (None for a missing one)."""
    out = (C.POINTER(ctype) * max(1, len(arrays)))()
    for k, a in enumerate(arrays):
        out[k] = a.ctypes.data_as(C.POINTER(ctype)) if a is not None else None
    return out


def random_jets(m, jets, rng):
    """Inputs shaped after the entry: counts 0..max, features in [-1, 1), 4-vectors with E above |p|."""
    xs, counts = [], []
    for k in range(m.ninputs):
        d = m.inputs[k]
        rows = d.max * d.max if d.is_set == 2 else d.max
        x = np.zeros((jets, rows, d.width), dtype=np.float32)
        n = rng.integers(0, d.max + 1, size=jets).astype(np.int32) if d.masked else None
        for j in range(jets):
            real = n[j] if n is not None else rows
            x[j, :real] = rng.uniform(-1, 1, size=(real, d.width))
            if d.vectors_of >= 0:
                x[j, :real, 3] = rng.uniform(20, 200, size=real)
        xs.append(x)
        counts.append(n)
    for k in range(m.ninputs):      # 4-vectors and pairs share their set's counts
        d = m.inputs[k]
        of = d.vectors_of if d.vectors_of >= 0 else d.pairs_of
        if of >= 0 and counts[k] is None:
            counts[k] = counts[of]
    return xs, counts


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    lib = C.CDLL(sys.argv[1])
    weights, jets = sys.argv[2].encode(), int(sys.argv[3]) if len(sys.argv) > 3 else 200
    lib.hepnc_model_entry.restype = C.POINTER(ModelEntry)
    lib.hepnc_cuda_model_entry.restype = C.POINTER(CudaEntry)
    m, g = lib.hepnc_model_entry().contents, lib.hepnc_cuda_model_entry().contents
    err = C.create_string_buffer(4096)
    xs, counts = random_jets(m, jets, np.random.default_rng(7))
    x_ptrs, n_ptrs = pointers(xs, C.c_float), pointers(counts, C.c_int32)

    def outputs():
        ys = [np.zeros((jets, m.outputs[o].width), dtype=np.float32) for o in range(m.noutputs)]
        return ys, pointers(ys, C.c_float)

    model = C.c_void_p()
    if m.load(C.byref(model), weights, err, len(err)):
        print(f"FAIL loading the CPU object: {err.value.decode()}")
        return 1
    cpu, cpu_ptrs = outputs()
    ws = np.zeros(m.workspace_bytes(jets) // 4 + 1, dtype=np.float32)
    rc = m.infer(model, x_ptrs, n_ptrs, jets, cpu_ptrs, ws.ctypes.data_as(C.c_void_p))
    m.release(model)
    if rc:
        print(f"FAIL the CPU object's infer: rc {rc}")
        return 1
    print(f"{m.name.decode()}: {jets} jets through the CPU object; first scores {cpu[-1][0]}")

    lib.hn_gpu_available.restype = C.c_int
    if not lib.hn_gpu_available():
        print("skipped: no GPU (HEPNC_GPU_EMULATE=1 runs the GPU object on the emulated GPU)")
        return 77
    gmodel = C.c_void_p()
    if g.load(C.byref(gmodel), weights, err, len(err)):
        print(f"FAIL loading the GPU object: {err.value.decode()}")
        return 1
    lib.hn_gpu_alloc.argtypes = [C.c_void_p, C.POINTER(C.c_void_p), C.c_size_t, C.c_char_p, C.c_size_t]
    lib.hn_gpu_free.argtypes = [C.c_void_p, C.c_void_p]
    dev, workspace = g.gpu(gmodel), C.c_void_p()
    if lib.hn_gpu_alloc(dev, C.byref(workspace), g.host_workspace_bytes(jets), err, len(err)):
        print(f"FAIL device workspace: {err.value.decode()}")
        return 1
    gpu, gpu_ptrs = outputs()
    rc = g.infer_host(gmodel, x_ptrs, n_ptrs, jets, gpu_ptrs, workspace, err, len(err))
    lib.hn_gpu_free(dev, workspace)
    g.release(gmodel)
    if rc:
        print(f"FAIL the GPU object's infer_host: rc {rc}: {err.value.decode()}")
        return 1
    worst = max(float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(a)))) for a, b in zip(cpu, gpu))
    ok = worst <= 1e-5
    print(f"{'ok  ' if ok else 'FAIL'} the GPU object (infer_host) within {worst:.3g} of the CPU object on every output")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
