/*
 * flash.c — flash scheduling: operation pool, per-die queues (host reads
 * first under read_first), die and channel timing, energy per operation,
 * and the timing of the nand.h features: page-type times, program/erase
 * suspend for host reads, read-retry re-senses and decode latency.
 */
#include "ssdsim/ssd_int.h"
#include "ssdsim/power_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static void op_done(evq *q, struct evq_event *ev);
static void op_sensed(evq *q, struct evq_event *ev);
static void op_resense(evq *q, struct evq_event *ev);
static void op_suspended(evq *q, struct evq_event *ev);
static void die_kick(ssd *s, uint32_t di);
static void try_suspend(ssd *s, struct die *d);

/* Free operations are a stack of pointers (LIFO, the order a linked free
 * list would give): taking one reads the hot stack, not the cold op, and the
 * op that comes next is prefetched. */
/* inline: per GC operation, the call would cost more than the work */
static inline __attribute__((always_inline)) struct fop *fop_get(ssd *s)
{
	if (!s->fop_n) {
		size_t n = 1024;
		char *chunk = xcalloc(n, s->fop_size);   /* ev.slot 0: unscheduled */
		s->chunks = xrealloc(s->chunks, (s->nchunks + 1) * sizeof *s->chunks);
		s->chunks[s->nchunks++] = chunk;
		if (s->fop_cap < s->nchunks * n) {
			s->fop_cap = s->nchunks * n;
			s->fop_stack = xrealloc(s->fop_stack, s->fop_cap * sizeof *s->fop_stack);
		}
		for (size_t i = 0; i < n; i++)
			s->fop_stack[s->fop_n++] = (struct fop *)(void *)(chunk + i * s->fop_size);
	}
	struct fop *f = s->fop_stack[--s->fop_n];
	if (s->fop_n)
		__builtin_prefetch(s->fop_stack[s->fop_n - 1], 1, 1);
	/* Every field after the event (which is unscheduled, slot 0, and set
	 * by evq_schedule()) is cleared one by one: a memset of the struct
	 * becomes a string op that costs more than the rest of the call. */
	f->next = NULL;
	f->s = s;
	f->kind = 0;
	f->xlate = 0;
	f->npages = 0;
	f->die = 0;
	f->xfer_bytes = 0;
	f->nslots = 0;
	f->qseq = 0;
	f->slc = 0;
	f->req = NULL;
	f->t_start = 0;
	f->ptype = 0;
	f->nsusp = 0;
	f->rounds = 0;
	f->soft = 0;
	f->gc = 0;
	f->resid_bits = 0;
	f->xreq = NULL;
	f->xwait = NULL;
	f->xtp = 0;
	f->uncorr_cw = 0;
	f->t_array = 0;
	f->t_end = 0;
	return f;
}

/* A field added to struct fop must be cleared in fop_get(), then this
 * size updated. */
_Static_assert(sizeof(struct fop) == 160, "fop_get() clears each field of struct fop");

static void fop_put(ssd *s, struct fop *f)
{
	s->fop_stack[s->fop_n++] = f;
}

/* flash_new_op(), inline for the GC operations of this file */
static inline __attribute__((always_inline)) struct fop *new_op(ssd *s, int kind, uint32_t die)
{
	struct fop *f = fop_get(s);
	f->kind = (uint8_t)kind;
	f->die = die;
	return f;
}

struct fop *flash_new_op(ssd *s, int kind, uint32_t die) { return new_op(s, kind, die); }

void flash_enqueue(ssd *s, struct fop *f, int read_q)
{
	struct die *d = &s->die[f->die];
	/* A host or translation read's bit errors are drawn now, while the
	 * mapping is the one the read was grouped by (the units of f are known
	 * only here); a GC read's when its die starts it (die_kick()). */
	if (f->kind == OP_READ && s->p.nx.ecc != SSD_ECC_NONE && !f->gc)
		nand_draw_errors(s, f);
	f->next = NULL;
	f->qseq = d->qseq++;
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
	else if (read_q && s->p.nx.suspend != SSD_SUSP_OFF)
		try_suspend(s, d);
}

/* GC operations, encoded: page in bits 0-31, kind in 32-39, above them the
 * units a read moves over the channel (0: copyback) or, for a program,
 * 1 if its page crosses the channel (0: copyback). */
static inline __attribute__((always_inline)) struct fop *gc_op_make(ssd *s, uint32_t die, uint64_t e)
{
	int kind = (int)(e >> 32 & 0xff);
	uint32_t page = (uint32_t)e, nvalid = (uint32_t)(e >> 40);
	struct fop *f = new_op(s, kind, die);
	f->gc = 1;
	if (kind == OP_READ) {
		f->npages = 1;
		f->ids[0] = page;
		f->xfer_bytes = nvalid * (uint32_t)s->p.map_unit_bytes;
	} else if (kind == OP_PROG) {
		f->npages = 1;
		f->ids[0] = page;   /* for ftl_gc_prog_done() */
		f->ptype = nand_prog_slower(s, 0, page);
		f->xfer_bytes = nvalid ? (uint32_t)s->p.page_bytes : 0;
	} else {
		f->ids[0] = page;   /* the block erased, for op_done */
	}
	return f;
}

/* flash_gc_op()'s rare paths, out of line so that the common one (append
 * to the die's ring, count it in the placeholder at the tail of a busy
 * die's queue) is a leaf without register saves: it runs per GC page. */
static __attribute__((noinline, cold)) void gcq_grow(struct die *d)
{
	/* grow the ring (power of two), oldest first */
	uint32_t cap = d->gcq_cap ? 2 * d->gcq_cap : 1024;
	uint64_t *q = xmalloc(cap * sizeof *q);
	uint32_t *sq = xmalloc(cap * sizeof *sq);
	for (uint32_t i = 0; i < d->gcq_n; i++) {
		q[i] = d->gcq[(d->gcq_head + i) & (d->gcq_cap - 1)];
		sq[i] = d->gcq_seq[(d->gcq_head + i) & (d->gcq_cap - 1)];
	}
	free(d->gcq);
	free(d->gcq_seq);
	d->gcq = q;
	d->gcq_seq = sq;
	d->gcq_cap = cap;
	d->gcq_head = 0;
}

/* The op just queued in the ring needs a placeholder (not under
 * gc_preempt, where the ring is the GC queue, see ssd_int.h) or the die
 * is idle. */
static __attribute__((noinline)) void gc_op_queued(ssd *s, struct die *d, uint32_t die)
{
	struct fop *j = d->wq_tail;
	if (s->p.gc_preempt) {
		/* the ring is the GC queue (see ssd_int.h) */
	} else if (j && j->kind == OP_GCJOB) {
		j->nslots++;
	} else {
		j = new_op(s, OP_GCJOB, die);
		j->nslots = 1;
		j->next = NULL;
		if (d->wq_tail)
			d->wq_tail->next = j;
		else
			d->wq_head = j;
		d->wq_tail = j;
	}
	if (!d->cur)
		die_kick(s, die);
}

static inline __attribute__((always_inline)) void gcq_push(ssd *s, struct die *d, uint64_t e)
{
	if (s->p.gc_preempt)   /* the order only preemption needs */
		d->gcq_seq[(d->gcq_head + d->gcq_n) & (d->gcq_cap - 1)] = d->qseq;
	d->qseq++;
	d->gcq[(d->gcq_head + d->gcq_n++) & (d->gcq_cap - 1)] = e;
	d->load++;
}

/* flash_gc_op() when the ring is full. */
static __attribute__((noinline, cold)) void gc_op_grow(ssd *s, struct die *d, uint32_t die,
						      uint64_t e)
{
	gcq_grow(d);
	gcq_push(s, d, e);
	gc_op_queued(s, d, die);
}

void flash_gc_op(ssd *s, uint32_t die, int kind, uint32_t page, uint32_t nvalid)
{
	uint64_t e = (uint64_t)page | (uint64_t)kind << 32 | (uint64_t)nvalid << 40;
	struct die *d = &s->die[die];
	if (__builtin_expect(d->gcq_n == d->gcq_cap, 0)) {
		gc_op_grow(s, d, die, e);
		return;
	}
	gcq_push(s, d, e);
	struct fop *j = d->wq_tail;
	if (d->cur && j && j->kind == OP_GCJOB && !s->p.gc_preempt)
		j->nslots++;   /* the common case: a busy die, GC queued last */
	else
		gc_op_queued(s, d, die);
}

/* gc_preempt: GC goes before host programs on die di (see ssd_int.h). */
static int gc_urgent(const ssd *s, uint32_t di)
{
	const struct plane *pl = &s->pl[di * (uint32_t)s->p.planes];
	for (int k = 0; k < s->p.planes; k++)
		if (pl[k].reuse_pend ||
		    pl[k].nfree - pl[k].free_pend <= (uint32_t)s->p.gc_hard_threshold_blocks)
			return 1;
	return 0;
}

/* gc_preempt: the die's next GC operation goes to the front of its write
 * queue. */
static void gc_ring_front(ssd *s, struct die *d, uint32_t di)
{
	uint64_t e = d->gcq[d->gcq_head];
	uint32_t seq = d->gcq_seq[d->gcq_head];
	d->gcq_head = (d->gcq_head + 1) & (d->gcq_cap - 1);
	d->gcq_n--;
	struct fop *f = gc_op_make(s, di, e);
	f->qseq = seq;
	f->next = d->wq_head;
	d->wq_head = f;
	if (!d->wq_tail)
		d->wq_tail = f;
}

/* The write queue's head is a GC placeholder: make its next operation and
 * put it in front. */
static void gc_job_expand(ssd *s, struct die *d, uint32_t di)
{
	struct fop *j = d->wq_head;
	uint64_t e = d->gcq[d->gcq_head];
	d->gcq_head = (d->gcq_head + 1) & (d->gcq_cap - 1);
	d->gcq_n--;
	struct fop *f = gc_op_make(s, di, e);
	if (--j->nslots) {
		f->next = j;
	} else {
		f->next = j->next;
		if (d->wq_tail == j)
			d->wq_tail = f;
		fop_put(s, j);
	}
	d->wq_head = f;
}

/* inline: per GC page (and twice per read), like fop_get() */
static inline __attribute__((always_inline)) uint64_t chan_reserve(ssd *s, uint32_t c,
								   uint64_t bytes)
{
	struct chan *ch = &s->ch[c];
	if (!bytes)   /* copyback: the data stays in the die */
		return evq_now(s->q);
	uint64_t t = nd_max_u64(evq_now(s->q), ch->free_ns);
	uint64_t ub = (uint64_t)s->p.map_unit_bytes;
	uint64_t nu = unit_of(s, bytes), rest = bytes - nu * ub;
	uint64_t x = nu * s->t_xfer_unit_ns;
	if (rest)
		x += nd_xfer_ns(rest, s->ch_bps);
	ch->free_ns = t + x;
	ch->busy_ns += x;
	s->st.channel_bytes += bytes;
	en_add_units(s->led, s->e_chan, (double)bytes);
	return ch->free_ns;
}

/* A host read has queued on die d while it programs or erases: suspend
 * that operation (nand.suspend) if its kind may be suspended, it has not
 * used up its suspensions and it would still run past the suspend.  The
 * suspend takes effect once the array phase runs (a program's data is
 * loaded first); the die takes the read t_suspend_ns later. */
static void try_suspend(ssd *s, struct die *d)
{
	const struct ssd_nand_params *n = &s->p.nx;
	struct fop *c = d->cur;
	if (!c || d->susp || c->kind == OP_READ)
		return;
	int mask = c->kind == OP_PROG ? SSD_SUSP_PROGRAM : SSD_SUSP_ERASE;
	if (!(n->suspend & mask) || c->nsusp >= (uint32_t)n->max_suspends)
		return;
	uint64_t at = nd_max_u64(evq_now(s->q), c->t_array);
	if (c->t_end <= at + n->t_suspend_ns)
		return;
	int rc = evq_cancel(s->q, &c->ev);
	ND_ASSERT(rc == 0);
	c->t_end -= at;              /* now: the time it has left */
	c->nsusp++;
	d->susp = c;
	s->st.nand.suspensions++;
	s->st.nand.suspend_wait_ns += at + n->t_suspend_ns - evq_now(s->q);
	rc = evq_schedule(s->q, &c->ev, at + n->t_suspend_ns, op_suspended);
	ND_ASSERT(rc == 0);
}

/* The suspend is in force: the die is free for reads. */
static void op_suspended(evq *q, struct evq_event *ev)
{
	struct fop *c = container_of(ev, struct fop, ev);
	ssd *s = c->s;
	struct die *d = &s->die[c->die];
	d->busy_ns += evq_now(q) - c->t_start;
	d->cur = NULL;
	die_kick(s, c->die);
}

static void die_kick(ssd *s, uint32_t di)
{
	struct die *d = &s->die[di];
	if (d->cur)
		return;
	if (d->susp && !d->rq_head) {
		/* No read waits: resume the suspended operation. */
		struct fop *c = d->susp;
		uint64_t now = evq_now(s->q);
		d->susp = NULL;
		d->cur = c;
		c->t_start = now;
		c->t_array = now + s->p.nx.t_resume_ns;
		c->t_end += c->t_array;
		int rc = evq_schedule(s->q, &c->ev, c->t_end, op_done);
		ND_ASSERT(rc == 0);
		return;
	}
	if (!d->rq_head && d->wq_head && d->wq_head->kind == OP_GCJOB)
		gc_job_expand(s, d, di);
	else if (!d->rq_head && d->gcq_n && s->p.gc_preempt &&
		 (!d->wq_head || (gc_urgent(s, di) &&
				  (int32_t)(d->gcq_seq[d->gcq_head] - d->wq_head->qseq) < 0)))
		gc_ring_front(s, d, di);
	if (s->slc && !d->rq_head && !d->wq_head)
		slc_die_idle(s, di);   /* host idle: fold a cached page (slc.c) */
	if (s->pw && !power_may_start(s, di, d->rq_head ? d->rq_head : d->wq_head))
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
	/* The next queued op was made long ago (GC queues a whole victim at
	 * once): fetch it while this one runs. */
	if (d->rq_head)
		__builtin_prefetch(d->rq_head, 0, 1);
	if (d->wq_head)
		__builtin_prefetch(d->wq_head, 0, 1);
	if (d->gcq_n)   /* the GC op that may come next, written long ago */
		__builtin_prefetch(&d->gcq[d->gcq_head], 0, 1);
	d->cur = f;
	uint64_t now = evq_now(s->q);
	f->t_start = now;
	int rc;
	switch (f->kind) {
	case OP_READ: {
		/* A GC read's bit errors: drawn as it starts, so the draws follow
		 * the order the die runs GC reads in, whatever host work passed
		 * them in its queues (gc_preempt). */
		if (f->gc && s->p.nx.ecc != SSD_ECC_NONE)
			nand_draw_errors(s, f);
		/* (SLC inline: the page-type calls only with nand.cell set) */
		uint64_t tr = s->slc ? slc_read_ns(s, f) : 0;   /* SLC-mode pages */
		if (tr) {
			/* charged by slc.c */
		} else if (s->p.nx.cell != SSD_CELL_SLC) {
			nand_charge_read(s, f);
			tr = nand_read_ns(s, f);
		} else {
			tr = s->p.t_read_ns;
			en_add(s->led, s->e_read, f->npages);
		}
		rc = evq_schedule(s->q, &f->ev, now + tr, op_sensed);
		break;
	}
	case OP_PROG: {
		if (f->nslots)   /* released when it is done: fetch them meanwhile */
			buf_prefetch_slots(s, f->ids, f->nslots);
		else if (f->gc)   /* its block, for ftl_gc_prog_done() */
			__builtin_prefetch(&s->blk[page_block(s, f->ids[0])], 1, 3);
		uint64_t t = chan_reserve(s, d->chan, f->xfer_bytes);
		uint64_t tp = s->p.t_prog_ns;
		if (f->slc) {
			tp = slc_prog_ns(s, f);   /* SLC mode, charged by slc.c */
		} else if (s->p.nx.cell != SSD_CELL_SLC) {
			nand_charge_prog(s, f);
			tp = nand_prog_ns(s, f);
		} else {
			en_add(s->led, s->e_prog, f->npages);
		}
		f->t_array = t;
		f->t_end = t + tp;
		rc = evq_schedule(s->q, &f->ev, f->t_end, op_done);
		break;
	}
	default:
		en_add(s->led, s->e_erase, 1);
		f->t_array = now;
		f->t_end = now + s->p.t_erase_ns;
		rc = evq_schedule(s->q, &f->ev, f->t_end, op_done);
		break;
	}
	ND_ASSERT(rc == 0);
}

void flash_kick(ssd *s, uint32_t die) { die_kick(s, die); }

static void op_sensed(evq *q, struct evq_event *ev)
{
	struct fop *f = container_of(ev, struct fop, ev);
	ssd *s = f->s;
	uint64_t t = chan_reserve(s, s->die[f->die].chan, f->xfer_bytes);
	int rc;
	if (f->rounds)   /* decode fails: the die senses again after the decoder */
		rc = evq_schedule(q, &f->ev, t + s->p.nx.t_dec_ns, op_resense);
	else
		rc = evq_schedule(q, &f->ev, t, op_done);
	ND_ASSERT(rc == 0);
}

/* Read retry (or a soft-information sense): tR again, same die. */
static void op_resense(evq *q, struct evq_event *ev)
{
	struct fop *f = container_of(ev, struct fop, ev);
	ssd *s = f->s;
	f->rounds--;
	nand_charge_read(s, f);
	int rc = evq_schedule(q, &f->ev, evq_now(q) + nand_read_ns(s, f), op_sensed);
	ND_ASSERT(rc == 0);
}

static void op_done(evq *q, struct evq_event *ev)
{
	struct fop *f = container_of(ev, struct fop, ev);
	ssd *s = f->s;
	struct die *d = &s->die[f->die];
	/* die_kick() below reads the kind of the write queue's head, mostly
	 * a GC placeholder made long ago: fetch it meanwhile. */
	if (d->wq_head)
		__builtin_prefetch(d->wq_head, 0, 3);
	d->busy_ns += evq_now(q) - f->t_start;
	d->cur = NULL;
	d->load--;
	if (s->pw)
		power_op_end(s, f);
	if (f->kind == OP_ERASE && s->p.gc_preempt) {
		/* the block is erased now (gc_urgent) */
		struct block *bk = &s->blk[f->ids[0]];
		struct plane *pl = &s->pl[block_plane(s, f->ids[0])];
		ND_ASSERT(bk->erase_q);
		if (!--bk->erase_q) {
			if (bk->state == BLK_FREE)
				pl->free_pend--;
			if (bk->reused)
				pl->reuse_pend--;
			bk->reused = 0;
		}
	}
	if (f->kind == OP_PROG && f->gc)
		ftl_gc_prog_done(s, f->die, f->ids[0]);   /* its moves are done */
	struct ssd_req *r = f->req;
	if (r && f->kind == OP_READ && s->p.nx.ecc != SSD_ECC_NONE) {
		/* The data is usable once decoded (the die is free already). */
		uint64_t t = evq_now(q) + s->p.nx.t_dec_ns + (f->soft ? s->p.nx.t_soft_dec_ns : 0);
		r->priv.t_data_ns = nd_max_u64(r->priv.t_data_ns, t);
		r->resid_bit_errors += f->resid_bits;
		r->uncorrectable_cw += f->uncorr_cw;
	}
	int freed = 0;
	if (f->kind == OP_PROG && f->nslots) {
		buf_release_all(s, f->ids, f->nslots);
		freed = 1;
	}
	/* a translation read: requests whose data reads wait for it (cmt.c) */
	struct ssd_req *xr = f->xreq, *xw = f->xlate ? cmt_xlate_detach(s, f) : NULL;
	fop_put(s, f);
	die_kick(s, (uint32_t)(d - s->die));
	if (xr)
		cmt_xlate_done(s, xr);
	if (xw)
		cmt_xlate_wake(s, xw);
	if (r) {
		ND_ASSERT(r->priv.pending > 0);
		if (--r->priv.pending == 0 && r->priv.units_left == 0)
			host_finish_stage(s, r);
	}
	if (freed)
		buf_admit_waiters(s);
}
