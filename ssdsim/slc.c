/*
 * slc.c — SLC write cache (ssd.slc.*: Samsung TurboWrite, WD nCache).
 *
 * Model.  The cache holds cap pages: slc.static_bytes plus slc.dynamic_frac
 * SLC bytes per byte of logical space never written (the dynamic part is
 * carved out of free TLC space, so it shrinks as the drive fills), in
 * flash pages of page_bytes.  A host program (the buffer's flush of a data
 * program; translation pages of ftl.mapping=cached never) runs in SLC mode,
 * slc.t_prog_ns instead of tPROG, when its pages fit in the room left; else
 * it goes straight to TLC (when_full=direct), or its die first folds as many
 * of its oldest cached pages (when_full=fold).  A flash read whose pages are
 * all cached and not folded takes slc.t_read_ns.
 *
 * Folding.  When no host command has been outstanding for one event (the
 * host is idle), every die with cached pages folds them oldest first, one
 * page at a time so a host command that arrives waits for at most one fold:
 * an SLC read of the page (slc.t_read_ns + its valid units over the
 * channel) then a TLC program of it (its page type's tPROG + the page over
 * the channel), counted as flash reads/programs and in WAF (programmed
 * units: the whole page, the invalid part as padding).  A cached page whose
 * units were all overwritten is dropped without folding; a block erased by
 * GC drops its cached pages (GC rewrote their valid units already).
 *
 * Simplifications (also in README.md, "SLC write cache"): the unit's mapping is its
 * final TLC page from the start (folding charges the work, not a move to a
 * new address); the TLC space an SLC block occupies is not taken from GC's
 * over-provisioning; host reads of cached pages with nand.ecc on draw their
 * errors (and time any retry) as TLC reads.  Energy: an SLC-mode sense /
 * program is charged V x I x its SLC time, the current of a TLC one.
 */
#include "ssdsim/ssd_int.h"
#include "ssdsim/power_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

struct slc_ring {           /* a die's cached pages, oldest first */
	uint32_t *pg;
	uint32_t head, n, cap;  /* cap: a power of two */
};

struct slc {
	uint64_t *bit;          /* per flash page: programmed in SLC, not folded */
	struct slc_ring *ring;  /* per die */
	uint64_t cached;        /* pages with their bit set */
	uint64_t mapped;        /* logical units mapped (valid), once counted */
	int mapped_ok;
	uint64_t host_out;      /* host commands outstanding */
	int idle;               /* host idle since the last check: fold */
	struct evq_event ev;    /* the idle check, one event after the last completion */
	ssd *s;
	int e_read, e_prog;     /* energy of an SLC-mode sense / program (V x I x t) */
};

static int bit_get(const struct slc *c, uint32_t pg) { return (int)(c->bit[pg >> 6] >> (pg & 63)) & 1; }

static void bit_clr(struct slc *c, uint32_t pg) { c->bit[pg >> 6] &= ~(1ull << (pg & 63)); }

void slc_init(ssd *s)
{
	if (!s->p.slc.enable)
		return;
	struct slc *c = xcalloc(1, sizeof *c);
	uint64_t pages = (uint64_t)s->n_blocks * (uint32_t)s->p.pages;
	c->bit = xcalloc((size_t)((pages + 63) / 64), sizeof *c->bit);
	c->ring = xcalloc(s->n_dies, sizeof *c->ring);
	c->s = s;
	/* The currents of a TLC operation for the SLC-mode time: what an
	 * SLC-mode operation costs if its current is the same (no published
	 * SLC-mode current). */
	double v = s->p.vcc;
	c->e_read = en_action(s->led, "nand", "read_page_slc",
			      v * s->p.i_read_ma * 1e-3 * (double)s->p.slc.t_read_ns * 1e-9);
	c->e_prog = en_action(s->led, "nand", "program_page_slc",
			      v * s->p.i_prog_ma * 1e-3 * (double)s->p.slc.t_prog_ns * 1e-9);
	s->slc = c;
}

void slc_fini(ssd *s)
{
	struct slc *c = s->slc;
	if (!c)
		return;
	for (uint32_t d = 0; d < s->n_dies; d++)
		free(c->ring[d].pg);
	free(c->ring);
	free(c->bit);
	free(c);
	s->slc = NULL;
}

/* Cache size in pages now. */
static uint64_t cap_pages(const ssd *s)
{
	const struct slc *c = s->slc;
	uint64_t mapped = c->mapped < s->n_lpn ? c->mapped : s->n_lpn;
	double free_bytes = (double)(s->n_lpn - mapped) * (double)s->p.map_unit_bytes;
	double bytes = (double)s->p.slc.static_bytes + s->p.slc.dynamic_frac * free_bytes;
	return (uint64_t)(bytes / (double)s->p.page_bytes);
}

/* Appends f to its die's write queue without starting it (the caller's
 * program, queued next, or die_kick, which is picking, starts the die). */
static void queue_quiet(ssd *s, struct fop *f)
{
	struct die *d = &s->die[f->die];
	f->next = NULL;
	f->qseq = d->qseq++;
	d->load++;
	if (d->wq_tail)
		d->wq_tail->next = f;
	else
		d->wq_head = f;
	d->wq_tail = f;
}

/* Takes die di's oldest cached page out of the cache and queues its fold;
 * returns 1 if a page left the cache (folded or dropped), 0 if none. */
static int fold_one(ssd *s, uint32_t di)
{
	struct slc *c = s->slc;
	struct slc_ring *r = &c->ring[di];
	while (r->n) {
		uint32_t pg = r->pg[r->head];
		r->head = (r->head + 1) & (r->cap - 1);
		r->n--;
		if (!bit_get(c, pg))
			continue;   /* its block was erased: left the cache then */
		bit_clr(c, pg);
		c->cached--;
		uint32_t nv = 0;
		for (uint32_t k = 0; k < s->upp; k++)
			nv += ftl_p2l(s, (uint64_t)pg * s->upp + k) != NONE;
		if (!nv)
			return 1;   /* overwritten meanwhile: nothing to fold */
		s->st.slc_fold_pages++;
		s->st.slc_fold_units += nv;
		s->st.flash_read_pages++;
		s->st.flash_prog_pages++;
		s->st.prog_units_written += s->upp;
		s->st.pad_units += s->upp - nv;
		struct fop *rd = flash_new_op(s, OP_READ, di);
		rd->slc = 1;
		rd->npages = 1;
		rd->ids[0] = pg;
		rd->xfer_bytes = nv * (uint32_t)s->p.map_unit_bytes;
		queue_quiet(s, rd);
		struct fop *pr = flash_new_op(s, OP_PROG, di);
		pr->npages = 1;
		pr->ptype = nand_prog_slower(s, 0, pg);
		pr->xfer_bytes = (uint32_t)s->p.page_bytes;
		queue_quiet(s, pr);
		return 1;
	}
	return 0;
}

int slc_admit(ssd *s, uint32_t die, const uint32_t *lpns, uint32_t n, uint32_t need)
{
	struct slc *c = s->slc;
	if (!c->mapped_ok && s->timed) {
		/* First timed program: count what preconditioning mapped. */
		uint64_t v = 0;
		for (uint32_t b = 0; b < s->n_blocks; b++)
			v += s->blk[b].valid;
		c->mapped = v;
		c->mapped_ok = 1;
	}
	int data = 1;
	for (uint32_t i = 0; i < n; i++) {
		if (lpns[i] >= s->n_lpn)
			data = 0;   /* a translation page (cmt.c) */
		else if (c->mapped_ok && ftl_l2p(s, lpns[i]) == PUA_NONE)
			c->mapped++;
	}
	if (!s->timed || !data)
		return 0;
	uint64_t cap = cap_pages(s);
	if (c->cached + need > cap && s->p.slc.when_full == SSD_SLC_FOLD)
		for (uint32_t k = 0; k < need && fold_one(s, die); k++)
			;
	if (c->cached + need > cap) {
		s->st.slc_direct_pages += need;
		return 0;
	}
	s->st.slc_prog_pages += need;
	return 1;
}

void slc_mark(ssd *s, uint32_t die, uint32_t pg)
{
	struct slc *c = s->slc;
	struct slc_ring *r = &c->ring[die];
	if (r->n == r->cap) {
		uint32_t cap = r->cap ? 2 * r->cap : 256;
		uint32_t *q = xmalloc(cap * sizeof *q);
		for (uint32_t i = 0; i < r->n; i++)
			q[i] = r->pg[(r->head + i) & (r->cap - 1)];
		free(r->pg);
		r->pg = q;
		r->cap = cap;
		r->head = 0;
	}
	r->pg[(r->head + r->n++) & (r->cap - 1)] = pg;
	c->bit[pg >> 6] |= 1ull << (pg & 63);
	c->cached++;
}

void slc_erased(ssd *s, uint32_t b)
{
	struct slc *c = s->slc;
	uint32_t first = b * (uint32_t)s->p.pages;
	for (uint32_t pg = first; pg < first + (uint32_t)s->p.pages; pg++)
		if (bit_get(c, pg)) {
			bit_clr(c, pg);
			c->cached--;
		}
}

uint64_t slc_read_ns(ssd *s, const struct fop *f)
{
	if (!f->slc) {
		for (uint32_t i = 0; i < f->npages; i++)
			if (!bit_get(s->slc, f->ids[i]))
				return 0;
		s->st.slc_read_pages += f->npages;
	}
	en_add(s->led, s->slc->e_read, f->npages);
	return s->p.slc.t_read_ns;
}

uint64_t slc_prog_ns(ssd *s, const struct fop *f)
{
	en_add(s->led, s->slc->e_prog, f->npages);
	return s->p.slc.t_prog_ns;
}

void slc_die_idle(ssd *s, uint32_t di)
{
	if (s->slc->idle)
		(void)fold_one(s, di);
}

static void idle_check(evq *q, struct evq_event *ev)
{
	(void)q;
	struct slc *c = container_of(ev, struct slc, ev);
	ssd *s = c->s;
	if (c->host_out)
		return;
	c->idle = 1;
	for (uint32_t d = 0; d < s->n_dies; d++)
		if (c->ring[d].n && !s->die[d].cur)
			flash_kick(s, d);
}

void slc_host_begin(ssd *s)
{
	s->slc->host_out++;
	s->slc->idle = 0;
}

void slc_host_end(ssd *s)
{
	struct slc *c = s->slc;
	ND_ASSERT(c->host_out > 0);
	if (--c->host_out == 0 && !evq_pending(&c->ev)) {
		/* One event later, so a closed loop's next command (submitted
		 * from this completion) keeps the host busy. */
		int rc = evq_schedule(s->q, &c->ev, evq_now(s->q), idle_check);
		ND_ASSERT(rc == 0);
	}
}

void slc_get_stats(const ssd *s, struct ssd_stats *st)
{
	if (!s->slc)
		return;
	st->slc_on = 1;
	st->slc_cap_pages = cap_pages(s);
	st->slc_cached_pages = s->slc->cached;
}
