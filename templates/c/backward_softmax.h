/* backward_softmax.h — gradient of softmax.h, and softmax + cross-entropy fused over logits (the loss
 * of a classifier head). Conventions as backward_linear.h. */
#ifndef HN_KB_SOFTMAX_H
#define HN_KB_SOFTMAX_H

/* Dependencies, for inclusion on its own; when pasted after them (generated code) the guards skip this. */
#ifndef HN_K_COMMON_H
#include "common.h"
#endif

/* Backward of y = softmax(x) per row, from the forward's output y:
 *   dx[r][i] = y[r][i]·(dy[r][i] − Σ_j y[r][j]·dy[r][j])      (written)
 * Layout: y, dy, dx [rows][dim]. The row's dot product is taken before dx is written elementwise, so dx
 * may alias y or dy. Error γ(dim + 2)·y·(|dy| + Σ y|dy|). */
static HN_K_UNUSED void hn_kb_softmax(const float *y, const float *dy, int rows, int dim, float *dx)
{
    for (int r = 0; r < rows; ++r) {
        const float *yr = y + (size_t)r * dim, *gr = dy + (size_t)r * dim;
        float *dxr = dx + (size_t)r * dim;
        float dot = 0.0f;
        for (int i = 0; i < dim; ++i) dot += yr[i] * gr[i];
        for (int i = 0; i < dim; ++i) dxr[i] = yr[i] * (gr[i] - dot);
    }
}

/* Softmax + cross-entropy over logits with integer labels, torch.nn.CrossEntropyLoss(label_smoothing
 * = ε, reduction='mean') over a batch of `batch` events of which this call holds `rows` (normally
 * rows = batch; a caller that splits a batch passes the whole batch size to every piece and sums the
 * returned values). With p = softmax(logits row) (max-subtracted) and target t_j = (1 − ε)·[j = y] + ε/C:
 *   returns      Σ_r ℓ_r / batch,   ℓ_r = −Σ_j t_j·log p_j = lse_r − Σ_j t_j·logits[r][j]
 *   dlogits[r][j] = (p_j − t_j)/batch                                  (written; may be NULL)
 * Layout: logits, dlogits [rows][classes], labels [rows] (0 ≤ label < classes). dlogits may alias
 * logits. The loss is accumulated in double (lse from the float sum of exponentials). rows ≤ 0 returns
 * 0 (nothing to add); a label out of range or classes ≤ 0 / batch ≤ 0 returns NaN (that row's dlogits
 * are set to 0). Error of dlogits: (γ(C + 8 + 2·max|x − m|)·p + γ(2)·t)/batch. */
static HN_K_UNUSED double hn_kb_softmax_cross_entropy(const float *logits, const int64_t *labels, int rows,
                                                      int classes, float label_smoothing, int batch, float *dlogits)
{
    double total = 0.0;
    int bad = 0;
    if (rows <= 0) return 0.0;
    if (classes <= 0 || batch <= 0) return NAN;
    const float inv_batch = 1.0f / (float)batch, off = label_smoothing / (float)classes;
    for (int r = 0; r < rows; ++r) {
        const float *xr = logits + (size_t)r * classes;
        float *gr = dlogits ? dlogits + (size_t)r * classes : NULL;
        const int64_t y = labels[r];
        if (y < 0 || y >= classes) {
            bad = 1;
            if (gr)
                for (int j = 0; j < classes; ++j) gr[j] = 0.0f;
            continue;
        }
        float m = xr[0];
        for (int j = 1; j < classes; ++j) m = hn_k_maxf(xr[j], m);
        float sum = 0.0f;
        double tx = 0.0, sx = 0.0;
        for (int j = 0; j < classes; ++j) {
            sum += expf(xr[j] - m);
            sx += xr[j];
        }
        tx = (1.0 - (double)label_smoothing) * xr[y] + (double)label_smoothing * sx / classes;
        total += (double)m + log((double)sum) - tx;
        if (gr) {
            const float inv = 1.0f / sum;
            for (int j = 0; j < classes; ++j) {
                const float p = expf(xr[j] - m) * inv;
                const float t = (j == y ? 1.0f - label_smoothing : 0.0f) + off;
                gr[j] = (p - t) * inv_batch;
            }
        }
    }
    return bad ? NAN : total / batch;
}

#endif
