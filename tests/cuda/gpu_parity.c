/* gpu_parity.c — the GPU object of part_small against its CPU object on the parity fixture's jets:
 * logits within 1e-5 relative (float32, the bound) on every jet. Reports "skipped: no GPU"
 * (exit 77) where no CUDA driver or device exists — never "passed". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <hepnc/data.h>
#include <hepnc/gpu.h>

#include "part_small.h"
#include "part_small_cuda.h"

#define E 96
#define MAXP PART_SMALL_MAX_PARTICLES
#define NF PART_SMALL_PARTICLES_FEATURES
#define K PART_SMALL_LOGITS_WIDTH

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: gpu_parity WEIGHTS INPUTS.h5\n"); return 2; }
    if (!hn_gpu_available()) { printf("skipped: no GPU (no CUDA driver or device on this machine)\n"); return 77; }
    char err[4096];
    static float x[E * MAXP * NF], p4[E * MAXP * 4], cpu_logits[E * K], cpu_scores[E * K], gpu_logits[E * K], gpu_scores[E * K];
    static int32_t n[E];
    hn_dataset *d = hn_dataset_open(argv[2], err, sizeof err);
    if (!d || hn_dataset_read_set(d, "particles", MAXP, NF, NULL, 0, E, x, n, err, sizeof err) ||
        hn_dataset_read_vectors(d, "particles", MAXP, 0, E, p4, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    hn_dataset_close(d);
    part_small_model cpu;
    if (part_small_load(&cpu, argv[1], err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    void *ws = malloc(PART_SMALL_WORKSPACE_BYTES(E));
    part_small_inputs in = { x, n, p4 };
    part_small_outputs out = { cpu_logits, cpu_scores };
    part_small_infer(&cpu, &in, E, &out, ws);
    part_small_cuda_model gpu;
    if (part_small_cuda_load(&gpu, argv[1], err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    hn_gpu *g = gpu.gpu;
    void *dx, *dn, *dp4, *dl, *ds, *dws;
    if (hn_gpu_alloc(g, &dx, sizeof x, err, sizeof err) || hn_gpu_alloc(g, &dn, sizeof n, err, sizeof err) ||
        hn_gpu_alloc(g, &dp4, sizeof p4, err, sizeof err) || hn_gpu_alloc(g, &dl, sizeof gpu_logits, err, sizeof err) ||
        hn_gpu_alloc(g, &ds, sizeof gpu_scores, err, sizeof err) ||
        hn_gpu_alloc(g, &dws, PART_SMALL_WORKSPACE_BYTES(E), err, sizeof err) ||
        hn_gpu_to_device(g, dx, x, sizeof x, err, sizeof err) || hn_gpu_to_device(g, dn, n, sizeof n, err, sizeof err) ||
        hn_gpu_to_device(g, dp4, p4, sizeof p4, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    part_small_inputs din = { dx, dn, dp4 };
    part_small_outputs dout = { dl, ds };
    if (part_small_cuda_infer(&gpu, &din, E, &dout, dws, err, sizeof err) ||
        hn_gpu_to_host(g, gpu_logits, dl, sizeof gpu_logits, err, sizeof err) ||
        hn_gpu_to_host(g, gpu_scores, ds, sizeof gpu_scores, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    double worst = 0;
    for (int i = 0; i < E * K; ++i) {
        double scale = fabs(cpu_logits[i]) > 1 ? fabs(cpu_logits[i]) : 1;
        worst = fmax(worst, fabs((double)gpu_logits[i] - cpu_logits[i]) / scale);
    }
    int ok = worst <= 1e-5;
    printf("%s GPU vs CPU logits, %d jets: max relative |diff| %.3g (tolerance 1e-5)\n", ok ? "ok  " : "FAIL", E, worst);
    printf("%d passed, %d failed\n", ok, !ok);
    part_small_cuda_release(&gpu);
    part_small_release(&cpu);
    free(ws);
    return !ok;
}
