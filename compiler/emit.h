/* emit.h — the interface between the C emitter and the ops' emit functions.
 *
 * An op writes the body of its node's kernel function. In that body these names exist:
 *   P       const float *  the parameter blob (hn_emit_param gives "P + offset")
 *   batch   int            events in this call
 *   n       const int32_t *the run-time set counts of the node's set (NULL when it has none)
 *   x0, x1… const float *  the inputs, [batch][per-event elements]
 *   y       float *        the output, [batch][per-event elements]
 * Set tensors hold `max` rows per event; only the first n[b] are real and only they are computed.
 *
 * Training kernels (compiler/emit_train.c) see the same names and, in addition,
 *   Pw      float *        the parameter blob, writable (training-mode forward: running statistics)
 *   cfg     const hn_train_config *   loss, BN momentum, training flag (hepnc/train_entry.h)
 *   S       float *        the node's saved state, [batch][train_state floats] (NULL when none)
 *   Sf      float *        the node's per-batch state (train_state's *fixed floats; NULL when none)
 * and in the backward rule
 *   dy      float *        ∂loss/∂y, [batch][per-event elements]; padded rows are zero unless the op
 *                          writes all slots (hn_op_def.all_slots); the rule may overwrite it
 *   dx0, dx1… float *      ∂loss/∂x<k> to WRITE (every row the forward read), or NULL: not needed
 *   dP      float *        the gradient blob: parameter gradients ACCUMULATE at the parameters' offsets */
#ifndef HN_EMIT_H
#define HN_EMIT_H

#include <stdio.h>

#include "ir.h"

typedef struct hn_emit hn_emit;
struct hn_emit {
    FILE *f;
    const hn_graph *g;
    const char *prefix;         /* the model name, prefix of every generated symbol */
    char scratch[8][128];
    int next_scratch;
};

void hn_emit_line(hn_emit *e, int indent, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "P + 1234" for parameter index p (a temporary string, valid for the next few calls). */
const char *hn_emit_param(hn_emit *e, int p);
/* Declares `const float *NAME = P + off;  /+ name [shape] +/` for one of the node's parameters. */
void hn_emit_param_decl(hn_emit *e, const char *var, int p);
/* Declares `float *NAME = dP + off;` (the parameter's gradient) and `float *NAME = Pw + off;`. */
void hn_emit_grad_decl(hn_emit *e, const char *var, int p);
void hn_emit_param_mut_decl(hn_emit *e, const char *var, int p);
/* The count expression of event b for a tensor: "n[b]" for a masked set, its max otherwise. */
const char *hn_emit_rows(hn_emit *e, const hn_tensor *t);
/* Rows of the last axis over the whole batch, padding slots included: "batch * R" (backward rules). */
const char *hn_emit_all_rows(hn_emit *e, const hn_tensor *t);
/* A C float literal that reads back to exactly x ("%.9g" round-trips every float; inf as INFINITY). */
const char *hn_c_float(float x, char buf[48]);
/* A C double literal that reads back to exactly x, in the fewest of 15 to 17 significant digits. */
const char *hn_c_double(double x, char buf[48]);
/* Sanitised C identifier for a spec name ("phi.0" → "phi_0"). */
void hn_c_ident(char *dst, size_t n, const char *name);
/* The model name in capitals: the prefix of the generated macros (NAME_WORKSPACE_BYTES, …). */
void hn_c_macro_prefix(char *dst, size_t n, const char *name);


/* Row-wise ops (linear, norms, activations, softmax, add, concat) act on the last axis. For a
 * masked set the emitter loops over events and passes each event's real rows only; otherwise one
 * call covers the whole batch. */
typedef struct hn_rowloop {
    char x[HN_MAX_IN][64];      /* input pointer expressions */
    char y[64];                 /* output pointer expression */
    char rows[64];              /* number of rows in this call */
    int indent;                 /* indentation of the call */
    int looped;
} hn_rowloop;

void hn_emit_rows_begin(hn_emit *e, const hn_node *n, hn_rowloop *r);
void hn_emit_rows_end(hn_emit *e, const hn_rowloop *r);
#endif
