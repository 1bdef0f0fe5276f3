/*
 * io.c — the real-read engine and its three backends (io_uring, libaio,
 * pread).  See io.h for the contract.
 *
 * The engine is backend-neutral: it keeps a free list of requests (one
 * aligned buffer each), hands batches to ops->submit, waits in ops->reap for
 * at least one completion, and handles short reads, the per-block latency and
 * the in-order crc fold.  A backend only moves requests to the kernel and
 * back, so the three are measured with exactly the same bookkeeping.
 */
#include "hostif/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <libaio.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "core/file.h"
#include "core/util.h"

/* All buffers together may not exceed this: qd and bs are user input, and a
 * typo such as --qd 4096 --bs 64M should be an error, not a 256 GiB map. */
#define HIF_IO_BUF_MAX_BYTES (1ull << 30)

struct hif_req {
	unsigned char *buf;     /* bs_bytes, HIF_IO_ALIGN_BYTES aligned */
	uint64_t block;         /* index of the block in the file */
	uint64_t off;           /* file offset of the block */
	size_t want;            /* bytes in this block (bs, or less at EOF) */
	size_t done;            /* bytes read so far */
	size_t len;             /* bytes asked by the read in flight */
	uint64_t t_submit_ns;   /* first submission of the block, 0 = not yet */
	long res;               /* sync backend: result of pread */
	struct iocb iocb;       /* aio backend: its control block */
};

struct hif_io_ops {
	const char *name;       /* "uring" */
	const char *long_name;  /* "io_uring" */
	unsigned qd_max;        /* most requests it keeps in flight, 0 = any */
	/* Prepares the backend for r->qd_eff requests on r->fd. 0 / -errno. */
	int (*setup)(hif_reader *r);
	/* Hands n reads to the kernel (or queues them for the next reap).
	 * Returns how many were taken (the rest are offered again later) or
	 * -errno. */
	int (*submit)(hif_reader *r, struct hif_req **reqs, unsigned n);
	/* Waits for at least one completion; stores up to max requests and
	 * their results (bytes or -errno).  Returns the count or -errno. */
	int (*reap)(hif_reader *r, struct hif_req **done, long *res, unsigned max);
	void (*teardown)(hif_reader *r);
};

struct hif_reader {
	char *path;
	int fd;
	int direct;
	int do_crc;
	size_t bs_bytes;
	unsigned qd_eff;                /* at most this many in flight */
	const struct hif_io_ops *ops;
	int ready;                      /* backend set up (teardown needed) */
	int broken;                     /* a reap failed: requests may be lost */

	unsigned char *bufs;            /* qd_eff * bs_bytes */
	struct hif_req *reqs;           /* qd_eff */
	struct hif_req **free_reqs;     /* stack, qd_eff */
	struct hif_req **pend;          /* waiting to be submitted, qd_eff */
	struct hif_req **done;          /* reap output, qd_eff */
	long *done_res;                 /* reap output, qd_eff */

	size_t window;                  /* crc fold window, blocks (grows) */
	uint32_t *win_crc;
	unsigned char *win_ok;

	char note[512];

	union {
		struct io_uring ring;
		struct {
			io_context_t ctx;
			struct io_event *ev;
			struct iocb **iocbs;
		} aio;
		struct {
			unsigned ndone;
		} sync;
	} u;
};

/* ---- test hooks ---------------------------------------------------------- */

static int g_force_err[3];          /* indexed like g_ops */
static unsigned g_short_every;
static size_t g_window0;            /* initial fold window, 0 = default */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- io_uring -------------------------------------------------------------- */

static int uring_setup(hif_reader *r)
{
	return io_uring_queue_init(r->qd_eff, &r->u.ring, 0);
}

/* Only fills SQEs: the syscall happens in uring_reap, so one
 * io_uring_enter both submits a batch and waits for completions. */
static int uring_submit(hif_reader *r, struct hif_req **reqs, unsigned n)
{
	unsigned i;
	for (i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&r->u.ring);
		struct hif_req *q = reqs[i];
		if (!sqe)
			break;
		io_uring_prep_read(sqe, r->fd, q->buf + q->done, (unsigned)q->len,
				   q->off + q->done);
		io_uring_sqe_set_data(sqe, q);
	}
	return (int)i;
}

static int uring_reap(hif_reader *r, struct hif_req **done, long *res, unsigned max)
{
	struct io_uring *ring = &r->u.ring;
	struct io_uring_cqe *cqes[64];
	if (max > ND_ARRAY_LEN(cqes))
		max = ND_ARRAY_LEN(cqes);
	for (;;) {
		unsigned ready = io_uring_cq_ready(ring);
		if (io_uring_sq_ready(ring) || !ready) {
			int ret = io_uring_submit_and_wait(ring, ready ? 0 : 1);
			if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
				return ret;
		}
		unsigned n = io_uring_peek_batch_cqe(ring, cqes, max);
		if (!n)
			continue;
		for (unsigned i = 0; i < n; i++) {
			done[i] = io_uring_cqe_get_data(cqes[i]);
			res[i] = cqes[i]->res;
		}
		io_uring_cq_advance(ring, n);
		return (int)n;
	}
}

static void uring_teardown(hif_reader *r)
{
	io_uring_queue_exit(&r->u.ring);
}

/* ---- libaio ---------------------------------------------------------------- */

static int aio_setup(hif_reader *r)
{
	r->u.aio.ctx = 0;
	int ret = io_setup((int)r->qd_eff, &r->u.aio.ctx);
	if (ret < 0)
		return ret;
	r->u.aio.ev = xcalloc(r->qd_eff, sizeof *r->u.aio.ev);
	r->u.aio.iocbs = xcalloc(r->qd_eff, sizeof *r->u.aio.iocbs);
	return 0;
}

static int aio_submit(hif_reader *r, struct hif_req **reqs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct hif_req *q = reqs[i];
		io_prep_pread(&q->iocb, r->fd, q->buf + q->done, q->len,
			      (long long)(q->off + q->done));
		q->iocb.data = q;
		r->u.aio.iocbs[i] = &q->iocb;
	}
	int ret;
	do
		ret = io_submit(r->u.aio.ctx, (long)n, r->u.aio.iocbs);
	while (ret == -EINTR);
	return ret == -EAGAIN ? 0 : ret;
}

static int aio_reap(hif_reader *r, struct hif_req **done, long *res, unsigned max)
{
	int ret;
	do
		ret = io_getevents(r->u.aio.ctx, 1, (long)max, r->u.aio.ev, NULL);
	while (ret == -EINTR);
	if (ret < 0)
		return ret;
	for (int i = 0; i < ret; i++) {
		done[i] = r->u.aio.ev[i].data;
		res[i] = (long)r->u.aio.ev[i].res;
	}
	return ret;
}

static void aio_teardown(hif_reader *r)
{
	io_destroy(r->u.aio.ctx);
	free(r->u.aio.ev);
	free(r->u.aio.iocbs);
}

/* ---- pread ----------------------------------------------------------------- */

static int sync_setup(hif_reader *r)
{
	r->u.sync.ndone = 0;
	return 0;
}

/* Does the read right away; reap then hands back what was done.  qd_eff is
 * 1 for this backend, so the measured latency is that of one pread. */
static int sync_submit(hif_reader *r, struct hif_req **reqs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct hif_req *q = reqs[i];
		ssize_t got;
		do
			got = pread(r->fd, q->buf + q->done, q->len,
				    (off_t)(q->off + q->done));
		while (got < 0 && errno == EINTR);
		q->res = got < 0 ? -errno : (long)got;
		r->done[r->u.sync.ndone++] = q;
	}
	return (int)n;
}

static int sync_reap(hif_reader *r, struct hif_req **done, long *res, unsigned max)
{
	unsigned n = r->u.sync.ndone;
	ND_ASSERT(n > 0 && n <= max);
	/* done is r->done itself (the engine passes it), only results to copy. */
	for (unsigned i = 0; i < n; i++)
		res[i] = done[i]->res;
	r->u.sync.ndone = 0;
	return (int)n;
}

static void sync_teardown(hif_reader *r)
{
	(void)r;
}

static const struct hif_io_ops g_ops[] = {
	{ "uring", "io_uring", 0, uring_setup, uring_submit, uring_reap, uring_teardown },
	{ "aio", "libaio", 0, aio_setup, aio_submit, aio_reap, aio_teardown },
	{ "sync", "pread", 1, sync_setup, sync_submit, sync_reap, sync_teardown },
};

static int ops_index(const char *name)
{
	for (size_t i = 0; i < ND_ARRAY_LEN(g_ops); i++)
		if (!strcmp(g_ops[i].name, name))
			return (int)i;
	return -1;
}

/* ---- public ---------------------------------------------------------------- */

void hif_io_opts_init(struct hif_io_opts *o)
{
	memset(o, 0, sizeof *o);
	o->backend = "uring";
	o->bs_bytes = 128u << 10;
	o->qd = 32;
	o->fallback = 1;
	o->crc = 1;
}

const char *hif_io_backend_long(const char *backend)
{
	int i = backend ? ops_index(backend) : -1;
	return i < 0 ? NULL : g_ops[i].long_name;
}

int hif_io_force_fail(const char *backend, int err)
{
	if (!backend) {
		memset(g_force_err, 0, sizeof g_force_err);
		return 0;
	}
	int i = ops_index(backend);
	if (i < 0)
		return -EINVAL;
	g_force_err[i] = err > 0 ? -err : err;
	return 0;
}

void hif_io_force_short_read(unsigned every_n)
{
	g_short_every = every_n;
}

void hif_io_force_window(size_t blocks)
{
	g_window0 = blocks;
}

/* Errors of a backend's setup that mean "not available on this system",
 * as opposed to a bug or bad arguments. */
static int setup_unavailable(int err)
{
	return err == -EPERM || err == -EACCES || err == -ENOSYS ||
	       err == -EOPNOTSUPP || err == -EAGAIN || err == -ENOMEM;
}

static void note_add(hif_reader *r, int quiet, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void note_add(hif_reader *r, int quiet, const char *fmt, ...)
{
	size_t used = strlen(r->note);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->note + used, sizeof r->note - used, fmt, ap);
	va_end(ap);
	if (!quiet) {
		fputs(r->note + used, stderr);
		fflush(stderr);
	}
}

static int setup_backend(hif_reader *r, int first, const struct hif_io_opts *o,
			 unsigned qd, struct nd_err *err)
{
	for (int i = first; i < (int)ND_ARRAY_LEN(g_ops); i++) {
		const struct hif_io_ops *ops = &g_ops[i];
		r->qd_eff = ops->qd_max && ops->qd_max < qd ? ops->qd_max : qd;
		int ret = g_force_err[i] ? g_force_err[i] : ops->setup(r);
		if (ret == 0) {
			r->ops = ops;
			r->ready = 1;
			return 0;
		}
		int last = i + 1 == (int)ND_ARRAY_LEN(g_ops);
		if (!o->fallback || last || !setup_unavailable(ret))
			return nd_errf(err, ret, "%s: %s setup failed: %s", r->path,
				       ops->long_name, strerror(-ret));
		note_add(r, o->quiet, "ndpsim: %s unavailable (%s); falling back to %s\n",
			 ops->long_name, strerror(-ret), g_ops[i + 1].long_name);
	}
	/* Not reached: the last backend either works or returns above. */
	return nd_errf(err, -EINVAL, "%s: no I/O backend left to try", r->path);
}

int hif_io_open(const char *path, const struct hif_io_opts *o,
		hif_reader **out, struct nd_err *err)
{
	hif_reader *r = NULL;
	int ret = 0;
	const char *bname = o->backend ? o->backend : "uring";
	int first = ops_index(bname);

	*out = NULL;
	if (first < 0) {
		ret = nd_errf(err, -EINVAL,
			      "unknown I/O backend '%s' (expected uring, aio or sync)", bname);
		goto out;
	}
	if (o->qd < 1 || o->qd > HIF_IO_QD_MAX) {
		ret = nd_errf(err, -EINVAL, "queue depth must be 1..%u (got %u)",
			      HIF_IO_QD_MAX, o->qd);
		goto out;
	}
	if (o->bs_bytes < 1 || o->bs_bytes > HIF_IO_BS_MAX_BYTES) {
		ret = nd_errf(err, -EINVAL, "block size must be 1..%u bytes (got %zu)",
			      HIF_IO_BS_MAX_BYTES, o->bs_bytes);
		goto out;
	}
	if (o->direct && o->bs_bytes % HIF_IO_DIRECT_MULT_BYTES) {
		ret = nd_errf(err, -EINVAL,
			      "block size %zu is not a multiple of %u bytes, which O_DIRECT requires",
			      o->bs_bytes, HIF_IO_DIRECT_MULT_BYTES);
		goto out;
	}
	if ((unsigned long long)o->qd * o->bs_bytes > HIF_IO_BUF_MAX_BYTES) {
		ret = nd_errf(err, -EINVAL,
			      "queue depth x block size = %llu bytes of buffers, more than the %llu allowed",
			      (unsigned long long)o->qd * o->bs_bytes, HIF_IO_BUF_MAX_BYTES);
		goto out;
	}

	r = xcalloc(1, sizeof *r);
	r->fd = -1;
	r->path = xstrdup(path);
	r->direct = o->direct;
	r->do_crc = o->crc;
	r->bs_bytes = o->bs_bytes;

	/* refuses FIFOs and devices without blocking in open() */
	r->fd = nd_open_regular(path, o->direct ? O_DIRECT : 0, err);
	if (r->fd < 0) {
		ret = r->fd;
		goto out;
	}
	struct stat st;
	if (fstat(r->fd, &st) < 0) {
		ret = nd_errf(err, -errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = nd_errf(err, -EISDIR, "%s: is a directory, not a file", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		ret = nd_errf(err, -EINVAL, "%s: not a regular file or block device", path);
		goto out;
	}

	ret = setup_backend(r, first, o, o->qd, err);
	if (ret < 0)
		goto out;

	size_t buf_bytes = (size_t)r->qd_eff * r->bs_bytes;
	void *mem = NULL;
	int pm = posix_memalign(&mem, HIF_IO_ALIGN_BYTES, buf_bytes);
	if (pm) {
		ret = nd_errf(err, -pm, "%s: cannot allocate %zu bytes of aligned buffers",
			      path, buf_bytes);
		goto out;
	}
	r->bufs = mem;
	/* Touch every page now, so first-use page faults are not measured as
	 * I/O time (fio does the same when it sets its buffers up). */
	memset(r->bufs, 0, buf_bytes);
	r->reqs = xcalloc(r->qd_eff, sizeof *r->reqs);
	r->free_reqs = xcalloc(r->qd_eff, sizeof *r->free_reqs);
	r->pend = xcalloc(r->qd_eff, sizeof *r->pend);
	r->done = xcalloc(r->qd_eff, sizeof *r->done);
	r->done_res = xcalloc(r->qd_eff, sizeof *r->done_res);
	for (unsigned i = 0; i < r->qd_eff; i++)
		r->reqs[i].buf = r->bufs + (size_t)i * r->bs_bytes;
	r->window = g_window0 ? g_window0 : (size_t)nd_max_u64(4 * (uint64_t)r->qd_eff, 256);
	r->win_crc = xcalloc(r->window, sizeof *r->win_crc);
	r->win_ok = xcalloc(r->window, 1);

	*out = r;
	r = NULL;
	ret = 0;
out:
	hif_io_close(r);
	return ret;
}

void hif_io_close(hif_reader *r)
{
	if (!r)
		return;
	/* Tear the backend down before freeing buffers the kernel may own. */
	if (r->ready)
		r->ops->teardown(r);
	if (r->fd >= 0)
		close(r->fd);
	free(r->bufs);
	free(r->reqs);
	free(r->free_reqs);
	free(r->pend);
	free(r->done);
	free(r->done_res);
	free(r->win_crc);
	free(r->win_ok);
	free(r->path);
	free(r);
}

const char *hif_io_backend(const hif_reader *r)
{
	return r->ops->name;
}

const char *hif_io_note(const hif_reader *r)
{
	return r->note;
}

/* ---- the engine ------------------------------------------------------------ */

struct run {
	hif_reader *r;
	uint64_t size;
	uint64_t nblocks;
	uint64_t next_block;    /* next block to start */
	uint64_t folded;        /* blocks folded into crc */
	uint32_t crc;
	unsigned nfree, npend, inflight;
	int failed;             /* first error, 0 if none */
	uint64_t t_last_ns;
	struct hif_io_result *res;
	struct nd_err *err;
};

static size_t block_len(const struct run *ru, uint64_t b)
{
	uint64_t off = b * ru->r->bs_bytes;
	return (size_t)nd_min_u64(ru->r->bs_bytes, ru->size - off);
}

/* Sets q->len for the next read of q's block. */
static void plan_read(const struct run *ru, struct hif_req *q)
{
	const hif_reader *r = ru->r;
	/* O_DIRECT lengths must stay aligned, so ask for the rest of the buffer
	 * and let the kernel stop at EOF; buffered reads ask for what is left. */
	q->len = r->direct ? r->bs_bytes - q->done : q->want - q->done;
	if (q->done == 0 && g_short_every && q->block % g_short_every == 0) {
		size_t half = q->len / 2;
		if (r->direct)
			half -= half % HIF_IO_DIRECT_MULT_BYTES;
		if (half)
			q->len = half;
	}
}

static void fail(struct run *ru, int code, const struct hif_req *q)
{
	if (ru->failed)
		return;
	ru->failed = code;
	const hif_reader *r = ru->r;
	if (q && code == -EINVAL && r->direct)
		nd_errf(ru->err, code,
			"%s: O_DIRECT read of %zu bytes at offset %llu rejected (%s): "
			"the device needs bs and offsets aligned to its logical block size",
			r->path, q->len, (unsigned long long)(q->off + q->done),
			strerror(-code));
	else if (q && code == -EIO && q->done < q->want)
		nd_errf(ru->err, code,
			"%s: unexpected end of file at offset %llu (file shrank while reading?)",
			r->path, (unsigned long long)(q->off + q->done));
	else if (q)
		nd_errf(ru->err, code, "%s: read of %zu bytes at offset %llu failed: %s",
			r->path, q->len, (unsigned long long)(q->off + q->done),
			strerror(-code));
	else
		nd_errf(ru->err, code, "%s: %s I/O failed: %s", r->path,
			r->ops->long_name, strerror(-code));
}

static void fold_crc(struct run *ru)
{
	hif_reader *r = ru->r;
	while (ru->folded < ru->nblocks && r->win_ok[ru->folded % r->window]) {
		size_t slot = (size_t)(ru->folded % r->window);
		uint32_t c = r->win_crc[slot];
		if (ru->folded == 0)
			ru->crc = c;
		else
			ru->crc = (uint32_t)crc32_combine(ru->crc, c,
							  (z_off_t)block_len(ru, ru->folded));
		r->win_ok[slot] = 0;
		ru->folded++;
	}
}

/* Doubles the fold window, moving the completed blocks that wait for an
 * earlier one.  Growing instead of stalling matters: one slow request (tens
 * of ms on a busy disk) would otherwise stop submission until it completes,
 * which fio does not do, and throughput would be under-reported. */
static void grow_window(struct run *ru)
{
	hif_reader *r = ru->r;
	size_t nw = r->window * 2;
	uint32_t *crc = xcalloc(nw, sizeof *crc);
	unsigned char *ok = xcalloc(nw, 1);
	for (uint64_t b = ru->folded; b < ru->next_block; b++) {
		size_t o = (size_t)(b % r->window), n = (size_t)(b % nw);
		if (r->win_ok[o]) {
			crc[n] = r->win_crc[o];
			ok[n] = 1;
		}
	}
	free(r->win_crc);
	free(r->win_ok);
	r->win_crc = crc;
	r->win_ok = ok;
	r->window = nw;
}

static void complete(struct run *ru, struct hif_req *q, long res, uint64_t t_ns)
{
	hif_reader *r = ru->r;

	if (ru->failed)
		goto release;
	if (res == -EINTR || res == -EAGAIN) {
		r->pend[ru->npend++] = q;       /* try the same read again */
		return;
	}
	if (res < 0) {
		fail(ru, (int)res, q);
		goto release;
	}
	if (res == 0) {
		fail(ru, -EIO, q);
		goto release;
	}
	q->done += nd_min_u64((uint64_t)res, q->want - q->done);
	if (q->done < q->want) {
		if (r->direct && q->done % HIF_IO_DIRECT_MULT_BYTES) {
			fail(ru, -EIO, q);
			goto release;
		}
		ru->res->short_reads++;
		plan_read(ru, q);
		r->pend[ru->npend++] = q;
		return;
	}
	hist_record(&ru->res->lat_ns, t_ns - q->t_submit_ns);
	ru->t_last_ns = t_ns;
	if (r->do_crc) {
		size_t slot = (size_t)(q->block % r->window);
		r->win_crc[slot] = (uint32_t)crc32(0L, q->buf, (uInt)q->want);
		r->win_ok[slot] = 1;
		fold_crc(ru);
	} else {
		ru->folded++;   /* only counts; order does not matter */
	}
release:
	r->free_reqs[ru->nfree++] = q;
}

int hif_io_read_all(hif_reader *r, struct hif_io_result *res, struct nd_err *err)
{
	struct run ru;
	int ret = 0;

	memset(res, 0, sizeof *res);
	hist_init(&res->lat_ns);
	res->backend = r->ops->name;
	res->qd = r->qd_eff;
	if (r->broken)
		return nd_errf(err, -EIO, "%s: reader unusable after an earlier I/O failure",
			       r->path);

	off_t end = lseek(r->fd, 0, SEEK_END);
	if (end < 0)
		return nd_errf(err, -errno, "%s: %s", r->path, strerror(errno));

	memset(&ru, 0, sizeof ru);
	ru.r = r;
	ru.res = res;
	ru.err = err;
	ru.size = (uint64_t)end;
	ru.nblocks = nd_div_ceil(ru.size, r->bs_bytes);
	memset(r->win_ok, 0, r->window);
	for (unsigned i = 0; i < r->qd_eff; i++)
		r->free_reqs[ru.nfree++] = &r->reqs[i];

	uint64_t t0 = now_ns();
	ru.t_last_ns = t0;
	while (ru.folded < ru.nblocks || ru.inflight) {
		while (!ru.failed && ru.nfree && ru.next_block < ru.nblocks) {
			if (ru.next_block - ru.folded >= r->window)
				grow_window(&ru);
			struct hif_req *q = r->free_reqs[--ru.nfree];
			q->block = ru.next_block++;
			q->off = q->block * r->bs_bytes;
			q->want = block_len(&ru, q->block);
			q->done = 0;
			q->t_submit_ns = 0;
			plan_read(&ru, q);
			r->pend[ru.npend++] = q;
		}
		if (ru.failed) {
			/* Nothing new goes out; what waits is returned. */
			while (ru.npend)
				r->free_reqs[ru.nfree++] = r->pend[--ru.npend];
		}
		if (ru.npend) {
			uint64_t t = now_ns();
			for (unsigned i = 0; i < ru.npend; i++)
				if (!r->pend[i]->t_submit_ns)
					r->pend[i]->t_submit_ns = t;
			int n = r->ops->submit(r, r->pend, ru.npend);
			if (n < 0 || (n == 0 && !ru.inflight)) {
				fail(&ru, n < 0 ? n : -EAGAIN, NULL);
				continue;
			}
			memmove(r->pend, r->pend + n, (ru.npend - (unsigned)n) * sizeof *r->pend);
			ru.npend -= (unsigned)n;
			ru.inflight += (unsigned)n;
		}
		if (!ru.inflight)
			break;
		int n = r->ops->reap(r, r->done, r->done_res, ru.inflight);
		if (n < 0) {
			/* Requests may still be in the kernel: the reader cannot be
			 * reused; close tears the backend down before freeing. */
			r->broken = 1;
			fail(&ru, n, NULL);
			ret = ru.failed;
			goto out;
		}
		uint64_t t = now_ns();
		ru.inflight -= (unsigned)n;
		for (int i = 0; i < n; i++)
			complete(&ru, r->done[i], r->done_res[i], t);
	}
	ret = ru.failed;
	if (ret)
		goto out;
	ND_ASSERT(ru.folded == ru.nblocks);

	res->bytes = ru.size;
	res->blocks = ru.nblocks;
	res->crc32 = r->do_crc ? ru.crc : 0;
	res->wall_s = (double)(ru.t_last_ns - t0) / 1e9;
	if (res->wall_s > 0) {
		res->mb_s = (double)res->bytes / res->wall_s / 1e6;
		res->iops = (double)res->blocks / res->wall_s;
	}
out:
	return ret;
}
