/* torch_checkpoint.c — see torch_checkpoint.h. */
#include "torch_checkpoint.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "torch_pickle.h"

struct hn_torch_checkpoint {
    char *path;
    zip_t *zip;
    char *prefix;               /* "archive/" */
    hn_torch_tensor *t;
    int n;
    char *cache_key;            /* the last storage read */
    unsigned char *cache;
    size_t cache_len;
};

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const struct { const char *storage, *dtype; int size; } storage_types[] = {
    { "FloatStorage", "F32", 4 },  { "DoubleStorage", "F64", 8 }, { "HalfStorage", "F16", 2 },
    { "BFloat16Storage", "BF16", 2 }, { "LongStorage", "I64", 8 }, { "IntStorage", "I32", 4 },
    { "ShortStorage", "I16", 2 },  { "CharStorage", "I8", 1 },    { "ByteStorage", "U8", 1 },
    { "BoolStorage", "BOOL", 1 },
};

/* Reads a whole zip entry; NULL and a message on failure. */
static unsigned char *read_entry(hn_torch_checkpoint *c, const char *name, size_t *len, char *err, size_t errlen)
{
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat(c->zip, name, 0, &st) || !(st.valid & ZIP_STAT_SIZE)) {
        fail(err, errlen, "%s: the archive has no entry '%s'", c->path, name);
        return NULL;
    }
    zip_file_t *f = zip_fopen(c->zip, name, 0);
    if (!f) {
        fail(err, errlen, "%s: cannot open entry '%s': %s", c->path, name, zip_strerror(c->zip));
        return NULL;
    }
    unsigned char *buf = malloc(st.size ? st.size : 1);
    if (!buf) {
        zip_fclose(f);
        fail(err, errlen, "%s: out of memory reading '%s'", c->path, name);
        return NULL;
    }
    zip_int64_t got = st.size ? zip_fread(f, buf, st.size) : 0;
    if (got < 0 || (zip_uint64_t)got != st.size) {
        fail(err, errlen, "%s: cannot read entry '%s' (truncated or corrupt archive): %s", c->path, name,
             got < 0 ? zip_file_strerror(f) : "short read");
        zip_fclose(f);
        free(buf);
        return NULL;
    }
    /* libzip checks the CRC when the whole entry has been read; a further read reports it */
    unsigned char extra;
    if (zip_fread(f, &extra, 1) < 0) {
        fail(err, errlen, "%s: entry '%s' is corrupt: %s", c->path, name, zip_file_strerror(f));
        zip_fclose(f);
        free(buf);
        return NULL;
    }
    zip_fclose(f);
    *len = st.size;
    return buf;
}

static int is_tensor_call(const hn_pobj *o)
{
    return o && o->kind == HN_PK_CALL && o->callable && o->callable->kind == HN_PK_GLOBAL &&
           !strcmp(o->callable->s, "torch._utils") &&
           (!strcmp(o->callable->name, "_rebuild_tensor_v2") || !strcmp(o->callable->name, "_rebuild_tensor") ||
            !strcmp(o->callable->name, "_rebuild_parameter") ||
            !strcmp(o->callable->name, "_rebuild_parameter_with_state"));
}

static int int_tuple(const hn_pobj *o, int64_t *out, int max)
{
    if (!o || (o->kind != HN_PK_TUPLE && o->kind != HN_PK_LIST) || o->n > max) return -1;
    for (int i = 0; i < o->n; ++i) {
        if (o->items[i]->kind != HN_PK_INT) return -1;
        out[i] = o->items[i]->i;
    }
    return o->n;
}

static int rebuild(hn_torch_checkpoint *c, const char *key, const hn_pobj *o, hn_torch_tensor *t, char *err, size_t errlen)
{
    if (!strncmp(o->callable->name, "_rebuild_parameter", 18)) {
        if (o->args->n < 1 || !is_tensor_call(o->args->items[0]) || !strncmp(o->args->items[0]->callable->name, "_rebuild_parameter", 18))
            return fail(err, errlen, "%s: entry '%s': a parameter without its tensor", c->path, key);
        o = o->args->items[0];
    }
    const hn_pobj *a = o->args;
    if (a->n < 4) return fail(err, errlen, "%s: entry '%s': %s with %d arguments", c->path, key, o->callable->name, a->n);
    const hn_pobj *pid = a->items[0];
    if (pid->kind != HN_PK_PERSID || !pid->args || pid->args->kind != HN_PK_TUPLE || pid->args->n < 5 ||
        pid->args->items[0]->kind != HN_PK_STR || strcmp(pid->args->items[0]->s, "storage") ||
        pid->args->items[1]->kind != HN_PK_GLOBAL || pid->args->items[2]->kind != HN_PK_STR)
        return fail(err, errlen, "%s: entry '%s': the storage is not a persistent id ('storage', type, key, location, numel)", c->path, key);
    const hn_pobj *type = pid->args->items[1];
    t->dtype = NULL;
    for (size_t i = 0; i < sizeof storage_types / sizeof *storage_types; ++i)
        if (!strcmp(type->s, "torch") && !strcmp(type->name, storage_types[i].storage)) {
            t->dtype = storage_types[i].dtype;
            t->elsize = storage_types[i].size;
        }
    if (!t->dtype)
        return fail(err, errlen, "%s: entry '%s': unsupported storage type %s.%s", c->path, key, type->s, type->name);
    if (!(t->storage = strdup(pid->args->items[2]->s))) return fail(err, errlen, "out of memory");
    if (a->items[1]->kind != HN_PK_INT || a->items[1]->i < 0)
        return fail(err, errlen, "%s: entry '%s': bad storage offset", c->path, key);
    t->offset = a->items[1]->i;
    int nd = int_tuple(a->items[2], t->shape, HN_TORCH_MAX_RANK);
    int ns = int_tuple(a->items[3], t->stride, HN_TORCH_MAX_RANK);
    if (nd < 0 || ns != nd)
        return fail(err, errlen, "%s: entry '%s': bad size/stride (rank at most %d)", c->path, key, HN_TORCH_MAX_RANK);
    t->ndim = nd;
    t->numel = 1;
    int64_t extent = 1;     /* 1 + the largest element index touched */
    for (int i = 0; i < nd; ++i) {
        if (t->shape[i] < 0 || t->stride[i] < 0 || t->shape[i] > ((int64_t)1 << 40))
            return fail(err, errlen, "%s: entry '%s': bad size/stride", c->path, key);
        t->numel *= t->shape[i];
        extent += (t->shape[i] - 1) * t->stride[i];
    }
    if (!t->numel) extent = 0;
    /* the storage entry must hold every element the tensor reads */
    char name[1024];
    snprintf(name, sizeof name, "%sdata/%s", c->prefix, t->storage);
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat(c->zip, name, 0, &st) || !(st.valid & ZIP_STAT_SIZE))
        return fail(err, errlen, "%s: entry '%s': its storage '%s' is missing from the archive", c->path, key, name);
    if ((uint64_t)(t->offset + extent) * (uint64_t)t->elsize > st.size)
        return fail(err, errlen, "%s: entry '%s': its storage '%s' holds %llu bytes, the tensor needs %llu", c->path, key, name,
                    (unsigned long long)st.size, (unsigned long long)((t->offset + extent) * t->elsize));
    return 0;
}

static const hn_pobj *lookup(const hn_pobj *dict, const char *key)
{
    int n;
    hn_pobj *const *kv = hn_pobj_dict_items(dict, &n);
    for (int i = 0; i < n; ++i)
        if (kv[2 * i]->kind == HN_PK_STR && !strcmp(kv[2 * i]->s, key)) return kv[2 * i + 1];
    return NULL;
}

static int is_state_dict(const hn_pobj *o)
{
    int n;
    hn_pobj *const *kv = hn_pobj_dict_items(o, &n);
    if (!kv || !n) return 0;
    if (o->kind == HN_PK_CALL && !hn_pobj_is_global(o->callable, "collections", "OrderedDict")) return 0;
    for (int i = 0; i < n; ++i)
        if (is_tensor_call(kv[2 * i + 1])) return 1;
    return 0;
}

hn_torch_checkpoint *hn_torch_open(const char *path, char *err, size_t errlen)
{
    if (err && errlen) err[0] = 0;
    hn_torch_checkpoint *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(path))) {
        free(c);
        fail(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    int code = 0;
    c->zip = zip_open(path, ZIP_RDONLY, &code);
    if (!c->zip) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, code);
        if (code == ZIP_ER_NOZIP || code == ZIP_ER_INCONS)
            fail(err, errlen, "%s: not a PyTorch zip checkpoint (%s; truncated, or saved with "
                 "_use_new_zipfile_serialization=False?)", path, zip_error_strerror(&ze));
        else
            fail(err, errlen, "%s: cannot open: %s", path, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        hn_torch_close(c);
        return NULL;
    }
    /* PREFIX/data.pkl: the first entry whose name is "<one folder>/data.pkl" */
    zip_int64_t nent = zip_get_num_entries(c->zip, 0);
    for (zip_int64_t i = 0; i < nent && !c->prefix; ++i) {
        const char *nm = zip_get_name(c->zip, (zip_uint64_t)i, 0);
        const char *slash = nm ? strchr(nm, '/') : NULL;
        if (slash && !strcmp(slash + 1, "data.pkl")) {
            size_t k = (size_t)(slash - nm) + 1;
            if ((c->prefix = malloc(k + 1))) {
                memcpy(c->prefix, nm, k);
                c->prefix[k] = 0;
            }
        }
    }
    if (!c->prefix) {
        fail(err, errlen, "%s: a zip archive without '<name>/data.pkl': not a PyTorch checkpoint", path);
        hn_torch_close(c);
        return NULL;
    }
    char name[1024], what[1200];
    snprintf(name, sizeof name, "%sdata.pkl", c->prefix);
    size_t len = 0;
    unsigned char *pkl = read_entry(c, name, &len, err, errlen);
    if (!pkl) {
        hn_torch_close(c);
        return NULL;
    }
    snprintf(what, sizeof what, "%s: %s", path, name);
    hn_pickle *p = hn_pickle_parse(pkl, len, what, err, errlen);
    free(pkl);
    if (!p) {
        hn_torch_close(c);
        return NULL;
    }
    const hn_pobj *root = hn_pickle_root(p), *sd = root;
    if (!is_state_dict(sd)) {
        static const char *const wrappers[] = { "state_dict", "model", "model_state_dict", "net" };
        sd = NULL;
        for (size_t i = 0; i < sizeof wrappers / sizeof *wrappers && !sd; ++i) {
            const hn_pobj *o = lookup(root, wrappers[i]);
            if (is_state_dict(o)) sd = o;
        }
    }
    if (!sd) {
        fail(err, errlen, "%s: the pickled object is not a state_dict (a dict of tensors)", path);
        hn_pickle_free(p);
        hn_torch_close(c);
        return NULL;
    }
    int n;
    hn_pobj *const *kv = hn_pobj_dict_items(sd, &n);
    c->t = calloc((size_t)n, sizeof *c->t);
    if (!c->t) {
        fail(err, errlen, "%s: out of memory", path);
        hn_pickle_free(p);
        hn_torch_close(c);
        return NULL;
    }
    for (int i = 0; i < n; ++i) {
        const hn_pobj *k = kv[2 * i], *v = kv[2 * i + 1];
        int bad = 0;
        if (k->kind != HN_PK_STR)
            bad = fail(err, errlen, "%s: state_dict entry %d has a key that is not a string", path, i);
        else if (!is_tensor_call(v))
            bad = fail(err, errlen, "%s: state_dict entry '%s' is not a tensor", path, k->s);
        else if (!(c->t[c->n].name = strdup(k->s)))
            bad = fail(err, errlen, "%s: out of memory", path);
        else {
            c->n++;
            bad = rebuild(c, k->s, v, &c->t[c->n - 1], err, errlen);
        }
        if (bad) {
            hn_pickle_free(p);
            hn_torch_close(c);
            return NULL;
        }
    }
    hn_pickle_free(p);
    return c;
}

void hn_torch_close(hn_torch_checkpoint *c)
{
    if (!c) return;
    if (c->zip) zip_discard(c->zip);
    for (int i = 0; i < c->n; ++i) {
        free(c->t[i].name);
        free(c->t[i].storage);
    }
    free(c->t);
    free(c->prefix);
    free(c->cache_key);
    free(c->cache);
    free(c->path);
    free(c);
}

int hn_torch_count(const hn_torch_checkpoint *c) { return c ? c->n : 0; }

const hn_torch_tensor *hn_torch_at(const hn_torch_checkpoint *c, int i)
{
    return c && i >= 0 && i < c->n ? &c->t[i] : NULL;
}

static float half_to_float(uint16_t h)
{
    int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    float v = e == 0 ? ldexpf((float)m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexpf((float)(m | 1024), e - 25);
    return s ? -v : v;
}

static float element(const unsigned char *p, const char *dtype)
{
    if (!strcmp(dtype, "F32")) { float f; memcpy(&f, p, 4); return f; }
    if (!strcmp(dtype, "F64")) { double d; memcpy(&d, p, 8); return (float)d; }
    if (!strcmp(dtype, "F16")) { uint16_t h; memcpy(&h, p, 2); return half_to_float(h); }
    if (!strcmp(dtype, "BF16")) { uint16_t h; memcpy(&h, p, 2); uint32_t u = (uint32_t)h << 16; float f; memcpy(&f, &u, 4); return f; }
    if (!strcmp(dtype, "I64")) { int64_t x; memcpy(&x, p, 8); return (float)x; }
    if (!strcmp(dtype, "I32")) { int32_t x; memcpy(&x, p, 4); return (float)x; }
    if (!strcmp(dtype, "I16")) { int16_t x; memcpy(&x, p, 2); return (float)x; }
    if (!strcmp(dtype, "I8")) return (float)(int8_t)p[0];
    return (float)p[0];    /* U8, BOOL */
}

int hn_torch_read_f32(hn_torch_checkpoint *c, int i, float *dst, char *err, size_t errlen)
{
    if (!c || i < 0 || i >= c->n) return fail(err, errlen, "tensor index %d out of range", i);
    const hn_torch_tensor *t = &c->t[i];
    if (!c->cache_key || strcmp(c->cache_key, t->storage)) {
        char name[1024];
        snprintf(name, sizeof name, "%sdata/%s", c->prefix, t->storage);
        free(c->cache);
        free(c->cache_key);
        c->cache_key = NULL;
        if (!(c->cache = read_entry(c, name, &c->cache_len, err, errlen))) return -1;
        if (!(c->cache_key = strdup(t->storage))) return fail(err, errlen, "out of memory");
    }
    int64_t idx[HN_TORCH_MAX_RANK] = { 0 };
    for (int64_t e = 0; e < t->numel; ++e) {
        int64_t off = t->offset;
        for (int d = 0; d < t->ndim; ++d) off += idx[d] * t->stride[d];
        if ((uint64_t)(off + 1) * (uint64_t)t->elsize > c->cache_len)
            return fail(err, errlen, "%s: tensor '%s' reads past its storage", c->path, t->name);
        dst[e] = element(c->cache + off * t->elsize, t->dtype);
        for (int d = t->ndim - 1; d >= 0; --d) {
            if (++idx[d] < t->shape[d]) break;
            idx[d] = 0;
        }
    }
    return 0;
}
