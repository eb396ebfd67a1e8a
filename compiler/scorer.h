/* scorer.h — a built model scoring batches of events for hepnc infer and hepnc eval: the C object on the
 * CPU, or (--gpu) the GPU object on device 0 or the emulated GPU, through NAME_cuda_infer_host (inputs and
 * outputs in host memory, one chunk of events staged at a time in a device workspace sized for the batch). */
#ifndef HN_SCORER_H
#define HN_SCORER_H

#include <stddef.h>

#include "build.h"
#include "infer_io.h"

typedef struct hn_scorer {
    const hn_model_entry *m;    /* the C object's entry: inputs, outputs, their sizes */
    const void *cuda;           /* the GPU object's hn_cuda_model_entry, or NULL on the CPU */
    void *model;                /* the loaded model (C or GPU) */
    void *device_ws;            /* the GPU object's device workspace for `batch` events */
    size_t device_ws_bytes;     /* its size (host_workspace_bytes(batch)) */
    int batch;
} hn_scorer;

/* Loads `weights` into the model that lm holds (hn_build_and_open or hn_build_and_open_gpu); for at most
 * `batch` events per call. Non-zero with a message in err on failure, and then nothing to close. */
int hn_scorer_open(hn_scorer *s, const hn_loaded_model *lm, const char *weights, int batch, char *err, size_t errlen);
/* The I/O buffers for it: b->workspace only on the CPU (the GPU's is on the device). */
int hn_scorer_buffers(const hn_scorer *s, hn_infer_buffers *b);
/* b's outputs for its first `count` events (count <= batch). Non-zero and a message naming the failure
 * (e.g. a set count out of range) otherwise. */
int hn_scorer_run(hn_scorer *s, hn_infer_buffers *b, int count, char *err, size_t errlen);
/* The same on the model entry's arrays (hn_model_entry.infer's: counts NULL for an unmasked input);
 * cpu_workspace is the C object's (unused on the GPU). */
int hn_scorer_infer(hn_scorer *s, const float *const *x, const int32_t *const *counts, int batch, float *const *y,
                    void *cpu_workspace, char *err, size_t errlen);
/* "CPU", or the GPU's name and the GEMMs' arithmetic ("NVIDIA H100 80GB HBM3 (sm_90), fp32 GEMMs"). */
void hn_scorer_describe(const hn_scorer *s, char *dst, size_t n);
void hn_scorer_close(hn_scorer *s);

/* The GPU side (scorer_gpu.c, built where hepnc has CUDA). */
int hn_scorer_gpu_open(hn_scorer *s, const char *weights, char *err, size_t errlen);
int hn_scorer_gpu_infer(hn_scorer *s, const float *const *x, const int32_t *const *counts, int batch, float *const *y,
                        char *err, size_t errlen);
void hn_scorer_gpu_describe(const hn_scorer *s, char *dst, size_t n);
void hn_scorer_gpu_close(hn_scorer *s);

#endif
