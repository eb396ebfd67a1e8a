/* cmd_compare.c — `hepnc compare`: runs the spec's code with every layer's output traced and compares
 * each with a reference dump (/layers/<name> in an HDF5 file, e.g. from a PyTorch forward with hooks),
 * in graph order, over each event's real rows; reports the first layer that leaves the tolerance.
 * The tool to reach for when parity fails. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "commands.h"
#include "infer_io.h"
#include "ops.h"

typedef struct traced {
    char name[HN_NAME];
    float *data;                /* [batch][per_event] */
    long per_event;
    int32_t *counts;            /* copy of the set counts (NULL for per-event tensors) */
    int nset;                   /* set axes: 1, or 2 for a pair tensor ([max][max][C], or [C][max][max]) */
    int heads_major;            /* a pair tensor stored [C][max][max] (pair_embed's U, as weaver's) */
    int rows;                   /* rows per event along the set axis (its max) */
} traced;

static traced trace_log[4096];
static int ntraced, trace_batch;

/* Called by the generated code built with -DHN_TRACE (resolved against this executable). */
void hn_trace(const char *name, const float *data, int batch, long per_event, const int32_t *counts, int nset,
              int rows)
{
    if (ntraced == 4096) return;
    traced *t = &trace_log[ntraced++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->data = malloc(sizeof(float) * (size_t)batch * (size_t)per_event);
    memcpy(t->data, data, sizeof(float) * (size_t)batch * (size_t)per_event);
    t->per_event = per_event;
    t->nset = nset;
    t->rows = rows > 0 ? rows : 1;
    t->counts = NULL;
    if (counts) {
        t->counts = malloc(sizeof(int32_t) * (size_t)batch);
        memcpy(t->counts, counts, sizeof(int32_t) * (size_t)batch);
    }
    trace_batch = batch;
}

/* /layers/<name> as floats [events][per_event]; NULL when absent or of another size. */
static float *read_reference(hid_t file, const char *name, int events, long per_event, int *ref_events)
{
    char path[300];
    snprintf(path, sizeof path, "/layers/%s", name);
    if (H5Lexists(file, "/layers", H5P_DEFAULT) <= 0 || H5Lexists(file, path, H5P_DEFAULT) <= 0) return NULL;
    hid_t ds = H5Dopen2(file, path, H5P_DEFAULT), sp = H5Dget_space(ds);
    hsize_t dims[8];
    int rank = H5Sget_simple_extent_dims(sp, dims, NULL);
    long per = 1;
    for (int i = 1; i < rank; ++i) per *= (long)dims[i];
    float *buf = NULL;
    if (per == per_event) {
        buf = malloc(sizeof(float) * dims[0] * (size_t)per);
        if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) { free(buf); buf = NULL; }
        *ref_events = (int)dims[0] < events ? (int)dims[0] : events;
    } else {
        fprintf(stderr, "  %-36s reference has %ld values per event, hepnc %ld: not compared\n", name, per, per_event);
    }
    H5Sclose(sp);
    H5Dclose(ds);
    return buf;
}

/* Max |Δ| over each event's real rows (the first counts[b] of `nset`-axis rows; of a pair tensor, its pairs of
 * real rows); worst event and flat index returned. */
static double compare_one(const traced *t, const float *ref, int events, double *ref_max, int *we, long *wk)
{
    double worst = 0;
    *ref_max = 0;
    long max = t->rows, width = t->nset == 2 ? t->per_event / (max * max) : 1;
    for (int b = 0; b < events; ++b) {
        long real = t->per_event;
        if (t->nset == 1 && t->counts) real = t->per_event / t->rows * t->counts[b];
        for (long k = 0; k < real; ++k) {
            if (t->nset == 2 && t->counts) {        /* a pair tensor: only pairs of real rows */
                long a = t->heads_major ? k / max % max : k / width / max, c = t->heads_major ? k % max : k / width % max;
                if (a >= t->counts[b] || c >= t->counts[b]) continue;
            }
            double a = t->data[(size_t)b * t->per_event + k], r = ref[(size_t)b * t->per_event + k];
            double d = fabs(a - r);
            if (!(d <= worst)) { worst = d; *we = b; *wk = k; }
            if (fabs(r) > *ref_max) *ref_max = fabs(r);
        }
    }
    return worst;
}

/* 1 when the traced tensor is a pair embedding's output, stored heads-major. */
static int heads_major(const hn_graph *g, const char *name)
{
    for (int t = 0; t < g->ntensors; ++t)
        if (!strcmp(g->tensors[t].name, name) && g->tensors[t].producer >= 0)
            return g->nodes[g->tensors[t].producer].op == HN_OP_pair_embed;
    return 0;
}

int hn_cmd_compare(int argc, char **argv)
{
    const char *spec = NULL, *weights = NULL, *data = NULL, *reference = NULL, *tol_s = "1e-4", *events_s = "32";
    for (int i = 2; i < argc; ++i) {
        const char *v;
        if (hn_opt(argc, argv, &i, "--weights", &v)) weights = v;
        else if (hn_opt(argc, argv, &i, "--data", &v)) data = v;
        else if (hn_opt(argc, argv, &i, "--reference", &v)) reference = v;
        else if (hn_opt(argc, argv, &i, "--tol", &v)) tol_s = v;
        else if (hn_opt(argc, argv, &i, "--events", &v)) events_s = v;
        else if (argv[i][0] == '-') return hn_usage("compare", "unknown option '%s'", argv[i]);
        else if (!spec) spec = argv[i];
        else return hn_usage("compare", "unexpected argument '%s'", argv[i]);
    }
    if (!spec || !weights || !data || !reference)
        return hn_usage("compare", "SPEC, --weights, --data and --reference are required");
    double tol = atof(tol_s);
    int want = atoi(events_s);
    if (want < 1) return hn_usage("compare", "--events must be positive");

    hn_model_build mb;
    if (hn_frontend(&mb, spec, NULL)) { hn_model_build_free(&mb); return 1; }
    hn_loaded_model lm;
    int rc = hn_build_and_open_with(&mb, 0, "-DHN_TRACE", &lm);
    if (rc) { hn_model_build_free(&mb); hn_loaded_model_close(&lm); return 1; }
    const hn_model_entry *m = lm.entry;
    char err[1024];
    void *model = NULL;
    hn_dataset *ds = NULL;
    hn_infer_buffers b;
    memset(&b, 0, sizeof b);
    rc = 1;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t ref = H5Fopen(reference, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (ref < 0) { fprintf(stderr, "%s: error: cannot open the reference (HDF5 with /layers/<name>)\n", reference); goto done; }
    if (m->load(&model, weights, err, sizeof err)) { fprintf(stderr, "%s\n", err); goto done; }
    if (!(ds = hn_dataset_open(data, err, sizeof err))) { fprintf(stderr, "%s\n", err); goto done; }
    int events = hn_dataset_events(ds) < want ? (int)hn_dataset_events(ds) : want;
    if (hn_alloc_buffers(m, events, &b) || hn_read_inputs(ds, m, 0, events, &b, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        goto done;
    }
    if (m->infer(model, (const float *const *)b.x, (const int32_t *const *)b.n, events, b.y, b.workspace)) {
        fprintf(stderr, "hepnc compare: the model rejected the events (a set count out of range)\n");
        goto done;
    }
    printf("hepnc compare: %d events, tolerance %g (absolute), layers in graph order\n", events, tol);
    int compared = 0, first_bad = -1;
    for (int i = 0; i < ntraced; ++i) {
        if (trace_log[i].nset > 2) continue;
        trace_log[i].heads_major = heads_major(&mb.graph, trace_log[i].name);
        int ref_events = 0;
        float *r = read_reference(ref, trace_log[i].name, events, trace_log[i].per_event, &ref_events);
        if (!r) continue;
        double ref_max;
        int we = 0;
        long wk = 0;
        double d = compare_one(&trace_log[i], r, ref_events, &ref_max, &we, &wk);
        int bad = !(d <= tol);
        printf("  %-36s max |diff| %-10.3g (max |ref| %-9.3g) at event %d index %ld%s\n", trace_log[i].name, d, ref_max,
               we, wk, bad ? "   <-- out of tolerance" : "");
        if (bad && first_bad < 0) first_bad = i;
        ++compared;
        free(r);
    }
    if (!compared) {
        fprintf(stderr, "%s: error: no /layers/<name> dataset matches a layer of the spec\n", reference);
        goto done;
    }
    if (first_bad >= 0) printf("first layer out of tolerance: %s\n", trace_log[first_bad].name);
    else printf("all %d compared layers within tolerance\n", compared);
    rc = first_bad >= 0;
done:
    hn_model_build_free(&mb);
    if (ref >= 0) H5Fclose(ref);
    hn_free_buffers(m, &b);
    if (ds) hn_dataset_close(ds);
    if (model) m->release(model);
    hn_loaded_model_close(&lm);
    for (int i = 0; i < ntraced; ++i) { free(trace_log[i].data); free(trace_log[i].counts); }
    return rc;
}
