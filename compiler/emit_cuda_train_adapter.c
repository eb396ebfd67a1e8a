/* emit_cuda_train_adapter.c — hepnc train --gpu in NAME_cuda_train.c: the GPU step behind
 * hn_train_entry's host-pointer train_step, and the trainer's device (hepnc/train_entry.h
 * hn_train_device) that keeps the parameters and the optimiser state on the GPU between steps. */
#include <stdio.h>
#include <string.h>

#include "emit_cuda_train_internal.h"

/* The trainer's device (hepnc/train_entry.h hn_train_device): parameters and optimiser state uploaded once,
 * each step followed by the clipping and the optimiser on the GPU (hepnc/gpu_train_optim.h: the same state
 * layout and numbers as runtime/optim.c), both downloaded when the trainer validates or saves. */
static void emit_device_hooks(ctgen *G)
{
    const hn_graph *g = G->g;
    FILE *f = G->f;
    const char *m = g->name;
    char upper[HN_NAME];
    hn_ct_upper(g, upper, sizeof upper);
    int C = hn_ct_logits_width(g);
    fprintf(f, "/* ---- the trainer's device: parameters and optimiser state kept on the GPU ---- */\n\n"
               "static struct gpu_train_state {\n    float *state;              /* the optimiser state (device) */\n"
               "    size_t state_floats;\n    int counted;               /* the counters below are the state's */\n"
               "    int64_t *step, *lookahead;  /* per tensor, host copies of its counters */\n"
               "    void *clip_scratch;\n    float **clip_g;\n    size_t *clip_n;\n    int nclip;\n} gs;\n\n");
    fprintf(f, "static int device_upload(const float *params, const float *opt_state, size_t state_floats, char *err, size_t errlen)\n{\n"
               "    if (gpu_host_reserve(1)) { snprintf(err, errlen, \"%%s\", gh.err); return -1; }\n"
               "    if (state_floats > gs.state_floats) {\n        hn_gpu_free(gh.gpu, gs.state);\n        gs.state = NULL;\n        gs.state_floats = 0;\n"
               "        if (hn_gpu_alloc(gh.gpu, (void **)&gs.state, sizeof(float) * (state_floats + 1), err, errlen)) return -1;\n"
               "        gs.state_floats = state_floats;\n    }\n"
               "    gs.counted = 0;\n"
               "    return hn_gpu_to_device(gh.gpu, gh.params, params, sizeof(float) * %s_PARAM_FLOATS, err, errlen) ||\n"
               "           (state_floats && hn_gpu_to_device(gh.gpu, gs.state, opt_state, sizeof(float) * state_floats, err, errlen));\n}\n\n", upper);
    fprintf(f, "static int device_download(float *params, float *opt_state, size_t state_floats, char *err, size_t errlen)\n{\n"
               "    return hn_gpu_to_host(gh.gpu, params, gh.params, sizeof(float) * %s_PARAM_FLOATS, err, errlen) ||\n"
               "           (state_floats && hn_gpu_to_host(gh.gpu, opt_state, gs.state, sizeof(float) * state_floats, err, errlen));\n}\n\n", upper);
    fprintf(f, "/* The counters of every tensor's state (once after an upload), and the gradients clipping reads. */\n"
               "static int device_counters(const hn_train_entry *t, const hn_optim *o, const size_t *state_offset, const size_t *state_size,\n"
               "                           char *err, size_t errlen)\n{\n"
               "    if (!gs.step && (!(gs.step = calloc((size_t)t->nparams + 1, sizeof(int64_t))) ||\n"
               "                     !(gs.lookahead = calloc((size_t)t->nparams + 1, sizeof(int64_t))) ||\n"
               "                     !(gs.clip_g = calloc((size_t)t->nparams + 1, sizeof(float *))) ||\n"
               "                     !(gs.clip_n = calloc((size_t)t->nparams + 1, sizeof(size_t))))) { snprintf(err, errlen, \"out of memory\"); return -1; }\n"
               "    gs.nclip = 0;\n"
               "    for (int k = 0; k < t->nparams; ++k) {\n        if (!state_size[k]) continue;\n"
               "        if (hn_gt_optim_counters(gh.gpu, o, gs.state + state_offset[k], &gs.step[k], &gs.lookahead[k], err, errlen)) return -1;\n"
               "        gs.clip_g[gs.nclip] = gh.grads + t->params[k].offset;\n        gs.clip_n[gs.nclip++] = t->params[k].size;\n    }\n"
               "    if (!gs.clip_scratch && hn_gpu_alloc(gh.gpu, &gs.clip_scratch, hn_gt_clip_scratch_bytes(gs.clip_n, (size_t)gs.nclip), err, errlen))\n"
               "        return -1;\n    gs.counted = 1;\n    return 0;\n}\n\n");
    fprintf(f, "static int device_step(const float *const *inputs, const int32_t *const *counts, const int64_t *labels, const float *weights,\n"
               "                       int batch, const hn_train_config *cfg, uint64_t seed, float *logits_out, double *loss_out,\n"
               "                       const hn_optim *o, double lr, const size_t *state_offset, const size_t *state_size, const int *no_decay,\n"
               "                       double clip_norm, char *err, size_t errlen)\n{\n"
               "    const hn_train_entry *t = hepnc_train_entry();\n"
               "    if (batch < 0) return HN_ERR_BATCH;\n"
               "    const float *x[%d];\n    const int32_t *n[%d];\n"
               "    if (upload_batch(inputs, counts, labels, weights, batch, x, n, err, errlen)) return HN_ERR_DEVICE;\n"
               "    int rc = %s_cuda_train_step(gh.gpu, gh.params, gh.grads, x, n, gh.labels, weights ? gh.weights : NULL, batch, cfg, seed,\n"
               "                                gh.logits, loss_out, gh.ws, err, errlen);\n"
               "    if (rc) return rc;\n"
               "    if (!gs.counted && device_counters(t, o, state_offset, state_size, err, errlen)) return HN_ERR_DEVICE;\n"
               "    double total = 0;\n"
               "    if (clip_norm > 0 && hn_gt_clip_grad_norm(gh.gpu, gs.clip_g, gs.clip_n, (size_t)gs.nclip, clip_norm, 2.0, gs.clip_scratch,\n"
               "                                              &total, err, errlen)) return HN_ERR_DEVICE;\n"
               "    for (int k = 0; k < t->nparams; ++k) {\n        if (!state_size[k]) continue;\n"
               "        const hn_param_desc *p = &t->params[k];\n"
               "        if (hn_gt_optim_step_counted(gh.gpu, o, gh.params + p->offset, gh.grads + p->offset, p->size, gs.state + state_offset[k],\n"
               "                                     lr, no_decay[k], &gs.step[k], &gs.lookahead[k], err, errlen)) return HN_ERR_DEVICE;\n    }\n"
               "    if (logits_out && batch && hn_gpu_to_host(gh.gpu, logits_out, gh.logits, sizeof(float) * (size_t)batch * %d, err, errlen))\n"
               "        return HN_ERR_DEVICE;\n    return 0;\n}\n\n",
            g->ninputs, g->ninputs, m, C);
}

/* hepnc train --gpu: the GPU step behind hn_train_entry's host-pointer train_step, so the training loop
 * (runtime/trainer.c: batches, optimiser, checkpoints, validation) runs unchanged. Per step the batch and
 * the parameters go up; the gradients, the running statistics (all a step changes in the blob) and the
 * logits come down; device buffers are kept between steps and grown with the batch. One GPU training per
 * process. */
void hn_ct_emit_host_adapter(ctgen *G)
{
    const hn_graph *g = G->g;
    FILE *f = G->f;
    const char *m = g->name;
    char upper[HN_NAME];
    hn_ct_upper(g, upper, sizeof upper);
    int C = hn_ct_logits_width(g);
    fprintf(f, "/* ---- hepnc train --gpu: this step behind hn_train_entry.train_step (host pointers) ---- */\n\n"
               "const hn_train_entry *hepnc_train_entry(void);\n\n"
               "static struct gpu_host {\n    hn_gpu *gpu;\n    int cap;                   /* events the device buffers hold */\n"
               "    float *params, *grads, *logits, *weights, *x[%d];\n    int32_t *n[%d];\n    int64_t *labels;\n    void *ws;\n"
               "    char err[4096];\n} gh;\n\n", g->ninputs, g->ninputs);
    fprintf(f, "static const size_t input_floats[%d] = {", g->ninputs);
    for (int i = 0; i < g->ninputs; ++i) fprintf(f, "%s%ldu", i ? ", " : " ", hn_shape_elems(&g->tensors[g->inputs[i]].shape));
    fprintf(f, " };\nstatic const int input_masked[%d] = {", g->ninputs);
    for (int i = 0; i < g->ninputs; ++i) fprintf(f, "%s%d", i ? ", " : " ", g->tensors[g->inputs[i]].masked);
    fprintf(f, " };\n\n");
    fprintf(f, "/* Device buffers for `batch` events (the parameters' once). */\n"
               "static int gpu_host_reserve(int batch)\n{\n"
               "    char *e = gh.err;\n    size_t el = sizeof gh.err;\n"
               "    if (!gh.gpu) {\n"
               "        if (!(gh.gpu = %s_cuda_train_open(NULL, e, el))) return -1;\n"
               "        if (hn_gpu_alloc(gh.gpu, (void **)&gh.params, sizeof(float) * %s_PARAM_FLOATS, e, el) ||\n"
               "            hn_gpu_alloc(gh.gpu, (void **)&gh.grads, sizeof(float) * %s_PARAM_FLOATS, e, el)) return -1;\n    }\n"
               "    if (batch <= gh.cap) return 0;\n"
               "    hn_gpu_free(gh.gpu, gh.logits);\n    hn_gpu_free(gh.gpu, gh.weights);\n    hn_gpu_free(gh.gpu, gh.labels);\n"
               "    hn_gpu_free(gh.gpu, gh.ws);\n"
               "    for (int i = 0; i < %d; ++i) { hn_gpu_free(gh.gpu, gh.x[i]); hn_gpu_free(gh.gpu, gh.n[i]); gh.x[i] = NULL; gh.n[i] = NULL; }\n"
               "    gh.cap = 0;\n"
               "    if (hn_gpu_alloc(gh.gpu, (void **)&gh.logits, sizeof(float) * (size_t)batch * %d, e, el) ||\n"
               "        hn_gpu_alloc(gh.gpu, (void **)&gh.weights, sizeof(float) * (size_t)batch, e, el) ||\n"
               "        hn_gpu_alloc(gh.gpu, (void **)&gh.labels, sizeof(int64_t) * (size_t)batch, e, el) ||\n"
               "        hn_gpu_alloc(gh.gpu, &gh.ws, %s_cuda_train_workspace_bytes(batch), e, el)) {\n"
               "        size_t len = strlen(e);   /* say what needs the memory, and what the user can change */\n"
               "        snprintf(e + len, el - len, \" (the GPU training step of batch %%d needs %%.0f MB of device workspace, %%.1f MB per event: a smaller --batch needs less)\",\n"
               "                 batch, %s_cuda_train_workspace_bytes(batch) / 1e6, %s_cuda_train_workspace_bytes(batch) / 1e6 / batch);\n"
               "        return -1;\n    }\n"
               "    for (int i = 0; i < %d; ++i)\n"
               "        if (hn_gpu_alloc(gh.gpu, (void **)&gh.x[i], sizeof(float) * input_floats[i] * (size_t)batch, e, el) ||\n"
               "            (input_masked[i] && hn_gpu_alloc(gh.gpu, (void **)&gh.n[i], sizeof(int32_t) * (size_t)batch, e, el))) return -1;\n"
               "    gh.cap = batch;\n    return 0;\n}\n\n", m, upper, upper, g->ninputs, C, m, m, m, g->ninputs);
    /* the step changes only the batchnorms' running statistics in the blob: they alone come back */
    fprintf(f, "/* The blob's running statistics (the only parameters a step changes), as (offset, floats). */\n"
               "static const long buffers[][2] = {\n");
    int nb = 0;
    for (int p = 0; p < g->nparams; ++p) {
        const hn_param *q = &g->params[p];
        size_t len = strlen(q->name);
        if (!q->from_file || !((len > 13 && !strcmp(q->name + len - 13, ".running_mean")) ||
                               (len > 12 && !strcmp(q->name + len - 12, ".running_var"))))
            continue;
        fprintf(f, "    { %ld, %ld },   /* %s */\n", q->offset, q->size, q->name);
        ++nb;
    }
    if (!nb) fprintf(f, "    { 0, 0 },\n");
    fprintf(f, "};\n\nstatic int download_buffers(float *params, char *e, size_t el)\n{\n"
               "    for (int k = 0; k < %d; ++k)\n"
               "        if (hn_gpu_to_host(gh.gpu, params + buffers[k][0], gh.params + buffers[k][0], sizeof(float) * (size_t)buffers[k][1], e, el))\n"
               "            return -1;\n    return 0;\n}\n\n", nb);
    /* the batch up, for both steps */
    fprintf(f, "/* The batch up (the device buffers grown for it): inputs, counts, labels, weights; x and n the device inputs. */\n"
               "static int upload_batch(const float *const *inputs, const int32_t *const *counts, const int64_t *labels, const float *weights,\n"
               "                        int batch, const float **x, const int32_t **n, char *err, size_t errlen)\n{\n"
               "    if (gpu_host_reserve(batch > 0 ? batch : 1)) {\n        if (err != gh.err) snprintf(err, errlen, \"%%s\", gh.err);\n        return -1;\n    }\n"
               "    for (int i = 0; i < %d; ++i) {\n        x[i] = gh.x[i];\n        n[i] = gh.n[i];\n"
               "        if (batch && (hn_gpu_to_device(gh.gpu, gh.x[i], inputs[i], sizeof(float) * input_floats[i] * (size_t)batch, err, errlen) ||\n"
               "                      (input_masked[i] && hn_gpu_to_device(gh.gpu, gh.n[i], counts[i], sizeof(int32_t) * (size_t)batch, err, errlen))))\n"
               "            return -1;\n    }\n"
               "    return (batch && hn_gpu_to_device(gh.gpu, gh.labels, labels, sizeof(int64_t) * (size_t)batch, err, errlen)) ||\n"
               "           (batch && weights && hn_gpu_to_device(gh.gpu, gh.weights, weights, sizeof(float) * (size_t)batch, err, errlen)) ? -1 : 0;\n}\n\n",
            g->ninputs);
    fprintf(f, "static int gpu_host_step(float *params, float *grads, const float *const *inputs, const int32_t *const *counts,\n"
               "                         const int64_t *labels, const float *weights, int batch, const hn_train_config *cfg, uint64_t seed,\n"
               "                         float *logits_out, double *loss_out, void *workspace)\n{\n"
               "    (void)workspace;\n    char *e = gh.err;\n    size_t el = sizeof gh.err;\n"
               "    if (batch < 0) return HN_ERR_BATCH;\n"
               "    const float *x[%d];\n    const int32_t *n[%d];\n"
               "    if (upload_batch(inputs, counts, labels, weights, batch, x, n, e, el) ||\n"
               "        hn_gpu_to_device(gh.gpu, gh.params, params, sizeof(float) * %s_PARAM_FLOATS, e, el)) goto cuda_error;\n"
               "    int rc = %s_cuda_train_step(gh.gpu, gh.params, gh.grads, x, n, gh.labels, weights ? gh.weights : NULL, batch, cfg, seed,\n"
               "                                gh.logits, loss_out, gh.ws, e, el);\n"
               "    if (rc == HN_ERR_DEVICE) goto cuda_error;\n    if (rc) return rc;\n"
               "    if (hn_gpu_to_host(gh.gpu, grads, gh.grads, sizeof(float) * %s_PARAM_FLOATS, e, el) ||\n"
               "        download_buffers(params, e, el) ||\n"
               "        (logits_out && batch && hn_gpu_to_host(gh.gpu, logits_out, gh.logits, sizeof(float) * (size_t)batch * %d, e, el)))\n"
               "        goto cuda_error;\n    return 0;\n"
               "cuda_error:\n    fprintf(stderr, \"hepnc: %s on the GPU: %%s\\n\", gh.err);\n    return HN_ERR_DEVICE;\n}\n\n",
            g->ninputs, g->ninputs, upper, m, upper, C, m);
    emit_device_hooks(G);
    fprintf(f, "static size_t gpu_host_workspace_bytes(int batch)\n{\n    (void)batch;\n    return 16;   /* the device holds the step's */\n}\n\n"
               "/* hepnc train --gpu's entry: hepnc_train_entry() with the step on the GPU; the trainer keeps the parameters\n"
               " * and the optimiser state there (device), train_step is the same step with host pointers. */\n"
               "const hn_train_entry *hepnc_train_entry_gpu(void)\n{\n    static hn_train_entry e;\n"
               "    static const hn_train_device device = { device_upload, device_step, device_download };\n"
               "    if (!e.abi) {\n        e = *hepnc_train_entry();\n        e.workspace_bytes = gpu_host_workspace_bytes;\n"
               "        e.train_step = gpu_host_step;\n        e.device = &device;\n    }\n    return &e;\n}\n");
}
