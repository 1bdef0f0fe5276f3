/*
 * flash.c — flash scheduling: operation pool, per-die queues (host reads
 * first under read_first), die and channel timing, energy per operation.
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
static void die_kick(ssd *s, uint32_t di);

/* Free operations are a stack of pointers (LIFO, the order a linked free
 * list would give): taking one reads the hot stack, not the cold op, and the
 * op that comes next is prefetched. */
static struct fop *fop_get(ssd *s)
{
	if (!s->fop_n) {
		size_t n = 1024;
		char *chunk = xmalloc(n * s->fop_size);
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
	memset(f, 0, sizeof *f);
	f->s = s;
	return f;
}

static void fop_put(ssd *s, struct fop *f)
{
	s->fop_stack[s->fop_n++] = f;
}

struct fop *flash_new_op(ssd *s, int kind, uint32_t die)
{
	struct fop *f = fop_get(s);
	f->kind = (uint8_t)kind;
	f->die = die;
	return f;
}

void flash_enqueue(ssd *s, struct fop *f, int read_q)
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

void flash_kick(ssd *s, uint32_t die) { die_kick(s, die); }

static void op_sensed(evq *q, struct evq_event *ev)
{
	struct fop *f = container_of(ev, struct fop, ev);
	ssd *s = f->s;
	uint64_t t = chan_reserve(s, s->die[f->die].chan, f->xfer_bytes);
	int rc = evq_schedule(q, &f->ev, t, op_done);
	ND_ASSERT(rc == 0);
}

static void op_done(evq *q, struct evq_event *ev)
{
	struct fop *f = container_of(ev, struct fop, ev);
	ssd *s = f->s;
	struct die *d = &s->die[f->die];
	d->busy_ns += evq_now(q) - f->t_start;
	d->cur = NULL;
	d->load--;
	if (s->pw)
		power_op_end(s, f);
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
		ND_ASSERT(r->priv.pending > 0);
		if (--r->priv.pending == 0 && r->priv.units_left == 0)
			host_finish_stage(s, r);
	}
	if (freed)
		buf_admit_waiters(s);
}
