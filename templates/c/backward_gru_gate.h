/* backward_gru_gate.h — gradient of hn_k_gru_gate (gru_gate.h), the GTrXL gate of SPANet's GRUGate, for new
 * rows y and residual rows x:
 *   r = σ(a_r),     a_r = W_r·y + b_r + U_r·x
 *   z = σ(a_z),     a_z = W_z·y + b_z + U_z·x − g                 (g: gate_bias)
 *   h = tanh(a_g),  a_g = W_g·y + b_g + U_g·(r ⊙ x)
 *   out = (1 − z) ⊙ x + z ⊙ h
 * Backward, per row, with r, z, h recomputed (no saved state):
 *   da_z = dout ⊙ (h − x) ⊙ z(1 − z)        da_g = dout ⊙ z ⊙ (1 − h²)       d(r⊙x) = U_gᵀ·da_g
 *   da_r = d(r⊙x) ⊙ x ⊙ r(1 − r)
 *   dy = W_rᵀ·da_r + W_zᵀ·da_z + W_gᵀ·da_g
 *   dx = dout ⊙ (1 − z) + d(r⊙x) ⊙ r + U_rᵀ·da_r + U_zᵀ·da_z
 *   dW_* += da_*ᵀ·y,  db_* += Σ_rows da_*,  dU_r += da_rᵀ·x,  dU_z += da_zᵀ·x,  dU_g += da_gᵀ·(r⊙x),
 *   dgate_bias −= Σ_rows da_z.
 * Conventions as backward_linear.h (parameter gradients accumulate, activation gradients are written). */
#ifndef HN_KB_GRU_GATE_H
#define HN_KB_GRU_GATE_H

/* Dependencies, for inclusion on its own; when pasted after them (generated code) the guards skip this. */
#ifndef HN_K_GRU_GATE_H
#include "gru_gate.h"
#endif
#ifndef HN_KB_LINEAR_H
#include "backward_linear.h"
#endif

#ifdef HN_USE_CBLAS
#define HN_KB_GRU_LINEAR hn_kb_linear_cblas
#else
#define HN_KB_GRU_LINEAR hn_kb_linear
#endif

/* Stack floats for one block of HN_K_GRU_ROWS(d) rows (the forward's blocks, so the recomputed r, z, h are
 * the forward's bit for bit): [rows][3d] + [rows][2d] + 3 × [rows][d], 8/7 of the forward's buffer, 128 KiB.
 * Enough for every d ≤ HN_K_GRU_MAX_DIM = 512 (the compiler refuses wider gates; beyond, 8 rows of 8d floats
 * would overrun it). With the non-packed parameter layout hn_k_gru_gate_products adds its own 16 KiB. */
#define HN_KB_GRU_STACK (HN_K_GRU_STACK / 7 * 8)

/* The parameter gradients, mirroring hn_k_gru_gate_params: [d][d] for dW_*, dU_*; [d] for db_*, dgate_bias.
 * All ten are required. */
typedef struct hn_kb_gru_gate_grads {
    float *dW_r, *db_r, *dU_r;
    float *dW_z, *db_z, *dU_z;
    float *dW_g, *db_g, *dU_g;
    float *dgate_bias;
} hn_kb_gru_gate_grads;

/* dst[i][0..w) = src[i][c0..c0 + w) for i < m, src rows of stride ld: a column block made contiguous. */
static inline HN_K_UNUSED void hn_kb_gru_cols(const float *src, int m, int ld, int c0, int w, float *dst)
{
    for (int i = 0; i < m; ++i) memcpy(dst + (size_t)i * w, src + (size_t)i * ld + c0, sizeof(float) * (size_t)w);
}

/* dst[k] += src[k] for k < count. */
static inline HN_K_UNUSED void hn_kb_gru_add(const float *src, size_t count, float *dst)
{
    for (size_t k = 0; k < count; ++k) dst[k] += src[k];
}

/* Backward of hn_k_gru_gate(y, x, rows, d, p, out): y, x [rows][d] and p as the forward; dout [rows][d] the
 * gradient of out.
 *   dy, dx [rows][d]: written; either may be NULL (not needed).
 *   g: the ten parameter gradients, accumulated (+=; dgate_bias −= Σ da_z).
 * Rows go in the forward's blocks of HN_K_GRU_ROWS(d); each block recomputes r, z, h as hn_k_gru_gate does
 * (the same calls on the same blocks: the forward's values bit for bit when both are compiled alike), then
 *   d(r⊙x) and dU_g by one HN_KB_GRU_LINEAR (hn_kb_linear, or hn_kb_linear_cblas under HN_USE_CBLAS) with U_g;
 *   dy, dW_*, db_* by one with [W_r; W_z; W_g] (N = 3d) when both W_r, W_z, W_g and dW_r, dW_z, dW_g, db_r,
 *       db_z, db_g lie back to back (as the compiler lays the parameters and, alike, their gradients), else
 *       three (dy summed r, z, g);
 *   dx, dU_r, dU_z by one with [U_r; U_z] (N = 2d) when U_r, U_z and dU_r, dU_z lie back to back, else two;
 *   dx += dout ⊙ (1 − z) + d(r⊙x) ⊙ r;  dgate_bias −= da_z row by row.
 * Elementwise, in float: da_z = (dout·(h − x))·(z·(1 − z)), da_g = (dout·z)·((1 − h)·(1 + h)),
 * da_r = (d(r⊙x)·x)·(r·(1 − r)). Stack: HN_KB_GRU_STACK floats (128 KiB), + 16 KiB inside
 * hn_k_gru_gate_products for a non-packed layout; needs d ≤ HN_K_GRU_MAX_DIM (not checked: the compiler
 * refuses wider gates). Cost ≈ 3× the forward's flops: per row the recomputation's 6 d×d products, then 6 for
 * the parameter gradients and 6 for dy (3), dx (2), d(r⊙x) (1).
 * Error (first order; u = 2⁻²⁴, γ(k) = k·u/(1 − k·u)): the recomputed a_* carry γ(d + 4)·Σ|terms| (any
 * summation order, so OpenBLAS too), σ ≤ 6u relative, tanh ≤ 4u absolute; each da_* a few roundings more;
 * dy γ(3d + 4)·Σ|W·da|, dx γ(2d + 6)·Σ|terms|, parameter gradients γ(rows + 2)·(|old| + Σ|terms|), plus
 * the recomputation's errors carried through (tests/unit/test_backward_spanet.c propagates the bound).
 * Aliasing: none (dy, dx must not overlap each other, the inputs, the parameters or their gradients); rows
 * may be 0 (nothing written, nothing accumulated). */
static HN_K_UNUSED void hn_kb_gru_gate(const float *y, const float *x, int rows, int d, const hn_k_gru_gate_params *p,
                                       const float *dout, float *dy, float *dx, const hn_kb_gru_gate_grads *g)
{
    const size_t dd = (size_t)d * d;
    const int pack_w = p->W_z == p->W_r + dd && p->W_g == p->W_z + dd && g->dW_z == g->dW_r + dd &&
                       g->dW_g == g->dW_z + dd && g->db_z == g->db_r + d && g->db_g == g->db_z + d;
    const int pack_u = p->U_z == p->U_r + dd && g->dU_z == g->dU_r + dd;
    const float *W[3] = { p->W_r, p->W_z, p->W_g }, *U[2] = { p->U_r, p->U_z };
    float *dW[3] = { g->dW_r, g->dW_z, g->dW_g }, *db[3] = { g->db_r, g->db_z, g->db_g }, *dU[2] = { g->dU_r, g->dU_z };
    float buf[HN_KB_GRU_STACK];
    const int block = HN_K_GRU_ROWS(d);
    /* A [m][3d]: a_* (y-side) → r | da_z | da_g → da_r | da_z | da_g;  B [m][2d]: u_* (x-side) → dx's direct
       part in columns 0..d;  C [m][d]: r⊙x, then free;  E [m][d]: U_g·(r⊙x) → da_g;  F [m][d]: d(r⊙x).
       C and E are adjacent: [m][2d] together once free. */
    float *A = buf, *B = A + (size_t)block * 3 * d, *C = B + (size_t)block * 2 * d, *E = C + (size_t)block * d;
    float *F = E + (size_t)block * d;
    for (int r0 = 0; r0 < rows; r0 += block) {
        const int m = hn_k_min(block, rows - r0);
        const float *ys = y + (size_t)r0 * d, *xs = x + (size_t)r0 * d, *gs = dout + (size_t)r0 * d;
        float *dys = dy ? dy + (size_t)r0 * d : NULL, *dxs = dx ? dx + (size_t)r0 * d : NULL;
        const size_t md = (size_t)m * d;

        /* the forward, as hn_k_gru_gate computes it */
        hn_k_gru_gate_products(ys, xs, m, d, p, A, B);
        for (int i = 0; i < m; ++i) {
            float *ai = A + (size_t)i * 3 * d, *ci = C + (size_t)i * d;
            const float *ui = B + (size_t)i * 2 * d, *xi = xs + (size_t)i * d;
            for (int o = 0; o < d; ++o) {
                float r = hn_k_sigmoid(ai[o] + ui[o]);
                ai[o] = r;
                ci[o] = r * xi[o];
            }
        }
        HN_K_GRU_LINEAR(C, m, d, p->U_g, NULL, d, 0, E);

        /* z, h, then da_z, da_g and dx's direct part dout ⊙ (1 − z) */
        for (int i = 0; i < m; ++i) {
            float *ai = A + (size_t)i * 3 * d, *ui = B + (size_t)i * 2 * d, *ei = E + (size_t)i * d;
            const float *xi = xs + (size_t)i * d, *gi = gs + (size_t)i * d;
            for (int o = 0; o < d; ++o) {
                float z = hn_k_sigmoid(ai[d + o] + ui[d + o] - p->gate_bias[o]);
                float h = hn_k_tanh(ai[2 * d + o] + ei[o]);
                float go = gi[o];
                float daz = go * (h - xi[o]) * (z * (1.0f - z));
                float dag = go * z * ((1.0f - h) * (1.0f + h));
                ai[d + o] = daz;
                ai[2 * d + o] = dag;
                ei[o] = dag;
                ui[o] = go * (1.0f - z);
            }
        }

        /* d(r⊙x) = da_g·U_g into F, dU_g += da_gᵀ·(r⊙x); then da_r, and dx's direct part += d(r⊙x) ⊙ r */
        HN_KB_GRU_LINEAR(C, m, d, p->U_g, d, E, F, g->dU_g, NULL);
        for (int i = 0; i < m; ++i) {
            float *ai = A + (size_t)i * 3 * d, *ui = B + (size_t)i * 2 * d;
            const float *fi = F + (size_t)i * d, *xi = xs + (size_t)i * d;
            for (int o = 0; o < d; ++o) {
                float r = ai[o], dq = fi[o];
                ai[o] = dq * xi[o] * (r * (1.0f - r));
                ui[o] += dq * r;
            }
        }
        for (int i = 0; i < m; ++i) {
            const float *ai = A + (size_t)i * 3 * d;
            for (int o = 0; o < d; ++o) g->dgate_bias[o] -= ai[d + o];
        }

        /* y-side: dy, dW_*, db_* */
        if (pack_w)
            HN_KB_GRU_LINEAR(ys, m, d, p->W_r, 3 * d, A, dys, g->dW_r, g->db_r);
        else
            for (int q = 0; q < 3; ++q) {
                hn_kb_gru_cols(A, m, 3 * d, q * d, d, C);
                HN_KB_GRU_LINEAR(ys, m, d, W[q], d, C, q == 0 ? dys : dys ? E : NULL, dW[q], db[q]);
                if (q > 0 && dys) hn_kb_gru_add(E, md, dys);
            }

        /* x-side of r and z: dx, dU_r, dU_z; then dx's direct part */
        if (pack_u) {
            hn_kb_gru_cols(A, m, 3 * d, 0, 2 * d, C);                    /* [m][2d] over C and E */
            HN_KB_GRU_LINEAR(xs, m, d, p->U_r, 2 * d, C, dxs, g->dU_r, NULL);
        } else
            for (int q = 0; q < 2; ++q) {
                hn_kb_gru_cols(A, m, 3 * d, q * d, d, C);
                HN_KB_GRU_LINEAR(xs, m, d, U[q], d, C, q == 0 ? dxs : dxs ? E : NULL, dU[q], NULL);
                if (q > 0 && dxs) hn_kb_gru_add(E, md, dxs);
            }
        if (dxs)
            for (int i = 0; i < m; ++i) {
                const float *ui = B + (size_t)i * 2 * d;
                float *dxi = dxs + (size_t)i * d;
                for (int o = 0; o < d; ++o) dxi[o] += ui[o];
            }
    }
}

#endif
