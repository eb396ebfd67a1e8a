/* slice — picks features of a tensor by name (inputs with named features) or by a [start, stop)
 * range of the last axis. */
#include <string.h>

#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "input tensor" },
    { "features", HN_ATTR_NAMES, 0, NULL, NULL, "names of the features to keep, in the order wanted (inputs only)" },
    { "range", HN_ATTR_INTS, 0, NULL, NULL, "[start, stop): a range of the last axis, 0-based" },
};

/* Column indices are kept in the node's `range` attribute (ints) once resolved. */
static int resolve_names(hn_graph *g, hn_node *n, hn_attr_val *cols)
{
    const hn_tensor *t = &g->tensors[n->in[0]];
    const hn_attr_val *names = hn_attr(n, "features");
    if (t->nfeatures == 0)
        return hn_error(names->loc, "'%s' has no named features; slice it with 'range: [start, stop]'", t->name);
    /* names->s holds the names separated by '\n' (lower.c) */
    char buf[sizeof names->s];
    memcpy(buf, names->s, sizeof buf);
    cols->nints = 0;
    for (char *tok = strtok(buf, "\n"); tok; tok = strtok(NULL, "\n")) {
        int found = -1;
        for (int f = 0; f < t->nfeatures; ++f)
            if (strcmp(t->features[f], tok) == 0) found = f;
        if (found < 0) {
            const char *cands[HN_MAX_LIST];
            for (int f = 0; f < t->nfeatures; ++f) cands[f] = t->features[f];
            const char *near = hn_closest(tok, cands, t->nfeatures);
            if (near)
                return hn_error(names->loc, "'%s' has no feature '%s'; did you mean '%s'?", t->name, tok, near);
            return hn_error(names->loc, "'%s' has no feature '%s'", t->name, tok);
        }
        cols->ints[cols->nints++] = found;
    }
    return 0;
}

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    hn_attr_val *range = (hn_attr_val *)hn_attr(n, "range");
    const hn_attr_val *names = hn_attr(n, "features");
    int width = hn_last_dim(hn_in_shape(g, n, 0));
    if (names->set == range->set)
        return hn_error(n->loc, "slice needs exactly one of 'features' or 'range'");
    if (names->set) {
        if (resolve_names(g, n, range)) return -1;
    } else {
        if (range->nints != 2 || range->ints[0] >= range->ints[1] || range->ints[1] > width)
            return hn_error(range->loc, "'range' must be [start, stop) with 0 <= start < stop <= %d", width);
        int start = range->ints[0], stop = range->ints[1];
        range->nints = 0;
        for (int c = start; c < stop; ++c) range->ints[range->nints++] = c;
    }
    *out = *hn_in_shape(g, n, 0);
    out->dim[out->rank - 1] = range->nints;
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    const hn_attr_val *cols = hn_attr(n, "range");
    char list[HN_MAX_LIST * 4 + 8] = "";
    for (int k = 0; k < cols->nints; ++k) {
        char item[16];
        snprintf(item, sizeof item, "%s%d", k ? ", " : "", cols->ints[k]);
        strcat(list, item);
    }
    hn_emit_line(e, 1, "static const int cols[%d] = { %s };", cols->nints, list);
    hn_rowloop r;
    hn_emit_rows_begin(e, n, &r);
    hn_emit_line(e, r.indent, "hn_k_gather_cols(%s, %s, %d, cols, %d, %s, %d);", r.x[0], r.rows,
                 hn_last_dim(hn_in_shape(e->g, n, 0)), cols->nints, r.y, cols->nints);
    hn_emit_rows_end(e, &r);
}

static long macs(const hn_graph *g, const hn_node *n) { return 0; }

static void emit_backward(hn_emit *e, const hn_node *n)
{
    const hn_attr_val *cols = hn_attr(n, "range");
    char list[HN_MAX_LIST * 4 + 8] = "";
    for (int k = 0; k < cols->nints; ++k) {
        char item[16];
        snprintf(item, sizeof item, "%s%d", k ? ", " : "", cols->ints[k]);
        strcat(list, item);
    }
    hn_emit_line(e, 1, "static const int cols[%d] = { %s };", cols->nints, list);
    hn_emit_line(e, 1, "if (dx0) hn_kb_gather_cols(dy, %s, %d, cols, %d, dx0, %d, 0);", hn_emit_all_rows(e, &e->g->tensors[n->out]),
                 cols->nints, cols->nints, hn_last_dim(hn_in_shape(e->g, n, 0)));
}

const hn_op_def hn_op_def_slice = {
    "slice", "Selects features of a tensor by name or by a range of the last axis.", "",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, emit_backward, NULL, 0, 0,
};
