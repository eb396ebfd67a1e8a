/* train_spec.c — see train_spec.h. Defaults follow weaver's published ParT recipe: Ranger (RAdam betas
 * 0.95, 0.999, eps 1e-5), lr 1e-3, flat+decay, batch 512. */
#include "train_spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unknown_key(const hn_ast *map, const char *const *allowed, int n, const char *where)
{
    for (int i = 0; i < map->n; ++i) {
        int ok = 0;
        for (int k = 0; k < n; ++k) ok |= !strcmp(map->keys[i]->text, allowed[k]);
        if (ok) continue;
        const char *near = hn_closest(map->keys[i]->text, allowed, n);
        if (near) return hn_error(map->keys[i]->loc, "unknown key '%s' in %s; did you mean '%s'?", map->keys[i]->text, where, near);
        return hn_error(map->keys[i]->loc, "unknown key '%s' in %s", map->keys[i]->text, where);
    }
    return 0;
}

static int number(const hn_ast *a, const char *what, double lo, double hi, double *out)
{
    if (a->kind != HN_AST_SCALAR) return hn_error(a->loc, "'%s' must be a number", what);
    char *end;
    double v = strtod(a->text, &end);
    if (!a->plain || !*a->text || *end) return hn_error(a->loc, "'%s' must be a number, not '%s'", what, a->text);
    if (v < lo || v > hi) return hn_error(a->loc, "'%s' must be in [%g, %g], got %g", what, lo, hi, v);
    *out = v;
    return 0;
}

static int choice(const hn_ast *a, const char *what, const char *const *opts, int n, char *dst, size_t len)
{
    if (a->kind != HN_AST_SCALAR) return hn_error(a->loc, "'%s' must be a name", what);
    for (int k = 0; k < n; ++k)
        if (!strcmp(a->text, opts[k])) { snprintf(dst, len, "%s", a->text); return 0; }
    const char *near = hn_closest(a->text, opts, n);
    if (near) return hn_error(a->loc, "unknown %s '%s'; did you mean '%s'?", what, a->text, near);
    return hn_error(a->loc, "unknown %s '%s'", what, a->text);
}

/* optimizer: a name, or {name: {lr, weight_decay, momentum, betas: [b1, b2], eps}} */
static int optimizer(const hn_ast *a, hn_train_settings *s)
{
    static const char *const names[] = { "sgd", "adam", "adamw", "radam", "ranger" };
    if (a->kind == HN_AST_SCALAR) return choice(a, "optimizer", names, 5, s->optimizer, sizeof s->optimizer);
    if (a->kind != HN_AST_MAP || a->n != 1) return hn_error(a->loc, "'optimizer' is a name or {NAME: {settings}}");
    if (choice(a->keys[0], "optimizer", names, 5, s->optimizer, sizeof s->optimizer)) return -1;
    const hn_ast *o = a->items[0];
    if (o->kind != HN_AST_MAP) return hn_error(o->loc, "the optimizer's settings must be a mapping");
    static const char *const keys[] = { "lr", "weight_decay", "momentum", "betas", "eps" };
    if (unknown_key(o, keys, 5, "the optimizer")) return -1;
    const hn_ast *v;
    if ((v = hn_ast_get(o, "lr")) && number(v, "lr", 0, 10, &s->lr)) return -1;
    if ((v = hn_ast_get(o, "weight_decay")) && number(v, "weight_decay", 0, 10, &s->weight_decay)) return -1;
    if ((v = hn_ast_get(o, "momentum")) && number(v, "momentum", 0, 1, &s->momentum)) return -1;
    if ((v = hn_ast_get(o, "eps")) && number(v, "eps", 0, 1, &s->eps)) return -1;
    if ((v = hn_ast_get(o, "betas"))) {
        if (v->kind != HN_AST_SEQ || v->n != 2) return hn_error(v->loc, "'betas' is [beta1, beta2]");
        if (number(v->items[0], "beta1", 0, 1, &s->beta1) || number(v->items[1], "beta2", 0, 1, &s->beta2)) return -1;
    }
    return 0;
}

int hn_parse_train(const hn_ast *t, hn_train_settings *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->loss, sizeof s->loss, "cross_entropy");
    snprintf(s->optimizer, sizeof s->optimizer, "ranger");
    snprintf(s->schedule, sizeof s->schedule, "flat_decay");
    s->lr = 1e-3, s->beta1 = 0.95, s->beta2 = 0.999, s->eps = 1e-5, s->momentum = 0.9;
    s->batch = 512, s->epochs = 20, s->seed = 42, s->focal_alpha = 0.25, s->focal_gamma = 2.0;
    if (!t) return 0;
    s->present = 1;
    if (t->kind != HN_AST_MAP) return hn_error(t->loc, "'train' must be a mapping");
    static const char *const keys[] = { "loss", "label_smoothing", "focal", "optimizer", "schedule", "warmup",
                                        "batch", "epochs", "seed", "clip_grad" };
    if (unknown_key(t, keys, 10, "'train'")) return -1;
    static const char *const losses[] = { "cross_entropy", "focal", "bce", "mse" };
    static const char *const schedules[] = { "none", "flat_decay", "cosine", "step" };
    const hn_ast *v;
    double x;
    if ((v = hn_ast_get(t, "loss")) && choice(v, "loss", losses, 4, s->loss, sizeof s->loss)) return -1;
    if ((v = hn_ast_get(t, "label_smoothing")) && number(v, "label_smoothing", 0, 1, &s->label_smoothing)) return -1;
    if ((v = hn_ast_get(t, "focal"))) {
        static const char *const fk[] = { "alpha", "gamma" };
        if (v->kind != HN_AST_MAP) return hn_error(v->loc, "'focal' is {alpha: A, gamma: G}");
        if (unknown_key(v, fk, 2, "'focal'")) return -1;
        const hn_ast *w;
        if ((w = hn_ast_get(v, "alpha")) && number(w, "alpha", 0, 1, &s->focal_alpha)) return -1;
        if ((w = hn_ast_get(v, "gamma")) && number(w, "gamma", 0, 100, &s->focal_gamma)) return -1;
    }
    if ((v = hn_ast_get(t, "optimizer")) && optimizer(v, s)) return -1;
    if ((v = hn_ast_get(t, "schedule")) && choice(v, "schedule", schedules, 4, s->schedule, sizeof s->schedule)) return -1;
    if ((v = hn_ast_get(t, "warmup"))) { if (number(v, "warmup", 0, 1e6, &x)) return -1; s->warmup_epochs = (int)x; }
    if ((v = hn_ast_get(t, "batch"))) { if (number(v, "batch", 1, 1 << 20, &x)) return -1; s->batch = (int)x; }
    if ((v = hn_ast_get(t, "epochs"))) { if (number(v, "epochs", 1, 1e6, &x)) return -1; s->epochs = (int)x; }
    if ((v = hn_ast_get(t, "seed"))) { if (number(v, "seed", 0, 1e15, &x)) return -1; s->seed = (long)x; }
    if ((v = hn_ast_get(t, "clip_grad")) && number(v, "clip_grad", 0, 1e9, &s->clip_grad)) return -1;
    return 0;
}
