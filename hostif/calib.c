/*
 * calib.c — measurements of this machine for the host model (kernel rates,
 * package power, I/O, DRAM), the host profile they make, and the validation
 * of the model against runs it was not calibrated on.
 * See calib.h.
 */
#include "hostif/calib.h"

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#include <pthread.h>
#endif

#include "core/energy.h"
#include "core/evq.h"
#include "core/report.h"
#include "core/util.h"
#include "core/version.h"
#include "hostif/io.h"
#include "workloads/bnn_dp.h"
#include "workloads/sgd.h"

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
	o->kernels = HIF_CALIB_ALL;
	o->sgd_at_end = 1;
	o->bnn_images = 2000;
	o->bnn_train_n = 2000;
	o->val_epochs = 4;
	o->idle_s = 2.0;
	o->active_s = 1.0;
	o->powercap = NULL;
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
	const struct ndp_stream **stp;   /* &st[g] */
	struct ndp_step hs;        /* the host's step (ndp/train.h), assembly timed */
	double flops;              /* charged by the steps run so far */
	uint64_t samples;
};

static void replica_free(struct replica *R)
{
	for (int g = 0; R->st && g < R->G; g++)
		ndp_stream_fini(&R->st[g]);
	free(R->st);
	free(R->stp);
	ndp_step_free(&R->hs);
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
	R->stp = xcalloc((size_t)R->G, sizeof *R->stp);
	for (int g = 0; g < R->G; g++)
		R->stp[g] = &R->st[g];
	ndp_step_init(&R->hs, &R->m, w->train_set, tp, hp->zero_skip, NULL, R->b, w->seed);
	R->hs.time_asm = 1;
	return 0;
}

static void replica_epoch(struct replica *R, int epoch)
{
	for (int g = 0; g < R->G; g++)
		ndp_stream_epoch(&R->st[g], epoch);
}

/* Step k of the current epoch: the host model's own step (ndp_step_run). */
static void replica_step(struct replica *R, uint32_t k, int epoch)
{
	struct wl_sgd_count cnt = { 0 };
	double loss = 0;
	uint64_t n_all = ndp_step_run(&R->hs, R->stp, R->G, k, epoch, &loss, &cnt);
	R->flops += wl_sgd_flops(&cnt);
	R->samples += n_all;
}

/* ------------------------------------------------------------------ SGD kernels */

/* The calibration segment of one SGD kernel: a replica (with its own copy
 * of the train section, model set to the kernel) trained up to the steps
 * that are timed, the model at that point, and the times of the
 * repetitions.  Must not move once initialised (R.w points into it). */
struct seg {
	struct ndp_train_params tp;
	struct hif_calib_work w;
	struct replica R;
	struct hif_calib_sgd *s;
	uint32_t k0, K;
	float *snap;
	int n;
	double rep_t[HIF_CALIB_REPS_MAX], ker_t[HIF_CALIB_REPS_MAX];
	double cpu_s, wall_s;
};

static void seg_free(struct seg *g)
{
	free(g->snap);
	g->snap = NULL;
	replica_free(&g->R);
}

static int seg_init(struct seg *g, int kernel, const struct hif_calib_opts *o,
		    const struct hif_calib_work *w, struct hif_calib *c, struct nd_err *err)
{
	memset(g, 0, sizeof *g);
	g->tp = *w->train;
	g->tp.model = kernel == HIF_CALIB_MLP ? NDP_MODEL_MLP : NDP_MODEL_LR;
	g->w = *w;
	g->w.train = &g->tp;
	struct replica *R = &g->R;
	int rc = replica_init(R, &g->w, err);
	if (rc)
		return rc;
	struct hif_calib_sgd *s = g->s = &c->sgd[kernel];
	memset(s, 0, sizeof *s);
	snprintf(s->model, sizeof s->model, "%s", hif_calib_kernel_names[kernel]);
	snprintf(s->hidden, sizeof s->hidden, "%s", kernel == HIF_CALIB_MLP ? g->tp.hidden : "");
	s->streams = R->G;
	s->stream_batch = R->b;
	s->batch = ihp_batch(w->host, &g->tp, w->ssd);
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
	memcpy(g->snap, R->hs.params, R->np * sizeof *g->snap);
	for (uint32_t k = g->k0; k < g->k0 + K && k < g->k0 + 8; k++)
		replica_step(R, k, 0);
	return 0;
}

/* One timed repetition of the segment; returns its wall time. */
/* The timed steps from the snapshot, nothing recorded (the power window). */
static void seg_run(struct seg *g)
{
	struct replica *R = &g->R;
	memcpy(R->hs.params, g->snap, R->np * sizeof *g->snap);
	R->flops = 0;
	R->hs.asm_s = 0;
	for (uint32_t k = g->k0; k < g->k0 + g->K; k++)
		replica_step(R, k, 0);
}

static double seg_rep(struct seg *g)
{
	struct replica *R = &g->R;
	double c0 = proc_cpu_s(), t0 = now_s();
	seg_run(g);
	double t = now_s() - t0;
	g->cpu_s += proc_cpu_s() - c0;
	g->wall_s += t;
	g->rep_t[g->n] = t;
	g->ker_t[g->n] = t - R->hs.asm_s;
	g->n++;
	g->s->flops = R->flops;
	return t;
}

/* Medians into the kernel's record; frees the segment. */
static void seg_finish(struct seg *g)
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
	s->done = 1;
	seg_free(g);
}

/* ------------------------------------------------------------------ BNN kernel */

const char *const hif_calib_kernel_names[] = { "lr", "mlp", "bnn", NULL };

int hif_calib_parse_kernels(const char *s, unsigned *mask, struct nd_err *err)
{
	unsigned m = 0;
	const char *p = s;
	while (*p) {
		size_t n = strcspn(p, ",");
		int k;
		for (k = 0; k < HIF_CALIB_NKERNELS; k++)
			if (strlen(hif_calib_kernel_names[k]) == n &&
			    !strncmp(p, hif_calib_kernel_names[k], n))
				break;
		if (k == HIF_CALIB_NKERNELS)
			return nd_errf(err, -EINVAL, "--kernels '%s': unknown kernel '%.*s' "
				       "(expected a list of lr, mlp, bnn)", s, (int)n, p);
		m |= 1u << k;
		p += n;
		if (*p == ',' && *++p == '\0')
			return nd_errf(err, -EINVAL, "--kernels '%s': empty name after ','", s);
	}
	if (!m)
		return nd_errf(err, -EINVAL, "--kernels '%s': expected a list of lr, mlp, bnn", s);
	*mask = m;
	return 0;
}

/* A throwaway network of the configured architecture: bnn_predict's cost
 * depends on the widths and bit-planes only (every layer runs all its
 * words), so a short training on a few images is enough. */
static int bnn_model_for(const struct hif_calib_opts *o, const struct hif_calib_work *w,
			 struct bnn_model **m, struct nd_err *err)
{
	struct bnn_params p = *w->bnn;
	p.train_n = o->bnn_train_n;
	p.epochs = 1;
	if (p.calib_n > p.train_n)
		p.calib_n = p.train_n;
	return bnn_train(&p, w->seed, w->train_set, NULL, NULL, NULL, m, err);
}

static void bnn_arch(const struct bnn_model *m, char *b, size_t n)
{
	size_t off = 0;
	for (int l = 0; l <= m->nl && off < n; l++)
		off += (size_t)snprintf(b + off, n - off, "%s%d", l ? "-" : "", m->dim[l]);
	if (off < n)
		snprintf(b + off, n - off, ", %s activations, %d input bit-plane%s",
			 m->act == BNN_ACT_MULTI ? "multi-level" : "binary", bnn_dp_planes(m, 0),
			 bnn_dp_planes(m, 0) == 1 ? "" : "s");
}

struct bseg {
	struct bnn_model *m;
	const uint8_t *pix;
	long n;
	struct hif_calib_bnn *b;
	int reps;
	double rep_t[HIF_CALIB_REPS_MAX];
	double cpu_s, wall_s;
	volatile long sink;
};

static int bseg_init(struct bseg *g, const struct hif_calib_opts *o,
		     const struct hif_calib_work *w, struct hif_calib *c, struct nd_err *err)
{
	memset(g, 0, sizeof *g);
	if (o->bnn_images < 1)
		return nd_errf(err, -EINVAL, "calibrate: BNN images per repetition must be >= 1");
	int rc = bnn_model_for(o, w, &g->m, err);
	if (rc)
		return rc;
	struct hif_calib_bnn *b = g->b = &c->bnn;
	memset(b, 0, sizeof *b);
	g->n = o->bnn_images < (long)w->train_set->n ? o->bnn_images : (long)w->train_set->n;
	g->pix = w->train_set->pixels;
	bnn_arch(g->m, b->arch, sizeof b->arch);
	b->threads = omp_threads();
	b->word_ops = bnn_dp_host_word_ops(g->m);
	b->images = g->n;
	g->sink = bnn_predict(g->m, g->pix, g->n, NULL, NULL);    /* warm-up */
	return 0;
}

static void bseg_run(struct bseg *g)
{
	g->sink = bnn_predict(g->m, g->pix, g->n, NULL, NULL);
}

static double bseg_rep(struct bseg *g)
{
	double c0 = proc_cpu_s(), t0 = now_s();
	g->sink = bnn_predict(g->m, g->pix, g->n, NULL, NULL);
	double t = now_s() - t0;
	g->cpu_s += proc_cpu_s() - c0;
	g->wall_s += t;
	g->rep_t[g->reps++] = t;
	return t;
}

static void bseg_finish(struct bseg *g)
{
	struct hif_calib_bnn *b = g->b;
	int n = g->reps;
	b->cpu_share = g->wall_s > 0 ? g->cpu_s / (g->wall_s * b->threads) : 0;
	b->rep_s = hif_calib_median(g->rep_t, n);
	b->rep_min_s = g->rep_t[0];
	b->rep_max_s = g->rep_t[n - 1];
	b->gops = (double)b->word_ops * (double)b->images / b->rep_s * 1e-9;
	b->gops_per_core = sig4(b->gops / b->threads);
	b->done = 1;
	bnn_model_free(g->m);
	g->m = NULL;
}

/* ------------------------------------------------------------------ RAPL */

const char *hif_rapl_root(void)
{
	const char *e = getenv("NDPSIM_POWERCAP_ROOT");
	return e && *e ? e : "/sys/class/powercap";
}

/* One unsigned decimal number from a sysfs file.  0 or -errno. */
static int read_u64_file(const char *path, uint64_t *v, struct nd_err *err)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return nd_errf(err, -errno, "%s: cannot read: %s", path, strerror(errno));
	char b[64];
	ssize_t n = read(fd, b, sizeof b - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return nd_errf(err, -e, "%s: cannot read: %s", path, strerror(e));
	b[n] = '\0';
	char *end;
	errno = 0;
	unsigned long long x = strtoull(b, &end, 10);
	while (*end == '\n' || *end == ' ')
		end++;
	if (n == 0 || b[0] < '0' || b[0] > '9' || *end || errno)
		return nd_errf(err, -EINVAL, "%s: expected a counter in microjoules, got '%.20s'",
			       path, b);
	*v = x;
	return 0;
}

/* "intel-rapl:<digits>" and nothing after (sub-zones are intel-rapl:N:M). */
static int is_package_zone_name(const char *d)
{
	if (strncmp(d, "intel-rapl:", 11) || !d[11])
		return 0;
	for (const char *p = d + 11; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

int hif_rapl_open(const char *root, struct hif_rapl *r, struct nd_err *err)
{
	memset(r, 0, sizeof *r);
	if (strlen(root) > 200)
		return nd_errf(err, -EINVAL, "%.60s...: powercap root longer than 200 bytes", root);
	DIR *d = opendir(root);
	if (!d)
		return nd_errf(err, errno == ENOENT ? -ENOENT : -errno, "%s: no powercap interface: %s",
			       root, strerror(errno));
	char zones[HIF_RAPL_MAX][64];
	int nz = 0;
	struct dirent *e;
	while ((e = readdir(d)) && nz < HIF_RAPL_MAX)
		if (is_package_zone_name(e->d_name) && strlen(e->d_name) < sizeof zones[0])
			snprintf(zones[nz++], sizeof zones[0], "%s", e->d_name);
	closedir(d);
	qsort(zones, (size_t)nz, sizeof zones[0], cmp_str);
	int rc = 0;
	for (int i = 0; i < nz; i++) {
		char p[320], name[64] = "";
		snprintf(p, sizeof p, "%.200s/%.63s/name", root, zones[i]);
		FILE *f = fopen(p, "r");
		if (!f)
			continue;
		if (!fgets(name, sizeof name, f))
			name[0] = '\0';
		fclose(f);
		if (strncmp(name, "package", 7))
			continue;   /* psys, dram, ...: not the package */
		int k = r->n;
		snprintf(p, sizeof p, "%.200s/%.63s/max_energy_range_uj", root, zones[i]);
		if ((rc = read_u64_file(p, &r->range_uj[k], err)))
			return rc;
		if (r->range_uj[k] == 0)
			return nd_errf(err, -EINVAL, "%s: a range of 0 uJ", p);
		snprintf(r->path[k], sizeof r->path[k], "%.200s/%.63s/energy_uj", root, zones[i]);
		if ((rc = read_u64_file(r->path[k], &r->last_uj[k], err)))
			return rc;
		r->n++;
	}
	if (!r->n)
		return nd_errf(err, -ENOENT, "%s: no package domain (intel-rapl:N with name package-N)",
			       root);
	return 0;
}

int hif_rapl_read(struct hif_rapl *r, double *joules, struct nd_err *err)
{
	for (int k = 0; k < r->n; k++) {
		uint64_t v;
		int rc = read_u64_file(r->path[k], &v, err);
		if (rc)
			return rc;
		uint64_t last = r->last_uj[k];
		if (v >= last) {
			r->uj += (double)(v - last);
		} else {
			/* One wrap: up to the top of the range, then from 0. */
			r->uj += (double)(r->range_uj[k] - last) + (double)v;
			r->wraps++;
		}
		r->last_uj[k] = v;
	}
	if (joules)
		*joules = r->uj * 1e-6;
	return 0;
}

/* ------------------------------------------------------------------ the kernels, interleaved */

/* The highest package power the sampler is sized for, W: above the
 * largest server packages shipped (AMD EPYC 9965 and Intel Xeon 6980P are
 * rated 500 W TDP); the counter is read at least twice per wrap at this
 * power. */
#define RAPL_P_BOUND_W 1000.0
#define RAPL_PERIOD_MAX_S 0.05   /* reads at least every 50 ms anyway */
#define RAPL_PERIOD_MIN_S 0.001  /* a range that needs faster reads is refused */

/* Everything one calibration (and validation) times: the segments of the
 * kernels asked for, and the RAPL reader when it opened.  A sampler thread
 * reads the counters every `period_s` (range / 2 kW, at most 50 ms) from
 * the idle interval to the end of the power window, so that no counter
 * wraps twice between two reads whatever the kernels' repetition lengths. */
struct calib_run {
	struct seg *seg[2];
	struct bseg *bseg;
	struct hif_rapl rapl;
	int rapl_on;            /* guarded by mu once the sampler runs */
	int sampling;           /* the sampler thread was started */
	int stop;               /* guarded by mu */
	double period_s;
	pthread_t sampler;
	pthread_mutex_t mu;
	double active_s;        /* length of the power window, s */
};

static void power_off(struct hif_calib_power *p, const char *why)
{
	p->measured = 0;
	snprintf(p->note, sizeof p->note, "power not measured: %s", why);
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - floor(s)) * 1e9) };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Reads the counters now (under the lock) and returns the joules summed
 * since the open; 0 and rapl_on = 0 once a read fails. */
static double rapl_now(struct calib_run *X)
{
	double j = 0;
	struct nd_err e = { 0 };
	if (X->sampling)
		pthread_mutex_lock(&X->mu);
	if (X->rapl_on && hif_rapl_read(&X->rapl, &j, &e))
		X->rapl_on = 0;
	if (X->sampling)
		pthread_mutex_unlock(&X->mu);
	return j;
}

static void *sampler_main(void *arg)
{
	struct calib_run *X = arg;
	for (;;) {
		pthread_mutex_lock(&X->mu);
		int stop = X->stop;
		pthread_mutex_unlock(&X->mu);
		if (stop)
			return NULL;
		rapl_now(X);
		sleep_s(X->period_s);
	}
}

static void sampler_stop(struct calib_run *X)
{
	if (!X->sampling)
		return;
	pthread_mutex_lock(&X->mu);
	X->stop = 1;
	pthread_mutex_unlock(&X->mu);
	pthread_join(X->sampler, NULL);
	pthread_mutex_destroy(&X->mu);
	X->sampling = 0;
}

/* Opens RAPL, starts the sampler and measures the idle interval. */
static void power_begin(const struct hif_calib_opts *o, struct calib_run *X, struct hif_calib *c)
{
	struct hif_calib_power *p = &c->power;
	memset(p, 0, sizeof *p);
	struct nd_err e = { 0 };
	const char *root = o->powercap ? o->powercap : hif_rapl_root();
	X->active_s = o->active_s;
	if (hif_rapl_open(root, &X->rapl, &e)) {
		power_off(p, e.msg);
		return;
	}
	p->domains = X->rapl.n;
	uint64_t range = X->rapl.range_uj[0];
	for (int k = 1; k < X->rapl.n; k++)
		if (X->rapl.range_uj[k] < range)
			range = X->rapl.range_uj[k];
	double period = (double)range * 1e-6 / (2 * RAPL_P_BOUND_W);
	if (period < RAPL_PERIOD_MIN_S) {
		char b[200];
		snprintf(b, sizeof b, "a counter range of %.4g J wraps within %.3g ms at %.0f W, too "
			 "short to sample", (double)range * 1e-6, 2e3 * period, RAPL_P_BOUND_W);
		power_off(p, b);
		return;
	}
	X->period_s = period < RAPL_PERIOD_MAX_S ? period : RAPL_PERIOD_MAX_S;
	X->rapl_on = 1;
	if (pthread_mutex_init(&X->mu, NULL)) {
		power_off(p, "pthread_mutex_init failed");
		X->rapl_on = 0;
		return;
	}
	if (pthread_create(&X->sampler, NULL, sampler_main, X)) {
		pthread_mutex_destroy(&X->mu);
		power_off(p, "could not start the counter sampler thread");
		X->rapl_on = 0;
		return;
	}
	X->sampling = 1;
	double t0 = now_s(), j0 = rapl_now(X);
	sleep_s(o->idle_s);
	double j1 = rapl_now(X);
	p->idle_s = now_s() - t0;
	p->idle_j = j1 - j0;
}

/* One repetition of every calibration segment. */
static void calib_round(struct calib_run *X)
{
	for (int k = 0; k < 2; k++)
		if (X->seg[k])
			seg_rep(X->seg[k]);
	if (X->bseg)
		bseg_rep(X->bseg);
}

/* The power window: the kernels back to back (untimed for their rates) for
 * at least X->active_s, one energy reading at each end.  One window of a
 * second or more, not the sum of per-repetition brackets: a bracket of a
 * few ms is of the order of the counter's own update interval (~1 ms on
 * Intel RAPL), and its error would not average out. */
static void power_window(struct calib_run *X, struct hif_calib *c)
{
	struct hif_calib_power *p = &c->power;
	if (p->note[0] || !X->rapl_on)
		return;
	double t0 = now_s(), j0 = rapl_now(X), t;
	do {
		for (int k = 0; k < 2; k++)
			if (X->seg[k])
				seg_run(X->seg[k]);
		if (X->bseg)
			bseg_run(X->bseg);
	} while ((t = now_s() - t0) < X->active_s);
	double j1 = rapl_now(X);
	p->active_s = now_s() - t0;
	p->active_j = j1 - j0;
}

static void power_finish(struct calib_run *X, struct hif_calib *c)
{
	struct hif_calib_power *p = &c->power;
	int on = X->rapl_on;
	sampler_stop(X);
	if (p->note[0])
		return;   /* already "not measured" */
	if (!on) {
		power_off(p, "the energy counter became unreadable during the run");
		return;
	}
	if (p->idle_s <= 0 || p->active_s <= 0 || p->idle_j <= 0 || p->active_j <= 0) {
		power_off(p, "the energy counter did not advance");
		return;
	}
	double pi = sig4(p->idle_j / p->idle_s), pa = sig4(p->active_j / p->active_s);
	if (pa < pi) {
		char b[200];
		snprintf(b, sizeof b, "active %.4g W came out below idle %.4g W (another process "
			 "busy during the quiet interval?)", pa, pi);
		power_off(p, b);
		return;
	}
	p->p_idle_w = pi;
	p->p_active_w = pa;
	p->measured = 1;
	snprintf(p->note, sizeof p->note, "package energy from %d RAPL package domain%s "
		 "(powercap energy_uj%s, read every %.3g ms): idle %.4g J over %.3f s asleep, "
		 "active %.4g J over %.3f s of the calibrated kernels run back to back on %d "
		 "threads", p->domains, p->domains == 1 ? "" : "s",
		 X->rapl.wraps ? ", wrapped" : "", X->period_s * 1e3, p->idle_j, p->idle_s,
		 p->active_j, p->active_s, c->threads);
}

static void run_free(struct calib_run *X)
{
	sampler_stop(X);
	for (int k = 0; k < 2; k++)
		if (X->seg[k]) {
			seg_free(X->seg[k]);
			free(X->seg[k]);
		}
	if (X->bseg) {
		bnn_model_free(X->bseg->m);
		free(X->bseg);
	}
	memset(X, 0, sizeof *X);
}

static int run_init(struct calib_run *X, const struct hif_calib_opts *o,
		    const struct hif_calib_work *w, struct hif_calib *c, struct nd_err *err)
{
	memset(X, 0, sizeof *X);
	if (c->reps < 1 || c->reps > HIF_CALIB_REPS_MAX)
		return nd_errf(err, -EINVAL, "calibrate: repetitions must be 1..%d", HIF_CALIB_REPS_MAX);
	if (!(o->kernels & HIF_CALIB_ALL))
		return nd_errf(err, -EINVAL, "calibrate: no kernel to calibrate");
	c->threads = omp_threads();
	power_begin(o, X, c);
	int rc = 0;
	for (int k = 0; k < 2 && !rc; k++)
		if (o->kernels & (1u << k)) {
			X->seg[k] = xmalloc(sizeof *X->seg[k]);
			if ((rc = seg_init(X->seg[k], k, o, w, c, err))) {
				free(X->seg[k]);
				X->seg[k] = NULL;
			}
		}
	if (!rc && (o->kernels & (1u << HIF_CALIB_BNN))) {
		X->bseg = xmalloc(sizeof *X->bseg);
		if ((rc = bseg_init(X->bseg, o, w, c, err))) {
			free(X->bseg);
			X->bseg = NULL;
		}
	}
	if (rc)
		run_free(X);
	return rc;
}

static void run_finish(struct calib_run *X, struct hif_calib *c)
{
	power_window(X, c);
	for (int k = 0; k < 2; k++)
		if (X->seg[k]) {
			seg_finish(X->seg[k]);
			free(X->seg[k]);
			X->seg[k] = NULL;
		}
	if (X->bseg) {
		bseg_finish(X->bseg);
		free(X->bseg);
		X->bseg = NULL;
	}
	power_finish(X, c);
}

int hif_calib_kernels(const struct hif_calib_opts *o, const struct hif_calib_work *w,
		      struct hif_calib *c, struct nd_err *err)
{
	struct calib_run X;
	int rc = run_init(&X, o, w, c, err);
	if (rc)
		return rc;
	for (int r = 0; r < c->reps; r++)
		calib_round(&X);
	run_finish(&X, c);
	return 0;
}

void hif_calib_apply(const struct hif_calib *c, struct ihp_params *host)
{
	int any = c->sgd[0].done || c->sgd[1].done || c->bnn.done;
	if (any)
		host->cores = c->threads;
	if (c->sgd[HIF_CALIB_LR].done)
		host->gflops_lr = c->sgd[HIF_CALIB_LR].gflops_per_core;
	if (c->sgd[HIF_CALIB_MLP].done)
		host->gflops_mlp = c->sgd[HIF_CALIB_MLP].gflops_per_core;
	if (c->bnn.done)
		host->bnn_gops = c->bnn.gops_per_core;
	if (c->power.measured) {
		host->p_idle_w = c->power.p_idle_w;
		host->p_active_w = c->power.p_active_w;
	}
	if (c->io_keys && c->io_done && c->io_sw_from >= 0)
		host->io_sw_ns = c->io_sw_ns;
	if (c->io_keys && c->dram_gb_s > 0)
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

/* Appends to d[off..n); returns the new offset (at most n). */
static size_t cat(char *d, size_t off, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static size_t cat(char *d, size_t off, size_t n, const char *fmt, ...)
{
	if (off >= n)
		return n;
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(d + off, n - off, fmt, ap);
	va_end(ap);
	return k < 0 ? off : nd_min_u64(n, off + (size_t)k);
}

struct cJSON *hif_calib_profile_json(const struct hif_calib *c)
{
	cJSON *j = cJSON_CreateObject();
	char d[6144], md[CFG_STR_MAX + 64];
	snprintf(d, sizeof d, "host profile measured by ndpsim calibrate %s on %s (%s); "
		 "apply it with --host-profile FILE (after --host NAME, whose other figures it "
		 "keeps); raw numbers in the .measurements.json beside it",
		 NDPSIM_VERSION, c->when, c->machine);
	cJSON_AddStringToObject(j, "description", d);
	cJSON *h = cJSON_AddObjectToObject(j, "host");
	size_t off = 0, n = sizeof d;
	d[0] = '\0';
	int any = c->sgd[0].done || c->sgd[1].done || c->bnn.done;
	if (any)
		off = cat(d, off, n, "cores = the %d OpenMP thread%s every kernel below ran on. ",
			  c->threads, c->threads == 1 ? "" : "s");
	for (int k = 0; k < 2; k++) {
		const struct hif_calib_sgd *s = &c->sgd[k];
		if (!s->done)
			continue;
		off = cat(d, off, n,
			"gflops_%s = FLOPs of the shared SGD step of workloads/sgd.h (wl_sgd_flops: "
			"2 x MACs executed, dense %llu per sample, + element-wise ops on %zu params) / "
			"wall time of the in-host step as hostif/host.c runs it (sample assembly + the "
			"shared step) / threads, %s, %d x %d samples per step, median of %d x steps "
			"%u-%u of epoch 1 on Fashion-MNIST: %.4g GFLOP/s on %d threads. ",
			s->model, (unsigned long long)(s->macs_fwd + s->macs_bwd), s->n_params,
			model_desc(s, md, sizeof md), s->streams, s->stream_batch, c->reps,
			s->first_step + 1, s->first_step + s->steps, s->gflops, s->threads);
	}
	if (c->bnn.done)
		off = cat(d, off, n,
			"bnn_gops = 64-bit XNOR+popcount word-ops of bnn_predict (bnn_dp_host_word_ops: "
			"%llu per image, the count hostif/plat_host.c charges) x images / wall time / "
			"threads, network %s, %ld training images per run, median of %d: %.4g Gword-op/s "
			"on %d threads. ", (unsigned long long)c->bnn.word_ops, c->bnn.arch,
			c->bnn.images, c->reps, c->bnn.gops, c->bnn.threads);
	if (c->power.measured)
		off = cat(d, off, n, "p_idle_w / p_active_w = %s. ", c->power.note);
	else
		off = cat(d, off, n, "%s; host.p_active_w and host.p_idle_w are not in this profile "
			  "and keep the figures of the preset it is applied over. ", c->power.note[0] ?
			  c->power.note : "power not measured");
	if (c->io_keys && c->io_done && c->io_sw_from >= 0) {
		const struct hif_calib_io *io = &c->io[c->io_sw_from];
		off = cat(d, off, n,
			"io_sw_ns = CPU time (user + system) of the reading thread per %llu-byte "
			"read, %s%s, QD %u, median of %d reads of a %llu-byte file (%.1f MB/s). ",
			(unsigned long long)c->io_bs_bytes,
			hif_io_backend_long(io->backend), io->direct ? " O_DIRECT" : "",
			io->qd, c->reps, (unsigned long long)io->bytes, io->mb_s);
	}
	if (c->io_keys && c->dram_gb_s > 0)
		off = cat(d, off, n, "dram_gb_s = memcpy of 64 MiB on one thread, bytes read + "
			  "written, median of %d. ", c->reps);
	cat(d, off, n, "Other host keys are not set here.");
	cJSON_AddStringToObject(h, "description", d);
	if (any)
		cJSON_AddItemToObject(h, "cores", rep_num(c->threads));
	if (c->sgd[HIF_CALIB_LR].done)
		cJSON_AddItemToObject(h, "gflops_lr", rep_num(c->sgd[HIF_CALIB_LR].gflops_per_core));
	if (c->sgd[HIF_CALIB_MLP].done)
		cJSON_AddItemToObject(h, "gflops_mlp", rep_num(c->sgd[HIF_CALIB_MLP].gflops_per_core));
	if (c->bnn.done)
		cJSON_AddItemToObject(h, "bnn_gops", rep_num(c->bnn.gops_per_core));
	if (c->power.measured) {
		cJSON_AddItemToObject(h, "p_idle_w", rep_num(c->power.p_idle_w));
		cJSON_AddItemToObject(h, "p_active_w", rep_num(c->power.p_active_w));
	}
	if (c->io_keys && c->io_done && c->io_sw_from >= 0)
		cJSON_AddItemToObject(h, "io_sw_ns", rep_num((double)c->io_sw_ns));
	if (c->io_keys && c->dram_gb_s > 0)
		cJSON_AddItemToObject(h, "dram_gb_s", rep_num(c->dram_gb_s));
	return j;
}

const char *const hif_calib_check_names[] = {
	"lr_epoch", "mlp_epoch", "bnn_infer", "mlp_epoch_from_lr", "bnn_infer_from_lr", NULL
};

static void add_sgd(cJSON *o, const struct hif_calib_sgd *s)
{
	cJSON_AddStringToObject(o, "model", s->model);
	cJSON_AddStringToObject(o, "hidden", s->hidden);
	rep_add_u64(o, "streams", (uint64_t)s->streams);
	rep_add_u64(o, "stream_batch", (uint64_t)s->stream_batch);
	rep_add_u64(o, "batch", (uint64_t)s->batch);
	rep_add_u64(o, "threads", (uint64_t)s->threads);
	rep_add_u64(o, "params", s->n_params);
	rep_add_u64(o, "macs_fwd_dense", s->macs_fwd);
	rep_add_u64(o, "macs_bwd_dense", s->macs_bwd);
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
	rep_add_u64(j, "threads", (uint64_t)c->threads);
	cJSON *pw = cJSON_AddObjectToObject(j, "power");
	cJSON_AddStringToObject(pw, "status", c->power.measured ? "measured" : "power not measured");
	cJSON_AddStringToObject(pw, "note", c->power.note[0] ? c->power.note : "power not measured");
	if (c->power.measured) {
		rep_add_u64(pw, "domains", (uint64_t)c->power.domains);
		rep_add_dbl(pw, "idle_s", c->power.idle_s);
		rep_add_dbl(pw, "idle_j", c->power.idle_j);
		rep_add_dbl(pw, "active_s", c->power.active_s);
		rep_add_dbl(pw, "active_j", c->power.active_j);
		rep_add_dbl(pw, "p_idle_w", c->power.p_idle_w);
		rep_add_dbl(pw, "p_active_w", c->power.p_active_w);
	}
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
				/* the report schema's latency object (docs/report-schema.md) */
				cJSON *l = cJSON_AddObjectToObject(o, "lat_ns");
				rep_add_dbl(l, "mean", b->lat_mean_us * 1e3);
				rep_add_dbl(l, "p50", b->lat_p50_us * 1e3);
				rep_add_dbl(l, "p99", b->lat_p99_us * 1e3);
				rep_add_dbl(l, "max", b->lat_max_us * 1e3);
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
	for (int k = 0; k < 2; k++)
		if (c->sgd[k].done)
			add_sgd(cJSON_AddObjectToObject(j, k ? "sgd_mlp" : "sgd_lr"), &c->sgd[k]);
	if (c->bnn.done) {
		const struct hif_calib_bnn *b = &c->bnn;
		cJSON *o = cJSON_AddObjectToObject(j, "bnn");
		cJSON_AddStringToObject(o, "network", b->arch);
		rep_add_u64(o, "threads", (uint64_t)b->threads);
		rep_add_u64(o, "word_ops_per_image", b->word_ops);
		rep_add_u64(o, "images_per_rep", (uint64_t)b->images);
		rep_add_dbl(o, "rep_s", b->rep_s);
		rep_add_dbl(o, "rep_min_s", b->rep_min_s);
		rep_add_dbl(o, "rep_max_s", b->rep_max_s);
		rep_add_dbl(o, "cpu_share", b->cpu_share);
		rep_add_dbl(o, "gops", b->gops);
		rep_add_dbl(o, "gops_per_core", b->gops_per_core);
	}
	if (v) {
		cJSON *o = cJSON_AddObjectToObject(j, "validation");
		rep_add_u64(o, "threads", (uint64_t)v->threads);
		rep_add_u64(o, "cores", (uint64_t)v->cores);
		rep_add_u64(o, "runs", (uint64_t)v->epochs);
		rep_add_dbl(o, "cpu_share", v->cpu_share);
		static const char *const run_names[3] = { "lr_epoch_s", "mlp_epoch_s", "bnn_infer_s" };
		cJSON *ms = cJSON_AddObjectToObject(o, "measured_runs");
		for (int k = 0; k < 3; k++) {
			if (!(k < 2 ? v->steps[k] : (uint32_t)v->bnn_images))
				continue;
			cJSON *a = cJSON_AddArrayToObject(ms, run_names[k]);
			for (int e = 0; e < v->epochs; e++)
				cJSON_AddItemToArray(a, rep_num(v->meas_s[k][e]));
		}
		for (int k = 0; k < 2; k++)
			if (v->steps[k]) {
				cJSON *e = cJSON_AddObjectToObject(o, k ? "mlp" : "lr");
				rep_add_u64(e, "samples_per_epoch", v->samples[k]);
				rep_add_u64(e, "steps_per_epoch", v->steps[k]);
				rep_add_dbl(e, "flops_per_epoch", v->flops[k]);
				rep_add_dbl(e, "predicted_epoch1_s", v->pred_epoch1_s[k]);
				cJSON_AddBoolToObject(e, "same_params", v->same_params[k]);
			}
		if (v->bnn_images) {
			cJSON *e = cJSON_AddObjectToObject(o, "bnn");
			rep_add_u64(e, "test_images", (uint64_t)v->bnn_images);
			rep_add_u64(e, "word_ops_per_image", v->bnn_word_ops);
			rep_add_u64(e, "correct", (uint64_t)v->bnn_correct);
		}
		if (v->scale > 0) {
			cJSON *e = cJSON_AddObjectToObject(o, "from_lr");
			cJSON_AddStringToObject(e, "rule", "gflops_mlp and bnn_gops = the preset's x "
						"(measured gflops_lr / the preset's gflops_lr)");
			rep_add_dbl(e, "scale", v->scale);
			rep_add_dbl(e, "preset_gflops_lr", v->preset_lr);
			rep_add_dbl(e, "preset_gflops_mlp", v->preset_mlp);
			rep_add_dbl(e, "preset_bnn_gops", v->preset_bnn);
		}
		cJSON *a = cJSON_AddArrayToObject(o, "checks");
		for (int k = 0; k < HIF_CHK_N; k++) {
			const struct hif_calib_check *ck = &v->chk[k];
			if (!ck->done)
				continue;
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "what", hif_calib_check_names[k]);
			rep_add_dbl(e, "rate_per_core", ck->rate);
			rep_add_dbl(e, "predicted_s", ck->pred_s);
			rep_add_dbl(e, "measured_s", ck->meas_s);
			rep_add_dbl(e, "ratio", ck->ratio);
			cJSON_AddItemToArray(a, e);
		}
	}
	return j;
}

/* ------------------------------------------------------------------ validation */

/* One kernel's real epochs: its own train section (model set, 2 epochs for
 * the model) and replica.  Must not move once initialised. */
struct vrun {
	struct ndp_train_params tp;
	struct hif_calib_work w;
	struct replica R;
	float *after2;
	int on;
};

static int vrun_init(struct vrun *x, int kernel, const struct hif_calib_work *w,
		     struct nd_err *err)
{
	memset(x, 0, sizeof *x);
	x->tp = *w->train;
	x->tp.model = kernel == HIF_CALIB_MLP ? NDP_MODEL_MLP : NDP_MODEL_LR;
	x->tp.epochs = 2;
	x->tp.evals_per_epoch = 1;     /* observer only: no simulated time */
	x->w = *w;
	x->w.train = &x->tp;
	int rc = replica_init(&x->R, &x->w, err);
	if (rc)
		return rc;
	x->after2 = xmalloc(x->R.np * sizeof *x->after2);
	x->on = 1;
	return 0;
}

static void vrun_free(struct vrun *x)
{
	if (!x->on)
		return;
	replica_free(&x->R);
	free(x->after2);
	x->on = 0;
}

/* Real epoch i (0-based) of x; returns its wall time. */
static double vrun_epoch(struct vrun *x, int i, double *flops, uint64_t *samples)
{
	struct replica *R = &x->R;
	replica_epoch(R, i);
	R->flops = 0;
	R->samples = 0;
	double t0 = now_s();
	for (uint32_t k = 0; k < R->S; k++)
		replica_step(R, k, i);
	double t = now_s() - t0;
	if (i == 1) {
		memcpy(x->after2, R->hs.params, R->np * sizeof *x->after2);
		*flops = R->flops;
		*samples = R->samples;
	}
	return t;
}

/* ihp_train() of x's kernel under hp: epoch 2 (and 1) of 2, and whether
 * its parameters equal the real run's. */
static int predict_epoch(const struct vrun *x, const struct ihp_params *hp,
			 double *pred_s, double *pred1_s, int *same, struct nd_err *err)
{
	struct ihp_run_opts io = {
		.train = &x->tp, .host = hp, .ssd = x->w.ssd, .train_set = x->w.train_set,
		.test_set = x->w.test_set, .seed = x->w.seed, .progress = 0,
	};
	struct ndp_result r;
	int rc = ihp_train(&io, &r, err);
	if (!rc) {
		*pred1_s = (double)r.epoch_end_ns[0] * 1e-9;
		*pred_s = (double)(r.epoch_end_ns[1] - r.epoch_end_ns[0]) * 1e-9;
		if (same)
			*same = x->R.np == r.n_params &&
				!memcmp(x->after2, r.params, x->R.np * sizeof *x->after2);
	}
	ndp_result_free(&r);
	return rc;
}

/* The host platform's CPU time for n images (ihp_bnn_ns, what
 * hostif/plat_host.c charges). */
static double bnn_pred_s(uint64_t word_ops, long n, const struct ihp_params *h)
{
	return (double)ihp_bnn_ns(h, (double)word_ops * (double)n) * 1e-9;
}

static void set_check(struct hif_calib_valid *v, int id, double rate, double pred, double meas)
{
	struct hif_calib_check *c = &v->chk[id];
	c->done = 1;
	c->rate = rate;
	c->pred_s = pred;
	c->meas_s = meas;
	c->ratio = meas > 0 ? pred / meas : (double)NAN;
}

int hif_calib_validate(const struct hif_calib_opts *o, const struct hif_calib_work *w,
		       const struct ihp_params *host, struct hif_calib *c,
		       struct hif_calib_valid *v, struct nd_err *err)
{
	memset(v, 0, sizeof *v);
	int E = o->val_epochs;
	if (E < 2 || E > HIF_CALIB_REPS_MAX)
		return nd_errf(err, -EINVAL, "calibrate: validation runs must be 2..%d",
			       HIF_CALIB_REPS_MAX);
	if (!(o->kernels & HIF_CALIB_ALL))
		return nd_errf(err, -EINVAL, "calibrate: no kernel to validate");
	struct calib_run X;
	struct vrun vr[2];
	struct bnn_model *own = NULL;
	const struct bnn_model *vm = NULL;
	int rc = 0, cal = 0;
	memset(vr, 0, sizeof vr);
	memset(&X, 0, sizeof X);
	if (c) {
		if ((rc = run_init(&X, o, w, c, err)))
			return rc;
		cal = 1;
	}
	for (int k = 0; k < 2 && !rc; k++)
		if (o->kernels & (1u << k))
			rc = vrun_init(&vr[k], k, w, err);
	if (!rc && (o->kernels & (1u << HIF_CALIB_BNN))) {
		if (X.bseg)
			vm = X.bseg->m;   /* the same network, on the test set */
		else if (!(rc = bnn_model_for(o, w, &own, err)))
			vm = own;
	}
	if (rc)
		goto out;

	/* The runs for real, data in memory; calibration repetitions (when
	 * asked) alternate with them. */
	v->threads = omp_threads();
	v->epochs = E;
	if (vm) {
		v->bnn_images = (long)w->test_set->n;
		v->bnn_word_ops = bnn_dp_host_word_ops(vm);
		bnn_predict(vm, w->test_set->pixels, v->bnn_images, NULL, NULL);   /* warm-up */
	}
	double cpu = 0, wall = 0;
	int rounds = c && c->reps > E ? c->reps : E;
	for (int i = 0; i < rounds; i++) {
		if (cal && i < c->reps)
			calib_round(&X);
		if (i >= E)
			continue;
		double c0 = proc_cpu_s(), w0 = 0;
		for (int k = 0; k < 2; k++)
			if (vr[k].on)
				w0 += v->meas_s[k][i] = vrun_epoch(&vr[k], i, &v->flops[k],
								   &v->samples[k]);
		if (vm) {
			double t0 = now_s();
			v->bnn_correct = bnn_predict(vm, w->test_set->pixels, v->bnn_images,
						     w->test_set->labels, NULL);
			w0 += v->meas_s[2][i] = now_s() - t0;
		}
		if (i >= 1) {
			cpu += proc_cpu_s() - c0;
			wall += w0;
		}
	}
	v->cpu_share = wall > 0 ? cpu / (wall * v->threads) : 0;
	/* The first run of each warms caches and the thread pool up. */
	double meas[3] = { 0, 0, 0 };
	for (int k = 0; k < 3; k++) {
		if (k < 2 ? !vr[k].on : !vm)
			continue;
		double m[HIF_CALIB_REPS_MAX];
		memcpy(m, v->meas_s[k] + 1, (size_t)(E - 1) * sizeof *m);
		meas[k] = hif_calib_median(m, E - 1);
	}
	for (int k = 0; k < 2; k++)
		if (vr[k].on)
			v->steps[k] = vr[k].R.S;
	if (cal) {
		run_finish(&X, c);
		cal = 0;
	}

	/* The model: with the profile, two epochs, everything cached after
	 * the first.  Deterministic, so it may run last. */
	struct ihp_params hp = *host;
	if (c)
		hif_calib_apply(c, &hp);
	hp.page_cache_ratio = 2.0;
	v->cores = hp.cores;
	for (int k = 0; k < 2 && !rc; k++) {
		if (!vr[k].on)
			continue;
		double pred;
		rc = predict_epoch(&vr[k], &hp, &pred, &v->pred_epoch1_s[k], &v->same_params[k], err);
		if (!rc)
			set_check(v, k ? HIF_CHK_MLP_EPOCH : HIF_CHK_LR_EPOCH,
				  k ? hp.gflops_mlp : hp.gflops_lr, pred, meas[k]);
	}
	if (!rc && vm)
		set_check(v, HIF_CHK_BNN_INFER, hp.bnn_gops,
			  bnn_pred_s(v->bnn_word_ops, v->bnn_images, &hp), meas[2]);

	/* Calibrated on LR only: the preset's other rates scaled by the same
	 * factor (the rule configs/hosts/ was made with). */
	if (!rc && c && c->sgd[HIF_CALIB_LR].done && (vr[1].on || vm)) {
		struct ihp_params hx = hp;
		v->preset_lr = host->gflops_lr;
		v->preset_mlp = host->gflops_mlp;
		v->preset_bnn = host->bnn_gops;
		v->scale = c->sgd[HIF_CALIB_LR].gflops_per_core / host->gflops_lr;
		hx.gflops_mlp = host->gflops_mlp * v->scale;
		hx.bnn_gops = host->bnn_gops * v->scale;
		if (vr[1].on) {
			double pred, p1;
			rc = predict_epoch(&vr[1], &hx, &pred, &p1, NULL, err);
			if (!rc)
				set_check(v, HIF_CHK_MLP_FROM_LR, hx.gflops_mlp, pred, meas[1]);
		}
		if (!rc && vm)
			set_check(v, HIF_CHK_BNN_FROM_LR, hx.bnn_gops,
				  bnn_pred_s(v->bnn_word_ops, v->bnn_images, &hx), meas[2]);
	}
out:
	if (cal)
		run_free(&X);
	for (int k = 0; k < 2; k++)
		vrun_free(&vr[k]);
	bnn_model_free(own);
	return rc;
}
