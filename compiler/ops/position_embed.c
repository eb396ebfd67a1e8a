/* position_embed — appends one learnt vector to every row: [.., D] → [.., D + P]. SPANet's (misnamed)
 * PositionEmbedding: a per-input "type" vector, not a position encoding (the model stays
 * permutation-equivariant). */
#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "input tensor" },
    { "dim", HN_ATTR_INT, 1, NULL, NULL, "width P of the appended vector" },
};

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    *out = *hn_in_shape(g, n, 0);
    int P = (int)hn_attr_int(n, "dim");
    char name[HN_NAME + 24];
    snprintf(name, sizeof name, "%s.position_embedding", n->name);
    int64_t dim[3] = { 1, 1, P };
    n->param[n->nparam++] = hn_graph_add_param(g, name, 3, dim, 1);
    out->dim[out->rank - 1] += P;
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    int P = (int)hn_attr_int(n, "dim"), W = hn_last_dim(&e->g->tensors[n->out].shape), D = W - P;
    hn_emit_param_decl(e, "vec", n->param[0]);
    hn_rowloop r;
    hn_emit_rows_begin(e, n, &r);
    hn_emit_line(e, r.indent, "for (size_t i = 0; i < (size_t)(%s); ++i) {", r.rows);
    hn_emit_line(e, r.indent + 1, "memcpy((%s) + i * %d, (%s) + i * %d, sizeof(float) * %d);", r.y, W, r.x[0], D, D);
    hn_emit_line(e, r.indent + 1, "memcpy((%s) + i * %d + %d, vec, sizeof(float) * %d);", r.y, W, D, P);
    hn_emit_line(e, r.indent, "}");
    hn_emit_rows_end(e, &r);
}

static long macs(const hn_graph *g, const hn_node *n) { return 0; }

const hn_op_def hn_op_def_position_embed = {
    "position_embed", "Appends one learnt vector to every row (SPANet's per-input PositionEmbedding).",
    "<name>.position_embedding [1, 1, dim]",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, NULL, NULL, 0, 0,
};
