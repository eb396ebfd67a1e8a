/* harness.c — hepnc side of bench/particlenet_cpu: the generated ParticleNet (models/particlenet_jetclass_kin.yaml,
 * trained JetClass weights) timed on the benchmark jets, its outputs checked against PyTorch's for the same jets.
 *
 *   harness WEIGHTS JETS.h5 REFERENCE.h5 [--reps 200] [--batches 5] [--batch 256] [--check 64] [--tol 1e-4]
 *           [--label NAME]
 *
 * Built by bench/particlenet_cpu/run.sh against one `hepnc compile` output (--blas openblas or none); the
 * timing helpers are bench/part_cpu/bench_timing.h. Prints one JSON object on stdout:
 *   latency: batch 1, one jet per call cycling through the jets, `reps` calls after a warm-up; median and
 *            p90 (nearest rank, the ceil(0.9·reps)-th smallest) in ms per jet;
 *   throughput: batch 256 (consecutive jets, wrapping), `batches` timed calls after one warm-up batch;
 *            jets/s = 256 / median batch time;
 *   check (before timing; also the warm-up): against /logits and /scores of REFERENCE.h5 (PyTorch) for the
 *            first `check` jets one at a time and for jets 0..B-1 as one batch: max |Δ probability| and
 *            max |Δ logit| / max(1, |logit|) (the trained model gives logits of tens on these jets). A jet is
 *            checked against PyTorch in float32 (/logits, /scores) and, only if that fails, against the same
 *            PyTorch model in float64 (/logits_f64, /scores_f64): a few jets have two kNN candidates closer
 *            than float32 resolution, where float32 PyTorch and hepnc may pick different neighbours; such
 *            jets are counted (jets_f64_only) and their differences taken against float64.
 * Exits 3 if either exceeds --tol (default 1e-4): a wrong model is not timed. */
#define _POSIX_C_SOURCE 200809L
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_timing.h"
#include "hepnc/data.h"
#include "particlenet_jetclass_kin.h"

#define MAXP PARTICLENET_JETCLASS_KIN_MAX_PARTICLES
#define NF PARTICLENET_JETCLASS_KIN_PARTICLES_FEATURES
#define NC PARTICLENET_JETCLASS_KIN_LOGITS_WIDTH

typedef struct { double dp, dl_rel, dl_abs; } diff;

static diff jet_diff(const float *logits, const float *scores, const float *rl, const float *rs) {
    diff d = {0, 0, 0};
    for (int c = 0; c < NC; c++) {
        double dl = fabs((double)logits[c] - rl[c]);
        d.dl_abs = fmax(d.dl_abs, dl);
        d.dl_rel = fmax(d.dl_rel, dl / fmax(1.0, fabs((double)rl[c])));
        d.dp = fmax(d.dp, fabs((double)scores[c] - rs[c]));
    }
    return d;
}

static double tol_ = 1e-4;
static const float *rl_, *rs_, *rl64_, *rs64_;
static int f64_only_;

/* jet j's outputs against PyTorch float32, or float64 where float32 fails (a kNN near-tie) */
static void compare(diff *d, const float *logits, const float *scores, int j) {
    size_t r = (size_t)j * NC;
    diff e = jet_diff(logits, scores, rl_ + r, rs_ + r);
    if (!(e.dp <= tol_ && e.dl_rel <= tol_) && rl64_) {
        diff e64 = jet_diff(logits, scores, rl64_ + r, rs64_ + r);
        if (e64.dp <= tol_ && e64.dl_rel <= tol_) {
            e = e64;
            f64_only_++;
            fprintf(stderr, "harness: jet %d matches PyTorch float64 (float32 differs: a kNN near-tie)\n", j);
        }
    }
    d->dl_abs = fmax(d->dl_abs, e.dl_abs), d->dl_rel = fmax(d->dl_rel, e.dl_rel), d->dp = fmax(d->dp, e.dp);
}

static int read2d(hid_t f, const char *name, int rows, float *dst) {
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    hid_t sp = ds < 0 ? -1 : H5Dget_space(ds);
    hsize_t dims[2] = {0, 0};
    int bad = sp < 0 || H5Sget_simple_extent_ndims(sp) != 2 || H5Sget_simple_extent_dims(sp, dims, NULL) < 0 ||
              dims[0] != (hsize_t)rows || dims[1] != NC || H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) < 0;
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    return bad;
}

static void stage(const float *x, const int32_t *n, int njets, int first, int count, float *bx, int32_t *bn) {
    for (int k = 0; k < count; k++) {
        int j = (first + k) % njets;
        memcpy(bx + (size_t)k * MAXP * NF, x + (size_t)j * MAXP * NF, sizeof(float) * MAXP * NF);
        bn[k] = n[j];
    }
}

static int infer(const particlenet_jetclass_kin_model *m, const float *bx, const int32_t *bn, int count, float *logits,
                 float *scores, void *ws) {
    particlenet_jetclass_kin_inputs in = {bx, bn};
    particlenet_jetclass_kin_outputs out = {logits, scores};
    return particlenet_jetclass_kin_infer(m, &in, count, &out, ws);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s WEIGHTS JETS.h5 REFERENCE.h5 [--reps N] [--batches N] [--batch N] [--check N] [--tol X] "
                        "[--label NAME]\n", argv[0]);
        return 2;
    }
    int reps = 200, batches = 5, B = 256, check = 64;
    double tol = 1e-4;
    const char *label = "hepnc";
    for (int a = 4; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "--reps")) reps = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--batches")) batches = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--batch")) B = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--check")) check = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--tol")) tol = atof(argv[a + 1]);
        else if (!strcmp(argv[a], "--label")) label = argv[a + 1];
        else { fprintf(stderr, "harness: unknown option %s\n", argv[a]); return 2; }
    }
    if (reps < 1 || batches < 1 || B < 1) { fprintf(stderr, "harness: reps, batches, batch must be >= 1\n"); return 2; }
    char err[512];
    particlenet_jetclass_kin_model m;
    if (particlenet_jetclass_kin_load(&m, argv[1], err, sizeof err)) { fprintf(stderr, "harness: %s\n", err); return 1; }

    hn_dataset *d = hn_dataset_open(argv[2], err, sizeof err);
    if (!d) { fprintf(stderr, "harness: %s\n", err); return 1; }
    int njets = (int)hn_dataset_events(d);
    static const char *const names[NF] = {"part_pt_log", "part_e_log", "part_logptrel", "part_logerel",
                                          "part_deltaR", "part_deta", "part_dphi"};
    float *x = xmalloc(sizeof(float) * (size_t)njets * MAXP * NF);
    int32_t *n = xmalloc(sizeof(int32_t) * (size_t)njets);
    if (hn_dataset_read_set(d, "particles", MAXP, NF, names, 0, njets, x, n, err, sizeof err)) {
        fprintf(stderr, "harness: %s\n", err);
        return 1;
    }
    hn_dataset_close(d);

    float *rl = xmalloc(sizeof(float) * (size_t)njets * NC), *rs = xmalloc(sizeof(float) * (size_t)njets * NC);
    {
        hid_t f = H5Fopen(argv[3], H5F_ACC_RDONLY, H5P_DEFAULT);
        if (f < 0 || read2d(f, "logits", njets, rl) || read2d(f, "scores", njets, rs)) {
            fprintf(stderr, "harness: %s: /logits or /scores missing or not [%d][%d]\n", argv[3], njets, NC);
            return 1;
        }
        rl_ = rl, rs_ = rs;
        if (H5Lexists(f, "logits_f64", H5P_DEFAULT) > 0) {
            float *l64 = xmalloc(sizeof(float) * (size_t)njets * NC), *s64 = xmalloc(sizeof(float) * (size_t)njets * NC);
            if (read2d(f, "logits_f64", njets, l64) || read2d(f, "scores_f64", njets, s64)) {
                fprintf(stderr, "harness: %s: /logits_f64 or /scores_f64 not [%d][%d]\n", argv[3], njets, NC);
                return 1;
            }
            rl64_ = l64, rs64_ = s64;
        }
        H5Fclose(f);
    }
    tol_ = tol;

    int bmax = B > 1 ? B : 1;
    float *bx = xmalloc(sizeof(float) * (size_t)bmax * MAXP * NF);
    int32_t *bn = xmalloc(sizeof(int32_t) * (size_t)bmax);
    float *logits = xmalloc(sizeof(float) * (size_t)bmax * NC), *scores = xmalloc(sizeof(float) * (size_t)bmax * NC);
    void *ws1 = xmalloc(PARTICLENET_JETCLASS_KIN_WORKSPACE_BYTES(1));
    void *wsB = xmalloc(PARTICLENET_JETCLASS_KIN_WORKSPACE_BYTES(B));
    memset(ws1, 0, PARTICLENET_JETCLASS_KIN_WORKSPACE_BYTES(1));   /* fault the pages in before timing */
    memset(wsB, 0, PARTICLENET_JETCLASS_KIN_WORKSPACE_BYTES(B));

    /* correctness first, doubling as the warm-up: the first `check` jets alone, then jets 0..B-1 as one batch */
    diff d1 = {0, 0, 0}, dB = {0, 0, 0};
    for (int j = 0; j < check; j++) {
        stage(x, n, njets, j, 1, bx, bn);
        if (infer(&m, bx, bn, 1, logits, scores, ws1)) { fprintf(stderr, "harness: infer failed\n"); return 1; }
        compare(&d1, logits, scores, j % njets);
    }
    stage(x, n, njets, 0, B, bx, bn);
    if (infer(&m, bx, bn, B, logits, scores, wsB)) { fprintf(stderr, "harness: infer failed\n"); return 1; }
    for (int k = 0; k < B; k++) compare(&dB, logits + (size_t)k * NC, scores + (size_t)k * NC, k % njets);
    double dp = fmax(d1.dp, dB.dp), dl = fmax(d1.dl_rel, dB.dl_rel);
    if (!(dp <= tol) || !(dl <= tol)) {
        fprintf(stderr, "harness: against PyTorch max |Δp| = %.3g, max |Δ logit|/max(1,|logit|) = %.3g > %.3g: "
                        "not timing a wrong model\n", dp, dl, tol);
        return 3;
    }

    /* batch 1: reps single-jet calls, cycling through the jets */
    for (int r = 0; r < 8; r++) { stage(x, n, njets, r, 1, bx, bn); infer(&m, bx, bn, 1, logits, scores, ws1); }
    double *t1 = xmalloc(sizeof(double) * (size_t)reps);
    for (int r = 0; r < reps; r++) {
        stage(x, n, njets, r % njets, 1, bx, bn);                  /* inputs staged outside the timer */
        double t0 = now();
        infer(&m, bx, bn, 1, logits, scores, ws1);
        t1[r] = 1e3 * (now() - t0);
    }
    double lat_mean = 0;
    for (int r = 0; r < reps; r++) lat_mean += t1[r] / reps;
    double lat_med = median(t1, reps), lat_p90 = pct(t1, reps, 0.9), lat_min = t1[0];

    /* batch B: `batches` timed batches of consecutive jets (the check above was the warm-up batch) */
    double *tb = xmalloc(sizeof(double) * (size_t)batches);
    for (int r = 0; r < batches; r++) {
        stage(x, n, njets, (int)(((long)r * B) % njets), B, bx, bn);
        double t0 = now();
        infer(&m, bx, bn, B, logits, scores, wsB);
        tb[r] = now() - t0;
    }
    double bmed = median(tb, batches);

    const char *th = getenv("OPENBLAS_NUM_THREADS");
    printf("{\"impl\": \"%s\", \"openblas_threads\": %s, \"jets\": %d, \"reps\": %d, \"batch\": %d, \"batches\": %d, "
           "\"latency_ms_median\": %.4f, \"latency_ms_p90\": %.4f, \"latency_ms_mean\": %.4f, \"latency_ms_min\": %.4f, "
           "\"batch_s_median\": %.4f, \"throughput_jets_per_s\": %.2f, \"workspace_bytes_batch1\": %zu, "
           "\"workspace_bytes_batch\": %zu, \"checked_batch1\": %d, \"max_abs_dprob\": %.3g, \"max_rel_dlogits\": %.3g, "
           "\"max_abs_dlogits_batch1\": %.3g, \"max_abs_dlogits_batch\": %.3g, \"jets_checked\": %d, \"jets_f64_only\": %d}\n",
           label, th ? th : "null", njets, reps, B, batches, lat_med, lat_p90, lat_mean, lat_min, bmed, B / bmed,
           (size_t)PARTICLENET_JETCLASS_KIN_WORKSPACE_BYTES(1), (size_t)PARTICLENET_JETCLASS_KIN_WORKSPACE_BYTES(B), check,
           dp, dl, d1.dl_abs, dB.dl_abs, check + B, f64_only_);
    particlenet_jetclass_kin_release(&m);
    return 0;
}
