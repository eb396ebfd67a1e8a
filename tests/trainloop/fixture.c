/* fixture.c — see fixture.h. */
#include "fixture.h"

#include <dirent.h>
#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hepnc/rng.h>
#include <hepnc/weights.h>

#include "mock_model.h"

int fx_passed, fx_failed;

void fx_check(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    ok ? ++fx_passed : ++fx_failed;
}

static void put(hid_t file, const char *path, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims, const void *data)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t ds = H5Dcreate2(file, path, ftype, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    H5Dclose(ds);
    H5Sclose(space);
    H5Pclose(lcpl);
}

static double gauss(uint64_t *st)
{
    double u = hn_rng_uniform(st), v = hn_rng_uniform(st);
    return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * v);
}

/* Class 1 has its rows' (a, b) and j shifted up, class 0 down; 0 to 4 rows per event, real rows first,
 * padding rows hold 99 (the reader must zero them). */
int fx_write_data(const char *path, int events, uint64_t seed)
{
    size_t E = (size_t)events;
    float *x = malloc(sizeof(float) * E * MOCK_MAX * 2), *j = malloc(sizeof(float) * E);
    uint8_t *mask = malloc(E * MOCK_MAX);
    int32_t *labels = malloc(sizeof(int32_t) * E);
    if (!x || !j || !mask || !labels) return -1;
    uint64_t st = seed;
    for (size_t e = 0; e < E; ++e) {
        int y = (int)hn_rng_below(&st, 2), n = (int)hn_rng_below(&st, MOCK_MAX + 1);
        double shift = y ? 0.6 : -0.6;
        labels[e] = y;
        for (int r = 0; r < MOCK_MAX; ++r) {
            mask[e * MOCK_MAX + r] = r < n;
            x[(e * MOCK_MAX + r) * 2 + 0] = r < n ? (float)(shift + gauss(&st)) : 99.0f;
            x[(e * MOCK_MAX + r) * 2 + 1] = r < n ? (float)(0.5 * shift + gauss(&st)) : 99.0f;
        }
        j[e] = (float)(0.8 * shift + gauss(&st));
    }
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return -1;
    hsize_t d3[3] = { E, MOCK_MAX, 2 }, d2[2] = { E, MOCK_MAX }, dj[2] = { E, 1 }, d1[1] = { E };
    put(f, "particles/features", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, d3, x);
    put(f, "particles/mask", H5T_STD_U8LE, H5T_NATIVE_UINT8, 2, d2, mask);
    put(f, "jet/features", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dj, j);
    put(f, "labels", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, d1, labels);
    H5Fclose(f);
    free(x);
    free(j);
    free(mask);
    free(labels);
    return 0;
}

const char *fx_path(const char *dir, const char *name)
{
    static char buf[8][4200];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    return p;
}

void fx_fresh_dir(const char *dir)
{
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) unlink(fx_path(dir, e->d_name));
    if (d) closedir(d);
    mkdir(dir, 0777);
}

char *fx_log_columns(const char *log_path, int ncols, int *rows)
{
    FILE *f = fopen(log_path, "r");
    if (!f) return NULL;
    char *out = calloc(1, 1 << 16), line[4096];
    size_t used = 0;
    *rows = 0;
    for (int first = 1; out && fgets(line, sizeof line, f); first = 0) {
        if (first) continue;
        char *c = line;
        for (int k = 0; k < ncols && c; ++k) c = strchr(c + 1, ',');
        size_t len = c ? (size_t)(c - line) : strlen(line);
        if (used + len + 2 >= (1 << 16)) break;
        memcpy(out + used, line, len);
        used += len;
        out[used++] = '\n';
        ++*rows;
    }
    fclose(f);
    return out;
}

double fx_log_value(const char *log_path, int row, int col)
{
    FILE *f = fopen(log_path, "r");
    if (!f) return NAN;
    char line[4096];
    double v = NAN;
    for (int r = -1; fgets(line, sizeof line, f); ++r) {
        if (r != row) continue;
        char *c = line;
        for (int k = 0; k < col && c; ++k) if ((c = strchr(c, ','))) ++c;
        if (c) v = strtod(c, NULL);
        break;
    }
    fclose(f);
    return v;
}

int fx_same_tensor(const char *a, const char *b, const char *name)
{
    char err[512];
    hn_weights *x = hn_weights_open(a, err, sizeof err), *y = hn_weights_open(b, err, sizeof err);
    const hn_tensor_info *p = x ? hn_weights_find(x, name) : NULL, *q = y ? hn_weights_find(y, name) : NULL;
    int same = p && q && !strcmp(p->dtype, q->dtype) && p->ndim == q->ndim && p->nbytes == q->nbytes &&
               !memcmp(p->shape, q->shape, sizeof p->shape[0] * (size_t)p->ndim) && !memcmp(p->data, q->data, p->nbytes);
    hn_weights_close(x);
    hn_weights_close(y);
    return same;
}

int fx_tmp_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += strstr(e->d_name, ".tmp") != NULL;
    if (d) closedir(d);
    return n;
}

int fx_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}
