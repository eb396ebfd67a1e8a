/* spanet_eval.c — see spanet_eval.h. */
#include "spanet_eval.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "fsutil.h"
#include "hepnc/assign.h"
#include "infer_io.h"
#include "scorer.h"
#include "spanet_decode.h"
#include "topology.h"

/* What the report needs of the topology, in hn_assign_topology's form. */
typedef struct eval_topology {
    hn_assign_topology t;
    int degree[HN_SPANET_MAX_PARTICLES];
    int8_t orbit[HN_SPANET_MAX_PARTICLES * HN_ASSIGN_MAX_DEGREE];
    int *perms;                 /* |G_E| × m */
    int offset[HN_SPANET_MAX_PARTICLES + 1], members[HN_SPANET_MAX_PARTICLES];
    char cluster[HN_SPANET_MAX_PARTICLES][64];
    char particle[HN_SPANET_MAX_PARTICLES][64];
    char product[HN_SPANET_MAX_PARTICLES][HN_ASSIGN_MAX_DEGREE][64];
} eval_topology;

static int eval_topology_from(const hn_topology *src, eval_topology *e, int kmax)
{
    memset(e, 0, sizeof *e);
    int m = src->nparticles;
    for (int p = 0; p < m; ++p) {
        const hn_topo_particle *tp = &src->particles[p];
        e->degree[p] = tp->nproducts;
        snprintf(e->particle[p], sizeof e->particle[p], "%s", tp->name);
        for (int d = 0; d < tp->nproducts; ++d) {
            snprintf(e->product[p][d], sizeof e->product[p][d], "%s", tp->products[d].name);
            int label = d;                      /* the smallest product of d's orbit under G_p */
            for (int g = 0; g < tp->group.order; ++g)
                if (tp->group.elements[g * tp->nproducts + d] < label) label = tp->group.elements[g * tp->nproducts + d];
            e->orbit[p * kmax + d] = (int8_t)label;
        }
        for (int d = tp->nproducts; d < kmax; ++d) e->orbit[p * kmax + d] = (int8_t)d;
    }
    if (!(e->perms = malloc(sizeof(int) * (size_t)src->event_group.order * (size_t)m))) return -1;
    memcpy(e->perms, src->event_group.elements, sizeof(int) * (size_t)src->event_group.order * (size_t)m);
    int k = 0;
    for (int c = 0; c < src->nclusters; ++c) {
        e->offset[c] = k;
        for (int i = 0; i < src->clusters[c].nmembers; ++i) e->members[k++] = src->clusters[c].members[i];
        snprintf(e->cluster[c], sizeof e->cluster[c], "%s", src->clusters[c].name);
    }
    e->offset[src->nclusters] = k;
    e->t = (hn_assign_topology){ m, kmax, e->degree, e->orbit, src->event_group.order, e->perms, src->nclusters, e->offset,
                                 e->members };
    return 0;
}

/* /TARGETS/<p>/<product> (integers [E]) into target[e][p][d]; /TARGETS/<p>/MASK (optional) into mask. */
static int read_targets(const char *path, const eval_topology *et, int64_t E, int32_t *target, uint8_t *mask, int *have_mask)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return hn_error_plain("%s: error: cannot open", path);
    int m = et->t.n_particles, kmax = et->t.kmax, rc = 0;
    int64_t *buf = malloc(sizeof(int64_t) * (size_t)(E ? E : 1));
    *have_mask = 1;
    for (int p = 0; p < m && !rc && buf; ++p) {
        for (int d = 0; d < kmax; ++d)
            for (int64_t e = 0; e < E; ++e) target[(e * m + p) * kmax + d] = -1;
        for (int d = 0; d < et->degree[p] && !rc; ++d) {
            char name[256];
            snprintf(name, sizeof name, "/TARGETS/%s/%s", et->particle[p], et->product[p][d]);
            hid_t ds = H5Lexists(f, "/TARGETS", H5P_DEFAULT) > 0 ? H5Dopen2(f, name, H5P_DEFAULT) : -1;
            if (ds < 0) { rc = hn_error_plain("%s: error: no dataset %s to evaluate the assignments against (SPANet's layout)", path, name); break; }
            hid_t sp = H5Dget_space(ds);
            hsize_t n = 0;
            if (H5Sget_simple_extent_ndims(sp) != 1 || (H5Sget_simple_extent_dims(sp, &n, NULL), (int64_t)n != E) ||
                H5Dread(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
                rc = hn_error_plain("%s: error: %s must hold %lld integers, one per event", path, name, (long long)E);
            for (int64_t e = 0; e < E && !rc; ++e) target[(e * m + p) * kmax + d] = (int32_t)buf[e];
            H5Sclose(sp);
            H5Dclose(ds);
        }
        char mname[256];
        snprintf(mname, sizeof mname, "/TARGETS/%s/MASK", et->particle[p]);
        if (rc || H5Lexists(f, mname, H5P_DEFAULT) <= 0) { *have_mask = 0; continue; }
        hid_t ds = H5Dopen2(f, mname, H5P_DEFAULT);
        uint8_t *mk = malloc((size_t)(E ? E : 1));
        if (!mk || H5Dread(ds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, mk) < 0)
            rc = hn_error_plain("%s: error: cannot read %s", path, mname);
        for (int64_t e = 0; e < E && !rc; ++e) mask[e * m + p] = mk[e] != 0;
        free(mk);
        H5Dclose(ds);
    }
    if (!buf) rc = hn_error_plain("hepnc eval: error: out of memory");
    free(buf);
    H5Fclose(f);
    return rc;
}

/* Runs the model and the decoder over every event: pred [E][m][kmax], jets [E] (the vectors, as upstream
 * counts them: the assignable ones plus one per GLOBAL input). */
static int predict(const hn_spanet_eval_options *o, hn_model_build *mb, int64_t *events, int32_t **pred, int32_t **jets)
{
    hn_spanet_decoder dec;
    if (hn_spanet_decoder_init(&dec, &mb->graph)) return -1;
    if (!dec.m) return hn_error_plain("hepnc eval: error: %s outputs no <particle>.assignment to evaluate", o->spec);
    int set = mb->graph.tensors[mb->graph.outputs[dec.assign_out[0]]].shape.set, nglobal = 0;
    for (int i = 0; i < mb->graph.topology->ninputs; ++i) nglobal += mb->graph.topology->inputs[i].kind == HN_TOPO_GLOBAL;
    hn_loaded_model lm;
    int rc = o->gpu ? hn_build_and_open_gpu(mb, &lm) : hn_build_and_open(mb, 1, &lm);
    if (rc) { hn_loaded_model_close(&lm); hn_spanet_decoder_free(&dec); return -1; }
    const hn_model_entry *m = lm.entry;
    char err[1024];
    hn_scorer s;
    hn_infer_buffers b;
    memset(&b, 0, sizeof b);
    hn_dataset *ds = NULL;
    int opened = 0;
    rc = -1;
    if (hn_scorer_open(&s, &lm, o->weights, o->batch, err, sizeof err)) { fprintf(stderr, "%s\n", err); goto done; }
    opened = 1;
    if (!(ds = hn_dataset_open(o->data, err, sizeof err))) { fprintf(stderr, "%s\n", err); goto done; }
    int64_t E = hn_dataset_events(ds);
    *events = E;
    *pred = malloc(sizeof(int32_t) * (size_t)(E ? E : 1) * dec.m * dec.kmax);
    *jets = malloc(sizeof(int32_t) * (size_t)(E ? E : 1));
    if (!*pred || !*jets || hn_scorer_buffers(&s, &b) || hn_spanet_decoder_alloc(&dec, o->batch, err, sizeof err)) {
        fprintf(stderr, "hepnc eval: error: out of memory\n");
        goto done;
    }
    for (int64_t first = 0; first < E; first += o->batch) {
        int count = (int)(E - first < o->batch ? E - first : o->batch);
        if (hn_read_inputs(ds, m, first, count, &b, err, sizeof err) || hn_scorer_run(&s, &b, count, err, sizeof err) ||
            hn_spanet_decoder_decode(&dec, b.y, count, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            goto done;
        }
        memcpy(*pred + first * dec.m * dec.kmax, dec.slots, sizeof(int32_t) * (size_t)count * dec.m * dec.kmax);
        /* upstream's num_vectors: the assignable vectors plus one per GLOBAL input */
        for (int e = 0; e < count; ++e) (*jets)[first + e] = (b.n[set] ? b.n[set][e] : m->inputs[set].max) + nglobal;
    }
    rc = 0;
done:
    hn_free_buffers(m, &b);
    if (ds) hn_dataset_close(ds);
    if (opened) hn_scorer_close(&s);
    hn_loaded_model_close(&lm);
    hn_spanet_decoder_free(&dec);
    return rc;
}

/* One jet-multiplicity slice: its name and which events it holds. */
typedef struct slice { char name[32]; uint8_t *in; int64_t count; } slice;

/* path written through a temporary file in its folder, renamed into place. */
static int write_whole(const char *path, const char *data, size_t len)
{
    char dir[4096], name[1024], out[5200];
    const char *slash = strrchr(path, '/');
    if (slash) snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path), snprintf(name, sizeof name, "%s", slash + 1);
    else snprintf(dir, sizeof dir, "."), snprintf(name, sizeof name, "%s", path);
    return hn_write_file_atomic(dir[0] ? dir : "/", name, data, len, out);
}

static void print_value(FILE *f, double v, int json)
{
    if (isnan(v)) fputs(json ? "null" : "  N/A ", f);
    else fprintf(f, json ? "%.6f" : "%6.3f", v);
}

/* Event types: every cluster's count in −1 ('*') .. |cluster|, the first cluster slowest (upstream's
 * itertools.product order). Returns the number of types; counts[type][cluster]. */
static int event_types(const eval_topology *et, int (*counts)[HN_SPANET_MAX_PARTICLES], int cap)
{
    int nc = et->t.n_clusters, n = 1;
    for (int c = 0; c < nc; ++c) n *= et->offset[c + 1] - et->offset[c] + 2;
    if (n > cap) n = cap;
    for (int i = 0; i < n; ++i)
        for (int c = nc - 1, r = i; c >= 0; --c) {
            int size = et->offset[c + 1] - et->offset[c] + 2;
            counts[i][c] = r % size - 1;
            r /= size;
        }
    return n;
}

static void type_name(const eval_topology *et, const int *count, char *dst, size_t n)
{
    size_t k = 0;
    dst[0] = 0;
    for (int c = 0; c < et->t.n_clusters && k < n; ++c) {
        if (count[c] < 0) k += (size_t)snprintf(dst + k, n - k, "*%s", et->cluster[c]);
        else k += (size_t)snprintf(dst + k, n - k, "%d%s", count[c], et->cluster[c]);
    }
}

/* One (event type, slice) entry of the report. */
typedef struct report_cell {
    int64_t n;                  /* events of the type in the slice */
    double proportion, event_purity, purity[HN_SPANET_MAX_PARTICLES];
} report_cell;

/* The slices of the number of vectors: == n_min … == n_min + lines − 1, >= n_min + lines, all. */
static int make_slices(int lines, int32_t nmin, const int32_t *jets, int64_t E, slice *sl, int cap)
{
    int ns = 0;
    for (int i = 0; i <= lines + 1 && ns < cap; ++i, ++ns) {
        sl[ns].count = 0;
        if (!(sl[ns].in = malloc((size_t)(E ? E : 1)))) return -1;
        if (i < lines) snprintf(sl[ns].name, sizeof sl[ns].name, "== %d", nmin + i);
        else if (i == lines) snprintf(sl[ns].name, sizeof sl[ns].name, ">= %d", nmin + lines);
        else snprintf(sl[ns].name, sizeof sl[ns].name, "all");
        for (int64_t e = 0; e < E; ++e) {
            sl[ns].in[e] = i < lines ? jets[e] == nmin + i : i == lines ? jets[e] >= nmin + lines : 1;
            sl[ns].count += sl[ns].in[e];
        }
    }
    return ns;
}

/* Every (type, slice) cell, computed once: upstream filters the slice first, then the type. *any[t]: the type
 * has events in some slice. */
static int compute_cells(const eval_topology *et, int64_t E, const int32_t *pred, const int32_t *target,
                         const uint8_t *mask, int (*counts)[HN_SPANET_MAX_PARTICLES], int ntypes, const slice *sl,
                         int ns, report_cell *cells, uint8_t *any)
{
    uint8_t *sel = malloc((size_t)(E ? E : 1)), *type_sel = malloc((size_t)(E ? E : 1));
    int rc = !sel || !type_sel ? hn_error_plain("hepnc eval: error: out of memory") : 0;
    for (int t = 0; t < ntypes && !rc; ++t) {
        hn_assign_category_select(&et->t, E, target, mask, counts[t], type_sel);
        any[t] = 0;
        for (int64_t e = 0; e < E; ++e) any[t] |= type_sel[e];
        for (int s = 0; s < ns && !rc; ++s) {
            report_cell *cell = &cells[(size_t)t * ns + s];
            cell->n = 0;
            for (int64_t e = 0; e < E; ++e) cell->n += (sel[e] = type_sel[e] && sl[s].in[e]);
            cell->proportion = sl[s].count ? (double)cell->n / (double)sl[s].count : NAN;
            if (hn_assign_event_purity(&et->t, E, pred, target, mask, sel, &cell->event_purity, NULL, NULL) ||
                hn_assign_cluster_purity(&et->t, E, pred, target, mask, sel, cell->purity, NULL, NULL))
                rc = hn_error_plain("hepnc eval: error: the purities rejected the topology");
        }
    }
    free(sel);
    free(type_sel);
    return rc;
}

/* The cells under upstream's keys ("2t/event_purity", …), one object per slice. */
static void write_json(FILE *json, const eval_topology *et, int (*counts)[HN_SPANET_MAX_PARTICLES], int ntypes,
                       const slice *sl, int ns, int64_t E, const report_cell *cells)
{
    fputs("{\n", json);
    for (int s = 0; s < ns; ++s) {
        fprintf(json, "%s  \"%s\": {\"event_jet_proportion\": %.6f", s ? ",\n" : "", sl[s].name,
                E ? (double)sl[s].count / (double)E : 0.0);
        for (int t = 0; t < ntypes; ++t) {
            const report_cell *cell = &cells[(size_t)t * ns + s];
            char name[256];
            type_name(et, counts[t], name, sizeof name);
            fprintf(json, ", \"%s/event_proportion\": ", name);
            print_value(json, cell->proportion, 1);
            fprintf(json, ", \"%s/event_purity\": ", name);
            print_value(json, cell->event_purity, 1);
            for (int c = 0; c < et->t.n_clusters; ++c) {
                fprintf(json, ", \"%s/%s_purity\": ", name, et->cluster[c]);
                print_value(json, cell->purity[c], 1);
            }
        }
        fputs("}", json);
    }
    fputs("\n}\n", json);
}

/* The table: one block per event type with events, one row per slice. */
static void print_table(const eval_topology *et, int (*counts)[HN_SPANET_MAX_PARTICLES], int ntypes, const slice *sl,
                        int ns, const report_cell *cells, const uint8_t *any)
{
    for (int t = 0; t < ntypes; ++t) {
        if (!any[t]) continue;
        char name[256];
        type_name(et, counts[t], name, sizeof name);
        printf("\nevent type %s\n  %-8s %8s %12s %13s", name, "jets", "events", "event prop.", "event purity");
        for (int c = 0; c < et->t.n_clusters; ++c) {
            char head[96];
            snprintf(head, sizeof head, "%s purity", et->cluster[c]);
            printf(" %13s", head);
        }
        putchar('\n');
        for (int s = 0; s < ns; ++s) {
            const report_cell *cell = &cells[(size_t)t * ns + s];
            printf("  %-8s %8lld       ", sl[s].name, (long long)cell->n);
            print_value(stdout, cell->proportion, 0);
            printf("        ");
            print_value(stdout, cell->event_purity, 0);
            for (int c = 0; c < et->t.n_clusters; ++c) {
                printf("        ");
                print_value(stdout, cell->purity[c], 0);
            }
            putchar('\n');
        }
    }
}

static int report(const hn_spanet_eval_options *o, const eval_topology *et, int64_t E, const int32_t *pred,
                  const int32_t *target, const uint8_t *mask, const int32_t *jets)
{
    enum { MAX_TYPES = 4096, MAX_SLICES = 16 };
    static int counts[MAX_TYPES][HN_SPANET_MAX_PARTICLES];
    int ntypes = event_types(et, counts, MAX_TYPES);
    int32_t nmin = INT32_MAX, nmax = 0;
    for (int64_t e = 0; e < E; ++e) {
        nmin = jets[e] < nmin ? jets[e] : nmin;
        nmax = jets[e] > nmax ? jets[e] : nmax;
    }
    slice sl[MAX_SLICES];
    int ns = make_slices(o->lines, nmin, jets, E, sl, MAX_SLICES);
    report_cell *cells = ns > 0 ? malloc(sizeof *cells * (size_t)ntypes * (size_t)ns) : NULL;
    uint8_t *any = malloc((size_t)ntypes);
    int rc = !cells || !any ? hn_error_plain("hepnc eval: error: out of memory") : 0;
    if (!rc) rc = compute_cells(et, E, pred, target, mask, counts, ntypes, sl, ns, cells, any);
    if (!rc) {
        printf("events           %lld, %d to %d vectors (upstream's num_vectors: globals included)\n", (long long)E, nmin, nmax);
        print_table(et, counts, ntypes, sl, ns, cells, any);
    }
    if (!rc && o->json) {                /* written atomically */
        char *text = NULL;
        size_t text_len = 0;
        FILE *json = open_memstream(&text, &text_len);
        if (!json) rc = hn_error_plain("hepnc eval: error: out of memory");
        else {
            write_json(json, et, counts, ntypes, sl, ns, E, cells);
            fclose(json);
            if (write_whole(o->json, text, text_len)) rc = hn_error_plain("hepnc eval: error: cannot write %s", o->json);
            else printf("\nJSON             %s\n", o->json);
        }
        free(text);
    }
    free(cells);
    free(any);
    for (int s = 0; s < (ns > 0 ? ns : 0); ++s) free(sl[s].in);
    return rc;
}

int hn_spanet_eval(const hn_spanet_eval_options *o, hn_model_build *mb)
{
    const hn_topology *src = mb->graph.topology;
    eval_topology et;
    int kmax = 0, m = src->nparticles, rc = 1;
    for (int p = 0; p < m; ++p) kmax = src->particles[p].nproducts > kmax ? src->particles[p].nproducts : kmax;
    int32_t *pred = NULL, *jets = NULL, *target = NULL;
    uint8_t *mask = NULL;
    int64_t E = 0;
    if (m > HN_SPANET_MAX_PARTICLES || eval_topology_from(src, &et, kmax)) {
        hn_model_build_free(mb);
        return hn_error_plain("hepnc eval: error: the topology is too large to evaluate"), 1;
    }
    int failed = predict(o, mb, &E, &pred, &jets);
    hn_model_build_free(mb);
    if (!failed) {
        target = malloc(sizeof(int32_t) * (size_t)(E ? E : 1) * m * kmax);
        mask = malloc((size_t)(E ? E : 1) * m);
        int have_mask = 0;
        if (!target || !mask) hn_error_plain("hepnc eval: error: out of memory");
        else if (!read_targets(o->data, &et, E, target, mask, &have_mask) &&
                 !report(o, &et, E, pred, target, have_mask ? mask : NULL, jets))
            rc = 0;
    }
    free(pred);
    free(jets);
    free(target);
    free(mask);
    free(et.perms);
    return rc;
}
