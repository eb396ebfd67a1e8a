/* train_interaction.c — see hepnc/gpu_train_interaction.h: host-side launches of templates/cuda/train_interaction.cuh's
 * kernels, cuBLAS GEMMs (through train_ops.c's hn_gt_linear_*) and train.cuh's column sums. */
#include "hepnc/gpu_train_interaction.h"

#include <stdio.h>
#include <string.h>

#define DA_WARPS 4              /* HN_CU_DA_WARPS of interaction.cuh: queries per block */

static int launch(hn_gpu *g, const char *k, long threads, void **args, char *err, size_t errlen)
{
    return hn_gpu_launch(g, k, (unsigned)((threads + 255) / 256), 1, 256, 0, args, err, errlen);
}

static size_t align16(size_t b) { return (b + 15) & ~(size_t)15; }

int hn_gt_rmsnorm_backward(hn_gpu *g, const float *x, const float *dy, long rows, int dim, const float *gamma, float eps,
                           float *dx, float *dgamma, float *prod, const hn_gt_scratch *s, char *err, size_t errlen)
{
    void *a[] = { &x, &dy, &rows, &dim, &gamma, &eps, &dx, &prod };
    return (rows > 0 && launch(g, "hn_ti_rmsnorm_backward", rows * 32, a, err, errlen)) ||
           (rows > 0 && hn_gt_column_sums(g, prod, rows, dim, dgamma, s, err, errlen));
}

int hn_gt_feature_mean_backward(hn_gpu *g, const float *dy, long rows, int F, float *dx, char *err, size_t errlen)
{
    void *a[] = { &dy, &rows, &F, &dx };
    return rows > 0 && launch(g, "hn_ti_feature_mean_backward", rows * F, a, err, errlen);
}

/* ---- differential attention ------------------------------------------------------------------------------- */

size_t hn_gt_diff_attention_scratch_bytes(int batch, int max, int heads)
{
    return align16(sizeof(float) * (size_t)batch * heads * max * 4) + align16(sizeof(float) * (size_t)batch * max * heads) +
           align16(sizeof(float) * ((size_t)batch + 1));
}

int hn_gt_diff_attention_backward(hn_gpu *g, const float *v, const int32_t *n, int batch, int max, int heads, int dv,
                                  const float *L, long maps_per_event, const float *lq, const float *lk, int len, int depth,
                                  const float *dout, float *dvalues, float *dL, float *dlq, float *dlk, void *scratch, char *err,
                                  size_t errlen)
{
    if (batch <= 0) return 0;
    char *base = scratch;
    float *stats = (float *)base;
    float *dbq = (float *)(base + align16(sizeof(float) * (size_t)batch * heads * max * 4));
    float *dbeta = (float *)((char *)dbq + align16(sizeof(float) * (size_t)batch * max * heads)), *beta = dbeta + batch;
    unsigned grid = (unsigned)(heads * ((max + DA_WARPS - 1) / DA_WARPS));
    void *b_args[] = { &lq, &lk, &len, &depth, &beta };
    void *s_args[] = { &L, &n, &max, &heads, &maps_per_event, &stats };
    void *l_args[] = { &v, &n, &max, &heads, &dv, &L, &maps_per_event, &beta, &dout, &stats, &dL, &dbq };
    void *v_args[] = { &n, &batch, &max, &heads, &dv, &L, &maps_per_event, &beta, &dout, &stats, &dvalues };
    void *e_args[] = { &dbq, &n, &batch, &max, &heads, &dbeta };
    void *k_args[] = { &dbeta, &batch, &lq, &lk, &len, &depth, &dlq, &dlk };
    if (!dL) {
        snprintf(err, errlen, "differential attention backward: the logits' gradient is needed (for β's)");
        return -1;
    }
    return hn_gpu_launch(g, "hn_ti_diff_beta", 1, 1, 32, 0, b_args, err, errlen) ||
           hn_gpu_launch(g, "hn_ti_diff_stats", grid, (unsigned)batch, 32 * DA_WARPS, 0, s_args, err, errlen) ||
           hn_gpu_launch(g, "hn_ti_diff_dlogits", grid, (unsigned)batch, 32 * DA_WARPS, 0, l_args, err, errlen) ||
           (dvalues && launch(g, "hn_ti_diff_dvalues", (long)batch * max * heads * dv, v_args, err, errlen)) ||
           launch(g, "hn_ti_diff_dbeta_events", batch, e_args, err, errlen) ||
           hn_gpu_launch(g, "hn_ti_diff_lambda", 1, 1, 32, 0, k_args, err, errlen);
}

/* ---- the interaction embedding -------------------------------------------------------------------------- */

static int widest_of(const hn_gt_ia_shape *sh, int *acts, int *total)
{
    int w = sh->nfeat;
    *acts = 0, *total = 0;
    for (int l = 1; l <= sh->nlayers; ++l) {
        *acts += sh->dims[l];
        w = sh->dims[l] > w ? sh->dims[l] : w;
    }
    for (int p = 0; p < sh->nproj; ++p) *total += sh->nout[p];
    return w;
}

/* The scratch's parts for R rows: ints (row starts [batch][max], computed [batch], offs [batch + 1], nout), then
 * floats: in [R][nfeat], z and h [R][Σ dims[l ≥ 1]] each, G [R][Σ nout], ga and gb [R][widest]. */
typedef struct ia_parts {
    int *rowstart, *computed, *offs, *nout;
    float *in, *z, *h, *G, *ga, *gb;
} ia_parts;

static size_t ints_bytes(int batch, int max, const hn_gt_ia_shape *sh)
{
    return align16(sizeof(int) * ((size_t)batch * max + 2 * (size_t)batch + 1 + (size_t)sh->nproj));
}

static void carve(void *scratch, int batch, int max, long R, const hn_gt_ia_shape *sh, ia_parts *p)
{
    int acts, total, widest = widest_of(sh, &acts, &total);
    p->rowstart = scratch;
    p->computed = p->rowstart + (size_t)batch * max;
    p->offs = p->computed + batch;
    p->nout = p->offs + batch + 1;
    p->in = (float *)((char *)scratch + ints_bytes(batch, max, sh));
    p->z = p->in + align16((size_t)R * sh->nfeat * 4) / 4;
    p->h = p->z + (size_t)R * acts;
    p->G = p->h + (size_t)R * acts;
    p->ga = p->G + (size_t)R * total;
    p->gb = p->ga + (size_t)R * widest;
}

size_t hn_gt_interaction_logits_scratch_bytes(int batch, int max, const hn_gt_ia_shape *sh)
{
    int acts, total, widest = widest_of(sh, &acts, &total);
    size_t R = (size_t)batch * (1 + (size_t)max * (max + 1) / 2);
    return ints_bytes(batch, max, sh) + align16(R * sh->nfeat * 4) +
           sizeof(float) * R * (2 * (size_t)acts + (size_t)total + 2 * (size_t)widest);
}

/* The rows of the batch and their gradients: counts on the device, each event's offset from them on the host. */
static int gather_rows(hn_gpu *g, const float *pairs, const float *dL, const int32_t *n, int batch, int max,
                       const hn_gt_ia_shape *sh, void *scratch, ia_parts *p, long *R_out, char *err, size_t errlen)
{
    ia_parts q;
    carve(scratch, batch, max, 0, sh, &q);   /* the ints' places do not depend on R */
    int computed[batch > 0 ? batch : 1], offs[batch + 1];
    int nfeat = sh->nfeat;
    void *c_args[] = { &pairs, &n, &batch, &max, &nfeat, &q.rowstart };
    void *s_args[] = { &q.rowstart, &batch, &max, &q.computed };
    if (launch(g, "hn_ti_pair_row_counts", (long)batch * max, c_args, err, errlen) ||
        launch(g, "hn_ti_pair_row_starts", batch, s_args, err, errlen) ||
        hn_gpu_to_host(g, computed, q.computed, sizeof(int) * (size_t)batch, err, errlen))
        return -1;
    offs[0] = 0;
    for (int b = 0; b < batch; ++b) offs[b + 1] = offs[b] + 1 + computed[b];   /* the zero row, then the computed pairs */
    long R = offs[batch];
    carve(scratch, batch, max, R, sh, p);
    int nproj = sh->nproj;
    if (hn_gpu_to_device(g, p->offs, offs, sizeof(int) * (size_t)(batch + 1), err, errlen) ||
        hn_gpu_to_device(g, p->nout, sh->nout, sizeof(int) * (size_t)nproj, err, errlen))
        return -1;
    void *r_args[] = { &pairs, &dL, &n, &batch, &max, &nfeat, &nproj, &p->nout, &p->rowstart, &p->offs, &R, &p->in, &p->G };
    void *z_args[] = { &pairs, &dL, &n, &max, &nfeat, &nproj, &p->nout, &p->offs, &R, &p->in, &p->G };
    *R_out = R;
    return launch(g, "hn_ti_pair_rows_computed", (long)batch * max, r_args, err, errlen) ||
           hn_gpu_launch(g, "hn_ti_pair_rows_zero", (unsigned)batch, 1, 128, 0, z_args, err, errlen);
}

int hn_gt_interaction_logits_backward(hn_gpu *g, const float *pairs, const float *dL, const int32_t *n, int batch, int max,
                                      const hn_gt_ia_shape *sh, const float *const *W, const float *const *B,
                                      const float *const *Wp, float *const *dW, float *const *dB, float *const *dWp,
                                      float *const *dBp, void *scratch, const hn_gt_scratch *s, char *err, size_t errlen)
{
    if (batch <= 0 || sh->nproj <= 0) return 0;
    ia_parts p;
    long R;
    if (gather_rows(g, pairs, dL, n, batch, max, sh, scratch, &p, &R, err, errlen)) return -1;
    const int K = sh->nlayers, *dims = sh->dims, width = dims[K];
    /* the embedding recomputed over the rows: z_l = h_{l-1}·W_lᵀ + b_l, h_l = GELU(z_l) */
    const float *x = p.in;
    size_t off = 0;
    for (int l = 0; l < K; ++l) {
        float *zl = p.z + off, *hl = p.h + off;
        if (hn_gt_linear_forward(g, x, R, dims[l], W[l], B[l], dims[l + 1], zl, err, errlen) ||
            hn_gt_act(g, zl, R * dims[l + 1], 2, hl, err, errlen))
            return -1;
        x = hl;
        off += (size_t)R * dims[l + 1];
    }
    /* the projections: dWp += G_pᵀ·h_K, dBp += Σ G_p, dh_K = Σ_p G_p·Wp[p] (into ga, via gb) */
    for (int q = 0, o0 = 0; q < sh->nproj; o0 += sh->nout[q++]) {
        const float *Gq = p.G + (size_t)R * o0;
        if (hn_gt_linear_backward(g, x, R, width, Wp[q], sh->nout[q], Gq, q ? p.gb : p.ga, dWp[q], dBp[q], s, err, errlen) ||
            (q && hn_gt_accumulate(g, p.gb, R * width, p.ga, err, errlen)))
            return -1;
    }
    /* the GELU layers, last to first: dz = dh ⊙ GELU'(z), dW += dzᵀ·h_prev, dB += Σ dz, dh_prev = dz·W */
    float *gcur = p.ga, *spare = p.gb;
    for (int l = K - 1; l >= 0; --l) {
        off -= (size_t)R * dims[l + 1];
        const float *xl = l ? p.h + off - (size_t)R * dims[l] : p.in;
        if (hn_gt_act_backward(g, p.z + off, gcur, R * dims[l + 1], 2, gcur, err, errlen) ||
            hn_gt_linear_backward(g, xl, R, dims[l], W[l], dims[l + 1], gcur, l ? spare : NULL, dW[l], dB[l], s, err, errlen))
            return -1;
        float *t = gcur;
        gcur = spare;
        spare = t;
    }
    return 0;
}
