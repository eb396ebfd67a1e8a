/* init.c — see hepnc/init.h. */
#include <hepnc/init.h>

#include <math.h>
#include <string.h>

typedef struct rng { uint64_t s[4]; } rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next(rng *r)        /* xoshiro256** */
{
    uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

static double uniform01(rng *r) { return (double)(next(r) >> 11) * 0x1.0p-53; }
static float uniform(rng *r, double bound) { return (float)((2.0 * uniform01(r) - 1.0) * bound); }

static float normal(rng *r)         /* Box–Muller */
{
    double u = uniform01(r), v = uniform01(r);
    return (float)(sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v));
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* The descriptor of "<prefix>.weight" for "<prefix>.bias", or NULL. */
static const hn_param_desc *weight_of(const hn_param_desc *p, const hn_param_desc *all, int n)
{
    char want[256];
    size_t len = strlen(p->name);
    if (len < 5 || len - 5 + 8 >= sizeof want) return NULL;
    memcpy(want, p->name, len - 5);
    strcpy(want + len - 5, ".weight");
    for (int k = 0; k < n; ++k)
        if (!strcmp(all[k].name, want)) return &all[k];
    return NULL;
}

static void fill(float *x, size_t n, float v)
{
    for (size_t i = 0; i < n; ++i) x[i] = v;
}

static void init_one(const hn_param_desc *p, const hn_param_desc *all, int n, float *x, rng *r)
{
    const hn_param_desc *w = ends_with(p->name, ".bias") ? weight_of(p, all, n) : NULL;
    if (ends_with(p->name, "running_mean")) fill(x, p->size, 0.0f);
    else if (ends_with(p->name, "running_var")) fill(x, p->size, 1.0f);
    else if (ends_with(p->name, ".c_attn") || ends_with(p->name, ".w_resid")) fill(x, p->size, 1.0f);
    else if (ends_with(p->name, "cls_token"))
        for (size_t i = 0; i < p->size; ++i) {
            float v;
            do v = 0.02f * normal(r); while (fabsf(v) > 2.0f);
            x[i] = v;
        }
    else if (ends_with(p->name, "in_proj.weight") && p->ndim == 2)
        for (size_t i = 0; i < p->size; ++i) x[i] = uniform(r, sqrt(6.0 / (double)(p->shape[0] + p->shape[1])));
    else if (ends_with(p->name, "in_proj.bias") || ends_with(p->name, "attn.out_proj.bias")) fill(x, p->size, 0.0f);
    else if (ends_with(p->name, ".weight") && p->ndim == 2)
        for (size_t i = 0; i < p->size; ++i) x[i] = uniform(r, 1.0 / sqrt((double)p->shape[1]));
    else if (ends_with(p->name, ".weight") && p->ndim == 1) fill(x, p->size, 1.0f);
    else if (w && w->ndim == 1) fill(x, p->size, 0.0f);
    else if (w && w->ndim == 2)
        for (size_t i = 0; i < p->size; ++i) x[i] = uniform(r, 1.0 / sqrt((double)w->shape[1]));
    else
        for (size_t i = 0; i < p->size; ++i) x[i] = uniform(r, 1.0 / sqrt((double)(p->ndim ? p->shape[p->ndim - 1] : 1)));
}

void hn_init_params(const hn_param_desc *params, int nparams, float *blob, uint64_t seed)
{
    rng r;
    uint64_t x = seed;
    for (int k = 0; k < 4; ++k) r.s[k] = splitmix64(&x);
    for (int k = 0; k < nparams; ++k) init_one(&params[k], params, nparams, blob + params[k].offset, &r);
}
