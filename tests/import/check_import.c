/* check_import.c — checks for `hepnc import` (tests/import/run_import.sh):
 *   check_import equal A.safetensors B.safetensors       same tensors: names, dtypes, shapes, bytes
 *   check_import sums CKPT.pt SUMS                        the C reader against gen_pt_samples.py's sums:
 *                                                         per key (in order) the shape and
 *                                                         sum_j v[j] * (1 + j % 13) in C order
 *   check_import entries CKPT.pt N KEY [d0,d1,...]        N entries, KEY among them with that shape
 * Exit 0 when the check holds, 1 (with a message) otherwise. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hepnc/weights.h"
#include "torch_checkpoint.h"

static void shape_str(char *buf, size_t n, int ndim, const int64_t *shape)
{
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < ndim && k < n; ++i) k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? "," : "", (long long)shape[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

static int equal(const char *a, const char *b)
{
    char err[1024];
    hn_weights *wa = hn_weights_open(a, err, sizeof err), *wb = wa ? hn_weights_open(b, err, sizeof err) : NULL;
    if (!wa || !wb) {
        fprintf(stderr, "%s\n", err);
        hn_weights_close(wa);
        return 1;
    }
    int rc = 0;
    if (hn_weights_count(wa) != hn_weights_count(wb)) {
        fprintf(stderr, "%s has %d tensors, %s has %d\n", a, hn_weights_count(wa), b, hn_weights_count(wb));
        rc = 1;
    }
    for (int i = 0; !rc && i < hn_weights_count(wa); ++i) {
        const hn_tensor_info *x = hn_weights_at(wa, i), *y = hn_weights_find(wb, x->name);
        if (!y) { fprintf(stderr, "'%s' of %s is not in %s\n", x->name, a, b); rc = 1; break; }
        int same = !strcmp(x->dtype, y->dtype) && x->ndim == y->ndim && x->nbytes == y->nbytes;
        for (int d = 0; same && d < x->ndim; ++d) same = x->shape[d] == y->shape[d];
        if (!same) { fprintf(stderr, "'%s': dtype or shape differ\n", x->name); rc = 1; break; }
        if (memcmp(x->data, y->data, x->nbytes)) { fprintf(stderr, "'%s': values differ\n", x->name); rc = 1; }
    }
    if (!rc) printf("ok: %d tensors equal (names, dtypes, shapes, values)\n", hn_weights_count(wa));
    hn_weights_close(wa);
    hn_weights_close(wb);
    return rc;
}

static int sums(const char *pt, const char *path)
{
    char err[1024];
    hn_torch_checkpoint *c = hn_torch_open(pt, err, sizeof err);
    if (!c) { fprintf(stderr, "%s\n", err); return 1; }
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); hn_torch_close(c); return 1; }
    char name[512], shape[256], got[256];
    double want;
    int i = 0, rc = 0;
    while (!rc && fscanf(f, "%511s %255s %lf", name, shape, &want) == 3) {
        const hn_torch_tensor *t = hn_torch_at(c, i);
        if (!t || strcmp(t->name, name)) {
            fprintf(stderr, "entry %d: '%s', expected '%s'\n", i, t ? t->name : "(none)", name);
            rc = 1;
            break;
        }
        shape_str(got, sizeof got, t->ndim, t->shape);
        float *v = malloc(sizeof(float) * (size_t)(t->numel ? t->numel : 1));
        if (!v || hn_torch_read_f32(c, i, v, err, sizeof err)) { fprintf(stderr, "%s\n", v ? err : "out of memory"); rc = 1; free(v); break; }
        double s = 0;
        for (int64_t j = 0; j < t->numel; ++j) s += (double)v[j] * (double)(1 + j % 13);
        free(v);
        if (strcmp(got, shape) || fabs(s - want) > 1e-9 * fmax(1.0, fabs(want))) {
            fprintf(stderr, "'%s': shape %s sum %.17g, expected %s %.17g\n", name, got, s, shape, want);
            rc = 1;
        }
        ++i;
    }
    fclose(f);
    if (!rc && i != hn_torch_count(c)) { fprintf(stderr, "%s has %d entries, %s lists %d\n", pt, hn_torch_count(c), path, i); rc = 1; }
    if (!rc) printf("ok: %d entries of %s read as gen_pt_samples.py saved them (offsets, strides, dtypes)\n", i, pt);
    hn_torch_close(c);
    return rc;
}

static int entries(const char *pt, int n, const char *key, const char *shape)
{
    char err[1024], got[256];
    hn_torch_checkpoint *c = hn_torch_open(pt, err, sizeof err);
    if (!c) { fprintf(stderr, "%s\n", err); return 1; }
    int rc = 0;
    if (hn_torch_count(c) != n) { fprintf(stderr, "%s: %d entries, expected %d\n", pt, hn_torch_count(c), n); rc = 1; }
    const hn_torch_tensor *t = NULL;
    for (int i = 0; i < hn_torch_count(c); ++i)
        if (!strcmp(hn_torch_at(c, i)->name, key)) t = hn_torch_at(c, i);
    if (!t) { fprintf(stderr, "%s: no entry '%s'\n", pt, key); rc = 1; }
    if (t && shape) {
        shape_str(got, sizeof got, t->ndim, t->shape);
        if (strcmp(got, shape)) { fprintf(stderr, "%s: '%s' has shape %s, expected %s\n", pt, key, got, shape); rc = 1; }
    }
    if (!rc) printf("ok: %s has %d entries, '%s' %s\n", pt, n, key, shape ? shape : "");
    hn_torch_close(c);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "equal")) return equal(argv[2], argv[3]);
    if (argc == 4 && !strcmp(argv[1], "sums")) return sums(argv[2], argv[3]);
    if ((argc == 5 || argc == 6) && !strcmp(argv[1], "entries")) return entries(argv[2], atoi(argv[3]), argv[4], argc == 6 ? argv[5] : NULL);
    fprintf(stderr, "usage: check_import equal A B | sums CKPT SUMS | entries CKPT N KEY [SHAPE]\n");
    return 2;
}
