/* cmd_bench.c — `hepnc bench SPEC`: times the spec's generated code on this machine: latency per event
 * at batch 1 (median and 90th percentile over many calls) and throughput at a larger batch (median of
 * several batches), on a dataset's events or on synthetic ones (random features, plausible 4-vectors,
 * set sizes drawn from --n), with the given weights or random ones of the right shapes. A quick answer
 * to "how fast is this model here"; side-by-side comparisons with PyTorch live in bench/. --gpu times the
 * spec's GPU object (scorer.h) on host arrays, as a host program sees it: the copies to and from the
 * device included. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hepnc/weights.h>

#include "build.h"
#include "commands.h"
#include "infer_io.h"
#include "scorer.h"

void openblas_set_num_threads(int num_threads);

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static unsigned long long rng = 0x9E3779B97F4A7C15ull;
static float uni(float lo, float hi)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return lo + (hi - lo) * (float)((rng >> 40) & 0xFFFFFF) / 16777216.0f;
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Random weights of the right shapes into a temporary safetensors file. */
static int random_weights(const hn_graph *g, const char *path)
{
    hn_tensor_out *t = calloc((size_t)g->nparams + 1, sizeof *t);
    int n = 0, rc;
    for (int p = 0; p < g->nparams; ++p) {
        const hn_param *q = &g->params[p];
        if (!q->from_file) continue;
        float *v = malloc(sizeof(float) * (size_t)q->size + 4);
        float scale = q->rank == 2 ? 1.0f / sqrtf((float)q->dim[1]) : 0.3f;
        for (long i = 0; i < q->size; ++i) v[i] = strstr(q->name, "running_var") ? uni(0.5f, 1.5f) : uni(-scale, scale);
        t[n] = (hn_tensor_out){ q->name, q->rank, { 0 }, v };
        for (int k = 0; k < q->rank; ++k) t[n].shape[k] = q->dim[k];
        ++n;
    }
    char err[512];
    rc = hn_safetensors_write(path, n, t, err, sizeof err);
    if (rc) fprintf(stderr, "%s\n", err);
    for (int i = 0; i < n; ++i) free((void *)t[i].data);
    free(t);
    return rc;
}

/* Synthetic events: features U(-2, 2), 4-vectors of light particles, set sizes uniform in [lo, hi]. */
static void synthetic(const hn_model_entry *m, int batch, int lo, int hi, hn_infer_buffers *b)
{
    for (int i = 0; i < m->ninputs; ++i) {
        const hn_io_desc *d = &m->inputs[i];
        for (int e = 0; e < batch; ++e) {
            int cnt = d->masked ? lo + (int)uni(0, (float)(hi - lo + 1)) : d->max;
            b->n[i][e] = cnt < d->max ? cnt : d->max;
        }
    }
    for (int i = 0; i < m->ninputs; ++i) {
        const hn_io_desc *d = &m->inputs[i];
        if (d->vectors_of >= 0) memcpy(b->n[i], b->n[d->vectors_of], sizeof(int32_t) * (size_t)batch);
        if (d->pairs_of >= 0) memcpy(b->n[i], b->n[d->pairs_of], sizeof(int32_t) * (size_t)batch);
        size_t rows = (size_t)batch * d->max * (d->is_set == 2 ? (size_t)d->max : 1);
        for (size_t k = 0; k < rows; ++k)
            for (int f = 0; f < d->width; ++f) {
                float *v = &b->x[i][k * d->width + f];
                if (d->vectors_of < 0) { *v = uni(-2, 2); continue; }
                if (f == 0) {
                    float pt = uni(1, 100), eta = uni(-2, 2), phi = uni(-3, 3);
                    v[0] = pt * cosf(phi), v[1] = pt * sinf(phi), v[2] = pt * sinhf(eta);
                    v[3] = 1.001f * sqrtf(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
                }
            }
    }
}

int hn_cmd_bench(int argc, char **argv)
{
    const char *spec = NULL, *weights = NULL, *data = NULL, *nrange = "30:80", *batch_s = "256", *reps_s = "200";
    const char *blas = "openblas";
    int gpu = 0;
    for (int i = 2; i < argc; ++i) {
        const char *v;
        if (!strcmp(argv[i], "--gpu")) gpu = 1;
        else if (hn_opt(argc, argv, &i, "--weights", &v)) weights = v;
        else if (hn_opt(argc, argv, &i, "--data", &v)) data = v;
        else if (hn_opt(argc, argv, &i, "--n", &v)) nrange = v;
        else if (hn_opt(argc, argv, &i, "--batch", &v)) batch_s = v;
        else if (hn_opt(argc, argv, &i, "--reps", &v)) reps_s = v;
        else if (hn_opt(argc, argv, &i, "--blas", &v)) blas = v;
        else if (argv[i][0] == '-') return hn_usage("bench", "unknown option '%s'", argv[i]);
        else if (!spec) spec = argv[i];
        else return hn_usage("bench", "unexpected argument '%s'", argv[i]);
    }
    int lo = 30, hi = 80, batch = atoi(batch_s), reps = atoi(reps_s);
    if (!spec) return hn_usage("bench", "a SPEC is required");
    if (sscanf(nrange, "%d:%d", &lo, &hi) != 2 || lo < 0 || hi < lo) return hn_usage("bench", "--n is LO:HI, e.g. 30:80");
    if (batch < 1 || reps < 10) return hn_usage("bench", "--batch must be positive and --reps at least 10");
    hn_model_build mb;
    if (hn_frontend(&mb, spec, NULL)) { hn_model_build_free(&mb); return 1; }
    char wtmp[64] = "";
    if (!weights) {
        snprintf(wtmp, sizeof wtmp, "/tmp/hepnc-bench-%ld.safetensors", (long)getpid());
        if (random_weights(&mb.graph, wtmp)) { hn_model_build_free(&mb); return 1; }
        weights = wtmp;
    }
    hn_loaded_model lm;
    int rc = gpu ? hn_build_and_open_gpu(&mb, &lm) : hn_build_and_open(&mb, strcmp(blas, "none") != 0, &lm);
    hn_model_build_free(&mb);
    if (rc) { if (wtmp[0]) unlink(wtmp); hn_loaded_model_close(&lm); return 1; }
    const hn_model_entry *m = lm.entry;
    char err[1024], where[512];
    hn_scorer s;
    int opened = 0;
    hn_infer_buffers b;
    memset(&b, 0, sizeof b);
    double *t1 = malloc(sizeof(double) * (size_t)reps), tb[7];
    rc = 1;
    if (hn_scorer_open(&s, &lm, weights, batch, err, sizeof err)) { fprintf(stderr, "%s\n", err); goto done; }
    opened = 1;   /* hn_scorer_close at the end */
    hn_scorer_describe(&s, where, sizeof where);
    if (hn_scorer_buffers(&s, &b)) { fprintf(stderr, "hepnc bench: out of memory\n"); goto done; }
    if (data) {
        hn_dataset *ds = hn_dataset_open(data, err, sizeof err);
        int64_t E = ds ? hn_dataset_events(ds) : 0;
        if (!ds || E < batch || hn_read_inputs(ds, m, 0, batch, &b, err, sizeof err)) {
            fprintf(stderr, "%s\n", ds ? (E < batch ? "hepnc bench: the dataset has fewer events than --batch" : err) : err);
            hn_dataset_close(ds);
            goto done;
        }
        hn_dataset_close(ds);
    } else {
        synthetic(m, batch, lo, hi, &b);
    }
    const int32_t *counts[16];
    for (int i = 0; i < m->ninputs; ++i) counts[i] = m->inputs[i].masked ? b.n[i] : NULL;
    if (hn_scorer_infer(&s, (const float *const *)b.x, counts, batch, b.y, b.workspace, err, sizeof err)) {   /* warm-up */
        fprintf(stderr, "hepnc bench: %s\n", err);
        goto done;
    }
    for (int r = 0; r < reps; ++r) {                 /* batch 1, cycling through the events */
        int e = r % batch;
        const float *x[16];
        const int32_t *c[16];
        float *y[16];
        for (int i = 0; i < m->ninputs; ++i) {
            x[i] = b.x[i] + (size_t)e * m->inputs[i].max * m->inputs[i].width * (m->inputs[i].is_set == 2 ? (size_t)m->inputs[i].max : 1);
            c[i] = counts[i] ? counts[i] + e : NULL;
        }
        for (int o = 0; o < m->noutputs; ++o) y[o] = b.y[o] + (size_t)e * m->outputs[o].width;
        double t0 = now();
        hn_scorer_infer(&s, x, c, 1, y, b.workspace, err, sizeof err);
        t1[r] = now() - t0;
    }
    for (int r = 0; r < 7; ++r) {
        double t0 = now();
        hn_scorer_infer(&s, (const float *const *)b.x, counts, batch, b.y, b.workspace, err, sizeof err);
        tb[r] = now() - t0;
    }
    qsort(t1, (size_t)reps, sizeof *t1, by_double);
    qsort(tb, 7, sizeof *tb, by_double);
    if (gpu) printf("model %s (%s; %s events) on %s; host arrays, copies included\n", m->name, spec, data ? data : "synthetic", where);
    else printf("model %s (%s; %s events; BLAS %s)\n", m->name, spec, data ? data : "synthetic", blas);
    printf("  batch 1     median %.3f ms/event, p90 %.3f ms/event (%d calls)\n", 1e3 * t1[reps / 2],
           1e3 * t1[(int)ceil(0.9 * reps) - 1], reps);
    printf("  batch %-5d %.0f events/s (median of 7 batches)\n", batch, batch / tb[3]);
    if (gpu) printf("  device workspace %zu bytes at batch %d\n", s.device_ws_bytes, batch);
    else printf("  workspace   %zu bytes at batch 1, %zu at batch %d\n", m->workspace_bytes(1), m->workspace_bytes(batch), batch);
    rc = 0;
done:
    free(t1);
    hn_free_buffers(m, &b);
    if (opened) hn_scorer_close(&s);
    hn_loaded_model_close(&lm);
    if (wtmp[0]) unlink(wtmp);
    return rc;
}
