/* harness.c — hepnc side of bench/part_cpu: the generated Particle Transformer (models/part_jetclass_kin.yaml)
 * timed on the benchmark jets, its logits checked against PyTorch's for the same jets.
 *
 *   harness WEIGHTS JETS.h5 REFERENCE.h5 [--reps 200] [--batches 5] [--batch 256] [--check 64] [--tol 1e-3]
 *           [--label NAME]
 *
 * Built by bench/part_cpu/run.sh against one `hepnc compile` output (--blas openblas or none). Prints one
 * JSON object on stdout:
 *   latency: batch 1, one jet per call cycling through the jets, `reps` calls after a warm-up; median and
 *            p90 (nearest rank, the ceil(0.9·reps)-th smallest) in ms per jet;
 *   throughput: batch 256 (consecutive jets, wrapping), `batches` timed calls after one warm-up batch;
 *            jets/s = 256 / median batch time;
 *   check (before timing; also the warm-up): max |Δ logits| against /logits of REFERENCE.h5 (PyTorch) for
 *            the first `check` jets one at a time and for jets 0..255 as one batch.
 * Exits 3 if the check exceeds --tol (default 1e-3): a wrong model is not timed. */
#define _POSIX_C_SOURCE 200809L
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_timing.h"
#include "hepnc/data.h"
#include "part_jetclass_kin.h"

#define MAXP PART_JETCLASS_KIN_MAX_PARTICLES
#define NF PART_JETCLASS_KIN_PARTICLES_FEATURES
#define NC PART_JETCLASS_KIN_LOGITS_WIDTH

/* Runs jets [first, first+count) (wrapping over njets) as one batch. */
static int run(const part_jetclass_kin_model *m, const float *x, const float *p4, const int32_t *n, int njets,
               int first, int count, float *bx, float *bp, int32_t *bn, float *logits, float *scores, void *ws) {
    for (int k = 0; k < count; k++) {
        int j = (first + k) % njets;
        memcpy(bx + (size_t)k * MAXP * NF, x + (size_t)j * MAXP * NF, sizeof(float) * MAXP * NF);
        memcpy(bp + (size_t)k * MAXP * 4, p4 + (size_t)j * MAXP * 4, sizeof(float) * MAXP * 4);
        bn[k] = n[j];
    }
    part_jetclass_kin_inputs in = {bx, bn, bp};
    part_jetclass_kin_outputs out = {logits, scores};
    return part_jetclass_kin_infer(m, &in, count, &out, ws);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s WEIGHTS JETS.h5 REFERENCE.h5 [--reps N] [--batches N] [--batch N] [--check N] [--tol X] "
                        "[--label NAME]\n", argv[0]);
        return 2;
    }
    int reps = 200, batches = 5, B = 256, check = 64;
    double tol = 1e-3;
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
    part_jetclass_kin_model m;
    if (part_jetclass_kin_load(&m, argv[1], err, sizeof err)) { fprintf(stderr, "harness: %s\n", err); return 1; }

    hn_dataset *d = hn_dataset_open(argv[2], err, sizeof err);
    if (!d) { fprintf(stderr, "harness: %s\n", err); return 1; }
    int njets = (int)hn_dataset_events(d);
    static const char *const names[NF] = {"part_pt_log", "part_e_log", "part_logptrel", "part_logerel",
                                          "part_deltaR", "part_deta", "part_dphi"};
    float *x = xmalloc(sizeof(float) * (size_t)njets * MAXP * NF);
    float *p4 = xmalloc(sizeof(float) * (size_t)njets * MAXP * 4);
    int32_t *n = xmalloc(sizeof(int32_t) * (size_t)njets);
    if (hn_dataset_read_set(d, "particles", MAXP, NF, names, 0, njets, x, n, err, sizeof err) ||
        hn_dataset_read_vectors(d, "particles", MAXP, 0, njets, p4, err, sizeof err)) {
        fprintf(stderr, "harness: %s\n", err);
        return 1;
    }
    hn_dataset_close(d);

    float *ref = xmalloc(sizeof(float) * (size_t)njets * NC);
    {
        hid_t f = H5Fopen(argv[3], H5F_ACC_RDONLY, H5P_DEFAULT);
        hid_t ds = f < 0 ? -1 : H5Dopen2(f, "logits", H5P_DEFAULT);
        hid_t sp = ds < 0 ? -1 : H5Dget_space(ds);
        hsize_t dims[2] = {0, 0};
        if (sp < 0 || H5Sget_simple_extent_ndims(sp) != 2 || H5Sget_simple_extent_dims(sp, dims, NULL) < 0 ||
            dims[0] != (hsize_t)njets || dims[1] != NC ||
            H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, ref) < 0) {
            fprintf(stderr, "harness: %s: /logits missing or not [%d][%d]\n", argv[3], njets, NC);
            return 1;
        }
        H5Sclose(sp), H5Dclose(ds), H5Fclose(f);
    }

    int bmax = B > 1 ? B : 1;
    float *bx = xmalloc(sizeof(float) * (size_t)bmax * MAXP * NF);
    float *bp = xmalloc(sizeof(float) * (size_t)bmax * MAXP * 4);
    int32_t *bn = xmalloc(sizeof(int32_t) * (size_t)bmax);
    float *logits = xmalloc(sizeof(float) * (size_t)bmax * NC), *scores = xmalloc(sizeof(float) * (size_t)bmax * NC);
    void *ws1 = xmalloc(PART_JETCLASS_KIN_WORKSPACE_BYTES(1));
    void *wsB = xmalloc(PART_JETCLASS_KIN_WORKSPACE_BYTES(B));
    memset(ws1, 0, PART_JETCLASS_KIN_WORKSPACE_BYTES(1));   /* fault the pages in before timing */
    memset(wsB, 0, PART_JETCLASS_KIN_WORKSPACE_BYTES(B));

    /* correctness first, doubling as the warm-up: the first `check` jets alone, then jets 0..B-1 as one batch */
    double d1 = 0, dB = 0;
    for (int j = 0; j < check; j++) {
        if (run(&m, x, p4, n, njets, j, 1, bx, bp, bn, logits, scores, ws1)) { fprintf(stderr, "harness: infer failed\n"); return 1; }
        for (int c = 0; c < NC; c++) d1 = fmax(d1, fabs((double)logits[c] - ref[(size_t)(j % njets) * NC + c]));
    }
    if (run(&m, x, p4, n, njets, 0, B, bx, bp, bn, logits, scores, wsB)) { fprintf(stderr, "harness: infer failed\n"); return 1; }
    for (int k = 0; k < B; k++)
        for (int c = 0; c < NC; c++) dB = fmax(dB, fabs((double)logits[k * NC + c] - ref[(size_t)(k % njets) * NC + c]));
    double dmax = fmax(d1, dB);
    if (!(dmax <= tol)) {
        fprintf(stderr, "harness: max |Δ logits| against PyTorch = %.3g > %.3g: not timing a wrong model\n", dmax, tol);
        return 3;
    }

    /* batch 1: reps single-jet calls, cycling through the jets */
    for (int r = 0; r < 8; r++) run(&m, x, p4, n, njets, r, 1, bx, bp, bn, logits, scores, ws1);
    double *t1 = xmalloc(sizeof(double) * (size_t)reps);
    for (int r = 0; r < reps; r++) {
        int j = r % njets;
        memcpy(bx, x + (size_t)j * MAXP * NF, sizeof(float) * MAXP * NF);   /* inputs staged outside the timer */
        memcpy(bp, p4 + (size_t)j * MAXP * 4, sizeof(float) * MAXP * 4);
        bn[0] = n[j];
        part_jetclass_kin_inputs in = {bx, bn, bp};
        part_jetclass_kin_outputs out = {logits, scores};
        double t0 = now();
        part_jetclass_kin_infer(&m, &in, 1, &out, ws1);
        t1[r] = 1e3 * (now() - t0);
    }
    double lat_mean = 0;
    for (int r = 0; r < reps; r++) lat_mean += t1[r] / reps;
    double lat_med = median(t1, reps), lat_p90 = pct(t1, reps, 0.9), lat_min = t1[0];

    /* batch B: `batches` timed batches of consecutive jets (the check above was the warm-up batch) */
    double *tb = xmalloc(sizeof(double) * (size_t)batches);
    for (int r = 0; r < batches; r++) {
        int first = (int)(((long)r * B) % njets);
        for (int k = 0; k < B; k++) {
            int j = (first + k) % njets;
            memcpy(bx + (size_t)k * MAXP * NF, x + (size_t)j * MAXP * NF, sizeof(float) * MAXP * NF);
            memcpy(bp + (size_t)k * MAXP * 4, p4 + (size_t)j * MAXP * 4, sizeof(float) * MAXP * 4);
            bn[k] = n[j];
        }
        part_jetclass_kin_inputs in = {bx, bn, bp};
        part_jetclass_kin_outputs out = {logits, scores};
        double t0 = now();
        part_jetclass_kin_infer(&m, &in, B, &out, wsB);
        tb[r] = now() - t0;
    }
    double bmed = median(tb, batches);

    const char *th = getenv("OPENBLAS_NUM_THREADS");
    printf("{\"impl\": \"%s\", \"openblas_threads\": %s, \"jets\": %d, \"reps\": %d, \"batch\": %d, \"batches\": %d, "
           "\"latency_ms_median\": %.4f, \"latency_ms_p90\": %.4f, \"latency_ms_mean\": %.4f, \"latency_ms_min\": %.4f, "
           "\"batch_s_median\": %.4f, \"throughput_jets_per_s\": %.2f, \"workspace_bytes_batch1\": %zu, "
           "\"workspace_bytes_batch\": %zu, \"checked_batch1\": %d, \"max_abs_dlogits_batch1\": %.3g, \"max_abs_dlogits_batch\": %.3g}\n",
           label, th ? th : "null", njets, reps, B, batches, lat_med, lat_p90, lat_mean, lat_min, bmed, B / bmed,
           (size_t)PART_JETCLASS_KIN_WORKSPACE_BYTES(1), (size_t)PART_JETCLASS_KIN_WORKSPACE_BYTES(B), check, d1, dB);
    part_jetclass_kin_release(&m);
    return 0;
}
