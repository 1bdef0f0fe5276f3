/*
 * calib.c — measurements of this machine for the host model, the host
 * profile they make, and the validation of the model against a real epoch.
 * See calib.h.
 */
#include "hostif/calib.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/energy.h"
#include "core/evq.h"
#include "core/report.h"
#include "core/util.h"
#include "workloads/sgd.h"
#include "core/version.h"
#include "hostif/io.h"

#define DRAM_BUF_BYTES ((size_t)64 << 20)

static const char *const backend_names[HIF_CALIB_NBACKENDS] = { "uring", "aio", "sync" };

void hif_calib_opts_init(struct hif_calib_opts *o)
{
	memset(o, 0, sizeof *o);
	o->dir = "build";
	o->file_bytes = (uint64_t)64 << 20;
	o->bs_bytes = (size_t)128 << 10;
	o->qd = 32;
	o->direct = 1;
	o->reps = 5;
	o->sgd_steps = 0;
	o->sgd_at_end = 1;
	o->val_epochs = 4;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double hif_calib_median(double *v, int n)
{
	ND_ASSERT(n >= 1);
	qsort(v, (size_t)n, sizeof *v, cmp_dbl);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Index of the median of v[0..n) (the lower one for even n), v unchanged. */
static int median_index(const double *v, int n)
{
	double s[HIF_CALIB_REPS_MAX];
	memcpy(s, v, (size_t)n * sizeof *s);
	qsort(s, (size_t)n, sizeof *s, cmp_dbl);
	double m = s[(n - 1) / 2];
	for (int i = 0; i < n; i++)
		if (v[i] == m)
			return i;
	return 0;
}

static double now_s(void)
{
	return nd_wall_s();
}

static double thread_cpu_s(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_THREAD, &ru))
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static double proc_cpu_s(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static int omp_threads(void)
{
#ifdef _OPENMP
	return omp_get_max_threads();
#else
	return 1;
#endif
}

/* Four significant digits: the profile holds what the measurement supports,
 * and apply() uses the same rounded numbers, so the file reproduces the
 * validation exactly. */
static double sig4(double v)
{
	char b[32];
	snprintf(b, sizeof b, "%.4g", v);
	return strtod(b, NULL);
}

static void cpu_model(char *out, size_t n)
{
	snprintf(out, n, "unknown CPU");
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "model name", 10))
			continue;
		char *p = strchr(line, ':');
		if (!p)
			break;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		p[strcspn(p, "\n")] = '\0';
		snprintf(out, n, "%s", p);
		break;
	}
	fclose(f);
}

void hif_calib_init(struct hif_calib *c, int reps)
{
	memset(c, 0, sizeof *c);
	c->reps = reps;
	c->io_sw_from = -1;
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(c->when, sizeof c->when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	char host[64] = "unknown host", cpu[96];
	if (gethostname(host, sizeof host))
		snprintf(host, sizeof host, "unknown host");
	host[sizeof host - 1] = '\0';
	cpu_model(cpu, sizeof cpu);
	snprintf(c->machine, sizeof c->machine, "%s, %s, %ld logical CPUs", host, cpu,
		 sysconf(_SC_NPROCESSORS_ONLN));
}

/* ------------------------------------------------------------------ I/O */

/* size bytes of xorshift data, written and fsync'ed.  Returns 0 or -errno. */
static int make_file(const char *path, uint64_t size, struct nd_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return nd_errf(err, -errno, "%s: cannot create: %s", path, strerror(errno));
	size_t blk = (size_t)1 << 20;
	unsigned char *b = xmalloc(blk);
	uint64_t x = 0x9e3779b97f4a7c15ull, off = 0;
	int rc = 0;
	while (off < size) {
		size_t n = (size_t)nd_min_u64(blk, size - off);
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			b[i] = (unsigned char)(x >> 24);
		}
		size_t done = 0;
		while (done < n) {
			ssize_t w = write(fd, b + done, n - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				rc = nd_errf(err, w < 0 ? -errno : -EIO, "%s: write failed: %s", path,
					     w < 0 ? strerror(errno) : "no progress");
				goto out;
			}
			done += (size_t)w;
		}
		off += n;
	}
	if (fsync(fd))
		rc = nd_errf(err, -errno, "%s: fsync failed: %s", path, strerror(errno));
out:
	free(b);
	close(fd);
	return rc;
}

static int unavailable(int rc)
{
	return rc == -EPERM || rc == -EACCES || rc == -ENOSYS || rc == -EOPNOTSUPP ||
	       rc == -EAGAIN || rc == -ENOMEM;
}

static int measure_backend(const struct hif_calib_opts *o, const char *path, int reps,
			   struct hif_calib_io *io, struct nd_err *err)
{
	struct hif_io_opts io_o;
	hif_io_opts_init(&io_o);
	io_o.backend = io->backend;
	io_o.bs_bytes = o->bs_bytes;
	io_o.qd = o->qd;
	io_o.direct = o->direct;
	io_o.fallback = 0;
	io_o.quiet = 1;
	io_o.crc = 0;
	io->direct = o->direct;
	struct nd_err e = { 0 };
	hif_reader *r = NULL;
	int rc = hif_io_open(path, &io_o, &r, &e);
	if (rc < 0) {
		/* The kernel forbids the backend, or the file system refuses
		 * O_DIRECT (-EINVAL): a skip, reported with its reason. */
		if (unavailable(rc) || (rc == -EINVAL && o->direct)) {
			io->status = rc;
			snprintf(io->note, sizeof io->note, "%s", e.msg[0] ? e.msg : strerror(-rc));
			return 0;
		}
		*err = e;
		return rc;
	}
	struct hif_io_result *res = xmalloc(sizeof *res);
	/* Warm-up read: ring / context setup, first touch of the buffers. */
	if ((rc = hif_io_read_all(r, res, &e)) < 0) {
		*err = e;
		goto out;
	}
	double mb[HIF_CALIB_REPS_MAX], iops[HIF_CALIB_REPS_MAX], cpu[HIF_CALIB_REPS_MAX];
	double lmean[HIF_CALIB_REPS_MAX], l50[HIF_CALIB_REPS_MAX], l99[HIF_CALIB_REPS_MAX];
	double lmax[HIF_CALIB_REPS_MAX];
	for (int k = 0; k < reps; k++) {
		double c0 = thread_cpu_s();
		rc = hif_io_read_all(r, res, &e);
		double c1 = thread_cpu_s();
		if (rc < 0) {
			*err = e;
			goto out;
		}
		mb[k] = res->mb_s;
		iops[k] = res->iops;
		cpu[k] = res->blocks ? (c1 - c0) * 1e9 / (double)res->blocks : 0;
		lmean[k] = hist_mean(&res->lat_ns) / 1e3;
		l50[k] = (double)hist_quantile(&res->lat_ns, 0.50) / 1e3;
		l99[k] = (double)hist_quantile(&res->lat_ns, 0.99) / 1e3;
		lmax[k] = (double)res->lat_ns.max / 1e3;
		io->bytes = res->bytes;
		io->requests = res->blocks;
		io->qd = res->qd;
	}
	int mi = median_index(mb, reps);
	io->lat_mean_us = lmean[mi];
	io->lat_p50_us = l50[mi];
	io->lat_p99_us = l99[mi];
	io->lat_max_us = lmax[mi];
	io->mb_s = hif_calib_median(mb, reps);
	io->iops = hif_calib_median(iops, reps);
	io->cpu_ns_per_io = hif_calib_median(cpu, reps);
	io->status = 0;
	rc = 0;
out:
	free(res);
	hif_io_close(r);
	return rc;
}

int hif_calib_io(const struct hif_calib_opts *o, struct hif_calib *c,
		 struct nd_err *err)
{
	int reps = c->reps;
	if (reps < 1 || reps > HIF_CALIB_REPS_MAX)
		return nd_errf(err, -EINVAL, "calibrate: repetitions must be 1..%d", HIF_CALIB_REPS_MAX);
	if (o->file_bytes < o->bs_bytes)
		return nd_errf(err, -EINVAL, "calibrate: the file (%llu bytes) is smaller than one "
			       "block (%zu bytes)", (unsigned long long)o->file_bytes, o->bs_bytes);
	int rc = rep_mkdir_p(o->dir, err);
	if (rc)
		return rc;
	char path[4096];
	snprintf(path, sizeof path, "%s/ndpsim-calibrate.%ld.tmp", o->dir, (long)getpid());
	if ((rc = make_file(path, o->file_bytes, err))) {
		unlink(path);
		return rc;
	}
	c->io_sw_from = -1;
	c->io_file_bytes = o->file_bytes;
	c->io_bs_bytes = o->bs_bytes;
	for (int i = 0; i < HIF_CALIB_NBACKENDS; i++) {
		struct hif_calib_io *io = &c->io[i];
		memset(io, 0, sizeof *io);
		snprintf(io->backend, sizeof io->backend, "%s", backend_names[i]);
		if ((rc = measure_backend(o, path, reps, io, err)))
			break;
		if (io->status == 0 && c->io_sw_from < 0) {
			c->io_sw_from = i;
			c->io_sw_ns = (uint64_t)llround(sig4(io->cpu_ns_per_io));
		}
	}
	unlink(path);
	if (!rc)
		c->io_done = 1;
	return rc;
}

/* ------------------------------------------------------------------ DRAM */

int hif_calib_dram(const struct hif_calib_opts *o, struct hif_calib *c)
{
	(void)o;
	int reps = c->reps;
	unsigned char *a = xmalloc(DRAM_BUF_BYTES), *b = xmalloc(DRAM_BUF_BYTES);
	memset(a, 0x5a, DRAM_BUF_BYTES);
	memset(b, 0, DRAM_BUF_BYTES);
	double t[HIF_CALIB_REPS_MAX];
	memcpy(b, a, DRAM_BUF_BYTES);       /* warm-up */
	for (int k = 0; k < reps; k++) {
		a[(size_t)k * 4096] = (unsigned char)k;
		double t0 = now_s();
		memcpy(b, a, DRAM_BUF_BYTES);
		t[k] = now_s() - t0;
	}
	/* Use the destination so the copies cannot be dropped. */
	volatile unsigned char sink = b[(size_t)(reps - 1) * 4096];
	(void)sink;
	free(a);
	free(b);
	double med = hif_calib_median(t, reps);
	c->dram_gb_s = med > 0 ? sig4(2.0 * (double)DRAM_BUF_BYTES / med / 1e9) : 0;
	return 0;
}

/* ------------------------------------------------------------------ SGD */

/* The in-host SGD of ihp.c without the simulator around it: the same flash
 * layout, the same streams, the same arithmetic in the same order. */
struct replica {
	const struct hif_calib_work *w;
	struct wl_mlp m;
	size_t np;
	struct wl_aug aug;
	struct ndp_layout L;
	int G, b;
	struct ndp_stream *st;
	uint32_t S;                /* steps per epoch */
	float *params, *grad, *sum, *x;
	uint8_t *y;
	struct wl_mlp_ws *ws;
	struct wl_sgd sgd;         /* the shared step, as the host runs it */
	double flops;              /* charged by the steps run so far */
	uint64_t samples;
	double asm_s;              /* wall time of the sample assembly */
};

static void replica_free(struct replica *R)
{
	for (int g = 0; R->st && g < R->G; g++)
		ndp_stream_fini(&R->st[g]);
	free(R->st);
	free(R->params);
	free(R->grad);
	free(R->sum);
	free(R->x);
	free(R->y);
	wl_mlp_ws_destroy(R->ws);
	ndp_layout_free(&R->L);
	memset(R, 0, sizeof *R);
}

static int replica_init(struct replica *R, const struct hif_calib_work *w, struct nd_err *err)
{
	memset(R, 0, sizeof *R);
	R->w = w;
	const struct ndp_train_params *tp = w->train;
	const struct ihp_params *hp = w->host;
	int rc = ndp_model_setup(tp, &R->m, err);
	if (rc)
		return rc;
	R->np = R->m.n_params;
	R->aug = (struct wl_aug){ w->seed, tp->aug_shift, (float)tp->aug_noise };

	/* The layout of a fresh drive; only the chunk map is kept. */
	rc = ndp_layout_plan(&R->L, w->ssd, w->train_set->n, tp->amplify, w->seed, err);
	if (rc) {
		replica_free(R);
		return rc;
	}

	if (hp->order == IHP_ORDER_CHANNELS) {
		R->G = w->ssd->channels;
		R->b = tp->batch;
	} else {
		R->G = 1;
		R->b = hp->batch ? hp->batch : tp->batch * w->ssd->channels;
	}
	R->st = xcalloc((size_t)R->G, sizeof *R->st);
	for (int g = 0; g < R->G; g++) {
		ndp_stream_init(&R->st[g], &R->L, R->G == 1 && hp->order == IHP_ORDER_SHUFFLE ?
				NDP_WORKER_HOST : g, R->b, w->seed);
		if (R->st[g].n_batches > R->S)
			R->S = R->st[g].n_batches;
	}
	R->params = xmalloc(R->np * sizeof *R->params);
	R->grad = xmalloc(R->np * sizeof *R->grad);
	R->sum = xmalloc(R->np * sizeof *R->sum);
	R->x = xmalloc((size_t)R->b * 784 * sizeof *R->x);
	R->y = xmalloc((size_t)R->b);
	R->ws = wl_mlp_ws_create(&R->m, R->b);
	wl_sgd_init(&R->sgd, &R->m, hp->zero_skip, NULL, w->seed);
	wl_sgd_init_params(&R->sgd, R->params, w->seed);
	return 0;
}

static void replica_epoch(struct replica *R, int epoch)
{
	for (int g = 0; g < R->G; g++)
		ndp_stream_epoch(&R->st[g], epoch);
}

/* Step k of the current epoch: h_try_start() of ihp.c. */
static void replica_step(struct replica *R, uint32_t k, int epoch)
{
	struct wl_sgd_count cnt = { 0 };
	int part = 0;
	uint64_t n_all = 0;
	for (int g = 0; g < R->G; g++) {
		const struct ndp_stream *st = &R->st[g];
		if (st->n_batches <= k)
			continue;
		uint64_t s0, s1;
		ndp_stream_batch(st, k, &s0, &s1);
		int n = (int)(s1 - s0);
		double t0 = now_s();
		for (int i = 0; i < n; i++)
			wl_sample_x(R->w->train_set, ndp_stream_slot(st, s0 + (uint64_t)i), &R->aug,
				    R->x + (size_t)i * 784, &R->y[i]);
		R->asm_s += now_s() - t0;
		wl_sgd_grad(&R->sgd, R->params, R->x, R->y, n, R->grad, R->ws, &cnt);
		wl_sgd_sum(&R->sgd, R->sum, R->grad, !part, &cnt);
		part++;
		n_all += (uint64_t)n;
	}
	wl_sgd_mean(&R->sgd, R->sum, part, &cnt);
	wl_sgd_update(&R->sgd, R->params, R->sum, ndp_lr(R->w->train, epoch, (double)n_all), &cnt);
	R->flops += wl_sgd_flops(&cnt);
	R->samples += n_all;
}

/* The calibration segment: a replica trained up to the steps that are
 * timed, the model at that point, and the times of the repetitions. */
struct seg {
	struct replica R;
	struct hif_calib_sgd *s;
	uint32_t k0, K;
	float *snap;
	int n;
	double rep_t[HIF_CALIB_REPS_MAX], ker_t[HIF_CALIB_REPS_MAX];
	double cpu_s, wall_s;
};

static int seg_init(struct seg *g, const struct hif_calib_opts *o,
		    const struct hif_calib_work *w, struct hif_calib *c, struct nd_err *err)
{
	memset(g, 0, sizeof *g);
	if (c->reps < 1 || c->reps > HIF_CALIB_REPS_MAX)
		return nd_errf(err, -EINVAL, "calibrate: repetitions must be 1..%d", HIF_CALIB_REPS_MAX);
	struct replica *R = &g->R;
	int rc = replica_init(R, w, err);
	if (rc)
		return rc;
	struct hif_calib_sgd *s = g->s = &c->sgd;
	memset(s, 0, sizeof *s);
	snprintf(s->model, sizeof s->model, "%s", w->train->model == NDP_MODEL_MLP ? "mlp" : "lr");
	snprintf(s->hidden, sizeof s->hidden, "%s",
		 w->train->model == NDP_MODEL_MLP ? w->train->hidden : "");
	s->streams = R->G;
	s->stream_batch = R->b;
	s->batch = ihp_batch(w->host, w->train, w->ssd);
	s->threads = omp_threads();
	s->n_params = R->np;
	s->macs_fwd = wl_mlp_macs_fwd(&R->m);
	s->macs_bwd = wl_mlp_macs_bwd(&R->m);
	uint32_t K = o->sgd_steps ? o->sgd_steps : (R->S + 3) / 4;
	if (K > R->S)
		K = R->S;
	if (K < 1)
		K = 1;
	s->steps = g->K = K;

	/* Train up to the timed segment, keep that model, warm up (thread
	 * pool, caches, first touch of the buffers); every repetition starts
	 * from the kept model. */
	g->k0 = o->sgd_at_end ? R->S - K : 0;
	replica_epoch(R, 0);
	for (uint32_t k = 0; k < g->k0; k++)
		replica_step(R, k, 0);
	s->first_step = g->k0;
	s->epoch_steps = R->S;
	g->snap = xmalloc(R->np * sizeof *g->snap);
	memcpy(g->snap, R->params, R->np * sizeof *g->snap);
	for (uint32_t k = g->k0; k < g->k0 + K && k < g->k0 + 8; k++)
		replica_step(R, k, 0);
	return 0;
}

/* One timed repetition of the segment. */
static void seg_rep(struct seg *g)
{
	struct replica *R = &g->R;
	memcpy(R->params, g->snap, R->np * sizeof *g->snap);
	R->flops = 0;
	R->asm_s = 0;
	double c0 = proc_cpu_s(), t0 = now_s();
	for (uint32_t k = g->k0; k < g->k0 + g->K; k++)
		replica_step(R, k, 0);
	double t = now_s() - t0;
	g->cpu_s += proc_cpu_s() - c0;
	g->wall_s += t;
	g->rep_t[g->n] = t;
	g->ker_t[g->n] = t - R->asm_s;
	g->n++;
	g->s->flops = R->flops;
}

/* Medians into c->sgd; frees the segment. */
static void seg_finish(struct seg *g, struct hif_calib *c)
{
	struct hif_calib_sgd *s = g->s;
	int n = g->n;
	s->cpu_share = g->wall_s > 0 ? g->cpu_s / (g->wall_s * s->threads) : 0;
	s->rep_s = hif_calib_median(g->rep_t, n);
	s->rep_min_s = g->rep_t[0];
	s->rep_max_s = g->rep_t[n - 1];
	s->kernel_s = hif_calib_median(g->ker_t, n);
	s->gflops = s->flops / s->rep_s / 1e9;
	s->gflops_per_core = sig4(s->gflops / s->threads);
	s->kernel_gflops = s->flops / s->kernel_s / 1e9;
	c->sgd_done = 1;
	free(g->snap);
	replica_free(&g->R);
}

int hif_calib_sgd(const struct hif_calib_opts *o, const struct hif_calib_work *w,
		  struct hif_calib *c, struct nd_err *err)
{
	struct seg g;
	int rc = seg_init(&g, o, w, c, err);
	if (rc)
		return rc;
	for (int r = 0; r < c->reps; r++)
		seg_rep(&g);
	seg_finish(&g, c);
	return 0;
}

void hif_calib_apply(const struct hif_calib *c, struct ihp_params *host)
{
	if (c->sgd_done) {
		host->cores = c->sgd.threads;
		if (!strcmp(c->sgd.model, "mlp"))
			host->gflops_mlp = c->sgd.gflops_per_core;
		else
			host->gflops_lr = c->sgd.gflops_per_core;
	}
	if (c->io_done && c->io_sw_from >= 0)
		host->io_sw_ns = c->io_sw_ns;
	if (c->dram_gb_s > 0)
		host->dram_gb_s = c->dram_gb_s;
}

/* ------------------------------------------------------------------ JSON */

static const char *model_desc(const struct hif_calib_sgd *s, char *b, size_t n)
{
	if (!strcmp(s->model, "mlp"))
		snprintf(b, n, "MLP 784-%s-10", s->hidden);
	else
		snprintf(b, n, "logistic regression 784-10");
	return b;
}

struct cJSON *hif_calib_profile_json(const struct hif_calib *c)
{
	cJSON *j = cJSON_CreateObject();
	char d[4096], md[CFG_STR_MAX + 64];
	snprintf(d, sizeof d, "host profile measured by ndpsim calibrate %s on %s (%s); "
		 "use it with --config FILE; raw numbers in the .measurements.json beside it",
		 NDPSIM_VERSION, c->when, c->machine);
	cJSON_AddStringToObject(j, "description", d);
	cJSON *h = cJSON_AddObjectToObject(j, "host");
	size_t off = 0;
	d[0] = '\0';
	if (c->sgd_done) {
		const struct hif_calib_sgd *s = &c->sgd;
		off += (size_t)snprintf(d + off, sizeof d - off,
			"cores = OpenMP threads of the SGD kernel; gflops_%s = FLOPs counted by the "
			"shared step of workloads/sgd.h (2 x MACs executed, dense %llu per sample, + "
			"%zu params x (streams + 2)) / wall time of the in-host SGD step (sample "
			"assembly + the shared step) / threads, %s, %d x %d samples per step, median of %d x steps %u-%u of "
			"epoch 1 on Fashion-MNIST: %.3f GFLOP/s on %d threads. ",
			!strcmp(s->model, "mlp") ? "mlp" : "lr",
			(unsigned long long)(s->macs_fwd + s->macs_bwd), s->n_params,
			model_desc(s, md, sizeof md), s->streams, s->stream_batch, c->reps,
			s->first_step + 1, s->first_step + s->steps, s->gflops, s->threads);
	}
	if (c->io_done && c->io_sw_from >= 0 && off < sizeof d) {
		const struct hif_calib_io *io = &c->io[c->io_sw_from];
		off += (size_t)snprintf(d + off, sizeof d - off,
			"io_sw_ns = CPU time (user + system) of the reading thread per %llu-byte "
			"read, %s%s, QD %u, median of %d reads of a %llu-byte file (%.1f MB/s). ",
			(unsigned long long)c->io_bs_bytes,
			hif_io_backend_long(io->backend), io->direct ? " O_DIRECT" : "",
			io->qd,
			c->reps, (unsigned long long)io->bytes, io->mb_s);
	}
	if (c->dram_gb_s > 0 && off < sizeof d)
		off += (size_t)snprintf(d + off, sizeof d - off,
			"dram_gb_s = memcpy of 64 MiB on one thread, bytes read + written, median of %d. ",
			c->reps);
	if (off < sizeof d)
		snprintf(d + off, sizeof d - off, "Other host keys keep their defaults "
			 "(power is not measured).");
	cJSON_AddStringToObject(h, "description", d);
	if (c->sgd_done) {
		cJSON_AddItemToObject(h, "cores", rep_num(c->sgd.threads));
		cJSON_AddItemToObject(h, !strcmp(c->sgd.model, "mlp") ? "gflops_mlp" : "gflops_lr",
				      rep_num(c->sgd.gflops_per_core));
	}
	if (c->io_done && c->io_sw_from >= 0)
		cJSON_AddItemToObject(h, "io_sw_ns", rep_num((double)c->io_sw_ns));
	if (c->dram_gb_s > 0)
		cJSON_AddItemToObject(h, "dram_gb_s", rep_num(c->dram_gb_s));
	return j;
}

struct cJSON *hif_calib_measurements_json(const struct hif_calib *c,
					  const struct hif_calib_valid *v)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "note", "raw measurements of ndpsim calibrate (not a config); "
				"MB = 10^6 bytes, GB = 10^9 bytes, every value a median over reps");
	cJSON_AddStringToObject(j, "version", NDPSIM_VERSION);
	cJSON_AddStringToObject(j, "when", c->when);
	cJSON_AddStringToObject(j, "machine", c->machine);
	rep_add_u64(j, "reps", (uint64_t)c->reps);
	if (c->io_done) {
		cJSON *io = cJSON_AddObjectToObject(j, "io");
		rep_add_u64(io, "file_bytes", c->io_file_bytes);
		rep_add_u64(io, "bs_bytes", c->io_bs_bytes);
		cJSON *arr = cJSON_AddArrayToObject(io, "backends");
		for (int i = 0; i < HIF_CALIB_NBACKENDS; i++) {
			const struct hif_calib_io *b = &c->io[i];
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "backend", b->backend);
			cJSON_AddStringToObject(o, "name", hif_io_backend_long(b->backend));
			if (b->status) {
				cJSON_AddStringToObject(o, "status", "skipped");
				cJSON_AddStringToObject(o, "reason", b->note);
			} else {
				cJSON_AddStringToObject(o, "status", "measured");
				cJSON_AddBoolToObject(o, "direct", b->direct);
				rep_add_u64(o, "qd", b->qd);
				rep_add_u64(o, "bytes", b->bytes);
				rep_add_u64(o, "requests", b->requests);
				rep_add_dbl(o, "mb_s", b->mb_s);
				rep_add_dbl(o, "iops", b->iops);
				cJSON *l = cJSON_AddObjectToObject(o, "lat_us");
				rep_add_dbl(l, "mean", b->lat_mean_us);
				rep_add_dbl(l, "p50", b->lat_p50_us);
				rep_add_dbl(l, "p99", b->lat_p99_us);
				rep_add_dbl(l, "max", b->lat_max_us);
				rep_add_dbl(o, "cpu_ns_per_io", b->cpu_ns_per_io);
			}
			cJSON_AddItemToArray(arr, o);
		}
		if (c->io_sw_from >= 0) {
			cJSON_AddStringToObject(io, "io_sw_ns_from", c->io[c->io_sw_from].backend);
			rep_add_u64(io, "io_sw_ns", c->io_sw_ns);
		}
	}
	if (c->dram_gb_s > 0) {
		cJSON *d = cJSON_AddObjectToObject(j, "dram");
		rep_add_u64(d, "copy_bytes", DRAM_BUF_BYTES);
		rep_add_dbl(d, "gb_s", c->dram_gb_s);
	}
	if (c->sgd_done) {
		const struct hif_calib_sgd *s = &c->sgd;
		cJSON *o = cJSON_AddObjectToObject(j, "sgd");
		cJSON_AddStringToObject(o, "model", s->model);
		cJSON_AddStringToObject(o, "hidden", s->hidden);
		rep_add_u64(o, "streams", (uint64_t)s->streams);
		rep_add_u64(o, "stream_batch", (uint64_t)s->stream_batch);
		rep_add_u64(o, "batch", (uint64_t)s->batch);
		rep_add_u64(o, "threads", (uint64_t)s->threads);
		rep_add_u64(o, "params", s->n_params);
		rep_add_u64(o, "macs_fwd", s->macs_fwd);
		rep_add_u64(o, "macs_bwd", s->macs_bwd);
		rep_add_u64(o, "steps_per_rep", s->steps);
		rep_add_u64(o, "first_step", s->first_step);
		rep_add_u64(o, "steps_per_epoch", s->epoch_steps);
		rep_add_dbl(o, "flops_per_rep", s->flops);
		rep_add_dbl(o, "rep_s", s->rep_s);
		rep_add_dbl(o, "rep_min_s", s->rep_min_s);
		rep_add_dbl(o, "rep_max_s", s->rep_max_s);
		rep_add_dbl(o, "cpu_share", s->cpu_share);
		rep_add_dbl(o, "kernel_s", s->kernel_s);
		rep_add_dbl(o, "gflops", s->gflops);
		rep_add_dbl(o, "gflops_per_core", s->gflops_per_core);
		rep_add_dbl(o, "kernel_only_gflops", s->kernel_gflops);
	}
	if (v) {
		cJSON *o = cJSON_AddObjectToObject(j, "validation");
		rep_add_u64(o, "threads", (uint64_t)v->threads);
		rep_add_u64(o, "samples_per_epoch", v->samples);
		rep_add_u64(o, "steps_per_epoch", v->steps);
		rep_add_dbl(o, "flops_per_epoch", v->flops);
		rep_add_dbl(o, "predicted_epoch2_s", v->pred_s);
		rep_add_dbl(o, "predicted_epoch1_s", v->pred_epoch1_s);
		cJSON *a = cJSON_AddArrayToObject(o, "measured_epoch_s");
		for (int e = 0; e < v->epochs; e++)
			cJSON_AddItemToArray(a, rep_num(v->meas_s[e]));
		rep_add_dbl(o, "measured_median_s", v->meas_median_s);
		rep_add_dbl(o, "ratio", v->ratio);
		cJSON_AddBoolToObject(o, "same_params", v->same_params);
		rep_add_dbl(o, "cpu_share", v->cpu_share);
	}
	return j;
}

/* ------------------------------------------------------------------ validation */

int hif_calib_validate(const struct hif_calib_opts *o, const struct hif_calib_work *w,
		       const struct ihp_params *host, struct hif_calib *c,
		       struct hif_calib_valid *v, struct nd_err *err)
{
	memset(v, 0, sizeof *v);
	int E = o->val_epochs;
	if (E < 2 || E > HIF_CALIB_REPS_MAX)
		return nd_errf(err, -EINVAL, "calibrate: validation epochs must be 2..%d",
			       HIF_CALIB_REPS_MAX);
	struct ndp_train_params tp = *w->train;
	tp.epochs = 2;
	tp.evals_per_epoch = 1;     /* observer only: no simulated time */
	struct hif_calib_work w2 = *w;
	w2.train = &tp;
	struct seg g;
	int rc, seg_on = 0;
	if (c) {
		if ((rc = seg_init(&g, o, w, c, err)))
			return rc;
		seg_on = 1;
	}

	/* The same computation for real, data in memory; calibration
	 * repetitions (when asked) alternate with the epochs. */
	struct replica R;
	if ((rc = replica_init(&R, &w2, err))) {
		if (seg_on) {
			free(g.snap);
			replica_free(&g.R);
		}
		return rc;
	}
	v->threads = omp_threads();
	v->steps = R.S;
	float *after2 = xmalloc(R.np * sizeof *after2);
	double cpu = 0, wall = 0;
	int rounds = c && c->reps > E ? c->reps : E;
	for (int i = 0; i < rounds; i++) {
		if (seg_on && i < c->reps)
			seg_rep(&g);
		if (i >= E)
			continue;
		replica_epoch(&R, i);
		R.flops = 0;
		R.samples = 0;
		double c0 = proc_cpu_s(), t0 = now_s();
		for (uint32_t k = 0; k < R.S; k++)
			replica_step(&R, k, i);
		v->meas_s[i] = now_s() - t0;
		if (i >= 1) {
			cpu += proc_cpu_s() - c0;
			wall += v->meas_s[i];
		}
		if (i == 1) {
			memcpy(after2, R.params, R.np * sizeof *after2);
			v->flops = R.flops;
			v->samples = R.samples;
		}
	}
	v->epochs = E;
	v->cpu_share = wall > 0 ? cpu / (wall * v->threads) : 0;
	/* The first real epoch warms the caches and the thread pool up. */
	double m[HIF_CALIB_REPS_MAX];
	memcpy(m, v->meas_s + 1, (size_t)(E - 1) * sizeof *m);
	v->meas_median_s = hif_calib_median(m, E - 1);
	size_t np = R.np;
	replica_free(&R);

	/* The model, with the calibrated profile: two epochs, everything
	 * cached after the first.  Deterministic, so it may run last. */
	struct ihp_params hp = *host;
	if (seg_on) {
		seg_finish(&g, c);
		hif_calib_apply(c, &hp);
	}
	hp.page_cache_ratio = 2.0;
	v->cores = hp.cores;
	v->gflops_per_core = ihp_gflops(&hp, &tp);
	struct ihp_run_opts io = {
		.train = &tp, .host = &hp, .ssd = w->ssd, .train_set = w->train_set,
		.test_set = w->test_set, .seed = w->seed, .progress = 0,
	};
	struct ndp_result r;
	rc = ihp_train(&io, &r, err);
	if (!rc) {
		v->pred_epoch1_s = (double)r.epoch_end_ns[0] * 1e-9;
		v->pred_s = (double)(r.epoch_end_ns[1] - r.epoch_end_ns[0]) * 1e-9;
		v->ratio = v->meas_median_s > 0 ? v->pred_s / v->meas_median_s : (double)NAN;
		v->same_params = np == r.n_params &&
				 !memcmp(after2, r.params, np * sizeof *after2);
	}
	ndp_result_free(&r);
	free(after2);
	return rc;
}
