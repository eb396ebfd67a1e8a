/* test_assign.c — runtime/assign.c: the greedy unique-assignment decoder on hand-computed events
 * (degrees 1-4, ties, all-masked particles, NaN/+inf cells, too few free slots, repeated-slot cells),
 * against a brute-force copy of upstream's algorithm (explicit copy, argmax over every cell, masking
 * every cell that uses a chosen slot, for any degree) on random events, the batch wrapper against
 * per-event calls; the purities on hand-made ttbar events with known answers and against brute force
 * over all permutations on random four-top events. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hepnc/assign.h>

static int passed, failed;
static void check(int ok, const char *what)
{
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    ok ? ++passed : ++failed;
}

static unsigned long long rng_state = 0x9e3779b97f4a7c15ull;
static unsigned rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)(rng_state >> 33);
}
static double unif(void) { return (rnd() & 0xffffff) / (double)0x1000000; }

static int64_t ipow(int n, int k) { int64_t c = 1; while (k--) c *= n; return c; }

/* A particle's log-prob array, every cell −inf. */
static float *blank(int n, int k)
{
    int64_t c = ipow(n, k);
    float *a = malloc(sizeof *a * (size_t)c);
    for (int64_t i = 0; i < c; ++i) a[i] = -INFINITY;
    return a;
}
static int64_t cell2(int n, int i, int j) { return (int64_t)i * n + j; }
static int64_t cell3(int n, int i, int j, int k) { return ((int64_t)i * n + j) * n + k; }
static int64_t cell4(int n, int i, int j, int k, int l) { return (((int64_t)i * n + j) * n + k) * n + l; }

/* Decode with a scratch buffer that is exactly hn_assign_scratch_bytes long and deliberately misaligned. */
static int decode(int m, const int *deg, int n, float **lp, const int *gorder, int kmax, int32_t *slots, float *prob)
{
    size_t bytes = hn_assign_scratch_bytes(m, deg, n);
    char *buf = malloc(bytes + 3);
    int r = hn_assign_decode(m, deg, n, (const float *const *)lp, gorder, kmax, slots, prob, buf + 3, bytes);
    free(buf);
    return r;
}

static int row_is(const int32_t *row, int kmax, int a, int b, int c, int d)
{
    const int want[4] = { a, b, c, d };
    for (int i = 0; i < kmax; ++i)
        if (row[i] != (i < 4 ? want[i] : -1)) return 0;
    return 1;
}

/* ---- hand-computed decoder cases -------------------------------------------------------------------- */

static void test_degree1(void)
{
    int deg[2] = { 1, 1 };
    float *lp[2] = { blank(3, 1), blank(3, 1) };
    int32_t s[2];
    float pr[2];
    lp[0][0] = -0.2f; lp[0][1] = -1.0f; lp[0][2] = -3.0f;
    lp[1][0] = -0.1f; lp[1][1] = -0.5f; lp[1][2] = -2.0f;
    int r = decode(2, deg, 3, lp, NULL, 1, s, pr);
    check(r == 2 && s[1] == 0 && s[0] == 1, "k=1: both want slot 0, p1 (-0.1) wins, p0 falls back to slot 1");
    check(pr[1] == expf(-0.1f) && pr[0] == expf(-1.0f), "k=1: probabilities exp(logP) with |G|=1");
    /* exact tie across particles on one slot: the lowest particle wins it */
    lp[0][0] = -0.1f;
    r = decode(2, deg, 3, lp, NULL, 1, s, pr);
    check(r == 2 && s[0] == 0 && s[1] == 1, "k=1 tie across particles: lowest particle wins");
    /* tie within a particle: the first slot */
    lp[0][0] = -1.0f; lp[0][1] = -1.0f; lp[0][2] = -1.0f;
    lp[1][0] = lp[1][1] = lp[1][2] = -INFINITY;
    r = decode(2, deg, 3, lp, NULL, 1, s, pr);
    check(r == 1 && s[0] == 0 && s[1] == -1 && pr[1] == 0.0f, "k=1 tie within a particle: first cell; all -inf particle stays -1, prob 0");
    free(lp[0]); free(lp[1]);
}

static void test_degree2(void)
{
    enum { N = 4 };
    int deg[2] = { 2, 1 }, g[2] = { 2, 1 };
    float *lp[2] = { blank(N, 2), blank(N, 1) };
    lp[0][cell2(N, 0, 1)] = lp[0][cell2(N, 1, 0)] = -0.3f;   /* symmetric W-like particle */
    lp[0][cell2(N, 2, 3)] = lp[0][cell2(N, 3, 2)] = -1.0f;
    lp[0][cell2(N, 1, 2)] = -2.0f;
    lp[1][1] = -0.1f; lp[1][3] = -0.5f;
    int32_t s[2 * 2];
    float pr[2];
    int r = decode(2, deg, N, lp, g, 2, s, pr);
    check(r == 2 && s[2] == 1 && s[3] == -1, "k=2: the degree-1 particle (-0.1) goes first, slot 1, padded -1");
    check(s[0] == 2 && s[1] == 3, "k=2: cells with slot 1 excluded; tie (2,3)/(3,2) -> first in C order (2,3)");
    check(pr[0] == 2.0f * expf(-1.0f), "k=2: probability |G_p| exp(logP) = 2 exp(-1)");
    /* without the degree-1 particle the tie (0,1)/(1,0) resolves to (0,1) */
    int r1 = decode(1, deg, N, lp, g, 2, s, pr);
    check(r1 == 1 && s[0] == 0 && s[1] == 1, "k=2 tie (0,1)/(1,0): (0,1)");
    /* a finite value on a repeated-slot cell is never chosen */
    lp[0][cell2(N, 3, 3)] = 0.0f;
    r1 = decode(1, deg, N, lp, g, 2, s, pr);
    check(r1 == 1 && s[0] == 0 && s[1] == 1, "k=2: finite (3,3) cell skipped (slots distinct within a particle)");
    free(lp[0]); free(lp[1]);
}

static void test_degree3(void)
{
    enum { N = 7 };
    int deg[2] = { 3, 3 };
    float *lp[2] = { blank(N, 3), blank(N, 3) };
    lp[0][cell3(N, 0, 1, 2)] = -0.5f;
    lp[0][cell3(N, 0, 2, 3)] = -1.0f;   /* decoy: slot 3 will be taken */
    lp[0][cell3(N, 2, 0, 5)] = -1.5f;
    lp[0][cell3(N, 0, 2, 6)] = -2.5f;
    lp[1][cell3(N, 1, 3, 4)] = -0.4f;
    lp[1][cell3(N, 0, 5, 6)] = -0.45f;
    int32_t s[2 * 3];
    float pr[2];
    int r = decode(2, deg, N, lp, NULL, 3, s, pr);
    check(r == 2 && s[3] == 1 && s[4] == 3 && s[5] == 4, "k=3: t2 (1,3,4) at -0.4 first");
    check(s[0] == 2 && s[1] == 0 && s[2] == 5, "k=3: t1 skips (0,1,2) and the decoy (0,2,3), takes (2,0,5)");
    /* only five slots: after t2 takes (1,3,4), t1 has two free slots and no valid cell */
    float *lq[2] = { blank(5, 3), blank(5, 3) };
    for (int64_t c = 0; c < 125; ++c) {
        int i = (int)(c / 25), j = (int)(c / 5 % 5), k = (int)(c % 5);
        if (i != j && j != k && i != k) { lq[0][c] = -1.0f - 0.01f * (float)c; lq[1][c] = -2.0f - 0.01f * (float)c; }
    }
    lq[1][cell3(5, 1, 3, 4)] = -0.1f;
    r = decode(2, deg, 5, lq, NULL, 3, s, pr);
    check(r == 1 && s[3] == 1 && s[4] == 3 && s[5] == 4 && s[0] == -1 && s[1] == -1 && s[2] == -1,
          "k=3, N=5: fewer free slots than products -> t1 stays -1");
    free(lp[0]); free(lp[1]); free(lq[0]); free(lq[1]);
}

static void test_degree4(void)
{
    enum { N = 8 };
    int deg[3] = { 4, 4, 1 };
    float *lp[3] = { blank(N, 4), blank(N, 4), blank(N, 1) };
    lp[0][cell4(N, 0, 1, 2, 3)] = -0.1f;
    lp[1][cell4(N, 3, 4, 5, 6)] = -0.2f;   /* upstream (no degree-4 masking) would take this: slot 3 twice */
    lp[1][cell4(N, 6, 4, 3, 5)] = -0.3f;   /* slot 3 in the third axis */
    lp[1][cell4(N, 4, 5, 7, 6)] = -0.9f;
    lp[2][3] = -0.15f; lp[2][7] = -3.0f;
    int32_t s[3 * 4];
    float pr[3];
    int r = decode(3, deg, N, lp, NULL, 4, s, pr);
    check(r == 2 && row_is(s, 4, 0, 1, 2, 3) && row_is(s + 4, 4, 4, 5, 7, 6) && row_is(s + 8, 4, -1, -1, -1, -1),
          "k=4: A (0,1,2,3); B skips every cell with slot 3 on any axis -> (4,5,7,6); C loses 3 and 7");
    int used[N] = { 0 }, dup = 0;
    for (int i = 0; i < 12; ++i)
        if (s[i] >= 0) dup |= used[s[i]]++;
    check(!dup, "k=4: no slot used twice in the event");
    /* exhaustive degree-4 filling: 3 particles of degree 4 over 9 slots, all cells finite (distinct) */
    enum { M = 9 };
    int d3[3] = { 4, 4, 4 };
    float *lf[3] = { blank(M, 4), blank(M, 4), blank(M, 4) };
    for (int p = 0; p < 3; ++p)
        for (int64_t c = 0; c < ipow(M, 4); ++c) {
            int a = (int)(c / 729), b = (int)(c / 81 % 9), e = (int)(c / 9 % 9), f = (int)(c % 9);
            if (a != b && a != e && a != f && b != e && b != f && e != f) lf[p][c] = -(float)unif() * 10.0f;
        }
    int32_t t[3 * 4];
    r = decode(3, d3, M, lf, NULL, 4, t, NULL);
    int u2[M] = { 0 }, dup2 = 0;
    for (int i = 0; i < 12; ++i)
        if (t[i] >= 0) dup2 |= u2[t[i]]++;
    check(r == 2 && !dup2, "k=4, 3 particles over 9 slots: two assigned, the third has 1 free slot, no duplicate");
    for (int p = 0; p < 3; ++p) { free(lp[p]); free(lf[p]); }
}

static void test_nonfinite(void)
{
    int deg[3] = { 1, 1, 2 };
    float *lp[3] = { blank(4, 1), blank(4, 1), blank(4, 2) };
    lp[0][0] = NAN; lp[0][1] = -1.0f; lp[0][2] = -2.0f; lp[0][3] = INFINITY;
    lp[1][0] = NAN; lp[1][1] = NAN; lp[1][2] = NAN; lp[1][3] = NAN;   /* upstream: NaN -> 0, picked first */
    for (int i = 0; i < 16; ++i) lp[2][i] = i % 5 ? NAN : -INFINITY;   /* NaN off the diagonal */
    lp[2][cell2(4, 2, 3)] = -0.7f;
    int32_t s[3 * 2];
    float pr[3];
    int r = decode(3, deg, 4, lp, NULL, 2, s, pr);
    check(r == 2 && s[0] == 1 && s[2] == -1 && s[4] == 2 && s[5] == 3,
          "NaN and +inf cells never chosen; all-NaN particle stays -1; others assigned");
    free(lp[0]); free(lp[1]); free(lp[2]);
}

static void test_invalid(void)
{
    int deg[2] = { 1, 9 }, deg0[2] = { 0, 1 }, ok[2] = { 2, 1 };
    float *lp[2] = { blank(3, 2), blank(3, 1) };
    char buf[256];
    int32_t s[4] = { 7, 7, 7, 7 };
    check(hn_assign_scratch_bytes(2, deg, 3) == 0 && hn_assign_scratch_bytes(2, deg0, 3) == 0, "scratch size 0 for degree 9 / 0");
    check(hn_assign_decode(2, deg, 3, (const float *const *)lp, NULL, 2, s, NULL, buf, sizeof buf) == -1, "degree 9 rejected");
    check(hn_assign_decode(2, ok, 3, (const float *const *)lp, NULL, 1, s, NULL, buf, sizeof buf) == -1, "kmax < degree rejected");
    size_t need = hn_assign_scratch_bytes(2, ok, 3);
    check(hn_assign_decode(2, ok, 3, (const float *const *)lp, NULL, 2, s, NULL, buf, need - 1) == -1, "short scratch rejected");
    check(s[0] == 7 && s[3] == 7, "nothing written on invalid arguments");
    check(hn_assign_decode(2, ok, 3, (const float *const *)lp, NULL, 2, s, NULL, buf, need) == 0 && s[0] == -1 && s[2] == -1,
          "all -inf event: 0 assigned, all -1");
    free(lp[0]); free(lp[1]);
}

/* ---- decoder against brute force -------------------------------------------------------------------- */

/* Upstream extract_prediction with generic-degree masking and non-finite cells skipped; modifies lp. */
static int brute_decode(int m, const int *deg, int n, float **lp, const int *gorder, int kmax, int32_t *slots,
                        float *prob)
{
    for (int p = 0; p < m; ++p) {
        for (int d = 0; d < kmax; ++d) slots[p * kmax + d] = -1;
        prob[p] = 0;
    }
    int assigned = 0;
    for (int it = 0; it < m; ++it) {
        int bp = -1;
        int64_t bc = -1;
        float bv = -INFINITY;
        for (int p = 0; p < m; ++p)
            for (int64_t c = 0; c < ipow(n, deg[p]); ++c)
                if (isfinite(lp[p][c]) && lp[p][c] > bv) { bp = p; bc = c; bv = lp[p][c]; }
        if (bp < 0) break;
        int js[8];
        for (int d = deg[bp] - 1, c = (int)bc; d >= 0; --d) { js[d] = c % n; c /= n; }
        for (int d = 0; d < deg[bp]; ++d) slots[bp * kmax + d] = js[d];
        prob[bp] = (float)(gorder ? gorder[bp] : 1) * expf(bv);
        ++assigned;
        for (int64_t c = 0; c < ipow(n, deg[bp]); ++c) lp[bp][c] = -INFINITY;
        for (int p = 0; p < m; ++p)
            for (int64_t c = 0; c < ipow(n, deg[p]); ++c) {
                int hit = 0;
                for (int d = 0, x = (int)c; d < deg[p]; ++d, x /= n)
                    for (int e = 0; e < deg[bp]; ++e) hit |= x % n == js[e];
                if (hit) lp[p][c] = -INFINITY;
            }
    }
    return assigned;
}

/* SPANet-like random output: padding and repeated-slot cells −inf, random extra masking, ties, rare NaN
 * and +inf, sometimes a particle with nothing valid. */
static void random_particle(float *a, int n, int k, int n_real)
{
    int dead = rnd() % 20 == 0, tie = rnd() % 3 == 0;
    for (int64_t c = 0; c < ipow(n, k); ++c) {
        int js[8], bad = 0;
        for (int d = k - 1, x = (int)c; d >= 0; --d) { js[d] = x % n; x /= n; }
        for (int d = 0; d < k; ++d) {
            bad |= js[d] >= n_real;
            for (int e = 0; e < d; ++e) bad |= js[d] == js[e];
        }
        float v = tie ? -0.5f * (float)(rnd() % 4) : (float)(-5.0 * unif());
        unsigned u = rnd() % 100;
        a[c] = bad || dead || u < 20 ? -INFINITY : u < 22 ? NAN : u < 23 ? INFINITY : v;
    }
}

static void test_random(void)
{
    int mismatch = 0, dup = 0, modified = 0, events = 400, n_assigned = 0, n_particles = 0;
    for (int ev = 0; ev < events; ++ev) {
        int m = 1 + (int)(rnd() % 4), n = 2 + (int)(rnd() % 6), deg[4], g[4], kmax = 0;
        int n_real = rnd() % 2 ? n : (int)(rnd() % (unsigned)(n + 1));
        float *lp[4], *copy[4], *orig[4];
        for (int p = 0; p < m; ++p) {
            deg[p] = 1 + (int)(rnd() % 4);
            g[p] = 1 + (int)(rnd() % 2);
            kmax = deg[p] > kmax ? deg[p] : kmax;
            size_t cells = (size_t)ipow(n, deg[p]);
            lp[p] = malloc(sizeof(float) * cells);
            copy[p] = malloc(sizeof(float) * cells);
            orig[p] = malloc(sizeof(float) * cells);
            random_particle(lp[p], n, deg[p], n_real);
            memcpy(copy[p], lp[p], sizeof(float) * cells);
            memcpy(orig[p], lp[p], sizeof(float) * cells);
        }
        int32_t s[4 * 4], bs[4 * 4];
        float pr[4], bpr[4];
        int r = decode(m, deg, n, lp, g, kmax, s, pr);
        int br = brute_decode(m, deg, n, copy, g, kmax, bs, bpr);
        n_assigned += r;
        n_particles += m;
        if (r != br || memcmp(s, bs, sizeof(int32_t) * (size_t)(m * kmax)) || memcmp(pr, bpr, sizeof(float) * (size_t)m)) {
            if (!mismatch) printf("  first mismatch at event %d (m=%d n=%d): %d vs %d assigned\n", ev, m, n, r, br);
            ++mismatch;
        }
        int used[8] = { 0 };
        for (int i = 0; i < m * kmax; ++i)
            if (s[i] >= 0) dup |= used[s[i]]++;
        for (int p = 0; p < m; ++p) {
            modified |= memcmp(lp[p], orig[p], sizeof(float) * (size_t)ipow(n, deg[p])) != 0;
            free(lp[p]); free(copy[p]); free(orig[p]);
        }
    }
    printf("  random events: %d of %d particles assigned\n", n_assigned, n_particles);
    char what[96];
    snprintf(what, sizeof what, "%d random events (m<=4, 2<=N<=7, k<=4, ties, NaN, masking): decoder = brute force", events);
    check(!mismatch, what);
    check(!dup, "random events: no slot assigned twice");
    check(!modified, "random events: input arrays unchanged");
}

static void test_batch(void)
{
    enum { E = 60, M = 3, N = 6 };
    int deg[M] = { 3, 3, 2 }, g[M] = { 2, 2, 2 };
    int64_t stride[M];
    float *lp[M];
    for (int p = 0; p < M; ++p) {
        stride[p] = ipow(N, deg[p]) + 5;   /* padded rows */
        lp[p] = malloc(sizeof(float) * (size_t)(stride[p] * E));
        for (int e = 0; e < E; ++e) {
            random_particle(lp[p] + e * stride[p], N, deg[p], 3 + (int)(rnd() % 4));
            for (int x = 0; x < 5; ++x) lp[p][e * stride[p] + ipow(N, deg[p]) + x] = 100.0f;   /* never read */
        }
    }
    size_t bytes = hn_assign_scratch_bytes(M, deg, N);
    void *scratch = malloc(bytes);
    static int32_t s[E * M * 3], one[M * 3];
    static float pr[E * M], opr[M];
    int64_t total = hn_assign_decode_batch(E, M, deg, N, (const float *const *)lp, stride, g, 3, s, pr, scratch, bytes);
    int64_t want = 0;
    int bad = 0;
    for (int e = 0; e < E; ++e) {
        const float *ev[M];
        for (int p = 0; p < M; ++p) ev[p] = lp[p] + e * stride[p];
        want += hn_assign_decode(M, deg, N, ev, g, 3, one, opr, scratch, bytes);
        bad |= memcmp(one, s + e * M * 3, sizeof one) != 0 || memcmp(opr, pr + e * M, sizeof opr) != 0;
    }
    check(total == want && !bad, "batch wrapper with padded strides = per-event decode");
    for (int p = 0; p < M; ++p) free(lp[p]);
    free(scratch);
}

/* ---- purities ----------------------------------------------------------------------------------------- */

static void test_purity_ttbar(void)
{
    /* t1, t2: (q1, q2, b), G_E = {id, (t1 t2)}, G_t = {id, (q1 q2)}. */
    static const int deg[2] = { 3, 3 }, perms[4] = { 0, 1, 1, 0 }, off[2] = { 0, 2 }, mem[2] = { 0, 1 };
    static const int8_t orbit[6] = { 0, 0, 2, 0, 0, 2 };
    hn_assign_topology t = { 2, 3, deg, orbit, 2, perms, 1, off, mem };
    enum { E = 7 };
    static const int32_t target[E * 6] = {
        0, 1, 2, 3, 4, 5,
        0, 1, 2, 3, 4, 5,
        0, 1, 2, 3, 4, 5,
        0, 1, 2, 3, 4, 5,
        0, 1, 2, -1, -1, -1,      /* t2 missing */
        -1, -1, -1, -1, -1, -1,   /* no top */
        0, 1, 2, 3, 4, 5,
    };
    static const int32_t pred[E * 6] = {
        0, 1, 2, 3, 4, 5,         /* exact */
        3, 4, 5, 0, 1, 2,         /* tops swapped: only sigma = (t1 t2) matches */
        1, 0, 2, 4, 3, 5,         /* q1/q2 swapped inside both tops */
        0, 1, 2, 3, 5, 4,         /* t2's b and q2 swapped: t2 wrong */
        1, 0, 2, 6, 7, 8,         /* t1 right (q swap), t2 absent */
        0, 1, 2, 3, 4, 5,         /* nothing to find */
        3, 4, 5, 4, 3, 5,         /* both predicted as target t2 */
    };
    double ep, cp;
    int64_t nc, ns, cn, cd;
    check(hn_assign_event_purity(&t, E, pred, target, NULL, NULL, &ep, &nc, &ns) == 0 && nc == 5 && ns == 7,
          "ttbar event purity: 5 of 7 (swapped tops, swapped quarks, a missing top, an empty event count)");
    check(hn_assign_cluster_purity(&t, E, pred, target, NULL, NULL, &cp, &cn, &cd) == 0 && cn == 9 && cd == 11 &&
          fabs(cp - 9.0 / 11.0) < 1e-15, "ttbar t purity: 9 of 11 present tops");
    hn_assign_topology triv = t;
    triv.n_event_perms = 0;
    hn_assign_event_purity(&triv, E, pred, target, NULL, NULL, &ep, &nc, &ns);
    check(nc == 4, "trivial G_E: the swapped-tops event is no longer correct");
    hn_assign_topology nosort = t;
    nosort.product_orbit = NULL;
    hn_assign_event_purity(&nosort, E, pred, target, NULL, NULL, &ep, &nc, &ns);
    hn_assign_cluster_purity(&nosort, E, pred, target, NULL, NULL, &cp, &cn, &cd);
    check(nc == 3 && cn == 6, "without product orbits the q1/q2-swapped tops are wrong (sorting matters)");
    /* explicit mask: t2 of the first event declared absent */
    uint8_t mask[E * 2];
    for (int i = 0; i < E * 2; ++i) mask[i] = target[i * 3] >= 0;
    mask[1] = 0;
    hn_assign_cluster_purity(&t, E, pred, target, mask, NULL, &cp, &cn, &cd);
    check(cn == 8 && cd == 10, "explicit mask overrides the targets");
    /* categories */
    uint8_t sel[E];
    int star = -1, two = 2, one = 1, zero = 0;
    int64_t k = hn_assign_category_select(&t, E, target, NULL, &star, sel);
    hn_assign_event_purity(&t, E, pred, target, NULL, sel, &ep, &nc, &ns);
    check(k == 6 && !sel[5] && nc == 4 && ns == 6, "category *t: events with >=1 top, purity 4/6");
    k = hn_assign_category_select(&t, E, target, NULL, &two, sel);
    hn_assign_event_purity(&t, E, pred, target, NULL, sel, &ep, &nc, &ns);
    hn_assign_cluster_purity(&t, E, pred, target, NULL, sel, &cp, &cn, &cd);
    check(k == 5 && fabs(ep - 0.6) < 1e-15 && cn == 8 && cd == 10, "category 2t: 5 events, event purity 3/5, t purity 8/10");
    k = hn_assign_category_select(&t, E, target, NULL, &one, sel);
    check(k == 1 && sel[4], "category 1t: the event with one top");
    k = hn_assign_category_select(&t, E, target, NULL, &zero, sel);
    hn_assign_event_purity(&t, E, pred, target, NULL, sel, &ep, &nc, &ns);
    hn_assign_cluster_purity(&t, E, pred, target, NULL, sel, &cp, &cn, &cd);
    check(k == 1 && ep == 1.0 && isnan(cp), "category 0t: event purity 1 (nothing to find), t purity NaN");
    memset(sel, 0, sizeof sel);
    hn_assign_event_purity(&t, E, pred, target, NULL, sel, &ep, &nc, &ns);
    check(isnan(ep) && ns == 0, "no event selected: NaN");
    int three = 3;
    check(hn_assign_category_select(&t, E, target, NULL, &three, sel) == -1, "count above the cluster size rejected");
    static const int badperm[4] = { 0, 1, 1, 1 };
    hn_assign_topology bad = t;
    bad.event_perms = badperm;
    check(hn_assign_event_purity(&bad, E, pred, target, NULL, NULL, &ep, NULL, NULL) == -1, "non-bijective sigma rejected");
}

static void test_purity_cyclic(void)
{
    /* Three degree-1 particles, G_E = C3 (no transpositions). A transposed prediction is wrong for the event
     * (no sigma in G_E fits) but fully right for the cluster, which searches every permutation. */
    static const int deg[3] = { 1, 1, 1 }, perms[9] = { 0, 1, 2, 1, 2, 0, 2, 0, 1 }, off[2] = { 0, 3 }, mem[3] = { 0, 1, 2 };
    hn_assign_topology t = { 3, 1, deg, NULL, 3, perms, 1, off, mem };
    const int32_t target[3] = { 4, 5, 6 }, pred[3] = { 5, 4, 6 }, rot[3] = { 5, 6, 4 };
    double ep, cp;
    hn_assign_event_purity(&t, 1, pred, target, NULL, NULL, &ep, NULL, NULL);
    hn_assign_cluster_purity(&t, 1, pred, target, NULL, NULL, &cp, NULL, NULL);
    check(ep == 0.0 && cp == 1.0, "C3 event group: transposed prediction -> event 0, cluster 3/3");
    hn_assign_event_purity(&t, 1, rot, target, NULL, NULL, &ep, NULL, NULL);
    check(ep == 1.0, "C3 event group: rotated prediction -> event correct");
}

static void test_category_tth(void)
{
    /* semi-leptonic ttH: lt (b), ht (b, q1, q2), h (b1, b2); G_E trivial; three singleton clusters. */
    static const int deg[3] = { 1, 3, 2 }, off[4] = { 0, 1, 2, 3 }, mem[3] = { 0, 1, 2 };
    static const int8_t orbit[9] = { 0, -1, -1, 0, 1, 1, 0, 0, -1 };
    hn_assign_topology t = { 3, 3, deg, orbit, 0, NULL, 3, off, mem };
    static const int32_t target[4 * 9] = {
        1, -1, -1,   2, 3, 4,     5, 6, -1,
        -1, -1, -1,  2, 3, 4,     5, 6, -1,
        -1, -1, -1,  -1, 3, 4,    5, 6, -1,   /* ht incomplete: absent */
        -1, -1, -1,  -1, -1, -1,  -1, -1, -1,
    };
    static const int32_t pred[4 * 9] = {
        1, -1, -1,   2, 4, 3,     6, 5, -1,   /* all right after sorting q1/q2 and b1/b2 */
        0, -1, -1,   2, 3, 4,     5, 7, -1,   /* h wrong */
        0, -1, -1,   7, 3, 4,     6, 5, -1,
        0, -1, -1,   2, 3, 4,     5, 6, -1,
    };
    uint8_t sel[4];
    double ep, cp[3];
    int cat[3] = { 0, -1, 1 };   /* "0lt*ht1h" */
    int64_t k = hn_assign_category_select(&t, 4, target, NULL, cat, sel);
    hn_assign_event_purity(&t, 4, pred, target, NULL, sel, &ep, NULL, NULL);
    hn_assign_cluster_purity(&t, 4, pred, target, NULL, sel, cp, NULL, NULL);
    check(k == 2 && !sel[0] && sel[1] && sel[2] && !sel[3] && ep == 0.5,
          "ttH category 0lt*ht1h: events 1 and 2, event purity 1/2");
    check(isnan(cp[0]) && cp[1] == 1.0 && cp[2] == 0.5, "ttH cluster purities in 0lt*ht1h: lt NaN, ht 1/1, h 1/2");
    hn_assign_event_purity(&t, 4, pred, target, NULL, NULL, &ep, NULL, NULL);
    check(ep == 0.75, "ttH all events: 3 of 4 (h alone, and the empty event, count as correct)");
}

/* Four tops, G_E = S4, against brute force over all 24 permutations with qsort-ed orbits. */
static int cmp_i32(const void *a, const void *b) { int32_t x = *(const int32_t *)a, y = *(const int32_t *)b; return (x > y) - (x < y); }

static void test_purity_random(void)
{
    enum { E = 300, M = 4, K = 3 };
    static const int deg[M] = { 3, 3, 3, 3 }, off[2] = { 0, 4 }, mem[M] = { 0, 1, 2, 3 };
    static const int8_t orbit[M * K] = { 0, 0, 2, 0, 0, 2, 0, 0, 2, 0, 0, 2 };
    int perms[24 * M], np = 0;
    for (int a = 0; a < 4; ++a)
        for (int b = 0; b < 4; ++b)
            for (int c = 0; c < 4; ++c)
                for (int d = 0; d < 4; ++d)
                    if (a != b && a != c && a != d && b != c && b != d && c != d) {
                        perms[np * 4] = a; perms[np * 4 + 1] = b; perms[np * 4 + 2] = c; perms[np * 4 + 3] = d; ++np;
                    }
    hn_assign_topology t = { M, K, deg, orbit, np, perms, 1, off, mem };
    static int32_t pred[E * M * K], target[E * M * K];
    for (int i = 0; i < E * M * K; ++i) {
        target[i] = (int32_t)(rnd() % 4);
        pred[i] = rnd() % 10 == 0 ? -1 : (int32_t)(rnd() % 4);
    }
    for (int e = 0; e < E; ++e)   /* copy target rows into pred (possibly permuted / q-swapped) to get matches */
        for (int i = 0; i < M; ++i) {
            if (rnd() % 10 == 0) target[(e * M + i) * K] = -1;
            if (rnd() % 3 == 0) continue;
            int j = (int)(rnd() % M);
            int32_t *p = pred + (e * M + i) * K, *q = target + (e * M + j) * K;
            int sw = rnd() % 2;
            p[0] = q[sw]; p[1] = q[1 - sw]; p[2] = q[2];
        }
    int64_t want_ev = 0, want_num = 0, want_den = 0;
    for (int e = 0; e < E; ++e) {
        int32_t ps[M][K], ts[M][K];
        int present[M], n_present = 0;
        for (int i = 0; i < M; ++i) {
            memcpy(ps[i], pred + (e * M + i) * K, sizeof ps[i]);
            memcpy(ts[i], target + (e * M + i) * K, sizeof ts[i]);
            qsort(ps[i], 2, sizeof(int32_t), cmp_i32);
            qsort(ts[i], 2, sizeof(int32_t), cmp_i32);
            present[i] = ts[i][0] >= 0 && ts[i][1] >= 0 && ts[i][2] >= 0;
            n_present += present[i];
        }
        int best = 0;
        for (int g = 0; g < np; ++g) {
            int acc = 0;
            for (int i = 0; i < M; ++i) {
                int j = perms[g * M + i];
                acc += present[j] && !memcmp(ps[i], ts[j], sizeof ps[i]);
            }
            best = acc > best ? acc : best;
        }
        want_ev += best == n_present;
        want_num += best;   /* the cluster is every particle and G_E = S4: same maximum */
        want_den += n_present;
    }
    double ep, cp;
    int64_t nc, cn, cd;
    hn_assign_event_purity(&t, E, pred, target, NULL, NULL, &ep, &nc, NULL);
    hn_assign_cluster_purity(&t, E, pred, target, NULL, NULL, &cp, &cn, &cd);
    printf("  random four-top events: %lld of %d correct, %lld of %lld tops\n", (long long)want_ev, E,
           (long long)want_num, (long long)want_den);
    check(nc == want_ev, "random 4-top events, G_E = S4: event purity = brute force over 24 permutations");
    check(cn == want_num && cd == want_den, "random 4-top events: cluster purity (matching) = brute force over 24 permutations");
}

int main(void)
{
    test_degree1();
    test_degree2();
    test_degree3();
    test_degree4();
    test_nonfinite();
    test_invalid();
    test_random();
    test_batch();
    test_purity_ttbar();
    test_purity_cyclic();
    test_category_tth();
    test_purity_random();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
