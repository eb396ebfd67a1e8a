/* iaformer_features.c — hepnc's IAFormer features (templates/c/interaction.h) against upstream's own, as
 * upstream's graph builder and loader produce them (tests/parity/iaformer/: inputs.h5 /particles/features of
 * every jet, expected.h5 /pair_features of the first jets):
 *   iaformer_features INPUTS.h5 EXPECTED.h5
 * Fails when any feature differs by more than 1e-4 (logarithms and angles: upstream's numpy float32 functions
 * may differ from glibc's by a few ulp), or when padding (and the pairs' diagonal) is not exactly zero. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../templates/c/ia_features.h"
#include "../../templates/c/interaction.h"

static float *read_all(const char *path, const char *name, hsize_t *dims, int *rank)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return NULL;
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) { H5Fclose(f); return NULL; }
    hid_t s = H5Dget_space(d);
    *rank = H5Sget_simple_extent_dims(s, dims, NULL);
    size_t count = 1;
    for (int i = 0; i < *rank; ++i) count *= dims[i];
    float *buf = malloc(sizeof(float) * count);
    if (buf && H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) { free(buf); buf = NULL; }
    H5Sclose(s);
    H5Dclose(d);
    H5Fclose(f);
    return buf;
}

/* The 11 particle features of every jet of INPUTS.h5 against the file's own (upstream's); returns the failures. */
static int particle_check(const char *path, const float *p4, const hsize_t *vd)
{
    static const char *const names[HN_IA_PARTICLE_NUM] = { "e", "px", "py", "pz", "ln_pt", "ln_e", "ln_pt_rel",
                                                           "ln_e_rel", "delta_eta", "delta_phi", "delta_r" };
    hsize_t fd[H5S_MAX_RANK];
    int fr, bad = 0, max = (int)vd[1];
    float *ref = read_all(path, "/particles/features", fd, &fr);
    if (!ref || fr != 3 || fd[0] != vd[0] || fd[1] != vd[1] || fd[2] != HN_IA_PARTICLE_NUM) {
        fprintf(stderr, "iaformer_features: cannot read /particles/features [E, M, 11]\n");
        free(ref);
        return 1;
    }
    double worst[HN_IA_PARTICLE_NUM] = { 0 };
    float *f = malloc(sizeof(float) * (size_t)max * HN_IA_PARTICLE_NUM);
    for (hsize_t ev = 0; ev < vd[0]; ++ev) {
        hn_k_ia_particle_features(p4 + ev * (size_t)max * 4, max, f);
        const float *r = ref + ev * (size_t)max * HN_IA_PARTICLE_NUM;
        for (int a = 0; a < max; ++a)
            for (int k = 0; k < HN_IA_PARTICLE_NUM; ++k) {
                float x = f[a * HN_IA_PARTICLE_NUM + k], y = r[a * HN_IA_PARTICLE_NUM + k];
                double d = fabs((double)x - y);
                if (y == 0.0f && r[a * HN_IA_PARTICLE_NUM] == 0.0f && x != 0.0f) d = INFINITY;   /* padding */
                if (d > worst[k]) worst[k] = d;
                if (!(d <= 1e-4) && bad++ < 5)
                    fprintf(stderr, "event %llu particle %d %s: hepnc %.8g, upstream %.8g\n", (unsigned long long)ev, a, names[k], x, y);
            }
    }
    for (int k = 0; k < HN_IA_PARTICLE_NUM; ++k) printf("%-14s max |Δ| %.3g\n", names[k], worst[k]);
    printf("particle features of %llu events: %s\n", (unsigned long long)vd[0], bad ? "FAILED" : "ok");
    free(f);
    free(ref);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: iaformer_features INPUTS.h5 EXPECTED.h5\n");
        return 2;
    }
    hsize_t vd[H5S_MAX_RANK], pd[H5S_MAX_RANK];
    int vr, pr;
    float *p4 = read_all(argv[1], "/particles/vectors", vd, &vr), *ref = read_all(argv[2], "/pair_features", pd, &pr);
    if (!p4 || !ref || vr != 3 || pr != 4 || pd[1] != vd[1] || pd[3] != HN_IA_PAIR_NUM) {
        fprintf(stderr, "iaformer_features: cannot read /particles/vectors [E, M, 4] and /pair_features [E', M, M, 6]\n");
        return 1;
    }
    int bad = particle_check(argv[1], p4, vd);
    static const char *const names[HN_IA_PAIR_NUM] = { "ln_delta", "ln_kt", "ln_z", "ln_m2", "ln_pt_sum_rel", "ln_e_sum_rel" };
    int max = (int)vd[1];
    double worst[HN_IA_PAIR_NUM] = { 0 };
    float *pt = malloc(sizeof(float) * 3 * (size_t)max);
    int *real = malloc(sizeof(int) * (size_t)max);
    for (hsize_t ev = 0; ev < pd[0]; ++ev) {
        const float *v = p4 + ev * (size_t)max * 4;
        float jet[2], f[HN_IA_PAIR_NUM];
        hn_k_ia_pair_prepare(v, max, pt, pt + max, pt + 2 * max, real, jet);
        for (int a = 0; a < max; ++a)
            for (int b = 0; b < max; ++b) {
                hn_k_ia_pair_features(v, pt, pt + max, pt + 2 * max, real, jet, a, b, f);
                const float *r = ref + ((ev * (size_t)max + (size_t)a) * (size_t)max + (size_t)b) * HN_IA_PAIR_NUM;
                for (int k = 0; k < HN_IA_PAIR_NUM; ++k) {
                    double d = fabs((double)f[k] - r[k]);
                    if ((a == b || !real[a] || !real[b]) && f[k] != 0.0f) d = INFINITY;
                    if (d > worst[k]) worst[k] = d;
                    if (!(d <= 1e-4) && bad++ < 5)
                        fprintf(stderr, "event %llu pair (%d, %d) %s: hepnc %.8g, upstream %.8g\n", (unsigned long long)ev, a, b,
                                names[k], f[k], r[k]);
                }
            }
    }
    for (int k = 0; k < HN_IA_PAIR_NUM; ++k) printf("%-14s max |Δ| %.3g\n", names[k], worst[k]);
    printf("pair features of %llu events, %d x %d pairs each; all checks: %s\n", (unsigned long long)pd[0], max, max,
           bad ? "FAILED" : "ok");
    free(pt);
    free(real);
    free(p4);
    free(ref);
    return bad ? 1 : 0;
}
