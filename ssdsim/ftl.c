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

#include "core/util.h"

static void gc_plane(ssd *s, uint32_t plane);

static void invalidate(ssd *s, uint32_t lpn)
{
	uint32_t old = s->l2p[lpn];
	if (old == NONE)
		return;
	s->p2l[old] = NONE;
	uint32_t b = page_block(s, pua_page(s, old));
	ND_ASSERT(s->blk[b].valid > 0);
	s->blk[b].valid--;
}

static void place(ssd *s, uint32_t lpn, uint32_t pua, uint32_t ver)
{
	invalidate(s, lpn);
	s->l2p[lpn] = pua;
	s->p2l[pua] = lpn;
	s->blk[page_block(s, pua_page(s, pua))].valid++;
	if (s->ver_p)
		s->ver_p[pua] = ver;
}

static uint32_t pick_victim(ssd *s, uint32_t plane)
{
	uint32_t base = plane * (uint32_t)s->p.blocks, best = NONE;
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

/* Opens a free block of the plane; NONE (and the drive fails) if none. */
static uint32_t take_free_block(ssd *s, uint32_t plane)
{
	struct plane *pl = &s->pl[plane];
	if (pl->nfree == 0) {
		ssd_fail(s, plane, "has no free block");
		return NONE;
	}
	uint32_t b = plane * (uint32_t)s->p.blocks + pl->free_blk[--pl->nfree];
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
		pl->active[who] = NONE;
	}
	return page;
}

void ftl_erase_block(ssd *s, uint32_t b)
{
	struct block *bk = &s->blk[b];
	ND_ASSERT(bk->valid == 0);
	uint32_t plane = block_plane(s, b);
	bk->erases++;
	bk->state = BLK_FREE;
	bk->wp = 0;
	s->pl[plane].free_blk[s->pl[plane].nfree++] = b % (uint32_t)s->p.blocks;
	s->st.flash_erases++;
	if (s->timed) {
		struct fop *f = flash_new_op(s, OP_ERASE, plane_die(s, plane));
		flash_enqueue(s, f, 0);
	}
}

/* Programs one GC destination page holding `filled` units (the rest is
 * padding): statistics always, a flash operation when timed. */
static void gc_program_page(ssd *s, uint32_t die, uint32_t filled)
{
	s->st.pad_units += s->upp - filled;
	s->st.prog_units_written += s->upp;
	s->st.flash_prog_pages++;
	if (!s->timed)
		return;
	struct fop *w = flash_new_op(s, OP_PROG, die);
	w->npages = 1;
	w->xfer_bytes = (uint32_t)s->p.page_bytes;
	flash_enqueue(s, w, 0);
}

/* Collects garbage in one plane until it has more than the threshold of
 * free blocks: each victim's valid units are read and programmed into the
 * plane's GC block (packed; a partial last page is padded), then erased. */
static void gc_plane(ssd *s, uint32_t plane)
{
	uint32_t die = plane_die(s, plane);
	uint32_t guard = (uint32_t)s->p.blocks;
	while (s->pl[plane].nfree <= (uint32_t)s->p.gc_threshold_blocks && guard-- &&
	       !s->failed) {
		uint32_t v = pick_victim(s, plane);
		if (v == NONE) {
			ssd_fail(s, plane, "has no block that garbage collection can reclaim");
			return;
		}
		s->st.gc_count++;
		uint32_t dst_page = NONE, dst_fill = 0;
		uint32_t first_pg = v * (uint32_t)s->p.pages;
		for (uint32_t pg = first_pg; pg < first_pg + s->blk[v].wp && s->blk[v].valid; pg++) {
			uint32_t nvalid = 0;
			for (uint32_t k = 0; k < s->upp; k++)
				nvalid += s->p2l[pg * s->upp + k] != NONE;
			if (!nvalid)
				continue;
			s->st.flash_read_pages++;
			if (s->timed) {
				/* Read the page; only its valid units cross the channel. */
				struct fop *r = flash_new_op(s, OP_READ, die);
				r->npages = 1;
				r->xfer_bytes = nvalid * (uint32_t)s->p.map_unit_bytes;
				flash_enqueue(s, r, 0);
			}
			for (uint32_t k = 0; k < s->upp; k++) {
				uint32_t pua = pg * s->upp + k;
				uint32_t lpn = s->p2l[pua];
				if (lpn == NONE)
					continue;
				if (dst_page == NONE) {
					dst_page = alloc_page(s, plane, ACT_GC);
					dst_fill = 0;
					if (dst_page == NONE)
						return;  /* failed; the victim keeps the rest */
				}
				uint32_t dst = dst_page * s->upp + dst_fill;
				/* Relocation: the old location is this victim unit, so
				 * skip the generic invalidate (fewer cache misses). */
				s->p2l[pua] = NONE;
				s->blk[v].valid--;
				s->l2p[lpn] = dst;
				s->p2l[dst] = lpn;
				s->blk[page_block(s, dst_page)].valid++;
				if (s->ver_p)
					s->ver_p[dst] = s->ver_p[pua];
				dst_fill++;
				s->st.gc_units_moved++;
				if (dst_fill == s->upp) {
					gc_program_page(s, die, dst_fill);
					dst_page = NONE;
				}
			}
		}
		if (dst_page != NONE)
			gc_program_page(s, die, dst_fill);
		ND_ASSERT(s->blk[v].valid == 0);
		ftl_erase_block(s, v);
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
	s->alloc_cur = (pick + 1) % s->alloc_n;
	return t;
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
	uint32_t need = (n + s->upp - 1) / s->upp, first = 0;
	if (nplanes > 1 && need < nplanes) {
		first = s->die[die].next_plane;
		s->die[die].next_plane = (first + need) % nplanes;
	}
	for (uint32_t k = 0; k < nplanes && used < n && !s->failed; k++) {
		uint32_t page = alloc_page(s, target + (first + k) % nplanes, ACT_HOST);
		if (page == NONE)
			break;
		pages++;
		for (uint32_t j = 0; j < s->upp; j++) {
			if (used < n) {
				place(s, lpns[used], page * s->upp + j, vers[used]);
				used++;
			} else {
				s->st.pad_units++;
			}
		}
	}
	s->st.flash_prog_pages += pages;
	s->st.prog_units_written += pages * s->upp;
	if (!s->timed)
		return NULL;
	struct fop *f = flash_new_op(s, OP_PROG, die);
	f->npages = (uint16_t)pages;
	f->xfer_bytes = pages * (uint32_t)s->p.page_bytes;
	return f;
}

void ssd_write_functional(ssd *s, uint64_t first_unit, uint64_t n)
{
	int was = s->timed;
	s->timed = 0;
	uint32_t *lp = xmalloc(s->prog_units * sizeof *lp);
	uint32_t *vr = xmalloc(s->prog_units * sizeof *vr);
	uint64_t done = 0;
	while (done < n) {
		uint32_t k = 0;
		for (; k < s->prog_units && done < n; k++, done++) {
			uint32_t lpn = (uint32_t)((first_unit + done) % s->n_lpn);
			uint32_t b = buf_find(s, lpn);
			if (b != NONE && s->bs[b].state == BS_DIRTY)
				continue;  /* the buffered copy is newer */
			lp[k] = lpn;
			vr[k] = s->ver_l ? ++s->ver_l[lpn] : 0;
		}
		ftl_program(s, lp, vr, k);
	}
	free(lp);
	free(vr);
	s->timed = was;
}

void ftl_precondition(ssd *s)
{
	uint64_t fill = (uint64_t)(s->p.pre_fill * (double)s->n_lpn);
	if (fill)
		ssd_write_functional(s, 0, fill);
	uint64_t over = (uint64_t)(s->p.pre_overwrite * (double)s->n_lpn);
	if (!over)
		return;
	uint32_t *lp = xmalloc(s->prog_units * sizeof *lp);
	uint32_t *vr = xmalloc(s->prog_units * sizeof *vr);
	int was = s->timed;
	s->timed = 0;
	/* Overwrites stay within the filled part (all of it if no fill). */
	uint64_t range = fill ? fill : s->n_lpn;
	for (uint64_t done = 0; done < over;) {
		uint32_t k = 0;
		for (; k < s->prog_units && done < over; k++, done++) {
			lp[k] = (uint32_t)rng_below(&s->rng, range);
			vr[k] = s->ver_l ? ++s->ver_l[lp[k]] : 0;
		}
		ftl_program(s, lp, vr, k);
	}
	s->timed = was;
	free(lp);
	free(vr);
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
}

int ssd_unit_channel(const ssd *s, uint64_t unit)
{
	uint32_t pua = s->l2p[unit % s->n_lpn];
	if (pua == NONE)
		return -1;
	return (int)s->die[pua_die(s, pua)].chan;
}
