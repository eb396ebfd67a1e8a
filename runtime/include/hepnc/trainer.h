/* trainer.h — the training loop over a generated model's training entry (hepnc/train_entry.h), so that
 * a host can train a model without the hepnc CLI (`hepnc train` is a thin layer over hn_train).
 *
 * One run: parameters initialised (hn_train_init_params, or a weights file) or resumed from a
 * checkpoint; per epoch the training events are shuffled (hn_rng_permutation(seed, epoch),
 * hepnc/rng.h), cut into batches of `batch` events (the last one may be smaller), and each batch is a
 * train_step (training-mode forward, loss, backward), an optional clip of the gradients' global 2-norm,
 * and one optimiser step of every trainable tensor (one parameter group each; weight decay off per
 * weaver's rule, hn_param_no_decay) at the schedule's learning rate for that step. After each epoch the
 * validation events are evaluated through the INFERENCE path: the file tensors are copied into a fresh
 * blob, entry->fold fills the derived slots and entry->model->infer runs (what ships is what is
 * measured). Files in run_dir (docs/training.md, "Training runs"):
 *   log.csv            one row per epoch: epoch,step,lr,train_loss,train_acc,val_loss,val_acc,val_auc,
 *                      jets_per_s,seconds
 *   last.safetensors   the latest state (every epoch, on a stop by max_steps, on SIGINT)
 *   best.safetensors   the state after the epoch of lowest validation loss
 * A checkpoint is an ordinary weights file (the file tensors, read by NAME_load and `hepnc infer`) plus
 * "__opt__.<name>" tensors (the optimiser state of each trainable tensor, hepnc/optim.h's layout) and
 * __metadata__ keys for the position (epoch, step, the epoch's partial sums as hex floats); both files
 * are written atomically (temporary file, fsync, rename).
 *
 * Determinism: for the same entry, data, settings and seed, every run gives the same bits, and a run
 * resumed from any last.safetensors it wrote (end of an epoch, max_steps or SIGINT mid-epoch) continues
 * exactly as the uninterrupted run: the permutation of an epoch and the dropout seed of a step are pure
 * functions of (seed, epoch) and (seed, step), and the checkpoint holds everything else. The schedule
 * depends on `epochs`: resuming with another epoch count changes the learning rates from there on. */
#ifndef HEPNC_TRAINER_H
#define HEPNC_TRAINER_H

#include <stddef.h>
#include <stdint.h>

#include <hepnc/optim.h>
#include <hepnc/schedule.h>
#include <hepnc/train_entry.h>

#ifdef __cplusplus
extern "C" {
#endif

/* hn_train's return value when it stopped for hn_train_request_stop (SIGINT) after saving last.safetensors. */
#define HN_TRAIN_INTERRUPTED 130

/* What the progress callback sees after every optimiser step. */
typedef struct hn_train_progress {
    int epoch, epochs;              /* 1-based epoch in progress, and the run's count */
    int64_t step;                   /* optimiser steps done in the whole run */
    int64_t step_in_epoch, steps_per_epoch;
    double lr;                      /* the learning rate of this step */
    double loss;                    /* this batch's loss */
    double epoch_loss, epoch_acc;   /* the epoch's running event-weighted mean loss, accuracy */
    double jets_per_s;              /* training events per second in this epoch (this process) */
    double eta_s;                   /* seconds left in this epoch's training steps */
} hn_train_progress;

/* One row of log.csv. val_* are NaN without validation data. */
typedef struct hn_epoch_record {
    int epoch;                      /* 1-based */
    int64_t step;                   /* optimiser steps done after the epoch */
    double lr;                      /* the learning rate of the epoch's last step */
    double train_loss, train_acc;   /* event-weighted means over the epoch's batches (training mode) */
    double val_loss, val_acc, val_auc;
    double jets_per_s;              /* training events per second (training steps only) */
    double seconds;                 /* wall time of the epoch: training and validation */
} hn_epoch_record;

typedef struct hn_trainer_settings {
    hn_optim optim;                 /* hn_optim_ranger(wd), hn_optim_adamw(…), … (hepnc/optim.h) */
    hn_schedule schedule;           /* base_lr is the learning rate; epochs = 0 and steps_per_epoch = 0 are
                                       filled from `epochs` and the data */
    double warmup_epochs;           /* > 0 with schedule.warmup_steps 0: warm up over this many epochs' steps */
    hn_train_config loss;           /* loss, label smoothing, focal α/γ, BN momentum (training is ignored:
                                       steps run in training mode, validation through the inference code) */
    int epochs;                     /* total epochs of the run */
    int batch;                      /* training events per step */
    int val_batch;                  /* validation events per inference call (0: batch) */
    uint64_t seed;                  /* shuffling, dropout, initial values */
    double clip_grad;               /* > 0: clip the gradients' global 2-norm to this (torch clip_grad_norm_) */
    int event_weights;              /* 1: the training loss is the weighted mean with the file's /weights
                                       (Σ w ℓ / Σ w per batch); validation stays unweighted */
    const char *const *no_decay;    /* the model's no_weight_decay() names, besides weaver's 1-d and .bias rule */
    int nno_decay;
    int64_t max_steps;              /* > 0: stop (saving last.safetensors) once this many steps are done */
    int signal_class, background_class;   /* validation AUC: p_s / (p_s + p_b), events labelled s or b */
    const char *run_dir;            /* created if needed; NULL: no files at all */
    int resume;                     /* 1: continue from run_dir/last.safetensors */
    const char *init_weights;       /* start from this weights file (NULL: hn_train_init_params(seed)) */
    size_t preload_bytes;           /* a dataset up to this size is read into memory at the start; larger
                                       ones are read batch by batch (same batches, same results) */
    int progress;                   /* 0 none; 1 a bar on a terminal, plain lines otherwise (stderr) */
    int catch_sigint;               /* 1: SIGINT stops the run after the current step (a second one kills) */
    int trim;                       /* 1: weaver's SequenceTrimmer (ParT's trim=True) on each training batch after the
                                       first five steps: cut to a random quantile of its lengths (trainer_trim.c) */
    void (*on_step)(void *ctx, const hn_train_progress *p);     /* optional, after every step */
    void (*on_epoch)(void *ctx, const hn_epoch_record *r);      /* optional, after every epoch */
    void *ctx;
} hn_trainer_settings;

/* weaver's ParT recipe: Ranger (weight decay 0), flat+decay, lr 1e-3, batch 512, 20 epochs, seed 42,
 * cross-entropy, BN momentum 0.1, AUC of class 1 against class 0, preload up to 2 GiB, progress on,
 * SIGINT caught. */
void hn_trainer_defaults(hn_trainer_settings *s);

typedef struct hn_train_summary {
    int epochs_done;
    int64_t steps;
    int best_epoch;                 /* 1-based; 0 without validation */
    double best_val_loss, best_val_auc;   /* of the best epoch (lowest validation loss) */
    hn_epoch_record last;           /* the last finished epoch (epoch 0 when none finished in this call) */
    int stopped;                    /* 0 all epochs done, 1 max_steps, 2 interrupted */
} hn_train_summary;

/* Trains `t` on train_path, validating on val_path (NULL: no validation, no best.safetensors), both in
 * the layout of docs/data.md with /labels. Returns 0 (finished, or stopped by max_steps),
 * HN_TRAIN_INTERRUPTED after a stop request, or -1 with one line in err. summary may be NULL. */
int hn_train(const hn_train_entry *t, const char *train_path, const char *val_path, const hn_trainer_settings *s,
             hn_train_summary *summary, char *err, size_t errlen);

/* Asks a running hn_train to stop after its current step and save last.safetensors. Async-signal-safe. */
void hn_train_request_stop(void);

/* A fresh blob of t->param_floats floats: the file tensors from hn_init_params(seed) (hepnc/init.h:
 * PyTorch's and weaver's default initialisations by name and shape), the derived slots zero. Returns 0. */
int hn_train_init_params(const hn_train_entry *t, float *params, uint64_t seed);

/* Reads the file tensors of a blob from a weights file or checkpoint (shapes checked; derived slots
 * untouched). Returns 0, or -1 with a message. */
int hn_train_load_params(const hn_train_entry *t, const char *path, float *params, char *err, size_t errlen);

/* Validation metrics of a blob's file tensors on a labelled dataset through the inference path (copy,
 * fold, infer). loss: the settings' loss on the logits output (label smoothing and focal as in
 * training); acc: argmax of the logits; auc: p_s / (p_s + p_b) of softmax(logits) over the events
 * labelled s (signal) or b. */
typedef struct hn_eval_metrics {
    int64_t events;
    double loss, acc, auc;
} hn_eval_metrics;
int hn_train_evaluate(const hn_train_entry *t, const float *params, const char *path, const hn_trainer_settings *s,
                      hn_eval_metrics *m, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
