/* emit_cuda_train_internal.h — what the GPU training step's emitter (compiler/emit_cuda_train.c: the kernels,
 * the step) shares with its parts: the linear layers (emit_cuda_train_linear.c), the pair embedding
 * (emit_cuda_train_pair.c), IAFormer's ops (emit_cuda_train_interaction.c) and the host adapter of hepnc train --gpu (emit_cuda_train_adapter.c). */
#ifndef HN_EMIT_CUDA_TRAIN_INTERNAL_H
#define HN_EMIT_CUDA_TRAIN_INTERNAL_H

#include <stdio.h>

#include "emit_cuda_internal.h"
#include "ir.h"

typedef struct ctgen {
    const hn_graph *g;
    FILE *f;                    /* the host file */
    cu_ctx *ctx;                /* per node: its forward kernel's geometry */
    long per_event;             /* the C step's workspace floats per event */
    long red_rows, red_cols;    /* the largest reduction (rows per event, columns) */

} ctgen;

/* The tail of every launch statement in the step: a failed call goes to the step's `fail` label. */
#define HN_CT_CHECK "err, errlen)) goto fail;\n"

/* A tensor's variable in the step, as in the C step: in_<name> for inputs, t_<name> otherwise. */
void hn_ct_tvar(const hn_graph *g, int t, char *dst, size_t n);
/* 1 when t's rows are those of a masked set (the step reads its counts). */
int hn_ct_masked(const hn_graph *g, const hn_tensor *t);
/* "counts[i]" for the rows of a masked set, else "NULL". */
const char *hn_ct_counts_of(const hn_graph *g, const hn_tensor *t, char *buf, size_t n);
/* The model's name in capitals (NAME_PARAM_FLOATS), and the width of the logits the loss reads. */
void hn_ct_upper(const hn_graph *g, char *dst, size_t n);
int hn_ct_logits_width(const hn_graph *g);

/* The set whose real rows the linear layers pack (the first masked input), -1: none; 1 when linear layer n
 * runs its GEMMs on those packed rows (its output is over them, one row per particle). */
int hn_ct_pack_set(const hn_graph *g);
int hn_ct_packed_rows_linear(const hn_graph *g, const hn_node *n);
/* A linear layer's forward and backward launches (emit_cuda_train_linear.c); dx may be "NULL". */
void hn_ct_linear_forward(ctgen *G, const hn_node *n, const char *x0, const char *y);
void hn_ct_linear_backward(ctgen *G, const hn_node *n, const char *x0, const char *dy, const char *dx);

/* The pair embedding's training forward and backward (dy: its output's gradient). */
void hn_ct_pair_embed_forward(ctgen *G, const hn_node *n);
void hn_ct_pair_embed_backward(ctgen *G, const hn_node *n, const char *dy);

/* IAFormer (emit_cuda_train_interaction.c): whether the GPU step covers the node's shape; the scratch bytes of
 * its backward as an expression of batch; the reduction extent of the interaction embedding's rows; the
 * differential attention's and the interaction embedding's backwards. */
int hn_ct_interaction_supported(const hn_node *n);
void hn_ct_interaction_extra(FILE *f, const hn_graph *g, const hn_node *n);
void hn_ct_interaction_extent(const hn_graph *g, const hn_node *n, long *rows, long *cols);
void hn_ct_diff_attention_backward(ctgen *G, const hn_node *n, const char *dy, char dx[][HN_NAME + 48]);
void hn_ct_interaction_logits_backward(ctgen *G, const hn_node *n, const char *dy);

/* hepnc train --gpu: the step behind hn_train_entry (host pointers) and the trainer's device. */
void hn_ct_emit_host_adapter(ctgen *G);

#endif
