/* trainer_progress.c — progress on stderr. On a terminal (isatty): one bar redrawn in place at most
 * ten times a second,
 *   epoch 3/20 [=========>          ] 45%  120/266  loss 0.3412  acc 0.871  lr 1.00e-03  4512 jets/s  ETA 0:32
 * otherwise (a log file, a pipe) a plain line at each tenth of an epoch. Every epoch ends with one line:
 *   epoch 3/20  train loss 0.34120 acc 0.8712 | val loss 0.33000 acc 0.8790 auc 0.94120 | 4512 jets/s 12.3 s | ETA 3:12  best */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "trainer_internal.h"

double hn_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void clock_text(double s, char *buf, size_t n)
{
    if (!(s >= 0) || s > 1e8) { snprintf(buf, n, "?"); return; }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

void hn_progress_init(hn_progress *p, int on)
{
    memset(p, 0, sizeof *p);
    p->on = on;
    p->tty = on && isatty(STDERR_FILENO);
    p->last_line_step = -1;
}

static void clear_bar(hn_progress *p)
{
    if (p->tty) fprintf(stderr, "\r\033[K");
}

void hn_progress_step(hn_progress *p, const hn_train_progress *tp)
{
    if (!p->on) return;
    double now = hn_now();
    int64_t spe = tp->steps_per_epoch > 0 ? tp->steps_per_epoch : 1;
    double frac = (double)tp->step_in_epoch / (double)spe;
    char eta[32];
    clock_text(tp->eta_s, eta, sizeof eta);
    if (p->tty) {
        if (now - p->last < 0.1 && tp->step_in_epoch < spe) return;
        enum { W = 20 };
        char bar[W + 1];
        int fill = (int)(frac * W);
        for (int i = 0; i < W; ++i) bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
        bar[W] = '\0';
        fprintf(stderr, "\r\033[Kepoch %d/%d [%s] %3.0f%%  %lld/%lld  loss %.4f  acc %.3f  lr %.2e  %.0f jets/s  ETA %s",
                tp->epoch, tp->epochs, bar, 100 * frac, (long long)tp->step_in_epoch, (long long)spe, tp->epoch_loss,
                tp->epoch_acc, tp->lr, tp->jets_per_s, eta);
        fflush(stderr);
    } else {
        int64_t tenth = tp->step_in_epoch * 10 / spe;
        if (tenth == p->last_line_step || tp->step_in_epoch == spe) return;
        p->last_line_step = tenth;
        if (tenth == 0) return;
        fprintf(stderr, "epoch %d/%d  step %lld/%lld  loss %.4f  acc %.3f  lr %.2e  %.0f jets/s  ETA %s\n", tp->epoch,
                tp->epochs, (long long)tp->step_in_epoch, (long long)spe, tp->epoch_loss, tp->epoch_acc, tp->lr,
                tp->jets_per_s, eta);
    }
    p->last = now;
}

void hn_progress_epoch(hn_progress *p, const hn_epoch_record *r, int epochs, int best, double eta_run_s)
{
    if (!p->on) return;
    clear_bar(p);
    p->last_line_step = -1;
    char eta[32];
    clock_text(eta_run_s, eta, sizeof eta);
    fprintf(stderr, "epoch %d/%d  train loss %.5f acc %.4f", r->epoch, epochs, r->train_loss, r->train_acc);
    if (!isnan(r->val_loss))
        fprintf(stderr, " | val loss %.5f acc %.4f auc %.5f", r->val_loss, r->val_acc, r->val_auc);
    fprintf(stderr, " | %.0f jets/s %.1f s", r->jets_per_s, r->seconds);
    if (r->epoch < epochs) fprintf(stderr, " | ETA %s", eta);
    fprintf(stderr, "%s\n", best ? "  best" : "");
    fflush(stderr);
}

void hn_progress_note(hn_progress *p, const char *msg)
{
    if (!p->on) return;
    clear_bar(p);
    fprintf(stderr, "%s\n", msg);
    fflush(stderr);
}
