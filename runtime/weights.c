/* weights.c — see hepnc/weights.h. The JSON header is parsed with cJSON. */
#include "hepnc/weights.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct hn_weights {
    char *path;
    unsigned char *image;       /* the whole file */
    size_t size;
    hn_tensor_info *tensors;
    int count;
    cJSON *header;              /* owns the name and dtype strings */
};

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen) vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static size_t dtype_size(const char *dtype)
{
    static const struct { const char *name; size_t size; } sizes[] = {
        { "F64", 8 }, { "F32", 4 }, { "F16", 2 }, { "BF16", 2 }, { "I64", 8 }, { "I32", 4 }, { "I16", 2 },
        { "I8", 1 }, { "U8", 1 }, { "BOOL", 1 },
    };
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; ++i)
        if (strcmp(sizes[i].name, dtype) == 0) return sizes[i].size;
    return 0;
}

static int read_file(const char *path, unsigned char **image, size_t *size, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) return fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) || ftell(f) < 0) { fclose(f); return fail(err, errlen, "%s: cannot read", path); }
    long len = ftell(f);
    rewind(f);
    *image = malloc((size_t)len + 1);
    if (!*image) { fclose(f); return fail(err, errlen, "%s: out of memory", path); }
    if (fread(*image, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        free(*image);
        return fail(err, errlen, "%s: cannot read", path);
    }
    fclose(f);
    *size = (size_t)len;
    return 0;
}

/* Fills one tensor entry from its JSON description, checking it against the data buffer. */
static int parse_entry(hn_weights *w, const cJSON *item, size_t data_start, hn_tensor_info *t, char *err,
                       size_t errlen)
{
    const char *name = item->string;
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    if (!cJSON_IsString(dtype) || !cJSON_IsArray(shape) || !cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2)
        return fail(err, errlen, "%s: tensor '%s': the header entry needs dtype, shape and data_offsets", w->path, name);
    size_t esize = dtype_size(dtype->valuestring);
    if (!esize) return fail(err, errlen, "%s: tensor '%s' has unknown dtype '%s'", w->path, name, dtype->valuestring);
    t->name = name;
    t->dtype = dtype->valuestring;
    t->ndim = cJSON_GetArraySize(shape);
    if (t->ndim > 8) return fail(err, errlen, "%s: tensor '%s' has rank %d (at most 8)", w->path, name, t->ndim);
    size_t count = 1;
    for (int i = 0; i < t->ndim; ++i) {
        const cJSON *d = cJSON_GetArrayItem(shape, i);
        if (!cJSON_IsNumber(d) || d->valuedouble < 0 || d->valuedouble != floor(d->valuedouble))
            return fail(err, errlen, "%s: tensor '%s' has an invalid shape entry %d", w->path, name, i);
        t->shape[i] = (int64_t)d->valuedouble;
        count *= (size_t)t->shape[i];
    }
    double b = cJSON_GetArrayItem(offs, 0)->valuedouble, e = cJSON_GetArrayItem(offs, 1)->valuedouble;
    size_t data_size = w->size - data_start;
    if (b < 0 || e < b || e > (double)data_size)
        return fail(err, errlen,
                    "%s: tensor '%s' has data_offsets [%.0f, %.0f] outside the %zu-byte data buffer (truncated file?)",
                    w->path, name, b, e, data_size);
    t->nbytes = (size_t)(e - b);
    if (t->nbytes != count * esize)
        return fail(err, errlen, "%s: tensor '%s' has %zu bytes of data, its dtype %s and shape need %zu", w->path,
                    name, t->nbytes, t->dtype, count * esize);
    t->data = w->image + data_start + (size_t)b;
    return 0;
}

static int parse_header(hn_weights *w, char *err, size_t errlen)
{
    if (w->size < 8) return fail(err, errlen, "%s: not a safetensors file (%zu bytes, no header)", w->path, w->size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | w->image[i];
    if (n > w->size - 8 || n == 0)
        return fail(err, errlen, "%s: not a safetensors file or truncated (header of %llu bytes in a %zu-byte file)",
                    w->path, (unsigned long long)n, w->size);
    w->header = cJSON_ParseWithLength((const char *)w->image + 8, (size_t)n);
    if (!w->header || !cJSON_IsObject(w->header))
        return fail(err, errlen, "%s: the safetensors header is not a JSON object", w->path);
    int total = cJSON_GetArraySize(w->header);
    w->tensors = calloc((size_t)total + 1, sizeof *w->tensors);
    if (!w->tensors) return fail(err, errlen, "%s: out of memory", w->path);
    const cJSON *item;
    cJSON_ArrayForEach(item, w->header)
    {
        if (strcmp(item->string, "__metadata__") == 0) continue;
        if (!cJSON_IsObject(item)) return fail(err, errlen, "%s: header entry '%s' is not an object", w->path, item->string);
        if (parse_entry(w, item, 8 + (size_t)n, &w->tensors[w->count], err, errlen)) return -1;
        ++w->count;
    }
    return 0;
}

hn_weights *hn_weights_open(const char *path, char *err, size_t errlen)
{
    hn_weights *w = calloc(1, sizeof *w);
    if (!w) { fail(err, errlen, "%s: out of memory", path); return NULL; }
    w->path = strdup(path);
    if (!w->path || read_file(path, &w->image, &w->size, err, errlen) || parse_header(w, err, errlen)) {
        hn_weights_close(w);
        return NULL;
    }
    return w;
}

void hn_weights_close(hn_weights *w)
{
    if (!w) return;
    cJSON_Delete(w->header);
    free(w->tensors);
    free(w->image);
    free(w->path);
    free(w);
}

int hn_weights_count(const hn_weights *w) { return w->count; }
const hn_tensor_info *hn_weights_at(const hn_weights *w, int i) { return i >= 0 && i < w->count ? &w->tensors[i] : NULL; }

const hn_tensor_info *hn_weights_find(const hn_weights *w, const char *name)
{
    for (int i = 0; i < w->count; ++i)
        if (strcmp(w->tensors[i].name, name) == 0) return &w->tensors[i];
    return NULL;
}

static void shape_text(int ndim, const int64_t *shape, char *dst, size_t n)
{
    size_t used = (size_t)snprintf(dst, n, "[");
    for (int i = 0; i < ndim && used < n; ++i)
        used += (size_t)snprintf(dst + used, n - used, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (used < n) snprintf(dst + used, n - used, "]");
}

static float half_to_float(uint16_t h, int bf16)
{
    if (bf16) {
        uint32_t bits = (uint32_t)h << 16;
        float f;
        memcpy(&f, &bits, 4);
        return f;
    }
    int sign = h >> 15, exp = (h >> 10) & 31, man = h & 1023;
    float v = exp == 0 ? ldexpf((float)man, -24) : exp == 31 ? (man ? NAN : INFINITY) : ldexpf((float)(man | 1024), exp - 25);
    return sign ? -v : v;
}

int hn_weights_copy_f32(const hn_weights *w, const char *name, int ndim, const int64_t *expected, float *dst,
                        char *err, size_t errlen)
{
    char want[160], have[160];
    shape_text(ndim, expected, want, sizeof want);
    const hn_tensor_info *t = hn_weights_find(w, name);
    if (!t) return fail(err, errlen, "%s: tensor '%s' is missing (the spec needs shape %s)", w->path, name, want);
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; ++i) same = t->shape[i] == expected[i];
    if (!same) {
        shape_text(t->ndim, t->shape, have, sizeof have);
        return fail(err, errlen, "%s: tensor '%s' has shape %s, the spec needs %s", w->path, name, have, want);
    }
    size_t count = 1;
    for (int i = 0; i < ndim; ++i) count *= (size_t)expected[i];
    const unsigned char *src = t->data;
    if (!strcmp(t->dtype, "F32")) {
        memcpy(dst, src, count * 4);
    } else if (!strcmp(t->dtype, "F64")) {
        for (size_t i = 0; i < count; ++i) { double d; memcpy(&d, src + 8 * i, 8); dst[i] = (float)d; }
    } else if (!strcmp(t->dtype, "F16") || !strcmp(t->dtype, "BF16")) {
        for (size_t i = 0; i < count; ++i) { uint16_t h; memcpy(&h, src + 2 * i, 2); dst[i] = half_to_float(h, t->dtype[0] == 'B'); }
    } else {
        return fail(err, errlen, "%s: tensor '%s' has dtype %s; weights must be floating point (F32, F64, F16, BF16)",
                    w->path, name, t->dtype);
    }
    return 0;
}

int hn_safetensors_write(const char *path, int n, const hn_tensor_out *t, char *err, size_t errlen)
{
    cJSON *root = cJSON_CreateObject();
    size_t offset = 0;
    for (int i = 0; i < n; ++i) {
        size_t count = 1;
        cJSON *e = cJSON_AddObjectToObject(root, t[i].name), *shape = cJSON_AddArrayToObject(e, "shape");
        cJSON_AddStringToObject(e, "dtype", "F32");
        for (int k = 0; k < t[i].ndim; ++k) {
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t[i].shape[k]));
            count *= (size_t)t[i].shape[k];
        }
        cJSON *offs = cJSON_AddArrayToObject(e, "data_offsets");
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)offset));
        offset += 4 * count;
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)offset));
    }
    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!json) return fail(err, errlen, "%s: out of memory", path);
    size_t hlen = strlen(json), padded = (hlen + 7) / 8 * 8;      /* data 8-byte aligned */
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    int ok = f != NULL;
    unsigned char len8[8];
    for (int i = 0; i < 8; ++i) len8[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    ok = ok && fwrite(len8, 1, 8, f) == 8 && fwrite(json, 1, hlen, f) == hlen;
    for (size_t i = hlen; ok && i < padded; ++i) ok = fputc(' ', f) != EOF;
    for (int i = 0; ok && i < n; ++i) {
        size_t count = 1;
        for (int k = 0; k < t[i].ndim; ++k) count *= (size_t)t[i].shape[k];
        ok = fwrite(t[i].data, 4, count, f) == count;
    }
    free(json);
    if (f && fclose(f)) ok = 0;
    if (!ok || rename(tmp, path)) {
        unlink(tmp);
        return fail(err, errlen, "%s: cannot write: %s", path, strerror(errno));
    }
    return 0;
}
