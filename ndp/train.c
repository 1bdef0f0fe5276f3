/*
 * train.c — the "train" section, the data layout in flash, sample streams
 * and run results shared by in-storage and in-host training.  See train.h.
 */
#include "ndp/train.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/report.h"
#include "core/rng.h"
#include "core/evq.h"
#include "core/util.h"

#define CFG_T struct ndp_train_params

static const char *const model_names[] = { "lr", "mlp", NULL };

static const struct cfg_key train_keys[] = {
	CFG_KEY_ENUM("model", model, NDP_MODEL_LR, model_names,
	  "lr = multinomial logistic regression, mlp = ReLU MLP (ISP-ML trains both kinds of differentiable model)"),
	CFG_KEY_STR("hidden", hidden, "neurons", "100",
	  "MLP hidden widths, comma-separated (100: the Fashion-MNIST benchmark MLP, ml.md)"),
	CFG_KEY_INT("batch", batch, "samples", 32, 1, 4096,
	  "minibatch per worker (each channel unit; a sync step averages channels x batch samples)"),
	CFG_KEY_DBL("lr", lr, "-", 1.0, 1e-6, 100,
	  "SGD learning rate of epoch 0 for a gradient averaged over lr_ref_batch samples (1.0: plain minibatch SGD of LR on [0,1] pixels converges at batch 256; ndp/README.md)"),
	CFG_KEY_INT("lr_ref_batch", lr_ref_batch, "samples", 256, 1, 1000000,
	  "an update from a gradient over n samples uses lr * n / lr_ref_batch (linear scaling rule, Goyal et al. 2017)"),
	CFG_KEY_DBL("lr_decay", lr_decay, "-", 0.8, 0.01, 1,
	  "learning rate multiplied by this every epoch (step decay)"),
	CFG_KEY_INT("epochs", epochs, "epochs", 16, 1, 10000,
	  "passes over the (amplified) training set"),
	CFG_KEY_DBL("target_acc", target_acc, "fraction", 0.84, 0, 1,
	  "accuracy for time/energy-to-target (0.84: scikit-learn LR reaches 84.4 % on this split, ml.md)"),
	CFG_KEY_INT("evals_per_epoch", evals_per_epoch, "points", 4, 1, 1000,
	  "test-accuracy points per epoch of data (observer only: no simulated time); sets the resolution of time-to-target"),
	CFG_KEY_INT("amplify", amplify, "x", 1, 1, 4096,
	  "k copies of the training set (copy 0 original, others shifted + noised on the fly), as ISP-ML amplified its data set"),
	CFG_KEY_INT("aug_shift", aug_shift, "pixels", 2, 0, 8,
	  "amplified copies: random shift of up to this many pixels in x and y (assumption: standard translation augmentation)"),
	CFG_KEY_DBL("aug_noise", aug_noise, "fraction", 0.05, 0, 1,
	  "amplified copies: uniform pixel noise of this amplitude (assumption)"),
	CFG_KEY_STR("data_dir", data_dir, "path", "",
	  "Fashion-MNIST IDX directory (\"\": $NDPSIM_FMNIST_DIR or /usr/share/datasets/fashion-mnist)"),
	CFG_END
};

static int train_check(const void *vp, struct nd_err *err)
{
	const struct ndp_train_params *p = vp;
	struct wl_mlp m;
	if (p->model == NDP_MODEL_MLP &&
	    wl_mlp_setup(&m, 784, p->hidden, 10, "train.hidden", err))
		return -EINVAL;
	return 0;
}

const struct cfg_section ndp_train_section = {
	"train", train_keys, sizeof(struct ndp_train_params), train_check
};

float ndp_lr(const struct ndp_train_params *tp, int epoch, double n)
{
	return (float)(tp->lr * pow(tp->lr_decay, epoch) * n / tp->lr_ref_batch);
}

int ndp_model_setup(const struct ndp_train_params *tp, struct wl_mlp *m,
		    struct nd_err *err)
{
	return wl_mlp_setup(m, 784, tp->model == NDP_MODEL_MLP ? tp->hidden : "", 10,
			    "train.hidden", err);
}

int ndp_load_data(const struct ndp_train_params *tp, struct wl_dataset *train,
		  struct wl_dataset *test, struct nd_err *err)
{
	const char *dir = tp->data_dir[0] ? tp->data_dir : wl_fmnist_default_dir();
	memset(train, 0, sizeof *train);
	memset(test, 0, sizeof *test);
	int rc = wl_fmnist_load(dir, 1, train, err);
	if (!rc)
		rc = wl_fmnist_load(dir, 0, test, err);
	if (rc) {
		wl_dataset_free(train);
		wl_dataset_free(test);
		return rc;
	}
	if (train->rows * train->cols != 784 || test->rows * test->cols != 784) {
		wl_dataset_free(train);
		wl_dataset_free(test);
		return nd_errf(err, -EINVAL, "%s: images are not 28 x 28", dir);
	}
	return 0;
}

/* --------------------------------------------------------------- layout */

static struct ndp_chunk *make_chunks(const struct ndp_layout *L, ssd *s, uint64_t unit0,
				     uint64_t n_samples, uint32_t *n_out)
{
	uint64_t per_chunk = (uint64_t)L->chunk_units * L->samples_per_unit;
	uint32_t n = (uint32_t)nd_div_ceil(n_samples, per_chunk);
	struct ndp_chunk *c = xcalloc(n ? n : 1, sizeof *c);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t slot = (uint64_t)i * per_chunk;
		uint64_t ns = nd_min_u64(per_chunk, n_samples - slot);
		c[i].slot = slot;
		c[i].n_samples = (uint32_t)ns;
		c[i].unit = unit0 + (uint64_t)i * L->chunk_units;
		c[i].n_units = (uint32_t)nd_div_ceil(ns, L->samples_per_unit);
		c[i].chan = ssd_unit_channel(s, c[i].unit);
		ND_ASSERT(c[i].chan >= 0);
	}
	*n_out = n;
	return c;
}

int ndp_layout_place(struct ndp_layout *L, ssd *s, const struct ssd_params *sp,
		     uint32_t n_train, int amplify, uint32_t n_test,
		     struct nd_err *err)
{
	memset(L, 0, sizeof *L);
	L->sample_bytes = 785;
	L->unit_bytes = ssd_unit_bytes(s);
	L->samples_per_unit = L->unit_bytes / L->sample_bytes;
	if (L->samples_per_unit == 0)
		return nd_errf(err, -EINVAL, "ssd.map_unit_bytes: %u bytes cannot hold one "
			       "785-byte sample", L->unit_bytes);
	L->chunk_units = (uint32_t)(sp->page_bytes / sp->map_unit_bytes) *
			 (uint32_t)(sp->multiplane ? sp->planes : 1);
	L->channels = sp->channels;
	L->n_slots = (uint64_t)n_train * (uint64_t)amplify;
	uint64_t per_chunk = (uint64_t)L->chunk_units * L->samples_per_unit;
	uint64_t train_chunks = nd_div_ceil(L->n_slots, per_chunk);
	uint64_t test_chunks = nd_div_ceil(n_test, per_chunk);
	L->n_units = nd_div_ceil(L->n_slots, L->samples_per_unit);
	L->data_bytes = L->n_units * L->unit_bytes;
	uint64_t need = (train_chunks + test_chunks) * L->chunk_units;
	uint64_t cap_units = ssd_capacity_bytes(s) / L->unit_bytes;
	if (need > cap_units)
		return nd_errf(err, -EINVAL,
			       "train.amplify: %d copies need %llu MiB of flash, the drive holds "
			       "%llu MiB (raise ssd.blocks or lower train.amplify)",
			       amplify, (unsigned long long)(need * L->unit_bytes >> 20),
			       (unsigned long long)(ssd_capacity_bytes(s) >> 20));
	if (train_chunks > UINT32_MAX)
		return nd_errf(err, -EINVAL, "train.amplify: too many chunks");
	/* Chunk-aligned regions: training chunks, then test chunks. */
	ssd_write_functional(s, 0, need);
	int rc = ssd_status(s, err);   /* out of space (GC could not keep up) */
	if (rc)
		return rc;
	L->chunk = make_chunks(L, s, 0, L->n_slots, &L->n_chunks);
	L->n_test = n_test;
	L->test_chunk = make_chunks(L, s, train_chunks * L->chunk_units, n_test,
				    &L->n_test_chunks);
	L->chan_first = xcalloc((size_t)L->channels + 1, sizeof *L->chan_first);
	L->chan_list = xmalloc((L->n_chunks ? L->n_chunks : 1) * sizeof *L->chan_list);
	for (uint32_t i = 0; i < L->n_chunks; i++)
		L->chan_first[L->chunk[i].chan + 1]++;
	for (int c = 0; c < L->channels; c++)
		L->chan_first[c + 1] += L->chan_first[c];
	uint32_t *fill = xcalloc((size_t)L->channels, sizeof *fill);
	for (uint32_t i = 0; i < L->n_chunks; i++) {
		int c = L->chunk[i].chan;
		L->chan_list[L->chan_first[c] + fill[c]++] = i;
	}
	free(fill);
	return 0;
}

void ndp_layout_free(struct ndp_layout *L)
{
	free(L->chunk);
	free(L->test_chunk);
	free(L->chan_first);
	free(L->chan_list);
	memset(L, 0, sizeof *L);
}

/* --------------------------------------------------------------- streams */

void ndp_stream_init(struct ndp_stream *st, const struct ndp_layout *L,
		     int worker, int batch, uint64_t seed)
{
	memset(st, 0, sizeof *st);
	st->L = L;
	st->seed = seed;
	st->worker = worker;
	st->batch = batch;
	if (worker == NDP_WORKER_HOST) {
		st->n_chunks = L->n_chunks;
		st->all = xmalloc((st->n_chunks ? st->n_chunks : 1) * sizeof *st->all);
		for (uint32_t i = 0; i < st->n_chunks; i++)
			st->all[i] = i;
		st->chunks = st->all;
	} else {
		st->n_chunks = L->chan_first[worker + 1] - L->chan_first[worker];
		st->chunks = L->chan_list + L->chan_first[worker];
	}
	st->order = xmalloc((st->n_chunks ? st->n_chunks : 1) * sizeof *st->order);
	st->cum = xmalloc(((size_t)st->n_chunks + 1) * sizeof *st->cum);
	st->n_samples = 0;
	for (uint32_t i = 0; i < st->n_chunks; i++)
		st->n_samples += L->chunk[st->chunks[i]].n_samples;
	st->n_batches = (uint32_t)nd_div_ceil(st->n_samples, (uint64_t)batch);
	st->epoch = -1;
}

void ndp_stream_fini(struct ndp_stream *st)
{
	free(st->all);
	free(st->order);
	free(st->cum);
	memset(st, 0, sizeof *st);
}

void ndp_stream_epoch(struct ndp_stream *st, int epoch)
{
	struct rng r;
	rng_seed(&r, st->seed, ((uint64_t)0x5eed << 40) | ((uint64_t)(uint32_t)epoch << 16) |
		 (uint64_t)st->worker);
	memcpy(st->order, st->chunks, st->n_chunks * sizeof *st->order);
	for (uint32_t i = st->n_chunks; i > 1; i--) {
		uint32_t j = (uint32_t)rng_below(&r, i);
		uint32_t t = st->order[i - 1];
		st->order[i - 1] = st->order[j];
		st->order[j] = t;
	}
	st->cum[0] = 0;
	for (uint32_t p = 0; p < st->n_chunks; p++)
		st->cum[p + 1] = st->cum[p] + st->L->chunk[st->order[p]].n_samples;
	st->epoch = epoch;
}

void ndp_stream_batch(const struct ndp_stream *st, uint32_t k, uint64_t *s0,
		      uint64_t *s1)
{
	*s0 = (uint64_t)k * (uint64_t)st->batch;
	*s1 = nd_min_u64(*s0 + (uint64_t)st->batch, st->n_samples);
}

uint32_t ndp_stream_pos(const struct ndp_stream *st, uint64_t i)
{
	/* Largest p with cum[p] <= i. */
	uint32_t lo = 0, hi = st->n_chunks;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (st->cum[mid] <= i)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

uint64_t ndp_stream_slot(const struct ndp_stream *st, uint64_t i)
{
	uint32_t p = ndp_stream_pos(st, i);
	return st->L->chunk[st->order[p]].slot + (i - st->cum[p]);
}

/* --------------------------------------------------------------- result */

void ndp_result_free(struct ndp_result *r)
{
	free(r->params);
	free(r->worker_params);
	free(r->pt);
	free(r->epoch_end_ns);
	free(r->epoch_read_bytes);
	memset(r, 0, sizeof *r);
}

void ndp_result_point(struct ndp_result *r, const struct ndp_point *p)
{
	if (r->npt == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->pt = xrealloc(r->pt, (size_t)r->cap * sizeof *r->pt);
	}
	r->pt[r->npt++] = *p;
}

void ndp_result_target(struct ndp_result *r, double target)
{
	r->target_reached = 0;
	r->t_target_ns = 0;
	r->e_target_j = 0;
	for (int i = 0; i < r->npt; i++) {
		if (r->pt[i].acc >= target) {
			r->target_reached = 1;
			r->t_target_ns = r->pt[i].t_ns;
			r->e_target_j = r->pt[i].energy_j;
			return;
		}
	}
}

struct cJSON *ndp_result_metrics(const struct ndp_result *r)
{
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "where", r->where);
	cJSON_AddStringToObject(m, "algo", r->algo);
	cJSON_AddStringToObject(m, "model", r->model);
	rep_add_u64(m, "channels", (uint64_t)r->channels);
	rep_add_u64(m, "params", r->n_params);
	rep_add_dbl(m, "final_accuracy", r->final_acc);
	rep_add_dbl(m, "time_s", (double)r->t_end_ns * 1e-9);
	cJSON *tg = cJSON_AddObjectToObject(m, "target");
	cJSON_AddBoolToObject(tg, "reached", r->target_reached);
	if (r->target_reached) {
		rep_add_dbl(tg, "time_s", (double)r->t_target_ns * 1e-9);
		rep_add_dbl(tg, "energy_j", r->e_target_j);
	}
	cJSON *ep = cJSON_AddArrayToObject(m, "epochs");
	for (int e = 0; e < r->epochs; e++) {
		cJSON *o = cJSON_CreateObject();
		rep_add_u64(o, "epoch", (uint64_t)e + 1);
		rep_add_dbl(o, "end_s", (double)r->epoch_end_ns[e] * 1e-9);
		rep_add_u64(o, "read_bytes", r->epoch_read_bytes[e]);
		cJSON_AddItemToArray(ep, o);
	}
	rep_add_u64(m, "samples", r->samples);
	rep_add_u64(m, "data_bytes", r->data_bytes);
	cJSON *b = cJSON_AddObjectToObject(m, "bytes");
	rep_add_u64(b, "host_link", r->host_link_bytes);
	rep_add_u64(b, "flash_internal_read", r->st.internal_read_bytes);
	rep_add_u64(b, "channel", r->st.channel_bytes);
	rep_add_u64(b, "unit_master_bus", r->bus_bytes);
	rep_add_u64(b, "ssd_dram_spill", r->spill_bytes);
	rep_add_u64(b, "host_dram", r->host_dram_bytes);
	cJSON *sj = cJSON_AddObjectToObject(m, "ssd");
	rep_add_u64(sj, "flash_read_pages", r->st.flash_read_pages);
	rep_add_u64(sj, "host_read_units", r->st.host_read_units);
	if (!strcmp(r->where, "host")) {
		cJSON *pc = cJSON_AddObjectToObject(m, "page_cache");
		rep_add_u64(pc, "capacity_units", r->cache_units);
		rep_add_u64(pc, "hit_units", r->cache_hit_units);
		rep_add_u64(pc, "miss_units", r->cache_miss_units);
		rep_add_u64(pc, "ios", r->io_count);
	}
	rep_add_dbl(m, "compute_utilization", r->unit_util);
	if (!strcmp(r->where, "storage"))
		rep_add_dbl(m, "master_utilization", r->master_util);
	cJSON_AddItemToObject(m, "energy_j", en_to_json(&r->led));
	if (r->infer_done) {
		cJSON *inf = cJSON_AddObjectToObject(m, "inference_in_storage");
		rep_add_dbl(inf, "accuracy", r->infer_acc);
		rep_add_dbl(inf, "time_s", (double)r->infer_ns * 1e-9);
		rep_add_dbl(inf, "energy_j", r->infer_j);
		rep_add_u64(inf, "host_link_bytes", r->infer_link_bytes);
		rep_add_u64(inf, "flash_read_bytes", r->infer_flash_bytes);
	}
	cJSON *c = cJSON_AddArrayToObject(m, "curve");
	for (int i = 0; i < r->npt; i++) {
		cJSON *o = cJSON_CreateObject();
		rep_add_dbl(o, "t_s", (double)r->pt[i].t_ns * 1e-9);
		rep_add_dbl(o, "epochs", r->pt[i].epochs);
		rep_add_dbl(o, "accuracy", r->pt[i].acc);
		rep_add_dbl(o, "energy_j", r->pt[i].energy_j);
		cJSON_AddItemToArray(c, o);
	}
	return m;
}

void ndp_result_print(const struct ndp_result *r, FILE *out)
{
	fprintf(out, "  %s training, %s, %s model (%zu parameters), %d channel(s)\n",
		r->where, r->algo, r->model, r->n_params, r->channels);
	fprintf(out, "  final test accuracy   %.2f %%   after %.4f s simulated (%d epochs, %llu samples)\n",
		100.0 * r->final_acc, (double)r->t_end_ns * 1e-9, r->epochs,
		(unsigned long long)r->samples);
	if (r->target_reached)
		fprintf(out, "  target reached        at %.4f s, %.4f J\n",
			(double)r->t_target_ns * 1e-9, r->e_target_j);
	else
		fprintf(out, "  target                not reached\n");
	for (int e = 0; e < r->epochs; e++)
		fprintf(out, "  epoch %-3d ends at     %.4f s, read %.1f MB\n", e + 1,
			(double)r->epoch_end_ns[e] * 1e-9, (double)r->epoch_read_bytes[e] * 1e-6);
	fprintf(out, "  bytes: host link %.1f MB, flash->units %.1f MB, unit<->master %.1f MB, "
		"DRAM spill %.1f MB, host DRAM %.1f MB\n",
		(double)r->host_link_bytes * 1e-6, (double)r->st.internal_read_bytes * 1e-6,
		(double)r->bus_bytes * 1e-6, (double)r->spill_bytes * 1e-6,
		(double)r->host_dram_bytes * 1e-6);
	if (!strcmp(r->where, "host"))
		fprintf(out, "  page cache: %llu units, %llu hits, %llu misses, %llu I/Os\n",
			(unsigned long long)r->cache_units, (unsigned long long)r->cache_hit_units,
			(unsigned long long)r->cache_miss_units, (unsigned long long)r->io_count);
	fprintf(out, "  compute utilization %.1f %%", 100.0 * r->unit_util);
	if (!strcmp(r->where, "storage"))
		fprintf(out, ", master %.1f %%", 100.0 * r->master_util);
	fprintf(out, "\n  energy %.4f J:", en_total_j(&r->led));
	const char *seen[EN_MAX_ENTRIES];
	int ns = 0;
	for (int i = 0; i < r->led.n; i++) {
		const char *c = r->led.e[i].component;
		int dup = 0;
		for (int k = 0; k < ns; k++)
			dup |= !strcmp(seen[k], c);
		if (dup)
			continue;
		seen[ns++] = c;
		fprintf(out, " %s %.4f", c, en_component_j(&r->led, c));
	}
	fprintf(out, "\n");
	if (r->infer_done)
		fprintf(out, "  inference in storage: accuracy %.2f %%, %.4f s, %.4f J, %llu bytes over "
			"the host link\n", 100.0 * r->infer_acc, (double)r->infer_ns * 1e-9,
			r->infer_j, (unsigned long long)r->infer_link_bytes);
	fprintf(out, "  wall %.2f s, %llu events\n", r->wall_s, (unsigned long long)r->events);
}

int ndp_result_write_curve(const struct ndp_result *r, const char *dir,
			   const char *name, struct nd_err *err)
{
	struct rep_csv *c = rep_csv_new("t_s,epochs,accuracy,loss,energy_j");
	for (int i = 0; i < r->npt; i++)
		rep_csv_row(c, "%.9f,%.6f,%.6f,%.6f,%.9g", (double)r->pt[i].t_ns * 1e-9,
			    r->pt[i].epochs, r->pt[i].acc, r->pt[i].loss, r->pt[i].energy_j);
	int rc = rep_csv_write(c, dir, name, err);
	rep_csv_free(c);
	return rc;
}

/* --------------------------------------------------------- value record */

void ndp_value_free(struct ndp_value *v)
{
	if (!v)
		return;
	free(v->n);
	free(v->ops);
	free(v->loss);
	free(v->acc);
	free(v->params);
	memset(v, 0, sizeof *v);
}

void ndp_value_set_step(struct ndp_value *v, uint64_t i, uint32_t n, uint64_t ops, double loss)
{
	if (i >= v->cap_step) {
		uint64_t cap = v->cap_step ? v->cap_step : 256;
		while (cap <= i)
			cap *= 2;
		v->n = xrealloc(v->n, cap * sizeof *v->n);
		v->ops = xrealloc(v->ops, cap * sizeof *v->ops);
		v->loss = xrealloc(v->loss, cap * sizeof *v->loss);
		size_t k = (size_t)(cap - v->cap_step);
		memset(v->n + v->cap_step, 0, k * sizeof *v->n);
		memset(v->ops + v->cap_step, 0, k * sizeof *v->ops);
		memset(v->loss + v->cap_step, 0, k * sizeof *v->loss);
		v->cap_step = cap;
	}
	v->n[i] = n;
	v->ops[i] = ops;
	v->loss[i] = loss;
	if (i >= v->nstep)
		v->nstep = i + 1;
}

void ndp_value_push_acc(struct ndp_value *v, double acc)
{
	if (v->nacc == v->cap_acc) {
		v->cap_acc = v->cap_acc ? 2 * v->cap_acc : 64;
		v->acc = xrealloc(v->acc, v->cap_acc * sizeof *v->acc);
	}
	v->acc[v->nacc++] = acc;
}

void ndp_value_set_params(struct ndp_value *v, const float *params, size_t n)
{
	free(v->params);
	v->params = xmalloc((n ? n : 1) * sizeof *v->params);
	memcpy(v->params, params, n * sizeof *params);
	v->n_params = n;
}

/* --------------------------------------------------------------- replay */

int ndp_layout_plan(struct ndp_layout *L, const struct ssd_params *sp, uint32_t n_train,
		    int amplify, uint64_t seed, struct nd_err *err)
{
	memset(L, 0, sizeof *L);
	/* Placement is functional: an FTL-only drive (no event queue, its own
	 * ledger) places the data exactly as a timed one does. */
	ssd *s = NULL;
	int rc = ssd_create(sp, NULL, NULL, seed, &s, err);
	if (!rc)
		rc = ndp_layout_place(L, s, sp, n_train, amplify, 0, err);
	ssd_destroy(s);
	return rc;
}

/* ---------------------------------------------------------------- step */

void ndp_step_init(struct ndp_step *S, const struct wl_mlp *m, const struct wl_dataset *set,
		   const struct ndp_train_params *tp, int zero_skip, const struct wl_numfmt *fmt,
		   int b, uint64_t seed)
{
	memset(S, 0, sizeof *S);
	S->set = set;
	S->tp = tp;
	S->aug = (struct wl_aug){ seed, tp->aug_shift, (float)tp->aug_noise };
	wl_sgd_init(&S->sgd, m, zero_skip, fmt, seed);
	size_t np = m->n_params;
	S->params = xmalloc(np * sizeof *S->params);
	S->grad = xmalloc(np * sizeof *S->grad);
	S->sum = xmalloc(np * sizeof *S->sum);
	S->x = xmalloc((size_t)b * 784 * sizeof *S->x);
	S->y = xmalloc((size_t)b);
	S->ws = wl_mlp_ws_create(m, b);
	wl_sgd_init_params(&S->sgd, S->params, seed);
}

void ndp_step_free(struct ndp_step *S)
{
	free(S->params);
	free(S->grad);
	free(S->sum);
	free(S->x);
	free(S->y);
	wl_mlp_ws_destroy(S->ws);
	memset(S, 0, sizeof *S);
}

uint64_t ndp_step_samples(const struct ndp_stream *const *st, int G, uint32_t k)
{
	uint64_t n = 0;
	for (int g = 0; g < G; g++)
		if (st[g]->n_batches > k) {
			uint64_t s0, s1;
			ndp_stream_batch(st[g], k, &s0, &s1);
			n += s1 - s0;
		}
	return n;
}

uint64_t ndp_step_run(struct ndp_step *S, const struct ndp_stream *const *st, int G, uint32_t k,
		      int epoch, double *loss, struct wl_sgd_count *cnt)
{
	int part = 0;
	uint64_t n_all = 0;
	for (int g = 0; g < G; g++) {
		if (st[g]->n_batches <= k)
			continue;
		uint64_t s0, s1;
		ndp_stream_batch(st[g], k, &s0, &s1);
		int n = (int)(s1 - s0);
		n_all += (uint64_t)n;
		double t0 = S->time_asm ? nd_wall_s() : 0;
		for (int i = 0; i < n; i++)
			wl_sample_x(S->set, ndp_stream_slot(st[g], s0 + (uint64_t)i), &S->aug,
				    S->x + (size_t)i * 784, &S->y[i]);
		if (S->time_asm)
			S->asm_s += nd_wall_s() - t0;
		*loss += wl_sgd_grad(&S->sgd, S->params, S->x, S->y, n, S->grad, S->ws, cnt);
		wl_sgd_sum(&S->sgd, S->sum, S->grad, !part, cnt);
		part++;
	}
	if (part) {
		wl_sgd_mean(&S->sgd, S->sum, part, cnt);
		wl_sgd_update(&S->sgd, S->params, S->sum, ndp_lr(S->tp, epoch, (double)n_all), cnt);
	}
	return n_all;
}

/* --------------------------------------------------------------- replay */

int ndp_replay_init(struct ndp_replay *R, const struct ndp_train_params *tp,
		    const struct ssd_params *sp, const struct wl_dataset *train, int zero_skip,
		    const struct wl_numfmt *fmt, uint64_t seed, struct nd_err *err)
{
	memset(R, 0, sizeof *R);
	R->tp = tp;
	int rc = ndp_model_setup(tp, &R->m, err);
	if (!rc)
		rc = ndp_layout_plan(&R->L, sp, train->n, tp->amplify, seed, err);
	if (rc) {
		ndp_layout_free(&R->L);
		return rc;
	}
	R->G = sp->channels;
	R->b = tp->batch;
	R->st = xcalloc((size_t)R->G, sizeof *R->st);
	R->stp = xcalloc((size_t)R->G, sizeof *R->stp);
	for (int g = 0; g < R->G; g++) {
		ndp_stream_init(&R->st[g], &R->L, g, R->b, seed);
		R->stp[g] = &R->st[g];
		if (R->st[g].n_batches > R->S)
			R->S = R->st[g].n_batches;
	}
	ndp_step_init(&R->step, &R->m, train, tp, zero_skip, fmt, R->b, seed);
	return 0;
}

void ndp_replay_free(struct ndp_replay *R)
{
	for (int g = 0; R->st && g < R->G; g++)
		ndp_stream_fini(&R->st[g]);
	free(R->st);
	free(R->stp);
	ndp_step_free(&R->step);
	ndp_layout_free(&R->L);
	memset(R, 0, sizeof *R);
}

void ndp_replay_epoch(struct ndp_replay *R, int epoch)
{
	for (int g = 0; g < R->G; g++)
		ndp_stream_epoch(&R->st[g], epoch);
}

uint64_t ndp_replay_step(struct ndp_replay *R, uint32_t k, int epoch, double *loss,
			 struct wl_sgd_count *c)
{
	return ndp_step_run(&R->step, R->stp, R->G, k, epoch, loss, c);
}
