/*
 * ssdsim cached mapping table (ssd.ftl.mapping=cached, DFTL / MQSim's CMT):
 * exact miss and hit latencies on an idle drive, convergence to the ideal
 * map when the footprint fits, one translation read per miss over a
 * footprint of 100x the CMT, write-backs batched per translation page,
 * translation pages garbage-collected with the mapping intact, and the
 * DRAM bound on the CMT.
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

static void load(const char *const *sets)
{
	tu_ssd_load(NULL, sets, &run, &sp, &wp);
}

static struct ssd_req one;
static int one_done;
static void on_one(ssd *s, struct ssd_req *r) { (void)s; (void)r; one_done = 1; }

/* One 4 KiB request on the idle drive; its latency. */
static uint64_t single(ssd *s, evq *q, uint64_t unit, int is_write)
{
	memset(&one, 0, sizeof one);
	one.off_bytes = unit * 4096;
	one.len_bytes = 4096;
	one.is_write = (uint8_t)is_write;
	one.done = on_one;
	one_done = 0;
	ck_assert_int_eq(ssd_submit(s, &one), 0);
	evq_run(q, UINT64_MAX);
	ck_assert(one_done);
	return one.t_done_ns - one.t_submit_ns;
}

struct drive {
	evq *q;
	struct energy_ledger led;
	ssd *s;
};

static void open_drive(struct drive *d)
{
	en_init(&d->led);
	ck_assert_int_eq(evq_create(16, &d->q), 0);
	struct nd_err err = { 0 };
	ck_assert_msg(ssd_create(&sp, d->q, &d->led, 1, &d->s, &err) == 0, "%s", err.msg);
}

static void close_drive(struct drive *d)
{
	ssd_destroy(d->s);
	evq_destroy(d->q);
}

/* QD1 4 KiB read from flash on an idle drive, from the parameters alone:
 * command over the link, firmware, tR, the unit over the channel, the
 * data over the link. */
static uint64_t read_ns(void)
{
	double ch = ssd_channel_bytes_per_s(&sp), link = ssd_link_bytes_per_s(&sp);
	uint64_t ctrl = (uint64_t)llround(sp.ctrl_cycles_per_cmd * 1000.0 / sp.ctrl_clock_mhz);
	return sp.link_lat_ns + ctrl + sp.t_read_ns + nd_xfer_ns(4096, ch) + nd_xfer_ns(4096, link);
}

/* A translation read: tR, then the whole translation page over its
 * channel (page_bytes / map unit units, each of the unit's transfer). */
static uint64_t xlate_ns(void)
{
	double ch = ssd_channel_bytes_per_s(&sp);
	return sp.t_read_ns + (uint64_t)(sp.page_bytes / sp.map_unit_bytes) *
	       nd_xfer_ns((uint64_t)sp.map_unit_bytes, ch);
}

static uint64_t lcg(uint64_t *x)
{
	*x = *x * 6364136223846793005ull + 1442695040888963407ull;
	return *x >> 33;
}

START_TEST(miss_then_hit_exact)
{
	const char *sets[] = { "ssd.blocks=16", "ssd.ftl.op=0.5", "ssd.ftl.mapping=cached",
			       "ssd.ftl.cmt_bytes=4096", "ssd.precondition.fill=1", NULL };
	load(sets);
	struct drive d;
	open_drive(&d);
	/* 75 us tR + 8 KiB at 333 MB/s (2 x 12301 ns). */
	ck_assert_uint_eq(xlate_ns(), 75000 + 2 * 12301);
	ck_assert_uint_eq(single(d.s, d.q, 12345, 0), read_ns() + xlate_ns());
	ck_assert_uint_eq(single(d.s, d.q, 12345, 0), read_ns());
	struct ssd_stats st;
	ssd_get_stats(d.s, &st);
	ck_assert_int_eq(st.mapping, SSD_MAP_CACHED);
	ck_assert_uint_eq(st.cmt_entries, 4096 / 8);
	ck_assert_uint_eq(st.cmt_misses, 1);
	ck_assert_uint_eq(st.cmt_hits, 1);
	ck_assert_uint_eq(st.xlate_read_pages, 1);
	ck_assert_uint_eq(st.xlate_prog_pages, 0);
	ck_assert_uint_eq(st.flash_read_pages, 3);   /* translation + data, then data */
	close_drive(&d);
}
END_TEST

START_TEST(footprint_in_cmt_converges_to_ideal)
{
	/* 200 units read at random 4000 times; the CMT holds 512 entries.
	 * The same sequence on the ideal map and on the cached one: every
	 * read costs the same except the first of each unit, which pays one
	 * translation read, so the excess per read falls as 1/N and is zero
	 * once every unit has been read. */
	const char *ideal[] = { "ssd.blocks=16", "ssd.ftl.op=0.5", "ssd.precondition.fill=1", NULL };
	const char *cached[] = { "ssd.blocks=16", "ssd.ftl.op=0.5", "ssd.precondition.fill=1",
				 "ssd.ftl.mapping=cached", "ssd.ftl.cmt_bytes=4096", NULL };
	enum { F = 200, N = 4000 };
	struct drive a, b;
	load(ideal);
	open_drive(&a);
	load(cached);
	open_drive(&b);
	static unsigned char seen[F];
	memset(seen, 0, sizeof seen);
	uint64_t x = 7, distinct = 0, excess = 0, excess_late = 0, last_first = 0;
	for (uint64_t i = 0; i < N; i++) {
		uint64_t u = 1000 + lcg(&x) % F * 37;   /* spread over pages and dies */
		uint64_t la = single(a.s, a.q, u, 0), lb = single(b.s, b.q, u, 0);
		ck_assert_uint_eq(la, read_ns());
		int first = !seen[(u - 1000) / 37];
		seen[(u - 1000) / 37] = 1;
		distinct += (uint64_t)first;
		if (first)
			last_first = i;
		ck_assert_uint_eq(lb, la + (first ? xlate_ns() : 0));
		excess += lb - la;
		if (i >= N / 2)
			excess_late += lb - la;
	}
	ck_assert_uint_eq(distinct, F);
	ck_assert_uint_lt(last_first, N / 2);   /* this sequence covers F early */
	ck_assert_uint_eq(excess, F * xlate_ns());
	ck_assert_uint_eq(excess_late, 0);
	struct ssd_stats st;
	ssd_get_stats(b.s, &st);
	ck_assert_uint_eq(st.cmt_misses, F);
	ck_assert_uint_eq(st.cmt_hits, N - F);
	ck_assert_uint_eq(st.xlate_read_pages, F);
	close_drive(&a);
	close_drive(&b);
}
END_TEST

START_TEST(random_reads_over_100x_cmt)
{
	/* CMT of 256 entries, uniform random QD1 reads over 25,600 units:
	 * every read is a hit costing read_ns() or a miss costing exactly one
	 * translation read more, misses and translation reads agree, and the
	 * LRU hit rate of a uniform stream is C / F = 1 %. */
	const char *sets[] = { "ssd.blocks=16", "ssd.ftl.op=0.5", "ssd.precondition.fill=1",
			       "ssd.ftl.mapping=cached", "ssd.ftl.cmt_bytes=2048", NULL };
	load(sets);
	struct drive d;
	open_drive(&d);
	enum { C = 256, F = 100 * C, N = 30000 };
	uint64_t x = 99, hits = 0, misses = 0;
	for (uint64_t i = 0; i < N; i++) {
		uint64_t lat = single(d.s, d.q, lcg(&x) % F, 0);
		if (lat == read_ns())
			hits++;
		else if (lat == read_ns() + xlate_ns())
			misses++;
		else
			ck_abort_msg("read %llu took %llu ns", (unsigned long long)i,
				     (unsigned long long)lat);
	}
	struct ssd_stats st;
	ssd_get_stats(d.s, &st);
	ck_assert_uint_eq(st.cmt_entries, C);
	ck_assert_uint_eq(st.cmt_hits, hits);
	ck_assert_uint_eq(st.cmt_misses, misses);
	ck_assert_uint_eq(st.xlate_read_pages, misses);
	ck_assert_uint_eq(st.flash_read_pages, N + misses);
	ck_assert_uint_eq(st.xlate_prog_pages, 0);
	/* Binomial(N, 0.01): mean 300, sd 17; allow 5 sd. */
	ck_assert_msg(hits > 300 - 86 && hits < 300 + 86, "hits %llu", (unsigned long long)hits);
	close_drive(&d);
}
END_TEST

/* Requests submitted together, completions counted. */
static struct ssd_req burst_req[9];
static int burst_done;
static void on_burst(ssd *s, struct ssd_req *r) { (void)s; (void)r; burst_done++; }

START_TEST(one_translation_read_in_flight_per_page)
{
	/* 8 reads of units 0..7 (one translation page, on different dies) and
	 * a ninth of unit 0, submitted at once on a cold CMT: 8 misses and a
	 * hit on an entry still on its way in, one translation read; every
	 * request waits for it, so none completes before a translation read
	 * plus its own data read; then the same 9 again, all hits. */
	const char *sets[] = { "ssd.blocks=16", "ssd.ftl.op=0.5", "ssd.precondition.fill=1",
			       "ssd.ftl.mapping=cached", "ssd.ftl.cmt_bytes=4096", NULL };
	load(sets);
	struct drive d;
	open_drive(&d);
	for (int round = 0; round < 2; round++) {
		burst_done = 0;
		for (int i = 0; i < 9; i++) {
			memset(&burst_req[i], 0, sizeof burst_req[i]);
			burst_req[i].off_bytes = (uint64_t)(i % 8) * 4096;
			burst_req[i].len_bytes = 4096;
			burst_req[i].done = on_burst;
			ck_assert_int_eq(ssd_submit(d.s, &burst_req[i]), 0);
		}
		evq_run(d.q, UINT64_MAX);
		ck_assert_int_eq(burst_done, 9);
		for (int i = 0; i < 9; i++)
			ck_assert_uint_ge(burst_req[i].t_done_ns - burst_req[i].t_submit_ns,
					  read_ns() + (round ? 0 : xlate_ns()));
	}
	struct ssd_stats st;
	ssd_get_stats(d.s, &st);
	ck_assert_uint_eq(st.cmt_misses, 8);
	ck_assert_uint_eq(st.cmt_hits, 10);
	ck_assert_uint_eq(st.xlate_read_pages, 1);
	close_drive(&d);
}
END_TEST

START_TEST(dirty_eviction_writes_back_once_per_page)
{
	/* 4 CMT entries.  Write-through writes of units 0..3 (one translation
	 * page of 2048 entries) make 4 dirty entries, each a write miss that
	 * reads the translation page.  Reads of 4 units on other translation
	 * pages evict them in LRU order: the first eviction rewrites page 0
	 * (read-modify-write) and leaves the other three clean, so exactly one
	 * translation program. */
	const char *sets[] = { "ssd.blocks=16", "ssd.ftl.op=0.5", "ssd.precondition.fill=1",
			       "ssd.ftl.mapping=cached", "ssd.ftl.cmt_bytes=32",
			       "ssd.dram.write_through=true", NULL };
	load(sets);
	struct drive d;
	open_drive(&d);
	for (uint64_t u = 0; u < 4; u++)
		single(d.s, d.q, u, 1);
	struct ssd_stats st;
	ssd_get_stats(d.s, &st);
	ck_assert_uint_eq(st.cmt_misses, 4);
	ck_assert_uint_eq(st.xlate_read_pages, 4);
	ck_assert_uint_eq(st.xlate_prog_pages, 0);
	for (uint64_t k = 1; k <= 4; k++)
		single(d.s, d.q, k * 2048 * 3, 0);
	ssd_get_stats(d.s, &st);
	ck_assert_uint_eq(st.cmt_misses, 8);
	ck_assert_uint_eq(st.xlate_prog_pages, 1);
	ck_assert_uint_eq(st.xlate_read_pages, 4 + 4 + 1);
	/* Rewriting unit 0 now misses and dirties it again; four more reads
	 * evict it: a second write-back. */
	single(d.s, d.q, 0, 1);
	for (uint64_t k = 5; k <= 8; k++)
		single(d.s, d.q, k * 2048 * 3, 0);
	ssd_get_stats(d.s, &st);
	ck_assert_uint_eq(st.xlate_prog_pages, 2);
	ck_assert_uint_eq(st.xlate_read_pages, 9 + 1 + 4 + 1);
	close_drive(&d);
}
END_TEST

START_TEST(translation_pages_collected_and_verified)
{
	/* Random writes over a small drive with a CMT of 64 entries: data and
	 * translation pages are garbage-collected together and every unit
	 * still maps to its latest version; the translation traffic shows in
	 * the write amplification (more programs than the ideal map). */
	const char *base[] = { "ssd.channels=2", "ssd.ways=1", "ssd.dies=1", "ssd.blocks=32",
			       "ssd.pages=32", "ssd.ftl.op=0.3", "ssd.precondition.fill=1",
			       "ssd.precondition.overwrite=1", "ssd.verify=true",
			       "workload.read_ratio=0.3", "workload.count=40000", "workload.qd=8",
			       "ssd.ftl.cmt_bytes=512", NULL, NULL };
	struct ssd_run_result r[2];
	for (int m = 0; m < 2; m++) {
		base[13] = m ? "ssd.ftl.mapping=cached" : "ssd.ftl.mapping=ideal";
		load(base);
		struct ssd_run_opts o = { .ssd = &sp, .wl = &wp, .seed = 3, .verify = 1 };
		struct nd_err err = { 0 };
		ck_assert_msg(ssd_run(&o, &r[m], &err) == 0, "%s", err.msg);
		ck_assert_int_eq(r[m].verified, 1);
	}
	ck_assert_uint_gt(r[1].st.xlate_prog_pages, 1000);
	ck_assert_uint_gt(r[1].st.gc_units_moved, 0);
	ck_assert_uint_eq(r[0].st.xlate_prog_pages, 0);
	ck_assert_uint_eq(r[0].st.cmt_misses, 0);
	ck_assert(r[1].st.waf > r[0].st.waf);
	for (int m = 0; m < 2; m++)
		ssd_run_result_free(&r[m]);
}
END_TEST

START_TEST(cmt_larger_than_dram_exit_2)
{
	char out[4096];
	int rc = tu_ndpsim(out, sizeof out,
			   "ssd --quiet --no-plot --set ssd.ftl.mapping=cached "
			   "--set ssd.ftl.cmt_bytes=300000000 --out %s/cmt-bad", tu_tmpdir());
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "ssd.ftl.cmt_bytes"));
	ck_assert_ptr_nonnull(strstr(out, "ssd.dram.capacity_mib"));
	/* The same CMT with the ideal map is not checked (nothing uses it). */
	rc = tu_ndpsim(out, sizeof out,
		       "ssd --quiet --no-plot --set ssd.ftl.cmt_bytes=300000000 "
		       "--set workload.count=10 --out %s/cmt-ideal", tu_tmpdir());
	ck_assert_int_eq(rc, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ssd_cmt");
	TCase *tc = tcase_create("cmt");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, miss_then_hit_exact);
	tcase_add_test(tc, footprint_in_cmt_converges_to_ideal);
	tcase_add_test(tc, random_reads_over_100x_cmt);
	tcase_add_test(tc, one_translation_read_in_flight_per_page);
	tcase_add_test(tc, dirty_eviction_writes_back_once_per_page);
	tcase_add_test(tc, translation_pages_collected_and_verified);
	tcase_add_test(tc, cmt_larger_than_dram_exit_2);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
