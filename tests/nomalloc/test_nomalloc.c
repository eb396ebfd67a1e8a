/* test_nomalloc.c — the generated inference path of pfn, against its contracts:
 *   - no malloc/calloc/realloc/free/aligned allocation during pfn_infer (interposed here);
 *   - embedded weights and weights loaded from the file give bit-identical outputs;
 *   - a batch gives the same result as each event alone, and whatever sits in padding slots
 *     (NaN here) changes nothing: padding is never read;
 *   - a count out of range is refused before any work.
 * Built twice: with generated loops (exact equalities) and with cblas (batch vs single ≤ 1e-5). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hepnc/data.h>

#include "pfn.h"

#include "alloc_counter.h"

static int passed, failed;
static void check(int ok, const char *what)
{
    printf("%s %s\n", ok ? "ok" : "FAIL", what);
    ok ? ++passed : ++failed;
}

#define MAXP PFN_MAX_PARTICLES
#define NF PFN_PARTICLES_FEATURES
#define NO PFN_SCORES_WIDTH
#define NL PFN_LOGITS_WIDTH

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: test_nomalloc WEIGHTS INPUTS.h5\n"); return 2; }
    char err[512];
    hn_dataset *ds = hn_dataset_open(argv[2], err, sizeof err);
    if (!ds) { fprintf(stderr, "%s\n", err); return 1; }
    enum { B = 64 };
    static float x[B * MAXP * NF];
    static int32_t n[B];
    static const char *const names[] = { "part_pt_log", "part_e_log", "part_logptrel", "part_logerel",
                                         "part_deltaR", "part_deta", "part_dphi" };
    if (hn_dataset_read_set(ds, "particles", MAXP, NF, names, 0, B, x, n, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    hn_dataset_close(ds);
    for (int b = 0; b < B; ++b)          /* poison the padding: it must never be read */
        for (int p = n[b]; p < MAXP; ++p)
            for (int f = 0; f < NF; ++f) x[((size_t)b * MAXP + p) * NF + f] = NAN;

    pfn_model loaded, embedded;
    if (pfn_load(&loaded, argv[1], err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    pfn_embedded(&embedded);
    void *ws = __libc_malloc(PFN_WORKSPACE_BYTES(B));
    static float scores[B * NO], logits[B * NL], scores2[B * NO], logits2[B * NL], one[NO], one_l[NL];
    pfn_inputs in = { x, n };
    pfn_outputs out = { logits, scores }, out2 = { logits2, scores2 };

    pfn_infer(&loaded, &in, B, &out, ws);            /* warm-up: lets a BLAS set up its buffers */
    counting = 1;
    int rc = 0;
    for (int rep = 0; rep < 3; ++rep) rc |= pfn_infer(&loaded, &in, B, &out, ws);
    for (int b = 0; b < B; ++b) {
        pfn_inputs single = { x + (size_t)b * MAXP * NF, n + b };
        pfn_outputs o = { one_l, one };
        rc |= pfn_infer(&loaded, &single, 1, &o, ws);
    }
    counting = 0;
    check(rc == 0, "infer returns 0");
    char what[96];
    snprintf(what, sizeof what, "no allocation during infer (%ld calls seen)", (long)allocations);
    check(allocations == 0, what);

    int finite = 1;
    for (int i = 0; i < B * NO; ++i) finite &= isfinite(scores[i]);
    check(finite, "outputs finite although every padding slot holds NaN");

    pfn_infer(&embedded, &in, B, &out2, ws);
    check(memcmp(scores, scores2, sizeof scores) == 0 && memcmp(logits, logits2, sizeof logits) == 0,
          "embedded and loaded weights give bit-identical outputs");

    double worst = 0;
    for (int b = 0; b < B; ++b) {
        pfn_inputs single = { x + (size_t)b * MAXP * NF, n + b };
        pfn_outputs o = { one_l, one };
        pfn_infer(&loaded, &single, 1, &o, ws);
        for (int k = 0; k < NL; ++k) worst = fmax(worst, fabs((double)one_l[k] - logits[b * NL + k]));
    }
#ifdef HN_TEST_CBLAS
    /* sgemm picks its kernel and summation order by matrix size: a few ulps of |logits| ~ 3 */
    snprintf(what, sizeof what, "each event alone = the batch (max |diff| %.2g <= 1e-5, cblas)", worst);
    check(worst <= 1e-5, what);
#else
    snprintf(what, sizeof what, "each event alone = the batch, exactly (max |diff| %.2g)", worst);
    check(worst == 0, what);
#endif

    int32_t bad[B];
    memcpy(bad, n, sizeof bad);
    bad[B - 1] = MAXP + 1;
    pfn_inputs bad_in = { x, bad };
    memset(scores2, 0x7f, sizeof scores2);
    rc = pfn_infer(&loaded, &bad_in, B, &out2, ws);
    check(rc == 1 && scores2[0] == scores2[1], "a count above max is refused (code 1) before any output is written");
    check(pfn_infer(&loaded, &in, -1, &out2, ws) == 2, "a negative batch is refused (code 2)");

    pfn_release(&loaded);
    __libc_free(ws);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
