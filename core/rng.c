#include "core/rng.h"

#include <math.h>
#include <pthread.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	/* Mix the stream id through splitmix first so streams 0, 1, 2... of one
	 * seed are unrelated generators. */
	uint64_t x = seed ^ 0x6a09e667f3bcc909ULL;
	uint64_t s2 = stream * 0xd1b54a32d192ed03ULL + 0x243f6a8885a308d3ULL;
	x ^= splitmix64(&s2);
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rng_u64(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
	/* Lemire's multiply-shift with rejection. */
	uint64_t x = rng_u64(r);
	__uint128_t m = (__uint128_t)x * n;
	uint64_t l = (uint64_t)m;
	if (l < n) {
		uint64_t t = -n % n;
		while (l < t) {
			x = rng_u64(r);
			m = (__uint128_t)x * n;
			l = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

double rng_uniform(struct rng *r)
{
	return (double)(rng_u64(r) >> 11) * 0x1.0p-53;
}

double rng_normal(struct rng *r)
{
	double u1 = 1.0 - rng_uniform(r); /* (0, 1] */
	double u2 = rng_uniform(r);
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Ziggurat tables: zx[i] the right edge of strip i (zx[0] = v / f(r), the
 * base strip's equivalent width), zf[i] = f(zx[i]) with f(x) = exp(-x^2/2);
 * r and v (strip area) for 128 strips from Marsaglia & Tsang (2000). */
#define ZN 128
static double zx[ZN + 1], zf[ZN + 1];
static pthread_once_t zig_once = PTHREAD_ONCE_INIT;

static void zig_init(void)
{
	const double r = 3.442619855899, v = 9.91256303526217e-3;
	zx[1] = r;
	zf[1] = exp(-0.5 * r * r);
	zx[0] = v / zf[1];
	zf[0] = 0;
	for (int i = 1; i < ZN - 1; i++) {
		zf[i + 1] = zf[i] + v / zx[i];
		zx[i + 1] = sqrt(-2.0 * log(zf[i + 1]));
	}
	zx[ZN] = 0;
	zf[ZN] = 1;
	zf[ZN - 1] = zf[ZN - 2] + v / zx[ZN - 2];
	zx[ZN - 1] = sqrt(-2.0 * log(zf[ZN - 1]));
}

/* One draw from its first 64 bits b on, r the stream after b: the fast
 * test (strip i = b & 127, x = u zx[i], accepted when |x| < zx[i+1]), the
 * tail beyond r (strip 0, Marsaglia 1964) and the wedge, and on a wedge
 * rejection fresh bits. */
double rng_zig_finish(struct rng *r, uint64_t b)
{
	for (;;) {
		int i = (int)(b & (ZN - 1));
		double u = (double)(b >> 11) * 0x1.0p-52 - 1.0;   /* [-1, 1) */
		double x = u * zx[i];
		if (fabs(x) < zx[i + 1])
			return x;
		if (i == 0) {
			double a, c;
			do {
				a = -log(1.0 - rng_uniform(r)) / zx[1];
				c = -log(1.0 - rng_uniform(r));
			} while (c + c < a * a);
			return u < 0 ? -(zx[1] + a) : zx[1] + a;
		}
		double y = zf[i] + rng_uniform(r) * (zf[i + 1] - zf[i]);
		if (y < exp(-0.5 * x * x))
			return x;
		b = rng_u64(r);
	}
}

/* The fast path inline, the rest in rng_zig_finish(). */
static inline double zig_draw(struct rng *r)
{
	uint64_t b = rng_u64(r);
	int i = (int)(b & (ZN - 1));
	double x = ((double)(b >> 11) * 0x1.0p-52 - 1.0) * zx[i];
	if (__builtin_expect(fabs(x) < zx[i + 1], 1))
		return x;
	return rng_zig_finish(r, b);
}

const double *rng_zig_x(void)
{
	pthread_once(&zig_once, zig_init);
	return zx;
}

double rng_normal_zig(struct rng *r)
{
	pthread_once(&zig_once, zig_init);
	return zig_draw(r);
}

void rng_normal_zig_fill(struct rng *r, double *out, long n)
{
	pthread_once(&zig_once, zig_init);
	struct rng s = *r;   /* state in registers across the loop */
	for (long k = 0; k < n; k++)
		out[k] = zig_draw(&s);
	*r = s;
}
