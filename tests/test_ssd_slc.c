/*
 * ssdsim SLC write cache (ssd.slc.*, ssdsim/slc.c).  On one die with one
 * plane and write-through, every 4 KiB write is one one-page program, so a
 * closed-loop burst of writes shows the program time of each: expected
 * latencies are the drive's latency without the cache (a second run) with
 * tPROG swapped for the SLC time, and the folding's flash time is its parts
 * (SLC tR + transfer, transfer + tPROG) written out here.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "tests/common/tu_ssd.h"
#include "tests/common/tutil.h"

static struct run_params run;
static struct ssd_params sp;
static struct wl_params wp;

#define ONE_DIE "ssd.channels=1", "ssd.ways=1", "ssd.dies=1", "ssd.planes=1", \
	"ssd.blocks=16", "ssd.pages=64", "ssd.page_bytes=4096", "ssd.ftl.op=1", \
	"ssd.dram.write_through=true", "ssd.verify=true"
#define T_PROG 700000u
#define T_PROG_SLC 123000u
#define T_READ 61000u
#define T_READ_SLC 17000u
#define TIMES "ssd.nand.t_prog_ns=700000", "ssd.slc.t_prog_ns=123000", \
	"ssd.nand.t_read_ns=61000", "ssd.slc.t_read_ns=17000"

static evq *q;
static ssd *s;
static struct energy_ledger led;

static void make(const char *const *sets)
{
	tu_ssd_load(NULL, sets, &run, &sp, &wp);
	en_init(&led);
	ck_assert_int_eq(evq_create(16, &q), 0);
	struct nd_err err;
	ck_assert_msg(ssd_create(&sp, q, &led, 7, &s, &err) == 0, "%s", err.msg);
}

static void unmake(void)
{
	ssd_destroy(s);
	evq_destroy(q);
}

/* A closed loop at QD1: each completion submits the next request (so the
 * host is never idle in between and nothing is folded during the burst). */
#define MAXR 64
static struct ssd_req req[MAXR];
static uint64_t lat[MAXR];
static int n_req, n_sub, read_after;   /* read_after: then read unit 0 once */
static struct ssd_req rd;
static uint64_t rd_lat;

static void next(ssd *d);
static void on_done(ssd *d, struct ssd_req *r)
{
	if (r == &rd) {
		rd_lat = r->t_done_ns - r->t_submit_ns;
		return;
	}
	lat[r - req] = r->t_done_ns - r->t_submit_ns;
	next(d);
}

static void next(ssd *d)
{
	if (n_sub == n_req) {
		if (read_after) {
			read_after = 0;
			memset(&rd, 0, sizeof rd);
			rd.len_bytes = 4096;
			rd.done = on_done;
			ck_assert_int_eq(ssd_submit(d, &rd), 0);
		}
		return;
	}
	struct ssd_req *r = &req[n_sub];
	memset(r, 0, sizeof *r);
	r->off_bytes = (uint64_t)n_sub * 4096;
	r->len_bytes = 4096;
	r->is_write = 1;
	r->done = on_done;
	n_sub++;
	ck_assert_int_eq(ssd_submit(d, r), 0);
}

/* Runs a burst of n sequential 4 KiB writes (units 0..n-1) up to the
 * completion of the last one, not further (folding then starts). */
static void burst(int n, int then_read)
{
	ck_assert_int_le(n, MAXR);
	n_req = n;
	n_sub = 0;
	read_after = then_read;
	rd_lat = 0;
	next(s);
	while (n_sub < n || !lat[n - 1] || (then_read && !rd_lat)) {
		struct evq_event *ev = evq_pop(q);
		ck_assert_ptr_nonnull(ev);
		ev->fn(q, ev);
	}
}

static uint64_t single_read(void)
{
	memset(&rd, 0, sizeof rd);
	rd.len_bytes = 4096;
	rd.done = on_done;
	rd_lat = 0;
	ck_assert_int_eq(ssd_submit(s, &rd), 0);
	evq_run(q, UINT64_MAX);
	return rd_lat;
}

/* Count and J per action of the ledger's nand action `name`. */
static uint64_t nand_count(const char *name, double *j)
{
	for (int i = 0; i < led.n; i++)
		if (!strcmp(led.e[i].component, "nand") && !strcmp(led.e[i].action, name)) {
			*j = led.e[i].j_per_action;
			return led.e[i].count;
		}
	ck_abort_msg("no nand action %s", name);
	return 0;
}

static uint64_t chan_x(void) { return nd_xfer_ns(4096, ssd_channel_bytes_per_s(&sp)); }
static uint64_t link_x(void) { return nd_xfer_ns(4096, ssd_link_bytes_per_s(&sp)); }
static uint64_t ctrl_ns(void)
{
	return (uint64_t)llround(sp.ctrl_cycles_per_cmd * 1000.0 / sp.ctrl_clock_mhz);
}

#define N_CACHE 8
#define N_BURST 20

/* The same burst without the cache: every write at the TLC program time. */
static void tlc_reference(uint64_t *ref)
{
	const char *sets[] = { ONE_DIE, TIMES, NULL };
	make(sets);
	memset(lat, 0, sizeof lat);
	burst(N_BURST, 0);
	memcpy(ref, lat, sizeof lat);
	evq_run(q, UINT64_MAX);
	unmake();
}

START_TEST(burst_runs_at_slc_rate_then_tlc_rate)
{
	uint64_t ref[MAXR];
	tlc_reference(ref);
	const char *sets[] = { ONE_DIE, TIMES, "ssd.slc.enable=true",
			       "ssd.slc.static_bytes=32768", NULL };   /* 8 pages */
	make(sets);
	memset(lat, 0, sizeof lat);
	burst(N_BURST, 0);
	for (int i = 0; i < N_BURST; i++) {
		uint64_t want = i < N_CACHE ? ref[i] - (T_PROG - T_PROG_SLC) : ref[i];
		ck_assert_msg(lat[i] == want, "write %d: %llu ns, want %llu (TLC %llu)", i,
			      (unsigned long long)lat[i], (unsigned long long)want,
			      (unsigned long long)ref[i]);
	}
	struct ssd_stats st;
	ssd_get_stats(s, &st);
	ck_assert_uint_eq(st.slc_prog_pages, N_CACHE);
	ck_assert_uint_eq(st.slc_direct_pages, N_BURST - N_CACHE);
	ck_assert_uint_eq(st.slc_fold_pages, 0);   /* the host was never idle */
	ck_assert_uint_eq(st.slc_cached_pages, N_CACHE);
	evq_run(q, UINT64_MAX);
	unmake();
}
END_TEST

START_TEST(folding_moves_exactly_the_cached_units)
{
	const char *sets[] = { ONE_DIE, TIMES, "ssd.slc.enable=true",
			       "ssd.slc.static_bytes=32768", NULL };
	make(sets);
	memset(lat, 0, sizeof lat);
	burst(N_BURST, 0);
	uint64_t busy0 = ssd_die_busy_ns(s, 0), t0 = evq_now(q);
	evq_run(q, UINT64_MAX);   /* host idle: the die folds its cached pages */
	struct ssd_stats st;
	ssd_get_stats(s, &st);
	ck_assert_uint_eq(st.slc_fold_pages, N_CACHE);
	ck_assert_uint_eq(st.slc_fold_units, N_CACHE);   /* one unit a page */
	ck_assert_uint_eq(st.slc_cached_pages, 0);
	/* Each fold: SLC sense + the unit over the channel, then the page over
	 * the channel + TLC tPROG, back to back on the idle die. */
	uint64_t fold = T_READ_SLC + chan_x() + chan_x() + T_PROG;
	ck_assert_uint_eq(ssd_die_busy_ns(s, 0) - busy0, N_CACHE * fold);
	ck_assert_uint_eq(evq_now(q) - t0, N_CACHE * fold);
	/* In WAF: N_BURST host programs + N_CACHE fold programs. */
	ck_assert_uint_eq(st.host_write_units, N_BURST);
	ck_assert_uint_eq(st.flash_prog_pages, N_BURST + N_CACHE);
	ck_assert_uint_eq(st.prog_units_written, N_BURST + N_CACHE);
	ck_assert(fabs(st.waf - (double)(N_BURST + N_CACHE) / N_BURST) < 1e-12);
	ck_assert_uint_eq(st.flash_read_pages, N_CACHE);
	/* Energy: SLC-mode programs and fold senses at V x I x their SLC time,
	 * TLC programs (direct + fold) at the TLC one. */
	double j;
	ck_assert_uint_eq(nand_count("program_page_slc", &j), N_CACHE);
	ck_assert(fabs(j - sp.vcc * sp.i_prog_ma * 1e-3 * T_PROG_SLC * 1e-9) < 1e-15);
	ck_assert_uint_eq(nand_count("read_page_slc", &j), N_CACHE);
	ck_assert(fabs(j - sp.vcc * sp.i_read_ma * 1e-3 * T_READ_SLC * 1e-9) < 1e-15);
	ck_assert_uint_eq(nand_count("program_page", &j), N_BURST - N_CACHE + N_CACHE);
	ck_assert(fabs(j - sp.vcc * sp.i_prog_ma * 1e-3 * T_PROG * 1e-9) < 1e-15);
	struct nd_err err;
	ck_assert_msg(ssd_verify(s, &err) == 0, "%s", err.msg);
	unmake();
}
END_TEST

/* An unfolded page reads at the SLC tR; once folded at the TLC tR. */
START_TEST(read_of_cached_page_takes_slc_tr)
{
	const char *sets[] = { ONE_DIE, TIMES, "ssd.slc.enable=true",
			       "ssd.slc.static_bytes=32768", NULL };
	make(sets);
	memset(lat, 0, sizeof lat);
	burst(1, 1);   /* write unit 0, then read it before the host goes idle */
	uint64_t cmd = sp.link_lat_ns + ctrl_ns();
	ck_assert_uint_eq(rd_lat, cmd + T_READ_SLC + chan_x() + link_x());
	evq_run(q, UINT64_MAX);
	struct ssd_stats st;
	ssd_get_stats(s, &st);
	ck_assert_uint_eq(st.slc_fold_pages, 1);
	ck_assert_uint_eq(st.slc_read_pages, 1);
	ck_assert_uint_eq(single_read(), cmd + T_READ + chan_x() + link_x());
	unmake();
}
END_TEST

/* when_full=fold: the write that finds the cache full waits for its die to
 * fold the oldest cached page, then programs in SLC mode. */
START_TEST(when_full_fold_folds_first)
{
	uint64_t ref[MAXR];
	tlc_reference(ref);
	const char *sets[] = { ONE_DIE, TIMES, "ssd.slc.enable=true", "ssd.slc.when_full=fold",
			       "ssd.slc.static_bytes=32768", NULL };
	make(sets);
	memset(lat, 0, sizeof lat);
	burst(N_BURST, 0);
	uint64_t fold = T_READ_SLC + chan_x() + chan_x() + T_PROG;
	for (int i = 0; i < N_BURST; i++) {
		uint64_t want = ref[i] - (T_PROG - T_PROG_SLC) + (i >= N_CACHE ? fold : 0);
		ck_assert_msg(lat[i] == want, "write %d: %llu ns, want %llu", i,
			      (unsigned long long)lat[i], (unsigned long long)want);
	}
	struct ssd_stats st;
	ssd_get_stats(s, &st);
	ck_assert_uint_eq(st.slc_prog_pages, N_BURST);
	ck_assert_uint_eq(st.slc_direct_pages, 0);
	ck_assert_uint_eq(st.slc_fold_pages, N_BURST - N_CACHE);
	evq_run(q, UINT64_MAX);
	ssd_get_stats(s, &st);
	ck_assert_uint_eq(st.slc_fold_pages, N_BURST);
	ck_assert_uint_eq(st.slc_fold_units, N_BURST);
	struct nd_err err;
	ck_assert_msg(ssd_verify(s, &err) == 0, "%s", err.msg);
	unmake();
}
END_TEST

/* Dynamic part: dynamic_frac SLC bytes per unwritten logical byte, so it
 * shrinks as data is written and is gone on a full drive. */
START_TEST(dynamic_part_follows_free_space)
{
	const char *sets[] = { ONE_DIE, TIMES, "ssd.slc.enable=true",
			       "ssd.slc.dynamic_frac=0.25", NULL };
	make(sets);
	uint64_t n_lpn = ssd_capacity_bytes(s) / 4096;
	memset(lat, 0, sizeof lat);
	burst(N_BURST, 0);
	struct ssd_stats st;
	ssd_get_stats(s, &st);
	ck_assert_uint_eq(st.slc_cap_pages, (uint64_t)(0.25 * (double)(n_lpn - N_BURST)));
	ck_assert_uint_eq(st.slc_prog_pages, N_BURST);
	evq_run(q, UINT64_MAX);
	unmake();

	/* Full drive, no static part: every program goes straight to TLC. */
	const char *full[] = { ONE_DIE, TIMES, "ssd.slc.enable=true", "ssd.slc.dynamic_frac=0.25",
			       "ssd.precondition.fill=1", NULL };
	make(full);
	memset(lat, 0, sizeof lat);
	burst(4, 0);
	ssd_get_stats(s, &st);
	ck_assert_uint_eq(st.slc_cap_pages, 0);
	ck_assert_uint_eq(st.slc_prog_pages, 0);
	ck_assert_uint_eq(st.slc_direct_pages, 4);
	evq_run(q, UINT64_MAX);
	unmake();
}
END_TEST

/* The 980 PRO preset carries Samsung's TurboWrite sizes for the 1 TB model. */
START_TEST(preset_980pro_turbowrite)
{
	tu_ssd_load("configs/samsung-980pro-1tb.json", NULL, &run, &sp, &wp);
	ck_assert_int_eq(sp.slc.enable, 1);
	ck_assert_uint_eq(sp.slc.static_bytes, 6000000000ull);   /* 6 GB */
	ck_assert(fabs(sp.slc.dynamic_frac - 108.0 / 1000.0) < 1e-12);   /* 108 GB of 1000 */
}
END_TEST

static void bad(const char *set, const char *want)
{
	char out[4096];
	int rc = tu_ndpsim(out, sizeof out, "ssd --quiet --no-plot --out %s/slc-bad %s",
			   tu_tmpdir(), set);
	ck_assert_msg(rc == 2, "%s: exit %d: %s", set, rc, out);
	ck_assert_msg(strstr(out, want) != NULL, "%s: message lacks %s: %s", set, want, out);
}

START_TEST(bad_keys_exit_2_naming_the_key)
{
	bad("--set ssd.slc.enable=true --set ssd.slc.t_prog_ns=800000", "ssd.slc.t_prog_ns");
	bad("--set ssd.slc.enable=true --set ssd.slc.t_read_ns=80000", "ssd.slc.t_read_ns");
	bad("--set ssd.slc.dynamic_frac=1.5", "ssd.slc.dynamic_frac");
	bad("--set ssd.slc.when_full=later", "ssd.slc.when_full");
}
END_TEST

int main(void)
{
	Suite *su = suite_create("ssd_slc");
	TCase *tc = tcase_create("ssd_slc");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, burst_runs_at_slc_rate_then_tlc_rate);
	tcase_add_test(tc, folding_moves_exactly_the_cached_units);
	tcase_add_test(tc, read_of_cached_page_takes_slc_tr);
	tcase_add_test(tc, when_full_fold_folds_first);
	tcase_add_test(tc, dynamic_part_follows_free_space);
	tcase_add_test(tc, preset_980pro_turbowrite);
	tcase_add_test(tc, bad_keys_exit_2_naming_the_key);
	suite_add_tcase(su, tc);
	return tu_run_suite(su);
}
