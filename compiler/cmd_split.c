/* cmd_split.c — `hepnc split IN.h5 -o PREFIX [--fractions 0.7,0.15,0.15] [--seed S]`: divides a dataset
 * into training, validation and test files PREFIX_train.h5, PREFIX_val.h5, PREFIX_test.h5 by a seeded
 * shuffle of its events. Every dataset whose first extent is the number of events is split row-wise
 * (any rank, any type, its attributes copied: feature `names` survive); other datasets are copied
 * whole. Each output is written to a temporary file and renamed, so nothing is left half-written. */
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

typedef struct split_ctx {
    hid_t out;
    hsize_t events;             /* of the input */
    const int64_t *rows;        /* the input rows of this output, in order */
    hsize_t nrows;
    int failed;
} split_ctx;

static herr_t copy_attr(hid_t loc, const char *name, const H5A_info_t *info, void *op)
{
    (void)info;
    hid_t dst = *(hid_t *)op, a = H5Aopen(loc, name, H5P_DEFAULT), type = H5Aget_type(a), sp = H5Aget_space(a);
    size_t bytes = H5Tget_size(type) * (size_t)H5Sget_simple_extent_npoints(sp);
    void *buf = malloc(bytes ? bytes : 1);
    hid_t b = H5Acreate2(dst, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = buf && b >= 0 && H5Aread(a, type, buf) >= 0 && H5Awrite(b, type, buf) >= 0 ? 0 : -1;
    if (H5Tis_variable_str(type) > 0 && buf) H5Dvlen_reclaim(type, sp, H5P_DEFAULT, buf);
    free(buf);
    if (b >= 0) H5Aclose(b);
    H5Sclose(sp);
    H5Tclose(type);
    H5Aclose(a);
    return rc;
}

static hid_t create_like(hid_t out, const char *name, hid_t type, int rank, const hsize_t *dims)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    H5Pset_obj_track_times(dcpl, 0);
    if (dims[0] > 0) {
        hsize_t chunk[8];
        for (int k = 0; k < rank; ++k) chunk[k] = dims[k];
        chunk[0] = dims[0] < 256 ? dims[0] : 256;
        H5Pset_chunk(dcpl, rank, chunk);
        H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, 4);
    }
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(out, name, type, sp, lcpl, dcpl, H5P_DEFAULT);
    H5Sclose(sp);
    H5Pclose(dcpl);
    H5Pclose(lcpl);
    return d;
}

/* One dataset: its selected rows (or all of it) into the output, attributes included. */
static int copy_dataset(hid_t in, const char *name, split_ctx *c)
{
    hid_t d = H5Dopen2(in, name, H5P_DEFAULT), sp = H5Dget_space(d), type = H5Dget_type(d);
    int rank = H5Sget_simple_extent_ndims(sp), ok = 0;
    hsize_t dims[8] = { 0 }, odims[8];
    if (rank >= 1 && rank <= 8) {
        H5Sget_simple_extent_dims(sp, dims, NULL);
        int rowwise = dims[0] == c->events;
        memcpy(odims, dims, sizeof dims);
        if (rowwise) odims[0] = c->nrows;
        size_t row = H5Tget_size(type);
        for (int k = 1; k < rank; ++k) row *= dims[k];
        size_t total = row * (size_t)dims[0];
        char *all = malloc(total ? total : 1), *sel = malloc(row * (size_t)(rowwise ? c->nrows : dims[0]) + 1);
        hid_t o = create_like(c->out, name, type, rank, odims);
        if (all && sel && o >= 0 && H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, all) >= 0) {
            if (rowwise)
                for (hsize_t r = 0; r < c->nrows; ++r) memcpy(sel + r * row, all + (size_t)c->rows[r] * row, row);
            else
                memcpy(sel, all, total);
            ok = (odims[0] == 0 || H5Dwrite(o, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, sel) >= 0) &&
                 H5Aiterate2(d, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, copy_attr, &o) >= 0;
        }
        if (o >= 0) H5Dclose(o);
        free(all);
        free(sel);
    }
    H5Tclose(type);
    H5Sclose(sp);
    H5Dclose(d);
    return ok ? 0 : -1;
}

static herr_t visit(hid_t in, const char *name, const H5O_info_t *info, void *op)
{
    split_ctx *c = op;
    if (info->type == H5O_TYPE_DATASET && copy_dataset(in, name, c)) {
        fprintf(stderr, "hepnc split: error: cannot copy dataset '/%s'\n", name);
        c->failed = 1;
        return -1;
    }
    return 0;
}

/* The number of events: the first extent of /labels, else of the first dataset. */
static herr_t find_events(hid_t in, const char *name, const H5O_info_t *info, void *op)
{
    hsize_t *events = op, dims[8];
    if (info->type != H5O_TYPE_DATASET || *events) return 0;
    hid_t d = H5Dopen2(in, name, H5P_DEFAULT), sp = H5Dget_space(d);
    if (H5Sget_simple_extent_ndims(sp) >= 1 && H5Sget_simple_extent_ndims(sp) <= 8) {
        H5Sget_simple_extent_dims(sp, dims, NULL);
        *events = dims[0];
    }
    H5Sclose(sp);
    H5Dclose(d);
    return 0;
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int write_part(hid_t in, const char *path, split_ctx *c)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    c->out = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (c->out < 0) { fprintf(stderr, "hepnc split: error: cannot create %s\n", path); return -1; }
    c->failed = 0;
    H5Ovisit2(in, H5_INDEX_NAME, H5_ITER_INC, visit, c, H5O_INFO_BASIC);
    int ok = !c->failed & (H5Fclose(c->out) >= 0);
    if (!ok || rename(tmp, path)) {
        unlink(tmp);
        fprintf(stderr, "hepnc split: error: cannot write %s\n", path);
        return -1;
    }
    printf("%s: %llu events\n", path, (unsigned long long)c->nrows);
    return 0;
}

static int by_index(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int hn_cmd_split(int argc, char **argv)
{
    const char *in = NULL, *prefix = NULL, *fr = "0.7,0.15,0.15", *seed_s = "1";
    for (int i = 2; i < argc; ++i) {
        const char *v;
        if (hn_opt(argc, argv, &i, "-o", &v) || hn_opt(argc, argv, &i, "--out", &v)) prefix = v;
        else if (hn_opt(argc, argv, &i, "--fractions", &v)) fr = v;
        else if (hn_opt(argc, argv, &i, "--seed", &v)) seed_s = v;
        else if (argv[i][0] == '-') return hn_usage("split", "unknown option '%s'", argv[i]);
        else if (!in) in = argv[i];
        else return hn_usage("split", "unexpected argument '%s'", argv[i]);
    }
    if (!in || !prefix) return hn_usage("split", "IN.h5 and -o PREFIX are required");
    double f[3];
    if (sscanf(fr, "%lf,%lf,%lf", &f[0], &f[1], &f[2]) != 3 || f[0] < 0 || f[1] < 0 || f[2] < 0 ||
        f[0] + f[1] + f[2] <= 0)
        return hn_usage("split", "--fractions is TRAIN,VAL,TEST (three non-negative numbers)");
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t h = H5Fopen(in, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (h < 0) { fprintf(stderr, "%s: error: cannot open as HDF5\n", in); return 1; }
    hsize_t events = 0;
    hid_t l = H5Lexists(h, "labels", H5P_DEFAULT) > 0 ? H5Dopen2(h, "labels", H5P_DEFAULT) : -1;
    if (l >= 0) {
        hid_t sp = H5Dget_space(l);
        H5Sget_simple_extent_dims(sp, &events, NULL);
        H5Sclose(sp);
        H5Dclose(l);
    } else {
        H5Ovisit2(h, H5_INDEX_NAME, H5_ITER_INC, find_events, &events, H5O_INFO_BASIC);
    }
    if (!events) { H5Fclose(h); fprintf(stderr, "%s: error: no events\n", in); return 1; }
    int64_t *perm = malloc(sizeof *perm * events);
    if (!perm) { H5Fclose(h); return 1; }
    uint64_t state = (uint64_t)strtoull(seed_s, NULL, 10);
    for (hsize_t i = 0; i < events; ++i) perm[i] = (int64_t)i;
    for (hsize_t i = events - 1; i > 0; --i) {               /* Fisher–Yates */
        hsize_t j = splitmix(&state) % (i + 1);
        int64_t t = perm[i]; perm[i] = perm[j]; perm[j] = t;
    }
    double sum = f[0] + f[1] + f[2];
    hsize_t n0 = (hsize_t)(events * f[0] / sum + 0.5), n1 = (hsize_t)(events * (f[0] + f[1]) / sum + 0.5) - n0;
    hsize_t counts[3] = { n0, n1, events - n0 - n1 }, first = 0;
    static const char *const part[3] = { "train", "val", "test" };
    int rc = 0;
    for (int k = 0; k < 3 && !rc; ++k) {
        char path[4096];
        snprintf(path, sizeof path, "%s_%s.h5", prefix, part[k]);
        /* each part keeps the file's order within itself (sorted rows read faster and diff cleanly) */
        int64_t *rows = perm + first;
        qsort(rows, counts[k], sizeof *rows, by_index);
        split_ctx c = { .events = events, .rows = rows, .nrows = counts[k] };
        rc = write_part(h, path, &c);
        first += counts[k];
    }
    free(perm);
    H5Fclose(h);
    return rc ? 1 : 0;
}
