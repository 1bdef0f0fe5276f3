/* Event queue: order, FIFO ties, cancel, under 10^6 random events. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "core/evq.h"
#include "core/rng.h"
#include "core/util.h"
#include "tests/common/tutil.h"

struct tev {
	struct evq_event ev;
	uint64_t id;
	int cancelled;
	int fired;
};

static uint64_t last_t, last_seq, fired_n, bad_order;

static void on_fire(evq *q, struct evq_event *ev)
{
	struct tev *t = container_of(ev, struct tev, ev);
	if (ev->t_ns < last_t || (ev->t_ns == last_t && ev->seq < last_seq))
		bad_order++;
	if (evq_now(q) != ev->t_ns)
		bad_order++;
	last_t = ev->t_ns;
	last_seq = ev->seq;
	t->fired++;
	fired_n++;
}

START_TEST(order_ties_cancel_1e6)
{
	const size_t n = 1000000;
	struct tev *e = xcalloc(n, sizeof *e);
	evq *q;
	ck_assert_int_eq(evq_create(16, &q), 0);
	struct rng r;
	rng_seed(&r, 42, 0);
	/* Few distinct times, so ties are frequent. */
	for (size_t i = 0; i < n; i++) {
		e[i].id = i;
		ck_assert_int_eq(evq_schedule(q, &e[i].ev, rng_below(&r, 5000), on_fire), 0);
	}
	ck_assert_int_eq(evq_schedule(q, &e[0].ev, 1, on_fire), -EBUSY);
	size_t ncancel = 0;
	for (size_t i = 0; i < n; i += 3) {
		ck_assert_int_eq(evq_cancel(q, &e[i].ev), 0);
		e[i].cancelled = 1;
		ncancel++;
	}
	ck_assert_int_eq(evq_cancel(q, &e[0].ev), -ENOENT);
	ck_assert_uint_eq(evq_size(q), n - ncancel);
	last_t = 0;
	last_seq = 0;
	fired_n = 0;
	bad_order = 0;
	uint64_t ran = evq_run(q, UINT64_MAX);
	ck_assert_uint_eq(ran, n - ncancel);
	ck_assert_uint_eq(fired_n, n - ncancel);
	ck_assert_uint_eq(bad_order, 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(e[i].fired, e[i].cancelled ? 0 : 1);
	ck_assert_int_eq(evq_schedule(q, &e[1].ev, 0, on_fire), -EINVAL); /* past */
	evq_destroy(q);
	free(e);
}
END_TEST

static struct tev fifo[100];
static int fifo_seen[100], fifo_n;

static void on_fifo(evq *q, struct evq_event *ev)
{
	(void)q;
	fifo_seen[fifo_n++] = (int)container_of(ev, struct tev, ev)->id;
}

START_TEST(fifo_among_equal_times)
{
	evq *q;
	evq_create(4, &q);
	for (int i = 0; i < 100; i++) {
		fifo[i].id = (uint64_t)i;
		evq_schedule(q, &fifo[i].ev, i % 2 ? 10 : 20, on_fifo);
	}
	fifo_n = 0;
	evq_run(q, UINT64_MAX);
	ck_assert_int_eq(fifo_n, 100);
	/* odd ids (t=10) first in scheduling order, then even ids. */
	for (int i = 0; i < 50; i++) {
		ck_assert_int_eq(fifo_seen[i], 2 * i + 1);
		ck_assert_int_eq(fifo_seen[50 + i], 2 * i);
	}
	ck_assert_uint_eq(evq_now(q), 20);
	evq_destroy(q);
}
END_TEST

START_TEST(run_until_and_peek)
{
	evq *q;
	evq_create(4, &q);
	for (int i = 0; i < 10; i++) {
		fifo[i].id = (uint64_t)i;
		evq_schedule(q, &fifo[i].ev, (uint64_t)i * 100, on_fifo);
	}
	fifo_n = 0;
	ck_assert_uint_eq(evq_run(q, 450), 5);
	ck_assert_uint_eq(evq_peek_time(q), 500);
	ck_assert_uint_eq(evq_run(q, UINT64_MAX), 5);
	ck_assert_uint_eq(evq_peek_time(q), UINT64_MAX);
	ck_assert_ptr_null(evq_pop(q));
	evq_destroy(q);
}
END_TEST

/* Handlers that schedule, cancel and peek while they run (the queue reuses
 * the running event's heap slot for the first event a handler schedules),
 * checked against a plain reference: each actor's pending (time, sequence),
 * whose minimum, found by a linear scan, must be the event that fires. */
enum { NACT = 48 };
static struct tev act[NACT];
static uint64_t ref_t[NACT], ref_seq[NACT], ref_next_seq, act_fired;
static int ref_pending[NACT];
static uint64_t act_bad;
static struct rng act_rng;

static int ref_min(void)
{
	int best = -1;
	for (int a = 0; a < NACT; a++)
		if (ref_pending[a] && (best < 0 || ref_t[a] < ref_t[best] ||
				       (ref_t[a] == ref_t[best] && ref_seq[a] < ref_seq[best])))
			best = a;
	return best;
}

static void on_act(evq *q, struct evq_event *ev);

static void act_schedule(evq *q, int a, uint64_t t)
{
	if (evq_schedule(q, &act[a].ev, t, on_act))
		act_bad++;
	ref_pending[a] = 1;
	ref_t[a] = t;
	ref_seq[a] = ref_next_seq++;
	if (act[a].ev.seq != ref_seq[a])
		act_bad++;
}

static void on_act(evq *q, struct evq_event *ev)
{
	int a = (int)container_of(ev, struct tev, ev)->id;
	if (ref_min() != a || evq_now(q) != ref_t[a])
		act_bad++;
	ref_pending[a] = 0;
	if (++act_fired >= 200000)
		return;   /* the rest drains without rescheduling */
	uint64_t now = evq_now(q);
	uint32_t x = (uint32_t)rng_below(&act_rng, 100);
	if (x < 20) {   /* peek first: the running event must not count */
		int m = ref_min();
		if (evq_peek_time(q) != (m < 0 ? UINT64_MAX : ref_t[m]))
			act_bad++;
	}
	if (x < 85)
		act_schedule(q, a, now + rng_below(&act_rng, 40));
	int b = (int)rng_below(&act_rng, NACT);
	if (x % 3 == 0 && !ref_pending[b])
		act_schedule(q, b, now + rng_below(&act_rng, 40));
	int c = (int)rng_below(&act_rng, NACT);
	if (x % 7 == 0 && ref_pending[c]) {
		if (evq_cancel(q, &act[c].ev))
			act_bad++;
		ref_pending[c] = 0;
	}
	if (x == 99 && ref_min() >= 0 && evq_peek_time(q) != ref_t[ref_min()])
		act_bad++;
	size_t live = 0;
	for (int k = 0; k < NACT; k++)
		live += (size_t)ref_pending[k];
	if (evq_size(q) != live)
		act_bad++;
}

START_TEST(handlers_schedule_cancel_peek_match_reference)
{
	evq *q;
	ck_assert_int_eq(evq_create(4, &q), 0);
	rng_seed(&act_rng, 7, 0);
	ref_next_seq = 0;
	act_fired = act_bad = 0;
	for (int a = 0; a < NACT; a++) {
		act[a].id = (uint64_t)a;
		act_schedule(q, a, rng_below(&act_rng, 20));
	}
	uint64_t ran = evq_run(q, UINT64_MAX);
	ck_assert_uint_eq(act_bad, 0);
	ck_assert_uint_eq(ran, act_fired);
	ck_assert_uint_ge(act_fired, 200000);
	ck_assert_int_eq(ref_min(), -1);
	ck_assert_uint_eq(evq_size(q), 0);
	evq_destroy(q);
}
END_TEST

/* The wheel (1,024 ns buckets, 8.4 ms ahead, beside the heap): events at
 * "now + a fixed latency" (several latencies, some sharing a bucket, some
 * just inside or beyond the wheel's reach, some a few ns off a whole
 * microsecond so they land before their bucket's newest and take the heap),
 * ties at the current time, cancels of any pending event (bucket heads,
 * middles and tails, heap entries) and peeks, over a simulated time that
 * wraps the wheel many times, drained with evq_pop(), each pop checked
 * against a linear scan of (time, sequence). */
enum { NLN = 64 };
static struct tev ln_ev[NLN];
static uint64_t ln_t[NLN], ln_seq[NLN];
static int ln_pend[NLN];

static int ln_min(void)
{
	int best = -1;
	for (int a = 0; a < NLN; a++)
		if (ln_pend[a] && (best < 0 || ln_t[a] < ln_t[best] ||
				   (ln_t[a] == ln_t[best] && ln_seq[a] < ln_seq[best])))
			best = a;
	return best;
}

START_TEST(wheel_pop_cancel_peek_match_reference)
{
	static const uint64_t lat[] = { 75000, 75000, 12000, 1000, 0, 3800000, 8388607,
					8389632, 20000000, 1023, 1024 };
	evq *q;
	ck_assert_int_eq(evq_create(4, &q), 0);
	struct rng r;
	rng_seed(&r, 11, 0);
	uint64_t next_seq = 0, bad = 0, pops = 0, cancels = 0;
	for (int a = 0; a < NLN; a++)
		ln_ev[a].id = (uint64_t)a;
	for (int round = 0; round < 400000; round++) {
		uint64_t now = evq_now(q);
		/* schedule a few idle actors */
		for (int k = 0; k < 3; k++) {
			int a = (int)rng_below(&r, NLN);
			if (ln_pend[a])
				continue;
			uint32_t x = (uint32_t)rng_below(&r, 100);
			/* whole microseconds otherwise: ties between wheel and heap */
			uint64_t t = now + (x < 80 ? lat[x % ND_ARRAY_LEN(lat)] : rng_below(&r, 90) * 1000);
			if (x % 5 == 1)
				t -= t > now + 7 ? rng_below(&r, 7) : 0;   /* before a bucket's newest */
			if (evq_schedule(q, &ln_ev[a].ev, t, on_fire))
				bad++;
			ln_pend[a] = 1;
			ln_t[a] = t;
			ln_seq[a] = next_seq++;
		}
		if (rng_below(&r, 8) == 0) {
			int c = (int)rng_below(&r, NLN);
			if (ln_pend[c]) {
				if (evq_cancel(q, &ln_ev[c].ev))
					bad++;
				ln_pend[c] = 0;
				cancels++;
			}
		}
		int m = ln_min();
		if (evq_peek_time(q) != (m < 0 ? UINT64_MAX : ln_t[m]))
			bad++;
		struct evq_event *e = evq_pop(q);
		if (m < 0) {
			bad += e != NULL;
			continue;
		}
		if (e != &ln_ev[m].ev || evq_now(q) != ln_t[m])
			bad++;
		ln_pend[m] = 0;
		pops++;
	}
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_gt(pops, 300000);
	ck_assert_uint_gt(cancels, 10000);
	ck_assert_uint_gt(evq_now(q), 20u * 8388608u);   /* the wheel wrapped */
	evq_destroy(q);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("evq");
	TCase *tc = tcase_create("evq");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, order_ties_cancel_1e6);
	tcase_add_test(tc, fifo_among_equal_times);
	tcase_add_test(tc, run_until_and_peek);
	tcase_add_test(tc, handlers_schedule_cancel_peek_match_reference);
	tcase_add_test(tc, wheel_pop_cancel_peek_match_reference);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
