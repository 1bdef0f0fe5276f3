/*
 * ssdsim: exact latencies on an idle drive, throughput against analytical
 * bounds, mapping integrity under GC, write amplification, trace replay,
 * and byte-identical reports.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
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

/* ------------------------------------------------ exact idle latencies */

static struct ssd_req one;
static int one_done;
static void on_one(ssd *s, struct ssd_req *r) { (void)s; (void)r; one_done = 1; }

static uint64_t single(ssd *s, evq *q, uint64_t off, int is_write)
{
	memset(&one, 0, sizeof one);
	one.off_bytes = off;
	one.len_bytes = 4096;
	one.is_write = (uint8_t)is_write;
	one.done = on_one;
	one_done = 0;
	ck_assert_int_eq(ssd_submit(s, &one), 0);
	evq_run(q, UINT64_MAX);
	ck_assert(one_done);
	return one.t_done_ns - one.t_submit_ns;
}

static uint64_t ctrl_ns(void)
{
	return (uint64_t)llround(sp.ctrl_cycles_per_cmd * 1000.0 / sp.ctrl_clock_mhz);
}

START_TEST(qd1_read_is_sum_of_parts)
{
	const char *sets[] = { "ssd.blocks=16", "ssd.ftl.op=0.5", NULL };
	load(NULL, sets);
	evq *q;
	struct energy_ledger led;
	en_init(&led);
	evq_create(16, &q);
	ssd *s;
	struct nd_err err;
	ck_assert_int_eq(ssd_create(&sp, q, &led, 1, &s, &err), 0);
	ssd_write_functional(s, 0, 64);
	uint64_t lat = single(s, q, 5 * 4096, 0);
	double ch = ssd_channel_bytes_per_s(&sp), link = ssd_link_bytes_per_s(&sp);
	uint64_t want = sp.link_lat_ns + ctrl_ns() + sp.t_read_ns + nd_xfer_ns(4096, ch) +
			nd_xfer_ns(4096, link);
	ck_assert_uint_eq(lat, want);
	/* 75 us + 12.3 us + 1.3 us + 2 us + 1 us with the defaults. */
	ck_assert_uint_eq(want, 1000 + 2000 + 75000 + 12301 + 1300);
	/* Reading it again on the now idle drive costs the same. */
	ck_assert_uint_eq(single(s, q, 5 * 4096, 0), want);
	ssd_destroy(s);
	evq_destroy(q);
}
END_TEST

START_TEST(single_program_is_sum_of_parts)
{
	const char *sets[] = { "ssd.blocks=16", "ssd.ftl.op=0.5", "ssd.dram.write_through=true", NULL };
	load(NULL, sets);
	evq *q;
	struct energy_ledger led;
	en_init(&led);
	evq_create(16, &q);
	ssd *s;
	struct nd_err err;
	ck_assert_int_eq(ssd_create(&sp, q, &led, 1, &s, &err), 0);
	uint64_t lat = single(s, q, 0, 1);
	double ch = ssd_channel_bytes_per_s(&sp), link = ssd_link_bytes_per_s(&sp);
	/* command, firmware, data over the link, one 8 KiB page (padded) over
	 * the channel, tPROG. */
	uint64_t want = sp.link_lat_ns + ctrl_ns() + nd_xfer_ns(4096, link) +
			2 * nd_xfer_ns(4096, ch) + sp.t_prog_ns;
	ck_assert_uint_eq(lat, want);
	struct ssd_stats st;
	ssd_get_stats(s, &st);
	ck_assert_uint_eq(st.flash_prog_pages, 1);
	ck_assert_uint_eq(st.pad_units, 1);
	ssd_destroy(s);
	evq_destroy(q);
}
END_TEST

START_TEST(erase_triggering_write_is_sum_of_parts)
{
	/* One die, one plane, 8 blocks of 4 one-unit pages, GC at 1 free block. */
	const char *sets[] = { "ssd.channels=1", "ssd.ways=1", "ssd.dies=1", "ssd.planes=1",
			       "ssd.blocks=8", "ssd.pages=4", "ssd.page_bytes=4096",
			       "ssd.ftl.op=1", "ssd.ftl.gc_threshold_blocks=1",
			       "ssd.dram.write_through=true", "ssd.verify=true", NULL };
	load(NULL, sets);
	evq *q;
	struct energy_ledger led;
	en_init(&led);
	evq_create(16, &q);
	ssd *s;
	struct nd_err err;
	ck_assert_int_eq(ssd_create(&sp, q, &led, 1, &s, &err), 0);
	/* 28 rewrites of unit 0 fill blocks 0..6; one block stays free. */
	for (int i = 0; i < 28; i++)
		ssd_write_functional(s, 0, 1);
	struct ssd_stats st;
	ssd_get_stats(s, &st);
	ck_assert_uint_eq(st.flash_erases, 0);
	uint64_t lat = single(s, q, 0, 1);
	ssd_get_stats(s, &st);
	ck_assert_uint_eq(st.flash_erases, 1);      /* block 0 held no valid data */
	ck_assert_uint_eq(st.gc_units_moved, 0);
	double ch = ssd_channel_bytes_per_s(&sp), link = ssd_link_bytes_per_s(&sp);
	uint64_t want = sp.link_lat_ns + ctrl_ns() + nd_xfer_ns(4096, link) +
			sp.t_erase_ns + nd_xfer_ns(4096, ch) + sp.t_prog_ns;
	ck_assert_uint_eq(lat, want);
	ck_assert_int_eq(ssd_verify(s, &err), 0);
	ssd_destroy(s);
	evq_destroy(q);
}
END_TEST

/* ------------------------------------------------ analytical bounds */

static void run_ok(struct ssd_run_result *r)
{
	struct nd_err err = { 0 };
	struct ssd_run_opts o = { .ssd = &sp, .wl = &wp, .seed = run.seed };
	ck_assert_msg(ssd_run(&o, r, &err) == 0, "%s", err.msg);
}

static double link_bps(void) { return ssd_link_bytes_per_s(&sp); }

static void check_bounds(const char *preset)
{
	struct ssd_run_result r;
	int n_dies;
	double ch;

	/* Random 4 KiB reads, saturated: IOPS <= min(dies / (tR + xfer),
	 * channels / xfer, link / 4 KiB, cores / firmware time). */
	const char *rr[] = { "ssd.blocks=64", "ssd.precondition.fill=1", "workload.count=300000",
			     "workload.qd=2048", NULL };
	load(preset, rr);
	n_dies = sp.channels * sp.ways * sp.dies;
	ch = ssd_channel_bytes_per_s(&sp);
	run_ok(&r);
	double x = 4096.0 / ch;
	double bound = fmin(fmin(n_dies / ((double)sp.t_read_ns * 1e-9 + x), sp.channels / x),
			    fmin(link_bps() / 4096.0, sp.ctrl_cores / ((double)ctrl_ns() * 1e-9)));
	double iops = (double)r.n[0] / ((double)(r.t_last_ns - r.t_first_ns) * 1e-9);
	ck_assert_msg(iops <= bound * 1.0001 && iops >= 0.97 * bound,
		      "%s random read %.0f IOPS vs bound %.0f", preset, iops, bound);
	ssd_run_result_free(&r);

	/* Sequential 128 KiB reads: <= min(channels x rate, dies x multi-plane
	 * page / (tR + its transfer), link). */
	const char *sr[] = { "ssd.blocks=64", "ssd.precondition.fill=1", "workload.pattern=seq",
			     "workload.bs_bytes=131072", "workload.count=20000", "workload.qd=64", NULL };
	load(preset, sr);
	run_ok(&r);
	double pb = (double)sp.page_bytes * sp.planes;
	bound = fmin(fmin(sp.channels * ch, n_dies * pb / ((double)sp.t_read_ns * 1e-9 + pb / ch)),
		     link_bps());
	double bw = (double)r.bytes[0] / ((double)(r.t_last_ns - r.t_first_ns) * 1e-9);
	ck_assert_msg(bw <= bound * 1.0001 && bw >= 0.97 * bound,
		      "%s seq read %.0f B/s vs bound %.0f", preset, bw, bound);
	ssd_run_result_free(&r);

	/* Sequential 128 KiB writes until every byte is on flash: <= min(dies x
	 * multi-plane page / (transfer + tPROG), channels x rate, link). */
	const char *sw[] = { "ssd.blocks=64", "ssd.precondition.fill=0", "workload.pattern=seq", "workload.read_ratio=0",
			     "workload.bs_bytes=131072", "workload.count=40000", "workload.qd=64", NULL };
	load(preset, sw);
	run_ok(&r);
	bound = fmin(fmin(n_dies * pb / (pb / ch + (double)sp.t_prog_ns * 1e-9), sp.channels * ch),
		     link_bps());
	bw = (double)r.bytes[1] / ((double)r.t_drain_ns * 1e-9);
	ck_assert_msg(bw <= bound * 1.0001 && bw >= 0.97 * bound,
		      "%s seq write %.0f B/s vs bound %.0f", preset, bw, bound);
	ck_assert_double_eq_tol(r.st.waf, 1.0, 1e-9);
	ssd_run_result_free(&r);
}

START_TEST(throughput_mqsim_default) { check_bounds("configs/mqsim-default.json"); }
END_TEST
START_TEST(throughput_simplessd_mlc) { check_bounds("configs/simplessd-mlc.json"); }
END_TEST

/* ------------------------------------------------ integrity and WAF */

START_TEST(verify_after_3x_random_overwrites)
{
	/* 2 x 2 planes x 64 blocks of 64 x 8 KiB pages at 7 % OP: 3x the
	 * logical capacity of random 4 KiB writes, timed, with GC. */
	const char *sets[] = { "ssd.channels=2", "ssd.ways=1", "ssd.dies=1", "ssd.blocks=64",
			       "ssd.pages=64", "ssd.ftl.op=0.07", "ssd.dram.buffer_mib=1",
			       "workload.read_ratio=0", "workload.qd=8", "workload.count=1", NULL };
	load(NULL, sets);
	struct ssd_run_result r;
	struct nd_err err = { 0 };
	struct ssd_run_opts o = { .ssd = &sp, .wl = &wp, .seed = 3, .verify = 1 };
	ck_assert_int_eq(ssd_run(&o, &r, &err), 0);
	uint64_t units = r.capacity_bytes / 4096;
	ssd_run_result_free(&r);
	wp.count = 3 * units;
	ck_assert_msg(ssd_run(&o, &r, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(r.verified, 1);
	ck_assert_uint_eq(r.n[1], 3 * units);
	ck_assert_uint_gt(r.st.gc_count, 100);
	ck_assert_uint_gt(r.st.gc_units_moved, units);
	ssd_run_result_free(&r);
	/* Mixed reads and writes with cost-benefit GC as well. */
	wp.read_ratio = 0.5;
	sp.gc_policy = SSD_GC_COST_BENEFIT;
	ck_assert_msg(ssd_run(&o, &r, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(r.verified, 1);
	ssd_run_result_free(&r);
}
END_TEST

static double waf_at(double op, int seq)
{
	char ops[64];
	snprintf(ops, sizeof ops, "ssd.ftl.op=%g", op);
	const char *sets[] = { "ssd.channels=2", "ssd.ways=1", "ssd.dies=1", "ssd.blocks=1024",
			       "ssd.pages=64", ops, "ssd.precondition.fill=1",
			       seq ? "ssd.precondition.overwrite=0" : "ssd.precondition.overwrite=2",
			       "workload.read_ratio=0", "workload.count=200000", "workload.qd=16",
			       seq ? "workload.pattern=seq" : "workload.pattern=rand", NULL };
	load(NULL, sets);
	struct ssd_run_result r;
	run_ok(&r);
	double w = r.st.waf;
	ssd_run_result_free(&r);
	return w;
}

START_TEST(write_amplification)
{
	ck_assert_double_eq_tol(waf_at(0.07, 1), 1.0, 1e-9);
	double w7 = waf_at(0.07, 0), w14 = waf_at(0.14, 0), w28 = waf_at(0.28, 0);
	ck_assert_msg(w7 > w14 && w14 > w28 && w28 > 1.5, "WAF %g %g %g", w7, w14, w28);
	/* Mean-field model for greedy/LRW under uniform writes (Desnoyers,
	 * SYSTOR'12): WA = 1/(1-u) with (u-1)/ln u = 1/(1+OP):
	 * 7.82, 4.25, 2.48.  The simulation stays within 10 %. */
	ck_assert_double_eq_tol(w7, 7.82, 0.78);
	ck_assert_double_eq_tol(w14, 4.25, 0.43);
	ck_assert_double_eq_tol(w28, 2.48, 0.25);
}
END_TEST

/* ------------------------------------------------ traces and reports */

static void replay(const char *file, const char *fmt_name, size_t want_n, size_t want_r)
{
	char path[512];
	snprintf(path, sizeof path, "%s/data/traces/%s", tu_shared_dir(), file);
	FILE *f = fopen(path, "r");
	if (!f) {
		tu_skip("shared traces not found");
		return;
	}
	fclose(f);
	enum wl_trace_fmt fmt;
	ck_assert_int_eq(wl_trace_fmt_parse(fmt_name, &fmt), 0);
	struct wl_trace tr;
	struct nd_err err = { 0 };
	ck_assert_msg(wl_trace_load(path, fmt, &tr, &err) == 0, "%s", err.msg);
	const char *sets[] = { "ssd.blocks=64", "ssd.verify=true", NULL };
	load(NULL, sets);
	struct ssd_run_result r;
	struct ssd_run_opts o = { .ssd = &sp, .wl = &wp, .trace = &tr, .seed = 1 };
	ck_assert_msg(ssd_run(&o, &r, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(r.n[0] + r.n[1], want_n);
	ck_assert_uint_eq(r.n[0], want_r);
	ck_assert_int_eq(r.verified, 1);
	ssd_run_result_free(&r);
	wp.replay = WL_REPLAY_CLOSED;
	ck_assert_msg(ssd_run(&o, &r, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(r.n[0] + r.n[1], want_n);
	ssd_run_result_free(&r);
	wl_trace_free(&tr);
}

START_TEST(replay_shared_traces)
{
	replay("ssdsim-example.ascii", "disksim", 10000, 4077);
	replay("wiscsee-blkparse.txt", "blkparse", 673, 161);
}
END_TEST

START_TEST(cli_trace_errors_exit_2)
{
	char out[4096];
	const char *bad = tu_write_file("bad.ascii", "0 0 100 8 1\n10 0 abc 8 0\n");
	int rc = tu_ndpsim(out, sizeof out, "ssd --quiet --trace %s --format disksim", bad);
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "bad.ascii:2"));
	rc = tu_ndpsim(out, sizeof out, "ssd --quiet --trace %s --format parquet", bad);
	ck_assert_int_eq(rc, 2);
	rc = tu_ndpsim(out, sizeof out, "ssd --quiet --trace /nonexistent/t --format msr");
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "/nonexistent/t"));
}
END_TEST

START_TEST(same_seed_identical_report)
{
	char out[4096], a[512], c[512];
	const char *args = "ssd --quiet --set ssd.blocks=64 --set ssd.precondition.fill=0.5 "
			   "--set workload.read_ratio=0.6 --set workload.count=20000 --seed 9";
	snprintf(a, sizeof a, "%s/det-a", tu_tmpdir());
	snprintf(c, sizeof c, "%s/det-b", tu_tmpdir());
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "%s --out %s", args, a), 0);
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "%s --set threads=1 --out %s", args, c), 0);
	char pa[600], pc[600];
	snprintf(pa, sizeof pa, "%s/report.json", a);
	snprintf(pc, sizeof pc, "%s/report.json", c);
	char *ta = tu_slurp(pa), *tc = tu_slurp(pc);
	ck_assert_ptr_nonnull(ta);
	ck_assert_ptr_nonnull(tc);
	/* Only the threads key differs: the simulation itself is identical. */
	char *ma = strstr(ta, "\"metrics\""), *mc = strstr(tc, "\"metrics\"");
	ck_assert_ptr_nonnull(ma);
	ck_assert_str_eq(ma, mc);
	ck_assert_ptr_nonnull(strstr(ta, "\"version\""));
	ck_assert_ptr_nonnull(strstr(ta, "\"seed\":\t9"));
	free(tc);
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "%s --out %s", args, c), 0);
	tc = tu_slurp(pc);
	ck_assert_str_eq(ta, tc);
	free(ta);
	free(tc);
}
END_TEST

START_TEST(energy_breakdown_sums)
{
	const char *sets[] = { "ssd.blocks=64", "ssd.precondition.fill=1", "workload.read_ratio=0.5",
			       "workload.count=20000", NULL };
	load(NULL, sets);
	struct ssd_run_result r;
	run_ok(&r);
	double sum = 0;
	const char *comps[] = { "nand", "channel", "ssd_dram", "host_link", "static" };
	for (int i = 0; i < 5; i++) {
		double c = en_component_j(&r.led, comps[i]);
		ck_assert(c > 0);
		sum += c;
	}
	ck_assert(sum == en_total_j(&r.led));
	/* NAND reads: pages x V x I x tR. */
	struct ssd_stats *st = &r.st;
	double want = (double)st->flash_read_pages * 3.3 * 0.025 * 75e-6;
	int found = 0;
	for (int i = 0; i < r.led.n; i++)
		if (!strcmp(r.led.e[i].action, "read_page")) {
			ck_assert_double_eq_tol(en_entry_j(&r.led.e[i]), want, want * 1e-12);
			found = 1;
		}
	ck_assert(found);
	ssd_run_result_free(&r);
}
END_TEST

START_TEST(open_loop_rate_and_duration)
{
	/* 20 K IOPS of random reads on an idle-ish drive: throughput follows
	 * the offered rate, and most reads see the idle latency. */
	const char *sets[] = { "ssd.blocks=64", "ssd.precondition.fill=1", "workload.rate_iops=20000",
			       "workload.count=20000", NULL };
	load(NULL, sets);
	struct ssd_run_result r;
	run_ok(&r);
	double iops = (double)r.n[0] / ((double)(r.t_last_ns - r.t_first_ns) * 1e-9);
	ck_assert_msg(fabs(iops - 20000) < 20000 * 0.03, "open loop %.0f IOPS", iops);
	ck_assert_uint_le(hist_quantile(&r.lat[0], 0.5), 100000);
	ssd_run_result_free(&r);
	/* duration limit: 10 ms at 20 K IOPS ~ 200 requests, not 20 000 */
	wp.duration_ns = 10000000;
	run_ok(&r);
	ck_assert_uint_lt(r.n[0], 400);
	ck_assert_uint_gt(r.n[0], 100);
	ssd_run_result_free(&r);
	/* SATA: 550 MB/s caps sequential 128 KiB reads */
	const char *sata[] = { "ssd.blocks=64", "ssd.precondition.fill=1", "ssd.link.iface=sata",
			       "workload.pattern=seq", "workload.bs_bytes=131072", "workload.count=5000",
			       "workload.qd=32", NULL };
	load(NULL, sata);
	run_ok(&r);
	double bw = (double)r.bytes[0] / ((double)(r.t_last_ns - r.t_first_ns) * 1e-9);
	ck_assert_msg(bw <= 550e6 * 1.0001 && bw > 0.97 * 550e6, "sata %.0f B/s", bw);
	ssd_run_result_free(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ssd");
	TCase *tc = tcase_create("ssd");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, qd1_read_is_sum_of_parts);
	tcase_add_test(tc, single_program_is_sum_of_parts);
	tcase_add_test(tc, erase_triggering_write_is_sum_of_parts);
	tcase_add_test(tc, throughput_mqsim_default);
	tcase_add_test(tc, throughput_simplessd_mlc);
	tcase_add_test(tc, verify_after_3x_random_overwrites);
	tcase_add_test(tc, write_amplification);
	tcase_add_test(tc, replay_shared_traces);
	tcase_add_test(tc, cli_trace_errors_exit_2);
	tcase_add_test(tc, same_seed_identical_report);
	tcase_add_test(tc, energy_breakdown_sums);
	tcase_add_test(tc, open_loop_rate_and_duration);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
