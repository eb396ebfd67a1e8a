/* train_attention.c — see hepnc/gpu_train_attention.h: host-side launches of templates/cuda/train_attention.cuh. */
#include "hepnc/gpu_train_attention.h"

#include <stdio.h>

#define MAX_HD 64               /* HN_CUTA_MAX_HD of train_attention.cuh */
#define ROWS 64                 /* HN_ATT_QUERIES of attention.cuh: rows (threads) per block */

size_t hn_gt_attention_scratch_bytes(int batch, int max, int heads, int with_dU)
{
    size_t rows = (size_t)(batch > 0 ? batch : 0) * (size_t)(heads > 0 ? heads : 0) * (size_t)(max > 0 ? max : 0);
    return sizeof(float) * rows * (2 + (with_dU ? 0 : (size_t)max));
}

/* The shapes a kernel can take; 1 when there is nothing to do, 0 to launch, -1 on a bad shape. */
static int check(const char *fn, int batch, int max, int heads, int head_dim, char *err, size_t errlen)
{
    if (batch < 0 || max < 0 || heads < 1 || head_dim < 1 || head_dim > MAX_HD) {
        snprintf(err, errlen, "%s: bad shape (batch %d, max %d, heads %d, head_dim %d; head_dim must be 1 … %d)", fn, batch,
                 max, heads, head_dim, MAX_HD);
        return -1;
    }
    return batch == 0 || max == 0;
}

/* Kernel `base` (or its head_dim-16 specialisation, base_d16): a block per (event, head, ROWS rows), a thread
 * per row. */
static int launch(hn_gpu *g, const char *base, int batch, int max, int heads, int head_dim, void **args, char *err,
                  size_t errlen)
{
    char name[64];
    snprintf(name, sizeof name, "%s%s", base, head_dim == 16 ? "_d16" : "");
    unsigned tiles = (unsigned)((max + ROWS - 1) / ROWS);
    return hn_gpu_launch(g, name, (unsigned)heads * tiles, (unsigned)batch, ROWS, 0, args, err, errlen);
}

int hn_gt_attention_forward(hn_gpu *g, const float *qkv, const float *U, const int32_t *n, int batch, int max, int heads,
                            int head_dim, const hn_gt_attn_dropout *dr, float *out, char *err, size_t errlen)
{
    int rc = check("hn_gt_attention_forward", batch, max, heads, head_dim, err, errlen);
    if (rc) return rc < 0 ? -1 : 0;
    float rate = dr ? dr->rate : 0.0f;
    uint64_t seed = dr ? dr->seed : 0, key = dr ? dr->key : 0, base = dr ? dr->base : 0;
    void *a[] = { &qkv, &U, &n, &max, &heads, &head_dim, &rate, &seed, &key, &base, &out };
    return launch(g, "hn_t_attention_forward", batch, max, heads, head_dim, a, err, errlen);
}

int hn_gt_attention_backward_dropout(hn_gpu *g, const float *qkv, const float *U, const int32_t *n, int batch, int max,
                                     int heads, int head_dim, const hn_gt_attn_dropout *dr, const float *dout, float *dqkv,
                                     float *dU, float *scratch, char *err, size_t errlen)
{
    int rc = check("hn_gt_attention_backward", batch, max, heads, head_dim, err, errlen);
    if (rc) return rc < 0 ? -1 : 0;
    float rate = dr ? dr->rate : 0.0f;
    uint64_t seed = dr ? dr->seed : 0, key = dr ? dr->key : 0, base = dr ? dr->base : 0;
    /* scratch: the row statistics [batch][heads][max][2], then ds [batch][heads][max][max] unless dU holds it */
    float *stats = scratch, *ds = dU ? dU : scratch + (size_t)2 * batch * heads * max;
    const float *ds_in = ds, *stats_in = stats;
    void *rows[] = { &qkv, &U, &n, &max, &heads, &head_dim, &dout, &rate, &seed, &key, &base, &dqkv, &ds, &stats };
    void *cols[] = { &qkv, &U, &n, &max, &heads, &head_dim, &dout, &rate, &seed, &key, &base, &ds_in, &stats_in, &dqkv };
    if (launch(g, "hn_t_attention_bw_rows", batch, max, heads, head_dim, rows, err, errlen) ||    /* ds, dq, statistics */
        launch(g, "hn_t_attention_bw_cols", batch, max, heads, head_dim, cols, err, errlen))      /* dk, dv */
        return -1;
    return 0;
}

int hn_gt_attention_backward(hn_gpu *g, const float *qkv, const float *U, const int32_t *n, int batch, int max, int heads,
                             int head_dim, const float *dout, float *dqkv, float *dU, float *scratch, char *err, size_t errlen)
{
    return hn_gt_attention_backward_dropout(g, qkv, U, n, batch, max, heads, head_dim, NULL, dout, dqkv, dU, scratch, err,
                                            errlen);
}
