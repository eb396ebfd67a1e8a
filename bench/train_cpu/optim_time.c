/* optim_time.c — median time (ms) of one AdamW step (hepnc/optim.h) over N parameters in one group:
 * the optimiser's share of a training step, added to `hepnc gradcheck --time` by run.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <hepnc/optim.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 1000000;
    hn_optim o = hn_optim_adamw(0.9, 0.999, 1e-8, 0.01);
    float *p = calloc(n, sizeof *p), *g = calloc(n, sizeof *g), *s = calloc(hn_optim_state_size(&o, n) + 1, sizeof *s);
    for (size_t i = 0; i < n; ++i) { p[i] = 0.01f * (float)(i % 97); g[i] = 1e-3f * (float)(i % 13); }
    hn_param_group grp = { p, g, n, s, 1e-4, 0 };
    hn_optim_init(&o, &grp);
    double t[9];
    for (int r = 0; r < 9; ++r) { double t0 = now(); hn_optim_step(&o, &grp); t[r] = 1e3 * (now() - t0); }
    qsort(t, 9, sizeof *t, cmp);
    printf("%.3f\n", t[4]);
    return 0;
}
