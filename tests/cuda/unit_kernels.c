/* unit_kernels.c — see unit_kernels.h. */
#include "unit_kernels.h"

#include <hepnc/gpu.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int failures, checks;

void report(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    ++checks;
    failures += !ok;
}

static char *read_text(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot read %s\n", path); return NULL; }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    if (b) b[n] = '\0';
    fclose(f);
    return b;
}

char *unit_kernel_source(const char *dir, const char *const *parts, size_t n)
{
    size_t len = 0;
    char *src = calloc(1, 1);
    for (size_t p = 0; src && p < n; ++p) {
        char *t = read_text(dir, parts[p]);
        char *grown = t ? realloc(src, len + strlen(t) + 2) : NULL;
        if (!grown) { free(t); free(src); return NULL; }
        src = grown;
        memcpy(src + len, t, strlen(t));
        len += strlen(t);
        src[len++] = '\n';
        src[len] = '\0';
        free(t);
    }
    return src;
}

static uint64_t rng = 1;

void unit_seed(uint64_t seed) { rng = seed ? seed : 1; }

float unit_uniform(float lo, float hi)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return lo + (hi - lo) * (float)(rng >> 40) * (1.0f / 16777216.0f);
}

void unit_fill(float *p, size_t count, float lo, float hi)
{
    for (size_t i = 0; i < count; ++i) p[i] = unit_uniform(lo, hi);
}

hn_gpu *unit_open(int argc, char **argv, char *(*source)(const char *dir), const char *name, int *rc)
{
    if (argc < 2) { fprintf(stderr, "usage: %s TEMPLATES_CUDA_DIR\n", argv[0]); *rc = 2; return NULL; }
    if (!hn_gpu_available()) { printf("skipped: no GPU (no CUDA driver or device on this machine)\n"); *rc = 77; return NULL; }
    char *src = source(argv[1]), err[8192] = "";
    *rc = 1;
    if (!src) return NULL;
    hn_gpu *g = hn_gpu_open(src, name, NULL, err, sizeof err);
    free(src);
    if (!g) printf("FAIL opening the kernels: %s\n", err);
    return g;
}
