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
/* Standard normal by the Marsaglia-Tsang ziggurat (Marsaglia & Tsang,
 * J. Stat. Softw. 5(8), 2000; 128 strips, exact up to double rounding):
 * mostly one 64-bit draw and a compare per value, so it is the sampler of
 * hot loops (per-pulse read noise).  A different function of the stream
 * than rng_normal(): the two are not interchangeable for pinned results. */
double rng_normal_zig(struct rng *r);
/* out[k] = rng_normal_zig(r) for k = 0 .. n-1, in that order (the same
 * values and stream position as n single calls). */
void rng_normal_zig_fill(struct rng *r, double *out, long n);
/* For samplers that inline the ziggurat's fast path (analog/xbar.c): the
 * strip edges zx[0..128] (initialised by this call), and the rest of one
 * draw from its first 64 bits b on, r the stream after b (the value
 * rng_normal_zig() returns for the same stream). */
const double *rng_zig_x(void);
double rng_zig_finish(struct rng *r, uint64_t b);

#endif
