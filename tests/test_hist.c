/* Latency histogram: bounded relative error of percentiles, exact extremes. */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "core/energy.h"
#include "core/hist.h"
#include "core/rng.h"
#include "core/util.h"
#include "tests/common/tutil.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

START_TEST(percentiles_within_bound)
{
	const size_t n = 200000;
	uint64_t *v = xmalloc(n * sizeof *v);
	struct hist h;
	hist_init(&h);
	struct rng r;
	rng_seed(&r, 5, 1);
	long double sum = 0;
	for (size_t i = 0; i < n; i++) {
		/* log-uniform over 1 ns .. 10 s */
		v[i] = (uint64_t)exp(rng_uniform(&r) * log(1e10));
		hist_record(&h, v[i]);
		sum += v[i];
	}
	qsort(v, n, sizeof *v, cmp_u64);
	ck_assert_uint_eq(h.count, n);
	ck_assert_uint_eq(h.min, v[0]);
	ck_assert_uint_eq(h.max, v[n - 1]);
	ck_assert_double_eq_tol(hist_mean(&h), (double)(sum / n), 1e-6 * (double)(sum / n));
	const double qs[] = { 0.5, 0.9, 0.99, 0.999, 0.0001 };
	for (size_t k = 0; k < 5; k++) {
		uint64_t exact = v[(size_t)ceil(qs[k] * (double)n) - 1];
		uint64_t got = hist_quantile(&h, qs[k]);
		ck_assert_msg(got >= exact && (double)(got - exact) <= (double)exact / HIST_SUB + 1,
			      "q=%g exact %llu got %llu", qs[k], (unsigned long long)exact,
			      (unsigned long long)got);
	}
	ck_assert_uint_eq(hist_quantile(&h, 1.0), v[n - 1]);
	free(v);
}
END_TEST

START_TEST(small_values_exact_and_merge)
{
	struct hist a, b;
	hist_init(&a);
	hist_init(&b);
	for (uint64_t i = 1; i <= 100; i++)
		hist_record(i % 2 ? &a : &b, i);
	hist_merge(&a, &b);
	ck_assert_uint_eq(a.count, 100);
	ck_assert_uint_eq(hist_quantile(&a, 0.5), 50);
	ck_assert_uint_eq(hist_quantile(&a, 0.9), 90);
	ck_assert_uint_eq(a.min, 1);
	ck_assert_uint_eq(a.max, 100);
	struct hist e;
	hist_init(&e);
	ck_assert_uint_eq(hist_quantile(&e, 0.5), 0);
}
END_TEST

START_TEST(energy_ledger_sums)
{
	struct energy_ledger l;
	en_init(&l);
	int a = en_action(&l, "nand", "read", 6.1875e-6);
	int b = en_action(&l, "nand", "program", 61.875e-6);
	int c = en_action(&l, "link", "byte", 8e-11);
	int s = en_static(&l, "static", "standby", 0.5);
	ck_assert_int_eq(en_action(&l, "nand", "read", 6.1875e-6), a);
	en_add(&l, a, 1000);
	en_add(&l, b, 10);
	en_add_units(&l, c, 4096.5);
	en_set_time(&l, s, 2000000000);
	ck_assert_double_eq_tol(en_component_j(&l, "nand"), 1000 * 6.1875e-6 + 10 * 61.875e-6, 1e-15);
	ck_assert_double_eq_tol(en_component_j(&l, "static"), 1.0, 1e-15);
	double t = en_component_j(&l, "nand") + en_component_j(&l, "link") + en_component_j(&l, "static");
	ck_assert(t == en_total_j(&l));
	struct energy_ledger m;
	en_init(&m);
	en_merge(&m, &l);
	en_merge(&m, &l);
	ck_assert_double_eq_tol(en_total_j(&m), 2 * en_total_j(&l), 1e-12);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hist");
	TCase *tc = tcase_create("hist");
	tcase_add_test(tc, percentiles_within_bound);
	tcase_add_test(tc, small_values_exact_and_merge);
	tcase_add_test(tc, energy_ledger_sums);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
