/* cmd_gradcheck.c — `hepnc gradcheck`: checks the generated training step of a spec.
 *
 * On one batch of a dataset it runs the generated train_step (forward in training mode, loss,
 * backward) and compares, per parameter tensor,
 *   - the gradient with central finite differences of the generated loss (the largest-gradient
 *     coordinates of each tensor; float32, so a loose tolerance: a sanity check of the backward rules);
 *   - with --reference R.safetensors, the gradient with R's `grad.<name>` (PyTorch autograd: the
 *     fixtures of tests/train/models), the loss with `loss`, the running statistics after the step
 *     with `bn1.<name>`;
 *   - with --steps K --optimizer adamw|ranger, the parameters after K optimiser steps on the batch
 *     with R's `<optimizer><K>.<name>` and each step's loss with `loss_<optimizer>.<k>`.
 * Relative errors are norms over a whole tensor: ‖a − r‖ / ‖r‖ (‖r‖ = 0: the absolute ‖a‖). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hepnc/init.h>
#include <hepnc/optim.h>
#include <hepnc/weights.h>

#include "build.h"
#include "commands.h"
#include "infer_io.h"
#include "params.h"

typedef struct gc_options {
    const char *spec, *weights, *data, *reference, *optimizer, *loss;
    int events, steps, fd, time_steps, slots;
    long init_seed;
    double tol, traj_tol, smoothing, lr, wd;
} gc_options;

static int parse(int argc, char **argv, gc_options *o)
{
    const char *ev = "32", *steps = "0", *tsteps = "0", *init = NULL, *tol = "1e-3", *ttol = "1e-5", *ls = "0.1", *lr = "1e-3", *wd = "0.01", *fd = "4";
    memset(o, 0, sizeof *o);
    o->optimizer = "adamw";
    o->loss = "cross_entropy";
    for (int i = 2; i < argc; ++i) {
        const char *v;
        if (hn_opt(argc, argv, &i, "--weights", &v)) o->weights = v;
        else if (hn_opt(argc, argv, &i, "--data", &v)) o->data = v;
        else if (hn_opt(argc, argv, &i, "--reference", &v)) o->reference = v;
        else if (hn_opt(argc, argv, &i, "--events", &v)) ev = v;
        else if (hn_opt(argc, argv, &i, "--steps", &v)) steps = v;
        else if (hn_opt(argc, argv, &i, "--optimizer", &v)) o->optimizer = v;
        else if (hn_opt(argc, argv, &i, "--tolerance", &v)) tol = v;
        else if (hn_opt(argc, argv, &i, "--trajectory-tolerance", &v)) ttol = v;
        else if (hn_opt(argc, argv, &i, "--label-smoothing", &v)) ls = v;
        else if (hn_opt(argc, argv, &i, "--loss", &v)) o->loss = v;
        else if (hn_opt(argc, argv, &i, "--slots", &v)) o->slots = atoi(v);
        else if (hn_opt(argc, argv, &i, "--lr", &v)) lr = v;
        else if (hn_opt(argc, argv, &i, "--weight-decay", &v)) wd = v;
        else if (hn_opt(argc, argv, &i, "--fd", &v)) fd = v;
        else if (hn_opt(argc, argv, &i, "--time", &v)) tsteps = v;
        else if (hn_opt(argc, argv, &i, "--init", &v)) init = v;
        else if (argv[i][0] == '-') return hn_usage("gradcheck", "unknown option '%s'", argv[i]);
        else if (!o->spec) o->spec = argv[i];
        else return hn_usage("gradcheck", "unexpected argument '%s'", argv[i]);
    }
    if (!o->spec || (!o->weights && !init) || !o->data)
        return hn_usage("gradcheck", "SPEC, --weights (or --init SEED) and --data are required");
    o->time_steps = atoi(tsteps);
    o->init_seed = init ? atol(init) : -1;
    o->events = atoi(ev);
    o->steps = atoi(steps);
    o->fd = atoi(fd);
    o->tol = atof(tol);
    o->traj_tol = atof(ttol);
    o->smoothing = atof(ls);
    o->lr = atof(lr);
    o->wd = atof(wd);
    if (o->events < 1) return hn_usage("gradcheck", "--events must be positive");
    if (o->slots < 0) return hn_usage("gradcheck", "--slots must be positive");
    if (strcmp(o->optimizer, "adamw") && strcmp(o->optimizer, "ranger"))
        return hn_usage("gradcheck", "--optimizer is adamw or ranger");
    if (o->steps && !o->reference) return hn_usage("gradcheck", "--steps needs --reference");
    if (strcmp(o->loss, "cross_entropy") && strcmp(o->loss, "bce")) return hn_usage("gradcheck", "--loss is cross_entropy or bce");
    return 0;
}

/* --slots S: the batch as weaver's SequenceTrimmer would leave it at length S with each jet's first S
 * particles kept: the rows (and pairs) of a set past S zeroed, the counts cut to S. */
static void trim_batch(const hn_model_entry *m, hn_infer_buffers *b, int batch, int slots)
{
    for (int i = 0; i < m->ninputs; ++i) {
        const hn_io_desc *d = &m->inputs[i];
        if (!d->is_set || slots >= d->max) continue;
        size_t per = d->is_set == 2 ? (size_t)d->max * d->max * d->width : (size_t)d->max * d->width;
        for (int e = 0; e < batch; ++e) {
            float *x = b->x[i] + per * (size_t)e;
            for (int a = 0; a < d->max; ++a)
                if (d->is_set == 1) {
                    if (a >= slots) memset(x + (size_t)a * d->width, 0, sizeof(float) * (size_t)d->width);
                } else
                    for (int c = 0; c < d->max; ++c)
                        if (a >= slots || c >= slots) memset(x + ((size_t)a * d->max + c) * d->width, 0, sizeof(float) * (size_t)d->width);
            if (d->masked && b->n[i][e] > slots) b->n[i][e] = slots;
        }
    }
}

typedef struct gc_run {
    const hn_train_entry *t;
    hn_infer_buffers buf;
    int64_t *labels;
    int batch;
    hn_train_config cfg;
    float *scratch;             /* a params copy for each evaluation */
} gc_run;

static double step(gc_run *r, const float *params, float *grads)
{
    double loss = NAN;
    memcpy(r->scratch, params, sizeof(float) * r->t->param_floats);
    const float *const *x = (const float *const *)r->buf.x;
    const int32_t *const *n = (const int32_t *const *)r->buf.n;
    int rc = r->t->train_step(r->scratch, grads, x, n, r->labels, NULL, r->batch, &r->cfg, 1, NULL, &loss, r->buf.workspace);
    return rc ? NAN : loss;
}

static int hn_weights_find_prefixed(hn_weights *w, const char *prefix, const char *name)
{
    char full[256];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    return hn_weights_find(w, full) != NULL;
}

/* Reference tensor "<prefix><name>" as floats; NULL when absent. */
static float *ref_tensor(hn_weights *w, const char *prefix, const hn_param_desc *p)
{
    char name[256], err[256];
    snprintf(name, sizeof name, "%s%s", prefix, p->name);
    if (!hn_weights_find(w, name)) return NULL;
    float *v = malloc(sizeof(float) * (p->size ? p->size : 1));
    if (v && hn_weights_copy_f32(w, name, p->ndim, p->shape, v, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        free(v);
        return NULL;
    }
    return v;
}

static double ref_scalar(hn_weights *w, const char *name)
{
    const hn_tensor_info *t = hn_weights_find(w, name);
    float v;
    if (!t || strcmp(t->dtype, "F32") || t->nbytes != sizeof v) return NAN;
    memcpy(&v, t->data, sizeof v);
    return v;
}

/* Central differences at the fd coordinates of largest |g| of each trainable tensor. */
static int check_fd(gc_run *r, float *params, const float *grads, int fd)
{
    float *tmp = malloc(sizeof(float) * r->t->param_floats);
    int bad = 0;
    printf("\nfinite differences (float32, central, h = 1e-2·max(1, |p|)): %d coordinates per tensor\n", fd);
    for (int k = 0; k < r->t->nparams && tmp; ++k) {
        const hn_param_desc *p = &r->t->params[k];
        if (!p->trainable) continue;
        double worst = 0;
        char used[4096] = { 0 };
        for (int s = 0; s < fd && s < (int)p->size; ++s) {
            size_t best = 0;
            float bv = -1;
            for (size_t i = 0; i < p->size && i < sizeof used; ++i)
                if (!used[i] && fabsf(grads[p->offset + i]) > bv) { bv = fabsf(grads[p->offset + i]); best = i; }
            if (best < sizeof used) used[best] = 1;
            float *q = params + p->offset + best, keep = *q, h = 1e-2f * fmaxf(1.0f, fabsf(keep));
            *q = keep + h;
            double lp = step(r, params, tmp);
            *q = keep - h;
            double lm = step(r, params, tmp);
            *q = keep;
            double fdv = (lp - lm) / ((double)(keep + h) - (double)(keep - h));
            double g = grads[p->offset + best], e = fabs(fdv - g) / fmax(fabs(g), 1e-3);
            if (e > worst) worst = e;
        }
        int fail = worst > 5e-2;
        bad |= fail;
        printf("  %-44s worst rel. diff %.2e%s\n", p->name, worst, fail ? "  FAIL (> 5e-2)" : "");
    }
    free(tmp);
    return bad;
}

/* The training forward in eval mode against the shipped inference code on the folded parameters. */
static int check_eval_consistency(gc_run *r, const float *params)
{
    const hn_model_entry *m = r->t->model;
    int C = r->t->nclasses, out = -1;
    for (int k = 0; k < m->noutputs; ++k)
        if (!strcmp(m->outputs[k].name, r->t->logits_output)) out = k;
    float *folded = malloc(sizeof(float) * r->t->param_floats), *grads = calloc(r->t->param_floats, sizeof(float));
    float *train_logits = malloc(sizeof(float) * (size_t)r->batch * C);
    void *ws = malloc(m->workspace_bytes(r->batch));
    int bad = 1;
    if (out >= 0 && folded && grads && train_logits && ws) {
        hn_train_config cfg = r->cfg;
        cfg.training = 0;
        double loss;
        memcpy(r->scratch, params, sizeof(float) * r->t->param_floats);
        const float *const *x = (const float *const *)r->buf.x;
        const int32_t *const *n = (const int32_t *const *)r->buf.n;
        r->t->train_step(r->scratch, grads, x, n, r->labels, NULL, r->batch, &cfg, 1, train_logits, &loss, r->buf.workspace);
        memcpy(folded, params, sizeof(float) * r->t->param_floats);
        struct { const float *params; void *owner; } model = { folded, NULL };   /* NAME_model's layout */
        if (!r->t->fold(folded) && !m->infer(&model, x, n, r->batch, r->buf.y, ws)) {
            double worst = 0, scale = 1e-6;
            for (size_t i = 0; i < (size_t)r->batch * C; ++i) {
                worst = fmax(worst, fabs((double)train_logits[i] - r->buf.y[out][i]));
                scale = fmax(scale, fabs((double)r->buf.y[out][i]));
            }
            bad = !(worst <= 1e-4 * scale);
            printf("\ntraining forward in eval mode vs the inference code: max |Δ%s| %.2e (max |%s| %.3g)%s\n",
                   r->t->logits_output, worst, r->t->logits_output, scale, bad ? "  FAIL (> 1e-4 relative)" : "");
        }
    }
    free(folded);
    free(grads);
    free(train_logits);
    free(ws);
    return bad;
}

static int check_reference(gc_run *r, const float *params, const float *grads, hn_weights *w, double tol, double loss)
{
    int bad = 0;
    float *tmp = calloc(r->t->param_floats, sizeof(float));
    if (tmp) step(r, params, tmp);          /* r->scratch: the parameters after the step (buffers updated) */
    free(tmp);
    double rl = ref_scalar(w, "loss");
    printf("\nagainst the reference: loss %.9g vs %.9g (rel. %.2e)\n", loss, rl, fabs(loss - rl) / fabs(rl));
    if (!(fabs(loss - rl) <= 1e-5 * fabs(rl))) { bad = 1; printf("  FAIL: loss differs by more than 1e-5\n"); }
    /* the float64 autograd gradient when the file has it (grad64.<name>), else the float32 one. A tensor
       whose exact gradient is zero (‖ref‖ ≤ 1e-12 of the largest: a bias before a training-mode
       batchnorm, the key bias of attention) holds only rounding noise; it is judged absolutely,
       ‖g‖ ≤ 1e-6 of the largest tensor norm (float32 sums over ~1e4 terms). Where the file also has
       PyTorch's float32 gradient (grad.<name>) and that one misses tol itself in the same measure
       — a gradient that only rounding or a batchnorm's eps keeps from zero, e.g. the first convolution of
       a one-channel pair input before its batchnorm — the tensor is judged at 10x PyTorch's own error */
    double worst = 0, scale = 0;
    for (int k = 0; k < r->t->nparams; ++k) {
        const hn_param_desc *p = &r->t->params[k];
        if (!p->trainable) continue;
        float *ref = ref_tensor(w, hn_weights_find_prefixed(w, "grad64.", p->name) ? "grad64." : "grad.", p);
        double n2 = 0;
        for (size_t i = 0; ref && i < p->size; ++i) n2 += (double)ref[i] * ref[i];
        scale = fmax(scale, sqrt(n2));
        free(ref);
    }
    for (int k = 0; k < r->t->nparams; ++k) {
        const hn_param_desc *p = &r->t->params[k];
        const char *prefix = !p->trainable ? "bn1." : hn_weights_find_prefixed(w, "grad64.", p->name) ? "grad64." : "grad.";
        float *ref = ref_tensor(w, prefix, p);
        if (!ref) { printf("  %-44s missing in the reference\n", p->name); bad = 1; continue; }
        /* buffers: the value after the step, which train_step left in r->scratch */
        const float *got = p->trainable ? grads + p->offset : r->scratch + p->offset;
        double d = 0, n2 = 0;
        for (size_t i = 0; i < p->size; ++i) {
            d += ((double)got[i] - ref[i]) * ((double)got[i] - ref[i]);
            n2 += (double)ref[i] * ref[i];
        }
        int zero = p->trainable && sqrt(n2) <= 1e-12 * scale;
        double e = zero ? sqrt(d) / (1e-3 * scale) : sqrt(d) / fmax(sqrt(n2), 1e-30);   /* zero: ≤ tol ⇔ ≤ 1e-6·scale */
        double limit = p->trainable ? tol : 1e-5, floor = 0;
        float *ref32 = p->trainable && !strcmp(prefix, "grad64.") ? ref_tensor(w, "grad.", p) : NULL;
        if (ref32) {   /* PyTorch's own float32 error on this tensor, in the same measure */
            double d32 = 0;
            for (size_t i = 0; i < p->size; ++i) d32 += ((double)ref32[i] - ref[i]) * ((double)ref32[i] - ref[i]);
            floor = zero ? sqrt(d32) / (1e-3 * scale) : sqrt(d32) / fmax(sqrt(n2), 1e-30);
            if (floor > limit) limit = 10 * floor;
            free(ref32);
        }
        if (p->trainable && e / limit > worst / tol) worst = e * tol / limit;
        int fail = !(e <= limit);
        bad |= fail;
        printf("  %-44s %s %s %.2e%s", p->name, p->trainable ? "grad" : "bn1 ", zero ? "zero:" : "rel.", e, fail ? "  FAIL" : "");
        if (limit > tol && p->trainable)
            printf("  (float32-noise-dominated: PyTorch's float32 gradient is off by %.2e; tolerance 10x that)", floor);
        printf("\n");
        free(ref);
    }
    printf("worst gradient rel. error %.2e (tolerance %.0e; scaled where a tensor's tolerance is PyTorch's float32 error)\n",
           worst, tol);
    (void)params;
    return bad;
}

static int check_trajectory(gc_run *r, float *params, hn_weights *w, const gc_options *o)
{
    hn_optim opt = !strcmp(o->optimizer, "ranger") ? hn_optim_ranger(o->wd) : hn_optim_adamw(0.9, 0.999, 1e-8, o->wd);
    int np = r->t->nparams, bad = 0;
    hn_param_group *g = calloc((size_t)np, sizeof *g);
    float **state = calloc((size_t)np, sizeof *state);
    float *grads = calloc(r->t->param_floats, sizeof(float));
    static const char *const exclude[] = { "cls_token" };
    for (int k = 0; k < np && g && state && grads; ++k) {
        const hn_param_desc *p = &r->t->params[k];
        g[k] = (hn_param_group){ params + p->offset, grads + p->offset, p->trainable ? p->size : 0, NULL, o->lr,
                                 hn_param_no_decay(p->name, p->ndim, exclude, 1) };
        state[k] = calloc(hn_optim_state_size(&opt, p->size) + 1, sizeof(float));
        g[k].state = state[k];
        if (p->trainable) hn_optim_init(&opt, &g[k]);
    }
    printf("\n%d steps of %s (lr %g, weight decay %g) on the batch:\n", o->steps, o->optimizer, o->lr, o->wd);
    for (int s = 0; s < o->steps && grads; ++s) {
        double loss = step(r, params, grads);
        /* the step's buffers (running statistics) carry over, as in PyTorch */
        for (int k = 0; k < np; ++k)
            if (!r->t->params[k].trainable)
                memcpy(params + r->t->params[k].offset, r->scratch + r->t->params[k].offset, sizeof(float) * r->t->params[k].size);
        char key[64];
        snprintf(key, sizeof key, "loss_%s.%d", o->optimizer, s);
        double rl = ref_scalar(w, key);
        int fail = !(fabs(loss - rl) <= 1e-4 * fabs(rl));
        bad |= fail;
        printf("  step %d loss %.9g vs %.9g%s\n", s, loss, rl, fail ? "  FAIL" : "");
        for (int k = 0; k < np; ++k)
            if (r->t->params[k].trainable && hn_optim_step(&opt, &g[k])) bad = 1;
    }
    /* per tensor ‖p − p_ref‖/‖p_ref‖ over the elements whose exact gradient is not zero: where it is
       (|grad64| ≤ 1e-12 of the largest), float32 rounding noise is all Adam sees and it turns it into
       ±lr steps, in PyTorch as here (tests/train/models/README.md); the same holds for a whole tensor whose
       float32 gradient in PyTorch misses the float64 one by more than the gradient tolerance (one kept from
       zero only by a batchnorm's eps, as check_reference reports), and such tensors are left out too;
       buffers are reported apart */
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%s%d.", o->optimizer, o->steps);
    double gmax = 0;
    for (int k = 0; k < np; ++k) {
        const hn_param_desc *p = &r->t->params[k];
        float *g64 = p->trainable ? ref_tensor(w, "grad64.", p) : NULL;
        for (size_t i = 0; g64 && i < p->size; ++i) gmax = fmax(gmax, fabs((double)g64[i]));
        free(g64);
    }
    double worst = 0, worst_buf = 0;
    long skipped = 0, noisy = 0;
    for (int k = 0; k < np; ++k) {
        const hn_param_desc *p = &r->t->params[k];
        float *ref = ref_tensor(w, prefix, p), *g64 = p->trainable ? ref_tensor(w, "grad64.", p) : NULL;
        float *g32 = g64 ? ref_tensor(w, "grad.", p) : NULL;
        if (!ref) { printf("  %s%s missing in the reference\n", prefix, p->name); bad = 1; free(g64); free(g32); continue; }
        double d = 0, n2 = 0, d32 = 0, n64 = 0;
        for (size_t i = 0; g32 && i < p->size; ++i) {
            d32 += ((double)g32[i] - g64[i]) * ((double)g32[i] - g64[i]);
            n64 += (double)g64[i] * g64[i];
        }
        if (g32 && n64 > 1e-24 * gmax * gmax && sqrt(d32) > o->tol * sqrt(n64)) {
            printf("  %-44s left out: float32-noise-dominated (PyTorch's float32 gradient is off by %.2e)\n", p->name,
                   sqrt(d32 / n64));
            ++noisy;
            free(ref); free(g64); free(g32);
            continue;
        }
        for (size_t i = 0; i < p->size; ++i) {
            if (g64 && fabs((double)g64[i]) <= 1e-12 * gmax) { ++skipped; continue; }
            d += ((double)params[p->offset + i] - ref[i]) * ((double)params[p->offset + i] - ref[i]);
            n2 += (double)ref[i] * ref[i];
        }
        double e = n2 > 0 ? sqrt(d / n2) : sqrt(d);
        if (!p->trainable) { worst_buf = fmax(worst_buf, e); free(ref); continue; }
        worst = fmax(worst, e);
        int fail = !(e <= o->traj_tol);
        bad |= fail;
        if (fail) printf("  %-44s ||p - p_ref||/||p_ref|| %.2e  FAIL\n", p->name, e);
        free(ref);
        free(g64);
        free(g32);
    }
    printf("after %d steps: worst parameter tensor ||p - p_ref||/||p_ref|| = %.2e (tolerance %.0e; %ld elements with an exactly\n"
           "zero gradient and %ld float32-noise-dominated tensors left out), running statistics %.2e\n"
           "(reported only: they follow those elements)\n",
           o->steps, worst, o->traj_tol, skipped, noisy, worst_buf);
    for (int k = 0; k < np && state; ++k) free(state[k]);
    free(state);
    free(g);
    free(grads);
    return bad;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median time of k training steps (forward, loss, backward; no optimiser). */
static void time_steps(gc_run *r, const float *params, float *grads, int k)
{
    double *t = malloc(sizeof(double) * (size_t)k);
    if (!t) return;
    step(r, params, grads);
    for (int i = 0; i < k; ++i) {
        double t0 = now();
        step(r, params, grads);
        t[i] = now() - t0;
    }
    qsort(t, (size_t)k, sizeof *t, by_double);
    printf("\ntraining step (forward + loss + backward), batch %d: median %.2f ms over %d steps, %.0f jets/s\n",
           r->batch, 1e3 * t[k / 2], k, r->batch / t[k / 2]);
    free(t);
}

int hn_cmd_gradcheck(int argc, char **argv)
{
    gc_options o;
    if (parse(argc, argv, &o)) return 2;
    hn_model_build mb;
    hn_loaded_train lt = { 0 };
    gc_run r = { 0 };
    hn_dataset *ds = NULL;
    hn_weights *ref = NULL;
    float *params = NULL, *grads = NULL;
    char err[512];
    int rc = 1;
    if (hn_frontend(&mb, o.spec, NULL) || hn_build_and_open_train(&mb, 1, &lt)) goto done;
    r.t = lt.entry;
    if (o.weights) {
        if (!(params = hn_params_load_raw(&mb.graph, o.weights))) goto done;
    } else if ((params = calloc(r.t->param_floats + 1, sizeof(float)))) {
        hn_init_params(r.t->params, r.t->nparams, params, (uint64_t)o.init_seed);
    } else goto done;
    if (!(ds = hn_dataset_open(o.data, err, sizeof err))) { fprintf(stderr, "%s\n", err); goto done; }
    r.batch = (int)(hn_dataset_events(ds) < o.events ? hn_dataset_events(ds) : o.events);
    if (hn_alloc_buffers(r.t->model, r.batch, &r.buf)) goto done;
    free(r.buf.workspace);
    r.buf.workspace = malloc(r.t->workspace_bytes(r.batch));
    r.labels = calloc((size_t)r.batch, sizeof *r.labels);
    r.scratch = malloc(sizeof(float) * r.t->param_floats);
    grads = calloc(r.t->param_floats, sizeof(float));
    if (!r.buf.workspace || !r.labels || !r.scratch || !grads) { fprintf(stderr, "hepnc: error: out of memory\n"); goto done; }
    /* every byte of the workspace NaN (0xff..): a step that reads what it did not write this step (a
     * gradient before its zeroing, a region it assumes fresh memory leaves zero) shows in every check */
    memset(r.buf.workspace, 0xff, r.t->workspace_bytes(r.batch));
    if (hn_read_inputs(ds, r.t->model, 0, r.batch, &r.buf, err, sizeof err) ||
        hn_dataset_read_labels(ds, 0, r.batch, r.buf.labels, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        goto done;
    }
    for (int b = 0; b < r.batch; ++b) r.labels[b] = r.buf.labels[b];
    int bce = !strcmp(o.loss, "bce");
    if (o.slots) trim_batch(r.t->model, &r.buf, r.batch, o.slots);
    r.cfg = (hn_train_config){ .loss = bce ? HN_LOSS_BCE : HN_LOSS_CROSS_ENTROPY, .label_smoothing = o.smoothing,
                               .bn_momentum = 0.1, .training = 1, .slots = o.slots };
    double loss = step(&r, params, grads);
    if (bce) printf("%s: %d events, BCE with logits against the labels' one-hot %.9g\n", mb.graph.name, r.batch, loss);
    else printf("%s: %d events, cross-entropy (label smoothing %g) %.9g\n", mb.graph.name, r.batch, o.smoothing, loss);
    if (!isfinite(loss)) { fprintf(stderr, "hepnc gradcheck: error: the training step failed\n"); goto done; }
    int bad = check_eval_consistency(&r, params);
    if (o.reference) {
        if (!(ref = hn_weights_open(o.reference, err, sizeof err))) { fprintf(stderr, "%s\n", err); goto done; }
        bad |= check_reference(&r, params, grads, ref, o.tol, loss);
    }
    if (o.fd > 0) bad |= check_fd(&r, params, grads, o.fd);
    if (o.steps > 0) bad |= check_trajectory(&r, params, ref, &o);
    if (o.time_steps > 0) time_steps(&r, params, grads, o.time_steps);
    printf("\n%s\n", bad ? "gradcheck: FAILED" : "gradcheck: passed");
    rc = bad ? 1 : 0;
done:
    if (r.t) hn_free_buffers(r.t->model, &r.buf);
    free(r.labels);
    free(r.scratch);
    free(grads);
    free(params);
    hn_weights_close(ref);
    hn_dataset_close(ds);
    hn_loaded_train_close(&lt);
    hn_model_build_free(&mb);
    return rc;
}
