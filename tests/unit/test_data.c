/* test_data.c — the HDF5 layout of docs/data.md (runtime/data.c): files are written here with the
 * HDF5 C API into a fresh temporary directory (argv[1] or $TMPDIR or /tmp), read back through
 * hn_dataset_*, and every refusal is checked for a message naming the file, the dataset and the fault.
 * The outputs file is checked for atomicity: nothing at its path before a commit, nothing left after
 * a discard. */
#include <dirent.h>
#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hepnc/data.h"

static int passed, failed;
static char dir[4096];

static void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    ok ? ++passed : ++failed;
}

static int has_all(const char *err, ...)
{
    va_list ap;
    va_start(ap, err);
    int ok = 1;
    for (const char *s; (s = va_arg(ap, const char *));) ok = ok && strstr(err, s) != NULL;
    va_end(ap);
    return ok;
}
#define HAS(err, ...) has_all(err, __VA_ARGS__, (const char *)NULL)

static const char *in_dir(const char *name)
{
    static char buf[8][4200];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    return p;
}

static int entries_with(const char *s)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += strstr(e->d_name, s) != NULL;
    if (d) closedir(d);
    return n;
}

/* ---- writing test files ------------------------------------------------------------------------- */

static hid_t new_file(const char *name) { return H5Fcreate(in_dir(name), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT); }

/* path (groups created as needed) of file type ftype, written from data of memory type mtype. */
static hid_t put(hid_t file, const char *path, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims, const void *data)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t ds = H5Dcreate2(file, path, ftype, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    H5Sclose(space);
    H5Pclose(lcpl);
    return ds;
}

static void put_closed(hid_t file, const char *path, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims,
                       const void *data)
{
    H5Dclose(put(file, path, ftype, mtype, rank, dims, data));
}

/* Attribute `names` of n strings, variable length or fixed width (h5py writes either). */
static void put_names(hid_t ds, int n, const char *const *names, int variable)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    hsize_t dims[1] = { (hsize_t)n };
    hid_t space = H5Screate_simple(1, dims, NULL);
    if (variable) {
        H5Tset_size(type, H5T_VARIABLE);
        hid_t a = H5Acreate2(ds, "names", type, space, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, type, names);
        H5Aclose(a);
    } else {
        enum { W = 16 };
        char buf[8][W] = { { 0 } };
        for (int i = 0; i < n; ++i) strncpy(buf[i], names[i], W);
        H5Tset_size(type, W);
        H5Tset_strpad(type, H5T_STR_NULLPAD);           /* numpy "S16" */
        hid_t a = H5Acreate2(ds, "names", type, space, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, type, buf);
        H5Aclose(a);
    }
    H5Sclose(space);
    H5Tclose(type);
}

/* h5py's bool: an enum over int8 with FALSE = 0, TRUE = 1. */
static hid_t bool_type(void)
{
    hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
    int8_t f = 0, v = 1;
    H5Tenum_insert(t, "FALSE", &f);
    H5Tenum_insert(t, "TRUE", &v);
    return t;
}

enum { E = 4, M = 5, F = 3 };
static const int COUNTS[E] = { 5, 3, 0, 1 };
static const char *const PNAMES[F] = { "pt", "eta", "phi" };
static const char *const GNAMES[2] = { "met", "ht" };

static float feature(int e, int m, int f) { return (float)(100 * e + 10 * m + f + 1); }

/* good.h5: /particles/{features float32 [4,5,3] + fixed-width names, mask uint8, vectors float64},
 * /event/features float64 [4,2] + variable-length names, /labels int64. Padding rows hold 999. */
static void write_good(void)
{
    static float x[E][M][F];
    static uint8_t mask[E][M];
    static double p4[E][M][4], g[E][2];
    int64_t labels[E] = { 1, 0, 2, 1 };
    for (int e = 0; e < E; ++e) {
        g[e][0] = 10.5 * e;
        g[e][1] = -1.0 * e;
        for (int m = 0; m < M; ++m) {
            mask[e][m] = m < COUNTS[e];
            for (int f = 0; f < F; ++f) x[e][m][f] = m < COUNTS[e] ? feature(e, m, f) : 999;
            for (int k = 0; k < 4; ++k) p4[e][m][k] = m < COUNTS[e] ? 1000.0 * e + 10 * m + k + 0.5 : 999;
        }
    }
    hid_t file = new_file("good.h5");
    hsize_t d3[3] = { E, M, F }, d2[2] = { E, M }, dv[3] = { E, M, 4 }, dg[2] = { E, 2 }, d1[1] = { E };
    hid_t ds = put(file, "/particles/features", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, d3, x);
    put_names(ds, F, PNAMES, 0);
    H5Dclose(ds);
    put_closed(file, "/particles/mask", H5T_STD_U8LE, H5T_NATIVE_UINT8, 2, d2, mask);
    put_closed(file, "/particles/vectors", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 3, dv, p4);
    ds = put(file, "/event/features", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dg, g);
    put_names(ds, 2, GNAMES, 1);
    H5Dclose(ds);
    put_closed(file, "/labels", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, d1, labels);
    H5Fclose(file);
}

/* ---- reading ------------------------------------------------------------------------------------ */

static hn_dataset *open_or_fail(const char *name)
{
    char err[512] = "";
    hn_dataset *d = hn_dataset_open(in_dir(name), err, sizeof err);
    check(d != NULL, "open %s: %s", name, d ? "" : err);
    return d;
}

/* x [count][max][F] holds event first+k's real rows (min(count, max)) and zeros after. */
static int set_ok(const float *x, const int32_t *n, int64_t first, int count, int max)
{
    for (int k = 0; k < count; ++k) {
        int e = (int)first + k, want = COUNTS[e] < max ? COUNTS[e] : max;
        if (n[k] != want) return 0;
        for (int m = 0; m < max; ++m)
            for (int f = 0; f < F; ++f)
                if (x[((size_t)k * max + m) * F + f] != (m < want ? feature(e, m, f) : 0.0f)) return 0;
    }
    return 1;
}

static void test_sets(void)
{
    hn_dataset *d = open_or_fail("good.h5");
    if (!d) return;
    check(hn_dataset_events(d) == E, "4 events");
    static float x[E * 8 * F];
    int32_t n[E];
    char err[512] = "";
    for (int max = 2; max <= 8; max += 3) {             /* 2: truncate, 5: exact, 8: pad */
        for (size_t i = 0; i < sizeof x / sizeof *x; ++i) x[i] = NAN;
        int rc = hn_dataset_read_set(d, "particles", max, F, PNAMES, 0, E, x, n, err, sizeof err);
        check(rc == 0 && set_ok(x, n, 0, E, max), "read_set max=%d (file M=%d): counts from the mask, padding zero %s",
              max, M, rc ? err : "");
    }
    int rc = hn_dataset_read_set(d, "particles", M, F, NULL, 1, 2, x, n, err, sizeof err);
    check(rc == 0 && set_ok(x, n, 1, 2, M), "read_set of events 1..2 without names");
    rc = hn_dataset_read_set(d, "particles", M, F, PNAMES, 0, 0, NULL, NULL, err, sizeof err);
    check(rc == 0, "read_set of zero events");

    static const char *const wrong[F] = { "pt", "rapidity", "phi" };
    rc = hn_dataset_read_set(d, "particles", M, F, wrong, 0, E, x, n, err, sizeof err);
    check(rc != 0 && HAS(err, in_dir("good.h5"), "/particles/features", "feature 1", "'eta'", "'rapidity'"),
          "fixed-width names mismatch names index and both names: %s", err);
    rc = hn_dataset_read_set(d, "particles", M, 4, NULL, 0, E, x, n, err, sizeof err);
    check(rc != 0 && HAS(err, "/particles/features", "shape [4, 5, 3]", "expected [4, *, 4]"),
          "wrong feature count: expected vs found shape: %s", err);
    rc = hn_dataset_read_set(d, "jets", M, F, NULL, 0, E, x, n, err, sizeof err);
    check(rc != 0 && HAS(err, in_dir("good.h5"), "/jets/features", "missing"), "absent input: %s", err);
    rc = hn_dataset_read_set(d, "event", M, 2, NULL, 0, E, x, n, err, sizeof err);
    check(rc != 0 && HAS(err, "/event/features", "shape [4, 2]", "expected [4, *, 2]"),
          "a per-event input read as a set: %s", err);
    rc = hn_dataset_read_set(d, "particles", M, F, NULL, 3, 2, x, n, err, sizeof err);
    check(rc != 0 && HAS(err, "events 3..4", "out of range"), "events past the end: %s", err);
    hn_dataset_close(d);
}

static void test_vectors_globals_labels(void)
{
    hn_dataset *d = open_or_fail("good.h5");
    if (!d) return;
    char err[512] = "";
    static float p4[E * 3 * 4];
    for (size_t i = 0; i < sizeof p4 / sizeof *p4; ++i) p4[i] = NAN;
    int rc = hn_dataset_read_vectors(d, "particles", 3, 0, E, p4, err, sizeof err);
    int ok = rc == 0;
    for (int e = 0; e < E && ok; ++e)
        for (int m = 0; m < 3; ++m)
            for (int k = 0; k < 4; ++k)
                ok = ok && p4[(e * 3 + m) * 4 + k] == (m < COUNTS[e] ? (float)(1000.0 * e + 10 * m + k + 0.5) : 0.0f);
    check(ok, "read_vectors: float64 converted, truncated to 3, zero beyond each event's mask count %s", rc ? err : "");

    float g[E * 2];
    rc = hn_dataset_read_global(d, "event", 2, GNAMES, 0, E, g, err, sizeof err);
    check(rc == 0 && g[2] == 10.5f && g[3] == -1.0f && g[7] == -3.0f, "read_global with variable-length names %s", rc ? err : "");
    static const char *const wrong[2] = { "met", "mht" };
    rc = hn_dataset_read_global(d, "event", 2, wrong, 0, E, g, err, sizeof err);
    check(rc != 0 && HAS(err, "/event/features", "feature 1", "'ht'", "'mht'"), "variable-length names mismatch: %s",
          err);
    rc = hn_dataset_read_global(d, "particles", F, NULL, 0, E, g, err, sizeof err);
    check(rc != 0 && HAS(err, "/particles/features", "shape [4, 5, 3]", "expected [4, 3]"),
          "a set input read as per-event: %s", err);

    int32_t labels[E];
    check(hn_dataset_has_labels(d), "has labels");
    rc = hn_dataset_read_labels(d, 1, 3, labels, err, sizeof err);
    check(rc == 0 && labels[0] == 0 && labels[1] == 2 && labels[2] == 1, "int64 labels read as int32 %s", rc ? err : "");
    hn_dataset_close(d);
}

/* A bool (enum) mask whose event 2 has a real particle after padding. */
static void test_nonprefix_mask(void)
{
    static float x[3][4][2];
    int8_t mask[3][4] = { { 1, 1, 0, 0 }, { 1, 1, 1, 1 }, { 1, 0, 1, 0 } };
    hid_t file = new_file("nonprefix.h5"), bt = bool_type();
    hsize_t d3[3] = { 3, 4, 2 }, d2[2] = { 3, 4 };
    put_closed(file, "/jets/features", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, d3, x);
    put_closed(file, "/jets/mask", bt, bt, 2, d2, mask);
    H5Tclose(bt);
    H5Fclose(file);
    hn_dataset *d = open_or_fail("nonprefix.h5");
    if (!d) return;
    char err[512] = "";
    static float out[3 * 4 * 2];
    int32_t n[3];
    int rc = hn_dataset_read_set(d, "jets", 4, 2, NULL, 0, 2, out, n, err, sizeof err);
    check(rc == 0 && n[0] == 2 && n[1] == 4, "bool mask gives counts 2 and 4 %s", rc ? err : "");
    rc = hn_dataset_read_set(d, "jets", 4, 2, NULL, 0, 3, out, n, err, sizeof err);
    check(rc != 0 && HAS(err, in_dir("nonprefix.h5"), "/jets/mask", "event 2", "slot 2", "padding at slot 1"),
          "non-prefix mask names the event and slot: %s", err);
    hn_dataset_close(d);
}

/* No mask, M < max: every row real, padded to max. A float mask elsewhere. Float labels refused. */
static void test_no_mask_and_types(void)
{
    float x[2][2][1] = { { { 1 }, { 2 } }, { { 3 }, { 4 } } }, fmask[2][2] = { { 1, 0 }, { 0.5f, 1 } }, flab[2] = { 0, 1 };
    hid_t file = new_file("nomask.h5");
    hsize_t d3[3] = { 2, 2, 1 }, d2[2] = { 2, 2 }, d1[1] = { 2 };
    put_closed(file, "/a/features", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, d3, x);
    put_closed(file, "/b/features", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, d3, x);
    put_closed(file, "/b/mask", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d2, fmask);
    put_closed(file, "/labels", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, d1, flab);
    H5Fclose(file);
    hn_dataset *d = open_or_fail("nomask.h5");
    if (!d) return;
    char err[512] = "";
    float out[2 * 4];
    int32_t n[2];
    for (int i = 0; i < 8; ++i) out[i] = NAN;
    int rc = hn_dataset_read_set(d, "a", 4, 1, NULL, 0, 2, out, n, err, sizeof err);
    check(rc == 0 && n[0] == 2 && n[1] == 2 && out[0] == 1 && out[1] == 2 && out[2] == 0 && out[3] == 0 && out[4] == 3 &&
              out[7] == 0, "no mask: all M rows real, padded with zeros to max %s", rc ? err : "");
    rc = hn_dataset_read_set(d, "b", 4, 1, NULL, 0, 2, out, n, err, sizeof err);
    check(rc == 0 && n[0] == 1 && n[1] == 2 && out[1] == 0, "float mask: nonzero is real %s", rc ? err : "");
    int32_t labels[2];
    rc = hn_dataset_read_labels(d, 0, 2, labels, err, sizeof err);
    check(rc != 0 && HAS(err, "/labels", "floating-point", "integer"), "float labels refused: %s", err);
    rc = hn_dataset_read_vectors(d, "a", 4, 0, 2, out, err, sizeof err);
    check(rc != 0 && HAS(err, "/a/vectors", "missing"), "absent vectors: %s", err);
    hn_dataset_close(d);
}

static void test_bad_files(void)
{
    char err[512] = "";
    float x[3][2] = { { 0 } };
    int32_t labels[2] = { 0 };
    hid_t file = new_file("inconsistent.h5");
    hsize_t d2[2] = { 3, 2 }, d1[1] = { 2 };
    put_closed(file, "/event/features", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d2, x);
    put_closed(file, "/labels", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, d1, labels);
    H5Fclose(file);
    hn_dataset *d = hn_dataset_open(in_dir("inconsistent.h5"), err, sizeof err);
    check(!d && HAS(err, in_dir("inconsistent.h5"), "/labels has 2 events", "/event/features has 3"),
          "event counts that disagree are refused at open: %s", err);
    hn_dataset_close(d);

    file = new_file("empty.h5");
    put_closed(file, "/labels", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, d1, labels);
    H5Fclose(file);
    d = hn_dataset_open(in_dir("empty.h5"), err, sizeof err);
    check(!d && HAS(err, in_dir("empty.h5"), "/<input>/features"), "a file without inputs: %s", err);

    FILE *f = fopen(in_dir("text.h5"), "w");
    fputs("not hdf5\n", f);
    fclose(f);
    d = hn_dataset_open(in_dir("text.h5"), err, sizeof err);
    check(!d && HAS(err, in_dir("text.h5"), "not an HDF5 file"), "a text file: %s", err);
    d = hn_dataset_open(in_dir("absent.h5"), err, sizeof err);
    check(!d && HAS(err, in_dir("absent.h5"), "cannot open"), "a missing file: %s", err);
}

/* ---- the outputs file --------------------------------------------------------------------------- */

static int read_back(const char *path, const char *name, hid_t type, void *buf)
{
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) return -1;
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    herr_t rc = ds < 0 ? -1 : H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    if (ds >= 0) H5Dclose(ds);
    H5Fclose(file);
    return rc < 0 ? -1 : 0;
}

/* String i of the variable-length attribute `names` of dataset name equals want. */
static int attr_name(const char *path, const char *name, int i, const char *want)
{
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds = file < 0 ? -1 : H5Dopen2(file, name, H5P_DEFAULT);
    hid_t attr = ds < 0 ? -1 : H5Aopen(ds, "names", H5P_DEFAULT);
    int ok = 0;
    if (attr >= 0) {
        hid_t type = H5Tcopy(H5T_C_S1), space = H5Aget_space(attr);
        H5Tset_size(type, H5T_VARIABLE);
        char *values[8] = { 0 };
        ok = H5Sget_simple_extent_npoints(space) > i && H5Aread(attr, type, values) >= 0 && values[i] &&
             !strcmp(values[i], want);
        H5Dvlen_reclaim(type, space, H5P_DEFAULT, values);
        H5Sclose(space);
        H5Tclose(type);
        H5Aclose(attr);
    }
    if (ds >= 0) H5Dclose(ds);
    if (file >= 0) H5Fclose(file);
    return ok;
}

static void test_scores(void)
{
    const char *path = in_dir("scores.h5");
    const char *names[2] = { "scores", "logits1" };
    int widths[2] = { 2, 1 };
    char err[512] = "";
    hn_scores_file *s = hn_scores_create(path, 5, 2, names, widths, err, sizeof err);
    check(s != NULL, "create an outputs file %s", s ? "" : err);
    if (!s) return;
    check(access(path, F_OK) != 0 && entries_with("scores.h5.tmp.") == 1, "before close: nothing at the path, one tmp");
    float a[10] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, b[5] = { -1, -2, -3, -4, -5 };
    int32_t labels[5] = { 1, 0, 1, 1, 0 };
    static const char *const cls[2] = { "qcd", "top" };
    int rc = hn_scores_write(s, 0, 0, 3, a, err, sizeof err);
    rc |= hn_scores_write(s, 0, 3, 2, a + 6, err, sizeof err);
    rc |= hn_scores_write(s, 1, 0, 5, b, err, sizeof err);
    rc |= hn_scores_write_labels(s, 0, 5, labels, err, sizeof err);
    rc |= hn_scores_set_names(s, 0, cls, err, sizeof err);
    check(rc == 0, "write two outputs in chunks, labels and column names %s", rc ? err : "");
    rc = hn_scores_write(s, 1, 4, 2, b, err, sizeof err);
    check(rc != 0 && HAS(err, path, "/logits1", "events 4..5"), "a write past the end: %s", err);
    rc = hn_scores_write(s, 2, 0, 1, b, err, sizeof err);
    check(rc != 0 && HAS(err, path, "no output 2"), "an output that does not exist: %s", err);
    rc = hn_scores_close(s, 1, err, sizeof err);
    check(rc == 0 && access(path, F_OK) == 0 && entries_with(".tmp.") == 0, "commit: the file is in place, no tmp %s",
          rc ? err : "");
    float ra[10], rb[5];
    int32_t rl[5];
    rc = read_back(path, "/scores", H5T_NATIVE_FLOAT, ra) | read_back(path, "/logits1", H5T_NATIVE_FLOAT, rb) |
         read_back(path, "/labels", H5T_NATIVE_INT32, rl);
    check(rc == 0 && !memcmp(ra, a, sizeof a) && !memcmp(rb, b, sizeof b) && !memcmp(rl, labels, sizeof labels),
          "outputs and labels read back as written");
    check(attr_name(path, "/scores", 1, "top"), "column names stored as the attribute names of /scores");

    /* discard: nothing at the path, nothing left */
    const char *gone = in_dir("discarded.h5");
    s = hn_scores_create(gone, 5, 2, names, widths, err, sizeof err);
    if (s) hn_scores_write(s, 0, 0, 5, a, err, sizeof err);
    rc = s ? hn_scores_close(s, 0, err, sizeof err) : -1;
    check(rc == 0 && access(gone, F_OK) != 0 && entries_with("discarded") == 0, "commit=0 leaves nothing behind");

    /* incomplete: refused at commit, nothing left */
    s = hn_scores_create(gone, 5, 2, names, widths, err, sizeof err);
    if (s) {
        hn_scores_write(s, 0, 0, 5, a, err, sizeof err);
        hn_scores_write(s, 1, 0, 3, b, err, sizeof err);
        hn_scores_write(s, 1, 1, 2, b, err, sizeof err);          /* overlap counts once */
    }
    rc = s ? hn_scores_close(s, 1, err, sizeof err) : 0;
    check(rc != 0 && HAS(err, gone, "/logits1 has 3 of 5 events") && access(gone, F_OK) != 0 &&
              entries_with("discarded") == 0, "an incomplete file is not committed: %s", err);

    const char *dup[2] = { "scores", "scores" };
    s = hn_scores_create(gone, 5, 2, dup, widths, err, sizeof err);
    check(!s && HAS(err, gone, "'scores'", "twice") && entries_with("discarded") == 0, "duplicate output names: %s",
          err);
    hn_scores_close(s, 0, NULL, 0);
    s = hn_scores_create(in_dir("no/dir/x.h5"), 5, 2, names, widths, err, sizeof err);
    check(!s && HAS(err, "no/dir/x.h5", "cannot create"), "an unwritable directory: %s", err);
}

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) unlink(in_dir(e->d_name));
    if (d) closedir(d);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    const char *base = argc > 1 ? argv[1] : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    mkdir(base, 0777);
    snprintf(dir, sizeof dir, "%s/hn_data_XXXXXX", base);
    if (!mkdtemp(dir)) { perror(dir); return 2; }
    write_good();
    test_sets();
    test_vectors_globals_labels();
    test_nonprefix_mask();
    test_no_mask_and_types();
    test_bad_files();
    test_scores();
    remove_dir();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
