/* test_plan.c — properties of the memory plan, on every model in models/ and on random graphs:
 *   1. no two workspace tensors that are live at the same time overlap in memory;
 *   2. the plan is no larger than the sum of the tensor sizes;
 *   3. every intermediate tensor is in the workspace, every input and output outside it.
 * Liveness is recomputed here from the node order, independently of the planner. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"

static int passed, failed;

static long padded(const hn_tensor *t) { return (hn_shape_elems(&t->shape) + 15) / 16 * 16; }

static int check_plan(const hn_graph *g, const char *what)
{
    int n = g->ntensors;
    int *first = malloc(sizeof(int) * (size_t)n), *last = malloc(sizeof(int) * (size_t)n);
    for (int t = 0; t < n; ++t) first[t] = last[t] = -1;
    for (int i = 0; i < g->nnodes; ++i) {
        const hn_node *x = &g->nodes[i];
        if (x->dead) continue;
        first[x->out] = i;
        if (last[x->out] < i) last[x->out] = i;
        for (int k = 0; k < x->nin; ++k) last[x->in[k]] = i;
    }
    long sum = 0;
    int bad = 0;
    for (int a = 0; a < n && !bad; ++a) {
        const hn_tensor *ta = &g->tensors[a];
        int live = first[a] >= 0;
        int intermediate = live && ta->role == HN_T_ACT && ta->output < 0;
        if (intermediate != (ta->offset >= 0)) {
            printf("FAIL %s: tensor '%s' %s the workspace\n", what, ta->name, intermediate ? "is not in" : "is in");
            bad = 1;
        }
        if (ta->offset < 0) continue;
        sum += padded(ta);
        if (ta->offset + padded(ta) > g->workspace_floats) {
            printf("FAIL %s: tensor '%s' ends past the workspace\n", what, ta->name);
            bad = 1;
        }
        for (int b = a + 1; b < n && !bad; ++b) {
            const hn_tensor *tb = &g->tensors[b];
            if (tb->offset < 0) continue;
            int time = first[a] <= last[b] && first[b] <= last[a];
            int space = ta->offset < tb->offset + padded(tb) && tb->offset < ta->offset + padded(ta);
            if (time && space) {
                printf("FAIL %s: '%s' and '%s' are live together and overlap\n", what, ta->name, tb->name);
                bad = 1;
            }
        }
    }
    if (!bad && g->workspace_floats > sum) {
        printf("FAIL %s: plan %ld floats > sum of sizes %ld\n", what, g->workspace_floats, sum);
        bad = 1;
    }
    free(first);
    free(last);
    bad ? ++failed : ++passed;
    return bad;
}

static unsigned long long rng = 0x9e3779b97f4a7c15ull;
static unsigned next(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (unsigned)(rng >> 32);
}

/* A random spec: a masked set and a global input, a chain of per-particle layers with residual adds,
 * a pool, and a chain of per-event layers with concats. */
static void random_spec(FILE *f, int id)
{
    fprintf(f, "name: random%d\ninputs:\n  particles: {max: %u, mask: true, features: [a, b, c]}\n", id, 1 + next() % 40);
    fprintf(f, "  event: {features: [m, n]}\nlayers:\n");
    int nset = 1 + next() % 8, width = 3;
    char prev[32] = "particles";
    for (int i = 0; i < nset; ++i) {
        int w = 1 + next() % 70;
        switch (next() % 4) {
        case 0: fprintf(f, "  - {name: s%d, op: linear, in: %s, out: %d}\n", i, prev, w); width = w; break;
        case 1: fprintf(f, "  - {name: s%d, op: gelu, in: %s}\n", i, prev); break;
        case 2: fprintf(f, "  - {name: s%d, op: layernorm, in: %s}\n", i, prev); break;
        default: fprintf(f, "  - {name: s%d, op: mlp, in: %s, dims: [%d, %d]}\n", i, prev, w, w); width = w; break;
        }
        if (i && next() % 3 == 0) {   /* residual over a width-preserving op */
            fprintf(f, "  - {name: r%d, op: relu, in: s%d}\n  - {name: q%d, op: add, in: [s%d, r%d]}\n", i, i, i, i, i);
            snprintf(prev, sizeof prev, "q%d", i);
        } else {
            snprintf(prev, sizeof prev, "s%d", i);
        }
    }
    (void)width;
    fprintf(f, "  - {name: pooled, op: pool, in: %s, mode: %s}\n", prev, next() % 2 ? "sum" : "max");
    fprintf(f, "  - {name: joined, op: concat, in: [pooled, event]}\n");
    snprintf(prev, sizeof prev, "joined");
    int nev = 1 + next() % 6;
    for (int i = 0; i < nev; ++i) {
        fprintf(f, "  - {name: e%d, op: %s, in: %s, out: %u}\n", i, "linear", prev, 1 + next() % 90);
        snprintf(prev, sizeof prev, "e%d", i);
    }
    fprintf(f, "outputs:\n  out: {softmax: %s}\n", prev);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; ++i) {          /* the real models */
        hn_model_build mb;
        if (hn_frontend(&mb, argv[i], NULL)) { printf("FAIL %s: does not compile\n", argv[i]); ++failed; continue; }
        if (!check_plan(&mb.graph, argv[i])) printf("ok %s: %ld floats per event\n", argv[i], mb.graph.workspace_floats);
        hn_model_build_free(&mb);
    }
    char path[] = "/tmp/hepnc-plan-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 1;
    close(fd);
    for (int id = 0; id < 300; ++id) {
        FILE *f = fopen(path, "w");
        random_spec(f, id);
        fclose(f);
        hn_model_build mb;
        char what[64];
        snprintf(what, sizeof what, "random spec %d", id);
        if (hn_frontend(&mb, path, NULL)) {
            printf("FAIL %s does not compile (kept at %s)\n", what, path);
            ++failed;
            hn_model_build_free(&mb);
            break;
        }
        check_plan(&mb.graph, what);
        hn_model_build_free(&mb);
    }
    if (!failed) unlink(path);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
