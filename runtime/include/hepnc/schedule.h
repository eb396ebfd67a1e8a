/* schedule.h — learning-rate schedules as pure functions of (epoch, step), matching PyTorch's
 * schedulers and weaver's train.py. `epoch` is the 0-based epoch being trained (the lr after `epoch`
 * calls of scheduler.step() at the end of epochs); `step` the 0-based global optimiser step (the lr
 * after `step` calls of a per-step scheduler). Definitions: docs/training.md.
 */
#ifndef HEPNC_SCHEDULE_H
#define HEPNC_SCHEDULE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  HN_SCHED_CONSTANT = 0,    /* base_lr (weaver --lr-scheduler none) */
  HN_SCHED_FLAT_DECAY = 1,  /* weaver flat+decay (MultiStepLR over the last max(1, int(0.3·epochs)) epochs) */
  HN_SCHED_COSINE = 2,      /* torch CosineAnnealingLR(T_max = t_max, eta_min), per epoch */
  HN_SCHED_STEP = 3,        /* torch StepLR(step_size, gamma), per epoch */
  HN_SCHED_STEPS_WEAVER = 4,/* weaver "steps": MultiStepLR([round(E/3), 2·round(E/3)], 0.1) */
  HN_SCHED_FLAT_LINEAR = 5, /* weaver flat+linear, per step (LambdaLR, own warm-up) */
  HN_SCHED_FLAT_COS = 6,    /* weaver flat+cos, per step (LambdaLR, own warm-up) */
} hn_sched_kind;

typedef struct {
  hn_sched_kind kind;
  double base_lr;
  int64_t epochs;          /* FLAT_DECAY, STEPS_WEAVER, FLAT_LINEAR, FLAT_COS */
  int64_t steps_per_epoch; /* FLAT_LINEAR, FLAT_COS */
  int64_t t_max;           /* COSINE */
  double eta_min;          /* COSINE */
  int64_t step_size;       /* STEP */
  double gamma;            /* STEP */
  /* Linear warm-up over the first warmup_steps optimiser steps (0: none). For CONSTANT .. STEPS_WEAVER
   * it multiplies the lr by torch LinearLR(start_factor = warmup_start_factor, end_factor 1,
   * total_iters = warmup_steps): f + (1 − f)·min(step, W)/W. For FLAT_LINEAR / FLAT_COS it is weaver's
   * (lr = base·step/W while step < W; warmup_start_factor unused). */
  int64_t warmup_steps;
  double warmup_start_factor;
} hn_schedule;

/* A schedule of the kind with base_lr, everything else zero (no warm-up): set the kind's fields. */
hn_schedule hn_schedule_make(hn_sched_kind kind, double base_lr);

/* The learning rate for optimiser step `step`, taken during epoch `epoch`. NaN for an invalid setting. */
double hn_schedule_lr(const hn_schedule *s, int64_t epoch, int64_t step);

/* The pieces on their own. */
double hn_lr_flat_decay(double base_lr, int64_t epochs, int64_t epoch);
double hn_lr_cosine(double base_lr, double eta_min, int64_t t_max, int64_t epoch);
double hn_lr_step(double base_lr, int64_t step_size, double gamma, int64_t epoch);
double hn_lr_warmup_factor(double start_factor, int64_t warmup_steps, int64_t step);

#ifdef __cplusplus
}
#endif

#endif
