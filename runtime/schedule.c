/* schedule.c — learning-rate schedules (hepnc/schedule.h), closed forms of torch's schedulers and of
 * weaver/train.py::optim. Definitions: docs/training.md. */
#include "hepnc/schedule.h"

#include <math.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

hn_schedule hn_schedule_make(hn_sched_kind kind, double base_lr) {
  hn_schedule s;
  memset(&s, 0, sizeof s);
  s.kind = kind;
  s.base_lr = base_lr;
  return s;
}

/* weaver: n = max(1, int(E·0.3)); milestones E−n … E−1; gamma = 0.01^(1/n); MultiStepLR. */
double hn_lr_flat_decay(double base_lr, int64_t epochs, int64_t epoch) {
  if (epochs < 1 || epoch < 0) return NAN;
  int64_t n = (int64_t)((double)epochs * 0.3);
  if (n < 1) n = 1;
  double gamma = pow(0.01, 1.0 / (double)n);
  int64_t k = epoch - (epochs - n) + 1; /* milestones passed */
  if (k < 0) k = 0;
  if (k > n) k = n;
  return base_lr * pow(gamma, (double)k);
}

double hn_lr_cosine(double base_lr, double eta_min, int64_t t_max, int64_t epoch) {
  if (t_max < 1 || epoch < 0) return NAN;
  return eta_min + (base_lr - eta_min) * (1.0 + cos(M_PI * (double)epoch / (double)t_max)) / 2.0;
}

double hn_lr_step(double base_lr, int64_t step_size, double gamma, int64_t epoch) {
  if (step_size < 1 || epoch < 0) return NAN;
  return base_lr * pow(gamma, (double)(epoch / step_size));
}

double hn_lr_warmup_factor(double start_factor, int64_t warmup_steps, int64_t step) {
  if (warmup_steps <= 0) return 1.0;
  if (step < 0) return NAN;
  int64_t s = step < warmup_steps ? step : warmup_steps;
  return start_factor + (1.0 - start_factor) * (double)s / (double)warmup_steps;
}

/* weaver/train.py lr_fn for flat+linear and flat+cos. */
static double weaver_flat_factor(int cosine, int64_t epochs, int64_t spe, int64_t warmup, int64_t step) {
  if (epochs < 1 || spe < 1 || step < 0) return NAN;
  double total = (double)epochs * (double)spe;
  double flat = total * 0.7 - 1.0, st = (double)step;
  if (st > total) st = total; /* weaver raises past the end; hold the last value */
  if (st < (double)warmup) return st / (double)warmup;
  if (st <= flat) return 1.0;
  double pct = (st - flat) / (total - flat);
  double f = cosine ? 0.5 * (cos(M_PI * pct) + 1.0) : 1.0 - pct;
  return f > 0.001 ? f : 0.001;
}

double hn_schedule_lr(const hn_schedule *s, int64_t epoch, int64_t step) {
  double lr;
  switch (s->kind) {
  case HN_SCHED_CONSTANT: lr = s->base_lr; break;
  case HN_SCHED_FLAT_DECAY: lr = hn_lr_flat_decay(s->base_lr, s->epochs, epoch); break;
  case HN_SCHED_COSINE: lr = hn_lr_cosine(s->base_lr, s->eta_min, s->t_max, epoch); break;
  case HN_SCHED_STEP: lr = hn_lr_step(s->base_lr, s->step_size, s->gamma, epoch); break;
  case HN_SCHED_STEPS_WEAVER: {
    if (s->epochs < 1 || epoch < 0) return NAN;
    int64_t m = (int64_t)llround((double)s->epochs / 3.0); /* E/3 is never a tie */
    lr = s->base_lr * pow(0.1, (double)((epoch >= m) + (epoch >= 2 * m)));
    break;
  }
  case HN_SCHED_FLAT_LINEAR:
  case HN_SCHED_FLAT_COS:
    return s->base_lr * weaver_flat_factor(s->kind == HN_SCHED_FLAT_COS, s->epochs, s->steps_per_epoch,
                                           s->warmup_steps, step);
  default: return NAN;
  }
  return lr * hn_lr_warmup_factor(s->warmup_start_factor, s->warmup_steps, step);
}
