/* host.c — a C host of a hepnc SPANet object, as trigger or reconstruction software would hold one: the
 * model loaded once, events in the host's own arrays, NAME_infer for the assignment log-probabilities and
 * NAME_decode for each event's unique jet–parton assignment — no allocation on that path, nothing but the
 * generated files and libhepnc's weight loader. Built by examples/spanet_host/CMakeLists.txt with the C object
 * of models/spanet_small.yaml (full-hadronic ttbar: t1, t2 → q1 q2 b).
 *
 *   spanet_host WEIGHTS EVENTS.h5 [REFERENCE.h5]
 *
 * Reads the events in SPANet's layout (/INPUTS/Source/{mass,pt,eta,phi,btag}, /INPUTS/Source/MASK), runs them
 * in batches of 16, prints the first events' assignments and, with REFERENCE (the parity fixture's
 * expected.h5: upstream SPANet's own decoder, /t1/assignment_strict …), checks every event against it
 * (exit 1 on a difference). */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spanet_small.h"

enum { BATCH = 16, SLOTS = SPANET_SMALL_MAX_SOURCE, FEATURES = SPANET_SMALL_SOURCE_FEATURES };
static const char *const feature_names[FEATURES] = { "mass", "pt", "eta", "phi", "btag" };
static const char *const particles[SPANET_SMALL_PARTICLES] = { "t1", "t2" };

/* One dataset of the file as floats or ints; its length in *n. */
static void *read_all(hid_t file, const char *name, hid_t type, size_t *n)
{
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    if (d < 0) return NULL;
    hid_t s = H5Dget_space(d);
    *n = (size_t)H5Sget_simple_extent_npoints(s);
    void *buf = malloc(*n * 4 + 4);
    if (buf && H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) { free(buf); buf = NULL; }
    H5Sclose(s);
    H5Dclose(d);
    return buf;
}

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: %s WEIGHTS EVENTS.h5 [REFERENCE.h5]\n", argv[0]); return 2; }
    char err[1024];
    spanet_small_model model;
    if (spanet_small_load(&model, argv[1], err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }

    /* the host's events: features [E][SLOTS][FEATURES], real jets first, and their counts */
    hid_t file = H5Fopen(argv[2], H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) { fprintf(stderr, "%s: cannot open\n", argv[2]); return 1; }
    size_t n = 0;
    unsigned char *mask = read_all(file, "/INPUTS/Source/MASK", H5T_NATIVE_UCHAR, &n);
    int events = (int)(n / SLOTS);
    float *x = calloc((size_t)events * SLOTS * FEATURES, sizeof(float));
    int32_t *count = calloc((size_t)events, sizeof(int32_t));
    for (int f = 0; f < FEATURES; ++f) {
        char name[64];
        snprintf(name, sizeof name, "/INPUTS/Source/%s", feature_names[f]);
        float *col = read_all(file, name, H5T_NATIVE_FLOAT, &n);
        for (int e = 0; e < events; ++e)
            for (int j = 0; j < SLOTS; ++j) x[((size_t)e * SLOTS + j) * FEATURES + f] = col[(size_t)e * SLOTS + j];
        free(col);
    }
    for (int e = 0; e < events; ++e)
        for (int j = 0; j < SLOTS; ++j) count[e] += mask[(size_t)e * SLOTS + j] != 0;
    H5Fclose(file);

    /* the inference path: fixed buffers, allocated once */
    void *workspace = malloc(SPANET_SMALL_WORKSPACE_BYTES(BATCH));
    float *t1 = malloc(sizeof(float) * BATCH * SPANET_SMALL_T1_ASSIGNMENT_WIDTH);
    float *t2 = malloc(sizeof(float) * BATCH * SPANET_SMALL_T2_ASSIGNMENT_WIDTH);
    float *d1 = malloc(sizeof(float) * BATCH), *d2 = malloc(sizeof(float) * BATCH);
    int32_t *slots = malloc(sizeof(int32_t) * (size_t)events * SPANET_SMALL_PARTICLES * SPANET_SMALL_PRODUCTS_MAX);
    float *prob = malloc(sizeof(float) * (size_t)events * SPANET_SMALL_PARTICLES);
    long assigned = 0;
    for (int first = 0; first < events; first += BATCH) {
        int batch = events - first < BATCH ? events - first : BATCH;
        spanet_small_inputs in = { x + (size_t)first * SLOTS * FEATURES, count + first };
        spanet_small_outputs out = { t1, t2, d1, d2 };
        if (spanet_small_infer(&model, &in, batch, &out, workspace)) { fprintf(stderr, "infer failed\n"); return 1; }
        assigned += spanet_small_decode(&out, batch, slots + (size_t)first * SPANET_SMALL_PARTICLES * SPANET_SMALL_PRODUCTS_MAX,
                                        prob + (size_t)first * SPANET_SMALL_PARTICLES);
    }
    printf("%d events, %ld tops assigned\n", events, assigned);
    for (int e = 0; e < events && e < 4; ++e) {
        const int32_t *s = slots + (size_t)e * SPANET_SMALL_PARTICLES * SPANET_SMALL_PRODUCTS_MAX;
        printf("event %d (%d jets): t1 -> jets (%d, %d, %d) p = %.3f, t2 -> jets (%d, %d, %d) p = %.3f\n", e, count[e], s[0],
               s[1], s[2], prob[2 * e], s[3], s[4], s[5], prob[2 * e + 1]);
    }

    int bad = 0;
    if (argc > 3) {                       /* every event against upstream SPANet's decoder */
        hid_t ref = H5Fopen(argv[3], H5F_ACC_RDONLY, H5P_DEFAULT);
        for (int p = 0; p < SPANET_SMALL_PARTICLES && ref >= 0; ++p) {
            char name[64];
            snprintf(name, sizeof name, "/%s/assignment_strict", particles[p]);
            int32_t *want = read_all(ref, name, H5T_NATIVE_INT32, &n);
            for (int e = 0; want && e < events; ++e)
                for (int d = 0; d < 3; ++d) {
                    int32_t w = want[(size_t)e * 3 + d] == -2 ? -1 : want[(size_t)e * 3 + d];
                    bad += slots[((size_t)e * SPANET_SMALL_PARTICLES + p) * SPANET_SMALL_PRODUCTS_MAX + d] != w;
                }
            if (!want) bad = 1;
            free(want);
        }
        if (ref >= 0) H5Fclose(ref);
        else bad = 1;
        printf("against upstream SPANet's assignments: %s\n", bad ? "DIFFERENT" : "identical on every event");
    }
    spanet_small_release(&model);
    free(workspace), free(t1), free(t2), free(d1), free(d2), free(slots), free(prob), free(x), free(count), free(mask);
    return bad ? 1 : 0;
}
