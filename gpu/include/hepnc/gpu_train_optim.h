/* gpu_train_optim.h — the optimiser step on the GPU, the twin of hepnc/optim.h (runtime/optim.c): the same
 * optimisers (SGD, Adam, AdamW, RAdam of torch 1.13, weaver's RAdam, Lookahead around any, Ranger), the
 * same float32 operations (a step gives the C code's bytes), the same state layout, so a device state
 * copied to the host is the C code's state array (a checkpoint is the same bytes) and the reverse.
 * Launches templates/cuda/train_optim.cuh's kernels on a module that holds them.
 *
 * param, grad and state are device pointers; state holds hn_optim_state_size(o, n) floats. The scalars of
 * a step (bias corrections, RAdam's rectification, whether Lookahead syncs) are computed on the host from
 * the step counters: hn_gt_optim_step reads them from the device state (8 bytes, 16 with Lookahead: a synchronisation);
 * hn_gt_optim_step_counted takes them from the caller's host mirror instead and launches one kernel.
 * Every function returns 0, or -1 with a message in err. */
#ifndef HEPNC_GPU_TRAIN_OPTIM_H
#define HEPNC_GPU_TRAIN_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include <hepnc/optim.h>

#include "gpu.h"

#ifdef __cplusplus
extern "C" {
#endif

/* hn_optim_init: counters and moments zero, the slow weights (Lookahead) a copy of the parameters. */
int hn_gt_optim_init(hn_gpu *g, const hn_optim *o, float *param, size_t n, float *state, char *err, size_t errlen);

/* hn_optim_step of one group: param updated, state advanced (counters included). */
int hn_gt_optim_step(hn_gpu *g, const hn_optim *o, float *param, const float *grad, size_t n, float *state, double lr,
                     int no_decay, char *err, size_t errlen);

/* The same with the counters the state holds before the step kept on the host (*step, *lookahead: 0 after
 * hn_gt_optim_init, hn_gt_optim_counters after loading a state); they are advanced as the state's are. */
int hn_gt_optim_step_counted(hn_gpu *g, const hn_optim *o, float *param, const float *grad, size_t n, float *state,
                             double lr, int no_decay, int64_t *step, int64_t *lookahead, char *err, size_t errlen);

/* The step count and the Lookahead counter a device state holds (hn_optim_step_count's; lookahead may be
 * NULL, and is 0 without Lookahead). */
int hn_gt_optim_counters(hn_gpu *g, const hn_optim *o, const float *state, int64_t *step, int64_t *lookahead, char *err,
                         size_t errlen);

/* hn_optim_load_slow: the slow weights into the parameters (no-op without Lookahead). */
int hn_gt_optim_load_slow(hn_gpu *g, const hn_optim *o, float *param, size_t n, const float *state, char *err, size_t errlen);

/* hn_clip_grad_norm over ntensors device gradients (grads: a host array of device pointers, sizes their
 * lengths): the total norm (norm_type 2, any p > 0, or INFINITY) into *total, and when it exceeds max_norm
 * every gradient scaled by max_norm / (total + 1e-6) (the coefficient in float32 as the C code's).
 * Deterministic: the sums are in double over fixed tiles, combined in a fixed order (they may differ from
 * the C code's sequential sum in the last bits of the double). scratch: device memory of
 * hn_gt_clip_scratch_bytes(sizes, ntensors) bytes. Reads 8 bytes back (a synchronisation). */
size_t hn_gt_clip_scratch_bytes(const size_t *sizes, size_t ntensors);
int hn_gt_clip_grad_norm(hn_gpu *g, float *const *grads, const size_t *sizes, size_t ntensors, double max_norm,
                         double norm_type, void *scratch, double *total, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
