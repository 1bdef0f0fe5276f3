/*
 * hist.h — latency histogram with bounded relative error.
 *
 * HdrHistogram-style log-linear buckets over uint64 nanoseconds: values below
 * 2^HIST_SUB_BITS are exact; above, each power of two is split into
 * 2^HIST_SUB_BITS sub-buckets, so a reported percentile is within
 * 1 / 2^HIST_SUB_BITS (0.8 %) of the true value.  Min, max, count and sum are
 * exact.  Fixed size, no allocation when recording.
 */
#ifndef ND_HIST_H
#define ND_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
	uint64_t count;
	uint64_t min, max;
	long double sum;
	uint64_t b[HIST_BUCKETS];
};

void hist_init(struct hist *h);
void hist_record(struct hist *h, uint64_t v);
void hist_merge(struct hist *dst, const struct hist *src);
double hist_mean(const struct hist *h);
/* Value at quantile q in [0,1]: the upper edge of the bucket holding the
 * ceil(q * count)-th smallest value, clamped to [min, max]; 0 if empty. */
uint64_t hist_quantile(const struct hist *h, double q);

/* Calls fn for each non-empty bucket in increasing order with the bucket's
 * [lo, hi] value range and its count (for CSV output). */
void hist_foreach(const struct hist *h,
		  void (*fn)(void *arg, uint64_t lo, uint64_t hi, uint64_t n),
		  void *arg);

#endif
