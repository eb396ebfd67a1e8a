/* lower.c — spec AST → graph IR, with every schema check of the front-end.
 *
 * The checks are driven by the op table: a layer's keys are its op's attributes, typed and
 * documented there. Layers may be listed in any order; they are lowered in dependency order
 * (spec order where it is already one) and a cycle is an error. */
#include "lower.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "topology.h"
#include "train_spec.h"

/* ---- scalar parsing -------------------------------------------------------------------------- */

static int is_identifier(const char *s)
{
    if (!(isalpha((unsigned char)*s) || *s == '_')) return 0;
    for (++s; *s; ++s)
        if (!(isalnum((unsigned char)*s) || *s == '_')) return 0;
    return 1;
}

static int expect_kind(const hn_ast *a, hn_ast_kind kind, const char *what)
{
    if (a->kind == kind) return 0;
    return hn_error(a->loc, "%s must be a %s, not a %s", what, hn_ast_kind_name(kind), hn_ast_kind_name(a->kind));
}

/* An integer ≥ `least` (1: positive, 0: a count that may be zero). */
static int parse_int(const hn_ast *a, const char *what, long *out, long least)
{
    if (expect_kind(a, HN_AST_SCALAR, what)) return -1;
    char *end;
    errno = 0;
    long v = strtol(a->text, &end, 10);
    if (!a->plain || *a->text == '\0' || *end != '\0' || errno)
        return hn_error(a->loc, "%s must be an integer, not '%s'", what, a->text);
    if (v < least)
        return hn_error(a->loc, least ? "%s must be positive, got %ld" : "%s must not be negative, got %ld", what, v);
    if (v > 1 << 24)
        return hn_error(a->loc, "%s is implausibly large (%ld)", what, v);
    *out = v;
    return 0;
}

static int parse_float(const hn_ast *a, const char *what, double *out)
{
    if (expect_kind(a, HN_AST_SCALAR, what)) return -1;
    if (a->plain && (!strcmp(a->text, ".inf") || !strcmp(a->text, "+.inf") || !strcmp(a->text, "-.inf"))) {
        *out = a->text[0] == '-' ? -HUGE_VAL : HUGE_VAL;
        return 0;
    }
    char *end;
    double v = strtod(a->text, &end);
    if (!a->plain || *a->text == '\0' || *end != '\0')
        return hn_error(a->loc, "%s must be a number, not '%s'", what, a->text);
    *out = v;
    return 0;
}

static int parse_bool(const hn_ast *a, const char *what, long *out)
{
    if (expect_kind(a, HN_AST_SCALAR, what)) return -1;
    if (a->plain && strcmp(a->text, "true") == 0) { *out = 1; return 0; }
    if (a->plain && strcmp(a->text, "false") == 0) { *out = 0; return 0; }
    return hn_error(a->loc, "%s must be true or false, not '%s'", what, a->text);
}

static int parse_name(const hn_ast *a, const char *what, char *dst, size_t n)
{
    if (expect_kind(a, HN_AST_SCALAR, what)) return -1;
    if (!is_identifier(a->text))
        return hn_error(a->loc, "%s must be a name (letters, digits, '_'), not '%s'", what, a->text);
    if (strlen(a->text) > 63 || strlen(a->text) >= n)
        return hn_error(a->loc, "%s '%s' is too long (at most 63 characters)", what, a->text);
    snprintf(dst, n, "%s", a->text);
    return 0;
}

/* Unknown-key check for a mapping against a list of allowed keys, with "did you mean". */
static int check_keys(const hn_ast *map, const char *const *allowed, int nallowed, const char *where)
{
    for (int i = 0; i < map->n; ++i) {
        int ok = 0;
        for (int k = 0; k < nallowed; ++k)
            ok |= strcmp(map->keys[i]->text, allowed[k]) == 0;
        if (ok) continue;
        const char *near = hn_closest(map->keys[i]->text, allowed, nallowed);
        if (near)
            return hn_error(map->keys[i]->loc, "unknown key '%s' in %s; did you mean '%s'?", map->keys[i]->text,
                            where, near);
        hn_error(map->keys[i]->loc, "unknown key '%s' in %s", map->keys[i]->text, where);
        fprintf(stderr, "  allowed keys:");
        for (int k = 0; k < nallowed; ++k) fprintf(stderr, " %s", allowed[k]);
        fputc('\n', stderr);
        return -1;
    }
    return 0;
}

static const hn_ast *require(const hn_ast *map, const char *key, const char *where)
{
    const hn_ast *v = hn_ast_get(map, key);
    if (!v) hn_error(map->loc, "%s is missing the required key '%s'", where, key);
    return v;
}

/* ---- inputs ---------------------------------------------------------------------------------- */

/* A set's 4-vectors (px, py, pz, E per row) are an input tensor of their own, "<set>_p4", bounded by
 * the set's run-time count. */
static int add_vectors_input(hn_graph *g, const char *set_name, int set, hn_loc loc)
{
    if (g->ninputs == 16) return hn_error(loc, "at most 16 inputs (4-vectors count as one) are supported");
    char name[HN_NAME + 8];
    snprintf(name, sizeof name, "%s_p4", set_name);
    if (hn_graph_find_tensor(g, name) >= 0) return hn_error(loc, "'%s' is already defined", name);
    hn_shape s = { .rank = 2, .dim = { g->tensors[g->inputs[set]].shape.dim[0], 4 }, .nset = 1, .set = set };
    int t = hn_graph_add_tensor(g, name, s, loc);
    hn_tensor *tt = &g->tensors[t];
    tt->role = HN_T_INPUT;
    tt->input = g->ninputs;
    tt->vectors_of = set;
    static const char *const comps[4] = { "px", "py", "pz", "E" };
    for (int i = 0; i < 4; ++i) snprintf(tt->features[i], sizeof tt->features[i], "%s", comps[i]);
    tt->nfeatures = 4;
    g->inputs[g->ninputs++] = t;
    return 0;
}

/* One feature's standardisation, weaver's manual form: [center, scale] or {center, scale, min, max};
 * min/max default to -5/5 as in weaver's data configs. */
static int parse_preprocess_entry(const hn_ast *v, float *c, float *s, float *lo, float *hi)
{
    double x[4] = { 0, 1, -5, 5 };
    if (v->kind == HN_AST_SEQ) {
        if (v->n != 2) return hn_error(v->loc, "a preprocess entry is [center, scale] or {center, scale, min, max}");
        if (parse_float(v->items[0], "'center'", &x[0]) || parse_float(v->items[1], "'scale'", &x[1])) return -1;
    } else if (v->kind == HN_AST_MAP) {
        static const char *const keys[] = { "center", "scale", "min", "max" };
        if (check_keys(v, keys, 4, "a preprocess entry")) return -1;
        for (int k = 0; k < 4; ++k) {
            const hn_ast *e = hn_ast_get(v, keys[k]);
            if (e && parse_float(e, keys[k], &x[k])) return -1;
        }
        if (!hn_ast_get(v, "center") || !hn_ast_get(v, "scale"))
            return hn_error(v->loc, "a preprocess entry needs 'center' and 'scale'");
    } else {
        return hn_error(v->loc, "a preprocess entry is [center, scale] or {center, scale, min, max}");
    }
    if (x[2] > x[3]) return hn_error(v->loc, "'min' is above 'max'");
    *c = (float)x[0], *s = (float)x[1], *lo = (float)x[2], *hi = (float)x[3];
    return 0;
}

/* `preprocess:` of an input becomes a standardize node right after it; every layer that names the
 * input reads the standardised tensor (lower_ctx's resolve maps it). */
static int add_preprocess(hn_graph *g, int input, const hn_ast *pre)
{
    hn_tensor *t = &g->tensors[input];
    if (expect_kind(pre, HN_AST_MAP, "'preprocess'")) return -1;
    int node = hn_new_node(g, HN_OP_standardize, "", NULL, &input, 1);
    hn_node *n = &g->nodes[node];
    snprintf(n->name, sizeof n->name, "%s.standardized", t->name);
    snprintf(n->layer, sizeof n->layer, "%s", t->name);
    n->loc = pre->loc;
    hn_attr_val *c = (hn_attr_val *)hn_attr(n, "center"), *s = (hn_attr_val *)hn_attr(n, "scale");
    hn_attr_val *lo = (hn_attr_val *)hn_attr(n, "min"), *hi = (hn_attr_val *)hn_attr(n, "max");
    for (int f = 0; f < t->nfeatures; ++f) {
        c->floats[f] = 0.0f, s->floats[f] = 1.0f, lo->floats[f] = -INFINITY, hi->floats[f] = INFINITY;
    }
    c->nfloats = s->nfloats = lo->nfloats = hi->nfloats = t->nfeatures;
    c->set = s->set = lo->set = hi->set = 1;
    for (int i = 0; i < pre->n; ++i) {
        const char *feat = pre->keys[i]->text;
        int f = -1;
        for (int k = 0; k < t->nfeatures; ++k)
            if (!strcmp(t->features[k], feat)) f = k;
        if (f < 0) {
            const char *cands[HN_MAX_LIST];
            for (int k = 0; k < t->nfeatures; ++k) cands[k] = t->features[k];
            const char *near = hn_closest(feat, cands, t->nfeatures);
            if (near) return hn_error(pre->keys[i]->loc, "'%s' is not a feature of '%s'; did you mean '%s'?", feat, t->name, near);
            return hn_error(pre->keys[i]->loc, "'%s' is not a feature of '%s'", feat, t->name);
        }
        if (parse_preprocess_entry(pre->items[i], &c->floats[f], &s->floats[f], &lo->floats[f], &hi->floats[f])) return -1;
    }
    char name[HN_NAME + 16];
    snprintf(name, sizeof name, "%s.standardized", t->name);
    int out = hn_finish_node(g, node, name);
    if (out < 0) return -1;
    hn_tensor *o = &g->tensors[out];
    o->nfeatures = g->tensors[input].nfeatures;        /* same features, so slices by name still work */
    memcpy(o->features, g->tensors[input].features, sizeof o->features);
    g->tensors[input].standardized = out;
    return 0;
}

static int lower_input(hn_graph *g, const hn_ast *key, const hn_ast *def)
{
    char name[HN_NAME], where[HN_NAME + 16];
    if (parse_name(key, "an input name", name, sizeof name)) return -1;
    snprintf(where, sizeof where, "input '%s'", name);
    if (expect_kind(def, HN_AST_MAP, where)) return -1;
    static const char *const keys[] = { "features", "max", "mask", "vectors", "preprocess", "pairs" };
    if (check_keys(def, keys, 6, where)) return -1;
    if (hn_graph_find_tensor(g, name) >= 0)
        return hn_error(key->loc, "input '%s' is defined twice", name);

    const hn_ast *feats = require(def, "features", where);
    if (!feats || expect_kind(feats, HN_AST_SEQ, "'features'")) return -1;
    if (feats->n == 0) return hn_error(feats->loc, "'features' must name at least one feature");
    if (feats->n > HN_MAX_LIST) return hn_error(feats->loc, "at most %d features are supported", HN_MAX_LIST);

    hn_shape s = { .rank = 1, .dim = { feats->n }, .nset = 0, .set = -1 };
    long max = 0, mask = 0, vectors = 0;
    const hn_ast *max_ast = hn_ast_get(def, "max"), *mask_ast = hn_ast_get(def, "mask");
    const hn_ast *vec_ast = hn_ast_get(def, "vectors");
    if (max_ast && parse_int(max_ast, "'max'", &max, 1)) return -1;
    if (mask_ast && parse_bool(mask_ast, "'mask'", &mask)) return -1;
    if (vec_ast && parse_bool(vec_ast, "'vectors'", &vectors)) return -1;
    if (mask && !max) return hn_error(mask_ast->loc, "'mask' needs 'max': only a set input has a run-time size");
    if (vectors && !max) return hn_error(vec_ast->loc, "'vectors' needs 'max': 4-vectors belong to a set's rows");
    const hn_ast *pairs_ast = hn_ast_get(def, "pairs");
    int pairs_of = -1;
    if (pairs_ast) {          /* features of every ordered pair of a set's rows: [n, n, C] */
        if (max_ast || mask_ast || vec_ast)
            return hn_error(pairs_ast->loc, "a pair input takes its size from its set: no 'max', 'mask' or 'vectors'");
        if (expect_kind(pairs_ast, HN_AST_SCALAR, "'pairs'")) return -1;
        for (int i = 0; i < g->ninputs; ++i)
            if (!strcmp(g->tensors[g->inputs[i]].name, pairs_ast->text) && g->tensors[g->inputs[i]].shape.nset == 1 &&
                g->tensors[g->inputs[i]].vectors_of < 0)
                pairs_of = i;
        if (pairs_of < 0)
            return hn_error(pairs_ast->loc, "'pairs' names the set input whose pairs these are (declared above): '%s' is not one",
                            pairs_ast->text);
    }
    if (max) {
        s.rank = 2;
        s.dim[0] = (int)max;
        s.dim[1] = feats->n;
        s.nset = 1;
        s.set = g->ninputs;
    }
    if (pairs_of >= 0) {
        int m = g->tensors[g->inputs[pairs_of]].shape.dim[0];
        hn_shape ps = { .rank = 3, .dim = { m, m, feats->n }, .nset = 2, .set = pairs_of };
        s = ps;
    }
    int t = hn_graph_add_tensor(g, name, s, key->loc);
    hn_tensor *tt = &g->tensors[t];
    tt->role = HN_T_INPUT;
    tt->input = g->ninputs;
    tt->masked = (int)mask;
    tt->pairs_of = pairs_of;
    for (int i = 0; i < feats->n; ++i) {
        const hn_ast *f = feats->items[i];
        if (expect_kind(f, HN_AST_SCALAR, "a feature name")) return -1;
        if (!f->text[0] || strlen(f->text) >= sizeof tt->features[0])
            return hn_error(f->loc, "feature names must be 1 to %d characters", (int)sizeof tt->features[0] - 1);
        for (int j = 0; j < i; ++j)
            if (strcmp(tt->features[j], f->text) == 0)
                return hn_error(f->loc, "feature '%s' is listed twice in input '%s'", f->text, name);
        snprintf(tt->features[i], sizeof tt->features[i], "%s", f->text);
    }
    tt->nfeatures = feats->n;
    int set = g->ninputs;
    g->inputs[g->ninputs++] = t;
    if (vectors && add_vectors_input(g, name, set, key->loc)) return -1;
    const hn_ast *pre = hn_ast_get(def, "preprocess");
    return pre ? add_preprocess(g, t, pre) : 0;
}

static int lower_inputs(hn_graph *g, const hn_ast *inputs)
{
    if (expect_kind(inputs, HN_AST_MAP, "'inputs'")) return -1;
    if (inputs->n == 0) return hn_error(inputs->loc, "'inputs' must declare at least one input");
    if (inputs->n > 16) return hn_error(inputs->loc, "at most 16 inputs are supported");
    for (int i = 0; i < inputs->n; ++i)
        if (lower_input(g, inputs->keys[i], inputs->items[i])) return -1;
    return 0;
}

/* ---- layers ---------------------------------------------------------------------------------- */

typedef struct layer_info {
    const hn_ast *def;
    char name[HN_NAME];
    int op;
    int state;                  /* 0 unvisited, 1 in progress, 2 lowered */
    int tensor;                 /* output tensor once lowered */
} layer_info;

typedef struct lower_ctx {
    hn_graph *g;
    layer_info *layers;
    int nlayers;
} lower_ctx;

static int check_layer_header(lower_ctx *c, int i)
{
    layer_info *L = &c->layers[i];
    const hn_ast *def = L->def;
    if (expect_kind(def, HN_AST_MAP, "a layer")) return -1;
    const hn_ast *name = require(def, "name", "this layer");
    if (!name || parse_name(name, "a layer name", L->name, sizeof L->name)) return -1;
    char where[HN_NAME + 16];
    snprintf(where, sizeof where, "layer '%s'", L->name);
    const hn_ast *op = require(def, "op", where);
    if (!op || expect_kind(op, HN_AST_SCALAR, "'op'")) return -1;
    L->op = hn_op_find(op->text);
    if (L->op < 0) {
        const char *near = hn_closest(op->text, hn_op_names(), HN_NUM_OPS);
        if (near) return hn_error(op->loc, "unknown op '%s'; did you mean '%s'?", op->text, near);
        return hn_error(op->loc, "unknown op '%s' (see 'hepnc ops' for the list)", op->text);
    }
    const hn_op_def *d = hn_op(L->op);
    const char *allowed[HN_MAX_ATTRS + 2] = { "name", "op" };
    for (int a = 0; a < d->nattrs; ++a) allowed[a + 2] = d->attrs[a].key;
    char where_op[2 * HN_NAME];
    snprintf(where_op, sizeof where_op, "layer '%s' (op %s)", L->name, d->name);
    if (check_keys(def, allowed, d->nattrs + 2, where_op)) return -1;
    if (hn_graph_find_tensor(c->g, L->name) >= 0)
        return hn_error(name->loc, "'%s' is already the name of an input", L->name);
    for (int j = 0; j < i; ++j)
        if (strcmp(c->layers[j].name, L->name) == 0) {
            hn_error(name->loc, "duplicate layer name '%s'", L->name);
            hn_note(hn_ast_get(c->layers[j].def, "name")->loc, "'%s' was first defined here", L->name);
            return -1;
        }
    return 0;
}

static int find_layer(const lower_ctx *c, const char *name)
{
    for (int i = 0; i < c->nlayers; ++i)
        if (strcmp(c->layers[i].name, name) == 0) return i;
    return -1;
}

static int lower_layer(lower_ctx *c, int i);

/* Resolves one tensor reference, lowering the layer it names first when needed. */
static int resolve_tensor(lower_ctx *c, const hn_ast *ref, int from_layer)
{
    if (expect_kind(ref, HN_AST_SCALAR, "a tensor reference")) return -1;
    int t = hn_graph_find_tensor(c->g, ref->text);
    int L = find_layer(c, ref->text);
    if (L >= 0) {
        if (c->layers[L].state == 1) {
            hn_error(ref->loc, "cycle: layer '%s' reads '%s', which depends on '%s' in turn",
                     c->layers[from_layer].name, ref->text, c->layers[from_layer].name);
            return -1;
        }
        if (c->layers[L].state == 0 && lower_layer(c, L)) return -1;
        return c->layers[L].tensor;
    }
    if (t >= 0 && c->g->tensors[t].role == HN_T_INPUT)
        return c->g->tensors[t].standardized >= 0 ? c->g->tensors[t].standardized : t;
    const char *cands[256];
    int n = 0;
    for (int k = 0; k < c->g->ninputs && n < 256; ++k) cands[n++] = c->g->tensors[c->g->inputs[k]].name;
    for (int k = 0; k < c->nlayers && n < 256; ++k) cands[n++] = c->layers[k].name;
    const char *near = hn_closest(ref->text, cands, n);
    if (near) return hn_error(ref->loc, "undefined tensor '%s'; did you mean '%s'?", ref->text, near);
    return hn_error(ref->loc, "undefined tensor '%s' (not an input nor a layer)", ref->text);
}

int hn_set_attr_default(hn_node *n, int a)
{
    const hn_attr_spec *s = &hn_op(n->op)->attrs[a];
    hn_attr_val *v = &n->attr[a];
    if (!s->def) return 0;
    v->set = 1;
    switch (s->type) {
    case HN_ATTR_INT: case HN_ATTR_COUNT: v->i = strtol(s->def, NULL, 10); break;
    case HN_ATTR_FLOAT: v->f = strtod(s->def, NULL); break;
    case HN_ATTR_BOOL: v->i = strcmp(s->def, "true") == 0; break;
    case HN_ATTR_INTS: {                /* "[a, b, c]" */
        v->nints = 0;
        for (const char *p = s->def; *p && v->nints < HN_MAX_LIST;) {
            char *end;
            long x = strtol(p, &end, 10);
            if (end == p) { ++p; continue; }
            v->ints[v->nints++] = (int)x;
            p = end;
        }
        break;
    }
    default: snprintf(v->s, sizeof v->s, "%s", s->def); break;
    }
    return 0;
}

/* Parses one attribute value by its schema type (tensor references excluded). */
static int parse_attr(const hn_attr_spec *s, const hn_ast *a, hn_attr_val *v)
{
    char what[80];
    snprintf(what, sizeof what, "'%s'", s->key);
    v->set = 1;
    v->loc = a->loc;
    switch (s->type) {
    case HN_ATTR_INT: return parse_int(a, what, &v->i, 1);
    case HN_ATTR_COUNT: return parse_int(a, what, &v->i, 0);
    case HN_ATTR_FLOAT: return parse_float(a, what, &v->f);
    case HN_ATTR_BOOL: return parse_bool(a, what, &v->i);
    case HN_ATTR_ENUM: {
        if (expect_kind(a, HN_AST_SCALAR, what)) return -1;
        char buf[256];
        const char *opts[16];
        int nopts = 0;
        snprintf(buf, sizeof buf, "%s", s->choices);
        for (char *tok = strtok(buf, "|"); tok && nopts < 16; tok = strtok(NULL, "|")) opts[nopts++] = tok;
        for (int k = 0; k < nopts; ++k)
            if (strcmp(opts[k], a->text) == 0) { snprintf(v->s, sizeof v->s, "%s", a->text); return 0; }
        const char *near = hn_closest(a->text, opts, nopts);
        if (near) return hn_error(a->loc, "%s must be one of %s, not '%s'; did you mean '%s'?", what, s->choices, a->text, near);
        return hn_error(a->loc, "%s must be one of %s, not '%s'", what, s->choices, a->text);
    }
    case HN_ATTR_INTS:
        if (expect_kind(a, HN_AST_SEQ, what)) return -1;
        if (a->n == 0 || a->n > HN_MAX_LIST) return hn_error(a->loc, "%s must list 1 to %d integers", what, HN_MAX_LIST);
        for (int k = 0; k < a->n; ++k) {
            long x;
            if (parse_int(a->items[k], what, &x, 1)) return -1;
            v->ints[v->nints++] = (int)x;
        }
        return 0;
    case HN_ATTR_FLOATS:
        if (expect_kind(a, HN_AST_SEQ, what)) return -1;
        if (a->n == 0 || a->n > HN_MAX_LIST) return hn_error(a->loc, "%s must list 1 to %d numbers", what, HN_MAX_LIST);
        for (int k = 0; k < a->n; ++k) {
            double x;
            if (parse_float(a->items[k], what, &x)) return -1;
            v->floats[v->nfloats++] = (float)x;
        }
        return 0;
    case HN_ATTR_NAMES:
        if (expect_kind(a, HN_AST_SEQ, what)) return -1;
        if (a->n == 0) return hn_error(a->loc, "%s must list at least one name", what);
        v->s[0] = '\0';
        for (int k = 0; k < a->n; ++k) {
            if (expect_kind(a->items[k], HN_AST_SCALAR, what)) return -1;
            if (strlen(v->s) + strlen(a->items[k]->text) + 2 >= sizeof v->s)
                return hn_error(a->loc, "%s is too long", what);
            if (k) strcat(v->s, "\n");
            strcat(v->s, a->items[k]->text);
        }
        return 0;
    default:
        return 0;
    }
}

int hn_new_node(hn_graph *g, int op, const char *name, const hn_node *from, const int *inputs, int nin)
{
    int idx = hn_graph_add_node(g, op, name, from ? from->loc : (hn_loc){ 0 });
    hn_node *n = &g->nodes[idx];
    if (from) snprintf(n->layer, sizeof n->layer, "%s", from->layer[0] ? from->layer : from->name);
    for (int k = 0; k < nin; ++k) n->in[k] = inputs[k];
    n->nin = nin;
    const hn_op_def *d = hn_op(op);
    for (int a = 0; a < d->nattrs; ++a) {
        hn_set_attr_default(n, a);
        if (d->attrs[a].type == HN_ATTR_TENSOR || d->attrs[a].type == HN_ATTR_TENSORS) {
            n->attr[a].set = 1;
            if (from) n->attr[a].loc = from->loc;
        }
    }
    return idx;
}

void hn_node_set_int(hn_node *n, const char *key, long value)
{
    hn_attr_val *v = (hn_attr_val *)hn_attr(n, key);
    v->set = 1;
    v->i = value;
}

void hn_node_set_float(hn_node *n, const char *key, double value)
{
    hn_attr_val *v = (hn_attr_val *)hn_attr(n, key);
    v->set = 1;
    v->f = value;
}

int hn_lower_node(hn_graph *g, int op, const char *name, const hn_node *from, const int *in, int nin,
                  const char *key1, long v1, const char *key2, long v2)
{
    int node = hn_new_node(g, op, name, from, in, nin);
    if (key1) hn_node_set_int(&g->nodes[node], key1, v1);
    if (key2) hn_node_set_int(&g->nodes[node], key2, v2);
    return hn_finish_node(g, node, name);
}

void hn_param_rename(hn_graph *g, int p, const char *name) { snprintf(g->params[p].name, HN_NAME, "%s", name); }

int hn_finish_node(hn_graph *g, int node, const char *tensor)
{
    hn_shape s;
    memset(&s, 0, sizeof s);
    if (hn_op(g->nodes[node].op)->infer(g, &g->nodes[node], &s)) return -1;
    int t = hn_graph_add_tensor(g, tensor, s, g->nodes[node].loc);
    g->tensors[t].producer = node;
    g->nodes[node].out = t;
    return t;
}

static int lower_layer(lower_ctx *c, int i)
{
    layer_info *L = &c->layers[i];
    L->state = 1;
    const hn_op_def *d = hn_op(L->op);
    hn_node proto;
    memset(&proto, 0, sizeof proto);
    proto.fused_from = -1;                  /* hn_graph_add_node's defaults: proto replaces that node */
    proto.state_offset = proto.fixed_offset = -1;
    proto.op = L->op;
    proto.loc = L->def->loc;
    snprintf(proto.name, sizeof proto.name, "%s", L->name);
    snprintf(proto.layer, sizeof proto.layer, "%s", L->name);

    for (int a = 0; a < d->nattrs; ++a) {
        const hn_attr_spec *s = &d->attrs[a];
        const hn_ast *v = hn_ast_get(L->def, s->key);
        if (!v) {
            if (s->required) {
                hn_error(L->def->loc, "layer '%s' (op %s) is missing the required key '%s' (%s)", L->name, d->name,
                         s->key, s->doc);
                return -1;
            }
            proto.op = L->op;
            hn_set_attr_default(&proto, a);
            continue;
        }
        if (s->type == HN_ATTR_TENSOR) {
            int t = resolve_tensor(c, v, i);
            if (t < 0) return -1;
            proto.in[proto.nin++] = t;
            proto.attr[a].set = 1;
            proto.attr[a].loc = v->loc;
        } else if (s->type == HN_ATTR_TENSORS) {
            if (expect_kind(v, HN_AST_SEQ, "'in'")) return -1;
            if (v->n < 2 || v->n > HN_MAX_IN)
                return hn_error(v->loc, "'%s' must list 2 to %d tensors", s->key, HN_MAX_IN);
            for (int k = 0; k < v->n; ++k) {
                int t = resolve_tensor(c, v->items[k], i);
                if (t < 0) return -1;
                proto.in[proto.nin++] = t;
            }
            proto.attr[a].set = 1;
            proto.attr[a].loc = v->loc;
        } else if (parse_attr(s, v, &proto.attr[a])) {
            return -1;
        }
    }

    if (d->lower) {
        int node = hn_graph_add_node(c->g, L->op, L->name, proto.loc);
        c->g->nodes[node] = proto;
        L->tensor = d->lower(c->g, node);
        c->g->nodes[node].dead = 1;            /* the composite itself is replaced by its expansion */
        c->g->nodes[node].out = L->tensor;
        if (L->tensor >= 0) c->g->tensors[L->tensor].loc = proto.loc;
    } else {
        int node = hn_graph_add_node(c->g, L->op, L->name, proto.loc);
        c->g->nodes[node] = proto;
        c->g->nodes[node].out = -1;
        L->tensor = hn_finish_node(c->g, node, L->name);
    }
    if (L->tensor < 0) return -1;
    L->state = 2;
    return 0;
}

static int lower_layers(hn_graph *g, const hn_ast *layers)
{
    if (expect_kind(layers, HN_AST_SEQ, "'layers'")) return -1;
    if (layers->n == 0) return hn_error(layers->loc, "'layers' must list at least one layer");
    lower_ctx c = { g, calloc((size_t)layers->n, sizeof(layer_info)), layers->n };
    if (!c.layers) return hn_error(layers->loc, "out of memory");
    int rc = 0;
    for (int i = 0; i < layers->n && !rc; ++i) {
        c.layers[i].def = layers->items[i];
        rc = check_layer_header(&c, i);
    }
    for (int i = 0; i < layers->n && !rc; ++i)
        if (c.layers[i].state == 0) rc = lower_layer(&c, i);
    free(c.layers);
    return rc;
}

/* ---- outputs --------------------------------------------------------------------------------- */

static int lower_output(hn_graph *g, const hn_ast *key, const hn_ast *def)
{
    char name[HN_NAME];
    if (parse_name(key, "an output name", name, sizeof name)) return -1;
    if (g->noutputs == 16) return hn_error(key->loc, "at most 16 outputs are supported");
    const hn_ast *ref = def;
    int prob = 0;                       /* HN_OP_softmax or HN_OP_sigmoid: the output is probabilities */
    if (def->kind == HN_AST_MAP) {
        static const char *const keys[] = { "softmax", "sigmoid" };
        if (check_keys(def, keys, 2, "an output")) return -1;
        if (def->n != 1) return hn_error(def->loc, "an output is a tensor name, {softmax: TENSOR} or {sigmoid: TENSOR}");
        ref = def->items[0];
        prob = hn_ast_get(def, "softmax") ? HN_OP_softmax : HN_OP_sigmoid;
    }
    if (expect_kind(ref, HN_AST_SCALAR, "an output")) return -1;
    int t = hn_graph_find_tensor(g, ref->text);
    if (t < 0 || (g->tensors[t].producer < 0 && g->tensors[t].role != HN_T_INPUT)) {
        const char *cands[256];
        int n = 0;
        for (int k = 0; k < g->ntensors && n < 256; ++k)
            if (!strchr(g->tensors[k].name, '.')) cands[n++] = g->tensors[k].name;
        const char *near = hn_closest(ref->text, cands, n);
        if (near) return hn_error(ref->loc, "undefined tensor '%s'; did you mean '%s'?", ref->text, near);
        return hn_error(ref->loc, "undefined tensor '%s'", ref->text);
    }
    if (g->tensors[t].role == HN_T_INPUT)
        return hn_error(ref->loc, "output '%s' is the input '%s' itself; outputs must be computed", name, ref->text);
    if (g->tensors[t].shape.nset > 0 && !(g->tensors[t].producer >= 0 && hn_op(g->nodes[g->tensors[t].producer].op)->all_slots))
        return hn_error(ref->loc, "output '%s' is a per-particle set; pool it into a per-event tensor first", name);
    if (prob) {
        if (hn_graph_find_tensor(g, name) >= 0)
            return hn_error(key->loc, "output '%s' has the name of an existing tensor; choose another", name);
        hn_node from = { .loc = key->loc };
        snprintf(from.name, sizeof from.name, "%s", name);
        int node = hn_new_node(g, prob, name, &from, &t, 1);
        t = hn_finish_node(g, node, name);
        if (t < 0) return -1;
    } else if (g->tensors[t].output >= 0) {
        return hn_error(ref->loc, "tensor '%s' is already output '%s'", ref->text,
                        g->output_names[g->tensors[t].output]);
    }
    g->tensors[t].output = g->noutputs;
    snprintf(g->output_names[g->noutputs], HN_NAME, "%s", name);
    g->outputs[g->noutputs++] = t;
    return 0;
}

static int lower_outputs(hn_graph *g, const hn_ast *outputs)
{
    if (expect_kind(outputs, HN_AST_MAP, "'outputs'")) return -1;
    if (outputs->n == 0) return hn_error(outputs->loc, "'outputs' must name at least one output");
    for (int i = 0; i < outputs->n; ++i)
        if (lower_output(g, outputs->keys[i], outputs->items[i])) return -1;
    return 0;
}

/* ---- topology ------------------------------------------------------------------------------ */

/* `topology: PATH` — a SPANet event file, relative to the spec's folder unless absolute. */
static int lower_topology(hn_graph *g, const hn_ast *a, const char *spec_path)
{
    if (expect_kind(a, HN_AST_SCALAR, "'topology'")) return -1;
    char path[4096];
    const char *slash = strrchr(spec_path, '/');
    if (a->text[0] == '/' || !slash)
        snprintf(path, sizeof path, "%s", a->text);
    else
        snprintf(path, sizeof path, "%.*s/%s", (int)(slash - spec_path), spec_path, a->text);
    if (!(g->topology = calloc(1, sizeof *g->topology)) || !(g->topology_path = strdup(path)))
        return hn_error(a->loc, "out of memory");
    FILE *f = fopen(path, "r");
    if (!f) return hn_error(a->loc, "cannot read the topology file '%s': %s", path, strerror(errno));
    fclose(f);
    return hn_topology_read(g->topology_path, g->topology);
}

/* ---- the spec -------------------------------------------------------------------------------- */

int hn_lower(const hn_spec *spec, hn_graph *g)
{
    const hn_ast *root = spec->root;
    static const char *const keys[] = { "name", "description", "topology", "inputs", "layers", "outputs", "train" };
    if (check_keys(root, keys, 7, "the spec")) return -1;
    const hn_ast *name = require(root, "name", "the spec");
    char model[HN_NAME];
    if (!name || parse_name(name, "'name'", model, sizeof model)) return -1;
    hn_graph_init(g, model);
    g->spec_path = spec->src.path;
    const hn_ast *topology = hn_ast_get(root, "topology");
    if (topology && lower_topology(g, topology, spec->src.path)) return -1;
    const hn_ast *inputs = require(root, "inputs", "the spec");
    if (!inputs || lower_inputs(g, inputs)) return -1;
    const hn_ast *layers = require(root, "layers", "the spec");
    if (!layers || lower_layers(g, layers)) return -1;
    const hn_ast *outputs = require(root, "outputs", "the spec");
    if (!outputs || lower_outputs(g, outputs)) return -1;
    hn_train_settings train;          /* checked now so a typo stops here; used by hepnc train */
    if (hn_parse_train(hn_ast_get(root, "train"), &train)) return -1;
    return 0;
}
