/* gru_gate.h — the GTrXL gating unit (Parisotto et al., arXiv:1910.06764) as SPANet's GRUGate
 * (spanet/network/layers/linear_block/gru_block.py) computes it, for new rows y and residual rows x:
 *   r   = σ(W_r·y + b_r + U_r·x)
 *   z   = σ(W_z·y + b_z + U_z·x − g)          g: the learnt gate bias (initialised to 2: mostly closed)
 *   ĥ   = tanh(W_g·y + b_g + U_g·(r ⊙ x))
 *   out = (1 − z) ⊙ x + z ⊙ ĥ
 * W_* [d][d] with biases, U_* [d][d] without, as nn.Linear stores them.
 *
 * Schedule: blocks of up to HN_K_GRU_ROWS(d) rows. When the compiler has laid W_r, W_z, W_g (and b_*, U_r,
 * U_z) out back to back, as it does, a block costs three GEMMs: y·[W_r; W_z; W_g]ᵀ (N = 3d), x·[U_r; U_z]ᵀ
 * (N = 2d) and (r ⊙ x)·U_gᵀ; otherwise six. σ and tanh use the vectorisable exp of activations.h. */
#ifndef HN_K_GRU_GATE_H
#define HN_K_GRU_GATE_H

#ifndef HN_K_COMMON_H
#include "common.h"
#endif
#ifndef HN_K_ACTIVATIONS_H
#include "activations.h"
#endif
#ifndef HN_K_LINEAR_H
#include "linear.h"
#endif

#ifdef HN_USE_CBLAS
#define HN_K_GRU_LINEAR hn_k_linear_cblas
#else
#define HN_K_GRU_LINEAR hn_k_linear
#endif

/* The widest gate (the compiler refuses wider ones). */
#define HN_K_GRU_MAX_DIM 512
/* Stack floats for one block: [rows][3d] + [rows][2d] + [rows][d] + [rows][d] (112 KiB). */
#define HN_K_GRU_STACK 28672
/* Rows per block: as many as the stack buffer holds, at least 8. */
#define HN_K_GRU_ROWS(d) (HN_K_GRU_STACK / (7 * (d)) > 8 ? HN_K_GRU_STACK / (7 * (d)) : 8)

typedef struct hn_k_gru_gate_params {
    const float *W_r, *b_r, *U_r;
    const float *W_z, *b_z, *U_z;
    const float *W_g, *b_g, *U_g;
    const float *gate_bias;
} hn_k_gru_gate_params;

/* The three gates' y-side (a: [m][3d], columns r | z | g) and the r, z gates' x-side (u: [m][2d]). */
static HN_K_UNUSED void hn_k_gru_gate_products(const float *ys, const float *xs, int m, int d, const hn_k_gru_gate_params *p,
                                               float *a, float *u)
{
    size_t dd = (size_t)d * d;
    int packed = p->W_z == p->W_r + dd && p->W_g == p->W_z + dd && p->b_z == p->b_r + d && p->b_g == p->b_z + d &&
                 p->U_z == p->U_r + dd;
    if (packed) {
        HN_K_GRU_LINEAR(ys, m, d, p->W_r, p->b_r, 3 * d, 0, a);
        HN_K_GRU_LINEAR(xs, m, d, p->U_r, NULL, 2 * d, 0, u);
        return;
    }
    const float *W[3] = { p->W_r, p->W_z, p->W_g }, *b[3] = { p->b_r, p->b_z, p->b_g }, *U[2] = { p->U_r, p->U_z };
    float part[8 * HN_K_GRU_MAX_DIM];
    for (int r0 = 0; r0 < m; r0 += 8) {              /* one gate at a time into a row-strided block */
        int k = hn_k_min(8, m - r0);
        for (int g = 0; g < 3; ++g) {
            HN_K_GRU_LINEAR(ys + (size_t)r0 * d, k, d, W[g], b[g], d, 0, part);
            for (int i = 0; i < k; ++i) memcpy(a + (size_t)(r0 + i) * 3 * d + (size_t)g * d, part + (size_t)i * d, sizeof(float) * (size_t)d);
        }
        for (int g = 0; g < 2; ++g) {
            HN_K_GRU_LINEAR(xs + (size_t)r0 * d, k, d, U[g], NULL, d, 0, part);
            for (int i = 0; i < k; ++i) memcpy(u + (size_t)(r0 + i) * 2 * d + (size_t)g * d, part + (size_t)i * d, sizeof(float) * (size_t)d);
        }
    }
}

/* out[rows][d] = GRUGate(y, x); out may alias neither input. rows may be 0. */
static HN_K_UNUSED void hn_k_gru_gate(const float *y, const float *x, int rows, int d, const hn_k_gru_gate_params *p,
                                      float *out)
{
    float buf[HN_K_GRU_STACK];
    const int block = HN_K_GRU_ROWS(d);
    float *a = buf, *u = a + (size_t)block * 3 * d, *rx = u + (size_t)block * 2 * d, *h = rx + (size_t)block * d;
    for (int r0 = 0; r0 < rows; r0 += block) {
        int m = hn_k_min(block, rows - r0);
        const float *ys = y + (size_t)r0 * d, *xs = x + (size_t)r0 * d;
        hn_k_gru_gate_products(ys, xs, m, d, p, a, u);
        for (int i = 0; i < m; ++i) {                   /* reset gate r, applied to the residual */
            const float *ai = a + (size_t)i * 3 * d, *ui = u + (size_t)i * 2 * d, *xi = xs + (size_t)i * d;
            float *rxi = rx + (size_t)i * d;
            for (int o = 0; o < d; ++o) rxi[o] = hn_k_sigmoid(ai[o] + ui[o]) * xi[o];
        }
        HN_K_GRU_LINEAR(rx, m, d, p->U_g, NULL, d, 0, h);
        for (int i = 0; i < m; ++i) {                   /* update gate z (shifted closed), candidate ĥ, blend */
            const float *ai = a + (size_t)i * 3 * d, *ui = u + (size_t)i * 2 * d, *xi = xs + (size_t)i * d;
            const float *hi = h + (size_t)i * d;
            float *o_ = out + (size_t)(r0 + i) * d;
            for (int o = 0; o < d; ++o) {
                float z = hn_k_sigmoid(ai[d + o] + ui[d + o] - p->gate_bias[o]);
                o_[o] = (1.0f - z) * xi[o] + z * hn_k_tanh(ai[2 * d + o] + hi[o]);
            }
        }
    }
}

#endif
