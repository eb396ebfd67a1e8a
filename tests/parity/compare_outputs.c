/* compare_outputs.c — compares hepnc's outputs with a reference file, per event and per entry:
 *   compare_outputs ACTUAL.h5 EXPECTED.h5 DATASET TOLERANCE [DATASET TOLERANCE ...]
 * Prints the worst |Δ| of each dataset with its event and index, and fails if any entry exceeds the
 * tolerance: absolute, or with a trailing 'r' (e.g. 1e-4r) relative to max(1, |expected|), for outputs
 * far above 1 where float32 itself resolves no better (one ulp at 700 is 6e-5). Both files hold float
 * datasets of the same shape [E][K…] (trailing axes flattened). DATASET may be ACTUAL_NAME=EXPECTED_NAME when
 * the files name it differently. Equal infinities agree (SPANet's −inf on impossible assignments); an
 * infinity against a finite value, or a NaN, exceeds any tolerance. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float *read_2d(const char *path, const char *name, hsize_t dims[2])
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) { fprintf(stderr, "%s: cannot open\n", path); return NULL; }
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) { fprintf(stderr, "%s: no dataset %s\n", path, name); H5Fclose(f); return NULL; }
    hid_t s = H5Dget_space(d);
    hsize_t all[H5S_MAX_RANK];
    int rank = H5Sget_simple_extent_dims(s, all, NULL);
    dims[0] = rank > 0 ? all[0] : 1;
    dims[1] = 1;
    for (int i = 1; i < rank; ++i) dims[1] *= all[i];
    float *buf = malloc(sizeof(float) * dims[0] * dims[1]);
    if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) { free(buf); buf = NULL; }
    H5Sclose(s);
    H5Dclose(d);
    H5Fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    if (argc < 5 || (argc - 3) % 2) {
        fprintf(stderr, "usage: compare_outputs ACTUAL.h5 EXPECTED.h5 DATASET TOL [DATASET TOL ...]\n");
        return 2;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    int failed = 0;
    for (int a = 3; a < argc; a += 2) {
        char actual[256], *expected;
        snprintf(actual, sizeof actual, "%s", argv[a]);
        expected = strchr(actual, '=');
        if (expected) *expected++ = '\0';
        else expected = actual;
        const char *name = argv[a];
        double tol = atof(argv[a + 1]);
        int relative = argv[a + 1][strlen(argv[a + 1]) - 1] == 'r';
        hsize_t da[2], de[2];
        float *x = read_2d(argv[1], actual, da), *y = read_2d(argv[2], expected, de);
        if (!x || !y || da[0] != de[0] || da[1] != de[1]) {
            printf("FAIL %s: missing or shapes differ\n", name);
            failed = 1;
            free(x); free(y);
            continue;
        }
        double worst = -1;
        hsize_t we = 0, wk = 0, over = 0;
        for (hsize_t e = 0; e < da[0]; ++e)
            for (hsize_t k = 0; k < da[1]; ++k) {
                double xv = x[e * da[1] + k], yv = y[e * da[1] + k];
                double d = isinf(xv) && xv == yv ? 0.0 : fabs(xv - yv);
                double scale = relative && fabs((double)y[e * da[1] + k]) > 1.0 ? fabs((double)y[e * da[1] + k]) : 1.0;
                if (!(d <= tol * scale)) ++over;
                if (!(d <= worst)) { worst = d; we = e; wk = k; }
            }
        printf("%s %s: %llu events x %llu, max |diff| %.3g at event %llu index %llu (%.9g vs %.9g), tolerance %g%s\n",
               over ? "FAIL" : "ok", name, (unsigned long long)da[0], (unsigned long long)da[1], worst,
               (unsigned long long)we, (unsigned long long)wk, x[we * da[1] + wk], y[we * da[1] + wk], tol,
               relative ? " x max(1, |expected|)" : "");
        if (over) { printf("     %llu entries over tolerance\n", (unsigned long long)over); failed = 1; }
        free(x);
        free(y);
    }
    return failed;
}
