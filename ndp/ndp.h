/*
 * ndp.h — in-storage processing (ISP) in the style of ISP-ML: a compute unit
 * beside each flash channel trains a model on the pages of its own channel,
 * and a master in the controller holds the global model.
 *
 * Cost path.  Each unit is a state machine on the simulated clock: it reads
 * the chunks of its next minibatches through ssdsim's internal path (real
 * die and channel contention, no host link, no firmware), computes the
 * gradient for (dense MACs) / (MACs per cycle x clock) plus the SSD-DRAM
 * traffic of whatever part of its working set does not fit its SRAM, and
 * exchanges models or gradients with the master over one shared internal
 * bus (bandwidth, per-message latency, energy per bit).  The master is one
 * FIFO server (clock, MACs per cycle, its own SRAM / DRAM spill).
 *
 * Value path.  Real gradients (the shared step of workloads/sgd.h, fp32 by
 * default, fixed point with ndp.unit.format = fixed) on the real samples those chunks hold,
 * applied in the order the cost path delivers them:
 *  - sync: each unit computes a gradient with the broadcast model; the master
 *    waits for every unit that still has data in the epoch, averages (sum in
 *    unit order, times 1/P), steps, and broadcasts.
 *  - downpour (Dean et al. 2012, Alg. 7.1): a unit steps its local copy,
 *    accumulates gradients, pushes them every n_push steps (the master steps
 *    the global model on arrival) and fetches the global model every n_fetch
 *    steps; nobody waits for anybody, so a push computed on old parameters
 *    arrives stale exactly as late as the simulated bus and master make it.
 *  - easgd (Zhang et al. 2015, asynchronous): a unit steps its local x_i;
 *    every tau steps it sends x_i, the master computes
 *    d = alpha (x_i - x~), sets x~ += d and replies d, and the unit sets
 *    x_i -= d.  alpha = beta / P unless ndp.easgd.alpha >= 0.
 * The model reported (accuracy, inference) is the master's: the global
 * model for sync / Downpour, the centre x~ for EASGD.
 *
 * Inference in storage (ndp.infer): after training the units read the test
 * set from their channels, classify it with the master's model and send
 * their counts to the master; only the result crosses the host link.
 */
#ifndef ND_NDP_H
#define ND_NDP_H

#include <stdint.h>

#include "core/cfg.h"
#include "core/err.h"
#include "ndp/train.h"
#include "ssdsim/ssd.h"
#include "workloads/idx.h"

enum ndp_algo { NDP_SYNC, NDP_DOWNPOUR, NDP_EASGD };

/* Section "ndp". */
struct ndp_params {
	int algo;                     /* enum ndp_algo */
	/* per-channel compute unit */
	double unit_clock_mhz;
	double unit_macs_per_cycle;
	double unit_sram_kib;
	double unit_mac_pj;
	double unit_sram_pj_byte;
	double unit_static_w;
	int unit_zero_skip;           /* units skip zero operands (costed so) */
	int unit_format, unit_int_bits, unit_frac_bits, unit_rounding;  /* workloads/sgd.h */
	int unit_word_bits;           /* integer datapath width (digital BNN) */
	double unit_word_ops_per_cycle;
	double unit_int_op_pj;
	int unit_acc_bits;            /* popcount accumulator width, saturating */
	int unit_read_ahead;          /* minibatches read ahead of the one computing */
	/* master */
	double master_clock_mhz;
	double master_macs_per_cycle;
	double master_sram_kib;
	double master_op_pj;
	double master_static_w;
	/* unit <-> master bus */
	double bus_gb_s;
	uint64_t bus_lat_ns;
	double bus_pj_bit;
	/* SGD variants */
	int n_push, n_fetch;          /* downpour */
	int tau;                      /* easgd */
	double beta, alpha;           /* easgd: alpha = beta / P when alpha < 0 */
	int infer;                    /* inference in storage after training */
	uint64_t result_bytes;        /* inference result sent to the host */
};
extern const struct cfg_section ndp_section;
extern const char *const ndp_algo_names[];

struct ndp_run_opts {
	const struct ndp_train_params *train;
	const struct ndp_params *ndp;
	const struct ssd_params *ssd;
	const struct wl_dataset *train_set;   /* borrowed */
	const struct wl_dataset *test_set;
	uint64_t seed;
	int keep_workers;       /* copy every unit's final local model into the result */
	int progress;           /* progress line on a terminal */
	/* Sync only (ndp.algo = sync; train.h, struct ndp_value): the value
	 * path's outcome goes to `record` (ignored for the other algorithms,
	 * whose step order follows the timing), or is taken from `replay`:
	 * no gradient, update or evaluation is computed, the event loop and
	 * every cost run as before, and the final model is the recorded one.
	 * The caller vouches that nothing the value path reads changed
	 * (train.*, the seed, the data layout, ndp.algo, ndp.unit.format /
	 * int_bits / frac_bits / rounding / zero_skip). */
	struct ndp_value *record;
	const struct ndp_value *replay;
};

/* Places the (amplified) data set in a fresh simulated drive, trains, and
 * (with ndp.infer) runs inference in storage.  Returns 0, or -EINVAL with
 * err set (impossible geometry, data set larger than the drive).  r must be
 * freed with ndp_result_free() in every case. */
int ndp_train(const struct ndp_run_opts *o, struct ndp_result *r,
	      struct nd_err *err);

#endif
