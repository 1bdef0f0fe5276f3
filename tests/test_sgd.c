/*
 * workloads/sgd: the number formats (values worked out by hand), the
 * unbiasedness of stochastic rounding against the exact sum, zero-skip MAC
 * counts against a forward pass recomputed here, and the fp32 step against
 * plain arithmetic.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/util.h"
#include "tests/common/tutil.h"
#include "workloads/sgd.h"

START_TEST(fixed_point_grid_by_hand)
{
	/* Q3.4: steps of 1/16, range [-8, 8 - 1/16]. */
	struct wl_numfmt f = { WL_NUM_FIXED, 3, 4, WL_ROUND_NEAREST };
	ck_assert(wl_numfmt_quantize(&f, 0.03f, 0) == 0.0f);       /* 0.48 steps */
	ck_assert(wl_numfmt_quantize(&f, 0.04f, 0) == 0.0625f);    /* 0.64 steps */
	ck_assert(wl_numfmt_quantize(&f, -0.04f, 0) == -0.0625f);
	ck_assert(wl_numfmt_quantize(&f, 0.09375f, 0) == 0.125f);  /* 1.5: away from zero */
	ck_assert(wl_numfmt_quantize(&f, 9.0f, 0) == 7.9375f);     /* saturates */
	ck_assert(wl_numfmt_quantize(&f, -9.0f, 0) == -8.0f);
	f.round = WL_ROUND_STOCHASTIC;
	float v = 0.25f + 0.0625f * 0.25f;                         /* 4.25 steps */
	ck_assert(wl_numfmt_quantize(&f, v, 0.5) == 0.25f);        /* floor(4.75) */
	ck_assert(wl_numfmt_quantize(&f, v, 0.8) == 0.3125f);      /* floor(5.05) */
	struct wl_numfmt fp = { WL_NUM_FP32, 0, 0, 0 };
	ck_assert(wl_numfmt_quantize(&fp, 0.03f, 0) == 0.03f);
}
END_TEST

START_TEST(format_without_integer_bits_is_rejected)
{
	struct nd_err e = { 0 };
	struct wl_numfmt f = { WL_NUM_FIXED, 0, 15, WL_ROUND_NEAREST };
	ck_assert_int_eq(wl_numfmt_check(&f, "ndram", &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "ndram.int_bits"));
	struct wl_numfmt g = { WL_NUM_FIXED, 20, 12, WL_ROUND_NEAREST };
	ck_assert_int_eq(wl_numfmt_check(&g, "ndram", &e), -EINVAL);
	f.kind = WL_NUM_FP32;   /* the bits do not matter in fp32 */
	ck_assert_int_eq(wl_numfmt_check(&f, "ndram", &e), 0);
}
END_TEST

/* A constant update of 0.005 per step on a Q3.4 grid (1/16 = 0.0625):
 * round-to-nearest never moves a weight; stochastic rounding moves it by
 * 0.005 per step on average, so after 300 steps the mean over 7850 weights
 * is -1.5 (sd of the mean about 0.006). */
START_TEST(stochastic_rounding_is_unbiased_nearest_loses_small_updates)
{
	struct wl_mlp m;
	struct nd_err e;
	ck_assert_int_eq(wl_mlp_setup(&m, 784, "", 10, "h", &e), 0);
	float *p = xcalloc(m.n_params, sizeof *p), *g = xmalloc(m.n_params * sizeof *g);
	for (size_t i = 0; i < m.n_params; i++)
		g[i] = 0.005f;
	for (int mode = 0; mode < 2; mode++) {
		struct wl_numfmt f = { WL_NUM_FIXED, 3, 4, mode ? WL_ROUND_STOCHASTIC : WL_ROUND_NEAREST };
		struct wl_sgd s;
		wl_sgd_init(&s, &m, 1, &f, 42);
		memset(p, 0, m.n_params * sizeof *p);
		for (int k = 0; k < 300; k++)
			wl_sgd_update(&s, p, g, 1.0f, NULL);
		double mean = 0;
		for (size_t i = 0; i < m.n_params; i++)
			mean += (double)p[i];
		mean /= (double)m.n_params;
		if (mode)
			ck_assert_msg(fabs(mean + 1.5) < 0.05, "stochastic mean %g", mean);
		else
			ck_assert_msg(mean == 0.0, "nearest mean %g", mean);
	}
	free(p);
	free(g);
}
END_TEST

START_TEST(fp32_update_is_plain_arithmetic)
{
	struct wl_mlp m;
	struct nd_err e;
	ck_assert_int_eq(wl_mlp_setup(&m, 5, "3", 2, "h", &e), 0);
	float p[64], q[64], g[64];
	for (size_t i = 0; i < m.n_params; i++) {
		p[i] = q[i] = (float)i * 0.37f - 2.0f;
		g[i] = (float)(i % 7) * 0.11f - 0.3f;
	}
	struct wl_sgd s;
	wl_sgd_init(&s, &m, 0, NULL, 1);
	struct wl_sgd_count c = { 0 };
	wl_sgd_update(&s, p, g, 0.25f, &c);
	for (size_t i = 0; i < m.n_params; i++)
		ck_assert(p[i] == q[i] - 0.25f * g[i]);
	ck_assert_uint_eq(c.elem_ops, m.n_params);
}
END_TEST

/* 6 -> 4 (ReLU) -> 3 with inputs that are half zeros: the executed MACs
 * follow the nonzero inputs of each layer, recomputed here by a forward pass
 * written out in the test. */
START_TEST(zero_skip_counts_the_macs_that_run)
{
	struct wl_mlp m;
	struct nd_err e;
	ck_assert_int_eq(wl_mlp_setup(&m, 6, "4", 3, "h", &e), 0);
	float p[128];
	struct rng r;
	rng_seed(&r, 3, 1);
	for (size_t i = 0; i < m.n_params; i++)
		p[i] = (float)(2 * rng_uniform(&r) - 1);
	enum { N = 5 };
	float x[N * 6];
	uint8_t y[N];
	for (int s = 0; s < N; s++) {
		for (int i = 0; i < 6; i++)
			x[s * 6 + i] = (s + i) % 2 ? 0.0f : 0.1f * (float)(i + 1);
		y[s] = (uint8_t)(s % 3);
	}
	uint64_t nz0 = 0, nz1 = 0;
	for (int s = 0; s < N; s++) {
		for (int i = 0; i < 6; i++)
			nz0 += x[s * 6 + i] != 0.0f;
		for (int j = 0; j < 4; j++) {
			float z = p[m.off_b[0] + (size_t)j];
			for (int i = 0; i < 6; i++)
				if (x[s * 6 + i] != 0.0f)
					z += x[s * 6 + i] * p[m.off_w[0] + (size_t)i * 4 + (size_t)j];
			nz1 += z > 0.0f;
		}
	}
	struct wl_mlp_ws *ws = wl_mlp_ws_create(&m, N);
	float g[128];
	for (int skip = 0; skip < 2; skip++) {
		struct wl_sgd s;
		wl_sgd_init(&s, &m, skip, NULL, 1);
		struct wl_sgd_count c = { 0 };
		wl_sgd_grad(&s, p, x, y, N, g, ws, &c);
		uint64_t dense = N * (6 * 4 * 2 + 4 * 3 * 3);
		ck_assert_uint_eq(c.macs_dense, dense);
		/* layer 0: fwd + weight gradient; layer 1: fwd + wgrad + back-prop */
		ck_assert_uint_eq(c.macs, skip ? nz0 * 4 * 2 + nz1 * 3 * 3 : dense);
		ck_assert_uint_eq(wl_sgd_infer_macs(&s, x, N, ws), skip ? nz0 * 4 + nz1 * 3 : N * (24 + 12));
	}
	ck_assert(nz0 < N * 6 && nz1 < N * 4);   /* the case really skips */
	wl_mlp_ws_destroy(ws);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sgd");
	TCase *tc = tcase_create("sgd");
	tcase_add_test(tc, fixed_point_grid_by_hand);
	tcase_add_test(tc, format_without_integer_bits_is_rejected);
	tcase_add_test(tc, stochastic_rounding_is_unbiased_nearest_loses_small_updates);
	tcase_add_test(tc, fp32_update_is_plain_arithmetic);
	tcase_add_test(tc, zero_skip_counts_the_macs_that_run);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
