/* emit_cuda_host_io.c — NAME_cuda_infer_host: the GPU object with inputs and outputs in host memory. Each
 * chunk's inputs and counts are copied into a staging area after the device workspace, NAME_cuda_infer
 * runs on them, and the outputs come back; every count is checked on the host before anything is copied
 * or launched, so a bad batch writes nothing (as NAME_cuda_infer). */
#include <stdio.h>

#include "emit.h"
#include "emit_c.h"
#include "emit_cuda.h"
#include "emit_cuda_internal.h"

/* Bytes per event of the staging area: every input (and its counts) and every output of one event. */
long hn_cu_stage_bytes(const hn_graph *g)
{
    long bytes = 0;
    for (int i = 0; i < g->ninputs; ++i) {
        const hn_tensor *t = &g->tensors[g->inputs[i]];
        bytes += 4 * hn_shape_elems(&t->shape) + (t->masked ? 4 : 0);
    }
    for (int o = 0; o < g->noutputs; ++o) bytes += 4 * hn_shape_elems(&g->tensors[g->outputs[o]].shape);
    return bytes;
}

/* staging regions, each starting 16-byte aligned */
static int stage_regions(const hn_graph *g)
{
    int r = g->noutputs;
    for (int i = 0; i < g->ninputs; ++i) r += 1 + g->tensors[g->inputs[i]].masked;
    return r;
}

void hn_cu_emit_host_io_header(FILE *f, const hn_graph *g, const char *upper)
{
    const char *m = g->name;
    fprintf(f, "/* Device workspace of %s_cuda_infer_host: the workspace above, then one chunk's inputs and outputs. */\n"
               "#define %s_CUDA_HOST_WORKSPACE_BYTES(batch) \\\n    (%s_CUDA_WORKSPACE_BYTES(batch) + 16 + \\\n"
               "     (size_t)((batch) < %s_CUDA_CHUNK ? (batch) : %s_CUDA_CHUNK) * %ldu + %du)\n",
            m, upper, upper, upper, upper, hn_cu_stage_bytes(g), 16 * stage_regions(g));
    fprintf(f, "/* As %s_cuda_infer, but in and out (inputs, counts, outputs) are host memory: each chunk is copied to the\n"
               " * device, run and copied back; workspace is device memory of %s_CUDA_HOST_WORKSPACE_BYTES(batch) bytes.\n"
               " * The counts are checked on the host before anything is copied (return 1, the event named). */\n"
               "int %s_cuda_infer_host(const %s_cuda_model *m, const %s_inputs *in, int batch, %s_outputs *out, void *workspace,\n"
               "                       char *err, size_t errlen);\n", m, upper, m, m, m, m);
}

/* The staging pointer of `what` (a region of per_event bytes for b events), the next one after it. */
static void stage(FILE *f, const char *type, const char *var, long per_event)
{
    fprintf(f, "        %s *%s = (%s *)next;\n        next += ((size_t)b * %ldu + 15) & ~(size_t)15;\n", type, var, type, per_event);
}

void hn_cu_emit_infer_host(FILE *f, const hn_graph *g, const char *upper)
{
    const char *m = g->name;
    fprintf(f, "\nint %s_cuda_infer_host(const %s_cuda_model *m, const %s_inputs *in, int batch, %s_outputs *out, void *workspace,\n"
               "                       char *err, size_t errlen)\n{\n    if (batch < 0) return 2;\n", m, m, m, m);
    for (int i = 0; i < g->ninputs; ++i) {       /* every count, on the host, before anything is copied */
        const hn_tensor *t = &g->tensors[g->inputs[i]];
        if (!t->masked) continue;
        char id[HN_NAME];
        hn_c_ident(id, sizeof id, t->name);
        fprintf(f, "    for (int e = 0; e < batch; ++e)\n        if (in->%s_n[e] < 0 || in->%s_n[e] > %d) {\n"
                   "            snprintf(err, errlen, \"%s: event %%d: %s count %%d is outside 0..%d\", e, (int)in->%s_n[e]);\n"
                   "            return 1;\n        }\n", id, id, t->shape.dim[0], m, t->name, t->shape.dim[0], id);
    }
    fprintf(f, "    char *base = (char *)workspace + %s_CUDA_WORKSPACE_BYTES(batch);\n"
               "    base += (16 - (uintptr_t)base %% 16) %% 16;   /* the staging area, 16-byte aligned */\n"
               "    for (int first = 0; first < batch; first += %s_CUDA_CHUNK) {\n"
               "        int b = batch - first < %s_CUDA_CHUNK ? batch - first : %s_CUDA_CHUNK;\n        char *next = base;\n",
            upper, upper, upper, upper);
    char var[HN_NAME + 8], id[HN_NAME];
    for (int i = 0; i < g->ninputs; ++i) {
        const hn_tensor *t = &g->tensors[g->inputs[i]];
        hn_c_ident(id, sizeof id, t->name);
        snprintf(var, sizeof var, "d_%s", id);
        stage(f, "float", var, 4 * hn_shape_elems(&t->shape));
        if (t->masked) {
            snprintf(var, sizeof var, "d_%s_n", id);
            stage(f, "int32_t", var, 4);
        }
    }
    for (int o = 0; o < g->noutputs; ++o) {
        hn_c_ident(id, sizeof id, g->output_names[o]);
        snprintf(var, sizeof var, "d_%s", id);
        stage(f, "float", var, 4 * hn_shape_elems(&g->tensors[g->outputs[o]].shape));
    }
    fprintf(f, "        if (");
    for (int i = 0; i < g->ninputs; ++i) {
        const hn_tensor *t = &g->tensors[g->inputs[i]];
        hn_c_ident(id, sizeof id, t->name);
        long e = hn_shape_elems(&t->shape);
        fprintf(f, "%shn_gpu_to_device(m->gpu, d_%s, in->%s + (size_t)first * %ld, sizeof(float) * (size_t)b * %ldu, err, errlen)",
                i ? " ||\n            " : "", id, id, e, e);
        if (t->masked)
            fprintf(f, " ||\n            hn_gpu_to_device(m->gpu, d_%s_n, in->%s_n + first, sizeof(int32_t) * (size_t)b, err, errlen)",
                    id, id);
    }
    fprintf(f, ")\n            return 3;\n        %s_inputs di = {", m);
    for (int i = 0; i < g->ninputs; ++i) {
        const hn_tensor *t = &g->tensors[g->inputs[i]];
        hn_c_ident(id, sizeof id, t->name);
        fprintf(f, "%s d_%s", i ? "," : "", id);
        if (t->masked) fprintf(f, ", d_%s_n", id);
    }
    fprintf(f, " };\n        %s_outputs dout = {", m);
    for (int o = 0; o < g->noutputs; ++o) {
        hn_c_ident(id, sizeof id, g->output_names[o]);
        fprintf(f, "%s d_%s", o ? "," : "", id);
    }
    fprintf(f, " };\n        int rc = %s_cuda_infer(m, &di, b, &dout, workspace, err, errlen);\n        if (rc) return rc;\n        if (", m);
    for (int o = 0; o < g->noutputs; ++o) {
        hn_c_ident(id, sizeof id, g->output_names[o]);
        long e = hn_shape_elems(&g->tensors[g->outputs[o]].shape);
        fprintf(f, "%shn_gpu_to_host(m->gpu, out->%s + (size_t)first * %ld, d_%s, sizeof(float) * (size_t)b * %ldu, err, errlen)",
                o ? " ||\n            " : "", id, e, id, e);
    }
    fprintf(f, ")\n            return 3;\n    }\n    return 0;\n}\n");
}
