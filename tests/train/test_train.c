/* test_train.c — losses, optimisers, clipping and schedules against PyTorch 1.13 / weaver-core 0.4.17
 * (fixtures from tests/train/gen_optim_fixtures.py), plus finite-difference checks of every loss
 * gradient in double. Usage: test_train <fixtures/train_fixtures.bin>. Ends with "N passed, M failed". */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hepnc/loss.h"
#include "hepnc/optim.h"
#include "hepnc/schedule.h"

static int n_pass, n_fail;

static void check(int ok, const char *what, double err) {
  if (ok)
    n_pass++;
  else
    n_fail++;
  printf("%s %-44s max err %.3g\n", ok ? "ok  " : "FAIL", what, err);
}

/* ------------------------------------------------------------------ fixtures */
typedef struct {
  char name[96];
  char kind;
  uint32_t count;
  const unsigned char *data;
} rec;
static rec *recs;
static size_t nrecs;
static unsigned char *blob;

static int load(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  fseek(f, 0, SEEK_END);
  long sz = ftell(f);
  fseek(f, 0, SEEK_SET);
  blob = malloc((size_t)sz);
  if (!blob || fread(blob, 1, (size_t)sz, f) != (size_t)sz) return -1;
  fclose(f);
  if (sz < 6 || memcmp(blob, "HNFX1\n", 6)) return -1;
  size_t off = 6, cap = 0;
  while (off + 4 <= (size_t)sz) {
    uint32_t L, cnt;
    memcpy(&L, blob + off, 4);
    off += 4;
    if (nrecs == cap) recs = realloc(recs, (cap = cap ? 2 * cap : 256) * sizeof *recs);
    rec *r = &recs[nrecs++];
    memset(r->name, 0, sizeof r->name);
    memcpy(r->name, blob + off, L < sizeof r->name - 1 ? L : sizeof r->name - 1);
    off += L;
    r->kind = (char)blob[off++];
    memcpy(&cnt, blob + off, 4);
    off += 4;
    r->count = cnt;
    r->data = blob + off;
    off += (size_t)cnt * (r->kind == 'f' ? 4 : 8);
    if (off > (size_t)sz) return -1;
  }
  return 0;
}

static const rec *find(const char *name) {
  for (size_t i = 0; i < nrecs; i++)
    if (!strcmp(recs[i].name, name)) return &recs[i];
  return NULL;
}
static const rec *need(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#include <stdarg.h>
static const rec *need(const char *fmt, ...) {
  char nm[128];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(nm, sizeof nm, fmt, ap);
  va_end(ap);
  const rec *r = find(nm);
  if (!r) {
    fprintf(stderr, "fixture %s missing\n", nm);
    exit(2);
  }
  return r;
}
/* Copies (the blob is unaligned). */
static float *getf(const rec *r) {
  float *p = malloc(r->count * sizeof(float) + 1);
  memcpy(p, r->data, r->count * sizeof(float));
  return p;
}
static double *getd(const rec *r) {
  double *p = malloc(r->count * sizeof(double) + 1);
  memcpy(p, r->data, r->count * sizeof(double));
  return p;
}
static int64_t *geti(const rec *r) {
  int64_t *p = malloc(r->count * sizeof(int64_t) + 1);
  memcpy(p, r->data, r->count * sizeof(int64_t));
  return p;
}

/* |a − b| / max(|b|, floor): relative error with a floor for elements near zero. */
static double relerr(double a, double b, double floor) {
  double d = fabs(a - b), s = fabs(b) > floor ? fabs(b) : floor;
  if (isnan(a) || isnan(b)) return (isnan(a) && isnan(b)) ? 0.0 : INFINITY;
  return d / s;
}

/* ------------------------------------------------------------------ losses */
enum { L_CE, L_FOCAL, L_BCE, L_MSE };

typedef struct {
  int type;
  size_t n, c;
  double p0, p1; /* eps | alpha, gamma */
  const int64_t *y;
  const double *t, *w, *alpha_c;
} loss_args;

static double eval64(const loss_args *a, const double *x, double *g) {
  switch (a->type) {
  case L_CE: return hn_loss_cross_entropy_f64(x, a->y, a->w, a->n, a->c, a->p0, g);
  case L_FOCAL: return hn_loss_focal_f64(x, a->y, a->w, a->n, a->c, a->p0, a->alpha_c, a->p1, g);
  case L_BCE: return hn_loss_bce_logits_f64(x, a->t, a->w, a->n, a->c, g);
  default: return hn_loss_mse_f64(x, a->t, a->w, a->n, a->c, g);
  }
}

static double worst_loss_rel, worst_loss_fd;

static void loss_case(const char *name, int type) {
  double *shape = getd(need("%s.shape", name));
  size_t n = (size_t)shape[0], c = (size_t)shape[1], nc = n * c;
  float *x = getf(need("%s.x", name));
  const rec *ry, *rw;
  char nm[96];
  snprintf(nm, sizeof nm, "%s.y", name);
  ry = find(nm);
  snprintf(nm, sizeof nm, "%s.w", name);
  rw = find(nm);
  snprintf(nm, sizeof nm, "%s.alpha_c", name);
  const rec *ra = find(nm);
  int64_t *y = ry ? geti(ry) : NULL;
  float *t = ry ? NULL : getf(need("%s.t", name));
  float *w = rw ? getf(rw) : NULL, *ac = ra ? getf(ra) : NULL;
  double ref = getd(need("%s.value", name))[0], *gref = getd(need("%s.grad", name));
  float *g = malloc(nc * sizeof(float));
  double v;
  switch (type) {
  case L_CE: v = hn_loss_cross_entropy(x, y, w, n, c, shape[2], g); break;
  case L_FOCAL: v = hn_loss_focal(x, y, w, n, c, shape[2], ac, shape[3], g); break;
  case L_BCE: v = hn_loss_bce_logits(x, t, w, n, c, g); break;
  default: v = hn_loss_mse(x, t, w, n, c, g); break;
  }
  double gmax = 0.0, e = 0.0;
  for (size_t i = 0; i < nc; i++) gmax = fmax(gmax, fabs(gref[i]));
  for (size_t i = 0; i < nc; i++) e = fmax(e, relerr(g[i], gref[i], 1e-6 * gmax));
  double ev = relerr(v, ref, 0.0);
  char what[96];
  snprintf(what, sizeof what, "loss %s value vs torch", name);
  check(ev <= 1e-6, what, ev);
  snprintf(what, sizeof what, "loss %s grad vs torch", name);
  check(e <= 1e-6, what, e);
  worst_loss_rel = fmax(worst_loss_rel, fmax(e, ev));

  /* finite differences in double: central, h = 1e-6·max(1, |x|) */
  loss_args a = {type, n, c, shape[2], c > 0 && type == L_FOCAL ? shape[3] : 0, y, NULL, NULL, NULL};
  double *xd = malloc(nc * sizeof(double)), *gd = malloc(nc * sizeof(double)), *td = NULL, *wd = NULL, *acd = NULL;
  for (size_t i = 0; i < nc; i++) xd[i] = x[i];
  if (t) {
    td = malloc(nc * sizeof(double));
    for (size_t i = 0; i < nc; i++) td[i] = t[i];
    a.t = td;
  }
  if (w) {
    wd = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) wd[i] = w[i];
    a.w = wd;
  }
  if (ac) {
    acd = malloc(c * sizeof(double));
    for (size_t i = 0; i < c; i++) acd[i] = ac[i];
    a.alpha_c = acd;
  }
  eval64(&a, xd, gd);
  double gdmax = 0.0, efd = 0.0;
  for (size_t i = 0; i < nc; i++) gdmax = fmax(gdmax, fabs(gd[i]));
  for (size_t i = 0; i < nc; i++) {
    double x0 = xd[i], h = 1e-6 * fmax(1.0, fabs(x0));
    xd[i] = x0 + h;
    double fp = eval64(&a, xd, NULL);
    xd[i] = x0 - h;
    double fm = eval64(&a, xd, NULL);
    xd[i] = x0;
    double fd = (fp - fm) / (2 * h);
    efd = fmax(efd, fabs(fd - gd[i]) / fmax(fabs(gd[i]), 1e-3 * gdmax));
  }
  snprintf(what, sizeof what, "loss %s grad vs finite diff (f64)", name);
  check(efd <= 1e-5, what, efd);
  worst_loss_fd = fmax(worst_loss_fd, efd);
  /* the double path agrees with the float path */
  double v64 = eval64(&a, xd, NULL);
  snprintf(what, sizeof what, "loss %s f64 value = f32 value", name);
  check(v64 == v, what, fabs(v64 - v));
  free(x), free(y), free(t), free(w), free(ac), free(gref), free(g), free(xd), free(gd), free(td), free(wd),
      free(acd), free(shape);
}

static void test_losses(void) {
  loss_case("ce", L_CE);
  loss_case("ce_ls", L_CE);
  loss_case("ce_ls_w", L_CE);
  loss_case("ce_big", L_CE);
  loss_case("focal", L_FOCAL);
  loss_case("focal_g0", L_FOCAL);
  loss_case("focal_g05_w", L_FOCAL);
  loss_case("focal_big", L_FOCAL);
  loss_case("focal_cls", L_FOCAL);
  loss_case("bce", L_BCE);
  loss_case("bce_soft_w", L_BCE);
  loss_case("mse", L_MSE);
  loss_case("mse_w", L_MSE);
  /* edge cases: empty batch, bad label, zero weights */
  float xx[4] = {0.f, 1.f, 2.f, 3.f}, w0[2] = {0.f, 0.f};
  int64_t bad[2] = {0, 2};
  check(isnan(hn_loss_cross_entropy(xx, bad, NULL, 0, 2, 0.0, NULL)), "loss: n = 0 gives NaN", 0);
  check(isnan(hn_loss_cross_entropy(xx, bad, NULL, 2, 2, 0.0, NULL)), "loss: label out of range gives NaN", 0);
  check(isnan(hn_loss_mse(xx, xx, w0, 2, 2, NULL)), "loss: zero weight sum gives NaN", 0);
  /* focal with γ = 0, α = 1 is cross-entropy */
  float *x = getf(need("ce.x"));
  int64_t *y = geti(need("ce.y"));
  double a = hn_loss_cross_entropy(x, y, NULL, 13, 5, 0.0, NULL), b = hn_loss_focal(x, y, NULL, 13, 5, 1.0, NULL, 0.0, NULL);
  check(fabs(a - b) <= 1e-15 * fabs(a), "loss: focal(α=1, γ=0) = cross-entropy", fabs(a - b));
  free(x), free(y);
}

/* ------------------------------------------------------------------ optimisers */
typedef struct {
  const char *name;
  hn_optim o;
  double lr_mult0; /* lr multiplier of tensor 0 (ranger_lrmult) */
} opt_case;

static double worst_opt_rel, worst_opt_abs;

static void run_opt(const opt_case *oc) {
  const int64_t *meta = geti(need("opt.meta"));
  int nt = (int)meta[0], steps = (int)meta[1];
  float *param[8], *state[8];
  hn_param_group g[8];
  double *lrs = getd(need("opt.%s.lr", oc->name));
  for (int j = 0; j < nt; j++) {
    const rec *r = need("opt.init.%d", j);
    param[j] = getf(r);
    g[j] = (hn_param_group){param[j], NULL, r->count, NULL, 0.0, (int)geti(need("opt.no_decay.%d", j))[0]};
    state[j] = malloc(hn_optim_state_size(&oc->o, r->count) * sizeof(float));
    g[j].state = state[j];
    hn_optim_init(&oc->o, &g[j]);
  }
  double emax = 0.0, amax = 0.0;
  int rc = 0;
  for (int s = 0; s < steps; s++) {
    for (int j = 0; j < nt; j++) {
      float *gr = getf(need("opt.grad.%d.%d", s, j));
      g[j].grad = gr;
      g[j].lr = lrs[s] * (j == 0 ? oc->lr_mult0 : 1.0);
      rc |= hn_optim_step(&oc->o, &g[j]);
      free(gr);
      float *ref = getf(need("opt.%s.%d.%d", oc->name, s, j));
      for (size_t i = 0; i < g[j].n; i++) {
        emax = fmax(emax, relerr(param[j][i], ref[i], 0.0));
        if (getenv("HN_DEBUG") && param[j][i] != ref[i]) printf("  diff %s step %d t%d i%zu %.9g %.9g\n", oc->name, s, j, i, param[j][i], ref[i]);
        amax = fmax(amax, fabs(param[j][i] - ref[i]));
      }
      free(ref);
    }
  }
  char what[96];
  snprintf(what, sizeof what, "optim %s: %d steps, rel err per element", oc->name, steps);
  check(rc == 0 && emax <= 1e-5, what, emax);
  printf("     (%s: max abs err %.3g, step count %lld)\n", oc->name, amax, (long long)hn_optim_step_count(state[0]));
  worst_opt_rel = fmax(worst_opt_rel, emax);
  worst_opt_abs = fmax(worst_opt_abs, amax);
  for (int j = 0; j < nt; j++) free(param[j]), free(state[j]);
  free(lrs);
}

/* Checkpointing: stopping after s steps, copying params + state and going on from the copies gives the
 * same bytes as an uninterrupted run. */
static void test_checkpoint(const hn_optim *o, const char *name) {
  const rec *r = need("opt.init.0");
  size_t n = r->count, ns = hn_optim_state_size(o, n);
  float *p1 = getf(r), *s1 = malloc(ns * sizeof(float)), *p2 = malloc(n * sizeof(float)), *s2 = malloc(ns * sizeof(float));
  hn_param_group a = {p1, NULL, n, s1, 1e-2, 0}, b = a;
  hn_optim_init(o, &a);
  for (int s = 0; s < 13; s++) {
    if (s == 5) {
      memcpy(p2, p1, n * sizeof(float));
      memcpy(s2, s1, ns * sizeof(float));
      b = (hn_param_group){p2, NULL, n, s2, 1e-2, 0};
    }
    float *gr = getf(need("opt.grad.%d.0", s));
    a.grad = gr;
    hn_optim_step(o, &a);
    if (s >= 5) {
      b.grad = gr;
      hn_optim_step(o, &b);
    }
    free(gr);
  }
  char what[96];
  snprintf(what, sizeof what, "optim %s: resume from copied state", name);
  check(!memcmp(p1, p2, n * sizeof(float)) && !memcmp(s1, s2, ns * sizeof(float)), what, 0);
  free(p1), free(s1), free(p2), free(s2);
}

static void test_optim(void) {
  const double wd = 1e-2;
  opt_case cases[] = {
      {"sgd", hn_optim_sgd(0, 0, 0, 0), 1},
      {"sgd_mom", hn_optim_sgd(0.9, 0.1, 0, wd), 1},
      {"sgd_nesterov", hn_optim_sgd(0.8, 0, 1, 1e-3), 1},
      {"adam", hn_optim_adam(0.9, 0.999, 1e-8, 0), 1},
      {"adam_l2", hn_optim_adam(0.8, 0.99, 1e-6, wd), 1},
      {"adamw", hn_optim_adamw(0.9, 0.999, 1e-8, 0.05), 1},
      {"radam", hn_optim_radam(0.9, 0.999, 1e-8, 0), 1},
      {"radam_l2", hn_optim_radam(0.9, 0.95, 1e-7, wd), 1},
      {"la_adam", hn_optim_lookahead(hn_optim_adam(0.9, 0.999, 1e-8, 0), 3, 0.5), 1},
      {"la_sgd", hn_optim_lookahead(hn_optim_sgd(0.9, 0, 0, wd), 4, 0.8), 1},
      {"ranger", hn_optim_ranger(0), 1},
      {"ranger_wd", hn_optim_ranger(wd), 1},
      {"ranger_lrmult", hn_optim_ranger(wd), 50},
      {"la_wradam_nodegen", hn_optim_lookahead(hn_optim_radam_weaver(0.9, 0.999, 1e-8, 0, 0), 5, 0.5), 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) run_opt(&cases[i]);
  hn_optim r = hn_optim_ranger(0.01);
  check(r.kind == HN_OPT_RADAM_WEAVER && r.beta1 == 0.95 && r.beta2 == 0.999 && r.eps == 1e-5 &&
            r.degenerated_to_sgd && r.lookahead_k == 6 && r.lookahead_alpha == 0.5,
        "optim: ranger has weaver's settings", 0);
  check(hn_optim_state_size(&r, 10) == 4 + 30 && hn_optim_state_size(&cases[0].o, 10) == 4 &&
            hn_optim_state_size(&cases[1].o, 10) == 14,
        "optim: state sizes", 0);
  test_checkpoint(&r, "ranger");
  test_checkpoint(&cases[1].o, "sgd_mom");
  hn_optim bad = hn_optim_sgd(0.9, 0.1, 1, 0);
  float p = 1, gg = 1, st[8];
  hn_param_group g1 = {&p, &gg, 1, st, 0.1, 0};
  hn_optim_init(&bad, &g1);
  check(hn_optim_step(&bad, &g1) == -1, "optim: nesterov with dampening refused", 0);
  const char *ex[] = {"cls_token"};
  check(hn_param_no_decay("fc.weight", 2, ex, 1) == 0 && hn_param_no_decay("fc.bias", 2, ex, 1) == 1 &&
            hn_param_no_decay("norm.weight", 1, ex, 1) == 1 && hn_param_no_decay("cls_token", 3, ex, 1) == 1 &&
            hn_param_no_decay("bias", 2, ex, 1) == 0,
        "optim: weaver's no-decay rule", 0);
  /* step counter beyond 2^24 stays exact */
  float big[8] = {0};
  hn_optim sg = hn_optim_sgd(0, 0, 0, 0);
  hn_param_group gb = {&p, &gg, 1, big, 0.0, 0};
  big[0] = 1.0f, big[1] = 16777215.0f; /* 2^25 − 1 */
  hn_optim_step(&sg, &gb);
  check(hn_optim_step_count(big) == 33554432, "optim: step count past 2^24", 0);
}

/* ------------------------------------------------------------------ clipping */
static void test_clip(void) {
  const char *names[] = {"clip_l2", "clip_none", "clip_inf"};
  for (int c = 0; c < 3; c++) {
    double *args = getd(need("%s.args", names[c])), tn_ref = getd(need("%s.norm", names[c]))[0];
    float *g[6];
    size_t sz[6];
    for (int j = 0; j < 6; j++) {
      const rec *r = need("opt.grad.0.%d", j);
      g[j] = getf(r);
      sz[j] = r->count;
    }
    double tn = hn_clip_grad_norm(g, sz, 6, args[0], args[1]), e = relerr(tn, tn_ref, 0.0);
    for (int j = 0; j < 6; j++) {
      float *ref = getf(need("%s.%d", names[c], j));
      for (size_t i = 0; i < sz[j]; i++) e = fmax(e, relerr(g[j][i], ref[i], 0.0));
      free(ref), free(g[j]);
    }
    char what[96];
    snprintf(what, sizeof what, "clip %s (norm and grads)", names[c]);
    check(e <= 1e-6, what, e);
    free(args);
  }
}

/* ------------------------------------------------------------------ schedules */
static void sched_case(const char *fixture, const hn_schedule *s, int per_step) {
  const rec *r = need("%s", fixture);
  double *ref = getd(r), e = 0.0;
  for (uint32_t i = 0; i < r->count; i++) {
    double lr = per_step ? hn_schedule_lr(s, 0, i) : hn_schedule_lr(s, i, 0);
    e = fmax(e, relerr(lr, ref[i], 0.0));
  }
  char what[96];
  snprintf(what, sizeof what, "schedule %s (%u points)", fixture, r->count);
  check(e <= 1e-9, what, e);
  free(ref);
}

static void test_sched(void) {
  int Es[] = {20, 3, 50, 7};
  for (int i = 0; i < 4; i++) {
    hn_schedule s = hn_schedule_make(HN_SCHED_FLAT_DECAY, 1e-3);
    s.epochs = Es[i];
    char nm[64];
    snprintf(nm, sizeof nm, "sched.flat_decay.%d", Es[i]);
    sched_case(nm, &s, 0);
  }
  int Ew[] = {9, 10, 20};
  for (int i = 0; i < 3; i++) {
    hn_schedule s = hn_schedule_make(HN_SCHED_STEPS_WEAVER, 0.1);
    s.epochs = Ew[i];
    char nm[64];
    snprintf(nm, sizeof nm, "sched.steps_weaver.%d", Ew[i]);
    sched_case(nm, &s, 0);
  }
  hn_schedule s = hn_schedule_make(HN_SCHED_COSINE, 0.1);
  s.t_max = 7, s.eta_min = 1e-4;
  sched_case("sched.cosine", &s, 0);
  s = hn_schedule_make(HN_SCHED_STEP, 0.1);
  s.step_size = 3, s.gamma = 0.5;
  sched_case("sched.step", &s, 0);
  s = hn_schedule_make(HN_SCHED_CONSTANT, 0.1);
  s.warmup_steps = 5, s.warmup_start_factor = 0.1;
  sched_case("sched.warmup", &s, 1);
  s = hn_schedule_make(HN_SCHED_FLAT_LINEAR, 2e-3);
  s.epochs = 5, s.steps_per_epoch = 4, s.warmup_steps = 3;
  sched_case("sched.flat_linear", &s, 1);
  s.kind = HN_SCHED_FLAT_COS;
  sched_case("sched.flat_cos", &s, 1);
  /* weaver's published JetClass setting: 50 epochs → 35 flat, last epoch at 1% */
  check(hn_lr_flat_decay(1e-3, 50, 34) == 1e-3 && fabs(hn_lr_flat_decay(1e-3, 50, 49) - 1e-5) < 1e-18,
        "schedule: flat+decay 50 epochs (flat to 34, 1e-5 at 49)", 0);
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "tests/train/fixtures/train_fixtures.bin";
  if (load(path)) {
    fprintf(stderr, "cannot read fixtures %s\n", path);
    return 2;
  }
  test_losses();
  test_optim();
  test_clip();
  test_sched();
  printf("worst: loss vs torch %.3g, loss vs finite diff %.3g, optimiser rel %.3g (abs %.3g)\n", worst_loss_rel,
         worst_loss_fd, worst_opt_rel, worst_opt_abs);
  printf("%d passed, %d failed\n", n_pass, n_fail);
  return n_fail ? 1 : 0;
}
