#include "ssdsim/run.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/progress.h"
#include "core/report.h"
#include "core/util.h"

/* CPU seconds of the calling thread (a sweep runs points in parallel). */
static double cpu_s(void)
{
	struct timespec t;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t))
		return 0;
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

struct host_req {
	struct ssd_req r;
	struct host_req *next_free;
};

struct driver {
	const struct ssd_run_opts *o;
	struct ssd_run_result *res;
	evq *q;
	ssd *s;
	struct wl_gen gen;
	size_t trace_next;
	uint64_t outstanding;
	uint64_t issued, done_n, total;
	int stop_issuing;
	struct evq_event arrival;
	struct host_req *free_list;
	struct host_req **chunks;
	size_t nchunks;
	struct progress prog;
};

static struct host_req *req_get(struct driver *d)
{
	if (!d->free_list) {
		size_t n = 256;
		struct host_req *c = xcalloc(n, sizeof *c);
		d->chunks = xrealloc(d->chunks, (d->nchunks + 1) * sizeof *d->chunks);
		d->chunks[d->nchunks++] = c;
		for (size_t i = 0; i < n; i++) {
			c[i].next_free = d->free_list;
			d->free_list = &c[i];
		}
	}
	struct host_req *h = d->free_list;
	d->free_list = h->next_free;
	return h;
}

static void on_done(ssd *s, struct ssd_req *r);

/* Next request from the trace or the generator; 0 when there is none. */
static int next_io(struct driver *d, struct wl_ioreq *io)
{
	if (d->stop_issuing)
		return 0;
	if (d->o->wl->duration_ns && evq_now(d->q) >= d->o->wl->duration_ns)
		return 0;
	if (d->o->trace) {
		if (d->trace_next >= d->o->trace->n)
			return 0;
		*io = d->o->trace->req[d->trace_next++];
		return 1;
	}
	return wl_gen_next(&d->gen, io);
}

static void submit(struct driver *d, const struct wl_ioreq *io)
{
	struct host_req *h = req_get(d);
	memset(&h->r, 0, sizeof h->r);
	h->r.off_bytes = io->off_bytes;
	h->r.len_bytes = io->len_bytes;
	h->r.is_write = io->is_write;
	h->r.path = d->o->internal ? SSD_PATH_INTERNAL : SSD_PATH_HOST;
	h->r.done = on_done;
	h->r.arg = d;
	if (d->issued == 0)
		d->res->t_first_ns = evq_now(d->q);
	d->issued++;
	d->outstanding++;
	int rc = ssd_submit(d->s, &h->r);
	ND_ASSERT(rc == 0);
}

static int closed_loop(const struct driver *d)
{
	if (d->o->trace)
		return d->o->wl->replay == WL_REPLAY_CLOSED;
	return d->o->wl->rate_iops <= 0;
}

static void on_arrival(evq *q, struct evq_event *ev)
{
	struct driver *d = container_of(ev, struct driver, arrival);
	struct wl_ioreq io;
	if (!next_io(d, &io))
		return;
	submit(d, &io);
	uint64_t t;
	if (d->o->trace) {
		if (d->trace_next >= d->o->trace->n)
			return;
		t = (uint64_t)((double)d->o->trace->req[d->trace_next].t_ns * d->o->wl->trace_scale);
		if (t < evq_now(q))
			t = evq_now(q);
	} else {
		t = evq_now(q) + wl_gen_gap_ns(&d->gen);
	}
	int rc = evq_schedule(q, &d->arrival, t, on_arrival);
	ND_ASSERT(rc == 0);
}

static void on_done(ssd *s, struct ssd_req *r)
{
	struct driver *d = r->arg;
	struct ssd_run_result *res = d->res;
	int w = r->is_write ? 1 : 0;
	hist_record(&res->lat[w], r->t_done_ns - r->t_submit_ns);
	res->n[w]++;
	res->bytes[w] += r->len_bytes;
	res->t_last_ns = r->t_done_ns;
	d->outstanding--;
	d->done_n++;
	if ((d->done_n & 0xffff) == 0)
		progress_update(&d->prog, d->done_n);
	struct host_req *h = container_of(r, struct host_req, r);
	h->next_free = d->free_list;
	d->free_list = h;
	if (closed_loop(d)) {
		struct wl_ioreq io;
		if (next_io(d, &io))
			submit(d, &io);
	}
	(void)s;
}

/* Open-addressing set of map units (stored + 1; 0 is empty). */
struct uset {
	uint64_t *v;
	uint64_t mask;
};

static int uset_add(struct uset *u, uint64_t x)
{
	uint64_t i = (x * 0x9e3779b97f4a7c15ull) >> 20;
	for (;; i++) {
		uint64_t *e = &u->v[i & u->mask];
		if (*e == x + 1)
			return 0;
		if (!*e) {
			*e = x + 1;
			return 1;
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Trace-aware preconditioning: every map unit the trace reads before it
 * first writes it, and that is not mapped already, is written functionally
 * (in unit order, packed into full programs) before the replay.  Units are
 * the ones ssd_submit() will touch (offsets wrap at the capacity).  Returns
 * the number written. */
static uint64_t precondition_trace(ssd *s, const struct wl_trace *t)
{
	uint64_t ub = ssd_unit_bytes(s), cap = ssd_capacity_bytes(s), n_lpn = cap / ub;
	uint64_t total = 0;
	for (size_t i = 0; i < t->n; i++) {
		uint64_t off = t->req[i].off_bytes % cap;
		uint64_t n = (off + t->req[i].len_bytes - 1) / ub - off / ub + 1;
		total += n < n_lpn ? n : n_lpn;
	}
	uint64_t size = 16;
	while (size < 2 * total)
		size *= 2;
	struct uset seen = { xcalloc(size, sizeof(uint64_t)), size - 1 };
	uint64_t *todo = NULL;
	size_t ntodo = 0, cap_todo = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct wl_ioreq *io = &t->req[i];
		uint64_t off = io->off_bytes % cap;
		uint64_t first = off / ub, last = (off + io->len_bytes - 1) / ub;
		if (last - first + 1 > n_lpn)
			last = first + n_lpn - 1;
		for (uint64_t u = first; u <= last; u++) {
			uint64_t lpn = u % n_lpn;
			if (!uset_add(&seen, lpn) || io->is_write || ssd_unit_channel(s, lpn) >= 0)
				continue;
			if (ntodo == cap_todo) {
				cap_todo = cap_todo ? 2 * cap_todo : 1024;
				todo = xrealloc(todo, cap_todo * sizeof *todo);
			}
			todo[ntodo++] = lpn;
		}
	}
	free(seen.v);
	if (ntodo) {
		qsort(todo, ntodo, sizeof *todo, cmp_u64);
		ssd_write_functional_list(s, todo, ntodo);
	}
	free(todo);
	return ntodo;
}

int ssd_run(const struct ssd_run_opts *o, struct ssd_run_result *res,
	    struct nd_err *err)
{
	memset(res, 0, sizeof *res);
	hist_init(&res->lat[0]);
	hist_init(&res->lat[1]);
	en_init(&res->led);
	struct driver d;
	memset(&d, 0, sizeof d);
	d.o = o;
	d.res = res;
	int rc = 0;
	double t0 = nd_wall_s(), c0 = cpu_s();
	evq_create(1024, &d.q);
	struct ssd_params sp = *o->ssd;
	sp.verify = sp.verify || o->verify;
	if ((rc = ssd_create(&sp, d.q, &res->led, o->seed, &d.s, err)))
		goto out;
	res->capacity_bytes = ssd_capacity_bytes(d.s);
	if (o->trace && sp.pre_trace) {
		res->pre_trace_units = precondition_trace(d.s, o->trace);
		if ((rc = ssd_status(d.s, err)))
			goto out;
		ssd_reset_stats(d.s);
	}
	if (!o->trace && (rc = wl_gen_init(&d.gen, o->wl, res->capacity_bytes, o->seed, err)))
		goto out;
	d.total = o->trace ? o->trace->n : o->wl->count;
	progress_begin(&d.prog, "ssd: requests", d.total);
	if (!o->progress)
		d.prog.enabled = 0;

	double t_sim0 = nd_wall_s(), c_sim0 = cpu_s();
	if (closed_loop(&d)) {
		struct wl_ioreq io;
		for (int i = 0; i < o->wl->qd && next_io(&d, &io); i++)
			submit(&d, &io);
	} else {
		uint64_t t0_ns = o->trace ? (uint64_t)((double)o->trace->req[0].t_ns * o->wl->trace_scale) : 0;
		evq_schedule(d.q, &d.arrival, t0_ns, on_arrival);
	}
	res->events = evq_run(d.q, UINT64_MAX);
	res->wall_sim_s = nd_wall_s() - t_sim0;
	res->cpu_sim_s = cpu_s() - c_sim0;
	progress_end(&d.prog);
	ND_ASSERT(d.outstanding == 0);
	/* Flush the write buffer so WAF and the mapping cover every write. */
	ssd_drain(d.s);
	if ((rc = ssd_status(d.s, err)))
		goto out;
	res->t_drain_ns = evq_now(d.q);
	ssd_account_static(d.s, res->t_drain_ns);
	ssd_power_get(d.s, &res->pw);
	ssd_get_stats(d.s, &res->st);
	ssd_nand_get(d.s, &res->st.nand);
	res->n_channels = o->ssd->channels;
	res->n_dies = ssd_n_dies(d.s);
	res->chan_util = xcalloc((size_t)res->n_channels, sizeof(double));
	res->die_util = xcalloc((size_t)res->n_dies, sizeof(double));
	double span = (double)(res->t_drain_ns ? res->t_drain_ns : 1);
	for (int c = 0; c < res->n_channels; c++)
		res->chan_util[c] = (double)ssd_channel_busy_ns(d.s, c) / span;
	for (int i = 0; i < res->n_dies; i++)
		res->die_util[i] = (double)ssd_die_busy_ns(d.s, i) / span;
	res->link_bytes_per_s = ssd_link_bytes_per_s(o->ssd);
	res->channel_bytes_per_s = ssd_channel_bytes_per_s(o->ssd);
	if (sp.verify) {
		if ((rc = ssd_verify(d.s, err)))
			goto out;
		res->verified = 1;
	}
out:
	res->wall_s = nd_wall_s() - t0;
	res->cpu_s = cpu_s() - c0;
	ssd_destroy(d.s);
	evq_destroy(d.q);
	for (size_t i = 0; i < d.nchunks; i++)
		free(d.chunks[i]);
	free(d.chunks);
	return rc;
}

int ssd_run_read_window(const struct ssd_params *sp, uint64_t bytes, int internal,
			int qd, uint64_t seed, struct ssd_run_result *r,
			struct nd_err *err)
{
	struct ssd_params p = *sp;
	p.verify = 0;
	struct wl_params w;
	memset(&w, 0, sizeof w);
	w.pattern = WL_SEQ;
	w.read_ratio = 1.0;
	w.bs_bytes = 131072;
	w.qd = qd;
	w.count = nd_div_ceil(bytes, (uint64_t)w.bs_bytes);
	w.trace_scale = 1.0;
	/* Fill exactly the window read (2 % slack for the FTL's reserve). */
	double cap = (double)p.channels * p.ways * p.dies * p.planes * p.blocks *
		     p.pages * p.page_bytes / (1.0 + p.op);
	w.range_frac = fmin(1.0, (double)w.count * w.bs_bytes / cap * 1.02);
	p.pre_fill = w.range_frac;
	p.pre_overwrite = 0;
	struct ssd_run_opts o = { .ssd = &p, .wl = &w, .seed = seed, .internal = internal };
	return ssd_run(&o, r, err);
}

void ssd_run_result_free(struct ssd_run_result *r)
{
	free(r->chan_util);
	free(r->die_util);
	r->chan_util = r->die_util = NULL;
}

static double interval_s(const struct ssd_run_result *r)
{
	uint64_t t = r->t_last_ns > r->t_first_ns ? r->t_last_ns - r->t_first_ns : 0;
	return t ? (double)t * 1e-9 : 0;
}

static cJSON *dir_json(const struct ssd_run_result *r, int w)
{
	cJSON *o = cJSON_CreateObject();
	double sec = interval_s(r);
	const struct hist *h = &r->lat[w];
	rep_add_u64(o, "count", r->n[w]);
	rep_add_u64(o, "bytes", r->bytes[w]);
	rep_add_dbl(o, "iops", sec > 0 ? (double)r->n[w] / sec : 0);
	rep_add_dbl(o, "mb_s", sec > 0 ? (double)r->bytes[w] / sec / 1e6 : 0);
	cJSON *l = cJSON_AddObjectToObject(o, "lat_ns");
	rep_add_dbl(l, "mean", hist_mean(h));
	rep_add_u64(l, "min", h->count ? h->min : 0);
	rep_add_u64(l, "p50", hist_quantile(h, 0.50));
	rep_add_u64(l, "p90", hist_quantile(h, 0.90));
	rep_add_u64(l, "p99", hist_quantile(h, 0.99));
	rep_add_u64(l, "p999", hist_quantile(h, 0.999));
	rep_add_u64(l, "max", h->max);
	return o;
}

static double mean_of(const double *v, int n, double *mx)
{
	double s = 0;
	*mx = 0;
	for (int i = 0; i < n; i++) {
		s += v[i];
		if (v[i] > *mx)
			*mx = v[i];
	}
	return n ? s / n : 0;
}

struct cJSON *ssd_run_metrics(const struct ssd_run_result *r)
{
	cJSON *m = cJSON_CreateObject();
	rep_add_u64(m, "requests", r->n[0] + r->n[1]);
	rep_add_u64(m, "sim_time_ns", r->t_last_ns);
	rep_add_u64(m, "measured_ns", r->t_last_ns - r->t_first_ns);
	rep_add_u64(m, "drain_end_ns", r->t_drain_ns);
	rep_add_u64(m, "capacity_bytes", r->capacity_bytes);
	/* Only when not the usual 32 (keeps reports of other drives as before). */
	if (r->st.map_entry_bits != 32)
		rep_add_u64(m, "map_entry_bits", r->st.map_entry_bits);
	cJSON_AddItemToObject(m, "read", dir_json(r, 0));
	cJSON_AddItemToObject(m, "write", dir_json(r, 1));
	rep_add_dbl(m, "waf", r->st.waf);
	rep_add_u64(m, "gc_count", r->st.gc_count);
	cJSON *e = cJSON_AddObjectToObject(m, "erase_count");
	rep_add_u64(e, "min", r->st.erase_min);
	rep_add_dbl(e, "mean", r->st.erase_mean);
	rep_add_u64(e, "max", r->st.erase_max);
	if (r->st.erase_hist_n) {   /* wear levelling on */
		rep_add_u64(e, "wl_migrations", r->st.wl_migrations);
		rep_add_u64(e, "hist_bin_erases", r->st.erase_hist_width);
		cJSON *h = cJSON_AddArrayToObject(e, "hist_blocks");
		for (uint32_t k = 0; k < r->st.erase_hist_n; k++)
			cJSON_AddItemToArray(h, cJSON_CreateNumber((double)r->st.erase_hist[k]));
	}
	cJSON *f = cJSON_AddObjectToObject(m, "flash");
	rep_add_u64(f, "read_pages", r->st.flash_read_pages);
	rep_add_u64(f, "program_pages", r->st.flash_prog_pages);
	rep_add_u64(f, "erases", r->st.flash_erases);
	rep_add_u64(f, "host_write_units", r->st.host_write_units);
	rep_add_u64(f, "programmed_units", r->st.prog_units_written);
	rep_add_u64(f, "gc_moved_units", r->st.gc_units_moved);
	rep_add_u64(f, "padding_units", r->st.pad_units);
	rep_add_u64(f, "buffer_read_hits", r->st.buffer_read_hits);
	rep_add_u64(f, "unmapped_reads", r->st.unmapped_reads);
	if (r->pre_trace_units)
		rep_add_u64(f, "precondition_trace_units", r->pre_trace_units);
	if (r->st.mapping == SSD_MAP_CACHED) {
		/* Only with ftl.mapping=cached (reports of the ideal map as before). */
		cJSON *c = cJSON_AddObjectToObject(m, "cmt");
		uint64_t look = r->st.cmt_hits + r->st.cmt_misses;
		rep_add_u64(c, "entries", r->st.cmt_entries);
		rep_add_u64(c, "hits", r->st.cmt_hits);
		rep_add_u64(c, "misses", r->st.cmt_misses);
		rep_add_dbl(c, "hit_rate", look ? (double)r->st.cmt_hits / (double)look : 0.0);
		rep_add_u64(c, "translation_read_pages", r->st.xlate_read_pages);
		rep_add_u64(c, "translation_program_pages", r->st.xlate_prog_pages);
	}
	if (r->st.slc_on) {
		/* Only with ssd.slc.enable (reports without the cache as before). */
		cJSON *c = cJSON_AddObjectToObject(m, "slc");
		rep_add_u64(c, "slc_program_pages", r->st.slc_prog_pages);
		rep_add_u64(c, "tlc_direct_program_pages", r->st.slc_direct_pages);
		rep_add_u64(c, "folded_pages", r->st.slc_fold_pages);
		rep_add_u64(c, "folded_units", r->st.slc_fold_units);
		rep_add_u64(c, "slc_read_pages", r->st.slc_read_pages);
		rep_add_u64(c, "cache_pages_end", r->st.slc_cap_pages);
		rep_add_u64(c, "cached_pages_end", r->st.slc_cached_pages);
	}
	cJSON *b = cJSON_AddObjectToObject(m, "bytes_moved");
	rep_add_u64(b, "host_to_ssd", r->st.link_bytes_h2d);
	rep_add_u64(b, "ssd_to_host", r->st.link_bytes_d2h);
	rep_add_u64(b, "flash_channels", r->st.channel_bytes);
	cJSON *u = cJSON_AddObjectToObject(m, "utilization");
	double mx;
	rep_add_dbl(u, "channel_mean", mean_of(r->chan_util, r->n_channels, &mx));
	rep_add_dbl(u, "channel_max", mx);
	rep_add_dbl(u, "die_mean", mean_of(r->die_util, r->n_dies, &mx));
	rep_add_dbl(u, "die_max", mx);
	cJSON *ch = cJSON_AddArrayToObject(u, "channels");
	for (int c = 0; c < r->n_channels; c++)
		cJSON_AddItemToArray(ch, cJSON_CreateNumber(r->chan_util[c]));
	cJSON_AddItemToObject(m, "energy_j", en_to_json(&r->led));
	if (r->pw.enabled)
		cJSON_AddItemToObject(m, "power", ssd_power_json(&r->pw));
	cJSON *nand = ssd_nand_json(&r->st.nand);
	if (nand)   /* only with a nand.h feature on */
		cJSON_AddItemToObject(m, "nand", nand);
	if (r->verified)
		cJSON_AddStringToObject(m, "verify", "ok");
	return m;
}

static void print_dir(FILE *out, const char *name, const struct ssd_run_result *r, int w)
{
	const struct hist *h = &r->lat[w];
	double sec = interval_s(r);
	if (!r->n[w]) {
		fprintf(out, "  %-6s %10s\n", name, "-");
		return;
	}
	fprintf(out, "  %-6s %10llu %11.0f %9.1f %9.1f %9.1f %9.1f %9.1f %10.1f\n", name,
		(unsigned long long)r->n[w], (double)r->n[w] / sec,
		(double)r->bytes[w] / sec / 1e6, hist_mean(h) / 1e3,
		(double)hist_quantile(h, 0.5) / 1e3, (double)hist_quantile(h, 0.99) / 1e3,
		(double)hist_quantile(h, 0.999) / 1e3, (double)h->max / 1e3);
}

int ssd_run_unmapped_warning(const struct ssd_run_result *r, char *buf, size_t n)
{
	uint64_t reads = r->st.read_units;
	if (!r->st.unmapped_reads || r->st.unmapped_reads * 100 <= reads)
		return 0;
	snprintf(buf, n, "warning: %llu of %llu read map units (%.1f %%) hit unmapped space and "
		 "returned without touching flash, so read latencies are too low; precondition "
		 "the drive (--set ssd.precondition.fill=1, or for a trace "
		 "--set ssd.precondition.trace=true)",
		 (unsigned long long)r->st.unmapped_reads, (unsigned long long)reads,
		 100.0 * (double)r->st.unmapped_reads / (double)reads);
	return 1;
}

void ssd_run_print(const struct ssd_run_result *r, FILE *out)
{
	double mx;
	fprintf(out, "  %-6s %10s %11s %9s %9s %9s %9s %9s %10s\n", "", "requests",
		"IOPS", "MB/s", "mean us", "p50 us", "p99 us", "p99.9 us", "max us");
	print_dir(out, "read", r, 0);
	print_dir(out, "write", r, 1);
	fprintf(out, "\n  simulated time %.6f s (measured %.6f s, drained %.6f s)\n",
		(double)r->t_last_ns * 1e-9, interval_s(r), (double)r->t_drain_ns * 1e-9);
	fprintf(out, "  write amplification %.3f   GC runs %llu   erases min/mean/max %llu/%.2f/%llu\n",
		r->st.waf, (unsigned long long)r->st.gc_count,
		(unsigned long long)r->st.erase_min, r->st.erase_mean,
		(unsigned long long)r->st.erase_max);
	if (r->st.erase_hist_n)
		fprintf(out, "  wear levelling: erase spread %llu, %llu blocks migrated "
			"(histogram: erase_counts.csv)\n",
			(unsigned long long)(r->st.erase_max - r->st.erase_min),
			(unsigned long long)r->st.wl_migrations);
	double cm = mean_of(r->chan_util, r->n_channels, &mx);
	fprintf(out, "  channel utilisation mean %.1f %% max %.1f %%", 100 * cm, 100 * mx);
	cm = mean_of(r->die_util, r->n_dies, &mx);
	fprintf(out, "   die utilisation mean %.1f %% max %.1f %%\n", 100 * cm, 100 * mx);
	double tot = en_total_j(&r->led);
	fprintf(out, "  energy %.6f J:", tot);
	for (int i = 0; i < r->led.n; i++) {
		if (en_is_first_of_component(&r->led, i))
			fprintf(out, " %s %.4g J", r->led.e[i].component,
				en_component_j(&r->led, r->led.e[i].component));
	}
	fprintf(out, "\n");
	if (r->pre_trace_units)
		fprintf(out, "  trace preconditioning wrote %llu map units read before written\n",
			(unsigned long long)r->pre_trace_units);
	if (r->st.mapping == SSD_MAP_CACHED) {
		uint64_t look = r->st.cmt_hits + r->st.cmt_misses;
		fprintf(out, "  cached mapping table: %llu entries, hit rate %.2f %% (%llu hits, %llu "
			"misses); translation pages read %llu, programmed %llu\n",
			(unsigned long long)r->st.cmt_entries,
			look ? 100.0 * (double)r->st.cmt_hits / (double)look : 0.0,
			(unsigned long long)r->st.cmt_hits, (unsigned long long)r->st.cmt_misses,
			(unsigned long long)r->st.xlate_read_pages,
			(unsigned long long)r->st.xlate_prog_pages);
	}
	if (r->st.slc_on)
		fprintf(out, "  SLC cache: %llu pages programmed in SLC mode, %llu straight to TLC; "
			"%llu pages (%llu units) folded; %llu pages read from SLC\n",
			(unsigned long long)r->st.slc_prog_pages,
			(unsigned long long)r->st.slc_direct_pages,
			(unsigned long long)r->st.slc_fold_pages,
			(unsigned long long)r->st.slc_fold_units,
			(unsigned long long)r->st.slc_read_pages);
	if (r->st.map_entry_bits != 32)
		fprintf(out, "  %llu physical map units need %u-bit mapping entries\n",
			(unsigned long long)r->st.phys_units, r->st.map_entry_bits);
	if (r->pw.enabled)
		fprintf(out, "  drive power %.3f W average, cap %.2f W (PS%d%s); %llu flash ops and %llu "
			"commands held by the budget\n", r->pw.avg_w, r->pw.cap_w, r->pw.state,
			r->pw.throttle ? "" : ", not enforced", (unsigned long long)r->pw.held_ops,
			(unsigned long long)r->pw.held_cmds);
	if (r->st.nand.ecc != SSD_ECC_NONE)
		fprintf(out, "  NAND errors: RBER %.3g (model mean %.3g), %.3f retry steps per flash read, "
			"%llu soft-decoded and %llu uncorrectable codewords (%llu pages)\n",
			r->st.nand.rber_measured, r->st.nand.rber_model_mean,
			r->st.nand.flash_read_ops ? (double)r->st.nand.retry_steps /
			(double)r->st.nand.flash_read_ops : 0.0,
			(unsigned long long)r->st.nand.soft_decodes,
			(unsigned long long)r->st.nand.uncorrectable_cw,
			(unsigned long long)r->st.nand.uncorrectable_pages);
	if (r->st.nand.suspend != SSD_SUSP_OFF)
		fprintf(out, "  NAND suspend: %llu programs/erases suspended for reads\n",
			(unsigned long long)r->st.nand.suspensions);
	if (r->verified)
		fprintf(out, "  verify: every written unit maps to its latest version; no orphans\n");
	fprintf(out, "  (%llu events in %.2f s wall, %.2f s of it preconditioning; %.0f requests/s simulated)\n",
		(unsigned long long)r->events, r->wall_s, r->wall_s - r->wall_sim_s,
		r->wall_sim_s > 0 ? (double)(r->n[0] + r->n[1]) / r->wall_sim_s : 0);
}

struct csv_ctx {
	struct rep_csv *c;
	const char *dir;
	uint64_t total, cum;
};

static void hist_row(void *arg, uint64_t lo, uint64_t hi, uint64_t n)
{
	struct csv_ctx *x = arg;
	x->cum += n;
	rep_csv_row(x->c, "%llu,%llu,%llu,%.6f", (unsigned long long)lo,
		    (unsigned long long)hi, (unsigned long long)n,
		    (double)x->cum / (double)x->total);
}

/* The erase-count histogram of the report (wear levelling on) as
 * erase_counts.csv, one row per bin: erase counts erase_lo..erase_hi
 * (inclusive), the blocks with that many erases; and erase_counts.png. */
static int write_erase_counts(const struct ssd_run_result *r, const char *dir,
			      struct nd_err *err)
{
	const struct ssd_stats *st = &r->st;
	if (!st->erase_hist_n)
		return 0;
	uint64_t w = st->erase_hist_width, blocks = 0;
	struct rep_csv *c = rep_csv_new("erase_lo,erase_hi,blocks");
	for (uint32_t k = 0; k < st->erase_hist_n; k++) {
		rep_csv_row(c, "%llu,%llu,%llu", (unsigned long long)(k * w),
			    (unsigned long long)((k + 1) * w - 1),
			    (unsigned long long)st->erase_hist[k]);
		blocks += st->erase_hist[k];
	}
	int rc = rep_csv_write(c, dir, "erase_counts.csv", err);
	rep_csv_free(c);
	if (rc)
		return rc;
	char script[2048];
	snprintf(script, sizeof script,
		 "set datafile separator ','\n"
		 "set terminal pngcairo size 900,560 noenhanced\n"
		 "set output 'erase_counts.png'\n"
		 "set title \"ndpsim ssd: erase counts of %llu blocks, wear levelling on\\n"
		 "spread %llu (min %llu, max %llu, mean %.2f), %llu blocks migrated\"\n"
		 "set xlabel 'erase count (bins of %llu)'\nset ylabel 'blocks'\n"
		 "set grid ytics\nset style fill solid 0.6 border -1\nset boxwidth %llu absolute\n"
		 "set xrange [-0.5:%llu]\nset yrange [0:*]\nset key off\n"
		 "plot 'erase_counts.csv' skip 1 using (($1+$2)/2.0):3 with boxes\n",
		 (unsigned long long)blocks,
		 (unsigned long long)(st->erase_max - st->erase_min),
		 (unsigned long long)st->erase_min, (unsigned long long)st->erase_max,
		 st->erase_mean, (unsigned long long)st->wl_migrations,
		 (unsigned long long)w, (unsigned long long)w,
		 (unsigned long long)(st->erase_hist_n * w));
	rc = rep_gnuplot(dir, "erase_counts", script, err);
	return rc < 0 ? rc : 0;
}

int ssd_run_write_files(const struct ssd_run_result *r, const char *dir,
			struct nd_err *err)
{
	const char *names[2] = { "latency_read.csv", "latency_write.csv" };
	int rc = 0;
	for (int w = 0; w < 2 && !rc; w++) {
		struct csv_ctx x = { rep_csv_new("lat_lo_ns,lat_hi_ns,count,cdf"), dir,
				     r->lat[w].count, 0 };
		hist_foreach(&r->lat[w], hist_row, &x);
		rc = rep_csv_write(x.c, dir, names[w], err);
		rep_csv_free(x.c);
	}
	if (rc)
		return rc;
	struct rep_csv *c = rep_csv_new("kind,index,utilization");
	for (int i = 0; i < r->n_channels; i++)
		rep_csv_row(c, "channel,%d,%.6f", i, r->chan_util[i]);
	for (int i = 0; i < r->n_dies; i++)
		rep_csv_row(c, "die,%d,%.6f", i, r->die_util[i]);
	rc = rep_csv_write(c, dir, "utilization.csv", err);
	rep_csv_free(c);
	if (rc)
		return rc;
	char script[2048];
	int nplots = 0;
	char plots[512] = "";
	for (int w = 0; w < 2; w++) {
		if (!r->lat[w].count)
			continue;
		size_t used = strlen(plots);
		snprintf(plots + used, sizeof plots - used,
			 "%s'%s' using ($2/1000):4 with lines lw 2 title '%s'",
			 nplots++ ? ", " : "", names[w], w ? "write" : "read");
	}
	if (!nplots)
		return write_erase_counts(r, dir, err);
	snprintf(script, sizeof script,
		 "set datafile separator ','\n"
		 "set terminal pngcairo size 900,560 noenhanced\n"
		 "set output 'latency_cdf.png'\n"
		 "set title 'ndpsim ssd: latency CDF'\n"
		 "set xlabel 'latency (us)'\nset ylabel 'fraction of requests'\n"
		 "set logscale x\nset grid\nset key bottom right\nset yrange [0:1.02]\n"
		 "plot %s\n", plots);
	rc = rep_gnuplot(dir, "latency_cdf", script, err);
	if (rc < 0)
		return rc;
	return write_erase_counts(r, dir, err);
}
