/* BNN math: layer widths, exact bit-packed inference against a plain
 * integer reference, save/load, and training that does not depend on the
 * OpenMP thread count. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "analog/xbar.h"
#include "core/rng.h"
#include "core/util.h"
#include "tests/common/tutil.h"
#include "workloads/bnn.h"
#include "workloads/idx.h"

static struct bnn_params small_params(int act)
{
	struct bnn_params p;
	tu_defaults(&bnn_section, &p);
	p.act = act;
	snprintf(p.hidden, sizeof p.hidden, "32,24");
	p.epochs = 1;
	p.train_n = 1000;
	p.calib_n = 500;
	p.batch = 50;
	return p;
}

/* Synthetic images: a class-dependent bright bar plus noise. */
static void synth(struct wl_dataset *d, uint32_t n, uint64_t seed)
{
	struct rng r;
	rng_seed(&r, seed, 1);
	d->n = n;
	d->rows = d->cols = 28;
	d->pixels = xmalloc((size_t)n * 784);
	d->labels = xmalloc(n);
	for (uint32_t i = 0; i < n; i++) {
		int c = (int)rng_below(&r, 10);
		d->labels[i] = (uint8_t)c;
		for (int k = 0; k < 784; k++) {
			int row = k / 28;
			int v = (row / 3 == c) ? 200 : 20;
			v += (int)rng_below(&r, 60);
			d->pixels[(size_t)i * 784 + k] = (uint8_t)(v > 255 ? 255 : v);
		}
	}
}

START_TEST(dims_parse)
{
	int d[BNN_MAX_LAYERS + 1];
	struct nd_err err = { 0 };
	ck_assert_int_eq(bnn_parse_dims("512,512", d, &err), 3);
	ck_assert_int_eq(d[0], 784);
	ck_assert_int_eq(d[1], 512);
	ck_assert_int_eq(d[3], 10);
	ck_assert_int_eq(bnn_parse_dims("", d, &err), 1);
	ck_assert_int_eq(bnn_parse_dims("12,x", d, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "bnn.hidden"));
	ck_assert_int_eq(bnn_parse_dims("0", d, &err), -EINVAL);
	ck_assert_int_eq(bnn_parse_dims("1,2,3,4,5,6,7,8", d, &err), -EINVAL);
}
END_TEST

/* Plain integer reference of the folded model: D_Q = sum w (2 lev - Q). */
static int ref_predict(const struct bnn_model *m, const uint8_t *pix)
{
	int lev[BNN_MAX_WIDTH], nxt[BNN_MAX_WIDTH];
	uint8_t l0[784];
	bnn_input_levels(m, pix, l0);
	for (int i = 0; i < 784; i++)
		lev[i] = l0[i];
	for (int l = 0; l < m->nl; l++) {
		const struct bnn_layer *L = &m->layer[l];
		double best = -1e300;
		int arg = 0;
		for (int j = 0; j < L->n_out; j++) {
			long dq = 0;
			for (int i = 0; i < L->n_in; i++)
				dq += (long)bnn_w(L, j, i) * (2 * lev[i] - m->qin[l]);
			if (L->kind == BNN_OUT_SCORE) {
				double s = bnn_score(m, l, j, (double)dq);
				if (s > best) {
					best = s;
					arg = j;
				}
			} else {
				nxt[j] = bnn_act_level(m, l, j, (double)dq);
			}
		}
		if (L->kind == BNN_OUT_SCORE)
			return arg;
		memcpy(lev, nxt, sizeof(int) * (size_t)L->n_out);
	}
	return -1;
}

static void check_exact(int act)
{
	struct wl_dataset tr, te;
	synth(&tr, 1200, 11);
	synth(&te, 300, 12);
	struct bnn_params p = small_params(act);
	struct bnn_model *m;
	struct nd_err err = { 0 };
	ck_assert_int_eq(bnn_train(&p, 5, &tr, &te, NULL, NULL, &m, &err), 0);
	uint8_t *pred = xmalloc(te.n);
	long c = bnn_predict(m, te.pixels, te.n, te.labels, pred);
	long c2 = 0;
	for (uint32_t i = 0; i < te.n; i++) {
		int r = ref_predict(m, te.pixels + (size_t)i * 784);
		ck_assert_int_eq(r, pred[i]);
		c2 += r == te.labels[i];
	}
	ck_assert_int_eq(c, c2);
	/* the synthetic task is easy: training must have learned it */
	ck_assert_int_gt(c, (long)te.n * 8 / 10);
	free(pred);
	bnn_model_free(m);
	wl_dataset_free(&tr);
	wl_dataset_free(&te);
}

START_TEST(popcount_matches_reference_binary) { check_exact(BNN_ACT_BINARY); }
END_TEST

START_TEST(popcount_matches_reference_multi) { check_exact(BNN_ACT_MULTI); }
END_TEST

START_TEST(save_load_roundtrip)
{
	struct wl_dataset tr;
	synth(&tr, 600, 21);
	struct bnn_params p = small_params(BNN_ACT_MULTI);
	struct bnn_model *m, *m2;
	struct nd_err err = { 0 };
	ck_assert_int_eq(bnn_train(&p, 3, &tr, NULL, NULL, NULL, &m, &err), 0);
	char path[512];
	snprintf(path, sizeof path, "%s/bnn-roundtrip.bnn", tu_tmpdir());
	ck_assert_int_eq(bnn_model_save(m, path, &err), 0);
	ck_assert_int_eq(bnn_model_load(path, &m2, &err), 0);
	ck_assert_int_eq(m2->nl, m->nl);
	for (int l = 0; l < m->nl; l++) {
		const struct bnn_layer *a = &m->layer[l], *b = &m2->layer[l];
		ck_assert_int_eq(m->qin[l], m2->qin[l]);
		ck_assert_int_eq(memcmp(a->wbits, b->wbits, sizeof(uint64_t) * (size_t)a->n_out * a->words), 0);
		ck_assert_int_eq(memcmp(a->g, b->g, sizeof(double) * (size_t)a->n_out), 0);
		ck_assert_int_eq(memcmp(a->thresh, b->thresh, sizeof(int32_t) * (size_t)a->n_out), 0);
	}
	/* a truncated file is an error naming the file, not a crash */
	FILE *f = fopen(path, "r+b");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(ftruncate(fileno(f), 100), 0);
	fclose(f);
	struct bnn_model *m3 = NULL;
	ck_assert_int_eq(bnn_model_load(path, &m3, &err), -EINVAL);
	ck_assert_ptr_null(m3);
	ck_assert_ptr_nonnull(strstr(err.msg, "bnn-roundtrip.bnn"));
	ck_assert_int_lt(bnn_model_load("/nonexistent/model.bnn", &m3, &err), 0);
	bnn_model_free(m);
	bnn_model_free(m2);
	wl_dataset_free(&tr);
}
END_TEST

START_TEST(training_thread_independent)
{
#ifdef _OPENMP
	struct wl_dataset tr;
	synth(&tr, 800, 31);
	struct nd_err err = { 0 };
	for (int act = 0; act < 2; act++) {
		struct bnn_params p = small_params(act);
		struct bnn_model *m1, *m2;
		omp_set_num_threads(1);
		ck_assert_int_eq(bnn_train(&p, 9, &tr, NULL, NULL, NULL, &m1, &err), 0);
		omp_set_num_threads(2);
		ck_assert_int_eq(bnn_train(&p, 9, &tr, NULL, NULL, NULL, &m2, &err), 0);
		for (int l = 0; l < m1->nl; l++) {
			const struct bnn_layer *a = &m1->layer[l], *b = &m2->layer[l];
			ck_assert_int_eq(memcmp(a->wbits, b->wbits,
						sizeof(uint64_t) * (size_t)a->n_out * a->words), 0);
			ck_assert_int_eq(memcmp(a->thresh, b->thresh, sizeof(int32_t) * (size_t)a->n_out), 0);
			ck_assert_int_eq(memcmp(a->g, b->g, sizeof(double) * (size_t)a->n_out), 0);
			ck_assert_int_eq(memcmp(a->h, b->h, sizeof(double) * (size_t)a->n_out), 0);
		}
		bnn_model_free(m1);
		bnn_model_free(m2);
	}
	wl_dataset_free(&tr);
#else
	tu_skip("built without OpenMP");
#endif
}
END_TEST


static int models_equal(const struct bnn_model *m1, const struct bnn_model *m2)
{
	if (m1->nl != m2->nl)
		return 0;
	for (int l = 0; l < m1->nl; l++) {
		const struct bnn_layer *a = &m1->layer[l], *b = &m2->layer[l];
		size_t no = (size_t)a->n_out;
		if (memcmp(a->wbits, b->wbits, sizeof(uint64_t) * no * (size_t)a->words) ||
		    memcmp(a->thresh, b->thresh, sizeof(int32_t) * no) ||
		    memcmp(a->g, b->g, sizeof(double) * no) || memcmp(a->h, b->h, sizeof(double) * no))
			return 0;
	}
	return 1;
}

static void xdefaults(struct xbar_params *xp)
{
	tu_defaults(&xbar_section, xp);
}

/* Noise-aware training (issue 12 item 3): with both sigmas 0 it is plain
 * training bit for bit (act = binary and multi, whose pre-activations
 * the hook sees doubled); with noise the model changes, and is the same
 * for 1 and 2 threads and on a second run. */
START_TEST(noise_aware_zero_is_plain)
{
	struct wl_dataset tr;
	synth(&tr, 800, 41);
	struct nd_err err = { 0 };
	struct xbar_params xp;
	xdefaults(&xp);
	for (int act = 0; act < 2; act++) {
		struct bnn_params p = small_params(act);
		struct bnn_model *m0, *m1, *m2, *m3;
		ck_assert_int_eq(bnn_train(&p, 9, &tr, NULL, NULL, NULL, &m0, &err), 0);
		p.na_on = 1;
		/* plain bnn_train refuses: it has no noise model */
		ck_assert_int_eq(bnn_train(&p, 9, &tr, NULL, NULL, NULL, &m1, &err), -EINVAL);
		ck_assert_ptr_nonnull(strstr(err.msg, "bnn.noise_aware.enable"));
		p.na_d2d_sigma = 0;
		p.na_read_sigma = 0;
		ck_assert_int_eq(xbar_bnn_train(&p, &xp, 9, &tr, NULL, NULL, NULL, &m1, &err), 0);
		ck_assert(models_equal(m0, m1));
		p.na_d2d_sigma = 0.1;
		p.na_read_sigma = 0.5;
#ifdef _OPENMP
		omp_set_num_threads(1);
#endif
		ck_assert_int_eq(xbar_bnn_train(&p, &xp, 9, &tr, NULL, NULL, NULL, &m2, &err), 0);
#ifdef _OPENMP
		omp_set_num_threads(2);
#endif
		ck_assert_int_eq(xbar_bnn_train(&p, &xp, 9, &tr, NULL, NULL, NULL, &m3, &err), 0);
		ck_assert(!models_equal(m0, m2));
		ck_assert(models_equal(m2, m3));
		bnn_model_free(m0);
		bnn_model_free(m1);
		bnn_model_free(m2);
		bnn_model_free(m3);
	}
	wl_dataset_free(&tr);
}
END_TEST

/* The hook sees every layer of every step, in order, with its shape. */
struct hook_log {
	int calls, nl, bad;
	uint64_t last_step;
	int dims[BNN_MAX_LAYERS + 1];
	long rows;
};

static void log_hook(void *arg, int layer, int n_in, float *z, long rows, int m, uint64_t step)
{
	struct hook_log *g = arg;
	int want_layer = g->calls % g->nl;
	uint64_t want_step = (uint64_t)(g->calls / g->nl);
	if (layer != want_layer || step != want_step || n_in != g->dims[layer] ||
	    m != g->dims[layer + 1] || rows != g->rows)
		g->bad++;
	/* pre-activations of +1/-1 weights and inputs in [-1, 1] are bounded by n_in */
	for (long k = 0; k < rows * m; k++)
		if (!(z[k] >= -(float)n_in && z[k] <= (float)n_in))
			g->bad++;
	g->last_step = step;
	g->calls++;
}

START_TEST(noise_hook_sees_every_layer)
{
	struct wl_dataset tr;
	synth(&tr, 600, 43);
	struct nd_err err = { 0 };
	struct bnn_params p = small_params(BNN_ACT_BINARY);
	p.epochs = 2;
	struct hook_log g = { 0 };
	g.nl = bnn_parse_dims(p.hidden, g.dims, &err);
	g.rows = p.batch;
	struct bnn_noise_hook hook = { log_hook, &g };
	struct bnn_model *m;
	ck_assert_int_eq(bnn_train_noisy(&p, 3, &tr, NULL, NULL, NULL, &hook, &m, &err), 0);
	/* train_n 1000 > 600 images: 600 / 50 = 12 steps per epoch */
	ck_assert_int_eq(g.nl, 3);
	ck_assert_int_eq(g.calls, 2 * 12 * 3);
	ck_assert_int_eq(g.bad, 0);
	ck_assert_uint_eq(g.last_step, 23);
	bnn_model_free(m);
	wl_dataset_free(&tr);
}
END_TEST

/* xbar_perturb_preact: N(0, sd^2) added per element (moments of 100,000
 * draws), sd = 0 a no-op, the same values for 1 and 2 threads, rows and
 * streams independent. */
START_TEST(perturb_preact_moments)
{
	long rows = 400;
	int m = 250;
	size_t n = (size_t)rows * (size_t)m;
	float *z = xmalloc(sizeof(float) * n), *z2 = xmalloc(sizeof(float) * n);
	for (size_t k = 0; k < n; k++)
		z[k] = (float)(k % 7) - 3.0f;
	memcpy(z2, z, sizeof(float) * n);
	xbar_perturb_preact(z, rows, m, 0.0, 5, 77);
	ck_assert_int_eq(memcmp(z, z2, sizeof(float) * n), 0);
	double sd = 3.0, s = 0, ss = 0;
#ifdef _OPENMP
	omp_set_num_threads(1);
#endif
	xbar_perturb_preact(z, rows, m, sd, 5, 77);
#ifdef _OPENMP
	omp_set_num_threads(2);
#endif
	xbar_perturb_preact(z2, rows, m, sd, 5, 77);
	ck_assert_int_eq(memcmp(z, z2, sizeof(float) * n), 0);
	for (size_t k = 0; k < n; k++) {
		double e = (double)z[k] - (double)((float)(k % 7) - 3.0f);
		s += e;
		ss += e * e;
	}
	double mean = s / (double)n, var = ss / (double)n - mean * mean;
	/* 5 standard errors: sd / sqrt(n) = 0.0095, var * sqrt(2 / n) = 0.040 */
	ck_assert_double_lt(fabs(mean), 0.05);
	ck_assert_double_lt(fabs(var - sd * sd), 0.2);
	/* rows are distinct sub-streams; another stream gives other values */
	ck_assert(memcmp(z, z + m, sizeof(float) * (size_t)m) != 0);
	for (size_t k = 0; k < n; k++)
		z2[k] = (float)(k % 7) - 3.0f;
	xbar_perturb_preact(z2, rows, m, sd, 5, 78);
	ck_assert(memcmp(z, z2, sizeof(float) * n) != 0);
	free(z);
	free(z2);
}
END_TEST

/* The training noise of a 784-input layer on the default 128-row tiles
 * (no bias rows, on/off 17), d2d 0.1, read 1.0, T = 4, by hand: 7 row
 * tiles of 112 rows; a column has ~56 LRS cells (half the rows) plus
 * 56 HRS cells at g = 1/17, so in matches the read noise of one tile is
 * sigma_r sqrt(56 (1 + 1/289)(1 + 0.01)) / (1 - 1/17) = 8.0045 and the
 * variation 0.1 sqrt(56 (1 + 1/289)) / (1 - 1/17) = 0.79648; D = 2
 * matches - rows and 7 tiles add: sd_read = 2 sqrt(7) 8.0045 = 42.356,
 * sd_static = 4.2146, total sqrt(42.356^2 / 4 + 4.2146^2) = 21.593. */
START_TEST(noise_aware_sd_by_hand)
{
	struct xbar_params xp;
	xdefaults(&xp);
	struct bnn_params p = small_params(BNN_ACT_BINARY);
	p.na_on = 1;
	p.na_d2d_sigma = 0.1;
	p.na_read_sigma = 1.0;
	p.na_pulses = 4;
	struct xbar_bnn_noise nz;
	xbar_bnn_noise_init(&nz, &xp, &p, 1);
	ck_assert_double_eq_tol(xbar_bnn_noise_sd(&nz, 784), 21.593, 0.002);
	/* read noise only, one pulse, one tile of 100 rows: 2 sqrt(50 (1 + 1/289)) / (16/17) */
	p.na_d2d_sigma = 0;
	p.na_pulses = 1;
	xbar_bnn_noise_init(&nz, &xp, &p, 1);
	ck_assert_double_eq_tol(xbar_bnn_noise_sd(&nz, 100), 2.0 * sqrt(50.0 * (1.0 + 1.0 / 289)) * 17 / 16, 1e-9);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("bnn");
	TCase *tc = tcase_create("bnn");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, dims_parse);
	tcase_add_test(tc, popcount_matches_reference_binary);
	tcase_add_test(tc, popcount_matches_reference_multi);
	tcase_add_test(tc, save_load_roundtrip);
	tcase_add_test(tc, training_thread_independent);
	tcase_add_test(tc, noise_aware_zero_is_plain);
	tcase_add_test(tc, noise_hook_sees_every_layer);
	tcase_add_test(tc, perturb_preact_moments);
	tcase_add_test(tc, noise_aware_sd_by_hand);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(suite());
}
