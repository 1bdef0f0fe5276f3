/* bench_xbar_cnn.c — binarized CNN inference on crossbar tiles: the
 * default bcnn.* network (conv 16-16-32-32 3x3, fc 128; weights and
 * thresholds drawn at random, which does the same tile work as a trained
 * one) through one chip instance, on the first 2,000 Fashion-MNIST test
 * images: noise-free (bit-packed), noisy (device variation + read noise,
 * 3-bit converter, centred references) and the digital reference.
 * Prints "bench <name> <value> <unit>": wall and CPU seconds (the machine
 * is shared, so CPU time is the figure to compare). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "analog/xbar.h"
#include "analog/xbar_conv.h"
#include "core/util.h"
#include "workloads/bcnn.h"
#include "workloads/idx.h"

int main(void)
{
	struct wl_dataset te;
	struct nd_err err = { 0 };
	if (wl_fmnist_load(wl_fmnist_default_dir(), 0, &te, &err)) {
		fprintf(stderr, "bench_xbar_cnn: %s (skipped)\n", err.msg);
		return 0;
	}
	struct bcnn_params bp;
	struct xbar_params xp;
	struct cfg_bundle b = { 0 };
	cfg_bundle_add(&b, &bcnn_section, &bp);
	cfg_bundle_add(&b, &xbar_section, &xp);
	cfg_defaults(&b);
	struct bcnn_model *m = bcnn_random(&bp, 1, &err);
	if (!m)
		return 1;
	long n = 2000;
	xp.adc_ref = XBAR_REF_CENTRED;
	double w0 = nd_wall_s(), c0 = nd_cpu_s();
	bcnn_predict(m, te.pixels, n, te.labels, NULL);
	double w_dig = nd_wall_s() - w0, c_dig = nd_cpu_s() - c0;
	struct xbar_params qi = xp;
	qi.adc_ideal = 1;
	w0 = nd_wall_s();
	c0 = nd_cpu_s();
	if (xbar_conv_eval(&qi, m, NULL, 1, 0, te.pixels, te.labels, n, NULL, NULL, &err) < 0)
		return 1;
	double w_id = nd_wall_s() - w0, c_id = nd_cpu_s() - c0;
	xp.d2d_on = 1;
	xp.read_on = 1;
	w0 = nd_wall_s();
	c0 = nd_cpu_s();
	if (xbar_conv_eval(&xp, m, NULL, 1, 0, te.pixels, te.labels, n, NULL, NULL, &err) < 0)
		return 1;
	double w_no = nd_wall_s() - w0, c_no = nd_cpu_s() - c0;
	printf("bench xbar_cnn_noisy_eval_2k %.3f s\n", w_no);
	printf("bench xbar_cnn_noisy_eval_2k_cpu %.3f s\n", c_no);
	printf("bench xbar_cnn_ideal_eval_2k %.3f s\n", w_id);
	printf("bench xbar_cnn_ideal_eval_2k_cpu %.3f s\n", c_id);
	printf("bench bcnn_digital_eval_2k %.3f s\n", w_dig);
	printf("bench bcnn_digital_eval_2k_cpu %.3f s\n", c_dig);
	bcnn_model_free(m);
	wl_dataset_free(&te);
	return 0;
}
