/* gpu.h — the CUDA runtime of generated models: the driver API loaded at run time (dlopen, so programs
 * also run where no NVIDIA driver is installed), NVRTC compilation of a model's kernels with an on-disk
 * cache keyed by the source's hash and the device architecture, device memory and kernel launches. */
#ifndef HEPNC_GPU_H
#define HEPNC_GPU_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hn_gpu hn_gpu;

/* 1 when a CUDA driver and at least one device are present. */
int hn_gpu_available(void);

/* Device 0, its primary context, and `source` compiled for its architecture (cached under cache_dir,
 * default $HEPNC_CACHE or ~/.cache/hepnc/cuda). NULL and a message on failure, with the NVRTC log
 * (compile errors name the generated line). */
hn_gpu *hn_gpu_open(const char *source, const char *name, const char *cache_dir, char *err, size_t errlen);
/* The same, trying an ahead-of-time image first (nvcc's fatbin or cubin; NULL: none): a GPU it has no
 * code for falls back to NVRTC on `source`. hn_gpu_describe says which one ran. */
hn_gpu *hn_gpu_open_image(const char *source, const void *image, size_t image_size, const char *name,
                          const char *cache_dir, char *err, size_t errlen);
void hn_gpu_close(hn_gpu *g);

int hn_gpu_alloc(hn_gpu *g, void **device_ptr, size_t bytes, char *err, size_t errlen);
void hn_gpu_free(hn_gpu *g, void *device_ptr);
int hn_gpu_to_device(hn_gpu *g, void *device_ptr, const void *host, size_t bytes, char *err, size_t errlen);
int hn_gpu_to_host(hn_gpu *g, void *host, const void *device_ptr, size_t bytes, char *err, size_t errlen);
/* Launches kernel `name` (grid gx × gy, block bx threads, `shared` bytes of dynamic shared memory). */
int hn_gpu_launch(hn_gpu *g, const char *name, unsigned gx, unsigned gy, unsigned bx, unsigned shared, void **args,
                  char *err, size_t errlen);
int hn_gpu_sync(hn_gpu *g, char *err, size_t errlen);

/* cuBLAS (loaded at run time; HEPNC_GPU_NO_CUBLAS=1 turns it off): 1 when hn_gpu_linear_gemm can run.
 * hn_gpu_linear_gemm: row-major y[rows][out] = x[rows][in] · W[out][in]ᵀ in float32 (TF32 tensor cores
 * only with HEPNC_GPU_TF32=1), the GEMM of a linear layer; bias and activation are the caller's. */
int hn_gpu_has_blas(hn_gpu *g);
/* The GEMMs' arithmetic: "fp32", "tf32" (HEPNC_GPU_TF32=1) or "bf16" (HEPNC_GPU_BF16=1: inputs rounded to bfloat16,
 * float32 sums); "fp32" without cuBLAS (hepnc's own kernels). */
const char *hn_gpu_math(hn_gpu *g);
int hn_gpu_linear_gemm(hn_gpu *g, const float *x, const float *W, float *y, long rows, int in, int out, char *err,
                       size_t errlen);
/* The same per event of `events` blocks of `rows` rows, where only each block's first `used` rows matter
 * (the rest is padding): one strided-batched GEMM over those rows when used <= rows / 2, else the plain
 * GEMM over every row (faster per row; padding rows then hold values nobody reads). */
int hn_gpu_linear_gemm_rows(hn_gpu *g, const float *x, const float *W, float *y, int events, int rows, int used, int in,
                            int out, char *err, size_t errlen);
/* Row-major C[M][N] = alpha·op(A)·op(B) + beta·C, op(X) = X or Xᵀ (ta, tb), lda/ldb/ldc the stored row
 * lengths: the training step's GEMMs (dx = dy·W, dW += dyᵀ·x). */
int hn_gpu_gemm(hn_gpu *g, int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                float beta, float *C, int ldc, char *err, size_t errlen);
/* HEPNC_GPU_PROFILE=1: every launch is synchronised and timed; the table (kernels by time) is printed
 * to `f` here and by hn_gpu_close to stderr, then cleared. */
void hn_gpu_profile_report(hn_gpu *g, FILE *f);

/* The device's name (e.g. "NVIDIA H100 80GB HBM3"), compute capability × 10, and the device memory
 * this process has allocated through hn_gpu_alloc and not freed (bytes, now and at its peak). */
int hn_gpu_describe(hn_gpu *g, char *name, size_t namelen, int *arch);
/* 1 when the kernels came from the ahead-of-time image, 0 from NVRTC (or its cache). */
int hn_gpu_from_image(hn_gpu *g);
size_t hn_gpu_allocated_bytes(size_t *peak);

/* The generic entry point of a generated GPU object (NAME_cuda_entry.c), the twin of hn_model_entry
 * (hepnc/model.h) with device pointers: hosts and harnesses that handle any model use it. */
typedef struct hn_cuda_model_entry {
    int abi;                    /* HN_CUDA_MODEL_ABI */
    const char *name;
    const char *spec_hash;
    size_t (*workspace_bytes)(int batch);   /* device workspace: one chunk of events (NAME_CUDA_WORKSPACE_BYTES) */
    int (*load)(void **model, const char *weights_path, char *err, size_t errlen);
    void (*release)(void *model);
    hn_gpu *(*gpu)(void *model);
    /* As hn_model_entry.infer, every pointer in device memory; synchronous. Non-zero and a message on failure. */
    int (*infer)(const void *model, const float *const *inputs, const int *const *counts, int batch,
                 float *const *outputs, void *workspace, char *err, size_t errlen);
    /* The same with inputs, counts and outputs in host memory (NAME_cuda_infer_host): a device workspace of
     * host_workspace_bytes(batch) (NAME_CUDA_HOST_WORKSPACE_BYTES), one chunk staged at a time. */
    size_t (*host_workspace_bytes)(int batch);
    int (*infer_host)(const void *model, const float *const *inputs, const int *const *counts, int batch,
                      float *const *outputs, void *workspace, char *err, size_t errlen);
} hn_cuda_model_entry;

#define HN_CUDA_MODEL_ABI 2

#ifdef __cplusplus
}
#endif

#endif
