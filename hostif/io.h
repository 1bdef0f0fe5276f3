/*
 * io.h — real file reads from the host, for calibrating the host model.
 *
 * A reader reads one file from start to end in blocks of bs_bytes, keeping
 * up to qd requests in flight, through one of three backends chosen at run
 * time behind an ops table (Redis ae_* style):
 *
 *   "uring"  io_uring via liburing (one submit-and-wait syscall per batch)
 *   "aio"    Linux native AIO via libaio (io_submit / io_getevents)
 *   "sync"   pread(2), one request at a time whatever qd says
 *
 * If a backend cannot be set up because the kernel forbids or lacks it
 * (EPERM, EACCES, ENOSYS, EOPNOTSUPP, EAGAIN, ENOMEM from io_uring_setup or
 * io_setup: seccomp, io_uring_disabled, old kernel, aio-max-nr), the reader
 * falls back uring -> aio -> sync (when opts.fallback is set) and says so:
 *   ndpsim: io_uring unavailable (Operation not permitted); falling back to libaio
 * on stderr unless opts.quiet, and always in hif_io_note().
 *
 * Checksum: zlib crc32 of the whole file, in file order, although
 * completions arrive out of order: each block's crc32 is computed when it
 * completes and folded into the running value with crc32_combine() as soon
 * as every earlier block is folded.  Blocks that complete ahead of an
 * unfinished one wait in a window that grows (never stalls submission, so
 * one slow request does not idle the queue); it costs 5 bytes per block
 * between the oldest unfinished block and the newest started.  The result
 * equals crc32(0, whole_file, size).
 *
 * Latency is per block: from the moment its read is handed to the kernel
 * (first submission) until its completion is reaped, wall-clock ns from
 * CLOCK_MONOTONIC, including resubmissions after a short read.
 * Units: MB = 10^6 bytes; IOPS = blocks per second.
 *
 * With direct set, the file is opened with O_DIRECT; buffers are always
 * 4096-byte aligned (posix_memalign) and bs_bytes must be a multiple of 512.
 *
 * Every function that can fail returns 0 (or a count) on success and a
 * negative errno on failure, with a message in *err when err is not NULL.
 */
#ifndef ND_HOSTIF_IO_H
#define ND_HOSTIF_IO_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/hist.h"

#define HIF_IO_ALIGN_BYTES 4096u        /* buffer alignment */
#define HIF_IO_DIRECT_MULT_BYTES 512u   /* bs multiple required by O_DIRECT */
#define HIF_IO_QD_MAX 4096u
#define HIF_IO_BS_MAX_BYTES (64u << 20)

typedef struct hif_reader hif_reader;

struct hif_io_opts {
	const char *backend;   /* "uring" (default), "aio" or "sync"; borrowed */
	size_t bs_bytes;       /* block size, 1 .. HIF_IO_BS_MAX_BYTES (128 KiB) */
	unsigned qd;           /* requests in flight, 1 .. HIF_IO_QD_MAX (32) */
	int direct;            /* open with O_DIRECT (0) */
	int fallback;          /* fall back to the next backend when unavailable (1) */
	int quiet;             /* do not print fallback notes to stderr (0) */
	int crc;               /* compute the crc32 (1) */
};

struct hif_io_result {
	const char *backend;   /* backend actually used: "uring", "aio", "sync" */
	unsigned qd;           /* most requests in flight (1 for sync) */
	uint64_t bytes;        /* bytes read (the file size) */
	uint64_t blocks;       /* blocks read (the last one may be short) */
	uint64_t short_reads;  /* reads that returned less than asked and were resubmitted */
	double wall_s;         /* first submission to last completion */
	double mb_s;           /* bytes / wall_s / 1e6 */
	double iops;           /* blocks / wall_s */
	uint32_t crc32;        /* zlib crc32 of the file (0 when opts.crc is off) */
	struct hist lat_ns;    /* per-block latency, ns */
};

/* Fills o with the defaults shown above. */
void hif_io_opts_init(struct hif_io_opts *o);

/* Validates o, opens path (O_RDONLY, plus O_DIRECT if asked), sets up the
 * backend (falling back if allowed) and allocates qd aligned buffers.
 * Returns 0 and sets *out, or -EINVAL (bad bs / qd / backend, O_DIRECT
 * refused by the file system), -ENOENT, -EACCES, -EISDIR, -ENOMEM, or the
 * setup error of the last backend tried.  Free with hif_io_close(). */
int hif_io_open(const char *path, const struct hif_io_opts *o,
		hif_reader **out, struct nd_err *err);

/* Reads the whole file once (from offset 0; may be called again) and fills
 * *res.  Returns 0, or -EIO / the negative errno of a failed read (e.g.
 * -EINVAL when the kernel rejects an O_DIRECT request); all requests in
 * flight are drained before an error is returned. */
int hif_io_read_all(hif_reader *r, struct hif_io_result *res,
		    struct nd_err *err);

/* The backend in use ("uring", "aio", "sync"); static string. */
const char *hif_io_backend(const hif_reader *r);

/* Fallback notes printed while opening r, one per line ("" if none);
 * valid until hif_io_close(r). */
const char *hif_io_note(const hif_reader *r);

/* Closes the file, tears the backend down and frees r.  Accepts NULL. */
void hif_io_close(hif_reader *r);

/* Long name of a backend for messages: "io_uring", "libaio", "pread";
 * NULL for an unknown name. */
const char *hif_io_backend_long(const char *backend);

/* Test-only fault injection.
 * hif_io_force_fail: makes the setup of `backend` fail with err (a negative
 * errno) as if the kernel had refused it; err = 0 clears it; backend = NULL
 * clears every backend.  Returns 0 or -EINVAL for an unknown backend.
 * hif_io_force_short_read: the first read of every every_n-th block asks
 * for half the block, so the short-read resubmission path runs; 0 disables.
 * hif_io_force_window: readers opened afterwards start with a crc fold
 * window of `blocks` (so that growing it is exercised); 0 = default. */
int hif_io_force_fail(const char *backend, int err);
void hif_io_force_short_read(unsigned every_n);
void hif_io_force_window(size_t blocks);

#endif
