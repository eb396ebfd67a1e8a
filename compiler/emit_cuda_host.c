/* emit_cuda_host.c — the host side of the CUDA target: NAME_cuda.h (the C API's twin with device
 * pointers), NAME_cuda.c (load, release, the chunk loop, the row packing, and every node's launch:
 * cuBLAS GEMMs where the runtime has cuBLAS, the plain kernels otherwise), NAME_cuda_source.c (the .cu
 * for NVRTC) and NAME_cuda_entry.c (the generic entry); with the layout of the device scratch that the
 * GEMM paths use after the plan's tensors. compiler/emit_cuda.c writes the kernels and the files. */
#include <stdlib.h>
#include <string.h>

#include "emit.h"
#include "emit_c.h"
#include "emit_cuda.h"
#include "emit_cuda_internal.h"
#include "emit_cuda_train_edgeconv.h"
#include "ops.h"
#include "ops/edge_conv_layout.h"

long hn_cuda_workspace_floats(const hn_graph *g)
{
    return g->workspace_floats + hn_cu_scratch_floats(g) + hn_cu_pack_floats(g);
}

/* The variable holding the counts this node's kernel reads (its output's set, else its first set
 * input's), "NULL" where none is masked. */
static void counts_variable(const hn_graph *g, const hn_node *n, char *var, size_t size)
{
    int set = g->tensors[n->out].shape.nset ? g->tensors[n->out].shape.set : -1;
    for (int k = 0; set < 0 && k < n->nin; ++k)
        if (g->tensors[n->in[k]].shape.nset) set = g->tensors[n->in[k]].shape.set;
    snprintf(var, size, "NULL");
    if (set >= 0 && g->tensors[g->inputs[set]].masked) {
        char sid[HN_NAME];
        hn_c_ident(sid, sizeof sid, g->tensors[g->inputs[set]].name);
        snprintf(var, size, "in->%s_n", sid);
    }
}

/* Class attention in GEMM form (cuBLAS present): keys' LayerNorm, then (host) cuBLAS for K|V of every
 * row and for the query, then the attention; scratch [batch]: u [max+1][D] | kv [max+1][2D] | q [D]. */
static long cls_scratch_floats(const hn_graph *g, const hn_node *n)
{
    const hn_tensor *x = &g->tensors[n->in[1]];
    long rows = x->shape.dim[0] + 1, D = x->shape.dim[1];
    return rows * 3 * D + D;
}

long hn_cu_scratch_floats(const hn_graph *g)
{
    long most = 0;
    for (int i = 0; i < g->nnodes; ++i)
        if (!g->nodes[i].dead && g->nodes[i].op == HN_OP_cls_attention && cls_scratch_floats(g, &g->nodes[i]) > most)
            most = cls_scratch_floats(g, &g->nodes[i]);
    return most;
}

/* Row packing: linear layers over the rows of the first masked set (one row per set row, 32 inputs or
 * more) run their GEMM on the chunk's real rows only, gathered into the scratch; the packed GEMM's output
 * goes back through the bias/activation kernel (or the fused row kernels, emit_cuda_fuse.c). Scratch per
 * event: offsets and row → event (2 + max, and 2 for alignment) and the packed rows, max · the most any
 * packed layer needs (its input and output rows, after the previous layer's when it hands over packed). */
int hn_cu_pack_set(const hn_graph *g)
{
    for (int i = 0; i < g->ninputs; ++i)
        if (g->tensors[g->inputs[i]].masked && g->tensors[g->inputs[i]].shape.nset) return i;
    return -1;
}

int hn_cu_packed_linear(const hn_graph *g, const hn_node *n)
{
    if (n->op != HN_OP_linear || hn_last_dim(&g->tensors[n->in[0]].shape) < 32) return 0;
    const hn_tensor *o = &g->tensors[n->out];
    return o->shape.nset && o->shape.set == hn_cu_pack_set(g) && hn_cu_per_row_of(o) == 1;
}

long hn_cu_pack_floats(const hn_graph *g)
{
    hn_cu_fused *plan = malloc(sizeof *plan * (size_t)(g->nnodes ? g->nnodes : 1));
    if (!plan) return 0;
    hn_cu_fusion_plan(g, plan);
    long widest = 0;
    for (int i = 0; i < g->nnodes; ++i) {
        const hn_node *n = &g->nodes[i];
        if (n->dead || !hn_cu_packed_linear(g, n)) continue;
        long x = plan[i].xoff + hn_last_dim(&g->tensors[n->in[0]].shape), y = plan[i].yoff + hn_last_dim(&g->tensors[n->out].shape);
        if (x > widest) widest = x;
        if (y > widest) widest = y;
    }
    free(plan);
    if (!widest) return 0;
    long max = g->tensors[g->inputs[hn_cu_pack_set(g)]].shape.dim[0];
    return 4 + max + max * widest;
}

/* An edge_conv in GEMM form (with cuBLAS): the shapes the training step's GEMM form takes (the kernels are
 * shared), and its set is the packed rows' (the host holds its counts) or has no counts. */
int hn_cu_edge_gemm(const hn_graph *g, const hn_node *n)
{
    if (n->op != HN_OP_edge_conv || n->dead || !hn_cu_train_edge_conv_supported(g, n)) return 0;
    const hn_tensor *o = &g->tensors[n->out];
    int masked = o->shape.nset && g->tensors[g->inputs[o->shape.set]].masked;
    return !masked || o->shape.set == hn_cu_pack_set(g);
}

/* Floats per event of one edge_conv's group scratch: offsets (with slack), neighbours, multiplicities, the
 * first conv's U'|V per point and two row buffers of the widest layer; each region rounded up to 4 floats. */
static long edge_floats(const ec_layout *L)
{
    long R = L->rows;
    return 8 + ((long)L->P * L->k + 3) + (R + 3) + ((long)L->P * 2 * L->c1 + 3) + 2 * (R * L->widest + 3);
}

long hn_cuda_edge_floats(const hn_graph *g)
{
    long most = 0;
    for (int i = 0; i < g->nnodes; ++i) {
        if (!hn_cu_edge_gemm(g, &g->nodes[i])) continue;
        ec_layout L;
        hn_ec_layout_of(g, &g->nodes[i], &L);
        if (edge_floats(&L) > most) most = edge_floats(&L);
    }
    return most;
}

/* NAME_cuda.h: the GPU object's API, the C API's twin with device pointers. */
void hn_cu_emit_header(FILE *f, const hn_graph *g, const char *spec_path)
{
    const char *m = g->name;
    fprintf(f, "/* %s_cuda.h — the model on a CUDA GPU, with the C API of %s.h. Generated by hepnc from %s; do not edit. */\n"
               "#ifndef %s_CUDA_H\n#define %s_CUDA_H\n\n#include <stddef.h>\n\n#include \"%s.h\"\n\n"
               "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n", m, m, spec_path, m, m, m);
    char upper[HN_NAME];
    hn_c_macro_prefix(upper, sizeof upper, m);
    fprintf(f, "/* Events per chunk: %s_cuda_infer runs a batch in chunks of at most this many events, so the device\n"
               " * workspace holds one chunk whatever the batch (a host may define it, e.g. -D%s_CUDA_CHUNK=1024). */\n"
               "#ifndef %s_CUDA_CHUNK\n#define %s_CUDA_CHUNK %d\n#endif\n"
               "/* Device workspace: the plan's tensors (as %s_WORKSPACE_BYTES) and %ld scratch floats per event, for one chunk",
            m, upper, upper, upper, HN_CUDA_CHUNK_DEFAULT, upper, hn_cu_scratch_floats(g) + hn_cu_pack_floats(g));
    long edge = hn_cuda_edge_floats(g);
    if (!edge)
        fprintf(f, ". */\n#define %s_CUDA_WORKSPACE_BYTES(batch) \\\n    ((size_t)((batch) < %s_CUDA_CHUNK ? (batch) : %s_CUDA_CHUNK) * %ldu)\n\n",
                upper, upper, upper, 4 * hn_cuda_workspace_floats(g));
    else
        fprintf(f, ",\n * then the EdgeConv GEMMs' scratch for a group of events. */\n"
                   "/* Events per group of the EdgeConv GEMMs (their rows share one scratch; a host may define it). */\n"
                   "#ifndef %s_CUDA_EDGE_GROUP\n#define %s_CUDA_EDGE_GROUP %d\n#endif\n"
                   "#define %s_CUDA_WORKSPACE_BYTES(batch) \\\n    ((size_t)((batch) < %s_CUDA_CHUNK ? (batch) : %s_CUDA_CHUNK) * %ldu + \\\n"
                   "     (size_t)((batch) < %s_CUDA_EDGE_GROUP ? (batch) : %s_CUDA_EDGE_GROUP) * %ldu)\n\n",
                upper, upper, HN_CUDA_EDGE_GROUP, upper, upper, upper, 4 * hn_cuda_workspace_floats(g), upper, upper, 4 * edge);
    fprintf(f, "typedef struct %s_cuda_model {\n    void *gpu;      /* hn_gpu: context, NVRTC-compiled module */\n"
               "    void *params;   /* device copy of the parameter blob */\n} %s_cuda_model;\n\n", m, m);
    fprintf(f, "/* Reads the weights (as %s_load), compiles the kernels for this GPU (cached) and uploads the weights. */\n"
               "int %s_cuda_load(%s_cuda_model *m, const char *weights_path, char *err, size_t errlen);\n"
               "void %s_cuda_release(%s_cuda_model *m);\n", m, m, m, m, m);
    fprintf(f, "/* As %s_infer, but every pointer of in and out, and workspace (%s_CUDA_WORKSPACE_BYTES(batch) bytes), is\n"
               " * device memory. Returns 0, 1 when a count is outside 0..max (all are checked before anything runs; err\n"
               " * names the event), 2 when batch < 0, 3 on a CUDA error (err says which). Synchronous. */\n"
               "int %s_cuda_infer(const %s_cuda_model *m, const %s_inputs *in, int batch, %s_outputs *out, void *workspace,\n"
               "                  char *err, size_t errlen);\n", m, upper, m, m, m, m);
    hn_cu_emit_host_io_header(f, g, upper);
    fprintf(f, "\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n");
}

/* NAME_cuda_source.c: the .cu as a C string for NVRTC at run time. */
void hn_cu_emit_source_string(FILE *f, const hn_graph *g, const char *cu, size_t len, const unsigned char *image,
                              size_t image_size)
{
    fprintf(f, "/* %s_cuda_source.c — %s.cu as a string, compiled by NVRTC at load time%s. Generated by hepnc; do not edit. */\n"
               "#include <stddef.h>\n\nconst char %s_cuda_source[] =\n\"", g->name, g->name,
            image ? ", and the ahead-of-time image nvcc built from it (loaded first)" : "", g->name);
    for (size_t i = 0; i < len; ++i) {
        unsigned char ch = (unsigned char)cu[i];
        if (ch == '\n') fputs("\\n\"\n\"", f);
        else if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch < 32 || ch > 126) fprintf(f, "\\%03o", ch);
        else fputc(ch, f);
    }
    fputs("\";\n\n", f);
    if (!image) {
        fprintf(f, "/* no ahead-of-time image (hepnc compile --aot): NVRTC compiles the source at load */\n"
                   "const unsigned char *const %s_cuda_image = NULL;\nconst size_t %s_cuda_image_size = 0;\n", g->name, g->name);
        return;
    }
    fprintf(f, "/* nvcc's fatbin of %s.cu (hepnc compile --aot) */\nstatic const unsigned char image[%zu] = {", g->name, image_size);
    for (size_t i = 0; i < image_size; ++i) fprintf(f, "%s%u,", i % 24 ? "" : "\n    ", image[i]);
    fprintf(f, "\n};\nconst unsigned char *const %s_cuda_image = image;\nconst size_t %s_cuda_image_size = sizeof image;\n",
            g->name, g->name);
}

/* NAME_cuda_entry.c: the generic entry point (hn_cuda_model_entry, hepnc/gpu.h) for hosts that handle any model. */
void hn_cu_emit_entry(FILE *f, const hn_graph *g, const char *spec_path)
{
    const char *m = g->name;
    fprintf(f, "/* %s_cuda_entry.c — the generic entry point of the GPU object (hepnc/gpu.h), for hosts that handle any model.\n"
               " * Generated by hepnc from %s; do not edit. */\n#include <stdlib.h>\n\n#include <hepnc/gpu.h>\n\n"
               "#include \"%s_cuda.h\"\n\n", m, spec_path, m);
    fprintf(f, "static int load(void **model, const char *path, char *err, size_t errlen)\n{\n"
               "    %s_cuda_model *m = calloc(1, sizeof *m);\n    if (!m) return 1;\n"
               "    if (%s_cuda_load(m, path, err, errlen)) { %s_cuda_release(m); free(m); return 1; }\n"
               "    *model = m;\n    return 0;\n}\n\n", m, m, m);
    fprintf(f, "static void release(void *model)\n{\n    if (!model) return;\n    %s_cuda_release(model);\n    free(model);\n}\n\n", m);
    fprintf(f, "static hn_gpu *gpu(void *model) { return ((%s_cuda_model *)model)->gpu; }\n\n", m);
    char upper[HN_NAME];
    hn_c_macro_prefix(upper, sizeof upper, m);
    fprintf(f, "static size_t workspace_bytes(int batch) { return %s_CUDA_WORKSPACE_BYTES(batch); }\n\n", upper);
    fprintf(f, "static size_t host_workspace_bytes(int batch) { return %s_CUDA_HOST_WORKSPACE_BYTES(batch); }\n\n", upper);
    fprintf(f, "/* The C API's structs around the entry's arrays; host: in and out are host memory. */\n"
               "static int run(int host, const void *model, const float *const *x, const int *const *counts, int batch,\n"
               "               float *const *y, void *workspace, char *err, size_t errlen)\n{\n    (void)counts;\n"
               "    %s_inputs in = {", m);
    for (int i = 0; i < g->ninputs; ++i) {
        fprintf(f, "%s x[%d]", i ? "," : "", i);
        if (g->tensors[g->inputs[i]].masked) fprintf(f, ", counts[%d]", i);
    }
    fprintf(f, " };\n    %s_outputs out = {", m);
    for (int o = 0; o < g->noutputs; ++o) fprintf(f, "%s y[%d]", o ? "," : "", o);
    fprintf(f, " };\n    return host ? %s_cuda_infer_host(model, &in, batch, &out, workspace, err, errlen)\n"
               "                : %s_cuda_infer(model, &in, batch, &out, workspace, err, errlen);\n}\n\n", m, m);
    fprintf(f, "static int infer(const void *model, const float *const *x, const int *const *counts, int batch,\n"
               "                 float *const *y, void *workspace, char *err, size_t errlen)\n{\n"
               "    return run(0, model, x, counts, batch, y, workspace, err, errlen);\n}\n\n"
               "static int infer_host(const void *model, const float *const *x, const int *const *counts, int batch,\n"
               "                      float *const *y, void *workspace, char *err, size_t errlen)\n{\n"
               "    return run(1, model, x, counts, batch, y, workspace, err, errlen);\n}\n\n");
    fprintf(f, "static const hn_cuda_model_entry entry = { HN_CUDA_MODEL_ABI, \"%s\", \"\", workspace_bytes, load, release, gpu, infer,\n"
               "                                             host_workspace_bytes, infer_host };\n\n"
               "const hn_cuda_model_entry *hepnc_cuda_model_entry(void) { return &entry; }\n", m);
}

/* pack_rows: the packed rows' offsets (from the host's copy of the counts) uploaded, row → event on the device. */
static void emit_pack_rows(FILE *f, const hn_graph *g, const char *upper, int fused)
{
    fprintf(f, "/* The real rows of a chunk's events, packed event after event: offs[e] .. offs[e+1] are event e's, row_event[p]\n"
               " * is packed row p's event, buf holds a packed layer's input and output rows. */\n"
               "typedef struct packed_rows {\n    int total;\n    int *offs, *row_event;\n    float *buf;\n} packed_rows;\n\n");
    fprintf(f, "static int pack_rows(const %s_cuda_model *m, const int32_t *counts, int batch, int max, float *region, packed_rows *pk,\n"
               "                     char *err, size_t errlen)\n{\n    int32_t offs[%s_CUDA_CHUNK + 1];\n    offs[0] = 0;\n"
               "    for (int e = 0; e < batch; ++e) offs[e + 1] = offs[e] + (counts[e] < 0 ? 0 : counts[e] > max ? max : counts[e]);\n"
               "    pk->total = offs[batch];\n    pk->offs = (int *)region;\n    pk->row_event = pk->offs + batch + 1;\n"
               "    pk->buf = region + (((size_t)batch * (max + 2) + 3) & ~(size_t)3);   /* 16-byte aligned for the float4 kernels */\n"
               "    void *args[] = { &pk->offs, &pk->row_event };\n"
               "    if (hn_gpu_to_device(m->gpu, pk->offs, offs, sizeof(int32_t) * (size_t)(batch + 1), err, errlen)) return -1;\n"
               "    return hn_gpu_launch(m->gpu, \"hn_pack_index\", (unsigned)batch, 1, 128, 0, args, err, errlen) ? -1 : 0;\n}\n\n",
            g->name, upper);
    fprintf(f, "static int aligned16(const void *p) { return ((uintptr_t)p & 15) == 0; }\n\n"
               "/* xp = the packed rows of x [batch][max][width] (float4 moves where widths and pointers allow). */\n"
               "static int gather_rows(const %s_cuda_model *m, const float *x, packed_rows *pk, int max, int width, float *xp,\n"
               "                       char *err, size_t errlen)\n{\n"
               "    int vec = width %% 4 == 0 && aligned16(x) && aligned16(xp), w = vec ? width / 4 : width;\n"
               "    void *args[] = { &x, &pk->offs, &pk->row_event, &pk->total, &max, &w, &xp };\n"
               "    return hn_gpu_launch(m->gpu, vec ? \"hn_gather_rows4\" : \"hn_gather_rows\", (unsigned)(((long)pk->total * w + 255) / 256),\n"
               "                         1, 256, 0, args, err, errlen);\n}\n\n", g->name);
    fprintf(f, "/* y [batch][max][out] = act(yp + bias) on the packed rows. */\n"
               "static int scatter_bias_act(const %s_cuda_model *m, const float *yp, packed_rows *pk, int max, int out,\n"
               "                            const float *bias, int act, float *y, char *err, size_t errlen)\n{\n"
               "    int vec = out %% 4 == 0 && bias && aligned16(yp) && aligned16(y) && aligned16(bias), w = vec ? out / 4 : out;\n"
               "    void *args[] = { &yp, &pk->offs, &pk->row_event, &pk->total, &max, &w, &bias, &act, &y };\n"
               "    return hn_gpu_launch(m->gpu, vec ? \"hn_scatter_bias_act4\" : \"hn_scatter_bias_act\",\n"
               "                         (unsigned)(((long)pk->total * w + 255) / 256), 1, 256, 0, args, err, errlen);\n}\n\n", g->name);
    if (!fused) return;
    fprintf(f, "/* A fused row kernel (a LayerNorm while gathering, or the epilogue after a GEMM): a warp per packed row of\n"
               " * src, the result in dst (packed or padded, as the kernel says); r the other operand of a fused add. */\n"
               "static int row_kernel(const %s_cuda_model *m, const char *name, const float *src, packed_rows *pk, int max,\n"
               "                      const float *r, float *dst, char *err, size_t errlen)\n{\n"
               "    const float *P = m->params;\n"
               "    void *args[] = { &P, &src, &pk->offs, &pk->row_event, &pk->total, &max, &r, &dst };\n"
               "    return hn_gpu_launch(m->gpu, name, (unsigned)(((long)pk->total * 32 + 255) / 256), 1, 256, 0, args, err, errlen);\n"
               "}\n\n", g->name);
}

/* NAME_cuda_infer: the batch in chunks of NAME_CUDA_CHUNK events, so that the device workspace holds one
 * chunk (NAME_CUDA_WORKSPACE_BYTES) whatever the batch; inputs and outputs advance by whole events. */
static void emit_chunk_loop(FILE *f, const hn_graph *g, const char *upper)
{
    const char *m = g->name;
    int masked = 0;
    for (int i = 0; i < g->ninputs; ++i) masked |= g->tensors[g->inputs[i]].masked;
    if (masked)
        fprintf(f, "/* A chunk's counts, read back from the device into host[], and the largest: the row packing and the\n"
                   " * GEMMs that skip the padding every event of the chunk has use them. Returns 1 (HN_ERR_SET_SIZE, with\n"
                   " * a message naming the event) when a count is outside 0..max, -1 when the copy fails. */\n"
                   "static int chunk_counts(const %s_cuda_model *m, const int32_t *counts, int first, int b, int max, const char *input,\n"
                   "                        int32_t *host, int *nmax, char *err, size_t errlen)\n{\n"
                   "    if (hn_gpu_to_host(m->gpu, host, counts, sizeof(int32_t) * (size_t)b, err, errlen)) return -1;\n"
                   "    *nmax = 0;\n    for (int e = 0; e < b; ++e) {\n"
                   "        if (host[e] < 0 || host[e] > max) {\n"
                   "            snprintf(err, errlen, \"%s: event %%d: %%s count %%d is outside 0..%%d\", first + e, input, (int)host[e], max);\n"
                   "            return 1;\n        }\n"
                   "        if (host[e] > *nmax) *nmax = host[e];\n    }\n    return 0;\n}\n\n", m, m);
    fprintf(f, "int %s_cuda_infer(const %s_cuda_model *m, const %s_inputs *in, int batch, %s_outputs *out, void *workspace,\n"
               "                  char *err, size_t errlen)\n{\n    if (batch < 0) return 2;\n", m, m, m, m);
    if (masked) {           /* every count checked before anything runs: nothing is written for a bad batch */
        fprintf(f, "    int32_t counts[%d][%s_CUDA_CHUNK];   /* one chunk's, per input (a single chunk's are read once) */\n"
                   "    int nmax[%d] = {", g->ninputs, upper, g->ninputs);
        for (int i = 0; i < g->ninputs; ++i) {
            const hn_tensor *t = &g->tensors[g->inputs[i]];
            fprintf(f, "%s %d", i ? "," : "", t->shape.nset ? t->shape.dim[0] : 1);
        }
        fprintf(f, " };\n    for (int first = 0; first < batch; first += %s_CUDA_CHUNK) {   /* the counts, before any launch */\n"
                   "        int b = batch - first < %s_CUDA_CHUNK ? batch - first : %s_CUDA_CHUNK, rc;\n", upper, upper, upper);
        for (int i = 0; i < g->ninputs; ++i) {
            const hn_tensor *t = &g->tensors[g->inputs[i]];
            if (!t->masked) continue;
            char id[HN_NAME];
            hn_c_ident(id, sizeof id, t->name);
            fprintf(f, "        if ((rc = chunk_counts(m, in->%s_n + first, first, b, %d, \"%s\", counts[%d], &nmax[%d], err, errlen))) "
                       "return rc < 0 ? 3 : 1;\n", id, t->shape.dim[0], t->name, i, i);
        }
        fprintf(f, "    }\n");
    }
    fprintf(f, "    for (int first = 0; first < batch; first += %s_CUDA_CHUNK) {\n"
               "        int b = batch - first < %s_CUDA_CHUNK ? batch - first : %s_CUDA_CHUNK;\n        %s_inputs ci = {",
            upper, upper, upper, m);
    for (int i = 0; i < g->ninputs; ++i) {
        const hn_tensor *t = &g->tensors[g->inputs[i]];
        char id[HN_NAME];
        hn_c_ident(id, sizeof id, t->name);
        fprintf(f, "%s in->%s + (size_t)first * %ld", i ? "," : "", id, hn_shape_elems(&t->shape));
        if (t->masked) fprintf(f, ", in->%s_n + first", id);
    }
    fprintf(f, " };\n        %s_outputs co = {", m);
    for (int o = 0; o < g->noutputs; ++o) {
        char id[HN_NAME];
        hn_c_ident(id, sizeof id, g->output_names[o]);
        fprintf(f, "%s out->%s + (size_t)first * %ld", o ? "," : "", id, hn_shape_elems(&g->tensors[g->outputs[o]].shape));
    }
    fprintf(f, " };\n");
    if (!masked) {
        fprintf(f, "        const int nmax[%d] = {", g->ninputs);
        for (int i = 0; i < g->ninputs; ++i) {
            const hn_tensor *t = &g->tensors[g->inputs[i]];
            fprintf(f, "%s %d", i ? "," : "", t->shape.nset ? t->shape.dim[0] : 1);
        }
        fprintf(f, " };\n");
    }
    for (int i = 0; i < g->ninputs; ++i) {
        const hn_tensor *t = &g->tensors[g->inputs[i]];
        if (!t->masked) continue;
        char id[HN_NAME];
        hn_c_ident(id, sizeof id, t->name);
        fprintf(f, "        if (batch > %s_CUDA_CHUNK && chunk_counts(m, ci.%s_n, first, b, %d, \"%s\", counts[%d], &nmax[%d], err, errlen))\n"
                   "            return 3;\n", upper, id, t->shape.dim[0], t->name, i, i);
    }
    char pack_counts[32] = "NULL";
    if ((hn_cu_pack_floats(g) || hn_cuda_edge_floats(g)) && hn_cu_pack_set(g) >= 0)
        snprintf(pack_counts, sizeof pack_counts, "counts[%d]", hn_cu_pack_set(g));
    fprintf(f, "        int rc = infer_chunk(m, &ci, b, nmax, %s, &co, workspace, err, errlen);\n        if (rc) return rc;\n    }\n"
               "    return hn_gpu_sync(m->gpu, err, errlen) ? 3 : 0;\n}\n", pack_counts);
}

/* The plain kernel of the node over grid × block threads (geometry 0: per_event threads per event). */
static void launch_plain(FILE *f, const hn_graph *g, const char *id, const cu_ctx *c, const char *indent, const char *suffix)
{
    fprintf(f, "%sunsigned grid = (unsigned)(((long)batch * %ld + %d - 1) / %d);\n"
               "%sif (hn_gpu_launch(m->gpu, \"%s_%s%s\", grid, 1, %d, 0, args, err, errlen)) return 3;\n",
            indent, c->per_event, c->block, c->block, indent, g->name, id, suffix, c->block);
}

/* Class attention: the GEMM form with cuBLAS (keys' LayerNorm, K|V and q GEMMs, attention), else one kernel. */
static void launch_cls_attention(FILE *f, const hn_graph *g, const hn_node *n, const char *id, const cu_ctx *c)
{
    const hn_tensor *x = &g->tensors[n->in[1]];
    int max = x->shape.dim[0], D = x->shape.dim[1];
    long W = g->params[n->param[2]].offset;
    char used[32];        /* key rows: the token and the rows up to the chunk's largest count */
    if (x->shape.nset && g->tensors[g->inputs[x->shape.set]].masked) snprintf(used, sizeof used, "nmax[%d]", x->shape.set);
    else snprintf(used, sizeof used, "%d", max);
    fprintf(f, "        if (hn_gpu_has_blas(m->gpu)) {   /* scratch: u [batch][%d][%d] | kv [batch][%d][%d] | q [batch][%d] */\n"
               "            float *s = scratch, *kv = s + (size_t)batch * %ld, *q = kv + (size_t)batch * %ld;\n"
               "            void *sargs[] = { &P, &batch, &n, &x0, &x1, &y, &s };\n"
               "            unsigned grid = (unsigned)(((long)batch * %d * 32 + 255) / 256);\n"
               "            if (hn_gpu_launch(m->gpu, \"%s_%s_keys\", grid, 1, 256, 0, sargs, err, errlen) ||\n"
               "                hn_gpu_linear_gemm_rows(m->gpu, s, P + %ld, kv, batch, %d, %s + 1, %d, %d, err, errlen) ||\n"
               "                hn_gpu_linear_gemm(m->gpu, x0, P + %ld, q, batch, %d, %d, err, errlen) ||\n"
               "                hn_gpu_launch(m->gpu, \"%s_%s_attend\", (unsigned)batch, 1, %d, 0, sargs, err, errlen)) return 3;\n"
               "        } else if (hn_gpu_launch(m->gpu, \"%s_%s\", (unsigned)batch, 1, %d, %d, args, err, errlen)) return 3;\n",
            max + 1, D, max + 1, 2 * D, D, (long)(max + 1) * D, (long)(max + 1) * 2 * D, max + 1, g->name, id,
            W + (long)D * D, max + 1, used, D, 2 * D, W, D, D, g->name, id, D, g->name, id, c->block, c->shared);
}

/* A particle-wise linear layer on the chunk's real rows: gather (with its prologue LayerNorm, or none when the
 * previous layer left the rows packed), cuBLAS GEMM, then bias + activation scattered back or the fused
 * row kernel (emit_cuda_fuse.c). */
static void launch_packed_linear(FILE *f, const hn_graph *g, const hn_cu_fused *plan, const hn_node *n, const char *id,
                                 const cu_ctx *c)
{
    const hn_cu_fused *L = &plan[n - g->nodes];
    const hn_tensor *o = &g->tensors[n->out];
    int in = hn_last_dim(&g->tensors[n->in[0]].shape), out = hn_last_dim(&o->shape), max = o->shape.dim[0];
    char bias[32] = "NULL", var[HN_NAME + 8];
    if (n->nparam > 1) snprintf(bias, sizeof bias, "P + %ld", g->params[n->param[1]].offset);
    char xp[48] = "pk.buf", yp[48] = "pk.buf";     /* packed rows: after L->xoff / L->yoff floats per row */
    if (L->xoff) snprintf(xp, sizeof xp, "pk.buf + (size_t)pk.total * %ld", L->xoff);
    if (L->yoff) snprintf(yp, sizeof yp, "pk.buf + (size_t)pk.total * %ld", L->yoff);
    fprintf(f, "        if (hn_gpu_has_blas(m->gpu)) {\n            float *xp = %s, *yp = %s;\n            if (", xp, yp);
    if (L->packed_in >= 0)
        fprintf(f, "/* xp: %s's rows, left packed */\n                ", g->nodes[L->packed_in].name);
    else if (L->prologue >= 0) {
        hn_emit_tensor_var(g, g->nodes[L->prologue].in[0], var, sizeof var);
        fprintf(f, "row_kernel(m, \"%s_%s_gather\", %s, &pk, %d, NULL, xp, err, errlen) ||\n                ", g->name, id, var,
                max);
    } else
        fprintf(f, "gather_rows(m, x0, &pk, %d, %d, xp, err, errlen) ||\n                ", max, in);
    fprintf(f, "hn_gpu_linear_gemm(m->gpu, xp, P + %ld, yp, pk.total, %d, %d, err, errlen) ||\n                ",
            g->params[n->param[0]].offset, in, out);
    if (!hn_cu_fused_epilogue(L))
        fprintf(f, "scatter_bias_act(m, yp, &pk, %d, %d, %s, %d, y, err, errlen)) return 3;\n", max, out, bias, n->act);
    else {
        char other[HN_NAME + 8] = "NULL", dst[HN_NAME + 8] = "yp";
        int t = n->out;
        for (int k = 0; k < L->nchain; ++k) {
            const hn_node *s = &g->nodes[L->chain[k]];
            if (s->nin > 1) hn_emit_tensor_var(g, s->in[s->in[0] == t], other, sizeof other);
            t = s->out;
        }
        if (!L->packed_out) hn_emit_tensor_var(g, L->result, dst, sizeof dst);
        fprintf(f, "row_kernel(m, \"%s_%s_rows\", yp, &pk, %d, %s, %s, err, errlen)) return 3;\n", g->name, id, max, other, dst);
    }
    fprintf(f, "        } else {\n");
    launch_plain(f, g, id, c, "            ", "");
    fprintf(f, "        }\n");
}

/* Another linear layer: a cuBLAS GEMM (per event up to the chunk's largest count over a masked set) and the
 * bias/activation kernel, else the plain kernel. */
static void launch_linear(FILE *f, const hn_graph *g, const hn_node *n, const char *id, const cu_ctx *c)
{
    const hn_tensor *o = &g->tensors[n->out];
    long rows = hn_cu_rows_of(o);
    int in = hn_last_dim(&g->tensors[n->in[0]].shape), out = hn_last_dim(&o->shape);
    int set = o->shape.nset && g->tensors[g->inputs[o->shape.set]].masked ? o->shape.set : -1;
    if (set >= 0)
        fprintf(f, "        if (hn_gpu_has_blas(m->gpu)) {\n"
                   "            if (hn_gpu_linear_gemm_rows(m->gpu, x0, P + %ld, y, batch, %ld, nmax[%d] * %ld, %d, %d, err, errlen)) return 3;\n",
                g->params[n->param[0]].offset, rows, set, hn_cu_per_row_of(o), in, out);
    else
        fprintf(f, "        if (hn_gpu_has_blas(m->gpu)) {\n"
                   "            if (hn_gpu_linear_gemm(m->gpu, x0, P + %ld, y, (long)batch * %ld, %d, %d, err, errlen)) return 3;\n",
                g->params[n->param[0]].offset, rows, in, out);
    if (hn_cu_linear_has_epilogue(n)) launch_plain(f, g, id, c, "            ", "_epilogue");
    fprintf(f, "        } else {\n");
    launch_plain(f, g, id, c, "            ", "");
    fprintf(f, "        }\n");
}

/* ParticleNet's EdgeConv in GEMM form (cuBLAS; templates/cuda/edgeconv_gemm.cuh), per group of events: the
 * rows' offsets from the host counts, kNN, U'|V per point (one GEMM per half of the folded W₁), the edge rows
 * with b₁ and ReLU, each further conv a GEMM over every row + folded bias + ReLU, the shortcut conv (+ bias)
 * into y, then y = ReLU(shortcut + mean over the neighbours); else the block-per-particle kernel. */
static void launch_edge_conv(FILE *f, const hn_graph *g, const hn_node *n, const char *id, const cu_ctx *c)
{
    ec_layout L;
    hn_ec_layout_of(g, n, &L);
    char G[HN_NAME + 24];
    hn_c_macro_prefix(G, sizeof G, g->name);
    strcat(G, "_CUDA_EDGE_GROUP");
    long R = L.rows;
    fprintf(f, "        if (hn_gpu_has_blas(m->gpu)) {   /* the GEMM form, %s events at a time */\n"
               "            int ec_hoffs[%s + 1];\n"
               "            size_t eg = batch < %s ? (size_t)batch : %s;   /* the scratch holds eg events' rows */\n"
               "            int *ec_offs = (int *)edge_ws, *ec_nb = ec_offs + ((eg + 4) & ~(size_t)3);\n"
               "            float *ec_w = (float *)(ec_nb + ((eg * %d + 3) & ~(size_t)3));\n"
               "            float *ec_uv = ec_w + ((eg * %ld + 3) & ~(size_t)3);\n"
               "            float *ec_a = ec_uv + ((eg * %ld + 3) & ~(size_t)3);\n"
               "            float *ec_b = ec_a + ((eg * %ld + 3) & ~(size_t)3);\n"
               "            for (int e0 = 0; e0 < batch; e0 += %s) {\n"
               "                int ge = batch - e0 < %s ? batch - e0 : %s;\n"
               "                const float *gx = x0 + (size_t)e0 * %ld, *gp = x1 + (size_t)e0 * %ld;\n"
               "                const int32_t *gn = n ? n + e0 : NULL;\n"
               "                float *gy = y + (size_t)e0 * %ld;\n                long rows;\n",
            G, G, G, G, L.P * L.k, R, (long)L.P * 2 * L.c1, R * L.widest, G, G, G,
            (long)L.P * L.C, (long)L.P * L.Pd, (long)L.P * L.cout);
    long w1 = g->params[n->param[0]].offset, b1 = g->params[n->param[5]].offset;
    fprintf(f, "                if (hn_gt_ec_offsets(m->gpu, gn && pack_counts ? pack_counts + e0 : NULL, ge, %d, %d, ec_hoffs, ec_offs, "
               "&rows, err, errlen) ||\n"
               "                    hn_gt_ec_knn(m->gpu, gp, gn, ge, %d, %d, %d, ec_nb, err, errlen) ||\n"
               "                    /* U'_i = (Wa − Wb)·x_i | V_i = Wb·x_i: the two halves of the folded W₁ */\n"
               "                    hn_gpu_gemm(m->gpu, 0, 1, ge * %d, %d, %d, 1.0f, gx, %d, P + %ld, %d, 0.0f, ec_uv, %d, err, errlen) ||\n"
               "                    hn_gpu_gemm(m->gpu, 0, 1, ge * %d, %d, %d, 1.0f, gx, %d, P + %ld, %d, 0.0f, ec_uv + %d, %d, err, errlen) ||\n"
               "                    edge_rows(m, ec_uv, gn, ge, %d, %d, %d, ec_offs, %ld, ec_nb, P + %ld, ec_a, ec_w, err, errlen)",
            L.P, L.k, L.P, L.Pd, L.k, L.P, L.c1, L.C, L.C, w1, 2 * L.C, 2 * L.c1, L.P, L.c1, L.C, L.C, w1 + L.C, 2 * L.C,
            L.c1, 2 * L.c1, L.P, L.k, L.c1, R, b1);
    const char *cur = "ec_a", *next = "ec_b";
    for (int l = 1; l < L.L; ++l) {
        fprintf(f, " ||\n                    /* conv %d: a GEMM over every row, its folded bias, ReLU */\n"
                   "                    hn_gpu_linear_gemm(m->gpu, %s, P + %ld, %s, rows, %d, %d, err, errlen) ||\n"
                   "                    rows_bias_act(m, %s, rows, %d, P + %ld, 1, err, errlen)",
                l + 1, cur, g->params[n->param[6 * l]].offset, next, L.w[l - 1], L.w[l], next, L.w[l],
                g->params[n->param[6 * l + 5]].offset);
        const char *t = cur;
        cur = next, next = t;
    }
    if (L.sc)
        fprintf(f, " ||\n                    /* the shortcut conv and its folded bias, into y */\n"
                   "                    hn_gpu_linear_gemm(m->gpu, gx, P + %ld, gy, (long)ge * %d, %d, %d, err, errlen) ||\n"
                   "                    rows_bias_act(m, gy, (long)ge * %d, %d, P + %ld, 0, err, errlen)",
                g->params[n->param[6 * L.L]].offset, L.P, L.C, L.cout, L.P, L.cout, g->params[n->param[6 * L.L + 5]].offset);
    fprintf(f, " ||\n                    hn_gt_ec_output(m->gpu, %s, ec_w, gn, ge, %d, %d, %d, ec_offs, %s, %d, gy, err, errlen))\n"
               "                    return 3;\n            }\n        } else if (hn_gpu_launch(m->gpu, \"%s_%s\", %ld, (unsigned)batch, %d, 0, args, "
               "err, errlen)) return 3;\n",
            cur, L.P, L.k, L.cout, L.sc ? "NULL" : "gx", L.C, g->name, id, c->per_event, c->block);
}

void hn_cu_emit_launch(FILE *f, const hn_graph *g, const hn_cu_fused *plan, const hn_node *n, const cu_ctx *c)
{
    char counts_var[HN_NAME + 16];
    counts_variable(g, n, counts_var, sizeof counts_var);
    char id[HN_NAME], var[HN_NAME + 8];
    hn_c_ident(id, sizeof id, n->name);
    fprintf(f, "    {   /* %s */\n", n->name);
    for (int k = 0; k < n->nin; ++k) {
        hn_emit_tensor_var(g, n->in[k], var, sizeof var);
        fprintf(f, "        const float *x%d = %s;\n", k, var);
    }
    hn_emit_tensor_var(g, n->out, var, sizeof var);
    fprintf(f, "        float *y = %s;\n        const int32_t *n = %s;\n        void *args[] = { &P, &batch, &n", var, counts_var);
    for (int k = 0; k < n->nin; ++k) fprintf(f, ", &x%d", k);
    fprintf(f, ", &y };\n");
    int narrow = n->op == HN_OP_linear && hn_last_dim(&g->tensors[n->in[0]].shape) < 32;
    int by = plan[n - g->nodes].absorbed_by;
    if (by >= 0) {                      /* with cuBLAS, computed in a packed linear layer's passes */
        fprintf(f, "        if (!hn_gpu_has_blas(m->gpu)) {   /* with cuBLAS: in %s's row kernels */\n", g->nodes[by].name);
        launch_plain(f, g, id, c, "            ", "");
        fprintf(f, "        }\n");
    } else if (n->op == HN_OP_cls_attention) launch_cls_attention(f, g, n, id, c);
    else if (narrow) launch_plain(f, g, id, c, "        ", "");     /* narrow inputs: the plain kernel */
    else if (hn_cu_packed_linear(g, n)) launch_packed_linear(f, g, plan, n, id, c);
    else if (n->op == HN_OP_linear) launch_linear(f, g, n, id, c);
    else if (hn_cu_edge_gemm(g, n)) launch_edge_conv(f, g, n, id, c);
    else if (c->geom == 0) launch_plain(f, g, id, c, "        ", "");
    else if (c->geom == 1)              /* pair tiles: grid x · batch */
        fprintf(f, "        if (hn_gpu_launch(m->gpu, \"%s_%s\", %ld, (unsigned)batch, 64, 0, args, err, errlen)) return 3;\n",
                g->name, id, ((c->uu_pairs ? c->per_event * c->per_event : c->per_event * (c->per_event + 1) / 2) + 31) / 32);
    else if (c->geom == 3 || c->geom == 4)   /* a block per particle, or per_event blocks, of every event */
        fprintf(f, "        if (hn_gpu_launch(m->gpu, \"%s_%s\", %ld, (unsigned)batch, %d, 0, args, err, errlen)) return 3;\n",
                g->name, id, c->per_event, c->block);
    else                                /* a block per event */
        fprintf(f, "        if (hn_gpu_launch(m->gpu, \"%s_%s\", (unsigned)batch, 1, %d, %d, args, err, errlen)) return 3;\n",
                g->name, id, c->block, c->shared);
    fprintf(f, "    }\n");
}

/* The EdgeConv GEMM form's two kernels (templates/cuda/edgeconv_gemm.cuh). */
static void emit_edge_helpers(FILE *f, const hn_graph *g)
{
    fprintf(f, "/* The first layer's edge rows of a group of events: ReLU(U'_i + V_j + b) and the multiplicities. */\n"
               "static int edge_rows(const %s_cuda_model *m, const float *uv, const int32_t *n, int batch, int max, int k, int c1,\n"
               "                     const int *offs, long rows_per_event, const int *nb, const float *bias, float *Z, float *w,\n"
               "                     char *err, size_t errlen)\n{\n"
               "    void *args[] = { &uv, &n, &batch, &max, &k, &c1, &offs, &nb, &bias, &Z, &w };\n"
               "    return hn_gpu_launch(m->gpu, \"hn_ec_edge_rows\", (unsigned)((rows_per_event * c1 + 255) / 256), (unsigned)batch, 256, 0,\n"
               "                         args, err, errlen);\n}\n\n", g->name);
    fprintf(f, "/* y = act(y + bias) over rows × dim, after a GEMM. */\n"
               "static int rows_bias_act(const %s_cuda_model *m, float *y, long rows, int dim, const float *bias, int act,\n"
               "                         char *err, size_t errlen)\n{\n"
               "    void *args[] = { &y, &rows, &dim, &bias, &act };\n"
               "    return hn_gpu_launch(m->gpu, \"hn_rows_bias_act\", (unsigned)((rows * dim + 255) / 256), 1, 256, 0, args, err, errlen);\n"
               "}\n\n", g->name);
}

/* NAME_cuda.c up to the launches: includes, load and release, the packing helpers, and the start of
 * infer_chunk (the scratch, the packed rows, a pointer per tensor of the plan). */
void hn_cu_emit_host_start(FILE *h, const hn_graph *g, const char *spec_path, const hn_cu_fused *plan)
{
    const char *m = g->name;
    fprintf(h, "/* %s_cuda.c — host side of the GPU object: loads, compiles (NVRTC, cached) and launches %s.cu's\n"
               " * kernels in graph order. Generated by hepnc from %s; do not edit. */\n"
               "#include <stdint.h>\n#include <stdio.h>\n\n#include <hepnc/gpu.h>\n%s\n#include \"%s_cuda.h\"\n\n"
               "extern const char %s_cuda_source[];\nextern const unsigned char *const %s_cuda_image;   /* NULL: none (NVRTC only) */\n"
               "extern const size_t %s_cuda_image_size;\n\n", m, m, spec_path,
            hn_cuda_edge_floats(g) ? "#include <hepnc/gpu_train_edgeconv.h>   /* kNN and the edge rows' output */\n" : "", m, m,
            m, m);
    char upper[HN_NAME];
    hn_c_macro_prefix(upper, sizeof upper, m);
    fprintf(h, "int %s_cuda_load(%s_cuda_model *m, const char *weights_path, char *err, size_t errlen)\n{\n"
               "    %s_model host;\n    if (%s_load(&host, weights_path, err, errlen)) return 1;\n"
               "    m->params = NULL;\n"
               "    m->gpu = hn_gpu_open_image(%s_cuda_source, %s_cuda_image, %s_cuda_image_size, \"%s\", NULL, err, errlen);\n"
               "    int rc = !m->gpu || hn_gpu_alloc(m->gpu, &m->params, sizeof(float) * %s_PARAM_FLOATS, err, errlen) ||\n"
               "             hn_gpu_to_device(m->gpu, m->params, host.params, sizeof(float) * %s_PARAM_FLOATS, err, errlen);\n"
               "    %s_release(&host);\n    return rc;\n}\n\n", m, m, m, m, m, m, m, m, upper, upper, m);
    fprintf(h, "void %s_cuda_release(%s_cuda_model *m)\n{\n    if (m->gpu) hn_gpu_free(m->gpu, m->params);\n"
               "    hn_gpu_close(m->gpu);\n    m->gpu = m->params = NULL;\n}\n\n", m, m);
    int fused = 0;
    for (int i = 0; i < g->nnodes; ++i) fused |= plan[i].prologue >= 0 || hn_cu_fused_epilogue(&plan[i]);
    if (hn_cu_pack_floats(g)) emit_pack_rows(h, g, upper, fused);
    if (hn_cuda_edge_floats(g)) emit_edge_helpers(h, g);
    fprintf(h, "/* One chunk of at most %s_CUDA_CHUNK events: every kernel launched in graph order (asynchronous); nmax[i]:\n"
               " * the chunk's largest count of set input i (GEMMs skip the rows past it in every event). */\n"
               "static int infer_chunk(const %s_cuda_model *m, const %s_inputs *in, int batch, const int *nmax,\n"
               "                       const int32_t *pack_counts, %s_outputs *out, void *workspace, char *err, size_t errlen)\n{\n"
               "    const float *P = m->params;\n    float *ws = workspace;\n    (void)ws, (void)nmax, (void)pack_counts;\n",
               upper, m, m, m);
    if (hn_cu_scratch_floats(g))
        fprintf(h, "    float *scratch = ws + (size_t)batch * %ld;   /* after the plan's tensors: class attention's GEMM form */\n",
                g->workspace_floats);
    if (hn_cu_pack_floats(g))
        fprintf(h, "    packed_rows pk;   /* the chunk's real rows of '%s', for the GEMMs of linear layers */\n"
                   "    if (pack_rows(m, pack_counts, batch, %d, ws + (size_t)batch * %ld, &pk, err, errlen)) return 3;\n",
                g->tensors[g->inputs[hn_cu_pack_set(g)]].name, g->tensors[g->inputs[hn_cu_pack_set(g)]].shape.dim[0],
                g->workspace_floats + hn_cu_scratch_floats(g));
    if (hn_cuda_edge_floats(g))
        fprintf(h, "    float *edge_ws = ws + (size_t)batch * %ld;   /* after the chunk's: the EdgeConv GEMMs' group scratch */\n",
                hn_cuda_workspace_floats(g));
    for (int t = 0; t < g->ntensors; ++t) {
        const hn_tensor *x = &g->tensors[t];
        if (x->offset < 0) continue;
        char var[HN_NAME + 8];
        hn_emit_tensor_var(g, t, var, sizeof var);
        fprintf(h, "    float *%s = ws + (size_t)batch * %ld;\n", var, x->offset);
    }
}

/* The end of infer_chunk, and NAME_cuda_infer (the chunk loop). */
void hn_cu_emit_host_end(FILE *h, const hn_graph *g)
{
    char upper[HN_NAME];
    hn_c_macro_prefix(upper, sizeof upper, g->name);
    fprintf(h, "    return 0;\n}\n\n");
    emit_chunk_loop(h, g, upper);
    hn_cu_emit_infer_host(h, g, upper);
}
