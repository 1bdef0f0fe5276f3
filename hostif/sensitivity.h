/*
 * sensitivity.h — how robust is the main job's answer (`ndpsim run
 * --sensitivity`).
 *
 * Each assumption (a real config key: compare.sensitivity_keys, or the
 * built-in list of the ~14 that carry most weight) is multiplied by 0.5
 * and by 2, one at a time, every other key at its value; for each point the
 * comparison is redone and the winner and its lead (the runner-up's figure
 * / the winner's) recorded for both questions (train, infer) under the
 * three views (time, system energy, marginal energy).  A point whose
 * winner differs from the baseline's is a flip.
 *
 * What a point re-runs follows what each platform file reads (rows_of() in
 * sensitivity.c, worked out from hostif/plat_*.c and platform.c): a host key
 * reaches the host rows and the crossbar row (host.dram_pj_bit), an ssd key
 * every row, an ndp / ndram key that platform's rows (the train or the
 * infer row alone where only one reads it), an xbar or compare.infer_runs
 * key the crossbar row; every other row is copied from the baseline and
 * only the system boundary (hif_result_finish, host.*) is re-applied.  Four
 * rows re-charge their cost path from the baseline's recorded value path
 * (struct hif_memo) when the key is one that value path does not read: the
 * crossbar (any non-xbar key, and the xbar prices, areas, timings), the
 * host's training (host rates, powers, page cache, I/O path), sync
 * in-storage training (every ndp key but the algorithm, the units' format
 * and zero skip) and near-DRAM training (every ndram key but the format
 * and zero skip); for all three trainings also the ssd's link, controller,
 * DRAM, NAND timing, power and energy keys.  A key that changes a value
 * path (a numeric format, zero skip, the layout) re-runs that row.
 * tests/test_sens.c checks re-charged points against full re-runs, bit for
 * bit, for a key of each replayed platform.  Keys of
 * train, bnn or the top level re-run everything,
 * reloading the data and the network.  Values are scaled in the key's
 * type (integers rounded, at least 1 apart from the base) and clamped to
 * its range (the point says so).
 */
#ifndef ND_HIF_SENSITIVITY_H
#define ND_HIF_SENSITIVITY_H

#include <stdio.h>

#include "core/cfg.h"
#include "core/err.h"
#include "hostif/compare.h"

#define HIF_SENS_MAX_KEYS 24
#define HIF_SENS_NF 2            /* factors: x0.5, x2 */

/* Winner and lead of one question under one view. */
struct hif_sens_win {
	const char *winner;          /* platform name, NULL = no row qualifies */
	double lead;                 /* runner-up / winner (inf: no runner-up) */
	double base_ratio;           /* best other / the baseline winner (< 1: flipped) */
};

struct hif_sens_point {
	double factor, value;
	int clamped, valid, flips;
	char why[200];               /* !valid: why the point was not run */
	struct hif_sens_win w[2][3]; /* [train, infer][time, system, marginal] */
};

struct hif_sens_key {
	char path[96];
	const char *what;            /* the assumption in words */
	double base;                 /* effective value at the baseline */
	char how[320];               /* which rows re-ran / were re-charged */
	struct hif_sens_point pt[HIF_SENS_NF];
};

struct hif_sens {
	int nkeys;
	struct hif_sens_key key[HIF_SENS_MAX_KEYS];
	struct hif_sens_win base[2][3];
	int have[2];                 /* the question was asked */
	double cpu_s, wall_s;        /* what the points cost */
};

/* The keys to vary: compare.sensitivity_keys, or the built-in list when it
 * is empty.  Every key is checked here, before anything runs: unknown or
 * non-numeric -> -EINVAL with err naming the key (the CLI exits 2). */
int hif_sens_prepare(const struct cfg_bundle *b, struct hif_sens *s, struct nd_err *err);

/* Runs every point against the baseline comparison `base` (made from b
 * and d; memo is what that run recorded, NULL = nothing, the crossbar then
 * re-runs its Monte Carlo).  Returns 0 or a negative errno. */
int hif_sens_run(const struct cfg_bundle *b, const struct hif_data *d,
		 const struct hif_compare *base, struct hif_memo *memo, int progress,
		 struct hif_sens *s, struct nd_err *err);

/* One point on its own (tests): the comparison with key `path` set to
 * base x factor, run the way hif_sens_run runs it (recharge = 1) or from
 * scratch (recharge = 0).  out is freed with hif_compare_free(). */
int hif_sens_point_run(const struct cfg_bundle *b, const struct hif_data *d,
		       const struct hif_compare *base, struct hif_memo *memo, const char *path,
		       double factor, int recharge, struct hif_compare *out, struct nd_err *err);

struct cJSON *hif_sens_json(const struct hif_sens *s);
void hif_sens_print(const struct hif_sens *s, FILE *out);
/* sensitivity.csv, tornado_<question>.dat and the tornado figure
 * (sensitivity.png through gnuplot). */
int hif_sens_write_files(const struct hif_sens *s, const char *dir, struct nd_err *err);

#endif
