/* test_trainloop.c — the training loop (runtime/trainer.c, hepnc/trainer.h) on the hand-written mock
 * entry of mock_model.c and two small HDF5 files written here, in a fresh directory (argv[1]):
 *   (a) the loss decreases, validation goes through fold + infer (its numbers equal hn_train_evaluate's
 *       on the saved parameters), the checkpoint loads with an ordinary weights reader;
 *   (b) a run stopped by max_steps at an epoch's end or in the middle of one and resumed, a run read
 *       batch by batch instead of preloaded, and (constant schedule) 2 epochs + a resume to 4, all equal
 *       the uninterrupted run: log.csv's columns epoch..val_auc and the parameter and optimiser tensors
 *       of last.safetensors and best.safetensors, bit for bit; a resume with another seed is refused;
 *   (c) SIGINT: raised at a known step in a child process (exit 130, last.safetensors at that step,
 *       loads, and resuming it equals the uninterrupted run), and sent from outside to a running child;
 *   (d) no temporary file is left in any run directory. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hepnc/trainer.h>
#include <hepnc/weights.h>

#include "fixture.h"
#include "mock_model.h"

static const char *root;
static char train_h5[4200], val_h5[4200];

typedef struct capture {
    hn_epoch_record rec[64];
    int n;
    int64_t raise_at;           /* raise SIGINT after this step (0: never) */
    int sleep_us;               /* sleep after every step */
} capture;

static void on_epoch(void *ctx, const hn_epoch_record *r)
{
    capture *c = ctx;
    if (c->n < 64) c->rec[c->n++] = *r;
}

static void on_step(void *ctx, const hn_train_progress *p)
{
    capture *c = ctx;
    if (c->raise_at && p->step == c->raise_at) raise(SIGINT);
    if (c->sleep_us) usleep((useconds_t)c->sleep_us);
}

static const char *dir_of(const char *name)
{
    static char buf[8][4200];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", root, name);
    fx_fresh_dir(p);
    return p;
}

/* Ranger with weight decay, flat+decay, clipping, label smoothing: every piece of state in play. */
static hn_trainer_settings base(const char *dir, capture *c)
{
    hn_trainer_settings s;
    hn_trainer_defaults(&s);
    s.optim = hn_optim_ranger(0.01);
    s.schedule = hn_schedule_make(HN_SCHED_FLAT_DECAY, 0.05);
    s.loss.label_smoothing = 0.05;
    s.epochs = 4;
    s.batch = 32;
    s.seed = 7;
    s.clip_grad = 1.0;
    s.progress = 0;
    s.catch_sigint = 0;
    s.run_dir = dir;
    s.on_epoch = on_epoch;
    s.on_step = on_step;
    s.ctx = c;
    return s;
}

static int train(const hn_trainer_settings *s, hn_train_summary *sum)
{
    char err[1024] = "";
    int rc = hn_train(mock_train_entry(), train_h5, val_h5, s, sum, err, sizeof err);
    if (rc < 0) printf("     hn_train: %s\n", err);
    return rc;
}

static const char *const tensors[] = { "fc.weight", "fc.bias", "norm.running_mean", "__opt__.fc.weight",
                                       "__opt__.fc.bias" };

/* Run b equals run a: log columns epoch..val_auc, the records (when both given), the checkpoints. */
static void same_run(const char *what, const char *a, const capture *ca, const char *b, const capture *cb)
{
    int ra = 0, rb = 0;
    char *la = fx_log_columns(fx_path(a, "log.csv"), 8, &ra), *lb = fx_log_columns(fx_path(b, "log.csv"), 8, &rb);
    fx_check(la && lb && ra == 4 && rb == 4 && !strcmp(la, lb), "%s: log.csv epoch..val_auc identical (%d and %d rows)",
             what, ra, rb);
    free(la);
    free(lb);
    if (ca && cb) {
        int same = ca->n == 4 && cb->n == 4;
        for (int i = 0; same && i < 4; ++i) {
            const hn_epoch_record *x = &ca->rec[i], *y = &cb->rec[i];
            same = x->epoch == y->epoch && x->step == y->step && x->lr == y->lr && x->train_loss == y->train_loss &&
                   x->train_acc == y->train_acc && x->val_loss == y->val_loss && x->val_acc == y->val_acc &&
                   x->val_auc == y->val_auc;
        }
        fx_check(same, "%s: the epoch records (lr, losses, accuracies, AUC as doubles) are identical", what);
    }
    int same = 1;
    for (int i = 0; i < 5; ++i) {
        same &= fx_same_tensor(fx_path(a, "last.safetensors"), fx_path(b, "last.safetensors"), tensors[i]);
        same &= fx_same_tensor(fx_path(a, "best.safetensors"), fx_path(b, "best.safetensors"), tensors[i]);
    }
    fx_check(same, "%s: last and best checkpoints: parameters, buffer and optimiser state byte-identical", what);
}

static const char *meta(const char *path, const char *key, char *buf, size_t n)
{
    char err[512];
    hn_weights *w = hn_weights_open(path, err, sizeof err);
    const char *v = w ? hn_weights_metadata(w, key) : NULL;
    snprintf(buf, n, "%s", v ? v : "(none)");
    hn_weights_close(w);
    return buf;
}

/* The checkpoint loads through the model's own loader (as NAME_load would) and runs. */
static int loads_and_runs(const char *path)
{
    const hn_model_entry *m = mock_train_entry()->model;
    void *model = NULL;
    char err[512];
    if (m->load(&model, path, err, sizeof err)) { printf("     load: %s\n", err); return 0; }
    float x[MOCK_MAX * 2] = { 1, 2 }, j = 0.5f, logits[2], scores[2];
    int32_t n = 1;
    const float *in[2] = { x, &j };
    const int32_t *counts[2] = { &n, NULL };
    float *out[2] = { logits, scores };
    int ok = !m->infer(model, in, counts, 1, out, NULL) && fabsf(scores[0] + scores[1] - 1) < 1e-6f;
    m->release(model);
    return ok;
}

static void test_decreases(const char *A, capture *ca)
{
    hn_trainer_settings s = base(A, ca);
    hn_train_summary sum;
    int rc = train(&s, &sum);
    fx_check(rc == 0 && sum.epochs_done == 4 && sum.steps == 40 && sum.stopped == 0,
             "(a) 4 epochs of 10 steps (300 events, batch 32): rc %d, %d epochs, %lld steps", rc, sum.epochs_done,
             (long long)sum.steps);
    const char *log = fx_path(A, "log.csv");
    double l0 = fx_log_value(log, 0, 3), l3 = fx_log_value(log, 3, 3), v0 = fx_log_value(log, 0, 5),
           v3 = fx_log_value(log, 3, 5), auc = fx_log_value(log, 3, 7);
    fx_check(l3 < l0 && v3 < v0, "(a) train loss %.4f -> %.4f, val loss %.4f -> %.4f", l0, l3, v0, v3);
    fx_check(auc > 0.8 && auc <= 1, "(a) val AUC after 4 epochs %.4f > 0.8", auc);
    fx_check(sum.best_epoch >= 1 && sum.best_val_loss == ca->rec[sum.best_epoch - 1].val_loss,
             "(a) summary: best epoch %d, val loss %.5f, AUC %.4f", sum.best_epoch, sum.best_val_loss, sum.best_val_auc);
    /* validation is the inference path: evaluating the saved parameters gives the logged numbers exactly */
    float P[MOCK_PARAM_FLOATS];
    char err[512] = "";
    hn_eval_metrics m = { 0 };
    int ok = !hn_train_load_params(mock_train_entry(), fx_path(A, "last.safetensors"), P, err, sizeof err) &&
             !hn_train_evaluate(mock_train_entry(), P, val_h5, &s, &m, err, sizeof err);
    fx_check(ok && m.events == 200 && m.loss == ca->rec[3].val_loss && m.acc == ca->rec[3].val_acc &&
                 m.auc == ca->rec[3].val_auc,
             "(a) hn_train_evaluate(last.safetensors) = epoch 4's val loss/acc/AUC exactly (%.6f %.4f %.4f) %s", m.loss,
             m.acc, m.auc, err);
    fx_check(loads_and_runs(fx_path(A, "last.safetensors")) && loads_and_runs(fx_path(A, "best.safetensors")),
             "(a) last.safetensors and best.safetensors load with the model's loader (extra tensors ignored) and run");
    char b1[64], b2[64];
    fx_check(!strcmp(meta(fx_path(A, "last.safetensors"), "epochs_done", b1, 64), "4") &&
                 !strcmp(meta(fx_path(A, "last.safetensors"), "step", b2, 64), "40"),
             "(a) last.safetensors metadata: epochs_done %s, step %s", b1, b2);
}

static void test_init(void)
{
    const hn_train_entry *t = mock_train_entry();
    float P[MOCK_PARAM_FLOATS], Q[MOCK_PARAM_FLOATS];
    hn_train_init_params(t, P, 3);
    hn_train_init_params(t, Q, 3);
    int ok = !memcmp(P, Q, sizeof P), zero_rm = P[8] == 0 && P[9] == 0 && P[10] == 0, bounded = 1, nonzero = 0;
    for (int i = 0; i < 8; ++i) {
        bounded &= fabsf(P[i]) <= 1 / sqrtf(3.0f);
        nonzero += P[i] != 0;
    }
    fx_check(ok && zero_rm && bounded && nonzero == 8,
             "initial values: deterministic, weight and bias in U(±1/sqrt(fan_in 3)), running mean 0");
}

static void test_resume(const char *A, const capture *ca)
{
    char b[64];
    hn_train_summary sum;
    /* stopped by max_steps at the end of epoch 2, resumed */
    capture cb = { .n = 0 };
    const char *B = dir_of("resume_epoch");
    hn_trainer_settings s = base(B, &cb);
    s.max_steps = 20;
    int rc = train(&s, &sum);
    int rows = 0;
    free(fx_log_columns(fx_path(B, "log.csv"), 1, &rows));
    fx_check(rc == 0 && sum.stopped == 1 && sum.epochs_done == 2 && rows == 2,
             "(b) --max-steps 20 stops after epoch 2 (rc %d, stopped %d, %d log rows)", rc, sum.stopped, rows);
    s.max_steps = 0;
    s.resume = 1;
    rc = train(&s, &sum);
    fx_check(rc == 0 && sum.epochs_done == 4, "(b) resumed to epoch 4 (rc %d)", rc);
    same_run("(b) 2 epochs + resume", A, ca, B, &cb);

    /* stopped in the middle of epoch 3, resumed */
    capture cc = { .n = 0 };
    const char *C = dir_of("resume_mid");
    s = base(C, &cc);
    s.max_steps = 23;
    rc = train(&s, &sum);
    fx_check(rc == 0 && sum.stopped == 1 && !strcmp(meta(fx_path(C, "last.safetensors"), "step_in_epoch", b, 64), "3"),
             "(b) --max-steps 23 stops 3 steps into epoch 3 (step_in_epoch %s)", b);
    s.max_steps = 0;
    s.resume = 1;
    train(&s, &sum);
    same_run("(b) 23 steps + resume", A, ca, C, &cc);

    /* read batch by batch instead of preloaded */
    capture cs = { .n = 0 };
    const char *S = dir_of("streamed");
    s = base(S, &cs);
    s.preload_bytes = 0;
    train(&s, &sum);
    same_run("(b) streamed batches", A, ca, S, &cs);

    /* a resume with another seed is refused */
    s = base(S, &cs);
    s.resume = 1;
    s.seed = 8;
    char err[1024] = "";
    rc = hn_train(mock_train_entry(), train_h5, val_h5, &s, NULL, err, sizeof err);
    fx_check(rc < 0 && strstr(err, "seed 7") != NULL, "(b) resume with another seed refused: %s", err);
}

/* Constant rate (the schedule does not depend on the epoch count): --epochs 2, then --resume --epochs 4. */
static void test_resume_epochs(void)
{
    capture c1 = { .n = 0 }, c2 = { .n = 0 };
    const char *D1 = dir_of("const_straight"), *D2 = dir_of("const_resumed");
    hn_trainer_settings s = base(D1, &c1);
    s.optim = hn_optim_adamw(0.9, 0.999, 1e-8, 0.01);
    s.schedule = hn_schedule_make(HN_SCHED_CONSTANT, 0.02);
    hn_train_summary sum;
    train(&s, &sum);
    s.run_dir = D2;
    s.ctx = &c2;
    s.epochs = 2;
    train(&s, &sum);
    s.epochs = 4;
    s.resume = 1;
    int rc = train(&s, &sum);
    fx_check(rc == 0 && sum.epochs_done == 4, "(b) AdamW, constant lr: --epochs 2 then --resume --epochs 4 (rc %d)", rc);
    same_run("(b) 2 epochs + --resume --epochs 4", D1, &c1, D2, &c2);
}

/* SIGINT raised by the step hook after step `at` in a child: 15 is in the middle of epoch 2, 20 its last
 * step (the stop then comes during the validation, which is done again on resume). */
static void test_sigint_at_step(const char *A, int at, const char *name, const char *want_epochs_done)
{
    const char *G = dir_of(name);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        capture c = { .raise_at = at };
        hn_trainer_settings s = base(G, &c);
        s.catch_sigint = 1;
        int rc = train(&s, NULL);
        _exit(rc == HN_TRAIN_INTERRUPTED ? 130 : rc < 0 ? 1 : 0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    char b[64], b2[64];
    fx_check(WIFEXITED(status) && WEXITSTATUS(status) == 130, "(c) SIGINT at step %d: the child exits with %d", at,
             WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    const char *last = fx_path(G, "last.safetensors");
    fx_check(atoi(meta(last, "step", b, 64)) == at && !strcmp(meta(last, "epochs_done", b2, 64), want_epochs_done),
             "(c) last.safetensors holds step %s (epochs_done %s)", b, b2);
    fx_check(loads_and_runs(last), "(c) the interrupted checkpoint loads with the model's loader and runs");
    capture c = { .n = 0 };
    hn_trainer_settings s = base(G, &c);
    s.resume = 1;
    hn_train_summary sum;
    int rc = train(&s, &sum);
    fx_check(rc == 0 && c.n == 3, "(c) resumed after SIGINT: %d more epochs", c.n);
    char what[64];
    snprintf(what, sizeof what, "(c) SIGINT at step %d + resume", at);
    same_run(what, A, NULL, G, NULL);
}

static int log_rows(const char *dir)
{
    int rows = 0;
    free(fx_log_columns(fx_path(dir, "log.csv"), 1, &rows));
    return rows;
}

/* SIGINT sent by another process while the child trains (a slow step: 1 ms). */
static void test_sigint_async(void)
{
    const char *H = dir_of("sigint_async");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        capture c = { .sleep_us = 1000 };
        hn_trainer_settings s = base(H, &c);
        s.catch_sigint = 1;
        s.epochs = 100000;
        int rc = train(&s, NULL);
        _exit(rc == HN_TRAIN_INTERRUPTED ? 130 : rc < 0 ? 1 : 0);
    }
    for (int i = 0; i < 2000 && log_rows(H) < 1; ++i) usleep(5000);
    kill(pid, SIGINT);
    int status = 0;
    waitpid(pid, &status, 0);
    fx_check(WIFEXITED(status) && WEXITSTATUS(status) == 130, "(c) SIGINT from outside: exit status %d",
             WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    char b[64];
    fx_check(loads_and_runs(fx_path(H, "last.safetensors")) &&
                 atoi(meta(fx_path(H, "last.safetensors"), "epochs_done", b, 64)) >= 1,
             "(c) its last.safetensors loads (epochs_done %s)", b);
    fx_check(fx_tmp_files(H) == 0, "(d) no temporary file left after the interrupt");
}

int main(int argc, char **argv)
{
    root = argc > 1 ? argv[1] : "trainloop_tmp";
    fx_fresh_dir(root);
    snprintf(train_h5, sizeof train_h5, "%s/train.h5", root);
    snprintf(val_h5, sizeof val_h5, "%s/val.h5", root);
    if (fx_write_data(train_h5, 300, 11) || fx_write_data(val_h5, 200, 12)) {
        printf("FAIL cannot write the test data under %s\n", root);
        return 1;
    }
    static capture ca;
    const char *A = dir_of("straight");
    test_init();
    test_decreases(A, &ca);
    test_resume(A, &ca);
    test_resume_epochs();
    test_sigint_at_step(A, 15, "sigint_step", "1");
    test_sigint_at_step(A, 20, "sigint_validation", "1");
    test_sigint_async();
    const char *dirs[] = { "straight", "resume_epoch", "resume_mid", "streamed", "const_straight", "const_resumed",
                           "sigint_step", "sigint_validation" };
    int tmp = 0;
    for (int i = 0; i < 8; ++i) tmp += fx_tmp_files(fx_path(root, dirs[i]));
    fx_check(tmp == 0, "(d) no temporary file in any run directory (%d found)", tmp);
    printf("%d passed, %d failed\n", fx_passed, fx_failed);
    return fx_failed ? 1 : 0;
}
