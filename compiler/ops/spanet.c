/* spanet — composite: SPANet v2 (Shmakov et al., SciPost Phys. 12, 178; arXiv:2309.01886; code
 * github.com/Alexanders101/SPANet), the jet–parton assignment network of the spec's event topology
 * (`topology:`, compiler/topology.h), lowered to primitives named after upstream's modules so that its
 * state_dict loads as it is (docs/spanet.md):
 *
 *   embedding   log/normalise the input's features, GRU blocks F → initial → 2·initial … → D, the
 *               input's learnt type vector appended, one GRU block D + P → D
 *   encoder     a learnt event token in front, GTrXL layers; the token's vector is the EVENT vector
 *   per event particle p (branch_decoders.<i>):
 *     encoder     GRU blocks, a learnt particle token, GTrXL layers
 *     detection   GRU blocks on the particle token, BatchNorm, linear → sigmoid: <p>.detection [1]
 *     attention   per product: GRU blocks, a token, GTrXL layers, a linear; then the products' k-linear
 *                 form symmetrised over the particle's product group, log-softmax over distinct real
 *                 slots: <p>.assignment [max]^k
 *
 * Supported today: one SEQUENTIAL input, no GLOBAL/RELATIVE inputs, no regression or classification
 * heads; GRU linear blocks, the gated (GTrXL) transformer, GELU, LayerNorm, split symmetric attention
 * (upstream's defaults). The composite's own tensor is the EVENT vector. */
#include <math.h>
#include <string.h>

#include "../lower.h"
#include "../ops.h"
#include "../topology.h"
#include "spanet_blocks.h"

#define NAME_LEN (HN_NAME + 64)

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "the topology's SEQUENTIAL input (a set input of the same name and features)" },
    { "hidden_dim", HN_ATTR_INT, 0, "128", NULL, "width D of everything after the embedding" },
    { "initial_embedding_dim", HN_ATTR_INT, 0, "16", NULL, "first width of the doubling embedding stack" },
    { "position_embedding_dim", HN_ATTR_INT, 0, "32", NULL, "width of the input's learnt type vector" },
    { "num_embedding_layers", HN_ATTR_COUNT, 0, "10", NULL, "most doublings of the embedding stack" },
    { "num_encoder_layers", HN_ATTR_COUNT, 0, "4", NULL, "GTrXL layers of the central encoder" },
    { "num_branch_embedding_layers", HN_ATTR_COUNT, 0, "4", NULL, "GRU blocks per event particle" },
    { "num_branch_encoder_layers", HN_ATTR_COUNT, 0, "4", NULL, "GTrXL layers per event particle" },
    { "num_jet_embedding_layers", HN_ATTR_COUNT, 0, "0", NULL, "GRU blocks per product" },
    { "num_jet_encoder_layers", HN_ATTR_COUNT, 0, "0", NULL, "GTrXL layers per product" },
    { "num_detector_layers", HN_ATTR_COUNT, 0, "1", NULL, "GRU blocks of each detection head" },
    { "num_attention_heads", HN_ATTR_INT, 0, "4", NULL, "heads of every attention layer" },
    { "transformer_dim_scale", HN_ATTR_FLOAT, 0, "2.0", NULL, "a GRU block's inner width over its input width" },
    { "skip_connections", HN_ATTR_BOOL, 0, "true", NULL, "gated residuals in the blocks after the embedding" },
    { "initial_embedding_skip_connections", HN_ATTR_BOOL, 0, "true", NULL, "gated residuals in the embedding stack" },
};

/* The spec's input against the topology's: one SEQUENTIAL input of the same name and features. */
static int check_input(const hn_graph *g, const hn_node *c, const hn_topology *t)
{
    const hn_tensor *in = &g->tensors[c->in[0]];
    const hn_loc loc = hn_attr(c, "in")->loc;
    if (t->ninputs != 1 || t->inputs[0].kind != HN_TOPO_SEQUENTIAL)
        return hn_error(loc, "spanet supports one SEQUENTIAL input so far; %s has %d input(s)", t->src.path, t->ninputs);
    if (t->nregressions || t->nclassifications)
        return hn_error(loc, "spanet has no regression or classification heads yet; %s declares some", t->src.path);
    const hn_topo_input *ti = &t->inputs[0];
    if (in->role != HN_T_INPUT || in->shape.nset != 1 || !in->masked || strcmp(in->name, ti->name))
        return hn_error(loc, "spanet reads the topology's input '%s': a set input of that name with mask: true", ti->name);
    if (in->nfeatures != ti->nfeatures)
        return hn_error(in->loc, "'%s' has %d features, the topology %s lists %d", in->name, in->nfeatures, t->src.path,
                        ti->nfeatures);
    for (int f = 0; f < ti->nfeatures; ++f)
        if (strcmp(in->features[f], ti->features[f].name))
            return hn_error(in->loc, "feature %d of '%s' is '%s'; the topology %s says '%s' (the same order is needed)", f + 1,
                            in->name, in->features[f], t->src.path, ti->features[f].name);
    return 0;
}

/* Normaliser, embedding stack, type vector and the final block (MultiInputVectorEmbedding). */
static int embedding(hn_graph *g, const hn_node *c, const hn_topology *t, const hn_spanet_dims *d)
{
    char name[NAME_LEN], logs[512] = "";
    const hn_topo_input *ti = &t->inputs[0];
    for (int f = 0; f < ti->nfeatures; ++f)
        if (ti->features[f].log_scale) snprintf(logs + strlen(logs), sizeof logs - strlen(logs), "%s%s", logs[0] ? "\n" : "", ti->features[f].name);
    const char *base = "embedding.vector_embedding_layers.0";
    snprintf(name, sizeof name, "%s.normalizer", base);
    int x = c->in[0];
    int node = hn_new_node(g, HN_OP_vector_normalize, name, c, &x, 1);
    if (logs[0]) {
        hn_attr_val *v = (hn_attr_val *)hn_attr(&g->nodes[node], "log");
        v->set = 1;
        snprintf(v->s, sizeof v->s, "%s", logs);
    }
    if ((x = hn_finish_node(g, node, name)) < 0) return -1;
    int width = (int)hn_attr_int(c, "initial_embedding_dim"), skip0 = (int)hn_attr_int(c, "initial_embedding_skip_connections");
    int layer = 0;
    snprintf(name, sizeof name, "%s.vector_embeddings.embedding_stack.embedding_layers.%d", base, layer++);
    if ((x = hn_spanet_gru_block(g, c, name, x, width, skip0, d)) < 0) return -1;
    for (long i = 0; i < hn_attr_int(c, "num_embedding_layers") && 2 * width < d->hidden; ++i) {
        snprintf(name, sizeof name, "%s.vector_embeddings.embedding_stack.embedding_layers.%d", base, layer++);
        if ((x = hn_spanet_gru_block(g, c, name, x, 2 * width, skip0, d)) < 0) return -1;
        width *= 2;
    }
    snprintf(name, sizeof name, "%s.vector_embeddings.embedding_stack.embedding_layers.%d", base, layer++);
    if ((x = hn_spanet_gru_block(g, c, name, x, d->hidden, skip0, d)) < 0) return -1;
    snprintf(name, sizeof name, "%s.position_embedding", base);
    if ((x = hn_lower_node(g, HN_OP_position_embed, name, c, &x, 1, "dim", hn_attr_int(c, "position_embedding_dim"), NULL, 0)) < 0)
        return -1;
    return hn_spanet_gru_block(g, c, "embedding.final_embedding_layer", x, d->hidden, d->skip, d);
}

/* BranchLinear on the particle token: GRU blocks, BatchNorm1d (running statistics), linear → σ. */
static int detection(hn_graph *g, const hn_node *c, const char *branch, const char *particle, int token,
                     const hn_spanet_dims *d)
{
    char name[NAME_LEN];
    int x = token;
    for (long l = 0; l < hn_attr_int(c, "num_detector_layers"); ++l) {
        snprintf(name, sizeof name, "%s.detection_classifier.hidden_layers.layers.%ld", branch, l);
        if ((x = hn_spanet_gru_block(g, c, name, x, d->hidden, d->skip, d)) < 0) return -1;
    }
    snprintf(name, sizeof name, "%s.detection_classifier.output_norm", branch);
    if ((x = hn_lower_node(g, HN_OP_batchnorm, name, c, &x, 1, NULL, 0, NULL, 0)) < 0) return -1;
    snprintf(name, sizeof name, "%s.detection_classifier.output_layer", branch);
    if ((x = hn_lower_node(g, HN_OP_linear, name, c, &x, 1, "out", 1, NULL, 0)) < 0) return -1;
    snprintf(name, sizeof name, "%s.detection", particle);
    return hn_lower_node(g, HN_OP_sigmoid, name, c, &x, 1, NULL, 0, NULL, 0);
}

/* SymmetricAttentionSplit: per product a stacked encoder and a linear, then the symmetric head. */
static int assignment(hn_graph *g, const hn_node *c, const char *branch, const hn_topo_particle *p, int x,
                      const hn_spanet_dims *d)
{
    char name[NAME_LEN];
    int k = p->nproducts, y[4], token;
    if (k > 4) return hn_error(c->loc, "particle '%s' has %d products; spanet supports up to 4", p->name, k);
    if (p->group.order * k > HN_MAX_LIST)
        return hn_error(c->loc, "the product group of '%s' has %d elements; at most %d numbers fit", p->name, p->group.order,
                        HN_MAX_LIST);
    for (int j = 0; j < k; ++j) {
        snprintf(name, sizeof name, "%s.attention.encoders.%d", branch, j);
        int v = hn_spanet_stacked_encoder(g, c, name, x, (int)hn_attr_int(c, "num_jet_embedding_layers"),
                                          (int)hn_attr_int(c, "num_jet_encoder_layers"), d, &token);
        if (v < 0) return -1;
        snprintf(name, sizeof name, "%s.attention.linear_layers.%d", branch, j);
        if ((y[j] = hn_lower_node(g, HN_OP_linear, name, c, &v, 1, "out", d->hidden, NULL, 0)) < 0) return -1;
    }
    snprintf(name, sizeof name, "%s.assignment", p->name);
    int node = hn_new_node(g, HN_OP_symmetric_attention, name, c, y, k);
    hn_attr_val *grp = (hn_attr_val *)hn_attr(&g->nodes[node], "group");
    grp->set = 1;
    grp->nints = p->group.order * k;
    for (int i = 0; i < grp->nints; ++i) grp->ints[i] = p->group.elements[i] + 1;
    return hn_finish_node(g, node, name);
}

static int lower(hn_graph *g, int node)
{
    hn_node c = g->nodes[node];
    const hn_topology *t = g->topology;
    if (!t) return hn_error(c.loc, "op 'spanet' needs the spec's 'topology:' (a SPANet event file)");
    if (check_input(g, &c, t)) return -1;
    hn_spanet_dims d = { (int)hn_attr_int(&c, "hidden_dim"), (int)hn_attr_int(&c, "num_attention_heads"),
                         hn_attr_float(&c, "transformer_dim_scale"), (int)hn_attr_int(&c, "skip_connections") };
    if (d.hidden % d.heads)
        return hn_error(hn_attr(&c, "num_attention_heads")->loc, "hidden_dim %d is not a multiple of %d heads", d.hidden, d.heads);
    if (!(d.scale > 0.0 && d.scale <= 16.0))
        return hn_error(hn_attr(&c, "transformer_dim_scale")->loc, "transformer_dim_scale must be in (0, 16], got %g", d.scale);
    /* schedule: SPANet's sets are short (≤ 32 jets), so its row-wise layers run over every slot (ir.h) */
    if (g->tensors[c.in[0]].shape.dim[0] <= 32) g->dense_sets = 1;
    int x = embedding(g, &c, t, &d), event;
    if (x < 0) return -1;
    if ((x = hn_spanet_stacked_encoder(g, &c, "encoder", x, 0, (int)hn_attr_int(&c, "num_encoder_layers"), &d, &event)) < 0)
        return -1;
    for (int i = 0; i < t->nparticles; ++i) {
        char branch[64], encoder[80];
        snprintf(branch, sizeof branch, "branch_decoders.%d", i);
        snprintf(encoder, sizeof encoder, "%s.encoder", branch);
        int token, v = hn_spanet_stacked_encoder(g, &c, encoder, x, (int)hn_attr_int(&c, "num_branch_embedding_layers"),
                                                 (int)hn_attr_int(&c, "num_branch_encoder_layers"), &d, &token);
        if (v < 0) return -1;
        if (detection(g, &c, branch, t->particles[i].name, token, &d) < 0) return -1;
        if (assignment(g, &c, branch, &t->particles[i], v, &d) < 0) return -1;
    }
    return event;
}

static long macs(const hn_graph *g, const hn_node *n) { return 0; }

const hn_op_def hn_op_def_spanet = {
    "spanet",
    "SPANet v2 for the spec's event topology: embedding, central GTrXL encoder, per particle a branch encoder, "
    "detection head and symmetric assignment head (outputs <particle>.assignment, <particle>.detection).",
    "upstream SPANet's state_dict names (embedding.*, encoder.*, branch_decoders.<i>.*)",
    attrs, sizeof attrs / sizeof *attrs, NULL, lower, NULL, macs,
    NULL, NULL, NULL, 0, 0,
};
