/* cmd_convert_iaformer.c — `hepnc convert iaformer IN.h5 -o OUT.h5`: a set of 4-vectors in hepnc's layout
 * (/<set>/vectors [E, M, 4] px, py, pz, E in GeV, optional /<set>/mask, optional /labels; e.g. what
 * tools/gen/topqcd.py writes) into IAFormer's input: /particles/features [E, max, 11] with upstream's 11
 * particle features (templates/c/interaction.h, hn_k_ia_particle_features: the same kernel the parity test
 * checks against upstream's graph builder), /particles/vectors [E, max, 4] for the in-model pair features,
 * and /labels as upstream's is_signal (1 where the label is --signal-label, default 0: tools/gen/topqcd.py's
 * top jets; else 0), the target of its BCE and what a one-logit output's P(label 1) means. No mask is written: IAFormer reads every slot, padding rows are zero. Events stream in chunks;
 * the output is written to a temporary file and renamed, so a failure leaves nothing behind. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../templates/c/ia_features.h"
#include "commands.h"
#include "diag.h"

#define CHUNK 1024

static const char *const feature_names[HN_IA_PARTICLE_NUM] = { "e", "px", "py", "pz", "ln_pt", "ln_e", "ln_pt_rel",
                                                               "ln_e_rel", "delta_eta", "delta_phi", "delta_r" };

/* Reads (write 0) or writes (1) rows [first, first + count) of a float or integer dataset of rank `rank`, buf
 * holding them in memory as `type` (HDF5 converts). */
static int rows_io(hid_t d, hid_t type, int rank, hsize_t first, hsize_t count, const hsize_t *dims, void *buf, int write)
{
    hsize_t start[3] = { first, 0, 0 }, extent[3] = { count, rank > 1 ? dims[1] : 1, rank > 2 ? dims[2] : 1 };
    hid_t fs = H5Dget_space(d), ms = H5Screate_simple(rank, extent, NULL);
    int ok = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, extent, NULL) >= 0 &&
             (write ? H5Dwrite(d, type, ms, fs, H5P_DEFAULT, buf) : H5Dread(d, type, ms, fs, H5P_DEFAULT, buf)) >= 0;
    H5Sclose(ms);
    H5Sclose(fs);
    return ok ? 0 : -1;
}
static int read_rows(hid_t d, hid_t type, int rank, hsize_t first, hsize_t count, const hsize_t *dims, void *buf)
{
    return rows_io(d, type, rank, first, count, dims, buf, 0);
}
static int write_rows(hid_t d, hid_t type, int rank, hsize_t first, hsize_t count, const hsize_t *dims, void *buf)
{
    return rows_io(d, type, rank, first, count, dims, buf, 1);
}

static hid_t create(hid_t f, const char *name, hid_t type, int rank, const hsize_t *dims)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t sp = H5Screate_simple(rank, dims, NULL), d = H5Dcreate2(f, name, type, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Sclose(sp);
    H5Pclose(lcpl);
    return d;
}

static void names_attr(hid_t d)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, 16);
    char buf[HN_IA_PARTICLE_NUM][16] = { { 0 } };
    for (int i = 0; i < HN_IA_PARTICLE_NUM; ++i) snprintf(buf[i], 16, "%s", feature_names[i]);
    hsize_t dim = HN_IA_PARTICLE_NUM;
    hid_t sp = H5Screate_simple(1, &dim, NULL), a = H5Acreate2(d, "names", type, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, type, buf);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(type);
}

typedef struct source {
    hid_t f, vec, mask, labels;
    hsize_t dims[3];            /* of the vectors: [E, M, 4] */
} source;

static int open_source(const char *path, const char *set, source *s)
{
    char name[256];
    memset(s, 0, sizeof *s);
    s->mask = s->labels = -1;
    if ((s->f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) return hn_error_plain("%s: error: cannot open (not an HDF5 file?)", path);
    snprintf(name, sizeof name, "/%s/vectors", set);
    if ((s->vec = H5Dopen2(s->f, name, H5P_DEFAULT)) < 0)
        return hn_error_plain("%s: error: dataset %s is missing (a set of 4-vectors px, py, pz, E is needed)", path, name);
    hid_t sp = H5Dget_space(s->vec);
    int rank = H5Sget_simple_extent_dims(sp, s->dims, NULL);
    H5Sclose(sp);
    if (rank != 3 || s->dims[2] != 4)
        return hn_error_plain("%s: error: dataset %s must be [events, rows, 4] (px, py, pz, E)", path, name);
    snprintf(name, sizeof name, "/%s/mask", set);
    if (H5Lexists(s->f, name, H5P_DEFAULT) > 0) s->mask = H5Dopen2(s->f, name, H5P_DEFAULT);
    if (H5Lexists(s->f, "/labels", H5P_DEFAULT) > 0) s->labels = H5Dopen2(s->f, "/labels", H5P_DEFAULT);
    return 0;
}

static void close_source(source *s)
{
    if (s->labels >= 0) H5Dclose(s->labels);
    if (s->mask >= 0) H5Dclose(s->mask);
    if (s->vec > 0) H5Dclose(s->vec);
    if (s->f > 0) H5Fclose(s->f);
}

/* One chunk: the first min(real, max) rows of each event (real: the mask's prefix, else rows with E > 0). */
/* upstream's is_signal: 1 for the signal label, 0 otherwise */
static void chunk_labels(int32_t *labels, int count, int signal)
{
    for (int e = 0; e < count; ++e) labels[e] = labels[e] == signal;
}

static void chunk_features(const float *in, const uint8_t *mask, int count, int M, int max, float *vec, float *feat)
{
    memset(vec, 0, sizeof(float) * (size_t)count * (size_t)max * 4);
    for (int e = 0; e < count; ++e) {
        int rows = M < max ? M : max;
        for (int a = 0; a < rows; ++a) {
            const float *v = in + ((size_t)e * M + a) * 4;
            if (mask ? !mask[(size_t)e * M + a] : !(v[3] > 0.0f)) break;
            memcpy(vec + ((size_t)e * max + a) * 4, v, sizeof(float) * 4);
        }
        hn_k_ia_particle_features(vec + (size_t)e * max * 4, max, feat + (size_t)e * max * HN_IA_PARTICLE_NUM);
    }
}

static int convert(const char *in, const source *s, const char *out, int max, int signal)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", out, (long)getpid());
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return hn_error_plain("%s: error: cannot create the output file", out);
    hsize_t E = s->dims[0], M = s->dims[1], dv[3] = { E, (hsize_t)max, 4 }, df[3] = { E, (hsize_t)max, HN_IA_PARTICLE_NUM },
            dm[2] = { E, M }, d1[1] = { E };
    hid_t feat = create(f, "/particles/features", H5T_NATIVE_FLOAT, 3, df), vec = create(f, "/particles/vectors", H5T_NATIVE_FLOAT, 3, dv);
    hid_t lab = s->labels >= 0 ? create(f, "/labels", H5T_NATIVE_INT32, 1, d1) : -1;
    int ok = feat >= 0 && vec >= 0 && (s->labels < 0 || lab >= 0);
    if (ok) names_attr(feat);
    float *inb = malloc(sizeof(float) * CHUNK * M * 4), *vb = malloc(sizeof(float) * CHUNK * (size_t)max * 4),
          *fb = malloc(sizeof(float) * CHUNK * (size_t)max * HN_IA_PARTICLE_NUM);
    uint8_t *mb = malloc(CHUNK * M);
    int32_t *lb = malloc(sizeof(int32_t) * CHUNK);
    ok &= inb && vb && fb && mb && lb;
    for (hsize_t first = 0; ok && first < E; first += CHUNK) {
        hsize_t count = E - first < CHUNK ? E - first : CHUNK;
        ok = !read_rows(s->vec, H5T_NATIVE_FLOAT, 3, first, count, s->dims, inb) &&
             (s->mask < 0 || !read_rows(s->mask, H5T_NATIVE_UINT8, 2, first, count, dm, mb)) &&
             (s->labels < 0 || !read_rows(s->labels, H5T_NATIVE_INT32, 1, first, count, d1, lb));
        if (!ok) { hn_error_plain("%s: error: cannot read events %llu..%llu", in, (unsigned long long)first, (unsigned long long)(first + count - 1)); break; }
        chunk_features(inb, s->mask >= 0 ? mb : NULL, (int)count, (int)M, max, vb, fb);
        chunk_labels(lb, (int)count, signal);
        ok = !write_rows(feat, H5T_NATIVE_FLOAT, 3, first, count, df, fb) && !write_rows(vec, H5T_NATIVE_FLOAT, 3, first, count, dv, vb) &&
             (lab < 0 || !write_rows(lab, H5T_NATIVE_INT32, 1, first, count, d1, lb));
    }
    free(inb); free(vb); free(fb); free(mb); free(lb);
    if (feat >= 0) H5Dclose(feat);
    if (vec >= 0) H5Dclose(vec);
    if (lab >= 0) H5Dclose(lab);
    ok &= H5Fclose(f) >= 0;
    if (!ok || rename(tmp, out)) { unlink(tmp); return hn_error_plain("%s: error: cannot write the output file", out); }
    if (s->labels >= 0)
        printf("wrote %s (%llu events, %d rows of IAFormer's 11 particle features and 4-vectors, labels 1 = label %d)\n", out,
               (unsigned long long)E, max, signal);
    else
        printf("wrote %s (%llu events, %d rows of IAFormer's 11 particle features and 4-vectors)\n", out, (unsigned long long)E, max);
    return 0;
}

int hn_cmd_convert_iaformer(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *set = "particles", *max_s = "128", *signal_s = "0";
    for (int i = 3; i < argc; ++i) {
        const char *v;
        if (hn_opt(argc, argv, &i, "-o", &v) || hn_opt(argc, argv, &i, "--out", &v)) out = v;
        else if (hn_opt(argc, argv, &i, "--set", &v)) set = v;
        else if (hn_opt(argc, argv, &i, "--max", &v)) max_s = v;
        else if (hn_opt(argc, argv, &i, "--signal-label", &v)) signal_s = v;
        else if (argv[i][0] == '-') return hn_usage("convert", "unknown option '%s'", argv[i]);
        else if (!in) in = argv[i];
        else return hn_usage("convert", "unexpected argument '%s'", argv[i]);
    }
    if (!in || !out) return hn_usage("convert", "IN.h5 and -o OUT.h5 are required (hepnc convert iaformer IN.h5 -o OUT.h5)");
    int max = atoi(max_s);
    if (max < 1 || max > 4096) return hn_usage("convert", "--max must be 1 to 4096");
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    source s;
    int rc = open_source(in, set, &s) || convert(in, &s, out, max, atoi(signal_s));
    close_source(&s);
    return rc ? 1 : 0;
}
