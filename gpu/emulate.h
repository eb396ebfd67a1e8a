/* emulate.h — the emulated GPU behind hepnc/gpu.h (gpu/emulate.c): HEPNC_GPU_EMULATE=1 runs a model's CUDA
 * kernels on the CPU with CUDA's block/warp semantics, to check GPU objects where no GPU exists. */
#ifndef HN_GPU_EMULATE_H
#define HN_GPU_EMULATE_H

#include <stddef.h>

typedef struct hn_emu hn_emu;

/* 1 when HEPNC_GPU_EMULATE is set (and not "0"). */
int hn_emu_requested(void);
/* `source` compiled by $HEPNC_GPU_EMULATE_CXX (default c++) into a shared object cached beside the cubins. */
hn_emu *hn_emu_open(const char *source, const char *name, const char *cache_dir, char *err, size_t errlen);
void hn_emu_close(hn_emu *e);
int hn_emu_launch(hn_emu *e, const char *name, unsigned gx, unsigned gy, unsigned bx, unsigned shared, void **args, char *err,
                  size_t errlen);
/* The GEMMs' input arithmetic, as cuBLAS's math modes: float32; TF32 (every input element rounded to 10
 * significant bits, to nearest with ties away from zero as cvt.rna.tf32.f32: CUBLAS_TF32_TENSOR_OP_MATH,
 * HEPNC_GPU_TF32=1); bfloat16 (8 bits, to nearest even: CUBLAS_COMPUTE_32F_FAST_16BF, HEPNC_GPU_BF16=1).
 * The products are summed in float32 in every mode. */
enum hn_emu_math { HN_EMU_FP32, HN_EMU_TF32, HN_EMU_BF16 };
/* The GEMMs that cuBLAS does on a GPU, as loops. Row-major C = alpha·op(A)·op(B) + beta·C (hn_gpu_gemm). */
void hn_emu_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb, float beta,
                 float *C, int ldc, enum hn_emu_math math);
/* Row-major y[rows][out] = x[rows][in] · W[out][in]ᵀ (hn_gpu_linear_gemm). */
void hn_emu_gemm_nt(const float *x, const float *W, float *y, long rows, int in, int out, enum hn_emu_math math);

#endif
