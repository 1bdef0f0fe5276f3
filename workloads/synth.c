#include "workloads/synth.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>

#define CFG_T struct wl_params

static const char *const pattern_names[] = { "seq", "rand", NULL };
static const char *const replay_names[] = { "timed", "closed", NULL };

static const struct cfg_key wl_keys[] = {
	CFG_KEY_ENUM("pattern", pattern, WL_RAND, pattern_names,
	  "address pattern: sequential or uniform random (aligned to bs)"),
	CFG_KEY_DBL("read_ratio", read_ratio, "fraction", 1.0, 0, 1,
	  "fraction of requests that are reads"),
	CFG_KEY_INT("bs_bytes", bs_bytes, "bytes", 4096, 512, 1 << 30,
	  "request size (a multiple of 512)"),
	CFG_KEY_INT("qd", qd, "requests", 32, 1, 65536,
	  "closed loop: requests kept outstanding (also closed-loop trace replay)"),
	CFG_KEY_DBL("rate_iops", rate_iops, "IOPS", 0, 0, 1e9,
	  "open loop: Poisson arrival rate; 0 = closed loop at qd"),
	CFG_KEY_U64("count", count, "requests", 100000, 1, 1e12,
	  "requests to issue"),
	CFG_KEY_U64("duration_ns", duration_ns, "ns", 0, 0, 1e18,
	  "stop issuing after this much simulated time (0 = only count limits)"),
	CFG_KEY_DBL("range_frac", range_frac, "fraction", 1.0, 1e-9, 1,
	  "fraction of the logical space the requests fall in"),
	CFG_KEY_DBL("offset_frac", offset_frac, "fraction", 0, 0, 1,
	  "start of that window as a fraction of the logical space"),
	CFG_KEY_DBL("trace_scale", trace_scale, "x", 1.0, 0, 1e6,
	  "timed trace replay: multiply arrival times by this (0.5 = twice as fast)"),
	CFG_KEY_ENUM("replay", replay, WL_REPLAY_TIMED, replay_names,
	  "trace replay: at the trace's (scaled) times, or closed loop at qd"),
	CFG_END
};

static int wl_check(const void *vp, struct nd_err *err)
{
	const struct wl_params *p = vp;
	if (p->bs_bytes % 512)
		return nd_errf(err, -EINVAL, "workload.bs_bytes: %d is not a multiple of 512",
			       p->bs_bytes);
	if (p->offset_frac + p->range_frac > 1.0 + 1e-12)
		return nd_errf(err, -EINVAL,
			       "workload.offset_frac + workload.range_frac = %g exceeds 1",
			       p->offset_frac + p->range_frac);
	return 0;
}

const struct cfg_section wl_section = {
	"workload", wl_keys, sizeof(struct wl_params), wl_check
};

int wl_gen_init(struct wl_gen *g, const struct wl_params *p,
		uint64_t capacity_bytes, uint64_t seed, struct nd_err *err)
{
	g->p = *p;
	rng_seed(&g->rng, seed, 0x3017);
	uint64_t bs = (uint64_t)p->bs_bytes;
	g->base_bytes = (uint64_t)(p->offset_frac * (double)capacity_bytes) / bs * bs;
	g->range_bytes = (uint64_t)(p->range_frac * (double)capacity_bytes) / bs * bs;
	if (g->base_bytes + g->range_bytes > capacity_bytes)
		g->range_bytes = (capacity_bytes - g->base_bytes) / bs * bs;
	if (g->range_bytes < bs)
		return nd_errf(err, -EINVAL,
			       "workload: the window (range_frac %g of %llu bytes) holds no "
			       "whole %d-byte request", p->range_frac,
			       (unsigned long long)capacity_bytes, p->bs_bytes);
	g->seq_next = 0;
	g->issued = 0;
	return 0;
}

int wl_gen_next(struct wl_gen *g, struct wl_ioreq *out)
{
	if (g->issued >= g->p.count)
		return 0;
	uint64_t bs = (uint64_t)g->p.bs_bytes;
	uint64_t slots = g->range_bytes / bs;
	uint64_t k;
	if (g->p.pattern == WL_SEQ) {
		k = g->seq_next;
		g->seq_next = (g->seq_next + 1) % slots;
	} else {
		k = rng_below(&g->rng, slots);
	}
	out->off_bytes = g->base_bytes + k * bs;
	out->len_bytes = (uint32_t)bs;
	out->is_write = g->p.read_ratio >= 1.0 ? 0 :
			g->p.read_ratio <= 0.0 ? 1 :
			rng_uniform(&g->rng) >= g->p.read_ratio;
	g->issued++;
	return 1;
}

uint64_t wl_gen_gap_ns(struct wl_gen *g)
{
	double u = 1.0 - rng_uniform(&g->rng);
	return (uint64_t)llround(-log(u) * 1e9 / g->p.rate_iops);
}
