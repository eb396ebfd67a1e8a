/* scorer_gpu.c — the GPU side of scorer.h: the GPU object's entry (hepnc/gpu.h) loads the weights onto the
 * device (its kernels compiled by NVRTC, or taken from the on-disk cache), a device workspace of
 * host_workspace_bytes(batch) is allocated once, and each batch goes through infer_host, which stages
 * inputs and outputs through it chunk by chunk. Built only where hepnc has CUDA (gpu/CMakeLists.txt). */
#include "scorer.h"

#include <stdio.h>
#include <string.h>

#include <hepnc/gpu.h>

static const hn_cuda_model_entry *entry_of(const hn_scorer *s) { return (const hn_cuda_model_entry *)s->cuda; }

int hn_scorer_gpu_open(hn_scorer *s, const char *weights, char *err, size_t errlen)
{
    const hn_cuda_model_entry *cm = entry_of(s);
    if (cm->abi != HN_CUDA_MODEL_ABI) {
        snprintf(err, errlen, "hepnc: error: the GPU object's ABI %d is not this hepnc's %d", cm->abi, HN_CUDA_MODEL_ABI);
        return -1;
    }
    if (cm->load(&s->model, weights, err, errlen)) { s->model = NULL; return -1; }
    s->device_ws_bytes = cm->host_workspace_bytes(s->batch);
    if (hn_gpu_alloc(cm->gpu(s->model), &s->device_ws, s->device_ws_bytes, err, errlen)) {
        size_t len = strlen(err);      /* what needs the memory, and what the user can change */
        int smaller = s->batch > 1 && cm->host_workspace_bytes(s->batch / 2) < s->device_ws_bytes;   /* above a chunk: no */
        snprintf(err + len, errlen - len, " (the GPU object's workspace for --batch %d: %.0f MB; %s)", s->batch,
                 s->device_ws_bytes / 1e6, smaller ? "a smaller --batch needs less" : "one chunk of events needs that much at any larger batch");
        s->device_ws = NULL;
        return -1;
    }
    return 0;
}

int hn_scorer_gpu_infer(hn_scorer *s, const float *const *x, const int32_t *const *counts, int batch, float *const *y,
                        char *err, size_t errlen)
{
    return entry_of(s)->infer_host(s->model, x, (const int *const *)counts, batch, y, s->device_ws, err, errlen);
}

void hn_scorer_gpu_describe(const hn_scorer *s, char *dst, size_t n)
{
    char name[256] = "";
    int arch = 0;
    hn_gpu *g = entry_of(s)->gpu(s->model);
    hn_gpu_describe(g, name, sizeof name, &arch);
    if (arch) snprintf(dst, n, "%s (sm_%d), %s GEMMs", name, arch, hn_gpu_math(g));
    else snprintf(dst, n, "%s, %s GEMMs", name, hn_gpu_math(g));     /* the emulated GPU */
}

void hn_scorer_gpu_close(hn_scorer *s)
{
    const hn_cuda_model_entry *cm = entry_of(s);
    if (!s->model) return;
    if (s->device_ws) hn_gpu_free(cm->gpu(s->model), s->device_ws);
    cm->release(s->model);
}
