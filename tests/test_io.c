/*
 * test_io.c — real reads through hostif/io: each backend, the in-order crc,
 * short reads, the uring -> aio -> sync fallback and its message, argument
 * errors, and the `ndpsim io` command when the binary is built.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "core/err.h"
#include "core/util.h"
#include "hostif/io.h"
#include "tests/common/tutil.h"

#define BIG_BYTES (16u << 20)
#define ODD_BYTES ((1u << 20) + 777u)

static const char *const backends[] = { "uring", "aio", "sync" };

static char big_path[512], odd_path[512], empty_path[512];
static uint32_t big_crc, odd_crc;

/* Writes size bytes of xorshift data (plain buffered writes, then fsync) and
 * returns their crc32 computed in one call, the reference for every read. */
static uint32_t make_file(const char *path, size_t size, uint64_t seed)
{
	unsigned char *b = xmalloc(size ? size : 1);
	uint64_t x = seed;
	for (size_t i = 0; i < size; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b[i] = (unsigned char)(x >> 24);
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ND_ASSERT(fd >= 0);
	size_t off = 0;
	while (off < size) {
		ssize_t n = write(fd, b + off, size - off);
		ND_ASSERT(n > 0);
		off += (size_t)n;
	}
	ND_ASSERT(fsync(fd) == 0);
	close(fd);
	uint32_t c = (uint32_t)crc32(0L, b, (uInt)size);
	free(b);
	return c;
}

static void reset_hooks(void)
{
	hif_io_force_fail(NULL, 0);
	hif_io_force_short_read(0);
	hif_io_force_window(0);
}

static int unavailable(int ret)
{
	return ret == -EPERM || ret == -EACCES || ret == -ENOSYS ||
	       ret == -EOPNOTSUPP || ret == -EAGAIN || ret == -ENOMEM;
}

/* Opens path with one backend and no fallback; returns NULL after printing
 * "skip:" when this kernel forbids the backend or the file system refuses
 * O_DIRECT. */
static hif_reader *open_or_skip(const char *path, const char *backend,
				size_t bs, unsigned qd, int direct)
{
	struct hif_io_opts o;
	struct nd_err e = { 0 };
	hif_reader *r = NULL;
	char why[900];

	hif_io_opts_init(&o);
	o.backend = backend;
	o.bs_bytes = bs;
	o.qd = qd;
	o.direct = direct;
	o.fallback = 0;
	o.quiet = 1;
	int ret = hif_io_open(path, &o, &r, &e);
	if (ret == 0)
		return r;
	if (unavailable(ret) || (direct && ret == -EINVAL && strstr(e.msg, "O_DIRECT"))) {
		snprintf(why, sizeof why, "%s backend: %s", backend, e.msg);
		tu_skip(why);
		return NULL;
	}
	ck_abort_msg("open %s with %s: %d %s", path, backend, ret, e.msg);
	return NULL;
}

/* Each backend reads the 16 MiB file with O_DIRECT, QD 32, bs 128 KiB. */
START_TEST(test_backend_direct)
{
	const char *b = backends[_i];
	hif_reader *r = open_or_skip(big_path, b, 128u << 10, 32, 1);
	if (!r)
		return;
	struct hif_io_result *res = xmalloc(sizeof *res);
	struct nd_err e = { 0 };
	ck_assert_str_eq(hif_io_backend(r), b);
	ck_assert_str_eq(hif_io_note(r), "");
	int ret = hif_io_read_all(r, res, &e);
	ck_assert_msg(ret == 0, "%s: %s", b, e.msg);
	ck_assert_str_eq(res->backend, b);
	ck_assert_uint_eq(res->bytes, BIG_BYTES);
	ck_assert_uint_eq(res->blocks, 128);
	ck_assert_uint_eq(res->lat_ns.count, 128);
	ck_assert_msg(res->crc32 == big_crc, "%s crc %08x, want %08x", b,
		      (unsigned)res->crc32, (unsigned)big_crc);
	ck_assert(res->wall_s > 0 && res->mb_s > 0 && res->iops > 0);
	ck_assert(hist_quantile(&res->lat_ns, 0.5) > 0);
	ck_assert(hist_quantile(&res->lat_ns, 0.99) <= res->lat_ns.max);

	/* A second pass over the same reader gives the same answer. */
	ret = hif_io_read_all(r, res, &e);
	ck_assert_msg(ret == 0, "%s: %s", b, e.msg);
	ck_assert_uint_eq(res->crc32, big_crc);
	free(res);
	hif_io_close(r);
}
END_TEST

/* A size that is a multiple of neither bs nor 512: the last block is short,
 * buffered and O_DIRECT (which reads past EOF and gets a short count). */
START_TEST(test_odd_size)
{
	const char *b = backends[_i];
	for (int direct = 0; direct <= 1; direct++) {
		hif_reader *r = open_or_skip(odd_path, b, 64u << 10, 8, direct);
		if (!r)
			continue;
		struct hif_io_result *res = xmalloc(sizeof *res);
		struct nd_err e = { 0 };
		int ret = hif_io_read_all(r, res, &e);
		ck_assert_msg(ret == 0, "%s direct=%d: %s", b, direct, e.msg);
		ck_assert_uint_eq(res->bytes, ODD_BYTES);
		ck_assert_uint_eq(res->blocks, 17);
		ck_assert_uint_eq(res->crc32, odd_crc);
		free(res);
		hif_io_close(r);
	}
}
END_TEST

/* Short reads are resubmitted for the rest of the block; crc unchanged. */
START_TEST(test_short_read)
{
	const char *b = backends[_i];
	hif_io_force_short_read(3);
	hif_reader *r = open_or_skip(big_path, b, 128u << 10, 16, 1);
	if (!r)
		return;
	struct hif_io_result *res = xmalloc(sizeof *res);
	struct nd_err e = { 0 };
	ck_assert_int_eq(hif_io_read_all(r, res, &e), 0);
	ck_assert_uint_eq(res->crc32, big_crc);
	ck_assert_uint_eq(res->short_reads, 43);        /* blocks 0, 3, ..., 126 */
	ck_assert_uint_eq(res->lat_ns.count, 128);
	free(res);
	hif_io_close(r);
}
END_TEST

/* Small QD and a tiny block: the crc fold window wraps many times. */
START_TEST(test_window_wrap)
{
	hif_reader *r = open_or_skip(odd_path, "uring", 4096, 3, 0);
	if (!r)
		return;
	struct hif_io_result *res = xmalloc(sizeof *res);
	struct nd_err e = { 0 };
	ck_assert_int_eq(hif_io_read_all(r, res, &e), 0);
	ck_assert_uint_eq(res->crc32, odd_crc);
	ck_assert_uint_eq(res->blocks, (ODD_BYTES + 4095) / 4096);
	free(res);
	hif_io_close(r);
}
END_TEST

/* A fold window of one block must grow while 32 reads are in flight; the
 * forced short reads make blocks finish out of order (a half-read block is
 * resubmitted and completes after the ones behind it), so the blocks that
 * wait in the window are moved when it grows.  The crc does not change. */
START_TEST(test_window_grow)
{
	const char *b = backends[_i];
	hif_io_force_window(1);
	hif_io_force_short_read(3);
	for (unsigned bs = 4096; bs <= (128u << 10); bs *= 32) {
		hif_reader *r = open_or_skip(big_path, b, bs, 32, 1);
		if (!r)
			return;
		struct hif_io_result *res = xmalloc(sizeof *res);
		struct nd_err e = { 0 };
		ck_assert_int_eq(hif_io_read_all(r, res, &e), 0);
		ck_assert_uint_eq(res->crc32, big_crc);
		ck_assert_uint_eq(res->blocks, BIG_BYTES / bs);
		free(res);
		hif_io_close(r);
	}
}
END_TEST

START_TEST(test_empty_file)
{
	hif_reader *r = open_or_skip(empty_path, "sync", 4096, 1, 0);
	ck_assert_ptr_nonnull(r);
	struct hif_io_result *res = xmalloc(sizeof *res);
	ck_assert_int_eq(hif_io_read_all(r, res, NULL), 0);
	ck_assert_uint_eq(res->bytes, 0);
	ck_assert_uint_eq(res->blocks, 0);
	ck_assert_uint_eq(res->crc32, 0);
	ck_assert_uint_eq(res->lat_ns.count, 0);
	free(res);
	hif_io_close(r);
}
END_TEST

/* Opens with fallback on while stderr goes to a file; returns what was
 * printed in `printed`. */
static int open_capture(const char *backend, hif_reader **r, struct nd_err *e,
			char *printed, size_t printed_len)
{
	char cap[600];
	struct hif_io_opts o;
	hif_io_opts_init(&o);
	o.backend = backend;
	o.direct = 1;
	snprintf(cap, sizeof cap, "%s/io-stderr.txt", tu_tmpdir());
	fflush(stderr);
	int saved = dup(2);
	int fd = open(cap, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	int ret = hif_io_open(big_path, &o, r, e);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	FILE *f = fopen(cap, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(printed, 1, printed_len - 1, f);
	printed[n] = '\0';
	fclose(f);
	return ret;
}

static const char msg_uring[] =
	"ndpsim: io_uring unavailable (Operation not permitted); falling back to libaio\n";
static const char msg_aio[] =
	"ndpsim: libaio unavailable (Function not implemented); falling back to pread\n";

START_TEST(test_fallback_uring_to_aio)
{
	hif_reader *r = NULL;
	struct nd_err e = { 0 };
	char printed[1024];
	ck_assert_int_eq(hif_io_force_fail("uring", -EPERM), 0);
	int ret = open_capture("uring", &r, &e, printed, sizeof printed);
	ck_assert_msg(ret == 0, "%s", e.msg);
	/* The message is printed and kept, word for word. */
	ck_assert(strncmp(printed, msg_uring, strlen(msg_uring)) == 0);
	ck_assert(strncmp(hif_io_note(r), msg_uring, strlen(msg_uring)) == 0);
	if (strcmp(hif_io_backend(r), "aio")) {
		/* libaio itself is refused here: then it must have gone on to pread. */
		ck_assert_str_eq(hif_io_backend(r), "sync");
		tu_skip("libaio unavailable here; fallback went on to pread");
	}
	struct hif_io_result *res = xmalloc(sizeof *res);
	ck_assert_int_eq(hif_io_read_all(r, res, &e), 0);
	ck_assert_uint_eq(res->crc32, big_crc);
	free(res);
	hif_io_close(r);
}
END_TEST

START_TEST(test_fallback_to_sync)
{
	hif_reader *r = NULL;
	struct nd_err e = { 0 };
	char printed[1024], want[512];
	hif_io_force_fail("uring", -EPERM);
	hif_io_force_fail("aio", ENOSYS);       /* positive is accepted too */
	int ret = open_capture("uring", &r, &e, printed, sizeof printed);
	ck_assert_msg(ret == 0, "%s", e.msg);
	snprintf(want, sizeof want, "%s%s", msg_uring, msg_aio);
	ck_assert_str_eq(printed, want);
	ck_assert_str_eq(hif_io_note(r), want);
	ck_assert_str_eq(hif_io_backend(r), "sync");
	struct hif_io_result *res = xmalloc(sizeof *res);
	ck_assert_int_eq(hif_io_read_all(r, res, &e), 0);
	ck_assert_uint_eq(res->crc32, big_crc);
	ck_assert_str_eq(res->backend, "sync");
	free(res);
	hif_io_close(r);

	/* Asking for aio starts the chain there. */
	ret = open_capture("aio", &r, &e, printed, sizeof printed);
	ck_assert_int_eq(ret, 0);
	ck_assert_str_eq(printed, msg_aio);
	ck_assert_str_eq(hif_io_backend(r), "sync");
	hif_io_close(r);
}
END_TEST

START_TEST(test_fallback_off)
{
	struct hif_io_opts o;
	struct nd_err e = { 0 };
	hif_reader *r = NULL;
	hif_io_opts_init(&o);
	o.fallback = 0;
	o.quiet = 1;
	hif_io_force_fail("uring", -EPERM);
	ck_assert_int_eq(hif_io_open(big_path, &o, &r, &e), -EPERM);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(e.code, -EPERM);
	ck_assert_msg(strstr(e.msg, "io_uring setup failed: Operation not permitted"), "%s", e.msg);

	/* An error that is not "unavailable" is not papered over. */
	o.fallback = 1;
	hif_io_force_fail("uring", -EFAULT);
	ck_assert_int_eq(hif_io_open(big_path, &o, &r, &e), -EFAULT);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(hif_io_force_fail("nvme", -EPERM), -EINVAL);
}
END_TEST

static void expect_open_err(const char *path, const struct hif_io_opts *o,
			    int want, const char *substr)
{
	struct nd_err e = { 0 };
	hif_reader *r = (hif_reader *)&e;       /* must be reset to NULL */
	int ret = hif_io_open(path, o, &r, &e);
	ck_assert_msg(ret == want, "%s: got %d want %d (%s)", path, ret, want, e.msg);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(e.code, want);
	ck_assert_msg(strstr(e.msg, substr), "message '%s' lacks '%s'", e.msg, substr);
}

START_TEST(test_bad_args)
{
	struct hif_io_opts o;
	char missing[600];
	snprintf(missing, sizeof missing, "%s/no-such-file.bin", tu_tmpdir());

	hif_io_opts_init(&o);
	o.direct = 1;
	o.bs_bytes = 1000;
	expect_open_err(big_path, &o, -EINVAL,
			"block size 1000 is not a multiple of 512 bytes, which O_DIRECT requires");
	o.direct = 0;                           /* fine without O_DIRECT */
	o.quiet = 1;
	hif_reader *r = NULL;
	ck_assert_int_eq(hif_io_open(big_path, &o, &r, NULL), 0);
	hif_io_close(r);

	hif_io_opts_init(&o);
	o.qd = 0;
	expect_open_err(big_path, &o, -EINVAL, "queue depth must be 1..4096 (got 0)");
	o.qd = 5000;
	expect_open_err(big_path, &o, -EINVAL, "queue depth must be 1..4096 (got 5000)");

	hif_io_opts_init(&o);
	o.bs_bytes = 0;
	expect_open_err(big_path, &o, -EINVAL, "block size must be");
	o.bs_bytes = 64u << 20;
	o.qd = 64;
	expect_open_err(big_path, &o, -EINVAL, "bytes of buffers");

	hif_io_opts_init(&o);
	expect_open_err(missing, &o, -ENOENT, "no-such-file.bin: No such file or directory");
	expect_open_err(tu_tmpdir(), &o, -EISDIR, "is a directory");
	o.backend = "spdk";
	expect_open_err(big_path, &o, -EINVAL, "unknown I/O backend 'spdk'");
}
END_TEST

/* ---- the command, when build/ndpsim exists and knows `io` -------------- */

static const char *ndpsim_bin(void)
{
	const char *b = getenv("NDPSIM_BIN");
	if (!b || !*b)
		b = "build/ndpsim";
	return access(b, X_OK) == 0 ? b : NULL;
}

static int run_cmd(const char *cmd)
{
	char full[2048];
	snprintf(full, sizeof full, "%s >%s/io-cli.out 2>&1", cmd, tu_tmpdir());
	int st = system(full);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int out_contains(const char *s)
{
	char p[600], buf[8192];
	snprintf(p, sizeof p, "%s/io-cli.out", tu_tmpdir());
	FILE *f = fopen(p, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strstr(buf, s) != NULL;
}

START_TEST(test_cli)
{
	const char *bin = ndpsim_bin();
	char cmd[1500];
	if (!bin) {
		tu_skip("ndpsim binary not built; CLI checks not run");
		return;
	}
	snprintf(cmd, sizeof cmd, "%s io --help", bin);
	if (run_cmd(cmd) != 0 || !out_contains("--backend")) {
		tu_skip("this ndpsim has no 'io' command yet");
		return;
	}
	snprintf(cmd, sizeof cmd, "%s io --backend sync --file %s --bs 128k --qd 4 --expect-crc %08x",
		 bin, big_path, (unsigned)big_crc);
	ck_assert_int_eq(run_cmd(cmd), 0);
	ck_assert(out_contains("MB/s") && out_contains("p99.9"));
	snprintf(cmd, sizeof cmd, "%s io --backend aio --file %s --bs 1M --qd 8 --direct --json",
		 bin, big_path);
	ck_assert_int_eq(run_cmd(cmd), 0);
	ck_assert(out_contains("\"crc32\""));
	snprintf(cmd, sizeof cmd, "%s io --backend sync --file %s --expect-crc 0xdeadbeef",
		 bin, big_path);
	ck_assert_int_eq(run_cmd(cmd), 1);
	ck_assert(out_contains("checksum mismatch"));
	snprintf(cmd, sizeof cmd, "%s io --file %s --qd 0", bin, big_path);
	ck_assert_int_eq(run_cmd(cmd), 2);
	snprintf(cmd, sizeof cmd, "%s io --file %s --bs 12q", bin, big_path);
	ck_assert_int_eq(run_cmd(cmd), 2);
	snprintf(cmd, sizeof cmd, "%s io --file %s --bs 1000 --direct", bin, big_path);
	ck_assert_int_eq(run_cmd(cmd), 2);
	ck_assert(out_contains("multiple of 512"));
	snprintf(cmd, sizeof cmd, "%s io --file %s/nope.bin", bin, tu_tmpdir());
	ck_assert_int_eq(run_cmd(cmd), 2);
	snprintf(cmd, sizeof cmd, "%s io --backend floppy --file %s", bin, big_path);
	ck_assert_int_eq(run_cmd(cmd), 2);
	snprintf(cmd, sizeof cmd, "%s io --bs 4k", bin);
	ck_assert_int_eq(run_cmd(cmd), 2);
	ck_assert(out_contains("--file"));
}
END_TEST

static Suite *io_suite(void)
{
	Suite *s = suite_create("io");
	TCase *tc = tcase_create("read");
	tcase_add_checked_fixture(tc, reset_hooks, reset_hooks);
	tcase_set_timeout(tc, 20);
	int nb = (int)ND_ARRAY_LEN(backends);
	tcase_add_loop_test(tc, test_backend_direct, 0, nb);
	tcase_add_loop_test(tc, test_odd_size, 0, nb);
	tcase_add_loop_test(tc, test_short_read, 0, nb);
	tcase_add_test(tc, test_window_wrap);
	tcase_add_loop_test(tc, test_window_grow, 0, nb);
	tcase_add_test(tc, test_empty_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("fallback");
	tcase_add_checked_fixture(tc, reset_hooks, reset_hooks);
	tcase_add_test(tc, test_fallback_uring_to_aio);
	tcase_add_test(tc, test_fallback_to_sync);
	tcase_add_test(tc, test_fallback_off);
	suite_add_tcase(s, tc);

	tc = tcase_create("args");
	tcase_add_test(tc, test_bad_args);
	suite_add_tcase(s, tc);

	tc = tcase_create("cli");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_cli);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	const char *d = tu_tmpdir();
	snprintf(big_path, sizeof big_path, "%s/io-16m.bin", d);
	snprintf(odd_path, sizeof odd_path, "%s/io-odd.bin", d);
	snprintf(empty_path, sizeof empty_path, "%s/io-empty.bin", d);
	big_crc = make_file(big_path, BIG_BYTES, 0x9e3779b97f4a7c15ull);
	odd_crc = make_file(odd_path, ODD_BYTES, 12345);
	make_file(empty_path, 0, 1);
	return tu_run_suite(io_suite());
}
