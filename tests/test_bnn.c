/* BNN math: layer widths, exact bit-packed inference against a plain
 * integer reference, save/load, and training that does not depend on the
 * OpenMP thread count. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/rng.h"
#include "core/util.h"
#include "tests/common/tutil.h"
#include "workloads/bnn.h"
#include "workloads/idx.h"

static struct bnn_params small_params(int act)
{
	struct bnn_params p;
	struct cfg_bundle b = { 0 };
	cfg_bundle_add(&b, &bnn_section, &p);
	cfg_defaults(&b);
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
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(suite());
}
