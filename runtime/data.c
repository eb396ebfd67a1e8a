/* data.c — see hepnc/data.h. HDF5's own error printing is silenced; every failure is reported with
 * the file, the dataset and what was expected. */
#include "hepnc/data.h"

#include <errno.h>
#include <hdf5.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct hn_dataset {
    char *path;
    hid_t file;
    int64_t events;             /* -1 until known */
};

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen) vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static void quiet_hdf5(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

static int exists(hid_t file, const char *path)
{
    /* H5Lexists needs every parent to exist: check level by level */
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1;; ++p) {
        char c = *p;
        if (c == '/' || c == '\0') {
            *p = '\0';
            if (H5Lexists(file, buf, H5P_DEFAULT) <= 0) return 0;
            if (c == '\0') return 1;
            *p = c;
        }
    }
}

/* Events from the first group with features, or /labels. */
static int64_t count_events(hid_t file)
{
    const char *probe = H5Lexists(file, "/labels", H5P_DEFAULT) > 0 ? "/labels" : NULL;
    char found[512] = "";
    if (!probe) {
        H5G_info_t info;
        if (H5Gget_info(file, &info) < 0) return -1;
        for (hsize_t i = 0; i < info.nlinks && !found[0]; ++i) {
            char name[256];
            if (H5Lget_name_by_idx(file, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT) < 0) continue;
            char path[300];
            snprintf(path, sizeof path, "/%s/features", name);
            if (exists(file, path)) snprintf(found, sizeof found, "%s", path);
        }
        if (!found[0]) return -1;
        probe = found;
    }
    hid_t ds = H5Dopen2(file, probe, H5P_DEFAULT);
    hid_t sp = H5Dget_space(ds);
    hsize_t dims[8];
    int rank = H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    H5Dclose(ds);
    return rank >= 1 ? (int64_t)dims[0] : -1;
}

hn_dataset *hn_dataset_open(const char *path, char *err, size_t errlen)
{
    quiet_hdf5();
    if (access(path, R_OK) != 0) { fail(err, errlen, "%s: cannot open: %s", path, strerror(errno)); return NULL; }
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) { fail(err, errlen, "%s: not an HDF5 file (or unreadable)", path); return NULL; }
    hn_dataset *d = calloc(1, sizeof *d);
    d->path = strdup(path);
    d->file = file;
    d->events = count_events(file);
    if (d->events < 0) {
        fail(err, errlen, "%s: no input found: expected /<input>/features datasets (docs/data.md)", path);
        hn_dataset_close(d);
        return NULL;
    }
    return d;
}

void hn_dataset_close(hn_dataset *d)
{
    if (!d) return;
    if (d->file >= 0) H5Fclose(d->file);
    free(d->path);
    free(d);
}

int64_t hn_dataset_events(const hn_dataset *d) { return d->events; }

/* Opens `path`, checks its rank and the trailing extents (0 = any) and the event count. */
static hid_t open_checked(hn_dataset *d, const char *path, int rank, const hsize_t *trailing, hsize_t *dims, char *err,
                          size_t errlen)
{
    if (!exists(d->file, path)) { fail(err, errlen, "%s: dataset %s is missing (docs/data.md)", d->path, path); return -1; }
    hid_t ds = H5Dopen2(d->file, path, H5P_DEFAULT);
    if (ds < 0) { fail(err, errlen, "%s: %s is not a dataset", d->path, path); return -1; }
    hid_t sp = H5Dget_space(ds);
    int r = H5Sget_simple_extent_ndims(sp);
    if (r > 0 && r <= 8) H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    int ok = r == rank;
    for (int i = 1; ok && i < rank; ++i) ok = !trailing[i - 1] || dims[i] == trailing[i - 1];
    if (!ok) {
        char want[128] = "[E", have[128] = "[";
        for (int i = 1; i < rank; ++i) {
            char t[24];
            if (trailing[i - 1]) snprintf(t, sizeof t, ", %llu", (unsigned long long)trailing[i - 1]);
            else snprintf(t, sizeof t, ", *");
            strcat(want, t);
        }
        for (int i = 0; i < r && i < 8; ++i) {
            char t[24];
            snprintf(t, sizeof t, "%s%llu", i ? ", " : "", (unsigned long long)dims[i]);
            strcat(have, t);
        }
        fail(err, errlen, "%s: dataset %s has shape %s], expected %s]", d->path, path, have, want);
        H5Dclose(ds);
        return -1;
    }
    if ((int64_t)dims[0] != d->events) {
        fail(err, errlen, "%s: dataset %s has %llu events, the file's other datasets %lld", d->path, path,
             (unsigned long long)dims[0], (long long)d->events);
        H5Dclose(ds);
        return -1;
    }
    return ds;
}

/* Reads a hyperslab [first, first+count) × all trailing extents as `type` into buf. */
static int read_rows(hid_t ds, int rank, const hsize_t *dims, int64_t first, int count, hid_t type, void *buf)
{
    hsize_t start[8] = { (hsize_t)first }, block[8];
    memcpy(block, dims, sizeof(hsize_t) * (size_t)rank);
    block[0] = (hsize_t)count;
    hid_t file_space = H5Dget_space(ds);
    H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, NULL, block, NULL);
    hid_t mem_space = H5Screate_simple(rank, block, NULL);
    herr_t rc = H5Dread(ds, type, mem_space, file_space, H5P_DEFAULT, buf);
    H5Sclose(mem_space);
    H5Sclose(file_space);
    return rc < 0 ? -1 : 0;
}

static int check_range(hn_dataset *d, int64_t first, int count, char *err, size_t errlen)
{
    if (first < 0 || count < 0 || first + count > d->events)
        return fail(err, errlen, "%s: events %lld..%lld are out of range (the file has %lld)", d->path,
                    (long long)first, (long long)(first + count - 1), (long long)d->events);
    return 0;
}

/* Compares the `names` attribute of a features dataset with the spec's feature names. */
static int check_names(hn_dataset *d, hid_t ds, const char *path, int nfeat, const char *const *names, char *err,
                       size_t errlen)
{
    if (!names || H5Aexists(ds, "names") <= 0) return 0;
    hid_t attr = H5Aopen(ds, "names", H5P_DEFAULT);
    hid_t type = H5Aget_type(attr), space = H5Aget_space(attr);
    hssize_t n = H5Sget_simple_extent_npoints(space);
    int rc = 0;
    if (n != nfeat) {
        rc = fail(err, errlen, "%s: %s has %lld features, the spec lists %d", d->path, path, (long long)n, nfeat);
    } else if (H5Tget_class(type) == H5T_STRING) {
        char **values = calloc((size_t)n, sizeof *values);
        char *fixed = NULL;
        int variable = H5Tis_variable_str(type) > 0;
        size_t width = H5Tget_size(type);
        hid_t mem = H5Tcopy(H5T_C_S1);
        if (variable) {
            H5Tset_size(mem, H5T_VARIABLE);
            H5Aread(attr, mem, values);
        } else {
            H5Tset_size(mem, width + 1);
            fixed = calloc((size_t)n, width + 1);
            H5Aread(attr, mem, fixed);
            for (hssize_t i = 0; i < n; ++i) values[i] = fixed + (size_t)i * (width + 1);
        }
        for (int i = 0; i < nfeat && !rc; ++i)
            if (!values[i] || strcmp(values[i], names[i]) != 0)
                rc = fail(err, errlen, "%s: %s feature %d is '%s', the spec expects '%s' (same features, same order)",
                          d->path, path, i, values[i] ? values[i] : "", names[i]);
        if (variable) H5Dvlen_reclaim(mem, space, H5P_DEFAULT, values);
        H5Tclose(mem);
        free(fixed);
        free(values);
    }
    H5Tclose(type);
    H5Sclose(space);
    H5Aclose(attr);
    return rc;
}

/* Real rows of each event from the mask (prefix check), or all M when there is no mask. */
static int read_counts(hn_dataset *d, const char *in, hsize_t m, int64_t first, int count, int32_t *n, char *err,
                       size_t errlen)
{
    char path[300];
    snprintf(path, sizeof path, "/%s/mask", in);
    if (!exists(d->file, path)) {
        for (int k = 0; k < count; ++k) n[k] = (int32_t)m;
        return 0;
    }
    hsize_t trailing[1] = { m }, dims[8];
    hid_t ds = open_checked(d, path, 2, trailing, dims, err, errlen);
    if (ds < 0) return -1;
    float *mask = malloc(sizeof(float) * (size_t)count * m + 1);
    int rc = read_rows(ds, 2, dims, first, count, H5T_NATIVE_FLOAT, mask);
    H5Dclose(ds);
    if (rc) { free(mask); return fail(err, errlen, "%s: cannot read %s", d->path, path); }
    for (int k = 0; k < count && !rc; ++k) {
        hsize_t real = 0;
        while (real < m && mask[(size_t)k * m + real] != 0.0f) ++real;
        for (hsize_t j = real; j < m && !rc; ++j)
            if (mask[(size_t)k * m + j] != 0.0f)
                rc = fail(err, errlen, "%s: %s of event %lld marks slot %llu real after padding at slot %llu; real "
                          "rows must come first", d->path, path, (long long)(first + k), (unsigned long long)j,
                          (unsigned long long)real);
        n[k] = (int32_t)real;
    }
    free(mask);
    return rc;
}

int hn_dataset_read_set(hn_dataset *d, const char *in, int max, int nfeat, const char *const *names, int64_t first,
                        int count, float *x, int32_t *n, char *err, size_t errlen)
{
    if (check_range(d, first, count, err, errlen)) return -1;
    char path[300];
    snprintf(path, sizeof path, "/%s/features", in);
    hsize_t trailing[2] = { 0, (hsize_t)nfeat }, dims[8];
    hid_t ds = open_checked(d, path, 3, trailing, dims, err, errlen);
    if (ds < 0) return -1;
    if (check_names(d, ds, path, nfeat, names, err, errlen)) { H5Dclose(ds); return -1; }
    hsize_t m = dims[1];
    float *buf = malloc(sizeof(float) * (size_t)count * m * (size_t)nfeat + 1);
    int rc = read_rows(ds, 3, dims, first, count, H5T_NATIVE_FLOAT, buf);
    H5Dclose(ds);
    if (rc) { free(buf); return fail(err, errlen, "%s: cannot read %s", d->path, path); }
    if (read_counts(d, in, m, first, count, n, err, errlen)) { free(buf); return -1; }
    for (int k = 0; k < count; ++k) {
        if (n[k] > max) n[k] = max;                       /* keep the first max rows */
        size_t keep = (size_t)n[k] * (size_t)nfeat, all = (size_t)max * (size_t)nfeat;
        memcpy(x + (size_t)k * all, buf + (size_t)k * m * (size_t)nfeat, sizeof(float) * keep);
        memset(x + (size_t)k * all + keep, 0, sizeof(float) * (all - keep));
    }
    free(buf);
    return 0;
}

int hn_dataset_read_vectors(hn_dataset *d, const char *in, int max, int64_t first, int count, float *p4, char *err,
                            size_t errlen)
{
    if (check_range(d, first, count, err, errlen)) return -1;
    char path[300];
    snprintf(path, sizeof path, "/%s/vectors", in);
    hsize_t trailing[2] = { 0, 4 }, dims[8];
    hid_t ds = open_checked(d, path, 3, trailing, dims, err, errlen);
    if (ds < 0) return -1;
    hsize_t m = dims[1];
    float *buf = malloc(sizeof(float) * (size_t)count * m * 4 + 1);
    int rc = read_rows(ds, 3, dims, first, count, H5T_NATIVE_FLOAT, buf);
    H5Dclose(ds);
    if (rc) { free(buf); return fail(err, errlen, "%s: cannot read %s", d->path, path); }
    size_t rows = m < (hsize_t)max ? m : (size_t)max;
    for (int k = 0; k < count; ++k) {
        memcpy(p4 + (size_t)k * max * 4, buf + (size_t)k * m * 4, sizeof(float) * rows * 4);
        memset(p4 + (size_t)k * max * 4 + rows * 4, 0, sizeof(float) * ((size_t)max - rows) * 4);
    }
    free(buf);
    return 0;
}

int hn_dataset_read_global(hn_dataset *d, const char *in, int nfeat, const char *const *names, int64_t first,
                           int count, float *x, char *err, size_t errlen)
{
    if (check_range(d, first, count, err, errlen)) return -1;
    char path[300];
    snprintf(path, sizeof path, "/%s/features", in);
    hsize_t trailing[1] = { (hsize_t)nfeat }, dims[8];
    hid_t ds = open_checked(d, path, 2, trailing, dims, err, errlen);
    if (ds < 0) return -1;
    int rc = check_names(d, ds, path, nfeat, names, err, errlen);
    if (!rc && read_rows(ds, 2, dims, first, count, H5T_NATIVE_FLOAT, x)) rc = fail(err, errlen, "%s: cannot read %s", d->path, path);
    H5Dclose(ds);
    return rc;
}

int hn_dataset_has_labels(const hn_dataset *d) { return H5Lexists(d->file, "/labels", H5P_DEFAULT) > 0; }

int hn_dataset_read_labels(hn_dataset *d, int64_t first, int count, int32_t *labels, char *err, size_t errlen)
{
    if (check_range(d, first, count, err, errlen)) return -1;
    hsize_t dims[8];
    hid_t ds = open_checked(d, "/labels", 1, NULL, dims, err, errlen);
    if (ds < 0) return -1;
    int rc = read_rows(ds, 1, dims, first, count, H5T_NATIVE_INT32, labels);
    H5Dclose(ds);
    return rc ? fail(err, errlen, "%s: cannot read /labels", d->path) : 0;
}

/* ---- outputs --------------------------------------------------------------------------------- */

struct hn_scores_file {
    char *path, *tmp;
    hid_t file;
    int nout;
    hid_t sets[16];
    int widths[16];
    hid_t labels;
    int64_t events;
};

hn_scores_file *hn_scores_create(const char *path, int64_t events, int nout, const char *const *names,
                                 const int *widths, char *err, size_t errlen)
{
    quiet_hdf5();
    if (nout > 16) { fail(err, errlen, "%s: at most 16 outputs", path); return NULL; }
    hn_scores_file *s = calloc(1, sizeof *s);
    s->path = strdup(path);
    s->tmp = malloc(strlen(path) + 32);
    sprintf(s->tmp, "%s.tmp.%ld", path, (long)getpid());
    s->events = events;
    s->labels = -1;
    s->file = H5Fcreate(s->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (s->file < 0) {
        fail(err, errlen, "%s: cannot create the output file (is the directory writable?)", path);
        free(s->tmp); free(s->path); free(s);
        return NULL;
    }
    for (int o = 0; o < nout; ++o) {
        hsize_t dims[2] = { (hsize_t)events, (hsize_t)widths[o] };
        hid_t space = H5Screate_simple(2, dims, NULL);
        char p[300];
        snprintf(p, sizeof p, "/%s", names[o]);
        s->sets[o] = H5Dcreate2(s->file, p, H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        s->widths[o] = widths[o];
        H5Sclose(space);
        s->nout = o + 1;
        if (s->sets[o] < 0) {
            fail(err, errlen, "%s: cannot create dataset %s", path, p);
            hn_scores_close(s, 0, NULL, 0);
            return NULL;
        }
    }
    return s;
}

static int write_rows(hid_t ds, int64_t first, int count, int width, hid_t type, const void *rows)
{
    int rank = width ? 2 : 1;
    hsize_t start[2] = { (hsize_t)first, 0 }, block[2] = { (hsize_t)count, (hsize_t)width };
    hid_t fs = H5Dget_space(ds);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, block, NULL);
    hid_t ms = H5Screate_simple(rank, block, NULL);
    herr_t rc = H5Dwrite(ds, type, ms, fs, H5P_DEFAULT, rows);
    H5Sclose(ms);
    H5Sclose(fs);
    return rc < 0 ? -1 : 0;
}

int hn_scores_write(hn_scores_file *s, int out, int64_t first, int count, const float *rows, char *err, size_t errlen)
{
    if (out < 0 || out >= s->nout || first < 0 || first + count > s->events)
        return fail(err, errlen, "%s: write outside the output (output %d, events %lld+%d)", s->path, out,
                    (long long)first, count);
    if (write_rows(s->sets[out], first, count, s->widths[out], H5T_NATIVE_FLOAT, rows))
        return fail(err, errlen, "%s: cannot write (disk full?)", s->path);
    return 0;
}

int hn_scores_write_labels(hn_scores_file *s, int64_t first, int count, const int32_t *labels, char *err, size_t errlen)
{
    if (s->labels < 0) {
        hsize_t dims[1] = { (hsize_t)s->events };
        hid_t space = H5Screate_simple(1, dims, NULL);
        s->labels = H5Dcreate2(s->file, "/labels", H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Sclose(space);
        if (s->labels < 0) return fail(err, errlen, "%s: cannot create /labels", s->path);
    }
    if (first < 0 || first + count > s->events) return fail(err, errlen, "%s: labels out of range", s->path);
    if (write_rows(s->labels, first, count, 0, H5T_NATIVE_INT32, labels))
        return fail(err, errlen, "%s: cannot write /labels", s->path);
    return 0;
}

int hn_scores_close(hn_scores_file *s, int commit, char *err, size_t errlen)
{
    int rc = 0;
    for (int o = 0; o < s->nout; ++o)
        if (s->sets[o] >= 0) H5Dclose(s->sets[o]);
    if (s->labels >= 0) H5Dclose(s->labels);
    if (H5Fclose(s->file) < 0) { rc = fail(err, errlen, "%s: cannot finish the file", s->path); commit = 0; }
    if (commit && rename(s->tmp, s->path)) { rc = fail(err, errlen, "%s: cannot write: %s", s->path, strerror(errno)); commit = 0; }
    if (!commit) unlink(s->tmp);
    free(s->tmp);
    free(s->path);
    free(s);
    return rc;
}
