/* train_optim.c — see hepnc/gpu_train_optim.h: host-side launches of templates/cuda/train_optim.cuh. The
 * host part of each step is runtime/optim.c's, line for line: the configuration checks, the scalars in
 * double (then cast to float where optim.c casts them), the counters; the kernels do the loop bodies.
 * Nothing here calls into hepnc_runtime (only its optim.h types are used), so hepnc_gpu stays standalone. */
#include "hepnc/gpu_train_optim.h"

#include <math.h>
#include <stdio.h>

#define HEADER 4                 /* optim.c's HN_OPT_HEADER: two counters of two floats */
#define TWO24 16777216.0
#define THREADS 256              /* elementwise blocks; also HN_TOPT_THREADS of train_optim.cuh */
#define TILE (256 * 16)          /* HN_TOPT_TILE */

/* ---- the state layout (optim.c's hn_optim_state_size) ---------------------------------------------- */

static int has_moments(const hn_optim *o) { return o->kind != HN_OPT_SGD; }
static int has_momentum_buf(const hn_optim *o) { return o->kind == HN_OPT_SGD && o->momentum != 0.0; }

static size_t state_floats(const hn_optim *o, size_t n)
{
    size_t s = HEADER;
    if (has_momentum_buf(o)) s += n;
    if (has_moments(o)) s += 2 * n;
    if (o->lookahead_k > 0) s += n;
    return s;
}

/* The slow weights' first float (the state's last n). */
static size_t slow_at(const hn_optim *o, size_t n) { return state_floats(o, n) - n; }

static int64_t get_count(const float *s) { return (int64_t)s[0] * (int64_t)TWO24 + (int64_t)s[1]; }
static void count_floats(int64_t v, float *f)
{
    f[0] = (float)(v / (int64_t)TWO24);
    f[1] = (float)(v % (int64_t)TWO24);
}

/* hn_optim_step's checks, with a message. */
static int check(const hn_optim *o, const float *param, const float *grad, size_t n, const float *state, char *err,
                 size_t errlen)
{
    const char *why = NULL;
    if (!o) why = "no configuration";
    else if (!state || (n && (!param || !grad))) why = "a NULL pointer";
    else if (o->kind == HN_OPT_SGD && o->nesterov && (o->momentum <= 0.0 || o->dampening != 0.0))
        why = "nesterov needs momentum > 0 and dampening 0";
    else if (o->lookahead_k < 0 || (o->lookahead_k > 0 && !(o->lookahead_alpha >= 0.0 && o->lookahead_alpha <= 1.0)))
        why = "Lookahead needs k >= 0 and 0 <= alpha <= 1";
    else if (o->kind < HN_OPT_SGD || o->kind > HN_OPT_RADAM_WEAVER) why = "unknown optimiser kind";
    if (!why) return 0;
    snprintf(err, errlen, "hn_gt_optim_step: %s", why);
    return -1;
}

/* `threads` threads (at least one) in blocks of 256 */
static int launch(hn_gpu *g, const char *k, long threads, void **args, char *err, size_t errlen)
{
    if (threads < 1) threads = 1;
    return hn_gpu_launch(g, k, (unsigned)((threads + THREADS - 1) / THREADS), 1, THREADS, 0, args, err, errlen) ? -1 : 0;
}

/* ---- a step ---------------------------------------------------------------------------------------------- */

/* The arguments every step kernel ends with (HN_TOPT_TAIL): the counters' new floats and the Lookahead sync. */
typedef struct {
    float *state;
    float c[2];                  /* the step count after this step */
    float *slow;                 /* NULL without Lookahead */
    int sync;
    float fa, f1a;
    float l[2];                  /* the Lookahead counter after this step */
} tail;

/* optim.c's bookkeeping after the update: the count + 1, and Lookahead's counter (sync when it reaches k). */
static tail make_tail(const hn_optim *o, size_t n, float *state, int64_t *step, int64_t *lookahead)
{
    tail t = { state, { 0.0f, 0.0f }, NULL, 0, 0.0f, 0.0f, { 0.0f, 0.0f } };
    *step += 1;
    count_floats(*step, t.c);
    if (o->lookahead_k > 0) {
        int64_t c = *lookahead + 1;
        if (c >= o->lookahead_k) { c = 0; t.sync = 1; }
        *lookahead = c;
        count_floats(c, t.l);
        t.slow = state + slow_at(o, n);
        t.fa = (float)o->lookahead_alpha;
        t.f1a = (float)(1.0 - o->lookahead_alpha);
    }
    return t;
}

/* args[k..k+9) = the tail's; returns the count */
static int add_tail(void **args, int k, tail *t)
{
    void *a[] = { &t->state, &t->c[0], &t->c[1], &t->slow, &t->sync, &t->fa, &t->f1a, &t->l[0], &t->l[1] };
    for (int i = 0; i < 9; ++i) args[k + i] = a[i];
    return k + 9;
}

/* The operands of one step: the group, its decay, the step number, the kernel's tail. */
typedef struct {
    hn_gpu *g;
    const hn_optim *o;
    float *p;
    const float *gr;
    long n;
    float *state;
    double lr, wd;
    int64_t step;                /* steps taken before this one */
    tail t;
} step_ctx;

/* torch.optim.SGD (optim.c's step_sgd). */
static int step_sgd(step_ctx *s, char *err, size_t errlen)
{
    const hn_optim *o = s->o;
    float *buf = has_momentum_buf(o) ? s->state + HEADER : NULL;
    int use_wd = s->wd != 0.0, first = s->step == 0, nesterov = o->nesterov;
    float fwd = (float)s->wd, fmom = (float)o->momentum, fdamp1 = (float)(1.0 - o->dampening), fnlr = (float)(-s->lr);
    void *a[32] = { &s->p, &s->gr, &s->n, &buf, &use_wd, &fwd, &first, &nesterov, &fmom, &fdamp1, &fnlr };
    add_tail(a, 11, &s->t);
    return launch(s->g, "hn_topt_sgd", s->n, a, err, errlen);
}

/* torch.optim.Adam / AdamW (optim.c's step_adam). */
static int step_adam(step_ctx *s, int decoupled, char *err, size_t errlen)
{
    const hn_optim *o = s->o;
    float *m = s->state + HEADER, *v = m + s->n;
    double t = (double)(s->step + 1);
    double bc1 = 1.0 - pow(o->beta1, t), bc2 = 1.0 - pow(o->beta2, t);
    double step_size = s->lr / bc1, bc2s = sqrt(bc2);
    int use_wd = s->wd != 0.0;
    float fb1 = (float)o->beta1, f1b1 = (float)(1.0 - o->beta1), fb2 = (float)o->beta2, f1b2 = (float)(1.0 - o->beta2),
          fbc2s = (float)bc2s, feps = (float)o->eps, fss = (float)(-step_size), fwd = (float)s->wd,
          fdec = (float)(1.0 - s->lr * s->wd);
    void *a[32] = { &s->p, &s->gr, &s->n, &m, &v, &decoupled, &use_wd, &fwd, &fdec, &fb1, &f1b1, &fb2, &f1b2, &fbc2s, &feps, &fss };
    add_tail(a, 16, &s->t);
    return launch(s->g, "hn_topt_adam", s->n, a, err, errlen);
}

/* torch.optim.RAdam 1.13 (optim.c's step_radam): the rectification in double on the host. */
static int step_radam(step_ctx *s, char *err, size_t errlen)
{
    const hn_optim *o = s->o;
    float *m = s->state + HEADER, *v = m + s->n;
    double t = (double)(s->step + 1), b2t = pow(o->beta2, t);
    double bc1 = 1.0 - pow(o->beta1, t), bc2 = 1.0 - b2t;
    double rho_inf = 2.0 / (1.0 - o->beta2) - 1.0;
    double rho_t = rho_inf - 2.0 * t * b2t / bc2;
    int rect_on = rho_t > 5.0, use_wd = s->wd != 0.0;
    double rect = rect_on ? sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) : 0.0;
    float fb1 = (float)o->beta1, f1b1 = (float)(1.0 - o->beta1), fb2 = (float)o->beta2, f1b2 = (float)(1.0 - o->beta2),
          fbc1 = (float)bc1, feps = (float)o->eps, flr = (float)s->lr, frect = (float)rect, fsbc2 = (float)sqrt(bc2),
          fwd = (float)s->wd;
    void *a[32] = { &s->p, &s->gr, &s->n, &m, &v, &use_wd, &fwd, &fb1, &f1b1, &fb2, &f1b2, &fbc1, &feps, &flr, &rect_on, &frect, &fsbc2 };
    add_tail(a, 17, &s->t);
    return launch(s->g, "hn_topt_radam", s->n, a, err, errlen);
}

/* weaver's RAdam (optim.c's step_radam_weaver): N_sma and the step size in double on the host; mode 1
 * rectified (N_sma ≥ 5), 2 degenerated to SGD, 0 no step. */
static int step_radam_weaver(step_ctx *s, char *err, size_t errlen)
{
    const hn_optim *o = s->o;
    float *m = s->state + HEADER, *v = m + s->n;
    double b1 = o->beta1, b2 = o->beta2, t = (double)(s->step + 1);
    double b2t = pow(b2, t);
    double n_sma_max = 2.0 / (1.0 - b2) - 1.0;
    double n_sma = n_sma_max - 2.0 * t * b2t / (1.0 - b2t);
    double step_size;
    if (n_sma >= 5.0)
        step_size = sqrt((1.0 - b2t) * (n_sma - 4.0) / (n_sma_max - 4.0) * (n_sma - 2.0) / n_sma * n_sma_max /
                         (n_sma_max - 2.0)) /
                    (1.0 - pow(b1, t));
    else if (o->degenerated_to_sgd)
        step_size = 1.0 / (1.0 - pow(b1, t));
    else
        step_size = -1.0;
    int mode = n_sma >= 5.0 ? 1 : step_size > 0.0 ? 2 : 0, use_wd = s->wd != 0.0;
    float fb1 = (float)b1, f1b1 = (float)(1.0 - b1), fb2 = (float)b2, f1b2 = (float)(1.0 - b2), feps = (float)o->eps,
          fwd = (float)(-s->wd * s->lr), fss = (float)(-step_size * s->lr);
    void *a[32] = { &s->p, &s->gr, &s->n, &m, &v, &mode, &use_wd, &fwd, &fb1, &f1b1, &fb2, &f1b2, &feps, &fss };
    add_tail(a, 14, &s->t);
    return launch(s->g, "hn_topt_radam_weaver", s->n, a, err, errlen);
}

int hn_gt_optim_step_counted(hn_gpu *g, const hn_optim *o, float *param, const float *grad, size_t n, float *state,
                             double lr, int no_decay, int64_t *step, int64_t *lookahead, char *err, size_t errlen)
{
    if (check(o, param, grad, n, state, err, errlen)) return -1;
    if (!step || !lookahead) { snprintf(err, errlen, "hn_gt_optim_step_counted: no counters"); return -1; }
    step_ctx s = { g, o, param, grad, (long)n, state, lr, no_decay ? 0.0 : o->weight_decay, *step, { 0 } };
    int64_t st = *step, la = *lookahead;
    s.t = make_tail(o, n, state, &st, &la);
    int rc;
    switch (o->kind) {
    case HN_OPT_SGD: rc = step_sgd(&s, err, errlen); break;
    case HN_OPT_ADAM: rc = step_adam(&s, 0, err, errlen); break;
    case HN_OPT_ADAMW: rc = step_adam(&s, 1, err, errlen); break;
    case HN_OPT_RADAM: rc = step_radam(&s, err, errlen); break;
    default: rc = step_radam_weaver(&s, err, errlen); break;
    }
    if (rc) return -1;
    *step = st;
    *lookahead = la;
    return 0;
}

int hn_gt_optim_counters(hn_gpu *g, const hn_optim *o, const float *state, int64_t *step, int64_t *lookahead, char *err,
                         size_t errlen)
{
    if (!o || !state || !step) { snprintf(err, errlen, "hn_gt_optim_counters: a NULL argument"); return -1; }
    float h[HEADER] = { 0.0f, 0.0f, 0.0f, 0.0f };
    size_t floats = o->lookahead_k > 0 ? 4 : 2;
    if (hn_gpu_to_host(g, h, state, floats * sizeof(float), err, errlen)) return -1;
    *step = get_count(h);
    if (lookahead) *lookahead = get_count(h + 2);
    return 0;
}

int hn_gt_optim_step(hn_gpu *g, const hn_optim *o, float *param, const float *grad, size_t n, float *state, double lr,
                     int no_decay, char *err, size_t errlen)
{
    int64_t step = 0, lookahead = 0;
    if (check(o, param, grad, n, state, err, errlen) || hn_gt_optim_counters(g, o, state, &step, &lookahead, err, errlen))
        return -1;
    return hn_gt_optim_step_counted(g, o, param, grad, n, state, lr, no_decay, &step, &lookahead, err, errlen);
}

/* ---- initialisation, the slow weights ------------------------------------------------------------------- */

int hn_gt_optim_init(hn_gpu *g, const hn_optim *o, float *param, size_t n, float *state, char *err, size_t errlen)
{
    if (!o || !state || (n && !param)) { snprintf(err, errlen, "hn_gt_optim_init: a NULL argument"); return -1; }
    long size = (long)state_floats(o, n), at = o->lookahead_k > 0 ? (long)slow_at(o, n) : size;
    const float *src = param;
    void *a[] = { &state, &size, &src, &at };
    return launch(g, "hn_topt_init", size, a, err, errlen);
}

int hn_gt_optim_load_slow(hn_gpu *g, const hn_optim *o, float *param, size_t n, const float *state, char *err, size_t errlen)
{
    if (!o) { snprintf(err, errlen, "hn_gt_optim_load_slow: no configuration"); return -1; }
    if (o->lookahead_k <= 0 || n == 0) return 0;
    long size = (long)n, at = 0;
    const float *slow = state + slow_at(o, n);
    void *a[] = { &param, &size, &slow, &at };
    return launch(g, "hn_topt_init", size, a, err, errlen);
}

/* ---- gradient clipping ---------------------------------------------------------------------------------- */

static long tiles_of(size_t n) { return (long)((n + TILE - 1) / TILE); }

size_t hn_gt_clip_scratch_bytes(const size_t *sizes, size_t ntensors)
{
    size_t tiles = 1;            /* the total */
    for (size_t t = 0; t < ntensors; ++t) tiles += (size_t)tiles_of(sizes[t]);
    return tiles * sizeof(double);
}

/* The norm's reduction (mode 0 Σ a², 1 Σ |a|^p, 2 max |a|) over every tensor: a partial per tile, then
 * their combination in order into *out (host). */
static int norm_reduce(hn_gpu *g, float *const *grads, const size_t *sizes, size_t ntensors, int mode, double p,
                       double *partial, double *out, char *err, size_t errlen)
{
    long count = 0;
    for (size_t t = 0; t < ntensors; ++t) {
        long n = (long)sizes[t], tiles = tiles_of(sizes[t]);
        const float *x = grads[t];
        double *dst = partial + count;
        void *a[] = { &x, &n, &mode, &p, &dst };
        if (tiles && hn_gpu_launch(g, "hn_topt_norm_partial", (unsigned)tiles, 1, THREADS, 0, a, err, errlen)) return -1;
        count += tiles;
    }
    double *total = partial + count;
    void *f[] = { &partial, &count, &mode, &total };
    if (hn_gpu_launch(g, "hn_topt_norm_finish", 1, 1, THREADS, 0, f, err, errlen)) return -1;
    return hn_gpu_to_host(g, out, total, sizeof(double), err, errlen) ? -1 : 0;
}

int hn_gt_clip_grad_norm(hn_gpu *g, float *const *grads, const size_t *sizes, size_t ntensors, double max_norm,
                         double norm_type, void *scratch, double *total, char *err, size_t errlen)
{
    *total = 0.0;
    if (ntensors == 0) return 0;
    if (!grads || !sizes || !scratch) { snprintf(err, errlen, "hn_gt_clip_grad_norm: a NULL argument"); return -1; }
    int inf = isinf(norm_type), two = norm_type == 2.0, mode = inf ? 2 : two ? 0 : 1;
    double s;
    if (norm_reduce(g, grads, sizes, ntensors, mode, norm_type, (double *)scratch, &s, err, errlen)) return -1;
    *total = inf ? s : two ? sqrt(s) : pow(s, 1.0 / norm_type);
    /* clip_coef = max_norm / (total + 1e-6), in float32 as torch; clamp(max=1); grads *= coef */
    float tf = (float)*total;
    float coef = (1.0f / (tf + (float)1e-6)) * (float)max_norm;
    if (coef >= 1.0f) return 0;  /* NaN norms propagate, as torch.clamp(NaN) does */
    for (size_t t = 0; t < ntensors; ++t) {
        float *x = grads[t];
        long n = (long)sizes[t];
        void *a[] = { &x, &n, &coef };
        if (n && launch(g, "hn_topt_scale", n, a, err, errlen)) return -1;
    }
    return 0;
}
