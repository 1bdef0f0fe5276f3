/*
 * evq.h — the discrete-event queue.
 *
 * Events are ordered by (t_ns, seq): time first, then the order in which they
 * were scheduled, so equal times pop first-in first-out and every run is
 * reproducible.  Most events lie a few milliseconds ahead (a page sense, a
 * program, a channel transfer): they go to a timing wheel of ~1 us buckets,
 * each a list of events in key order, found through a bitmap; the rest
 * (far ahead, or earlier than their bucket's newest) go to a binary heap of
 * (time, sequence, event) entries.  The next event is the lesser key of the
 * wheel's first bucket and the heap's top, so the order is exactly the one
 * heap's whichever structure holds an event.  Cancel is O(1).  The queue
 * never allocates per event (its arrays grow by doubling): callers embed a
 * struct evq_event in the object that owns it and get it back with
 * container_of() in the handler.  All times are simulated nanoseconds.
 */
#ifndef ND_EVQ_H
#define ND_EVQ_H

#include <stddef.h>
#include <stdint.h>

typedef struct evq evq;
struct evq_event;
typedef void (*evq_fn)(evq *q, struct evq_event *ev);

struct evq_event {
	uint64_t t_ns;
	uint64_t seq;
	evq_fn fn;
	size_t slot;     /* nonzero while scheduled, 0 otherwise */
	struct evq_event *next, *prev;   /* in a wheel bucket (core/evq.c) */
};

/* Creates a queue sized for cap_hint pending events (it grows if needed).
 * Returns 0 and sets *out.  Free with evq_destroy() (NULL is fine). */
int evq_create(size_t cap_hint, evq **out);
void evq_destroy(evq *q);

/* Schedules ev at absolute time t_ns (>= evq_now(q)).  Returns 0, -EINVAL
 * when t_ns lies in the past, or -EBUSY if ev is already scheduled.  ev must
 * stay alive until it fires or is cancelled. */
int evq_schedule(evq *q, struct evq_event *ev, uint64_t t_ns, evq_fn fn);

/* Removes a scheduled event.  Returns 0, or -ENOENT if it was not pending. */
int evq_cancel(evq *q, struct evq_event *ev);

static inline int evq_pending(const struct evq_event *ev) { return ev->slot != 0; }

/* Pops the earliest event, advances the clock to its time and returns it
 * without calling its handler; NULL when the queue is empty. */
struct evq_event *evq_pop(evq *q);

/* Pops and runs events until the queue is empty or the next event lies after
 * t_end_ns (UINT64_MAX: no limit).  Returns the number of events run. */
uint64_t evq_run(evq *q, uint64_t t_end_ns);

/* Makes the next evq_run() return after the current handler. */
void evq_stop(evq *q);

/* The clock, read on every request stage: inline, so the handle's layout
 * begins with it (core/evq.c checks this at compile time). */
static inline uint64_t evq_now(const evq *q) { return *(const uint64_t *)(const void *)q; }
size_t evq_size(const evq *q);
/* Time of the earliest pending event, UINT64_MAX if none. */
uint64_t evq_peek_time(const evq *q);

#endif
