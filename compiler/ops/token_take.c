/* token_take — splits a set with a leading token row ([1 + n, D], token_prepend) after an encoder: the
 * token alone ([D], part: token), or the rows after it ([n, D], part: set). */
#include <string.h>

#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "a set with a token row [1 + n, D]" },
    { "part", HN_ATTR_ENUM, 1, NULL, "token|set", "the token row, or the set's own rows" },
};

static int take_token(const hn_node *n) { return !strcmp(hn_attr_str(n, "part"), "token"); }

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    const hn_shape *s = hn_in_shape(g, n, 0);
    if (s->nset != 1 || s->rank != 2 || s->lead != 1)
        return hn_error(hn_attr(n, "in")->loc, "token_take needs a set with one token row [1 + n, D] (token_prepend)");
    if (take_token(n)) {
        hn_shape v = { .rank = 1, .dim = { s->dim[1] }, .nset = 0, .set = -1 };
        *out = v;
    } else {
        *out = *s;
        out->lead = 0;
        out->dim[0] = s->dim[0] - 1;
    }
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    const hn_shape *s = hn_in_shape(g, n, 0);
    int D = s->dim[1], rows = s->dim[0];
    hn_emit_line(e, 1, "for (int b = 0; b < batch; ++b)");
    if (take_token(n))
        hn_emit_line(e, 2, "memcpy(y + (size_t)b * %d, x0 + (size_t)b * %d, sizeof(float) * %d);", D, rows * D, D);
    else if (g->dense_sets)          /* dense sets (ir.h): every slot */
        hn_emit_line(e, 2, "memcpy(y + (size_t)b * %d, x0 + (size_t)b * %d + %d, sizeof(float) * %d);", (rows - 1) * D,
                     rows * D, D, (rows - 1) * D);
    else
        hn_emit_line(e, 2, "memcpy(y + (size_t)b * %d, x0 + (size_t)b * %d + %d, sizeof(float) * (size_t)%s * %d);",
                     (rows - 1) * D, rows * D, D, hn_emit_rows(e, &g->tensors[n->out]), D);
}

static long macs(const hn_graph *g, const hn_node *n) { return 0; }

const hn_op_def hn_op_def_token_take = {
    "token_take", "The token row ([D]) or the other rows ([n, D]) of a set with a leading token (token_prepend).", "",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, NULL, NULL, 0, 0,
};
