/*
 * hostif/platform: the system boundary on hand-made results (every figure
 * below worked out by hand), the where-tags, and the default host equal to
 * configs/hosts/server.json.
 */
#include <check.h>
#include <math.h>
#include <string.h>

#include "core/util.h"
#include "hostif/host.h"
#include "hostif/platform.h"
#include "tests/common/tutil.h"

static void close_to(double got, double want, const char *what)
{
	ck_assert_msg(fabs(got - want) <= 1e-12 * fabs(want) + 1e-15, "%s: %.15g, expected %.15g",
		      what, got, want);
}

/* A drive that read for 1 ms (standby 0.5 W over that window, 10 page
 * reads at 1 uJ) on a platform whose wall time is 2 s. */
static void make(struct hif_result *r, double wall_s)
{
	hif_result_init(r);
	struct energy_ledger l;
	en_init(&l);
	int k = en_static(&l, "static", "nand_standby", 0.5);
	en_set_time(&l, k, 1000000);
	k = en_action(&l, "nand", "read_page", 1e-6);
	en_add(&l, k, 10);
	hif_merge(r, &l, HIF_AT_DRIVE);
	r->wall_s = wall_s;
}

START_TEST(system_and_marginal_by_hand)
{
	struct ihp_params h;
	memset(&h, 0, sizeof h);
	h.p_idle_w = 55;
	h.p_active_w = 150;
	h.dram_idle_w = 9;
	h.sleep_w = -1;
	struct hif_ctx x;
	memset(&x, 0, sizeof x);
	x.host = &h;
	struct hif_result r;
	make(&r, 2.0);
	r.offload_ns = 2000000000;   /* no sleep state: it does not matter */
	hif_result_finish(&x, &r);
	/* 10 uJ + standby 0.5 W x 2 s + host idle 55 W x 2 s + DRAM 9 W x 2 s */
	close_to(en_total_j(&r.sys), 1e-5 + 1.0 + 110 + 18, "system");
	close_to(en_total_j(&r.marg), 1e-5, "marginal");
	close_to(r.idle_w, 64.5, "idle power");
	close_to(en_component_j(&r.sys, "static"), 1.0, "standby over the wall time");
	ck_assert_int_eq(hif_where_of(&r, "nand"), HIF_AT_DRIVE);
	ck_assert_int_eq(hif_where_of(&r, "host_cpu"), HIF_AT_HOST_PKG);
	ck_assert_int_eq(hif_where_of(&r, "host_dram"), HIF_AT_HOST_DRAM);

	/* A sleep state of 5 W while the offloaded job runs, 1 ms to wake:
	 * the wall grows by 1 ms, the package sleeps 2 s and idles 1 ms. */
	h.sleep_w = 5;
	h.wake_ns = 1000000;
	struct hif_result s;
	make(&s, 2.0);
	s.offload_ns = 2000000000;
	hif_result_finish(&x, &s);
	close_to(s.sys_wall_s, 2.001, "wall with wake");
	double sys = 1e-5 + 0.5 * 2.001 + 5 * 2 + 55 * 0.001 + 9 * 2.001;
	close_to(en_total_j(&s.sys), sys, "system, asleep");
	close_to(en_total_j(&s.marg), sys - 64.5 * 2.001, "marginal, asleep (below idle)");
	hif_result_free(&r);
	hif_result_free(&s);
}
END_TEST

START_TEST(default_host_is_the_server_preset)
{
	struct ihp_params a, b;
	struct cfg_bundle ba = { 0 }, bb = { 0 };
	cfg_bundle_add(&ba, &ihp_section, &a);
	cfg_bundle_add(&bb, &ihp_section, &b);
	cfg_defaults(&ba);
	cfg_defaults(&bb);
	struct nd_err e = { 0 };
	ck_assert_msg(cfg_load_file(&bb, "configs/hosts/server.json", &e) == 0, "%s", e.msg);
	ck_assert_msg(memcmp(&a, &b, sizeof a) == 0, "host defaults differ from configs/hosts/server.json");
	ck_assert_msg(cfg_load_file(&bb, "configs/hosts/laptop.json", &e) == 0, "%s", e.msg);
	ck_assert(b.cores == 4 && b.p_active_w < a.p_active_w);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("plat");
	TCase *tc = tcase_create("plat");
	tcase_add_test(tc, system_and_marginal_by_hand);
	tcase_add_test(tc, default_host_is_the_server_preset);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
