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

int main(void)
{
	Suite *s = suite_create("evq");
	TCase *tc = tcase_create("evq");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, order_ties_cancel_1e6);
	tcase_add_test(tc, fifo_among_equal_times);
	tcase_add_test(tc, run_until_and_peek);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
