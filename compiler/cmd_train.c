/* cmd_train.c — `hepnc train`: builds the spec's training code (hepnc compile --train, cached like
 * hepnc infer's builds), takes the settings from the spec's `train:` section (compiler/train_spec.c)
 * with the command line's flags on top, and runs the training loop of libhepnc (hepnc/trainer.h) into
 * a run directory: log.csv, last.safetensors, best.safetensors, curves.png. docs/training.md,
 * "Training runs", describes the files and the resume rules. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hepnc/trainer.h>

#include "build.h"
#include "commands.h"
#include "plot.h"
#include "train_spec.h"

void openblas_set_num_threads(int num_threads);

typedef struct train_options {
    const char *spec, *data, *val, *out, *resume, *init;
    const char *epochs, *batch, *lr, *seed, *threads, *max_steps, *signal_class, *background_class, *preload;
    int quiet, event_weights, trim, gpu;
} train_options;

static int parse(int argc, char **argv, train_options *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 2; i < argc; ++i) {
        const char *v;
        if (hn_opt(argc, argv, &i, "--data", &v)) o->data = v;
        else if (hn_opt(argc, argv, &i, "--val", &v)) o->val = v;
        else if (hn_opt(argc, argv, &i, "-o", &v) || hn_opt(argc, argv, &i, "--out", &v)) o->out = v;
        else if (hn_opt(argc, argv, &i, "--resume", &v)) o->resume = v;
        else if (hn_opt(argc, argv, &i, "--init", &v)) o->init = v;
        else if (hn_opt(argc, argv, &i, "--epochs", &v)) o->epochs = v;
        else if (hn_opt(argc, argv, &i, "--batch", &v)) o->batch = v;
        else if (hn_opt(argc, argv, &i, "--lr", &v)) o->lr = v;
        else if (hn_opt(argc, argv, &i, "--seed", &v)) o->seed = v;
        else if (hn_opt(argc, argv, &i, "--threads", &v)) o->threads = v;
        else if (hn_opt(argc, argv, &i, "--max-steps", &v)) o->max_steps = v;
        else if (hn_opt(argc, argv, &i, "--signal-class", &v)) o->signal_class = v;
        else if (hn_opt(argc, argv, &i, "--background-class", &v)) o->background_class = v;
        else if (hn_opt(argc, argv, &i, "--preload-mb", &v)) o->preload = v;
        else if (!strcmp(argv[i], "--quiet") || !strcmp(argv[i], "-q")) o->quiet = 1;
        else if (!strcmp(argv[i], "--event-weights")) o->event_weights = 1;
        else if (!strcmp(argv[i], "--trim")) o->trim = 1;
        else if (!strcmp(argv[i], "--gpu")) o->gpu = 1;
        else if (argv[i][0] == '-') return hn_usage("train", "unknown option '%s'", argv[i]);
        else if (!o->spec) o->spec = argv[i];
        else return hn_usage("train", "unexpected argument '%s'", argv[i]);
    }
    if (!o->spec || !o->data || !o->val) return hn_usage("train", "SPEC, --data and --val are required");
    if (!o->out && !o->resume) return hn_usage("train", "-o RUN/ (or --resume RUN/) is required");
    if (o->out && o->resume && strcmp(o->out, o->resume))
        return hn_usage("train", "--resume continues in its own directory: drop -o or give the same directory");
    if (o->resume && o->init) return hn_usage("train", "--init starts a run; --resume continues one");
    return 0;
}

/* A number flag: value in [lo, hi], else a usage error. */
static int number(const char *flag, const char *text, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (!*text || *end || !(v >= lo && v <= hi)) return hn_usage("train", "%s wants a number in [%g, %g], got '%s'", flag, lo, hi, text);
    *out = v;
    return 0;
}

/* The spec's optimizer settings, with torch's defaults for Adam-family betas/eps the spec leaves out
 * (train_spec.c fills weaver's Ranger values, 0.95 and 1e-5, which are Ranger's alone). */
static hn_optim optimizer(const hn_train_settings *t, const hn_ast *train)
{
    const hn_ast *o = train ? hn_ast_get(train, "optimizer") : NULL;
    const hn_ast *kv = o && o->kind == HN_AST_MAP && o->n == 1 ? o->items[0] : NULL;
    int ranger = !strcmp(t->optimizer, "ranger");
    double b1 = t->beta1, b2 = t->beta2, eps = t->eps;
    if (!ranger && !(kv && hn_ast_get(kv, "betas"))) b1 = 0.9, b2 = 0.999;
    if (!ranger && !(kv && hn_ast_get(kv, "eps"))) eps = 1e-8;
    if (!strcmp(t->optimizer, "sgd")) return hn_optim_sgd(t->momentum, 0, 0, t->weight_decay);
    if (!strcmp(t->optimizer, "adam")) return hn_optim_adam(b1, b2, eps, t->weight_decay);
    if (!strcmp(t->optimizer, "adamw")) return hn_optim_adamw(b1, b2, eps, t->weight_decay);
    if (!strcmp(t->optimizer, "radam")) return hn_optim_radam(b1, b2, eps, t->weight_decay);
    return hn_optim_lookahead(hn_optim_radam_weaver(b1, b2, eps, t->weight_decay, 1), 6, 0.5);   /* weaver's Ranger */
}

static hn_schedule schedule(const hn_train_settings *t, double lr, int epochs)
{
    hn_schedule s = hn_schedule_make(HN_SCHED_FLAT_DECAY, lr);
    if (!strcmp(t->schedule, "none")) s.kind = HN_SCHED_CONSTANT;
    if (!strcmp(t->schedule, "cosine")) { s.kind = HN_SCHED_COSINE; s.t_max = epochs; }
    if (!strcmp(t->schedule, "step")) { s.kind = HN_SCHED_STEP; s.step_size = epochs / 3 > 0 ? epochs / 3 : 1; s.gamma = 0.1; }
    s.warmup_start_factor = 1.0 / 3.0;        /* torch LinearLR's default */
    return s;
}

/* The model's no_weight_decay(): ParT's class tokens (weaver's {'cls_token'}). */
static int no_decay_names(const hn_train_entry *t, const char **names, int max)
{
    int n = 0;
    for (int k = 0; k < t->nparams && n < max; ++k) {
        size_t L = strlen(t->params[k].name);
        if (L >= 9 && !strcmp(t->params[k].name + L - 9, "cls_token")) names[n++] = t->params[k].name;
    }
    return n;
}

static int settings(const train_options *o, const hn_train_settings *t, const hn_ast *train, const hn_train_entry *e,
                    hn_trainer_settings *s, const char **nd)
{
    hn_trainer_defaults(s);
    double x = 0;
    s->epochs = t->epochs;
    s->batch = t->batch;
    s->seed = (uint64_t)t->seed;
    s->clip_grad = t->clip_grad;
    double lr = t->lr;
    if (o->epochs) { if (number("--epochs", o->epochs, 1, 1e6, &x)) return 2; s->epochs = (int)x; }
    if (o->batch) { if (number("--batch", o->batch, 1, 1 << 20, &x)) return 2; s->batch = (int)x; }
    if (o->lr) { if (number("--lr", o->lr, 0, 10, &x)) return 2; lr = x; }
    if (o->seed) { if (number("--seed", o->seed, 0, 1e15, &x)) return 2; s->seed = (uint64_t)x; }
    if (o->max_steps) { if (number("--max-steps", o->max_steps, 1, 1e15, &x)) return 2; s->max_steps = (int64_t)x; }
    if (o->signal_class) { if (number("--signal-class", o->signal_class, 0, 1e6, &x)) return 2; s->signal_class = (int)x; }
    if (o->background_class) {
        if (number("--background-class", o->background_class, 0, 1e6, &x)) return 2;
        s->background_class = (int)x;
    }
    if (o->preload) { if (number("--preload-mb", o->preload, 0, 1e9, &x)) return 2; s->preload_bytes = (size_t)(x * 1048576.0); }
    if (strcmp(t->loss, "cross_entropy") && strcmp(t->loss, "focal") && strcmp(t->loss, "bce")) {
        fprintf(stderr, "hepnc train: error: loss '%s' needs regression targets, which the data layout has no place "
                "for yet (cross_entropy, focal and bce train on class labels)\n", t->loss);
        return 1;
    }
    s->loss.loss = !strcmp(t->loss, "focal") ? HN_LOSS_FOCAL : !strcmp(t->loss, "bce") ? HN_LOSS_BCE : HN_LOSS_CROSS_ENTROPY;
    s->loss.label_smoothing = t->label_smoothing;
    s->loss.focal_alpha = t->focal_alpha;
    s->loss.focal_gamma = t->focal_gamma;
    s->optim = optimizer(t, train);
    s->schedule = schedule(t, lr, s->epochs);
    s->warmup_epochs = t->warmup_epochs;
    s->nno_decay = no_decay_names(e, nd, 8);
    s->no_decay = nd;
    s->run_dir = o->resume ? o->resume : o->out;
    s->resume = o->resume != NULL;
    s->init_weights = o->init;
    s->event_weights = o->event_weights;
    s->trim = o->trim;
    s->progress = !o->quiet;
    s->catch_sigint = 1;
    return 0;
}

static void describe(const hn_train_entry *e, const hn_train_settings *t, const hn_trainer_settings *s)
{
    size_t trainable = 0;
    int tensors = 0;
    for (int k = 0; k < e->nparams; ++k)
        if (e->params[k].trainable) { trainable += e->params[k].size; ++tensors; }
    fprintf(stderr, "hepnc train: %s, %zu trainable parameters in %d tensors; %s loss, %s (lr %g, weight decay %g), "
            "schedule %s, %d epochs of batch %d, seed %llu%s\n", e->name, trainable, tensors, t->loss, t->optimizer,
            s->schedule.base_lr, t->weight_decay, t->schedule, s->epochs, s->batch, (unsigned long long)s->seed,
            s->resume ? ", resuming" : "");
}

static void finish(const train_options *o, const hn_trainer_settings *s, const hn_train_summary *sum, int rc)
{
    const char *dir = s->run_dir;
    char log[1100], png[1100];
    snprintf(log, sizeof log, "%s/log.csv", dir);
    snprintf(png, sizeof png, "%s/curves.png", dir);
    int plotted = sum->epochs_done > 0 && !hn_plot("train", "plot_curves.py", (const char *const[]){ log, png, NULL });
    if (rc == HN_TRAIN_INTERRUPTED || sum->stopped) {
        char same[512] = "";          /* the flags that shape the run, to give again */
        const char *flag[] = { "--epochs", "--batch", "--lr", "--seed" }, *val[] = { o->epochs, o->batch, o->lr, o->seed };
        for (int i = 0; i < 4; ++i)
            if (val[i]) snprintf(same + strlen(same), sizeof same - strlen(same), " %s %s", flag[i], val[i]);
        printf("%s after %d epochs and %lld steps; %s/last.safetensors holds the state. Continue with:\n"
               "  hepnc train %s --data %s --val %s --resume %s%s\n",
               rc == HN_TRAIN_INTERRUPTED ? "interrupted" : "stopped (--max-steps)", sum->epochs_done,
               (long long)sum->steps, dir, o->spec, o->data, o->val, dir, same);
    }
    if (sum->best_epoch > 0)
        printf("best validation AUC %.5f (epoch %d, validation loss %.5f)\n", sum->best_val_auc, sum->best_epoch,
               sum->best_val_loss);
    printf("run %s: %s/best.safetensors, %s/last.safetensors, %s%s%s\n", dir, dir, dir, log, plotted ? ", " : "",
           plotted ? png : "");
}

int hn_cmd_train(int argc, char **argv)
{
    train_options o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc;
    if (o.threads) {
        double x = 0;
        if (number("--threads", o.threads, 1, 256, &x)) return 2;
        setenv("OMP_NUM_THREADS", o.threads, 1);  /* before the model (libgomp) loads */
        openblas_set_num_threads((int)x);
    }
    hn_model_build mb;
    hn_loaded_train lt = { 0 };
    if (hn_frontend(&mb, o.spec, NULL)) { hn_model_build_free(&mb); return 1; }
    const hn_ast *train = hn_ast_get(mb.spec.root, "train");
    hn_train_settings ts;
    rc = 1;
    if (hn_parse_train(train, &ts) || (o.gpu ? hn_build_and_open_train_gpu(&mb, &lt) : hn_build_and_open_train(&mb, 1, &lt))) goto done;
    hn_trainer_settings s;
    const char *nd[8];
    if ((rc = settings(&o, &ts, train, lt.entry, &s, nd))) goto done;
    if (!o.quiet) describe(lt.entry, &ts, &s);
    hn_train_summary sum;
    char err[2048] = "";
    int trc = hn_train(lt.entry, o.data, o.val, &s, &sum, err, sizeof err);
    if (trc < 0) {
        fprintf(stderr, "hepnc train: error: %s\n", err);
        rc = 1;
        goto done;
    }
    finish(&o, &s, &sum, trc);
    rc = trc == HN_TRAIN_INTERRUPTED ? 130 : 0;
done:
    hn_loaded_train_close(&lt);
    hn_model_build_free(&mb);
    return rc;
}
