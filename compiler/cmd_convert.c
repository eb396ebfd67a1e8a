/* cmd_convert.c — `hepnc convert darkmachines IN.csv -o OUT.h5`: the DarkMachines event CSV into the
 * HDF5 layout of docs/data.md, as the fixed object list of models/fcn.yaml (4 jets, 4 b-jets, e-, e+,
 * m-, m+) or as a pT-ordered masked set of up to --max objects for set models. Streams the CSV; a
 * malformed line stops it with the line number and field, and nothing is written. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hepnc/darkmachines.h>

#include "commands.h"

#define NFEAT 11
static const char *const feature_names[NFEAT] = { "E", "pt", "eta", "phi", "is_j", "is_b", "is_em", "is_ep",
                                                  "is_mm", "is_mp", "is_g" };

typedef struct table {
    float *objects;             /* [E][max][NFEAT] */
    uint8_t *mask;              /* [E][max] */
    float *vectors;             /* [E][max][4]: px, py, pz, E in GeV (set layout) */
    float *event;               /* [E][2] */
    int32_t *labels;
    float *weights;
    long n, cap;
    int max;
} table;

static int grow(table *t)
{
    if (t->n < t->cap) return 0;
    long cap = t->cap ? 2 * t->cap : 4096;
    float *o = realloc(t->objects, sizeof(float) * (size_t)cap * (size_t)t->max * NFEAT);
    if (o) t->objects = o;
    uint8_t *m = realloc(t->mask, (size_t)cap * (size_t)t->max);
    if (m) t->mask = m;
    float *v = realloc(t->vectors, sizeof(float) * (size_t)cap * (size_t)t->max * 4);
    if (v) t->vectors = v;
    float *e = realloc(t->event, sizeof(float) * (size_t)cap * 2);
    if (e) t->event = e;
    int32_t *l = realloc(t->labels, sizeof(int32_t) * (size_t)cap);
    if (l) t->labels = l;
    float *w = realloc(t->weights, sizeof(float) * (size_t)cap);
    if (w) t->weights = w;
    if (!o || !m || !v || !e || !l || !w) return -1;
    t->cap = cap;
    return 0;
}

static void put(float *row, const hn_dm_object *o)
{
    row[0] = o->e, row[1] = o->pt, row[2] = o->eta, row[3] = o->phi;
    for (int k = 0; k < 7; ++k) row[4 + k] = o->kind == k;
}

static int by_pt_desc(const void *a, const void *b)
{
    float x = ((const hn_dm_object *)a)->pt, y = ((const hn_dm_object *)b)->pt;
    return x > y ? -1 : x < y;
}

/* Fixed slots: jets 0-3, b-jets 4-7, then one each of e-, e+, m-, m+ (photons are not used). */
static long fill_fixed(float *rows, uint8_t *mask, hn_dm_event *ev)
{
    static const int first[HN_DM_KINDS] = { 0, 4, 8, 9, 10, 11, -1 }, slots[HN_DM_KINDS] = { 4, 4, 1, 1, 1, 1, 0 };
    int used[HN_DM_KINDS] = { 0 };
    long dropped = 0;
    memset(rows, 0, sizeof(float) * 12 * NFEAT);
    qsort(ev->objects, (size_t)ev->nobjects, sizeof *ev->objects, by_pt_desc);
    for (int i = 0; i < ev->nobjects; ++i) {
        int k = ev->objects[i].kind;
        if (used[k] >= slots[k]) { ++dropped; continue; }
        put(rows + (size_t)(first[k] + used[k]++) * NFEAT, &ev->objects[i]);
    }
    memset(mask, 1, 12);
    return dropped;
}

/* An object's 4-vector (px, py, pz, E) in GeV, for pair features and the SM interaction matrix. */
static void put_vector(float *v, const hn_dm_object *o)
{
    double pt = o->pt, eta = o->eta, phi = o->phi;
    v[0] = (float)(pt * cos(phi)), v[1] = (float)(pt * sin(phi)), v[2] = (float)(pt * sinh(eta)), v[3] = o->e;
}

static long fill_set(float *rows, uint8_t *mask, float *vectors, int max, hn_dm_event *ev)
{
    memset(rows, 0, sizeof(float) * (size_t)max * NFEAT);
    memset(mask, 0, (size_t)max);
    memset(vectors, 0, sizeof(float) * (size_t)max * 4);
    qsort(ev->objects, (size_t)ev->nobjects, sizeof *ev->objects, by_pt_desc);
    int n = ev->nobjects < max ? ev->nobjects : max;
    for (int i = 0; i < n; ++i) {
        put(rows + (size_t)i * NFEAT, &ev->objects[i]);
        put_vector(vectors + (size_t)i * 4, &ev->objects[i]);
        mask[i] = 1;
    }
    return ev->nobjects - n;
}

static hid_t dataset(hid_t f, const char *name, hid_t type, int rank, const hsize_t *dims, const void *data)
{
    hid_t sp = H5Screate_simple(rank, dims, NULL), pl = H5Pcreate(H5P_DATASET_CREATE);
    if (dims[0] > 0) {
        hsize_t chunk[3] = { dims[0] < 1024 ? dims[0] : 1024, rank > 1 ? dims[1] : 0, rank > 2 ? dims[2] : 0 };
        H5Pset_chunk(pl, rank, chunk);
        H5Pset_deflate(pl, 4);
    }
    hid_t lc = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lc, 1);
    hid_t d = H5Dcreate2(f, name, type, sp, lc, pl, H5P_DEFAULT);
    if (d >= 0 && dims[0] > 0) H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    H5Pclose(lc);
    H5Pclose(pl);
    H5Sclose(sp);
    return d;
}

static void names_attr(hid_t d, const char *const *names, int n)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, 16);
    char buf[16][16] = { { 0 } };
    for (int i = 0; i < n; ++i) snprintf(buf[i], 16, "%s", names[i]);
    hsize_t dim = (hsize_t)n;
    hid_t sp = H5Screate_simple(1, &dim, NULL), a = H5Acreate2(d, "names", type, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, type, buf);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(type);
}

static int write_h5(const char *path, const table *t, int fixed)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return hn_error_plain("%s: error: cannot create the output file", path);
    hsize_t d3[3] = { (hsize_t)t->n, (hsize_t)t->max, NFEAT }, dv[3] = { (hsize_t)t->n, (hsize_t)t->max, 4 }, d2[2] = { (hsize_t)t->n, (hsize_t)t->max },
            de[2] = { (hsize_t)t->n, 2 }, d1[1] = { (hsize_t)t->n };
    hid_t obj = dataset(f, "/objects/features", H5T_NATIVE_FLOAT, 3, d3, t->objects);
    int ok = obj >= 0;
    if (ok) { names_attr(obj, feature_names, NFEAT); H5Dclose(obj); }
    if (!fixed) {
        hid_t m = dataset(f, "/objects/mask", H5T_NATIVE_UINT8, 2, d2, t->mask), v = dataset(f, "/objects/vectors", H5T_NATIVE_FLOAT, 3, dv, t->vectors);
        ok &= m >= 0 && v >= 0;
        if (m >= 0) H5Dclose(m);
        if (v >= 0) H5Dclose(v);
    }
    static const char *const ev_names[2] = { "met", "met_phi" };
    hid_t ev = dataset(f, "/event/features", H5T_NATIVE_FLOAT, 2, de, t->event);
    ok &= ev >= 0;
    if (ev >= 0) { names_attr(ev, ev_names, 2); H5Dclose(ev); }
    hid_t l = dataset(f, "/labels", H5T_NATIVE_INT32, 1, d1, t->labels), w = dataset(f, "/weights", H5T_NATIVE_FLOAT, 1, d1, t->weights);
    ok &= l >= 0 && w >= 0;
    if (l >= 0) H5Dclose(l);
    if (w >= 0) H5Dclose(w);
    ok &= H5Fclose(f) >= 0;
    if (!ok || rename(tmp, path)) { unlink(tmp); return hn_error_plain("%s: error: cannot write the output file", path); }
    return 0;
}

int hn_cmd_convert(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[2], "iaformer")) return hn_cmd_convert_iaformer(argc, argv);
    if (argc < 3 || strcmp(argv[2], "darkmachines"))
        return hn_usage("convert", "the formats are 'darkmachines' (hepnc convert darkmachines IN.csv -o OUT.h5) and 'iaformer' "
                                   "(hepnc convert iaformer IN.h5 -o OUT.h5)");
    const char *in = NULL, *out = NULL, *layout = "fixed", *max_s = "18", *procs = NULL;
    for (int i = 3; i < argc; ++i) {
        const char *v;
        if (hn_opt(argc, argv, &i, "-o", &v) || hn_opt(argc, argv, &i, "--out", &v)) out = v;
        else if (hn_opt(argc, argv, &i, "--layout", &v)) layout = v;
        else if (hn_opt(argc, argv, &i, "--max", &v)) max_s = v;
        else if (hn_opt(argc, argv, &i, "--processes", &v)) procs = v;
        else if (argv[i][0] == '-') return hn_usage("convert", "unknown option '%s'", argv[i]);
        else if (!in) in = argv[i];
        else return hn_usage("convert", "unexpected argument '%s'", argv[i]);
    }
    if (!in || !out || !procs) return hn_usage("convert", "IN.csv, -o OUT.h5 and --processes A,B,… are required");
    int fixed = !strcmp(layout, "fixed");
    if (!fixed && strcmp(layout, "set")) return hn_usage("convert", "--layout is fixed or set");
    table t = { .max = fixed ? 12 : atoi(max_s) };
    if (t.max < 1 || t.max > 64) return hn_usage("convert", "--max must be 1 to 64");
    char plist[1024], *pnames[32];
    int np = 0;
    snprintf(plist, sizeof plist, "%s", procs);
    for (char *p = plist, *tok; np < 32 && (tok = strsep(&p, ","));) pnames[np++] = tok;

    char err[600];
    hn_dm_reader *r = hn_dm_open(in, err, sizeof err);
    if (!r) return hn_error_plain("%s", err), 1;
    hn_dm_event *ev = malloc(sizeof *ev);
    long dropped = 0;
    int rc = 0, got;
    while ((got = hn_dm_next(r, ev, err, sizeof err)) == 1) {
        int label = -1;
        for (int k = 0; k < np; ++k)
            if (!strcmp(ev->process, pnames[k])) label = k;
        if (label < 0) {
            hn_error_plain("%s:%ld: error: process '%s' is not in --processes (%s)", in, hn_dm_line(r), ev->process, procs);
            rc = 1;
            break;
        }
        if (grow(&t)) { hn_error_plain("hepnc convert: out of memory"); rc = 1; break; }
        float *rows = t.objects + (size_t)t.n * (size_t)t.max * NFEAT;
        uint8_t *mask = t.mask + (size_t)t.n * (size_t)t.max;
        float *vectors = t.vectors + (size_t)t.n * (size_t)t.max * 4;
        dropped += fixed ? fill_fixed(rows, mask, ev) : fill_set(rows, mask, vectors, t.max, ev);
        t.event[2 * t.n] = ev->met;
        t.event[2 * t.n + 1] = ev->met_phi;
        t.labels[t.n] = label;
        t.weights[t.n] = (float)ev->weight;
        ++t.n;
    }
    if (got < 0) { hn_error_plain("%s", err); rc = 1; }
    hn_dm_close(r);
    free(ev);
    if (!rc && !(rc = write_h5(out, &t, fixed) ? 1 : 0))
        fprintf(stderr, "hepnc convert: %ld events → %s (%s layout, %d object slots; %ld objects beyond the slots dropped)\n",
                t.n, out, layout, t.max, dropped);
    free(t.objects); free(t.mask); free(t.vectors); free(t.event); free(t.labels); free(t.weights);
    return rc;
}
