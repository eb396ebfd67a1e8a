/* test_spanet_loss.c — runtime/spanet_loss.c against upstream SPANet's own training loss and its gradients
 * (tests/parity/<fixture>/loss.h5, written by the fixture generators with upstream's training_step on the
 * fixture's outputs; tests/parity/README.md), on both fixtures:
 *   spanet_small      full-hadronic ttbar: t1, t2 (3 products, |G| = 2), G_E = {id, (t1 t2)}; assignment and
 *                     detection terms (4 terms)
 *   spanet_tth_small  semi-leptonic ttH: lt (1), ht (3, |G| = 2), h (2, |G| = 2), G_E trivial; assignment,
 *                     detection, 5 regressions, 1 classification (12 terms)
 * The loss to 1e-6 relative (float32 inputs, double sums both sides), every gradient entry to
 * 1e-6·max|gradient| + 1e-9. The groups are written here (unit.topology checks what the topology files
 * give); upstream's are the same sets. Also: invalid arguments are refused, and a deliberately wrong
 * target moves the loss (the comparison can fail). */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hepnc/spanet_loss.h"

static int failed, passed;

static void *read_ds(const char *file, const char *name, hid_t type, size_t elem, size_t *count)
{
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return NULL;
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) { H5Fclose(f); return NULL; }
    hid_t sp = H5Dget_space(d);
    size_t n = (size_t)H5Sget_simple_extent_npoints(sp);
    void *buf = malloc(elem * n + 8);
    if (H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) { free(buf); buf = NULL; }
    H5Sclose(sp);
    H5Dclose(d);
    H5Fclose(f);
    if (count) *count = n;
    return buf;
}

static float *floats(const char *file, const char *name, size_t *n) { return read_ds(file, name, H5T_NATIVE_FLOAT, 4, n); }
static int32_t *ints(const char *file, const char *name, size_t *n) { return read_ds(file, name, H5T_NATIVE_INT32, 4, n); }

static void check(int ok, const char *what, double got, double want)
{
    if (ok) ++passed;
    else { ++failed; printf("FAIL %s: %.9g, upstream %.9g\n", what, got, want); }
}

/* Every entry of got against want within 1e-6 of want's largest magnitude. */
static void compare(const char *what, const float *got, const float *want, size_t n)
{
    double top = 0.0, worst = 0.0;
    size_t at = 0;
    for (size_t k = 0; k < n; ++k) top = fabs(want[k]) > top ? fabs(want[k]) : top;
    for (size_t k = 0; k < n; ++k) {
        double d = fabs((double)got[k] - want[k]);
        if (d > worst) worst = d, at = k;
    }
    int ok = worst <= 1e-6 * top + 1e-9;
    printf("%s %-40s max |d| %.2e of max |g| %.2e\n", ok ? "ok  " : "FAIL", what, worst, top);
    check(ok, what, got[at], want[at]);
}

typedef struct fixture {
    const char *name;
    int m, kmax, n_slots, n_perms, n_terms;
    const char *particles[4];
    int degree[4], group_order[4];
    const char *products[4][3];
    int perms[8];
    int nreg;
    const char *regressions[5];
    const char *classification;
} fixture;

static const fixture fixtures[] = {
    { "spanet_small", 2, 3, 10, 2, 4, { "t1", "t2" }, { 3, 3 }, { 2, 2 }, { { "q1", "q2", "b" }, { "q1", "q2", "b" } },
      { 0, 1, 1, 0 }, 0, { 0 }, NULL },
    { "spanet_tth_small", 3, 3, 12, 1, 12, { "lt", "ht", "h" }, { 1, 3, 2 }, { 1, 2, 2 },
      { { "b" }, { "b", "q1", "q2" }, { "b1", "b2" } }, { 0, 1, 2 }, 5,
      { "neutrino_eta", "neutrino_px", "neutrino_py", "neutrino_pz", "log_invariant_mass" }, "signal" },
};

static int run(const char *dir, const fixture *fx)
{
    char inputs[1024], expected[1024], loss[1024], name[256];
    snprintf(inputs, sizeof inputs, "%s/%s/inputs.h5", dir, fx->name);
    snprintf(expected, sizeof expected, "%s/%s/expected.h5", dir, fx->name);
    snprintf(loss, sizeof loss, "%s/%s/loss.h5", dir, fx->name);
    size_t n = 0;
    double *total_ref = read_ds(loss, "/total", H5T_NATIVE_DOUBLE, 8, NULL);
    if (!total_ref) { printf("FAIL %s: cannot read %s\n", fx->name, loss); return ++failed, -1; }
    const float *logp[4], *det[4];
    float *dlogp[4], *ddet[4];
    int E = 0;
    for (int p = 0; p < fx->m; ++p) {
        snprintf(name, sizeof name, "/%s/assignment_log_probability", fx->particles[p]);
        logp[p] = floats(expected, name, &n);
        snprintf(name, sizeof name, "/%s/detection_logit", fx->particles[p]);
        det[p] = floats(loss, name, &n);
        E = (int)n;
        size_t cells = 1;
        for (int d = 0; d < fx->degree[p]; ++d) cells *= (size_t)fx->n_slots;
        dlogp[p] = malloc(sizeof(float) * (size_t)E * cells);
        ddet[p] = malloc(sizeof(float) * (size_t)E);
    }
    int32_t *targets = malloc(sizeof(int32_t) * (size_t)E * fx->m * fx->kmax);
    for (int p = 0; p < fx->m; ++p)
        for (int d = 0; d < fx->kmax; ++d) {
            int32_t *col = NULL;
            if (d < fx->degree[p]) {
                snprintf(name, sizeof name, "/TARGETS/%s/%s", fx->particles[p], fx->products[p][d]);
                col = ints(inputs, name, NULL);
            }
            for (int e = 0; e < E; ++e) targets[((size_t)e * fx->m + p) * fx->kmax + d] = col ? col[e] : -1;
            free(col);
        }
    hn_spanet_loss_spec spec = { fx->m, fx->degree, fx->n_slots, fx->group_order, fx->n_perms, fx->perms, 1.0, 1.0, 0.0,
                                 HN_SPANET_COMBINE_MIN };
    hn_spanet_loss_batch batch = { E, fx->kmax, logp, det, targets, NULL, NULL };
    double sum = 0.0;
    int rc = hn_spanet_assignment_loss(&spec, &batch, fx->n_terms, &sum, dlogp, ddet, NULL);
    check(rc == 0, "hn_spanet_assignment_loss accepts the fixture", rc, 0);
    for (int p = 0; p < fx->m; ++p) {
        size_t cells = 1;
        for (int d = 0; d < fx->degree[p]; ++d) cells *= (size_t)fx->n_slots;
        snprintf(name, sizeof name, "/%s/d_assignment", fx->particles[p]);
        float *want = floats(loss, name, NULL);
        char what[128];
        snprintf(what, sizeof what, "%s: d loss / d log P(%s)", fx->name, fx->particles[p]);
        compare(what, dlogp[p], want, (size_t)E * cells);
        free(want);
        snprintf(name, sizeof name, "/%s/d_detection", fx->particles[p]);
        want = floats(loss, name, NULL);
        snprintf(what, sizeof what, "%s: d loss / d detection(%s)", fx->name, fx->particles[p]);
        compare(what, ddet[p], want, (size_t)E);
        free(want);
    }
    for (int r = 0; r < fx->nreg; ++r) {        /* gaussian regressions of the EVENT vector */
        snprintf(name, sizeof name, "/regression/%s", fx->regressions[r]);
        float *y = floats(expected, name, NULL);
        snprintf(name, sizeof name, "/REGRESSIONS/EVENT/%s", fx->regressions[r]);
        float *t = floats(inputs, name, NULL);
        snprintf(name, sizeof name, "/regression/%s/std", fx->regressions[r]);
        float *std = floats(loss, name, NULL);
        snprintf(name, sizeof name, "/regression/%s/d", fx->regressions[r]);
        float *want = floats(loss, name, NULL), *dy = malloc(sizeof(float) * (size_t)E);
        hn_spanet_regression_loss(HN_SPANET_GAUSSIAN, 1.0, std[0], y, t, E, fx->n_terms, &sum, dy);
        char what[128];
        snprintf(what, sizeof what, "%s: d loss / d %s", fx->name, fx->regressions[r]);
        compare(what, dy, want, (size_t)E);
        free(y), free(t), free(std), free(want), free(dy);
    }
    if (fx->classification) {
        snprintf(name, sizeof name, "/classification/%s_logits", fx->classification);
        float *z = floats(expected, name, NULL), *dz = malloc(sizeof(float) * (size_t)E * 2);
        snprintf(name, sizeof name, "/CLASSIFICATIONS/EVENT/%s", fx->classification);
        int32_t *labels = ints(inputs, name, NULL);
        snprintf(name, sizeof name, "/classification/%s/d", fx->classification);
        float *want = floats(loss, name, NULL);
        hn_spanet_classification_loss(1.0, z, labels, E, 2, fx->n_terms, &sum, dz);
        char what[128];
        snprintf(what, sizeof what, "%s: d loss / d %s logits", fx->name, fx->classification);
        compare(what, dz, want, (size_t)E * 2);
        free(z), free(dz), free(labels), free(want);
    }
    double total = sum / fx->n_terms;
    int ok = fabs(total - total_ref[0]) <= 1e-6 * fabs(total_ref[0]);
    printf("%s %-40s %.9f (upstream %.9f)\n", ok ? "ok  " : "FAIL", fx->name, total, total_ref[0]);
    check(ok, "total loss", total, total_ref[0]);
    /* the comparison can fail: one target moved to another jet changes the loss */
    int32_t keep = targets[0];
    targets[0] = keep == 5 ? 4 : 5;
    double moved = 0.0;
    hn_spanet_assignment_loss(&spec, &batch, fx->n_terms, &moved, dlogp, ddet, NULL);
    targets[0] = keep;
    double base = 0.0;
    hn_spanet_assignment_loss(&spec, &batch, fx->n_terms, &base, dlogp, ddet, NULL);
    check(moved != base, "a moved target changes the loss", moved, base);
    /* invalid arguments */
    hn_spanet_loss_spec bad = spec;
    bad.combine = 7;
    check(hn_spanet_assignment_loss(&bad, &batch, fx->n_terms, &sum, dlogp, ddet, NULL) == -1, "unknown combine refused", 0, -1);
    bad = spec;
    bad.n_slots = 0;
    check(hn_spanet_assignment_loss(&bad, &batch, fx->n_terms, &sum, dlogp, ddet, NULL) == -1, "no slots refused", 0, -1);
    for (int p = 0; p < fx->m; ++p) free((void *)logp[p]), free((void *)det[p]), free(dlogp[p]), free(ddet[p]);
    free(targets);
    free(total_ref);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: test_spanet_loss TESTS_PARITY_DIR\n"); return 2; }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    for (size_t i = 0; i < sizeof fixtures / sizeof *fixtures; ++i) run(argv[1], &fixtures[i]);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
