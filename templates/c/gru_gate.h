/* gru_gate.h — the GTrXL gating unit (Parisotto et al., arXiv:1910.06764) as SPANet's GRUGate
 * (spanet/network/layers/linear_block/gru_block.py) computes it, for new rows y and residual rows x:
 *   r   = σ(W_r·y + b_r + U_r·x)
 *   z   = σ(W_z·y + b_z + U_z·x − g)          g: the learnt gate bias (initialised to 2: mostly closed)
 *   ĥ   = tanh(W_g·y + b_g + U_g·(r ⊙ x))
 *   out = (1 − z) ⊙ x + z ⊙ ĥ
 * W_* [d][d] with biases, U_* [d][d] without, as nn.Linear stores them. */
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

/* Rows per step: the six products of a step are GEMMs of this many rows over stack buffers. */
#define HN_K_GRU_ROWS 8
/* The widest gate (the compiler refuses wider ones): 4 buffers × 8 rows × 512 floats = 64 KiB of stack. */
#define HN_K_GRU_MAX_DIM 512

typedef struct hn_k_gru_gate_params {
    const float *W_r, *b_r, *U_r;
    const float *W_z, *b_z, *U_z;
    const float *W_g, *b_g, *U_g;
    const float *gate_bias;
} hn_k_gru_gate_params;

/* out[rows][d] = GRUGate(y, x); out may alias neither input. rows may be 0. */
static HN_K_UNUSED void hn_k_gru_gate(const float *y, const float *x, int rows, int d, const hn_k_gru_gate_params *p,
                                      float *out)
{
    float a[HN_K_GRU_ROWS * HN_K_GRU_MAX_DIM], u[HN_K_GRU_ROWS * HN_K_GRU_MAX_DIM];
    float z[HN_K_GRU_ROWS * HN_K_GRU_MAX_DIM], rx[HN_K_GRU_ROWS * HN_K_GRU_MAX_DIM];
    for (int r0 = 0; r0 < rows; r0 += HN_K_GRU_ROWS) {
        int m = hn_k_min(HN_K_GRU_ROWS, rows - r0);
        size_t cells = (size_t)m * d;
        const float *ys = y + (size_t)r0 * d, *xs = x + (size_t)r0 * d;
        /* reset gate r, applied to the residual */
        HN_K_GRU_LINEAR(ys, m, d, p->W_r, p->b_r, d, 0, a);
        HN_K_GRU_LINEAR(xs, m, d, p->U_r, NULL, d, 0, u);
        for (size_t i = 0; i < cells; ++i) rx[i] = hn_k_sigmoid(a[i] + u[i]) * xs[i];
        /* update gate z, shifted closed by the gate bias */
        HN_K_GRU_LINEAR(ys, m, d, p->W_z, p->b_z, d, 0, z);
        HN_K_GRU_LINEAR(xs, m, d, p->U_z, NULL, d, 0, u);
        for (size_t i = 0; i < cells; ++i) z[i] = hn_k_sigmoid(z[i] + u[i] - p->gate_bias[i % (size_t)d]);
        /* candidate ĥ from the reset residual, then the blend */
        HN_K_GRU_LINEAR(ys, m, d, p->W_g, p->b_g, d, 0, a);
        HN_K_GRU_LINEAR(rx, m, d, p->U_g, NULL, d, 0, u);
        float *o = out + (size_t)r0 * d;
        for (size_t i = 0; i < cells; ++i) o[i] = (1.0f - z[i]) * xs[i] + z[i] * tanhf(a[i] + u[i]);
    }
}

#endif
