/*
 * ihp.c — in-host training on data read from the simulated SSD through an
 * LRU page cache.  See ihp.h.
 */
#include "ndp/ihp.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/evq.h"
#include "core/progress.h"
#include "core/util.h"

#define NONE UINT32_MAX

#define O(f) offsetof(struct ihp_params, f)

static const struct cfg_key ihp_keys[] = {
	{ "cores", CFG_INT, O(cores), "cores", 2, 1, 1024, NULL, NULL,
	  "CPU cores running the SGD kernel (the 2-core machine on which energy.md measured it)" },
	{ "gflops_per_core", CFG_DBL, O(gflops_per_core), "GFLOP/s", 3.0, 0.001, 1e5, NULL, NULL,
	  "sustained FLOP/s per core on this kernel (energy.md: ~3 GFLOP/s measured for dense LR SGD on one core)" },
	{ "p_active_w", CFG_DBL, O(p_active_w), "W", 150, 0, 1e5, NULL, NULL,
	  "CPU package power while computing (energy.md: Xeon Scalable class, ~150 W)" },
	{ "p_idle_w", CFG_DBL, O(p_idle_w), "W", 55, 0, 1e5, NULL, NULL,
	  "CPU package power when idle, charged for the whole run (energy.md: ~55 W)" },
	{ "dram_gb_s", CFG_DBL, O(dram_gb_s), "GB/s", 25.6, 0.001, 1e5, NULL, NULL,
	  "host DRAM bandwidth (energy.md: DDR4-3200, 25.6 GB/s per channel, JEDEC)" },
	{ "dram_pj_bit", CFG_DBL, O(dram_pj_bit), "pJ/bit", 15, 0, 1e4, NULL, NULL,
	  "host DRAM energy per bit (energy.md: DDR4 streaming ~15 pJ/bit, DRAMPower-derived)" },
	{ "page_cache_mib", CFG_DBL, O(page_cache_mib), "MiB", 16384, 0, 1e9, NULL, NULL,
	  "page cache available to the data set (assumption: 16 GiB); ignored when page_cache_ratio > 0" },
	{ "page_cache_ratio", CFG_DBL, O(page_cache_ratio), "x data set", 0, 0, 1e6, NULL, NULL,
	  "page cache as a multiple of the data set's size on disk (the ISP-ML host-memory axis); 0 = use page_cache_mib" },
	{ "io_sw_ns", CFG_U64, O(io_sw_ns), "ns", 6000, 0, 1e10, NULL, NULL,
	  "software path per read command, serialised on one core (energy.md: kernel NVMe path ~6 us, Yang et al. FAST'12)" },
	{ "prefetch_batches", CFG_INT, O(prefetch_batches), "minibatches", 2, 0, 64, NULL, NULL,
	  "minibatches the loader reads ahead of the one computing (PyTorch DataLoader prefetch_factor default 2)" },
	{ "batch", CFG_INT, O(batch), "samples", 0, 0, 1 << 20, NULL, NULL,
	  "host minibatch; 0 = train.batch x ssd.channels, i.e. the same SGD as one synchronous in-storage step" },
	CFG_END
};

const struct cfg_section ihp_section = {
	"host", ihp_keys, sizeof(struct ihp_params), NULL
};

int ihp_batch(const struct ihp_params *h, const struct ndp_train_params *tp,
	      const struct ssd_params *sp)
{
	return h->batch ? h->batch : tp->batch * sp->channels;
}

struct hio {
	struct ssd_req req;
	struct evq_event ev;
	struct ihp *H;
	uint32_t pos;
	uint32_t next_free;
};

struct ihp {
	const struct ihp_run_opts *o;
	const struct ndp_train_params *tp;
	const struct ihp_params *hp;
	evq *q;
	ssd *s;
	struct energy_ledger *led;
	struct ndp_layout L;
	struct wl_mlp m;
	struct wl_aug aug;
	struct ndp_stream st;
	int B;
	uint32_t batch;
	int epoch, done, computing;
	uint32_t rd_next, ready_prefix;
	uint8_t *ready;
	uint32_t *pend;
	struct hio *hio;
	uint32_t n_hio, hio_free;
	/* LRU page cache over the training units */
	uint32_t *prev, *next;
	uint8_t *in;
	uint32_t head, tail;        /* head = most recent */
	uint64_t cached, cap;
	uint64_t io_free;
	uint64_t busy_ns, io_busy_ns;
	struct evq_event ev;
	float *params, *grad, *x;
	uint8_t *y;
	struct wl_mlp_ws *ws;
	uint32_t cur_n;
	double cur_loss;
	uint64_t macs_fwd, macs_bwd;
	double flops_per_ns, dram_bps;
	uint64_t samples_applied, eval_every, next_eval, pt_samples;
	double loss_sum;
	uint64_t loss_n;
	uint64_t t_end;
	struct progress prog;
	struct ndp_result *r;
	int e_busy, e_io, e_idle, e_dram;
};

static void h_try_reads(struct ihp *H);
static void h_try_start(struct ihp *H);

/* ---------------------------------------------------------------- LRU */

static void lru_unlink(struct ihp *H, uint32_t u)
{
	if (H->prev[u] != NONE)
		H->next[H->prev[u]] = H->next[u];
	else
		H->head = H->next[u];
	if (H->next[u] != NONE)
		H->prev[H->next[u]] = H->prev[u];
	else
		H->tail = H->prev[u];
}

static void lru_push_front(struct ihp *H, uint32_t u)
{
	H->prev[u] = NONE;
	H->next[u] = H->head;
	if (H->head != NONE)
		H->prev[H->head] = u;
	H->head = u;
	if (H->tail == NONE)
		H->tail = u;
}

static void lru_touch(struct ihp *H, uint32_t u)
{
	lru_unlink(H, u);
	lru_push_front(H, u);
}

static void lru_insert(struct ihp *H, uint32_t u)
{
	if (!H->cap)
		return;
	if (H->in[u]) {
		lru_touch(H, u);
		return;
	}
	if (H->cached == H->cap) {
		uint32_t v = H->tail;
		lru_unlink(H, v);
		H->in[v] = 0;
		H->cached--;
	}
	lru_push_front(H, u);
	H->in[u] = 1;
	H->cached++;
}

/* ---------------------------------------------------------------- helpers */

static double energy_at(struct ihp *H, uint64_t t)
{
	ssd_account_static(H->s, t);
	en_set_time(H->led, H->e_idle, t);
	return en_total_j(H->led);
}

static void add_point(struct ihp *H, uint64_t t)
{
	struct ndp_result *r = H->r;
	if (r->npt && t < r->pt[r->npt - 1].t_ns)
		t = r->pt[r->npt - 1].t_ns;
	struct ndp_point p = {
		.t_ns = t,
		.epochs = (double)H->samples_applied / (double)H->L.n_slots,
		.acc = (double)wl_mlp_correct(&H->m, H->params, H->o->test_set) / H->o->test_set->n,
		.loss = H->loss_n ? H->loss_sum / (double)H->loss_n : 0.0,
		.energy_j = energy_at(H, t),
	};
	H->loss_sum = 0;
	H->loss_n = 0;
	H->pt_samples = H->samples_applied;
	ndp_result_point(r, &p);
	progress_update(&H->prog, H->samples_applied);
}

static void new_epoch(struct ihp *H)
{
	ndp_stream_epoch(&H->st, H->epoch);
	memset(H->ready, 0, H->st.n_chunks ? H->st.n_chunks : 1);
	memset(H->pend, 0, (H->st.n_chunks ? H->st.n_chunks : 1) * sizeof *H->pend);
	H->rd_next = H->ready_prefix = 0;
	H->batch = 0;
}

static void mark_ready(struct ihp *H, uint32_t pos)
{
	H->ready[pos] = 1;
	while (H->ready_prefix < H->st.n_chunks && H->ready[H->ready_prefix])
		H->ready_prefix++;
}

/* ---------------------------------------------------------------- I/O */

static void on_io_done(ssd *s, struct ssd_req *req)
{
	struct hio *io = req->arg;
	struct ihp *H = io->H;
	uint64_t u0 = req->off_bytes / H->L.unit_bytes;
	uint32_t n = req->len_bytes / H->L.unit_bytes;
	for (uint32_t k = 0; k < n; k++)
		lru_insert(H, (uint32_t)(u0 + k));
	/* The DMA writes the data into host DRAM. */
	en_add_units(H->led, H->e_dram, (double)req->len_bytes);
	H->r->host_dram_bytes += req->len_bytes;
	if (--H->pend[io->pos] == 0)
		mark_ready(H, io->pos);
	io->next_free = H->hio_free;
	H->hio_free = (uint32_t)(io - H->hio);
	h_try_start(H);
	h_try_reads(H);
}

static void on_io_submit(evq *q, struct evq_event *ev)
{
	struct hio *io = container_of(ev, struct hio, ev);
	int rc = ssd_submit(io->H->s, &io->req);
	ND_ASSERT(rc == 0);
}

/* Issues one read of units [u0, u0 + n) for chunk position pos; returns 0,
 * or -1 when no I/O slot is free. */
static int issue_io(struct ihp *H, uint32_t pos, uint64_t u0, uint32_t n)
{
	if (H->hio_free == NONE)
		return -1;
	struct hio *io = &H->hio[H->hio_free];
	H->hio_free = io->next_free;
	memset(&io->req, 0, sizeof io->req);
	io->req.off_bytes = u0 * H->L.unit_bytes;
	io->req.len_bytes = n * H->L.unit_bytes;
	io->req.path = SSD_PATH_HOST;
	io->req.done = on_io_done;
	io->req.arg = io;
	io->pos = pos;
	H->pend[pos]++;
	H->r->io_count++;
	H->r->epoch_read_bytes[H->epoch] += io->req.len_bytes;
	uint64_t t = nd_max_u64(evq_now(H->q), H->io_free) + H->hp->io_sw_ns;
	H->io_free = t;
	H->io_busy_ns += H->hp->io_sw_ns;
	en_add(H->led, H->e_io, H->hp->io_sw_ns);
	int rc = evq_schedule(H->q, &io->ev, t, on_io_submit);
	ND_ASSERT(rc == 0);
	return 0;
}

/* Looks chunk position pos up in the page cache and reads what misses.
 * Returns 0, or -1 (nothing changed) when I/O slots ran out. */
static int load_chunk(struct ihp *H, uint32_t pos)
{
	const struct ndp_chunk *c = &H->L.chunk[H->st.order[pos]];
	uint32_t misses = 0;
	for (uint32_t k = 0; k < c->n_units; k++)
		misses += !H->in[c->unit + k];
	/* Worst case one I/O per missing run; require that many free slots so a
	 * chunk's reads are issued together. */
	uint32_t nfree = 0;
	for (uint32_t i = H->hio_free; i != NONE && nfree < misses; i = H->hio[i].next_free)
		nfree++;
	if (nfree < misses)
		return -1;
	uint32_t k = 0;
	while (k < c->n_units) {
		uint64_t u = c->unit + k;
		if (H->in[u]) {
			lru_touch(H, (uint32_t)u);
			H->r->cache_hit_units++;
			k++;
			continue;
		}
		uint32_t n = 1;
		while (k + n < c->n_units && !H->in[u + n])
			n++;
		H->r->cache_miss_units += n;
		int rc = issue_io(H, pos, u, n);
		ND_ASSERT(rc == 0);
		k += n;
	}
	if (!H->pend[pos])
		mark_ready(H, pos);
	return 0;
}

static void h_try_reads(struct ihp *H)
{
	if (H->done || !H->st.n_batches)
		return;
	uint32_t k = H->batch + (uint32_t)H->hp->prefetch_batches;
	if (k >= H->st.n_batches)
		k = H->st.n_batches - 1;
	uint64_t s0, s1;
	ndp_stream_batch(&H->st, k, &s0, &s1);
	uint32_t limit = ndp_stream_pos(&H->st, s1 - 1) + 1;
	while (H->rd_next < limit && load_chunk(H, H->rd_next) == 0)
		H->rd_next++;
}

/* ---------------------------------------------------------------- compute */

static void on_compute(evq *q, struct evq_event *ev)
{
	struct ihp *H = container_of(ev, struct ihp, ev);
	uint64_t now = evq_now(q);
	H->computing = 0;
	H->loss_sum += H->cur_loss;
	H->loss_n += H->cur_n;
	H->r->samples += H->cur_n;
	H->samples_applied += H->cur_n;
	H->t_end = now;
	H->batch++;
	if (H->batch == H->st.n_batches) {
		H->r->epoch_end_ns[H->epoch] = now;
		H->epoch++;
		if (H->epoch < H->tp->epochs)
			new_epoch(H);
		else
			H->done = 1;
	}
	if (H->samples_applied >= H->next_eval) {
		add_point(H, now);
		H->next_eval = (H->samples_applied / H->eval_every + 1) * H->eval_every;
	}
	h_try_reads(H);
	h_try_start(H);
}

static void h_try_start(struct ihp *H)
{
	if (H->computing || H->done)
		return;
	uint64_t s0, s1;
	ndp_stream_batch(&H->st, H->batch, &s0, &s1);
	if (H->ready_prefix <= ndp_stream_pos(&H->st, s1 - 1))
		return;
	int n = (int)(s1 - s0);
	for (int k = 0; k < n; k++)
		wl_sample_x(H->o->train_set, ndp_stream_slot(&H->st, s0 + (uint64_t)k), &H->aug,
			    H->x + (size_t)k * 784, &H->y[k]);
	H->cur_loss = wl_mlp_grad(&H->m, H->params, H->x, H->y, n, H->grad, H->ws);
	wl_sgd_step(H->params, H->grad, ndp_lr(H->tp, H->epoch, n), H->m.n_params);
	H->cur_n = (uint32_t)n;
	double flops = 2.0 * (double)n * (double)(H->macs_fwd + H->macs_bwd) +
		       2.0 * (double)H->m.n_params;
	/* The loader copies each sample from the page cache into the batch. */
	uint64_t dram = 2ull * (uint64_t)n * H->L.sample_bytes;
	uint64_t t_cpu = (uint64_t)ceil(flops / H->flops_per_ns);
	uint64_t t_mem = nd_xfer_ns(dram, H->dram_bps);
	uint64_t dur = nd_max_u64(nd_max_u64(t_cpu, t_mem), 1);
	en_add_units(H->led, H->e_dram, (double)dram);
	H->r->host_dram_bytes += dram;
	H->busy_ns += dur;
	en_add(H->led, H->e_busy, dur);
	H->computing = 1;
	int rc = evq_schedule(H->q, &H->ev, evq_now(H->q) + dur, on_compute);
	ND_ASSERT(rc == 0);
}

/* ---------------------------------------------------------------- run */

int ihp_train(const struct ihp_run_opts *o, struct ndp_result *r,
	      struct nd_err *err)
{
	memset(r, 0, sizeof *r);
	double wall0 = nd_wall_s();
	const struct ndp_train_params *tp = o->train;
	const struct ihp_params *hp = o->host;
	struct ihp H_, *H = &H_;
	memset(H, 0, sizeof *H);
	H->o = o;
	H->tp = tp;
	H->hp = hp;
	H->r = r;
	snprintf(r->where, sizeof r->where, "host");
	snprintf(r->algo, sizeof r->algo, "sgd");
	snprintf(r->model, sizeof r->model, "%s", tp->model == NDP_MODEL_MLP ? "mlp" : "lr");
	r->channels = o->ssd->channels;
	r->epochs = tp->epochs;
	r->epoch_end_ns = xcalloc((size_t)tp->epochs, sizeof *r->epoch_end_ns);
	r->epoch_read_bytes = xcalloc((size_t)tp->epochs, sizeof *r->epoch_read_bytes);
	int rc = ndp_model_setup(tp, &H->m, err);
	if (rc)
		return rc;
	r->n_params = H->m.n_params;
	H->B = ihp_batch(hp, tp, o->ssd);
	H->macs_fwd = wl_mlp_macs_fwd(&H->m);
	H->macs_bwd = wl_mlp_macs_bwd(&H->m);
	H->aug = (struct wl_aug){ o->seed, tp->aug_shift, (float)tp->aug_noise };
	H->flops_per_ns = hp->cores * hp->gflops_per_core;
	H->dram_bps = hp->dram_gb_s * 1e9;

	en_init(&r->led);
	H->led = &r->led;
	if ((rc = evq_create(1024, &H->q)))
		return nd_errf(err, rc, "ihp: cannot create the event queue");
	if ((rc = ssd_create(o->ssd, H->q, H->led, o->seed, &H->s, err)))
		goto out;
	rc = ndp_layout_place(&H->L, H->s, o->ssd, o->train_set->n, tp->amplify, 0, err);
	if (rc)
		goto out;
	r->data_bytes = H->L.data_bytes;
	ssd_reset_stats(H->s);
	H->e_busy = en_action(H->led, "host_cpu", "busy_ns",
			      (hp->p_active_w - hp->p_idle_w) * 1e-9);
	/* The software path of an I/O keeps one of the cores busy. */
	H->e_io = en_action(H->led, "host_cpu", "io_sw_ns",
			    (hp->p_active_w - hp->p_idle_w) / hp->cores * 1e-9);
	H->e_idle = en_static(H->led, "host_cpu", "idle", hp->p_idle_w);
	H->e_dram = en_action(H->led, "host_dram", "byte", hp->dram_pj_bit * 8e-12);

	double cache_bytes = hp->page_cache_ratio > 0 ?
			     hp->page_cache_ratio * (double)H->L.data_bytes :
			     hp->page_cache_mib * 1048576.0;
	H->cap = (uint64_t)(cache_bytes / H->L.unit_bytes);
	r->cache_units = H->cap;
	uint64_t nu = H->L.n_chunks ? H->L.chunk[H->L.n_chunks - 1].unit +
				      H->L.chunk[H->L.n_chunks - 1].n_units : 1;
	H->prev = xmalloc(nu * sizeof *H->prev);
	H->next = xmalloc(nu * sizeof *H->next);
	H->in = xcalloc(nu, 1);
	H->head = H->tail = NONE;

	ndp_stream_init(&H->st, &H->L, NDP_WORKER_HOST, H->B, o->seed);
	size_t nc = H->st.n_chunks ? H->st.n_chunks : 1;
	H->ready = xmalloc(nc);
	H->pend = xmalloc(nc * sizeof *H->pend);
	uint64_t per_chunk = (uint64_t)H->L.chunk_units * H->L.samples_per_unit;
	uint64_t window = (uint64_t)(hp->prefetch_batches + 1) * (uint64_t)H->B;
	H->n_hio = (uint32_t)((nd_div_ceil(window, per_chunk) + 2) * H->L.chunk_units);
	H->hio = xcalloc(H->n_hio, sizeof *H->hio);
	for (uint32_t i = 0; i < H->n_hio; i++) {
		H->hio[i].H = H;
		H->hio[i].next_free = i + 1 < H->n_hio ? i + 1 : NONE;
	}
	H->hio_free = 0;
	H->params = xmalloc(H->m.n_params * sizeof *H->params);
	H->grad = xmalloc(H->m.n_params * sizeof *H->grad);
	H->x = xmalloc((size_t)H->B * 784 * sizeof *H->x);
	H->y = xmalloc((size_t)H->B);
	H->ws = wl_mlp_ws_create(&H->m, H->B);
	wl_mlp_init(&H->m, H->params, o->seed);
	H->eval_every = nd_max_u64(1, H->L.n_slots / (uint64_t)tp->evals_per_epoch);
	H->next_eval = H->eval_every;
	if (o->progress)
		progress_begin(&H->prog, "in-host training", H->L.n_slots * (uint64_t)tp->epochs);

	add_point(H, 0);
	if (H->st.n_batches && tp->epochs > 0) {
		new_epoch(H);
		h_try_reads(H);
		h_try_start(H);
	}
	r->events = evq_run(H->q, UINT64_MAX);
	if (H->samples_applied > H->pt_samples)
		add_point(H, H->t_end);
	progress_end(&H->prog);
	r->t_end_ns = H->t_end;
	r->final_acc = r->pt[r->npt - 1].acc;
	ndp_result_target(r, tp->target_acc);
	energy_at(H, H->t_end);
	ssd_get_stats(H->s, &r->st);
	r->host_link_bytes = r->st.link_bytes_h2d + r->st.link_bytes_d2h;
	r->unit_util = H->t_end ? (double)H->busy_ns / (double)H->t_end : 0;
	r->params = xmalloc(H->m.n_params * sizeof *r->params);
	memcpy(r->params, H->params, H->m.n_params * sizeof *r->params);
	rc = 0;
out:
	ndp_stream_fini(&H->st);
	free(H->ready);
	free(H->pend);
	free(H->hio);
	free(H->prev);
	free(H->next);
	free(H->in);
	free(H->params);
	free(H->grad);
	free(H->x);
	free(H->y);
	wl_mlp_ws_destroy(H->ws);
	ndp_layout_free(&H->L);
	ssd_destroy(H->s);
	evq_destroy(H->q);
	r->wall_s = nd_wall_s() - wall0;
	return rc;
}
