/* token_take — splits a set with leading rows ([lead + n, D]: token_prepend, set_prepend) after an encoder:
 * the first row alone ([D], part: token), the rows after it ([lead − 1 + n, D], part: set), or the set's own
 * rows without any leading one ([n, D], part: rows — SPANet drops its global vectors so before assigning). */
#include <string.h>

#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "a set with a token row [1 + n, D]" },
    { "part", HN_ATTR_ENUM, 1, NULL, "token|set|rows", "the first row, the rows after it, or the set's own rows" },
};

static int take_token(const hn_node *n) { return !strcmp(hn_attr_str(n, "part"), "token"); }

/* Leading rows dropped by part set (1) or rows (all of them). */
static int dropped(const hn_node *n, const hn_shape *s) { return !strcmp(hn_attr_str(n, "part"), "rows") ? s->lead : 1; }

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    const hn_shape *s = hn_in_shape(g, n, 0);
    if (s->nset != 1 || s->rank != 2 || s->lead < 1)
        return hn_error(hn_attr(n, "in")->loc, "token_take needs a set with leading rows [lead + n, D] (token_prepend)");
    if (take_token(n)) {
        hn_shape v = { .rank = 1, .dim = { s->dim[1] }, .nset = 0, .set = -1 };
        *out = v;
    } else {
        *out = *s;
        out->lead = s->lead - dropped(n, s);
        out->dim[0] = s->dim[0] - dropped(n, s);
    }
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    const hn_shape *s = hn_in_shape(g, n, 0);
    int D = s->dim[1], rows = s->dim[0], skip = take_token(n) ? 0 : dropped(n, s);
    hn_emit_line(e, 1, "for (int b = 0; b < batch; ++b)");
    if (take_token(n))
        hn_emit_line(e, 2, "memcpy(y + (size_t)b * %d, x0 + (size_t)b * %d, sizeof(float) * %d);", D, rows * D, D);
    else if (g->dense_sets)          /* dense sets (ir.h): every slot */
        hn_emit_line(e, 2, "memcpy(y + (size_t)b * %d, x0 + (size_t)b * %d + %d, sizeof(float) * %d);", (rows - skip) * D,
                     rows * D, skip * D, (rows - skip) * D);
    else
        hn_emit_line(e, 2, "memcpy(y + (size_t)b * %d, x0 + (size_t)b * %d + %d, sizeof(float) * (size_t)%s * %d);",
                     (rows - skip) * D, rows * D, skip * D, hn_emit_rows(e, &g->tensors[n->out]), D);
}

static long macs(const hn_graph *g, const hn_node *n) { return 0; }

const hn_op_def hn_op_def_token_take = {
    "token_take", "The first row ([D]), the rows after it, or the set's own rows of a set with leading rows.", "",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, NULL, NULL, 0, 0,
};
