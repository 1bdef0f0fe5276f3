/*
 * workloads/model: gradients against finite differences (logistic
 * regression and a two-hidden-layer MLP), bit-identical results for 1 and
 * 2 OpenMP threads and against plain reference loops, the augmentation of amplified copies, and setup errors.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/rng.h"
#include "core/util.h"
#include "tests/common/tutil.h"
#include "workloads/model.h"

/* Random inputs in [0, 1] with about a third exact zeros (like pixels). */
static void random_data(float *x, uint8_t *y, int n, int dim, int classes, uint64_t seed)
{
	struct rng r;
	rng_seed(&r, seed, 7);
	for (int i = 0; i < n * dim; i++) {
		double u = rng_uniform(&r);
		x[i] = u < 0.33 ? 0.0f : (float)rng_uniform(&r);
	}
	for (int i = 0; i < n; i++)
		y[i] = (uint8_t)rng_below(&r, (uint64_t)classes);
}

static void random_params(const struct wl_mlp *m, float *p, uint64_t seed, double scale)
{
	struct rng r;
	rng_seed(&r, seed, 9);
	for (size_t i = 0; i < m->n_params; i++)
		p[i] = (float)((2 * rng_uniform(&r) - 1) * scale);
}

/* Checks every parameter's analytic gradient against the central
 * difference of the mean loss; returns the number of mismatches. */
static int gradcheck(const char *hidden, int dim, int classes, int n, double scale)
{
	struct wl_mlp m;
	struct nd_err err;
	ck_assert_int_eq(wl_mlp_setup(&m, dim, hidden, classes, "h", &err), 0);
	float *p = xmalloc(m.n_params * sizeof *p), *g = xmalloc(m.n_params * sizeof *g);
	float *x = xmalloc((size_t)n * dim * sizeof *x);
	uint8_t *y = xmalloc((size_t)n);
	random_data(x, y, n, dim, classes, 3);
	random_params(&m, p, 5, scale);
	struct wl_mlp_ws *ws = wl_mlp_ws_create(&m, n);
	wl_mlp_grad(&m, p, x, y, n, g, ws);
	const float eps = 1e-3f;
	int bad = 0;
	double worst = 0;
	for (size_t i = 0; i < m.n_params; i++) {
		float keep = p[i];
		p[i] = keep + eps;
		double lp = wl_mlp_loss(&m, p, x, y, n, ws);
		p[i] = keep - eps;
		double lm = wl_mlp_loss(&m, p, x, y, n, ws);
		p[i] = keep;
		double num = (lp - lm) / (2.0 * (double)eps * n);
		double diff = fabs(num - (double)g[i]);
		double tol = 2e-4 + 2e-2 * fabs(num);
		if (diff > worst)
			worst = diff;
		if (diff > tol) {
			if (bad < 5)
				fprintf(stderr, "gradcheck %s: param %zu analytic %g numeric %g\n",
					hidden, i, (double)g[i], num);
			bad++;
		}
	}
	wl_mlp_ws_destroy(ws);
	free(p);
	free(g);
	free(x);
	free(y);
	return bad;
}

START_TEST(gradcheck_logistic_regression)
{
	ck_assert_int_eq(gradcheck("", 20, 5, 8, 0.5), 0);
}
END_TEST

START_TEST(gradcheck_mlp_two_hidden_layers)
{
	/* eps = 1e-3 keeps ReLU kinks out of [w - eps, w + eps] for this seed
	 * (at 1e-2 three parameters straddle one); every parameter is checked. */
	ck_assert_int_eq(gradcheck("7,6", 12, 4, 6, 0.8), 0);
}
END_TEST

START_TEST(mac_counts)
{
	struct wl_mlp m;
	struct nd_err err;
	ck_assert_int_eq(wl_mlp_setup(&m, 784, "", 10, "h", &err), 0);
	ck_assert_uint_eq(m.n_params, 7850);
	ck_assert_uint_eq(wl_mlp_macs_fwd(&m), 7840);
	ck_assert_uint_eq(wl_mlp_macs_bwd(&m), 7840);
	ck_assert_int_eq(wl_mlp_setup(&m, 784, "100", 10, "h", &err), 0);
	ck_assert_uint_eq(m.n_params, 784 * 100 + 100 + 100 * 10 + 10);
	ck_assert_uint_eq(wl_mlp_macs_fwd(&m), 78400 + 1000);
	ck_assert_uint_eq(wl_mlp_macs_bwd(&m), 78400 + 2000);
}
END_TEST

START_TEST(same_bits_with_1_and_2_threads)
{
#ifndef _OPENMP
	tu_skip("built without OpenMP");
	return;
#else
	struct wl_mlp m;
	struct nd_err err;
	ck_assert_int_eq(wl_mlp_setup(&m, 784, "100", 10, "h", &err), 0);
	int n = 64;
	float *p = xmalloc(m.n_params * sizeof *p);
	float *g1 = xmalloc(m.n_params * sizeof *g1), *g2 = xmalloc(m.n_params * sizeof *g2);
	float *x = xmalloc((size_t)n * 784 * sizeof *x);
	uint8_t *y = xmalloc((size_t)n), pr1[64], pr2[64];
	random_data(x, y, n, 784, 10, 11);
	wl_mlp_init(&m, p, 4);
	struct wl_mlp_ws *ws = wl_mlp_ws_create(&m, n);
	omp_set_num_threads(1);
	double l1 = wl_mlp_grad(&m, p, x, y, n, g1, ws);
	long c1 = wl_mlp_predict(&m, p, x, y, n, pr1, ws);
	omp_set_num_threads(2);
	double l2 = wl_mlp_grad(&m, p, x, y, n, g2, ws);
	long c2 = wl_mlp_predict(&m, p, x, y, n, pr2, ws);
	ck_assert(l1 == l2);
	ck_assert_int_eq(c1, c2);
	ck_assert_int_eq(memcmp(g1, g2, m.n_params * sizeof *g1), 0);
	ck_assert_int_eq(memcmp(pr1, pr2, (size_t)n), 0);
	wl_mlp_ws_destroy(ws);
	free(p);
	free(g1);
	free(g2);
	free(x);
	free(y);
#endif
}
END_TEST

START_TEST(sgd_lowers_the_loss)
{
	struct wl_mlp m;
	struct nd_err err;
	ck_assert_int_eq(wl_mlp_setup(&m, 30, "16", 3, "h", &err), 0);
	int n = 32;
	float *p = xmalloc(m.n_params * sizeof *p), *g = xmalloc(m.n_params * sizeof *g);
	float *x = xmalloc((size_t)n * 30 * sizeof *x);
	uint8_t *y = xmalloc((size_t)n);
	random_data(x, y, n, 30, 3, 21);
	wl_mlp_init(&m, p, 2);
	struct wl_mlp_ws *ws = wl_mlp_ws_create(&m, n);
	double first = wl_mlp_loss(&m, p, x, y, n, ws);
	for (int it = 0; it < 300; it++) {
		wl_mlp_grad(&m, p, x, y, n, g, ws);
		wl_sgd_step(p, g, 0.5f, m.n_params);
	}
	double last = wl_mlp_loss(&m, p, x, y, n, ws);
	ck_assert_msg(last < 0.5 * first, "loss %g -> %g", first, last);
	wl_mlp_ws_destroy(ws);
	free(p);
	free(g);
	free(x);
	free(y);
}
END_TEST

START_TEST(augmented_copies)
{
	struct wl_dataset d = { 0 };
	d.n = 3;
	d.rows = d.cols = 28;
	d.pixels = xmalloc(3 * 784);
	d.labels = xmalloc(3);
	for (int i = 0; i < 3 * 784; i++)
		d.pixels[i] = (uint8_t)(i * 7);
	d.labels[0] = 4;
	d.labels[1] = 9;
	d.labels[2] = 1;
	struct wl_aug aug = { 42, 2, 0.05f };
	float a[784], b[784], c[784];
	uint8_t la, lb, lc;
	wl_sample_x(&d, 1, &aug, a, &la);
	ck_assert_int_eq(la, 9);
	for (int k = 0; k < 784; k++)
		ck_assert(a[k] == (float)d.pixels[784 + k] * (1.0f / 255.0f));
	/* Slot 4 = copy 1 of image 1: same label, deterministic, different. */
	wl_sample_x(&d, 4, &aug, b, &lb);
	wl_sample_x(&d, 4, &aug, c, &lc);
	ck_assert_int_eq(lb, 9);
	ck_assert_int_eq(lc, 9);
	ck_assert_int_eq(memcmp(b, c, sizeof b), 0);
	int differ = 0;
	for (int k = 0; k < 784; k++) {
		ck_assert(b[k] >= 0.0f && b[k] <= 1.0f);
		differ += a[k] != b[k];
	}
	ck_assert_int_gt(differ, 100);
	/* Another seed gives another copy. */
	struct wl_aug aug2 = { 43, 2, 0.05f };
	wl_sample_x(&d, 4, &aug2, c, &lc);
	ck_assert_int_ne(memcmp(b, c, sizeof b), 0);
	free(d.pixels);
	free(d.labels);
}
END_TEST

START_TEST(setup_errors_name_the_key)
{
	struct wl_mlp m;
	struct nd_err err = { 0 };
	const char *bad[] = { "abc", "0", "100,,5", "100x", "-3", "5000", "1,2,3,4,5,6,7,8" };
	for (size_t i = 0; i < ND_ARRAY_LEN(bad); i++) {
		nd_err_clear(&err);
		ck_assert_int_eq(wl_mlp_setup(&m, 784, bad[i], 10, "train.hidden", &err), -EINVAL);
		ck_assert_msg(strstr(err.msg, "train.hidden"), "%s", err.msg);
	}
	ck_assert_int_eq(wl_mlp_setup(&m, 784, "256,128", 10, "train.hidden", &err), 0);
	ck_assert_int_eq(m.nl, 3);
}
END_TEST

/* ---- the plain loops: a second implementation of the forward pass, loss
 * and gradient, written the obvious way (a branch on every zero input, one
 * output at a time, in memory), in the order model.c documents: a forward
 * sum adds its inputs in increasing index, a weight-gradient element its
 * samples in order.  The library's kernels (non-zero lists, outputs in
 * registers, vectors) must give these bits exactly. */

static double ref_xent(const float *z, int k, int y, float *dz)
{
	float mx = z[0];
	for (int j = 1; j < k; j++)
		mx = z[j] > mx ? z[j] : mx;
	float sum = 0.0f;
	for (int j = 0; j < k; j++) {
		dz[j] = expf(z[j] - mx);
		sum += dz[j];
	}
	float inv = 1.0f / sum;
	for (int j = 0; j < k; j++)
		dz[j] *= inv;
	dz[y] -= 1.0f;
	return -(double)((z[y] - mx) - logf(sum));
}

/* a[l]: n x dim[l] activations (a[0] = x), d[l]: errors; returns the loss. */
static double ref_grad(const struct wl_mlp *m, const float *p, const float *x, const uint8_t *y,
		       int n, float *g, float **a, float **d)
{
	a[0] = (float *)x;
	for (int l = 0; l < m->nl; l++) {
		int din = m->dim[l], dout = m->dim[l + 1];
		const float *W = p + m->off_w[l], *b = p + m->off_b[l];
		for (int s = 0; s < n; s++) {
			const float *in = a[l] + (size_t)s * din;
			float *out = a[l + 1] + (size_t)s * dout;
			for (int j = 0; j < dout; j++)
				out[j] = b[j];
			for (int i = 0; i < din; i++) {
				if (in[i] == 0.0f)
					continue;
				for (int j = 0; j < dout; j++)
					out[j] += in[i] * W[(size_t)i * dout + j];
			}
			if (l < m->nl - 1)
				for (int j = 0; j < dout; j++)
					out[j] = out[j] > 0.0f ? out[j] : 0.0f;
		}
	}
	int k = m->dim[m->nl];
	double loss = 0;
	for (int s = 0; s < n; s++)
		loss += ref_xent(a[m->nl] + (size_t)s * k, k, y[s], d[m->nl] + (size_t)s * k);
	float inv_n = 1.0f / (float)n;
	for (int l = m->nl - 1; l >= 0; l--) {
		int din = m->dim[l], dout = m->dim[l + 1];
		float *gW = g + m->off_w[l], *gb = g + m->off_b[l];
		const float *W = p + m->off_w[l];
		for (size_t q = 0; q < (size_t)din * dout; q++)
			gW[q] = 0.0f;
		for (int s = 0; s < n; s++)
			for (int i = 0; i < din; i++) {
				float v = a[l][(size_t)s * din + i];
				if (v == 0.0f)
					continue;
				for (int j = 0; j < dout; j++)
					gW[(size_t)i * dout + j] += v * d[l + 1][(size_t)s * dout + j];
			}
		for (size_t q = 0; q < (size_t)din * dout; q++)
			gW[q] *= inv_n;
		for (int j = 0; j < dout; j++) {
			float t = 0.0f;
			for (int s = 0; s < n; s++)
				t += d[l + 1][(size_t)s * dout + j];
			gb[j] = t * inv_n;
		}
		if (l == 0)
			break;
		for (int s = 0; s < n; s++)
			for (int i = 0; i < din; i++) {
				float *dp = &d[l][(size_t)s * din + i];
				if (!(a[l][(size_t)s * din + i] > 0.0f)) {
					*dp = 0.0f;
					continue;
				}
				float t = 0.0f;
				for (int j = 0; j < dout; j++)
					t += W[(size_t)i * dout + j] * d[l + 1][(size_t)s * dout + j];
				*dp = t;
			}
	}
	return loss;
}

/* The library against the plain loops, bit for bit: loss, every gradient
 * element, every prediction; inputs with exact zeros and a few -0. */
static void same_bits_as_plain_loops(const char *hidden, int n, uint64_t seed)
{
	struct wl_mlp m;
	struct nd_err err;
	ck_assert_int_eq(wl_mlp_setup(&m, 784, hidden, 10, "h", &err), 0);
	float *p = xmalloc(m.n_params * sizeof *p);
	float *g1 = xmalloc(m.n_params * sizeof *g1), *g2 = xmalloc(m.n_params * sizeof *g2);
	float *x = xmalloc((size_t)n * 784 * sizeof *x);
	uint8_t *y = xmalloc((size_t)n), *pr = xmalloc((size_t)n);
	random_data(x, y, n, 784, 10, seed);
	for (int i = 0; i < n * 784; i += 97)
		if (x[i] == 0.0f)
			x[i] = -0.0f;
	wl_mlp_init(&m, p, seed + 1);
	if (m.nl == 1)   /* LR starts at 0: move it off so the products are not all 0 */
		random_params(&m, p, seed + 2, 0.05);
	float *a[WL_MLP_MAX_LAYERS + 1], *d[WL_MLP_MAX_LAYERS + 1];
	for (int l = 1; l <= m.nl; l++) {
		a[l] = xmalloc((size_t)n * m.dim[l] * sizeof(float));
		d[l] = xmalloc((size_t)n * m.dim[l] * sizeof(float));
	}
	struct wl_mlp_ws *ws = wl_mlp_ws_create(&m, n);
	double l1 = wl_mlp_grad(&m, p, x, y, n, g1, ws);
	double l2 = ref_grad(&m, p, x, y, n, g2, a, d);
	ck_assert_msg(l1 == l2, "%s: loss %.17g vs plain %.17g", hidden, l1, l2);
	size_t bad = 0;
	for (size_t i = 0; i < m.n_params; i++)
		bad += memcmp(&g1[i], &g2[i], sizeof *g1) != 0;
	ck_assert_msg(bad == 0, "%s: %zu of %zu gradient elements differ from the plain loops", hidden,
		      bad, m.n_params);
	ck_assert(wl_mlp_predict(&m, p, x, y, n, pr, ws) >= 0);
	for (int s = 0; s < n; s++) {
		const float *z = a[m.nl] + (size_t)s * 10;
		int best = 0;
		for (int j = 1; j < 10; j++)
			if (z[j] > z[best])
				best = j;
		ck_assert_int_eq(pr[s], best);
	}
	wl_mlp_ws_destroy(ws);
	for (int l = 1; l <= m.nl; l++) {
		free(a[l]);
		free(d[l]);
	}
	free(p);
	free(g1);
	free(g2);
	free(x);
	free(y);
	free(pr);
}

START_TEST(kernels_match_plain_loops)
{
#ifdef _OPENMP
	omp_set_num_threads(1);
#endif
	same_bits_as_plain_loops("", 33, 41);        /* LR: the 10-wide register path */
	same_bits_as_plain_loops("100", 40, 43);     /* wide hidden layer, then 10 */
	same_bits_as_plain_loops("37,10", 17, 47);   /* a 10-wide hidden layer with ReLU */
	same_bits_as_plain_loops("", 256, 53);       /* a host step's batch: the row blocks */
#ifdef _OPENMP
	omp_set_num_threads(2);
	same_bits_as_plain_loops("", 600, 59);       /* above MD_PAR_MIN: split over 2 threads */
	same_bits_as_plain_loops("100", 64, 61);
#endif
}
END_TEST

int main(void)
{
	Suite *s = suite_create("model");
	TCase *t = tcase_create("model");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, gradcheck_logistic_regression);
	tcase_add_test(t, gradcheck_mlp_two_hidden_layers);
	tcase_add_test(t, mac_counts);
	tcase_add_test(t, same_bits_with_1_and_2_threads);
	tcase_add_test(t, kernels_match_plain_loops);
	tcase_add_test(t, sgd_lowers_the_loss);
	tcase_add_test(t, augmented_copies);
	tcase_add_test(t, setup_errors_name_the_key);
	suite_add_tcase(s, t);
	return tu_run_suite(s);
}
