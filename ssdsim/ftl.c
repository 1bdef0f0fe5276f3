/*
 * ftl.c — page-mapping FTL and garbage collection: where units go, which
 * block GC collects, erase, functional writes and preconditioning.  Needs no
 * event queue: with s->timed == 0 it only updates the mapping and the
 * statistics.  See ssd_int.h.
 */
#include "ssdsim/ssd_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/util.h"

static void gc_plane(ssd *s, uint32_t plane);

#define GC_WIN_UNITS 256   /* victim units decoded at once */
#define GC_PF 32           /* mapping entries prefetched ahead of the moves */

/* ---------------------------------------------------------------- tables */

void lt_init(struct ltab *t, uint64_t n, int wide)
{
	t->n = n;
	t->wide = wide;
	t->live = NULL;
	t->n_live = t->cap_live = 0;
	t->huge = 0;
	t->sparse = 0;
	t->n_full = 0;
	t->pool = NULL;
	t->pool_left = 0;
	t->pools = NULL;
	t->n_pools = 0;
	t->spare = NULL;
	uint64_t nchunks = (n + LT_CHUNK - 1) >> LT_SHIFT;
	t->chunk = xcalloc((size_t)nchunks, sizeof *t->chunk);
	t->arena_bytes = (size_t)(nchunks * LT_CHUNK * (wide ? 8u : 4u));
	void *a = mmap(NULL, t->arena_bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	t->arena = a == MAP_FAILED ? NULL : a;   /* else calloc per chunk */
}

void lt_fini(struct ltab *t)
{
	if (!t->chunk)
		return;
	if (t->arena)
		munmap(t->arena, t->arena_bytes);
	else
		for (uint64_t i = 0; i < t->n_live; i++)
			if (!lt_is_sparse(t->chunk[t->live[i]]))
				free(t->chunk[t->live[i]]);
	for (size_t i = 0; i < t->n_pools; i++)
		free(t->pools[i]);
	free(t->pools);
	free(t->live);
	free(t->chunk);
	t->chunk = NULL;
}

static void lt_live_add(struct ltab *t, uint64_t ci);

/* Dense (huge pages from then on): LT_DENSE_CHUNKS full chunks and an
 * eighth of the table.  Huge pages on a sparsely touched table would cost
 * 2 MiB per touch (and the kernel's khugepaged collapses the 4 KiB pages
 * already there): 10^5 random writes on a 16 TiB drive reached 11 GB at
 * LT_DENSE_CHUNKS alone. */
void *lt_chunk_new(struct ltab *t, uint64_t ci)
{
	size_t cb = (size_t)LT_CHUNK * (t->wide ? 8u : 4u);
	void *old = t->chunk[ci];
	void *c = t->arena ? t->arena + ci * cb : xcalloc(LT_CHUNK, t->wide ? 8 : 4);
	t->chunk[ci] = c;
	t->n_full++;
	if (t->n_full >= LT_DENSE_CHUNKS && t->n_full * 8 >= (t->n + LT_CHUNK - 1) >> LT_SHIFT)
		lt_dense(t);
	if (old && lt_is_sparse(old)) {   /* its entries, and it back to the pool */
		struct lt_sparse *sp = lt_sparse_of(old);
		for (uint32_t j = 0; j < sp->n; j++)
			lt_full_put(t, c, sp->idx[j], sp->val[j]);
		sp->val[0] = (uint64_t)(uintptr_t)t->spare;
		t->spare = sp;
		return c;
	}
	lt_live_add(t, ci);
	return c;
}

static void lt_live_add(struct ltab *t, uint64_t ci)
{
	if (t->n_live == t->cap_live) {
		t->cap_live = t->cap_live ? 2 * t->cap_live : 256;
		t->live = xrealloc(t->live, t->cap_live * sizeof *t->live);
	}
	t->live[t->n_live++] = ci;
}

/* A sparse chunk from the pool (blocks of 256, given-back ones first). */
static struct lt_sparse *lt_sparse_new(struct ltab *t)
{
	struct lt_sparse *sp = t->spare;
	if (sp) {
		t->spare = (struct lt_sparse *)(uintptr_t)sp->val[0];
	} else {
		enum { PER_BLOCK = 256 };
		if (!t->pool_left) {
			t->pool = xmalloc(PER_BLOCK * sizeof *sp);
			t->pools = xrealloc(t->pools, (t->n_pools + 1) * sizeof *t->pools);
			t->pools[t->n_pools++] = t->pool;
			t->pool_left = PER_BLOCK;
		}
		sp = (struct lt_sparse *)(void *)t->pool;
		t->pool += sizeof *sp;
		t->pool_left--;
	}
	sp->n = 0;
	return sp;
}

void lt_set_slow(struct ltab *t, uint64_t i, uint64_t v)
{
	uint64_t ci = i >> LT_SHIFT;
	uint16_t k = (uint16_t)(i & (LT_CHUNK - 1));
	void *c = t->chunk[ci];
	struct lt_sparse *sp;
	if (c) {
		sp = lt_sparse_of(c);
	} else if (t->huge) {   /* dense by now: full chunks from the start */
		lt_full_put(t, lt_chunk_new(t, ci), k, v);
		return;
	} else {
		sp = lt_sparse_new(t);
		t->chunk[ci] = (char *)(void *)sp + 1;
		lt_live_add(t, ci);
	}
	for (uint32_t j = 0; j < sp->n; j++)
		if (sp->idx[j] == k) {
			if (v) {
				sp->val[j] = v;
			} else {   /* zero: the entry goes (the last one takes its place) */
				sp->n--;
				sp->idx[j] = sp->idx[sp->n];
				sp->val[j] = sp->val[sp->n];
			}
			return;
		}
	if (!v)
		return;
	if (sp->n < LT_SPARSE) {
		sp->idx[sp->n] = k;
		sp->val[sp->n++] = v;
		return;
	}
	lt_full_put(t, lt_chunk_new(t, ci), k, v);   /* full: the chunk becomes a full one */
}

void lt_dense(struct ltab *t)
{
#ifdef MADV_HUGEPAGE
	/* Later first touches take 2 MiB pages (best effort: only where THP
	 * is allowed; it changes no value). */
	if (t->arena && !t->huge) {
		t->huge = 1;
		(void)madvise(t->arena, t->arena_bytes, MADV_HUGEPAGE);
	}
#else
	(void)t;
#endif
}

static int log2_exact(uint32_t x)
{
	if (!x || (x & (x - 1)))
		return -1;
	int k = 0;
	while ((1u << k) != x)
		k++;
	return k;
}

void ftl_init(ssd *s)
{
	s->sh_upp = log2_exact(s->upp);
	s->sh_pages = log2_exact((uint32_t)s->p.pages);
	s->sh_blocks = log2_exact((uint32_t)s->p.blocks);
	s->sh_planes = log2_exact((uint32_t)s->p.planes);
	s->sh_ub = log2_exact((uint32_t)s->p.map_unit_bytes);
	/* 32-bit physical unit numbers (+1) when they fit, else 64-bit. */
	lt_init(&s->l2p, s->n_lpn + s->n_tunits, s->n_units_phys > UINT32_MAX - 1);
	s->l2p.sparse = 1;   /* logical units: written where the workload goes */
	lt_init(&s->p2l, s->n_units_phys, 0);
	s->verify = s->p.verify;
	if (s->verify) {
		lt_init(&s->ver_l, s->n_lpn, 0);
		s->ver_l.sparse = 1;
		lt_init(&s->ver_p, s->n_units_phys, 0);
	}
	s->blk = xcalloc(s->n_blocks, sizeof *s->blk);
	s->pl = xcalloc(s->n_planes, sizeof *s->pl);
	for (uint32_t i = 0; i < s->n_planes; i++) {
		struct plane *pl = &s->pl[i];
		/* Written only as blocks are erased. */
		pl->free_blk = xmalloc((size_t)s->p.blocks * sizeof *pl->free_blk);
		pl->nfree = (uint32_t)s->p.blocks;
		pl->active[0] = pl->active[1] = NONE;
	}
	ftl_build_alloc_seq(s);
	s->plane_pages = (uint64_t)(uint32_t)s->p.blocks * (uint32_t)s->p.pages;
	s->sh_prog = log2_exact(s->prog_units);
	s->sh_alloc = log2_exact(s->alloc_n);
	s->sh_pp = s->plane_pages <= UINT32_MAX ? log2_exact((uint32_t)s->plane_pages) : -1;
	s->erase_cnt_n = 16;
	s->erase_cnt = xcalloc(s->erase_cnt_n, sizeof *s->erase_cnt);
	s->erase_cnt[0] = s->n_blocks;
}

void ftl_fini(ssd *s)
{
	for (uint32_t i = 0; s->pl && i < s->n_planes; i++)
		free(s->pl[i].free_blk);
	for (uint32_t d = 0; s->die && d < s->n_dies; d++) {
		free(s->die[d].mvp);
		s->die[d].mvp = NULL;
	}
	free(s->pl);
	free(s->blk);
	lt_fini(&s->l2p);
	lt_fini(&s->p2l);
	lt_fini(&s->ver_l);
	lt_fini(&s->ver_p);
	free(s->alloc_seq);
	free(s->alloc_pos);
	free(s->erase_cnt);
	free(s->fill_moved);
	lay_free(s);
}

/* Inverse of ftl_fill_pua().  Once a fill unit is written again or moved
 * by GC its l2p entry is explicit for good, so a zero entry means it is at
 * its home, or, after precondition.method=steady, where the layout put it
 * (fill_moved set: lay_l2p()); a home block is erased only after all its
 * fill units left. */
uint64_t ftl_fill_unit_at(const ssd *s, uint64_t pua)
{
	uint64_t page = div_fast(pua, s->upp, s->sh_upp);
	uint32_t j = (uint32_t)(pua - page * s->upp);
	uint32_t plane = (uint32_t)(s->sh_pp >= 0 ? page >> s->sh_pp : page / s->plane_pages);
	uint64_t r = page - plane * s->plane_pages;
	uint32_t k = 0, t = plane;
	if (s->p.multiplane) {
		t = (uint32_t)div_fast(plane, (uint32_t)s->p.planes, s->sh_planes) *
		    (uint32_t)s->p.planes;
		k = plane - t;
	}
	uint64_t g = r * s->alloc_n + s->alloc_pos[t];
	return g * s->prog_units + (uint64_t)k * s->upp + j;
}

/* A zero p2l entry is a fill home still holding its unit unless that unit
 * has left (fill_moved), or in a block of the steady layout a slot
 * (lay_p2l()); see ssd_int.h. */
uint32_t ftl_p2l_fill(const ssd *s, uint64_t pua)
{
	if (s->lay && s->blk[page_block(s, pua_page(s, pua))].lay)
		return lay_p2l(s, pua);
	if (fill_moved_get(s, pua))
		return NONE;
	uint64_t u = ftl_fill_unit_at(s, pua);
	return u < s->fill_n ? (uint32_t)u : NONE;
}

/* ---------------------------------------------------------------- mapping */

static void invalidate(ssd *s, uint32_t lpn)
{
	uint64_t v = lt_get(&s->l2p, lpn), old;
	if (v) {
		old = v - 1;
		lt_set(&s->p2l, old, 0);
	} else if (lpn < s->fill_n) {
		old = ftl_fill_pua(s, lpn);   /* leaves its fill home */
		if (__builtin_expect(s->lay != NULL, 0) && fill_moved_get(s, old))
			old = lay_l2p(s, old);   /* ... which it left before the run */
		else
			fill_moved_set(s, old);
	} else {
		return;
	}
	uint32_t b = page_block(s, pua_page(s, old));
	ND_ASSERT(s->blk[b].valid > 0);
	s->blk[b].valid--;
}

static void place(ssd *s, uint32_t lpn, uint64_t pua, uint32_t ver)
{
	invalidate(s, lpn);
	lt_set(&s->l2p, lpn, pua + 1);
	lt_set(&s->p2l, pua, (uint64_t)lpn + 1);
	s->blk[page_block(s, pua_page(s, pua))].valid++;
	if (s->verify)
		lt_set(&s->ver_p, pua, ver);
	if (s->cmt && lpn < s->n_lpn)
		cmt_placed(s, lpn);
}

/* A block GC may take: full, with at least one invalid unit. */
static int reclaimable(const ssd *s, const struct block *b)
{
	return b->state == BLK_FULL && b->valid < s->units_per_block;
}

/* random: uniform over the reclaimable blocks (count, draw, find). */
static uint32_t pick_random(ssd *s, uint32_t base)
{
	uint32_t n = 0, nb = (uint32_t)s->p.blocks;
	for (uint32_t i = 0; i < nb; i++)
		n += reclaimable(s, &s->blk[base + i]);
	if (!n)
		return NONE;
	uint32_t k = (uint32_t)rng_below(&s->rng, n);
	for (uint32_t i = 0;; i++)
		if (reclaimable(s, &s->blk[base + i]) && !k--)
			return base + i;
}

/* fifo: the reclaimable block that became full first (implicitly filled
 * blocks count as full before any other, in block order). */
static uint32_t pick_fifo(ssd *s, uint32_t base)
{
	uint32_t best = NONE;
	uint64_t best_seal = UINT64_MAX;
	for (uint32_t i = 0; i < (uint32_t)s->p.blocks; i++) {
		const struct block *b = &s->blk[base + i];
		if (reclaimable(s, b) && b->seal < best_seal) {
			best_seal = b->seal;
			best = base + i;
		}
	}
	return best;
}

/* d_choices: gc_window uniform draws of the plane's blocks (with
 * replacement); the reclaimable one with the fewest valid units, the first
 * drawn on a tie.  No reclaimable block drawn: greedy over the plane. */
static uint32_t pick_dchoices(ssd *s, uint32_t base)
{
	uint32_t best = NONE, best_valid = UINT32_MAX;
	for (int k = 0; k < s->p.gc_window; k++) {
		uint32_t b = base + (uint32_t)rng_below(&s->rng, (uint64_t)s->p.blocks);
		if (reclaimable(s, &s->blk[b]) && s->blk[b].valid < best_valid) {
			best_valid = s->blk[b].valid;
			best = b;
		}
	}
	return best;
}

uint32_t ftl_pick_victim(ssd *s, uint32_t plane)
{
	uint32_t base = plane * (uint32_t)s->p.blocks, best = NONE;
	if (s->p.gc_policy == SSD_GC_RANDOM)
		return pick_random(s, base);
	if (s->p.gc_policy == SSD_GC_FIFO)
		return pick_fifo(s, base);
	if (s->p.gc_policy == SSD_GC_DCHOICES) {
		best = pick_dchoices(s, base);
		if (best != NONE)
			return best;
	}
	if (s->p.gc_policy == SSD_GC_GREEDY || s->p.gc_policy == SSD_GC_DCHOICES) {
		/* Most invalid units = fewest valid, first such block: the same
		 * pick as the score below, in integers. */
		uint32_t best_valid = s->units_per_block;
		for (uint32_t i = 0; i < (uint32_t)s->p.blocks; i++) {
			const struct block *b = &s->blk[base + i];
			if (b->valid < best_valid && b->state == BLK_FULL) {
				best_valid = b->valid;
				best = base + i;
			}
		}
		return best;
	}
	double best_score = -1;
	uint64_t now = s->q ? evq_now(s->q) : 0;
	for (uint32_t i = 0; i < (uint32_t)s->p.blocks; i++) {
		const struct block *b = &s->blk[base + i];
		if (b->state != BLK_FULL || b->valid >= s->units_per_block)
			continue;
		double score;
		if (s->p.gc_policy == SSD_GC_GREEDY) {
			score = (double)(s->units_per_block - b->valid);
		} else {
			double u = (double)b->valid / s->units_per_block;
			double age = (double)(now - b->t_write_ns) + 1.0;
			score = u == 0 ? 1e300 : (1 - u) / (2 * u) * age;
		}
		if (score > best_score) {
			best_score = score;
			best = base + i;
		}
	}
	return best;
}

/* The drive ran out of space (a plane holds more valid data than it can
 * collect around): remember the first reason; from now on nothing is placed,
 * requests still complete, and ssd_status() reports the failure. */
static void ssd_fail(ssd *s, uint32_t plane, const char *what)
{
	if (s->failed)
		return;
	s->failed = 1;
	uint64_t valid = 0;
	for (uint32_t i = 0; i < (uint32_t)s->p.blocks; i++)
		valid += s->blk[plane * (uint32_t)s->p.blocks + i].valid;
	snprintf(s->fail_msg, sizeof s->fail_msg,
		 "ssd: plane %u %s after %llu host write units: it holds %llu valid units of "
		 "%llu (%.1f %% of the plane; the logical space is %.1f %% of the physical); "
		 "raise ssd.ftl.op", plane, what, (unsigned long long)s->st.host_write_units,
		 (unsigned long long)valid,
		 (unsigned long long)s->p.blocks * s->units_per_block,
		 100.0 * (double)valid / ((double)s->p.blocks * s->units_per_block),
		 100.0 * (double)s->n_lpn / (double)s->n_units_phys);
}

int ssd_status(const ssd *s, struct nd_err *err)
{
	if (!s->failed)
		return 0;
	return nd_errf(err, -ENOSPC, "%s", s->fail_msg);
}

static uint32_t open_block(ssd *s, uint32_t plane, uint32_t local);

/* Opens a free block of the plane; NONE (and the drive fails) if none. */
static uint32_t take_free_block(ssd *s, uint32_t plane)
{
	struct plane *pl = &s->pl[plane];
	if (pl->nfree == 0) {
		ssd_fail(s, plane, "has no free block");
		return NONE;
	}
	if (s->p.gc_preempt && pl->free_pend && pl->nstack) {
		/* Prefer a block whose erase has run (the most recent such, then
		 * a never-used one): taking one whose erase is still queued makes
		 * its die run GC first (gc_urgent in flash.c). */
		uint32_t base = plane * (uint32_t)s->p.blocks, i = pl->nstack;
		while (i-- > 0 && s->blk[base + pl->free_blk[i]].erase_q)
			;
		if (i != UINT32_MAX || pl->fresh < (uint32_t)s->p.blocks) {
			if (i == UINT32_MAX) {
				pl->nfree--;
				return open_block(s, plane, pl->fresh++);
			}
			uint32_t t = pl->free_blk[i];   /* to the top */
			pl->free_blk[i] = pl->free_blk[pl->nstack - 1];
			pl->free_blk[pl->nstack - 1] = t;
		}
	}
	if (s->p.wl_dynamic && pl->fresh < (uint32_t)s->p.blocks) {
		pl->nfree--;   /* a never-used block: no erase yet, least worn */
		return open_block(s, plane, pl->fresh++);
	}
	if (s->p.wl_dynamic && pl->nstack) {
		/* Dynamic wear levelling: the least-worn erased block (never-used
		 * blocks, with no erase, go first anyway); the first such from
		 * the top of the stack. */
		uint32_t base = plane * (uint32_t)s->p.blocks, best = pl->nstack - 1;
		for (uint32_t i = pl->nstack - 1; i-- > 0;)
			if (s->blk[base + pl->free_blk[i]].erases <
			    s->blk[base + pl->free_blk[best]].erases)
				best = i;
		uint32_t t = pl->free_blk[best];
		pl->free_blk[best] = pl->free_blk[pl->nstack - 1];
		pl->free_blk[pl->nstack - 1] = t;
	}
	uint32_t local = pl->nstack ? pl->free_blk[--pl->nstack] : pl->fresh++;
	pl->nfree--;
	return open_block(s, plane, local);
}

static uint32_t open_block(ssd *s, uint32_t plane, uint32_t local)
{
	struct plane *pl = &s->pl[plane];
	uint32_t b = plane * (uint32_t)s->p.blocks + local;
	if (s->blk[b].erase_q) {   /* its die must erase it first */
		pl->free_pend--;
		if (!s->blk[b].reused) {
			s->blk[b].reused = 1;
			pl->reuse_pend++;
		}
	}
	s->blk[b].state = BLK_OPEN;
	s->blk[b].wp = 0;
	return b;
}

/* Next free page of the plane's open block for `who`, opening a new block
 * (and collecting garbage first if the plane runs short) when needed. */
static uint32_t alloc_page(ssd *s, uint32_t plane, int who)
{
	struct plane *pl = &s->pl[plane];
	uint32_t b = pl->active[who];
	if (b == NONE || s->blk[b].wp >= (uint32_t)s->p.pages) {
		if (b != NONE)
			s->blk[b].state = BLK_FULL;
		pl->active[who] = NONE;
		if (who == ACT_HOST && pl->nfree <= (uint32_t)s->p.gc_threshold_blocks)
			gc_plane(s, plane);
		b = take_free_block(s, plane);
		if (b == NONE)
			return NONE;
		pl->active[who] = b;
	}
	struct block *bk = &s->blk[b];
	uint32_t page = b * (uint32_t)s->p.pages + bk->wp++;
	bk->t_write_ns = s->q ? evq_now(s->q) : 0;
	if (bk->wp == (uint32_t)s->p.pages) {
		bk->state = BLK_FULL;
		bk->seal = ++s->seal_next;
		pl->active[who] = NONE;
	}
	return page;
}

void ftl_erase_hist_fit(ssd *s, uint32_t e)
{
	if (e < s->erase_cnt_n)
		return;
	uint32_t n = s->erase_cnt_n;
	while (e >= n)
		n *= 2;
	s->erase_cnt = xrealloc(s->erase_cnt, n * sizeof *s->erase_cnt);
	memset(s->erase_cnt + s->erase_cnt_n, 0, (n - s->erase_cnt_n) * sizeof *s->erase_cnt);
	s->erase_cnt_n = n;
}

void ftl_erase_block(ssd *s, uint32_t b)
{
	struct block *bk = &s->blk[b];
	ND_ASSERT(bk->valid == 0);
	uint32_t plane = block_plane(s, b);
	uint32_t e = bk->erases++;
	bk->state = BLK_FREE;
	bk->wp = 0;
	bk->lay = 0;
	struct plane *pl = &s->pl[plane];
	pl->free_blk[pl->nstack++] = b % (uint32_t)s->p.blocks;
	pl->nfree++;
	/* wear */
	if (e + 1 >= s->erase_cnt_n)
		ftl_erase_hist_fit(s, e + 1);
	s->erase_cnt[e]--;
	s->erase_cnt[e + 1]++;
	s->erase_sum++;
	if (e + 1 > s->erase_max)
		s->erase_max = e + 1;
	while (!s->erase_cnt[s->erase_min])
		s->erase_min++;
	s->st.flash_erases++;
	if (s->slc)
		slc_erased(s, b);
	if (s->timed) {
		if (s->p.gc_preempt) {
			ND_ASSERT(bk->erase_q < UINT8_MAX);
			bk->erase_q++;
			pl->free_pend++;
		}
		flash_gc_op(s, plane_die(s, plane), OP_ERASE, b, 0);
	}
}

/* Programs one GC destination page holding `filled` units (the rest is
 * padding): statistics always, a flash operation when timed. */
static void gc_program_page(ssd *s, uint32_t die, uint32_t page, uint32_t filled)
{
	s->st.pad_units += s->upp - filled;
	s->st.prog_units_written += s->upp;
	s->st.flash_prog_pages++;
	if (s->timed) {
		struct die *d = &s->die[die];
		s->blk[page_block(s, page)].gc_pend++;
		if (filled < s->upp) {
			/* a partial page: ftl_gc_prog_done() pops `filled` moves */
			if (d->mvp_n == d->mvp_cap) {
				uint32_t cap = d->mvp_cap ? 2 * d->mvp_cap : 64;
				uint64_t *m = xmalloc(cap * sizeof *m);
				for (uint32_t i = 0; i < d->mvp_n; i++)
					m[i] = d->mvp[(d->mvp_head + i) & (d->mvp_cap - 1)];
				free(d->mvp);
				d->mvp = m;
				d->mvp_cap = cap;
				d->mvp_head = 0;
			}
			d->mvp[(d->mvp_head + d->mvp_n++) & (d->mvp_cap - 1)] =
				(uint64_t)d->gcp_dec << 32 | filled;
		}
		d->gcp_dec++;
		flash_gc_op(s, die, OP_PROG, page, s->p.copyback ? 0 : 1);
	}
}

/* A GC move of unit src to dst, decided now, programmed later (timed). */
static void gc_mv_push(ssd *s, uint32_t die, uint64_t dst, uint64_t src)
{
	struct die *d = &s->die[die];
	if (d->mv_n == d->mv_cap) {
		/* grow the ring (power of two), oldest first */
		uint32_t cap = d->mv_cap ? 2 * d->mv_cap : 1024;
		struct gc_mv *m = xmalloc(cap * sizeof *m);
		for (uint32_t i = 0; i < d->mv_n; i++)
			m[i] = d->mv[(d->mv_head + i) & (d->mv_cap - 1)];
		free(d->mv);
		d->mv = m;
		d->mv_cap = cap;
		d->mv_head = 0;
	}
	d->mv[(d->mv_head + d->mv_n++) & (d->mv_cap - 1)] = (struct gc_mv){ dst, src };
}

/* GC programs of a die run in the order GC decided them (one FIFO of GC
 * operations per die, preempted or not), so the moves of `page` are the
 * oldest pending ones. */
void ftl_gc_prog_done(ssd *s, uint32_t die, uint32_t page)
{
	struct die *d = &s->die[die];
	struct block *bk = &s->blk[page_block(s, page)];
	ND_ASSERT(bk->gc_pend > 0);
	bk->gc_pend--;
	/* Its moves: upp, or the count recorded for a partial page; popped
	 * without reading them (they were written long ago: a cache miss
	 * each).  Fewer may be pending only for a program a test queued
	 * directly (flash_gc_op() without ftl_gc_collect()). */
	uint32_t n = s->upp;
	if (d->mvp_n && (uint32_t)(d->mvp[d->mvp_head] >> 32) == d->gcp_done) {
		n = (uint32_t)d->mvp[d->mvp_head];
		d->mvp_head = (d->mvp_head + 1) & (d->mvp_cap - 1);
		d->mvp_n--;
	}
	d->gcp_done++;
	if (n > d->mv_n)
		n = d->mv_n;
	if (s->verify) {
		/* the moves popped are this page's (a count too small would
		 * leave one that the next program's check finds) */
		for (uint32_t i = 0; i < n; i++)
			ND_ASSERT(pua_page(s, d->mv[(d->mv_head + i) & (d->mv_cap - 1)].dst) == page);
	}
	d->mv_head = (d->mv_head + n) & (d->mv_cap - 1);
	d->mv_n -= n;
}

/* pua lies in a block with GC programs still to run: if the newest pending
 * move put a unit at pua, the data is still where that move took it from,
 * which may itself be the destination of an older pending move: follow the
 * chain back in decision order (only older entries, so a unit moved A -> B
 * -> A, A reused meanwhile, resolves to the A that still holds it).  A unit
 * a host program placed in such a block (one taken again before its erase
 * ran) is read from flash only once that program ran, after the erase and
 * so after the block's earlier GC programs: no stale move matches it then. */
uint64_t ftl_read_pua_pend(const ssd *s, uint64_t pua)
{
	const struct die *d = &s->die[pua_die(s, pua)];
	uint32_t i = d->mv_n;
	for (;;) {
		while (i-- > 0 && d->mv[(d->mv_head + i) & (d->mv_cap - 1)].dst != pua)
			;
		if (i == UINT32_MAX)
			return pua;
		pua = d->mv[(d->mv_head + i) & (d->mv_cap - 1)].src;
		if (!s->blk[page_block(s, pua_page(s, pua))].gc_pend)
			return pua;
	}
}

/* The logical units held by np pages of one block from page pg (ftl_p2l()
 * of each unit) into lpns, and in fillh a bit per unit that is a fill home
 * (a zero reverse-map entry: nothing to clear when it moves).  Within a
 * block the fill unit of page pg + i, unit j is u0 + i * alloc_n *
 * prog_units + j (fill_unit_at(): one program round per page of the
 * plane), u0 that of page pg's first unit, so it is stepped, not
 * recomputed per unit. */
static void gc_decode(const ssd *s, uint32_t pg, uint32_t np, uint64_t u0, uint32_t *lpns,
		      uint64_t *fillh)
{
	uint64_t step = (uint64_t)s->alloc_n * s->prog_units;
	uint64_t pua = (uint64_t)pg * s->upp;
	uint32_t n = 0;
	/* a block of the steady layout holds no fill home (precond.c) */
	const int lay = s->lay && s->blk[page_block(s, pg)].lay;
	memset(fillh, 0, GC_WIN_UNITS / 8);
	for (uint32_t i = 0; i < np; i++, u0 += step) {
		for (uint32_t j = 0; j < s->upp; j++, pua++, n++) {
			uint64_t v = lt_get(&s->p2l, pua);
			uint32_t lpn = NONE;
			if (v) {
				lpn = (uint32_t)(v - 1);
			} else if (__builtin_expect(lay, 0)) {
				lpn = lay_p2l(s, pua);
				if (lpn != NONE)
					fillh[n >> 6] |= 1ull << (n & 63);
			} else if (s->fill_n && !fill_moved_get(s, pua) && u0 + j < s->fill_n) {
				lpn = (uint32_t)(u0 + j);
				fillh[n >> 6] |= 1ull << (n & 63);
				if (s->verify)
					ND_ASSERT(u0 + j == ftl_fill_unit_at(s, pua));
			}
			lpns[n] = lpn;
		}
	}
}

/* Moves victim v's valid units into the plane's GC block and erases it;
 * -1 if the drive failed meanwhile. */
int ftl_gc_collect(ssd *s, uint32_t plane, uint32_t v)
{
	uint32_t die = plane_die(s, plane);
	/* invariants of the loop, read once (the stores through s below
	 * would make the compiler read them again per unit) */
	const uint32_t upp = s->upp;
	const int cmt = s->cmt != NULL;   /* cached mapping (cmt.c) */
	const int timed = s->timed, verify = s->verify;
	const uint32_t xfer = s->p.copyback ? 0 : 1;
	struct block *vb = &s->blk[v], *db = NULL;
	/* a layout block's implicit units have no fill bit to set */
	const int vlay = s->lay && vb->lay;
	s->st.gc_count++;
	uint32_t dst_page = NONE, dst_fill = 0;
	uint64_t moved = 0, reads = 0;
	uint32_t first_pg = v * (uint32_t)s->p.pages;
	uint32_t end_pg = first_pg + vb->wp;
	/* The victim's logical units, a window of pages at a time, their
	 * mapping entries prefetched GC_PF units ahead of the moves that
	 * rewrite them (on a large drive each is a cache miss; prefetching
	 * a whole window at once overruns the memory system).  Which
	 * units are valid does not change while the victim is emptied. */
	uint32_t lpns[GC_WIN_UNITS], wstart = first_pg, wend = first_pg, wn = 0, wpf = 0;
	uint64_t fillh[GC_WIN_UNITS / 64];
	uint32_t win_pages = GC_WIN_UNITS / upp;
	ND_ASSERT(win_pages >= 1);
	/* the fill unit whose home is the victim's first unit, and the step
	 * per page (see gc_decode()) */
	uint64_t fill_u0 = s->fill_n ? ftl_fill_unit_at(s, (uint64_t)first_pg * upp) : 0;
	uint64_t fill_step = (uint64_t)s->alloc_n * s->prog_units;
	int rc = 0;
	for (uint32_t pg = first_pg; pg < end_pg && vb->valid; pg++) {
		if (pg == wend) {
			uint32_t np = end_pg - pg < win_pages ? end_pg - pg : win_pages;
			wn = np * upp;
			gc_decode(s, pg, np, fill_u0 + (uint64_t)(pg - first_pg) * fill_step, lpns,
				  fillh);
			for (wpf = 0; wpf < GC_PF && wpf < wn; wpf++)
				if (lpns[wpf] != NONE)
					lt_prefetch(&s->l2p, lpns[wpf]);
			wstart = pg;
			wend = pg + np;
		}
		/* keep GC_PF mapping entries in flight ahead of the moves */
		uint32_t w0 = (pg - wstart) * upp;
		for (uint32_t lim = w0 + upp + GC_PF; wpf < lim && wpf < wn; wpf++)
			if (lpns[wpf] != NONE)
				lt_prefetch(&s->l2p, lpns[wpf]);
		uint32_t nvalid = 0;
		for (uint32_t k = 0; k < upp; k++)
			nvalid += lpns[w0 + k] != NONE;
		if (!nvalid)
			continue;
		reads++;
		/* Read the page; only its valid units cross the channel. */
		if (timed)
			flash_gc_op(s, die, OP_READ, pg, xfer * nvalid);
		uint64_t pua = (uint64_t)pg * upp;
		for (uint32_t k = 0; k < upp; k++, pua++) {
			uint32_t w = w0 + k, lpn = lpns[w];
			if (lpn == NONE)
				continue;
			if (dst_page == NONE) {
				dst_page = alloc_page(s, plane, ACT_GC);
				dst_fill = 0;
				if (dst_page == NONE) {
					rc = -1;  /* failed; the victim keeps the rest */
					goto out;
				}
				db = &s->blk[page_block(s, dst_page)];
			}
			uint64_t dst = (uint64_t)dst_page * upp + dst_fill;
			/* Relocation: the old location is this victim unit, so
			 * skip the generic invalidate (fewer cache misses). */
			if (!(fillh[w >> 6] >> (w & 63) & 1))
				lt_set(&s->p2l, pua, 0);
			else if (!vlay)
				fill_moved_set(s, pua);   /* a fill home */
			vb->valid--;
			lt_set(&s->l2p, lpn, dst + 1);
			lt_set(&s->p2l, dst, (uint64_t)lpn + 1);
			db->valid++;
			if (verify) {
				/* 0 on a fill home means version 1 */
				uint64_t ver = lt_get(&s->ver_p, pua);
				lt_set(&s->ver_p, dst, ver ? ver : 1);
			}
			if (__builtin_expect(cmt, 0))
				cmt_gc_moved(s, lpn);
			if (timed)
				gc_mv_push(s, die, dst, pua);
			dst_fill++;
			moved++;
			if (dst_fill == upp) {
				gc_program_page(s, die, dst_page, dst_fill);
				dst_page = NONE;
			}
		}
	}
	if (dst_page != NONE)
		gc_program_page(s, die, dst_page, dst_fill);
out:
	s->st.flash_read_pages += reads;
	s->st.gc_units_moved += moved;
	if (rc)
		return rc;
	ND_ASSERT(vb->valid == 0);
	ftl_erase_block(s, v);
	return 0;
}

/* Static wear levelling: when the plane's erase-count spread (most-worn
 * block minus least-worn block holding data) passes ssd.ftl.wl.threshold,
 * the least-worn full block (cold data) is collected like a GC victim, so
 * it returns to the free pool for hot data; its moves count as GC moves
 * (in WAF).  One migration per call. */
static void wl_static(ssd *s, uint32_t plane)
{
	uint32_t base = plane * (uint32_t)s->p.blocks, cold = NONE, emin = UINT32_MAX, emax = 0;
	for (uint32_t i = 0; i < (uint32_t)s->p.blocks; i++) {
		const struct block *b = &s->blk[base + i];
		if (b->erases > emax)
			emax = b->erases;
		if (b->state == BLK_FULL && b->erases < emin) {
			emin = b->erases;
			cold = base + i;
		}
	}
	if (cold == NONE || emax - emin <= (uint32_t)s->p.wl_threshold)
		return;
	s->st.wl_migrations++;
	(void)ftl_gc_collect(s, plane, cold);
}

/* Collects garbage in one plane until it has more than the threshold of
 * free blocks: each victim's valid units are read and programmed into the
 * plane's GC block (packed; a partial last page is padded), then erased. */
static void gc_plane(ssd *s, uint32_t plane)
{
	uint32_t guard = (uint32_t)s->p.blocks;
	while (s->pl[plane].nfree <= (uint32_t)s->p.gc_threshold_blocks && guard-- &&
	       !s->failed) {
		uint32_t v = ftl_pick_victim(s, plane);
		if (v == NONE) {
			ssd_fail(s, plane, "has no block that garbage collection can reclaim");
			return;
		}
		if (ftl_gc_collect(s, plane, v))
			return;
		if (s->p.wl_static)
			wl_static(s, plane);
	}
}

/* Next program target (die*planes + first plane) in allocation order. */
static uint32_t next_target(ssd *s)
{
	uint32_t pick = s->alloc_cur;
	if (s->p.alloc_policy == SSD_ALLOC_DYNAMIC && s->timed) {
		/* Least-loaded die first, ties in allocation order. */
		uint32_t best = UINT32_MAX;
		for (uint32_t k = 0; k < s->alloc_n; k++) {
			uint32_t i = (s->alloc_cur + k) % s->alloc_n;
			uint32_t load = s->die[plane_die(s, s->alloc_seq[i])].load;
			if (load < best) {
				best = load;
				pick = i;
				if (!load)
					break;
			}
		}
	}
	uint32_t t = s->alloc_seq[pick];
	s->alloc_cur = pick + 1 == s->alloc_n ? 0 : pick + 1;
	return t;
}

/* On a large drive the old home of each unit a program rewrites is a
 * chain of cache misses: its mapping entry, then that home's reverse-map
 * entry (or fill bit) and block.  Issued for all the program's units
 * before any is placed, the misses of different units overlap instead of
 * running one after another.  (ftl_precondition() pipelines its own, further
 * ahead.) */
void ftl_prefetch_home(const ssd *s, uint32_t lpn)
{
	uint64_t v = lt_get(&s->l2p, lpn), old;
	if (v) {
		old = v - 1;
		lt_prefetch(&s->p2l, old);
	} else if (lpn < s->fill_n) {
		old = ftl_fill_pua(s, lpn);
		nd_prefetch_w(&s->fill_moved[old >> 6]);
	} else {
		return;
	}
	nd_prefetch_w(&s->blk[page_block(s, pua_page(s, old))]);
}

static void prefetch_old_homes(const ssd *s, const uint32_t *lpns, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		lt_prefetch(&s->l2p, lpns[i]);
	for (uint32_t i = 0; i < n; i++)
		ftl_prefetch_home(s, lpns[i]);
}

/* Places up to prog_units units (lpns[i] with versions vers[i]) in one
 * program operation on the next target; returns the op (NULL untimed).
 * With multi-plane programs the target is a die: a full program takes one
 * page in every plane from plane 0; a partial one (write-through, the
 * padded last flush) takes as many planes as it needs starting at the die's
 * rotating cursor, so one-page programs do not all land in plane 0. */
struct fop *ftl_program(ssd *s, const uint32_t *lpns, const uint32_t *vers,
				 uint32_t n)
{
	uint32_t target = next_target(s);
	uint32_t die = plane_die(s, target);
	uint32_t nplanes = s->p.multiplane ? (uint32_t)s->p.planes : 1;
	uint32_t used = 0, pages = 0;
	uint8_t ptype = 0;
	uint32_t need = div_fast32(n + s->upp - 1, s->upp, s->sh_upp), first = 0;
	if (nplanes > 1 && need < nplanes) {
		first = s->die[die].next_plane;
		s->die[die].next_plane = (first + need) % nplanes;
	}
	int slc = s->slc ? slc_admit(s, die, lpns, n, need) : 0;   /* SLC mode (slc.c) */
	if (s->timed)
		prefetch_old_homes(s, lpns, n);
	for (uint32_t k = 0; k < nplanes && used < n && !s->failed; k++) {
		uint32_t pk = first + k;   /* (first + k) mod nplanes: first < nplanes */
		uint32_t page = alloc_page(s, target + (pk < nplanes ? pk : pk - nplanes), ACT_HOST);
		if (page == NONE)
			break;
		pages++;
		ptype = nand_prog_slower(s, ptype, page);
		if (slc)
			slc_mark(s, die, page);
		for (uint32_t j = 0; j < s->upp; j++) {
			if (used < n) {
				place(s, lpns[used], (uint64_t)page * s->upp + j, vers[used]);
				used++;
			} else {
				s->st.pad_units++;
			}
		}
	}
	s->st.flash_prog_pages += pages;
	s->st.prog_units_written += pages * s->upp;
	s->placed = 1;
	if (s->cmt)
		cmt_flush(s);   /* translation pages left pending (safe point) */
	if (!s->timed)
		return NULL;
	struct fop *f = flash_new_op(s, OP_PROG, die);
	f->npages = (uint16_t)pages;
	f->ptype = ptype;
	f->slc = (uint8_t)slc;
	f->xfer_bytes = pages * (uint32_t)s->p.page_bytes;
	return f;
}

/* Sequential functional write of [0, n) on a pristine drive, in O(planes +
 * blocks): the same placement, block states, allocation cursors and
 * statistics as programming the units one program at a time (no GC can
 * run: the logical space leaves every plane its GC reserve), but the
 * mapping stays implicit (ftl_fill_pua()) until a unit is written again or
 * moved. */
void ftl_fill_implicit(ssd *s, uint64_t n)
{
	uint32_t P = s->prog_units, upp = s->upp;
	uint32_t nplanes = s->p.multiplane ? (uint32_t)s->p.planes : 1;
	uint64_t G = (n + P - 1) / P;                 /* programs */
	uint32_t nl = (uint32_t)(n - (G - 1) * P);    /* units in the last one */
	uint32_t need_last = (nl + upp - 1) / upp;
	uint32_t pos_last = (uint32_t)((G - 1) % s->alloc_n);
	uint32_t pages_per_block = (uint32_t)s->p.pages;
	uint64_t pages_total = 0;
	for (uint32_t pos = 0; pos < s->alloc_n; pos++) {
		uint64_t progs = G / s->alloc_n + (pos < G % s->alloc_n);
		for (uint32_t k = 0; k < nplanes; k++) {
			uint64_t np = progs, nv;
			if (pos == pos_last && k >= need_last)
				np--;
			nv = np * upp;
			if (pos == pos_last && k < need_last) {
				uint32_t in_last = nl - k * upp < upp ? nl - k * upp : upp;
				nv -= upp - in_last;
			}
			pages_total += np;
			uint32_t plane = s->alloc_seq[pos] + k;
			struct plane *pl = &s->pl[plane];
			uint32_t used = (uint32_t)((np + pages_per_block - 1) / pages_per_block);
			ND_ASSERT(used + (uint32_t)s->p.gc_threshold_blocks < (uint32_t)s->p.blocks);
			for (uint32_t i = 0; i < used; i++) {
				struct block *bk = &s->blk[plane * (uint32_t)s->p.blocks + i];
				uint64_t pg = np - (uint64_t)i * pages_per_block;
				bk->wp = pg < pages_per_block ? (uint32_t)pg : pages_per_block;
				uint64_t left = nv - (uint64_t)i * s->units_per_block;
				bk->valid = left < s->units_per_block ? (uint32_t)left : s->units_per_block;
				bk->state = bk->wp == pages_per_block ? BLK_FULL : BLK_OPEN;
				if (bk->state == BLK_OPEN)
					pl->active[ACT_HOST] = plane * (uint32_t)s->p.blocks + i;
			}
			pl->fresh = used;
			pl->nfree = (uint32_t)s->p.blocks - used;
		}
	}
	if (nplanes > 1 && need_last < nplanes)
		s->die[plane_die(s, s->alloc_seq[pos_last])].next_plane = need_last;
	s->alloc_cur = (uint32_t)(G % s->alloc_n);
	s->fill_n = n;
	s->fill_moved = xcalloc((size_t)((s->n_units_phys + 63) / 64), sizeof *s->fill_moved);
	s->placed = 1;
	s->st.flash_prog_pages += pages_total;
	s->st.prog_units_written += pages_total * upp;
	s->st.pad_units += pages_total * upp - n;
}

void ssd_write_functional(ssd *s, uint64_t first_unit, uint64_t n)
{
	if (!n || s->failed)
		return;
	if (!s->placed && first_unit == 0 && n <= s->n_lpn && s->nbfree == s->bcap) {
		ftl_fill_implicit(s, n);
		cmt_functional_sync(s, 0, n);
		return;
	}
	int was = s->timed;
	s->timed = 0;
	uint32_t *lp = xmalloc(s->prog_units * sizeof *lp);
	uint32_t *vr = xmalloc(s->prog_units * sizeof *vr);
	uint64_t done = 0;
	while (done < n) {
		uint32_t k = 0;
		for (; k < s->prog_units && done < n; done++) {
			uint32_t lpn = (uint32_t)((first_unit + done) % s->n_lpn);
			uint32_t b = buf_find(s, lpn);
			if (b != NONE && s->bs[b].state == BS_DIRTY)
				continue;  /* the buffered copy is newer */
			lp[k] = lpn;
			vr[k] = ftl_ver_next(s, lpn);
			k++;
		}
		ftl_program(s, lp, vr, k);
	}
	free(lp);
	free(vr);
	s->timed = was;
	cmt_functional_sync(s, first_unit, n);
}

void ssd_write_functional_list(ssd *s, const uint64_t *units, size_t n)
{
	if (!n || s->failed)
		return;
	int was = s->timed;
	s->timed = 0;
	uint32_t *lp = xmalloc(s->prog_units * sizeof *lp);
	uint32_t *vr = xmalloc(s->prog_units * sizeof *vr);
	for (size_t done = 0; done < n;) {
		uint32_t k = 0;
		for (; k < s->prog_units && done < n; k++, done++) {
			ND_ASSERT(units[done] < s->n_lpn);
			lp[k] = (uint32_t)units[done];
			vr[k] = ftl_ver_next(s, lp[k]);
		}
		ftl_program(s, lp, vr, k);
	}
	free(lp);
	free(vr);
	s->timed = was;
	cmt_functional_sync(s, 0, 0);
}

void ftl_precondition(ssd *s)
{
	uint64_t fill = (uint64_t)(s->p.pre_fill * (double)s->n_lpn);
	uint64_t over = (uint64_t)(s->p.pre_overwrite * (double)s->n_lpn);
	if (s->p.pre_method == SSD_PRE_STEADY && over && fill && !s->placed) {
		precond_steady(s, fill, over);   /* the model's state (precond.c) */
		cmt_functional_sync(s, 0, fill);   /* translation pages of the range */
		return;
	}
	if (fill)
		ssd_write_functional(s, 0, fill);
	if (!over)
		return;
	/* Random overwrites in batches: draw a batch's units (in the order
	 * the programs take them), then program them with a software
	 * pipeline of prefetches: the mapping entry of the unit PF_L2P ahead,
	 * the reverse-map entry (or fill bit) and block of the old home of the
	 * unit PF_OLD ahead.  On a large drive every one of those is a cache
	 * miss; a fixed distance keeps a few dozen in flight, which is what the
	 * memory system overlaps (prefetching a whole batch at once overruns
	 * it and the later ones are lost). */
	enum { PF_L2P = 64, PF_OLD = 32 };
	enum { BATCH = 2048 };   /* >= the largest program (1024 units) */
	uint32_t *lp = xmalloc(BATCH * sizeof *lp);
	uint32_t *vr = xmalloc(BATCH * sizeof *vr);
	int was = s->timed;
	s->timed = 0;
	/* Overwrites stay within the filled part (all of it if no fill). */
	uint64_t range = fill ? fill : s->n_lpn;
	if (over >= range / 16) {
		/* ~64 writes or more per chunk of 1024 units: every table will
		 * be dense, so back it with huge pages from the start. */
		lt_dense(&s->l2p);
		lt_dense(&s->p2l);
		if (s->verify) {
			lt_dense(&s->ver_l);
			lt_dense(&s->ver_p);
		}
	}
	uint32_t per_batch = BATCH / s->prog_units * s->prog_units;
	for (uint64_t done = 0; done < over && !s->failed;) {
		uint32_t n = over - done < per_batch ? (uint32_t)(over - done) : per_batch;
		for (uint32_t i = 0; i < n; i++) {
			lp[i] = (uint32_t)rng_below(&s->rng, range);
			vr[i] = ftl_ver_next(s, lp[i]);
		}
		for (uint32_t i = 0; i < PF_L2P && i < n; i++)
			lt_prefetch(&s->l2p, lp[i]);
		uint32_t pf_a = PF_L2P, pf_b = 0;   /* next unit for each prefetch */
		for (uint32_t i = 0; i < n; i += s->prog_units) {
			uint32_t end = i + s->prog_units < n ? i + s->prog_units : n;
			for (; pf_a < end + PF_L2P && pf_a < n; pf_a++)
				lt_prefetch(&s->l2p, lp[pf_a]);
			for (; pf_b < end + PF_OLD && pf_b < n; pf_b++) {
				uint64_t v = lt_get(&s->l2p, lp[pf_b]), old = PUA_NONE;
				if (v) {
					old = v - 1;
					lt_prefetch(&s->p2l, old);
				} else if (lp[pf_b] < s->fill_n) {
					old = ftl_fill_pua(s, lp[pf_b]);
					nd_prefetch_w(&s->fill_moved[old >> 6]);
				}
				if (old != PUA_NONE)
					nd_prefetch_w(&s->blk[page_block(s, pua_page(s, old))]);
			}
			ftl_program(s, lp + i, vr + i, end - i);
		}
		done += n;
	}
	s->timed = was;
	free(lp);
	free(vr);
	cmt_functional_sync(s, 0, 0);
}

static uint32_t radix_of(const struct ssd_params *p, char c)
{
	switch (c) {
	case 'C': return (uint32_t)p->channels;
	case 'W': return (uint32_t)p->ways;
	case 'D': return (uint32_t)p->dies;
	default: return p->multiplane ? 1 : (uint32_t)p->planes;
	}
}

void ftl_build_alloc_seq(ssd *s)
{
	const struct ssd_params *p = &s->p;
	s->alloc_n = s->n_dies * (p->multiplane ? 1 : (uint32_t)p->planes);
	s->alloc_seq = xmalloc(s->alloc_n * sizeof *s->alloc_seq);
	for (uint32_t idx = 0; idx < s->alloc_n; idx++) {
		uint32_t v[4] = { 0, 0, 0, 0 }; /* C W D P */
		uint32_t x = idx;
		for (int k = 0; k < 4; k++) {
			char c = p->alloc_order[k];
			uint32_t r = radix_of(p, c);
			uint32_t digit = x % r;
			x /= r;
			v[strchr("CWDP", c) - "CWDP"] = digit;
		}
		uint32_t die = (v[0] * (uint32_t)p->ways + v[1]) * (uint32_t)p->dies + v[2];
		s->alloc_seq[idx] = die * (uint32_t)p->planes + v[3];
	}
	s->alloc_pos = xcalloc(s->n_planes, sizeof *s->alloc_pos);
	for (uint32_t idx = 0; idx < s->alloc_n; idx++)
		s->alloc_pos[s->alloc_seq[idx]] = idx;
}

int ssd_unit_channel(const ssd *s, uint64_t unit)
{
	uint64_t pua = ftl_l2p(s, (uint32_t)(unit % s->n_lpn));
	if (pua == PUA_NONE)
		return -1;
	return (int)s->die[pua_die(s, pua)].chan;
}
