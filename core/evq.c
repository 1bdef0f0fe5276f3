#include "core/evq.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/util.h"

struct evq {
	struct evq_event **heap; /* heap[0] is the earliest */
	size_t n, cap;
	uint64_t now_ns;
	uint64_t next_seq;
	int stop;
};

int evq_create(size_t cap_hint, evq **out)
{
	evq *q = xcalloc(1, sizeof *q);
	q->cap = cap_hint ? cap_hint : 64;
	q->heap = xmalloc(q->cap * sizeof *q->heap);
	*out = q;
	return 0;
}

void evq_destroy(evq *q)
{
	if (!q)
		return;
	free(q->heap);
	free(q);
}

static inline int before(const struct evq_event *a, const struct evq_event *b)
{
	return a->t_ns < b->t_ns || (a->t_ns == b->t_ns && a->seq < b->seq);
}

static inline void place(evq *q, size_t i, struct evq_event *e)
{
	q->heap[i] = e;
	e->slot = i + 1;
}

static void sift_up(evq *q, size_t i)
{
	struct evq_event *e = q->heap[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(e, q->heap[p]))
			break;
		place(q, i, q->heap[p]);
		i = p;
	}
	place(q, i, e);
}

static void sift_down(evq *q, size_t i)
{
	struct evq_event *e = q->heap[i];
	for (;;) {
		size_t l = 2 * i + 1;
		if (l >= q->n)
			break;
		size_t c = l;
		if (l + 1 < q->n && before(q->heap[l + 1], q->heap[l]))
			c = l + 1;
		if (!before(q->heap[c], e))
			break;
		place(q, i, q->heap[c]);
		i = c;
	}
	place(q, i, e);
}

int evq_schedule(evq *q, struct evq_event *ev, uint64_t t_ns, evq_fn fn)
{
	if (t_ns < q->now_ns)
		return -EINVAL;
	if (ev->slot)
		return -EBUSY;
	if (q->n == q->cap) {
		q->cap *= 2;
		q->heap = xrealloc(q->heap, q->cap * sizeof *q->heap);
	}
	ev->t_ns = t_ns;
	ev->seq = q->next_seq++;
	ev->fn = fn;
	q->heap[q->n] = ev;
	q->n++;
	sift_up(q, q->n - 1);
	return 0;
}

int evq_cancel(evq *q, struct evq_event *ev)
{
	if (!ev->slot)
		return -ENOENT;
	size_t i = ev->slot - 1;
	ND_ASSERT(i < q->n && q->heap[i] == ev);
	ev->slot = 0;
	q->n--;
	if (i == q->n)
		return 0;
	struct evq_event *last = q->heap[q->n];
	place(q, i, last);
	if (i > 0 && before(last, q->heap[(i - 1) / 2]))
		sift_up(q, i);
	else
		sift_down(q, i);
	return 0;
}

struct evq_event *evq_pop(evq *q)
{
	if (q->n == 0)
		return NULL;
	struct evq_event *e = q->heap[0];
	e->slot = 0;
	q->n--;
	if (q->n > 0) {
		place(q, 0, q->heap[q->n]);
		sift_down(q, 0);
	}
	q->now_ns = e->t_ns;
	return e;
}

uint64_t evq_run(evq *q, uint64_t t_end_ns)
{
	uint64_t n = 0;
	q->stop = 0;
	while (q->n > 0 && !q->stop) {
		if (q->heap[0]->t_ns > t_end_ns)
			break;
		struct evq_event *e = evq_pop(q);
		e->fn(q, e);
		n++;
	}
	return n;
}

void evq_stop(evq *q) { q->stop = 1; }
uint64_t evq_now(const evq *q) { return q->now_ns; }
size_t evq_size(const evq *q) { return q->n; }
uint64_t evq_peek_time(const evq *q) { return q->n ? q->heap[0]->t_ns : UINT64_MAX; }
