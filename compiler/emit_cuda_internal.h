/* emit_cuda_internal.h — what compiler/emit_cuda.c (the kernels) and compiler/emit_cuda_host.c (the
 * host side) share: a node's launch geometry, row counts, and the layout of the device scratch. */
#ifndef HN_EMIT_CUDA_INTERNAL_H
#define HN_EMIT_CUDA_INTERNAL_H

#include <stdio.h>

#include "ir.h"

/* One node's kernel as the emitter sees it: where it writes, and how it is launched. */
typedef struct cu_ctx {
    FILE *f;
    const hn_graph *g;
    const hn_node *n;
    int geom;                   /* 0: per_event threads per event; 1: pair tiles (grid x · batch); 2: a block per event;
                                   3: a block per particle (grid per_event · batch);
                                   4: per_event blocks per event (grid per_event · batch) */
    long per_event;
    int block, shared;
    int uu_pairs;               /* pair_embed with supplied pair features: every ordered pair */
} cu_ctx;

/* rows per event along the last axis, and rows per set row (the count multiplier) */
long hn_cu_rows_of(const hn_tensor *t);
long hn_cu_per_row_of(const hn_tensor *t);
/* 1 when a linear layer has a bias or an activation (a kernel after its GEMM) */
int hn_cu_linear_has_epilogue(const hn_node *n);
/* 1 when an edge_conv runs in GEMM form with cuBLAS (emit_cuda_host.c) */
int hn_cu_edge_gemm(const hn_graph *g, const hn_node *n);

/* Device scratch after the plan's tensors, floats per event: class attention's GEMM form, then the packed
 * rows of the first masked set (the set's input index; -1: none) for the linear layers that use them. */
long hn_cu_scratch_floats(const hn_graph *g);
int hn_cu_pack_set(const hn_graph *g);
int hn_cu_packed_linear(const hn_graph *g, const hn_node *n);
long hn_cu_pack_floats(const hn_graph *g);

/* Row-wise nodes run inside a packed linear layer's gather and scatter (emit_cuda_fuse.c), per node: */
enum { HN_CU_CHAIN = 4 };
typedef struct hn_cu_fused {
    int absorbed_by;            /* the packed linear whose passes compute this node (cuBLAS path), or -1 */
    /* a packed linear's: */
    int prologue;               /* the LayerNorm applied while gathering its input rows, or -1 */
    int packed_in;              /* the packed linear whose packed result is its input (no gather), or -1 */
    int chain[HN_CU_CHAIN];     /* the nodes applied to each row after bias and activation, in order */
    int nchain;
    int packed_out;             /* the result stays packed for the next linear (no scatter) */
    int result;                 /* the tensor the epilogue leaves (the last chain node's output) */
    long xoff, yoff;            /* where its packed input and output rows start in the scratch, in floats per row */
} hn_cu_fused;
void hn_cu_fusion_plan(const hn_graph *g, hn_cu_fused *plan);
int hn_cu_fused_epilogue(const hn_cu_fused *L);
/* NAME_<linear>_gather and NAME_<linear>_rows, the fused passes of packed linear i where it has them. */
void hn_cu_emit_fused_kernels(FILE *f, const hn_graph *g, const hn_cu_fused *plan, int i);

/* The kernel NAME_<node> of one node (an extern "C" __global__ wrapper around its templates/cuda body,
 * arguments P, batch, n, x0.., y), its launch geometry in *c; non-zero (reported) for an op without one. */
int hn_cu_emit_node_kernel(FILE *f, const hn_graph *g, const hn_node *n, cu_ctx *c);

/* Class attention's GEMM form: NAME_<node>_keys (the keys' LayerNorm into the scratch) and NAME_<node>_attend
 * (the token's attention over the projected keys and values), beside the node's kernel. */
void hn_cu_emit_cls_gemm_kernels(FILE *f, const hn_graph *g, const hn_node *n);

/* The host-side files (emit_cuda_host.c). */
void hn_cu_emit_header(FILE *f, const hn_graph *g, const char *spec_path);
/* NAME_cuda_source.c: the .cu as a string, and the nvcc image (image NULL: none) */
void hn_cu_emit_source_string(FILE *f, const hn_graph *g, const char *cu, size_t len, const unsigned char *image,
                              size_t image_size);
void hn_cu_emit_entry(FILE *f, const hn_graph *g, const char *spec_path);
void hn_cu_emit_host_start(FILE *h, const hn_graph *g, const char *spec_path, const hn_cu_fused *plan);
void hn_cu_emit_launch(FILE *f, const hn_graph *g, const hn_cu_fused *plan, const hn_node *n, const cu_ctx *c);
void hn_cu_emit_host_end(FILE *h, const hn_graph *g);
/* NAME_cuda_infer_host (emit_cuda_host_io.c): its header lines, its definition, its staging bytes per event. */
void hn_cu_emit_host_io_header(FILE *f, const hn_graph *g, const char *upper);
void hn_cu_emit_infer_host(FILE *f, const hn_graph *g, const char *upper);
long hn_cu_stage_bytes(const hn_graph *g);

#endif
