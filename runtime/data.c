/* data.c — HDF5 datasets in the layout of docs/data.md; see hepnc/data.h (the outputs file is
 * scores.c). HDF5's own error printing is silenced; every failure is reported with the file, the
 * dataset and what was expected. */
#include "hepnc/data.h"

#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5_util.h"

struct hn_dataset {
    char *path;
    hid_t file;
    int64_t events;
    char events_from[PATH_LEN];   /* the dataset E was first read from */
};

/* An open dataset with its extents and element class. */
typedef struct {
    hid_t id;
    int rank;
    hsize_t dims[H5S_MAX_RANK];
    H5T_class_t cls;
} ds_info;

/* H5Lexists needs every parent to exist: check level by level. */
static int exists(hid_t file, const char *path)
{
    char buf[PATH_LEN];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1;; ++p) {
        char c = *p;
        if (c != '/' && c != '\0') continue;
        *p = '\0';
        if (H5Lexists(file, buf, H5P_DEFAULT) <= 0) return 0;
        if (c == '\0') return 1;
        *p = c;
    }
}

static const char *class_name(H5T_class_t c)
{
    switch (c) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "floating-point";
    case H5T_STRING: return "string";
    case H5T_BITFIELD: return "bitfield";
    case H5T_OPAQUE: return "opaque";
    case H5T_COMPOUND: return "compound";
    case H5T_ENUM: return "enum (bool)";
    case H5T_ARRAY: return "array";
    case H5T_VLEN: return "variable-length";
    default: return "unknown";
    }
}

static void dims_text(int rank, const hsize_t *dims, char *dst, size_t n)
{
    size_t used = (size_t)snprintf(dst, n, "[");
    for (int i = 0; i < rank && used < n; ++i)
        used += (size_t)snprintf(dst + used, n - used, "%s%llu", i ? ", " : "", (unsigned long long)dims[i]);
    if (used < n) snprintf(dst + used, n - used, "]");
}

/* ---- opening datasets --------------------------------------------------------------------------- */

static void close_ds(ds_info *f)
{
    if (f->id >= 0) H5Dclose(f->id);
    f->id = -1;
}

static int open_ds(const hn_dataset *d, const char *path, ds_info *f, char *err, size_t errlen)
{
    f->id = -1;
    if (!exists(d->file, path)) return fail(err, errlen, "%s: dataset %s is missing (docs/data.md)", d->path, path);
    f->id = H5Dopen2(d->file, path, H5P_DEFAULT);
    if (f->id < 0) return fail(err, errlen, "%s: %s is not a dataset (docs/data.md)", d->path, path);
    hid_t space = H5Dget_space(f->id), type = H5Dget_type(f->id);
    f->rank = H5Sget_simple_extent_ndims(space);
    if (f->rank > 0) H5Sget_simple_extent_dims(space, f->dims, NULL);
    f->cls = H5Tget_class(type);
    H5Tclose(type);
    H5Sclose(space);
    if (f->rank < 1) {
        close_ds(f);
        return fail(err, errlen, "%s: dataset %s is a scalar, expected an array with one row per event", d->path, path);
    }
    return 0;
}

/* Checks rank, trailing extents (-1 = any) and the event count. `what` describes the expected layout. */
static int check_shape(const hn_dataset *d, const char *path, const ds_info *f, int rank, const int64_t *trailing,
                       const char *what, char *err, size_t errlen)
{
    int ok = f->rank == rank && (int64_t)f->dims[0] == d->events;
    for (int i = 1; ok && i < rank; ++i) ok = trailing[i - 1] < 0 || (int64_t)f->dims[i] == trailing[i - 1];
    if (ok) return 0;
    char want[160], have[160];
    size_t used = (size_t)snprintf(want, sizeof want, "[%lld", (long long)d->events);
    for (int i = 1; i < rank && used < sizeof want; ++i)
        used += trailing[i - 1] < 0 ? (size_t)snprintf(want + used, sizeof want - used, ", *")
                                    : (size_t)snprintf(want + used, sizeof want - used, ", %lld", (long long)trailing[i - 1]);
    if (used < sizeof want) snprintf(want + used, sizeof want - used, "]");
    dims_text(f->rank, f->dims, have, sizeof have);
    return fail(err, errlen, "%s: dataset %s has shape %s, expected %s (%s)", d->path, path, have, want, what);
}

/* Opens path and checks its shape and that its element class is one of `classes` (terminated by -1). */
static int open_checked(const hn_dataset *d, const char *path, int rank, const int64_t *trailing, const char *what,
                        const H5T_class_t *classes, ds_info *f, char *err, size_t errlen)
{
    if (open_ds(d, path, f, err, errlen)) return -1;
    if (check_shape(d, path, f, rank, trailing, what, err, errlen)) { close_ds(f); return -1; }
    for (const H5T_class_t *c = classes; *c != H5T_NO_CLASS; ++c)
        if (f->cls == *c) return 0;
    char want[128] = "";
    for (const H5T_class_t *c = classes; *c != H5T_NO_CLASS; ++c)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s", c == classes ? "" : " or ", class_name(*c));
    int rc = fail(err, errlen, "%s: dataset %s has %s elements, expected %s", d->path, path, class_name(f->cls), want);
    close_ds(f);
    return rc;
}

static const H5T_class_t NUMBERS[] = { H5T_FLOAT, H5T_INTEGER, H5T_NO_CLASS };
static const H5T_class_t MASKS[] = { H5T_INTEGER, H5T_ENUM, H5T_FLOAT, H5T_BITFIELD, H5T_NO_CLASS };
static const H5T_class_t INTEGERS[] = { H5T_INTEGER, H5T_NO_CLASS };

/* ---- the file and its event count --------------------------------------------------------------- */

/* Records the first extent of path as E, or checks it against E. Absent datasets are skipped. */
static int note_events(hn_dataset *d, const char *path, char *err, size_t errlen)
{
    if (!exists(d->file, path)) return 0;
    ds_info f;
    if (open_ds(d, path, &f, err, errlen)) return -1;
    close_ds(&f);
    if (d->events < 0) {
        d->events = (int64_t)f.dims[0];
        snprintf(d->events_from, sizeof d->events_from, "%s", path);
        return 0;
    }
    if ((int64_t)f.dims[0] == d->events) return 0;
    return fail(err, errlen, "%s: dataset %s has %llu events but %s has %lld; every dataset needs one row per event",
                d->path, path, (unsigned long long)f.dims[0], d->events_from, (long long)d->events);
}

/* E from /labels and every /<g>/{features,mask,vectors}; they must agree. */
static int scan_events(hn_dataset *d, char *err, size_t errlen)
{
    H5G_info_t info;
    if (H5Gget_info(d->file, &info) < 0) return fail(err, errlen, "%s: cannot list the file's root group", d->path);
    int features = 0;
    for (hsize_t i = 0; i < info.nlinks; ++i) {
        char name[256], path[PATH_LEN];
        ssize_t len = H5Lget_name_by_idx(d->file, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT);
        if (len < 0 || (size_t)len >= sizeof name) continue;
        static const char *const parts[] = { "features", "mask", "vectors" };
        for (int k = 0; k < 3; ++k) {
            snprintf(path, sizeof path, "/%s/%s", name, parts[k]);
            if (k == 0 && exists(d->file, path)) ++features;
            if (note_events(d, path, err, errlen)) return -1;
        }
    }
    if (exists(d->file, "/INPUTS") && H5Gget_info_by_name(d->file, "/INPUTS", &info, H5P_DEFAULT) >= 0)
        for (hsize_t i = 0; i < info.nlinks; ++i) {          /* SPANet's layout: /INPUTS/<input>/MASK */
            char name[256], path[PATH_LEN];
            ssize_t len = H5Lget_name_by_idx(d->file, "/INPUTS", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT);
            if (len < 0 || (size_t)len >= sizeof name) continue;
            snprintf(path, sizeof path, "/INPUTS/%s/MASK", name);
            if (exists(d->file, path)) ++features;
            if (note_events(d, path, err, errlen)) return -1;
        }
    if (note_events(d, "/labels", err, errlen)) return -1;
    if (!features)
        return fail(err, errlen, "%s: no input found: expected datasets /<input>/features (docs/data.md)", d->path);
    return 0;
}

hn_dataset *hn_dataset_open(const char *path, char *err, size_t errlen)
{
    quiet_hdf5();
    if (!path) { fail(err, errlen, "(null): no data file given"); return NULL; }
    if (access(path, R_OK) != 0) { fail(err, errlen, "%s: cannot open: %s", path, strerror(errno)); return NULL; }
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) { fail(err, errlen, "%s: not an HDF5 file (or unreadable)", path); return NULL; }
    hn_dataset *d = calloc(1, sizeof *d);
    if (!d || !(d->path = strdup(path))) {
        fail(err, errlen, "%s: out of memory", path);
        free(d);
        H5Fclose(file);
        return NULL;
    }
    d->file = file;
    d->events = -1;
    if (scan_events(d, err, errlen)) {
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

int hn_dataset_has_labels(const hn_dataset *d) { return exists(d->file, "/labels"); }
int hn_dataset_has_weights(const hn_dataset *d) { return exists(d->file, "/weights"); }

/* ---- reading ------------------------------------------------------------------------------------ */

static int check_request(const hn_dataset *d, const char *in, int64_t first, int count, const void *out, char *err,
                         size_t errlen)
{
    if (in && (!*in || strlen(in) > 200 || strchr(in, '/')))
        return fail(err, errlen, "%s: invalid input name '%s'", d->path, in);
    if (first < 0 || count < 0 || first > d->events - count)
        return fail(err, errlen, "%s: events %lld..%lld are out of range (the file has %lld)", d->path, (long long)first,
                    (long long)first + count - 1, (long long)d->events);
    if (count && !out) return fail(err, errlen, "%s: no output buffer given", d->path);
    return 0;
}

/* Reads rows [first, first+count) of f, the leading `take` extents of each trailing dimension, as `type`
 * into buf laid out as [count][mem[0]][mem[1]]… (mem[i] >= take[i]; the rest of buf is untouched). */
static int read_rows(const ds_info *f, int64_t first, int count, const hsize_t *take, const hsize_t *mem, hid_t type,
                     void *buf)
{
    if (!count) return 0;
    hsize_t fstart[H5S_MAX_RANK] = { (hsize_t)first }, zero[H5S_MAX_RANK] = { 0 };
    hsize_t block[H5S_MAX_RANK] = { (hsize_t)count }, mdims[H5S_MAX_RANK] = { (hsize_t)count };
    for (int i = 1; i < f->rank; ++i) {
        block[i] = take[i - 1];
        mdims[i] = mem[i - 1];
    }
    for (int i = 0; i < f->rank; ++i)
        if (!block[i]) return 0;
    hid_t fs = H5Dget_space(f->id), ms = H5Screate_simple(f->rank, mdims, NULL);
    herr_t rc = H5Sselect_hyperslab(fs, H5S_SELECT_SET, fstart, NULL, block, NULL);
    if (rc >= 0) rc = H5Sselect_hyperslab(ms, H5S_SELECT_SET, zero, NULL, block, NULL);
    if (rc >= 0) rc = H5Dread(f->id, type, ms, fs, H5P_DEFAULT, buf);
    H5Sclose(ms);
    H5Sclose(fs);
    return rc < 0 ? -1 : 0;
}

/* The `names` attribute as nfeat strings (vlen or fixed), compared in order with the spec's names. */
static int compare_names(const hn_dataset *d, const char *path, hid_t attr, hid_t type, hid_t space, int nfeat,
                         const char *const *names, char *err, size_t errlen)
{
    int variable = H5Tis_variable_str(type) > 0;
    size_t width = H5Tget_size(type);
    char **values = calloc((size_t)nfeat, sizeof *values);
    char *fixed = variable ? NULL : calloc((size_t)nfeat, width + 1);
    hid_t mem = H5Tcopy(H5T_C_S1);
    H5Tset_size(mem, variable ? H5T_VARIABLE : width + 1);
    int rc = (!values || (!variable && !fixed)) ? fail(err, errlen, "%s: out of memory", d->path) : 0;
    if (!rc && H5Aread(attr, mem, variable ? (void *)values : (void *)fixed) < 0)
        rc = fail(err, errlen, "%s: cannot read the attribute names of %s", d->path, path);
    for (int i = 0; !rc && !variable && i < nfeat; ++i) values[i] = fixed + (size_t)i * (width + 1);
    for (int i = 0; !rc && i < nfeat; ++i)
        if (!values[i] || strcmp(values[i], names[i]) != 0)
            rc = fail(err, errlen, "%s: %s feature %d is named '%s' in the file, the spec expects '%s' (same "
                      "features, same order)", d->path, path, i, values[i] ? values[i] : "", names[i]);
    if (variable && values) H5Dvlen_reclaim(mem, space, H5P_DEFAULT, values);
    H5Tclose(mem);
    free(fixed);
    free(values);
    return rc;
}

static int check_names(const hn_dataset *d, const ds_info *f, const char *path, int nfeat, const char *const *names,
                       char *err, size_t errlen)
{
    if (!names || H5Aexists(f->id, "names") <= 0) return 0;
    hid_t attr = H5Aopen(f->id, "names", H5P_DEFAULT);
    hid_t type = H5Aget_type(attr), space = H5Aget_space(attr);
    hssize_t n = H5Sget_simple_extent_npoints(space);
    int rc;
    if (H5Tget_class(type) != H5T_STRING)
        rc = fail(err, errlen, "%s: the attribute names of %s holds %s values, expected strings", d->path, path,
                  class_name(H5Tget_class(type)));
    else if (n != nfeat)
        rc = fail(err, errlen, "%s: the attribute names of %s has %lld names for %d features", d->path, path,
                  (long long)n, nfeat);
    else
        rc = compare_names(d, path, attr, type, space, nfeat, names, err, errlen);
    H5Tclose(type);
    H5Sclose(space);
    H5Aclose(attr);
    return rc;
}

/* Whether element i of a mask buffer is nonzero: floats as doubles, everything else bytewise. */
static int mask_set(const unsigned char *buf, size_t i, size_t size, int is_float)
{
    if (is_float) {
        double v;
        memcpy(&v, buf + i * sizeof v, sizeof v);
        return v != 0.0;
    }
    for (size_t b = 0; b < size; ++b)
        if (buf[i * size + b]) return 1;
    return 0;
}

/* Real rows per event from a mask buffer [count][m]; a real row after padding is an error. */
static int prefix_counts(const hn_dataset *d, const char *path, const unsigned char *buf, size_t size, int is_float,
                         hsize_t m, int64_t first, int count, int max, int32_t *n, char *err, size_t errlen)
{
    for (int k = 0; k < count; ++k) {
        size_t row = (size_t)k * m;
        hsize_t real = 0;
        while (real < m && mask_set(buf, row + real, size, is_float)) ++real;
        for (hsize_t j = real + 1; j < m; ++j)
            if (mask_set(buf, row + j, size, is_float))
                return fail(err, errlen, "%s: %s of event %lld marks slot %llu real after padding at slot %llu; real "
                            "rows must come first in each event", d->path, path, (long long)(first + k),
                            (unsigned long long)j, (unsigned long long)real);
        n[k] = (int32_t)(real < (hsize_t)max ? real : (hsize_t)max);
    }
    return 0;
}

/* n[k] for a set whose rows have extent m: from the mask at `path`, or m without one; capped at max. */
static int read_counts_at(const hn_dataset *d, const char *path, hsize_t m, int64_t first, int count, int max,
                          int32_t *n, char *err, size_t errlen)
{
    if (!exists(d->file, path)) {
        for (int k = 0; k < count; ++k) n[k] = (int32_t)(m < (hsize_t)max ? m : (hsize_t)max);
        return 0;
    }
    ds_info f;
    int64_t trailing[1] = { (int64_t)m };
    if (open_checked(d, path, 2, trailing, "a mask: [events, rows] like the features", MASKS, &f, err, errlen))
        return -1;
    int is_float = f.cls == H5T_FLOAT;
    hid_t ftype = H5Dget_type(f.id);
    hid_t mtype = is_float ? H5Tcopy(H5T_NATIVE_DOUBLE) : H5Tget_native_type(ftype, H5T_DIR_ASCEND);
    size_t size = H5Tget_size(mtype);
    unsigned char *buf = malloc(size * (size_t)count * m + 1);
    int rc = buf ? 0 : fail(err, errlen, "%s: out of memory reading %s", d->path, path);
    if (!rc && read_rows(&f, first, count, &m, &m, mtype, buf))
        rc = fail(err, errlen, "%s: cannot read %s (events %lld..%lld)", d->path, path, (long long)first,
                  (long long)first + count - 1);
    if (!rc) rc = prefix_counts(d, path, buf, size, is_float, m, first, count, max, n, err, errlen);
    free(buf);
    H5Tclose(mtype);
    H5Tclose(ftype);
    close_ds(&f);
    return rc;
}

static int read_counts(const hn_dataset *d, const char *in, hsize_t m, int64_t first, int count, int max, int32_t *n,
                       char *err, size_t errlen)
{
    char path[PATH_LEN];
    snprintf(path, sizeof path, "/%s/mask", in);
    return read_counts_at(d, path, m, first, count, max, n, err, errlen);
}

/* Zeroes rows n[k]..max-1 of every event of x [count][max][width]. */
static void zero_padding(float *x, const int32_t *n, int count, int max, int width)
{
    for (int k = 0; k < count; ++k) {
        size_t row = (size_t)width, event = (size_t)max * row;
        memset(x + (size_t)k * event + (size_t)n[k] * row, 0, sizeof(float) * ((size_t)(max - n[k]) * row));
    }
}

/* Reads the leading min(M, max) rows of a [E, M, width] dataset into out [count][max][width]. */
static int read_set_rows(const hn_dataset *d, const char *path, const ds_info *f, int64_t first, int count, int max,
                         int width, float *out, char *err, size_t errlen)
{
    hsize_t take[2] = { f->dims[1] < (hsize_t)max ? f->dims[1] : (hsize_t)max, (hsize_t)width };
    hsize_t mem[2] = { (hsize_t)max, (hsize_t)width };
    if (read_rows(f, first, count, take, mem, H5T_NATIVE_FLOAT, out))
        return fail(err, errlen, "%s: cannot read %s (events %lld..%lld)", d->path, path, (long long)first,
                    (long long)first + count - 1);
    return 0;
}

/* SPANet's layout (SPANet's own datasets, e.g. ../shared/data/spanet): one [E, M] dataset per feature,
 * /INPUTS/<in>/<feature>, and the mask /INPUTS/<in>/MASK. Features are found by the spec's names. */
static int read_set_spanet(hn_dataset *d, const char *in, int max, int nfeat, const char *const *names, int64_t first,
                           int count, float *x, int32_t *n, char *err, size_t errlen)
{
    if (!names) return fail(err, errlen, "%s: /INPUTS/%s (SPANet layout) is read by feature name; none given", d->path, in);
    hsize_t m = 0;
    float *buf = NULL;
    int rc = 0;
    for (int k = 0; k < nfeat && !rc; ++k) {
        char path[PATH_LEN];
        snprintf(path, sizeof path, "/INPUTS/%s/%s", in, names[k]);
        ds_info f;
        int64_t trailing[1] = { -1 };
        if (!exists(d->file, path))
            return free(buf), fail(err, errlen, "%s: feature '%s' of input %s: no dataset %s (SPANet layout)", d->path,
                                   names[k], in, path);
        if (open_checked(d, path, 2, trailing, "a SPANet feature: [events, rows]", NUMBERS, &f, err, errlen))
            return free(buf), -1;
        if (!buf) {
            m = f.dims[1];
            buf = malloc(sizeof(float) * (size_t)count * (size_t)max + 1);
        } else if (f.dims[1] != m) {
            rc = fail(err, errlen, "%s: %s has %llu rows per event, the other features %llu", d->path, path,
                      (unsigned long long)f.dims[1], (unsigned long long)m);
        }
        hsize_t take[1] = { m < (hsize_t)max ? m : (hsize_t)max }, mem[1] = { (hsize_t)max };
        if (!rc && (!buf || read_rows(&f, first, count, take, mem, H5T_NATIVE_FLOAT, buf)))
            rc = fail(err, errlen, "%s: cannot read %s", d->path, path);
        for (int b = 0; !rc && b < count; ++b)
            for (hsize_t r = 0; r < take[0]; ++r)
                x[((size_t)b * max + r) * nfeat + k] = buf[(size_t)b * max + r];
        close_ds(&f);
    }
    free(buf);
    char mask[PATH_LEN];
    snprintf(mask, sizeof mask, "/INPUTS/%s/MASK", in);
    if (!rc) rc = read_counts_at(d, mask, m, first, count, max, n, err, errlen);
    if (!rc) zero_padding(x, n, count, max, nfeat);
    return rc;
}

int hn_dataset_read_set(hn_dataset *d, const char *in, int max, int nfeat, const char *const *names, int64_t first,
                        int count, float *x, int32_t *n, char *err, size_t errlen)
{
    if (check_request(d, in ? in : "", first, count, x, err, errlen)) return -1;
    if (count && !n) return fail(err, errlen, "%s: input %s: no buffer for the counts", d->path, in);
    if (max < 1 || nfeat < 1)
        return fail(err, errlen, "%s: input %s: max (%d) and the feature count (%d) must be positive", d->path, in, max,
                    nfeat);
    char path[PATH_LEN], spanet[PATH_LEN];
    snprintf(path, sizeof path, "/%s/features", in);
    snprintf(spanet, sizeof spanet, "/INPUTS/%s", in);
    if (!exists(d->file, path) && exists(d->file, spanet))
        return read_set_spanet(d, in, max, nfeat, names, first, count, x, n, err, errlen);
    ds_info f;
    int64_t trailing[2] = { -1, nfeat };
    if (open_checked(d, path, 3, trailing, "a set input: [events, rows, features]", NUMBERS, &f, err, errlen))
        return -1;
    int rc = check_names(d, &f, path, nfeat, names, err, errlen);
    if (!rc) rc = read_set_rows(d, path, &f, first, count, max, nfeat, x, err, errlen);
    hsize_t m = f.dims[1];
    close_ds(&f);
    if (!rc) rc = read_counts(d, in, m, first, count, max, n, err, errlen);
    if (!rc) zero_padding(x, n, count, max, nfeat);
    return rc;
}

/* The vectors' row extent must equal the features' when both exist: rows are matched by index. */
static int check_rows_match(const hn_dataset *d, const char *in, const char *vpath, hsize_t m, char *err, size_t errlen)
{
    char path[PATH_LEN];
    snprintf(path, sizeof path, "/%s/features", in);
    if (!exists(d->file, path)) return 0;
    ds_info f;
    if (open_ds(d, path, &f, err, errlen)) return -1;
    close_ds(&f);
    if (f.rank == 3 && f.dims[1] != m)
        return fail(err, errlen, "%s: %s has %llu rows per event but %s has %llu; they must match row by row", d->path,
                    vpath, (unsigned long long)m, path, (unsigned long long)f.dims[1]);
    return 0;
}

int hn_dataset_read_vectors(hn_dataset *d, const char *in, int max, int64_t first, int count, float *p4, char *err,
                            size_t errlen)
{
    if (check_request(d, in ? in : "", first, count, p4, err, errlen)) return -1;
    if (max < 1) return fail(err, errlen, "%s: input %s: max (%d) must be positive", d->path, in, max);
    char path[PATH_LEN];
    snprintf(path, sizeof path, "/%s/vectors", in);
    ds_info f;
    int64_t trailing[2] = { -1, 4 };
    if (open_checked(d, path, 3, trailing, "4-vectors: [events, rows, 4] as px, py, pz, E", NUMBERS, &f, err, errlen))
        return -1;
    hsize_t m = f.dims[1];
    int rc = check_rows_match(d, in, path, m, err, errlen);
    if (!rc) rc = read_set_rows(d, path, &f, first, count, max, 4, p4, err, errlen);
    close_ds(&f);
    int32_t *n = rc ? NULL : malloc(sizeof *n * (size_t)count + 1);
    if (!rc && !n) rc = fail(err, errlen, "%s: out of memory reading %s", d->path, path);
    if (!rc) rc = read_counts(d, in, m, first, count, max, n, err, errlen);
    if (!rc) zero_padding(p4, n, count, max, 4);
    free(n);
    return rc;
}

int hn_dataset_read_pairs(hn_dataset *d, const char *in, int max, int nfeat, const char *const *names, int64_t first,
                          int count, float *x, char *err, size_t errlen)
{
    if (check_request(d, in ? in : "", first, count, x, err, errlen)) return -1;
    if (max < 1 || nfeat < 1) return fail(err, errlen, "%s: input %s: max and the feature count must be positive", d->path, in);
    char path[PATH_LEN];
    snprintf(path, sizeof path, "/%s/features", in);
    ds_info f;
    int64_t trailing[3] = { -1, -1, nfeat };
    if (open_checked(d, path, 4, trailing, "a pair input: [events, rows, rows, features]", NUMBERS, &f, err, errlen))
        return -1;
    int rc = check_names(d, &f, path, nfeat, names, err, errlen);
    hsize_t m = f.dims[1] < f.dims[2] ? f.dims[1] : f.dims[2];
    hsize_t take[3] = { m < (hsize_t)max ? m : (hsize_t)max, m < (hsize_t)max ? m : (hsize_t)max, (hsize_t)nfeat };
    hsize_t mem[3] = { (hsize_t)max, (hsize_t)max, (hsize_t)nfeat };
    if (!rc) memset(x, 0, sizeof(float) * (size_t)count * (size_t)max * (size_t)max * (size_t)nfeat);
    if (!rc && read_rows(&f, first, count, take, mem, H5T_NATIVE_FLOAT, x))
        rc = fail(err, errlen, "%s: cannot read %s (events %lld..%lld)", d->path, path, (long long)first,
                  (long long)first + count - 1);
    close_ds(&f);
    return rc;
}

/* SPANet's layout of a GLOBAL input: one [E] dataset per feature, /INPUTS/<in>/<feature>, by the spec's names.
 * (An optional /INPUTS/<in>/MASK is not read: a SPANet global vector is always real in the network.) */
static int read_global_spanet(hn_dataset *d, const char *in, int nfeat, const char *const *names, int64_t first,
                              int count, float *x, char *err, size_t errlen)
{
    if (!names) return fail(err, errlen, "%s: /INPUTS/%s (SPANet layout) is read by feature name; none given", d->path, in);
    float *buf = malloc(sizeof(float) * (size_t)count + 1);
    int rc = buf ? 0 : fail(err, errlen, "%s: out of memory", d->path);
    for (int k = 0; k < nfeat && !rc; ++k) {
        char path[PATH_LEN];
        snprintf(path, sizeof path, "/INPUTS/%s/%s", in, names[k]);
        ds_info f;
        if (!exists(d->file, path)) {
            rc = fail(err, errlen, "%s: feature '%s' of input %s: no dataset %s (SPANet layout)", d->path, names[k], in, path);
            break;
        }
        if (open_checked(d, path, 1, NULL, "a SPANet global feature: [events]", NUMBERS, &f, err, errlen)) { rc = -1; break; }
        if (read_rows(&f, first, count, NULL, NULL, H5T_NATIVE_FLOAT, buf)) rc = fail(err, errlen, "%s: cannot read %s", d->path, path);
        for (int b = 0; !rc && b < count; ++b) x[(size_t)b * nfeat + k] = buf[b];
        close_ds(&f);
    }
    free(buf);
    return rc;
}

int hn_dataset_read_global(hn_dataset *d, const char *in, int nfeat, const char *const *names, int64_t first,
                           int count, float *x, char *err, size_t errlen)
{
    if (check_request(d, in ? in : "", first, count, x, err, errlen)) return -1;
    if (nfeat < 1) return fail(err, errlen, "%s: input %s: the feature count (%d) must be positive", d->path, in, nfeat);
    char path[PATH_LEN], spanet[PATH_LEN];
    snprintf(path, sizeof path, "/%s/features", in);
    snprintf(spanet, sizeof spanet, "/INPUTS/%s", in);
    if (!exists(d->file, path) && exists(d->file, spanet))
        return read_global_spanet(d, in, nfeat, names, first, count, x, err, errlen);
    ds_info f;
    int64_t trailing[1] = { nfeat };
    if (open_checked(d, path, 2, trailing, "a per-event input: [events, features]", NUMBERS, &f, err, errlen))
        return -1;
    int rc = check_names(d, &f, path, nfeat, names, err, errlen);
    hsize_t w = (hsize_t)nfeat;
    if (!rc && read_rows(&f, first, count, &w, &w, H5T_NATIVE_FLOAT, x))
        rc = fail(err, errlen, "%s: cannot read %s (events %lld..%lld)", d->path, path, (long long)first,
                  (long long)first + count - 1);
    close_ds(&f);
    return rc;
}

/* A per-event 1-D dataset (/labels, /weights) read as `type` into out. */
static int read_per_event(hn_dataset *d, const char *path, const char *what, const H5T_class_t *classes, hid_t type,
                          int64_t first, int count, void *out, char *err, size_t errlen)
{
    if (check_request(d, NULL, first, count, out, err, errlen)) return -1;
    ds_info f;
    if (open_checked(d, path, 1, NULL, what, classes, &f, err, errlen)) return -1;
    int rc = read_rows(&f, first, count, NULL, NULL, type, out);
    close_ds(&f);
    return rc ? fail(err, errlen, "%s: cannot read %s (events %lld..%lld)", d->path, path, (long long)first,
                     (long long)first + count - 1)
              : 0;
}

int hn_dataset_read_labels(hn_dataset *d, int64_t first, int count, int32_t *labels, char *err, size_t errlen)
{
    return read_per_event(d, "/labels", "class indices: [events]", INTEGERS, H5T_NATIVE_INT32, first, count, labels, err,
                          errlen);
}

int hn_dataset_read_weights(hn_dataset *d, int64_t first, int count, float *weights, char *err, size_t errlen)
{
    return read_per_event(d, "/weights", "event weights: [events]", NUMBERS, H5T_NATIVE_FLOAT, first, count, weights, err,
                          errlen);
}
