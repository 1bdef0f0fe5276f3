/* bench_xbar.c — crossbar evaluation speed: the 10,000 Fashion-MNIST test
 * images through one chip instance of a 784-512-512-10 BNN (T = 1),
 * noisy (device variation + read noise) and noise-free (bit-packed
 * XNOR / popcount), and the digital reference.  The network is trained for
 * one short epoch first (not timed), or loaded from argv[1] when that file
 * exists (it is written there otherwise: lets callgrind skip training).
 * Prints "bench <name> <value> <unit>"; the _cpu lines are the process's
 * user + system CPU time over the same interval (all threads), the figure
 * to trust on a loaded machine.  With argv[2] = "noisy" only the noisy
 * evaluation runs (for profiling it alone). */
#include <sys/resource.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analog/xbar.h"
#include "core/util.h"
#include "workloads/bnn.h"
#include "workloads/idx.h"

int main(int argc, char **argv)
{
	struct wl_dataset tr, te;
	struct nd_err err = { 0 };
	if (wl_fmnist_load(wl_fmnist_default_dir(), 1, &tr, &err) ||
	    wl_fmnist_load(wl_fmnist_default_dir(), 0, &te, &err)) {
		fprintf(stderr, "bench_xbar: %s (skipped)\n", err.msg);
		return 0;
	}
	struct bnn_params bp;
	struct xbar_params xp;
	struct cfg_bundle b = { 0 };
	cfg_bundle_add(&b, &bnn_section, &bp);
	cfg_bundle_add(&b, &xbar_section, &xp);
	cfg_defaults(&b);
	bp.epochs = 1;
	bp.train_n = 10000;
	struct bnn_model *m;
	struct stat st;
	if (argc > 1 && !stat(argv[1], &st)) {
		if (bnn_model_load(argv[1], &m, &err)) {
			fprintf(stderr, "bench_xbar: %s\n", err.msg);
			return 1;
		}
	} else {
		if (bnn_train(&bp, 1, &tr, NULL, NULL, NULL, &m, &err)) {
			fprintf(stderr, "bench_xbar: %s\n", err.msg);
			return 1;
		}
		if (argc > 1 && bnn_model_save(m, argv[1], &err))
			fprintf(stderr, "bench_xbar: %s\n", err.msg);
	}
	xp.pulses = 1;
	struct xbar_enc_plan plan;
	if (xbar_plan(&xp, m, &plan, &err))
		return 1;
	xbar_refs *refs;
	if (xbar_refs_create(&xp, m, &plan, tr.pixels, xp.adc_calib_n, &refs, &err))
		return 1;

	int all = !(argc > 2 && !strcmp(argv[2], "noisy"));
	double t0 = nd_wall_s(), t_dig = 0, t_ideal = 0, c_ideal = 0;
	long cd = 0, ci = 0;
	xbar_chip *c;
	if (all) {
		cd = bnn_predict(m, te.pixels, te.n, te.labels, NULL);
		t_dig = nd_wall_s() - t0;
		if (xbar_chip_create(&xp, m, 1, 0, &c, &err))
			return 1;
		t0 = nd_wall_s();
		double c1 = nd_cpu_s();
		ci = xbar_chip_eval(c, &plan, refs, te.pixels, te.labels, te.n, NULL, NULL);
		t_ideal = nd_wall_s() - t0;
		c_ideal = nd_cpu_s() - c1;
		xbar_chip_destroy(c);
	}

	xp.d2d_on = 1;
	xp.read_on = 1;
	t0 = nd_wall_s();
	if (xbar_chip_create(&xp, m, 1, 0, &c, &err))
		return 1;
	double t_prog = nd_wall_s() - t0;
	t0 = nd_wall_s();
	double c0 = nd_cpu_s();
	long cn = xbar_chip_eval(c, &plan, refs, te.pixels, te.labels, te.n, NULL, NULL);
	double t_noisy = nd_wall_s() - t0, c_noisy = nd_cpu_s() - c0;
	xbar_chip_destroy(c);

	printf("bench xbar_noisy_eval_10k %.3f s\n", t_noisy);
	printf("bench xbar_noisy_eval_10k_cpu %.3f s\n", c_noisy);
	printf("bench xbar_chip_program %.3f s\n", t_prog);
	if (all) {
		printf("bench xbar_ideal_eval_10k %.3f s\n", t_ideal);
		printf("bench xbar_ideal_eval_10k_cpu %.3f s\n", c_ideal);
		printf("bench bnn_digital_eval_10k %.3f s\n", t_dig);
	}
	printf("bench xbar_noisy_accuracy %.2f %%\n", 100.0 * cn / te.n);
	if (all) {
		printf("bench xbar_ideal_accuracy %.2f %%\n", 100.0 * ci / te.n);
		printf("bench bnn_digital_accuracy %.2f %%\n", 100.0 * cd / te.n);
	}
	xbar_refs_destroy(refs);
	bnn_model_free(m);
	wl_dataset_free(&tr);
	wl_dataset_free(&te);
	return 0;
}
