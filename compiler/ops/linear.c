/* linear — y = x Wᵀ + b over the last axis; per real particle for set tensors.
 * W is [out, in] as in PyTorch's nn.Linear. A following relu/gelu is fused as an epilogue and a
 * neighbouring batchnorm folded into W and b at load time (passes/fuse.c, passes/fold.c). */
#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "input tensor" },
    { "out", HN_ATTR_INT, 1, NULL, NULL, "output features" },
    { "bias", HN_ATTR_BOOL, 0, "true", NULL, "add a bias vector" },
};

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    const hn_shape *in = hn_in_shape(g, n, 0);
    *out = *in;
    out->dim[out->rank - 1] = (int)hn_attr_int(n, "out");
    hn_node_param(g, n, "weight", 2, hn_attr_int(n, "out"), hn_last_dim(in));
    if (hn_attr_int(n, "bias"))
        hn_node_param(g, n, "bias", 1, hn_attr_int(n, "out"), 0);
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    hn_emit_param_decl(e, "W", n->param[0]);
    if (n->nparam > 1)
        hn_emit_param_decl(e, "bias", n->param[1]);
    else
        hn_emit_line(e, 1, "const float *bias = NULL;");
    static const char *const acts[] = { "HN_ACT_NONE", "HN_ACT_RELU", "HN_ACT_GELU" };
    hn_rowloop r;
    hn_emit_rows_begin(e, n, &r);
    hn_emit_line(e, r.indent, "HN_LINEAR(%s, %s, %d, W, bias, %d, %s, %s);", r.x[0], r.rows,
                 hn_last_dim(hn_in_shape(g, n, 0)), hn_last_dim(&g->tensors[n->out].shape), acts[n->act], r.y);
    hn_emit_rows_end(e, &r);
}

static long macs(const hn_graph *g, const hn_node *n)
{
    const hn_shape *in = hn_in_shape(g, n, 0);
    return hn_shape_elems(in) * hn_attr_int(n, "out");
}

/* ParT's per-head scale c_attn after out_proj (weaver: x.view(t, b, h, d), einsum 'tbhd,h->tbdh'), which
 * the inference code folds into this linear's rows (HN_FOLD_HEADSCALE). Training keeps it explicit:
 * y[r][t·H + h] = c[h]·z[r][h·d + t] with z = x·Wᵀ + b kept in the node's state. -1: none. */
static int headscale_of(const hn_graph *g, const hn_node *n)
{
    for (int i = 0; i < g->nfolds; ++i)
        if (g->folds[i].kind == HN_FOLD_HEADSCALE && g->folds[i].w == n->param[0]) return i;
    return -1;
}

static long train_state(const hn_graph *g, const hn_node *n, long *fixed)
{
    *fixed = 0;
    return headscale_of(g, n) >= 0 ? 2 * hn_shape_elems(&g->tensors[n->out].shape) : 0;
}

static void emit_train(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    int hs = headscale_of(g, n);
    if (hs < 0) { emit(e, n); return; }
    const hn_shape *o = &g->tensors[n->out].shape;
    int out = hn_last_dim(o), heads = g->folds[hs].heads, d = out / heads;
    hn_emit_param_decl(e, "W", n->param[0]);
    hn_emit_param_decl(e, "bias", n->param[1]);
    hn_emit_param_decl(e, "c", g->folds[hs].bn_gamma);
    hn_emit_line(e, 1, "float *z = S;   /* x·Wᵀ + b before the head scale, every slot */");
    hn_emit_line(e, 1, "HN_LINEAR(x0, %s, %d, W, bias, %d, HN_ACT_NONE, z);", hn_emit_all_rows(e, &g->tensors[n->out]),
                 hn_last_dim(hn_in_shape(g, n, 0)), out);
    hn_emit_line(e, 1, "for (size_t r = 0; r < (size_t)%s; ++r)   /* head-major -> channel-major, scaled */",
                 hn_emit_all_rows(e, &g->tensors[n->out]));
    hn_emit_line(e, 2, "for (int h = 0; h < %d; ++h)", heads);
    hn_emit_line(e, 3, "for (int t = 0; t < %d; ++t) y[r * %d + t * %d + h] = c[h] * z[r * %d + h * %d + t];", d, out, heads,
                 out, d);
}

/* Backward over every slot (padding rows of dy are zero): dx = dy·W, dW += dyᵀ·x, db += Σ dy (through
 * the head scale first when there is one). */
static void emit_backward(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    int hs = headscale_of(g, n), out = hn_last_dim(&g->tensors[n->out].shape);
    const char *rows = hn_emit_all_rows(e, &g->tensors[n->out]);
    hn_emit_param_decl(e, "W", n->param[0]);
    hn_emit_grad_decl(e, "dW", n->param[0]);
    if (n->nparam > 1) hn_emit_grad_decl(e, "db", n->param[1]);
    else hn_emit_line(e, 1, "float *db = NULL;");
    if (hs >= 0) {
        int heads = g->folds[hs].heads, d = out / heads;
        hn_emit_param_decl(e, "c", g->folds[hs].bn_gamma);
        hn_emit_grad_decl(e, "dc", g->folds[hs].bn_gamma);
        hn_emit_line(e, 1, "const float *z = S;");
        hn_emit_line(e, 1, "float *dz = S + (size_t)batch * %ld;", hn_shape_elems(&g->tensors[n->out].shape));
        hn_emit_line(e, 1, "for (size_t r = 0; r < (size_t)%s; ++r)", rows);
        hn_emit_line(e, 2, "for (int h = 0; h < %d; ++h)", heads);
        hn_emit_line(e, 3, "for (int t = 0; t < %d; ++t) {", d);
        hn_emit_line(e, 4, "const float g = dy[r * %d + t * %d + h];", out, heads);
        hn_emit_line(e, 4, "dc[h] += g * z[r * %d + h * %d + t];", out, d);
        hn_emit_line(e, 4, "dz[r * %d + h * %d + t] = c[h] * g;", out, d);
        hn_emit_line(e, 3, "}");
        hn_emit_line(e, 1, "dy = dz;");
    }
    const hn_tensor *o = &g->tensors[n->out];
    int in = hn_last_dim(hn_in_shape(g, n, 0));
    if (o->shape.nset == 1 && g->tensors[g->inputs[o->shape.set]].masked) {
        /* each event's real rows only (padding rows of dy are zero: they would add nothing) */
        long ein = hn_shape_elems(hn_in_shape(g, n, 0)), eout = hn_shape_elems(&o->shape);
        (void)eout;
        hn_emit_line(e, 1, "hn_kt_linear_backward_events(x0, batch, %ld, n, %d, W, %d, dy, dx0, dW, db);",
                     ein / in, in, out);
        return;
    }
    hn_emit_line(e, 1, "hn_kt_linear_backward_par(x0, %s, %d, W, %d, dy, dx0, dW, db);", rows, in, out);
}

const hn_op_def hn_op_def_linear = {
    "linear", "Affine map y = x·Wᵀ + b over the last axis (per real particle for sets).",
    "<name>.weight [out, in], <name>.bias [out]",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    emit_train, emit_backward, train_state, 0, 0,
};
