/*
 * rng.h — seeded, splittable pseudo-random numbers (xoshiro256**).
 *
 * Every consumer derives its own stream from (seed, stream id) so results do
 * not depend on the order in which threads or modules draw numbers: the
 * OpenMP determinism rule of DESIGN.md.  Streams are seeded through
 * splitmix64 as the xoshiro authors recommend.
 */
#ifndef ND_RNG_H
#define ND_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed, uint64_t stream);
uint64_t rng_u64(struct rng *r);
/* Uniform in [0, n) without modulo bias; n > 0. */
uint64_t rng_below(struct rng *r, uint64_t n);
/* Uniform double in [0, 1) with 53 random bits. */
double rng_uniform(struct rng *r);
/* Standard normal N(0,1) (Box-Muller, no cached second value so the stream
 * position depends only on the number of calls). */
double rng_normal(struct rng *r);

#endif
