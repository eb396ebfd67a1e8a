/* test_train_optim.c — the GPU optimiser (templates/cuda/train_optim.cuh through gpu/train_optim.c) against
 * runtime/optim.c, on random data.
 *
 *   test_train_optim TEMPLATES_CUDA_DIR
 *
 * Per optimiser (SGD plain / momentum with dampening / nesterov, Adam, AdamW, torch's RAdam, weaver's RAdam
 * with and without degenerated_to_sgd, Ranger, Lookahead(AdamW), Lookahead(SGD)), with and without
 * no_decay: a group of ~1000 parameters initialised on both sides, then STEPS steps with a varying
 * learning rate and random gradients (enough to cross RAdam's rectification threshold and several Lookahead
 * syncs); after every step the parameters and every section of the state (counters, momentum buffer,
 * m, v, slow weights) are compared within 1e-6 of the section's largest |value|, the counters bit for
 * bit. Half the cases step through hn_gt_optim_step (counters read back), half through
 * hn_gt_optim_step_counted (host mirror, checked against the state). Also: a group of no parameters,
 * load_slow, an invalid configuration, and hn_gt_clip_grad_norm against hn_clip_grad_norm (norms 2, 1, 3,
 * ∞, clipping or not, a NaN). Exit 0 when every check holds, 1 when one fails, 77 where no GPU (nor
 * HEPNC_GPU_EMULATE) exists. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hepnc/gpu.h>
#include <hepnc/gpu_train_optim.h>
#include <hepnc/optim.h>

#include "unit_kernels.h"

#define TOL 1e-6
#define STEPS 14

static double worst_param, worst_state;   /* the largest relative differences seen */
static long differing_floats;             /* floats not bit-identical to the C code's */



/* common.cuh then train_optim.cuh (which needs nothing else). */
static char *kernel_source(const char *dir)
{
    static const char *const parts[] = { "common.cuh", "train_optim.cuh" };
    return unit_kernel_source(dir, parts, sizeof parts / sizeof *parts);
}

/* xorshift64*: uniform in [-1, 1) */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static float uniform(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (float)((double)((rng * 2685821657736338717ull) >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

/* ---- device buffers ------------------------------------------------------------------------------------ */

static void *dev_alloc(hn_gpu *g, size_t bytes)
{
    char err[512];
    void *p = NULL;
    if (hn_gpu_alloc(g, &p, bytes ? bytes : 4, err, sizeof err)) { fprintf(stderr, "%s\n", err); exit(1); }
    return p;
}
static void to_dev(hn_gpu *g, void *d, const void *h, size_t bytes)
{
    char err[512];
    if (bytes && hn_gpu_to_device(g, d, h, bytes, err, sizeof err)) { fprintf(stderr, "%s\n", err); exit(1); }
}
static void to_host(hn_gpu *g, void *h, const void *d, size_t bytes)
{
    char err[512];
    if (bytes && hn_gpu_to_host(g, h, d, bytes, err, sizeof err)) { fprintf(stderr, "%s\n", err); exit(1); }
}

/* Largest |a − b| over n floats relative to max |a| (1 when the scale is 0 and they differ; NaNs must
 * match); differing bit patterns counted. */
static double rel_diff(const float *a, const float *b, size_t n)
{
    double scale = 0.0, d = 0.0;
    for (size_t i = 0; i < n; ++i) {
        if (fabs((double)a[i]) > scale) scale = fabs((double)a[i]);
        if (memcmp(&a[i], &b[i], sizeof(float)) != 0) ++differing_floats;
        if (isnan(a[i]) != isnan(b[i])) d = INFINITY;
        else if (!isnan(a[i]) && fabs((double)a[i] - b[i]) > d) d = fabs((double)a[i] - b[i]);
    }
    return d == 0.0 ? 0.0 : scale > 0.0 ? d / scale : d == INFINITY ? INFINITY : 1.0;
}

/* ---- the optimiser cases --------------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    hn_optim o;
} opt_case;

/* The state's sections: the counters, then n floats each (momentum buffer, m, v, slow weights). */
static int compare_state(const hn_optim *o, const float *h, const float *d, size_t n, double *worst)
{
    size_t size = hn_optim_state_size(o, n);
    int ok = memcmp(h, d, 4 * sizeof(float)) == 0;
    for (size_t at = 4; at < size; at += n) {
        double r = rel_diff(h + at, d + at, n);
        if (r > *worst) *worst = r;
        ok &= r <= TOL;
    }
    return ok;
}

/* One optimiser on a group of n parameters, STEPS steps; counted: step through hn_gt_optim_step_counted. */
static void run_case(hn_gpu *g, const opt_case *c, size_t n, int no_decay, int counted)
{
    char err[2048];
    const hn_optim *o = &c->o;
    size_t ss = hn_optim_state_size(o, n);
    float *p = malloc((n + 1) * sizeof(float)), *gr = malloc((n + 1) * sizeof(float)), *st = malloc(ss * sizeof(float));
    float *pd_h = malloc((n + 1) * sizeof(float)), *st_h = malloc(ss * sizeof(float));
    float *pd = dev_alloc(g, n * sizeof(float)), *gd = dev_alloc(g, n * sizeof(float)), *sd = dev_alloc(g, ss * sizeof(float));
    for (size_t i = 0; i < n; ++i) p[i] = uniform();
    to_dev(g, pd, p, n * sizeof(float));
    for (size_t i = 0; i < ss; ++i) st_h[i] = NAN;      /* anything left unwritten fails */
    to_dev(g, sd, st_h, ss * sizeof(float));

    hn_param_group grp = { p, gr, n, st, 0.0, no_decay };
    hn_optim_init(o, &grp);
    int ok = !hn_gt_optim_init(g, o, pd, n, sd, err, sizeof err);
    if (!ok) printf("  %s\n", err);
    to_host(g, st_h, sd, ss * sizeof(float));
    ok = ok && memcmp(st, st_h, ss * sizeof(float)) == 0;
    report(ok, "%-22s n=%-4zu no_decay=%d init", c->name, n, no_decay);

    int64_t step = 0, la = 0;
    double wp = 0.0, ws = 0.0;
    int all = 1;
    for (int s = 0; s < STEPS; ++s) {
        /* a varying learning rate, gradients of varying scale with a few exact zeros */
        grp.lr = 1e-2 * (1.0 + 0.5 * sin(0.7 * s));
        float gscale = (float)(0.1 + 0.3 * (s % 4));
        for (size_t i = 0; i < n; ++i) gr[i] = i % 97 == 5 ? 0.0f : gscale * uniform();
        to_dev(g, gd, gr, n * sizeof(float));
        int rc = counted ? hn_gt_optim_step_counted(g, o, pd, gd, n, sd, grp.lr, no_decay, &step, &la, err, sizeof err)
                         : hn_gt_optim_step(g, o, pd, gd, n, sd, grp.lr, no_decay, err, sizeof err);
        if (rc) { printf("  %s\n", err); all = 0; break; }
        hn_optim_step(o, &grp);
        to_host(g, pd_h, pd, n * sizeof(float));
        to_host(g, st_h, sd, ss * sizeof(float));
        double rp = rel_diff(p, pd_h, n);
        if (rp > wp) wp = rp;
        int state_ok = compare_state(o, st, st_h, n, &ws);
        int step_ok = rp <= TOL && state_ok;
        if (counted) step_ok &= step == hn_optim_step_count(st) && la == (int64_t)st[2] * 16777216 + (int64_t)st[3];
        if (!step_ok && all) printf("  first difference after step %d\n", s + 1);
        all &= step_ok;
    }
    if (wp > worst_param) worst_param = wp;
    if (ws > worst_state) worst_state = ws;
    report(all, "%-22s n=%-4zu no_decay=%d %2d steps (%s): params %.2g, state %.2g", c->name, n, no_decay, STEPS,
           counted ? "counted" : "read back", wp, ws);

    /* the counters read back, and the slow weights loaded */
    int64_t cs = -1, cl = -1;
    int cok = !hn_gt_optim_counters(g, o, sd, &cs, &cl, err, sizeof err) && cs == hn_optim_step_count(st) && cs == STEPS;
    hn_optim_load_slow(o, &grp);
    cok = cok && !hn_gt_optim_load_slow(g, o, pd, n, sd, err, sizeof err);
    to_host(g, pd_h, pd, n * sizeof(float));
    cok = cok && memcmp(p, pd_h, n * sizeof(float)) == 0;
    report(cok, "%-22s n=%-4zu no_decay=%d counters (%lld, %lld), load_slow", c->name, n, no_decay, (long long)cs,
           (long long)cl);

    hn_gpu_free(g, pd);
    hn_gpu_free(g, gd);
    hn_gpu_free(g, sd);
    free(p); free(gr); free(st); free(pd_h); free(st_h);
}

static void optimiser_checks(hn_gpu *g)
{
    const opt_case cases[] = {
        { "sgd", hn_optim_sgd(0.0, 0.0, 0, 0.05) },
        { "sgd momentum", hn_optim_sgd(0.9, 0.1, 0, 0.05) },
        { "sgd nesterov", hn_optim_sgd(0.9, 0.0, 1, 0.05) },
        { "adam", hn_optim_adam(0.9, 0.999, 1e-8, 0.05) },
        { "adamw", hn_optim_adamw(0.9, 0.999, 1e-8, 0.05) },
        { "radam", hn_optim_radam(0.9, 0.999, 1e-8, 0.05) },
        { "radam weaver", hn_optim_radam_weaver(0.9, 0.999, 1e-8, 0.05, 1) },
        { "radam weaver no-sgd", hn_optim_radam_weaver(0.9, 0.999, 1e-8, 0.05, 0) },
        { "ranger", hn_optim_ranger(0.05) },
        { "lookahead(adamw)", hn_optim_lookahead(hn_optim_adamw(0.9, 0.99, 1e-8, 0.05), 3, 0.8) },
        { "lookahead(sgd mom)", hn_optim_lookahead(hn_optim_sgd(0.8, 0.0, 0, 0.05), 2, 0.3) },
    };
    int k = 0;
    for (size_t c = 0; c < sizeof cases / sizeof *cases; ++c)
        for (int no_decay = 0; no_decay <= 1; ++no_decay) run_case(g, &cases[c], 1000, no_decay, (k++) % 2);
    /* odd sizes: a partial block, one parameter, none (the counters still move) */
    run_case(g, &cases[8], 257, 0, 0);
    run_case(g, &cases[5], 1, 0, 1);
    run_case(g, &cases[9], 0, 0, 0);

    /* an invalid configuration is refused, as by hn_optim_step */
    char err[512] = "";
    hn_optim bad = hn_optim_sgd(0.0, 0.0, 1, 0.0);
    float *d = dev_alloc(g, 64);
    int rc = hn_gt_optim_step(g, &bad, d, d, 1, d, 0.1, 0, err, sizeof err);
    report(rc == -1 && err[0], "invalid configuration refused: %s", err);
    hn_gpu_free(g, d);
}

/* ---- gradient clipping ------------------------------------------------------------------------------------ */

static void clip_case(hn_gpu *g, double max_norm, double norm_type, int with_nan)
{
    enum { NT = 4 };
    const size_t sizes[NT] = { 1000, 9000, 0, 37 };
    float *h[NT], *dev[NT], *back = malloc(9000 * sizeof(float));
    for (int t = 0; t < NT; ++t) {
        h[t] = malloc((sizes[t] + 1) * sizeof(float));
        for (size_t i = 0; i < sizes[t]; ++i) h[t][i] = (float)(t + 1) * uniform();
        if (with_nan && t == 1) h[t][4321] = NAN;
        dev[t] = dev_alloc(g, sizes[t] * sizeof(float));
        to_dev(g, dev[t], h[t], sizes[t] * sizeof(float));
    }
    char err[512];
    void *scratch = dev_alloc(g, hn_gt_clip_scratch_bytes(sizes, NT));
    double total_d = -1.0;
    int ok = !hn_gt_clip_grad_norm(g, dev, sizes, NT, max_norm, norm_type, scratch, &total_d, err, sizeof err);
    if (!ok) printf("  %s\n", err);
    double total_h = hn_clip_grad_norm(h, sizes, NT, max_norm, norm_type);
    double rt = isnan(total_h) ? (isnan(total_d) ? 0.0 : INFINITY) : fabs(total_d - total_h) / (total_h > 0 ? total_h : 1.0);
    double rg = 0.0;
    for (int t = 0; t < NT; ++t) {
        to_host(g, back, dev[t], sizes[t] * sizeof(float));
        double r = rel_diff(h[t], back, sizes[t]);
        if (r > rg) rg = r;
    }
    ok = ok && rt <= 1e-12 && rg <= TOL;
    report(ok, "clip norm %-4g max %-5g%s: total %.6g (C %.6g, rel %.2g), grads %.2g", norm_type, max_norm,
           with_nan ? " NaN" : "", total_d, total_h, rt, rg);
    for (int t = 0; t < NT; ++t) { hn_gpu_free(g, dev[t]); free(h[t]); }
    hn_gpu_free(g, scratch);
    free(back);
}

static void clip_checks(hn_gpu *g)
{
    const double norms[] = { 2.0, 1.0, 3.0, INFINITY };
    for (int k = 0; k < 4; ++k) {
        clip_case(g, 1.0, norms[k], 0);      /* clipped */
        clip_case(g, 1e9, norms[k], 0);      /* not */
    }
    clip_case(g, 1.0, 2.0, 1);
    clip_case(g, 1.0, INFINITY, 1);
    /* no tensors: total 0, nothing touched */
    char err[512];
    double total = -1.0;
    report(!hn_gt_clip_grad_norm(g, NULL, NULL, 0, 1.0, 2.0, NULL, &total, err, sizeof err) && total == 0.0,
           "clip over no tensors");
}

int main(int argc, char **argv)
{
    int rc;
    hn_gpu *g = unit_open(argc, argv, kernel_source, "unit_train_optim", &rc);
    if (!g) return rc;
    optimiser_checks(g);
    clip_checks(g);
    hn_gpu_close(g);
    printf("%d checks, %d failed; worst relative difference: params %.3g, state %.3g; %ld floats not bit-identical\n",
           checks, failures, worst_param, worst_state, differing_floats);
    return failures ? 1 : 0;
}
