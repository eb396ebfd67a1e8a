/* test_interaction.c — IAFormer's GPU kernels (templates/cuda/interaction.cuh) against the C kernels
 * (templates/c/interaction.h) on random data, on shapes the parity model does not reach:
 *   - pair features: padded particles (E = 0) at the end and in the middle, counts NULL and given (0, 1, max);
 *   - interaction embedding + logits: the paper's widths (6 → 256 → 128 → 64, 4 × 32 maps), the small model's,
 *     and widths that are no power of two (the thread groups of hn_cu_ia_layer), tiles of zero pairs and
 *     mixed ones, counts NULL and given;
 *   - differential attention: head widths 2, 4 and 8 (lanes over keys) and 16 and 64 (lanes over columns),
 *     counts 0, 1, 33 and max up to 150, logits of every layer of a multi-layer tensor.
 *
 *   test_interaction TEMPLATES_CUDA_DIR
 *
 * Per case: every element the kernel must write within the case's tolerance (pair features 1e-4 absolute, as the
 * features' parity against upstream: the GPU's atan2f and asinhf round differently from the host's; logits and
 * attention 1e-5 of the largest |value|); elements past the count, which it must not write, still hold their NaN;
 * a second run gives the same bytes. Exit 0 when every check holds, 1 when one fails, 77 where no GPU (nor
 * HEPNC_GPU_EMULATE) exists. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hepnc/gpu.h>

#include "unit_kernels.h"
#include "interaction.h"

#define TOL_FEATURES 1e-4
#define TOL 1e-5
#define MAX_LAYERS 4

/* The kernel bodies of an inference NAME.cu, then wrappers as compiler/emit_cuda.c writes them; the embedding's
 * weights are offsets into one parameter buffer, listed in `meta` (nlayers, dims[nlayers + 1], the offsets of
 * W and B per layer, nproj, nout[nproj], the offsets of Wp and Bp per projection). */
static char *kernel_source(const char *dir)
{
    static const char *const parts[] = { "common.cuh", "interaction.cuh" };
    static const char wrappers[] =
        "extern \"C\" __global__ void ia_pairs(const float *p4, const int *n, int max, float *y)\n"
        "{ hn_cu_ia_pair_features(p4, n, max, y); }\n"
        "extern \"C\" __global__ void ia_logits(const float *P, const int *meta, const float *pairs, const int *n, int max, int nfeat,\n"
        "                                       float *L)\n"
        "{\n"
        "    const int nl = meta[0], *dims = meta + 1, *off = dims + nl + 1, np = off[2 * nl], *nout = off + 2 * nl + 1,\n"
        "              *poff = nout + np;\n"
        "    const float *W[4], *B[4], *Wp[8], *Bp[8];\n"
        "    for (int l = 0; l < nl; ++l) W[l] = P + off[2 * l], B[l] = P + off[2 * l + 1];\n"
        "    for (int p = 0; p < np; ++p) Wp[p] = P + poff[2 * p], Bp[p] = P + poff[2 * p + 1];\n"
        "    hn_cu_interaction_logits(pairs, n, max, nfeat, nl, dims, W, B, np, nout, Wp, Bp, L);\n"
        "}\n";
    static const int widths[] = { 2, 4, 8, 16, 64 };   /* a wrapper per head width, written out (the emulator reads them) */
    char attention[2048] = "";
    for (size_t k = 0; k < sizeof widths / sizeof *widths; ++k)
        snprintf(attention + strlen(attention), sizeof attention - strlen(attention),
                 "extern \"C\" __global__ void ia_attention_d%d(const float *v, const int *n, int max, int heads, const float *L,\n"
                 "    long maps, const float *lq, const float *lk, int len, int depth, float *y)\n"
                 "{ hn_cu_diff_attention<%d>(v, n, max, heads, L, maps, lq, lk, len, depth, y); }\n", widths[k], widths[k]);
    char *body = unit_kernel_source(dir, parts, sizeof parts / sizeof *parts);
    if (!body) return NULL;
    char *src = malloc(strlen(body) + sizeof wrappers + strlen(attention));
    if (src) strcpy(src, body), strcat(src, wrappers), strcat(src, attention);
    free(body);
    return src;
}

static double worst_features, worst_logits, worst_attention;

/* Device copies of host arrays; every allocation is recorded for release. */
typedef struct devs {
    void *p[16];
    int n;
} devs;

static void *to_dev(hn_gpu *g, devs *d, const void *host, size_t bytes, int *rc, char *err, size_t errlen)
{
    void *p = NULL;
    if (*rc) return NULL;
    if (hn_gpu_alloc(g, &p, bytes ? bytes : 4, err, errlen) || (host && hn_gpu_to_device(g, p, host, bytes, err, errlen))) {
        *rc = 1;
        return NULL;
    }
    d->p[d->n++] = p;
    return p;
}

static void release(hn_gpu *g, devs *d)
{
    for (int i = 0; i < d->n; ++i) hn_gpu_free(g, d->p[i]);
    d->n = 0;
}

/* Launches `name` twice over `out` (filled with NaN first), copying the results into a and b. */
static int launch_twice(hn_gpu *g, const char *name, unsigned gx, unsigned gy, unsigned bx, unsigned shared, void **args,
                        float *out_d, size_t count, float *a, float *b, char *err, size_t errlen)
{
    float *nan = malloc(sizeof(float) * count);
    for (size_t i = 0; i < count; ++i) nan[i] = NAN;
    int rc = 0;
    for (int k = 0; k < 2 && !rc; ++k)
        rc = hn_gpu_to_device(g, out_d, nan, sizeof(float) * count, err, errlen) ||
             hn_gpu_launch(g, name, gx, gy, bx, shared, args, err, errlen) || hn_gpu_sync(g, err, errlen) ||
             hn_gpu_to_host(g, k ? b : a, out_d, sizeof(float) * count, err, errlen);
    free(nan);
    return rc;
}

/* written[i]: the element must be written (compared), else it must still be NaN. */
static void compare(const char *what, const char *name, const float *gpu, const float *gpu2, const float *ref,
                    const unsigned char *written, size_t count, double tol, int relative, double *worst_out)
{
    double big = 0.0, worst = 0.0;
    int untouched = 1;
    for (size_t i = 0; i < count; ++i)
        if (written[i]) big = fmax(big, fabs((double)ref[i]));
    for (size_t i = 0; i < count; ++i) {
        if (!written[i]) { untouched &= isnan(gpu[i]); continue; }
        double d = fabs((double)gpu[i] - (double)ref[i]);
        worst = d == d ? fmax(worst, d) : INFINITY;
    }
    if (relative) worst /= fmax(big, 1e-30);
    *worst_out = fmax(*worst_out, worst);
    report(worst <= tol, "%-12s %-44s max %s diff %.3g", what, name, relative ? "rel" : "abs", worst);
    report(untouched, "%-12s %-44s elements past the count left unwritten", what, name);
    report(!memcmp(gpu, gpu2, sizeof(float) * count), "%-12s %-44s a second run gives the same bytes", what, name);
}

/* ---- pair features -------------------------------------------------------------------------------------- */

typedef struct pcase {
    const char *name;
    int batch, max;
    int counts[4];              /* -1: counts NULL */
    int real;                   /* counts NULL: the particles before the padding */
    int hole;                   /* a padded particle (E = 0) in the middle of each event */
} pcase;

/* Random massive 4-vectors: pT 1–200 GeV, |η| < 2.5, random φ; padding rows zero. */
static void random_p4(float *v, int count, int max, int hole)
{
    for (int a = 0; a < max; ++a) {
        float *p = v + (size_t)a * 4;
        if (a >= count || (hole && a == count / 2)) { p[0] = p[1] = p[2] = p[3] = 0.0f; continue; }
        float pt = unit_uniform(1.0f, 200.0f), eta = unit_uniform(-2.5f, 2.5f), phi = unit_uniform(-3.14159f, 3.14159f);
        float m = unit_uniform(0.0f, 0.5f);
        p[0] = pt * cosf(phi), p[1] = pt * sinf(phi), p[2] = pt * sinhf(eta);
        p[3] = sqrtf(p[0] * p[0] + p[1] * p[1] + p[2] * p[2] + m * m);
    }
}

static void run_pairs(hn_gpu *g, const pcase *c)
{
    char err[4096] = "";
    const int max = c->max;
    const size_t n_p4 = (size_t)c->batch * max * 4, n_out = (size_t)c->batch * max * max * HN_IA_PAIR_NUM;
    int cnt[4];
    float *p4 = malloc(sizeof(float) * n_p4), *ref = calloc(n_out, sizeof(float));
    float *out = malloc(sizeof(float) * n_out), *out2 = malloc(sizeof(float) * n_out);
    unsigned char *written = calloc(n_out, 1);
    for (int b = 0; b < c->batch; ++b) {
        cnt[b] = c->counts[0] < 0 ? max : c->counts[b];
        float *v = p4 + (size_t)b * max * 4, pt[max], eta[max], phi[max], jet[2];
        int real[max];
        random_p4(v, c->counts[0] < 0 ? c->real : cnt[b], max, c->hole);
        hn_k_ia_pair_prepare(v, cnt[b], pt, eta, phi, real, jet);
        for (int a = 0; a < cnt[b]; ++a)
            for (int k = 0; k < cnt[b]; ++k) {
                size_t at = (((size_t)b * max + a) * max + k) * HN_IA_PAIR_NUM;
                hn_k_ia_pair_features(v, pt, eta, phi, real, jet, a, k, ref + at);
                memset(written + at, 1, HN_IA_PAIR_NUM);
            }
    }
    devs d = { .n = 0 };
    int rc = 0;
    float *p4_d = to_dev(g, &d, p4, sizeof(float) * n_p4, &rc, err, sizeof err);
    float *out_d = to_dev(g, &d, NULL, sizeof(float) * n_out, &rc, err, sizeof err);
    int *n_d = to_dev(g, &d, cnt, sizeof(int) * (size_t)c->batch, &rc, err, sizeof err), *n_arg = c->counts[0] < 0 ? NULL : n_d;
    int maxv = max;
    void *args[] = { &p4_d, &n_arg, &maxv, &out_d };
    if (!rc) rc = launch_twice(g, "ia_pairs", (unsigned)c->batch, 1, 256, (unsigned)(4 * max + 2) * 4, args, out_d, n_out, out,
                               out2, err, sizeof err);
    if (rc) report(0, "%-12s %-44s GPU run: %s", "pairs", c->name, err);
    else compare("pairs", c->name, out, out2, ref, written, n_out, TOL_FEATURES, 0, &worst_features);
    release(g, &d);
    free(p4), free(ref), free(out), free(out2), free(written);
}

/* ---- interaction embedding and logits ---------------------------------------------------------------------- */

typedef struct lcase {
    const char *name;
    int batch, max, nlayers, dims[MAX_LAYERS + 1], nproj, nout[8];
    int counts[4];              /* -1: counts NULL */
    int real[4];                /* the real particles of each event (pairs among them have features) */
} lcase;

static void run_logits(hn_gpu *g, const lcase *c)
{
    char err[4096] = "";
    const int max = c->max, nfeat = c->dims[0], nl = c->nlayers, np = c->nproj, width = c->dims[nl];
    int total = 0;
    for (int p = 0; p < np; ++p) total += c->nout[p];
    /* the parameters, one buffer, and meta as the wrapper reads it */
    size_t nparam = 0;
    int meta[64], m = 0, offs[2 * (MAX_LAYERS + 8)];
    for (int l = 0; l < nl; ++l) {
        offs[2 * l] = (int)nparam, nparam += (size_t)c->dims[l + 1] * c->dims[l];
        offs[2 * l + 1] = (int)nparam, nparam += (size_t)c->dims[l + 1];
    }
    for (int p = 0; p < np; ++p) {
        offs[2 * (nl + p)] = (int)nparam, nparam += (size_t)c->nout[p] * width;
        offs[2 * (nl + p) + 1] = (int)nparam, nparam += (size_t)c->nout[p];
    }
    meta[m++] = nl;
    for (int l = 0; l <= nl; ++l) meta[m++] = c->dims[l];
    for (int l = 0; l < 2 * nl; ++l) meta[m++] = offs[l];
    meta[m++] = np;
    for (int p = 0; p < np; ++p) meta[m++] = c->nout[p];
    for (int p = 0; p < 2 * np; ++p) meta[m++] = offs[2 * nl + p];
    float *P = malloc(sizeof(float) * nparam);
    unit_fill(P, nparam, -0.3f, 0.3f);
    const float *W[MAX_LAYERS], *B[MAX_LAYERS], *Wp[8], *Bp[8];
    for (int l = 0; l < nl; ++l) W[l] = P + offs[2 * l], B[l] = P + offs[2 * l + 1];
    for (int p = 0; p < np; ++p) Wp[p] = P + offs[2 * (nl + p)], Bp[p] = P + offs[2 * (nl + p) + 1];
    const hn_k_pair_mlp mlp = { nfeat, NULL, NULL, NULL, NULL, nl, c->dims, W, B };

    const size_t n_pairs = (size_t)c->batch * max * max * nfeat, n_out = (size_t)c->batch * total * max * max;
    int cnt[4];
    float *pairs = calloc(n_pairs, sizeof(float)), *ref = malloc(sizeof(float) * n_out);
    float *out = malloc(sizeof(float) * n_out), *out2 = malloc(sizeof(float) * n_out);
    unsigned char *written = calloc(n_out, 1);
    for (size_t i = 0; i < n_out; ++i) ref[i] = NAN;
    for (int b = 0; b < c->batch; ++b) {
        cnt[b] = c->counts[0] < 0 ? max : c->counts[b];
        float *f = pairs + (size_t)b * max * max * nfeat;
        for (int a = 0; a < c->real[b]; ++a)          /* symmetric features among the real particles, zero diagonal */
            for (int k = 0; k < a; ++k)
                for (int q = 0; q < nfeat; ++q) {
                    float v = unit_uniform(-3.0f, 3.0f);
                    f[((size_t)a * max + k) * nfeat + q] = f[((size_t)k * max + a) * nfeat + q] = v;
                }
        hn_k_interaction_logits(f, cnt[b], max, &mlp, np, c->nout, Wp, Bp, ref + (size_t)b * total * max * max);
        for (int o = 0; o < total; ++o)
            for (int a = 0; a < cnt[b]; ++a)
                memset(written + (((size_t)b * total + o) * max + a) * max, 1, (size_t)cnt[b]);
    }
    devs d = { .n = 0 };
    int rc = 0;
    float *P_d = to_dev(g, &d, P, sizeof(float) * nparam, &rc, err, sizeof err);
    int *meta_d = to_dev(g, &d, meta, sizeof(int) * (size_t)m, &rc, err, sizeof err);
    float *pairs_d = to_dev(g, &d, pairs, sizeof(float) * n_pairs, &rc, err, sizeof err);
    float *out_d = to_dev(g, &d, NULL, sizeof(float) * n_out, &rc, err, sizeof err);
    int *n_d = to_dev(g, &d, cnt, sizeof(int) * (size_t)c->batch, &rc, err, sizeof err), *n_arg = c->counts[0] < 0 ? NULL : n_d;
    int maxv = max, nfeatv = nfeat;
    void *args[] = { &P_d, &meta_d, &pairs_d, &n_arg, &maxv, &nfeatv, &out_d };
    unsigned tiles = (unsigned)(((long)max * (max + 1) / 2 + 15) / 16);   /* HN_CU_IA_TILE pairs a block */
    if (!rc) rc = launch_twice(g, "ia_logits", tiles, (unsigned)c->batch, 256, 0, args, out_d, n_out, out, out2, err, sizeof err);
    if (rc) report(0, "%-12s %-44s GPU run: %s", "logits", c->name, err);
    else compare("logits", c->name, out, out2, ref, written, n_out, TOL, 1, &worst_logits);
    release(g, &d);
    free(P), free(pairs), free(ref), free(out), free(out2), free(written);
}

/* ---- differential attention ---------------------------------------------------------------------------- */

typedef struct acase {
    const char *name;
    int batch, max, heads, dv, layers, layer;
    int counts[4];              /* -1: counts NULL */
} acase;

static void run_attention(hn_gpu *g, const acase *c)
{
    char err[4096] = "";
    const int max = c->max, D = c->heads * c->dv, len = 100, depth = c->layers;
    const long maps = (long)2 * c->heads * c->layers * max * max;
    const size_t n_v = (size_t)c->batch * max * D, n_L = (size_t)c->batch * maps;
    int cnt[4];
    float *v = malloc(sizeof(float) * n_v), *L = malloc(sizeof(float) * n_L), *ref = malloc(sizeof(float) * n_v);
    float *out = malloc(sizeof(float) * n_v), *out2 = malloc(sizeof(float) * n_v), lam[2 * 100];
    unsigned char *written = calloc(n_v, 1);
    unit_fill(v, n_v, -1.5f, 1.5f);
    unit_fill(L, n_L, -3.0f, 3.0f);
    unit_fill(lam, 2 * len, -0.2f, 0.2f);
    const float beta = hn_k_diff_beta(lam, lam + len, len, depth);
    for (size_t i = 0; i < n_v; ++i) ref[i] = NAN;
    const long map0 = (long)2 * c->heads * c->layer * max * max;
    for (int b = 0; b < c->batch; ++b) {
        cnt[b] = c->counts[0] < 0 ? max : c->counts[b];
        hn_k_diff_attention(v + (size_t)b * max * D, cnt[b], c->heads, c->dv, L + (size_t)b * maps + map0, max, beta,
                            ref + (size_t)b * max * D);
        memset(written + (size_t)b * max * D, 1, (size_t)cnt[b] * D);
    }
    devs d = { .n = 0 };
    int rc = 0;
    float *v_d = to_dev(g, &d, v, sizeof(float) * n_v, &rc, err, sizeof err);
    float *L_d = to_dev(g, &d, L, sizeof(float) * n_L, &rc, err, sizeof err);
    float *lam_d = to_dev(g, &d, lam, sizeof lam, &rc, err, sizeof err);
    float *out_d = to_dev(g, &d, NULL, sizeof(float) * n_v, &rc, err, sizeof err);
    int *n_d = to_dev(g, &d, cnt, sizeof(int) * (size_t)c->batch, &rc, err, sizeof err), *n_arg = c->counts[0] < 0 ? NULL : n_d;
    const float *L_layer = L_d ? L_d + map0 : NULL, *lq = lam_d, *lk = lam_d ? lam_d + len : NULL;
    int maxv = max, heads = c->heads, lenv = len, depthv = depth;
    long mapsv = maps;
    void *args[] = { &v_d, &n_arg, &maxv, &heads, &L_layer, &mapsv, &lq, &lk, &lenv, &depthv, &out_d };
    char name[32];
    snprintf(name, sizeof name, "ia_attention_d%d", c->dv);
    unsigned grid = (unsigned)(c->heads * ((max + 3) / 4));   /* HN_CU_DA_WARPS queries per block */
    if (!rc) rc = launch_twice(g, name, grid, (unsigned)c->batch, 128, 0, args, out_d, n_v, out, out2, err, sizeof err);
    if (rc) report(0, "%-12s %-44s GPU run: %s", "attention", c->name, err);
    else compare("attention", c->name, out, out2, ref, written, n_v, TOL, 1, &worst_attention);
    release(g, &d);
    free(v), free(L), free(ref), free(out), free(out2), free(written);
}

int main(int argc, char **argv)
{
    unit_seed(0x2545f4914f6cdd1dull);
    int rc;
    hn_gpu *g = unit_open(argc, argv, kernel_source, "unit_interaction", &rc);
    if (!g) return rc;
    static const pcase pcases[] = {
        { "max 40, counts NULL, padding from 31", 1, 40, { -1 }, 31, 0 },
        { "max 33, counts 33,0,1,20, a hole in each", 4, 33, { 33, 0, 1, 20 }, 0, 1 },
    };
    static const lcase lcases[] = {
        { "paper widths 6-256-128-64, 4x32 maps, NULL", 2, 24, 3, { 6, 256, 128, 64 }, 4, { 32, 32, 32, 32 }, { -1 }, { 24, 9 } },
        { "small widths 6-32-32-16, 2x8 maps, counts", 3, 20, 3, { 6, 32, 32, 16 }, 2, { 8, 8 }, { 20, 7, 0 }, { 20, 5, 0 } },
        { "widths 6-100-48, maps 12+20, counts 1,13", 2, 13, 2, { 6, 100, 48 }, 2, { 12, 20 }, { 1, 13 }, { 1, 13 } },
        { "width 6-3, one map, zero tiles only", 1, 9, 1, { 6, 3 }, 1, { 1 }, { -1 }, { 0 } },
    };
    static const acase acases[] = {
        { "dv 2, 16 heads, layer 1 of 2, NULL", 2, 40, 16, 2, 2, 1, { -1 } },
        { "dv 4, counts 150,0,1,33", 4, 150, 2, 4, 1, 0, { 150, 0, 1, 33 } },
        { "dv 8, counts 7,64", 2, 64, 3, 8, 3, 2, { 7, 64 } },
        { "dv 16, counts 70,33 (weights in shared memory)", 2, 70, 2, 16, 1, 0, { 70, 33 } },
        { "dv 64, counts 35,0", 2, 35, 2, 64, 2, 0, { 35, 0 } },
    };
    for (size_t k = 0; k < sizeof pcases / sizeof *pcases; ++k) run_pairs(g, &pcases[k]);
    for (size_t k = 0; k < sizeof lcases / sizeof *lcases; ++k) run_logits(g, &lcases[k]);
    for (size_t k = 0; k < sizeof acases / sizeof *acases; ++k) run_attention(g, &acases[k]);
    hn_gpu_close(g);
    printf("%d checks, %d failed; worst differences: pair features %.3g (abs, tolerance %g), logits %.3g, attention %.3g "
           "(relative, tolerance %g)\n", checks, failures, worst_features, TOL_FEATURES, worst_logits, worst_attention, TOL);
    return failures ? 1 : 0;
}
