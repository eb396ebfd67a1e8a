/* cuda_train_entry.h — the generic entry of a generated GPU training step (NAME_cuda_train.c, hepnc compile
 * --target cuda --train), the GPU twin of hn_train_entry.train_step (hepnc/train_entry.h): hosts and
 * harnesses that handle any model use it. */
#ifndef HEPNC_CUDA_TRAIN_ENTRY_H
#define HEPNC_CUDA_TRAIN_ENTRY_H

#include <hepnc/gpu.h>
#include <hepnc/train_entry.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HN_CUDA_TRAIN_ABI 2

/* A tensor of the step's workspace (the same layout on the GPU as in the C step): its floats for a batch
 * start at workspace + batch·offset, batch·floats of them; grad_offset ≥ 0: its gradient's, likewise
 * (gradients whose lives in the backward do not overlap share floats: after a step, a gradient's floats
 * hold the last gradient that lived there).
 * set ≥ 0: the tensor is `slots` rows per event over the particles of masked input `set`, of which an event's
 * first counts[set][e] are real (what the padding rows hold is the step's business: the C and GPU steps
 * may leave different values there); -1: every float is meaningful. */
typedef struct hn_cuda_train_tensor {
    const char *name;
    long offset, grad_offset, floats;
    int set, slots;
} hn_cuda_train_tensor;

typedef struct hn_cuda_train_entry {
    int abi;                    /* HN_CUDA_TRAIN_ABI */
    const char *name;
    /* The step's kernels compiled (NVRTC, cached under cache_dir; NULL: the default) on device 0. */
    hn_gpu *(*open)(const char *cache_dir, char *err, size_t errlen);
    /* Device bytes of the workspace for `batch` events. */
    size_t (*workspace_bytes)(int batch);
    /* As hn_train_entry.train_step with every array in device memory (inputs and counts: host arrays of
     * device pointers; labels int64, weights may be NULL, logits_out may be NULL), loss_out on the host;
     * training mode only (cfg->training), no trimmed batches (cfg->slots) and no dropout yet. Returns 0;
     * 1 a count outside 0..max, 2 a negative batch, HN_ERR_LABEL a label outside the classes, HN_ERR_DEVICE
     * a CUDA error or an unsupported setting; err says which. */
    int (*step)(hn_gpu *gpu, float *params, float *grads, const float *const *inputs, const int32_t *const *counts,
                const int64_t *labels, const float *weights, int batch, const hn_train_config *cfg, uint64_t seed,
                float *logits_out, double *loss_out, void *workspace, char *err, size_t errlen);
    /* The workspace's tensors in graph order (to compare a step's activations and gradients with the C step's). */
    int ntensors;
    const hn_cuda_train_tensor *tensors;
} hn_cuda_train_entry;

const hn_cuda_train_entry *hepnc_cuda_train_entry(void);

#ifdef __cplusplus
}
#endif

#endif
