/* Near-DRAM (TETRIS-style) cost model: slowest stage, energy table. */
#include <check.h>
#include <string.h>

#include "core/cfg.h"
#include "hostif/ndram.h"
#include "tests/common/tutil.h"

static struct ndram_params p;

static void setup(void)
{
	struct cfg_bundle b = { 0 };
	cfg_bundle_add(&b, &ndram_section, &p);
	cfg_defaults(&b);
	struct nd_err err;
	ck_assert_int_eq(cfg_validate(&b, &err), 0);
}

START_TEST(slowest_stage_and_energy)
{
	/* 16 vaults x 196 PEs x 500 MHz x 0.5 = 784 G MAC/s; 160 GB/s. */
	ck_assert_double_eq_tol(ndram_peak_macs(&p), 1.568e12, 1e3);
	struct energy_ledger led;
	en_init(&led);
	ndram_register(&p, &led);
	struct ndram_job compute = { .macs = 784000000000ULL, .stack_bytes = 1000000000ULL };
	struct ndram_cost c;
	ndram_run(&p, &compute, &led, &c);
	ck_assert_str_eq(c.bound, "compute");
	ck_assert_uint_eq(c.t_ns, 1000000000ULL);
	ck_assert_uint_eq(c.t_stack_ns, 6250000ULL);
	double want = 784e9 * (2e-12 + 3 * 0.6e-12) + 1e9 * 8 * 5e-12 +
		      0.5e9 * 16 * 200e-12;  /* static: 1 s x 500 MHz x 16 vaults */
	ck_assert_double_eq_tol(en_total_j(&led), want, want * 1e-9);
	ck_assert(en_component_j(&led, "ndram") == en_total_j(&led));

	struct energy_ledger l2;
	en_init(&l2);
	struct ndram_job stream = { .macs = 1000, .stack_bytes = 320000000000ULL,
				    .offchip_bytes = 60000000000ULL };
	ndram_run(&p, &stream, &l2, &c);
	ck_assert_str_eq(c.bound, "stack");
	ck_assert_uint_eq(c.t_ns, 2000000000ULL);   /* 320 GB at 160 GB/s */
	ck_assert_uint_eq(c.t_link_ns, 1000000000ULL); /* 60 GB at 60 GB/s */
	/* the same bytes cost 3x more off-chip than in the stack per bit */
	ck_assert(p.e_offchip_pj_bit == 3 * p.e_instack_pj_bit);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ndram");
	TCase *tc = tcase_create("ndram");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, slowest_stage_and_energy);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
