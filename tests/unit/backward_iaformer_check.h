/* backward_iaformer_check.h — what the IAFormer backward tests share (test_backward_iaformer.c: RMSNorm, the
 * feature mean, differential attention; test_backward_interaction.c: the interaction embedding): every
 * coordinate against fourth-order finite differences, the kernels' gradients read from accumulated outputs,
 * one report line per kernel, and the forward templates against the double forwards.
 * test_backward_iaformer.c's head comment describes the method. */
#ifndef HN_TEST_BACKWARD_IAFORMER_CHECK_H
#define HN_TEST_BACKWARD_IAFORMER_CHECK_H

#include "backward_check.h"
#include "backward_interaction.h"

/* ---------------------------------------------------------------- infrastructure */

typedef struct {
    stat st;
    double worst_kfd, worst_rel;   /* kernel vs FD: err/tol, and |gk − fd|/(|fd| + max|fd|) where the rounding
                                      bound is below the relative tolerance (not a cancellation) */
} ist;

/* Fourth-order central differences of the double loss f at every coordinate k < n of p, against the reference
 * gr (1e-6 relative, as fd_check) and the float kernel's gradient gk: 1e-4 relative to the differences, plus
 * the kernel's rounding bound tk[k] (the kernel-vs-ref tolerance; NULL: none), which matters only where the
 * gradient is a cancellation far below the scale of its terms (RMSNorm of rows at 50 ± 0.1: the float result
 * is then rounding noise, within its bound, checked against the reference). gk NULL: the reference only. */
static void fd_all(ist *s, const char *what, lossfn f, void *ctx, double *p, size_t n, const double *gr,
                   const double *gk, const double *tk)
{
    if (!n) return;
    double *fd = dal(n), fmax_ = 0.0, gmax = 0.0;
    for (size_t k = 0; k < n; ++k) {
        fd[k] = fd1(f, ctx, p, k);
        fmax_ = fmax(fmax_, fabs(fd[k]));
        gmax = fmax(gmax, fabs(gr[k]));
    }
    f(ctx);                                            /* labs_ at the point itself */
    const double floor_ = 1e-10 * (1.0 + labs_);
    for (size_t k = 0; k < n; ++k) {
        double tol = 1e-6 * (fabs(gr[k]) + gmax) + floor_, r = fabs(fd[k] - gr[k]) / tol;
        if (!(r <= 1.0)) fail(&s->st, " (reference vs finite difference)", what, k, gr[k], fd[k], tol);
        if (r > s->st.worst_fd || r != r) s->st.worst_fd = r != r ? INFINITY : r;
        if (!gk) continue;
        double e = fabs(gk[k] - fd[k]);
        tol = 1e-4 * (fabs(fd[k]) + fmax_) + floor_ + (tk ? tk[k] : 0.0), r = e / tol;
        if (!(r <= 1.0)) fail(&s->st, " (kernel vs finite difference)", what, k, gk[k], fd[k], tol);
        if (r > s->worst_kfd || r != r) s->worst_kfd = r != r ? INFINITY : r;
        if (fabs(fd[k]) + fmax_ > 0.0 && !(tk && tk[k] > 1e-4 * (fabs(fd[k]) + fmax_)))   /* well-conditioned */
            s->worst_rel = fmax(s->worst_rel, e / (fabs(fd[k]) + fmax_));
    }
    free(fd);
}

/* got − start for an accumulated output (exact in double), as the kernel's gradient. */
static double *grad_of(const float *got, const float *start, size_t n)
{
    double *g = dal(n);
    for (size_t k = 0; k < n; ++k) g[k] = (double)got[k] - (start ? (double)start[k] : 0.0);
    return g;
}

static void ia_report(ist *s)
{
    stat *st = &s->st;
    int ok = st->fails == 0;
    char fd[24] = "n/a", kfd[24] = "n/a", rel[24] = "";
    if (st->worst_fd >= 0) snprintf(fd, sizeof fd, "%.3g", st->worst_fd);
    if (s->worst_kfd >= 0) snprintf(kfd, sizeof kfd, "%.3g", s->worst_kfd);
    if (s->worst_kfd >= 0) snprintf(rel, sizeof rel, " (rel %.2g)", s->worst_rel);
    printf("%-30s %4d cases  worst err/tol: kernel vs ref %.3g, ref vs FD %s, kernel vs FD %s%s  %s\n", st->name,
           st->cases, st->worst_ref, fd, kfd, rel, ok ? "ok" : "FAILED");
    if (ok) ++n_passed;
    else ++n_failed;
}

/* |got − ref| ≤ rel·(|ref| + max|ref|) + abs: the forward templates against the double forwards. */
static void check_forward(stat *st, const char *what, const float *got, const double *ref, size_t n, double rel)
{
    double m = 0.0;
    for (size_t k = 0; k < n; ++k) m = fmax(m, fabs(ref[k]));
    for (size_t k = 0; k < n; ++k) {
        double tol = rel * (fabs(ref[k]) + m) + 1e-30;
        if (!(fabs(got[k] - ref[k]) <= tol)) {
            fail(st, " (forward template vs the double forward)", what, k, got[k], ref[k], tol);
            break;
        }
    }
}

#endif
