/* emit_cuda_train_edgeconv.h — the GPU training step's EdgeConv (ParticleNet): the host code of its training
 * forward and backward in NAME_cuda_train.c, called by compiler/emit_cuda_train.c. */
#ifndef HN_EMIT_CUDA_TRAIN_EDGECONV_H
#define HN_EMIT_CUDA_TRAIN_EDGECONV_H

#include <stdio.h>

#include "ir.h"

/* 1 when node n (an edge_conv of the training graph) can be trained on the GPU. */
int hn_cu_train_edge_conv_supported(const hn_graph *g, const hn_node *n);
/* Writes the statements of its training forward (backward 0) or backward (1) into the step: the names in
 * scope are those of the step (gpu, params, grads, batch, cfg, counts, h (host counts), state_ws, fixed_ws,
 * scratch, extra_ws, err, errlen, label `fail`); x0, x1, y the tensors' variables; dy its output's gradient,
 * dx0 where its input's gradient goes ("NULL": none). */
void hn_cu_train_edge_conv(FILE *f, const hn_graph *g, const hn_node *n, int backward, const char *x0, const char *x1,
                           const char *y, const char *dy, const char *dx0);
/* Device bytes of scratch it needs for `batch` events beyond its node state (0: none), as a C expression
 * of `batch` for extra_bytes(). */
void hn_cu_train_edge_conv_extra(FILE *f, const hn_graph *g, const hn_node *n);

#endif
