/* embed — composite: ParT's particle embedding (weaver-core 0.4 Embed): an input batchnorm, then for
 * each width a LayerNorm, a linear layer and GELU, on every real particle. Lowers to nodes named as
 * weaver's modules: <name>.input_bn, <name>.embed.{3i} (LayerNorm), <name>.embed.{3i+1} (linear). */
#include <string.h>

#include "../lower.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "a set of particle features" },
    { "dims", HN_ATTR_INTS, 1, NULL, NULL, "output width of each LayerNorm → linear → GELU stage" },
    { "input_bn", HN_ATTR_BOOL, 0, "true", NULL, "batchnorm the input features first" },
};

static int lower(hn_graph *g, int node)
{
    hn_node c = g->nodes[node];
    const hn_attr_val *dims = hn_attr(&c, "dims");
    char name[HN_NAME + 16];
    int x = c.in[0];
    if (hn_attr_int(&c, "input_bn")) {
        snprintf(name, sizeof name, "%s.input_bn", c.name);
        if ((x = hn_lower_node(g, HN_OP_batchnorm, name, &c, &x, 1, NULL, 0, NULL, 0)) < 0) return -1;
    }
    for (int i = 0; i < dims->nints; ++i) {
        snprintf(name, sizeof name, "%s.embed.%d", c.name, 3 * i);
        if ((x = hn_lower_node(g, HN_OP_layernorm, name, &c, &x, 1, NULL, 0, NULL, 0)) < 0) return -1;
        snprintf(name, sizeof name, "%s.embed.%d", c.name, 3 * i + 1);
        if ((x = hn_lower_node(g, HN_OP_linear, name, &c, &x, 1, "out", dims->ints[i], NULL, 0)) < 0) return -1;
        int last = i + 1 == dims->nints;
        if (last) snprintf(name, sizeof name, "%s", c.name);
        else snprintf(name, sizeof name, "%s.embed.%d", c.name, 3 * i + 2);
        if ((x = hn_lower_node(g, HN_OP_gelu, name, &c, &x, 1, NULL, 0, NULL, 0)) < 0) return -1;
    }
    return x;
}

static long macs(const hn_graph *g, const hn_node *n) { return 0; }

const hn_op_def hn_op_def_embed = {
    "embed", "ParT particle embedding: input batchnorm, then LayerNorm → linear → GELU per width (per real particle).",
    "<name>.input_bn.*, <name>.embed.{3i}.{weight,bias} (LayerNorm), <name>.embed.{3i+1}.{weight,bias} (linear)",
    attrs, sizeof attrs / sizeof *attrs, NULL, lower, NULL, macs,
    NULL, NULL, NULL, 0, 0,
};
