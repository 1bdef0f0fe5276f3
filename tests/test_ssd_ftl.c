/*
 * ssdsim FTL without an event queue (ssd_create with q = NULL), the large
 * and lazily built tables, implicit sequential fill and preconditioning.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cli/cli.h"
#include "core/cfg.h"
#include "core/util.h"
#include "ssdsim/run.h"
#include "ssdsim/ssd_int.h"   /* sparse_writes_keep_small_pages: the table state */
#include "tests/common/tu_ssd.h"
#include "tests/common/tutil.h"

static struct run_params run;
static struct ssd_params sp;
static struct wl_params wp;

static void load(const char *preset, const char *const *sets)
{
	tu_ssd_load(preset, sets, &run, &sp, &wp);
}

/* An FTL-only drive (seed 1) of the preset with sets applied. */
static ssd *create(const char *preset, const char *const *sets)
{
	load(preset, sets);
	ssd *s;
	struct nd_err err = { 0 };
	ck_assert_msg(ssd_create(&sp, NULL, NULL, 1, &s, &err) == 0, "%s", err.msg);
	return s;
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

/* Channel of every logical unit, and the FTL counters, of two drives. */
static void same_drive(ssd *a, ssd *b, uint64_t units)
{
	for (uint64_t u = 0; u < units; u++)
		ck_assert_int_eq(ssd_unit_channel(a, u), ssd_unit_channel(b, u));
	struct ssd_stats x, y;
	ssd_get_stats(a, &x);
	ssd_get_stats(b, &y);
	ck_assert_uint_eq(x.flash_prog_pages, y.flash_prog_pages);
	ck_assert_uint_eq(x.pad_units, y.pad_units);
	ck_assert_uint_eq(x.gc_count, y.gc_count);
	ck_assert_uint_eq(x.gc_units_moved, y.gc_units_moved);
	ck_assert_uint_eq(x.flash_erases, y.flash_erases);
	ck_assert_uint_eq(x.erase_max, y.erase_max);
	ck_assert_uint_eq(x.erase_min, y.erase_min);
}

START_TEST(implicit_fill_matches_explicit_programs)
{
	/* Drive a is filled in one call (implicit: nothing materialised); b
	 * gets one program implicitly and the rest unit by unit through the
	 * normal program path.  Both must place every unit alike, then stay
	 * alike through random overwrites with GC, and both verify. */
	const char *cfgs[][12] = {
		{ "ssd.channels=2", "ssd.ways=2", "ssd.dies=1", "ssd.planes=2", "ssd.blocks=16",
		  "ssd.pages=8", "ssd.ftl.op=0.5", "ssd.verify=true", NULL },
		{ "ssd.channels=2", "ssd.ways=1", "ssd.dies=2", "ssd.planes=2", "ssd.blocks=16",
		  "ssd.pages=8", "ssd.ftl.op=0.5", "ssd.verify=true", "ssd.nand.multiplane=false",
		  "ssd.ftl.alloc_order=PDWC", "ssd.ftl.gc_policy=cost_benefit", NULL },
	};
	for (size_t c = 0; c < 2; c++) {
		load(NULL, cfgs[c]);
		ssd *a, *b;
		struct nd_err err = { 0 };
		ck_assert_int_eq(ssd_create(&sp, NULL, NULL, 1, &a, &err), 0);
		ck_assert_int_eq(ssd_create(&sp, NULL, NULL, 1, &b, &err), 0);
		uint64_t cap = ssd_capacity_bytes(a) / ssd_unit_bytes(a);
		uint64_t n = cap - 3;   /* a partial last program */
		uint64_t P = sp.page_bytes / sp.map_unit_bytes * (sp.multiplane ? sp.planes : 1);
		ssd_write_functional(a, 0, n);
		ssd_write_functional(b, 0, P);
		for (uint64_t u = P; u < n; u += P)
			ssd_write_functional(b, u, n - u < P ? n - u : P);
		same_drive(a, b, cap);
		ck_assert_msg(ssd_verify(a, &err) == 0, "%s", err.msg);
		/* 3x the capacity of random single-unit overwrites (LCG). */
		uint64_t x = 12345;
		for (uint64_t i = 0; i < 3 * cap; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			uint64_t u = (x >> 33) % n;
			ssd_write_functional(a, u, 1);
			ssd_write_functional(b, u, 1);
		}
		same_drive(a, b, cap);
		struct ssd_stats st;
		ssd_get_stats(a, &st);
		ck_assert_uint_gt(st.gc_units_moved, cap / 4);
		ck_assert_msg(ssd_verify(a, &err) == 0, "%s", err.msg);
		ck_assert_msg(ssd_verify(b, &err) == 0, "%s", err.msg);
		ssd_destroy(a);
		ssd_destroy(b);
	}
}
END_TEST

START_TEST(verify_3x_overwrites_on_implicit_fill)
{
	/* Must-show 2: a drive filled implicitly, then 3x its capacity of timed
	 * random 4 KiB writes with GC, greedy and cost-benefit: verify finds no
	 * lost, stale or orphaned unit and the block counts agree. */
	const char *sets[] = { "ssd.channels=2", "ssd.ways=1", "ssd.dies=1", "ssd.blocks=64",
			       "ssd.pages=64", "ssd.ftl.op=0.1", "ssd.dram.buffer_mib=1",
			       "ssd.precondition.fill=1", "workload.read_ratio=0",
			       "workload.qd=8", NULL };
	for (int pol = 0; pol < 2; pol++) {
		load(NULL, sets);
		sp.gc_policy = pol ? SSD_GC_COST_BENEFIT : SSD_GC_GREEDY;
		struct ssd_run_result r;
		struct nd_err err = { 0 };
		struct ssd_run_opts o = { .ssd = &sp, .wl = &wp, .seed = 5, .verify = 1 };
		wp.count = 1;
		ck_assert_int_eq(ssd_run(&o, &r, &err), 0);
		uint64_t units = r.capacity_bytes / 4096;
		ssd_run_result_free(&r);
		wp.count = 3 * units;
		ck_assert_msg(ssd_run(&o, &r, &err) == 0, "%s", err.msg);
		ck_assert_int_eq(r.verified, 1);
		ck_assert_uint_gt(r.st.gc_units_moved, units);
		ssd_run_result_free(&r);
	}
}
END_TEST

START_TEST(precondition_overwrite_3x_verifies)
{
	/* Must-show 2 through the preconditioning path itself: an implicitly
	 * filled FTL-only drive, then ssd.precondition.overwrite=3 (3x the
	 * capacity of random functional overwrites with GC, batched and
	 * prefetched), greedy and cost-benefit, multi-plane and not: verify
	 * finds nothing lost, stale or orphaned, and GC really ran: the drive
	 * holds phys_units, so of the 4 x capacity written at least
	 * 4 x capacity - phys_units must have been erased (ssd_create resets
	 * the counters after preconditioning; the wear counts stay). */
	const char *sets[][12] = {
		{ "ssd.channels=2", "ssd.ways=2", "ssd.dies=1", "ssd.blocks=48", "ssd.pages=16",
		  "ssd.ftl.op=0.25", "ssd.verify=true", "ssd.precondition.fill=1",
		  "ssd.precondition.overwrite=3", NULL },
		{ "ssd.channels=2", "ssd.ways=1", "ssd.dies=2", "ssd.blocks=48", "ssd.pages=16",
		  "ssd.ftl.op=0.25", "ssd.verify=true", "ssd.precondition.fill=1",
		  "ssd.precondition.overwrite=3", "ssd.nand.multiplane=false", NULL },
	};
	for (int c = 0; c < 2; c++)
		for (int pol = 0; pol < 2; pol++) {
			load(NULL, sets[c]);
			sp.gc_policy = pol ? SSD_GC_COST_BENEFIT : SSD_GC_GREEDY;
			ssd *s;
			struct nd_err err = { 0 };
			ck_assert_msg(ssd_create(&sp, NULL, NULL, 7, &s, &err) == 0, "%s", err.msg);
			ck_assert_msg(ssd_verify(s, &err) == 0, "%s", err.msg);
			struct ssd_stats st;
			ssd_get_stats(s, &st);
			uint64_t lpn = ssd_capacity_bytes(s) / ssd_unit_bytes(s);
			uint64_t host = lpn + 3 * lpn;   /* fill=1, overwrite=3 */
			uint64_t blocks = (uint64_t)sp.channels * sp.ways * sp.dies * sp.planes *
					  sp.blocks;
			uint64_t upb = (uint64_t)sp.pages * sp.page_bytes / sp.map_unit_bytes;
			double erased = st.erase_mean * (double)blocks * (double)upb;
			ck_assert_uint_eq(st.phys_units, blocks * upb);
			ck_assert_msg(erased >= (double)(host - st.phys_units), "%g erased units of %llu",
				      erased, (unsigned long long)host);
			ssd_destroy(s);
		}
}
END_TEST

START_TEST(wide_map_entries_16tib)
{
	/* The MQSim device scaled to 65536 blocks per plane: 2^32 physical map
	 * units, one more than 32-bit entries (+1 encoding) hold. */
	const char *sets[] = { "ssd.blocks=65536", NULL };
	ssd *s = create("configs/mqsim-default.json", sets);
	struct ssd_stats st;
	ssd_get_stats(s, &st);
	ck_assert_uint_eq(st.map_entry_bits, 64);
	ck_assert_uint_eq(st.phys_units, 4294967296ull);
	uint64_t cap = ssd_capacity_bytes(s) / ssd_unit_bytes(s);
	/* Programs of 4 units go round the 8 channels (CWDP); the last units
	 * live on the last block of their planes' address range only after a
	 * full pass, so also write far beyond 2^31 units. */
	ssd_write_functional(s, cap - 16, 16);
	for (uint64_t i = 0; i < 16; i++)
		ck_assert_int_eq(ssd_unit_channel(s, cap - 16 + i), (int)((i / 4) % 8));
	ck_assert_int_eq(ssd_unit_channel(s, cap / 2), -1);
	ssd_destroy(s);

	char out[4096];
	int rc = tu_ndpsim(out, sizeof out, "ssd --quiet --no-plot --out %s/wide "
			   "--config configs/mqsim-default.json --set ssd.blocks=65536 "
			   "--set ssd.channels=16", tu_tmpdir());
	ck_assert_int_eq(rc, 2);
	ck_assert_msg(strstr(out, "ndpsim: ssd.blocks: geometry has 4294967296 flash pages") != NULL,
		      "%s", out);
	rc = tu_ndpsim(out, sizeof out, "ssd --quiet --no-plot --out %s/wide "
		       "--config configs/mqsim-default.json --set ssd.blocks=65536 "
		       "--set ssd.map_unit_bytes=512 --set ssd.pages=128", tu_tmpdir());
	ck_assert_int_eq(rc, 2);
	ck_assert_msg(strstr(out, "ndpsim: ssd.blocks: geometry has") != NULL &&
		      strstr(out, "logical map units") != NULL, "%s", out);
}
END_TEST

/* Scattered writes on a large drive keep the mapping small: a chunk of the
 * mapping starts sparse (LT_SPARSE entries in a few hundred bytes), and
 * the table takes huge pages only once dense (LT_DENSE_CHUNKS and an eighth
 * of its chunks full), else each touch would cost 2 MiB (10^5 random
 * writes on the 16 TiB drive reached 11 GB of RSS).  20,000 units 150,001
 * apart on it: one chunk each, all sparse, more than LT_DENSE_CHUNKS; then
 * LT_SPARSE + 1 units in each of 17,000 further chunks: full, more than
 * LT_DENSE_CHUNKS but 0.4 % of its 3.9 M, so still no huge pages; on the
 * 512 GiB preset the same 17,000 full chunks (of its 122,071) are above
 * both bounds, so huge pages. */
static void write_strided(ssd *s, uint64_t base, uint64_t chunks, uint64_t stride, uint64_t per)
{
	uint64_t n = chunks * per;
	uint64_t *u = xmalloc(n * sizeof *u);
	for (uint64_t i = 0; i < n; i++)
		u[i] = base + i / per * stride + i % per;
	ssd_write_functional_list(s, u, n);
	free(u);
}

START_TEST(sparse_writes_keep_small_pages)
{
	const char *sets[] = { "ssd.blocks=65536", NULL };
	ssd *s = create("configs/mqsim-default.json", sets);
	write_strided(s, 0, 20000, 150001, 1);
	ck_assert_uint_eq(s->l2p.n_live, 20000);   /* one chunk per unit written */
	ck_assert_uint_gt(s->l2p.n_live, LT_DENSE_CHUNKS);
	ck_assert_uint_eq(s->l2p.n_full, 0);      /* each holds one entry: sparse */
	ck_assert_int_eq(s->l2p.huge, 0);
	/* full chunks above LT_DENSE_CHUNKS, but far from an eighth of them */
	write_strided(s, 3500000000ull, 17000, 1024, LT_SPARSE + 1);
	ck_assert_uint_eq(s->l2p.n_full, 17000);
	ck_assert_int_eq(s->l2p.huge, 0);
	ssd_destroy(s);
	const char *none[] = { NULL };
	s = create("configs/mqsim-default.json", none);
	write_strided(s, 0, 17000, 1024, LT_SPARSE + 1);
	ck_assert_uint_eq(s->l2p.n_live, 17000);
	ck_assert_uint_eq(s->l2p.n_full, 17000);
	ck_assert_int_eq(s->l2p.huge, s->l2p.arena != NULL);
	ssd_destroy(s);
}
END_TEST

/* struct ltab against a plain array: random stores (a tenth of them zero)
 * and loads, on chunks that stay sparse (a few entries), that overflow the
 * sparse form, made full by lt_chunk_new() and after lt_dense(); 32- and
 * 64-bit entries, with the reserved mapping and with calloc'd chunks. */
START_TEST(table_matches_an_array)
{
	enum { N = 40 * LT_CHUNK + 123 };
	uint64_t *ref = xcalloc(N, sizeof *ref), x = 12345;
	for (int variant = 0; variant < 4; variant++) {
		int wide = variant & 1, no_arena = variant >> 1;
		struct ltab t;
		lt_init(&t, N, wide);
		t.sparse = 1;
		if (no_arena && t.arena) {
			munmap(t.arena, t.arena_bytes);
			t.arena = NULL;
		}
		memset(ref, 0, N * sizeof *ref);
		for (int op = 0; op < 200000; op++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			uint64_t r = x >> 16;
			/* chunks 0-9 hot (overflow), 10-39 a few entries each */
			uint64_t ci = r % 4 ? r % 10 : 10 + (r >> 8) % 31;
			uint64_t i = ci * LT_CHUNK + (ci < 10 ? (r >> 20) % LT_CHUNK : (r >> 20) % 24);
			if (i >= N)
				i = N - 1;
			uint64_t v = (r >> 7) % 10 ? (r >> 3) & (wide ? 0xffffffffffull : 0xffffffffu) : 0;
			if (op % 3) {
				lt_set(&t, i, v);
				ref[i] = v;
			} else {
				ck_assert_uint_eq(lt_get(&t, i), ref[i]);
			}
			if (op == 100000)
				(void)lt_chunk_new(&t, 12);   /* a sparse chunk made full */
			if (op == 150000)
				lt_dense(&t);
		}
		uint32_t sparse = 0;
		for (uint64_t ci = 0; ci < (N + LT_CHUNK - 1) / LT_CHUNK; ci++)
			sparse += t.chunk[ci] && lt_is_sparse(t.chunk[ci]);
		ck_assert_uint_gt(sparse, 20);   /* the cold chunks stayed sparse */
		ck_assert_msg(!lt_is_sparse(t.chunk[3]) && !lt_is_sparse(t.chunk[12]),
			      "a hot chunk and a made-full one are full");
		for (uint64_t i = 0; i < N; i++)
			ck_assert_uint_eq(lt_get(&t, i), ref[i]);
		lt_fini(&t);
	}
	free(ref);
}
END_TEST

START_TEST(trace_aware_preconditioning)
{
	/* Reads units 0-9, writes 5-14, reads 12-20 (4 KiB units = 8 sectors).
	 * Read before first written: 0-9 and 15-20, 16 units; 12-14 are read
	 * after their write: 5-12 went to flash as two 4-unit programs done
	 * long before the read, 13-14 still sit in the buffer (2 hits). */
	const char *tr = tu_write_file("pre.ascii",
				       "0 0 0 80 1\n1000000 0 40 80 0\n2000000 0 96 72 1\n");
	const char *sets[] = { "ssd.blocks=64", NULL };
	load(NULL, sets);
	struct wl_trace t;
	struct nd_err err = { 0 };
	ck_assert_msg(wl_trace_load(tr, WL_TRACE_DISKSIM, &t, &err) == 0, "%s", err.msg);
	struct ssd_run_result r;
	struct ssd_run_opts o = { .ssd = &sp, .wl = &wp, .trace = &t, .seed = 1, .verify = 1 };
	ck_assert_msg(ssd_run(&o, &r, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(r.pre_trace_units, 16);
	ck_assert_uint_eq(r.st.unmapped_reads, 0);
	ck_assert_uint_eq(r.st.read_units, 19);
	ck_assert_uint_eq(r.st.buffer_read_hits, 2);
	char warn[512];
	ck_assert_int_eq(ssd_run_unmapped_warning(&r, warn, sizeof warn), 0);
	ssd_run_result_free(&r);
	sp.pre_trace = 0;
	ck_assert_msg(ssd_run(&o, &r, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(r.pre_trace_units, 0);
	ck_assert_uint_eq(r.st.unmapped_reads, 16);
	ck_assert_int_eq(ssd_run_unmapped_warning(&r, warn, sizeof warn), 1);
	ck_assert_ptr_nonnull(strstr(warn, "16 of 19 read map units (84.2 %)"));
	ck_assert_ptr_nonnull(strstr(warn, "ssd.precondition.trace=true"));
	ssd_run_result_free(&r);
	wl_trace_free(&t);
	/* The CLI prints it. */
	char out[4096];
	int rc = tu_ndpsim(out, sizeof out, "ssd --quiet --no-plot --out %s/pre --set ssd.blocks=64 "
			   "--set ssd.precondition.trace=false --trace %s --format disksim",
			   tu_tmpdir(), tr);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(strstr(out, "ndpsim: warning: 16 of 19 read map units") != NULL, "%s", out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ssd_ftl");
	TCase *tc = tcase_create("ssd_ftl");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, ftl_without_event_queue);
	tcase_add_test(tc, implicit_fill_matches_explicit_programs);
	tcase_add_test(tc, verify_3x_overwrites_on_implicit_fill);
	tcase_add_test(tc, precondition_overwrite_3x_verifies);
	tcase_add_test(tc, wide_map_entries_16tib);
	tcase_add_test(tc, sparse_writes_keep_small_pages);
	tcase_add_test(tc, table_matches_an_array);
	tcase_add_test(tc, trace_aware_preconditioning);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
