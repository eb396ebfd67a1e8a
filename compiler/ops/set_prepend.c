/* set_prepend — a per-event vector put before a set's rows as one more always-real leading row:
 * ([D], [lead + n, D]) → [lead + 1 + n, D]. SPANet's GLOBAL inputs (the MET) join the sequence this way;
 * the network is permutation-equivariant, so where in the sequence they sit does not matter. */
#include <string.h>

#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSORS, 1, NULL, NULL, "[vector, set]: a per-event vector [D] and a set [lead + n, D]" },
};

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    if (n->nin != 2) return hn_error(hn_attr(n, "in")->loc, "set_prepend takes [vector, set], got %d tensors", n->nin);
    const hn_shape *v = hn_in_shape(g, n, 0), *s = hn_in_shape(g, n, 1);
    if (v->nset || v->rank != 1 || s->nset != 1 || s->rank != 2 || v->dim[0] != s->dim[1])
        return hn_error(hn_attr(n, "in")->loc, "set_prepend needs a vector [D] and a set [n, D] of the same D");
    *out = *s;
    out->lead = s->lead + 1;
    out->dim[0] = s->dim[0] + 1;
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    const hn_shape *s = hn_in_shape(g, n, 1);
    int D = s->dim[1], rows = s->dim[0];
    const char *count = hn_emit_rows(e, &g->tensors[n->in[1]]);
    hn_emit_line(e, 1, "for (int b = 0; b < batch; ++b) {");
    hn_emit_line(e, 2, "memcpy(y + (size_t)b * %d, x0 + (size_t)b * %d, sizeof(float) * %d);", (rows + 1) * D, D, D);
    if (g->dense_sets)                  /* dense sets (ir.h): every slot */
        hn_emit_line(e, 2, "memcpy(y + (size_t)b * %d + %d, x1 + (size_t)b * %d, sizeof(float) * %d);", (rows + 1) * D, D,
                     rows * D, rows * D);
    else
        hn_emit_line(e, 2, "memcpy(y + (size_t)b * %d + %d, x1 + (size_t)b * %d, sizeof(float) * (size_t)%s * %d);",
                     (rows + 1) * D, D, rows * D, count, D);
    hn_emit_line(e, 1, "}");
}

static long macs(const hn_graph *g, const hn_node *n) { return 0; }

const hn_op_def hn_op_def_set_prepend = {
    "set_prepend", "A per-event vector put before a set's rows as one more leading row (SPANet's global inputs).", "",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, NULL, NULL, 0, 0,
};
