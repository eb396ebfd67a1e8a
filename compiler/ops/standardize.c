/* standardize — weaver's manual input standardisation, inside the generated code:
 *   y = clamp((x − center)·scale, min, max)   per feature (center 0, scale 1, ±inf: untouched).
 * Created from an input's `preprocess:` mapping (docs/spec.md), or used as a layer. */
#include <math.h>
#include <string.h>

#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "input tensor" },
    { "center", HN_ATTR_FLOATS, 1, NULL, NULL, "subtracted, one per feature" },
    { "scale", HN_ATTR_FLOATS, 1, NULL, NULL, "multiplied after, one per feature" },
    { "min", HN_ATTR_FLOATS, 1, NULL, NULL, "lower clip, one per feature (-.inf: none)" },
    { "max", HN_ATTR_FLOATS, 1, NULL, NULL, "upper clip, one per feature (.inf: none)" },
};

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    *out = *hn_in_shape(g, n, 0);
    int d = hn_last_dim(out);
    static const char *const keys[] = { "center", "scale", "min", "max" };
    for (int k = 0; k < 4; ++k)
        if (hn_attr(n, keys[k])->nfloats != d)
            return hn_error(hn_attr(n, keys[k])->loc, "'%s' lists %d values for %d features", keys[k],
                            hn_attr(n, keys[k])->nfloats, d);
    return 0;
}

static void emit_list(hn_emit *e, const char *name, const hn_attr_val *v)
{
    char line[2048];
    int used = snprintf(line, sizeof line, "static const float %s[%d] = {", name, v->nfloats);
    for (int k = 0; k < v->nfloats && used < (int)sizeof line - 32; ++k) {
        char lit[48];
        used += snprintf(line + used, sizeof line - (size_t)used, "%s%s", k ? ", " : " ", hn_c_float(v->floats[k], lit));
    }
    snprintf(line + used, sizeof line - (size_t)used, " };");
    hn_emit_line(e, 1, "%s", line);
}

static void emit(hn_emit *e, const hn_node *n)
{
    emit_list(e, "center", hn_attr(n, "center"));
    emit_list(e, "scale", hn_attr(n, "scale"));
    emit_list(e, "lo", hn_attr(n, "min"));
    emit_list(e, "hi", hn_attr(n, "max"));
    hn_rowloop r;
    hn_emit_rows_begin(e, n, &r);
    hn_emit_line(e, r.indent, "hn_k_standardize(%s, %s, %d, center, scale, lo, hi, %s);", r.x[0], r.rows,
                 hn_last_dim(&e->g->tensors[n->out].shape), r.y);
    hn_emit_rows_end(e, &r);
}

static long macs(const hn_graph *g, const hn_node *n) { return hn_shape_elems(hn_in_shape(g, n, 0)); }

/* dx = dy·scale where the value was not clamped (PyTorch's clamp passes the gradient at the bounds). */
static void emit_backward(hn_emit *e, const hn_node *n)
{
    emit_list(e, "center", hn_attr(n, "center"));
    emit_list(e, "scale", hn_attr(n, "scale"));
    emit_list(e, "lo", hn_attr(n, "min"));
    emit_list(e, "hi", hn_attr(n, "max"));
    hn_emit_line(e, 1, "if (dx0) hn_kb_standardize(x0, %s, %d, center, scale, lo, hi, dy, dx0);",
                 hn_emit_all_rows(e, &e->g->tensors[n->out]), hn_last_dim(&e->g->tensors[n->out].shape));
}

const hn_op_def hn_op_def_standardize = {
    "standardize", "Per-feature clamp((x − center)·scale, min, max), weaver's manual preprocessing.", "",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, emit_backward, NULL, 0, 0,
};
