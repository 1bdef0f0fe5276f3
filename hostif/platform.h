/*
 * platform.h — one interface for every platform of the main job
 * (`ndpsim run`): host, storage, near-DRAM, ReRAM crossbar, and the next one
 * someone adds (one file, hostif/plat_NAME.c, plus a line in compare.c's
 * table).
 *
 * A platform says which workloads it supports (and why not, in words), and
 * trains / infers with its own value path and its own cost path, returning
 * one hif_result: wall time, the accuracy it computed, bytes per link, and
 * an energy ledger whose every component is tagged with where in the
 * machine it sits (enum hif_where).
 *
 * The system boundary is applied here, the same for every platform
 * (hif_result_finish):
 *  - system energy = the platform's ledger + everything else that is
 *    switched on for the platform's whole wall time T: the host package
 *    (idle, or host.sleep_w while it waits for an offloaded job, plus
 *    host.wake_ns at idle), host DRAM background (host.dram_idle_w), and
 *    every static draw in the platform's ledger (drive, units, stack)
 *    extended to T;
 *  - marginal energy = system energy - the same machine's idle draw over T
 *    (host idle + DRAM background + every static draw), written as
 *    "minus_idle" entries so that the breakdown still adds up.
 * Static entries of a platform ledger are, by this contract, the parts' idle
 * (always-on) draws; active power above idle is charged as actions
 * ("busy_ns" at (active - idle) W).
 */
#ifndef ND_HIF_PLATFORM_H
#define ND_HIF_PLATFORM_H

#include <stdint.h>

#include "analog/xbar.h"
#include "core/energy.h"
#include "core/err.h"
#include "hostif/host.h"
#include "hostif/runparams.h"
#include "ndp/train.h"
#include "workloads/idx.h"

struct cfg_bundle;
struct bnn_model;

enum hif_where {
	HIF_AT_HOST_PKG, HIF_AT_HOST_DRAM, HIF_AT_LINK, HIF_AT_DRIVE, HIF_AT_STACK,
	HIF_AT_XBAR, HIF_AT_N
};
extern const char *const hif_where_names[];   /* "host_package", ... */

enum hif_wl { HIF_WL_TRAIN, HIF_WL_INFER };

/* Value-path outcomes kept so that the cost path can be re-charged without
 * recomputing them (the sensitivity analysis, hostif/sensitivity.h).  With
 * `record` set a platform stores its value path's outcome here; with its
 * reuse_* flag set (and the outcome present) it takes it from here instead
 * of recomputing it — the caller vouches that nothing the value path reads
 * has changed.  Four rows qualify:
 *  - the crossbar: its Monte Carlo over chip instances (accuracies, action
 *    counts) and xbar_cost() over those counts are separate calls;
 *  - the host's training: its step order and evaluation points follow from
 *    the data order, never from the timing, so ihp_train() replays the
 *    recorded FLOPs, losses and accuracies (struct ihp_value);
 *  - storage training with ndp.algo = sync: ndp_train() replays each
 *    unit's per-step MACs and loss, the curve's accuracies and the final
 *    model (struct ndp_value) through its whole event loop;
 *  - near-DRAM training: each step's samples, executed MACs and loss and
 *    the curve's accuracies (struct ndp_value) re-priced by ndram_run().
 * A platform that replayed sets its HIF_REPLAYED_* bit in `replayed`. */
enum { HIF_REPLAYED_HOST = 1, HIF_REPLAYED_STORAGE = 2, HIF_REPLAYED_NDRAM = 4,
       HIF_REPLAYED_XBAR = 8 };
struct hif_memo {
	int record;
	int reuse_xbar, reuse_host, reuse_storage, reuse_ndram;
	int have_xbar, have_host, have_storage, have_ndram;
	unsigned replayed;
	struct xbar_mc xbar;         /* .correct = NULL: only the summary and counts */
	struct ihp_value host;
	struct ndp_value storage, ndram;
};
/* Frees what the memo recorded (not the struct). */
void hif_memo_free(struct hif_memo *m);

/* Everything a platform reads; borrowed. */
struct hif_ctx {
	const struct run_params *run;
	const struct ssd_params *ssd;
	const struct ndp_train_params *train;
	const struct ndp_params *ndp;
	const struct ihp_params *host;
	const struct ndram_params *ndram;
	const struct bnn_params *bnn;
	const struct xbar_params *xbar;
	const struct hif_compare_params *cmp;
	const struct wl_dataset *tr, *te;
	const struct bnn_model *bnn_model;   /* infer: the trained network (the model, not an answer) */
	long n_infer;                        /* infer: test images classified */
	int progress;
	struct hif_memo *memo;               /* NULL: nothing kept or reused */
};

#define HIF_MAX_COMP 40

struct hif_result {
	int supported;
	char note[240];
	double wall_s;               /* the whole run: every training epoch / the whole test set */
	double acc;                  /* final accuracy of this platform's own value path */
	double acc_sd;               /* over chip instances (crossbar), else 0 */
	/* 95 % interval of the accuracy: over crossbar chip instances, or over
	 * compare.repeats data-order seeds (train); acc_n samples (0 = none). */
	int acc_n;
	double acc_mean, acc_lo, acc_hi;
	int target_reached;
	double t_target_s;           /* train: first point at the target */
	double e_target_j;           /* platform ledger up to t_target_s (from its curve) */
	char format[64];             /* numeric format it computed in */
	struct energy_ledger led;    /* the platform's own charges, whole run */
	char comp[HIF_MAX_COMP][32]; /* component -> where */
	int comp_at[HIF_MAX_COMP];
	int ncomp;
	uint64_t offload_ns;         /* host only waits for this long (may sleep) */
	uint64_t b_flash, b_link, b_host_dram, b_stack, b_internal;
	const char *bound;
	struct ndp_point *curve;     /* train: accuracy vs time (owned) */
	int ncurve;
	/* filled by hif_result_finish */
	double sys_wall_s;           /* wall_s + wake time */
	struct energy_ledger sys, marg;
	double idle_w;               /* the machine's idle draw */
	double added_w;              /* always-on draws not in the platform ledger */
	double sys_target_j, marg_target_j;
};

struct hif_platform {
	const char *name;
	/* NULL when the platform runs workload wl; else why not, in words. */
	const char *(*unsupported)(const struct hif_ctx *x, int wl);
	int (*train)(const struct hif_ctx *x, struct hif_result *r, struct nd_err *err);
	int (*infer)(const struct hif_ctx *x, struct hif_result *r, struct nd_err *err);
};

extern const struct hif_platform hif_plat_host, hif_plat_storage, hif_plat_ndram,
	hif_plat_xbar;

/* ---- helpers for platform files */

void hif_result_init(struct hif_result *r);
void hif_result_free(struct hif_result *r);
/* Tags component comp as sitting at `at` (first tag wins). */
void hif_tag(struct hif_result *r, const char *comp, int at);
/* Where a component sits (HIF_AT_N when untagged). */
int hif_where_of(const struct hif_result *r, const char *comp);
/* Merges src into r->led, tagging its components: host_cpu, host_dram and
 * host_link by name, every other one as `rest`. */
void hif_merge(struct hif_result *r, const struct energy_ledger *src, int rest);
/* Copies an ndp_result (training) into r: ledger tagged as hif_merge with
 * rest, curve, target, bytes. */
void hif_from_ndp(struct hif_result *r, const struct ndp_result *n, int rest);
/* Reads `bytes` at the start of the drive (host path, or internal), charges
 * its ledger (drive + link) into r and returns its time. */
int hif_read_dataset(const struct hif_ctx *x, struct hif_result *r, uint64_t bytes,
		     int internal, uint64_t *t_ns, struct nd_err *err);

/* Sets r's 95 % accuracy interval from n samples of mean `mean` and sample
 * standard deviation sd: mean +- t(0.975, n-1) sd / sqrt(n), the interval of
 * the mean (Student's t; n = 1 gives the point). */
void hif_acc_interval(struct hif_result *r, int n, double mean, double sd);
/* Student's t quantile t(0.975, df) (exact table to df = 30, then the
 * normal's 1.96 + a 1/df correction). */
double hif_t975(int df);

/* Applies the system boundary (see the top of this file). */
void hif_result_finish(const struct hif_ctx *x, struct hif_result *r);

#endif
