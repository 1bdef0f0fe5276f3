/*
 * ssdsim FTL without an event queue (ssd_create with q = NULL), the large
 * and lazily built tables, implicit sequential fill and preconditioning.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/cfg.h"
#include "core/util.h"
#include "ssdsim/run.h"
#include "tests/common/tu_ssd.h"
#include "tests/common/tutil.h"

static struct run_params run;
static struct ssd_params sp;
static struct wl_params wp;

static void load(const char *preset, const char *const *sets)
{
	tu_ssd_load(preset, sets, &run, &sp, &wp);
}

START_TEST(ftl_without_event_queue)
{
	/* 8 channels x 1 x 1 x 2 planes, CWDP, multi-plane programs of 2 x 2
	 * units: functional unit u goes to program u / 4, die (u / 4) % 8, so
	 * its channel is (u / 4) % 8 — computed here from the allocation order
	 * alone, not from the FTL. */
	const char *sets[] = { "ssd.channels=8", "ssd.ways=1", "ssd.dies=1", "ssd.blocks=16",
			       "ssd.pages=16", "ssd.ftl.op=0.5", "ssd.verify=true", NULL };
	load(NULL, sets);
	ssd *s;
	struct nd_err err = { 0 };
	ck_assert_int_eq(ssd_create(&sp, NULL, NULL, 1, &s, &err), 0);
	ck_assert_int_eq(ssd_unit_channel(s, 5), -1);
	ssd_write_functional(s, 0, 1000);
	for (uint64_t u = 0; u < 1000; u++)
		ck_assert_int_eq(ssd_unit_channel(s, u), (int)((u / 4) % 8));
	ck_assert_int_eq(ssd_unit_channel(s, 1000), -1);
	struct ssd_stats st;
	ssd_get_stats(s, &st);
	ck_assert_uint_eq(st.flash_prog_pages, 500);
	/* Random rewrites with GC, still no events. */
	uint64_t cap = ssd_capacity_bytes(s) / ssd_unit_bytes(s);
	for (int k = 0; k < 20; k++)
		ssd_write_functional(s, 0, cap);
	ssd_get_stats(s, &st);
	ck_assert_uint_gt(st.flash_erases, 0);
	ck_assert_msg(ssd_verify(s, &err) == 0, "%s", err.msg);
	struct ssd_req r = { .len_bytes = 4096 };
	ck_assert_int_eq(ssd_submit(s, &r), -EINVAL);
	ck_assert_int_eq(ssd_status(s, &err), 0);
	ssd_destroy(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ssd_ftl");
	TCase *tc = tcase_create("ssd_ftl");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, ftl_without_event_queue);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
