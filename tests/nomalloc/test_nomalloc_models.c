/* test_nomalloc_models.c — for every model spec given: build it through the real pipeline (cached
 * shared object, as hepnc infer does), load random weights of the right shapes, run infer on a batch of
 * jets with mixed set sizes, and count allocations (malloc/calloc/realloc/free/aligned) made during
 * infer: there must be none. Also checks that the outputs are finite and that each event alone gives
 * the batch's result (bit for bit with the generated loops). The model's inputs come from a dataset in
 * the layout of docs/data.md (the ParT parity fixture for sets with 4-vectors, random otherwise). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hepnc/weights.h>

#include "build.h"
#include "driver.h"

#include "alloc_counter.h"

static int passed, failed;
static void check(int ok, const char *model, const char *what)
{
    printf("%s %s: %s\n", ok ? "ok  " : "FAIL", model, what);
    ok ? ++passed : ++failed;
}

static unsigned long long rng = 0x2545F4914F6CDD1Dull;
static float uniform(float lo, float hi)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return lo + (hi - lo) * (float)((rng >> 40) & 0xFFFFFF) / 16777216.0f;
}

/* Random weights for every parameter the spec reads (positive running variances, small scales). */
static int write_weights(const hn_graph *g, const char *path)
{
    hn_tensor_out *t = calloc((size_t)g->nparams, sizeof *t);
    int n = 0;
    for (int p = 0; p < g->nparams; ++p) {
        const hn_param *q = &g->params[p];
        if (!q->from_file) continue;
        float *v = malloc(sizeof(float) * (size_t)q->size);
        int var = strstr(q->name, "running_var") != NULL;
        float scale = q->rank == 2 ? 1.0f / sqrtf((float)q->dim[1]) : 0.3f;
        for (long i = 0; i < q->size; ++i) v[i] = var ? uniform(0.5f, 1.5f) : uniform(-scale, scale);
        t[n].name = q->name;
        t[n].ndim = q->rank;
        for (int k = 0; k < q->rank; ++k) t[n].shape[k] = q->dim[k];
        t[n++].data = v;
    }
    char err[256];
    int rc = hn_safetensors_write(path, n, t, err, sizeof err);
    if (rc) fprintf(stderr, "%s\n", err);
    for (int i = 0; i < n; ++i) free((void *)t[i].data);
    free(t);
    return rc;
}

static void run_model(const char *spec, const char *dir)
{
    hn_model_build mb;
    if (hn_frontend(&mb, spec, NULL)) { check(0, spec, "compiles"); return; }
    char wpath[600];
    snprintf(wpath, sizeof wpath, "%s/%s.safetensors", dir, mb.graph.name);
    hn_loaded_model lm;
    int rc = write_weights(&mb.graph, wpath) || hn_build_and_open(&mb, 0, &lm);
    const char *name = mb.graph.name;
    char label[128];
    snprintf(label, sizeof label, "%s", name);
    hn_model_build_free(&mb);
    if (rc) { check(0, label, "builds"); return; }
    const hn_model_entry *m = lm.entry;
    void *model;
    char err[512];
    if (m->load(&model, wpath, err, sizeof err)) { fprintf(stderr, "%s\n", err); check(0, label, "loads"); return; }
    enum { B = 12 };
    float *x[16], *y[16];
    int32_t *n[16];
    for (int i = 0; i < m->ninputs; ++i) {            /* jets with 0, 1, max and random real rows */
        const hn_io_desc *d = &m->inputs[i];
        size_t rows = (size_t)B * (size_t)d->max * (d->is_set == 2 ? (size_t)d->max : 1);
        x[i] = malloc(sizeof(float) * rows * (size_t)d->width);
        n[i] = malloc(sizeof(int32_t) * B);
        for (int b = 0; b < B; ++b) n[i][b] = !d->masked ? d->max : b == 0 ? 1 : b == 1 ? d->max : 1 + (int)uniform(0, (float)d->max - 1);
    }
    for (int i = 0; i < m->ninputs; ++i) {            /* 4-vectors share their set's counts */
        const hn_io_desc *d = &m->inputs[i];
        if (d->vectors_of >= 0) memcpy(n[i], n[d->vectors_of], sizeof(int32_t) * B);
        if (d->pairs_of >= 0) {          /* pair features: any finite values, every pair */
            for (size_t k = 0; k < (size_t)B * d->max * d->max * d->width; ++k) x[i][k] = uniform(-1, 1);
            memcpy(n[i], n[d->pairs_of], sizeof(int32_t) * B);
            continue;
        }
        for (int b = 0; b < B; ++b)
            for (int r = 0; r < d->max; ++r)
                for (int f = 0; f < d->width; ++f) {
                    float *v = &x[i][((size_t)b * d->max + r) * d->width + f];
                    if (r >= n[i][b]) { *v = NAN; continue; }          /* padding is never read */
                    if (d->vectors_of >= 0) {                           /* a massless-ish particle */
                        float pt = uniform(1, 100), eta = uniform(-2, 2), phi = uniform(-3, 3);
                        float p[4] = { pt * cosf(phi), pt * sinf(phi), pt * sinhf(eta), 0 };
                        p[3] = sqrtf(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]) * 1.001f;
                        *v = p[f];
                    } else {
                        *v = uniform(-2, 2);
                    }
                }
    }
    for (int o = 0; o < m->noutputs; ++o) y[o] = malloc(sizeof(float) * B * (size_t)m->outputs[o].width);
    void *ws = malloc(m->workspace_bytes(B) + 1);
    const int32_t *counts[16];
    for (int i = 0; i < m->ninputs; ++i) counts[i] = m->inputs[i].masked ? n[i] : NULL;
    m->infer(model, (const float *const *)x, counts, B, y, ws);           /* warm-up */
    allocations = 0;
    counting = 1;
    rc = m->infer(model, (const float *const *)x, counts, B, y, ws);
    counting = 0;
    char what[128];
    snprintf(what, sizeof what, "no allocation during infer (%ld seen), returns 0 (%d)", (long)allocations, rc);
    check(allocations == 0 && rc == 0, label, what);
    int finite = 1;
    for (int o = 0; o < m->noutputs; ++o)
        for (int k = 0; k < B * m->outputs[o].width; ++k) finite &= isfinite(y[o][k]);
    check(finite, label, "outputs finite with NaN in every padding slot");
    double worst = 0;
    float one[64];
    for (int b = 0; b < B; ++b) {
        const float *xb[16];
        const int32_t *cb[16];
        float *yb[16];
        for (int i = 0; i < m->ninputs; ++i) {
            xb[i] = x[i] + (size_t)b * m->inputs[i].max * m->inputs[i].width *
                               (m->inputs[i].is_set == 2 ? (size_t)m->inputs[i].max : 1);
            cb[i] = counts[i] ? counts[i] + b : NULL;
        }
        yb[0] = one;
        for (int o = 1; o < m->noutputs; ++o) yb[o] = malloc(sizeof(float) * (size_t)m->outputs[o].width);
        m->infer(model, xb, cb, 1, yb, ws);
        for (int k = 0; k < m->outputs[0].width; ++k) worst = fmax(worst, fabs((double)one[k] - y[0][b * m->outputs[0].width + k]));
        for (int o = 1; o < m->noutputs; ++o) free(yb[o]);
    }
    snprintf(what, sizeof what, "each event alone = the batch, bit for bit (max |diff| %.2g)", worst);
    check(worst == 0, label, what);
    free(ws);
    for (int i = 0; i < m->ninputs; ++i) { free(x[i]); free(n[i]); }
    for (int o = 0; o < m->noutputs; ++o) free(y[o]);
    m->release(model);
    hn_loaded_model_close(&lm);
}

int main(int argc, char **argv)
{
    char dir[] = "/tmp/hepnc-nomalloc-XXXXXX";
    if (!mkdtemp(dir)) return 2;
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", dir);
    setenv("HEPNC_CACHE", cache, 1);
    for (int i = 1; i < argc; ++i) run_model(argv[i], dir);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) return 2;
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
