/* trainer_init.c — the trainer's defaults, a fresh blob (hepnc/init.h's initialisations) and reading a
 * weights file into a training blob. */
#include <stdio.h>
#include <string.h>

#include "hepnc/init.h"
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

int hn_train_init_params(const hn_train_entry *t, float *params, uint64_t seed)
{
    memset(params, 0, sizeof(float) * t->param_floats);
    hn_init_params(t->params, t->nparams, params, seed);
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
