/* trainer_ckpt.c — training checkpoints: one safetensors file that any weights reader accepts.
 *   <name>            the file tensors params[k] (trainable tensors and buffers), F32, their shapes
 *   __opt__.<name>    the optimiser state of trainable tensor <name> (hepnc/optim.h's layout), F32 [n]
 *   __metadata__      format, model, spec_hash, optimizer (kind and Lookahead k: the state layout),
 *                     epochs_done, step_in_epoch, step, the partial epoch's sums, the best epoch so far,
 *                     seed, batch, train_events; doubles as C99 hex floats ("%a"), so they come back exact.
 * Readers that ask for tensors by name (NAME_load, hepnc infer) never see the extra tensors. Written by
 * hn_safetensors_write_meta: temporary file, fsync, rename. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hepnc/weights.h"
#include "trainer_internal.h"

#define CKPT_FORMAT "hepnc-train-checkpoint/1"
#define OPT_PREFIX "__opt__."

enum { NMETA = 17 };

static void optimizer_text(const hn_optim *o, char *buf, size_t n)
{
    snprintf(buf, n, "kind=%d lookahead_k=%d momentum_buffer=%d", (int)o->kind, o->lookahead_k,
             o->kind == HN_OPT_SGD && o->momentum != 0.0);
}

int hn_ckpt_save(const char *path, const hn_train_entry *t, const float *params, const hn_opt_states *os,
                 const hn_optim *o, const hn_ckpt_position *pos, char *err, size_t errlen)
{
    int np = t->nparams, n = 0;
    hn_tensor_out *tens = calloc((size_t)(2 * np + 1), sizeof *tens);
    char (*names)[320] = calloc((size_t)np + 1, sizeof *names);
    if (!tens || !names) {
        free(tens);
        free(names);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    for (int k = 0; k < np; ++k) {
        const hn_param_desc *p = &t->params[k];
        hn_tensor_out *x = &tens[n++];
        x->name = p->name;
        x->ndim = p->ndim;
        for (int d = 0; d < p->ndim; ++d) x->shape[d] = p->shape[d];
        x->data = params + p->offset;
    }
    for (int k = 0; k < np; ++k) {
        if (!os->size[k]) continue;
        snprintf(names[k], sizeof names[k], OPT_PREFIX "%s", t->params[k].name);
        hn_tensor_out *x = &tens[n++];
        x->name = names[k];
        x->ndim = 1;
        x->shape[0] = (int64_t)os->size[k];
        x->data = os->state + os->offset[k];
    }
    char v[NMETA][96];
    const char *keys[NMETA] = { "format", "model", "spec_hash", "optimizer", "epochs_done", "step_in_epoch", "step",
                                "epoch_loss_sum", "epoch_correct", "epoch_events", "best_val_loss", "best_val_auc",
                                "best_epoch", "seed", "batch", "train_events", "note" };
    const char *vals[NMETA];
    snprintf(v[0], sizeof v[0], "%s", CKPT_FORMAT);
    snprintf(v[1], sizeof v[1], "%s", t->name ? t->name : "");
    snprintf(v[2], sizeof v[2], "%s", t->spec_hash ? t->spec_hash : "");
    optimizer_text(o, v[3], sizeof v[3]);
    snprintf(v[4], sizeof v[4], "%d", pos->epochs_done);
    snprintf(v[5], sizeof v[5], "%" PRId64, pos->step_in_epoch);
    snprintf(v[6], sizeof v[6], "%" PRId64, pos->step);
    snprintf(v[7], sizeof v[7], "%a", pos->sum_loss);
    snprintf(v[8], sizeof v[8], "%" PRId64, pos->sum_correct);
    snprintf(v[9], sizeof v[9], "%" PRId64, pos->sum_events);
    snprintf(v[10], sizeof v[10], "%a", pos->best_val_loss);
    snprintf(v[11], sizeof v[11], "%a", pos->best_val_auc);
    snprintf(v[12], sizeof v[12], "%d", pos->best_epoch);
    snprintf(v[13], sizeof v[13], "%" PRIu64, pos->seed);
    snprintf(v[14], sizeof v[14], "%d", pos->batch);
    snprintf(v[15], sizeof v[15], "%" PRId64, pos->train_events);
    snprintf(v[16], sizeof v[16], "hepnc train: weights + __opt__.* optimiser state; resume with --resume");
    for (int i = 0; i < NMETA; ++i) vals[i] = v[i];
    int rc = hn_safetensors_write_meta(path, n, tens, NMETA, keys, vals, err, errlen);
    free(tens);
    free(names);
    return rc;
}

static const char *meta(const hn_weights *w, const char *key, char *err, size_t errlen)
{
    const char *v = hn_weights_metadata(w, key);
    if (!v) snprintf(err, errlen, "%s: not a hepnc training checkpoint (no metadata '%s')", hn_weights_path(w), key);
    return v;
}

static int read_position(const hn_weights *w, hn_ckpt_position *pos, char *err, size_t errlen)
{
    const char *k[] = { "epochs_done", "step_in_epoch", "step", "epoch_loss_sum", "epoch_correct", "epoch_events",
                        "best_val_loss", "best_val_auc", "best_epoch", "seed", "batch", "train_events" };
    const char *v[12];
    for (int i = 0; i < 12; ++i)
        if (!(v[i] = meta(w, k[i], err, errlen))) return -1;
    pos->epochs_done = atoi(v[0]);
    pos->step_in_epoch = strtoll(v[1], NULL, 10);
    pos->step = strtoll(v[2], NULL, 10);
    pos->sum_loss = strtod(v[3], NULL);
    pos->sum_correct = strtoll(v[4], NULL, 10);
    pos->sum_events = strtoll(v[5], NULL, 10);
    pos->best_val_loss = strtod(v[6], NULL);
    pos->best_val_auc = strtod(v[7], NULL);
    pos->best_epoch = atoi(v[8]);
    pos->seed = strtoull(v[9], NULL, 10);
    pos->batch = atoi(v[10]);
    pos->train_events = strtoll(v[11], NULL, 10);
    return 0;
}

static int check_identity(const hn_weights *w, const hn_train_entry *t, const hn_optim *o, char *err, size_t errlen)
{
    const char *path = hn_weights_path(w), *f, *h, *opt;
    if (!(f = meta(w, "format", err, errlen)) || !(h = meta(w, "spec_hash", err, errlen)) ||
        !(opt = meta(w, "optimizer", err, errlen)))
        return -1;
    if (strcmp(f, CKPT_FORMAT)) {
        snprintf(err, errlen, "%s: checkpoint format '%s', this hepnc reads '%s'", path, f, CKPT_FORMAT);
        return -1;
    }
    if (t->spec_hash && strcmp(h, t->spec_hash)) {
        snprintf(err, errlen, "%s: written for spec hash %s, the model has %s (another spec)", path, h, t->spec_hash);
        return -1;
    }
    char mine[96];
    optimizer_text(o, mine, sizeof mine);
    if (strcmp(opt, mine)) {
        snprintf(err, errlen, "%s: written with optimizer state '%s', the settings give '%s' (resume with the same "
                 "optimizer)", path, opt, mine);
        return -1;
    }
    return 0;
}

int hn_ckpt_load(const char *path, const hn_train_entry *t, float *params, hn_opt_states *os, const hn_optim *o,
                 hn_ckpt_position *pos, char *err, size_t errlen)
{
    hn_weights *w = hn_weights_open(path, err, errlen);
    if (!w) return -1;
    int rc = check_identity(w, t, o, err, errlen) || read_position(w, pos, err, errlen) ? -1 : 0;
    for (int k = 0; !rc && k < t->nparams; ++k) {
        const hn_param_desc *p = &t->params[k];
        rc = hn_weights_copy_f32(w, p->name, p->ndim, p->shape, params + p->offset, err, errlen);
        if (rc || !os->size[k]) continue;
        char name[320];
        snprintf(name, sizeof name, OPT_PREFIX "%s", p->name);
        int64_t n = (int64_t)os->size[k];
        rc = hn_weights_copy_f32(w, name, 1, &n, os->state + os->offset[k], err, errlen);
    }
    hn_weights_close(w);
    return rc;
}
