#include "core/evq.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* Entries carry their keys, so ordering stays inside the queue's arrays and
 * never touches the (scattered) events.
 *
 * Pending events sit in a binary heap and in EVQ_LANES lanes.  A lane is a
 * FIFO ring whose keys only grow: an event whose key exceeds a lane's last
 * key is appended there in O(1) instead of being sifted into the heap.  In
 * the SSD model most pending events are "now + a fixed latency" (a page
 * sense, tR), scheduled in time order, so they queue in a lane and the heap
 * keeps only the few others.  The next event is the least key among the
 * heap top and the lane heads; keys are unique (the sequence number), so
 * the order is exactly the (t_ns, seq) order of one heap, whichever
 * structure holds an entry.
 *
 * Cancel is lazy: the event is marked unscheduled and its sequence number
 * noted in the queue (the event itself may be freed at once); its entry is
 * dropped when it reaches the front of the heap or of its lane.  heap[0] and
 * the lane heads are never cancelled entries. */
struct hent {
	unsigned __int128 key;   /* t_ns << 64 | seq: one comparison orders both */
	struct evq_event *ev;
};

#define EVQ_LANES 1

struct lane {
	struct hent *e;      /* ring, oldest at head */
	size_t head, n, mask;   /* mask + 1: capacity, a power of two */
	unsigned __int128 last;   /* key of the newest entry (n > 0) */
};

struct evq {
	uint64_t now_ns;     /* first: evq_now() in evq.h reads it */
	struct hent *heap;   /* heap[0] is the earliest */
	size_t n, cap;
	struct lane lane[EVQ_LANES];
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
	for (int l = 0; l < EVQ_LANES; l++) {
		q->lane[l].mask = 63;
		q->lane[l].e = xmalloc(64 * sizeof *q->lane[l].e);
	}
	*out = q;
	return 0;
}

void evq_destroy(evq *q)
{
	if (!q)
		return;
	free(q->heap);
	for (int l = 0; l < EVQ_LANES; l++)
		free(q->lane[l].e);
	free(q->cancelled);
	free(q);
}

static inline int before(const struct hent *a, const struct hent *b)
{
	return a->key < b->key;
}

static inline uint64_t key_time(unsigned __int128 k) { return (uint64_t)(k >> 64); }
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

static inline void lane_drop_head(struct lane *ln)
{
	ln->head = (ln->head + 1) & ln->mask;
	ln->n--;
}

static inline void drop_stale_lanes(evq *q)
{
	for (int l = 0; l < EVQ_LANES && q->ncanc; l++) {
		struct lane *ln = &q->lane[l];
		while (q->ncanc && ln->n && take_cancelled(q, key_seq(ln->e[ln->head].key)))
			lane_drop_head(ln);
	}
}

static void fill_hole(evq *q)
{
	q->hole = 0;
	drop_top(q);
	drop_stale(q);
}

static void lane_push(struct lane *ln, unsigned __int128 key, struct evq_event *ev)
{
	if (ln->n > ln->mask) {
		size_t cap = 2 * (ln->mask + 1);
		struct hent *e = xmalloc(cap * sizeof *e);
		for (size_t i = 0; i < ln->n; i++)
			e[i] = ln->e[(ln->head + i) & ln->mask];
		free(ln->e);
		ln->e = e;
		ln->head = 0;
		ln->mask = cap - 1;
	}
	ln->e[(ln->head + ln->n++) & ln->mask] = (struct hent){ key, ev };
	ln->last = key;
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
	ev->slot = 1;
	q->live++;
	unsigned __int128 key = (unsigned __int128)t_ns << 64 | ev->seq;
	for (int l = 0; l < EVQ_LANES; l++) {
		struct lane *ln = &q->lane[l];
		if (!ln->n || ln->last < key) {
			lane_push(ln, key, ev);
			return 0;
		}
	}
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
	drop_stale_lanes(q);
	return 0;
}

/* Where the next event is: a lane's index, EVQ_LANES for the heap, -1 when
 * nothing is pending (no hole pending).  *key: its key. */
static inline int next_src(const evq *q, unsigned __int128 *key)
{
	int src = -1;
	unsigned __int128 k = 0;
	if (q->n) {
		src = EVQ_LANES;
		k = q->heap[0].key;
	}
	for (int l = 0; l < EVQ_LANES; l++) {
		const struct lane *ln = &q->lane[l];
		if (ln->n && (src < 0 || ln->e[ln->head].key < k)) {
			src = l;
			k = ln->e[ln->head].key;
		}
	}
	*key = k;
	return src;
}

/* Takes the head of lane l. */
static inline struct evq_event *lane_pop(evq *q, int l)
{
	struct lane *ln = &q->lane[l];
	struct evq_event *e = ln->e[ln->head].ev;
	lane_drop_head(ln);
	if (q->ncanc)
		drop_stale_lanes(q);
	return e;
}

struct evq_event *evq_pop(evq *q)
{
	if (q->hole)
		fill_hole(q);
	unsigned __int128 k;
	int src = next_src(q, &k);
	if (src < 0)
		return NULL;
	struct evq_event *e;
	if (src < EVQ_LANES) {
		e = lane_pop(q, src);
	} else {
		e = q->heap[0].ev;
		drop_top(q);
		drop_stale(q);
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
		unsigned __int128 k;
		int src = next_src(q, &k);
		if (src < 0 || key_time(k) > t_end_ns)
			break;
		struct evq_event *e;
		if (src < EVQ_LANES) {
			e = lane_pop(q, src);
		} else {
			e = q->heap[0].ev;
			q->hole = 1;
		}
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
	unsigned __int128 k;
	return next_src(q, &k) < 0 ? UINT64_MAX : key_time(k);
}
