/*
 * compare.h — host vs storage vs memory on the same workload: the main job
 * (`ndpsim run`).
 *
 * The comparison iterates a table of platforms (hostif/platform.h; one file
 * each: plat_host.c, plat_storage.c, plat_ndram.c, plat_xbar.c) and does no
 * per-platform arithmetic: each platform trains / infers with its own value
 * and cost path, and platform.c applies one system boundary to all of them.
 *
 * train: logistic regression / MLP on Fashion-MNIST (train.*), every epoch
 *   of train.epochs; time and energy to train.target_acc read off each
 *   platform's own accuracy curve.
 * infer: the binarized network of the "bnn" section (trained once, kept in
 *   compare.cache_dir) on the test set; each platform classifies with its
 *   own code and datapath (host: bnn_predict; storage / near-DRAM: bnn_dp on
 *   their word width and accumulator; crossbar: analog with noise).
 *
 * Every row carries system and marginal energy (platform.h) over its wall
 * time; the verdict names the winner under time, system and marginal energy
 * and says when the energy views disagree.
 */
#ifndef ND_HIF_COMPARE_H
#define ND_HIF_COMPARE_H

#include <stdint.h>
#include <stdio.h>

#include "core/cfg.h"
#include "core/energy.h"
#include "hostif/platform.h"
#include "ndp/train.h"
#include "workloads/idx.h"

enum hif_which { HIF_BOTH, HIF_TRAIN, HIF_INFER };

struct hif_compare_params {
	int which;                    /* enum hif_which */
	char cache_dir[CFG_STR_MAX];  /* trained BNN models, keyed by config hash */
	int xbar_noise;               /* crossbar row: device variation + read noise on */
	int infer_runs;             /* test-set passes sharing one weight programming */
	int repeats;                /* train: data-order seeds per platform (accuracy interval) */
	char sens_keys[CFG_STR_MAX];  /* --sensitivity: keys varied ("" = the built-in list) */
};
extern const struct cfg_section hif_compare_section;

struct hif_row {
	char workload[8];             /* "train" / "infer" */
	const char *platform;
	struct hif_result res;
};

struct hif_compare {
	int n;
	struct hif_row row[8];
	double train_target;
};

/* Runs the comparison described by the bundle's sections; progress on
 * stderr when it is a terminal.  Returns 0, -EINVAL (bad input) or another
 * negative errno. */
struct cfg_bundle;
int hif_compare_run(const struct cfg_bundle *b, int progress,
		    struct hif_compare *out, struct nd_err *err);
void hif_compare_free(struct hif_compare *c);

/* ---- the pieces hif_compare_run is made of, for callers that run many
 * comparisons over the same data (hostif/sensitivity.c). */

/* The data sets and the trained BNN of a bundle (train.*, bnn.*, seed). */
struct hif_data {
	struct wl_dataset tr, te;
	struct bnn_model *bnn;        /* NULL when compare.workloads = train */
};
int hif_data_load(const struct cfg_bundle *b, int progress, struct hif_data *d,
		  struct nd_err *err);
void hif_data_free(struct hif_data *d);

/* The platform table (the order of the rows within a workload). */
int hif_platform_count(void);
const struct hif_platform *hif_platform_at(int i);

struct hif_compare_opts {
	int progress;
	/* NULL: every row runs.  Else a row whose bit (1u << (8 * wl + i), wl
	 * an enum hif_wl, i its index in the platform table) is clear in
	 * `rerun` is copied from base and only the system boundary is
	 * re-applied with this bundle's host section. */
	const struct hif_compare *base;
	unsigned rerun;
	struct hif_memo *memo;        /* platform.h; NULL = none */
	int no_repeats;               /* 1: compare.repeats is ignored */
};
int hif_compare_run_on(const struct cfg_bundle *b, const struct hif_data *d,
		       const struct hif_compare_opts *o, struct hif_compare *out,
		       struct nd_err *err);
/* Copies a finished result (the curve too); free the copy with
 * hif_result_free(). */
void hif_result_copy(struct hif_result *dst, const struct hif_result *src);

/* Winner of a workload ("train" / "infer") under view 0 time, 1 system
 * energy, 2 marginal energy, or NULL when no row qualifies (train: reached
 * the target); *lead = the runner-up's figure / the winner's (inf with no
 * runner-up).  *value = the winner's figure. */
const struct hif_row *hif_compare_winner(const struct hif_compare *c, const char *wl, int view,
					 double *lead);
/* A row's headline figure under view 0/1/2 (time to target or whole test
 * set; system; marginal energy); NAN when it does not qualify. */
double hif_row_figure(const struct hif_row *w, int view);

struct cJSON *hif_compare_metrics(const struct hif_compare *c);
void hif_compare_print(const struct hif_compare *c, FILE *out);
/* platforms.csv, energy.csv, curve_<platform>.csv and the figures. */
int hif_compare_write_files(const struct hif_compare *c, const char *dir,
			    struct nd_err *err);

#endif
