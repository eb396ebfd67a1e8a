/* train_harness.c — a generated model's GPU training step against its C training step (which the
 * train.gradcheck tests check against finite differences and PyTorch), built with the model's C files,
 * its NAME_train.c and its NAME_cuda_train.c (hepnc compile --target cuda --train).
 *
 *   train_harness WEIGHTS DATA.h5 [--events N] [--tol T] [--loss ce|bce|focal] [--weights]
 *                 [--slots S] [--batches 256,512] [--seconds S]
 *
 * WEIGHTS: a weights file, or init:SEED for hepnc's initialisation from scratch (runtime/init.c).
 * --slots S: a trimmed batch (weaver's SequenceTrimmer): counts cut to S, cfg.slots = S.
 *
 * The first N events of DATA (default 32; labels event % classes, event weights 0.5 + (event % 3)/2 with
 * --weights; label smoothing 0.1) through one step of each, from the same parameters, in training mode:
 *   the loss (relative T), the logits, every parameter tensor's gradient and the updated running
 *   statistics within T (default 1e-5) of the C step's, relative to the tensor's largest |value| — for
 *   gradients at least 5% of the model's largest gradient: a gradient far below that is rounding noise
 *   around zero (a bias before a BatchNorm, whose batch mean takes it away), where no relative measure
 *   holds; the GPU step run twice gives the same bytes; a label outside the classes and a count above
 *   max are refused with the event named.
 * Timing (--batches): for each batch B, B events (the N read, cycled) uploaded once, then the GPU step
 * (forward, loss, backward; no optimiser) repeated: 3 warm-up steps, then for S seconds (default 2; at least
 * 5, at most 500 steps): median and p90 wall time per step, jets/s = B / median, and the device memory held
 * (parameters, gradients, inputs, workspace); once over every slot and once trimmed to the batch's largest
 * count (cfg.slots, as `hepnc train --gpu --trim` and weaver's SequenceTrimmer, which PyTorch's eager-trim
 * training step uses). One JSON object per batch and slot count ("gpu_train_timing", "slots": 0 for all).
 * Exit 0 when every check holds, 1 when one fails, 77 where no GPU (nor HEPNC_GPU_EMULATE) exists. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hepnc/cuda_train_entry.h>
#include <hepnc/data.h>
#include <hepnc/model.h>
#include <hepnc/train_entry.h>
#include <hepnc/trainer.h>

#include "infer_io.h"

const hn_train_entry *hepnc_train_entry(void);

static int failures, checks;

static void report(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    failures += !ok;
    ++checks;
}

/* max |a − b| over n floats, relative to max(|b|, floor); largest_b = max(|b|) */
static double largest_b;
static double rel_diff_floor(const float *a, const float *b, size_t n, double floor)
{
    double d = 0, m = floor;
    for (size_t i = 0; i < n; ++i) {
        double e = fabs((double)a[i] - b[i]);
        if (e > d || e != e) d = e != e ? INFINITY : e;
        if (fabs(b[i]) > m) m = fabs(b[i]);
    }
    largest_b = m;
    return d / m;
}

static double rel_diff(const float *a, const float *b, size_t n) { return rel_diff_floor(a, b, n, 1e-6); }

/* rel_diff of a workspace tensor's real rows only (hn_cuda_train_tensor.set ≥ 0: each event's first
 * counts[set][e] of its `slots` rows); the padding rows are zeroed in both copies first. */
static double rel_diff_real(float *a, float *b, const hn_cuda_train_tensor *q, int events, int32_t *const *counts)
{
    size_t cnt = (size_t)events * (size_t)q->floats;
    if (q->set >= 0 && q->slots > 0 && q->floats % q->slots == 0) {
        long row = q->floats / q->slots;
        for (int e = 0; e < events; ++e) {
            size_t real = (size_t)counts[q->set][e] * (size_t)row, all = (size_t)q->floats;
            if (real > all) real = all;
            memset(a + (size_t)e * all + real, 0, sizeof(float) * (all - real));
            memset(b + (size_t)e * all + real, 0, sizeof(float) * (all - real));
        }
    }
    return rel_diff(a, b, cnt);
}

typedef struct gpu_step {
    hn_gpu *gpu;
    float *params, *grads, *x[16], *logits, *weights;
    int32_t *n[16];
    int64_t *labels;
    void *ws;
} gpu_step;

static int upload(hn_gpu *g, void **d, const void *h, size_t bytes, char *err, size_t errlen)
{
    return hn_gpu_alloc(g, d, bytes ? bytes : 4, err, errlen) || (h && bytes && hn_gpu_to_device(g, *d, h, bytes, err, errlen));
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Floats per event of input i. */
static size_t input_floats(const hn_io_desc *d)
{
    size_t rows = d->is_set == 2 ? (size_t)d->max * (size_t)d->max : d->is_set ? (size_t)d->max : 1;
    return rows * (size_t)d->width;
}

/* The step timed at `batch` events (cycled from the `have` read), from parameters p0. */
static int timing(hn_gpu *g, const hn_train_entry *t, const hn_cuda_train_entry *ct, const hn_infer_buffers *hb, int have,
                  int batch, const float *p0, const hn_train_config *cfg, double seconds, char *err, size_t errlen)
{
    const hn_model_entry *m = t->model;
    float *x[16] = { 0 }, *params = NULL, *grads = NULL, *host = NULL;
    int32_t *n[16] = { 0 }, *hn = malloc(sizeof(int32_t) * (size_t)batch);
    int64_t *labels = NULL, *hl = malloc(sizeof(int64_t) * (size_t)batch);
    void *ws = NULL;
    int rc = !hn || !hl;
    for (int e = 0; !rc && e < batch; ++e) hl[e] = (e % have) % (t->nclasses == 1 ? 2 : t->nclasses);
    rc = rc || upload(g, (void **)&params, p0, sizeof(float) * t->param_floats, err, errlen) ||
         upload(g, (void **)&grads, NULL, sizeof(float) * t->param_floats, err, errlen) ||
         upload(g, (void **)&labels, hl, sizeof(int64_t) * (size_t)batch, err, errlen) ||
         upload(g, &ws, NULL, ct->workspace_bytes(batch), err, errlen);
    for (int i = 0; !rc && i < m->ninputs; ++i) {
        size_t per = input_floats(&m->inputs[i]);
        free(host);
        host = malloc(sizeof(float) * per * (size_t)batch);
        if (!host) { rc = 1; break; }
        for (int e = 0; e < batch; ++e) {
            memcpy(host + per * (size_t)e, hb->x[i] + per * (size_t)(e % have), sizeof(float) * per);
            hn[e] = hb->n[i][e % have];
        }
        rc = upload(g, (void **)&x[i], host, sizeof(float) * per * (size_t)batch, err, errlen) ||
             upload(g, (void **)&n[i], hn, sizeof(int32_t) * (size_t)batch, err, errlen);
    }
    size_t held = hn_gpu_allocated_bytes(NULL);
    int largest = 1;            /* the batch's largest count: the trimmed run's slots */
    for (int i = 0; i < m->ninputs; ++i)
        for (int e = 0; m->inputs[i].masked && e < batch; ++e)
            if (hb->n[i][e % have] > largest) largest = hb->n[i][e % have];
    const float *dx[16];
    const int32_t *dn[16];
    for (int i = 0; i < m->ninputs; ++i) { dx[i] = x[i]; dn[i] = n[i]; }
    enum { MAXREP = 500 };
    static double tt[MAXREP];
    for (int trimmed = 0; !rc && trimmed < 2; ++trimmed) {
        hn_train_config c = *cfg;
        c.slots = trimmed ? largest : 0;
        int reps = 0;
        double loss = 0;
        for (int w = 0; !rc && w < 3; ++w)
            rc = ct->step(g, params, grads, dx, dn, labels, NULL, batch, &c, (uint64_t)w, NULL, &loss, ws, err, errlen);
        double start = now();
        while (!rc && reps < MAXREP && (reps < 5 || now() - start < seconds)) {
            double t0 = now();
            rc = ct->step(g, params, grads, dx, dn, labels, NULL, batch, &c, (uint64_t)reps, NULL, &loss, ws, err, errlen);
            tt[reps++] = now() - t0;
        }
        if (rc) break;
        qsort(tt, (size_t)reps, sizeof tt[0], cmp_double);
        double med = reps % 2 ? tt[reps / 2] : 0.5 * (tt[reps / 2 - 1] + tt[reps / 2]);
        char device[256] = "";
        hn_gpu_describe(g, device, sizeof device, NULL);
        printf("{\"gpu_train_timing\": true, \"model\": \"%s\", \"device\": \"%s\", \"batch\": %d, \"slots\": %d, \"reps\": %d, "
               "\"ms_median\": %.4f, \"ms_p90\": %.4f, \"ms_min\": %.4f, \"jets_per_s\": %.1f, \"workspace_bytes\": %zu, "
               "\"device_bytes\": %zu, \"loss\": %.6f}\n",
               m->name, device, batch, c.slots, reps, 1e3 * med, 1e3 * tt[(int)ceil(0.9 * reps) - 1], 1e3 * tt[0], batch / med,
               ct->workspace_bytes(batch), held, loss);
        fflush(stdout);
    }
    for (int i = 0; i < m->ninputs; ++i) { hn_gpu_free(g, x[i]); hn_gpu_free(g, n[i]); }
    hn_gpu_free(g, params);
    hn_gpu_free(g, grads);
    hn_gpu_free(g, labels);
    hn_gpu_free(g, ws);
    free(host);
    free(hn);
    free(hl);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: train_harness WEIGHTS DATA.h5 [--events N] [--tol T] [--loss ce|bce|focal] [--weights]\n");
        return 2;
    }
    int events = 32, use_weights = 0, slots = 0;
    double tol = 1e-5;
    const char *loss_name = "ce", *batches = NULL;
    double seconds = 2;
    for (int a = 3; a < argc; ++a) {
        if (!strcmp(argv[a], "--events") && a + 1 < argc) events = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--tol") && a + 1 < argc) tol = atof(argv[++a]);
        else if (!strcmp(argv[a], "--loss") && a + 1 < argc) loss_name = argv[++a];
        else if (!strcmp(argv[a], "--weights")) use_weights = 1;
        else if (!strcmp(argv[a], "--slots") && a + 1 < argc) slots = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--batches") && a + 1 < argc) batches = argv[++a];
        else if (!strcmp(argv[a], "--seconds") && a + 1 < argc) seconds = atof(argv[++a]);
        else { fprintf(stderr, "train_harness: unknown option %s\n", argv[a]); return 2; }
    }
    if (!hn_gpu_available()) { printf("skipped: no GPU (no CUDA driver or device on this machine)\n"); return 77; }
    const hn_train_entry *t = hepnc_train_entry();
    const hn_cuda_train_entry *ct = hepnc_cuda_train_entry();
    const hn_model_entry *m = t->model;
    char err[8192];
    hn_dataset *ds = hn_dataset_open(argv[2], err, sizeof err);
    if (!ds) { fprintf(stderr, "train_harness: %s\n", err); return 1; }
    if (events > hn_dataset_events(ds)) events = (int)hn_dataset_events(ds);
    hn_infer_buffers hb;
    if (hn_alloc_buffers(m, events, &hb) || hn_read_inputs(ds, m, 0, events, &hb, err, sizeof err)) {
        fprintf(stderr, "train_harness: %s\n", err);
        return 1;
    }
    hn_dataset_close(ds);
    if (slots > 0)              /* a trimmed batch: no event holds more than `slots` */
        for (int i = 0; i < m->ninputs; ++i)
            for (int e = 0; m->inputs[i].masked && e < events; ++e)
                if (hb.n[i][e] > slots) hb.n[i][e] = slots;
    size_t P = t->param_floats;
    float *p0 = malloc(sizeof(float) * P), *pc = malloc(sizeof(float) * P), *gc = malloc(sizeof(float) * P);
    float *pg = malloc(sizeof(float) * P), *gg = malloc(sizeof(float) * P), *gg2 = malloc(sizeof(float) * P);
    int C = t->nclasses;
    float *lc = malloc(sizeof(float) * (size_t)events * C), *lg = malloc(sizeof(float) * (size_t)events * C);
    float *w = malloc(sizeof(float) * (size_t)events);
    int64_t *labels = malloc(sizeof(int64_t) * (size_t)events);
    void *wsc = malloc(t->workspace_bytes(events));
    if (!p0 || !pc || !gc || !pg || !gg || !gg2 || !lc || !lg || !w || !labels || !wsc) { fprintf(stderr, "out of memory\n"); return 1; }
    if (!strncmp(argv[1], "init:", 5) ? hn_train_init_params(t, p0, strtoull(argv[1] + 5, NULL, 10))
                                       : hn_train_load_params(t, argv[1], p0, err, sizeof err) || t->fold(p0)) {
        fprintf(stderr, "train_harness: %s: %s\n", argv[1], err);
        return 1;
    }
    for (int e = 0; e < events; ++e) {
        labels[e] = e % (C == 1 ? 2 : C);
        w[e] = 0.5f + (float)(e % 3) * 0.5f;
    }
    hn_train_config cfg = { .loss = HN_LOSS_CROSS_ENTROPY, .bn_momentum = 0.1, .training = 1, .label_smoothing = 0.1,
                            .slots = slots };
    if (!strcmp(loss_name, "bce")) cfg.loss = HN_LOSS_BCE;
    else if (!strcmp(loss_name, "focal")) cfg.loss = HN_LOSS_FOCAL, cfg.focal_alpha = 0.25, cfg.focal_gamma = 2.0;

    /* the C step */
    memcpy(pc, p0, sizeof(float) * P);
    double loss_c = 0, loss_g = 0, loss_g2 = 0;
    const float *xin[16];
    const int32_t *nin[16];
    for (int i = 0; i < m->ninputs; ++i) { xin[i] = hb.x[i]; nin[i] = hb.n[i]; }
    int rc = t->train_step(pc, gc, xin, nin, labels, use_weights ? w : NULL, events, &cfg, 7, lc, &loss_c, wsc);
    if (rc) { fprintf(stderr, "train_harness: the C step returned %d\n", rc); return 1; }

    /* the GPU step, twice */
    gpu_step s = { 0 };
    if (!(s.gpu = ct->open(NULL, err, sizeof err))) { fprintf(stderr, "train_harness: %s\n", err); return 1; }
    char device[256] = "";
    hn_gpu_describe(s.gpu, device, sizeof device, NULL);
    printf("%s: one training step on %s against the C step, %d events, loss %s%s%s\n", m->name, device, events, loss_name,
           use_weights ? ", event weights" : "", slots ? ", trimmed batch" : "");
    size_t wsb = ct->workspace_bytes(events);
    rc = upload(s.gpu, (void **)&s.params, p0, sizeof(float) * P, err, sizeof err) ||
         upload(s.gpu, (void **)&s.grads, NULL, sizeof(float) * P, err, sizeof err) ||
         upload(s.gpu, (void **)&s.logits, NULL, sizeof(float) * (size_t)events * C, err, sizeof err) ||
         upload(s.gpu, (void **)&s.labels, labels, sizeof(int64_t) * (size_t)events, err, sizeof err) ||
         upload(s.gpu, (void **)&s.weights, w, sizeof(float) * (size_t)events, err, sizeof err) ||
         upload(s.gpu, &s.ws, NULL, wsb, err, sizeof err);
    for (int i = 0; !rc && i < m->ninputs; ++i) {
        size_t per = (size_t)m->inputs[i].width * (m->inputs[i].is_set == 2 ? (size_t)m->inputs[i].max * m->inputs[i].max
                                                   : m->inputs[i].is_set ? (size_t)m->inputs[i].max : 1);
        rc = upload(s.gpu, (void **)&s.x[i], hb.x[i], sizeof(float) * per * (size_t)events, err, sizeof err) ||
             upload(s.gpu, (void **)&s.n[i], hb.n[i], sizeof(int32_t) * (size_t)events, err, sizeof err);
    }
    if (rc) { fprintf(stderr, "train_harness: %s\n", err); return 1; }
    const float *dx[16];
    const int32_t *dn[16];
    for (int i = 0; i < m->ninputs; ++i) { dx[i] = s.x[i]; dn[i] = s.n[i]; }
    for (int run = 0; run < 2; ++run) {
        if (hn_gpu_to_device(s.gpu, s.params, p0, sizeof(float) * P, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
        rc = ct->step(s.gpu, s.params, s.grads, dx, dn, s.labels, use_weights ? s.weights : NULL, events, &cfg, 7,
                                      s.logits, run ? &loss_g2 : &loss_g, s.ws, err, sizeof err);
        if (rc) { fprintf(stderr, "train_harness: the GPU step returned %d: %s\n", rc, err); return 1; }
        if (hn_gpu_to_host(s.gpu, run ? gg2 : gg, s.grads, sizeof(float) * P, err, sizeof err) ||
            (!run && (hn_gpu_to_host(s.gpu, pg, s.params, sizeof(float) * P, err, sizeof err) ||
                      hn_gpu_to_host(s.gpu, lg, s.logits, sizeof(float) * (size_t)events * C, err, sizeof err)))) {
            fprintf(stderr, "train_harness: %s\n", err);
            return 1;
        }
    }

    /* the workspaces: every activation of the last GPU run against the C step's on its real rows, the first
     * that differs named (where a wrong kernel shows first) */
    {
        size_t wb = t->workspace_bytes(events);
        float *wg = malloc(wb);
        if (wg && !hn_gpu_to_host(s.gpu, wg, s.ws, wb, err, sizeof err)) {
            int shown = 0;
            for (int k = 0; k < ct->ntensors && shown < 3; ++k) {
                const hn_cuda_train_tensor *q = &ct->tensors[k];
                double r = rel_diff_real((float *)wg + (size_t)events * q->offset, (float *)wsc + (size_t)events * q->offset, q,
                                         events, hb.n);
                if (r > tol) printf("     (activation %s differs: %.3g of its largest %.3g)\n", q->name, r, largest_b), ++shown;
            }
        }
        free(wg);
    }

    /* the comparisons */
    double dl = fabs(loss_g - loss_c) / fmax(fabs(loss_c), 1e-6);
    report(dl <= tol, "loss: GPU %.9g, C %.9g", loss_g, loss_c);
    double d = rel_diff(lg, lc, (size_t)events * C);
    report(d <= tol, "logits: max |diff| %.3g of the largest (tolerance %.0e)", d, tol);
    /* a gradient far below the model's largest is rounding noise around zero (a bias before a BatchNorm:
     * the batch mean takes it away): every tensor is compared relative to at least 5% of the largest */
    double global = 1e-6;
    for (int p = 0; p < t->nparams; ++p)
        if (t->params[p].trainable)
            for (size_t i = 0; i < t->params[p].size; ++i) global = fmax(global, fabs(gc[t->params[p].offset + i]));
    printf("     (largest gradient %.3g: gradients compared relative to max(their largest, %.3g))\n", global, 5e-2 * global);
    double worst = 0;
    const char *worst_name = "";
    for (int p = 0; p < t->nparams; ++p) {
        const hn_param_desc *q = &t->params[p];
        const float *a = q->trainable ? gg + q->offset : pg + q->offset, *b = q->trainable ? gc + q->offset : pc + q->offset;
        double r = rel_diff_floor(a, b, q->size, q->trainable ? 5e-2 * global : 1e-6);
        if (r > worst || r != r) worst = r != r ? INFINITY : r, worst_name = q->name;
        if (r > tol || r != r) {
            char what[300];
            snprintf(what, sizeof what, "%s %s (largest |C value| %.3g)", q->trainable ? "gradient of" : "running statistic", q->name, largest_b);
            report(0, "%s: max |diff| %.3g of the largest (tolerance %.0e)", what, r, tol);
        }
    }
    char what[300];
    snprintf(what, sizeof what, "%d parameter tensors' gradients and running statistics (worst: %s)", t->nparams, worst_name);
    report(worst <= tol, "%s: %.3g (tolerance %.0e)", what, worst, tol);
    report(!memcmp(gg, gg2, sizeof(float) * P) && loss_g == loss_g2, "two GPU steps give the same bytes");

    /* bad input: a label outside the classes, a count above max (nothing else changes) */
    int64_t bad_label = C == 1 ? 2 : C;
    int64_t saved;
    hn_gpu_to_host(s.gpu, &saved, s.labels + events - 1, sizeof saved, err, sizeof err);
    hn_gpu_to_device(s.gpu, s.labels + events - 1, &bad_label, sizeof bad_label, err, sizeof err);
    err[0] = '\0';
    rc = ct->step(s.gpu, s.params, s.grads, dx, dn, s.labels, NULL, events, &cfg, 7, NULL, NULL, s.ws, err, sizeof err);
    printf("     (%s)\n", err);
    report(rc == HN_ERR_LABEL && strstr(err, "label"), "a label outside the classes is refused: rc %d", rc);
    hn_gpu_to_device(s.gpu, s.labels + events - 1, &saved, sizeof saved, err, sizeof err);
    for (int i = 0; i < m->ninputs; ++i) {
        if (!m->inputs[i].masked) continue;
        int32_t big = m->inputs[i].max + 1, keep;
        hn_gpu_to_host(s.gpu, &keep, s.n[i] + events - 1, sizeof keep, err, sizeof err);
        hn_gpu_to_device(s.gpu, s.n[i] + events - 1, &big, sizeof big, err, sizeof err);
        rc = ct->step(s.gpu, s.params, s.grads, dx, dn, s.labels, NULL, events, &cfg, 7, NULL, NULL, s.ws, err,
                                      sizeof err);
        printf("     (%s)\n", err);
        report(rc == 1 && strstr(err, "outside"), "a count above max is refused: rc %d", rc);
        hn_gpu_to_device(s.gpu, s.n[i] + events - 1, &keep, sizeof keep, err, sizeof err);
        break;
    }
    for (const char *b = batches; b && *b;) {
        int B = atoi(b);
        if (B > 0 && timing(s.gpu, t, ct, &hb, events, B, p0, &cfg, seconds, err, sizeof err)) {
            fprintf(stderr, "train_harness: %s at batch %d: %s\n", m->name, B, err);
            return 1;
        }
        b = strchr(b, ',');
        if (b) ++b;
    }
    printf("%d passed, %d failed\n", checks - failures, failures);
    hn_gpu_profile_report(s.gpu, stdout);   /* HEPNC_GPU_PROFILE=1: every kernel's time */
    hn_gpu_close(s.gpu);
    return failures ? 1 : 0;
}
