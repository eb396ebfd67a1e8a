/* scores.c — the outputs file of `hepnc infer` and the evaluation (hepnc/data.h: hn_scores_*): one
 * dataset per model output, written into a temporary file, checked complete and renamed into place on
 * close, so a failed run leaves nothing half-written. */
#include "hepnc/data.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5_util.h"

/* One dataset of the outputs file and which of its rows have been written. */
typedef struct {
    hid_t id;
    char *name;
    int width;                  /* 0: a 1-D dataset (labels) */
    int int32;                  /* 1: int32 rows (hn_scores_write_int), 0: float32 rows (hn_scores_write) */
    unsigned char *done;        /* one bit per event */
    int64_t ndone;
} out_set;

struct hn_scores_file {
    char *path;
    char *tmp;
    hid_t file;
    int64_t events;
    int nout;
    out_set *outs;
    out_set labels;             /* id < 0 until the first labels are written */
};

static int create_set(hn_scores_file *s, out_set *o, const char *name, int width, hid_t type, char *err, size_t errlen)
{
    hsize_t dims[2] = { (hsize_t)s->events, (hsize_t)width };
    o->width = width;
    o->name = strdup(name);
    o->done = calloc((size_t)(s->events / 8) + 1, 1);
    if (!o->name || !o->done) return fail(err, errlen, "%s: out of memory", s->path);
    hid_t space = H5Screate_simple(width ? 2 : 1, dims, NULL);
    char p[PATH_LEN];
    snprintf(p, sizeof p, "/%s", name);
    o->id = H5Dcreate2(s->file, p, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Sclose(space);
    return o->id < 0 ? fail(err, errlen, "%s: cannot create dataset /%s", s->path, name) : 0;
}

static void free_set(out_set *o)
{
    if (o->id >= 0) H5Dclose(o->id);
    o->id = -1;
    free(o->name);
    free(o->done);
    o->name = NULL;
    o->done = NULL;
}

/* Marks rows [first, first+count) written. */
static void mark_rows(out_set *o, int64_t first, int count)
{
    for (int64_t r = first; r < first + count; ++r) {
        unsigned char bit = (unsigned char)(1u << (r & 7));
        if (!(o->done[r >> 3] & bit)) ++o->ndone;
        o->done[r >> 3] |= bit;
    }
}

static int check_scores_args(const char *path, int64_t events, int nout, const char *const *names, const int *widths,
                             char *err, size_t errlen)
{
    if (events < 0 || nout < 0 || (nout && (!names || !widths)))
        return fail(err, errlen, "%s: invalid outputs (%lld events, %d outputs)", path, (long long)events, nout);
    for (int o = 0; o < nout; ++o) {
        if (!names[o] || !*names[o] || strchr(names[o], '/') || strlen(names[o]) > 200 || !strcmp(names[o], "labels"))
            return fail(err, errlen, "%s: output %d has an unusable name '%s'", path, o, names[o] ? names[o] : "");
        if (widths[o] < 1) return fail(err, errlen, "%s: output '%s' has width %d", path, names[o], widths[o]);
        for (int p = 0; p < o; ++p)
            if (!strcmp(names[p], names[o])) return fail(err, errlen, "%s: output '%s' is given twice", path, names[o]);
    }
    return 0;
}

/* Creates "path.tmp.<pid>.<k>" exclusively as an HDF5 file; its name goes to s->tmp. */
static hid_t create_tmp_h5(hn_scores_file *s)
{
    static atomic_uint serial;
    size_t len = strlen(s->path) + 48;
    if (!(s->tmp = malloc(len))) return -1;
    for (int tries = 0; tries < 100; ++tries) {
        snprintf(s->tmp, len, "%s.tmp.%ld.%u", s->path, (long)getpid(), atomic_fetch_add(&serial, 1));
        hid_t file = H5Fcreate(s->tmp, H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
        if (file >= 0 || access(s->tmp, F_OK) != 0) return file;
    }
    return -1;
}

hn_scores_file *hn_scores_create(const char *path, int64_t events, int nout, const char *const *out_names,
                                 const int *out_widths, char *err, size_t errlen)
{
    quiet_hdf5();
    if (!path) { fail(err, errlen, "(null): no output path given"); return NULL; }
    if (check_scores_args(path, events, nout, out_names, out_widths, err, errlen)) return NULL;
    hn_scores_file *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path)) || !(s->outs = calloc((size_t)nout + 1, sizeof *s->outs))) {
        fail(err, errlen, "%s: out of memory", path);
        if (s) free(s->path);
        free(s);
        return NULL;
    }
    s->events = events;
    s->labels.id = -1;
    for (int o = 0; o < nout; ++o) s->outs[o].id = -1;
    s->file = create_tmp_h5(s);
    if (s->file < 0) {
        fail(err, errlen, "%s: cannot create a temporary output file next to it (is the directory writable?)", path);
        hn_scores_close(s, 0, NULL, 0);
        return NULL;
    }
    for (int o = 0; o < nout; ++o) {
        s->nout = o + 1;
        if (create_set(s, &s->outs[o], out_names[o], out_widths[o], H5T_IEEE_F32LE, err, errlen)) {
            hn_scores_close(s, 0, NULL, 0);
            return NULL;
        }
    }
    return s;
}

static int write_rows(hid_t ds, int64_t first, int count, int width, hid_t type, const void *rows)
{
    if (!count) return 0;
    hsize_t start[2] = { (hsize_t)first, 0 }, block[2] = { (hsize_t)count, (hsize_t)width };
    int rank = width ? 2 : 1;
    hid_t fs = H5Dget_space(ds), ms = H5Screate_simple(rank, block, NULL);
    herr_t rc = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, block, NULL);
    if (rc >= 0) rc = H5Dwrite(ds, type, ms, fs, H5P_DEFAULT, rows);
    H5Sclose(ms);
    H5Sclose(fs);
    return rc < 0 ? -1 : 0;
}

static int check_rows(const hn_scores_file *s, const char *name, int64_t first, int count, const void *rows, char *err,
                      size_t errlen)
{
    if (first < 0 || count < 0 || first > s->events - count)
        return fail(err, errlen, "%s: /%s: events %lld..%lld are outside the file's %lld", s->path, name,
                    (long long)first, (long long)first + count - 1, (long long)s->events);
    if (count && !rows) return fail(err, errlen, "%s: /%s: no rows given", s->path, name);
    return 0;
}

int hn_scores_write(hn_scores_file *s, int out_index, int64_t first, int count, const float *rows, char *err,
                    size_t errlen)
{
    if (out_index < 0 || out_index >= s->nout || s->outs[out_index].int32)
        return fail(err, errlen, "%s: there is no output %d of floats (the file has %d outputs)", s->path, out_index, s->nout);
    out_set *o = &s->outs[out_index];
    if (check_rows(s, o->name, first, count, rows, err, errlen)) return -1;
    if (write_rows(o->id, first, count, o->width, H5T_NATIVE_FLOAT, rows))
        return fail(err, errlen, "%s: cannot write /%s (disk full?)", s->tmp, o->name);
    mark_rows(o, first, count);
    return 0;
}

int hn_scores_add(hn_scores_file *s, const char *name, int width, int int32, char *err, size_t errlen)
{
    const char *names[1] = { name };
    int widths[1] = { width < 1 ? 1 : width };
    if (check_scores_args(s->path, s->events, 1, names, widths, err, errlen)) return -1;
    for (int o = 0; o < s->nout; ++o)
        if (!strcmp(s->outs[o].name, name)) return fail(err, errlen, "%s: output '%s' is given twice", s->path, name);
    out_set *grown = realloc(s->outs, sizeof *s->outs * ((size_t)s->nout + 2));
    if (!grown) return fail(err, errlen, "%s: out of memory", s->path);
    s->outs = grown;
    out_set *o = &s->outs[s->nout];
    memset(o, 0, sizeof *o);
    o->id = -1;
    o->int32 = int32;
    ++s->nout;
    if (create_set(s, o, name, width, int32 ? H5T_STD_I32LE : H5T_IEEE_F32LE, err, errlen)) return -1;
    return s->nout - 1;
}

int hn_scores_write_int(hn_scores_file *s, int out_index, int64_t first, int count, const int32_t *rows, char *err,
                        size_t errlen)
{
    if (out_index < 0 || out_index >= s->nout || !s->outs[out_index].int32)
        return fail(err, errlen, "%s: there is no int32 output %d", s->path, out_index);
    out_set *o = &s->outs[out_index];
    if (check_rows(s, o->name, first, count, rows, err, errlen)) return -1;
    if (write_rows(o->id, first, count, o->width, H5T_NATIVE_INT32, rows))
        return fail(err, errlen, "%s: cannot write /%s (disk full?)", s->tmp, o->name);
    mark_rows(o, first, count);
    return 0;
}

int hn_scores_set_names(hn_scores_file *s, int out_index, const char *const *column_names, char *err, size_t errlen)
{
    if (out_index < 0 || out_index >= s->nout)
        return fail(err, errlen, "%s: there is no output %d (the file has %d)", s->path, out_index, s->nout);
    out_set *o = &s->outs[out_index];
    for (int i = 0; i < o->width; ++i)
        if (!column_names || !column_names[i])
            return fail(err, errlen, "%s: /%s: column name %d is missing", s->path, o->name, i);
    hsize_t n = (hsize_t)o->width;
    hid_t type = H5Tcopy(H5T_C_S1), space = H5Screate_simple(1, &n, NULL);
    H5Tset_size(type, H5T_VARIABLE);
    if (H5Aexists(o->id, "names") > 0) H5Adelete(o->id, "names");
    hid_t attr = H5Acreate2(o->id, "names", type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = attr < 0 ? -1 : H5Awrite(attr, type, column_names);
    if (attr >= 0) H5Aclose(attr);
    H5Sclose(space);
    H5Tclose(type);
    return rc < 0 ? fail(err, errlen, "%s: cannot write the attribute names of /%s", s->path, o->name) : 0;
}

int hn_scores_write_labels(hn_scores_file *s, int64_t first, int count, const int32_t *labels, char *err,
                           size_t errlen)
{
    if (check_rows(s, "labels", first, count, labels, err, errlen)) return -1;
    if (s->labels.id < 0 && create_set(s, &s->labels, "labels", 0, H5T_STD_I32LE, err, errlen)) {
        free_set(&s->labels);
        return -1;
    }
    if (write_rows(s->labels.id, first, count, 0, H5T_NATIVE_INT32, labels))
        return fail(err, errlen, "%s: cannot write /labels (disk full?)", s->tmp);
    mark_rows(&s->labels, first, count);
    return 0;
}

/* Every output (and /labels, once begun) has all its rows. */
static int check_complete(const hn_scores_file *s, char *err, size_t errlen)
{
    for (int o = 0; o <= s->nout; ++o) {
        const out_set *set = o < s->nout ? &s->outs[o] : &s->labels;
        if (set->id >= 0 && set->ndone != s->events)
            return fail(err, errlen, "%s: /%s has %lld of %lld events written; the file is not complete and was not "
                        "kept", s->path, set->name, (long long)set->ndone, (long long)s->events);
    }
    return 0;
}

static int sync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int hn_scores_close(hn_scores_file *s, int commit, char *err, size_t errlen)
{
    if (!s) return 0;
    int rc = commit ? check_complete(s, err, errlen) : 0;
    for (int o = 0; o < s->nout; ++o) free_set(&s->outs[o]);
    if (s->labels.id >= 0 || s->labels.name) free_set(&s->labels);
    if (s->file >= 0 && H5Fclose(s->file) < 0 && !rc)
        rc = fail(err, errlen, "%s: cannot finish the file (disk full?)", s->path);
    if (commit && !rc && (sync_path(s->tmp) || rename(s->tmp, s->path)))
        rc = fail(err, errlen, "%s: cannot write: %s", s->path, strerror(errno));
    if ((!commit || rc) && s->file >= 0) unlink(s->tmp);
    free(s->outs);
    free(s->tmp);
    free(s->path);
    free(s);
    return rc;
}
