/*
 * bench_io.c — sequential-read throughput of the real-I/O backends
 * (hostif/io.h), to compare with fio (bench/io-vs-fio.sh).
 *
 * Reads build/bench-tmp/io-256m.bin (created on first use, reused when it
 * has the right size) with O_DIRECT, QD 32, bs 128 KiB, three times with
 * io_uring and three with libaio, and prints the median of each:
 *   bench io_uring_read_mb_s <value> MB/s
 *   bench libaio_read_mb_s <value> MB/s
 * (MB = 10^6 bytes), plus the median run's p50 / p99 latency.  Nothing is
 * dropped from caches: O_DIRECT bypasses the page cache.  A backend that the
 * kernel forbids prints "skip: ..." instead of its lines.
 *
 * Options: --file F (another file), --runs N (3), --backend uring|aio (only
 * that one), --no-crc.
 * Exit: 0 ok, 1 a read failed or the checksums of the runs differ.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/hist.h"
#include "core/util.h"
#include "hostif/io.h"

#define FILE_BYTES (256ull << 20)
#define CHUNK_BYTES (1u << 20)
#define MAX_RUNS 15

static int make_file(const char *path, uint64_t size)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size)
		return 0;
	fprintf(stderr, "bench_io: writing %s (%llu MiB)\n", path,
		(unsigned long long)(size >> 20));
	int ret = 0;
	unsigned char *b = xmalloc(CHUNK_BYTES);
	uint64_t x = 0x2545f4914f6cdd1dull;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		ret = -errno;
		fprintf(stderr, "bench_io: %s: %s\n", path, strerror(errno));
		goto out;
	}
	for (uint64_t off = 0; off < size; off += CHUNK_BYTES) {
		for (size_t i = 0; i < CHUNK_BYTES; i += 8) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			memcpy(b + i, &x, 8);
		}
		size_t n = (size_t)nd_min_u64(CHUNK_BYTES, size - off), done = 0;
		while (done < n) {
			ssize_t w = write(fd, b + done, n - done);
			if (w < 0) {
				ret = -errno;
				fprintf(stderr, "bench_io: %s: %s\n", path, strerror(errno));
				goto out;
			}
			done += (size_t)w;
		}
	}
	if (fsync(fd) < 0) {
		ret = -errno;
		fprintf(stderr, "bench_io: %s: fsync: %s\n", path, strerror(errno));
	}
out:
	if (fd >= 0)
		close(fd);
	free(b);
	if (ret)
		unlink(path);
	return ret;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Runs `runs` reads with one backend; prints the lines.  Returns 0, 1 on a
 * failed read, or -1 when the kernel forbids the backend (skip). */
static int bench_backend(const char *path, const char *backend, int runs, int crc,
			 uint32_t *crc_seen, int *crc_known)
{
	struct hif_io_opts o;
	struct nd_err e = { 0 };
	hif_reader *r = NULL;
	struct hif_io_result *res = xmalloc(sizeof *res);
	double mb_s[MAX_RUNS], sorted[MAX_RUNS];
	uint64_t p50[MAX_RUNS], p99[MAX_RUNS];
	const char *lname = hif_io_backend_long(backend);
	int rc = 0;

	hif_io_opts_init(&o);
	o.backend = backend;
	o.bs_bytes = 128u << 10;
	o.qd = 32;
	o.direct = 1;
	o.fallback = 0;     /* a number labelled io_uring must come from io_uring */
	o.crc = crc;
	int ret = hif_io_open(path, &o, &r, &e);
	if (ret < 0) {
		if (ret == -EPERM || ret == -EACCES || ret == -ENOSYS || ret == -EOPNOTSUPP) {
			printf("skip: %s unavailable: %s\n", lname, e.msg);
			rc = -1;
		} else {
			fprintf(stderr, "bench_io: %s\n", e.msg);
			rc = 1;
		}
		goto out;
	}
	for (int i = 0; i < runs; i++) {
		if (hif_io_read_all(r, res, &e) < 0) {
			fprintf(stderr, "bench_io: %s\n", e.msg);
			rc = 1;
			goto out;
		}
		if (crc && *crc_known && res->crc32 != *crc_seen) {
			fprintf(stderr, "bench_io: %s run %d: crc32 %08x differs from %08x\n",
				lname, i + 1, (unsigned)res->crc32, (unsigned)*crc_seen);
			rc = 1;
			goto out;
		}
		*crc_seen = res->crc32;
		*crc_known = crc;
		mb_s[i] = sorted[i] = res->mb_s;
		p50[i] = hist_quantile(&res->lat_ns, 0.50);
		p99[i] = hist_quantile(&res->lat_ns, 0.99);
		fprintf(stderr, "bench_io: %s run %d: %.1f MB/s\n", lname, i + 1, res->mb_s);
	}
	qsort(sorted, (size_t)runs, sizeof sorted[0], cmp_double);
	double med = sorted[runs / 2];
	int mi = 0;
	while (mb_s[mi] != med)
		mi++;
	const char *key = !strcmp(backend, "uring") ? "io_uring" : lname;
	printf("bench %s_read_mb_s %.1f MB/s\n", key, med);
	printf("bench %s_read_p50_us %.1f us\n", key, (double)p50[mi] / 1e3);
	printf("bench %s_read_p99_us %.1f us\n", key, (double)p99[mi] / 1e3);
	fflush(stdout);
out:
	free(res);
	hif_io_close(r);
	return rc;
}

int main(int argc, char **argv)
{
	const char *path = "build/bench-tmp/io-256m.bin";
	const char *only = NULL;
	int runs = 3, crc = 1, rc = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--file") && i + 1 < argc) {
			path = argv[++i];
		} else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
			runs = atoi(argv[++i]);
			if (runs < 1 || runs > MAX_RUNS) {
				fprintf(stderr, "bench_io: --runs must be 1..%d\n", MAX_RUNS);
				return 2;
			}
		} else if (!strcmp(argv[i], "--backend") && i + 1 < argc &&
			   (!strcmp(argv[i + 1], "uring") || !strcmp(argv[i + 1], "aio"))) {
			only = argv[++i];
		} else if (!strcmp(argv[i], "--no-crc")) {
			crc = 0;
		} else {
			fprintf(stderr, "usage: bench_io [--file F] [--runs N] [--backend uring|aio] [--no-crc]\n");
			return 2;
		}
	}
	if (!strcmp(path, "build/bench-tmp/io-256m.bin")) {
		mkdir("build", 0755);
		mkdir("build/bench-tmp", 0755);
		if (make_file(path, FILE_BYTES) < 0)
			return 1;
	}

	uint32_t crc_seen = 0;
	int crc_known = 0;
	static const char *const backends[] = { "uring", "aio" };
	for (size_t b = 0; b < ND_ARRAY_LEN(backends); b++)
		if ((!only || !strcmp(only, backends[b])) &&
		    bench_backend(path, backends[b], runs, crc, &crc_seen, &crc_known) > 0)
			rc = 1;
	if (crc_known)
		printf("bench io_read_crc32 %08x\n", (unsigned)crc_seen);
	return rc;
}
