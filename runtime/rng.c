/* rng.c — SplitMix64 and the trainer's streams; see hepnc/rng.h. */
#include "hepnc/rng.h"

uint64_t hn_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t hn_mix(uint64_t x) { return hn_splitmix64(&x); }

uint64_t hn_rng_stream(uint64_t seed, uint64_t purpose, uint64_t index)
{
    return hn_mix(hn_mix(seed ^ purpose) ^ index);
}

uint64_t hn_rng_below(uint64_t *state, uint64_t bound)
{
    uint64_t floor = (0 - bound) % bound;        /* 2^64 mod bound: the values that would bias */
    for (;;) {
        uint64_t r = hn_splitmix64(state);
        if (r >= floor) return r % bound;
    }
}

double hn_rng_uniform(uint64_t *state) { return (double)(hn_splitmix64(state) >> 11) * 0x1.0p-53; }

void hn_rng_permutation(int64_t *perm, int64_t n, uint64_t seed, int64_t epoch)
{
    uint64_t st = hn_rng_stream(seed, HN_RNG_SHUFFLE, (uint64_t)epoch);
    for (int64_t i = 0; i < n; ++i) perm[i] = i;
    for (int64_t i = n - 1; i > 0; --i) {
        int64_t j = (int64_t)hn_rng_below(&st, (uint64_t)i + 1);
        int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}
