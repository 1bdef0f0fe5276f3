/*
 * isp.c — in-storage training and inference on the simulated SSD.  See
 * ndp.h for the model; this file is the event-driven state machine.
 *
 * Every unit <-> master exchange is a struct msg embedded in its worker
 * (no allocation per event).  The master is a FIFO server: a message changes
 * the master's values when it arrives, and the master's next-free time
 * orders the work, so a reply leaves only after everything that arrived
 * before it was served — which is what makes a fetch see exactly the
 * pushes that arrived before it, and a Downpour push stale exactly by the
 * updates that overtook it.  Replies carry a snapshot taken when they are
 * served.
 */
#include "ndp/ndp.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/evq.h"
#include "core/progress.h"
#include "core/util.h"
#include "workloads/sgd.h"

#ifdef _OPENMP
#define ISP_SIMD _Pragma("omp simd")
#else
#define ISP_SIMD
#endif

#define NPUSH 2          /* Downpour push buffers per unit */
#define CTRL_MSG_BYTES 64

enum { M_GRAD, M_BCAST, M_PUSH, M_FREQ, M_FRESP, M_EL, M_ELRESP, M_COUNT, M_INFER_PARAMS };

struct isp;
struct worker;

struct msg {
	struct evq_event ev;
	struct worker *w;
	int kind;
	int busy;
	float *buf;
	uint64_t samples;
	float lr;
};

struct rd {
	struct ssd_req req;
	struct worker *w;
	uint32_t pos;
	int busy;
};

struct worker {
	struct isp *I;
	int id;
	struct ndp_stream st;
	uint32_t batch;           /* next minibatch of the epoch */
	int epoch;
	int done;
	uint32_t rd_next, ready_prefix;
	uint8_t *ready;
	uint32_t ready_cap;
	struct rd *rds;
	uint32_t n_rds;
	int computing, need_params, pending_push, pending_fetch;
	uint64_t steps;
	uint32_t acc_steps;
	uint64_t acc_samples;
	float *params, *grad, *acc, *inbox, *ediff;
	struct msg up, down, freq;
	struct msg push[NPUSH];
	struct evq_event ev;
	uint32_t cur_n;
	int cur_epoch;
	double cur_loss;
	uint64_t busy_ns;
	uint64_t spill_bytes;     /* SSD-DRAM traffic per minibatch */
	float *x;
	uint8_t *y;
	struct wl_mlp_ws *ws;
	/* inference */
	uint32_t *inf_chunks, inf_n, inf_next_comp;
	uint64_t inf_correct;
};

struct isp {
	const struct ndp_run_opts *o;
	const struct ndp_train_params *tp;
	const struct ndp_params *np;
	evq *q;
	ssd *s;
	struct energy_ledger *led;  /* &led_work: training, then inference */
	struct energy_ledger led_work;
	struct evq_event inf_ev;
	uint64_t pt_samples;        /* samples_applied at the last point */
	struct ndp_layout L;
	struct wl_mlp m;
	struct wl_sgd sgd;        /* the shared step in the units' format */
	struct wl_aug aug;
	int P;
	struct worker *w;
	float *mp;                /* master model (global / centre) */
	float *msum;
	size_t n;                 /* parameters */
	uint64_t pbytes;          /* model bytes */
	double unit_macs_per_ns, master_ops_per_ns, bus_bps, dram_bps;
	uint64_t master_free, bus_free, dram_free, master_busy;
	uint64_t master_spill;    /* SSD-DRAM traffic per master operation */
	float alpha;
	/* sync */
	uint32_t S;
	uint64_t gstep, total_steps;
	int arrivals, part_n;
	uint64_t t_model;         /* when the last master operation finishes */
	/* observation */
	uint64_t samples_applied, eval_every, next_eval;
	double loss_sum;
	uint64_t loss_n;
	struct progress prog;
	struct ndp_result *r;
	/* energy */
	int e_mac, e_sram, e_bus, e_mop, e_dram, e_link, e_st_unit, e_st_master;
	/* inference */
	int inf_counts;
	uint64_t inf_correct, inf_t_end;
	/* sync value record (ndp_run_opts.record / replay) */
	struct ndp_value *wv;
	const struct ndp_value *rv;
	uint64_t v_acc;
};

static void on_msg(evq *q, struct evq_event *ev);
static void on_compute(evq *q, struct evq_event *ev);
static void on_read(ssd *s, struct ssd_req *req);
static void w_try_start(struct worker *w);
static void w_try_reads(struct worker *w);
static void inf_on_read(ssd *s, struct ssd_req *req);
static void inf_step(struct worker *w);

/* ---------------------------------------------------------------- helpers */

static uint64_t ops_ns(uint64_t ops, double per_ns)
{
	if (!ops)
		return 0;
	uint64_t t = (uint64_t)ceil((double)ops / per_ns);
	return t ? t : 1;
}

static uint64_t bus_xfer(struct isp *I, uint64_t t_ready, uint64_t bytes)
{
	uint64_t t = nd_max_u64(t_ready, I->bus_free);
	I->bus_free = t + nd_xfer_ns(bytes, I->bus_bps);
	en_add_units(I->led, I->e_bus, (double)bytes);
	I->r->bus_bytes += bytes;
	return I->bus_free + I->np->bus_lat_ns;
}

static uint64_t dram_xfer(struct isp *I, uint64_t t_ready, uint64_t bytes)
{
	uint64_t t = nd_max_u64(t_ready, I->dram_free);
	I->dram_free = t + nd_xfer_ns(bytes, I->dram_bps);
	en_add_units(I->led, I->e_dram, (double)bytes);
	I->r->spill_bytes += bytes;
	return I->dram_free + I->o->ssd->dram_lat_ns;
}

/* The master serves `ops` operations after everything queued before;
 * returns the completion time. */
static uint64_t master_do(struct isp *I, uint64_t ops)
{
	uint64_t t = nd_max_u64(evq_now(I->q), I->master_free);
	uint64_t end = t + ops_ns(ops, I->master_ops_per_ns);
	if (I->master_spill)
		end = nd_max_u64(end, dram_xfer(I, t, I->master_spill));
	I->master_busy += end - t;
	I->master_free = end;
	I->t_model = nd_max_u64(I->t_model, end);
	en_add(I->led, I->e_mop, ops);
	return end;
}

static void send(struct isp *I, struct msg *m, int kind, uint64_t t_ready, uint64_t bytes)
{
	m->kind = kind;
	m->busy = 1;
	uint64_t t = bus_xfer(I, t_ready, bytes);
	int rc = evq_schedule(I->q, &m->ev, t, on_msg);
	ND_ASSERT(rc == 0);
}

static double energy_at(struct isp *I, uint64_t t)
{
	ssd_account_static(I->s, t);
	en_set_time(I->led, I->e_st_unit, t);
	en_set_time(I->led, I->e_st_master, t);
	return en_total_j(I->led);
}

/* The master model's test accuracy at a curve point: computed (and
 * recorded), or replayed. */
static double value_acc(struct isp *I)
{
	if (I->rv) {
		ND_ASSERT(I->v_acc < I->rv->nacc);
		return I->rv->acc[I->v_acc++];
	}
	double a = (double)wl_mlp_correct(&I->m, I->mp, I->o->test_set) / I->o->test_set->n;
	if (I->wv)
		ndp_value_push_acc(I->wv, a);
	return a;
}

/* Sync: the record's slot of unit w's current step (global step x units +
 * unit). */
static uint64_t value_slot(const struct isp *I, const struct worker *w)
{
	return ((uint64_t)w->epoch * I->S + w->batch) * (uint64_t)I->P + (uint64_t)w->id;
}

static void add_point(struct isp *I, uint64_t t)
{
	struct ndp_result *r = I->r;
	if (r->npt && t < r->pt[r->npt - 1].t_ns)
		t = r->pt[r->npt - 1].t_ns;
	struct ndp_point p = {
		.t_ns = t,
		.epochs = (double)I->samples_applied / (double)I->L.n_slots,
		.acc = value_acc(I),
		.loss = I->loss_n ? I->loss_sum / (double)I->loss_n : 0.0,
		.energy_j = energy_at(I, t),
	};
	I->loss_sum = 0;
	I->loss_n = 0;
	I->pt_samples = I->samples_applied;
	ndp_result_point(r, &p);
	progress_update(&I->prog, I->samples_applied);
}

static void maybe_eval(struct isp *I, uint64_t t)
{
	if (I->samples_applied < I->next_eval)
		return;
	add_point(I, t);
	I->next_eval = (I->samples_applied / I->eval_every + 1) * I->eval_every;
}

/* Element-wise loops: vectorising them changes no result. */
static void add_vec(float *restrict y, const float *restrict x, size_t n)
{
	ISP_SIMD
	for (size_t i = 0; i < n; i++)
		y[i] += x[i];
}

/* ---------------------------------------------------------------- reads */

static void w_new_epoch(struct worker *w)
{
	ndp_stream_epoch(&w->st, w->epoch);
	memset(w->ready, 0, w->ready_cap);
	w->rd_next = 0;
	w->ready_prefix = 0;
	w->batch = 0;
}

static void issue_read(struct isp *I, struct rd *rd, const struct ndp_chunk *c,
		       ssd_done_fn fn)
{
	memset(&rd->req, 0, sizeof rd->req);
	rd->req.off_bytes = c->unit * I->L.unit_bytes;
	rd->req.len_bytes = c->n_units * I->L.unit_bytes;
	rd->req.path = SSD_PATH_INTERNAL;
	rd->req.done = fn;
	rd->req.arg = rd;
	rd->busy = 1;
	int rc = ssd_submit(I->s, &rd->req);
	ND_ASSERT(rc == 0);
}

static void w_try_reads(struct worker *w)
{
	struct isp *I = w->I;
	if (w->done || !w->st.n_batches)
		return;
	uint32_t k = w->batch + (uint32_t)I->np->unit_read_ahead;
	if (k >= w->st.n_batches)
		k = w->st.n_batches - 1;
	uint64_t s0, s1;
	ndp_stream_batch(&w->st, k, &s0, &s1);
	uint32_t limit = ndp_stream_pos(&w->st, s1 - 1) + 1;
	while (w->rd_next < limit) {
		struct rd *rd = &w->rds[w->rd_next % w->n_rds];
		if (rd->busy)
			break;
		rd->pos = w->rd_next;
		const struct ndp_chunk *c = &I->L.chunk[w->st.order[w->rd_next]];
		I->r->epoch_read_bytes[w->epoch] += (uint64_t)c->n_units * I->L.unit_bytes;
		issue_read(I, rd, c, on_read);
		w->rd_next++;
	}
}

static void on_read(ssd *s, struct ssd_req *req)
{
	struct rd *rd = req->arg;
	struct worker *w = rd->w;
	rd->busy = 0;
	w->ready[rd->pos] = 1;
	while (w->ready_prefix < w->st.n_chunks && w->ready[w->ready_prefix])
		w->ready_prefix++;
	w_try_start(w);
	w_try_reads(w);
}

/* ---------------------------------------------------------------- compute */

static void w_try_start(struct worker *w)
{
	struct isp *I = w->I;
	if (w->computing || w->done || w->need_params || w->pending_push)
		return;
	uint64_t s0, s1;
	ndp_stream_batch(&w->st, w->batch, &s0, &s1);
	if (w->ready_prefix <= ndp_stream_pos(&w->st, s1 - 1))
		return;
	int n = (int)(s1 - s0);
	uint64_t macs;
	if (I->rv) {
		uint64_t i = value_slot(I, w);
		ND_ASSERT(i < I->rv->nstep && I->rv->n[i] == (uint32_t)n);
		w->cur_loss = I->rv->loss[i];
		macs = I->rv->ops[i];
	} else {
		for (int k = 0; k < n; k++)
			wl_sample_x(I->o->train_set, ndp_stream_slot(&w->st, s0 + (uint64_t)k),
				    &I->aug, w->x + (size_t)k * 784, &w->y[k]);
		/* Sync: the master's model cannot change between a unit's
		 * broadcast and the step's update (that needs this unit's
		 * gradient), so the unit computes on it directly instead of on
		 * a copy. */
		const float *model = I->np->algo == NDP_SYNC ? I->mp : w->params;
		struct wl_sgd_count cnt = { 0 };
		w->cur_loss = wl_sgd_grad(&I->sgd, model, w->x, w->y, n, w->grad, w->ws, &cnt);
		macs = cnt.macs;
		if (I->wv)
			ndp_value_set_step(I->wv, value_slot(I, w), (uint32_t)n, macs, w->cur_loss);
	}
	w->cur_n = (uint32_t)n;
	w->cur_epoch = w->epoch;
	if (I->np->algo == NDP_DOWNPOUR)
		macs += 2 * I->n;           /* accumulate + local step */
	else if (I->np->algo == NDP_EASGD)
		macs += I->n;               /* local step */
	uint64_t now = evq_now(I->q);
	uint64_t end = now + ops_ns(macs, I->unit_macs_per_ns);
	if (w->spill_bytes)
		end = nd_max_u64(end, dram_xfer(I, now, w->spill_bytes));
	en_add(I->led, I->e_mac, macs);
	en_add_units(I->led, I->e_sram, 4.0 * (double)macs + (double)n * I->L.sample_bytes);
	w->busy_ns += end - now;
	w->computing = 1;
	int rc = evq_schedule(I->q, &w->ev, end, on_compute);
	ND_ASSERT(rc == 0);
}

/* Downpour: send the pending push (if a buffer is free), then the fetch. */
static void dp_flush(struct worker *w)
{
	struct isp *I = w->I;
	uint64_t now = evq_now(I->q);
	if (w->pending_push) {
		struct msg *m = NULL;
		for (int i = 0; i < NPUSH && !m; i++)
			if (!w->push[i].busy)
				m = &w->push[i];
		if (!m)
			return;
		memcpy(m->buf, w->acc, I->n * sizeof *m->buf);
		memset(w->acc, 0, I->n * sizeof *w->acc);
		m->samples = w->acc_samples;
		m->lr = ndp_lr(I->tp, w->cur_epoch, (double)w->acc_samples / w->acc_steps);
		w->acc_steps = 0;
		w->acc_samples = 0;
		w->pending_push = 0;
		send(I, m, M_PUSH, now, I->pbytes);
	}
	if (w->pending_fetch) {
		w->pending_fetch = 0;
		w->need_params = 1;
		send(I, &w->freq, M_FREQ, now, CTRL_MSG_BYTES);
	}
}

static void on_compute(evq *q, struct evq_event *ev)
{
	struct worker *w = container_of(ev, struct worker, ev);
	struct isp *I = w->I;
	uint64_t now = evq_now(q);
	w->computing = 0;
	I->loss_sum += w->cur_loss;
	I->loss_n += w->cur_n;
	I->r->samples += w->cur_n;
	w->batch++;
	if (w->batch == w->st.n_batches) {
		if (I->np->algo != NDP_SYNC)
			I->r->epoch_end_ns[w->epoch] = nd_max_u64(I->r->epoch_end_ns[w->epoch], now);
		w->epoch++;
		if (w->epoch < I->tp->epochs)
			w_new_epoch(w);
		else
			w->done = 1;
	}
	float lr = ndp_lr(I->tp, w->cur_epoch, w->cur_n);
	switch (I->np->algo) {
	case NDP_SYNC:
		w->need_params = 1;
		send(I, &w->up, M_GRAD, now, I->pbytes);
		break;
	case NDP_DOWNPOUR:
		add_vec(w->acc, w->grad, I->n);
		w->acc_steps++;
		w->acc_samples += w->cur_n;
		wl_sgd_update(&I->sgd, w->params, w->grad, lr, NULL);
		w->steps++;
		if (w->steps % (uint64_t)I->np->n_push == 0 || w->done)
			w->pending_push = 1;
		if (!w->done && w->steps % (uint64_t)I->np->n_fetch == 0)
			w->pending_fetch = 1;
		dp_flush(w);
		break;
	default:
		wl_sgd_update(&I->sgd, w->params, w->grad, lr, NULL);
		w->steps++;
		I->samples_applied += w->cur_n;
		maybe_eval(I, now);
		if (!w->done && w->steps % (uint64_t)I->np->tau == 0) {
			w->need_params = 1;
			send(I, &w->up, M_EL, now, I->pbytes);
		}
		break;
	}
	w_try_reads(w);
	w_try_start(w);
}

/* ---------------------------------------------------------------- master */

static void bcast(struct isp *I, struct worker *w, uint64_t t_ready)
{
	if (I->np->algo != NDP_SYNC)
		memcpy(w->inbox, I->mp, I->n * sizeof *I->mp);
	send(I, &w->down, M_BCAST, t_ready, I->pbytes);
}

/* Participants of sync step k of an epoch: units with more than k batches. */
static int sync_participates(const struct worker *w, uint32_t k)
{
	return w->st.n_batches > k;
}

static void sync_update(struct isp *I)
{
	uint32_t k = (uint32_t)(I->gstep % I->S);
	int epoch = (int)(I->gstep / I->S);
	int first = 1;
	uint64_t samples = 0;
	for (int i = 0; i < I->P; i++) {
		struct worker *w = &I->w[i];
		if (!sync_participates(w, k))
			continue;
		if (!I->rv)
			wl_sgd_sum(&I->sgd, I->msum, w->grad, first, NULL);
		first = 0;
		samples += w->cur_n;
	}
	if (!I->rv) {
		wl_sgd_mean(&I->sgd, I->msum, I->part_n, NULL);
		wl_sgd_update(&I->sgd, I->mp, I->msum, ndp_lr(I->tp, epoch, (double)samples), NULL);
	}
	uint64_t t = master_do(I, 2 * I->n);
	I->samples_applied += samples;
	if (k == I->S - 1)
		I->r->epoch_end_ns[epoch] = t;
	I->gstep++;
	I->arrivals = 0;
	maybe_eval(I, t);
	if (I->gstep == I->total_steps)
		return;
	k = (uint32_t)(I->gstep % I->S);
	I->part_n = 0;
	for (int i = 0; i < I->P; i++) {
		if (!sync_participates(&I->w[i], k))
			continue;
		I->part_n++;
		bcast(I, &I->w[i], t);
	}
}

static void on_msg(evq *q, struct evq_event *ev)
{
	struct msg *m = container_of(ev, struct msg, ev);
	struct worker *w = m->w;
	struct isp *I = w->I;
	switch (m->kind) {
	case M_GRAD:
		m->busy = 0;
		master_do(I, I->n);
		if (++I->arrivals == I->part_n)
			sync_update(I);
		return;
	case M_BCAST:
	case M_FRESP:
		m->busy = 0;
		if (I->np->algo != NDP_SYNC)
			memcpy(w->params, w->inbox, I->n * sizeof *w->params);
		w->need_params = 0;
		w_try_start(w);
		return;
	case M_PUSH: {
		uint64_t t = master_do(I, I->n);
		wl_sgd_update(&I->sgd, I->mp, m->buf, m->lr, NULL);
		m->busy = 0;
		I->samples_applied += m->samples;
		maybe_eval(I, t);
		dp_flush(w);
		w_try_start(w);
		return;
	}
	case M_FREQ: {
		m->busy = 0;
		uint64_t t = nd_max_u64(evq_now(q), I->master_free);
		memcpy(w->inbox, I->mp, I->n * sizeof *I->mp);
		send(I, &w->down, M_FRESP, t, I->pbytes);
		return;
	}
	case M_EL: {
		m->busy = 0;
		uint64_t t = master_do(I, 2 * I->n);
		float a = I->alpha;
		ISP_SIMD
		for (size_t j = 0; j < I->n; j++) {
			float d = a * (w->params[j] - I->mp[j]);
			w->ediff[j] = d;
			I->mp[j] += d;
		}
		send(I, &w->down, M_ELRESP, t, I->pbytes);
		return;
	}
	case M_ELRESP:
		m->busy = 0;
		ISP_SIMD
		for (size_t j = 0; j < I->n; j++)
			w->params[j] -= w->ediff[j];
		w->need_params = 0;
		w_try_start(w);
		return;
	case M_INFER_PARAMS:
		m->busy = 0;
		memcpy(w->params, w->inbox, I->n * sizeof *w->params);
		w->need_params = 0;
		inf_step(w);
		return;
	default: { /* M_COUNT: a unit's inference count reaches the master */
		m->busy = 0;
		uint64_t t = master_do(I, 1);
		I->inf_correct += w->inf_correct;
		if (++I->inf_counts == I->P) {
			uint64_t lat = I->o->ssd->link_lat_ns +
				       nd_xfer_ns(I->np->result_bytes, ssd_link_bytes_per_s(I->o->ssd));
			en_add_units(I->led, I->e_link, (double)I->np->result_bytes);
			I->inf_t_end = t + lat;
		}
		return;
	}
	}
}

/* ---------------------------------------------------------------- inference */

static void inf_try_reads(struct worker *w)
{
	struct isp *I = w->I;
	while (w->rd_next < w->inf_n) {
		struct rd *rd = &w->rds[w->rd_next % w->n_rds];
		if (rd->busy)
			break;
		rd->pos = w->rd_next;
		issue_read(I, rd, &I->L.test_chunk[w->inf_chunks[w->rd_next]], inf_on_read);
		w->rd_next++;
	}
}

static void inf_on_read(ssd *s, struct ssd_req *req)
{
	struct rd *rd = req->arg;
	struct worker *w = rd->w;
	rd->busy = 0;
	w->ready[rd->pos] = 1;
	while (w->ready_prefix < w->inf_n && w->ready[w->ready_prefix])
		w->ready_prefix++;
	inf_step(w);
	inf_try_reads(w);
}

static void inf_on_compute(evq *q, struct evq_event *ev)
{
	struct worker *w = container_of(ev, struct worker, ev);
	w->computing = 0;
	w->inf_next_comp++;
	inf_step(w);
	inf_try_reads(w);
}

/* Classifies the next ready chunk, or reports the count when all are done. */
static void inf_step(struct worker *w)
{
	struct isp *I = w->I;
	if (w->computing || w->need_params || w->done)
		return;
	if (w->inf_next_comp == w->inf_n) {
		w->done = 1;
		send(I, &w->up, M_COUNT, evq_now(I->q), CTRL_MSG_BYTES);
		return;
	}
	if (w->ready_prefix <= w->inf_next_comp)
		return;
	const struct ndp_chunk *c = &I->L.test_chunk[w->inf_chunks[w->inf_next_comp]];
	int n = (int)c->n_samples;
	for (int k = 0; k < n; k++)
		wl_sample_x(I->o->test_set, c->slot + (uint64_t)k, NULL, w->x + (size_t)k * 784,
			    &w->y[k]);
	int done = 0;
	uint64_t macs = 0;
	while (done < n) {
		int b = n - done < I->tp->batch ? n - done : I->tp->batch;
		w->inf_correct += (uint64_t)wl_mlp_predict(&I->m, w->params,
							   w->x + (size_t)done * 784, w->y + done,
							   b, NULL, w->ws);
		macs += wl_sgd_infer_macs(&I->sgd, w->x + (size_t)done * 784, b, w->ws);
		done += b;
	}
	uint64_t now = evq_now(I->q);
	uint64_t end = now + ops_ns(macs, I->unit_macs_per_ns);
	en_add(I->led, I->e_mac, macs);
	en_add_units(I->led, I->e_sram, 4.0 * (double)macs + (double)n * I->L.sample_bytes);
	w->busy_ns += end - now;
	w->computing = 1;
	int rc = evq_schedule(I->q, &w->ev, end, inf_on_compute);
	ND_ASSERT(rc == 0);
}

static void inf_start(evq *q, struct evq_event *ev)
{
	struct isp *I = container_of(ev, struct isp, inf_ev);
	for (int i = 0; i < I->P; i++) {
		struct worker *w = &I->w[i];
		w->done = 0;
		w->computing = 0;
		w->need_params = 1;
		w->rd_next = w->ready_prefix = w->inf_next_comp = 0;
		w->inf_correct = 0;
		memset(w->ready, 0, w->ready_cap);
		memcpy(w->inbox, I->mp, I->n * sizeof *I->mp);
		send(I, &w->down, M_INFER_PARAMS, evq_now(q), I->pbytes);
		inf_try_reads(w);
	}
}

/* ---------------------------------------------------------------- setup */

/* SRAM a unit needs: its model copies (sync / EASGD: model + gradient;
 * Downpour: + accumulator), the page buffers of its read-ahead window, and
 * one sample's activations and errors (a unit streams the samples of a
 * minibatch one by one, accumulating the gradient). */
static uint64_t unit_need_bytes(const struct isp *I, const struct worker *w)
{
	int copies = I->np->algo == NDP_DOWNPOUR ? 3 : 2;
	uint64_t act = 0;
	for (int l = 0; l <= I->m.nl; l++)
		act += (uint64_t)I->m.dim[l];
	act *= 2 * sizeof(float);
	uint64_t pages = (uint64_t)w->n_rds * I->L.chunk_units * I->L.unit_bytes;
	return (uint64_t)copies * I->pbytes + act + pages;
}

static void worker_init(struct isp *I, struct worker *w, int id)
{
	w->I = I;
	w->id = id;
	ndp_stream_init(&w->st, &I->L, id, I->tp->batch, I->o->seed);
	uint64_t per_chunk = (uint64_t)I->L.chunk_units * I->L.samples_per_unit;
	uint64_t window = (uint64_t)(I->np->unit_read_ahead + 1) * (uint64_t)I->tp->batch;
	w->n_rds = (uint32_t)(nd_div_ceil(window, per_chunk) + 2);
	w->rds = xcalloc(w->n_rds, sizeof *w->rds);
	for (uint32_t k = 0; k < w->n_rds; k++)
		w->rds[k].w = w;
	uint32_t n_test = 0;
	for (uint32_t c = 0; c < I->L.n_test_chunks; c++)
		n_test += I->L.test_chunk[c].chan == id;
	w->inf_chunks = xmalloc((n_test ? n_test : 1) * sizeof *w->inf_chunks);
	for (uint32_t c = 0; c < I->L.n_test_chunks; c++)
		if (I->L.test_chunk[c].chan == id)
			w->inf_chunks[w->inf_n++] = c;
	w->ready_cap = w->st.n_chunks > w->inf_n ? w->st.n_chunks : w->inf_n;
	w->ready = xcalloc(w->ready_cap ? w->ready_cap : 1, 1);
	size_t nb = I->n * sizeof(float);
	w->params = xmalloc(nb);
	w->grad = xcalloc(1, nb);
	w->inbox = xmalloc(nb);
	if (I->np->algo == NDP_DOWNPOUR) {
		w->acc = xcalloc(1, nb);
		for (int k = 0; k < NPUSH; k++)
			w->push[k].buf = xmalloc(nb);
	}
	if (I->np->algo == NDP_EASGD)
		w->ediff = xmalloc(nb);
	w->up.w = w->down.w = w->freq.w = w;
	for (int k = 0; k < NPUSH; k++)
		w->push[k].w = w;
	int maxb = I->tp->batch > (int)(per_chunk) ? I->tp->batch : (int)per_chunk;
	w->x = xmalloc((size_t)maxb * 784 * sizeof *w->x);
	w->y = xmalloc((size_t)maxb);
	w->ws = wl_mlp_ws_create(&I->m, I->tp->batch);
	uint64_t need = unit_need_bytes(I, w);
	double sram = I->np->unit_sram_kib * 1024.0;
	w->spill_bytes = (double)need > sram ? 2 * (need - (uint64_t)sram) : 0;
	w->need_params = 1;
	w->epoch = 0;
	if (w->st.n_batches && I->tp->epochs > 0)
		w_new_epoch(w);
	else
		w->done = 1;
}

static void worker_fini(struct worker *w)
{
	ndp_stream_fini(&w->st);
	free(w->rds);
	free(w->inf_chunks);
	free(w->ready);
	free(w->params);
	free(w->grad);
	free(w->inbox);
	free(w->acc);
	free(w->ediff);
	for (int k = 0; k < NPUSH; k++)
		free(w->push[k].buf);
	free(w->x);
	free(w->y);
	wl_mlp_ws_destroy(w->ws);
}

int ndp_train(const struct ndp_run_opts *o, struct ndp_result *r,
	      struct nd_err *err)
{
	memset(r, 0, sizeof *r);
	double wall0 = nd_wall_s();
	const struct ndp_train_params *tp = o->train;
	const struct ndp_params *np = o->ndp;
	struct isp I_, *I = &I_;
	memset(I, 0, sizeof *I);
	I->o = o;
	I->tp = tp;
	I->np = np;
	I->r = r;
	snprintf(r->where, sizeof r->where, "storage");
	snprintf(r->algo, sizeof r->algo, "%s", ndp_algo_names[np->algo]);
	snprintf(r->model, sizeof r->model, "%s", tp->model == NDP_MODEL_MLP ? "mlp" : "lr");
	r->channels = o->ssd->channels;
	r->epochs = tp->epochs;
	r->epoch_end_ns = xcalloc((size_t)tp->epochs, sizeof *r->epoch_end_ns);
	r->epoch_read_bytes = xcalloc((size_t)tp->epochs, sizeof *r->epoch_read_bytes);
	int rc = ndp_model_setup(tp, &I->m, err);
	if (rc)
		return rc;
	I->n = I->m.n_params;
	r->n_params = I->n;
	I->pbytes = (uint64_t)I->n * sizeof(float);
	struct wl_numfmt fmt = { np->unit_format, np->unit_int_bits, np->unit_frac_bits,
				 np->unit_rounding };
	wl_sgd_init(&I->sgd, &I->m, np->unit_zero_skip, &fmt, o->seed);
	I->aug = (struct wl_aug){ o->seed, tp->aug_shift, (float)tp->aug_noise };
	ND_ASSERT(!o->replay || np->algo == NDP_SYNC);
	I->rv = o->replay;
	I->wv = np->algo == NDP_SYNC && !o->replay ? o->record : NULL;
	if (I->wv)
		ndp_value_free(I->wv);
	ND_ASSERT(!I->rv || I->rv->n_params == I->n);

	en_init(&I->led_work);
	I->led = &I->led_work;
	if ((rc = evq_create(1024, &I->q)))
		return nd_errf(err, rc, "ndp: cannot create the event queue");
	if ((rc = ssd_create(o->ssd, I->q, I->led, o->seed, &I->s, err)))
		goto out;
	rc = ndp_layout_place(&I->L, I->s, o->ssd, o->train_set->n, tp->amplify,
			      o->test_set->n, err);
	if (rc)
		goto out;
	r->data_bytes = I->L.data_bytes;
	ssd_reset_stats(I->s);

	I->P = o->ssd->channels;
	I->unit_macs_per_ns = np->unit_macs_per_cycle * np->unit_clock_mhz * 1e-3;
	I->master_ops_per_ns = np->master_macs_per_cycle * np->master_clock_mhz * 1e-3;
	I->bus_bps = np->bus_gb_s * 1e9;
	I->dram_bps = o->ssd->dram_mb_s * 1e6;
	I->alpha = (float)(np->alpha >= 0 ? np->alpha : np->beta / I->P);
	uint64_t mneed = 2 * I->pbytes;
	double msram = np->master_sram_kib * 1024.0;
	I->master_spill = (double)mneed > msram ? 2 * (mneed - (uint64_t)msram) : 0;

	I->e_mac = en_action(I->led, "isp_unit", "mac", np->unit_mac_pj * 1e-12);
	I->e_sram = en_action(I->led, "isp_unit", "sram_byte", np->unit_sram_pj_byte * 1e-12);
	I->e_st_unit = en_static(I->led, "isp_unit", "static", np->unit_static_w * I->P);
	I->e_mop = en_action(I->led, "isp_master", "op", np->master_op_pj * 1e-12);
	I->e_st_master = en_static(I->led, "isp_master", "static", np->master_static_w);
	I->e_bus = en_action(I->led, "isp_bus", "byte", np->bus_pj_bit * 8e-12);
	I->e_dram = en_action(I->led, "ssd_dram", "byte", o->ssd->dram_pj_bit * 8e-12);
	I->e_link = en_action(I->led, "host_link", "byte", o->ssd->link_pj_bit * 8e-12);

	I->mp = xmalloc(I->n * sizeof *I->mp);
	I->msum = xmalloc(I->n * sizeof *I->msum);
	wl_sgd_init_params(&I->sgd, I->mp, o->seed);
	I->w = xcalloc((size_t)I->P, sizeof *I->w);
	I->S = 0;
	for (int i = 0; i < I->P; i++) {
		worker_init(I, &I->w[i], i);
		if (I->w[i].st.n_batches > I->S)
			I->S = I->w[i].st.n_batches;
	}
	I->total_steps = (uint64_t)I->S * (uint64_t)tp->epochs;
	I->eval_every = nd_max_u64(1, I->L.n_slots / (uint64_t)tp->evals_per_epoch);
	I->next_eval = I->eval_every;
	if (o->progress)
		progress_begin(&I->prog, "in-storage training",
			       I->L.n_slots * (uint64_t)tp->epochs);

	/* t = 0: the initial model, broadcast to every unit (sync: to the
	 * participants of step 0, which is all units with data). */
	add_point(I, 0);
	for (int i = 0; i < I->P; i++) {
		struct worker *w = &I->w[i];
		if (w->done)
			continue;
		I->part_n++;
		bcast(I, w, 0);
		w_try_reads(w);
	}
	r->events = evq_run(I->q, UINT64_MAX);
	if ((rc = ssd_status(I->s, err))) {
		progress_end(&I->prog);
		goto out;   /* the drive ran out of space: no result */
	}
	uint64_t t_end = nd_max_u64(evq_now(I->q), I->t_model);
	if (I->rv)   /* the model the replayed steps computed */
		memcpy(I->mp, I->rv->params, I->n * sizeof *I->mp);
	else if (I->wv)
		ndp_value_set_params(I->wv, I->mp, I->n);
	if (I->samples_applied > I->pt_samples)
		add_point(I, t_end);
	ND_ASSERT(!I->rv || I->v_acc == I->rv->nacc);
	progress_end(&I->prog);
	r->t_end_ns = t_end;
	r->final_acc = r->pt[r->npt - 1].acc;
	ndp_result_target(r, tp->target_acc);
	uint64_t busy = 0;
	for (int i = 0; i < I->P; i++)
		busy += I->w[i].busy_ns;
	r->unit_util = t_end ? (double)busy / ((double)t_end * I->P) : 0;
	r->master_util = t_end ? (double)I->master_busy / (double)t_end : 0;
	r->params = xmalloc(I->n * sizeof *r->params);
	memcpy(r->params, I->mp, I->n * sizeof *I->mp);
	if (o->keep_workers) {
		r->worker_params = xmalloc((size_t)I->P * I->n * sizeof *r->worker_params);
		for (int i = 0; i < I->P; i++)
			memcpy(r->worker_params + (size_t)i * I->n,
			       I->np->algo == NDP_SYNC ? I->mp : I->w[i].params, I->n * sizeof *I->mp);
	}
	struct ssd_stats st_train;
	ssd_get_stats(I->s, &st_train);
	/* The report's ledger is the training run's; inference is reported
	 * on its own. */
	double e0 = energy_at(I, t_end);
	r->led = *I->led;

	if (np->infer && I->L.n_test_chunks) {
		rc = evq_schedule(I->q, &I->inf_ev, t_end, inf_start);
		ND_ASSERT(rc == 0);
		r->events += evq_run(I->q, UINT64_MAX);
		if ((rc = ssd_status(I->s, err)))
			goto out;
		uint64_t t1 = nd_max_u64(I->inf_t_end, evq_now(I->q));
		r->infer_done = 1;
		r->infer_acc = (double)I->inf_correct / (double)I->L.n_test;
		r->infer_ns = t1 - t_end;
		r->infer_j = energy_at(I, t1) - e0;
		r->infer_link_bytes = np->result_bytes;
		struct ssd_stats st_all;
		ssd_get_stats(I->s, &st_all);
		r->infer_flash_bytes = st_all.internal_read_bytes - st_train.internal_read_bytes;
	}
	r->st = st_train;
	r->host_link_bytes = st_train.link_bytes_h2d + st_train.link_bytes_d2h +
			     (r->infer_done ? np->result_bytes : 0);
	rc = 0;
out:
	if (I->w) {
		for (int i = 0; i < I->P; i++)
			worker_fini(&I->w[i]);
		free(I->w);
	}
	free(I->mp);
	free(I->msum);
	ndp_layout_free(&I->L);
	ssd_destroy(I->s);
	evq_destroy(I->q);
	r->wall_s = nd_wall_s() - wall0;
	return rc;
}
