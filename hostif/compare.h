/*
 * compare.h — host vs storage vs memory on the same workload: the main job
 * (`ndpsim run`).
 *
 * train: logistic regression / MLP on Fashion-MNIST to the target accuracy
 *   - host:    in-host SGD over the page cache and PCIe (ndp/ihp.h)
 *   - storage: in-storage SGD on the channel units (ndp/ndp.h)
 *   - memory, near-DRAM: the host's SGD re-timed on a TETRIS-style stack,
 *     after the data set arrives from the SSD (hostif/memplat.h)
 *   - memory, ReRAM crossbar: not supported (it runs binarized inference
 *     only); the table says so instead of inventing a number.
 * infer: the binarized network of the "bnn" section on the 10,000 test
 *   images.  Host, storage and near-DRAM run it digitally (exact bit-packed
 *   XNOR/popcount: every platform gets the same, real accuracy); the
 *   crossbar runs it in analog with its sampled noise (analog/xbar.h).  The
 *   test set comes from the SSD in every case: over PCIe for the host and
 *   the memory platforms, over the internal channels for storage.
 *
 * Digital BNN cost (all three digital platforms alike): a 64-bit XNOR, a
 * POPCNT and an ADD cover 64 binary MACs, so ops = MACs x 3 / 64
 * (compare.bnn_ops_per_64_macs), executed at the platform's op rate (host:
 * cores x FLOP/s per core; storage: units x MACs per cycle x clock; stack:
 * PEs x clock x utilisation), with the platform's energy per op.
 */
#ifndef ND_HIF_COMPARE_H
#define ND_HIF_COMPARE_H

#include <stdint.h>
#include <stdio.h>

#include "core/cfg.h"
#include "core/energy.h"
#include "ndp/train.h"

enum hif_which { HIF_BOTH, HIF_TRAIN, HIF_INFER };

struct hif_compare_params {
	int which;                    /* enum hif_which */
	double bnn_ops_per_64;        /* integer ops per 64 binary MACs */
	char cache_dir[CFG_STR_MAX];  /* trained BNN models, keyed by config hash */
	int xbar_noise;               /* crossbar row: device variation + read noise on */
};
extern const struct cfg_section hif_compare_section;

struct hif_row {
	char workload[8];             /* "train" / "infer" */
	char platform[32];
	int supported;
	char note[200];
	double time_s;                /* train: to target (or end); infer: whole test set */
	double energy_j;              /* same span as time_s */
	int target_reached;
	double acc;                   /* final test accuracy */
	double run_time_s, run_energy_j;  /* whole run; run_energy_j = ledger total */
	struct energy_ledger led;     /* whole run */
	uint64_t b_flash, b_link, b_host_dram, b_stack, b_internal;
	const char *bound;
	struct ndp_point *curve;      /* train: accuracy vs time (owned) */
	int ncurve;
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
