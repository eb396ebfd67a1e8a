/* test_weights.c — safetensors read/write (runtime/weights.c): a round trip, dtype conversion, and every
 * malformed file the reader must refuse, each with a message that names the file and the tensor.
 * Files are written to a fresh temporary directory (argv[1] or $TMPDIR or /tmp) that is removed at the end. */
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hepnc/weights.h"

static int passed, failed;
static char dir[4096];

static void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    ok ? ++passed : ++failed;
}

/* err contains every one of the NULL-terminated strings. */
static int has_all(const char *err, ...)
{
    va_list ap;
    va_start(ap, err);
    int ok = 1;
    for (const char *s; (s = va_arg(ap, const char *));) ok = ok && strstr(err, s) != NULL;
    va_end(ap);
    return ok;
}

static const char *in_dir(const char *name)
{
    static char buf[8][4200];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    return p;
}

/* Number of entries in the test directory whose name contains s. */
static int entries_with(const char *s)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += strstr(e->d_name, s) != NULL;
    if (d) closedir(d);
    return n;
}

/* A file from a header (written with its u64 length) and a data buffer. */
static void write_raw(const char *path, const char *json, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    uint64_t n = strlen(json);
    unsigned char len8[8];
    for (int i = 0; i < 8; ++i) len8[i] = (unsigned char)(n >> (8 * i));
    fwrite(len8, 1, 8, f);
    fwrite(json, 1, n, f);
    if (len) fwrite(data, 1, len, f);
    fclose(f);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) ? -1 : (long)st.st_size;
}

/* open must fail with a message containing path and every given string. */
#define EXPECT_OPEN_FAILS(path, what, ...)                                                                          \
    do {                                                                                                            \
        char err_[512] = "";                                                                                        \
        hn_weights *w_ = hn_weights_open(path, err_, sizeof err_);                                                  \
        check(!w_ && has_all(err_, path, __VA_ARGS__, (const char *)NULL), "%s refused: %s", what, err_);           \
        hn_weights_close(w_);                                                                                       \
    } while (0)

static float W1[6] = { 1.5f, -2.0f, 3.25f, 0.0f, 1e-30f, -7.0f }, B1[3] = { 0.5f, 0.25f, -0.125f }, S1 = 42.0f;

static const hn_tensor_out OUTS[] = {
    { "phi.0.weight", 2, { 3, 2 }, W1 },
    { "phi.0.bias", 1, { 3 }, B1 },
    { "scale", 0, { 0 }, &S1 },
    { "empty", 1, { 0 }, NULL },
};

static void test_round_trip(void)
{
    const char *path = in_dir("rt.safetensors");
    char err[512] = "";
    int rc = hn_safetensors_write(path, 4, OUTS, err, sizeof err);
    check(rc == 0, "write 4 tensors %s", rc ? err : "");
    check(entries_with(".tmp.") == 0, "no temporary file left after a write");
    FILE *f = fopen(path, "rb");
    unsigned char len8[8] = { 0 };
    if (f) { (void)!fread(len8, 1, 8, f); fclose(f); }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; --i) hlen = (hlen << 8) | len8[i];
    check(hlen > 0 && hlen % 8 == 0, "header length %llu is a multiple of 8 (aligned data)", (unsigned long long)hlen);

    hn_weights *w = hn_weights_open(path, err, sizeof err);
    check(w != NULL, "open what was written: %s", w ? "" : err);
    if (!w) return;
    check(hn_weights_count(w) == 4, "4 tensors (got %d)", hn_weights_count(w));
    for (int i = 0; i < 4; ++i) {
        const hn_tensor_info *t = hn_weights_at(w, i);
        check(t && !strcmp(t->name, OUTS[i].name) && !strcmp(t->dtype, "F32") && t->ndim == OUTS[i].ndim,
              "tensor %d is '%s' F32 rank %d, in file order", i, OUTS[i].name, OUTS[i].ndim);
    }
    check(hn_weights_at(w, 4) == NULL && hn_weights_at(w, -1) == NULL, "hn_weights_at out of range is NULL");
    check(hn_weights_find(w, "nope") == NULL, "find of an absent name is NULL");
    const hn_tensor_info *b = hn_weights_find(w, "phi.0.bias");
    check(b && b->nbytes == 12 && b->shape[0] == 3, "find phi.0.bias: 12 bytes, shape [3]");

    float wt[6], bias[3], s = 0;
    int64_t ws[2] = { 3, 2 }, bs[1] = { 3 };
    rc = hn_weights_copy_f32(w, "phi.0.weight", 2, ws, wt, err, sizeof err);
    check(rc == 0 && !memcmp(wt, W1, sizeof W1), "copy phi.0.weight bit for bit");
    rc = hn_weights_copy_f32(w, "phi.0.bias", 1, bs, bias, err, sizeof err);
    check(rc == 0 && !memcmp(bias, B1, sizeof B1), "copy phi.0.bias bit for bit");
    rc = hn_weights_copy_f32(w, "scale", 0, NULL, &s, err, sizeof err);
    check(rc == 0 && s == 42.0f, "copy a rank-0 tensor");
    int64_t es[1] = { 0 };
    rc = hn_weights_copy_f32(w, "empty", 1, es, NULL, err, sizeof err);
    check(rc == 0, "copy an empty tensor");
    hn_weights_close(w);

    /* overwrite atomically: a failed write leaves the old file as it was */
    long before = file_size(path);
    hn_tensor_out dup[2] = { OUTS[0], OUTS[0] };
    rc = hn_safetensors_write(path, 2, dup, err, sizeof err);
    check(rc != 0 && has_all(err, path, "'phi.0.weight'", "twice", (const char *)NULL), "duplicate names refused: %s",
          err);
    check(file_size(path) == before && entries_with(".tmp.") == 0, "failed write leaves the old file and no temporary");
    rc = hn_safetensors_write(in_dir("no/such/dir/x.safetensors"), 1, OUTS, err, sizeof err);
    check(rc != 0 && strstr(err, "no/such/dir/x.safetensors"), "write into a missing directory refused: %s", err);
    hn_tensor_out neg = { "neg", 1, { -3 }, W1 };
    rc = hn_safetensors_write(path, 1, &neg, err, sizeof err);
    check(rc != 0 && has_all(err, "'neg'", "negative", (const char *)NULL), "negative extent refused on write: %s", err);
}

static void test_conversions(void)
{
    const char *path = in_dir("conv.safetensors");
    unsigned char data[64];
    double d[2] = { 0.1, -1e10 };
    uint16_t h[5] = { 0x3C00, 0xC000, 0x3800, 0x0001, 0x7C00 };     /* 1, -2, 0.5, 2^-24, inf */
    uint16_t bf[2] = { 0x3F80, 0xC040 };                            /* 1, -3 */
    int64_t i64[1] = { 7 };
    memcpy(data, d, 16);
    memcpy(data + 16, h, 10);
    memcpy(data + 26, bf, 4);
    memcpy(data + 30, i64, 8);    /* unaligned on purpose */
    write_raw(path,
              "{\"__metadata__\":{\"format\":\"pt\"},"
              "\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]},"
              "\"h\":{\"dtype\":\"F16\",\"shape\":[5],\"data_offsets\":[16,26]},"
              "\"bf\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[26,30]},"
              "\"steps\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[30,38]}}",
              data, 38);
    char err[512] = "";
    hn_weights *w = hn_weights_open(path, err, sizeof err);
    check(w != NULL, "open a file with F64, F16, BF16, I64 and metadata: %s", w ? "" : err);
    if (!w) return;
    const char *fmt = hn_weights_metadata(w, "format");
    check(fmt && !strcmp(fmt, "pt") && !hn_weights_metadata(w, "other"), "metadata 'format' is 'pt'");
    check(hn_weights_count(w) == 4, "__metadata__ is not a tensor");
    float out[5];
    int64_t s2[1] = { 2 }, s5[1] = { 5 }, sbf[2] = { 1, 2 }, s1[1] = { 1 };
    int rc = hn_weights_copy_f32(w, "d", 1, s2, out, err, sizeof err);
    check(rc == 0 && out[0] == 0.1f && out[1] == -1e10f, "F64 converted to the nearest float");
    rc = hn_weights_copy_f32(w, "h", 1, s5, out, err, sizeof err);
    check(rc == 0 && out[0] == 1 && out[1] == -2 && out[2] == 0.5f && out[3] == ldexpf(1, -24) && isinf(out[4]),
          "F16 converted exactly (normal, negative, subnormal, inf)");
    rc = hn_weights_copy_f32(w, "bf", 2, sbf, out, err, sizeof err);
    check(rc == 0 && out[0] == 1 && out[1] == -3, "BF16 converted exactly");
    out[0] = 123;
    rc = hn_weights_copy_f32(w, "steps", 1, s1, out, err, sizeof err);
    check(rc != 0 && has_all(err, path, "'steps'", "dtype I64", (const char *)NULL) && out[0] == 123,
          "an integer tensor is refused as a weight, dst untouched: %s", err);
    hn_weights_close(w);
}

static void test_copy_errors(void)
{
    const char *path = in_dir("phi.safetensors");
    static float wbuf[64 * 7];
    hn_tensor_out t[2] = { { "phi.0.weight", 2, { 64, 7 }, wbuf }, { "module.phi.1.bias", 1, { 64 }, wbuf } };
    char err[512] = "", want[600];
    if (hn_safetensors_write(path, 2, t, err, sizeof err)) { check(0, "write: %s", err); return; }
    hn_weights *w = hn_weights_open(path, err, sizeof err);
    if (!w) { check(0, "open: %s", err); return; }
    static float dst[64 * 8];
    dst[0] = -1;
    int64_t shape[2] = { 64, 8 };
    int rc = hn_weights_copy_f32(w, "phi.0.weight", 2, shape, dst, err, sizeof err);
    snprintf(want, sizeof want, "%s: tensor 'phi.0.weight' has shape [64, 7], the spec needs [64, 8]", path);
    check(rc != 0 && !strcmp(err, want) && dst[0] == -1, "wrong shape: %s", err);
    int64_t rank1[1] = { 448 };
    rc = hn_weights_copy_f32(w, "phi.0.weight", 1, rank1, dst, err, sizeof err);
    check(rc != 0 && has_all(err, "'phi.0.weight'", "[64, 7]", "[448]", (const char *)NULL), "wrong rank: %s", err);
    int64_t bshape[1] = { 64 };
    rc = hn_weights_copy_f32(w, "phi.0.bias", 1, bshape, dst, err, sizeof err);
    snprintf(want, sizeof want, "%s: tensor 'phi.0.bias' is missing (the spec needs shape [64])", path);
    check(rc != 0 && !strcmp(err, want), "missing tensor: %s", err);
    rc = hn_weights_copy_f32(w, "phi.1.bias", 1, bshape, dst, err, sizeof err);
    check(rc != 0 && has_all(err, "'phi.1.bias' is missing", "'module.phi.1.bias'", (const char *)NULL),
          "missing tensor with a prefixed twin names the twin: %s", err);
    hn_weights_close(w);
}

static void test_bad_files(void)
{
    char err[512];
    /* a good file, then cut */
    const char *good = in_dir("good.safetensors"), *cut = in_dir("cut.safetensors");
    if (hn_safetensors_write(good, 2, OUTS, err, sizeof err)) { check(0, "write: %s", err); return; }
    FILE *f = fopen(good, "rb");
    static unsigned char image[4096];
    size_t n = fread(image, 1, sizeof image, f);
    fclose(f);
    f = fopen(cut, "wb");
    fwrite(image, 1, n - 4, f);
    fclose(f);
    EXPECT_OPEN_FAILS(cut, "truncated file", "'phi.0.bias'", "truncated");
    f = fopen(cut, "wb");
    fwrite(image, 1, 6, f);
    fclose(f);
    EXPECT_OPEN_FAILS(cut, "6-byte file", "shorter than the 8-byte header");
    f = fopen(cut, "wb");
    fwrite(image, 1, 20, f);
    fclose(f);
    EXPECT_OPEN_FAILS(cut, "file cut inside the header", "header length");
    EXPECT_OPEN_FAILS(in_dir("absent.safetensors"), "missing file", "cannot open");
    EXPECT_OPEN_FAILS(dir, "a directory", "not a regular file");

    const char *bad = in_dir("bad.safetensors");
    float data[16] = { 0 };
    write_raw(bad, "{\"a\": nonsense}", data, 0);
    EXPECT_OPEN_FAILS(bad, "header not JSON", "not valid JSON");
    write_raw(bad, "[1, 2, 3]", data, 0);
    EXPECT_OPEN_FAILS(bad, "header not an object", "not a JSON object");
    write_raw(bad, "{\"x\":{\"dtype\":\"F128\",\"shape\":[2],\"data_offsets\":[0,8]}}", data, 8);
    EXPECT_OPEN_FAILS(bad, "unknown dtype", "'x'", "unknown dtype 'F128'");
    write_raw(bad, "{\"x\":{\"dtype\":\"F32\",\"shape\":[2,-3],\"data_offsets\":[0,8]}}", data, 8);
    EXPECT_OPEN_FAILS(bad, "negative shape", "'x'", "negative extent -3 in dimension 1");
    write_raw(bad, "{\"x\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", data, 8);
    EXPECT_OPEN_FAILS(bad, "fractional shape", "'x'", "shape entry 0");
    write_raw(bad, "{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", data, 64);
    EXPECT_OPEN_FAILS(bad, "byte count disagrees with dtype x shape", "'x'", "8 bytes", "need 12");
    write_raw(bad, "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", data, 64);
    EXPECT_OPEN_FAILS(bad, "end before begin", "'x'", "data_offsets");
    write_raw(bad, "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", data, 64);
    EXPECT_OPEN_FAILS(bad, "one offset", "'x'", "data_offsets");
    write_raw(bad, "{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[60,76]}}", data, 64);
    EXPECT_OPEN_FAILS(bad, "offsets past the end", "'x'", "past the end");
    write_raw(bad, "{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                   "\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", data, 64);
    EXPECT_OPEN_FAILS(bad, "overlapping tensors", "'x'", "'y'", "overlap");
    write_raw(bad, "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                   "\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", data, 64);
    EXPECT_OPEN_FAILS(bad, "duplicate tensor", "'x'", "twice");
    write_raw(bad, "{\"x\":{\"dtype\":\"F32\",\"shape\":[1]}}", data, 64);
    EXPECT_OPEN_FAILS(bad, "entry without data_offsets", "'x'", "data_offsets");
    write_raw(bad, "{\"x\":[1,2]}", data, 64);
    EXPECT_OPEN_FAILS(bad, "entry not an object", "'x'", "not an object");
    write_raw(bad, "{\"__metadata__\":{\"n\":3}}", data, 0);
    EXPECT_OPEN_FAILS(bad, "non-string metadata", "__metadata__", "'n'");
    write_raw(bad, "{\"x\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", data, 64);
    EXPECT_OPEN_FAILS(bad, "rank 9", "'x'", "rank 9");
    write_raw(bad, "{\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
                   "\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", data, 8);
    hn_weights *w = hn_weights_open(bad, err, sizeof err);
    check(w != NULL, "an empty tensor at a used offset is not an overlap: %s", w ? "" : err);
    hn_weights_close(w);
}

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) unlink(in_dir(e->d_name));
    if (d) closedir(d);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    const char *base = argc > 1 ? argv[1] : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    mkdir(base, 0777);
    snprintf(dir, sizeof dir, "%s/hn_weights_XXXXXX", base);
    if (!mkdtemp(dir)) { perror(dir); return 2; }
    test_round_trip();
    test_conversions();
    test_copy_errors();
    test_bad_files();
    remove_dir();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
