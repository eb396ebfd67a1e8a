/* weights.c — safetensors read and write; see hepnc/weights.h. The JSON header is parsed with cJSON.
 * The whole file is read into one malloc'd image; tensor data points into it. */
#include "hepnc/weights.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct hn_weights {
    char *path;
    unsigned char *image;       /* the whole file */
    size_t size;
    size_t data_start;          /* 8 + header length */
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

/* ---- reading ------------------------------------------------------------------------------------ */

static size_t dtype_size(const char *dtype)
{
    static const struct { const char *name; size_t size; } sizes[] = {
        { "F64", 8 }, { "F32", 4 }, { "F16", 2 }, { "BF16", 2 }, { "I64", 8 }, { "I32", 4 }, { "I16", 2 },
        { "I8", 1 },  { "U64", 8 }, { "U32", 4 }, { "U16", 2 },  { "U8", 1 },   { "BOOL", 1 },
        { "F8_E4M3", 1 }, { "F8_E5M2", 1 },
    };
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; ++i)
        if (strcmp(sizes[i].name, dtype) == 0) return sizes[i].size;
    return 0;
}

static int read_file(const char *path, unsigned char **image, size_t *size, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) return fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
        fclose(f);
        return fail(err, errlen, "%s: not a regular file", path);
    }
    size_t len = (size_t)st.st_size;
    *image = malloc(len + 1);
    if (!*image) { fclose(f); return fail(err, errlen, "%s: out of memory reading %zu bytes", path, len); }
    size_t got = fread(*image, 1, len, f);
    int saved = errno;
    fclose(f);
    if (got != len) {
        free(*image);
        *image = NULL;
        return fail(err, errlen, "%s: cannot read (%zu of %zu bytes): %s", path, got, len, strerror(saved));
    }
    *size = len;
    return 0;
}

/* A JSON number that is a non-negative integer exactly representable as a double. */
static int json_count(const cJSON *v, double *out)
{
    if (!cJSON_IsNumber(v)) return 0;
    double d = v->valuedouble;
    if (d < 0 || d != floor(d) || d > 9007199254740992.0) return 0;
    *out = d;
    return 1;
}

static int parse_shape(const hn_weights *w, const char *name, const cJSON *shape, hn_tensor_info *t, size_t *elems,
                       char *err, size_t errlen)
{
    t->ndim = cJSON_GetArraySize(shape);
    if (t->ndim > HN_TENSOR_MAX_RANK)
        return fail(err, errlen, "%s: tensor '%s' has rank %d (at most %d)", w->path, name, t->ndim, HN_TENSOR_MAX_RANK);
    *elems = 1;
    for (int i = 0; i < t->ndim; ++i) {
        const cJSON *d = cJSON_GetArrayItem(shape, i);
        double v;
        if (cJSON_IsNumber(d) && d->valuedouble < 0)
            return fail(err, errlen, "%s: tensor '%s' has a negative extent %.0f in dimension %d of its shape", w->path,
                        name, d->valuedouble, i);
        if (!json_count(d, &v))
            return fail(err, errlen, "%s: tensor '%s': shape entry %d is not a non-negative integer", w->path, name, i);
        t->shape[i] = (int64_t)v;
        if (v > 0 && *elems > SIZE_MAX / 16 / (size_t)v)
            return fail(err, errlen, "%s: tensor '%s' has an impossibly large shape", w->path, name);
        *elems *= (size_t)v;
    }
    return 0;
}

/* Fills one tensor entry from its JSON description, checking it against the data buffer. */
static int parse_entry(const hn_weights *w, const cJSON *item, hn_tensor_info *t, char *err, size_t errlen)
{
    const char *name = item->string;
    if (!cJSON_IsObject(item)) return fail(err, errlen, "%s: header entry '%s' is not an object", w->path, name);
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    if (!cJSON_IsString(dtype) || !cJSON_IsArray(shape) || !cJSON_IsArray(offs))
        return fail(err, errlen, "%s: tensor '%s': the header entry needs \"dtype\" (a string), \"shape\" and "
                    "\"data_offsets\" (arrays)", w->path, name);
    size_t esize = dtype_size(dtype->valuestring);
    if (!esize) return fail(err, errlen, "%s: tensor '%s' has unknown dtype '%s'", w->path, name, dtype->valuestring);
    t->name = name;
    t->dtype = dtype->valuestring;
    size_t elems = 0;
    if (parse_shape(w, name, shape, t, &elems, err, errlen)) return -1;
    double b, e;
    if (cJSON_GetArraySize(offs) != 2 || !json_count(cJSON_GetArrayItem(offs, 0), &b) ||
        !json_count(cJSON_GetArrayItem(offs, 1), &e) || e < b)
        return fail(err, errlen, "%s: tensor '%s': data_offsets must be [begin, end] with 0 <= begin <= end", w->path,
                    name);
    size_t data_size = w->size - w->data_start;
    if (e > (double)data_size)
        return fail(err, errlen, "%s: tensor '%s' has data_offsets [%.0f, %.0f] past the end of the %zu-byte data "
                    "buffer (truncated file?)", w->path, name, b, e, data_size);
    t->nbytes = (size_t)(e - b);
    if (t->nbytes != elems * esize)
        return fail(err, errlen, "%s: tensor '%s' has %zu bytes of data, its dtype %s and shape need %zu", w->path, name,
                    t->nbytes, t->dtype, elems * esize);
    t->data = w->image + w->data_start + (size_t)b;
    return 0;
}

static int by_offset(const void *a, const void *b)
{
    const hn_tensor_info *x = *(const hn_tensor_info *const *)a, *y = *(const hn_tensor_info *const *)b;
    const unsigned char *p = x->data, *q = y->data;
    return p < q ? -1 : p > q ? 1 : 0;
}

/* No two tensors share a byte (empty tensors share nothing). */
static int check_overlaps(const hn_weights *w, char *err, size_t errlen)
{
    const hn_tensor_info **order = malloc(sizeof *order * ((size_t)w->count + 1));
    if (!order) return fail(err, errlen, "%s: out of memory", w->path);
    for (int i = 0; i < w->count; ++i) order[i] = &w->tensors[i];
    qsort(order, (size_t)w->count, sizeof *order, by_offset);
    int rc = 0;
    const hn_tensor_info *prev = NULL;
    for (int i = 0; i < w->count && !rc; ++i) {
        if (!order[i]->nbytes) continue;
        if (prev && (const unsigned char *)prev->data + prev->nbytes > (const unsigned char *)order[i]->data)
            rc = fail(err, errlen, "%s: tensors '%s' and '%s' overlap in the data buffer (bytes %td and %td)", w->path,
                      prev->name, order[i]->name, (const unsigned char *)prev->data - w->image - (ptrdiff_t)w->data_start,
                      (const unsigned char *)order[i]->data - w->image - (ptrdiff_t)w->data_start);
        prev = order[i];
    }
    free(order);
    return rc;
}

static int check_metadata(const hn_weights *w, const cJSON *meta, char *err, size_t errlen)
{
    if (!cJSON_IsObject(meta)) return fail(err, errlen, "%s: \"__metadata__\" must be an object of strings", w->path);
    const cJSON *kv;
    cJSON_ArrayForEach(kv, meta)
    {
        if (!cJSON_IsString(kv))
            return fail(err, errlen, "%s: \"__metadata__\" entry '%s' is not a string", w->path, kv->string);
    }
    return 0;
}

static int parse_json(hn_weights *w, size_t n, char *err, size_t errlen)
{
    const char *text = (const char *)w->image + 8, *end = NULL;
    w->header = cJSON_ParseWithLengthOpts(text, n, &end, 0);
    if (!w->header)
        return fail(err, errlen, "%s: the safetensors header is not valid JSON (error at byte %td of %zu; not a "
                    "safetensors file?)", w->path, end ? end - text : (ptrdiff_t)0, n);
    if (!cJSON_IsObject(w->header)) return fail(err, errlen, "%s: the safetensors header is not a JSON object", w->path);
    return 0;
}

static int parse_header(hn_weights *w, char *err, size_t errlen)
{
    if (w->size < 8)
        return fail(err, errlen, "%s: not a safetensors file: %zu bytes, shorter than the 8-byte header length", w->path,
                    w->size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | w->image[i];
    if (n == 0 || n > w->size - 8)
        return fail(err, errlen, "%s: header length %llu does not fit in the %zu-byte file (truncated, or not a "
                    "safetensors file)", w->path, (unsigned long long)n, w->size);
    w->data_start = 8 + (size_t)n;
    if (parse_json(w, (size_t)n, err, errlen)) return -1;
    w->tensors = calloc((size_t)cJSON_GetArraySize(w->header) + 1, sizeof *w->tensors);
    if (!w->tensors) return fail(err, errlen, "%s: out of memory", w->path);
    const cJSON *item;
    cJSON_ArrayForEach(item, w->header)
    {
        if (strcmp(item->string, "__metadata__") == 0) {
            if (check_metadata(w, item, err, errlen)) return -1;
            continue;
        }
        if (hn_weights_find(w, item->string))
            return fail(err, errlen, "%s: tensor '%s' appears twice in the header", w->path, item->string);
        if (parse_entry(w, item, &w->tensors[w->count], err, errlen)) return -1;
        ++w->count;
    }
    return check_overlaps(w, err, errlen);
}

hn_weights *hn_weights_open(const char *path, char *err, size_t errlen)
{
    if (!path) { fail(err, errlen, "(null): no weights file given"); return NULL; }
    hn_weights *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path))) {
        fail(err, errlen, "%s: out of memory", path);
        free(w);
        return NULL;
    }
    if (read_file(path, &w->image, &w->size, err, errlen) || parse_header(w, err, errlen)) {
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

const char *hn_weights_path(const hn_weights *w) { return w->path; }
int hn_weights_count(const hn_weights *w) { return w->count; }
const hn_tensor_info *hn_weights_at(const hn_weights *w, int i) { return i >= 0 && i < w->count ? &w->tensors[i] : NULL; }

const hn_tensor_info *hn_weights_find(const hn_weights *w, const char *name)
{
    for (int i = 0; name && i < w->count; ++i)
        if (strcmp(w->tensors[i].name, name) == 0) return &w->tensors[i];
    return NULL;
}

const char *hn_weights_metadata(const hn_weights *w, const char *key)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(w->header, "__metadata__");
    const cJSON *v = key ? cJSON_GetObjectItemCaseSensitive(meta, key) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- copying as float32 ------------------------------------------------------------------------- */

static void shape_text(int ndim, const int64_t *shape, char *dst, size_t n)
{
    size_t used = (size_t)snprintf(dst, n, "[");
    for (int i = 0; i < ndim && used < n; ++i)
        used += (size_t)snprintf(dst + used, n - used, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (used < n) snprintf(dst + used, n - used, "]");
}

static float half_to_float(uint16_t h)
{
    int sign = h >> 15, exp = (h >> 10) & 31, man = h & 1023;
    float v = exp == 0    ? ldexpf((float)man, -24)
              : exp == 31 ? (man ? NAN : INFINITY)
                          : ldexpf((float)(man | 1024), exp - 25);
    return sign ? -v : v;
}

static float bf16_to_float(uint16_t h)
{
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Converts count elements of a floating-point dtype; -1 for any other dtype. */
static int convert_to_f32(const char *dtype, const unsigned char *src, size_t count, float *dst)
{
    if (!strcmp(dtype, "F32")) {
        if (count) memcpy(dst, src, count * 4);
    } else if (!strcmp(dtype, "F64")) {
        for (size_t i = 0; i < count; ++i) { double d; memcpy(&d, src + 8 * i, 8); dst[i] = (float)d; }
    } else if (!strcmp(dtype, "F16") || !strcmp(dtype, "BF16")) {
        int bf = dtype[0] == 'B';
        for (size_t i = 0; i < count; ++i) {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            dst[i] = bf ? bf16_to_float(h) : half_to_float(h);
        }
    } else {
        return -1;
    }
    return 0;
}

/* A tensor whose name ends with ".name" (a "module." prefix from DataParallel, say), or NULL. */
static const char *suffix_match(const hn_weights *w, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < w->count; ++i) {
        size_t m = strlen(w->tensors[i].name);
        if (m > n + 1 && w->tensors[i].name[m - n - 1] == '.' && !strcmp(w->tensors[i].name + m - n, name))
            return w->tensors[i].name;
    }
    return NULL;
}

static int report_missing(const hn_weights *w, const char *name, const char *want, char *err, size_t errlen)
{
    const char *near = suffix_match(w, name);
    if (near)
        return fail(err, errlen, "%s: tensor '%s' is missing (the spec needs shape %s); the file has '%s': strip "
                    "the prefix when exporting", w->path, name, want, near);
    return fail(err, errlen, "%s: tensor '%s' is missing (the spec needs shape %s)", w->path, name, want);
}

int hn_weights_copy_f32(const hn_weights *w, const char *name, int ndim, const int64_t *expected, float *dst,
                        char *err, size_t errlen)
{
    if (!name) return fail(err, errlen, "%s: no tensor name given", w->path);
    if (ndim < 0 || ndim > HN_TENSOR_MAX_RANK || (ndim && !expected))
        return fail(err, errlen, "%s: tensor '%s': the caller's expected rank %d is invalid", w->path, name, ndim);
    char want[200], have[200];
    shape_text(ndim, expected, want, sizeof want);
    const hn_tensor_info *t = hn_weights_find(w, name);
    if (!t) return report_missing(w, name, want, err, errlen);
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; ++i) same = t->shape[i] == expected[i];
    if (!same) {
        shape_text(t->ndim, t->shape, have, sizeof have);
        return fail(err, errlen, "%s: tensor '%s' has shape %s, the spec needs %s", w->path, name, have, want);
    }
    size_t count = 1;
    for (int i = 0; i < ndim; ++i) count *= (size_t)expected[i];
    if (count && !dst) return fail(err, errlen, "%s: tensor '%s': no destination buffer", w->path, name);
    if (convert_to_f32(t->dtype, t->data, count, dst))
        return fail(err, errlen, "%s: tensor '%s' has dtype %s; weights must be floating point (F32, F64, F16 or BF16)",
                    w->path, name, t->dtype);
    return 0;
}

/* ---- writing ------------------------------------------------------------------------------------ */

static size_t out_elems(const hn_tensor_out *t)
{
    size_t count = 1;
    for (int k = 0; k < t->ndim; ++k) count *= (size_t)t->shape[k];
    return count;
}

static int check_outputs(const char *path, int n, const hn_tensor_out *t, char *err, size_t errlen)
{
    if (n < 0 || (n > 0 && !t)) return fail(err, errlen, "%s: invalid tensor list (%d tensors)", path, n);
    for (int i = 0; i < n; ++i) {
        const char *name = t[i].name;
        if (!name || !*name || !strcmp(name, "__metadata__"))
            return fail(err, errlen, "%s: tensor %d has no usable name", path, i);
        if (t[i].ndim < 0 || t[i].ndim > HN_TENSOR_MAX_RANK)
            return fail(err, errlen, "%s: tensor '%s' has rank %d (0 to %d)", path, name, t[i].ndim, HN_TENSOR_MAX_RANK);
        for (int k = 0; k < t[i].ndim; ++k)
            if (t[i].shape[k] < 0)
                return fail(err, errlen, "%s: tensor '%s' has a negative extent in dimension %d", path, name, k);
        if (out_elems(&t[i]) && !t[i].data) return fail(err, errlen, "%s: tensor '%s' has no data", path, name);
        for (int j = 0; j < i; ++j)
            if (!strcmp(t[j].name, name)) return fail(err, errlen, "%s: tensor '%s' is given twice", path, name);
    }
    return 0;
}

/* The JSON header, padded with spaces to a multiple of 8 bytes so that the data is aligned. */
static char *build_header(int n, const hn_tensor_out *t, int nmeta, const char *const *keys,
                          const char *const *values, size_t *padded)
{
    cJSON *root = cJSON_CreateObject();
    if (root && nmeta > 0) {
        cJSON *meta = cJSON_AddObjectToObject(root, "__metadata__");
        for (int i = 0; meta && i < nmeta; ++i) cJSON_AddStringToObject(meta, keys[i], values[i]);
    }
    size_t offset = 0;
    for (int i = 0; root && i < n; ++i) {
        cJSON *e = cJSON_AddObjectToObject(root, t[i].name);
        cJSON_AddStringToObject(e, "dtype", "F32");
        cJSON *shape = cJSON_AddArrayToObject(e, "shape"), *offs = cJSON_AddArrayToObject(e, "data_offsets");
        for (int k = 0; k < t[i].ndim; ++k) cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t[i].shape[k]));
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)offset));
        offset += 4 * out_elems(&t[i]);
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)offset));
    }
    char *json = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!json) return NULL;
    size_t len = strlen(json);
    *padded = (len + 7) / 8 * 8;
    char *out = realloc(json, *padded + 1);
    if (!out) { free(json); return NULL; }
    memset(out + len, ' ', *padded - len);
    out[*padded] = '\0';
    return out;
}

/* Creates "path.tmp.<pid>.<k>" exclusively; its name goes to tmp. -1 when no name is free. */
static int create_tmp(const char *path, char *tmp, size_t tmplen)
{
    static atomic_uint serial;
    for (int tries = 0; tries < 100; ++tries) {
        snprintf(tmp, tmplen, "%s.tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&serial, 1));
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    return -1;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    while (len) {
        ssize_t k = write(fd, p, len);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k;
        len -= (size_t)k;
    }
    return 0;
}

static int write_body(int fd, const char *header, size_t hlen, int n, const hn_tensor_out *t)
{
    unsigned char len8[8];
    for (int i = 0; i < 8; ++i) len8[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    if (write_all(fd, len8, 8) || write_all(fd, header, hlen)) return -1;
    for (int i = 0; i < n; ++i)
        if (write_all(fd, t[i].data, 4 * out_elems(&t[i]))) return -1;   /* little-endian hosts only */
    return fsync(fd);
}

static int check_metadata_out(const char *path, int nmeta, const char *const *keys, const char *const *values,
                              char *err, size_t errlen)
{
    if (nmeta < 0 || (nmeta > 0 && (!keys || !values)))
        return fail(err, errlen, "%s: invalid metadata list (%d entries)", path, nmeta);
    for (int i = 0; i < nmeta; ++i) {
        if (!keys[i] || !*keys[i] || !values[i]) return fail(err, errlen, "%s: metadata entry %d has no key or value", path, i);
        for (int j = 0; j < i; ++j)
            if (!strcmp(keys[j], keys[i])) return fail(err, errlen, "%s: metadata key '%s' is given twice", path, keys[i]);
    }
    return 0;
}

int hn_safetensors_write(const char *path, int n, const hn_tensor_out *t, char *err, size_t errlen)
{
    return hn_safetensors_write_meta(path, n, t, 0, NULL, NULL, err, errlen);
}

int hn_safetensors_write_meta(const char *path, int n, const hn_tensor_out *t, int nmeta, const char *const *keys,
                              const char *const *values, char *err, size_t errlen)
{
    if (!path) return fail(err, errlen, "(null): no output path given");
    if (check_outputs(path, n, t, err, errlen) || check_metadata_out(path, nmeta, keys, values, err, errlen)) return -1;
    size_t hlen = 0;
    char *header = build_header(n, t, nmeta, keys, values, &hlen);
    if (!header) return fail(err, errlen, "%s: out of memory building the header", path);
    char tmp[4096];
    int fd = create_tmp(path, tmp, sizeof tmp);
    if (fd < 0) {
        int saved = errno;
        free(header);
        return fail(err, errlen, "%s: cannot create a temporary file next to it: %s", path, strerror(saved));
    }
    int rc = write_body(fd, header, hlen, n, t);
    int saved = errno;
    free(header);
    if (close(fd) && !rc) { rc = -1; saved = errno; }
    if (!rc && rename(tmp, path)) { rc = -1; saved = errno; }
    if (rc) {
        unlink(tmp);
        return fail(err, errlen, "%s: cannot write: %s", path, strerror(saved));
    }
    return 0;
}
