/* cmd_import.c — `hepnc import weaver STATE.pt --spec SPEC -o W.safetensors`: a weaver-core state_dict
 * (PyTorch zip checkpoint, read without PyTorch) mapped onto the spec's weight names, checked against the
 * spec and written as safetensors. The name mapping is tools/weaver_import.py's (its executable
 * specification); docs/import.md describes it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "diag.h"
#include "hepnc/weights.h"
#include "torch_checkpoint.h"

typedef struct mapped {
    char name[512];
    const char *orig;           /* the checkpoint's key */
    int ndim;
    int64_t shape[HN_TORCH_MAX_RANK];
    int64_t numel;
    float *data;
    int used;
} mapped;

static void shape_str(char *buf, size_t n, int ndim, const int64_t *shape)
{
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < ndim && k < n; ++i) k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

static int starts(const char *s, const char *prefix) { return !strncmp(s, prefix, strlen(prefix)); }

static int ends(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* Replaces every occurrence of from by to (Python's str.replace). */
static void replace_all(char *s, size_t cap, const char *from, const char *to)
{
    char out[512];
    size_t k = 0, lf = strlen(from), lt = strlen(to);
    for (const char *p = s; *p;) {
        if (!strncmp(p, from, lf) && k + lt < sizeof out) {
            memcpy(out + k, to, lt);
            k += lt;
            p += lf;
        } else if (k + 1 < sizeof out) {
            out[k++] = *p++;
        } else {
            break;
        }
    }
    out[k] = 0;
    snprintf(s, cap, "%s", out);
}

/* s starts with "<lead><digits>.<rest>": returns the position of <rest> and the digits' span, or NULL. */
static const char *after_index(const char *s, const char *lead, const char **digits, size_t *ndigits)
{
    if (!starts(s, lead)) return NULL;
    const char *p = s + strlen(lead), *d = p;
    while (*p >= '0' && *p <= '9') ++p;
    if (p == d || *p != '.') return NULL;
    *digits = d;
    *ndigits = (size_t)(p - d);
    return p + 1;
}

/* "…\.(convs\.\d+|sc)\.weight$" of weaver_import.map_particlenet_state */
static int is_particlenet_conv_weight(const char *s)
{
    if (!ends(s, ".weight")) return 0;
    size_t n = strlen(s) - strlen(".weight");
    if (n >= 3 && !strncmp(s + n - 3, ".sc", 3)) return 1;
    size_t e = n;
    while (e > 0 && s[e - 1] >= '0' && s[e - 1] <= '9') --e;
    return e < n && e >= 7 && !strncmp(s + e - 7, ".convs.", 7);
}

/* [out, in, 1(, 1 …)] → [out, in]; -1 when a trailing size is not 1. */
static int squeeze_kernel(mapped *m)
{
    if (m->ndim < 2) return -1;
    for (int i = 2; i < m->ndim; ++i)
        if (m->shape[i] != 1) return -1;
    m->ndim = 2;
    return 0;
}

/* SPANet (a Lightning checkpoint's state_dict, or a plain one): the names are hepnc's already (the
 * `spanet` op names its parameters after upstream's modules); the loss's bookkeeping tensors are dropped. */
static int map_spanet_name(const char *key, mapped *m)
{
    static const char *const bookkeeping[] = { "event_permutation_tensor", "particle_index_tensor", "particle_weights_tensor",
                                               "jet_weights_tensor" };
    if (ends(key, "num_batches_tracked")) return 1;
    for (size_t i = 0; i < sizeof bookkeeping / sizeof *bookkeeping; ++i)
        if (!strcmp(key, bookkeeping[i])) return 1;
    snprintf(m->name, sizeof m->name, "%s", key);
    return 0;
}

/* IAFormer (upstream's JetTaggingModule checkpoint, whose Transformer is `model`, or the Transformer's own
 * state_dict): the `iaformer` op names its parameters after upstream's modules, so the names only lose the
 * Lightning module's "model." and the 1×1 Conv2d weights [out, in, 1, 1] become [out, in]. */
static int map_iaformer_name(const char *state, const char *key, mapped *m)
{
    snprintf(m->name, sizeof m->name, "%s", starts(key, "model.") ? key + 6 : key);
    if (m->ndim == 4 && ends(m->name, ".weight") && squeeze_kernel(m))
        return hn_error_plain("hepnc import: error: %s: tensor '%s' is a convolution weight whose kernel is not 1", state, key);
    return 0;
}

/* Maps one checkpoint key; returns 0 (mapped), 1 (dropped) or -1 (error, message printed). */
static int map_name(const char *state, const char *key, int particlenet, mapped *m)
{
    const char *name = starts(key, "mod.") ? key + 4 : key;
    if (ends(name, "num_batches_tracked")) return 1;
    snprintf(m->name, sizeof m->name, "%s", name);
    const char *digits, *rest;
    size_t nd;
    char buf[512];
    if (particlenet) {
        if ((rest = after_index(m->name, "edge_convs.", &digits, &nd))) {
            snprintf(buf, sizeof buf, "edge_conv%.*s.%s", (int)nd, digits, rest);
            snprintf(m->name, sizeof m->name, "%s", buf);
        }
        if (is_particlenet_conv_weight(m->name) && squeeze_kernel(m))
            return hn_error_plain("hepnc import: error: %s: tensor '%s' is a convolution weight of shape [%lld, %lld, …] whose kernel is not 1",
                                  state, key, (long long)m->shape[0], (long long)(m->ndim > 1 ? m->shape[1] : 0));
        if (starts(m->name, "fc.0.0.")) {
            snprintf(buf, sizeof buf, "fc.0.%s", m->name + 7);
            snprintf(m->name, sizeof m->name, "%s", buf);
        } else if (starts(m->name, "fc.1.")) {
            snprintf(buf, sizeof buf, "out.%s", m->name + 5);
            snprintf(m->name, sizeof m->name, "%s", buf);
        }
        return 0;
    }
    replace_all(m->name, sizeof m->name, "attn.in_proj_weight", "attn.in_proj.weight");
    replace_all(m->name, sizeof m->name, "attn.in_proj_bias", "attn.in_proj.bias");
    if (!strcmp(m->name, "cls_token")) {
        snprintf(m->name, sizeof m->name, "cls_blocks.cls_token");
        m->ndim = 1;
        m->shape[0] = m->numel;
    }
    if (((rest = after_index(m->name, "pair_embed.embed.", &digits, &nd)) ||
         (rest = after_index(m->name, "pair_embed.fts_embed.", &digits, &nd))) && !strcmp(rest, "weight") && m->ndim >= 3 &&
        squeeze_kernel(m))
        return hn_error_plain("hepnc import: error: %s: tensor '%s' is a convolution weight whose kernel is not 1", state, key);
    if (starts(m->name, "fc.0.")) {
        snprintf(buf, sizeof buf, "fc.%s", m->name + 5);
        snprintf(m->name, sizeof m->name, "%s", buf);
    }
    return 0;
}

static mapped *find(mapped *m, int n, const char *name)
{
    for (int i = 0; i < n; ++i)
        if (!strcmp(m[i].name, name)) return &m[i];
    return NULL;
}

/* weaver-core >= 0.5 scales attention heads without 0.4's channel permutation:
 *   0.5: z[k] = c[k / d] · o[k]              (o = out_proj(x), k = h·d + t)
 *   0.4: z[t·H + h] = c'[h] · o'[h·d + t]    (what hepnc's loader folds, runtime/fold.c)
 * With c' = 1 and out_proj' rows o'[h·d + t] = c[(t·H + h) / d] · o[t·H + h], the 0.4 computation gives
 * the 0.5 z exactly (up to the rounding of c·W, which the 0.4 fold does too); post_attn_norm and the
 * residual see z in both, so nothing downstream changes. */
static int to_v04_headscale(const char *state, mapped *m, int n)
{
    int blocks = 0;
    for (int i = 0; i < n; ++i) {
        if (!ends(m[i].name, ".c_attn")) continue;
        char prefix[512], wn[600], bn[600];
        snprintf(prefix, sizeof prefix, "%.*s", (int)(strlen(m[i].name) - strlen(".c_attn")), m[i].name);
        snprintf(wn, sizeof wn, "%s.attn.out_proj.weight", prefix);
        snprintf(bn, sizeof bn, "%s.attn.out_proj.bias", prefix);
        mapped *c = &m[i], *w = find(m, n, wn), *b = find(m, n, bn);
        if (!w || !b)
            return hn_error_plain("hepnc import: error: %s: '%s' has no '%s' and '%s' to fold it into (--weaver-version 0.5)", state, c->orig,
                                  wn, bn);
        int64_t H = c->numel, D = w->ndim == 2 ? w->shape[0] : -1, in = w->ndim == 2 ? w->shape[1] : 0;
        if (c->ndim != 1 || H <= 0 || D <= 0 || D % H || b->numel != D)
            return hn_error_plain("hepnc import: error: %s: '%s' of %lld heads does not fit '%s' (--weaver-version 0.5)", state, c->orig,
                                  (long long)H, w->orig);
        int64_t d = D / H;
        float *W = malloc(sizeof(float) * (size_t)(D * in)), *B = malloc(sizeof(float) * (size_t)D);
        if (!W || !B) {
            free(W);
            free(B);
            return hn_error_plain("hepnc import: error: out of memory");
        }
        for (int64_t h = 0; h < H; ++h)
            for (int64_t t = 0; t < d; ++t) {
                int64_t to = h * d + t, from = t * H + h;
                float s = c->data[from / d];
                for (int64_t j = 0; j < in; ++j) W[to * in + j] = s * w->data[from * in + j];
                B[to] = s * b->data[from];
            }
        free(w->data);
        free(b->data);
        w->data = W;
        b->data = B;
        for (int64_t h = 0; h < H; ++h) c->data[h] = 1.0f;
        ++blocks;
    }
    fprintf(stderr, "hepnc import: weaver 0.5 head scaling folded into out_proj of %d blocks (c_attn set to 1)\n", blocks);
    return 0;
}

static int cmp_name(const void *a, const void *b) { return strcmp(((const mapped *)a)->name, ((const mapped *)b)->name); }

static int list_checkpoint(const hn_torch_checkpoint *ck, const char *state)
{
    int n = hn_torch_count(ck);
    printf("%s: %d entries\n", state, n);
    for (int i = 0; i < n; ++i) {
        const hn_torch_tensor *t = hn_torch_at(ck, i);
        char sh[256];
        shape_str(sh, sizeof sh, t->ndim, t->shape);
        printf("  %-48s %-4s %s\n", t->name, t->dtype, sh);
    }
    return 0;
}

/* Every parameter the spec reads from the file must be there with its shape. */
static int check_against_spec(const char *state, const char *spec, mapped *m, int n)
{
    hn_model_build mb;
    if (hn_frontend(&mb, spec, NULL)) {
        hn_model_build_free(&mb);
        return -1;
    }
    const hn_graph *g = &mb.graph;
    int rc = 0;
    /* "did you mean" candidates: the checkpoint's tensors the spec has no name for */
    for (int p = 0; p < g->nparams; ++p) {
        mapped *t = g->params[p].from_file ? find(m, n, g->params[p].name) : NULL;
        if (t) t->used = 1;
    }
    for (int p = 0; p < g->nparams && !rc; ++p) {
        const hn_param *q = &g->params[p];
        if (!q->from_file) continue;
        char want[256], have[256];
        shape_str(want, sizeof want, q->rank, q->dim);
        mapped *t = find(m, n, q->name);
        if (t) {
            int same = t->ndim == q->rank;
            for (int i = 0; same && i < q->rank; ++i) same = t->shape[i] == q->dim[i];
            if (same) continue;
            shape_str(have, sizeof have, t->ndim, t->shape);
            rc = hn_error_plain("hepnc import: error: %s: tensor '%s' (from '%s') has shape %s, the spec %s needs %s", state, q->name, t->orig,
                                have, spec, want);
            continue;
        }
        const char **cand = malloc(sizeof *cand * (size_t)(n ? n : 1));
        int nc = 0;
        for (int i = 0; cand && i < n; ++i)
            if (!m[i].used) cand[nc++] = m[i].name;
        const char *close = cand ? hn_closest(q->name, cand, nc) : NULL;
        if (close) {
            const mapped *c = find(m, n, close);
            if (strcmp(close, c->orig))
                rc = hn_error_plain("hepnc import: error: %s: tensor '%s' is missing (the spec %s needs shape %s); did you "
                                    "mean '%s' (from '%s')?", state, q->name, spec, want, close, c->orig);
            else
                rc = hn_error_plain("hepnc import: error: %s: tensor '%s' is missing (the spec %s needs shape %s); did you "
                                    "mean '%s'?", state, q->name, spec, want, close);
        } else {
            rc = hn_error_plain("hepnc import: error: %s: tensor '%s' is missing (the spec %s needs shape %s)", state, q->name, spec, want);
        }
        free(cand);
    }
    int unused = 0;
    for (int i = 0; i < n && !rc; ++i) unused += !m[i].used;
    if (!rc && unused) {
        fprintf(stderr, "hepnc import: note: %d tensor(s) of %s are not used by %s (kept in the output), e.g.", unused,
                state, spec);
        for (int i = 0, k = 0; i < n && k < 3; ++i)
            if (!m[i].used) fprintf(stderr, "%s '%s'", k++ ? "," : "", m[i].name);
        fputc('\n', stderr);
    }
    hn_model_build_free(&mb);
    return rc;
}

int hn_cmd_import(int argc, char **argv)
{
    const char *format = NULL, *state = NULL, *spec = NULL, *out = NULL, *version = "0.4";
    int list = 0;
    for (int i = 2; i < argc; ++i) {
        const char *v;
        if (hn_opt(argc, argv, &i, "-o", &v) || hn_opt(argc, argv, &i, "--out", &v)) out = v;
        else if (hn_opt(argc, argv, &i, "--spec", &v)) spec = v;
        else if (hn_opt(argc, argv, &i, "--weaver-version", &v)) version = v;
        else if (!strcmp(argv[i], "--list")) list = 1;
        else if (argv[i][0] == '-' && argv[i][1]) return hn_usage("import", "unknown option '%s'", argv[i]);
        else if (!format) format = argv[i];
        else if (!state) state = argv[i];
        else return hn_usage("import", "unexpected argument '%s'", argv[i]);
    }
    if (!format) return hn_usage("import", "a FORMAT is required (weaver, spanet or iaformer)");
    if (strcmp(format, "weaver") && strcmp(format, "spanet") && strcmp(format, "iaformer"))
        return hn_usage("import", "unknown format '%s' (weaver, spanet or iaformer)", format);
    int spanet = !strcmp(format, "spanet"), iaformer = !strcmp(format, "iaformer");
    if (!state) return hn_usage("import", "a STATE.pt file is required");
    if (strcmp(version, "0.4") && strcmp(version, "0.5"))
        return hn_usage("import", "--weaver-version is 0.4 or 0.5, not '%s'", version);
    if (!list && !spec) return hn_usage("import", "--spec SPEC is required (the weights are checked against it)");
    if (!list && !out) return hn_usage("import", "-o W.safetensors is required");

    char err[2048];
    hn_torch_checkpoint *ck = hn_torch_open(state, err, sizeof err);
    if (!ck) {
        fprintf(stderr, "hepnc import: error: %s\n", err);
        return 1;
    }
    if (list && !out) {
        list_checkpoint(ck, state);
        hn_torch_close(ck);
        return 0;
    }
    if (list) list_checkpoint(ck, state);

    int n = hn_torch_count(ck), nm = 0, particlenet = 0, rc = 0;
    for (int i = 0; i < n; ++i) {
        const char *k = hn_torch_at(ck, i)->name;
        if (starts(starts(k, "mod.") ? k + 4 : k, "edge_convs.")) particlenet = 1;
    }
    mapped *m = calloc(n > 0 ? (size_t)n : 1, sizeof *m);
    if (!m) rc = hn_error_plain("hepnc import: error: out of memory");
    for (int i = 0; i < n && !rc; ++i) {
        const hn_torch_tensor *t = hn_torch_at(ck, i);
        mapped *x = &m[nm];
        memset(x, 0, sizeof *x);
        x->orig = t->name;
        x->ndim = t->ndim;
        x->numel = t->numel;
        memcpy(x->shape, t->shape, sizeof x->shape);
        int r = spanet     ? map_spanet_name(t->name, x)
                : iaformer ? map_iaformer_name(state, t->name, x)
                           : map_name(state, t->name, particlenet, x);
        if (r < 0) { rc = -1; break; }
        if (r > 0) continue;
        const mapped *dup = find(m, nm, x->name);
        if (dup) {
            rc = hn_error_plain("hepnc import: error: %s: '%s' and '%s' both map to '%s'", state, dup->orig, t->name, x->name);
            break;
        }
        if (!(x->data = malloc(sizeof(float) * (size_t)(t->numel ? t->numel : 1)))) {
            rc = hn_error_plain("hepnc import: error: out of memory");
            break;
        }
        ++nm;
        if (hn_torch_read_f32(ck, i, x->data, err, sizeof err)) rc = hn_error_plain("hepnc import: error: %s", err);
    }
    if (!rc && !strcmp(version, "0.5") && !particlenet && !spanet && !iaformer) rc = to_v04_headscale(state, m, nm);
    if (!rc) rc = check_against_spec(state, spec, m, nm);
    if (!rc) {
        qsort(m, (size_t)nm, sizeof *m, cmp_name);
        hn_tensor_out *to = calloc((size_t)(nm ? nm : 1), sizeof *to);
        if (!to) rc = hn_error_plain("hepnc import: error: out of memory");
        for (int i = 0; to && i < nm; ++i) {
            to[i].name = m[i].name;
            to[i].ndim = m[i].ndim;
            memcpy(to[i].shape, m[i].shape, sizeof(int64_t) * (size_t)m[i].ndim);
            to[i].data = m[i].data;
        }
        if (to && hn_safetensors_write(out, nm, to, err, sizeof err)) rc = hn_error_plain("hepnc import: error: %s", err);
        if (!rc && spanet) printf("wrote %s (%d tensors from %s, SPANet)\n", out, nm, state);
        else if (!rc && iaformer) printf("wrote %s (%d tensors from %s, IAFormer)\n", out, nm, state);
        else if (!rc) printf("wrote %s (%d tensors from %s, weaver %s)\n", out, nm, state, version);
        free(to);
    }
    for (int i = 0; i < nm; ++i) free(m[i].data);
    free(m);
    hn_torch_close(ck);
    return rc ? 1 : 0;
}
