/* emulate.c — the emulated GPU (HEPNC_GPU_EMULATE=1): a model's CUDA source compiled by the host C++
 * compiler behind gpu/emulate_prelude.h (the CUDA device API on the CPU) into a shared object, cached like
 * NVRTC's cubins, and its kernels run on the CPU; device memory is host memory; the GEMMs are plain loops.
 * Slow, and meant for that: the GPU objects' numbers are checked where no GPU exists (CI). */
#define _GNU_SOURCE
#include "emulate.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const char hn_emu_prelude[];   /* gpu/emulate_prelude.h, embedded at build time */

typedef int (*emu_launch_fn)(const char *, unsigned, unsigned, unsigned, unsigned, void **, char *, size_t);

struct hn_emu {
    void *so;
    emu_launch_fn launch;
};

int hn_emu_requested(void)
{
    const char *e = getenv("HEPNC_GPU_EMULATE");
    return e && *e && strcmp(e, "0") != 0;
}

static uint64_t fnv1a(const char *s, uint64_t h)
{
    for (; *s; ++s) { h ^= (unsigned char)*s; h *= 1099511628211ull; }
    return h;
}

/* Appends n bytes of s (SIZE_MAX: all of it) to the growing buffer. */
static int append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (n == SIZE_MAX) n = strlen(s);
    if (*len + n + 1 > *cap) {
        size_t c = (*cap ? *cap * 2 : 1 << 16);
        while (c < *len + n + 1) c *= 2;
        char *b = realloc(*buf, c);
        if (!b) return -1;
        *buf = b;
        *cap = c;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

static int appendf(char **buf, size_t *len, size_t *cap, const char *fmt, const char *a, const char *b)
{
    char line[512];
    int n = snprintf(line, sizeof line, fmt, a, b);
    return n < 0 || (size_t)n >= sizeof line ? -1 : append(buf, len, cap, line, (size_t)n);
}

static int is_ident(char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

/* The translation unit: the prelude, the source with `extern __shared__ T name[];` made a pointer into the
 * launch's dynamic shared memory, and a shim per `__global__ void NAME(` plus the launch table. */
static char *translation_unit(const char *source, const char *name)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int ok = !append(&buf, &len, &cap, hn_emu_prelude, strlen(hn_emu_prelude)) &&
             !appendf(&buf, &len, &cap, "#line 1 \"%s.cu\"\n", name, "");
    static const char ext[] = "extern __shared__ ";
    const char *p = source;
    while (ok) {
        const char *q = strstr(p, ext);
        if (!q) { ok = !append(&buf, &len, &cap, p, strlen(p)); break; }
        /* extern __shared__ TYPE NAME[];  ->  TYPE *NAME = (TYPE *)hn_emu_dynamic_shared; */
        const char *t = q + sizeof ext - 1, *br = strstr(t, "[];");
        const char *nm = br;
        while (nm > t && is_ident(nm[-1])) --nm;
        if (!br || nm == br || strchr(t, '\n') < br) { ok = 0; break; }
        char type[128], id[128];
        snprintf(type, sizeof type, "%.*s", (int)(nm - t), t);
        snprintf(id, sizeof id, "%.*s", (int)(br - nm), nm);
        ok = !append(&buf, &len, &cap, p, (size_t)(q - p)) &&
             !appendf(&buf, &len, &cap, "%s*", type, "") &&
             !appendf(&buf, &len, &cap, "%s = (%s*)hn_emu_dynamic_shared;", id, type);
        p = br + 3;
    }
    /* the kernels */
    static const char glob[] = "__global__ void ";
    char names[1024][96];
    int nk = 0;
    for (const char *q = source; ok && (q = strstr(q, glob)); ) {
        q += sizeof glob - 1;
        while (*q == ' ') ++q;
        if (!strncmp(q, "__launch_bounds__", 17)) {
            q = strchr(q, ')');
            if (!q) break;
            ++q;
            while (*q == ' ') ++q;
        }
        size_t n = 0;
        while (is_ident(q[n])) ++n;
        if (!n || n >= sizeof names[0] || nk == 1024) { ok = 0; break; }
        snprintf(names[nk++], sizeof names[0], "%.*s", (int)n, q);
    }
    ok = ok && !append(&buf, &len, &cap, "\n#line 1 \"hepnc-emulated-launch\"\n", SIZE_MAX);
    for (int k = 0; ok && k < nk; ++k)
        ok = !appendf(&buf, &len, &cap, "static void hn_emu_shim_%s(void **a) { hn_emu_call(%s, a); }\n", names[k], names[k]);
    ok = ok && !append(&buf, &len, &cap,
                       "extern \"C\" int hn_emu_launch(const char *name, unsigned gx, unsigned gy, unsigned bx, unsigned shared,\n"
                       "                               void **args, char *err, size_t errlen)\n{\n", SIZE_MAX);
    for (int k = 0; ok && k < nk; ++k)
        ok = !appendf(&buf, &len, &cap,
                      "    if (!std::strcmp(name, \"%s\")) return hn_emu_run(hn_emu_shim_%s, args, gx, gy, bx, shared, err, errlen);\n",
                      names[k], names[k]);
    ok = ok && !append(&buf, &len, &cap,
                       "    std::snprintf(err, errlen, \"no kernel named %s\", name);\n    return -1;\n}\n", SIZE_MAX);
    if (!ok) { free(buf); return NULL; }
    return buf;
}

static int run_compiler(const char *cxx, const char *src_path, const char *so_path, const char *log_path)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s -std=c++17 -O1 -g0 -ffp-contract=off -fPIC -shared -w -U_FORTIFY_SOURCE -o '%s' '%s' >'%s' 2>&1", cxx, so_path,
             src_path, log_path);
    return system(cmd);
}

/* The tail of the compiler's log, for the error message. */
static void log_tail(const char *path, char *dst, size_t n)
{
    dst[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f) return;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    long from = size > (long)n - 1 ? size - (long)n + 1 : 0;
    fseek(f, from, SEEK_SET);
    size_t got = fread(dst, 1, n - 1, f);
    dst[got] = '\0';
    fclose(f);
}

hn_emu *hn_emu_open(const char *source, const char *name, const char *cache_dir, char *err, size_t errlen)
{
    char *tu = translation_unit(source, name);
    if (!tu) { snprintf(err, errlen, "emulated GPU: could not prepare %s for the host compiler", name); return NULL; }
    const char *cxx = getenv("HEPNC_GPU_EMULATE_CXX");
    if (!cxx || !*cxx) cxx = "c++";
    char dir[1024], so[1200], src[1300], log[1300];
    const char *env = getenv("HEPNC_CACHE"), *home = getenv("HOME");
    if (cache_dir) snprintf(dir, sizeof dir, "%s", cache_dir);
    else if (env && *env) snprintf(dir, sizeof dir, "%s/cuda", env);
    else snprintf(dir, sizeof dir, "%s/.cache/hepnc/cuda", home ? home : "/tmp");
    snprintf(so, sizeof so, "%s/%s-%016llx-emulated.so", dir, name, (unsigned long long)fnv1a(cxx, fnv1a(tu, 1469598103934665603ull)));
    if (access(so, R_OK) != 0) {
        char cmd[1100];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
        snprintf(src, sizeof src, "%s.%ld.cpp", so, (long)getpid());
        snprintf(log, sizeof log, "%s.%ld.log", so, (long)getpid());
        char tmp[1300];
        snprintf(tmp, sizeof tmp, "%s.%ld.tmp", so, (long)getpid());
        FILE *f = system(cmd) == 0 ? fopen(src, "wb") : NULL;
        int ok = f && fputs(tu, f) >= 0;
        if (f && fclose(f) != 0) ok = 0;
        if (!ok || run_compiler(cxx, src, tmp, log) != 0) {
            char tail[1500];
            log_tail(log, tail, sizeof tail);
            snprintf(err, errlen, "emulated GPU: %s could not compile %s (%s):\n%s", cxx, name, src, tail);
            unlink(tmp);
            free(tu);
            return NULL;
        }
        rename(tmp, so);                /* atomically: a concurrent test sees the whole object or none */
        unlink(src);
        unlink(log);
    }
    free(tu);
    hn_emu *e = calloc(1, sizeof *e);
    if (!e) { snprintf(err, errlen, "out of memory"); return NULL; }
    /* RTLD_LOCAL: two models' objects (their own hn_emu state and kernels) side by side in one process */
    if (!(e->so = dlopen(so, RTLD_NOW | RTLD_LOCAL)) || !(*(void **)&e->launch = dlsym(e->so, "hn_emu_launch"))) {
        snprintf(err, errlen, "emulated GPU: loading %s: %s", so, dlerror());
        if (e->so) dlclose(e->so);
        free(e);
        return NULL;
    }
    return e;
}

void hn_emu_close(hn_emu *e)
{
    if (!e) return;
    dlclose(e->so);
    free(e);
}

int hn_emu_launch(hn_emu *e, const char *name, unsigned gx, unsigned gy, unsigned bx, unsigned shared, void **args, char *err,
                  size_t errlen)
{
    char msg[400];
    if (e->launch(name, gx, gy, bx, shared, args, msg, sizeof msg)) {
        snprintf(err, errlen, "emulated GPU: kernel %s: %s", name, msg);
        return -1;
    }
    return 0;
}

/* x rounded to bfloat16 (8 significant bits, to nearest even), as a float; infinities and NaN kept */
static float to_bf16(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7f800000u) == 0x7f800000u) return x;
    u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* x rounded to TF32 (10 stored mantissa bits, to nearest, ties away from zero), as a float; infinities and NaN kept */
static float to_tf32(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7f800000u) == 0x7f800000u) return x;
    u = (u + 0x1000u) & 0xffffe000u;
    memcpy(&x, &u, sizeof x);
    return x;
}

static float gemm_in(float x, enum hn_emu_math math)
{
    return math == HN_EMU_BF16 ? to_bf16(x) : math == HN_EMU_TF32 ? to_tf32(x) : x;
}

void hn_emu_gemm_nt(const float *x, const float *W, float *y, long rows, int in, int out, enum hn_emu_math math)
{
    for (long r = 0; r < rows; ++r)
        for (int o = 0; o < out; ++o) {
            const float *a = x + r * in, *w = W + (long)o * in;
            float s = 0.0f;
            for (int k = 0; k < in; ++k) s += gemm_in(a[k], math) * gemm_in(w[k], math);
            y[r * out + o] = s;
        }
}

void hn_emu_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb, float beta,
                 float *C, int ldc, enum hn_emu_math math)
{
    for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) {
            float s = 0.0f;
            for (int k = 0; k < K; ++k)
                s += gemm_in(ta ? A[(long)k * lda + i] : A[(long)i * lda + k], math) *
                     gemm_in(tb ? B[(long)j * ldb + k] : B[(long)k * ldb + j], math);
            float *c = C + (long)i * ldc + j;
            *c = beta == 0.0f ? alpha * s : alpha * s + beta * *c;
        }
}
