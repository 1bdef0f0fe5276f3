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

enum hif_which { HIF_BOTH, HIF_TRAIN, HIF_INFER };

struct hif_compare_params {
	int which;                    /* enum hif_which */
	char cache_dir[CFG_STR_MAX];  /* trained BNN models, keyed by config hash */
	int xbar_noise;               /* crossbar row: device variation + read noise on */
	int infer_runs;             /* test-set passes sharing one weight programming */
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

struct cJSON *hif_compare_metrics(const struct hif_compare *c);
void hif_compare_print(const struct hif_compare *c, FILE *out);
/* platforms.csv, energy.csv, curve_<platform>.csv and the figures. */
int hif_compare_write_files(const struct hif_compare *c, const char *dir,
			    struct nd_err *err);

#endif
