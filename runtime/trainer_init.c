/* trainer_init.c — the trainer's defaults, the initial values of a model's tensors (PyTorch's layer
 * defaults, from names and shapes; hepnc/trainer.h states the rule) and reading a weights file into a
 * training blob. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hepnc/rng.h"
#include "hepnc/weights.h"
#include "trainer_internal.h"

void hn_trainer_defaults(hn_trainer_settings *s)
{
    memset(s, 0, sizeof *s);
    s->optim = hn_optim_ranger(0.0);
    s->schedule = hn_schedule_make(HN_SCHED_FLAT_DECAY, 1e-3);
    s->loss.loss = HN_LOSS_CROSS_ENTROPY;
    s->loss.focal_alpha = 0.25;
    s->loss.focal_gamma = 2.0;
    s->loss.bn_momentum = 0.1;
    s->loss.training = 1;
    s->epochs = 20;
    s->batch = 512;
    s->seed = 42;
    s->signal_class = 1;
    s->background_class = 0;
    s->preload_bytes = (size_t)2 << 30;
    s->progress = 1;
    s->catch_sigint = 1;
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && !strcmp(s + n - m, tail);
}

/* fan_in of the rank >= 2 "<prefix>.weight" beside "<prefix>.bias", or 0. */
static double bias_fan_in(const hn_train_entry *t, const char *bias)
{
    char want[320];
    size_t n = strlen(bias) - strlen(".bias");
    if (n + sizeof ".weight" > sizeof want) return 0;
    memcpy(want, bias, n);
    strcpy(want + n, ".weight");
    for (int k = 0; k < t->nparams; ++k) {
        const hn_param_desc *p = &t->params[k];
        if (p->ndim >= 2 && !strcmp(p->name, want) && p->shape[0] > 0) return (double)p->size / (double)p->shape[0];
    }
    return 0;
}

/* N(0, sd²) truncated at ±2 sd (redrawn), Box–Muller. */
static double trunc_normal(uint64_t *st, double sd)
{
    for (;;) {
        double u = hn_rng_uniform(st), v = hn_rng_uniform(st);
        double z = sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v);
        if (fabs(z) <= 2.0) return sd * z;
    }
}

static void fill_uniform(float *x, size_t n, double bound, uint64_t *st)
{
    for (size_t i = 0; i < n; ++i) x[i] = (float)((2.0 * hn_rng_uniform(st) - 1.0) * bound);
}

int hn_train_init_params(const hn_train_entry *t, float *params, uint64_t seed)
{
    memset(params, 0, sizeof(float) * t->param_floats);
    for (int k = 0; k < t->nparams; ++k) {
        const hn_param_desc *p = &t->params[k];
        float *x = params + p->offset;
        uint64_t st = hn_rng_stream(seed, HN_RNG_INIT, (uint64_t)k);
        if (!p->trainable) {
            float v = strstr(p->name, "var") ? 1.0f : 0.0f;
            for (size_t i = 0; i < p->size; ++i) x[i] = v;
        } else if (p->ndim >= 2 && ends_with(p->name, "token")) {
            for (size_t i = 0; i < p->size; ++i) x[i] = (float)trunc_normal(&st, 0.02);
        } else if (p->ndim >= 2) {
            double fan_in = p->shape[0] > 0 ? (double)p->size / (double)p->shape[0] : 1.0;
            fill_uniform(x, p->size, 1.0 / sqrt(fan_in > 0 ? fan_in : 1.0), &st);
        } else if (ends_with(p->name, ".bias")) {
            double fan_in = bias_fan_in(t, p->name);
            if (fan_in > 0) fill_uniform(x, p->size, 1.0 / sqrt(fan_in), &st);
        } else {
            for (size_t i = 0; i < p->size; ++i) x[i] = 1.0f;
        }
    }
    return 0;
}

int hn_train_load_params(const hn_train_entry *t, const char *path, float *params, char *err, size_t errlen)
{
    hn_weights *w = hn_weights_open(path, err, errlen);
    if (!w) return -1;
    int rc = 0;
    for (int k = 0; !rc && k < t->nparams; ++k) {
        const hn_param_desc *p = &t->params[k];
        rc = hn_weights_copy_f32(w, p->name, p->ndim, p->shape, params + p->offset, err, errlen);
    }
    hn_weights_close(w);
    return rc ? -1 : 0;
}
