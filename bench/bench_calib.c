/*
 * bench_calib.c — how well the calibrated host model predicts runs it was
 * not calibrated on (hostif/calib.h, hif_calib_validate): the default
 * config, every kernel calibrated (median of --reps, default 5) with its
 * repetitions alternating with the validation runs (--epochs, default 4,
 * the first a warm-up), on the OpenMP threads of the environment
 * (OMP_NUM_THREADS, or --threads N).  Prints the per-core rates of the
 * profile and every predicted / measured ratio:
 *   bench calib_gflops_lr <value> GFLOP/s        (per core)
 *   bench calib_gflops_mlp <value> GFLOP/s
 *   bench calib_bnn_gops <value> Gword-op/s
 *   bench calib_lr_epoch_ratio <value> -          (profile's own rate)
 *   bench calib_mlp_epoch_ratio <value> -
 *   bench calib_bnn_infer_ratio <value> -
 *   bench calib_mlp_epoch_from_lr_ratio <value> - (calibrated on LR only)
 *   bench calib_bnn_infer_from_lr_ratio <value> -
 *   bench calib_cpu_share <value> -               (1 = the threads had their cores)
 * and, for the record, the load average before and after.  The real runs
 * must compute the model's parameters bit for bit (exit 1 otherwise).
 * These are the wall-time checks that used to be a unit test (issue 13):
 * a ratio on a shared machine is a measurement, not a pass/fail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli/cli.h"
#include "cli/registry.h"
#include "core/util.h"
#include "hostif/calib.h"

static void *params_of(const struct cfg_bundle *b, const struct cfg_section *sec)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->sec[i] == sec)
			return b->params[i];
	return NULL;
}

static void loadavg(const char *when)
{
	char b[128] = "?";
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (!fgets(b, sizeof b, f))
			snprintf(b, sizeof b, "?");
		fclose(f);
	}
	b[strcspn(b, "\n")] = '\0';
	printf("bench_calib: load average %s: %s\n", when, b);
}

int main(int argc, char **argv)
{
	struct hif_calib_opts o;
	hif_calib_opts_init(&o);
	for (int i = 1; i < argc; i++) {
		int v = i + 1 < argc ? atoi(argv[i + 1]) : 0;
		if (!strcmp(argv[i], "--reps") && v >= 1 && v <= HIF_CALIB_REPS_MAX) {
			o.reps = v;
			i++;
		} else if (!strcmp(argv[i], "--epochs") && v >= 2 && v <= HIF_CALIB_REPS_MAX) {
			o.val_epochs = v;
			i++;
		} else if (!strcmp(argv[i], "--threads") && v >= 1 && v <= 1024) {
#ifdef _OPENMP
			omp_set_num_threads(v);
#endif
			i++;
		} else {
			fprintf(stderr, "usage: bench_calib [--reps N] [--epochs N] [--threads N]\n");
			return 2;
		}
	}
	struct cfg_bundle b;
	struct nd_err err = { 0 };
	cli_bundle_all(&b);
	cfg_defaults(&b);
	const struct run_params *run = params_of(&b, &run_section);
	const struct ndp_train_params *tp = params_of(&b, &ndp_train_section);
	const struct ihp_params *hp = params_of(&b, &ihp_section);
	struct wl_dataset tr, te;
	if (ndp_load_data(tp, &tr, &te, &err)) {
		printf("skip: %s\n", err.msg);
		cli_bundle_free(&b);
		return 0;
	}
	struct hif_calib_work w = {
		.train = tp, .host = hp, .ssd = params_of(&b, &ssd_section),
		.bnn = params_of(&b, &bnn_section), .train_set = &tr, .test_set = &te,
		.seed = run->seed,
	};
	struct hif_calib *c = xmalloc(sizeof *c);
	struct hif_calib_valid *v = xmalloc(sizeof *v);
	hif_calib_init(c, o.reps);
	loadavg("before");
	double t0 = nd_wall_s();
	int rc = hif_calib_validate(&o, &w, hp, c, v, &err);
	double t = nd_wall_s() - t0;
	loadavg("after");
	if (rc) {
		fprintf(stderr, "bench_calib: %s\n", err.msg);
		return 1;
	}
	printf("bench_calib: %d threads, %d reps, %d runs each, %.1f s; %s\n", c->threads, c->reps,
	       v->epochs, t, c->power.note);
	printf("bench calib_gflops_lr %.4g GFLOP/s\n", c->sgd[HIF_CALIB_LR].gflops_per_core);
	printf("bench calib_gflops_mlp %.4g GFLOP/s\n", c->sgd[HIF_CALIB_MLP].gflops_per_core);
	printf("bench calib_bnn_gops %.4g Gword-op/s\n", c->bnn.gops_per_core);
	for (int k = 0; k < HIF_CHK_N; k++)
		if (v->chk[k].done)
			printf("bench calib_%s_ratio %.3f -\n", hif_calib_check_names[k], v->chk[k].ratio);
	printf("bench calib_cpu_share %.2f -\n", v->cpu_share);
	if (c->power.measured) {
		printf("bench calib_p_idle_w %.4g W\n", c->power.p_idle_w);
		printf("bench calib_p_active_w %.4g W\n", c->power.p_active_w);
	}
	int bad = !v->same_params[0] || !v->same_params[1];
	if (bad)
		fprintf(stderr, "bench_calib: the real epochs did not compute the model's parameters\n");
	free(v);
	free(c);
	wl_dataset_free(&tr);
	wl_dataset_free(&te);
	cli_bundle_free(&b);
	return bad;
}
