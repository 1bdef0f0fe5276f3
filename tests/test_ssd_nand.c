/*
 * ssdsim NAND features (ssdsim/nand.h): page-type read and program times,
 * program suspend for reads, bit errors with ECC / read retry / soft
 * decoding, and the bad-input checks of their keys.  Expected latencies are
 * the sum of their parts written out here, page types from a table typed in
 * from the MQSim / SimpleSSD rule, not from the code under test.
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

/* One die, one plane, 4 KiB pages (one map unit a page): a sequential fill
 * puts unit u on page u of block 0, so u is the page's index in its block. */
#define ONE_DIE "ssd.channels=1", "ssd.ways=1", "ssd.dies=1", "ssd.planes=1", \
	"ssd.blocks=16", "ssd.pages=64", "ssd.page_bytes=4096", "ssd.ftl.op=1"
#define TLC "ssd.nand.cell=tlc", "ssd.nand.t_read_lsb_ns=41000", \
	"ssd.nand.t_read_csb_ns=62000", "ssd.nand.t_read_msb_ns=87000", \
	"ssd.nand.t_prog_lsb_ns=400000", "ssd.nand.t_prog_csb_ns=1100000", \
	"ssd.nand.t_prog_msb_ns=2300000"

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

static struct ssd_req one;
static void on_done(ssd *d, struct ssd_req *r) { (void)d; (void)r; }

static void submit(struct ssd_req *r, uint64_t unit, int is_write)
{
	memset(r, 0, sizeof *r);
	r->off_bytes = unit * 4096;
	r->len_bytes = 4096;
	r->is_write = (uint8_t)is_write;
	r->done = on_done;
	ck_assert_int_eq(ssd_submit(s, r), 0);
}

static uint64_t single(uint64_t unit, int is_write)
{
	submit(&one, unit, is_write);
	evq_run(q, UINT64_MAX);
	ck_assert_uint_gt(one.t_done_ns, 0);
	return one.t_done_ns - one.t_submit_ns;
}

static uint64_t ctrl_ns(void)
{
	return (uint64_t)llround(sp.ctrl_cycles_per_cmd * 1000.0 / sp.ctrl_clock_mhz);
}

static uint64_t chan_x(void) { return nd_xfer_ns(4096, ssd_channel_bytes_per_s(&sp)); }
static uint64_t link_x(void) { return nd_xfer_ns(4096, ssd_link_bytes_per_s(&sp)); }

/* ------------------------------------------------ page types */

/* TLC page types of pages 0..17 by the rule of MQSim (Flash_Chip.h) and
 * SimpleSSD (LatencyTLC.cc), written out by hand: 0 LSB, 1 CSB, 2 MSB. */
static const int tlc_type[18] = { 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 0, 0, 1, 1 };

START_TEST(page_type_rule)
{
	for (uint32_t p = 0; p < 18; p++)
		ck_assert_int_eq(ssd_page_type(SSD_CELL_TLC, p), tlc_type[p]);
	for (uint32_t p = 0; p < 8; p++) {
		ck_assert_int_eq(ssd_page_type(SSD_CELL_MLC, p), p % 2 ? SSD_PT_MSB : SSD_PT_LSB);
		ck_assert_int_eq(ssd_page_type(SSD_CELL_QLC, p), (int)(p % 4));
		ck_assert_int_eq(ssd_page_type(SSD_CELL_SLC, p), SSD_PT_LSB);
	}
}
END_TEST

START_TEST(qd1_read_takes_its_page_types_tr)
{
	const char *sets[] = { ONE_DIE, TLC, NULL };
	make(sets);
	ssd_write_functional(s, 0, 18);
	const uint64_t tr[3] = { 41000, 62000, 87000 };
	for (uint32_t u = 0; u < 18; u++) {
		uint64_t want = sp.link_lat_ns + ctrl_ns() + tr[tlc_type[u]] + chan_x() + link_x();
		ck_assert_msg(single(u, 0) == want, "page %u: %llu ns, want %llu", u,
			      (unsigned long long)(one.t_done_ns - one.t_submit_ns),
			      (unsigned long long)want);
	}
	struct ssd_stats st;
	ssd_get_stats(s, &st);
	/* pages 0..17: LSB 0-5, 8, 9, 14, 15; CSB 6, 7, 10, 11, 16, 17; MSB 12, 13 */
	ck_assert_uint_eq(st.nand.reads_by_type[SSD_PT_LSB], 10);
	ck_assert_uint_eq(st.nand.reads_by_type[SSD_PT_CSB], 6);
	ck_assert_uint_eq(st.nand.reads_by_type[SSD_PT_MSB], 2);
	unmake();
}
END_TEST

START_TEST(mlc_read_and_program_by_page_type)
{
	const char *sets[] = { ONE_DIE, "ssd.nand.cell=mlc", "ssd.nand.t_read_lsb_ns=40000",
			       "ssd.nand.t_read_msb_ns=65000", "ssd.nand.t_prog_lsb_ns=500000",
			       "ssd.nand.t_prog_msb_ns=1300000", "ssd.dram.write_through=true", NULL };
	make(sets);
	/* Write-through programs on an empty drive go to pages 0, 1, 2, ... */
	for (uint32_t k = 0; k < 6; k++) {
		uint64_t want = sp.link_lat_ns + ctrl_ns() + link_x() + chan_x() +
				(k % 2 ? 1300000 : 500000);
		ck_assert_uint_eq(single(k, 1), want);
	}
	for (uint32_t k = 0; k < 6; k++)
		ck_assert_uint_eq(single(k, 0), sp.link_lat_ns + ctrl_ns() +
				  (k % 2 ? 65000u : 40000u) + chan_x() + link_x());
	unmake();
}
END_TEST

/* ------------------------------------------------ suspend */

static struct ssd_req late;
static struct evq_event late_ev;
static void submit_late(evq *qq, struct evq_event *ev)
{
	(void)qq;
	(void)ev;
	submit(&late, 0, 0);
}

/* A write-through program of unit 9 at t = 0; a read of unit 0 (page 0)
 * submitted at t_read, while the program runs.  Returns the read latency
 * and the program's. */
static void read_during_program(const char *suspend, int max_susp, uint64_t t_read,
				uint64_t *rd, uint64_t *wr)
{
	char s1[64], s2[64];
	snprintf(s1, sizeof s1, "ssd.nand.suspend=%s", suspend);
	snprintf(s2, sizeof s2, "ssd.nand.max_suspends=%d", max_susp);
	const char *sets[] = { ONE_DIE, "ssd.dram.write_through=true", "ssd.nand.t_suspend_ns=15000",
			       "ssd.nand.t_resume_ns=3000", s1, s2, NULL };
	make(sets);
	ssd_write_functional(s, 0, 8);
	submit(&one, 9, 1);
	ck_assert_int_eq(evq_schedule(q, &late_ev, t_read, submit_late), 0);
	evq_run(q, UINT64_MAX);
	*rd = late.t_done_ns - late.t_submit_ns;
	*wr = one.t_done_ns - one.t_submit_ns;
	unmake();
}

START_TEST(read_suspends_program)
{
	const char *base[] = { ONE_DIE, "ssd.dram.write_through=true", NULL };
	tu_ssd_load(NULL, base, &run, &sp, &wp);
	uint64_t cmd = sp.link_lat_ns + ctrl_ns();
	uint64_t t_arr = cmd + link_x() + chan_x();       /* tPROG starts */
	uint64_t t_end = t_arr + sp.t_prog_ns;             /* and ends */
	uint64_t t_read = t_arr + 200000;                  /* read submitted */
	uint64_t at_die = t_read + cmd;                    /* read reaches the die */
	uint64_t rd, wr;

	read_during_program("off", 3, t_read, &rd, &wr);
	ck_assert_uint_eq(rd, (t_end - at_die) + cmd + sp.t_read_ns + chan_x() + link_x());
	ck_assert_uint_eq(wr, t_end);

	read_during_program("program", 3, t_read, &rd, &wr);
	ck_assert_uint_eq(rd, cmd + 15000 + sp.t_read_ns + chan_x() + link_x());
	/* the program resumes after the read with its remaining time + 3 us */
	ck_assert_uint_eq(wr, t_end + 15000 + sp.t_read_ns + chan_x() + 3000);

	/* erase-only suspend, or no suspensions allowed: as off */
	read_during_program("erase", 3, t_read, &rd, &wr);
	ck_assert_uint_eq(wr, t_end);
	read_during_program("both", 0, t_read, &rd, &wr);
	ck_assert_uint_eq(wr, t_end);
	ck_assert_uint_eq(rd, (t_end - at_die) + cmd + sp.t_read_ns + chan_x() + link_x());
}
END_TEST

/* The erase GC triggers (one die, 8 blocks of 4 one-unit pages, as
 * test_ssd.c's erase_triggering_write_is_sum_of_parts): a read of the only
 * valid unit submitted 1 ms into the erase suspends it.  The erase
 * resumes after the read, then the write's program runs. */
START_TEST(read_suspends_erase)
{
	const char *sets[] = { "ssd.channels=1", "ssd.ways=1", "ssd.dies=1", "ssd.planes=1",
			       "ssd.blocks=8", "ssd.pages=4", "ssd.page_bytes=4096",
			       "ssd.ftl.op=1", "ssd.ftl.gc_threshold_blocks=1",
			       "ssd.dram.write_through=true", "ssd.nand.suspend=erase",
			       "ssd.nand.t_suspend_ns=25000", "ssd.nand.t_resume_ns=4000", NULL };
	make(sets);
	for (int i = 0; i < 28; i++)
		ssd_write_functional(s, 0, 1);
	uint64_t cmd = sp.link_lat_ns + ctrl_ns();
	uint64_t t_e = cmd + link_x();           /* the erase starts */
	submit(&one, 5, 1);   /* a new unit: unit 0 stays on flash, not in the buffer */
	ck_assert_int_eq(evq_schedule(q, &late_ev, t_e + 1000000, submit_late), 0);
	evq_run(q, UINT64_MAX);
	struct ssd_stats st;
	ssd_get_stats(s, &st);
	ck_assert_uint_eq(st.flash_erases, 1);
	ck_assert_uint_eq(st.nand.suspensions, 1);
	ck_assert_uint_eq(late.t_done_ns - late.t_submit_ns,
			  cmd + 25000 + sp.t_read_ns + chan_x() + link_x());
	ck_assert_uint_eq(one.t_done_ns - one.t_submit_ns,
			  t_e + sp.t_erase_ns + 25000 + sp.t_read_ns + chan_x() + 4000 +
			  chan_x() + sp.t_prog_ns);
	unmake();
}
END_TEST

/* ------------------------------------------------ bit errors */

#define CW_BITS (8 * (1024 + 128))

START_TEST(rber_model_by_hand)
{
	struct ssd_nand_params n = { .rber_base = 1e-6, .rber_pe_coef = 5e-6, .rber_pe_exp = 2,
				     .rber_ret_coef = 2e-5, .rber_ret_pe_exp = 1, .rber_ret_exp = 0.5,
				     .rber_rd_coef = 1e-9, .rber_rd_pe_exp = 1 };
	/* 3000 cycles: w = 4; 100 days; 1000 reads. */
	double want = 1e-6 + 5e-6 * 16 + 2e-5 * 4 * 10 + 1e-9 * 4 * 1000;
	ck_assert_double_eq_tol(ssd_rber(&n, 3000, 100, 1000), want, 1e-15);
	ck_assert_double_eq_tol(ssd_rber(&n, 0, 0, 0), 1e-6 + 5e-6, 1e-18);
}
END_TEST

/* ECC on a drive whose RBER is pe_coef (base 0, no retention, no read
 * disturb at w = 1): errors per codeword ~ Binomial(9216, rber). */
#define ECC_SETS(rber) ONE_DIE, "ssd.nand.ecc.type=ldpc", "ssd.nand.rber.base=0", \
	"ssd.nand.rber.pe_coef=" rber, "ssd.nand.rber.rd_coef=0", "ssd.nand.ecc.t_dec_ns=3000", \
	"ssd.nand.ecc.t_hard=100"

START_TEST(one_retry_step_costs_sense_transfer_decode)
{
	/* 0.1: ~922 errors per codeword (sd 29), far above t_hard; one step at
	 * x0.05 leaves ~46 (sd 7), far below it: exactly one retry per read. */
	const char *sets[] = { ECC_SETS("0.1"), "ssd.nand.retry.rber_scale=0.05", NULL };
	make(sets);
	ssd_write_functional(s, 0, 8);
	uint64_t cmd = sp.link_lat_ns + ctrl_ns();
	for (int i = 0; i < 4; i++) {
		uint64_t lat = single((uint64_t)i, 0);
		ck_assert_uint_eq(lat, cmd + 2 * (sp.t_read_ns + chan_x()) + 2 * 3000 + link_x());
		ck_assert_uint_eq(one.resid_bit_errors, 0);
	}
	struct ssd_stats st;
	ssd_get_stats(s, &st);
	ck_assert_uint_eq(st.nand.retry_steps, 4);
	ck_assert_uint_eq(st.nand.reads_retried, 4);
	ck_assert_uint_eq(st.nand.codewords, 16);
	ck_assert_uint_eq(st.nand.uncorrectable_cw, 0);
	ck_assert_uint_eq(st.flash_read_pages, 4);
	unmake();
}
END_TEST

START_TEST(soft_decode_and_uncorrectable)
{
	/* No retries: soft decoding with 2 extra senses; t_soft 2000 corrects. */
	const char *sets[] = { ECC_SETS("0.1"), "ssd.nand.retry.max_steps=0",
			       "ssd.nand.ecc.t_soft=2000", "ssd.nand.ecc.soft_senses=2",
			       "ssd.nand.ecc.t_soft_dec_ns=11000", NULL };
	make(sets);
	ssd_write_functional(s, 0, 8);
	uint64_t cmd = sp.link_lat_ns + ctrl_ns();
	uint64_t lat = single(1, 0);
	ck_assert_uint_eq(lat, cmd + 3 * (sp.t_read_ns + chan_x()) + 2 * 3000 + 3000 + 11000 +
			  link_x());
	ck_assert_uint_eq(one.uncorrectable_cw, 0);
	struct ssd_stats st;
	ssd_get_stats(s, &st);
	ck_assert_uint_eq(st.nand.soft_decodes, 4);
	unmake();

	/* t_soft 200: every codeword stays uncorrectable; the residual errors
	 * are its raw errors, 4 x ~922. */
	const char *sets2[] = { ECC_SETS("0.1"), "ssd.nand.retry.max_steps=0",
				"ssd.nand.ecc.t_soft=200", NULL };
	make(sets2);
	ssd_write_functional(s, 0, 8);
	single(2, 0);
	ck_assert_uint_eq(one.uncorrectable_cw, 4);
	ssd_get_stats(s, &st);
	ck_assert_uint_eq(st.nand.uncorrectable_pages, 1);
	ck_assert_uint_eq(st.nand.residual_bit_errors, one.resid_bit_errors);
	ck_assert_uint_eq(st.nand.raw_bit_errors, one.resid_bit_errors);
	ck_assert(fabs((double)one.resid_bit_errors - 4 * 921.6) < 6 * sqrt(4 * 921.6));
	unmake();
}
END_TEST

/* Residual errors per read unit through ssd_req.unit_errors. */
static uint64_t cb_unit[16];
static uint32_t cb_resid[16], cb_n;
static void on_unit(struct ssd_req *r, uint64_t unit, uint32_t resid)
{
	(void)r;
	ck_assert_uint_lt(cb_n, 16);
	cb_unit[cb_n] = unit;
	cb_resid[cb_n++] = resid;
}

START_TEST(unit_errors_callback_per_unit)
{
	/* Two planes: units 0,1 share a two-page multi-plane read, 2,3 another. */
	const char *sets[] = { ECC_SETS("0.1"), "ssd.planes=2", "ssd.nand.retry.max_steps=0",
			       "ssd.nand.ecc.t_soft=200", NULL };
	for (int uncorr = 1; uncorr >= 0; uncorr--) {
		const char *ok[] = { ECC_SETS("1e-4"), "ssd.planes=2", NULL };
		make(uncorr ? sets : ok);
		ssd_write_functional(s, 0, 8);
		memset(&one, 0, sizeof one);
		one.off_bytes = 4096;
		one.len_bytes = 4 * 4096;
		one.done = on_done;
		one.unit_errors = on_unit;
		cb_n = 0;
		ck_assert_int_eq(ssd_submit(s, &one), 0);
		evq_run(q, UINT64_MAX);
		struct ssd_stats st;
		ssd_get_stats(s, &st);
		ck_assert_uint_eq(st.flash_read_pages, 4);
		ck_assert_uint_eq(cb_n, 4);
		uint64_t sum = 0;
		for (uint32_t i = 0; i < 4; i++) {
			ck_assert_uint_eq(cb_unit[i], 1 + i);
			/* 4 codewords of ~922 errors each, none corrected */
			if (uncorr)
				ck_assert(cb_resid[i] > 4 * 800 && cb_resid[i] < 4 * 1050);
			else
				ck_assert_uint_eq(cb_resid[i], 0);
			sum += cb_resid[i];
		}
		ck_assert_uint_eq(sum, one.resid_bit_errors);
		ck_assert_uint_eq(one.uncorrectable_cw, uncorr ? 16 : 0);
		ck_assert_uint_eq(st.nand.uncorrectable_pages, uncorr ? 4 : 0);
		unmake();
	}
}
END_TEST

START_TEST(error_counts_follow_rber_and_seed)
{
	/* 2000 reads at RBER 1e-3: 8000 codewords, mean 73728 errors (sd 271). */
	const char *sets[] = { ECC_SETS("1e-3"), "ssd.nand.ecc.t_hard=500", "ssd.nand.ecc.t_soft=600",
			       NULL };
	uint64_t raw[2];
	for (int k = 0; k < 2; k++) {
		make(sets);
		ssd_write_functional(s, 0, 64);
		for (int i = 0; i < 2000; i++)
			single((uint64_t)(i % 64), 0);
		struct ssd_stats st;
		ssd_get_stats(s, &st);
		ck_assert_uint_eq(st.nand.codewords, 8000);
		raw[k] = st.nand.raw_bit_errors;
		ck_assert_uint_eq(st.nand.retry_steps, 0);
		unmake();
	}
	double mean = 8000.0 * CW_BITS * 1e-3;
	ck_assert_msg(fabs((double)raw[0] - mean) < 5 * sqrt(mean), "%llu vs %.0f",
		      (unsigned long long)raw[0], mean);
	ck_assert_uint_eq(raw[0], raw[1]);   /* same seed, same errors */
}
END_TEST

START_TEST(read_disturb_counts_reads_since_erase)
{
	/* RBER = rd_coef x R for the R-th read of a block (R from 0). */
	const char *sets[] = { ONE_DIE, "ssd.nand.ecc.type=bch", "ssd.nand.rber.base=0",
			       "ssd.nand.rber.pe_coef=0", "ssd.nand.rber.rd_coef=1e-6", NULL };
	make(sets);
	ssd_write_functional(s, 0, 8);
	for (int i = 0; i < 100; i++)
		single((uint64_t)(i % 8), 0);
	struct ssd_stats st;
	ssd_get_stats(s, &st);
	/* sum over R = 0..99 of 1e-6 R = 1e-6 x 4950 */
	ck_assert_double_eq_tol(st.nand.rber_sum, 4950e-6, 1e-12);
	ck_assert_uint_eq(st.nand.ecc_page_reads, 100);
	unmake();
}
END_TEST

/* ------------------------------------------------ presets */

/* The named-drive presets load and validate; the 850 PRO's idle QD1 read
 * of an LSB and an MSB page is the sum of its parts over SATA. */
START_TEST(named_drive_presets)
{
	tu_ssd_load("configs/samsung-980pro-1tb.json", NULL, &run, &sp, &wp);
	ck_assert_uint_eq(sp.t_read_ns, 45000);
	const char *sets[] = { "ssd.blocks=64", "ssd.pages=64", NULL };
	tu_ssd_load("configs/samsung-850pro-256g.json", sets, &run, &sp, &wp);
	ck_assert_int_eq(sp.nx.cell, SSD_CELL_MLC);
	en_init(&led);
	ck_assert_int_eq(evq_create(16, &q), 0);
	struct nd_err err;
	ck_assert_msg(ssd_create(&sp, q, &led, 7, &s, &err) == 0, "%s", err.msg);
	/* 16 KiB pages, 4 units each; one target per program (8 ch x 3 ways x
	 * 2 planes, multi-plane): units 0..7 fill page 0 of both planes of
	 * die 0 (LSB); unit 8 * 24 starts the second round, page 1 (MSB). */
	ssd_write_functional(s, 0, 8 * 24 + 8);
	uint64_t cmd = sp.link_lat_ns + ctrl_ns();
	ck_assert_uint_eq(single(0, 0), cmd + 40000 + chan_x() + link_x());
	ck_assert_uint_eq(single(8 * 24, 0), cmd + 65000 + chan_x() + link_x());
	unmake();
}
END_TEST

/* ------------------------------------------------ bad input */

static void bad(const char *set, const char *want)
{
	char out[4096];
	int rc = tu_ndpsim(out, sizeof out, "ssd --quiet --no-plot --out %s/nand-bad %s",
			   tu_tmpdir(), set);
	ck_assert_msg(rc == 2, "%s: exit %d: %s", set, rc, out);
	ck_assert_msg(strstr(out, want) != NULL, "%s: message lacks %s: %s", set, want, out);
}

START_TEST(bad_keys_exit_2_naming_the_key)
{
	bad("--set ssd.nand.cell=tlc --set ssd.nand.t_read_lsb_ns=50000 "
	    "--set ssd.nand.t_read_csb_ns=60000", "ssd.nand.t_read_msb_ns");
	bad("--set ssd.nand.cell=mlc --set ssd.nand.t_read_lsb_ns=1 --set ssd.nand.t_read_msb_ns=1 "
	    "--set ssd.nand.t_prog_lsb_ns=1", "ssd.nand.t_prog_msb_ns");
	bad("--set ssd.nand.max_suspends=-1", "ssd.nand.max_suspends");
	bad("--set ssd.nand.ecc.type=ldpc --set ssd.nand.ecc.t_hard=9216", "ssd.nand.ecc.t_hard");
	bad("--set ssd.nand.ecc.type=ldpc --set ssd.nand.ecc.t_soft=100000", "ssd.nand.ecc.t_soft");
	/* BCH: 9216-bit codewords need 14 parity bits per corrected bit. */
	bad("--set ssd.nand.ecc.type=bch --set ssd.nand.ecc.t_hard=74", "ssd.nand.ecc.t_hard");
	bad("--set ssd.nand.suspend=program --set ssd.nand.sched=fifo", "ssd.nand.suspend");
	bad("--set ssd.nand.ecc.type=bch --set ssd.nand.ecc.cw_bytes=3072", "ssd.nand.ecc.cw_bytes");
}
END_TEST

int main(void)
{
	Suite *su = suite_create("ssd_nand");
	TCase *tc = tcase_create("ssd_nand");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, page_type_rule);
	tcase_add_test(tc, qd1_read_takes_its_page_types_tr);
	tcase_add_test(tc, mlc_read_and_program_by_page_type);
	tcase_add_test(tc, read_suspends_program);
	tcase_add_test(tc, read_suspends_erase);
	tcase_add_test(tc, rber_model_by_hand);
	tcase_add_test(tc, one_retry_step_costs_sense_transfer_decode);
	tcase_add_test(tc, soft_decode_and_uncorrectable);
	tcase_add_test(tc, unit_errors_callback_per_unit);
	tcase_add_test(tc, error_counts_follow_rber_and_seed);
	tcase_add_test(tc, read_disturb_counts_reads_since_erase);
	tcase_add_test(tc, named_drive_presets);
	tcase_add_test(tc, bad_keys_exit_2_naming_the_key);
	suite_add_tcase(su, tc);
	return tu_run_suite(su);
}
