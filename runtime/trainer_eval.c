/* trainer_eval.c — validation through the inference path: the file tensors are copied into a fresh
 * blob, entry->fold fills its derived slots (what NAME_load does after reading a file) and
 * entry->model->infer evaluates it, so the numbers are those of the code that ships.
 *
 * model->infer takes `const void *model`, which the generated code reads as its NAME_model struct
 * (compiler/emit_c.c, emit_header): { const float *params; void *owner; }. The struct below has that
 * layout; owner is NULL (nothing to free), as for embedded weights. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hepnc/loss.h"
#include "hepnc/metrics.h"
#include "trainer_internal.h"

typedef struct generated_model {        /* NAME_model of the generated header */
    const float *params;
    void *owner;
} generated_model;

int hn_logits_output(const hn_train_entry *t)
{
    for (int k = 0; k < t->model->noutputs; ++k)
        if (t->logits_output && !strcmp(t->model->outputs[k].name, t->logits_output)) return k;
    return -1;
}

/* The batch loss of the settings' loss (mean over the batch); NaN for a label out of range. */
static double batch_loss(const hn_trainer_settings *s, const float *logits, const int64_t *labels, int n, int C)
{
    if (s->loss.loss == HN_LOSS_FOCAL)
        return hn_loss_focal(logits, labels, NULL, (size_t)n, (size_t)C, s->loss.focal_alpha, NULL, s->loss.focal_gamma,
                             NULL);
    if (s->loss.loss == HN_LOSS_BCE) {
        float *targets = malloc(sizeof(float) * (size_t)n * (size_t)C);
        if (!targets) return NAN;
        hn_bce_targets(labels, (size_t)n, (size_t)C, targets);
        double loss = hn_loss_bce_logits(logits, targets, NULL, (size_t)n, (size_t)C, NULL);
        free(targets);
        return loss;
    }
    return hn_loss_cross_entropy(logits, labels, NULL, (size_t)n, (size_t)C, s->loss.label_smoothing, NULL);
}

typedef struct eval_scratch {
    float *blob, *y[HN_TRAINER_MAX_INPUTS], *disc;
    int8_t *sig;
    void *ws;
} eval_scratch;

static void free_scratch(eval_scratch *x)
{
    free(x->blob);
    for (int o = 0; o < HN_TRAINER_MAX_INPUTS; ++o) free(x->y[o]);
    free(x->disc);
    free(x->sig);
    free(x->ws);
}

static int alloc_scratch(const hn_train_entry *t, const hn_batcher *b, eval_scratch *x)
{
    memset(x, 0, sizeof *x);
    const hn_model_entry *m = t->model;
    if (m->noutputs > HN_TRAINER_MAX_INPUTS) return -1;
    x->blob = malloc(sizeof(float) * (t->param_floats + 1));
    x->disc = malloc(sizeof(float) * (size_t)b->events);
    x->sig = malloc((size_t)b->events);
    x->ws = malloc(m->workspace_bytes(b->cap) + 64);
    int ok = x->blob && x->disc && x->sig && x->ws;
    for (int o = 0; o < m->noutputs && ok; ++o)
        ok = (x->y[o] = malloc(sizeof(float) * (size_t)b->cap * (size_t)m->outputs[o].width + 1)) != NULL;
    return ok ? 0 : -1;
}

int hn_eval_run(const hn_train_entry *t, const float *params, hn_batcher *b, const hn_trainer_settings *s,
                hn_eval_metrics *m, const volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    const hn_model_entry *me = t->model;
    int out = hn_logits_output(t), C = t->nclasses;
    if (out < 0 || me->outputs[out].width != C) {
        snprintf(err, errlen, "%s: the model has no output '%s' of width %d (the training entry's logits)", me->name,
                 t->logits_output ? t->logits_output : "(null)", C);
        return -1;
    }
    if (C > 1 && (s->signal_class < 0 || s->signal_class >= C || s->background_class < 0 || s->background_class >= C ||
                  s->signal_class == s->background_class)) {
        snprintf(err, errlen, "%s: the AUC classes %d (signal) and %d (background) must differ and lie in 0..%d",
                 me->name, s->signal_class, s->background_class, C - 1);
        return -1;
    }
    eval_scratch x;
    if (alloc_scratch(t, b, &x)) {
        free_scratch(&x);
        snprintf(err, errlen, "%s: out of memory for validation", b->path);
        return -1;
    }
    int rc = 0;
    memcpy(x.blob, params, sizeof(float) * t->param_floats);
    if (t->fold(x.blob)) {
        snprintf(err, errlen, "%s: folding the parameters failed (out of memory?)", me->name);
        rc = -1;
    }
    generated_model model = { x.blob, NULL };
    double loss_sum = 0;
    int64_t correct = 0;
    for (int64_t first = 0; !rc && first < b->events; first += b->cap) {
        if (stop && *stop) { rc = 1; break; }
        int n = (int)(b->events - first < b->cap ? b->events - first : b->cap);
        if (hn_batcher_range(b, first, n, err, errlen)) { rc = -1; break; }
        if (me->infer(&model, (const float *const *)b->x, (const int32_t *const *)b->n, n, x.y, x.ws)) {
            snprintf(err, errlen, "%s: the model rejected events %lld.. (a set count out of range)", b->path,
                     (long long)first);
            rc = -1;
            break;
        }
        const float *z = x.y[out];
        double l = batch_loss(s, z, b->labels, n, C);
        for (int k = 0; C == 1 && k < n; ++k)
            if (b->labels[k] != 0 && b->labels[k] != 1) l = NAN;     /* one logit: BCE's targets 0 and 1 */
        if (isnan(l)) {
            snprintf(err, errlen, "%s: a label of events %lld..%lld is outside 0..%d", b->path, (long long)first,
                     (long long)(first + n - 1), C == 1 ? 1 : C - 1);
            rc = -1;
            break;
        }
        loss_sum += l * n;
        for (int k = 0; k < n; ++k) {
            const float *r = z + (size_t)k * C;
            if (C == 1) {               /* one logit: P(label 1) = sigmoid(z), label 1 is the signal */
                correct += (r[0] > 0.0f) == (b->labels[k] == 1);
                x.disc[first + k] = (float)(1.0 / (1.0 + exp(-(double)r[0])));
                x.sig[first + k] = (int8_t)(b->labels[k] == 1);
                continue;
            }
            int arg = 0;
            for (int c = 1; c < C; ++c) arg = r[c] > r[arg] ? c : arg;
            correct += arg == b->labels[k];
            int64_t e = first + k;
            /* p_s / (p_s + p_b) of the softmax = sigmoid(z_s - z_b) */
            x.disc[e] = (float)(1.0 / (1.0 + exp((double)r[s->background_class] - (double)r[s->signal_class])));
            x.sig[e] = b->labels[k] == s->signal_class ? 1 : b->labels[k] == s->background_class ? 0 : -1;
        }
    }
    if (!rc) {
        m->events = b->events;
        m->loss = loss_sum / (double)b->events;
        m->acc = (double)correct / (double)b->events;
        m->auc = hn_auc(x.disc, x.sig, b->events);
    }
    free_scratch(&x);
    return rc;
}

int hn_train_evaluate(const hn_train_entry *t, const float *params, const char *path, const hn_trainer_settings *s,
                      hn_eval_metrics *m, char *err, size_t errlen)
{
    hn_batcher b;
    int cap = s->val_batch > 0 ? s->val_batch : s->batch > 0 ? s->batch : 256;
    int rc = hn_batcher_open(&b, t->model, path, cap, 0, err, errlen);
    if (!rc) rc = hn_eval_run(t, params, &b, s, m, NULL, err, errlen);
    hn_batcher_close(&b);
    return rc;
}
