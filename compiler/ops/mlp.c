/* mlp — composite: a stack of linear layers, each followed by the activation. On a set tensor it is
 * the per-particle network of Deep Sets (applied to each real particle). Lowers to
 * `<name>.<i>` linear nodes (weights `<name>.<i>.weight`, `<name>.<i>.bias`) and activations. */
#include <string.h>

#include "../lower.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "input tensor" },
    { "dims", HN_ATTR_INTS, 1, NULL, NULL, "output width of each linear layer" },
    { "activation", HN_ATTR_ENUM, 0, "relu", "relu|gelu|none", "activation after every linear layer" },
};

static int lower(hn_graph *g, int node)
{
    hn_node composite = g->nodes[node];         /* copy: adding nodes may move the array */
    const hn_attr_val *dims = hn_attr(&composite, "dims");
    const char *act = hn_attr_str(&composite, "activation");
    int x = composite.in[0];
    for (int i = 0; i < dims->nints; ++i) {
        int last = i + 1 == dims->nints;
        char name[HN_NAME], act_name[HN_NAME + 8];
        snprintf(name, sizeof name, "%s.%d", composite.name, i);
        int lin = hn_new_node(g, HN_OP_linear, name, &composite, &x, 1);
        g->nodes[lin].attr[1].set = 1;
        g->nodes[lin].attr[1].i = dims->ints[i];
        int has_act = strcmp(act, "none") != 0;
        /* the linear's own tensor is "<name>.<i>.linear" when an activation follows, so that after
           fusion the fused kernel writes "<name>.<i>" (or "<name>" for the last layer) */
        char pre[HN_NAME + 8];
        snprintf(pre, sizeof pre, "%s.linear", name);
        x = hn_finish_node(g, lin, !has_act ? (last ? composite.name : name) : pre);
        if (x < 0) return -1;
        if (!has_act) continue;
        snprintf(act_name, sizeof act_name, "%s.%s", name, act);
        int a = hn_new_node(g, strcmp(act, "relu") == 0 ? HN_OP_relu : HN_OP_gelu, act_name, &composite, &x, 1);
        x = hn_finish_node(g, a, last ? composite.name : name);
        if (x < 0) return -1;
    }
    return x;
}

static long macs(const hn_graph *g, const hn_node *n) { return 0; }   /* counted on its linears */

const hn_op_def hn_op_def_mlp = {
    "mlp", "Stack of linear layers, each followed by the activation (per particle on a set).",
    "<name>.<i>.weight [dims[i], in], <name>.<i>.bias [dims[i]]",
    attrs, sizeof attrs / sizeof *attrs, NULL, lower, NULL, macs,
    NULL, NULL, NULL, 0, 0,
};
