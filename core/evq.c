#include "core/evq.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/util.h"

/* Heap entries carry their keys, so sifting stays inside the heap array and
 * never touches the (scattered) events.  Cancel is lazy: the event is marked
 * unscheduled and its sequence number noted in the queue (the event itself
 * may be freed at once); its entry is dropped when it reaches the top.
 * heap[0] is never a cancelled entry. */
struct hent {
	unsigned __int128 key;   /* t_ns << 64 | seq: one comparison orders both */
	struct evq_event *ev;
};

struct evq {
	struct hent *heap;   /* heap[0] is the earliest */
	size_t n, cap;
	size_t live;         /* scheduled, not cancelled */
	/* sequence numbers (+1) of cancelled entries still in the heap: an
	 * open-addressing set, 0 = empty slot */
	uint64_t *cancelled;
	size_t ncanc, capcanc;   /* capcanc: a power of two, or 0 */
	uint64_t now_ns;
	uint64_t next_seq;
	int stop;
	/* evq_run popped heap[0] but left it in place while its handler runs:
	 * the handler's first evq_schedule() takes that slot (one sift down
	 * instead of a removal and an insertion); otherwise it is removed when
	 * the handler returns or another call needs the heap. */
	int hole;
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
	free(q->cancelled);
	free(q);
}

static inline int before(const struct hent *a, const struct hent *b)
{
	return a->key < b->key;
}

static inline uint64_t hent_t(const struct hent *h) { return (uint64_t)(h->key >> 64); }
static inline uint64_t hent_seq(const struct hent *h) { return (uint64_t)h->key; }

static inline size_t canc_home(const evq *q, uint64_t seq)
{
	return (size_t)((seq * 0x9e3779b97f4a7c15ull) >> 17) & (q->capcanc - 1);
}

static void canc_insert(evq *q, uint64_t seq)
{
	size_t i = canc_home(q, seq);
	while (q->cancelled[i])
		i = (i + 1) & (q->capcanc - 1);
	q->cancelled[i] = seq + 1;
	q->ncanc++;
}

static void canc_add(evq *q, uint64_t seq)
{
	if (2 * (q->ncanc + 1) > q->capcanc) {
		uint64_t *old = q->cancelled;
		size_t oldcap = q->capcanc;
		q->capcanc = oldcap ? 2 * oldcap : 64;
		q->cancelled = xcalloc(q->capcanc, sizeof *q->cancelled);
		q->ncanc = 0;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i])
				canc_insert(q, old[i] - 1);
		free(old);
	}
	canc_insert(q, seq);
}

/* Removes seq from the cancelled set (backward-shift deletion): 1 if it
 * was there. */
static int take_cancelled(evq *q, uint64_t seq)
{
	size_t m = q->capcanc - 1, i = canc_home(q, seq);
	for (;; i = (i + 1) & m) {
		if (!q->cancelled[i])
			return 0;
		if (q->cancelled[i] == seq + 1)
			break;
	}
	q->ncanc--;
	for (size_t j = i;;) {
		q->cancelled[i] = 0;
		for (;;) {
			j = (j + 1) & m;
			if (!q->cancelled[j])
				return 1;
			size_t h = canc_home(q, q->cancelled[j] - 1);
			/* move j back to i unless its home lies in (i, j] */
			if (i <= j ? (h <= i || h > j) : (h <= i && h > j))
				break;
		}
		q->cancelled[i] = q->cancelled[j];
		i = j;
	}
}

static void sift_up(evq *q, size_t i)
{
	struct hent e = q->heap[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(&e, &q->heap[p]))
			break;
		q->heap[i] = q->heap[p];
		i = p;
	}
	q->heap[i] = e;
}

static void sift_down(evq *q, size_t i)
{
	struct hent e = q->heap[i];
	for (;;) {
		size_t l = 2 * i + 1;
		if (l >= q->n)
			break;
		size_t c = l;
		if (l + 1 < q->n && before(&q->heap[l + 1], &q->heap[l]))
			c = l + 1;
		if (!before(&q->heap[c], &e))
			break;
		q->heap[i] = q->heap[c];
		i = c;
	}
	q->heap[i] = e;
}

/* Removes the top entry. */
static void drop_top(evq *q)
{
	q->n--;
	if (q->n > 0) {
		q->heap[0] = q->heap[q->n];
		sift_down(q, 0);
	}
}

static inline void drop_stale(evq *q)
{
	while (q->ncanc && q->n > 0 && take_cancelled(q, hent_seq(&q->heap[0])))
		drop_top(q);
}

static void fill_hole(evq *q)
{
	q->hole = 0;
	drop_top(q);
	drop_stale(q);
}

int evq_schedule(evq *q, struct evq_event *ev, uint64_t t_ns, evq_fn fn)
{
	if (t_ns < q->now_ns)
		return -EINVAL;
	if (ev->slot)
		return -EBUSY;
	if (q->hole) {
		q->hole = 0;
		ev->t_ns = t_ns;
		ev->seq = q->next_seq++;
		ev->fn = fn;
		ev->slot = 1;
		q->heap[0] = (struct hent){ (unsigned __int128)t_ns << 64 | ev->seq, ev };
		q->live++;
		sift_down(q, 0);
		drop_stale(q);
		return 0;
	}
	if (q->n == q->cap) {
		q->cap *= 2;
		q->heap = xrealloc(q->heap, q->cap * sizeof *q->heap);
	}
	ev->t_ns = t_ns;
	ev->seq = q->next_seq++;
	ev->fn = fn;
	ev->slot = 1;
	q->heap[q->n] = (struct hent){ (unsigned __int128)t_ns << 64 | ev->seq, ev };
	q->n++;
	q->live++;
	sift_up(q, q->n - 1);
	return 0;
}

int evq_cancel(evq *q, struct evq_event *ev)
{
	if (!ev->slot)
		return -ENOENT;
	if (q->hole)
		fill_hole(q);
	ev->slot = 0;
	q->live--;
	canc_add(q, ev->seq);
	drop_stale(q);
	return 0;
}

struct evq_event *evq_pop(evq *q)
{
	if (q->hole)
		fill_hole(q);
	if (q->n == 0)
		return NULL;
	struct evq_event *e = q->heap[0].ev;
	e->slot = 0;
	q->live--;
	drop_top(q);
	drop_stale(q);
	q->now_ns = e->t_ns;
	return e;
}

uint64_t evq_run(evq *q, uint64_t t_end_ns)
{
	uint64_t n = 0;
	q->stop = 0;
	if (q->hole)
		fill_hole(q);
	while (q->n > 0 && !q->stop) {
		if (hent_t(&q->heap[0]) > t_end_ns)
			break;
		struct evq_event *e = q->heap[0].ev;
		e->slot = 0;
		q->live--;
		q->now_ns = e->t_ns;
		q->hole = 1;
		e->fn(q, e);
		if (q->hole)
			fill_hole(q);
		n++;
	}
	return n;
}

void evq_stop(evq *q) { q->stop = 1; }
uint64_t evq_now(const evq *q) { return q->now_ns; }
size_t evq_size(const evq *q) { return q->live; }
uint64_t evq_peek_time(const evq *q)
{
	if (q->hole)   /* inside a handler: the queue without the running event */
		fill_hole((evq *)q);
	return q->n ? hent_t(&q->heap[0]) : UINT64_MAX;
}
