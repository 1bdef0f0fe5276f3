/*
 * bench_ndp.c — cost of simulating in-storage training: wall time of one
 * simulated in-storage epoch (logistic regression, sync SGD over 8
 * channels, the default config with ssd.blocks=64) against the same SGD
 * math in a plain loop (the same 8 per-channel minibatches of 32 per step,
 * averaged in channel order, the same learning rate, then the same final
 * test-set evaluation), both on one OpenMP thread.  Prints the median of
 * --runs runs (default 3) of each:
 *   bench ndp_epoch_sim_s <value> s
 *   bench ndp_epoch_plain_s <value> s
 *   bench ndp_sim_overhead_pct <value> %
 * The simulated epoch includes creating the drive, placing the data set,
 * the event loop, the SSD model, and the curve's initial-model evaluation.
 * The two final models must agree bit for bit (exit 1 otherwise).
 *
 * Then the in-host epoch (ihp_train, the default host with the page cache
 * holding the data set, one epoch, one evaluation) and the host's digital
 * BNN kernel (bnn_predict of the default 784-512-512-10 network, trained on
 * 2,000 images for one epoch, over the 10,000 test images, one thread):
 *   bench ihp_epoch_sim_s <value> s
 *   bench ihp_epoch_cpu_s <value> s              (process CPU time, for a loaded machine)
 * --ihp-only runs the in-host epoch alone.
 *   bench bnn_predict_gops <value> Gword-op/s    (bnn_dp_host_word_ops / s)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli/cli.h"
#include "core/util.h"
#include "hostif/host.h"
#include "ndp/ndp.h"
#include "workloads/bnn.h"
#include "workloads/bnn_dp.h"

#define MAX_RUNS 15

#ifdef _OPENMP
#define BENCH_SIMD _Pragma("omp simd")
#else
#define BENCH_SIMD
#endif

struct cfg {
	struct run_params run;
	struct ssd_params ssd;
	struct ndp_train_params train;
	struct ndp_params ndp;
	struct ihp_params host;
	struct bnn_params bnn;
};

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* One epoch of the sync-SGD math with no simulator: returns the model. */
static float *plain_epoch(const struct cfg *c, const struct wl_dataset *tr,
			  const struct wl_dataset *te, long *correct, double *secs)
{
	struct nd_err err = { 0 };
	evq *q;
	ssd *s;
	struct energy_ledger led;
	struct ndp_layout L;
	/* The chunk -> channel map only (built before the clock starts). */
	en_init(&led);
	if (evq_create(16, &q) || ssd_create(&c->ssd, q, &led, c->run.seed, &s, &err) ||
	    ndp_layout_place(&L, s, &c->ssd, tr->n, 1, te->n, &err)) {
		fprintf(stderr, "bench_ndp: %s\n", err.msg);
		exit(1);
	}
	int P = c->ssd.channels, B = c->train.batch;
	struct wl_mlp m;
	ndp_model_setup(&c->train, &m, &err);
	float *p = xmalloc(m.n_params * sizeof *p), *sum = xmalloc(m.n_params * sizeof *p);
	float **g = xmalloc((size_t)P * sizeof *g);
	struct ndp_stream *st = xcalloc((size_t)P, sizeof *st);
	for (int w = 0; w < P; w++) {
		g[w] = xmalloc(m.n_params * sizeof *p);
		ndp_stream_init(&st[w], &L, w, B, c->run.seed);
	}
	float *x = xmalloc((size_t)B * 784 * sizeof *x);
	uint8_t *y = xmalloc((size_t)B);
	struct wl_mlp_ws *ws = wl_mlp_ws_create(&m, B);
	struct wl_aug aug = { c->run.seed, c->train.aug_shift, (float)c->train.aug_noise };
	wl_mlp_init(&m, p, c->run.seed);
	ssd_destroy(s);
	evq_destroy(q);

	double t0 = nd_wall_s();
	uint32_t steps = 0;
	for (int w = 0; w < P; w++) {
		ndp_stream_epoch(&st[w], 0);
		if (st[w].n_batches > steps)
			steps = st[w].n_batches;
	}
	for (uint32_t k = 0; k < steps; k++) {
		int part = 0;
		uint64_t samples = 0;
		for (int w = 0; w < P; w++) {
			if (st[w].n_batches <= k)
				continue;
			uint64_t s0, s1;
			ndp_stream_batch(&st[w], k, &s0, &s1);
			int n = (int)(s1 - s0);
			for (int i = 0; i < n; i++)
				wl_sample_x(tr, ndp_stream_slot(&st[w], s0 + (uint64_t)i), &aug,
					    x + (size_t)i * 784, &y[i]);
			wl_mlp_grad(&m, p, x, y, n, g[w], ws);
			if (!part)
				memcpy(sum, g[w], m.n_params * sizeof *sum);
			else
				BENCH_SIMD
				for (size_t j = 0; j < m.n_params; j++)
					sum[j] += g[w][j];
			part++;
			samples += (uint64_t)n;
		}
		float inv = 1.0f / (float)part;
		BENCH_SIMD
		for (size_t j = 0; j < m.n_params; j++)
			sum[j] *= inv;
		wl_sgd_step(p, sum, ndp_lr(&c->train, 0, (double)samples), m.n_params);
	}
	*correct = wl_mlp_correct(&m, p, te);
	*secs = nd_wall_s() - t0;
	for (int w = 0; w < P; w++) {
		free(g[w]);
		ndp_stream_fini(&st[w]);
	}
	free(g);
	free(st);
	free(sum);
	free(x);
	free(y);
	wl_mlp_ws_destroy(ws);
	ndp_layout_free(&L);
	return p;
}

int main(int argc, char **argv)
{
	int runs = 3, ihp_only = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
			runs = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--ihp-only")) {
			ihp_only = 1;
		} else {
			fprintf(stderr, "usage: bench_ndp [--runs N] [--ihp-only]\n");
			return 2;
		}
	}
	if (runs < 1 || runs > MAX_RUNS)
		runs = 3;
#ifdef _OPENMP
	omp_set_num_threads(1);
#endif
	struct cfg c;
	struct cfg_bundle b = { 0 };
	struct nd_err err = { 0 };
	cfg_bundle_add(&b, &run_section, &c.run);
	cfg_bundle_add(&b, &ssd_section, &c.ssd);
	cfg_bundle_add(&b, &ndp_train_section, &c.train);
	cfg_bundle_add(&b, &ndp_section, &c.ndp);
	cfg_bundle_add(&b, &ihp_section, &c.host);
	cfg_bundle_add(&b, &bnn_section, &c.bnn);
	cfg_defaults(&b);
	const char *sets[] = { "ssd.blocks=64", "ssd.channels=8", "ndp.algo=sync",
			       "train.model=lr", "train.epochs=1", "train.evals_per_epoch=1",
			       "ndp.infer=false" };
	for (size_t i = 0; i < ND_ARRAY_LEN(sets); i++)
		if (cfg_set(&b, sets[i], &err)) {
			fprintf(stderr, "bench_ndp: %s\n", err.msg);
			return 1;
		}
	struct wl_dataset tr, te;
	if (ndp_load_data(&c.train, &tr, &te, &err)) {
		printf("skip: %s\n", err.msg);
		return 0;
	}
	double ts[MAX_RUNS], tp[MAX_RUNS];
	int rc = 0;
	for (int k = 0; k < runs && !ihp_only; k++) {
		long correct;
		float *p = plain_epoch(&c, &tr, &te, &correct, &tp[k]);
		struct ndp_run_opts o = {
			.train = &c.train, .ndp = &c.ndp, .ssd = &c.ssd, .train_set = &tr,
			.test_set = &te, .seed = c.run.seed,
		};
		struct ndp_result r;
		double t0 = nd_wall_s();
		if (ndp_train(&o, &r, &err)) {
			fprintf(stderr, "bench_ndp: %s\n", err.msg);
			return 1;
		}
		ts[k] = nd_wall_s() - t0;
		if (memcmp(p, r.params, r.n_params * sizeof *p)) {
			fprintf(stderr, "bench_ndp: simulated and plain models differ\n");
			rc = 1;
		}
		if (k == 0)
			printf( "bench_ndp: accuracy after one epoch %.2f %% (plain %.2f %%), "
				"%llu events, %.4f s simulated\n", 100 * r.final_acc,
				100.0 * (double)correct / te.n, (unsigned long long)r.events,
				(double)r.t_end_ns * 1e-9);
		free(p);
		ndp_result_free(&r);
	}
	qsort(ts, (size_t)runs, sizeof *ts, cmp_dbl);
	qsort(tp, (size_t)runs, sizeof *tp, cmp_dbl);
	double sim = ts[runs / 2], plain = tp[runs / 2];
	if (!ihp_only) {
		printf("bench ndp_epoch_sim_s %.3f s\n", sim);
		printf("bench ndp_epoch_plain_s %.3f s\n", plain);
		printf("bench ndp_sim_overhead_pct %.1f %%\n", 100.0 * (sim / plain - 1.0));
	}

	double th[MAX_RUNS], tc[MAX_RUNS];
	for (int k = 0; k < runs; k++) {
		struct ihp_run_opts o = { .train = &c.train, .host = &c.host, .ssd = &c.ssd,
					  .train_set = &tr, .test_set = &te, .seed = c.run.seed };
		struct ndp_result r;
		double t0 = nd_wall_s(), c0 = nd_cpu_s();
		if (ihp_train(&o, &r, &err)) {
			fprintf(stderr, "bench_ndp: %s\n", err.msg);
			return 1;
		}
		th[k] = nd_wall_s() - t0;
		tc[k] = nd_cpu_s() - c0;
		ndp_result_free(&r);
	}
	qsort(th, (size_t)runs, sizeof *th, cmp_dbl);
	qsort(tc, (size_t)runs, sizeof *tc, cmp_dbl);
	printf("bench ihp_epoch_sim_s %.3f s\n", th[runs / 2]);
	printf("bench ihp_epoch_cpu_s %.3f s\n", tc[runs / 2]);
	if (ihp_only) {
		wl_dataset_free(&tr);
		wl_dataset_free(&te);
		return rc;
	}

	struct bnn_model *m = NULL;
	c.bnn.train_n = 2000;
	c.bnn.epochs = 1;
	if (bnn_train(&c.bnn, c.run.seed, &tr, NULL, NULL, NULL, &m, &err)) {
		fprintf(stderr, "bench_ndp: %s\n", err.msg);
		return 1;
	}
	double tb[MAX_RUNS];
	for (int k = 0; k < runs; k++) {
		double t0 = nd_wall_s();
		long ok = bnn_predict(m, te.pixels, te.n, te.labels, NULL);
		tb[k] = nd_wall_s() - t0;
		if (ok < 0)
			rc = 1;
	}
	qsort(tb, (size_t)runs, sizeof *tb, cmp_dbl);
	printf("bench bnn_predict_gops %.3f Gword-op/s\n",
	       (double)bnn_dp_host_word_ops(m) * te.n / tb[runs / 2] * 1e-9);
	bnn_model_free(m);
	wl_dataset_free(&tr);
	wl_dataset_free(&te);
	return rc;
}
