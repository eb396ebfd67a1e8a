/* rng.h — the deterministic pseudo-random numbers of training: SplitMix64 (Steele, Lea & Flood 2014;
 * the generator of Java's SplittableRandom and the seeder of the xoshiro family). One 64-bit state,
 * period 2^64; every stream below is a pure function of (seed, purpose, index), so a run resumed from
 * a checkpoint draws exactly the numbers the uninterrupted run would have drawn.
 *
 *   next:   state += 0x9e3779b97f4a7c15; z = state;
 *           z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9; z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
 *           return z ^ (z >> 31)
 *   stream: hn_rng_stream(seed, purpose, index) = state hn_mix(hn_mix(seed ^ purpose) ^ index), where
 *           hn_mix(x) is one `next` from state x (the SplitMix64 finaliser of x + golden gamma).
 *
 * (Initial values come from hepnc/init.h, its own xoshiro256** seeded the same way.) No globals; every
 * function is reentrant. */
#ifndef HEPNC_RNG_H
#define HEPNC_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The purposes of the trainer's streams (the `purpose` argument). */
#define HN_RNG_SHUFFLE 0x7368756666ull   /* the permutation of epoch `index` */
#define HN_RNG_STEP 0x73746570ull        /* the seed handed to train_step (dropout) at global step `index` */
#define HN_RNG_TRIM 0x7472696dull        /* the SequenceTrimmer's length and particles at global step `index` */

uint64_t hn_splitmix64(uint64_t *state);
uint64_t hn_mix(uint64_t x);
uint64_t hn_rng_stream(uint64_t seed, uint64_t purpose, uint64_t index);
/* Uniform in [0, bound) without modulo bias (rejection of the low 2^64 mod bound values); bound >= 1. */
uint64_t hn_rng_below(uint64_t *state, uint64_t bound);
/* Uniform double in [0, 1) from the top 53 bits. */
double hn_rng_uniform(uint64_t *state);
/* perm[0..n) = a uniformly random permutation of 0..n-1: Fisher–Yates from the top (i = n-1 down to 1,
 * j = hn_rng_below(i + 1), swap) with the state hn_rng_stream(seed, HN_RNG_SHUFFLE, epoch). */
void hn_rng_permutation(int64_t *perm, int64_t n, uint64_t seed, int64_t epoch);

#ifdef __cplusplus
}
#endif

#endif
