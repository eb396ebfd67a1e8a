/* emit_c_spanet.c — see emit_c_spanet.h. */
#include "emit_c_spanet.h"

#include <string.h>

#include "topology.h"

typedef struct decode_plan {
    int m, kmax, n_slots;
    int out[HN_TOPO_MAX_PARTICLES];     /* the output index of each particle's assignment */
} decode_plan;

/* 1 with the plan when the spec can decode: a topology and every particle's assignment an output. */
static int plan_of(const hn_graph *g, decode_plan *p)
{
    const hn_topology *t = g->topology;
    if (!t || t->nparticles < 1) return 0;
    memset(p, 0, sizeof *p);
    for (int i = 0; i < t->nparticles; ++i) {
        char name[HN_NAME + 16];
        snprintf(name, sizeof name, "%s.assignment", t->particles[i].name);
        int tensor = hn_graph_find_tensor(g, name);
        if (tensor < 0 || g->tensors[tensor].output < 0) return 0;
        p->out[i] = g->tensors[tensor].output;
        p->n_slots = g->tensors[tensor].shape.dim[0];
        if (t->particles[i].nproducts > p->kmax) p->kmax = t->particles[i].nproducts;
    }
    p->m = t->nparticles;
    return 1;
}

void hn_emit_spanet_decode_decl(FILE *f, const hn_graph *g, const char *lower, const char *upper)
{
    decode_plan p;
    if (!plan_of(g, &p)) return;
    const hn_topology *t = g->topology;
    fprintf(f, "/* SPANet: the unique jet-parton assignment of each event, decoded from the outputs (upstream's greedy\n"
               " * extract_predictions with its intended semantics; docs/spanet_decoding.md). Particles in topology order:");
    for (int i = 0; i < t->nparticles; ++i) {
        fprintf(f, "%s %s(", i ? "," : "", t->particles[i].name);
        for (int d = 0; d < t->particles[i].nproducts; ++d) fprintf(f, "%s%s", d ? " " : "", t->particles[i].products[d].name);
        fputc(')', f);
    }
    fprintf(f, ".\n * slots: [batch][%s_PARTICLES][%s_PRODUCTS_MAX], each product's slot, -1 when the particle is not\n"
               " * assigned (fewer free slots than products, or nothing finite left). prob (may be NULL): [batch][%s_PARTICLES],\n"
               " * |G_p| exp(log P) of the chosen cell, 0 when not assigned. Allocates nothing (a stack scratch of\n"
               " * HN_K_ASSIGN_SCRATCH_BYTES(%d, %d) bytes); returns the number of particles assigned over the batch. */\n",
            upper, upper, upper, p.m, p.n_slots);
    fprintf(f, "#define %s_PARTICLES %d\n#define %s_PRODUCTS_MAX %d\n", upper, p.m, upper, p.kmax);
    fprintf(f, "long %s_decode(const %s_outputs *out, int batch, int32_t *slots, float *prob);\n\n", lower, lower);
}

void hn_emit_spanet_decode_def(FILE *f, const hn_graph *g, const char *lower, const char *upper)
{
    decode_plan p;
    if (!plan_of(g, &p)) return;
    const hn_topology *t = g->topology;
    fprintf(f, "/* The decoder of the assignments (%s.h; templates/c/assign_decode.h). */\n", lower);
    fprintf(f, "long %s_decode(const %s_outputs *out, int batch, int32_t *slots, float *prob)\n{\n", lower, lower);
    fprintf(f, "    static const int degree[%d] = {", p.m);
    for (int i = 0; i < p.m; ++i) fprintf(f, "%s%d", i ? ", " : " ", t->particles[i].nproducts);
    fprintf(f, " }, group_order[%d] = {", p.m);
    for (int i = 0; i < p.m; ++i) fprintf(f, "%s%d", i ? ", " : " ", t->particles[i].group.order);
    fprintf(f, " };\n    const float *logp[%d] = {", p.m);
    for (int i = 0; i < p.m; ++i) fprintf(f, "%s out->%s", i ? "," : "", g->output_names[p.out[i]]);
    fprintf(f, " };\n");
    fprintf(f, "    unsigned char scratch[HN_K_ASSIGN_SCRATCH_BYTES(%d, %d)];\n", p.m, p.n_slots);
    fprintf(f, "    hn_k_assign_scratch s = hn_k_assign_layout(scratch, %d);\n", p.m);
    fprintf(f, "    long assigned = 0;\n");
    fprintf(f, "    for (int b = 0; b < batch; ++b)\n");
    fprintf(f, "        assigned += hn_k_assign_decode_event(%d, degree, %d, logp, b, NULL, group_order, %s_PRODUCTS_MAX,\n"
               "                                             slots + (size_t)b * %d, prob ? prob + (size_t)b * %d : NULL, s);\n",
            p.m, p.n_slots, upper, p.m * p.kmax, p.m);
    fprintf(f, "    return assigned;\n}\n");
}
