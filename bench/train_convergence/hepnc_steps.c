/* hepnc_steps.c — the two things of a `hepnc train` run that the CLI does not write out, for
 * bench/train_convergence/compare.py:
 *   OUT/init.safetensors  the fresh parameters of the run, hn_train_init_params(seed) (hepnc/init.h),
 *                         every file tensor (trainable and BatchNorm buffers) under hepnc's names;
 *   OUT/steps.csv         the loss and learning rate of every optimiser step (hn_train's on_step),
 *   OUT/epoch<N>.safetensors  the state after epoch N (a copy of last.safetensors, hn_train's on_epoch),
 * from the same training loop (libhepnc's hn_train) with the settings `hepnc train` takes from
 * models/part_top_small.yaml's train: section (compiler/cmd_train.c: weaver's Ranger = Lookahead(k 6,
 * alpha 0.5) over RAdam(0.95, 0.999, eps 1e-5, degenerated_to_sgd), weight decay 0.01 off for 1-d
 * tensors, *.bias and *cls_token; flat+decay at lr 0.005 over 8 epochs; cross-entropy; batch 64; AUC of
 * class 0 against class 1). OUT/run/ is its run directory; run.sh checks that its log.csv equals the CLI
 * run's column for column (epoch .. val_auc), so the steps logged here are those of the CLI's run.
 *
 *   hepnc_steps MODEL.so TRAIN.h5 VAL.h5 SEED OUT/
 *
 * MODEL.so is the training build that `hepnc train` left in $HEPNC_CACHE (the directory with
 * NAME_train.c). Links libhepnc_runtime.a whole and exports it (-rdynamic): the model's undefined hn_*
 * symbols resolve against it, as they do against the hepnc executable. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hepnc/trainer.h>
#include <hepnc/weights.h>

void openblas_set_num_threads(int num_threads);

typedef struct ctx {
    FILE *steps;
    const char *out, *run;
} ctx;

static void on_step(void *c, const hn_train_progress *p)
{
    /* step is the number done; the step just taken is step - 1 (0-based, as hepnc's docs count) */
    fprintf(((ctx *)c)->steps, "%lld,%d,%lld,%.9g,%.17g\n", (long long)(p->step - 1), p->epoch - 1,
            (long long)(p->step_in_epoch - 1), p->lr, p->loss);
}

/* hn_train calls on_epoch after writing the epoch's last.safetensors */
static void on_epoch(void *c, const hn_epoch_record *r)
{
    const ctx *x = c;
    char src[4200], dst[4200];
    snprintf(src, sizeof src, "%s/last.safetensors", x->run);
    snprintf(dst, sizeof dst, "%s/epoch%d.safetensors", x->out, r->epoch);
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    char buf[1 << 16];
    size_t n;
    while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, out);
    if (!in || !out) fprintf(stderr, "hepnc_steps: cannot copy %s to %s\n", src, dst);
    if (in) fclose(in);
    if (out) fclose(out);
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s MODEL.so TRAIN.h5 VAL.h5 SEED OUT/\n", argv[0]);
        return 2;
    }
    setenv("OMP_NUM_THREADS", "1", 1);          /* `hepnc train --threads 1`, before libgomp loads */
    openblas_set_num_threads(1);
    void *so = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!so) { fprintf(stderr, "%s\n", dlerror()); return 1; }
    const hn_train_entry *(*entry)(void) = (const hn_train_entry *(*)(void))dlsym(so, "hepnc_train_entry");
    if (!entry) { fprintf(stderr, "%s: no hepnc_train_entry\n", argv[1]); return 1; }
    const hn_train_entry *t = entry();
    uint64_t seed = strtoull(argv[4], NULL, 10);
    const char *out = argv[5];
    mkdir(out, 0777);
    char path[4096], err[2048] = "";

    /* the fresh parameters */
    float *blob = calloc(t->param_floats + 1, sizeof(float));
    hn_tensor_out *ts = calloc((size_t)t->nparams + 1, sizeof *ts);
    if (!blob || !ts) return 1;
    hn_train_init_params(t, blob, seed);
    for (int k = 0; k < t->nparams; ++k) {
        const hn_param_desc *p = &t->params[k];
        ts[k].name = p->name;
        ts[k].ndim = p->ndim;
        memcpy(ts[k].shape, p->shape, sizeof(int64_t) * (size_t)p->ndim);
        ts[k].data = blob + p->offset;
    }
    snprintf(path, sizeof path, "%s/init.safetensors", out);
    if (hn_safetensors_write(path, t->nparams, ts, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }

    /* the run, with `hepnc train`'s settings for the spec */
    const char *nd[8];
    int nnd = 0;
    for (int k = 0; k < t->nparams && nnd < 8; ++k) {
        size_t L = strlen(t->params[k].name);
        if (L >= 9 && !strcmp(t->params[k].name + L - 9, "cls_token")) nd[nnd++] = t->params[k].name;
    }
    hn_trainer_settings s;
    hn_trainer_defaults(&s);
    s.optim = hn_optim_lookahead(hn_optim_radam_weaver(0.95, 0.999, 1e-5, 0.01, 1), 6, 0.5);
    s.schedule = hn_schedule_make(HN_SCHED_FLAT_DECAY, 0.005);
    s.schedule.warmup_start_factor = 1.0 / 3.0;
    s.epochs = 8;
    s.batch = 64;
    s.seed = seed;
    s.no_decay = nd;
    s.nno_decay = nnd;
    s.signal_class = 0;
    s.background_class = 1;
    s.progress = 0;
    s.catch_sigint = 0;
    snprintf(path, sizeof path, "%s/run", out);
    s.run_dir = path;
    char steps[4096];
    snprintf(steps, sizeof steps, "%s/steps.csv", out);
    FILE *f = fopen(steps, "w");
    if (!f) { perror(steps); return 1; }
    fprintf(f, "step,epoch,step_in_epoch,lr,loss\n");
    ctx c = { f, out, path };
    s.on_step = on_step;
    s.on_epoch = on_epoch;
    s.ctx = &c;
    hn_train_summary sum;
    int rc = hn_train(t, argv[2], argv[3], &s, &sum, err, sizeof err);
    fclose(f);
    if (rc) { fprintf(stderr, "hn_train: %s\n", err); return 1; }
    printf("%s/init.safetensors, %s, %s/log.csv (%lld steps)\n", out, steps, path, (long long)sum.steps);
    free(blob);
    free(ts);
    return 0;
}
