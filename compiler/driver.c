/* driver.c — see driver.h. */
#include "driver.h"

#include <stdlib.h>
#include <string.h>

#include "emit_c.h"
#include "emit_train.h"
#include "lower.h"
#include "params.h"
#include "passes/passes.h"
#include "validate.h"

int hn_frontend(hn_model_build *mb, const char *spec_path, const char *dump_after)
{
    memset(mb, 0, sizeof *mb);
    if (dump_after && !hn_pass_known(dump_after))
        return hn_error_plain("hepnc: error: unknown pass '%s' for --dump (lower, fold, fuse, plan)", dump_after);
    if (hn_spec_parse(&mb->spec, spec_path)) return -1;
    mb->spec_hash = hn_fnv1a(mb->spec.src.text, (size_t)mb->spec.src.length, HN_FNV_OFFSET);
    mb->spec_hash = hn_fnv1a(HN_VERSION, strlen(HN_VERSION), mb->spec_hash);
    if (hn_lower(&mb->spec, &mb->graph)) return -1;
    return hn_run_passes(&mb->graph, dump_after, stdout);
}

void hn_model_build_free(hn_model_build *mb)
{
    hn_graph_free(&mb->graph);
    hn_spec_free(&mb->spec);
}

const char *hn_runtime_include_dir(void)
{
    const char *env = getenv("HEPNC_RUNTIME_INCLUDE");
    return env && *env ? env : HEPNC_RUNTIME_INCLUDE;
}

const char *hn_cblas_include_dir(void) { return HEPNC_CBLAS_INCLUDE; }

int hn_train_graph(const hn_model_build *mb, hn_graph *tg)
{
    if (hn_lower(&mb->spec, tg) || hn_pass_check(tg) || hn_pass_plan_train(tg)) return -1;
    const hn_graph *g = &mb->graph;
    for (int p = 0; p < tg->nparams; ++p) {
        const hn_param *a = &tg->params[p];
        if (!a->from_file) continue;
        if (p >= g->nparams || strcmp(a->name, g->params[p].name) || a->offset != g->params[p].offset)
            return hn_error_plain("hepnc: internal error: parameter '%s' of the training graph is not where the "
                                  "inference code has it", a->name);
    }
    return 0;
}

static int codegen_train(const hn_model_build *mb, const hn_emit_options *eo, const char *dir, char *path)
{
    hn_graph tg;
    memset(&tg, 0, sizeof tg);
    int rc = hn_train_graph(mb, &tg) || hn_emit_train(&tg, eo, dir, path) ? -1 : 0;
    hn_graph_free(&tg);
    return rc;
}

int hn_codegen(const hn_model_build *mb, const hn_codegen_options *opt, const char *dir, char files[][512], int *nfiles)
{
    hn_emit_options eo = { .use_cblas = opt->use_cblas, .spec_hash = mb->spec_hash };
    if (opt->train) {           /* refuse an untrainable spec before writing anything */
        hn_graph tg;
        memset(&tg, 0, sizeof tg);
        int bad = hn_train_graph(mb, &tg) || hn_emit_train_check(&tg);
        hn_graph_free(&tg);
        if (bad) return -1;
    }
    float *blob = NULL;
    if (opt->weights) {
        blob = hn_params_load(&mb->graph, opt->weights);
        if (!blob) return -1;
        eo.embedded = blob;
    }
    int rc = hn_emit_c(&mb->graph, &eo, dir, files, nfiles);
    free(blob);
    if (!rc && opt->train) rc = codegen_train(mb, &eo, dir, files[(*nfiles)++]);
    if (rc || !opt->validate) return rc;
    const char *incs[] = { dir, hn_runtime_include_dir(), hn_cblas_include_dir(), NULL };
    const char *paths[8];
    for (int i = 0; i < *nfiles; ++i) paths[i] = files[i];
    return hn_validate_c(paths, *nfiles, incs);
}

int hn_opt(int argc, char **argv, int *i, const char *name, const char **value)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0) return 0;
    if (argv[*i][n] == '=') { *value = argv[*i] + n + 1; return 1; }
    if (argv[*i][n] != '\0') return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "hepnc: error: %s needs a value\n", name);
        exit(2);
    }
    *value = argv[++*i];
    return 1;
}
