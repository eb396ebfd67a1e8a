/* symmetric_attention — SPANet's assignment head for one particle of k products (split form; templates/c/
 * assignment.h): the k-linear form of the products' vectors, symmetrised over the products' symmetry group,
 * as log-probabilities over ordered assignments of k distinct real slots. Output [max]^k per event, every
 * cell written (−inf where a slot is padding or repeated), so it can be a model output as it is. */
#include <string.h>

#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSORS, 1, NULL, NULL, "the k products' vectors, sets [n, D] of one set (k = 1 to 4)" },
    { "group", HN_ATTR_INTS, 0, NULL, NULL,
      "the products' symmetry group: every element in array form, 1-based, concatenated (k numbers each); "
      "default the identity alone" },
};

static int group_order(const hn_node *n, int k)
{
    const hn_attr_val *v = hn_attr(n, "group");
    return v->set && v->nints ? v->nints / k : 1;
}

/* The group as 0-based images, checked: whole permutations of 1..k, identity included. */
static int read_group(const hn_node *n, int k, int8_t *perm)
{
    const hn_attr_val *v = hn_attr(n, "group");
    if (!v->set || !v->nints) {
        for (int d = 0; d < k; ++d) perm[d] = (int8_t)d;
        return 1;
    }
    if (v->nints % k) return hn_error(v->loc, "'group' lists %d numbers, not a multiple of k = %d", v->nints, k), -1;
    int order = v->nints / k, identity = 0;
    for (int g = 0; g < order; ++g) {
        int seen = 0, ident = 1;
        for (int d = 0; d < k; ++d) {
            int image = v->ints[g * k + d] - 1;
            if (image < 0 || image >= k || (seen >> image & 1))
                return hn_error(v->loc, "element %d of 'group' is not a permutation of 1..%d", g + 1, k), -1;
            seen |= 1 << image;
            ident &= image == d;
            perm[g * k + d] = (int8_t)image;
        }
        identity |= ident;
    }
    if (!identity) return hn_error(v->loc, "'group' must contain the identity"), -1;
    return order;
}

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    int k = n->nin;
    if (k < 1 || k > 4) return hn_error(hn_attr(n, "in")->loc, "symmetric_attention takes 1 to 4 products, got %d", k);
    const hn_shape *s = hn_in_shape(g, n, 0);
    for (int d = 0; d < k; ++d) {
        const hn_shape *t = hn_in_shape(g, n, d);
        if (t->nset != 1 || t->rank != 2 || t->lead || t->set != s->set || t->dim[0] != s->dim[0] || t->dim[1] != s->dim[1])
            return hn_error(hn_attr(n, "in")->loc, "symmetric_attention needs k sets [n, D] of one set and width; '%s' is not",
                            g->tensors[n->in[d]].name);
    }
    int8_t perm[HN_MAX_LIST];
    if (read_group(n, k, perm) < 0) return -1;
    hn_shape o = { .rank = k, .nset = k, .set = s->set };
    for (int d = 0; d < k; ++d) o.dim[d] = s->dim[0];
    *out = o;
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    const hn_shape *s = hn_in_shape(g, n, 0);
    int k = n->nin, max = s->dim[0], D = s->dim[1];
    int8_t perm[HN_MAX_LIST];
    int order = read_group(n, k, perm);
    char line[512];
    int used = snprintf(line, sizeof line, "static const int8_t group[%d] = {", order * k);
    for (int i = 0; i < order * k; ++i) used += snprintf(line + used, sizeof line - (size_t)used, "%s%d", i ? ", " : " ", perm[i]);
    snprintf(line + used, sizeof line - (size_t)used, " };   /* %d element(s), 0-based array form */", order);
    hn_emit_line(e, 1, "%s", line);
    long cells = hn_shape_elems(&g->tensors[n->out].shape);
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b) {");
    used = snprintf(line, sizeof line, "const float *products[%d] = {", k);
    for (int d = 0; d < k; ++d)
        used += snprintf(line + used, sizeof line - (size_t)used, "%sx%d + (size_t)b * %d", d ? ", " : " ", d, max * D);
    snprintf(line + used, sizeof line - (size_t)used, " };");
    hn_emit_line(e, 2, "%s", line);
    hn_emit_line(e, 2, "hn_k_assignment(products, %d, %s, %d, %d, group, %d, y + (size_t)b * %ld);", k,
                 hn_emit_rows(e, &g->tensors[n->in[0]]), max, D, order, cells);
    hn_emit_line(e, 1, "}");
}

static long macs(const hn_graph *g, const hn_node *n)
{
    const hn_shape *s = hn_in_shape(g, n, 0);
    return hn_shape_elems(&g->tensors[n->out].shape) * (long)s->dim[1] * n->nin * group_order(n, n->nin);
}

const hn_op_def hn_op_def_symmetric_attention = {
    "symmetric_attention",
    "SPANet's assignment head: the k products' k-linear form, symmetrised, as log-probabilities over distinct real slots.",
    "", attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, NULL, NULL, 1, 0,
};
