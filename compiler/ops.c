/* ops.c — the op table assembled from HN_OP_LIST, and helpers shared by the op files. */
#include "ops.h"

#include <stdlib.h>
#include <string.h>

static const hn_op_def *const table[HN_NUM_OPS] = {
#define HN_OP_PTR(name) &hn_op_def_##name,
    HN_OP_LIST(HN_OP_PTR)
#undef HN_OP_PTR
};

static const char *const names[HN_NUM_OPS] = {
#define HN_OP_NAME(name) #name,
    HN_OP_LIST(HN_OP_NAME)
#undef HN_OP_NAME
};

const hn_op_def *hn_op(int op) { return table[op]; }
const char *const *hn_op_names(void) { return names; }

int hn_op_find(const char *name)
{
    for (int i = 0; i < HN_NUM_OPS; ++i)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

const hn_attr_val *hn_attr(const hn_node *n, const char *key)
{
    const hn_op_def *op = hn_op(n->op);
    for (int a = 0; a < op->nattrs; ++a)
        if (strcmp(op->attrs[a].key, key) == 0)
            return &n->attr[a];
    fprintf(stderr, "hepnc: internal error: op '%s' has no attribute '%s'\n", op->name, key);
    abort();
}

long hn_attr_int(const hn_node *n, const char *key) { return hn_attr(n, key)->i; }
double hn_attr_float(const hn_node *n, const char *key) { return hn_attr(n, key)->f; }
const char *hn_attr_str(const hn_node *n, const char *key) { return hn_attr(n, key)->s; }

const hn_shape *hn_in_shape(const hn_graph *g, const hn_node *n, int k)
{
    return &g->tensors[n->in[k]].shape;
}

int hn_last_dim(const hn_shape *s) { return s->rank ? s->dim[s->rank - 1] : 1; }

int hn_set_vectors(const hn_graph *g, const hn_node *n)
{
    const hn_tensor *t = &g->tensors[n->in[0]];
    if (t->shape.nset == 1 && t->shape.rank == 2)
        for (int i = 0; i < g->ninputs; ++i)
            if (g->tensors[g->inputs[i]].vectors_of == t->shape.set) return g->inputs[i];
    return hn_error(hn_attr(n, "in")->loc, "%s needs a set input with 4-vectors; declare '%s' with 'vectors: true'",
                    hn_op(n->op)->name, t->name);
}

int hn_node_param(hn_graph *g, hn_node *n, const char *suffix, int rank, int64_t d0, int64_t d1)
{
    char name[HN_NAME];
    int64_t dim[2] = { d0, d1 };
    snprintf(name, sizeof name, "%s.%s", n->param_prefix[0] ? n->param_prefix : n->name, suffix);
    int p = hn_graph_add_param(g, name, rank, dim, 1);
    /* PyTorch's batchnorm buffers (every op that keeps a batchnorm names them so) are never trained */
    size_t len = strlen(suffix);
    g->params[p].frozen = (len >= 12 && !strcmp(suffix + len - 12, "running_mean")) ||
                          (len >= 11 && !strcmp(suffix + len - 11, "running_var"));
    n->param[n->nparam++] = p;
    return p;
}
