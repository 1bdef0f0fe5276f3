/*
 * cmt.c — the cached mapping table (ssd.ftl.mapping=cached): DFTL (Gupta,
 * Kim and Urgaonkar, ASPLOS'09), the page-level FTL with a demand-cached
 * table that MQSim (FAST'18) models as its CMT.
 *
 * The whole page map lives in flash, in translation pages of
 * page_bytes / tpage_entry_bytes entries each; the controller's DRAM keeps
 * the directory of where each translation page is (DFTL's GTD, small, free
 * to use here) and a cache of cmt_bytes / cmt_entry_bytes mapping entries,
 * least recently used first out.  The model keeps the l2p table as the
 * functional truth (what a unit maps to never depends on the cache); the
 * CMT decides what finding it costs:
 *
 *   read look-up, hit      nothing (the firmware time of ssd.ctrl.*)
 *   read look-up, miss     the entry's translation page is read (tR + the
 *                          page over its own die's channel, host-read
 *                          queue) and the data reads wait for it; the entry
 *                          enters the CMT clean.  One read per translation
 *                          page is in flight (as MQSim): a later miss or
 *                          hit on that page waits for the read under way
 *   write (a placed unit)  hit: the entry turns dirty; miss: the
 *                          translation page is read (the old mapping is
 *                          needed to invalidate), in the background, and
 *                          the entry enters dirty
 *   GC moves a data unit   cached: the entry turns dirty; not cached: its
 *                          translation page is rewritten after the move
 *                          (read-modify-write, one per page however many
 *                          of its entries moved)
 *   dirty eviction         the evicted entry's translation page is read
 *                          and programmed again (read-modify-write); every
 *                          cached entry of that page is clean after it
 *                          (DFTL's batch update), in O(1): an entry is
 *                          dirty while its tag equals its page's rewrite
 *                          count
 *
 * Translation page t is held by logical units n_lpn + t * upp .. + upp - 1,
 * so it is placed by ftl_program(), invalidated when rewritten and moved by
 * GC exactly like data (it counts in the WAF and the erase counts).
 * Rewrites are issued at a safe point, the end of ftl_program() (never in
 * the middle of a placement or a GC), and one at a time (a rewrite's own
 * program may run GC, whose pending pages join the same loop).
 *
 * Untimed (preconditioning, functional writes) the CMT is not used: changed
 * translation pages are marked and written once when the functional write
 * ends (cmt_functional_sync), so a preconditioned drive has up-to-date
 * translation pages in flash and a cold, empty CMT.
 *
 * Simplifications, said where they matter: a write-back does not delay
 * the request whose miss evicted; a hit waits for a read under way of its
 * translation page even when its own entry came in earlier (pessimistic,
 * rare); a request waits on at most one other request's translation read
 * (for a second one it reads the page itself); with ECC on, a translation
 * read's decode time is not charged.
 */
#include "ssdsim/ssd_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

enum { TF_STALE = 1, TF_PENDING = 2 };

struct cmt {
	uint32_t cap, n;          /* entries: capacity, in use */
	uint32_t per_tp;          /* mapping entries per translation page */
	uint32_t n_tp;            /* translation pages */
	uint32_t *lpn, *prev, *next, *hnext, *tag;
	uint8_t *dirty;
	uint32_t head, tail;      /* LRU list: head most recent */
	uint32_t *bucket;         /* slot + 1 (0: empty), chained by hnext */
	int hbits;
	uint32_t *wb;             /* per translation page: rewrites so far */
	uint8_t *tflag;
	uint32_t *stale, nstale;  /* untimed: to write at the sync */
	uint32_t *pend, npend;    /* timed: to rewrite at the next flush */
	struct fop **inflight;    /* per translation page: its read under way */
	int flushing;
};

static uint32_t hash_of(const struct cmt *c, uint32_t lpn)
{
	return (uint32_t)(lpn * 0x9e3779b1u) >> (32 - c->hbits);
}

static uint32_t find(const struct cmt *c, uint32_t lpn)
{
	for (uint32_t v = c->bucket[hash_of(c, lpn)]; v; v = c->hnext[v - 1])
		if (c->lpn[v - 1] == lpn)
			return v - 1;
	return NONE;
}

static void hash_remove(struct cmt *c, uint32_t slot)
{
	uint32_t *p = &c->bucket[hash_of(c, c->lpn[slot])];
	while (*p != slot + 1)
		p = &c->hnext[*p - 1];
	*p = c->hnext[slot];
}

static void lru_unlink(struct cmt *c, uint32_t slot)
{
	uint32_t p = c->prev[slot], n = c->next[slot];
	if (p != NONE)
		c->next[p] = n;
	else
		c->head = n;
	if (n != NONE)
		c->prev[n] = p;
	else
		c->tail = p;
}

static void lru_push(struct cmt *c, uint32_t slot)
{
	c->prev[slot] = NONE;
	c->next[slot] = c->head;
	if (c->head != NONE)
		c->prev[c->head] = slot;
	else
		c->tail = slot;
	c->head = slot;
}

static void touch(struct cmt *c, uint32_t slot)
{
	if (c->head != slot) {
		lru_unlink(c, slot);
		lru_push(c, slot);
	}
}

static int is_dirty(const struct cmt *c, uint32_t slot)
{
	return c->dirty[slot] && c->tag[slot] == c->wb[c->lpn[slot] / c->per_tp];
}

static void set_dirty(struct cmt *c, uint32_t slot)
{
	c->dirty[slot] = 1;
	c->tag[slot] = c->wb[c->lpn[slot] / c->per_tp];
}

static void mark(struct cmt *c, uint32_t t, int flag)
{
	if (c->tflag[t] & flag)
		return;
	c->tflag[t] |= (uint8_t)flag;
	if (flag == TF_STALE)
		c->stale[c->nstale++] = t;
	else
		c->pend[c->npend++] = t;
}

/* Takes a slot for lpn (evicting the least recently used entry when full;
 * a dirty one leaves its translation page pending) and makes it the most
 * recent. */
static void insert(ssd *s, uint32_t lpn, int dirty)
{
	struct cmt *c = s->cmt;
	uint32_t slot;
	if (c->n < c->cap) {
		slot = c->n++;
	} else {
		slot = c->tail;
		lru_unlink(c, slot);
		hash_remove(c, slot);
		if (is_dirty(c, slot))
			mark(c, c->lpn[slot] / c->per_tp, TF_PENDING);
	}
	c->lpn[slot] = lpn;
	c->dirty[slot] = 0;
	if (dirty)
		set_dirty(c, slot);
	lru_push(c, slot);
	uint32_t h = hash_of(c, lpn);
	c->hnext[slot] = c->bucket[h];
	c->bucket[h] = slot + 1;
}

static uint32_t tunit(const ssd *s, uint32_t t, uint32_t j)
{
	return (uint32_t)(s->n_lpn + (uint64_t)t * s->upp + j);
}

/* Request r waits for the read of translation page t already under way
 * (as MQSim, one read per page in flight): 1, or 0 if r waits on another
 * request's read already (one such list per request). */
static int join(ssd *s, uint32_t t, struct ssd_req *r)
{
	struct fop *f = s->cmt->inflight[t];
	if (!f || r->priv.xjoined)
		return 0;
	r->priv.xjoined = 1;
	r->priv.wait_next = f->xwait;
	f->xwait = r;
	return 1;
}

/* Reads translation page t (timed), for request r (NULL: nobody waits);
 * joins the read under way if there is one; 0 when r waits for nothing
 * (the page was never written, or r is NULL and a read is under way). */
static int xlate_read(ssd *s, uint32_t t, struct ssd_req *r, int read_q)
{
	/* a GC move of the translation page not programmed yet: read the page
	 * it was moved from, as for data (ftl_read_pua) */
	uint64_t pua = ftl_read_pua(s, tunit(s, t, 0));
	if (pua == PUA_NONE)
		return 0;
	if (s->cmt->inflight[t]) {
		if (!r)
			return 0;
		if (join(s, t, r))
			return 1;
		/* else a read of its own (r joined another one already) */
	}
	struct fop *f = flash_new_op(s, OP_READ, pua_die(s, pua));
	f->npages = 1;
	f->ids[0] = pua_page(s, pua);
	f->xfer_bytes = (uint32_t)s->p.page_bytes;
	f->xreq = r;
	f->xlate = 1;
	f->xtp = t;
	s->cmt->inflight[t] = f;
	s->st.xlate_read_pages++;
	s->st.flash_read_pages++;
	flash_enqueue(s, f, read_q);
	return 1;
}

void cmt_init(ssd *s)
{
	const struct ssd_params *p = &s->p;
	struct cmt *c = xcalloc(1, sizeof *c);
	c->per_tp = (uint32_t)(p->page_bytes / p->tpage_entry_bytes);
	c->n_tp = (uint32_t)((s->n_lpn + c->per_tp - 1) / c->per_tp);
	uint64_t cap = p->cmt_bytes / (uint64_t)p->cmt_entry_bytes;
	c->cap = (uint32_t)(cap < s->n_lpn ? cap : s->n_lpn);
	ND_ASSERT(c->cap >= 1);
	/* calloc'd: untouched pages of a large CMT cost nothing */
	c->lpn = xcalloc(c->cap, sizeof *c->lpn);
	c->prev = xcalloc(c->cap, sizeof *c->prev);
	c->next = xcalloc(c->cap, sizeof *c->next);
	c->hnext = xcalloc(c->cap, sizeof *c->hnext);
	c->tag = xcalloc(c->cap, sizeof *c->tag);
	c->dirty = xcalloc(c->cap, sizeof *c->dirty);
	c->hbits = 4;
	while ((1ull << c->hbits) < c->cap && c->hbits < 31)
		c->hbits++;
	c->bucket = xcalloc((size_t)1 << c->hbits, sizeof *c->bucket);
	c->head = c->tail = NONE;
	c->wb = xcalloc(c->n_tp, sizeof *c->wb);
	c->tflag = xcalloc(c->n_tp, sizeof *c->tflag);
	c->stale = xcalloc(c->n_tp, sizeof *c->stale);
	c->pend = xcalloc(c->n_tp, sizeof *c->pend);
	c->inflight = xcalloc(c->n_tp, sizeof *c->inflight);
	s->cmt = c;
}

void cmt_fini(ssd *s)
{
	struct cmt *c = s->cmt;
	if (!c)
		return;
	free(c->lpn);
	free(c->prev);
	free(c->next);
	free(c->hnext);
	free(c->tag);
	free(c->dirty);
	free(c->bucket);
	free(c->wb);
	free(c->tflag);
	free(c->stale);
	free(c->pend);
	free(c->inflight);
	free(c);
	s->cmt = NULL;
}

uint64_t cmt_entries(const ssd *s) { return s->cmt ? s->cmt->cap : 0; }

int cmt_read_lookup(ssd *s, struct ssd_req *r, uint64_t first, uint64_t n)
{
	struct cmt *c = s->cmt;
	uint32_t seen[16], nseen = 0;   /* translation pages read for r */
	r->priv.xlate_left = 1;         /* none may finish before we return */
	for (uint64_t i = 0; i < n; i++) {
		uint32_t lpn = (uint32_t)((first + i) % s->n_lpn);
		if (buf_find(s, lpn) != NONE)
			continue;   /* buffered data needs no mapping */
		uint32_t slot = find(c, lpn), t = lpn / c->per_tp, k = 0;
		if (slot != NONE) {
			s->st.cmt_hits++;
			touch(c, slot);
			/* the entry may still be on its way in: wait for that */
			if (!c->inflight[t])
				continue;
		} else {
			s->st.cmt_misses++;
			insert(s, lpn, 0);
		}
		while (k < nseen && seen[k] != t)
			k++;
		if (k < nseen)
			continue;   /* r waits for its page already */
		if (nseen < ND_ARRAY_LEN(seen))
			seen[nseen++] = t;
		r->priv.xlate_left += (uint32_t)(slot != NONE ? join(s, t, r) :
						 xlate_read(s, t, r, 1));
	}
	cmt_flush(s);   /* write-backs of dirty evictions */
	return --r->priv.xlate_left != 0;
}

void cmt_xlate_done(ssd *s, struct ssd_req *r)
{
	ND_ASSERT(r->priv.xlate_left > 0);
	if (--r->priv.xlate_left == 0)
		host_read_flash(s, r);
}

struct ssd_req *cmt_xlate_detach(ssd *s, struct fop *f)
{
	struct cmt *c = s->cmt;
	if (c->inflight[f->xtp] == f)
		c->inflight[f->xtp] = NULL;
	return f->xwait;
}

void cmt_xlate_wake(ssd *s, struct ssd_req *chain)
{
	while (chain) {
		struct ssd_req *next = chain->priv.wait_next;
		chain->priv.xjoined = 0;
		cmt_xlate_done(s, chain);
		chain = next;
	}
}

void cmt_placed(ssd *s, uint32_t lpn)
{
	struct cmt *c = s->cmt;
	uint32_t t = lpn / c->per_tp;
	if (!s->timed) {
		mark(c, t, TF_STALE);
		return;
	}
	uint32_t slot = find(c, lpn);
	if (slot != NONE) {
		s->st.cmt_hits++;
		touch(c, slot);
		set_dirty(c, slot);
		return;
	}
	s->st.cmt_misses++;
	insert(s, lpn, 1);
	xlate_read(s, t, NULL, 0);
}

void cmt_gc_moved(ssd *s, uint32_t lpn)
{
	struct cmt *c = s->cmt;
	if (lpn >= s->n_lpn)
		return;   /* a translation page moved: the directory is in DRAM */
	uint32_t t = lpn / c->per_tp;
	if (!s->timed) {
		mark(c, t, TF_STALE);
		return;
	}
	uint32_t slot = find(c, lpn);
	if (slot != NONE)
		set_dirty(c, slot);
	else
		mark(c, t, TF_PENDING);
}

/* Programs the listed translation pages, packed into programs; each
 * rewrite makes its page's cached entries clean. */
static void write_tpages(ssd *s, uint32_t *list, uint32_t *nlist, int flag, int rmw)
{
	struct cmt *c = s->cmt;
	uint32_t per_prog = s->prog_units / s->upp;
	uint32_t lp[1024], vr[1024];
	memset(vr, 0, sizeof vr);
	while (*nlist && !s->failed) {
		uint32_t k = 0;
		while (k < per_prog && *nlist) {
			uint32_t t = list[--*nlist];
			c->tflag[t] &= (uint8_t)~flag;
			if (rmw)
				xlate_read(s, t, NULL, 0);
			c->wb[t]++;
			for (uint32_t j = 0; j < s->upp; j++)
				lp[k * s->upp + j] = tunit(s, t, j);
			k++;
		}
		struct fop *f = ftl_program(s, lp, vr, k * s->upp);
		if (s->timed) {
			s->st.xlate_prog_pages += k;
			flash_enqueue(s, f, 0);
		}
	}
}

void cmt_flush(ssd *s)
{
	struct cmt *c = s->cmt;
	if (!c || !s->timed || c->flushing)
		return;
	c->flushing = 1;
	write_tpages(s, c->pend, &c->npend, TF_PENDING, 1);
	c->flushing = 0;
}

void cmt_functional_sync(ssd *s, uint64_t first, uint64_t n)
{
	struct cmt *c = s->cmt;
	if (!c || c->flushing)
		return;
	if (n) {
		uint64_t t0 = 0, t1 = c->n_tp - 1;
		if (first + n <= s->n_lpn) {
			t0 = first / c->per_tp;
			t1 = (first + n - 1) / c->per_tp;
		}
		for (uint64_t t = t0; t <= t1; t++)
			mark(c, (uint32_t)t, TF_STALE);
	}
	int was = s->timed;
	s->timed = 0;
	c->flushing = 1;
	write_tpages(s, c->stale, &c->nstale, TF_STALE, 0);
	c->flushing = 0;
	s->timed = was;
}
