/* assign_decode.h — SPANet's greedy unique jet–parton assignment for one event (upstream
 * spanet/network/prediction_selection.py with its intended semantics; docs/spanet_decoding.md): repeatedly
 * the (particle, cell) with the largest finite log-probability among the particles not yet assigned (ties:
 * the lowest particle, then the first cell in C order), whose slots are then taken for every particle.
 * Shared by the runtime (runtime/assign.c, hepnc/assign.h) and generated code (NAME_decode of a SPANet
 * spec). No allocation: the caller's scratch of HN_K_ASSIGN_SCRATCH_BYTES(m, n) bytes.
 *
 * The slots already taken live in one byte array (taken[N]); a particle's array is scanned depth-first in
 * C order over the free slots only, marking the slots of the current prefix as taken on the way down, so
 * repeated-slot cells and cells using a taken slot are never read. Each particle keeps its best candidate
 * (value, cell); after an assignment only the particles whose best cell uses a newly taken slot are
 * rescanned — the candidate set only shrinks, so a best cell that stays valid stays the first maximum in C
 * order. Nothing is copied and the inputs are only read. */
#ifndef HN_K_ASSIGN_DECODE_H
#define HN_K_ASSIGN_DECODE_H

#ifndef HN_K_COMMON_H
#include "common.h"
#endif

#define HN_K_ASSIGN_DECODE_MAX_DEGREE 8
/* Scratch bytes for m particles over n slots: up to 7 to align, then per particle a cell (int64), a value
 * (float) and a flag, then n taken flags. */
#define HN_K_ASSIGN_SCRATCH_BYTES(m, n) (7 + (size_t)(m) * (sizeof(int64_t) + sizeof(float) + 1) + (size_t)(n))

typedef struct hn_k_assign_scratch {
    int64_t *cell;   /* [m] best candidate cell, −1 = none left */
    float *best;     /* [m] its value */
    uint8_t *done;   /* [m] assigned */
    uint8_t *taken;  /* [N] slot taken (by an assigned particle, or by the prefix during a scan) */
} hn_k_assign_scratch;

/* n^k cells, or −1 when not representable in int64. */
static HN_K_UNUSED int64_t hn_k_assign_cells(int n, int k)
{
    int64_t c = 1;
    for (int d = 0; d < k; ++d) {
        if (c > INT64_MAX / n) return -1;
        c *= n;
    }
    return c;
}

/* The scratch carved into its arrays (8-byte aligned). */
static HN_K_UNUSED hn_k_assign_scratch hn_k_assign_layout(void *scratch, int m)
{
    hn_k_assign_scratch s;
    uintptr_t a = ((uintptr_t)scratch + 7) & ~(uintptr_t)7;
    s.cell = (int64_t *)a;
    s.best = (float *)(s.cell + m);
    s.done = (uint8_t *)(s.best + m);
    s.taken = s.done + m;
    return s;
}

typedef struct hn_k_assign_scan {
    const float *lp;
    int n, k;
    uint8_t *taken;
    int64_t stride[HN_K_ASSIGN_DECODE_MAX_DEGREE];
    float best;
    int64_t cell;
} hn_k_assign_scan;

/* Depth-first over the free slots of axis d (cells below `base`); strict '>' keeps the first maximum in
 * C order. v > best rejects NaN and −inf (best starts at −inf), v < INFINITY rejects +inf. */
static HN_K_UNUSED void hn_k_assign_scan_axis(hn_k_assign_scan *s, int d, int64_t base)
{
    const int n = s->n;
    uint8_t *taken = s->taken;
    if (d == s->k - 1) {
        const float *row = s->lp + base;
        float best = s->best;
        int64_t cell = -1;
        for (int j = 0; j < n; ++j) {
            if (taken[j]) continue;
            float v = row[j];
            if (v > best && v < INFINITY) { best = v; cell = base + j; }
        }
        if (cell >= 0) { s->best = best; s->cell = cell; }
        return;
    }
    for (int j = 0; j < n; ++j) {
        if (taken[j]) continue;
        taken[j] = 1;
        hn_k_assign_scan_axis(s, d + 1, base + (int64_t)j * s->stride[d]);
        taken[j] = 0;
    }
}

static HN_K_UNUSED void hn_k_assign_scan_particle(const float *lp, int k, int n, uint8_t *taken, float *best, int64_t *cell)
{
    hn_k_assign_scan s;
    s.lp = lp; s.n = n; s.k = k; s.taken = taken;
    s.best = -INFINITY; s.cell = -1;
    int64_t st = 1;
    for (int d = k - 1; d >= 0; --d) { s.stride[d] = st; st *= n; }
    hn_k_assign_scan_axis(&s, 0, 0);
    *best = s.best;
    *cell = s.cell;
}

static HN_K_UNUSED void hn_k_assign_unravel(int64_t cell, int k, int n, int32_t *out)
{
    for (int d = k - 1; d >= 0; --d) {
        out[d] = (int32_t)(cell % n);
        cell /= n;
    }
}

/* One event; arguments already validated. */
static HN_K_UNUSED int hn_k_assign_decode_event(int m, const int *degree, int n, const float *const *logp, int64_t event,
                        const int64_t *logp_stride, const int *group_order, int kmax, int32_t *slots,
                        float *prob, hn_k_assign_scratch s)
{
    memset(s.taken, 0, (size_t)n);
    for (int p = 0; p < m; ++p) {
        int64_t stride = logp_stride ? logp_stride[p] : hn_k_assign_cells(n, degree[p]);
        s.done[p] = 0;
        hn_k_assign_scan_particle(logp[p] + event * stride, degree[p], n, s.taken, &s.best[p], &s.cell[p]);
        for (int d = 0; d < kmax; ++d) slots[(size_t)p * kmax + d] = -1;
        if (prob) prob[p] = 0.0f;
    }
    int assigned = 0;
    for (;;) {
        int bp = -1;
        float bv = -INFINITY;
        for (int p = 0; p < m; ++p)   /* strict '>': the lowest particle wins a tie */
            if (!s.done[p] && s.cell[p] >= 0 && s.best[p] > bv) { bp = p; bv = s.best[p]; }
        if (bp < 0) break;
        int32_t *row = slots + (size_t)bp * kmax;
        hn_k_assign_unravel(s.cell[bp], degree[bp], n, row);
        for (int d = 0; d < degree[bp]; ++d) s.taken[row[d]] = 1;
        s.done[bp] = 1;
        if (prob) prob[bp] = (float)(group_order ? group_order[bp] : 1) * expf(bv);
        ++assigned;
        for (int p = 0; p < m; ++p) {   /* rescan the particles whose best cell lost a slot */
            if (s.done[p] || s.cell[p] < 0) continue;
            int32_t j[HN_K_ASSIGN_DECODE_MAX_DEGREE];
            hn_k_assign_unravel(s.cell[p], degree[p], n, j);
            int hit = 0;
            for (int d = 0; d < degree[p]; ++d) hit |= s.taken[j[d]];
            if (!hit) continue;
            int64_t stride = logp_stride ? logp_stride[p] : hn_k_assign_cells(n, degree[p]);
            hn_k_assign_scan_particle(logp[p] + event * stride, degree[p], n, s.taken, &s.best[p], &s.cell[p]);
        }
    }
    return assigned;
}

#endif
