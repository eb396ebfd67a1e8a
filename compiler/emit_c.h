/* emit_c.h — the C emitter: <name>.h, <name>.c (inference, libc/libm only, optional cblas),
 * <name>_load.c (safetensors loader, links libhepnc), <name>_entry.c (generic entry for hosts and
 * `hepnc infer`) and, with embedded weights, <name>_weights.c. */
#ifndef HN_EMIT_C_H
#define HN_EMIT_C_H

#include <stdint.h>

#include "ir.h"

typedef struct hn_emit_options {
    int use_cblas;              /* linear layers through cblas_sgemm (else generated loops) */
    const float *embedded;      /* the parameter blob to embed (NULL: none) */
    uint64_t spec_hash;
} hn_emit_options;

/* Writes the generated files into dir (created if needed); each file is written to a temporary and
 * renamed, so a failure leaves no half-written file. Fills `files` with the paths written. */
int hn_emit_c(const hn_graph *g, const hn_emit_options *opt, const char *dir, char files[][512], int *nfiles);

/* The C expression of tensor t inside NAME_infer: in->x, out->y or t_x (a workspace slice). */
void hn_emit_tensor_var(const hn_graph *g, int t, char *dst, size_t n);

/* FNV-1a 64 of a byte range (spec hashes, build cache keys). */
uint64_t hn_fnv1a(const void *data, size_t n, uint64_t h);
#define HN_FNV_OFFSET 1469598103934665603ull

#endif
