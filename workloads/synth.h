/*
 * synth.h — synthetic block workloads (the "workload" config section).
 *
 * Sequential or uniform-random requests of bs_bytes over a window of the
 * logical space, a read ratio, a closed loop at queue depth qd or an open
 * loop at rate_iops (Poisson arrivals), stopping after `count` requests or
 * `duration_ns` of simulated time.  Trace replay options (time scale,
 * timed or closed-loop replay) live in the same section.  No timing here:
 * the SSD driver decides when to ask for the next request.
 */
#ifndef ND_WL_SYNTH_H
#define ND_WL_SYNTH_H

#include <stdint.h>

#include "core/cfg.h"
#include "core/rng.h"
#include "workloads/trace.h"

enum wl_pattern { WL_SEQ, WL_RAND };
enum wl_replay { WL_REPLAY_TIMED, WL_REPLAY_CLOSED };

struct wl_params {
	int pattern;
	double read_ratio;
	int bs_bytes;
	int qd;
	double rate_iops;     /* 0 = closed loop */
	uint64_t count;
	uint64_t duration_ns; /* 0 = no time limit */
	double range_frac;
	double offset_frac;
	double trace_scale;
	int replay;
};

extern const struct cfg_section wl_section;

struct wl_gen {
	struct wl_params p;
	struct rng rng;
	uint64_t base_bytes, range_bytes;
	uint64_t seq_next;
	uint64_t issued;
};

/* capacity_bytes: the drive's logical capacity.  Returns 0 or -EINVAL when
 * the window holds no whole request. */
int wl_gen_init(struct wl_gen *g, const struct wl_params *p,
		uint64_t capacity_bytes, uint64_t seed, struct nd_err *err);
/* Fills the next request (t_ns untouched); returns 0 when `count` requests
 * have been issued, 1 otherwise. */
int wl_gen_next(struct wl_gen *g, struct wl_ioreq *out);
/* Gap to the next open-loop arrival in ns (exponential, mean 1e9/rate). */
uint64_t wl_gen_gap_ns(struct wl_gen *g);

#endif
