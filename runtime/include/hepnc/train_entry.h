/* train_entry.h — the training entry point of a generated model (hepnc compile --train writes
 * NAME_train.c, which defines `hepnc_train_entry`). `hepnc train` builds the generated code into a
 * shared object, finds the entry and drives it: data, shuffling, optimiser, schedule, checkpoints.
 *
 * Parameters live in ONE blob of `param_floats` floats with the layout of the inference code
 * (NAME_PARAM_FLOATS): the tensors of the weights file at their offsets (params[k]), then the slots of
 * parameters that the inference loader derives by folding (batchnorm into linear, head scales).
 * Training reads and updates only the file tensors; `fold` fills the derived slots, after which the
 * inference entry (`model`, the code that ships) evaluates the same blob. A checkpoint is the file
 * tensors: the safetensors file that `hepnc infer` and NAME_load read.
 *
 * Gradients use the same layout: grads[params[k].offset ...] is ∂loss/∂params[k] for trainable
 * tensors, zero elsewhere. */
#ifndef HEPNC_TRAIN_ENTRY_H
#define HEPNC_TRAIN_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include <hepnc/model.h>
#include <hepnc/optim.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hn_param_desc {
    const char *name;           /* safetensors name, e.g. "phi.0.weight" */
    size_t offset;              /* floats into the blob */
    size_t size;                /* floats */
    int ndim;
    int64_t shape[4];
    int trainable;              /* 0: a buffer updated by the forward in training mode (BN running stats) */
} hn_param_desc;

typedef enum {
    HN_LOSS_CROSS_ENTROPY = 0,  /* labels: class index per event */
    HN_LOSS_FOCAL = 1,          /* labels: class index per event */
    HN_LOSS_BCE = 2,            /* labels: class index per event; BCEWithLogits against its one-hot (mean over
                                   all batch × classes elements); with one logit, the label (0 or 1) itself */
} hn_loss_kind;

typedef struct hn_train_config {
    hn_loss_kind loss;
    double label_smoothing;     /* cross-entropy */
    double focal_alpha, focal_gamma;
    double bn_momentum;         /* PyTorch's convention; 0.1 by default */
    int training;               /* 1: batch statistics and running-stat updates, dropout on; 0: eval-mode forward */
    uint64_t dropout_seed;      /* set by train_step from its `seed` argument (callers leave it 0) */
    int slots;                  /* > 0 and < a set's max: the batch stands for weaver's batch trimmed to this many
                                   slots (SequenceTrimmer): every count ≤ slots, and the batch statistics over
                                   slots (batchnorm over a set, the pair embedding's padded pairs) count only the
                                   first `slots` slots of each event. 0: all max slots */
} hn_train_config;

/* A device that holds the parameters and the optimiser state between steps (hepnc train --gpu): the
 * trainer uploads both once, runs the step, the gradient clipping and the optimiser there, and downloads
 * them for validation and checkpoints. Each returns 0, or non-zero with a message in err. */
typedef struct hn_train_device {
    /* The blob (param_floats) and the optimiser state (state_floats: every trainable tensor's, in order). */
    int (*upload)(const float *params, const float *opt_state, size_t state_floats, char *err, size_t errlen);
    /* train_step's forward, loss and backward on the device's parameters, then clip_norm (> 0: the global
     * 2-norm, as hn_clip_grad_norm over the trainable tensors) and one optimiser step of o at lr of every
     * trainable tensor k (its state at state_offset[k], state_size[k] floats, 0: not trainable; no_decay[k]).
     * The return codes of train_step; logits_out and loss_out on the host. */
    int (*step)(const float *const *inputs, const int32_t *const *counts, const int64_t *labels, const float *weights, int batch,
                const struct hn_train_config *cfg, uint64_t seed, float *logits_out, double *loss_out, const hn_optim *o,
                double lr, const size_t *state_offset, const size_t *state_size, const int *no_decay, double clip_norm,
                char *err, size_t errlen);
    int (*download)(float *params, float *opt_state, size_t state_floats, char *err, size_t errlen);
} hn_train_device;

typedef struct hn_train_entry {
    int abi;                    /* HN_TRAIN_ABI */
    const char *name;
    const char *spec_hash;
    const hn_model_entry *model;    /* the inference entry of the same spec (inputs, outputs, infer) */
    int nclasses;               /* width of the logits the loss reads */
    const char *logits_output;  /* the output the loss reads (the one that is not a softmax) */
    size_t param_floats;        /* the blob, NAME_PARAM_FLOATS */
    int nparams;                /* the file tensors, in the weights file's order */
    const hn_param_desc *params;
    size_t (*workspace_bytes)(int batch);       /* for train_step */
    /* One training step's forward (training-mode semantics when cfg->training), the loss over the batch
     * (mean, or weighted mean with weights != NULL) and the backward. Inputs as hn_model_entry.infer;
     * labels [batch]. grads: param_floats floats, overwritten (zeroed first). params: only the buffers
     * (trainable == 0) change, when cfg->training. logits_out [batch][nclasses] may be NULL. `seed`
     * drives dropout (deterministic: the same seed gives the same masks). Returns 0; HN_ERR_* as infer;
     * 3 for a label outside [0, nclasses). Nothing is allocated. */
    int (*train_step)(float *params, float *grads, const float *const *inputs, const int32_t *const *counts,
                      const int64_t *labels, const float *weights, int batch, const hn_train_config *cfg,
                      uint64_t seed, float *logits_out, double *loss_out, void *workspace);
    /* Fills the derived slots of the blob from the file tensors (what NAME_load does after reading). */
    int (*fold)(float *params);
    /* NULL, or the device that runs the steps (hepnc_train_entry_gpu's). */
    const hn_train_device *device;
} hn_train_entry;

#define HN_TRAIN_ABI 3
#define HN_ERR_LABEL 3           /* a label outside the classes */
#define HN_ERR_DEVICE 4          /* the device running the step (a GPU) failed, or cannot run it: the message says why */

#ifdef __cplusplus
}
#endif

#endif
