/* gru_gate — the GTrXL gate (templates/c/gru_gate.h): out = (1 − z) ⊙ x + z ⊙ ĥ of new rows y and residual
 * rows x, as SPANet's GRUGate. Parameters named as that module's: linear_{W,U}_{r,z,g} and gate_bias. */
#include "../emit.h"
#include "../ops.h"

#define GRU_MAX_DIM 512         /* templates/c/gru_gate.h: HN_K_GRU_MAX_DIM */

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSORS, 1, NULL, NULL, "[y, x]: the new rows and the residual rows, of one shape" },
};

static const char *const gates[] = { "r", "z", "g" };

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    if (n->nin != 2) return hn_error(hn_attr(n, "in")->loc, "gru_gate takes [y, x], got %d tensors", n->nin);
    const hn_shape *y = hn_in_shape(g, n, 0), *x = hn_in_shape(g, n, 1);
    int same = y->rank == x->rank && y->nset == x->nset && y->set == x->set && y->lead == x->lead;
    for (int i = 0; same && i < y->rank; ++i) same = y->dim[i] == x->dim[i];
    if (!same)
        return hn_error(hn_attr(n, "in")->loc, "gru_gate needs y and x of one shape; '%s' and '%s' differ",
                        g->tensors[n->in[0]].name, g->tensors[n->in[1]].name);
    int d = hn_last_dim(y);
    if (d > GRU_MAX_DIM) return hn_error(hn_attr(n, "in")->loc, "gru_gate supports widths up to %d, got %d", GRU_MAX_DIM, d);
    /* Declared W_r, W_z, W_g, then b_*, then U_*: back to back in the blob (when d·d and d keep the blob's
       alignment), so the kernel runs one GEMM for the three gates' y-side and one for the r, z x-side. */
    char suffix[64];
    for (int k = 0; k < 3; ++k) {
        snprintf(suffix, sizeof suffix, "linear_W_%s.weight", gates[k]);
        hn_node_param(g, n, suffix, 2, d, d);
    }
    for (int k = 0; k < 3; ++k) {
        snprintf(suffix, sizeof suffix, "linear_W_%s.bias", gates[k]);
        hn_node_param(g, n, suffix, 1, d, 0);
    }
    for (int k = 0; k < 3; ++k) {
        snprintf(suffix, sizeof suffix, "linear_U_%s.weight", gates[k]);
        hn_node_param(g, n, suffix, 2, d, d);
    }
    hn_node_param(g, n, "gate_bias", 1, d, 0);
    *out = *y;
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    hn_emit_line(e, 1, "const hn_k_gru_gate_params p = {");
    for (int k = 0; k < 3; ++k)                         /* params: W_r W_z W_g, b_r b_z b_g, U_r U_z U_g */
        hn_emit_line(e, 2, "%s, %s, %s,", hn_emit_param(e, n->param[k]), hn_emit_param(e, n->param[3 + k]),
                     hn_emit_param(e, n->param[6 + k]));
    hn_emit_line(e, 2, "%s };   /* W_r, b_r, U_r; W_z, b_z, U_z; W_g, b_g, U_g; gate bias */", hn_emit_param(e, n->param[9]));
    hn_rowloop r;
    hn_emit_rows_begin(e, n, &r);
    hn_emit_line(e, r.indent, "hn_k_gru_gate(%s, %s, %s, %d, &p, %s);", r.x[0], r.x[1], r.rows,
                 hn_last_dim(&e->g->tensors[n->out].shape), r.y);
    hn_emit_rows_end(e, &r);
}

static long macs(const hn_graph *g, const hn_node *n)
{
    return 6 * hn_shape_elems(hn_in_shape(g, n, 0)) * hn_last_dim(hn_in_shape(g, n, 0));
}

const hn_op_def hn_op_def_gru_gate = {
    "gru_gate", "The GTrXL gating unit (1 − z)⊙x + z⊙tanh(W_g y + U_g(r⊙x)) of new rows y and residual rows x.",
    "<name>.linear_W_{r,z,g}.{weight,bias}, <name>.linear_U_{r,z,g}.weight [d, d], <name>.gate_bias [d]",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, NULL, NULL, 0, 0,
};
