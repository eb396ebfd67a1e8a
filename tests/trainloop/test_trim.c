/* test_trim.c — weaver's SequenceTrimmer on a training batch (runtime/trainer_trim.c), on a hand-made
 * batch whose values name their origin (event, row; pairs: row a, row c):
 *   - the length is ⌊torch.quantile(counts, q)⌋ (linear interpolation, at least 1) with q = min(1,
 *     0.9 + 0.12·u), u the first uniform of the (seed, HN_RNG_TRIM, step) stream — recomputed here;
 *   - a longer jet keeps `length` of its rows, in their original order, the same ones in the features,
 *     the 4-vectors and both axes of the pairs; its other rows and pairs are zero; its count is cut;
 *   - shorter jets are untouched; a length ≥ max cuts nothing; the same (seed, step) trims the same way,
 *     and over many steps every real row is sometimes kept and sometimes dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hepnc/rng.h>

#include "trainer_internal.h"

enum { MAX = 8, EV = 6, NF = 2 };
static const hn_io_desc inputs[] = {
    { "particles", 1, 1, MAX, NF, 0, NULL, -1, -1 },
    { "particles_p4", 1, 0, MAX, 4, 0, NULL, 0, -1 },
    { "pairs", 2, 0, MAX, 1, 0, NULL, -1, 0 },
};
static const hn_model_entry model = { HN_MODEL_ABI, "trim_test", "", 3, inputs, 0, NULL, NULL, NULL, NULL, NULL };
static int failures;
#define CHECK(c, ...) do { if (!(c)) { ++failures; printf("FAIL " __VA_ARGS__); printf("\n"); } } while (0)

static float xs[EV * MAX * NF], vs[EV * MAX * 4], ps[EV * MAX * MAX];
static int32_t ns[EV], n1[EV], n2[EV];

static void fill(hn_batcher *b, const int32_t *counts)
{
    memset(b, 0, sizeof *b);
    b->m = &model;
    b->x[0] = xs, b->x[1] = vs, b->x[2] = ps;
    b->n[0] = ns, b->n[1] = n1, b->n[2] = n2;
    b->stride[0] = MAX * NF, b->stride[1] = MAX * 4, b->stride[2] = MAX * MAX;
    memset(xs, 0, sizeof xs), memset(vs, 0, sizeof vs), memset(ps, 0, sizeof ps);
    for (int e = 0; e < EV; ++e) {
        ns[e] = n1[e] = n2[e] = counts[e];
        for (int r = 0; r < counts[e]; ++r) {
            for (int f = 0; f < NF; ++f) xs[(e * MAX + r) * NF + f] = 1000.0f * e + r + 1 + 0.5f * f;
            for (int f = 0; f < 4; ++f) vs[(e * MAX + r) * 4 + f] = 1000.0f * e + r + 1;
            for (int c = 0; c < counts[e]; ++c) ps[(e * MAX + r) * MAX + c] = 100.0f * (r + 1) + c + 1;
        }
    }
}

static int cmp_int(const void *a, const void *b) { return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b); }

static int expected_length(const int32_t *counts, uint64_t seed, int64_t step)
{
    uint64_t st = hn_rng_stream(seed, HN_RNG_TRIM, (uint64_t)step);
    double q = 0.9 + 0.12 * hn_rng_uniform(&st);
    if (q > 1) q = 1;
    int s[EV];
    for (int e = 0; e < EV; ++e) s[e] = counts[e];
    qsort(s, EV, sizeof *s, cmp_int);
    double pos = q * (EV - 1), v = s[(int)pos] + (pos - (int)pos) * (s[(int)pos + 1 < EV ? (int)pos + 1 : EV - 1] - s[(int)pos]);
    return (int)v < 1 ? 1 : (int)v;
}

int main(void)
{
    const int32_t counts[EV] = { 8, 3, 7, 5, 0, 6 };
    int kept_seen[MAX] = { 0 }, dropped_seen[MAX] = { 0 }, trimmed_steps = 0;
    for (int64_t step = 0; step < 400; ++step) {
        hn_batcher b;
        fill(&b, counts);
        int len = hn_trim_batch(&b, EV, 42, step), want = expected_length(counts, 42, step);
        CHECK(len == (want >= MAX ? 0 : want), "step %lld: length %d, expected %d", (long long)step, len, want);
        if (!len) continue;
        ++trimmed_steps;
        for (int e = 0; e < EV; ++e) {
            int n = counts[e], k = n > len ? len : n;
            CHECK(ns[e] == k, "event %d count %d", e, ns[e]);   /* the masked input's count (the others carry none) */
            int prev = 0, orig[MAX];
            for (int r = 0; r < MAX; ++r) {
                float v = xs[(e * MAX + r) * NF];
                if (r >= k) { CHECK(v == 0.0f && vs[(e * MAX + r) * 4] == 0.0f, "event %d row %d not zeroed", e, r); continue; }
                int o = (int)(v - 1000.0f * e);        /* the original row + 1 */
                CHECK(o > prev && o <= n, "event %d row %d: original row %d after %d", e, r, o, prev);
                CHECK(xs[(e * MAX + r) * NF + 1] == v + 0.5f && vs[(e * MAX + r) * 4 + 3] == v, "event %d row %d: inputs disagree", e, r);
                orig[r] = o;
                prev = o;
                if (n > len) kept_seen[o - 1] |= e == 0;
            }
            if (n > len && e == 0)
                for (int o = 1; o <= n; ++o) {
                    int in = 0;
                    for (int r = 0; r < k; ++r) in |= orig[r] == o;
                    if (!in) dropped_seen[o - 1] = 1;
                }
            for (int a = 0; a < MAX; ++a)
                for (int c = 0; c < MAX; ++c) {
                    float v = ps[(e * MAX + a) * MAX + c];
                    if (a >= k || c >= k) CHECK(v == 0.0f, "event %d pair (%d,%d) not zeroed", e, a, c);
                    else CHECK(v == 100.0f * orig[a] + orig[c], "event %d pair (%d,%d) is %g, expected (%d,%d)", e, a, c, v, orig[a], orig[c]);
                }
        }
        /* the same (seed, step) trims the same way */
        float x1[sizeof xs / sizeof *xs];
        memcpy(x1, xs, sizeof xs);
        fill(&b, counts);
        hn_trim_batch(&b, EV, 42, step);
        CHECK(!memcmp(x1, xs, sizeof xs), "step %lld: not deterministic", (long long)step);
    }
    for (int r = 0; r < MAX; ++r) CHECK(kept_seen[r] && dropped_seen[r], "row %d of the 8-particle jet: kept %d, dropped %d", r, kept_seen[r], dropped_seen[r]);
    CHECK(trimmed_steps > 100, "only %d of 400 steps trimmed", trimmed_steps);
    printf("trim: %d of 400 steps trimmed the 6-jet batch; %s\n", trimmed_steps, failures ? "FAILED" : "ok");
    return failures != 0;
}
