/*
 * host.c — the host section and in-host training on data read from the simulated SSD through an
 * LRU page cache.  See ihp.h.
 */
#include "hostif/host.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/evq.h"
#include "core/progress.h"
#include "core/util.h"
#include "workloads/sgd.h"

/* The default host is configs/hosts/server.json (that file carries the
 * sources; tests/test_plat.c checks the two agree). */
#define HOST_SERVER_CORES 20
#define HOST_SERVER_GFLOPS_LR 1.49
#define HOST_SERVER_GFLOPS_MLP 7.37
#define HOST_SERVER_BNN_GOPS 0.52

#define NONE UINT32_MAX

#define CFG_T struct ihp_params

static const char *const order_names[] = { "channels", "shuffle", NULL };

static const struct cfg_key ihp_keys[] = {
	CFG_KEY_INT("cores", cores, "cores", HOST_SERVER_CORES, 1, 1024,
	  "CPU cores running the kernels (default = configs/hosts/server.json: Xeon Gold 6248, 20 cores, Intel ARK)"),
	CFG_KEY_DBL("gflops_lr", gflops_lr, "GFLOP/s", HOST_SERVER_GFLOPS_LR, 0.001, 1e5,
	  "sustained GFLOP/s per core of the LR SGD step, FLOPs as workloads/sgd.h counts them (server.json: "
	  "1.373 measured with ndpsim calibrate on the project's 2.3 GHz Xeon vCPU, x base clock 2.5/2.3)"),
	CFG_KEY_DBL("gflops_mlp", gflops_mlp, "GFLOP/s", HOST_SERVER_GFLOPS_MLP, 0.001, 1e5,
	  "sustained GFLOP/s per core of the MLP SGD step (server.json: measured as gflops_lr, scaled by clock)"),
	CFG_KEY_DBL("bnn_gops", bnn_gops, "Gword-op/s", HOST_SERVER_BNN_GOPS, 0.001, 1e5,
	  "billions of 64-bit XNOR+popcount word-ops per second per core in bnn_predict (server.json: "
	  "bench_ndp bnn_predict on the project's vCPU, scaled by clock)"),
	CFG_KEY_BOOL("zero_skip", zero_skip, 1,
	  "the host kernel skips zero operands (workloads/model.c does); costed as executed MACs. One default "
	  "for every datapath that can skip (ndp.unit.zero_skip, ndram.zero_skip)"),
	CFG_KEY_DBL("p_active_w", p_active_w, "W", 150, 0, 1e5,
	  "CPU package power with every core computing (server.json: Xeon Gold 6248 TDP 150 W, Intel ARK)"),
	CFG_KEY_DBL("p_idle_w", p_idle_w, "W", 55, 0, 1e5,
	  "CPU package power when idle, on for every platform's whole wall time (energy.md: server socket idle "
	  "30-60 W, ~55 W for the Xeon Scalable class)"),
	CFG_KEY_DBL("sleep_w", sleep_w, "W", -1, -1, 1e5,
	  "package power in a sleep state entered while an offloaded job runs; -1 = no sleep state, the host "
	  "stays idle (the default: a server does not suspend under a running job)"),
	CFG_KEY_U64("wake_ns", wake_ns, "ns", 0, 0, 1e12,
	  "time to wake from the sleep state before the result is read (needed when sleep_w >= 0)"),
	CFG_KEY_DBL("dram_idle_w", dram_idle_w, "W", 9, 0, 1e4,
	  "host DRAM background power (standby + refresh) for every platform's whole wall time (server.json: "
	  "assumption, 6 DDR4 RDIMMs at ~1.5 W each; no measured source)"),
	CFG_KEY_DBL("dram_gb_s", dram_gb_s, "GB/s", 140.8, 0.001, 1e5,
	  "host DRAM bandwidth (server.json: 6 channels of DDR4-2933 at 23.5 GB/s, JEDEC; Intel ARK for the Gold 6248)"),
	CFG_KEY_DBL("dram_pj_bit", dram_pj_bit, "pJ/bit", 15, 0, 1e4,
	  "host DRAM energy per bit (energy.md: DDR4 streaming ~15 pJ/bit, DRAMPower-derived)"),
	CFG_KEY_DBL("page_cache_mib", page_cache_mib, "MiB", 16384, 0, 1e9,
	  "page cache available to the data set (assumption: 16 GiB); ignored when page_cache_ratio > 0"),
	CFG_KEY_DBL("page_cache_ratio", page_cache_ratio, "x data set", 0, 0, 1e6,
	  "page cache as a multiple of the data set's size on disk (the ISP-ML host-memory axis); 0 = use page_cache_mib"),
	CFG_KEY_U64("io_sw_ns", io_sw_ns, "ns", 6000, 0, 1e10,
	  "software path per read command, serialised on one core (energy.md: kernel NVMe path ~6 us, Yang et al. FAST'12)"),
	CFG_KEY_INT("prefetch_batches", prefetch_batches, "minibatches", 2, 0, 64,
	  "minibatches the loader reads ahead of the one computing (PyTorch DataLoader prefetch_factor default 2)"),
	CFG_KEY_ENUM("order", order, IHP_ORDER_CHANNELS, order_names,
	  "channels = each step takes minibatch k of every channel's stream and averages per-channel gradients, the arithmetic of sync ISP (same model bit for bit); shuffle = one global chunk shuffle"),
	CFG_KEY_INT("batch", batch, "samples", 0, 0, 1 << 20,
	  "order = shuffle: host minibatch; 0 = train.batch x ssd.channels (one synchronous in-storage step)"),
	CFG_END
};

static int ihp_check(const void *params, struct nd_err *err)
{
	const struct ihp_params *h = params;
	if (h->sleep_w >= 0 && h->wake_ns == 0)
		return nd_errf(err, -EINVAL, "host.wake_ns: a sleep state (host.sleep_w = %g W) needs a "
			       "wake time > 0", h->sleep_w);
	if (h->p_active_w < h->p_idle_w)
		return nd_errf(err, -EINVAL, "host.p_active_w: %g W is below host.p_idle_w (%g W)",
			       h->p_active_w, h->p_idle_w);
	return 0;
}

const struct cfg_section ihp_section = {
	"host", ihp_keys, sizeof(struct ihp_params), ihp_check
};

double ihp_gflops(const struct ihp_params *h, const struct ndp_train_params *tp)
{
	return tp->model == NDP_MODEL_MLP ? h->gflops_mlp : h->gflops_lr;
}

uint64_t ihp_bnn_ns(const struct ihp_params *h, double word_ops)
{
	return (uint64_t)ceil(word_ops / (h->cores * h->bnn_gops * 1e9) * 1e9);
}

int ihp_batch(const struct ihp_params *h, const struct ndp_train_params *tp,
	      const struct ssd_params *sp)
{
	if (h->order == IHP_ORDER_SHUFFLE && h->batch)
		return h->batch;
	return tp->batch * sp->channels;
}

struct hio {
	struct ssd_req req;
	struct evq_event ev;
	struct ihp *H;
	uint32_t g, pos;
	uint32_t next_free;
};

/* One sample stream (a channel's, or the global shuffle) and its loader. */
struct hstream {
	struct ndp_stream st;
	uint32_t rd_next, ready_prefix;
	uint8_t *ready;
	uint32_t *pend;
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
	int G;                      /* streams: channels, or 1 */
	struct hstream *hs;
	uint32_t S;                 /* steps per epoch */
	uint32_t step;              /* next step of the epoch */
	int epoch, done, computing;
	struct hio *hio;
	uint32_t n_hio, hio_free;
	/* LRU page cache over the training units */
	uint32_t *prev, *next;
	uint8_t *in;
	uint32_t head, tail;        /* head = most recent */
	uint64_t cached, cap;
	uint64_t io_free;
	uint64_t busy_ns;
	struct evq_event ev;
	struct ndp_step arith;      /* the arithmetic (ndp/train.h) */
	const struct ndp_stream **stp;   /* &hs[g].st */
	int maxb;
	uint32_t cur_n;
	double cur_loss;
	double flops_per_ns, dram_bps;
	uint64_t samples_applied, eval_every, next_eval, pt_samples;
	double loss_sum;
	uint64_t loss_n;
	uint64_t t_end;
	struct progress prog;
	struct ndp_result *r;
	int e_busy, e_io, e_idle, e_dram;
	uint64_t v_step, v_acc;     /* replay positions */
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

void ihp_value_free(struct ihp_value *v)
{
	if (!v)
		return;
	free(v->flops);
	free(v->loss);
	free(v->acc);
	memset(v, 0, sizeof *v);
}

static void value_push(double **a, uint64_t *n, uint64_t *cap, double x)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 256;
		*a = xrealloc(*a, *cap * sizeof **a);
	}
	(*a)[(*n)++] = x;
}

/* The test accuracy at a curve point: computed, or replayed. */
static double value_acc(struct ihp *H)
{
	const struct ihp_value *rv = H->o->replay;
	if (rv) {
		ND_ASSERT(H->v_acc < rv->nacc);
		return rv->acc[H->v_acc++];
	}
	double a = (double)wl_mlp_correct(&H->m, H->arith.params, H->o->test_set) / H->o->test_set->n;
	struct ihp_value *w = H->o->record;
	if (w)
		value_push(&w->acc, &w->nacc, &w->cap_acc, a);
	return a;
}

static void add_point(struct ihp *H, uint64_t t)
{
	struct ndp_result *r = H->r;
	if (r->npt && t < r->pt[r->npt - 1].t_ns)
		t = r->pt[r->npt - 1].t_ns;
	struct ndp_point p = {
		.t_ns = t,
		.epochs = (double)H->samples_applied / (double)H->L.n_slots,
		.acc = value_acc(H),
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
	for (int g = 0; g < H->G; g++) {
		struct hstream *h = &H->hs[g];
		size_t nc = h->st.n_chunks ? h->st.n_chunks : 1;
		ndp_stream_epoch(&h->st, H->epoch);
		memset(h->ready, 0, nc);
		memset(h->pend, 0, nc * sizeof *h->pend);
		h->rd_next = h->ready_prefix = 0;
	}
	H->step = 0;
}

static void mark_ready(struct hstream *h, uint32_t pos)
{
	h->ready[pos] = 1;
	while (h->ready_prefix < h->st.n_chunks && h->ready[h->ready_prefix])
		h->ready_prefix++;
}

/* Last chunk position stream h needs for step k (k < its batches). */
static uint32_t need_pos(const struct hstream *h, uint32_t k)
{
	uint64_t s0, s1;
	ndp_stream_batch(&h->st, k, &s0, &s1);
	return ndp_stream_pos(&h->st, s1 - 1);
}

/* ---------------------------------------------------------------- I/O */

static void on_io_done(ssd *s, struct ssd_req *req)
{
	struct hio *io = req->arg;
	struct ihp *H = io->H;
	struct hstream *h = &H->hs[io->g];
	uint64_t u0 = req->off_bytes / H->L.unit_bytes;
	uint32_t n = req->len_bytes / H->L.unit_bytes;
	for (uint32_t k = 0; k < n; k++)
		lru_insert(H, (uint32_t)(u0 + k));
	/* The DMA writes the data into host DRAM. */
	en_add_units(H->led, H->e_dram, (double)req->len_bytes);
	H->r->host_dram_bytes += req->len_bytes;
	if (--h->pend[io->pos] == 0)
		mark_ready(h, io->pos);
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

static void issue_io(struct ihp *H, uint32_t g, uint32_t pos, uint64_t u0, uint32_t n)
{
	ND_ASSERT(H->hio_free != NONE);
	struct hio *io = &H->hio[H->hio_free];
	H->hio_free = io->next_free;
	memset(&io->req, 0, sizeof io->req);
	io->req.off_bytes = u0 * H->L.unit_bytes;
	io->req.len_bytes = n * H->L.unit_bytes;
	io->req.path = SSD_PATH_HOST;
	io->req.done = on_io_done;
	io->req.arg = io;
	io->g = g;
	io->pos = pos;
	H->hs[g].pend[pos]++;
	H->r->io_count++;
	H->r->epoch_read_bytes[H->epoch] += io->req.len_bytes;
	/* The software path runs on one core, one command after another. */
	uint64_t t = nd_max_u64(evq_now(H->q), H->io_free) + H->hp->io_sw_ns;
	H->io_free = t;
	en_add(H->led, H->e_io, H->hp->io_sw_ns);
	int rc = evq_schedule(H->q, &io->ev, t, on_io_submit);
	ND_ASSERT(rc == 0);
}

/* Looks the next chunk of stream g up in the page cache and reads what
 * misses (one command per run of missing pages).  Returns 0, or -1
 * (nothing done) when there are not enough free I/O slots. */
static int load_chunk(struct ihp *H, uint32_t g)
{
	struct hstream *h = &H->hs[g];
	uint32_t pos = h->rd_next;
	const struct ndp_chunk *c = &H->L.chunk[h->st.order[pos]];
	uint32_t misses = 0;
	for (uint32_t k = 0; k < c->n_units; k++)
		misses += !H->in[c->unit + k];
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
		issue_io(H, g, pos, u, n);
		k += n;
	}
	if (!h->pend[pos])
		mark_ready(h, pos);
	h->rd_next++;
	return 0;
}

/* The loader: the data of steps step .. step + prefetch_batches, step by
 * step and stream by stream. */
static void h_try_reads(struct ihp *H)
{
	if (H->done)
		return;
	uint32_t last = H->step + (uint32_t)H->hp->prefetch_batches;
	if (last >= H->S)
		last = H->S - 1;
	for (uint32_t k = H->step; k <= last; k++) {
		for (int g = 0; g < H->G; g++) {
			struct hstream *h = &H->hs[g];
			if (h->st.n_batches <= k)
				continue;
			uint32_t limit = need_pos(h, k) + 1;
			while (h->rd_next < limit)
				if (load_chunk(H, (uint32_t)g))
					return;
		}
	}
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
	H->step++;
	if (H->step == H->S) {
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

/* Starts step H->step when every stream's data for it is in memory.  The
 * gradient is the mean of the per-stream mean gradients, summed in stream
 * order (sync ISP's arithmetic). */
static void h_try_start(struct ihp *H)
{
	if (H->computing || H->done)
		return;
	uint32_t k = H->step;
	for (int g = 0; g < H->G; g++) {
		const struct hstream *h = &H->hs[g];
		if (h->st.n_batches > k && h->ready_prefix <= need_pos(h, k))
			return;
	}
	uint64_t n_all;
	double loss, flops;
	const struct ihp_value *rv = H->o->replay;
	if (rv) {
		n_all = ndp_step_samples(H->stp, H->G, k);
		ND_ASSERT(H->v_step < rv->nstep);
		flops = rv->flops[H->v_step];
		loss = rv->loss[H->v_step++];
	} else {
		struct wl_sgd_count cnt = { 0 };
		loss = 0;
		n_all = ndp_step_run(&H->arith, H->stp, H->G, k, H->epoch, &loss, &cnt);
		flops = wl_sgd_flops(&cnt);
		struct ihp_value *w = H->o->record;
		if (w) {
			if (w->nstep == w->cap_step) {
				w->cap_step = w->cap_step ? 2 * w->cap_step : 256;
				w->flops = xrealloc(w->flops, w->cap_step * sizeof *w->flops);
				w->loss = xrealloc(w->loss, w->cap_step * sizeof *w->loss);
			}
			w->flops[w->nstep] = flops;
			w->loss[w->nstep++] = loss;
		}
	}
	H->cur_loss = loss;
	H->cur_n = (uint32_t)n_all;
	/* The loader copies each sample from the page cache into the batch. */
	uint64_t dram = 2ull * n_all * H->L.sample_bytes;
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
	H->flops_per_ns = hp->cores * ihp_gflops(hp, tp);
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

	int b;
	if (hp->order == IHP_ORDER_CHANNELS) {
		H->G = o->ssd->channels;
		b = tp->batch;
	} else {
		H->G = 1;
		b = hp->batch ? hp->batch : tp->batch * o->ssd->channels;
	}
	H->maxb = b;
	H->hs = xcalloc((size_t)H->G, sizeof *H->hs);
	uint32_t chunks_per_batch = 0;
	for (int g = 0; g < H->G; g++) {
		struct hstream *h = &H->hs[g];
		ndp_stream_init(&h->st, &H->L, H->G == 1 && hp->order == IHP_ORDER_SHUFFLE ?
			       NDP_WORKER_HOST : g, b, o->seed);
		size_t nc = h->st.n_chunks ? h->st.n_chunks : 1;
		h->ready = xmalloc(nc);
		h->pend = xmalloc(nc * sizeof *h->pend);
		if (h->st.n_batches > H->S)
			H->S = h->st.n_batches;
	}
	uint64_t per_chunk = (uint64_t)H->L.chunk_units * H->L.samples_per_unit;
	chunks_per_batch = (uint32_t)nd_div_ceil((uint64_t)b, per_chunk) + 1;
	/* Enough command slots for every chunk of the read-ahead window to be
	 * in flight at once, one command per unit in the worst case. */
	H->n_hio = (uint32_t)(hp->prefetch_batches + 1) * chunks_per_batch * (uint32_t)H->G *
		   H->L.chunk_units;
	H->hio = xcalloc(H->n_hio, sizeof *H->hio);
	for (uint32_t i = 0; i < H->n_hio; i++) {
		H->hio[i].H = H;
		H->hio[i].next_free = i + 1 < H->n_hio ? i + 1 : NONE;
	}
	H->hio_free = 0;
	size_t np = H->m.n_params;
	ndp_step_init(&H->arith, &H->m, o->train_set, tp, hp->zero_skip, NULL, b, o->seed);
	H->stp = xcalloc((size_t)H->G, sizeof *H->stp);
	for (int g = 0; g < H->G; g++)
		H->stp[g] = &H->hs[g].st;
	H->eval_every = nd_max_u64(1, H->L.n_slots / (uint64_t)tp->evals_per_epoch);
	H->next_eval = H->eval_every;
	if (o->progress)
		progress_begin(&H->prog, "in-host training", H->L.n_slots * (uint64_t)tp->epochs);

	add_point(H, 0);
	if (H->S && tp->epochs > 0) {
		new_epoch(H);
		h_try_reads(H);
		h_try_start(H);
	}
	r->events = evq_run(H->q, UINT64_MAX);
	if ((rc = ssd_status(H->s, err))) {
		progress_end(&H->prog);
		goto out;   /* the drive ran out of space: no result */
	}
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
	r->params = xmalloc(np * sizeof *r->params);
	memcpy(r->params, H->arith.params, np * sizeof *r->params);
	rc = 0;
out:
	for (int g = 0; H->hs && g < H->G; g++) {
		ndp_stream_fini(&H->hs[g].st);
		free(H->hs[g].ready);
		free(H->hs[g].pend);
	}
	free(H->hs);
	free(H->hio);
	free(H->prev);
	free(H->next);
	free(H->in);
	ndp_step_free(&H->arith);
	free(H->stp);
	ndp_layout_free(&H->L);
	ssd_destroy(H->s);
	evq_destroy(H->q);
	r->wall_s = nd_wall_s() - wall0;
	return rc;
}
