/* emit_cuda_train.h — the GPU training step of a spec (NAME_train.cu, NAME_cuda_train.c); see emit_cuda_train.c. */
#ifndef HN_EMIT_CUDA_TRAIN_H
#define HN_EMIT_CUDA_TRAIN_H

#include "ir.h"

/* 0 when every op on the training graph's loss path has GPU training kernels; else reported, naming the layer. */
int hn_emit_cuda_train_check(const hn_graph *g);
/* Writes the two files into dir (their paths appended to files, *nfiles advanced); g is the training graph
 * (driver.c's hn_train_graph). */
int hn_emit_cuda_train(const hn_graph *g, const char *dir, char files[][512], int *nfiles);

#endif
