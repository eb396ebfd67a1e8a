/* trainer.c — the training loop (hepnc/trainer.h): epochs of shuffled batches, a train_step each,
 * gradient clipping, one optimiser step per trainable tensor at the schedule's rate, validation through
 * the inference code, log.csv and checkpoints, stops by max_steps or SIGINT at a step boundary.
 *
 * The state that a resumed run needs is exactly: the blob's file tensors, the optimiser state, and the
 * position (epochs done, steps done in the current epoch, global step, the current epoch's partial
 * sums, the best epoch). Everything else is recomputed: the permutation of epoch e is
 * hn_rng_permutation(seed, e), the dropout seed of step k is hn_rng_stream(seed, HN_RNG_STEP, k), the
 * learning rate is hn_schedule_lr(epoch, step). */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hepnc/rng.h"
#include "trainer_internal.h"

static volatile sig_atomic_t stop_requested;

void hn_train_request_stop(void) { stop_requested = 1; }

static void on_sigint(int sig)
{
    (void)sig;
    stop_requested = 1;                 /* SA_RESETHAND: a second SIGINT kills the process */
    static const char msg[] = "\nhepnc: interrupted: saving after this step (Ctrl-C again to abort)\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
}

typedef struct run {
    const hn_train_entry *t;
    const hn_trainer_settings *s;
    hn_schedule sched;
    hn_batcher train, val;
    int have_val;
    float *params, *grads, *logits;
    void *ws;
    hn_opt_states os;
    hn_param_group *groups;
    float **clip_g;
    size_t *clip_n;
    int nclip;
    int64_t *perm, spe;
    int *no_decay;                  /* per tensor, for a device's optimiser */
    size_t state_floats;
    int device_ahead;               /* the device holds parameters newer than params (t->device) */
    hn_ckpt_position pos;
    char last[1100], best[1100], log[1100];
    hn_progress prog;
    hn_train_summary sum;
} run;

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int make_dir(const char *dir, char *err, size_t errlen)
{
    char path[1024];
    snprintf(path, sizeof path, "%s", dir);
    for (char *c = path + 1; *c; ++c) {
        if (*c != '/') continue;
        *c = '\0';
        if (mkdir(path, 0777) && errno != EEXIST) return fail(err, errlen, "%s: cannot create: %s", path, strerror(errno));
        *c = '/';
    }
    if (mkdir(path, 0777) && errno != EEXIST)
        return fail(err, errlen, "%s: cannot create the run directory: %s", path, strerror(errno));
    return 0;
}

static void free_run(run *r)
{
    hn_batcher_close(&r->train);
    hn_batcher_close(&r->val);
    free(r->params);
    free(r->grads);
    free(r->logits);
    free(r->ws);
    free(r->os.state);
    free(r->os.offset);
    free(r->os.size);
    free(r->groups);
    free(r->clip_g);
    free(r->clip_n);
    free(r->perm);
    free(r->no_decay);
}

/* Buffers, parameter groups (one per trainable tensor) and their optimiser state. */
static int alloc_run(run *r, char *err, size_t errlen)
{
    const hn_train_entry *t = r->t;
    const hn_trainer_settings *s = r->s;
    int np = t->nparams;
    r->params = calloc(t->param_floats + 1, sizeof(float));
    r->grads = calloc(t->param_floats + 1, sizeof(float));
    r->logits = malloc(sizeof(float) * (size_t)s->batch * (size_t)t->nclasses);
    r->ws = malloc(t->workspace_bytes(s->batch) + 64);
    r->os.offset = calloc((size_t)np + 1, sizeof(size_t));
    r->os.size = calloc((size_t)np + 1, sizeof(size_t));
    r->groups = calloc((size_t)np + 1, sizeof *r->groups);
    r->clip_g = calloc((size_t)np + 1, sizeof *r->clip_g);
    r->clip_n = calloc((size_t)np + 1, sizeof *r->clip_n);
    r->perm = malloc(sizeof(int64_t) * (size_t)r->train.events);
    r->no_decay = calloc((size_t)np + 1, sizeof(int));
    if (!r->params || !r->grads || !r->logits || !r->ws || !r->os.offset || !r->os.size || !r->groups || !r->clip_g ||
        !r->clip_n || !r->perm || !r->no_decay)
        return fail(err, errlen, "%s: out of memory for training", t->name);
    size_t total = 0;
    for (int k = 0; k < np; ++k) {
        const hn_param_desc *p = &t->params[k];
        if (!p->trainable || !p->size) continue;
        r->os.offset[k] = total;
        r->os.size[k] = hn_optim_state_size(&s->optim, p->size);
        total += r->os.size[k];
    }
    if (!(r->os.state = calloc(total + 1, sizeof(float)))) return fail(err, errlen, "%s: out of memory", t->name);
    r->state_floats = total;
    for (int k = 0; k < np; ++k) {
        const hn_param_desc *p = &t->params[k];
        if (!r->os.size[k]) continue;
        r->groups[k] = (hn_param_group){ r->params + p->offset, r->grads + p->offset, p->size,
                                         r->os.state + r->os.offset[k], 0.0,
                                         hn_param_no_decay(p->name, p->ndim, s->no_decay, (size_t)s->nno_decay) };
        r->no_decay[k] = r->groups[k].no_decay;
        r->clip_g[r->nclip] = r->grads + p->offset;
        r->clip_n[r->nclip++] = p->size;
    }
    return 0;
}

static int start_fresh(run *r, char *err, size_t errlen)
{
    const hn_trainer_settings *s = r->s;
    if (s->init_weights ? hn_train_load_params(r->t, s->init_weights, r->params, err, errlen)
                        : hn_train_init_params(r->t, r->params, s->seed))
        return -1;
    for (int k = 0; k < r->t->nparams; ++k)
        if (r->os.size[k]) hn_optim_init(&s->optim, &r->groups[k]);
    memset(&r->pos, 0, sizeof r->pos);
    r->pos.best_val_loss = INFINITY;
    r->pos.best_val_auc = NAN;
    r->pos.seed = s->seed;
    r->pos.batch = s->batch;
    r->pos.train_events = r->train.events;
    return s->run_dir ? hn_log_start(r->log, -1, err, errlen) : 0;
}

static int resume(run *r, char *err, size_t errlen)
{
    const hn_trainer_settings *s = r->s;
    hn_ckpt_position *p = &r->pos;
    if (!s->run_dir) return fail(err, errlen, "%s: resuming needs a run directory", r->t->name);
    if (hn_ckpt_load(r->last, r->t, r->params, &r->os, &s->optim, p, err, errlen)) return -1;
    char what[200];
    if (p->seed != s->seed) snprintf(what, sizeof what, "seed %llu (this run: %llu)", (unsigned long long)p->seed,
                                     (unsigned long long)s->seed);
    else if (p->train_events != r->train.events)
        snprintf(what, sizeof what, "%lld training events (this data: %lld)", (long long)p->train_events,
                 (long long)r->train.events);
    else if (p->batch != s->batch && p->step_in_epoch)
        snprintf(what, sizeof what, "batch %d in the middle of an epoch (this run: %d)", p->batch, s->batch);
    else
        what[0] = '\0';
    if (what[0]) return fail(err, errlen, "%s: written with %s; resume with the same settings", r->last, what);
    p->batch = s->batch;
    return hn_log_start(r->log, p->epochs_done, err, errlen);
}

/* The parameters and the optimiser state back from the device, when it holds newer ones. */
static int sync_from_device(run *r, char *err, size_t errlen)
{
    if (!r->device_ahead) return 0;
    if (r->t->device->download(r->params, r->os.state, r->state_floats, err, errlen)) return -1;
    r->device_ahead = 0;
    return 0;
}

static int save(run *r, const char *path, char *err, size_t errlen)
{
    if (!r->s->run_dir) return 0;
    if (sync_from_device(r, err, errlen)) return -1;
    return hn_ckpt_save(path, r->t, r->params, &r->os, &r->s->optim, &r->pos, err, errlen);
}

/* The predicted class: the largest logit, or for one logit (BCE) 1 when it is positive. */
static int argmax(const float *z, int C)
{
    if (C == 1) return z[0] > 0.0f;
    int a = 0;
    for (int c = 1; c < C; ++c) a = z[c] > z[a] ? c : a;
    return a;
}

/* The largest valid label: nclasses − 1, or 1 for one logit (BCE's target 0 or 1). */
static int label_max(const hn_train_entry *t) { return t->nclasses == 1 ? 1 : t->nclasses - 1; }

/* One batch: step, clip, optimiser. */
static int train_batch(run *r, int epoch, int n, double *lr_out, double *loss_out, char *err, size_t errlen)
{
    const hn_train_entry *t = r->t;
    const hn_trainer_settings *s = r->s;
    hn_batcher *b = &r->train;
    int64_t first = r->pos.step_in_epoch * s->batch;
    if (hn_batcher_gather(b, r->perm + first, n, err, errlen)) return -1;
    double lr = hn_schedule_lr(&r->sched, epoch, r->pos.step);
    if (!(lr >= 0))
        return fail(err, errlen, "%s: the schedule gives no learning rate (%g): check its settings", t->name, lr);
    hn_train_config cfg = s->loss;
    cfg.training = 1;
    cfg.slots = s->trim && r->pos.step >= 5 ? hn_trim_batch(b, n, s->seed, r->pos.step) : 0;   /* weaver: 5 untrimmed calls */
    double loss = NAN;
    uint64_t seed = hn_rng_stream(s->seed, HN_RNG_STEP, (uint64_t)r->pos.step);
    int rc;
    if (t->device) {            /* step, clipping and optimiser where the parameters live */
        rc = t->device->step((const float *const *)b->x, (const int32_t *const *)b->n, b->labels, b->weights, n, &cfg, seed,
                             r->logits, &loss, &s->optim, lr, r->os.offset, r->os.size, r->no_decay, s->clip_grad, err,
                             errlen);
        if (rc == HN_ERR_LABEL) return fail(err, errlen, "%s: a label is outside 0..%d", b->path, label_max(t));
        if (rc) return -1;
        r->device_ahead = 1;
        if (!isfinite(loss))
            return fail(err, errlen, "%s: the loss is not finite (%g): lower the learning rate or clip the gradients; "
                        "last.safetensors keeps the last good state", t->name, loss);
        goto account;
    }
    rc = t->train_step(r->params, r->grads, (const float *const *)b->x, (const int32_t *const *)b->n, b->labels,
                       b->weights, n, &cfg, seed, r->logits, &loss, r->ws);
    if (rc == HN_ERR_LABEL)
        return fail(err, errlen, "%s: a label is outside 0..%d", b->path, label_max(t));
    if (rc == HN_ERR_DEVICE) return fail(err, errlen, "%s: the device running the training step failed (its message above)", t->name);
    if (rc) return fail(err, errlen, "%s: the training step rejected a batch (code %d: a set count out of range?)",
                        b->path, rc);
    if (!isfinite(loss))
        return fail(err, errlen, "%s: the loss is not finite (%g): lower the learning rate or clip the gradients; "
                    "last.safetensors keeps the last good state", t->name, loss);
    if (s->clip_grad > 0) hn_clip_grad_norm(r->clip_g, r->clip_n, (size_t)r->nclip, s->clip_grad, 2.0);
    for (int k = 0; k < t->nparams; ++k) {
        if (!r->os.size[k]) continue;
        r->groups[k].lr = lr;
        if (hn_optim_step(&s->optim, &r->groups[k]))
            return fail(err, errlen, "%s: invalid optimiser settings (nesterov needs momentum > 0, dampening 0)",
                        t->name);
    }
account:
    r->pos.sum_loss += loss * n;
    r->pos.sum_events += n;
    for (int k = 0; k < n; ++k) r->pos.sum_correct += argmax(r->logits + (size_t)k * t->nclasses, t->nclasses) == b->labels[k];
    *lr_out = lr;
    *loss_out = loss;
    return 0;
}

/* The training steps of one epoch from pos.step_in_epoch. Returns 0 at the epoch's end, 1 when stopped
 * (stop request or max_steps) before it, -1 on error. */
static int train_steps(run *r, int epoch, hn_epoch_record *rec, double *train_time, char *err, size_t errlen)
{
    const hn_trainer_settings *s = r->s;
    int64_t E = r->train.events, done_here = 0, events_here = 0;
    double t0 = hn_now();
    while (r->pos.step_in_epoch < r->spe) {
        int64_t first = r->pos.step_in_epoch * s->batch;
        int n = (int)(E - first < s->batch ? E - first : s->batch);
        double lr = 0, loss = 0;
        if (train_batch(r, epoch, n, &lr, &loss, err, errlen)) return -1;
        ++r->pos.step;
        ++r->pos.step_in_epoch;
        ++done_here;
        events_here += n;
        *train_time = hn_now() - t0;
        hn_train_progress tp = { epoch + 1, s->epochs, r->pos.step, r->pos.step_in_epoch, r->spe, lr, loss,
                                 r->pos.sum_loss / (double)r->pos.sum_events,
                                 (double)r->pos.sum_correct / (double)r->pos.sum_events,
                                 *train_time > 0 ? (double)events_here / *train_time : 0,
                                 *train_time / (double)done_here * (double)(r->spe - r->pos.step_in_epoch) };
        hn_progress_step(&r->prog, &tp);
        if (s->on_step) s->on_step(s->ctx, &tp);
        rec->jets_per_s = tp.jets_per_s;
        int at_max = s->max_steps > 0 && r->pos.step >= s->max_steps;
        if ((stop_requested || at_max) && r->pos.step_in_epoch < r->spe) {
            r->sum.stopped = stop_requested ? 2 : 1;
            return 1;
        }
    }
    return 0;
}

/* Validation, log row, checkpoints. Returns 0, 1 when stopped during validation, -1 on error. */
static int end_epoch(run *r, int epoch, hn_epoch_record *rec, double t_start, char *err, size_t errlen)
{
    hn_eval_metrics m = { 0, NAN, NAN, NAN };
    if (sync_from_device(r, err, errlen)) return -1;
    if (r->have_val) {
        int rc = hn_eval_run(r->t, r->params, &r->val, r->s, &m, &stop_requested, err, errlen);
        if (rc) {
            if (rc == 1) r->sum.stopped = 2;
            return rc;
        }
    }
    hn_ckpt_position *p = &r->pos;
    rec->epoch = epoch + 1;
    rec->step = p->step;
    rec->lr = hn_schedule_lr(&r->sched, epoch, p->step - 1);     /* the epoch's last step (also after a resume) */
    rec->train_loss = p->sum_events ? p->sum_loss / (double)p->sum_events : NAN;
    rec->train_acc = p->sum_events ? (double)p->sum_correct / (double)p->sum_events : NAN;
    rec->val_loss = m.loss;
    rec->val_acc = m.acc;
    rec->val_auc = m.auc;
    rec->seconds = hn_now() - t_start;
    int best = r->have_val && m.loss < p->best_val_loss;
    if (best) {
        p->best_val_loss = m.loss;
        p->best_val_auc = m.auc;
        p->best_epoch = epoch + 1;
    }
    p->epochs_done = epoch + 1;
    p->step_in_epoch = 0;
    p->sum_loss = 0;
    p->sum_correct = p->sum_events = 0;
    if (r->s->run_dir && (hn_log_append(r->log, rec, err, errlen) || save(r, r->last, err, errlen) ||
                          (best && save(r, r->best, err, errlen))))
        return -1;
    hn_progress_epoch(&r->prog, rec, r->s->epochs, best, rec->seconds * (r->s->epochs - epoch - 1));
    if (r->s->on_epoch) r->s->on_epoch(r->s->ctx, rec);
    r->sum.last = *rec;
    return 0;
}

static int check_settings(const hn_train_entry *t, const hn_trainer_settings *s, char *err, size_t errlen)
{
    if (!t || t->abi != HN_TRAIN_ABI) return fail(err, errlen, "%s: not a training entry of ABI %d", t ? t->name : "?", HN_TRAIN_ABI);
    if (s->batch < 1 || s->epochs < 1) return fail(err, errlen, "%s: batch and epochs must be positive", t->name);
    if (t->nclasses < 2 && !(t->nclasses == 1 && s->loss.loss == HN_LOSS_BCE))
        return fail(err, errlen, "%s: the loss needs at least 2 classes (one logit trains with loss bce)", t->name);
    if (t->nclasses > 1 && (s->signal_class < 0 || s->signal_class >= t->nclasses || s->background_class < 0 ||
        s->background_class >= t->nclasses || s->signal_class == s->background_class))
        return fail(err, errlen, "%s: the AUC's signal and background classes must differ and lie below %d", t->name,
                    t->nclasses);
    if (hn_logits_output(t) < 0)
        return fail(err, errlen, "%s: the inference entry has no output '%s'", t->name, t->logits_output ? t->logits_output : "");
    if (s->trim && hn_trim_set(t->model) < 0)
        return fail(err, errlen, "%s: trimming (weaver's SequenceTrimmer) needs a model with exactly one masked set input",
                    t->name);
    return 0;
}

static int setup(run *r, const char *train_path, const char *val_path, char *err, size_t errlen)
{
    const hn_trainer_settings *s = r->s;
    if (s->run_dir) {
        if (make_dir(s->run_dir, err, errlen)) return -1;
        snprintf(r->last, sizeof r->last, "%s/last.safetensors", s->run_dir);
        snprintf(r->best, sizeof r->best, "%s/best.safetensors", s->run_dir);
        snprintf(r->log, sizeof r->log, "%s/log.csv", s->run_dir);
    }
    size_t pre = s->preload_bytes;
    if (hn_batcher_open(&r->train, r->t->model, train_path, s->batch, pre, err, errlen)) return -1;
    if (s->event_weights && hn_batcher_use_weights(&r->train, err, errlen)) return -1;
    int vb = s->val_batch > 0 ? s->val_batch : s->batch;
    if ((r->have_val = val_path != NULL) && hn_batcher_open(&r->val, r->t->model, val_path, vb, pre, err, errlen))
        return -1;
    r->spe = (r->train.events + s->batch - 1) / s->batch;
    r->sched = s->schedule;
    if (!r->sched.epochs) r->sched.epochs = s->epochs;
    if (!r->sched.steps_per_epoch) r->sched.steps_per_epoch = r->spe;
    if (!r->sched.warmup_steps && s->warmup_epochs > 0) r->sched.warmup_steps = llround(s->warmup_epochs * (double)r->spe);
    if (alloc_run(r, err, errlen)) return -1;
    if (s->resume ? resume(r, err, errlen) : start_fresh(r, err, errlen)) return -1;
    return r->t->device ? r->t->device->upload(r->params, r->os.state, r->state_floats, err, errlen) : 0;
}

static int loop(run *r, char *err, size_t errlen)
{
    const hn_trainer_settings *s = r->s;
    if (s->max_steps > 0 && r->pos.step >= s->max_steps) { r->sum.stopped = 1; return 0; }
    for (int epoch = r->pos.epochs_done; epoch < s->epochs; ++epoch) {
        double t0 = hn_now(), train_time = 0;
        hn_epoch_record rec = { 0 };
        hn_rng_permutation(r->perm, r->train.events, s->seed, epoch);
        int rc = train_steps(r, epoch, &rec, &train_time, err, errlen);
        if (!rc) rc = end_epoch(r, epoch, &rec, t0, err, errlen);
        if (rc) return rc < 0 ? -1 : save(r, r->last, err, errlen);
        if (stop_requested) { r->sum.stopped = 2; return 0; }
        if (s->max_steps > 0 && r->pos.step >= s->max_steps) {
            if (epoch + 1 < s->epochs) r->sum.stopped = 1;
            return 0;
        }
    }
    return 0;
}

int hn_train(const hn_train_entry *t, const char *train_path, const char *val_path, const hn_trainer_settings *s,
             hn_train_summary *summary, char *err, size_t errlen)
{
    if (check_settings(t, s, err, errlen)) return -1;
    run r;
    memset(&r, 0, sizeof r);
    r.t = t;
    r.s = s;
    stop_requested = 0;
    struct sigaction old, sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    if (s->catch_sigint) sigaction(SIGINT, &sa, &old);
    hn_progress_init(&r.prog, s->progress);
    int rc = setup(&r, train_path, val_path, err, errlen);
    if (!rc) rc = loop(&r, err, errlen);
    if (s->catch_sigint) sigaction(SIGINT, &old, NULL);
    r.sum.epochs_done = r.pos.epochs_done;
    r.sum.steps = r.pos.step;
    r.sum.best_epoch = r.pos.best_epoch;
    r.sum.best_val_loss = r.pos.best_val_loss;
    r.sum.best_val_auc = r.pos.best_val_auc;
    if (summary) *summary = r.sum;
    free_run(&r);
    if (rc) return -1;
    return r.sum.stopped == 2 ? HN_TRAIN_INTERRUPTED : 0;
}
