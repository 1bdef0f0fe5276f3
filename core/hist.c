#include "core/hist.h"

#include <math.h>
#include <string.h>

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof *h);
	h->min = UINT64_MAX;
}

/* Bucket index: values < HIST_SUB map to themselves; otherwise the position
 * of the top bit selects a group of HIST_SUB buckets and the next
 * HIST_SUB_BITS bits below it select the bucket within the group. */
static inline unsigned bucket_of(uint64_t v)
{
	if (v < HIST_SUB)
		return (unsigned)v;
	unsigned top = 63u - (unsigned)__builtin_clzll(v); /* >= HIST_SUB_BITS */
	unsigned shift = top - HIST_SUB_BITS;
	unsigned sub = (unsigned)(v >> shift) & (HIST_SUB - 1);
	return (shift + 1) * HIST_SUB + sub;
}

static inline void bucket_range(unsigned b, uint64_t *lo, uint64_t *hi)
{
	if (b < HIST_SUB) {
		*lo = *hi = b;
		return;
	}
	unsigned shift = b / HIST_SUB - 1;
	uint64_t sub = b % HIST_SUB;
	*lo = (HIST_SUB + sub) << shift;
	*hi = *lo + ((1ULL << shift) - 1);
}

void hist_record(struct hist *h, uint64_t v)
{
	h->b[bucket_of(v)]++;
	h->count++;
	h->sum += (long double)v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

double hist_mean(const struct hist *h)
{
	return h->count ? (double)(h->sum / (long double)h->count) : 0.0;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
	if (!h->count)
		return 0;
	if (q <= 0)
		return h->min;
	uint64_t rank = (uint64_t)ceil(q * (double)h->count);
	if (rank < 1)
		rank = 1;
	if (rank >= h->count)
		return h->max;
	uint64_t seen = 0;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t lo, hi;
			bucket_range(i, &lo, &hi);
			if (hi > h->max)
				hi = h->max;
			if (hi < h->min)
				hi = h->min;
			return hi;
		}
	}
	return h->max;
}

void hist_foreach(const struct hist *h,
		  void (*fn)(void *arg, uint64_t lo, uint64_t hi, uint64_t n),
		  void *arg)
{
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		if (!h->b[i])
			continue;
		uint64_t lo, hi;
		bucket_range(i, &lo, &hi);
		fn(arg, lo, hi, h->b[i]);
	}
}
