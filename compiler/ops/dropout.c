/* dropout — training-time regularisation, PyTorch's nn.Dropout: in training each element is kept with
 * probability 1 − p and scaled by 1/(1 − p), else zeroed; at inference it is the identity, and the
 * inference pipeline removes the node (passes/fuse.c: its readers read its input). The keep decisions
 * come from a counter-based hash of (step seed, layer, element index) (templates/c/backward_dropout.h):
 * deterministic for a seed whatever the threads, and recomputed by the backward instead of stored. */
#include <math.h>
#include <string.h>

#include "../emit.h"
#include "../ops.h"

uint64_t hn_fnv1a(const void *data, size_t n, uint64_t h);

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "input tensor" },
    { "p", HN_ATTR_FLOAT, 1, NULL, NULL, "probability of zeroing an element in training, in [0, 1)" },
};

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    double p = hn_attr_float(n, "p");
    if (!(p >= 0.0 && p < 1.0)) return hn_error(hn_attr(n, "p")->loc, "dropout p must be in [0, 1), got %g", p);
    *out = *hn_in_shape(g, n, 0);
    return 0;
}

/* Inference: the identity (only reached when the node's output is a graph output). */
static void emit(hn_emit *e, const hn_node *n)
{
    hn_emit_line(e, 1, "memcpy(y, x0, sizeof(float) * (size_t)batch * %ld);", hn_shape_elems(&e->g->tensors[n->out].shape));
}

static unsigned long long layer_key(const hn_node *n)
{
    return (unsigned long long)hn_fnv1a(n->name, strlen(n->name), 1469598103934665603ull);
}

static void emit_train(hn_emit *e, const hn_node *n)
{
    char p[48];
    hn_c_float((float)hn_attr_float(n, "p"), p);
    hn_emit_line(e, 1, "hn_kt_dropout(x0, (size_t)batch * %ld, %s, cfg->training ? cfg->dropout_seed : 0, 0x%016llxull, "
                 "cfg->training, y);   /* layer key: FNV-1a of '%s' */", hn_shape_elems(&e->g->tensors[n->out].shape), p,
                 layer_key(n), n->name);
}

static void emit_backward(hn_emit *e, const hn_node *n)
{
    char p[48];
    hn_c_float((float)hn_attr_float(n, "p"), p);
    hn_emit_line(e, 1, "if (dx0) hn_kt_dropout(dy, (size_t)batch * %ld, %s, cfg->training ? cfg->dropout_seed : 0, "
                 "0x%016llxull, cfg->training, dx0);   /* the same mask and scale */",
                 hn_shape_elems(&e->g->tensors[n->out].shape), p, layer_key(n));
}

static long macs(const hn_graph *g, const hn_node *n) { (void)g; (void)n; return 0; }

const hn_op_def hn_op_def_dropout = {
    "dropout", "Dropout with probability p in training (seeded, deterministic); the identity at inference.", "",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    emit_train, emit_backward, NULL, 0, 0,
};
