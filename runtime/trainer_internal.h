/* trainer_internal.h — the pieces of the training loop (hepnc/trainer.h), one file each:
 *   trainer_data.c      batches of a dataset for a model's inputs (preloaded or read per batch)
 *   trainer_eval.c      validation through the inference path
 *   trainer_ckpt.c      checkpoints: weights + optimiser state + position, atomically
 *   trainer_log.c       log.csv
 *   trainer_progress.c  the progress bar / lines on stderr
 *   trainer_init.c      defaults, initial values, reading weights
 *   trainer_trim.c      weaver's SequenceTrimmer on a training batch
 *   trainer.c           the loop */
#ifndef HN_TRAINER_INTERNAL_H
#define HN_TRAINER_INTERNAL_H

#include <signal.h>
#include <stdio.h>

#include "hepnc/data.h"
#include "hepnc/trainer.h"

#define HN_TRAINER_MAX_INPUTS 16

/* ---- batches ------------------------------------------------------------------------------------ */

typedef struct hn_batcher {
    const hn_model_entry *m;
    hn_dataset *ds;
    char path[1024];
    int64_t events;
    int cap;                                    /* events per batch at most */
    size_t stride[HN_TRAINER_MAX_INPUTS];       /* floats per event of input i */
    int preloaded;
    float *all_x[HN_TRAINER_MAX_INPUTS];        /* preloaded: every event */
    int32_t *all_n[HN_TRAINER_MAX_INPUTS];
    int32_t *all_labels;
    float *all_weights;                         /* preloaded /weights, when used */
    float *x[HN_TRAINER_MAX_INPUTS];            /* the batch: [cap][stride] */
    int32_t *n[HN_TRAINER_MAX_INPUTS];          /* [cap] */
    int32_t *labels32;
    int64_t *labels;                            /* [cap] */
    float *weights;                             /* [cap] event weights (/weights), NULL when not used */
} hn_batcher;

/* Opens path for model m (needs /labels); reads it all into memory when it takes at most preload_bytes. */
int hn_batcher_open(hn_batcher *b, const hn_model_entry *m, const char *path, int cap, size_t preload_bytes,
                    char *err, size_t errlen);
/* Also read /weights into b->weights for every batch (after hn_batcher_open, before the first batch). */
int hn_batcher_use_weights(hn_batcher *b, char *err, size_t errlen);
void hn_batcher_close(hn_batcher *b);
/* The batch becomes events idx[0..count), in that order (count <= cap). */
int hn_batcher_gather(hn_batcher *b, const int64_t *idx, int count, char *err, size_t errlen);
/* The batch becomes events [first, first+count). */
int hn_batcher_range(hn_batcher *b, int64_t first, int count, char *err, size_t errlen);

/* ---- validation --------------------------------------------------------------------------------- */

/* Evaluates params on every event of b (hepnc/trainer.h, hn_train_evaluate). Returns 0, 1 when *stop
 * became non-zero between two batches (nothing in m), or -1 with a message. */
int hn_eval_run(const hn_train_entry *t, const float *params, hn_batcher *b, const hn_trainer_settings *s,
                hn_eval_metrics *m, const volatile sig_atomic_t *stop, char *err, size_t errlen);
int hn_logits_output(const hn_train_entry *t);   /* index of t->logits_output among the model's outputs, or -1 */

/* ---- checkpoints -------------------------------------------------------------------------------- */

typedef struct hn_ckpt_position {
    int epochs_done;                /* finished epochs (training and validation) */
    int64_t step_in_epoch;          /* steps done in epoch epochs_done (0-based) */
    int64_t step;                   /* steps done in the run */
    double sum_loss;                /* the partial epoch: Σ batch loss × batch events */
    int64_t sum_correct, sum_events;
    double best_val_loss, best_val_auc;
    int best_epoch;
    uint64_t seed;
    int batch;
    int64_t train_events;
} hn_ckpt_position;

/* The optimiser state of every tensor: state + offset[k] holds size[k] floats (size 0: not trainable). */
typedef struct hn_opt_states {
    float *state;
    size_t *offset, *size;
} hn_opt_states;

int hn_ckpt_save(const char *path, const hn_train_entry *t, const float *params, const hn_opt_states *os,
                 const hn_optim *o, const hn_ckpt_position *pos, char *err, size_t errlen);
int hn_ckpt_load(const char *path, const hn_train_entry *t, float *params, hn_opt_states *os, const hn_optim *o,
                 hn_ckpt_position *pos, char *err, size_t errlen);

/* ---- log.csv ------------------------------------------------------------------------------------ */

/* Creates path with the header (keep < 0), or keeps its header and the rows of epochs 1..keep. */
int hn_log_start(const char *path, int keep, char *err, size_t errlen);
int hn_log_append(const char *path, const hn_epoch_record *r, char *err, size_t errlen);
/* The header line (without newline). */
extern const char hn_log_header[];

/* ---- progress ----------------------------------------------------------------------------------- */

typedef struct hn_progress {
    int on, tty;
    double last;                    /* time of the last update */
    int64_t last_line_step;         /* plain lines: the step of the last line */
} hn_progress;

void hn_progress_init(hn_progress *p, int on);
void hn_progress_step(hn_progress *p, const hn_train_progress *tp);
void hn_progress_epoch(hn_progress *p, const hn_epoch_record *r, int epochs, int best, double eta_run_s);
void hn_progress_note(hn_progress *p, const char *msg);    /* a line of its own (clears the bar first) */

double hn_now(void);                /* monotonic seconds */

/* ---- trimming (trainer_trim.c) ------------------------------------------------------------------- */

/* The input the trimmer cuts: the model's only masked set (-1: none or several, no trimming). */
int hn_trim_set(const hn_model_entry *m);
/* Trims batch b's n events as weaver's SequenceTrimmer (its numbers from (seed, step)); returns the
 * length the batch stands for (hn_train_config.slots), 0 when nothing was cut. */
int hn_trim_batch(hn_batcher *b, int n, uint64_t seed, int64_t step);

#endif
