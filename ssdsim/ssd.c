/*
 * ssd.c — the SSD model: host interface, controller, DRAM write buffer,
 * page-mapping FTL with GC, and die/channel timing.  See ssd.h.
 *
 * Flash operations (struct fop) come from a pool grown in chunks, so no
 * allocation happens per page or per event once the pool is warm.  The FTL
 * updates its mapping when a program or a GC relocation is *decided*; the
 * corresponding flash operations are queued on the die in that same order,
 * so a later read of the unit queues behind the write that placed it.
 */
#include "ssdsim/ssd.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/util.h"

#define NONE UINT32_MAX

enum { OP_READ, OP_PROG, OP_ERASE };
enum { BS_FREE, BS_DIRTY, BS_INFLIGHT };
enum { BLK_FREE, BLK_OPEN, BLK_FULL };
enum { ST_DISPATCH, ST_DATA_IN, ST_LINK, ST_DONE };
enum { ACT_HOST, ACT_GC };

struct fop {
	struct evq_event ev;
	struct fop *next;
	ssd *s;
	uint8_t kind;
	uint16_t npages;
	uint32_t die;
	uint32_t xfer_bytes;
	uint32_t nslots;
	struct ssd_req *req;
	uint64_t t_start;
	uint32_t ids[];       /* PROG: buffer slots to release; READ: pages */
};

struct die {
	struct fop *rq_head, *rq_tail;   /* host reads */
	struct fop *wq_head, *wq_tail;   /* programs, erases, GC (and all, if FIFO) */
	struct fop *cur;
	uint64_t busy_ns;
	uint32_t chan;
	uint32_t load;                   /* ops queued or running */
	uint32_t next_plane;             /* first plane of the next partial program */
};

struct chan {
	uint64_t free_ns;
	uint64_t busy_ns;
};

struct block {
	uint32_t valid;       /* valid units */
	uint32_t erases;
	uint32_t wp;          /* next page to program */
	uint8_t state;
	uint64_t t_write_ns;  /* last program, for cost-benefit age */
};

struct plane {
	uint32_t *free_blk;   /* stack of free block indices (local) */
	uint32_t nfree;
	uint32_t active[2];   /* open block for host data / GC data, NONE */
};

struct bslot {
	uint32_t lpn;
	uint32_t ver;
	uint8_t state;
};

struct ssd {
	struct ssd_params p;
	evq *q;
	struct energy_ledger *led;
	struct rng rng;

	/* geometry */
	uint32_t upp;               /* map units per page */
	uint32_t n_dies, n_planes, n_blocks;
	uint64_t n_units_phys, n_lpn;
	uint32_t units_per_block;
	uint32_t prog_units;        /* units per host program operation */
	uint64_t t_xfer_unit_ns;    /* one map unit over a channel */
	uint64_t ctrl_ns;
	double ch_bps, link_bps, dram_bps;

	/* FTL */
	uint32_t *l2p;
	uint32_t *p2l;
	struct block *blk;
	struct plane *pl;
	uint32_t *alloc_seq;        /* die*planes+plane targets in order */
	uint32_t alloc_n, alloc_cur;

	/* verify */
	uint32_t *ver_l, *ver_p;

	/* resources */
	struct die *die;
	struct chan *ch;
	uint64_t *core_free;
	uint64_t h2d_free, d2h_free, dram_free;

	/* buffer */
	struct bslot *bs;
	uint32_t bcap;
	uint32_t *bfree;            /* stack of free slots */
	uint32_t nbfree;
	uint32_t *fifo;             /* dirty slots in order */
	uint32_t fifo_head, fifo_n;
	uint32_t *hash;             /* lpn -> slot, open addressing */
	uint32_t hmask;
	struct ssd_req *wait_head, *wait_tail;

	/* fop pool */
	size_t fop_size;
	struct fop *fop_free;
	void **chunks;
	size_t nchunks;

	struct ssd_stats st;
	int timed;                  /* 0 while preconditioning */
	int failed;                 /* out of space: no placement from now on */
	char fail_msg[256];

	/* energy handles */
	int e_read, e_prog, e_erase, e_chan, e_dram, e_link;
	int e_st_nand, e_st_ctrl, e_st_dram;
};

/* ---------------------------------------------------------------- helpers */

static inline uint32_t pua_page(const ssd *s, uint32_t pua) { return pua / s->upp; }
static inline uint32_t page_block(const ssd *s, uint32_t pg) { return pg / (uint32_t)s->p.pages; }
static inline uint32_t block_plane(const ssd *s, uint32_t b) { return b / (uint32_t)s->p.blocks; }
static inline uint32_t plane_die(const ssd *s, uint32_t pl) { return pl / (uint32_t)s->p.planes; }
static inline uint32_t pua_die(const ssd *s, uint32_t pua)
{
	return plane_die(s, block_plane(s, page_block(s, pua_page(s, pua))));
}

uint64_t ssd_capacity_bytes(const ssd *s) { return s->n_lpn * (uint64_t)s->p.map_unit_bytes; }
uint32_t ssd_unit_bytes(const ssd *s) { return (uint32_t)s->p.map_unit_bytes; }
int ssd_n_dies(const ssd *s) { return (int)s->n_dies; }
uint64_t ssd_channel_busy_ns(const ssd *s, int c) { return s->ch[c].busy_ns; }
uint64_t ssd_die_busy_ns(const ssd *s, int d) { return s->die[d].busy_ns; }

static struct fop *fop_get(ssd *s)
{
	if (!s->fop_free) {
		size_t n = 1024;
		char *chunk = xmalloc(n * s->fop_size);
		s->chunks = xrealloc(s->chunks, (s->nchunks + 1) * sizeof *s->chunks);
		s->chunks[s->nchunks++] = chunk;
		for (size_t i = 0; i < n; i++) {
			struct fop *f = (struct fop *)(void *)(chunk + i * s->fop_size);
			f->next = s->fop_free;
			s->fop_free = f;
		}
	}
	struct fop *f = s->fop_free;
	s->fop_free = f->next;
	memset(f, 0, sizeof *f);
	f->s = s;
	return f;
}

static void fop_put(ssd *s, struct fop *f)
{
	f->next = s->fop_free;
	s->fop_free = f;
}

/* ---------------------------------------------------------------- buffer */

static inline uint32_t hslot(const ssd *s, uint32_t lpn)
{
	return (uint32_t)((lpn * 0x9e3779b1u) & s->hmask);
}

static uint32_t buf_find(const ssd *s, uint32_t lpn)
{
	for (uint32_t i = hslot(s, lpn);; i = (i + 1) & s->hmask) {
		uint32_t v = s->hash[i];
		if (v == NONE)
			return NONE;
		if (s->bs[v].lpn == lpn)
			return v;
	}
}

static void buf_hash_set(ssd *s, uint32_t lpn, uint32_t slot)
{
	for (uint32_t i = hslot(s, lpn);; i = (i + 1) & s->hmask) {
		uint32_t v = s->hash[i];
		if (v == NONE || s->bs[v].lpn == lpn) {
			s->hash[i] = slot;
			return;
		}
	}
}

/* Removes lpn's entry if it points at slot (backward-shift deletion). */
static void buf_hash_del(ssd *s, uint32_t lpn, uint32_t slot)
{
	uint32_t i = hslot(s, lpn);
	for (;; i = (i + 1) & s->hmask) {
		uint32_t v = s->hash[i];
		if (v == NONE)
			return;
		if (s->bs[v].lpn == lpn)
			break;
	}
	if (s->hash[i] != slot)
		return;
	uint32_t j = i;
	for (;;) {
		s->hash[i] = NONE;
		for (;;) {
			j = (j + 1) & s->hmask;
			uint32_t v = s->hash[j];
			if (v == NONE)
				return;
			uint32_t h = hslot(s, s->bs[v].lpn);
			/* Move v back to i if its home is not in (i, j]. */
			if (i <= j ? (h <= i || h > j) : (h <= i && h > j))
				break;
		}
		s->hash[i] = s->hash[j];
		i = j;
	}
}

/* ---------------------------------------------------------------- FTL */

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

static void die_enqueue(ssd *s, struct fop *f, int read_q);
static void die_kick(ssd *s, uint32_t di);

static struct fop *new_op(ssd *s, int kind, uint32_t die)
{
	struct fop *f = fop_get(s);
	f->kind = (uint8_t)kind;
	f->die = die;
	return f;
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

static void gc_plane(ssd *s, uint32_t plane);

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

static void erase_block(ssd *s, uint32_t b)
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
		struct fop *f = new_op(s, OP_ERASE, plane_die(s, plane));
		die_enqueue(s, f, 0);
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
	struct fop *w = new_op(s, OP_PROG, die);
	w->npages = 1;
	w->xfer_bytes = (uint32_t)s->p.page_bytes;
	die_enqueue(s, w, 0);
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
				struct fop *r = new_op(s, OP_READ, die);
				r->npages = 1;
				r->xfer_bytes = nvalid * (uint32_t)s->p.map_unit_bytes;
				die_enqueue(s, r, 0);
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
		erase_block(s, v);
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
static struct fop *program_units(ssd *s, const uint32_t *lpns, const uint32_t *vers,
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
	struct fop *f = new_op(s, OP_PROG, die);
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
		program_units(s, lp, vr, k);
	}
	free(lp);
	free(vr);
	s->timed = was;
}

static void precondition(ssd *s)
{
	uint64_t fill = (uint64_t)(s->p.pre_fill * (double)s->n_lpn);
	if (fill)
		ssd_write_functional(s, 0, fill);
	uint64_t over = (uint64_t)(s->p.pre_overwrite * (double)s->n_lpn);
	if (!over)
		return;
	uint32_t *lp = xmalloc(s->prog_units * sizeof *lp);
	uint32_t *vr = xmalloc(s->prog_units * sizeof *vr);
	s->timed = 0;
	/* Overwrites stay within the filled part (all of it if no fill). */
	uint64_t range = fill ? fill : s->n_lpn;
	for (uint64_t done = 0; done < over;) {
		uint32_t k = 0;
		for (; k < s->prog_units && done < over; k++, done++) {
			lp[k] = (uint32_t)rng_below(&s->rng, range);
			vr[k] = s->ver_l ? ++s->ver_l[lp[k]] : 0;
		}
		program_units(s, lp, vr, k);
	}
	s->timed = 1;
	free(lp);
	free(vr);
}

/* ---------------------------------------------------------------- timing */

static void op_done(evq *q, struct evq_event *ev);
static void op_sensed(evq *q, struct evq_event *ev);
static void req_event(evq *q, struct evq_event *ev);

static void die_enqueue(ssd *s, struct fop *f, int read_q)
{
	struct die *d = &s->die[f->die];
	f->next = NULL;
	d->load++;
	if (read_q && s->p.sched == SSD_SCHED_READ_FIRST) {
		if (d->rq_tail)
			d->rq_tail->next = f;
		else
			d->rq_head = f;
		d->rq_tail = f;
	} else {
		if (d->wq_tail)
			d->wq_tail->next = f;
		else
			d->wq_head = f;
		d->wq_tail = f;
	}
	if (!d->cur)
		die_kick(s, f->die);
}

static uint64_t chan_reserve(ssd *s, uint32_t c, uint64_t bytes)
{
	struct chan *ch = &s->ch[c];
	uint64_t t = nd_max_u64(evq_now(s->q), ch->free_ns);
	uint64_t ub = (uint64_t)s->p.map_unit_bytes;
	uint64_t x = bytes / ub * s->t_xfer_unit_ns;
	if (bytes % ub)
		x += nd_xfer_ns(bytes % ub, s->ch_bps);
	ch->free_ns = t + x;
	ch->busy_ns += x;
	s->st.channel_bytes += bytes;
	en_add_units(s->led, s->e_chan, (double)bytes);
	return ch->free_ns;
}

static void die_kick(ssd *s, uint32_t di)
{
	struct die *d = &s->die[di];
	if (d->cur)
		return;
	struct fop *f = d->rq_head;
	if (f) {
		d->rq_head = f->next;
		if (!d->rq_head)
			d->rq_tail = NULL;
	} else if ((f = d->wq_head)) {
		d->wq_head = f->next;
		if (!d->wq_head)
			d->wq_tail = NULL;
	} else {
		return;
	}
	d->cur = f;
	uint64_t now = evq_now(s->q);
	f->t_start = now;
	int rc;
	switch (f->kind) {
	case OP_READ:
		en_add(s->led, s->e_read, f->npages);
		rc = evq_schedule(s->q, &f->ev, now + s->p.t_read_ns, op_sensed);
		break;
	case OP_PROG: {
		uint64_t t = chan_reserve(s, d->chan, f->xfer_bytes);
		en_add(s->led, s->e_prog, f->npages);
		rc = evq_schedule(s->q, &f->ev, t + s->p.t_prog_ns, op_done);
		break;
	}
	default:
		en_add(s->led, s->e_erase, 1);
		rc = evq_schedule(s->q, &f->ev, now + s->p.t_erase_ns, op_done);
		break;
	}
	ND_ASSERT(rc == 0);
}

static void op_sensed(evq *q, struct evq_event *ev)
{
	struct fop *f = container_of(ev, struct fop, ev);
	ssd *s = f->s;
	uint64_t t = chan_reserve(s, s->die[f->die].chan, f->xfer_bytes);
	int rc = evq_schedule(q, &f->ev, t, op_done);
	ND_ASSERT(rc == 0);
}

static void buf_release(ssd *s, uint32_t slot)
{
	struct bslot *b = &s->bs[slot];
	ND_ASSERT(b->state == BS_INFLIGHT);
	buf_hash_del(s, b->lpn, slot);
	b->state = BS_FREE;
	s->bfree[s->nbfree++] = slot;
}

static void admit_waiters(ssd *s);
static void req_finish_stage(ssd *s, struct ssd_req *r);

static void op_done(evq *q, struct evq_event *ev)
{
	struct fop *f = container_of(ev, struct fop, ev);
	ssd *s = f->s;
	struct die *d = &s->die[f->die];
	d->busy_ns += evq_now(q) - f->t_start;
	d->cur = NULL;
	d->load--;
	struct ssd_req *r = f->req;
	int freed = 0;
	if (f->kind == OP_PROG && f->nslots) {
		for (uint32_t i = 0; i < f->nslots; i++)
			buf_release(s, f->ids[i]);
		freed = 1;
	}
	fop_put(s, f);
	die_kick(s, (uint32_t)(d - s->die));
	if (r) {
		ND_ASSERT(r->pending > 0);
		if (--r->pending == 0 && r->units_left == 0)
			req_finish_stage(s, r);
	}
	if (freed)
		admit_waiters(s);
}

/* ---------------------------------------------------------------- requests */

static uint64_t dram_reserve(ssd *s, uint64_t bytes)
{
	uint64_t t = nd_max_u64(evq_now(s->q), s->dram_free);
	s->dram_free = t + nd_xfer_ns(bytes, s->dram_bps);
	en_add_units(s->led, s->e_dram, (double)bytes);
	return s->dram_free + s->p.dram_lat_ns;
}

static void sched_req(ssd *s, struct ssd_req *r, uint64_t t, int stage)
{
	r->stage = (uint8_t)stage;
	int rc = evq_schedule(s->q, &r->ev, t, req_event);
	ND_ASSERT(rc == 0);
}

static void complete(ssd *s, struct ssd_req *r)
{
	r->t_done_ns = evq_now(s->q);
	r->done(s, r);
}

/* All flash and buffer work of a request is done (or scheduled to be done by
 * t_data_ns): move on to the host link or complete. */
static void req_finish_stage(ssd *s, struct ssd_req *r)
{
	uint64_t now = evq_now(s->q);
	uint64_t t = nd_max_u64(now, r->t_data_ns);
	if (r->path == SSD_PATH_INTERNAL || r->is_write) {
		if (t > now)
			sched_req(s, r, t, ST_DONE);
		else
			complete(s, r);
		return;
	}
	sched_req(s, r, t, ST_LINK);
}

static void flush(ssd *s, int force, struct ssd_req *owner);

/* Admits as many of r's units into the buffer as there is room for.
 * Returns 1 when all are in. */
static int admit(ssd *s, struct ssd_req *r)
{
	uint32_t ub = (uint32_t)s->p.map_unit_bytes;
	uint32_t admitted = 0;
	while (r->units_left) {
		uint32_t lpn = (uint32_t)(r->next_unit % s->n_lpn);
		uint32_t b = buf_find(s, lpn);
		if (b != NONE && s->bs[b].state == BS_DIRTY && !s->p.write_through) {
			/* Overwrite in place: no new space needed. */
			if (s->ver_l)
				s->bs[b].ver = ++s->ver_l[lpn];
		} else {
			if (s->nbfree == 0)
				break;
			b = s->bfree[--s->nbfree];
			s->bs[b].lpn = lpn;
			s->bs[b].ver = s->ver_l ? ++s->ver_l[lpn] : 0;
			s->bs[b].state = BS_DIRTY;
			buf_hash_set(s, lpn, b);
			s->fifo[(s->fifo_head + s->fifo_n) % s->bcap] = b;
			s->fifo_n++;
		}
		s->st.host_write_units++;
		r->next_unit++;
		r->units_left--;
		admitted++;
	}
	if (admitted)
		r->t_data_ns = nd_max_u64(r->t_data_ns, dram_reserve(s, (uint64_t)admitted * ub));
	if (s->p.write_through)
		flush(s, 1, r);
	else
		flush(s, 0, NULL);
	return r->units_left == 0;
}

/* Issues programs for dirty buffered units: full program units only, or
 * everything (the last page padded) when forced.  Programs issued for a
 * write-through request count towards its completion. */
static void flush(ssd *s, int force, struct ssd_req *owner)
{
	uint32_t lp[1024], vr[1024], slots[1024];
	while (s->fifo_n >= s->prog_units || (force && s->fifo_n > 0)) {
		uint32_t n = s->fifo_n < s->prog_units ? s->fifo_n : s->prog_units;
		for (uint32_t i = 0; i < n; i++) {
			uint32_t b = s->fifo[s->fifo_head];
			s->fifo_head = (s->fifo_head + 1) % s->bcap;
			s->fifo_n--;
			s->bs[b].state = BS_INFLIGHT;
			slots[i] = b;
			lp[i] = s->bs[b].lpn;
			vr[i] = s->bs[b].ver;
		}
		struct fop *f = program_units(s, lp, vr, n);
		f->nslots = n;
		memcpy(f->ids, slots, n * sizeof *slots);
		if (owner) {
			f->req = owner;
			owner->pending++;
		}
		die_enqueue(s, f, 0);
	}
}

static void admit_waiters(ssd *s)
{
	while (s->wait_head && s->nbfree) {
		struct ssd_req *r = s->wait_head;
		if (!admit(s, r))
			break;
		s->wait_head = r->wait_next;
		if (!s->wait_head)
			s->wait_tail = NULL;
		if (r->pending == 0)
			req_finish_stage(s, r);
	}
}

/* Reads: group units into page reads, same-die pages into multi-plane ops. */
static void dispatch_read(ssd *s, struct ssd_req *r, uint64_t first, uint64_t n)
{
	uint32_t ub = (uint32_t)s->p.map_unit_bytes;
	struct fop *ops[64];
	uint32_t nops = 0;
	uint64_t hit_bytes = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint32_t lpn = (uint32_t)((first + i) % s->n_lpn);
		s->st.host_read_units += r->path == SSD_PATH_HOST;
		if (buf_find(s, lpn) != NONE) {
			s->st.buffer_read_hits++;
			hit_bytes += ub;
			continue;
		}
		uint32_t pua = s->l2p[lpn];
		if (pua == NONE) {
			s->st.unmapped_reads++;
			continue;
		}
		uint32_t page = pua_page(s, pua), die = pua_die(s, pua);
		uint32_t plane = block_plane(s, page_block(s, page));
		struct fop *f = NULL;
		for (uint32_t k = 0; k < nops && !f; k++) {
			if (ops[k]->die != die)
				continue;
			for (uint32_t j = 0; j < ops[k]->npages; j++)
				if (ops[k]->ids[j] == page)
					f = ops[k];
			if (f || !s->p.multiplane || ops[k]->npages >= (uint32_t)s->p.planes)
				continue;
			int clash = 0;
			for (uint32_t j = 0; j < ops[k]->npages; j++)
				clash |= block_plane(s, page_block(s, ops[k]->ids[j])) == plane;
			if (!clash) {
				f = ops[k];
				f->ids[f->npages++] = page;
				s->st.flash_read_pages++;
			}
		}
		if (!f) {
			if (nops == ND_ARRAY_LEN(ops)) {
				/* Very large request: queue what we have and go on. */
				for (uint32_t k = 0; k < nops; k++)
					die_enqueue(s, ops[k], 1);
				nops = 0;
			}
			f = new_op(s, OP_READ, die);
			f->req = r;
			f->ids[f->npages++] = page;
			s->st.flash_read_pages++;
			r->pending++;
			ops[nops++] = f;
		}
		f->xfer_bytes += ub;
	}
	if (hit_bytes)
		r->t_data_ns = nd_max_u64(r->t_data_ns, dram_reserve(s, hit_bytes));
	for (uint32_t k = 0; k < nops; k++)
		die_enqueue(s, ops[k], 1);
}

static void dispatch(ssd *s, struct ssd_req *r)
{
	uint64_t ub = (uint64_t)s->p.map_unit_bytes;
	uint64_t first = r->off_bytes / ub;
	uint64_t last = (r->off_bytes + r->len_bytes - 1) / ub;
	uint64_t n = last - first + 1;
	r->t_data_ns = evq_now(s->q);
	if (!r->is_write) {
		/* Count ops before enqueueing any, so an op finishing at once
		 * cannot complete the request early. */
		r->pending = 1;
		dispatch_read(s, r, first, n);
		/* Flash data passes through the DRAM buffer on its way out. */
		if (r->path == SSD_PATH_HOST)
			en_add_units(s->led, s->e_dram, (double)r->len_bytes);
		if (--r->pending == 0)
			req_finish_stage(s, r);
		return;
	}
	r->units_left = (uint32_t)n;
	r->next_unit = first;
	r->pending = 1;
	int all_in = !s->wait_head && admit(s, r);
	r->pending--;
	if (!all_in) {
		r->wait_next = NULL;
		if (s->wait_tail)
			s->wait_tail->wait_next = r;
		else
			s->wait_head = r;
		s->wait_tail = r;
		return;
	}
	if (r->pending == 0)
		req_finish_stage(s, r);
}

static void req_event(evq *q, struct evq_event *ev)
{
	struct ssd_req *r = container_of(ev, struct ssd_req, ev);
	ssd *s = r->owner;
	switch (r->stage) {
	case ST_DISPATCH:
		if (r->is_write && r->path == SSD_PATH_HOST) {
			/* The controller pulls the data over the host link. */
			uint64_t t = nd_max_u64(evq_now(q), s->h2d_free);
			s->h2d_free = t + nd_xfer_ns(r->len_bytes, s->link_bps);
			s->st.link_bytes_h2d += r->len_bytes;
			en_add_units(s->led, s->e_link, (double)r->len_bytes);
			sched_req(s, r, s->h2d_free, ST_DATA_IN);
			return;
		}
		dispatch(s, r);
		return;
	case ST_DATA_IN:
		dispatch(s, r);
		return;
	case ST_LINK: {
		uint64_t t = nd_max_u64(evq_now(q), s->d2h_free);
		s->d2h_free = t + nd_xfer_ns(r->len_bytes, s->link_bps);
		s->st.link_bytes_d2h += r->len_bytes;
		en_add_units(s->led, s->e_link, (double)r->len_bytes);
		sched_req(s, r, s->d2h_free, ST_DONE);
		return;
	}
	default:
		complete(s, r);
		return;
	}
}

int ssd_submit(ssd *s, struct ssd_req *r)
{
	if (r->len_bytes == 0)
		return -EINVAL;
	uint64_t now = evq_now(s->q);
	r->owner = s;
	r->t_submit_ns = now;
	r->t_done_ns = 0;
	r->pending = 0;
	r->units_left = 0;
	r->t_data_ns = now;
	r->ev.slot = 0;
	r->off_bytes %= ssd_capacity_bytes(s);
	if (r->path == SSD_PATH_INTERNAL) {
		s->st.internal_read_bytes += r->is_write ? 0 : r->len_bytes;
		dispatch(s, r);
		return 0;
	}
	/* Command fetch over the link, then a controller core runs the
	 * firmware path (earliest-free core). */
	uint64_t t_cmd = now + s->p.link_lat_ns;
	int best = 0;
	for (int i = 1; i < s->p.ctrl_cores; i++)
		if (s->core_free[i] < s->core_free[best])
			best = i;
	uint64_t start = nd_max_u64(t_cmd, s->core_free[best]);
	s->core_free[best] = start + s->ctrl_ns;
	sched_req(s, r, s->core_free[best], ST_DISPATCH);
	return 0;
}

/* ---------------------------------------------------------------- life */

static uint32_t radix_of(const struct ssd_params *p, char c)
{
	switch (c) {
	case 'C': return (uint32_t)p->channels;
	case 'W': return (uint32_t)p->ways;
	case 'D': return (uint32_t)p->dies;
	default: return p->multiplane ? 1 : (uint32_t)p->planes;
	}
}

static void build_alloc_seq(ssd *s)
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

int ssd_create(const struct ssd_params *p, evq *q, struct energy_ledger *led,
	       uint64_t seed, ssd **out, struct nd_err *err)
{
	*out = NULL;
	ssd *s = xcalloc(1, sizeof *s);
	s->p = *p;
	s->q = q;
	s->led = led;
	rng_seed(&s->rng, seed, 0x55d);
	s->upp = (uint32_t)(p->page_bytes / p->map_unit_bytes);
	s->n_dies = (uint32_t)(p->channels * p->ways * p->dies);
	s->n_planes = s->n_dies * (uint32_t)p->planes;
	s->n_blocks = s->n_planes * (uint32_t)p->blocks;
	s->units_per_block = (uint32_t)p->pages * s->upp;
	s->n_units_phys = (uint64_t)s->n_blocks * s->units_per_block;
	/* Logical space: physical / (1 + op), less the blocks held back for
	 * the GC threshold and the two open blocks of every plane. */
	uint64_t reserve = (uint64_t)s->n_planes * (uint64_t)(p->gc_threshold_blocks + 2) *
			   s->units_per_block;
	uint64_t lpn = (uint64_t)((double)s->n_units_phys / (1.0 + p->op));
	if (lpn + reserve > s->n_units_phys)
		lpn = s->n_units_phys - reserve;
	s->n_lpn = lpn;
	s->prog_units = s->upp * (p->multiplane ? (uint32_t)p->planes : 1);
	if (s->prog_units > 1024) {
		uint32_t n = s->prog_units;
		free(s);
		return nd_errf(err, -EINVAL, "ssd: %u map units per program; at most 1024", n);
	}
	s->ch_bps = ssd_channel_bytes_per_s(p);
	s->link_bps = ssd_link_bytes_per_s(p);
	s->dram_bps = p->dram_mb_s * 1e6;
	s->t_xfer_unit_ns = nd_xfer_ns((uint64_t)p->map_unit_bytes, s->ch_bps);
	s->ctrl_ns = (uint64_t)llround(p->ctrl_cycles_per_cmd * 1000.0 / p->ctrl_clock_mhz);

	s->l2p = xmalloc(s->n_lpn * sizeof *s->l2p);
	memset(s->l2p, 0xff, s->n_lpn * sizeof *s->l2p);
	s->p2l = xmalloc(s->n_units_phys * sizeof *s->p2l);
	memset(s->p2l, 0xff, s->n_units_phys * sizeof *s->p2l);
	if (p->verify) {
		s->ver_l = xcalloc(s->n_lpn, sizeof *s->ver_l);
		s->ver_p = xcalloc(s->n_units_phys, sizeof *s->ver_p);
	}
	s->blk = xcalloc(s->n_blocks, sizeof *s->blk);
	s->pl = xcalloc(s->n_planes, sizeof *s->pl);
	for (uint32_t i = 0; i < s->n_planes; i++) {
		struct plane *pl = &s->pl[i];
		pl->free_blk = xmalloc((size_t)p->blocks * sizeof *pl->free_blk);
		for (uint32_t b = 0; b < (uint32_t)p->blocks; b++)
			pl->free_blk[b] = (uint32_t)p->blocks - 1 - b;
		pl->nfree = (uint32_t)p->blocks;
		pl->active[0] = pl->active[1] = NONE;
	}
	build_alloc_seq(s);
	s->die = xcalloc(s->n_dies, sizeof *s->die);
	for (uint32_t d = 0; d < s->n_dies; d++)
		s->die[d].chan = d / (uint32_t)(p->ways * p->dies);
	s->ch = xcalloc((size_t)p->channels, sizeof *s->ch);
	s->core_free = xcalloc((size_t)p->ctrl_cores, sizeof *s->core_free);

	s->bcap = (uint32_t)(p->buffer_mib * 1048576.0 / p->map_unit_bytes);
	s->bs = xcalloc(s->bcap, sizeof *s->bs);
	s->bfree = xmalloc(s->bcap * sizeof *s->bfree);
	for (uint32_t i = 0; i < s->bcap; i++)
		s->bfree[i] = s->bcap - 1 - i;
	s->nbfree = s->bcap;
	s->fifo = xmalloc(s->bcap * sizeof *s->fifo);
	uint32_t hs = 16;
	while (hs < 2 * s->bcap)
		hs *= 2;
	s->hash = xmalloc(hs * sizeof *s->hash);
	memset(s->hash, 0xff, hs * sizeof *s->hash);
	s->hmask = hs - 1;
	s->fop_size = (sizeof(struct fop) + s->prog_units * sizeof(uint32_t) + 7) & ~(size_t)7;

	/* Energy table: NAND V x I x t per operation, I/O current per byte. */
	double v = p->vcc;
	s->e_read = en_action(led, "nand", "read_page", v * p->i_read_ma * 1e-3 * (double)p->t_read_ns * 1e-9);
	s->e_prog = en_action(led, "nand", "program_page", v * p->i_prog_ma * 1e-3 * (double)p->t_prog_ns * 1e-9);
	s->e_erase = en_action(led, "nand", "erase_block", v * p->i_erase_ma * 1e-3 * (double)p->t_erase_ns * 1e-9);
	s->e_chan = en_action(led, "channel", "byte", v * p->i_io_ma * 1e-3 / s->ch_bps);
	s->e_dram = en_action(led, "ssd_dram", "byte", p->dram_pj_bit * 8e-12);
	s->e_link = en_action(led, "host_link", "byte", p->link_pj_bit * 8e-12);
	s->e_st_nand = en_static(led, "static", "nand_standby", v * p->i_standby_ua * 1e-6 * s->n_dies);
	s->e_st_ctrl = en_static(led, "static", "controller_cores", p->ctrl_core_w * p->ctrl_cores);
	s->e_st_dram = en_static(led, "static", "ssd_dram_background", p->dram_static_w);

	s->timed = 1;
	precondition(s);
	if (s->failed) {
		int rc = ssd_status(s, err);
		ssd_destroy(s);
		return rc;
	}
	ssd_reset_stats(s);
	*out = s;
	return 0;
}

void ssd_destroy(ssd *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nchunks; i++)
		free(s->chunks[i]);
	free(s->chunks);
	for (uint32_t i = 0; i < s->n_planes; i++)
		free(s->pl[i].free_blk);
	free(s->pl);
	free(s->blk);
	free(s->l2p);
	free(s->p2l);
	free(s->ver_l);
	free(s->ver_p);
	free(s->alloc_seq);
	free(s->die);
	free(s->ch);
	free(s->core_free);
	free(s->bs);
	free(s->bfree);
	free(s->fifo);
	free(s->hash);
	free(s);
}

int ssd_unit_channel(const ssd *s, uint64_t unit)
{
	uint32_t pua = s->l2p[unit % s->n_lpn];
	if (pua == NONE)
		return -1;
	return (int)s->die[pua_die(s, pua)].chan;
}

void ssd_drain(ssd *s)
{
	evq_run(s->q, UINT64_MAX);
	flush(s, 1, NULL);
	evq_run(s->q, UINT64_MAX);
	ND_ASSERT(!s->wait_head);
}

void ssd_reset_stats(ssd *s)
{
	memset(&s->st, 0, sizeof s->st);
	for (uint32_t d = 0; d < s->n_dies; d++)
		s->die[d].busy_ns = 0;
	for (int c = 0; c < s->p.channels; c++)
		s->ch[c].busy_ns = 0;
	for (int i = 0; i < s->led->n; i++) {
		s->led->e[i].count = 0;
		s->led->e[i].units = 0;
	}
}

void ssd_get_stats(const ssd *s, struct ssd_stats *st)
{
	*st = s->st;
	uint64_t mn = UINT64_MAX, mx = 0;
	long double sum = 0;
	for (uint32_t b = 0; b < s->n_blocks; b++) {
		uint64_t e = s->blk[b].erases;
		mn = e < mn ? e : mn;
		mx = e > mx ? e : mx;
		sum += e;
	}
	st->erase_min = mn;
	st->erase_max = mx;
	st->erase_mean = (double)(sum / s->n_blocks);
	st->waf = st->host_write_units ?
		(double)st->prog_units_written / (double)st->host_write_units : 0.0;
}

void ssd_account_static(ssd *s, uint64_t t_ns)
{
	en_set_time(s->led, s->e_st_nand, t_ns);
	en_set_time(s->led, s->e_st_ctrl, t_ns);
	en_set_time(s->led, s->e_st_dram, t_ns);
}

int ssd_verify(ssd *s, struct nd_err *err)
{
	if (!s->ver_l)
		return nd_errf(err, -EINVAL, "ssd_verify: ssd.verify was off");
	uint64_t lost = 0, stale = 0, orphan = 0, buffered = 0;
	char first[256] = "";
	for (uint64_t l = 0; l < s->n_lpn; l++) {
		if (!s->ver_l[l])
			continue;
		uint32_t b = buf_find(s, (uint32_t)l);
		if (b != NONE && s->bs[b].ver == s->ver_l[l]) {
			buffered++;
			continue;
		}
		uint32_t pua = s->l2p[l];
		if (pua == NONE || s->p2l[pua] != l) {
			if (!lost++ && !first[0])
				snprintf(first, sizeof first, "unit %llu is unmapped", (unsigned long long)l);
		} else if (s->ver_p[pua] != s->ver_l[l]) {
			if (!stale++ && !first[0])
				snprintf(first, sizeof first, "unit %llu holds version %u, latest is %u",
					 (unsigned long long)l, s->ver_p[pua], s->ver_l[l]);
		}
	}
	uint64_t valid_total = 0;
	for (uint64_t u = 0; u < s->n_units_phys; u++) {
		uint32_t l = s->p2l[u];
		if (l == NONE)
			continue;
		valid_total++;
		if (l >= s->n_lpn || s->l2p[l] != u) {
			if (!orphan++ && !first[0])
				snprintf(first, sizeof first, "physical unit %llu is valid but orphaned",
					 (unsigned long long)u);
		}
	}
	uint64_t counted = 0;
	for (uint32_t b = 0; b < s->n_blocks; b++)
		counted += s->blk[b].valid;
	if (lost || stale || orphan || counted != valid_total)
		return nd_errf(err, -EBADMSG,
			       "verify: %llu lost, %llu stale, %llu orphaned mappings; block valid "
			       "counts %llu vs %llu valid units (first: %s)",
			       (unsigned long long)lost, (unsigned long long)stale,
			       (unsigned long long)orphan, (unsigned long long)counted,
			       (unsigned long long)valid_total, first);
	(void)buffered;
	return 0;
}
