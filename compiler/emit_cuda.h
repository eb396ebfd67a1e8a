/* emit_cuda.h — the CUDA target: NAME.cu (device kernels, NVRTC), NAME_cuda.{h,c}, NAME_cuda_source.c,
 * NAME_cuda_entry.c (docs/cuda.md). */
#ifndef HN_EMIT_CUDA_H
#define HN_EMIT_CUDA_H

#include "ir.h"

/* aot: NULL, or architectures ("sm_80,sm_90") for an nvcc fatbin embedded in NAME_cuda_source.c.
 * strict (may be NULL) receives the names of the kernels that must not spill registers: attention, class
 * attention and the pair embedding, the hot kernels of the "no spills" rule (at most 64). */
int hn_emit_cuda(const hn_graph *g, const char *spec_path, const char *dir, const char *aot, char files[][512],
                 int *nfiles, char strict[][128], int *nstrict);
/* Events per chunk of the GPU object unless its host defines NAME_CUDA_CHUNK. */
#define HN_CUDA_CHUNK_DEFAULT 512
/* Floats per event of the GPU object's device workspace: the plan's tensors and the scratch of its GEMM
 * paths (NAME_CUDA_WORKSPACE_BYTES = 4 × this × min(batch, chunk)). */
long hn_cuda_workspace_floats(const hn_graph *g);
/* 1 when the CUDA target has a kernel for op (the others are refused with a message naming the layer). */
int hn_cuda_op_supported(int op);
/* Events per group of an edge_conv's GEMM form, and the floats per event of the group's scratch (after the
 * chunk's workspace: NAME_CUDA_WORKSPACE_BYTES adds 4 × this × min(batch, group)); 0 without an edge_conv. */
#define HN_CUDA_EDGE_GROUP 64
long hn_cuda_edge_floats(const hn_graph *g);

/* NVRTC compile of a .cu for each architecture ("sm_80", …), any warning failing; then ptxas
 * -warn-spills on the PTX: a spill in one of the `strict` kernels fails, elsewhere it is reported. */
int hn_validate_cuda(const char *cu_path, const char *const *archs, int narchs, char strict[][128], int nstrict);

#endif
