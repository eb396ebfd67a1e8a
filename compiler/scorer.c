/* scorer.c — see scorer.h: the CPU side, and the dispatch to scorer_gpu.c. */
#include "scorer.h"

#include <stdio.h>
#include <string.h>

int hn_scorer_open(hn_scorer *s, const hn_loaded_model *lm, const char *weights, int batch, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->m = lm->entry;
    s->cuda = lm->cuda_entry;
    s->batch = batch;
    int rc;
    if (s->cuda) {
#ifdef HEPNC_GPU_INCLUDE
        rc = hn_scorer_gpu_open(s, weights, err, errlen);
#else
        snprintf(err, errlen, "hepnc: error: this hepnc was built without the CUDA toolkit: no GPU inference");
        rc = -1;
#endif
    } else if ((rc = s->m->load(&s->model, weights, err, errlen) ? -1 : 0)) s->model = NULL;
    if (rc) hn_scorer_close(s);     /* nothing left half-open */
    return rc;
}

int hn_scorer_buffers(const hn_scorer *s, hn_infer_buffers *b)
{
    return s->cuda ? hn_alloc_io_buffers(s->m, s->batch, b) : hn_alloc_buffers(s->m, s->batch, b);
}

int hn_scorer_infer(hn_scorer *s, const float *const *x, const int32_t *const *counts, int batch, float *const *y,
                    void *cpu_workspace, char *err, size_t errlen)
{
#ifdef HEPNC_GPU_INCLUDE
    if (s->cuda) return hn_scorer_gpu_infer(s, x, counts, batch, y, err, errlen);
#endif
    int status = s->m->infer(s->model, x, counts, batch, y, cpu_workspace);
    if (status) snprintf(err, errlen, "the model rejected the batch (code %d: a set count out of range)", status);
    return status;
}

int hn_scorer_run(hn_scorer *s, hn_infer_buffers *b, int count, char *err, size_t errlen)
{
    return hn_scorer_infer(s, (const float *const *)b->x, (const int32_t *const *)b->n, count, b->y, b->workspace, err, errlen);
}

void hn_scorer_describe(const hn_scorer *s, char *dst, size_t n)
{
#ifdef HEPNC_GPU_INCLUDE
    if (s->cuda) { hn_scorer_gpu_describe(s, dst, n); return; }
#endif
    snprintf(dst, n, "CPU");
}

void hn_scorer_close(hn_scorer *s)
{
#ifdef HEPNC_GPU_INCLUDE
    if (s->cuda) hn_scorer_gpu_close(s);
    else
#endif
    if (s->model) s->m->release(s->model);
    memset(s, 0, sizeof *s);
}
