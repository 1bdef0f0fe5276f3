/*
 * host.h — the host machine (section "host") and in-host processing (IHP):
 * the baseline against which in-storage training is judged.  (Moved from
 * ndp/ihp.h; the ihp_ names stay so that callers need not change.)
 *
 * One machine: cores, per-core kernel rates (host.gflops_lr, gflops_mlp,
 * bnn_gops) and package power come from one CPU (the files in configs/hosts/ are
 * cited presets; the defaults are configs/hosts/server.json's).
 *
 * The host trains with minibatch SGD (one sequential worker, same model,
 * same learning-rate rule, same data layout as ndp.h) on data read from the
 * same simulated SSD.  Sample order (host.order):
 *  - channels (default): step k of an epoch is minibatch k of every
 *    channel's stream (ndp_stream), and the gradient is the mean of the
 *    per-channel mean gradients summed in channel order — exactly the
 *    arithmetic of synchronous in-storage SGD, so the two produce the same
 *    model bit for bit and a difference in time-to-accuracy is the
 *    platform's, not the data order's;
 *  - shuffle: one stream over all chunks, minibatches of host.batch.
 * Costs:
 *  - a loader reads the chunks of the next prefetch_batches minibatches
 *    through an LRU page cache of 4 KiB pages (the SSD map unit); each run
 *    of missing pages is one read command that pays the per-I/O software
 *    path (serialised on one core) and then crosses ssdsim's host path:
 *    link command latency, controller firmware, flash, link transfer;
 *  - the CPU computes a minibatch in max(FLOPs / (cores x FLOP/s per core),
 *    DRAM bytes / DRAM bandwidth) (a roofline); the step is the shared one
 *    of workloads/sgd.h and FLOPs are its count (2 x MACs executed, zero
 *    operands skipped when host.zero_skip, + element-wise ops);
 *  - energy: CPU idle power x time + (active - idle) x busy time, DRAM
 *    pJ/bit x bytes (DMA of every read, the copy of every sample into the
 *    batch), plus everything the SSD and link charge.
 * With a page cache at least the size of the data set, every epoch after
 * the first is served from DRAM; smaller caches re-read what was evicted.
 */
#ifndef ND_NDP_IHP_H
#define ND_NDP_IHP_H

#include <stdint.h>

#include "core/cfg.h"
#include "core/err.h"
#include "ndp/train.h"
#include "ssdsim/ssd.h"
#include "workloads/idx.h"

/* Section "host". */
struct ihp_params {
	int cores;
	double gflops_lr;          /* GFLOP/s per core, LR SGD step */
	double gflops_mlp;         /* GFLOP/s per core, MLP SGD step */
	double bnn_gops;           /* 1e9 64-bit XNOR+popcount word-ops/s per core */
	int zero_skip;             /* the kernel skips zero operands (costed so) */
	double p_active_w, p_idle_w;
	double sleep_w;            /* < 0: no sleep state (stays idle while offloaded) */
	uint64_t wake_ns;
	double dram_idle_w;        /* DRAM background power */
	double dram_gb_s;
	double dram_pj_bit;
	double page_cache_mib;     /* absolute size ... */
	double page_cache_ratio;   /* ... or, when > 0, this x the data set */
	uint64_t io_sw_ns;         /* software path per read command */
	int prefetch_batches;
	int order;                 /* enum ihp_order */
	int batch;                 /* order = shuffle; 0: train.batch x ssd.channels */
};
enum ihp_order { IHP_ORDER_CHANNELS, IHP_ORDER_SHUFFLE };
extern const struct cfg_section ihp_section;

/* The value path's outcome of one ihp_train(): per SGD step its FLOPs and
 * summed loss, per accuracy-curve point its test accuracy.  The step order
 * and the evaluation points follow from the data order alone (never from
 * the timing), so a run whose parameters differ only in what the cost path
 * reads (host rates and powers, page cache, I/O path, link) can replay it
 * instead of doing the arithmetic, and lands on the same curve.  Free with
 * ihp_value_free(). */
struct ihp_value {
	uint64_t nstep, nacc, cap_step, cap_acc;
	double *flops, *loss, *acc;
};
void ihp_value_free(struct ihp_value *v);

struct ihp_run_opts {
	const struct ndp_train_params *train;
	const struct ihp_params *host;
	const struct ssd_params *ssd;
	const struct wl_dataset *train_set;   /* borrowed */
	const struct wl_dataset *test_set;
	uint64_t seed;
	int progress;
	struct ihp_value *record;             /* non-NULL: the value path's outcome goes here */
	const struct ihp_value *replay;       /* non-NULL: taken from here, no arithmetic */
};

/* Per-core GFLOP/s of the configured model's SGD step. */
double ihp_gflops(const struct ihp_params *h, const struct ndp_train_params *tp);

/* CPU time (ns, rounded up) of bnn_predict over images that take word_ops
 * 64-bit XNOR+popcount word-ops in all: word_ops / (cores x bnn_gops), every
 * core busy.  The host platform's inference time and calibrate's
 * prediction of it. */
uint64_t ihp_bnn_ns(const struct ihp_params *h, double word_ops);

/* Samples per host SGD step under these parameters: train.batch x
 * ssd.channels for order = channels; host.batch (0: the same) for
 * order = shuffle. */
int ihp_batch(const struct ihp_params *h, const struct ndp_train_params *tp,
	      const struct ssd_params *sp);

/* Places the data set in a fresh simulated drive and trains on the host.
 * Returns 0 or -EINVAL with err set.  r must be freed with
 * ndp_result_free() in every case. */
int ihp_train(const struct ihp_run_opts *o, struct ndp_result *r,
	      struct nd_err *err);

#endif
