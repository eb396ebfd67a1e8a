/* token_prepend — a learnt vector put in front of every event's rows (SPANet's StackedEncoder: the
 * event, particle and product tokens). The output is a set with one leading row that is always real:
 * [1 + n, D]; attention then reads the token as query and key like any other row. */
#include <string.h>

#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "a set of vectors [n, D]" },
};

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    const hn_shape *s = hn_in_shape(g, n, 0);
    if (s->nset != 1 || s->rank != 2)
        return hn_error(hn_attr(n, "in")->loc, "token_prepend needs a set of vectors [n, D]");
    int D = s->dim[1];
    char name[HN_NAME + 8];
    snprintf(name, sizeof name, "%s.weight", n->name);
    int64_t dim[3] = { 1, 1, D };                       /* torch's nn.Parameter(randn(1, 1, D)) */
    n->param[n->nparam++] = hn_graph_add_param(g, name, 3, dim, 1);
    *out = *s;
    out->lead = s->lead + 1;
    out->dim[0] = s->dim[0] + 1;
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    const hn_shape *s = &g->tensors[n->out].shape;
    int D = s->dim[1], max = s->dim[0] - 1;           /* max: the input's rows, leading ones included */
    hn_emit_param_decl(e, "token", n->param[0]);
    hn_emit_line(e, 1, "for (int b = 0; b < batch; ++b) {");
    hn_emit_line(e, 2, "memcpy(y + (size_t)b * %d, token, sizeof(float) * %d);", (max + 1) * D, D);
    const char *rows = g->dense_sets ? "" : hn_emit_rows(e, &g->tensors[n->in[0]]);   /* dense sets: every slot */
    if (g->dense_sets)
        hn_emit_line(e, 2, "memcpy(y + (size_t)b * %d + %d, x0 + (size_t)b * %d, sizeof(float) * %d);", (max + 1) * D, D,
                     max * D, max * D);
    else
        hn_emit_line(e, 2, "memcpy(y + (size_t)b * %d + %d, x0 + (size_t)b * %d, sizeof(float) * (size_t)%s * %d);",
                     (max + 1) * D, D, max * D, rows, D);
    hn_emit_line(e, 1, "}");
}

static long macs(const hn_graph *g, const hn_node *n) { return 0; }

const hn_op_def hn_op_def_token_prepend = {
    "token_prepend", "A learnt token row put before each event's rows: [lead + n, D] → [lead + 1 + n, D] (SPANet's tokens).",
    "<name>.weight [1, 1, D]",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, NULL, NULL, 0, 0,
};
