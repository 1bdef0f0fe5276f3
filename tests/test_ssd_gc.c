/*
 * ssdsim garbage collection (issue 11 item 4): victim policies on a
 * hand-built block state, copyback's saved channel time, --verify after
 * random overwrites with every policy, and preemptible GC's first-second
 * write tail against the steady state.  This test reaches into the FTL's
 * private layout (ssdsim/ssd_int.h) to build block states by hand.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/cfg.h"
#include "core/evq.h"
#include "core/rng.h"
#include "core/util.h"
#include "ssdsim/ssd_int.h"
#include "tests/common/tu_ssd.h"
#include "tests/common/tutil.h"

static struct run_params run;
static struct ssd_params sp;
static struct wl_params wp;

static void load(const char *const *sets)
{
	tu_ssd_load(NULL, sets, &run, &sp, &wp);
}

static void nop(evq *q, struct evq_event *ev) { (void)q; (void)ev; }

/* One plane of 16 blocks of 4 pages x 2 units (8 units a block). */
static const char *const one_plane[] = {
	"ssd.channels=1", "ssd.ways=1", "ssd.dies=1", "ssd.planes=1", "ssd.blocks=16",
	"ssd.pages=4", "ssd.ftl.op=1", "ssd.ftl.gc_threshold_blocks=1", "ssd.dram.buffer_mib=1",
	NULL
};

/* Block states of the plane: state, valid units, seal order, last write. */
struct bst { int state; uint32_t valid; uint64_t seal, t_write; };
static const struct bst blocks[16] = {
	[1] = { BLK_FULL, 8, 4, 0 },               /* all valid: never a victim */
	[2] = { BLK_FULL, 5, 3, 500000000 },
	[3] = { BLK_FULL, 2, 9, 1000000000 - 1000 },
	[4] = { BLK_OPEN, 1, 0, 0 },               /* open: never a victim */
	[5] = { BLK_FULL, 2, 1, 1000000000 - 10 },
	[6] = { BLK_FULL, 6, 2, 0 },
};
#define NOW_NS 1000000000ull

static ssd *hand_built(evq **qp)
{
	load(one_plane);
	evq *q;
	ck_assert_int_eq(evq_create(16, &q), 0);
	ssd *s;
	struct nd_err err = { 0 };
	ck_assert_int_eq(ssd_create(&sp, q, NULL, 1, &s, &err), 0);
	/* the clock at NOW_NS, for cost-benefit ages */
	struct evq_event ev = { 0 };
	ck_assert_int_eq(evq_schedule(q, &ev, NOW_NS, nop), 0);
	evq_run(q, UINT64_MAX);
	ck_assert_uint_eq(evq_now(q), NOW_NS);
	ck_assert_uint_eq(s->units_per_block, 8);
	for (int i = 0; i < 16; i++) {
		s->blk[i].state = (uint8_t)blocks[i].state;
		s->blk[i].valid = blocks[i].valid;
		s->blk[i].seal = blocks[i].seal;
		s->blk[i].t_write_ns = blocks[i].t_write;
	}
	*qp = q;
	return s;
}

static int eligible(int i) { return blocks[i].state == BLK_FULL && blocks[i].valid < 8; }

START_TEST(victim_policies_on_hand_built_state)
{
	evq *q;
	ssd *s = hand_built(&q);
	/* greedy: fewest valid (2), first such block: 3 (5 ties later) */
	s->p.gc_policy = SSD_GC_GREEDY;
	ck_assert_uint_eq(ftl_pick_victim(s, 0), 3);
	/* fifo: smallest seal among the reclaimable: block 5 (seal 1) */
	s->p.gc_policy = SSD_GC_FIFO;
	ck_assert_uint_eq(ftl_pick_victim(s, 0), 5);
	/* cost-benefit (1-u)/2u x age, by hand at now = 1e9 ns:
	 *   2: u 5/8, age 5e8+1: 0.3 x (5e8+1)  = 1.500e8
	 *   3: u 2/8, age 1001:  1.5 x 1001     = 1501.5
	 *   5: u 2/8, age 11:    1.5 x 11       = 16.5
	 *   6: u 6/8, age 1e9+1: 1/6 x (1e9+1)  = 1.667e8  -> 6 */
	s->p.gc_policy = SSD_GC_COST_BENEFIT;
	ck_assert_uint_eq(ftl_pick_victim(s, 0), 6);

	/* random: uniform over {2, 3, 5, 6} */
	enum { N = 40000 };
	int cnt[16] = { 0 };
	s->p.gc_policy = SSD_GC_RANDOM;
	for (int k = 0; k < N; k++) {
		uint32_t v = ftl_pick_victim(s, 0);
		ck_assert_uint_lt(v, 16);
		cnt[v]++;
	}
	for (int i = 0; i < 16; i++) {
		if (!eligible(i)) {
			ck_assert_int_eq(cnt[i], 0);
			continue;
		}
		/* p = 1/4, sd = sqrt(N p (1-p)) ~ 87: within 6 sd */
		ck_assert_msg(fabs(cnt[i] - N / 4.0) < 6 * sqrt(N * 0.25 * 0.75),
			      "random: block %d chosen %d times of %d", i, cnt[i], N);
	}

	/* d_choices, d = 2: the expected choice frequencies by enumerating
	 * all 16 x 16 ordered draws (the fewest valid reclaimable block
	 * drawn, the first on a tie; none reclaimable: greedy, block 3). */
	double want[16] = { 0 };
	for (int a = 0; a < 16; a++)
		for (int b = 0; b < 16; b++) {
			int pick = -1;
			if (eligible(a))
				pick = a;
			if (eligible(b) && (pick < 0 || blocks[b].valid < blocks[pick].valid))
				pick = b;
			want[pick < 0 ? 3 : pick] += 1.0 / 256;
		}
	memset(cnt, 0, sizeof cnt);
	s->p.gc_policy = SSD_GC_DCHOICES;
	s->p.gc_window = 2;
	for (int k = 0; k < N; k++)
		cnt[ftl_pick_victim(s, 0)]++;
	for (int i = 0; i < 16; i++) {
		double sd = sqrt(N * want[i] * (1 - want[i]));
		ck_assert_msg(fabs(cnt[i] - N * want[i]) <= 6 * sd + 1e-9,
			      "d_choices: block %d chosen %d times, expected %.1f", i, cnt[i],
			      N * want[i]);
	}
	/* a window far larger than the plane is greedy except with
	 * probability (14/16)^4096 of never drawing block 3 or 5 ... and block
	 * 5 ties block 3: either may win, nothing else */
	s->p.gc_window = 4096;
	for (int k = 0; k < 200; k++) {
		uint32_t v = ftl_pick_victim(s, 0);
		ck_assert(v == 3 || v == 5);
	}
	/* nothing reclaimable: NONE for every policy */
	for (int i = 0; i < 16; i++)
		if (s->blk[i].state == BLK_FULL)
			s->blk[i].valid = 8;
	for (int pol = SSD_GC_GREEDY; pol <= SSD_GC_DCHOICES; pol++) {
		s->p.gc_policy = pol;
		ck_assert_uint_eq(ftl_pick_victim(s, 0), NONE);
	}
	/* (the hand-made state is not a consistent drive: no destroy checks) */
	ssd_destroy(s);
	evq_destroy(q);
}
END_TEST

START_TEST(dchoices_first_drawn_wins_a_tie)
{
	/* d_choices with d = 4 on the hand-built plane, replayed draw by draw
	 * on a copy of the drive's generator: the victim is the reclaimable
	 * block with the fewest valid units among the 4 drawn, the FIRST drawn
	 * of those on a tie (blocks 3 and 5 both hold 2), greedy (block 3)
	 * when none drawn is reclaimable.  Frequencies alone cannot tell first
	 * from last on a tie (the ordered draws are symmetric); this can. */
	evq *q;
	ssd *s = hand_built(&q);
	s->p.gc_policy = SSD_GC_DCHOICES;
	s->p.gc_window = 4;
	struct rng shadow = s->rng;
	int ties_first_not_last = 0;
	for (int k = 0; k < 4000; k++) {
		int first = -1, last = -1;
		for (int j = 0; j < 4; j++) {
			int b = (int)rng_below(&shadow, 16);
			if (!eligible(b))
				continue;
			if (first < 0 || blocks[b].valid < blocks[first].valid)
				first = b;
			if (last < 0 || blocks[b].valid <= blocks[last].valid)
				last = b;
		}
		uint32_t want = first < 0 ? 3 : (uint32_t)first;
		ties_first_not_last += first != last;
		ck_assert_uint_eq(ftl_pick_victim(s, 0), want);
	}
	ck_assert_int_gt(ties_first_not_last, 100);   /* the rule was exercised */
	ssd_destroy(s);
	evq_destroy(q);
}
END_TEST

START_TEST(copyback_does_not_wait_for_the_channel)
{
	/* Two dies on one channel.  Die 1 starts a host program of 4 pages
	 * (32 KiB over the channel, ~98 us); at the same instant die 0 starts
	 * a copyback GC read and, behind it, a copyback GC program: neither
	 * crosses the channel, so the read ends at tR and the program's array
	 * phase starts at once (ends tR + tPROG), not when the channel frees.
	 * Without copyback the same read waits for the channel before its
	 * transfer. */
	const char *sets[] = { "ssd.channels=1", "ssd.ways=2", "ssd.dies=1", "ssd.blocks=32",
			       "ssd.pages=16", "ssd.ftl.op=0.5", NULL };
	for (int cb = 1; cb >= 0; cb--) {
		load(sets);
		evq *q;
		ck_assert_int_eq(evq_create(16, &q), 0);
		ssd *s;
		struct nd_err err = { 0 };
		ck_assert_int_eq(ssd_create(&sp, q, NULL, 1, &s, &err), 0);
		ck_assert_uint_eq(s->die[0].chan, s->die[1].chan);
		struct fop *host = flash_new_op(s, OP_PROG, 1);
		host->npages = 4;
		host->xfer_bytes = 4 * 8192;
		flash_enqueue(s, host, 0);
		uint64_t ch_free = s->ch[0].free_ns;
		ck_assert_uint_eq(ch_free, 8 * nd_xfer_ns(4096, 333e6));   /* per map unit */
		flash_gc_op(s, 0, OP_READ, 3, cb ? 0 : 2);
		struct fop *rd = s->die[0].cur;
		ck_assert_ptr_nonnull(rd);
		s->blk[page_block(s, 40)].gc_pend++;   /* as ftl.c's GC would */
		flash_gc_op(s, 0, OP_PROG, 40, cb ? 0 : 1);
		evq_run(q, (uint64_t)sp.t_read_ns);
		if (cb) {
			/* the read is done at tR; the program runs from tR */
			struct fop *pg = s->die[0].cur;
			ck_assert_ptr_nonnull(pg);
			ck_assert_int_eq(pg->kind, OP_PROG);
			ck_assert_uint_eq(pg->t_array, (uint64_t)sp.t_read_ns);
			ck_assert_uint_eq(pg->t_end, (uint64_t)sp.t_read_ns + (uint64_t)sp.t_prog_ns);
			ck_assert_uint_eq(s->ch[0].free_ns, ch_free);   /* untouched */
		} else {
			/* tR < the host transfer: the read's 2 units wait for it */
			ck_assert_uint_lt((uint64_t)sp.t_read_ns, ch_free);
			ck_assert_ptr_eq(s->die[0].cur, rd);
			ck_assert_uint_eq(s->ch[0].free_ns, ch_free + 2 * nd_xfer_ns(4096, 333e6));
		}
		evq_run(q, UINT64_MAX);
		ck_assert_uint_eq(s->die[0].load, 0);
		ssd_destroy(s);
		evq_destroy(q);
	}
}
END_TEST

/* ---- a closed-loop random-write driver with per-request latencies */

struct drv {
	ssd *s;
	evq *q;
	struct rng rng;
	uint64_t units, left;
	uint32_t ub;
	int read_pct;
	/* per write: submit time, latency */
	uint64_t *t_sub, *lat;
	size_t n, cap;
};

struct hreq {
	struct ssd_req r;
	struct drv *d;
};

static void issue(struct drv *d, struct hreq *h);

static void on_done(ssd *s, struct ssd_req *r)
{
	(void)s;
	struct hreq *h = (struct hreq *)r;
	struct drv *d = h->d;
	if (r->is_write) {
		if (d->n == d->cap) {
			d->cap = d->cap ? 2 * d->cap : 4096;
			d->t_sub = xrealloc(d->t_sub, d->cap * sizeof *d->t_sub);
			d->lat = xrealloc(d->lat, d->cap * sizeof *d->lat);
		}
		d->t_sub[d->n] = r->t_submit_ns;
		d->lat[d->n++] = r->t_done_ns - r->t_submit_ns;
	}
	if (d->left)
		issue(d, h);
}

static void issue(struct drv *d, struct hreq *h)
{
	d->left--;
	memset(&h->r, 0, sizeof h->r);
	h->d = d;
	h->r.off_bytes = rng_below(&d->rng, d->units) * d->ub;
	h->r.len_bytes = d->ub;
	h->r.is_write = (int)rng_below(&d->rng, 100) >= d->read_pct;
	h->r.done = on_done;
	ck_assert_int_eq(ssd_submit(d->s, &h->r), 0);
}

/* Runs count random 4 KiB requests (read_pct % reads) at queue depth qd on
 * a drive made from sp; the drive is left in *d (drained). */
static void drive_run(struct drv *d, uint64_t count, int qd, int read_pct, uint64_t seed)
{
	memset(d, 0, sizeof *d);
	struct nd_err err = { 0 };
	ck_assert_int_eq(evq_create(1024, &d->q), 0);
	ck_assert_msg(ssd_create(&sp, d->q, NULL, seed, &d->s, &err) == 0, "%s", err.msg);
	rng_seed(&d->rng, seed, 17);
	d->ub = ssd_unit_bytes(d->s);
	d->units = ssd_capacity_bytes(d->s) / d->ub;
	d->left = count;
	d->read_pct = read_pct;
	struct hreq *h = xcalloc((size_t)qd, sizeof *h);
	for (int i = 0; i < qd && d->left; i++)
		issue(d, &h[i]);
	evq_run(d->q, UINT64_MAX);
	ssd_drain(d->s);
	ck_assert_msg(ssd_status(d->s, &err) == 0, "%s", err.msg);
	free(h);
}

static void drive_free(struct drv *d)
{
	ssd_destroy(d->s);
	evq_destroy(d->q);
	free(d->t_sub);
	free(d->lat);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* p99.9 of the latencies of writes submitted in [t0, t1). */
static uint64_t p999(const struct drv *d, uint64_t t0, uint64_t t1, size_t *n_out)
{
	uint64_t *v = xmalloc((d->n + 1) * sizeof *v);
	size_t n = 0;
	for (size_t i = 0; i < d->n; i++)
		if (d->t_sub[i] >= t0 && d->t_sub[i] < t1)
			v[n++] = d->lat[i];
	*n_out = n;
	if (!n) {
		free(v);
		return 0;
	}
	qsort(v, n, sizeof *v, cmp_u64);
	size_t k = (size_t)ceil(0.999 * (double)n) - 1;
	uint64_t r = v[k];
	free(v);
	return r;
}

START_TEST(copyback_saves_the_gc_transfers)
{
	/* One map unit per page (8 KiB units): every GC move is one page read
	 * out over the channel and one page programmed back in.  Greedy GC,
	 * static allocation and QD1 make the FTL's decisions independent of
	 * timing, so both runs move the same units; copyback must save
	 * exactly 2 x moved x 8 KiB of channel traffic and 2 x moved page
	 * transfers of channel time. */
	const char *sets[] = { "ssd.channels=2", "ssd.ways=1", "ssd.dies=1", "ssd.blocks=32",
			       "ssd.pages=32", "ssd.map_unit_bytes=8192", "ssd.ftl.op=0.25",
			       "ssd.dram.buffer_mib=1", "ssd.precondition.fill=1",
			       "ssd.precondition.overwrite=1", NULL, NULL };
	struct ssd_stats st[2];
	uint64_t busy[2];
	for (int cb = 0; cb < 2; cb++) {
		sets[10] = cb ? "ssd.ftl.copyback=true" : "ssd.ftl.copyback=false";
		load(sets);
		struct drv d;
		drive_run(&d, 6000, 1, 0, 3);
		ssd_get_stats(d.s, &st[cb]);
		busy[cb] = 0;
		for (int c = 0; c < 2; c++)
			busy[cb] += ssd_channel_busy_ns(d.s, c);
		drive_free(&d);
	}
	ck_assert_uint_gt(st[0].gc_units_moved, 1000);
	ck_assert_uint_eq(st[0].gc_units_moved, st[1].gc_units_moved);
	ck_assert_uint_eq(st[0].flash_erases, st[1].flash_erases);
	ck_assert_uint_eq(st[0].flash_prog_pages, st[1].flash_prog_pages);
	uint64_t moved = st[0].gc_units_moved;
	ck_assert_uint_eq(st[0].channel_bytes - st[1].channel_bytes, 2 * moved * 8192);
	/* one 8 KiB page on a 333 MT/s x 8-bit channel (the default): 8192 /
	 * 333e6 s = 24.6 us, rounded to whole ns per transfer */
	double t_page = 8192 / 333e6 * 1e9;
	double saved = (double)(busy[0] - busy[1]);
	ck_assert_msg(fabs(saved - 2.0 * (double)moved * t_page) <= 2.0 * (double)moved,
		      "saved %.0f ns, expected %.0f", saved, 2.0 * (double)moved * t_page);
}
END_TEST

START_TEST(verify_after_overwrites_every_policy)
{
	const char *pols[] = { "greedy", "cost_benefit", "random", "fifo", "d_choices" };
	char pol[64], pre[64];
	for (int k = 0; k < 5; k++)
		for (int preempt = 0; preempt < 2; preempt++) {
			snprintf(pol, sizeof pol, "ssd.ftl.gc_policy=%s", pols[k]);
			snprintf(pre, sizeof pre, "ssd.ftl.gc_preempt=%s", preempt ? "true" : "false");
			const char *sets[] = { "ssd.channels=2", "ssd.ways=1", "ssd.dies=1",
					       "ssd.blocks=32", "ssd.pages=16", "ssd.ftl.op=0.3",
					       "ssd.ftl.gc_threshold_blocks=3",
					       "ssd.dram.buffer_mib=1", "ssd.verify=true",
					       "ssd.precondition.fill=1", "ssd.ftl.copyback=true",
					       pol, pre, NULL };
			load(sets);
			struct drv d;
			/* 3x the capacity of random overwrites (and 20 % reads) */
			drive_run(&d, 1, 1, 0, 9);
			uint64_t cap = d.units;
			drive_free(&d);
			drive_run(&d, 3 * cap * 10 / 8, 16, 20, 9 + (uint64_t)k);
			struct ssd_stats st;
			ssd_get_stats(d.s, &st);
			ck_assert_uint_gt(st.gc_count, 10);
			struct nd_err err = { 0 };
			ck_assert_msg(ssd_verify(d.s, &err) == 0, "%s preempt %d: %s", pols[k],
				      preempt, err.msg);
			drive_free(&d);
		}
}
END_TEST

/* ---- reads of a unit whose GC move has not run (issue 11 (b)) */

static int one_done;
static void on_one(ssd *s, struct ssd_req *r) { (void)s; (void)r; one_done = 1; }

/* One die, one plane of 16 blocks x 64 4 KiB pages (one unit a page),
 * op 1, verify on, TLC page types by index (LSB 41 us, CSB 62 us, MSB
 * 87 us); `mapping` is the ssd.ftl.mapping setting, with a 4 KiB CMT when
 * cached. */
static ssd *tlc_one_die(const char *mapping, evq **qp)
{
	const char *sets[] = { "ssd.channels=1", "ssd.ways=1", "ssd.dies=1", "ssd.planes=1",
			       "ssd.blocks=16", "ssd.pages=64", "ssd.page_bytes=4096", "ssd.ftl.op=1",
			       mapping, "ssd.ftl.cmt_bytes=4096",
			       "ssd.nand.cell=tlc", "ssd.nand.t_read_lsb_ns=41000",
			       "ssd.nand.t_read_csb_ns=62000", "ssd.nand.t_read_msb_ns=87000",
			       "ssd.nand.t_prog_lsb_ns=400000", "ssd.nand.t_prog_csb_ns=1100000",
			       "ssd.nand.t_prog_msb_ns=2300000", "ssd.verify=true", NULL };
	load(sets);
	ck_assert_int_eq(evq_create(16, qp), 0);
	ssd *s;
	struct nd_err err = { 0 };
	ck_assert_msg(ssd_create(&sp, *qp, NULL, 1, &s, &err) == 0, "%s", err.msg);
	return s;
}

START_TEST(read_during_pending_move_reads_old_page)
{
	/* One die, one plane, 4 KiB pages (one unit a page), TLC page types
	 * by index (LSB 41 us, CSB 62 us, MSB 87 us; page 12 of a block is an
	 * MSB page, page 0 an LSB one).  Units 0..63 fill block 0 (unit u on
	 * page u); units 0..11 written again go to block 1, so block 0 keeps
	 * units 12..63.  GC of block 0 at t = 0 moves unit 12 first: it reads
	 * page 12 (the die starts at once) and will program it to page 0 of
	 * the GC block (block 2).  A host read of unit 12 submitted at t = 0
	 * reaches the die at link + firmware time while the GC read runs; the
	 * move's program has not run, so it must read page 12 (MSB), not the
	 * destination (LSB): latency = GC read (tR_MSB + one unit over the
	 * channel) + tR_MSB + one unit over the channel + 4 KiB over the link.
	 * Once the moves ran the same read costs link + firmware + tR_LSB +
	 * channel + link at the destination. */
	evq *q;
	ssd *s = tlc_one_die("ssd.ftl.mapping=ideal", &q);
	struct nd_err err = { 0 };
	ssd_write_functional(s, 0, 64);
	uint64_t again[12];
	for (int i = 0; i < 12; i++)
		again[i] = (uint64_t)i;
	ssd_write_functional_list(s, again, 12);
	ck_assert_uint_eq(s->blk[0].valid, 52);
	ck_assert_uint_eq(ftl_l2p(s, 12), 12);
	ck_assert_int_eq(ftl_gc_collect(s, 0, 0), 0);
	uint64_t dst = ftl_l2p(s, 12);
	ck_assert_uint_eq(pua_page(s, dst), 2 * 64);   /* page 0 of block 2 */
	ck_assert_uint_eq(ftl_read_pua(s, 12), 12);     /* not programmed yet */
	ck_assert_ptr_nonnull(s->die[0].cur);            /* the GC read of page 12 */
	ck_assert_uint_eq(s->die[0].cur->ids[0], 12);

	struct ssd_req r = { 0 };
	r.off_bytes = 12 * 4096;
	r.len_bytes = 4096;
	r.done = on_one;
	one_done = 0;
	ck_assert_int_eq(ssd_submit(s, &r), 0);
	uint64_t ctrl = (uint64_t)llround(sp.ctrl_cycles_per_cmd * 1000.0 / sp.ctrl_clock_mhz);
	evq_run(q, sp.link_lat_ns + ctrl);
	ck_assert_ptr_nonnull(s->die[0].rq_head);        /* queued behind the GC read */
	ck_assert_uint_eq(s->die[0].rq_head->ids[0], 12);
	evq_run(q, UINT64_MAX);
	ck_assert(one_done);
	double ch = ssd_channel_bytes_per_s(&sp), link = ssd_link_bytes_per_s(&sp);
	uint64_t cx = nd_xfer_ns(4096, ch), lx = nd_xfer_ns(4096, link);
	uint64_t want = (87000 + cx) + 87000 + cx + lx;
	ck_assert_msg(r.t_done_ns - r.t_submit_ns == want, "pending move: %llu ns, want %llu",
		      (unsigned long long)(r.t_done_ns - r.t_submit_ns), (unsigned long long)want);
	/* every move ran: nothing pending, the read goes to the destination */
	ck_assert_uint_eq(s->die[0].mv_n, 0);
	for (uint32_t b = 0; b < 16; b++)
		ck_assert_uint_eq(s->blk[b].gc_pend, 0);
	ck_assert_uint_eq(ftl_read_pua(s, 12), dst);
	struct ssd_req r2 = { 0 };
	r2.off_bytes = 12 * 4096;
	r2.len_bytes = 4096;
	r2.done = on_one;
	one_done = 0;
	ck_assert_int_eq(ssd_submit(s, &r2), 0);
	evq_run(q, UINT64_MAX);
	ck_assert(one_done);
	ck_assert_uint_eq(r2.t_done_ns - r2.t_submit_ns, sp.link_lat_ns + ctrl + 41000 + cx + lx);
	ck_assert_msg(ssd_verify(s, &err) == 0, "%s", err.msg);
	ssd_destroy(s);
	evq_destroy(q);
}
END_TEST

/* The same for a translation page (ssd.ftl.mapping=cached): a CMT miss
 * whose translation page's GC move has not been programmed reads the page
 * the translation unit was moved from (cmt.c xlate_read). */
START_TEST(xlate_read_during_pending_move_reads_old_page)
{
	evq *q;
	ssd *s = tlc_one_die("ssd.ftl.mapping=cached", &q);
	struct nd_err err = { 0 };
	/* Units 0..62 on pages 0..62 of block 0, then the translation page
	 * (all 512 entries of this drive) on page 63. */
	ssd_write_functional(s, 0, 63);
	uint32_t tu = (uint32_t)s->n_lpn;   /* translation page 0's unit */
	ck_assert_uint_eq(ftl_l2p(s, tu), 63);
	ck_assert_uint_eq(s->blk[0].valid, 64);
	/* GC of block 0 moves all 64 units to block 1 (the GC block), the
	 * translation unit last: decided, not programmed. */
	ck_assert_int_eq(ftl_gc_collect(s, 0, 0), 0);
	ck_assert_uint_eq(ftl_l2p(s, tu), 64 + 63);
	ck_assert_uint_eq(ftl_read_pua(s, tu), 63);
	struct ssd_stats st;
	ssd_get_stats(s, &st);
	uint64_t xr0 = st.xlate_read_pages;
	struct ssd_req r = { 0 };
	r.off_bytes = 5 * 4096;
	r.len_bytes = 4096;
	r.done = on_one;
	one_done = 0;
	ck_assert_int_eq(ssd_submit(s, &r), 0);
	uint64_t ctrl = (uint64_t)llround(sp.ctrl_cycles_per_cmd * 1000.0 / sp.ctrl_clock_mhz);
	evq_run(q, sp.link_lat_ns + ctrl);
	ssd_get_stats(s, &st);
	ck_assert_uint_eq(st.xlate_read_pages, xr0 + 1);   /* a CMT miss */
	const struct fop *x = NULL;
	for (const struct fop *f = s->die[0].rq_head; f; f = f->next)
		if (f->xlate)
			x = f;
	ck_assert_ptr_nonnull(x);
	ck_assert_uint_eq(x->ids[0], 63);   /* the old page, not 127 */
	evq_run(q, UINT64_MAX);
	ck_assert(one_done);
	/* the moves ran (and the GC's mapping changes were written back,
	 * moving the translation page again): nothing pending, the next miss
	 * (unit 6) reads the page the mapping names */
	uint64_t now = ftl_l2p(s, tu);
	ck_assert_uint_eq(ftl_read_pua(s, tu), now);
	struct ssd_req r2 = { 0 };
	r2.off_bytes = 6 * 4096;
	r2.len_bytes = 4096;
	r2.done = on_one;
	one_done = 0;
	ck_assert_int_eq(ssd_submit(s, &r2), 0);
	evq_run(q, sp.link_lat_ns + ctrl + r2.t_submit_ns);
	x = NULL;
	for (const struct fop *f = s->die[0].cur; f; f = NULL)
		if (f->xlate)
			x = f;
	ck_assert_ptr_nonnull(x);
	ck_assert_uint_eq(x->ids[0], now);
	evq_run(q, UINT64_MAX);
	ck_assert(one_done);
	ck_assert_msg(ssd_verify(s, &err) == 0, "%s", err.msg);
	ssd_destroy(s);
	evq_destroy(q);
}
END_TEST

START_TEST(preempt_order_on_one_die)
{
	/* One die, two planes.  GC queues a read (which starts at once on the
	 * idle die), a program and a read; then a host program is queued.
	 * When the GC read is done (tR + 2 units over the channel) the die
	 * takes: without gc_preempt, the GC program (queue order); with it and
	 * the planes above the hard threshold, the host program; with a plane
	 * at the hard threshold (erased blocks minus those whose erase has not
	 * run), the GC program again (queue order).  The same with ECC on (an
	 * error-free RBER, so the times stay those above): a GC read draws its
	 * bit errors when the die starts it, so GC operations queue lazily and
	 * are preempted as without ECC. */
	for (int m = 0; m < 6; m++) {
		int mode = m % 3, ecc = m / 3;
		const char *sets[] = { "ssd.channels=1", "ssd.ways=1", "ssd.dies=1", "ssd.blocks=32",
				       "ssd.pages=16", "ssd.ftl.op=0.5", "ssd.ftl.gc_threshold_blocks=4",
				       "ssd.ftl.gc_hard_threshold_blocks=2",
				       mode ? "ssd.ftl.gc_preempt=true" : "ssd.ftl.gc_preempt=false",
				       ecc ? "ssd.nand.ecc.type=ldpc" : NULL, "ssd.nand.rber.base=0",
				       "ssd.nand.rber.pe_coef=0", "ssd.nand.rber.rd_coef=0",
				       "ssd.nand.rber.ret_coef=0", NULL };
		load(sets);
		evq *q;
		ck_assert_int_eq(evq_create(16, &q), 0);
		ssd *s;
		struct nd_err err = { 0 };
		ck_assert_int_eq(ssd_create(&sp, q, NULL, 1, &s, &err), 0);
		if (mode == 2)   /* plane 1: 32 erased blocks, 30 of them not yet */
			s->pl[1].free_pend = s->pl[1].nfree - 2;
		flash_gc_op(s, 0, OP_READ, 3, 2);
		struct fop *gc_read = s->die[0].cur;
		ck_assert_ptr_nonnull(gc_read);
		ck_assert_int_eq(gc_read->kind, OP_READ);
		s->blk[page_block(s, 40)].gc_pend++;   /* as ftl.c's GC would */
		flash_gc_op(s, 0, OP_PROG, 40, 1);
		flash_gc_op(s, 0, OP_READ, 4, 2);
		struct fop *host = flash_new_op(s, OP_PROG, 0);
		host->npages = 1;
		host->xfer_bytes = 8192;
		flash_enqueue(s, host, 0);
		uint64_t t1 = 75000 + 2 * nd_xfer_ns(4096, 333e6);   /* 2 units */
		evq_run(q, t1 - 1);
		ck_assert_ptr_eq(s->die[0].cur, gc_read);
		evq_run(q, t1);
		struct fop *next = s->die[0].cur;
		ck_assert_ptr_nonnull(next);
		ck_assert_int_eq(next->kind, OP_PROG);
		if (mode == 1)
			ck_assert_msg(next == host, "preempt (ecc %d): the host program should go first",
				      ecc);
		else
			ck_assert_msg(next != host, "mode %d (ecc %d): the GC program should go first",
				      mode, ecc);
		if (mode == 2)
			s->pl[1].free_pend = 0;
		evq_run(q, UINT64_MAX);
		ck_assert_ptr_null(s->die[0].cur);
		ck_assert_uint_eq(s->die[0].load, 0);
		if (ecc) {   /* both GC reads decoded (2 units x 4 codewords of 1 KiB) */
			ck_assert_uint_eq(s->st.nand.flash_read_ops, 2);
			ck_assert_uint_eq(s->st.nand.codewords, 2 * 2 * 4096 / sp.nx.cw_bytes);
		}
		ssd_destroy(s);
		evq_destroy(q);
	}
}
END_TEST

START_TEST(preempt_with_ecc_deterministic)
{
	/* gc_preempt with bit errors and read retry on an aged drive (3000 P/E
	 * cycles, a year of retention), GC active: the same metrics with 1 and
	 * 2 threads and on a second run; GC reads drew codewords (more than
	 * the host reads alone decode); preemption changed the run (the write
	 * tail differs from the same run with gc_preempt off). */
	char out[8192], dir[4][600];
	const char *args = "ssd --quiet --no-plot --set ssd.channels=2 --set ssd.ways=1 "
		"--set ssd.dies=2 --set ssd.blocks=64 --set ssd.pages=64 --set ssd.ftl.op=0.25 "
		"--set ssd.ftl.gc_threshold_blocks=8 --set ssd.ftl.gc_hard_threshold_blocks=2 "
		"--set ssd.dram.buffer_mib=1 --set ssd.precondition.fill=1 "
		"--set ssd.precondition.overwrite=1 --set ssd.nand.ecc.type=ldpc "
		"--set ssd.nand.pe_cycles=3000 --set ssd.nand.retention_days=365 "
		"--set workload.read_ratio=0.3 --set workload.count=20000 --set workload.qd=8 "
		"--seed 7";
	const char *var[4] = { "--set ssd.ftl.gc_preempt=true --set threads=1",
			       "--set ssd.ftl.gc_preempt=true --set threads=2",
			       "--set ssd.ftl.gc_preempt=true --set threads=1",
			       "--set ssd.ftl.gc_preempt=false --set threads=1" };
	char *met[4];
	cJSON *rep[4];
	for (int k = 0; k < 4; k++) {
		snprintf(dir[k], sizeof dir[k], "%s/preempt-ecc-%d", tu_tmpdir(), k);
		int rc = tu_ndpsim(out, sizeof out, "%s %s --out %s", args, var[k], dir[k]);
		ck_assert_msg(rc == 0, "%s", out);
		char path[2600];
		snprintf(path, sizeof path, "%s/report.json", dir[k]);
		char *t = tu_slurp(path);
		ck_assert_ptr_nonnull(t);
		rep[k] = cJSON_Parse(t);
		ck_assert_ptr_nonnull(rep[k]);
		met[k] = cJSON_PrintUnformatted(cJSON_GetObjectItem(rep[k], "metrics"));
		free(t);
	}
	ck_assert_str_eq(met[0], met[1]);
	ck_assert_str_eq(met[0], met[2]);
	ck_assert_str_ne(met[0], met[3]);
	const cJSON *m = cJSON_GetObjectItem(rep[0], "metrics");
	const cJSON *nd = cJSON_GetObjectItem(m, "nand");
	ck_assert_ptr_nonnull(nd);
	double ops = cJSON_GetObjectItem(nd, "flash_read_ops")->valuedouble;
	double gcc = cJSON_GetObjectItem(m, "gc_count")->valuedouble;
	double hreads = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "read"), "count")->valuedouble;
	ck_assert_msg(gcc > 10, "gc_count %.0f", gcc);
	ck_assert_msg(ops > hreads + 100, "read ops %.0f, host reads %.0f", ops, hreads);
	ck_assert_msg(cJSON_GetObjectItem(nd, "raw_bit_errors")->valuedouble > 0, "no bit errors");
	for (int k = 0; k < 4; k++) {
		free(met[k]);
		cJSON_Delete(rep[k]);
	}
}
END_TEST

START_TEST(preemptible_gc_first_second_tail)
{
	/* A full drive (filled, then overwritten once: every plane sits at its
	 * GC threshold) under random 4 KiB writes at QD 8: the p99.9 write
	 * latency of the requests submitted in the first simulated second
	 * against the steady state (seconds 4-8), GC from 8 free blocks a
	 * plane, blocking at 2. */
	uint64_t first[2], steady[2];
	for (int preempt = 0; preempt < 2; preempt++) {
		const char *sets[] = { "ssd.channels=2", "ssd.ways=1", "ssd.dies=2", "ssd.blocks=64",
				       "ssd.pages=64", "ssd.ftl.op=0.25",
				       "ssd.ftl.gc_threshold_blocks=8",
				       "ssd.ftl.gc_hard_threshold_blocks=2", "ssd.dram.buffer_mib=1",
				       "ssd.precondition.fill=1", "ssd.precondition.overwrite=1",
				       preempt ? "ssd.ftl.gc_preempt=true" : "ssd.ftl.gc_preempt=false",
				       NULL };
		load(sets);
		struct drv d;
		drive_run(&d, 60000, 8, 0, 5);
		size_t n1, n2;
		first[preempt] = p999(&d, 0, 1000000000ull, &n1);
		steady[preempt] = p999(&d, 4000000000ull, 8000000000ull, &n2);
		uint64_t t_end = d.n ? d.t_sub[d.n - 1] : 0;
		printf("gc_preempt=%d: write p99.9 first second %.3f ms (%zu writes), seconds 4-8 "
		       "%.3f ms (%zu writes), ratio %.2f; last submit at %.2f s\n", preempt,
		       first[preempt] * 1e-6, n1, steady[preempt] * 1e-6, n2,
		       (double)first[preempt] / (double)(steady[preempt] ? steady[preempt] : 1),
		       (double)t_end * 1e-9);
		ck_assert_msg(n1 > 1000 && n2 > 1000, "too few writes in a window: %zu, %zu", n1, n2);
		drive_free(&d);
	}
	/* Measured on this drive (deterministic for the seed, not a law; the
	 * figures are in bench/README.md, "Issue 10 GC writes (session 5)"):
	 *                    first second   seconds 4-8   ratio
	 *   gc_preempt off     621.4 ms       699.7 ms     0.89
	 *   gc_preempt on      493.6 ms       510.9 ms     0.97
	 * Issue 11's must-show (first-second p99.9 within 3x of the steady
	 * state) holds with preemption AND without it: on this drive the
	 * first second is no worse than the steady state, so the ratio does
	 * not show what preemption does.  What it buys is the absolute tail:
	 * host programs served between GC moves cut the write p99.9 by about
	 * a quarter in both windows (the GC work, and so the throughput, is
	 * the same: the last request is submitted at 46.2 vs 46.5 s). */
	for (int k = 0; k < 2; k++)
		ck_assert_msg((double)first[k] <= 3.0 * (double)steady[k],
			      "gc_preempt=%d: first-second p99.9 %.3f ms > 3 x steady %.3f ms", k,
			      first[k] * 1e-6, steady[k] * 1e-6);
	ck_assert_msg((double)steady[1] < 0.85 * (double)steady[0],
		      "preemptible GC: steady p99.9 %.3f ms, without %.3f ms", steady[1] * 1e-6,
		      steady[0] * 1e-6);
	ck_assert_msg((double)first[1] < 0.85 * (double)first[0],
		      "preemptible GC: first-second p99.9 %.3f ms, without %.3f ms", first[1] * 1e-6,
		      first[0] * 1e-6);
}
END_TEST

START_TEST(bad_gc_keys_exit_2)
{
	char out[4096];
	int rc = tu_ndpsim(out, sizeof out, "ssd --set ssd.ftl.gc_preempt=true "
			   "--set ssd.ftl.gc_threshold_blocks=2 --set ssd.ftl.gc_hard_threshold_blocks=2 "
			   "--set workload.count=10 --no-plot --quiet --out %s/bad-gc", tu_tmpdir());
	ck_assert_int_eq(rc, 2);
	ck_assert_msg(strstr(out, "ssd.ftl.gc_hard_threshold_blocks"), "%s", out);
	rc = tu_ndpsim(out, sizeof out, "ssd --set ssd.ftl.gc_policy=lru --set workload.count=10 "
		       "--no-plot --quiet --out %s/bad-gc", tu_tmpdir());
	ck_assert_int_eq(rc, 2);
	ck_assert_msg(strstr(out, "ssd.ftl.gc_policy"), "%s", out);
	rc = tu_ndpsim(out, sizeof out, "ssd --set ssd.ftl.gc_window=0 --set workload.count=10 "
		       "--no-plot --quiet --out %s/bad-gc", tu_tmpdir());
	ck_assert_int_eq(rc, 2);
	ck_assert_msg(strstr(out, "ssd.ftl.gc_window"), "%s", out);
}
END_TEST

/* `ndpsim ssd` with wear levelling on writes erase_counts.csv: its rows
 * are the report's hist_blocks bin by bin (erase_lo = k w, erase_hi =
 * (k + 1) w - 1), they sum to the drive's 64 blocks (1 x 1 x 1 x 1 x 64,
 * from the settings, not from the report), the bins below erase_min's and
 * above erase_max's are empty and those two are not.  With WL off there is
 * no histogram and no file; --no-plot leaves the script and no figure. */
START_TEST(erase_counts_csv)
{
	const char *tmp = tu_tmpdir();
	const char *args = "ssd --quiet --no-plot --set ssd.channels=1 --set ssd.ways=1 "
		"--set ssd.dies=1 --set ssd.planes=1 --set ssd.blocks=64 --set ssd.pages=16 "
		"--set ssd.ftl.op=0.25 --set ssd.ftl.gc_threshold_blocks=2 "
		"--set ssd.precondition.fill=1 --set workload.read_ratio=0 "
		"--set workload.range_frac=0.1 --set workload.count=12000 "
		"--set ssd.ftl.wl.threshold=8";
	char out[8192], dir[600], path[700];
	for (int wl = 0; wl < 2; wl++) {
		snprintf(dir, sizeof dir, "%s/erase-counts-%d", tmp, wl);
		const char *on = wl ? "true" : "false";
		int rc = tu_ndpsim(out, sizeof out, "%s --set ssd.ftl.wl.dynamic=%s "
				   "--set ssd.ftl.wl.static=%s --out %s", args, on, on, dir);
		ck_assert_msg(rc == 0, "%s", out);
		snprintf(path, sizeof path, "%s/report.json", dir);
		char *t = tu_slurp(path);
		ck_assert_ptr_nonnull(t);
		cJSON *rep = cJSON_Parse(t);
		free(t);
		ck_assert_ptr_nonnull(rep);
		const cJSON *e = cJSON_GetObjectItem(cJSON_GetObjectItem(rep, "metrics"), "erase_count");
		ck_assert_ptr_nonnull(e);
		const cJSON *h = cJSON_GetObjectItem(e, "hist_blocks");
		snprintf(path, sizeof path, "%s/erase_counts.csv", dir);
		char *csv = tu_slurp(path);
		if (!wl) {
			ck_assert_ptr_null(h);
			ck_assert_ptr_null(csv);
			cJSON_Delete(rep);
			continue;
		}
		ck_assert_ptr_nonnull(h);
		ck_assert_ptr_nonnull(csv);
		uint64_t w = (uint64_t)cJSON_GetObjectItem(e, "hist_bin_erases")->valuedouble;
		uint64_t mn = (uint64_t)cJSON_GetObjectItem(e, "min")->valuedouble;
		uint64_t mx = (uint64_t)cJSON_GetObjectItem(e, "max")->valuedouble;
		ck_assert_uint_gt(w, 0);
		ck_assert_uint_gt(mx, mn);   /* the run wore the drive unevenly at all */
		char *line = strtok(csv, "\n");
		ck_assert_str_eq(line, "erase_lo,erase_hi,blocks");
		uint64_t sum = 0, k = 0;
		while ((line = strtok(NULL, "\n"))) {
			unsigned long long lo, hi, n;
			ck_assert_int_eq(sscanf(line, "%llu,%llu,%llu", &lo, &hi, &n), 3);
			ck_assert_uint_eq(lo, k * w);
			ck_assert_uint_eq(hi, (k + 1) * w - 1);
			const cJSON *b = cJSON_GetArrayItem(h, (int)k);
			ck_assert_ptr_nonnull(b);
			ck_assert_uint_eq(n, (uint64_t)b->valuedouble);
			if (k < mn / w || k > mx / w)
				ck_assert_uint_eq(n, 0);
			if (k == mn / w || k == mx / w)
				ck_assert_uint_gt(n, 0);
			sum += n;
			k++;
		}
		ck_assert_uint_eq(k, (uint64_t)cJSON_GetArraySize(h));
		ck_assert_uint_eq(k, mx / w + 1);
		ck_assert_uint_eq(sum, 64);
		free(csv);
		cJSON_Delete(rep);
		snprintf(path, sizeof path, "%s/erase_counts.gp", dir);
		char *gp = tu_slurp(path);
		ck_assert_ptr_nonnull(gp);
		ck_assert_msg(strstr(gp, "'erase_counts.csv'") && strstr(gp, "of 64 blocks"), "%s", gp);
		char want[128];
		snprintf(want, sizeof want, "spread %llu (min %llu, max %llu,",
			 (unsigned long long)(mx - mn), (unsigned long long)mn,
			 (unsigned long long)mx);
		ck_assert_msg(strstr(gp, want), "no '%s' in %s", want, gp);
		free(gp);
		snprintf(path, sizeof path, "%s/erase_counts.png", dir);
		ck_assert_ptr_null(tu_slurp(path));   /* --no-plot */
	}
}
END_TEST

START_TEST(wear_levelling_hot_cold)
{
	/* One plane of 64 blocks; the whole logical space written once, then
	 * random writes to its first 10 % only (hot) for 20x the capacity.
	 * Without wear levelling the cold blocks are never erased and the
	 * erase-count spread grows with the run; with dynamic + static wear
	 * levelling (threshold T) it stays within T + 1, and the migrations
	 * show up as extra GC moves (higher WAF). */
	enum { T = 8 };
	uint64_t spread[2], moved[2], migr[2], progd[2];
	double waf[2];
	for (int wl = 0; wl < 2; wl++) {
		const char *sets[] = { "ssd.channels=1", "ssd.ways=1", "ssd.dies=1", "ssd.planes=1",
				       "ssd.blocks=64", "ssd.pages=16", "ssd.ftl.op=0.25",
				       "ssd.ftl.gc_threshold_blocks=2", "ssd.dram.buffer_mib=1",
				       "ssd.verify=true", "ssd.ftl.wl.threshold=8",
				       wl ? "ssd.ftl.wl.dynamic=true" : "ssd.ftl.wl.dynamic=false",
				       wl ? "ssd.ftl.wl.static=true" : "ssd.ftl.wl.static=false", NULL };
		load(sets);
		ssd *s;
		struct nd_err err = { 0 };
		ck_assert_int_eq(ssd_create(&sp, NULL, NULL, 1, &s, &err), 0);
		uint64_t cap = ssd_capacity_bytes(s) / ssd_unit_bytes(s);
		ssd_write_functional(s, 0, cap);
		struct rng r;
		rng_seed(&r, 4, 1);
		uint64_t n = 20 * cap, hot = cap / 10;
		uint64_t *u = xmalloc(n * sizeof *u);
		for (uint64_t i = 0; i < n; i++)
			u[i] = rng_below(&r, hot);
		ssd_write_functional_list(s, u, n);
		free(u);
		struct ssd_stats st;
		ssd_get_stats(s, &st);
		spread[wl] = st.erase_max - st.erase_min;
		moved[wl] = st.gc_units_moved;
		migr[wl] = st.wl_migrations;
		progd[wl] = st.prog_units_written;
		waf[wl] = st.waf;
		/* the histogram adds up to the blocks (only with WL on) */
		if (wl) {
			uint64_t sum = 0, want[SSD_ERASE_HIST] = { 0 };
			for (uint32_t k = 0; k < st.erase_hist_n; k++)
				sum += st.erase_hist[k];
			ck_assert_uint_eq(sum, 64);
			/* bins recounted from the blocks themselves */
			for (int b = 0; b < 64; b++)
				want[s->blk[b].erases / st.erase_hist_width]++;
			for (int k = 0; k < SSD_ERASE_HIST; k++)
				ck_assert_uint_eq(st.erase_hist[k], want[k]);
			ck_assert_uint_eq(st.erase_hist_n,
					  st.erase_max / st.erase_hist_width + 1);
		} else {
			ck_assert_uint_eq(st.erase_hist_n, 0);
		}
		ck_assert_msg(ssd_verify(s, &err) == 0, "wl %d: %s", wl, err.msg);
		printf("wear levelling %s: erase spread %llu (min %llu max %llu), WAF %.3f, "
		       "GC moves %llu, migrations %llu\n", wl ? "on" : "off",
		       (unsigned long long)spread[wl], (unsigned long long)st.erase_min,
		       (unsigned long long)st.erase_max, waf[wl], (unsigned long long)moved[wl],
		       (unsigned long long)migr[wl]);
		ssd_destroy(s);
	}
	ck_assert_uint_gt(spread[0], T + 1);
	ck_assert_uint_le(spread[1], T + 1);
	ck_assert_uint_eq(migr[0], 0);
	ck_assert_uint_gt(migr[1], 0);
	/* functional writes count no host units (WAF 0 here); the migrations'
	 * moves are programmed units like any GC move */
	ck_assert_uint_gt(moved[1], moved[0]);
	ck_assert_uint_gt(progd[1], progd[0] + (moved[1] - moved[0]) / 2);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("ssd_gc");
	TCase *tc = tcase_create("gc");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, victim_policies_on_hand_built_state);
	tcase_add_test(tc, copyback_saves_the_gc_transfers);
	tcase_add_test(tc, verify_after_overwrites_every_policy);
	tcase_add_test(tc, bad_gc_keys_exit_2);
	tcase_add_test(tc, wear_levelling_hot_cold);
	tcase_add_test(tc, erase_counts_csv);
	suite_add_tcase(su, tc);
	/* issue 11 fidelity fixes (CK_RUN_CASE=fidelity runs them alone) */
	TCase *tf = tcase_create("fidelity");
	tcase_set_timeout(tf, 600);
	tcase_add_test(tf, read_during_pending_move_reads_old_page);
	tcase_add_test(tf, xlate_read_during_pending_move_reads_old_page);
	tcase_add_test(tf, preempt_order_on_one_die);
	tcase_add_test(tf, dchoices_first_drawn_wins_a_tie);
	tcase_add_test(tf, copyback_does_not_wait_for_the_channel);
	tcase_add_test(tf, preempt_with_ecc_deterministic);
	suite_add_tcase(su, tf);
	TCase *tt = tcase_create("tail");
	tcase_set_timeout(tt, 600);
	tcase_add_test(tt, preemptible_gc_first_second_tail);
	suite_add_tcase(su, tt);
	return tu_run_suite(su);
}
