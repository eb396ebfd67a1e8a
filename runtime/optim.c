/* optim.c — optimisers (hepnc/optim.h). Each update repeats torch's float32 tensor operations in the
 * same order with the same roundings (Python scalars are doubles, cast to float where ATen casts them),
 * so trajectories agree with PyTorch to a few ulps. Definitions: docs/training.md. */
#include "hepnc/optim.h"

#include <math.h>
#include <string.h>

#define HN_OPT_HEADER 4
#define TWO24 16777216.0

/* x + a·y as ATen's add kernel with alpha (tensor.add_(y, alpha=a)) computes it: vec::fmadd, fused. */
#ifndef HN_OPT_NO_FMA
#define AXPY(a, y, x) fmaf((a), (y), (x))
#else
#define AXPY(a, y, x) ((x) + (a) * (y))
#endif

static int64_t get_count(const float *s) { return (int64_t)s[0] * (int64_t)TWO24 + (int64_t)s[1]; }
static void set_count(float *s, int64_t v) {
  s[0] = (float)(v / (int64_t)TWO24);
  s[1] = (float)(v % (int64_t)TWO24);
}

static hn_optim base(hn_opt_kind kind) {
  hn_optim o;
  memset(&o, 0, sizeof o);
  o.kind = kind;
  o.beta1 = 0.9;
  o.beta2 = 0.999;
  o.eps = 1e-8;
  o.degenerated_to_sgd = 1;
  o.lookahead_alpha = 0.5;
  return o;
}

hn_optim hn_optim_sgd(double momentum, double dampening, int nesterov, double weight_decay) {
  hn_optim o = base(HN_OPT_SGD);
  o.momentum = momentum;
  o.dampening = dampening;
  o.nesterov = nesterov;
  o.weight_decay = weight_decay;
  return o;
}
static hn_optim adam_like(hn_opt_kind k, double b1, double b2, double eps, double wd) {
  hn_optim o = base(k);
  o.beta1 = b1;
  o.beta2 = b2;
  o.eps = eps;
  o.weight_decay = wd;
  return o;
}
hn_optim hn_optim_adam(double b1, double b2, double eps, double wd) { return adam_like(HN_OPT_ADAM, b1, b2, eps, wd); }
hn_optim hn_optim_adamw(double b1, double b2, double eps, double wd) { return adam_like(HN_OPT_ADAMW, b1, b2, eps, wd); }
hn_optim hn_optim_radam(double b1, double b2, double eps, double wd) { return adam_like(HN_OPT_RADAM, b1, b2, eps, wd); }
hn_optim hn_optim_radam_weaver(double b1, double b2, double eps, double wd, int degenerated_to_sgd) {
  hn_optim o = adam_like(HN_OPT_RADAM_WEAVER, b1, b2, eps, wd);
  o.degenerated_to_sgd = degenerated_to_sgd;
  return o;
}
hn_optim hn_optim_lookahead(hn_optim o, int k, double alpha) {
  o.lookahead_k = k;
  o.lookahead_alpha = alpha;
  return o;
}
hn_optim hn_optim_ranger(double weight_decay) {
  return hn_optim_lookahead(hn_optim_radam_weaver(0.95, 0.999, 1e-5, weight_decay, 1), 6, 0.5);
}

static int has_moments(const hn_optim *o) { return o->kind != HN_OPT_SGD; }
static int has_momentum_buf(const hn_optim *o) { return o->kind == HN_OPT_SGD && o->momentum != 0.0; }

size_t hn_optim_state_size(const hn_optim *o, size_t n) {
  size_t s = HN_OPT_HEADER;
  if (has_momentum_buf(o)) s += n;
  if (has_moments(o)) s += 2 * n;
  if (o->lookahead_k > 0) s += n;
  return s;
}

static float *slow_of(const hn_optim *o, const hn_param_group *g) {
  return g->state + hn_optim_state_size(o, g->n) - g->n;
}

void hn_optim_init(const hn_optim *o, const hn_param_group *g) {
  memset(g->state, 0, hn_optim_state_size(o, g->n) * sizeof(float));
  if (o->lookahead_k > 0) memcpy(slow_of(o, g), g->param, g->n * sizeof(float));
}

int64_t hn_optim_step_count(const float *state) { return get_count(state); }

void hn_optim_load_slow(const hn_optim *o, const hn_param_group *g) {
  if (o->lookahead_k > 0) memcpy(g->param, slow_of(o, g), g->n * sizeof(float));
}

/* torch.optim.SGD, _single_tensor_sgd. */
static void step_sgd(const hn_optim *o, const hn_param_group *g, double wd, int64_t step) {
  float *p = g->param, *buf = g->state + HN_OPT_HEADER;
  const float *gr = g->grad;
  const float fwd = (float)wd, fmom = (float)o->momentum, fdamp1 = (float)(1.0 - o->dampening);
  const float fnlr = (float)(-g->lr);
  for (size_t i = 0; i < g->n; i++) {
    float d = gr[i];
    if (wd != 0.0) d = AXPY(fwd, p[i], d);
    if (o->momentum != 0.0) {
      float b = step == 0 ? d : AXPY(fdamp1, d, buf[i] * fmom); /* first step: buf = clone(d_p) */
      buf[i] = b;
      d = o->nesterov ? AXPY(fmom, b, d) : b;
    }
    p[i] = AXPY(fnlr, d, p[i]);
  }
}

/* m ← β1·m + (1−β1)·g ; v ← β2·v + (1−β2)·g·g (exp_avg.mul_(β1).add_(g, 1−β1), addcmul_). */
static inline void moments(float *m, float *v, float gi, float fb1, float f1b1, float fb2, float f1b2) {
  float mm = *m * fb1;
  *m = AXPY(f1b1, gi, mm);
  float vv = *v * fb2;
  *v = vv + f1b2 * gi * gi;
}

/* torch.optim.Adam / AdamW (_single_tensor_adam / _single_tensor_adamw, amsgrad off). */
static void step_adam(const hn_optim *o, const hn_param_group *g, double wd, int64_t step, int decoupled) {
  float *p = g->param, *m = g->state + HN_OPT_HEADER, *v = m + g->n;
  const float *gr = g->grad;
  double t = (double)step;
  double bc1 = 1.0 - pow(o->beta1, t), bc2 = 1.0 - pow(o->beta2, t);
  double step_size = g->lr / bc1, bc2s = sqrt(bc2);
  const float fb1 = (float)o->beta1, f1b1 = (float)(1.0 - o->beta1), fb2 = (float)o->beta2,
              f1b2 = (float)(1.0 - o->beta2), fbc2s = (float)bc2s, feps = (float)o->eps, fss = (float)(-step_size),
              fwd = (float)wd, fdec = (float)(1.0 - g->lr * wd);
  for (size_t i = 0; i < g->n; i++) {
    float gi = gr[i];
    if (decoupled) {
      if (wd != 0.0) p[i] = p[i] * fdec;
    } else if (wd != 0.0) {
      gi = AXPY(fwd, p[i], gi);
    }
    moments(&m[i], &v[i], gi, fb1, f1b1, fb2, f1b2);
    float denom = sqrtf(v[i]) / fbc2s + feps;
    p[i] = p[i] + fss * m[i] / denom;
  }
}

/* torch.optim.RAdam 1.13 (_single_tensor_radam). */
static void step_radam(const hn_optim *o, const hn_param_group *g, double wd, int64_t step) {
  float *p = g->param, *m = g->state + HN_OPT_HEADER, *v = m + g->n;
  const float *gr = g->grad;
  double t = (double)step, b2t = pow(o->beta2, t);
  double bc1 = 1.0 - pow(o->beta1, t), bc2 = 1.0 - b2t;
  double rho_inf = 2.0 / (1.0 - o->beta2) - 1.0;
  double rho_t = rho_inf - 2.0 * t * b2t / bc2;
  int rect_on = rho_t > 5.0;
  double rect = rect_on ? sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) : 0.0;
  const float fb1 = (float)o->beta1, f1b1 = (float)(1.0 - o->beta1), fb2 = (float)o->beta2,
              f1b2 = (float)(1.0 - o->beta2), fbc1 = (float)bc1, feps = (float)o->eps, flr = (float)g->lr,
              frect = (float)rect, fsbc2 = (float)sqrt(bc2), fwd = (float)wd;
  for (size_t i = 0; i < g->n; i++) {
    float gi = gr[i];
    if (wd != 0.0) gi = AXPY(fwd, p[i], gi);
    moments(&m[i], &v[i], gi, fb1, f1b1, fb2, f1b2);
    float bcm = m[i] / fbc1;
    if (rect_on) {
      float adaptive = (1.0f / (sqrtf(v[i]) + feps)) * fsbc2; /* python float / tensor = reciprocal · scalar */
      float upd = bcm * flr * adaptive * frect;
      p[i] = p[i] - upd;
    } else {
      p[i] = p[i] - bcm * flr;
    }
  }
}

/* weaver-core 0.4.17 RAdam (weaver/utils/nn/optimizer/radam.py). */
static void step_radam_weaver(const hn_optim *o, const hn_param_group *g, double wd, int64_t step) {
  float *p = g->param, *m = g->state + HN_OPT_HEADER, *v = m + g->n;
  const float *gr = g->grad;
  double b1 = o->beta1, b2 = o->beta2, t = (double)step;
  double b2t = pow(b2, t);
  double n_sma_max = 2.0 / (1.0 - b2) - 1.0;
  double n_sma = n_sma_max - 2.0 * t * b2t / (1.0 - b2t);
  double step_size;
  if (n_sma >= 5.0)
    step_size = sqrt((1.0 - b2t) * (n_sma - 4.0) / (n_sma_max - 4.0) * (n_sma - 2.0) / n_sma * n_sma_max /
                     (n_sma_max - 2.0)) /
                (1.0 - pow(b1, t));
  else if (o->degenerated_to_sgd)
    step_size = 1.0 / (1.0 - pow(b1, t));
  else
    step_size = -1.0;
  const float fb1 = (float)b1, f1b1 = (float)(1.0 - b1), fb2 = (float)b2, f1b2 = (float)(1.0 - b2),
              feps = (float)o->eps, fwd = (float)(-wd * g->lr), fss = (float)(-step_size * g->lr);
  for (size_t i = 0; i < g->n; i++) {
    float vv = v[i] * fb2; /* weaver updates exp_avg_sq first; the two are independent */
    v[i] = vv + f1b2 * gr[i] * gr[i];
    float mm = m[i] * fb1;
    m[i] = AXPY(f1b1, gr[i], mm);
    if (n_sma >= 5.0) {
      if (wd != 0.0) p[i] = AXPY(fwd, p[i], p[i]);
      float denom = sqrtf(v[i]) + feps;
      p[i] = p[i] + fss * m[i] / denom;
    } else if (step_size > 0.0) {
      if (wd != 0.0) p[i] = AXPY(fwd, p[i], p[i]);
      p[i] = AXPY(fss, m[i], p[i]);
    }
  }
}

int hn_optim_step(const hn_optim *o, const hn_param_group *g) {
  if (!o || !g || (g->n && (!g->param || !g->grad || !g->state))) return -1;
  if (o->kind == HN_OPT_SGD && o->nesterov && (o->momentum <= 0.0 || o->dampening != 0.0)) return -1;
  if (o->lookahead_k < 0 || (o->lookahead_k > 0 && !(o->lookahead_alpha >= 0.0 && o->lookahead_alpha <= 1.0)))
    return -1;
  double wd = g->no_decay ? 0.0 : o->weight_decay;
  int64_t step = get_count(g->state);
  switch (o->kind) {
  case HN_OPT_SGD: step_sgd(o, g, wd, step); break;
  case HN_OPT_ADAM: step_adam(o, g, wd, step + 1, 0); break;
  case HN_OPT_ADAMW: step_adam(o, g, wd, step + 1, 1); break;
  case HN_OPT_RADAM: step_radam(o, g, wd, step + 1); break;
  case HN_OPT_RADAM_WEAVER: step_radam_weaver(o, g, wd, step + 1); break;
  default: return -1;
  }
  set_count(g->state, step + 1);
  if (o->lookahead_k > 0) {
    int64_t c = get_count(g->state + 2) + 1;
    if (c >= o->lookahead_k) {
      c = 0;
      float *slow = slow_of(o, g), *p = g->param;
      const float fa = (float)o->lookahead_alpha, f1a = (float)(1.0 - o->lookahead_alpha);
      for (size_t i = 0; i < g->n; i++) {
        float a = p[i] * fa; /* p.mul_(α).add_(slow, alpha=1−α) */
        p[i] = AXPY(f1a, slow[i], a);
        slow[i] = p[i];
      }
    }
    set_count(g->state + 2, c);
  }
  return 0;
}

int hn_param_no_decay(const char *name, int ndim, const char *const *exclude, size_t nexclude) {
  if (ndim == 1) return 1;
  if (name) {
    size_t L = strlen(name);
    if (L >= 5 && strcmp(name + L - 5, ".bias") == 0) return 1;
    for (size_t i = 0; i < nexclude; i++)
      if (exclude[i] && strcmp(name, exclude[i]) == 0) return 1;
  }
  return 0;
}

double hn_clip_grad_norm(float *const *grads, const size_t *sizes, size_t ntensors, double max_norm,
                         double norm_type) {
  if (ntensors == 0) return 0.0;
  double total;
  if (isinf(norm_type)) {
    total = 0.0;
    for (size_t t = 0; t < ntensors; t++)
      for (size_t i = 0; i < sizes[t]; i++) {
        double a = fabs((double)grads[t][i]);
        if (a > total || isnan(a)) total = a;
      }
  } else {
    double s = 0.0;
    int two = norm_type == 2.0;
    for (size_t t = 0; t < ntensors; t++)
      for (size_t i = 0; i < sizes[t]; i++) {
        double a = fabs((double)grads[t][i]);
        s += two ? a * a : pow(a, norm_type);
      }
    total = two ? sqrt(s) : pow(s, 1.0 / norm_type);
  }
  /* clip_coef = max_norm / (total + 1e-6), in float32 as torch; clamp(max=1); grads *= coef */
  float tf = (float)total;
  float coef = (1.0f / (tf + (float)1e-6)) * (float)max_norm;
  if (!(coef >= 1.0f)) /* NaN norms propagate, as torch.clamp(NaN) does */
    for (size_t t = 0; t < ntensors; t++)
      for (size_t i = 0; i < sizes[t]; i++) grads[t][i] = grads[t][i] * coef;
  return total;
}
