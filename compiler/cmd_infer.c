/* cmd_infer.c — `hepnc infer`: build the spec's code (cached), run it over an HDF5 dataset in
 * batches, write the outputs to an HDF5 file (atomically). --gpu: the spec's GPU object instead
 * (scorer.h), on device 0 or, with HEPNC_GPU_EMULATE=1, the emulated GPU. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* OpenBLAS's own control (the hepnc executable links OpenBLAS). */
void openblas_set_num_threads(int num_threads);

#include <hepnc/data.h>

#include "build.h"
#include "commands.h"
#include "infer_io.h"
#include "spanet_decode.h"
#include "scorer.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int run(hn_scorer *s, hn_dataset *ds, hn_scores_file *sf, hn_spanet_decoder *dec, int batch)
{
    char err[1024];
    hn_infer_buffers b;
    const hn_model_entry *m = s->m;
    int64_t events = hn_dataset_events(ds);
    int rc = hn_scorer_buffers(s, &b);
    if (rc) { hn_free_buffers(m, &b); return hn_error_plain("hepnc: error: out of memory for batch %d", batch); }
    double t0 = now(), last = t0, compute = 0;
    for (int64_t first = 0; first < events && !rc; first += batch) {
        int count = (int)(events - first < batch ? events - first : batch);
        if (hn_read_inputs(ds, m, first, count, &b, err, sizeof err)) { rc = hn_error_plain("%s", err); break; }
        double c0 = now();
        int status = hn_scorer_run(s, &b, count, err, sizeof err);
        compute += now() - c0;
        if (status) {
            rc = hn_error_plain("hepnc: error: events %lld..%lld: %s", (long long)first, (long long)(first + count - 1), err);
            break;
        }
        for (int o = 0; o < m->noutputs && !rc; ++o)
            if (hn_scores_write(sf, o, first, count, b.y[o], err, sizeof err)) rc = hn_error_plain("%s", err);
        if (!rc && hn_spanet_decoder_run(dec, sf, b.y, first, count, err, sizeof err)) rc = hn_error_plain("%s", err);
        if (!rc && hn_dataset_has_labels(ds)) {
            if (hn_dataset_read_labels(ds, first, count, b.labels, err, sizeof err) ||
                hn_scores_write_labels(sf, first, count, b.labels, err, sizeof err))
                rc = hn_error_plain("%s", err);
        }
        if (now() - last > 1.0) {
            last = now();
            fprintf(stderr, "\rhepnc infer: %lld / %lld events", (long long)(first + count), (long long)events);
        }
    }
    if (last != t0) fputc('\n', stderr);
    if (!rc)
        fprintf(stderr, "hepnc infer: %lld events in %.3f s (model %.3f s, %.0f events/s), batch %d\n",
                (long long)events, now() - t0, compute, compute > 0 ? (double)events / compute : 0.0, batch);
    hn_free_buffers(m, &b);
    return rc;
}

int hn_cmd_infer(int argc, char **argv)
{
    const char *spec = NULL, *weights = NULL, *data = NULL, *out = NULL, *batch_s = "256", *blas = "openblas";
    const char *threads_s = "1";
    int gpu = 0;
    for (int i = 2; i < argc; ++i) {
        const char *v;
        if (!strcmp(argv[i], "--gpu")) gpu = 1;
        else if (hn_opt(argc, argv, &i, "--weights", &v)) weights = v;
        else if (hn_opt(argc, argv, &i, "--data", &v)) data = v;
        else if (hn_opt(argc, argv, &i, "--out", &v) || hn_opt(argc, argv, &i, "-o", &v)) out = v;
        else if (hn_opt(argc, argv, &i, "--batch", &v)) batch_s = v;
        else if (hn_opt(argc, argv, &i, "--blas", &v)) blas = v;
        else if (hn_opt(argc, argv, &i, "--threads", &v)) threads_s = v;
        else if (argv[i][0] == '-') return hn_usage("infer", "unknown option '%s'", argv[i]);
        else if (!spec) spec = argv[i];
        else return hn_usage("infer", "unexpected argument '%s'", argv[i]);
    }
    if (!spec || !weights || !data || !out) return hn_usage("infer", "SPEC, --weights, --data and --out are required");
    int batch = atoi(batch_s), threads = atoi(threads_s);
    if (threads < 1 || threads > 256) return hn_usage("infer", "--threads must be 1 to 256");
    if (batch < 1) return hn_usage("infer", "--batch must be a positive integer");
    if (strcmp(blas, "openblas") && strcmp(blas, "none")) return hn_usage("infer", "--blas is openblas or none");
    if (gpu && threads > 1) return hn_usage("infer", "--threads is for the CPU, not with --gpu");

    hn_model_build mb;
    if (hn_frontend(&mb, spec, NULL)) { hn_model_build_free(&mb); return 1; }
    hn_spanet_decoder dec;              /* SPANet specs: the decoded assignments, written beside the outputs */
    if (hn_spanet_decoder_init(&dec, &mb.graph)) { hn_model_build_free(&mb); return 1; }
    hn_loaded_model lm;
    /* threads > 1: events are spread over OpenMP threads (the generated per-event loops), each calling a
       single-threaded BLAS, so the two kinds of threads do not oversubscribe the cores */
    char nthreads[16];
    snprintf(nthreads, sizeof nthreads, "%d", threads);
    setenv("OMP_NUM_THREADS", nthreads, 1);
    if (threads > 1) openblas_set_num_threads(1);
    int rc = gpu ? hn_build_and_open_gpu(&mb, &lm)
                 : hn_build_and_open_with(&mb, strcmp(blas, "openblas") == 0, threads > 1 ? "-fopenmp" : "", &lm);
    hn_model_build_free(&mb);
    if (rc) { hn_loaded_model_close(&lm); hn_spanet_decoder_free(&dec); return 1; }
    const hn_model_entry *m = lm.entry;

    char err[1024], where[512];
    hn_scorer s;
    hn_dataset *ds = NULL;
    hn_scores_file *sf = NULL;
    int opened = 0;
    rc = 1;
    if (hn_scorer_open(&s, &lm, weights, batch, err, sizeof err)) { fprintf(stderr, "%s\n", err); goto done; }
    opened = 1;   /* hn_scorer_close at the end */
    hn_scorer_describe(&s, where, sizeof where);
    fprintf(stderr, "hepnc infer: model '%s' (%s) on %s\n", m->name, lm.cached ? "cached build" : "built", where);
    if (!(ds = hn_dataset_open(data, err, sizeof err))) { fprintf(stderr, "%s\n", err); goto done; }
    const char *names[16];
    int widths[16];
    for (int o = 0; o < m->noutputs; ++o) { names[o] = m->outputs[o].name; widths[o] = m->outputs[o].width; }
    if (!(sf = hn_scores_create(out, hn_dataset_events(ds), m->noutputs, names, widths, err, sizeof err))) {
        fprintf(stderr, "%s\n", err);
        goto done;
    }
    if (hn_spanet_decoder_open(&dec, sf, batch, err, sizeof err)) { fprintf(stderr, "%s\n", err); goto done; }
    int failed = run(&s, ds, sf, &dec, batch);
    if (hn_scores_close(sf, !failed, err, sizeof err)) { fprintf(stderr, "%s\n", err); failed = 1; }
    sf = NULL;
    if (!failed) { fprintf(stderr, "hepnc infer: wrote %s\n", out); rc = 0; }
done:
    if (sf) hn_scores_close(sf, 0, err, sizeof err);
    if (ds) hn_dataset_close(ds);
    if (opened) hn_scorer_close(&s);
    hn_loaded_model_close(&lm);
    hn_spanet_decoder_free(&dec);
    return rc;
}
