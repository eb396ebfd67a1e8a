/* spanet — composite: SPANet v2 (Shmakov et al., SciPost Phys. 12, 178, arXiv:2106.03898; Fenton et al.,
 * arXiv:2309.01886; code github.com/Alexanders101/SPANet), the jet–parton assignment network of the spec's event topology
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
 *   heads       per EVENT regression: BranchLinear to 1, de-normalised: regression.<name> [1]; per EVENT
 *               classification: BranchLinear to its classes: classification.<name> [C] (logits)
 *
 * Supported today: one SEQUENTIAL input, any GLOBAL inputs (joined as leading rows), EVENT-level heads;
 * GRU linear blocks, the gated (GTrXL) transformer, GELU, LayerNorm, split symmetric attention (upstream's
 * defaults). The composite's own tensor is the EVENT vector. */
#include <math.h>
#include <string.h>

#include "../lower.h"
#include "../ops.h"
#include "../topology.h"
#include "spanet_blocks.h"

#define NAME_LEN (HN_NAME + 64)

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL,
      "the topology's SEQUENTIAL input (a set input of the same name and features); its GLOBAL inputs are the "
      "spec's per-event inputs of their names" },
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
    { "num_regression_layers", HN_ATTR_COUNT, 0, "1", NULL, "GRU blocks of each regression head" },
    { "num_classification_layers", HN_ATTR_COUNT, 0, "1", NULL, "GRU blocks of each classification head" },
    { "num_classes", HN_ATTR_INTS, 0, NULL, NULL,
      "classes of each classification target, in topology order (upstream: the training labels' max + 1; default 2 each)" },
    { "num_attention_heads", HN_ATTR_INT, 0, "4", NULL, "heads of every attention layer" },
    { "transformer_dim_scale", HN_ATTR_FLOAT, 0, "2.0", NULL, "a GRU block's inner width over its input width" },
    { "skip_connections", HN_ATTR_BOOL, 0, "true", NULL, "gated residuals in the blocks after the embedding" },
    { "initial_embedding_skip_connections", HN_ATTR_BOOL, 0, "true", NULL, "gated residuals in the embedding stack" },
};

/* A spec input against a topology input: same name, same features in the same order; a set (SEQUENTIAL,
 * with mask: true) or a per-event vector (GLOBAL). */
static int check_input(const hn_graph *g, const hn_node *c, const hn_topology *t, const hn_topo_input *ti, int tensor)
{
    const hn_loc loc = hn_attr(c, "in")->loc;
    int global = ti->kind == HN_TOPO_GLOBAL;
    if (tensor < 0 || g->tensors[tensor].role != HN_T_INPUT)
        return hn_error(loc, "the topology %s has the %s input '%s'; declare it under the spec's inputs", t->src.path,
                        global ? "GLOBAL" : "SEQUENTIAL", ti->name);
    const hn_tensor *in = &g->tensors[tensor];
    if (global ? in->shape.nset != 0 : (in->shape.nset != 1 || !in->masked))
        return hn_error(in->loc, global ? "'%s' is a GLOBAL input of %s: a per-event vector (no max)"
                                        : "'%s' is a SEQUENTIAL input of %s: a set with max and mask: true", in->name,
                        t->src.path);
    if (in->nfeatures != ti->nfeatures)
        return hn_error(in->loc, "'%s' has %d features, the topology %s lists %d", in->name, in->nfeatures, t->src.path,
                        ti->nfeatures);
    for (int f = 0; f < ti->nfeatures; ++f)
        if (strcmp(in->features[f], ti->features[f].name))
            return hn_error(in->loc, "feature %d of '%s' is '%s'; the topology %s says '%s' (the same order is needed)", f + 1,
                            in->name, in->features[f], t->src.path, ti->features[f].name);
    return 0;
}

/* What is supported: one SEQUENTIAL input (the op's `in`), any GLOBAL ones, EVENT-level heads. */
static int check_topology(const hn_graph *g, const hn_node *c, const hn_topology *t)
{
    const hn_loc loc = hn_attr(c, "in")->loc;
    int sequential = 0;
    for (int i = 0; i < t->ninputs; ++i) {
        const hn_topo_input *ti = &t->inputs[i];
        if (ti->kind == HN_TOPO_RELATIVE)
            return hn_error(loc, "RELATIVE inputs (%s of %s) are not supported yet", ti->name, t->src.path);
        if (ti->kind == HN_TOPO_SEQUENTIAL && sequential++)
            return hn_error(loc, "spanet supports one SEQUENTIAL input so far; %s has more", t->src.path);
        int tensor = ti->kind == HN_TOPO_SEQUENTIAL ? c->in[0] : hn_graph_find_tensor(g, ti->name);
        if (ti->kind == HN_TOPO_SEQUENTIAL && strcmp(g->tensors[tensor].name, ti->name))
            return hn_error(loc, "spanet reads the topology's SEQUENTIAL input '%s', not '%s'", ti->name, g->tensors[tensor].name);
        if (check_input(g, c, t, ti, tensor)) return -1;
    }
    for (int i = 0; i < t->nregressions; ++i)
        if (t->regressions[i].particle >= 0)
            return hn_error(loc, "regression '%s' of %s is not an EVENT one; only EVENT regressions are supported yet",
                            t->regressions[i].name, t->src.path);
    for (int i = 0; i < t->nclassifications; ++i)
        if (t->classifications[i].particle >= 0)
            return hn_error(loc, "classification '%s' of %s is not an EVENT one; only EVENT classifications are supported yet",
                            t->classifications[i].name, t->src.path);
    const hn_attr_val *classes = hn_attr(c, "num_classes");
    if (classes->set && classes->nints != t->nclassifications)
        return hn_error(classes->loc, "'num_classes' lists %d numbers for %d classification targets", classes->nints,
                        t->nclassifications);
    return 0;
}

/* One input's normaliser, embedding stack and type vector (CombinedVectorEmbedding); returns [.., D + P]. */
static int embed_input(hn_graph *g, const hn_node *c, const hn_topology *t, int i, int x, const hn_spanet_dims *d)
{
    char name[NAME_LEN], base[96], stack[160], logs[512] = "";
    const hn_topo_input *ti = &t->inputs[i];
    for (int f = 0; f < ti->nfeatures; ++f)
        if (ti->features[f].log_scale) snprintf(logs + strlen(logs), sizeof logs - strlen(logs), "%s%s", logs[0] ? "\n" : "", ti->features[f].name);
    snprintf(base, sizeof base, "embedding.vector_embedding_layers.%d", i);
    /* GlobalVectorEmbedding wraps the sequential one: one more ".embedding" in its path */
    snprintf(stack, sizeof stack, "%s.vector_embeddings.%sembedding_stack.embedding_layers", base,
             ti->kind == HN_TOPO_GLOBAL ? "embedding." : "");
    snprintf(name, sizeof name, "%s.normalizer", base);
    int node = hn_new_node(g, HN_OP_vector_normalize, name, c, &x, 1);
    if (logs[0]) {
        hn_attr_val *v = (hn_attr_val *)hn_attr(&g->nodes[node], "log");
        v->set = 1;
        snprintf(v->s, sizeof v->s, "%s", logs);
    }
    if ((x = hn_finish_node(g, node, name)) < 0) return -1;
    int width = (int)hn_attr_int(c, "initial_embedding_dim"), skip0 = (int)hn_attr_int(c, "initial_embedding_skip_connections");
    int layer = 0;
    snprintf(name, sizeof name, "%s.%d", stack, layer++);
    if ((x = hn_spanet_gru_block(g, c, name, x, width, skip0, d)) < 0) return -1;
    for (long k = 0; k < hn_attr_int(c, "num_embedding_layers") && 2 * width < d->hidden; ++k) {
        snprintf(name, sizeof name, "%s.%d", stack, layer++);
        if ((x = hn_spanet_gru_block(g, c, name, x, 2 * width, skip0, d)) < 0) return -1;
        width *= 2;
    }
    snprintf(name, sizeof name, "%s.%d", stack, layer++);
    if ((x = hn_spanet_gru_block(g, c, name, x, d->hidden, skip0, d)) < 0) return -1;
    snprintf(name, sizeof name, "%s.position_embedding", base);
    return hn_lower_node(g, HN_OP_position_embed, name, c, &x, 1, "dim", hn_attr_int(c, "position_embedding_dim"), NULL, 0);
}

/* MultiInputVectorEmbedding: every input embedded, the GLOBAL vectors joined to the set as leading rows,
 * one GRU block D + P → D over all of them. *nglobal: the leading rows. */
static int embedding(hn_graph *g, const hn_node *c, const hn_topology *t, const hn_spanet_dims *d, int *nglobal)
{
    int set = -1, vec[HN_TOPO_MAX_INPUTS], nvec = 0;
    for (int i = 0; i < t->ninputs; ++i) {
        int x = t->inputs[i].kind == HN_TOPO_SEQUENTIAL ? c->in[0] : hn_graph_find_tensor(g, t->inputs[i].name);
        if ((x = embed_input(g, c, t, i, x, d)) < 0) return -1;
        if (t->inputs[i].kind == HN_TOPO_SEQUENTIAL) set = x;
        else vec[nvec++] = x;
    }
    for (int k = nvec - 1; k >= 0; --k) {                 /* leading rows in topology order */
        char name[NAME_LEN];
        int pair[2] = { vec[k], set };
        snprintf(name, sizeof name, "embedding.%s.joined", t->inputs[k + 1].name);
        if ((set = hn_lower_node(g, HN_OP_set_prepend, name, c, pair, 2, NULL, 0, NULL, 0)) < 0) return -1;
    }
    *nglobal = nvec;
    return hn_spanet_gru_block(g, c, "embedding.final_embedding_layer", set, d->hidden, d->skip, d);
}

/* BranchLinear(num_layers, outputs) on a per-event vector: GRU blocks, BatchNorm1d (running statistics),
 * a linear to `outputs`; the last tensor is named `out_name`. */
static int branch_linear(hn_graph *g, const hn_node *c, const char *prefix, int x, long layers, int outputs,
                         const char *out_name, const hn_spanet_dims *d)
{
    char name[NAME_LEN];
    for (long l = 0; l < layers; ++l) {
        snprintf(name, sizeof name, "%s.hidden_layers.layers.%ld", prefix, l);
        if ((x = hn_spanet_gru_block(g, c, name, x, d->hidden, d->skip, d)) < 0) return -1;
    }
    snprintf(name, sizeof name, "%s.output_norm", prefix);
    if ((x = hn_lower_node(g, HN_OP_batchnorm, name, c, &x, 1, NULL, 0, NULL, 0)) < 0) return -1;
    snprintf(name, sizeof name, "%s.output_layer", prefix);
    int node = hn_new_node(g, HN_OP_linear, out_name ? out_name : name, c, &x, 1);
    hn_node_set_int(&g->nodes[node], "out", outputs);
    snprintf(g->nodes[node].param_prefix, HN_NAME, "%s", name);
    return hn_finish_node(g, node, out_name ? out_name : name);
}

/* The EVENT regressions (NormalizedBranchLinear: BranchLinear to 1, de-normalised) and classifications
 * (BranchLinear to the class count: logits) on the event vector: tensors regression.<name>, classification.<name>. */
static int heads(hn_graph *g, const hn_node *c, const hn_topology *t, int event, const hn_spanet_dims *d)
{
    static const char *const types[] = { "gaussian", "laplacian", "log_gaussian" };
    char prefix[NAME_LEN], name[NAME_LEN];
    for (int i = 0; i < t->nregressions; ++i) {
        const hn_topo_target *r = &t->regressions[i];
        snprintf(prefix, sizeof prefix, "regression_decoder.networks.EVENT/%s", r->name);
        snprintf(name, sizeof name, "%s.linear", prefix);
        int u = branch_linear(g, c, name, event, hn_attr_int(c, "num_regression_layers"), 1, NULL, d);
        if (u < 0) return -1;
        snprintf(name, sizeof name, "regression.%s", r->name);
        int node = hn_new_node(g, HN_OP_denormalize, name, c, &u, 1);
        hn_attr_val *v = (hn_attr_val *)hn_attr(&g->nodes[node], "type");
        v->set = 1;
        snprintf(v->s, sizeof v->s, "%s", types[r->type]);
        if (hn_finish_node(g, node, name) < 0) return -1;
        const hn_node *dn = &g->nodes[node];
        snprintf(name, sizeof name, "%s.mean", prefix);     /* NormalizedBranchLinear's own statistics */
        hn_param_rename(g, dn->param[0], name);
        snprintf(name, sizeof name, "%s.std", prefix);
        hn_param_rename(g, dn->param[1], name);
    }
    const hn_attr_val *classes = hn_attr(c, "num_classes");
    for (int i = 0; i < t->nclassifications; ++i) {
        const hn_topo_target *k = &t->classifications[i];
        int C = classes->set ? classes->ints[i] : 2;
        snprintf(prefix, sizeof prefix, "classification_decoder.networks.EVENT/%s", k->name);
        snprintf(name, sizeof name, "classification.%s", k->name);
        if (branch_linear(g, c, prefix, event, hn_attr_int(c, "num_classification_layers"), C, name, d) < 0) return -1;
    }
    return 0;
}

/* The detection head: BranchLinear to 1 on the particle token, then σ: <particle>.detection. */
static int detection(hn_graph *g, const hn_node *c, const char *branch, const char *particle, int token,
                     const hn_spanet_dims *d)
{
    char name[NAME_LEN];
    snprintf(name, sizeof name, "%s.detection_classifier", branch);
    int x = branch_linear(g, c, name, token, hn_attr_int(c, "num_detector_layers"), 1, NULL, d);
    if (x < 0) return -1;
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
    if (check_topology(g, &c, t)) return -1;
    hn_spanet_dims d = { (int)hn_attr_int(&c, "hidden_dim"), (int)hn_attr_int(&c, "num_attention_heads"),
                         hn_attr_float(&c, "transformer_dim_scale"), (int)hn_attr_int(&c, "skip_connections") };
    if (d.hidden % d.heads)
        return hn_error(hn_attr(&c, "num_attention_heads")->loc, "hidden_dim %d is not a multiple of %d heads", d.hidden, d.heads);
    if (!(d.scale > 0.0 && d.scale <= 16.0))
        return hn_error(hn_attr(&c, "transformer_dim_scale")->loc, "transformer_dim_scale must be in (0, 16], got %g", d.scale);
    /* schedule: SPANet's sets are short (≤ 32 jets), so its row-wise layers run over every slot (ir.h) */
    if (g->tensors[c.in[0]].shape.dim[0] <= 32) g->dense_sets = 1;
    int nglobal = 0, x = embedding(g, &c, t, &d, &nglobal), event;
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
        if (nglobal) {                  /* the global vectors are not assignable: the products see the set alone */
            char name[NAME_LEN];
            snprintf(name, sizeof name, "%s.sequential", encoder);
            int tk = hn_new_node(g, HN_OP_token_take, name, &c, &v, 1);
            hn_attr_val *part = (hn_attr_val *)hn_attr(&g->nodes[tk], "part");
            part->set = 1;
            snprintf(part->s, sizeof part->s, "rows");
            if ((v = hn_finish_node(g, tk, name)) < 0) return -1;
        }
        if (assignment(g, &c, branch, &t->particles[i], v, &d) < 0) return -1;
    }
    if (heads(g, &c, t, event, &d)) return -1;
    return event;
}

static long macs(const hn_graph *g, const hn_node *n) { return 0; }

const hn_op_def hn_op_def_spanet = {
    "spanet",
    "SPANet v2 for the spec's event topology: embedding (GLOBAL inputs joined as leading rows), central GTrXL "
    "encoder, per particle a branch encoder, detection head and symmetric assignment head, EVENT regression and "
    "classification heads (tensors <particle>.assignment, <particle>.detection, regression.<name>, classification.<name>).",
    "upstream SPANet's state_dict names (embedding.*, encoder.*, branch_decoders.<i>.*)",
    attrs, sizeof attrs / sizeof *attrs, NULL, lower, NULL, macs,
    NULL, NULL, NULL, 0, 0,
};
