/* cmd_eval.c — `hepnc eval`: runs the spec's code over a labelled dataset and prints the classifier
 * metrics physicists quote: accuracy, AUC of a signal class against a background class with the
 * discriminant p_s/(p_s + p_b) (the ratio weaver's taggers use, e.g. top vs QCD from a JetClass model),
 * and, at ε_S = 0.3, 0.5, 0.7, the background rejection 1/ε_B with the expected significance of the
 * working point, s/√b and s/√(b + (δb)²) (hepnc/significance.h); optionally the ROC as CSV and PNG.
 * --gpu scores the events with the spec's GPU object (scorer.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include <hepnc/metrics.h>
#include <hepnc/significance.h>

#include "build.h"
#include "commands.h"
#include "infer_io.h"
#include "plot.h"
#include "scorer.h"
#include "spanet_eval.h"

typedef struct eval_options {
    const char *spec, *weights, *data, *roc, *roc_png, *output, *json;
    int signal_class, background_class, signal_label, signal_label_given, batch, gpu, lines;
    double signal_yield, background_yield, rel_unc;   /* yields < 0: the dataset's counts */
} eval_options;

static int number(const char *flag, const char *text, double lo, double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (!*text || *end || !(v >= lo) || isinf(v)) return hn_usage("eval", "%s wants a number >= %g, got '%s'", flag, lo, text);
    *out = v;
    return 0;
}

static int parse(int argc, char **argv, eval_options *o)
{
    const char *sc = "0", *bc = "1", *sl = NULL, *batch = "256", *sy = NULL, *by = NULL, *unc = "0.2", *lines = "2";
    memset(o, 0, sizeof *o);
    for (int i = 2; i < argc; ++i) {
        const char *v;
        if (!strcmp(argv[i], "--gpu")) o->gpu = 1;
        else if (hn_opt(argc, argv, &i, "--weights", &v)) o->weights = v;
        else if (hn_opt(argc, argv, &i, "--data", &v)) o->data = v;
        else if (hn_opt(argc, argv, &i, "--roc", &v)) o->roc = v;
        else if (hn_opt(argc, argv, &i, "--roc-png", &v)) o->roc_png = v;
        else if (hn_opt(argc, argv, &i, "--signal-yield", &v)) sy = v;
        else if (hn_opt(argc, argv, &i, "--background-yield", &v)) by = v;
        else if (hn_opt(argc, argv, &i, "--bkg-uncertainty", &v)) unc = v;
        else if (hn_opt(argc, argv, &i, "--output", &v)) o->output = v;
        else if (hn_opt(argc, argv, &i, "--signal-class", &v)) sc = v;
        else if (hn_opt(argc, argv, &i, "--background-class", &v)) bc = v;
        else if (hn_opt(argc, argv, &i, "--signal-label", &v)) sl = v;
        else if (hn_opt(argc, argv, &i, "--batch", &v)) batch = v;
        else if (hn_opt(argc, argv, &i, "--json", &v)) o->json = v;
        else if (hn_opt(argc, argv, &i, "--lines", &v)) lines = v;
        else if (argv[i][0] == '-') return hn_usage("eval", "unknown option '%s'", argv[i]);
        else if (!o->spec) o->spec = argv[i];
        else return hn_usage("eval", "unexpected argument '%s'", argv[i]);
    }
    if (!o->spec || !o->weights || !o->data) return hn_usage("eval", "SPEC, --weights and --data are required");
    o->signal_class = atoi(sc);
    o->background_class = atoi(bc);
    o->signal_label = sl ? atoi(sl) : o->signal_class;
    o->signal_label_given = sl != NULL;
    o->batch = atoi(batch);
    if (o->batch < 1) return hn_usage("eval", "--batch must be positive");
    o->lines = atoi(lines);
    if (o->lines < 0 || o->lines > 12) return hn_usage("eval", "--lines must be 0 to 12");
    o->signal_yield = o->background_yield = -1;
    if ((sy && number("--signal-yield", sy, 0, &o->signal_yield)) ||
        (by && number("--background-yield", by, 0, &o->background_yield)) ||
        number("--bkg-uncertainty", unc, 0, &o->rel_unc))
        return 2;
    return 0;
}

/* The output to evaluate: --output, else "scores", else the first. */
static int pick_output(const hn_model_entry *m, const char *name)
{
    for (int k = 0; k < m->noutputs; ++k)
        if (!strcmp(m->outputs[k].name, name ? name : "scores")) return k;
    return name ? -1 : 0;
}

/* The ROC as CSV (--roc) and PNG (--roc-png; from a temporary CSV when no --roc). */
static void write_roc(const eval_options *o, const float *disc, const int8_t *sig, int64_t E)
{
    char err[512], tmp[4200];
    const char *csv = o->roc;
    if (!csv && o->roc_png) {
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld.csv", o->roc_png, (long)getpid());
        csv = tmp;
    }
    if (!csv) return;
    if (hn_roc_write_csv(csv, disc, sig, E, 200, err, sizeof err)) { fprintf(stderr, "%s\n", err); return; }
    int png = o->roc_png && !hn_plot("eval", "plot_roc.py", (const char *const[]){ csv, o->roc_png, o->spec, NULL });
    if (!o->roc) unlink(csv);
    if (o->roc || png) printf("ROC              %s%s%s\n", o->roc ? o->roc : "", o->roc && png ? ", " : "", png ? o->roc_png : "");
}

/* accuracy, AUC, and the table of working points with their significance */
static void report(const eval_options *o, const float *p, int width, const int32_t *labels, int64_t E)
{
    float *disc = malloc(sizeof(float) * (size_t)(E > 0 ? E : 1));
    int8_t *sig = malloc((size_t)(E > 0 ? E : 1));
    int64_t correct = 0, labelled = 0, nsig = 0;
    for (int64_t e = 0; e < E; ++e) {
        const float *r = p + e * width;
        sig[e] = labels[e] == o->signal_label ? 1 : 0;
        if (width == 1) {               /* one probability (a sigmoid output): P(signal) itself */
            disc[e] = r[0];
            ++labelled;
            correct += (r[0] > 0.5f) == sig[e];
            nsig += sig[e];
            continue;
        }
        int arg = 0;
        for (int k = 1; k < width; ++k) arg = r[k] > r[arg] ? k : arg;
        if (labels[e] >= 0 && labels[e] < width) { ++labelled; correct += arg == labels[e]; }
        float s = r[o->signal_class], b = r[o->background_class];
        disc[e] = s + b > 0 ? s / (s + b) : 0.5f;
        nsig += sig[e];
    }
    printf("events           %lld\n", (long long)E);
    if (labelled && width == 1)
        printf("accuracy         %.4f (p > 0.5 read as signal)\n", (double)correct / (double)labelled);
    else if (labelled)
        printf("accuracy         %.4f (argmax over %d classes, labels read as class indices)\n", (double)correct / (double)labelled,
               width);
    if (width == 1)
        printf("discriminant     p (the output's one probability); signal = label %d\n", o->signal_label);
    else
        printf("discriminant     p[%d] / (p[%d] + p[%d]); signal = label %d\n", o->signal_class, o->signal_class,
               o->background_class, o->signal_label);
    printf("AUC              %.4f\n", hn_auc(disc, sig, E));
    double S = o->signal_yield >= 0 ? o->signal_yield : (double)nsig;
    double B = o->background_yield >= 0 ? o->background_yield : (double)(E - nsig);
    printf("yields           S = %.6g signal, B = %.6g background events before the cut (%s); delta = %g\n", S, B,
           o->signal_yield >= 0 || o->background_yield >= 0 ? "--signal-yield, --background-yield"
                                                            : "the dataset's counts",
           o->rel_unc);
    printf("\n  %-6s %-10s %9s   %-12s %-12s %-10s %s\n", "eps_S", "eps_B", "1/eps_B", "s = eps_S*S", "b = eps_B*B",
           "s/sqrt(b)", "s/sqrt(b + (delta*b)^2)");
    const double effs[3] = { 0.3, 0.5, 0.7 };
    for (int i = 0; i < 3; ++i) {
        hn_working_point wp;
        hn_working_point_at(disc, sig, E, effs[i], S, B, o->rel_unc, &wp);
        printf("  %-6.2f %-10.4g %9.1f   %-12.5g %-12.5g %-10.4g %.4g\n", wp.eff_s, wp.eff_b,
               wp.eff_b > 0 ? 1.0 / wp.eff_b : INFINITY, wp.s, wp.b, wp.z, wp.z_sys);
    }
    printf("\n");
    write_roc(o, disc, sig, E);
    free(disc);
    free(sig);
}

int hn_cmd_eval(int argc, char **argv)
{
    eval_options o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc;
    hn_model_build mb;
    if (hn_frontend(&mb, o.spec, NULL)) { hn_model_build_free(&mb); return 1; }
    if (mb.graph.topology) {              /* a SPANet spec: assignment purities instead of classifier metrics */
        hn_spanet_eval_options so = { o.spec, o.weights, o.data, o.json, o.batch, o.lines, o.gpu };
        return hn_spanet_eval(&so, &mb);
    }
    hn_loaded_model lm;
    rc = o.gpu ? hn_build_and_open_gpu(&mb, &lm) : hn_build_and_open(&mb, 1, &lm);
    hn_model_build_free(&mb);
    if (rc) { hn_loaded_model_close(&lm); return 1; }
    const hn_model_entry *m = lm.entry;
    char err[1024];
    hn_scorer s;
    int opened = 0;
    hn_dataset *ds = NULL;
    hn_infer_buffers b;
    memset(&b, 0, sizeof b);
    float *all = NULL;
    int32_t *labels = NULL;
    rc = 1;
    int out = pick_output(m, o.output);
    if (out < 0) { fprintf(stderr, "hepnc eval: error: the spec has no output '%s'\n", o.output); goto done; }
    int width = m->outputs[out].width;
    if (width == 1 && !o.signal_label_given) o.signal_label = 1;   /* one probability: P(label 1), BCE's target */
    if (width > 1 && (o.signal_class < 0 || o.signal_class >= width || o.background_class < 0 || o.background_class >= width)) {
        fprintf(stderr, "hepnc eval: error: --signal-class/--background-class must be in 0..%d (output '%s')\n",
                width - 1, m->outputs[out].name);
        goto done;
    }
    if (hn_scorer_open(&s, &lm, o.weights, o.batch, err, sizeof err)) { fprintf(stderr, "%s\n", err); goto done; }
    opened = 1;   /* hn_scorer_close at the end */
    if (!(ds = hn_dataset_open(o.data, err, sizeof err))) { fprintf(stderr, "%s\n", err); goto done; }
    if (!hn_dataset_has_labels(ds)) { fprintf(stderr, "%s: error: no /labels dataset to evaluate against\n", o.data); goto done; }
    int64_t E = hn_dataset_events(ds);
    all = malloc(sizeof(float) * (size_t)E * (size_t)width + 1);
    labels = malloc(sizeof(int32_t) * (size_t)E + 1);
    if (!all || !labels || hn_scorer_buffers(&s, &b)) { fprintf(stderr, "hepnc eval: out of memory\n"); goto done; }
    for (int64_t first = 0; first < E; first += o.batch) {
        int count = (int)(E - first < o.batch ? E - first : o.batch);
        if (hn_read_inputs(ds, m, first, count, &b, err, sizeof err) ||
            hn_dataset_read_labels(ds, first, count, labels + first, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            goto done;
        }
        if (hn_scorer_run(&s, &b, count, err, sizeof err)) {
            fprintf(stderr, "hepnc eval: error: events %lld..%lld: %s\n", (long long)first, (long long)(first + count - 1), err);
            goto done;
        }
        memcpy(all + first * width, b.y[out], sizeof(float) * (size_t)count * (size_t)width);
    }
    report(&o, all, width, labels, E);
    rc = 0;
done:
    free(all);
    free(labels);
    hn_free_buffers(m, &b);
    if (ds) hn_dataset_close(ds);
    if (opened) hn_scorer_close(&s);
    hn_loaded_model_close(&lm);
    return rc;
}
