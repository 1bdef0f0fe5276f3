#include "core/evq.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* Two structures hold pending events.
 *
 * The wheel: EVQ_NB buckets of 2^EVQ_SHIFT ns, bucket (t >> EVQ_SHIFT) mod
 * EVQ_NB, for events less than EVQ_NB buckets ahead of the clock's bucket
 * when scheduled (so, the clock only advancing, every wheel event lies in
 * the EVQ_NB buckets from the clock's: the first non-empty bucket from the
 * clock's, circularly, holds the earliest).  A bucket is a doubly linked
 * list through the events, in key order: an event joins the wheel only at
 * its bucket's tail, i.e. when it is not earlier than the bucket's newest
 * (its sequence number is the largest yet, so its key is then the
 * greatest).  A bitmap with a summary word per 64 words finds the first
 * non-empty bucket.  In the SSD model nearly every event is "now + a
 * latency" of microseconds to milliseconds, so nearly all take this path:
 * O(1) to schedule, pop and cancel.
 *
 * The heap: every other event, as (key, event) entries, so its ordering
 * never touches the (scattered) events.  Cancel in the heap is lazy: the
 * event is marked unscheduled and its sequence number noted in the queue
 * (the event itself may be freed at once); its entry is dropped when it
 * reaches the top.  heap[0] is never a cancelled entry.
 *
 * The next event is the lesser key of the wheel's first event and heap[0];
 * keys are unique (the sequence number), so the order is exactly the
 * (t_ns, seq) order of one heap, whichever structure holds an event. */
struct hent {
	unsigned __int128 key;   /* t_ns << 64 | seq: one comparison orders both */
	struct evq_event *ev;
};

#define EVQ_SHIFT 10                 /* bucket: 1,024 ns */
#define EVQ_NB (1u << 13)            /* 8,192 buckets: 8.4 ms ahead */
#define EVQ_NW (EVQ_NB / 64)         /* bitmap words */
#define EVQ_NS ((EVQ_NW + 63) / 64)  /* summary words */

struct bucket {
	struct evq_event *head, *tail;
};

/* slot values */
#define IN_HEAP 1
#define IN_WHEEL 2

struct evq {
	uint64_t now_ns;     /* first: evq_now() in evq.h reads it */
	struct hent *heap;   /* heap[0] is the earliest */
	size_t n, cap;
	struct bucket *bk;   /* EVQ_NB */
	uint64_t bm[EVQ_NW], sum[EVQ_NS];   /* non-empty buckets, words */
	size_t nwheel;
	size_t live;         /* scheduled, not cancelled */
	/* sequence numbers (+1) of cancelled entries still queued: an
	 * open-addressing set, 0 = empty slot */
	uint64_t *cancelled;
	size_t ncanc, capcanc;   /* capcanc: a power of two, or 0 */
	uint64_t next_seq;
	int stop;
	/* evq_run popped heap[0] but left it in place while its handler runs:
	 * the handler's first evq_schedule() into the heap takes that slot (one
	 * sift down instead of a removal and an insertion); otherwise it is
	 * removed when the handler returns or another call needs the heap. */
	int hole;
};

int evq_create(size_t cap_hint, evq **out)
{
	evq *q = xcalloc(1, sizeof *q);
	q->cap = cap_hint ? cap_hint : 64;
	q->heap = xmalloc(q->cap * sizeof *q->heap);
	q->bk = xcalloc(EVQ_NB, sizeof *q->bk);
	*out = q;
	return 0;
}

void evq_destroy(evq *q)
{
	if (!q)
		return;
	free(q->heap);
	free(q->bk);
	free(q->cancelled);
	free(q);
}

static inline int before(const struct hent *a, const struct hent *b)
{
	return a->key < b->key;
}

static inline uint64_t key_seq(unsigned __int128 k) { return (uint64_t)k; }

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
	while (q->ncanc && q->n > 0 && take_cancelled(q, key_seq(q->heap[0].key)))
		drop_top(q);
}

static void fill_hole(evq *q)
{
	q->hole = 0;
	drop_top(q);
	drop_stale(q);
}

/* ------------------------------------------------------------ the wheel */

/* The bucket of time t. */
static inline uint32_t bucket_of(uint64_t t_ns)
{
	return (uint32_t)(t_ns >> EVQ_SHIFT) & (EVQ_NB - 1);
}

static inline void bm_set(evq *q, uint32_t i)
{
	q->bm[i >> 6] |= 1ull << (i & 63);
	q->sum[i >> 12] |= 1ull << (i >> 6 & 63);
}

static inline void bm_clear(evq *q, uint32_t i)
{
	uint32_t w = i >> 6;
	q->bm[w] &= ~(1ull << (i & 63));
	if (!q->bm[w])
		q->sum[w >> 6] &= ~(1ull << (w & 63));
}

/* First non-empty word at or after word w (< EVQ_NW), or EVQ_NW. */
static inline uint32_t word_from(const evq *q, uint32_t w)
{
	uint32_t s = w >> 6;
	uint64_t m = q->sum[s] & (~0ull << (w & 63));
	for (;;) {
		if (m)
			return s * 64 + (uint32_t)__builtin_ctzll(m);
		if (++s == EVQ_NS)
			return EVQ_NW;
		m = q->sum[s];
	}
}

/* The wheel's earliest event (nwheel > 0): the first non-empty bucket at
 * or after the clock's, circularly; *bi: that bucket. */
static inline struct evq_event *wheel_first(const evq *q, uint32_t *bi)
{
	uint32_t c = bucket_of(q->now_ns), w = c >> 6;
	uint64_t m = q->bm[w] & (~0ull << (c & 63));
	if (!m) {
		uint32_t v = w + 1 < EVQ_NW ? word_from(q, w + 1) : EVQ_NW;
		if (v == EVQ_NW)
			v = word_from(q, 0);   /* wrapped: nwheel > 0, so one is found */
		w = v;
		m = q->bm[w];
	}
	*bi = w * 64 + (uint32_t)__builtin_ctzll(m);
	return q->bk[*bi].head;
}

/* Takes e out of its bucket i. */
static inline void wheel_unlink(evq *q, struct evq_event *e, uint32_t i)
{
	struct bucket *b = &q->bk[i];
	if (e->prev)
		e->prev->next = e->next;
	else
		b->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		b->tail = e->prev;
	if (!b->head)
		bm_clear(q, i);
	q->nwheel--;
}

/* Appends ev to its bucket if it may join the wheel; 0 if not. */
static inline int wheel_push(evq *q, struct evq_event *ev, uint64_t t_ns)
{
	if ((t_ns >> EVQ_SHIFT) - (q->now_ns >> EVQ_SHIFT) >= EVQ_NB)
		return 0;
	uint32_t i = bucket_of(t_ns);
	struct bucket *b = &q->bk[i];
	struct evq_event *t = b->tail;
	if (t) {
		if (t->t_ns > t_ns)
			return 0;   /* earlier than the bucket's newest: the heap */
		t->next = ev;
	} else {
		b->head = ev;
		bm_set(q, i);
	}
	ev->prev = t;
	ev->next = NULL;
	b->tail = ev;
	q->nwheel++;
	return 1;
}

/* The heap's part of evq_schedule(), out of line so the wheel's path
 * keeps few registers. */
static __attribute__((noinline)) int heap_push(evq *q, struct evq_event *ev)
{
	ev->slot = IN_HEAP;
	unsigned __int128 key = (unsigned __int128)ev->t_ns << 64 | ev->seq;
	if (q->hole) {
		q->hole = 0;
		q->heap[0] = (struct hent){ key, ev };
		sift_down(q, 0);
		drop_stale(q);
		return 0;
	}
	if (q->n == q->cap) {
		q->cap *= 2;
		q->heap = xrealloc(q->heap, q->cap * sizeof *q->heap);
	}
	q->heap[q->n] = (struct hent){ key, ev };
	q->n++;
	sift_up(q, q->n - 1);
	return 0;
}

int evq_schedule(evq *q, struct evq_event *ev, uint64_t t_ns, evq_fn fn)
{
	if (t_ns < q->now_ns)
		return -EINVAL;
	if (ev->slot)
		return -EBUSY;
	ev->t_ns = t_ns;
	ev->seq = q->next_seq++;
	ev->fn = fn;
	q->live++;
	if (wheel_push(q, ev, t_ns)) {
		ev->slot = IN_WHEEL;
		return 0;
	}
	return heap_push(q, ev);
}

int evq_cancel(evq *q, struct evq_event *ev)
{
	if (!ev->slot)
		return -ENOENT;
	q->live--;
	if (ev->slot == IN_WHEEL) {
		ev->slot = 0;
		wheel_unlink(q, ev, bucket_of(ev->t_ns));
		return 0;
	}
	if (q->hole)
		fill_hole(q);
	ev->slot = 0;
	canc_add(q, ev->seq);
	drop_stale(q);
	return 0;
}

/* The next event (no hole pending), NULL if none; *bi: its wheel bucket,
 * or EVQ_NB if it is heap[0]. */
static inline struct evq_event *next_ev(const evq *q, uint32_t *bi)
{
	if (q->nwheel) {
		struct evq_event *w = wheel_first(q, bi);
		if (q->n && q->heap[0].key < ((unsigned __int128)w->t_ns << 64 | w->seq)) {
			*bi = EVQ_NB;
			return q->heap[0].ev;
		}
		return w;
	}
	*bi = EVQ_NB;
	return q->n ? q->heap[0].ev : NULL;
}

struct evq_event *evq_pop(evq *q)
{
	if (q->hole)
		fill_hole(q);
	uint32_t bi;
	struct evq_event *e = next_ev(q, &bi);
	if (!e)
		return NULL;
	if (bi == EVQ_NB) {
		drop_top(q);
		drop_stale(q);
	} else {
		wheel_unlink(q, e, bi);
	}
	e->slot = 0;
	q->live--;
	q->now_ns = e->t_ns;
	return e;
}

uint64_t evq_run(evq *q, uint64_t t_end_ns)
{
	uint64_t n = 0;
	q->stop = 0;
	if (q->hole)
		fill_hole(q);
	while (!q->stop) {
		uint32_t bi;
		struct evq_event *e = next_ev(q, &bi);
		if (!e || e->t_ns > t_end_ns)
			break;
		if (bi == EVQ_NB)
			q->hole = 1;   /* heap[0] stays until the handler schedules */
		else
			wheel_unlink(q, e, bi);
		e->slot = 0;
		q->live--;
		q->now_ns = e->t_ns;
		e->fn(q, e);
		if (q->hole)
			fill_hole(q);
		n++;
	}
	return n;
}

void evq_stop(evq *q) { q->stop = 1; }
_Static_assert(offsetof(struct evq, now_ns) == 0, "evq_now() reads the first member");
size_t evq_size(const evq *q) { return q->live; }
uint64_t evq_peek_time(const evq *q)
{
	if (q->hole)   /* inside a handler: the queue without the running event */
		fill_hole((evq *)q);
	uint32_t bi;
	const struct evq_event *e = next_ev(q, &bi);
	return e ? e->t_ns : UINT64_MAX;
}
