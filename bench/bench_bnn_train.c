/* bench_bnn_train.c — BNN training speed: the default 784-512-512-10
 * network (bnn.* defaults, act = binary, batch 100) trained the way
 * `ndpsim run` does (test set passed, no per-epoch callback) for argv[2]
 * epochs (default 1) over argv[1] training images (default 20,000); wall
 * time per 10,000 images and epoch, plus the test accuracy of the folded
 * model so that a faster trainer that learns less shows.  Prints
 * "bench <name> <value> <unit>". */
#include <stdio.h>
#include <stdlib.h>

#include "core/util.h"
#include "workloads/bnn.h"
#include "workloads/idx.h"

int main(int argc, char **argv)
{
	struct wl_dataset tr, te;
	struct nd_err err = { 0 };
	if (wl_fmnist_load(wl_fmnist_default_dir(), 1, &tr, &err) ||
	    wl_fmnist_load(wl_fmnist_default_dir(), 0, &te, &err)) {
		fprintf(stderr, "bench_bnn_train: %s (skipped)\n", err.msg);
		return 0;
	}
	struct bnn_params bp;
	struct cfg_bundle b = { 0 };
	cfg_bundle_add(&b, &bnn_section, &bp);
	cfg_defaults(&b);
	bp.epochs = argc > 2 ? atoi(argv[2]) : 1;
	bp.train_n = argc > 1 ? atoi(argv[1]) : 20000;
	struct bnn_model *m;
	double t0 = nd_wall_s();
	if (bnn_train(&bp, 1, &tr, &te, NULL, NULL, &m, &err)) {
		fprintf(stderr, "bench_bnn_train: %s\n", err.msg);
		return 1;
	}
	double t = nd_wall_s() - t0;
	long c = bnn_predict(m, te.pixels, te.n, te.labels, NULL);
	printf("bench bnn_train_epoch_per_10k %.3f s\n", t * 10000.0 / bp.train_n / bp.epochs);
	printf("bench bnn_train_1epoch_accuracy %.2f %%\n", 100.0 * c / te.n);
	bnn_model_free(m);
	wl_dataset_free(&tr);
	wl_dataset_free(&te);
	return 0;
}
