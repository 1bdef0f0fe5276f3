/*
 * ssdsim regressions for the two model bugs of issue 10:
 *  - write-through with multi-plane programs put every one-page program in
 *    plane 0 of its die until that plane ran out (abort), its sibling planes
 *    empty;
 *  - a config the parameter check accepts could later run out of space in GC
 *    and abort(); now the run ends with exit 1 and a message.
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

static void load(const char *const *sets)
{
	tu_ssd_load(NULL, sets, &run, &sp, &wp);
}

START_TEST(write_through_multiplane_spreads_planes)
{
	/* 2 dies x 2 planes x 32 blocks x 32 pages, op 0.5, filled: 10^4
	 * write-through 4 KiB random writes (each a one-page program).  The
	 * old code aborted after ~5000 of them (plane 0 full, plane 1 idle). */
	const char *sets[] = { "ssd.channels=2", "ssd.ways=1", "ssd.dies=1", "ssd.blocks=32",
			       "ssd.pages=32", "ssd.ftl.op=0.5", "ssd.dram.write_through=true",
			       "ssd.precondition.fill=1", "workload.read_ratio=0",
			       "workload.count=10000", NULL };
	load(sets);
	struct ssd_run_result r;
	struct nd_err err = { 0 };
	struct ssd_run_opts o = { .ssd = &sp, .wl = &wp, .seed = 1, .verify = 1 };
	ck_assert_msg(ssd_run(&o, &r, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(r.verified, 1);
	ck_assert_uint_eq(r.n[1], 10000);
	/* Every request is one padded page: 10^4 host pages plus GC pages. */
	ck_assert_uint_eq(r.st.pad_units >= 10000, 1);
	ck_assert_uint_gt(r.st.gc_count, 0);
	ssd_run_result_free(&r);
}
END_TEST

/* Writes a trace that rewrites only the units sequential fill put in plane 1
 * of the single die: each flush moves half of them to plane 0, so plane 0
 * ends up holding more valid data than it can store. */
static const char *skew_trace(void)
{
	size_t cap = 1 << 16, len = 0;
	char *t = xmalloc(cap);
	for (int pass = 0; pass < 6; pass++)
		for (int k = 0; k < 170; k++) {
			uint64_t sector = ((uint64_t)4 * k + 2) * 8;
			len += (size_t)snprintf(t + len, cap - len, "%d 0 %llu 16 0\n",
						(pass * 170 + k) * 1000, (unsigned long long)sector);
			ck_assert(len < cap);
		}
	const char *p = tu_write_file("skew.ascii", t);
	free(t);
	return p;
}

START_TEST(accepted_op_that_runs_out_exits_1)
{
	const char *geo = "--set ssd.channels=1 --set ssd.ways=1 --set ssd.dies=1 "
			  "--set ssd.planes=2 --set ssd.blocks=16 --set ssd.pages=16 "
			  "--set ssd.ftl.op=0.5 --set ssd.dram.buffer_mib=0.03125 "
			  "--set ssd.precondition.fill=1";
	const char *tr = skew_trace();
	char out[8192];
	int rc = tu_ndpsim(out, sizeof out, "ssd --quiet --no-plot --out %s/skew %s --trace %s "
			   "--format disksim", tu_tmpdir(), geo, tr);
	ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
	ck_assert_msg(strstr(out, "ndpsim: ssd: plane 0 ") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "raise ssd.ftl.op") != NULL, "%s", out);
	/* The same drive with twice the spare area holds it. */
	rc = tu_ndpsim(out, sizeof out, "ssd --quiet --no-plot --out %s/skew %s --set ssd.ftl.op=2 "
		       "--trace %s --format disksim --verify", tu_tmpdir(), geo, tr);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);

	/* In-process: ssd_status() reports it and nothing aborts. */
	const char *sets[] = { "ssd.channels=1", "ssd.ways=1", "ssd.dies=1", "ssd.planes=2",
			       "ssd.blocks=16", "ssd.pages=16", "ssd.ftl.op=0.5",
			       "ssd.dram.buffer_mib=0.03125", "ssd.precondition.fill=1", NULL };
	load(sets);
	evq *q;
	struct energy_ledger led;
	en_init(&led);
	evq_create(16, &q);
	ssd *s;
	struct nd_err err = { 0 };
	ck_assert_int_eq(ssd_create(&sp, q, &led, 1, &s, &err), 0);
	for (int pass = 0; pass < 6; pass++)
		for (uint64_t k = 0; k < 170; k++)
			ssd_write_functional(s, 4 * k + 2, 2);
	ck_assert_int_eq(ssd_status(s, &err), -ENOSPC);
	ck_assert_ptr_nonnull(strstr(err.msg, "raise ssd.ftl.op"));
	ssd_destroy(s);
	evq_destroy(q);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ssd_bugs");
	TCase *tc = tcase_create("ssd_bugs");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, write_through_multiplane_spreads_planes);
	tcase_add_test(tc, accepted_op_that_runs_out_exits_1);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
