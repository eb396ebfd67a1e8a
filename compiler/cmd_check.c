/* cmd_check.c — `hepnc check` and `hepnc compile`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "emit.h"
#include "ops.h"
#include "params.h"
#include "emit_cuda.h"
#include "emit_cuda_train.h"
#include "driver.h"
#include "emit_train.h"
#include "passes/passes.h"

static void print_summary(const hn_graph *g)
{
    long weights = 0, stats = 0, macs = 0;
    for (int p = 0; p < g->nparams; ++p) {
        if (!g->params[p].from_file) continue;
        if (strstr(g->params[p].name, "running_")) stats += g->params[p].size;
        else weights += g->params[p].size;
    }
    for (int i = 0; i < g->nnodes; ++i)
        if (!g->nodes[i].dead) macs += hn_op(g->nodes[i].op)->macs(g, &g->nodes[i]);
    printf("model %s: ok\n", g->name);
    for (int i = 0; i < g->ninputs; ++i) {
        const hn_tensor *t = &g->tensors[g->inputs[i]];
        printf("  input  %-12s ", t->name);
        hn_shape_print(stdout, &t->shape, g);
        printf("%s\n", t->pairs_of >= 0 ? "  (features of pairs of the set's rows)" : t->vectors_of >= 0 ? "  (4-vectors of the set's rows)"
                       : t->shape.nset ? (t->masked ? "  (masked set)" : "  (fixed-size list)") : "");
    }
    for (int o = 0; o < g->noutputs; ++o) {
        printf("  output %-12s ", g->output_names[o]);
        hn_shape_print(stdout, &g->tensors[g->outputs[o]].shape, g);
        putchar('\n');
    }
    printf("  parameters       %ld (+ %ld batchnorm statistics)\n", weights, stats);
    printf("  MACs per event   %ld (at the maximum set sizes)\n", macs);
    char upper[HN_NAME];
    hn_c_macro_prefix(upper, sizeof upper, g->name);
    printf("  workspace        %ld bytes per event (%s_WORKSPACE_BYTES(batch) = batch * %ld)\n",
           g->workspace_floats * 4, upper, g->workspace_floats * 4);
    int cuda = 1;
    for (int i = 0; i < g->nnodes; ++i)
        if (!g->nodes[i].dead && !hn_cuda_op_supported(g->nodes[i].op)) {
            printf("  GPU workspace    none: op %s has no CUDA kernel yet (--target cuda refuses this spec)\n",
                   hn_op(g->nodes[i].op)->name);
            cuda = 0;
            break;
        }
    if (cuda) {
        long gpu = hn_cuda_workspace_floats(g) * 4, edge = hn_cuda_edge_floats(g) * 4;
        printf("  GPU workspace    %ld bytes per event, in chunks of %d events (--target cuda: at most %.1f MB at any batch)\n",
               gpu, HN_CUDA_CHUNK_DEFAULT, (gpu * (double)HN_CUDA_CHUNK_DEFAULT + edge * (double)HN_CUDA_EDGE_GROUP) / 1e6);
        if (edge)
            printf("                   + %ld bytes per event for the EdgeConv GEMMs, in groups of %d events\n", edge,
                   HN_CUDA_EDGE_GROUP);
    }
}

/* bytes as "12.3 kB", "4.5 MB" or "10.7 GB" into buf */
static const char *human_bytes(double bytes, char *buf, size_t len)
{
    if (bytes >= 1e9) snprintf(buf, len, "%.1f GB", bytes / 1e9);
    else if (bytes >= 1e6) snprintf(buf, len, "%.1f MB", bytes / 1e6);
    else snprintf(buf, len, "%.1f kB", bytes / 1e3);
    return buf;
}

/* The training step's memory: the C step's workspace per event and per batch (the GPU step's is the same
 * plus its scratch), and what it holds. */
static void print_training(const hn_model_build *mb)
{
    hn_graph tg;
    memset(&tg, 0, sizeof tg);
    if (hn_train_graph(mb, &tg) || hn_emit_train_check(&tg)) {     /* the reason is printed above */
        printf("  training         not possible (above)\n");
        hn_graph_free(&tg);
        return;
    }
    long per_event = hn_train_event_floats(&tg) * 4;
    char all[32], act[32], grad[32], state[32];
    printf("  training         %ld bytes per event + %ld per batch (%s at batch 256; the GPU step adds its\n"
           "                   scratch): activations %s, gradients %s (shared where their lives do not\n"
           "                   overlap), saved state %s per event\n",
           per_event, tg.train_fixed_floats * 4, human_bytes((double)per_event * 256 + tg.train_fixed_floats * 4, all, sizeof all),
           human_bytes(tg.train_act_floats * 4.0, act, sizeof act), human_bytes(tg.train_grad_floats * 4.0, grad, sizeof grad),
           human_bytes(tg.train_state_floats * 4.0, state, sizeof state));
    hn_graph_free(&tg);
}

int hn_cmd_check(int argc, char **argv)
{
    const char *spec = NULL, *dump = NULL;
    for (int i = 2; i < argc; ++i) {
        const char *v;
        if (hn_opt(argc, argv, &i, "--dump", &v)) dump = v;
        else if (argv[i][0] == '-') return hn_usage("check", "unknown option '%s'", argv[i]);
        else if (!spec) spec = argv[i];
        else return hn_usage("check", "unexpected argument '%s'", argv[i]);
    }
    if (!spec) return hn_usage("check", "a SPEC file is required");
    hn_model_build mb;
    int rc = hn_frontend(&mb, spec, dump);
    if (!rc && !dump) {
        print_summary(&mb.graph);
        print_training(&mb);
    }
    hn_model_build_free(&mb);
    return rc ? 1 : 0;
}

int hn_cmd_compile(int argc, char **argv)
{
    const char *spec = NULL, *dir = NULL, *dump = NULL, *weights = NULL, *target = "c", *blas = "none", *aot = NULL;
    int embed = 0, validate = 1, train = 0;
    for (int i = 2; i < argc; ++i) {
        const char *v;
        if (hn_opt(argc, argv, &i, "-o", &v) || hn_opt(argc, argv, &i, "--out", &v)) dir = v;
        else if (!strcmp(argv[i], "--train")) train = 1;
        else if (hn_opt(argc, argv, &i, "--dump", &v)) dump = v;
        else if (hn_opt(argc, argv, &i, "--weights", &v)) weights = v;
        else if (hn_opt(argc, argv, &i, "--target", &v)) target = v;
        else if (hn_opt(argc, argv, &i, "--blas", &v)) blas = v;
        else if (hn_opt(argc, argv, &i, "--aot", &v)) aot = v;
        else if (!strcmp(argv[i], "--embed-weights")) embed = 1;
        else if (!strcmp(argv[i], "--no-validate")) validate = 0;
        else if (argv[i][0] == '-') return hn_usage("compile", "unknown option '%s'", argv[i]);
        else if (!spec) spec = argv[i];
        else return hn_usage("compile", "unexpected argument '%s'", argv[i]);
    }
    if (!spec) return hn_usage("compile", "a SPEC file is required");
    int cuda = !strcmp(target, "cuda");
    if (strcmp(target, "c") && !cuda) return hn_usage("compile", "unknown --target '%s' (c or cuda)", target);
    if (strcmp(blas, "openblas") && strcmp(blas, "none")) return hn_usage("compile", "--blas is openblas or none");
    if (embed && !weights) return hn_usage("compile", "--embed-weights needs --weights W.safetensors");
    if (!dir && !dump) return hn_usage("compile", "-o DIR is required");
    if (aot && !cuda) return hn_usage("compile", "--aot is for --target cuda");
    hn_model_build mb;
    int rc = hn_frontend(&mb, spec, dump);
    if (!rc && dir && cuda) {
        char files[16][512];
        int n = 0;
        static const char *const archs[2] = { "sm_80", "sm_90" };
        /* the GPU object reuses the C object's header and loader (weights are read on the host) */
        hn_codegen_options co = { .use_cblas = 0, .validate = validate, .train = train };
        if (train) {            /* refuse a spec the GPU cannot train before writing anything */
            hn_graph tg;
            memset(&tg, 0, sizeof tg);
            rc = hn_train_graph(&mb, &tg) || hn_emit_cuda_train_check(&tg);
            hn_graph_free(&tg);
        }
        if (!rc) rc = hn_codegen(&mb, &co, dir, files, &n);
        for (int i = 0; !rc && i < n; ++i) fprintf(stderr, "hepnc compile: wrote %s\n", files[i]);
        static char strict[64][128];
        int nstrict = 0;
        if (!rc) rc = hn_emit_cuda(&mb.graph, spec, dir, aot, files, &n, strict, &nstrict);
        if (!rc && validate) rc = hn_validate_cuda(files[0], archs, 2, strict, nstrict);
        if (!rc && train) {     /* the GPU training step: NAME_train.cu, NAME_cuda_train.c */
            hn_graph tg;
            memset(&tg, 0, sizeof tg);
            int first = n;
            rc = hn_train_graph(&mb, &tg) || hn_emit_cuda_train(&tg, dir, files, &n);
            hn_graph_free(&tg);
            if (!rc && validate) rc = hn_validate_cuda(files[first], archs, 2, strict, 0);
        }
        if (!rc)
            for (int i = 0; i < n; ++i) fprintf(stderr, "hepnc compile: wrote %s\n", files[i]);
    } else if (!rc && dir) {
        char files[8][512];
        int n = 0;
        hn_codegen_options co = { .weights = embed ? weights : NULL, .use_cblas = !strcmp(blas, "openblas"),
                                  .validate = validate, .train = train };
        if (!embed && weights) {
            /* no embedding: still check the file against the spec so mistakes show now, not at load */
            float *blob = hn_params_load(&mb.graph, weights);
            if (!blob) rc = -1;
            free(blob);
        }
        if (!rc) rc = hn_codegen(&mb, &co, dir, files, &n);
        if (!rc)
            for (int i = 0; i < n; ++i) fprintf(stderr, "hepnc compile: wrote %s\n", files[i]);
    }
    hn_model_build_free(&mb);
    return rc ? 1 : 0;
}
