/* init.h — fresh parameters for training from scratch, with PyTorch's default initialisations (and
 * weaver's for ParT), chosen from each tensor's name and shape (hepnc's names follow the PyTorch
 * modules'):
 *   rank-2 "<p>.weight" [out, in]            kaiming_uniform(a = √5): U(±1/√in)   (nn.Linear, Conv1d k=1)
 *   "<p>.bias" of such a weight              U(±1/√in)
 *   "*.in_proj.weight" (multi-head attention) xavier_uniform: U(±√(6/(in + out))); "*.in_proj.bias",
 *                                            "*.attn.out_proj.bias": 0          (nn.MultiheadAttention)
 *   rank-1 "<p>.weight" (LayerNorm, BatchNorm) 1, its "<p>.bias" 0; running_mean 0, running_var 1
 *   "*.c_attn", "*.w_resid"                  1 (weaver's Block)
 *   "*cls_token"                             N(0, 0.02²) truncated to ±2 (weaver's trunc_normal_)
 *   anything else                            U(±1/√(last dimension))
 * The generator is xoshiro256** seeded by splitmix64(seed); tensors are filled in the given order, so
 * the same seed and spec give the same bytes. */
#ifndef HEPNC_INIT_H
#define HEPNC_INIT_H

#include <stdint.h>

#include <hepnc/train_entry.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Fills blob at each descriptor's offset. */
void hn_init_params(const hn_param_desc *params, int nparams, float *blob, uint64_t seed);

#ifdef __cplusplus
}
#endif

#endif
