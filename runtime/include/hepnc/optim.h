/* optim.h — optimisers over flat float parameter groups, matching PyTorch 1.13 step for step, and
 * gradient clipping by global norm.
 *
 *   SGD     torch.optim.SGD (momentum, dampening, nesterov, L2 weight decay added to the gradient)
 *   Adam    torch.optim.Adam (L2 weight decay added to the gradient), amsgrad off
 *   AdamW   torch.optim.AdamW (decoupled: p ← p·(1 − lr·wd) before the Adam update)
 *   RAdam   torch.optim.RAdam of 1.13 (L2 weight decay; rectified when ρ_t > 5, else p ← p − lr·m̂)
 *   RAdam (weaver)  weaver-core's RAdam: decay p ← p − lr·wd·p only when a step is taken; rectified when
 *           ρ_t ≥ 5, else an SGD-with-momentum step when degenerated_to_sgd, else no step at all
 *   Lookahead (k, α) around any of them: every k-th step p ← α·p + (1 − α)·slow, slow ← p
 *   Ranger  = Lookahead(weaver RAdam), weaver's settings: betas (0.95, 0.999), eps 1e-5,
 *           degenerated_to_sgd, α 0.5, k 6 (hn_optim_ranger)
 *
 * A parameter group is one contiguous float span with its gradient, its learning rate (set it from a
 * schedule each step; scale it for lr_mult groups) and a no_decay flag (weight decay off: weaver's rule
 * is hn_param_no_decay). All optimiser state lives in the caller's float array `state` of
 * hn_optim_state_size() floats, so a checkpoint is the array's bytes. Layout (floats):
 *   [0] [1]  step count  = [0]·2^24 + [1]     (exact up to 2^48 steps)
 *   [2] [3]  Lookahead counter, same encoding
 *   then n floats each, in this order, when present:
 *     SGD with momentum ≠ 0: momentum buffer
 *     Adam / AdamW / RAdam: exp_avg (m), exp_avg_sq (v)
 *     Lookahead (k > 0): slow weights
 * Several groups stepped together (every group once per optimiser step) reproduce a torch optimiser
 * over those param_groups, Lookahead's single counter included. No allocation, no globals.
 */
#ifndef HEPNC_OPTIM_H
#define HEPNC_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  HN_OPT_SGD = 0,
  HN_OPT_ADAM = 1,
  HN_OPT_ADAMW = 2,
  HN_OPT_RADAM = 3,        /* torch.optim.RAdam (1.13) */
  HN_OPT_RADAM_WEAVER = 4, /* weaver/utils/nn/optimizer/radam.py */
} hn_opt_kind;

typedef struct {
  hn_opt_kind kind;
  double momentum, dampening; /* SGD */
  int nesterov;               /* SGD (needs momentum > 0, dampening 0 as in torch) */
  double beta1, beta2, eps;   /* Adam family */
  double weight_decay;        /* used by groups whose no_decay is 0 */
  int degenerated_to_sgd;     /* RADAM_WEAVER */
  int lookahead_k;            /* > 0: wrap in Lookahead with this k */
  double lookahead_alpha;
} hn_optim;

/* Configurations with torch's defaults for everything not passed. */
hn_optim hn_optim_sgd(double momentum, double dampening, int nesterov, double weight_decay);
hn_optim hn_optim_adam(double beta1, double beta2, double eps, double weight_decay);  /* torch: .9 .999 1e-8 0 */
hn_optim hn_optim_adamw(double beta1, double beta2, double eps, double weight_decay); /* torch: wd 1e-2 */
hn_optim hn_optim_radam(double beta1, double beta2, double eps, double weight_decay); /* torch: .9 .999 1e-8 0 */
hn_optim hn_optim_radam_weaver(double beta1, double beta2, double eps, double weight_decay, int degenerated_to_sgd);
/* weaver's Ranger(lr, weight_decay): Lookahead(RAdam(betas (0.95, 0.999), eps 1e-5, degenerated_to_sgd), 0.5, 6). */
hn_optim hn_optim_ranger(double weight_decay);
/* Wrap o in Lookahead (weaver's class; pullback_momentum "none"). k ≥ 1, 0 ≤ alpha ≤ 1. */
hn_optim hn_optim_lookahead(hn_optim o, int k, double alpha);

typedef struct {
  float *param;       /* n values, updated in place */
  const float *grad;  /* n values */
  size_t n;
  float *state;       /* hn_optim_state_size(o, n) floats, set up by hn_optim_init */
  double lr;          /* this step's learning rate for the group */
  int no_decay;       /* 1: weight decay off for this group */
} hn_param_group;

/* Floats of state one group of n parameters needs. */
size_t hn_optim_state_size(const hn_optim *o, size_t n);
/* Fresh state: counters and moments zero, slow weights = the current parameters (Lookahead caches
 * the parameters when it is built). */
void hn_optim_init(const hn_optim *o, const hn_param_group *g);
/* One optimiser step of the group. Returns 0, or -1 for an invalid configuration. */
int hn_optim_step(const hn_optim *o, const hn_param_group *g);
/* Steps taken so far, from a state array. */
int64_t hn_optim_step_count(const float *state);
/* Load the slow weights into the parameters, for evaluating them (weaver's _backup_and_load_cache, without the
 * backup: copy the parameters first if training goes on). No-op without Lookahead. */
void hn_optim_load_slow(const hn_optim *o, const hn_param_group *g);

/* weaver's weight-decay exclusion (train.py::optim): a tensor with one dimension, a name ending in
 * ".bias", or a name in exclude[0..nexclude) (the model's no_weight_decay(), e.g. "cls_token"). */
int hn_param_no_decay(const char *name, int ndim, const char *const *exclude, size_t nexclude);

/* torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type) over ntensors gradients: the total
 * norm of all of them together (norm_type 2, any p > 0, or INFINITY); when it exceeds max_norm every
 * gradient is scaled by max_norm / (total + 1e-6). Returns the total norm before clipping. */
double hn_clip_grad_norm(float *const *grads, const size_t *sizes, size_t ntensors, double max_norm,
                         double norm_type);

#ifdef __cplusplus
}
#endif

#endif
