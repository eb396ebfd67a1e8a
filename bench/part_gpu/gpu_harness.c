/* gpu_harness.c — a generated model's GPU object against its CPU object, and its GPU timings, for any
 * model: built with the model's C files and GPU files (the generic entries hepnc_model_entry and
 * hepnc_cuda_model_entry) by bench/part_gpu/build.sh; used by tests/cuda (parity) and bench/part_gpu.
 *
 *   gpu_harness WEIGHTS DATA.h5 [--events N] [--tol T] [--batches 1,256,4096] [--seconds S]
 *
 * 1. Parity: the first N events (default 96) of DATA through both objects; every output element within
 *    T (default 1e-5) of the CPU's, relative to max(1, |cpu|); the GPU run twice gives the same bytes; the
 *    host-memory call (infer_host) gives the device-pointer call's bytes; a count above max is refused
 *    (return 1, the event named) with no output written, through either call.
 * 2. Timing (--batches): for each batch B, B events (the N read, cycled) uploaded once, then the GPU
 *    object's synchronous infer called repeatedly (3 warm-up calls, then for S seconds, at least 5 and
 *    at most 2000 calls; default S = 2): median and p90 wall time per call, jets/s = B / median, and the
 *    device memory the object and its buffers hold (weights, inputs, outputs, workspace).
 * Prints a line per check and one JSON object per batch ("gpu_timing"). Exit 0 when every check holds,
 * 1 when one fails, 77 ("skipped: no GPU") where no CUDA driver or device exists. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hepnc/data.h>
#include <hepnc/gpu.h>
#include <hepnc/model.h>

#include "infer_io.h"

const hn_model_entry *hepnc_model_entry(void);
const hn_cuda_model_entry *hepnc_cuda_model_entry(void);

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The GEMM arithmetic the environment asks for ("bf16" for HEPNC_GPU_BF16=1, which wins as in hepnc/gpu.h,
 * "tf32" for HEPNC_GPU_TF32=1), or NULL for float32. */
static const char *math_asked(void)
{
    const char *bf16 = getenv("HEPNC_GPU_BF16"), *tf32 = getenv("HEPNC_GPU_TF32");
    return bf16 && *bf16 == '1' ? "bf16" : tf32 && *tf32 == '1' ? "tf32" : NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Floats per event of input i ([max][width], [max][max][width] or [width]). */
static size_t input_floats(const hn_io_desc *d)
{
    size_t rows = d->is_set == 2 ? (size_t)d->max * (size_t)d->max : (size_t)d->max;
    return rows * (size_t)d->width;
}

typedef struct device_io {
    void *x[16], *n[16], *y[16], *ws;
} device_io;

static void device_free(hn_gpu *g, const hn_model_entry *m, device_io *d)
{
    for (int i = 0; i < m->ninputs; ++i) { hn_gpu_free(g, d->x[i]); hn_gpu_free(g, d->n[i]); }
    for (int o = 0; o < m->noutputs; ++o) hn_gpu_free(g, d->y[o]);
    hn_gpu_free(g, d->ws);
    memset(d, 0, sizeof *d);
}

/* Device buffers for `batch` events, the inputs uploaded from host buffers holding `have` events (cycled). */
static int device_setup(hn_gpu *g, const hn_model_entry *m, const hn_cuda_model_entry *cm, const hn_infer_buffers *hb, int have, int batch, device_io *d,
                        char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    for (int i = 0; i < m->ninputs; ++i) {
        size_t per = input_floats(&m->inputs[i]);
        float *x = malloc(sizeof(float) * per * (size_t)batch);
        int32_t *n = malloc(sizeof(int32_t) * (size_t)batch);
        if (!x || !n) { free(x); free(n); snprintf(err, errlen, "out of host memory"); return -1; }
        for (int e = 0; e < batch; ++e) {
            memcpy(x + per * (size_t)e, hb->x[i] + per * (size_t)(e % have), sizeof(float) * per);
            n[e] = hb->n[i][e % have];
        }
        int rc = hn_gpu_alloc(g, &d->x[i], sizeof(float) * per * (size_t)batch, err, errlen) ||
                 hn_gpu_alloc(g, &d->n[i], sizeof(int32_t) * (size_t)batch, err, errlen) ||
                 hn_gpu_to_device(g, d->x[i], x, sizeof(float) * per * (size_t)batch, err, errlen) ||
                 hn_gpu_to_device(g, d->n[i], n, sizeof(int32_t) * (size_t)batch, err, errlen);
        free(x);
        free(n);
        if (rc) return -1;
    }
    for (int o = 0; o < m->noutputs; ++o)
        if (hn_gpu_alloc(g, &d->y[o], sizeof(float) * (size_t)m->outputs[o].width * (size_t)batch, err, errlen)) return -1;
    return hn_gpu_alloc(g, &d->ws, cm->workspace_bytes(batch), err, errlen);
}

static int gpu_infer(const hn_cuda_model_entry *cm, void *model, const hn_model_entry *m, const device_io *d, int batch,
                     char *err, size_t errlen)
{
    const float *x[16];
    const int *n[16];
    float *y[16];
    for (int i = 0; i < m->ninputs; ++i) { x[i] = d->x[i]; n[i] = m->inputs[i].masked ? d->n[i] : NULL; }
    for (int o = 0; o < m->noutputs; ++o) y[o] = d->y[o];
    return cm->infer(model, x, n, batch, y, d->ws, err, errlen);
}

/* A count above max in the last event of the first masked input: infer returns 1, names the event, and
 * writes no output (all counts are checked before any launch). Returns the number of failed checks. */
static int bad_counts(const hn_model_entry *m, const hn_cuda_model_entry *cm, void *gmodel, const hn_infer_buffers *hb,
                      int events, device_io *d, char *err, size_t errlen)
{
    int i = 0;
    while (i < m->ninputs && !m->inputs[i].masked) ++i;
    if (i == m->ninputs || events < 1) return 0;
    hn_gpu *g = cm->gpu(gmodel);
    int32_t bad = m->inputs[i].max + 1;
    size_t count = (size_t)events * (size_t)m->outputs[0].width;
    float *sentinel = malloc(sizeof(float) * count), *after = malloc(sizeof(float) * count);
    for (size_t k = 0; k < count; ++k) sentinel[k] = 1234.5f;
    char msg[512] = "", expect[64];
    int rc = -1;
    if (!hn_gpu_to_device(g, d->y[0], sentinel, sizeof(float) * count, err, errlen) &&
        !hn_gpu_to_device(g, (int32_t *)d->n[i] + events - 1, &bad, sizeof bad, err, errlen)) {
        rc = gpu_infer(cm, gmodel, m, d, events, msg, sizeof msg);
        hn_gpu_to_host(g, after, d->y[0], sizeof(float) * count, err, errlen);
    }
    hn_gpu_to_device(g, (int32_t *)d->n[i] + events - 1, &hb->n[i][events - 1], sizeof bad, err, errlen);   /* restored */
    snprintf(expect, sizeof expect, "event %d", events - 1);
    int ok = rc == 1 && strstr(msg, expect) && !memcmp(after, sentinel, sizeof(float) * count);
    printf("%s a count of %d (max %d) in event %d: refused (rc %d: %s), no output written\n", ok ? "ok  " : "FAIL", bad,
           m->inputs[i].max, events - 1, rc, msg);
    free(sentinel);
    free(after);
    return !ok;
}

/* NAME_cuda_infer_host on the host buffers: the same bytes as the device-pointer call left in d->y, and a
 * count above max refused before anything is copied (the event named, the host outputs untouched).
 * Returns the number of failed checks. */
static int host_io(const hn_model_entry *m, const hn_cuda_model_entry *cm, void *gmodel, const hn_infer_buffers *hb,
                   int events, const device_io *d, char *err, size_t errlen)
{
    hn_gpu *g = cm->gpu(gmodel);
    const float *xs[16];
    const int *counts[16];
    float *y[16] = { 0 }, *dev = NULL;
    void *ws = NULL;
    int failed = 0, same = 1, i = 0;
    for (int k = 0; k < m->ninputs; ++k) { xs[k] = hb->x[k]; counts[k] = m->inputs[k].masked ? hb->n[k] : NULL; }
    for (int o = 0; o < m->noutputs; ++o) y[o] = calloc((size_t)events * (size_t)m->outputs[o].width, sizeof(float));
    int rc = hn_gpu_alloc(g, &ws, cm->host_workspace_bytes(events), err, errlen) ||
             cm->infer_host(gmodel, xs, counts, events, y, ws, err, errlen);
    for (int o = 0; !rc && o < m->noutputs; ++o) {
        size_t count = (size_t)events * (size_t)m->outputs[o].width;
        free(dev);
        dev = malloc(sizeof(float) * count);
        rc = !dev || hn_gpu_to_host(g, dev, d->y[o], sizeof(float) * count, err, errlen);
        same &= !rc && !memcmp(dev, y[o], sizeof(float) * count);
    }
    printf("%s host-memory inputs and outputs (infer_host): the device-pointer call's bytes%s%s\n", !rc && same ? "ok  " : "FAIL",
           rc ? ": " : "", rc ? err : "");
    failed += rc || !same;
    while (i < m->ninputs && !m->inputs[i].masked) ++i;
    if (!rc && i < m->ninputs && events > 0) {       /* a bad count on the host: refused, nothing written */
        int32_t *n = (int32_t *)hb->n[i], keep = n[events - 1];
        char msg[512] = "", expect[64];
        for (size_t k = 0; k < (size_t)events * (size_t)m->outputs[0].width; ++k) y[0][k] = 1234.5f;
        n[events - 1] = m->inputs[i].max + 1;
        rc = cm->infer_host(gmodel, xs, counts, events, y, ws, msg, sizeof msg);
        n[events - 1] = keep;
        int untouched = 1;
        for (size_t k = 0; k < (size_t)events * (size_t)m->outputs[0].width; ++k) untouched &= y[0][k] == 1234.5f;
        snprintf(expect, sizeof expect, "event %d", events - 1);
        int ok = rc == 1 && strstr(msg, expect) && untouched;
        printf("%s infer_host: a count of %d in event %d refused (rc %d: %s), no output written\n", ok ? "ok  " : "FAIL",
               m->inputs[i].max + 1, events - 1, rc, msg);
        failed += !ok;
    }
    for (int o = 0; o < m->noutputs; ++o) free(y[o]);
    free(dev);
    hn_gpu_free(g, ws);
    return failed;
}

/* Parity of every output on `events` events; returns the number of failed checks. */
static int parity(const hn_model_entry *m, const hn_cuda_model_entry *cm, void *cpu, void *gmodel, hn_infer_buffers *hb,
                  int events, double tol, char *err, size_t errlen)
{
    hn_gpu *g = cm->gpu(gmodel);
    const int32_t *counts[16];
    const float *xs[16];
    for (int i = 0; i < m->ninputs; ++i) { xs[i] = hb->x[i]; counts[i] = m->inputs[i].masked ? hb->n[i] : NULL; }
    if (m->infer(cpu, xs, counts, events, hb->y, hb->workspace)) { snprintf(err, errlen, "CPU infer failed"); return -1; }
    device_io d;
    if (device_setup(g, m, cm, hb, events, events, &d, err, errlen) || gpu_infer(cm, gmodel, m, &d, events, err, errlen)) return -1;
    int failed = 0;
    for (int o = 0; o < m->noutputs && !failed; ++o) {
        size_t count = (size_t)events * (size_t)m->outputs[o].width;
        float *first = malloc(sizeof(float) * count), *again = malloc(sizeof(float) * count);
        if (hn_gpu_to_host(g, first, d.y[o], sizeof(float) * count, err, errlen) ||
            gpu_infer(cm, gmodel, m, &d, events, err, errlen) ||
            hn_gpu_to_host(g, again, d.y[o], sizeof(float) * count, err, errlen)) { free(first); free(again); return -1; }
        double worst = 0;
        size_t at = 0;
        int finite = 1;
        for (size_t k = 0; k < count; ++k) {
            double c = hb->y[o][k], scale = fabs(c) > 1 ? fabs(c) : 1, e = fabs((double)first[k] - c) / scale;
            if (!isfinite(first[k])) finite = 0;
            if (e > worst || e != e) { worst = e; at = k; }
        }
        int ok = finite && worst <= tol;
        printf("%s %s: GPU vs CPU, %d events: max relative |diff| %.3g at event %zu index %zu (tolerance %.3g)\n",
               ok ? "ok  " : "FAIL", m->outputs[o].name, events, worst, at / (size_t)m->outputs[o].width,
               at % (size_t)m->outputs[o].width, tol);
        failed += !ok;
        int same = memcmp(first, again, sizeof(float) * count) == 0;
        printf("%s %s: two GPU runs give the same bytes\n", same ? "ok  " : "FAIL", m->outputs[o].name);
        failed += !same;
        free(first);
        free(again);
    }
    const char *asked = math_asked();
    if (asked) {                        /* the mode asked for is the mode that ran */
        int on = !strcmp(hn_gpu_math(g), asked);
        printf("%s GEMM arithmetic with HEPNC_GPU_%s=1: %s\n", on ? "ok  " : "FAIL", !strcmp(asked, "bf16") ? "BF16" : "TF32",
               hn_gpu_math(g));
        failed += !on;
    }
    failed += host_io(m, cm, gmodel, hb, events, &d, err, errlen);
    failed += bad_counts(m, cm, gmodel, hb, events, &d, err, errlen);
    device_free(g, m, &d);
    return failed;
}

static int timing(const hn_model_entry *m, const hn_cuda_model_entry *cm, void *gmodel, const hn_infer_buffers *hb,
                  int have, int batch, double seconds, const char *device, char *err, size_t errlen)
{
    hn_gpu *g = cm->gpu(gmodel);
    device_io d;
    if (device_setup(g, m, cm, hb, have, batch, &d, err, errlen)) { device_free(g, m, &d); return -1; }
    size_t held = 0, peak = 0;
    held = hn_gpu_allocated_bytes(&peak);
    for (int w = 0; w < 3; ++w)
        if (gpu_infer(cm, gmodel, m, &d, batch, err, errlen)) { device_free(g, m, &d); return -1; }
    enum { MAXREP = 2000 };
    static double t[MAXREP];
    int reps = 0;
    double start = now();
    while (reps < MAXREP && (reps < 5 || now() - start < seconds)) {
        double t0 = now();
        if (gpu_infer(cm, gmodel, m, &d, batch, err, errlen)) { device_free(g, m, &d); return -1; }
        t[reps++] = now() - t0;
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp_double);
    double med = reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
    double p90 = t[(int)ceil(0.9 * reps) - 1];

    printf("{\"gpu_timing\": true, \"model\": \"%s\", \"math\": \"%s\", \"device\": \"%s\", \"batch\": %d, \"reps\": %d, "
           "\"ms_median\": %.4f, \"ms_p90\": %.4f, \"ms_min\": %.4f, \"jets_per_s\": %.1f, "
           "\"workspace_bytes\": %zu, \"device_bytes\": %zu}\n",
           m->name, hn_gpu_math(cm->gpu(gmodel)), device, batch, reps, 1e3 * med, 1e3 * p90, 1e3 * t[0], batch / med, cm->workspace_bytes(batch), held);
    fflush(stdout);
    device_free(g, m, &d);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: gpu_harness WEIGHTS DATA.h5 [--events N] [--tol T] [--batches 1,256,4096] [--seconds S]\n");
        return 2;
    }
    int events = 96;
    double tol = 1e-5, seconds = 2;
    const char *batches = NULL;
    for (int a = 3; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "--events")) events = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--tol")) tol = atof(argv[a + 1]);
        else if (!strcmp(argv[a], "--batches")) batches = argv[a + 1];
        else if (!strcmp(argv[a], "--seconds")) seconds = atof(argv[a + 1]);
        else { fprintf(stderr, "gpu_harness: unknown option %s\n", argv[a]); return 2; }
    }
    if (!hn_gpu_available()) { printf("skipped: no GPU (no CUDA driver or device on this machine)\n"); return 77; }
    const hn_model_entry *m = hepnc_model_entry();
    const hn_cuda_model_entry *cm = hepnc_cuda_model_entry();
    char err[8192];
    hn_dataset *ds = hn_dataset_open(argv[2], err, sizeof err);
    if (!ds) { fprintf(stderr, "gpu_harness: %s\n", err); return 1; }
    int64_t total = hn_dataset_events(ds);
    if (events > total) events = (int)total;
    hn_infer_buffers hb;
    void *cpu = NULL, *gmodel = NULL;
    if (hn_alloc_buffers(m, events, &hb)) { fprintf(stderr, "gpu_harness: out of memory\n"); return 1; }
    if (hn_read_inputs(ds, m, 0, events, &hb, err, sizeof err) || m->load(&cpu, argv[1], err, sizeof err)) {
        fprintf(stderr, "gpu_harness: %s\n", err);
        return 1;
    }
    hn_dataset_close(ds);
    double t0 = now();
    if (cm->load(&gmodel, argv[1], err, sizeof err)) { fprintf(stderr, "gpu_harness: %s: %s\n", m->name, err); return 1; }
    char device[256] = "";
    int arch = 0;
    hn_gpu_describe(cm->gpu(gmodel), device, sizeof device, &arch);
    printf("%s on %s (sm_%d): loaded in %.2f s (%s, weights upload)\n", m->name, device, arch, now() - t0,
           hn_gpu_from_image(cm->gpu(gmodel)) ? "the ahead-of-time image" : "NVRTC compile or cache");
    int failed = parity(m, cm, cpu, gmodel, &hb, events, tol, err, sizeof err);
    if (failed < 0) { fprintf(stderr, "gpu_harness: %s: %s\n", m->name, err); return 1; }
    for (const char *p = batches; p && *p;) {
        int b = atoi(p);
        if (b > 0 && timing(m, cm, gmodel, &hb, events, b, seconds, device, err, sizeof err)) {
            fprintf(stderr, "gpu_harness: %s at batch %d: %s\n", m->name, b, err);
            return 1;
        }
        p = strchr(p, ',');
        if (p) ++p;
    }
    int masked = 0;
    for (int i = 0; i < m->ninputs; ++i) masked |= m->inputs[i].masked;
    int checked = 2 * m->noutputs + 1 + 2 * masked + (math_asked() != NULL);
    printf("%d passed, %d failed\n", checked - failed, failed);
    hn_gpu_profile_report(cm->gpu(gmodel), stdout);
    cm->release(gmodel);
    m->release(cpu);
    hn_free_buffers(m, &hb);
    return failed ? 1 : 0;
}
