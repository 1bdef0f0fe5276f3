/*
 * test_trace.c — trace readers: the two shared real traces load with the
 * counts checked by hand (awk), crafted fixtures cover every format's
 * skipping rules, sorting, and malformed lines that must name file:line.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "tests/common/tutil.h"
#include "workloads/trace.h"

/* Path of a shared sample trace, or NULL (after reporting a skip) when the
 * shared folder is not there. */
static const char *shared_trace(const char *name)
{
	static char path[1024];
	snprintf(path, sizeof path, "%s/data/traces/%s", tu_shared_dir(), name);
	if (access(path, R_OK) != 0) {
		char why[1200];
		snprintf(why, sizeof why, "%s not readable", path);
		tu_skip(why);
		return NULL;
	}
	return path;
}

/* Writes text to <tmpdir>/<name> and returns the path (static buffer). */
static const char *fixture(const char *name, const char *text)
{
	static char path[1024];
	snprintf(path, sizeof path, "%s/%s", tu_tmpdir(), name);
	FILE *fp = fopen(path, "w");
	ck_assert_msg(fp != NULL, "cannot create %s", path);
	ck_assert(fwrite(text, 1, strlen(text), fp) == strlen(text));
	ck_assert(fclose(fp) == 0);
	return path;
}

static void load_ok(const char *name, enum wl_trace_fmt fmt, const char *text,
		    struct wl_trace *t)
{
	struct nd_err err = { 0 };
	const char *path = fixture(name, text);
	int rc = wl_trace_load(path, fmt, t, &err);
	ck_assert_msg(rc == 0, "%s: rc %d: %s", name, rc, err.msg);
}

/* Loading text must fail with -EINVAL and a message "<path>:<line>:" that
 * also contains `what`; the output must be left empty. */
static void expect_bad(const char *name, enum wl_trace_fmt fmt,
		       const char *text, size_t line, const char *what)
{
	struct nd_err err = { 0 };
	struct wl_trace t;
	const char *path = fixture(name, text);
	int rc = wl_trace_load(path, fmt, &t, &err);
	ck_assert_msg(rc == -EINVAL, "%s: expected -EINVAL, got %d", name, rc);
	ck_assert_int_eq(err.code, -EINVAL);
	char where[1100];
	snprintf(where, sizeof where, "%s:%zu: ", path, line);
	ck_assert_msg(strstr(err.msg, where) != NULL,
		      "%s: message '%s' lacks '%s'", name, err.msg, where);
	ck_assert_msg(strstr(err.msg, what) != NULL,
		      "%s: message '%s' lacks '%s'", name, err.msg, what);
	ck_assert(t.n == 0 && t.req == NULL && t.n_reads == 0 &&
		  t.n_writes == 0 && t.max_end_bytes == 0);
}

static void assert_monotonic(const struct wl_trace *t)
{
	ck_assert_uint_gt(t->n, 0);
	ck_assert_uint_eq(t->req[0].t_ns, 0);
	for (size_t i = 1; i < t->n; i++)
		ck_assert_msg(t->req[i].t_ns >= t->req[i - 1].t_ns,
			      "time goes back at request %zu", i);
	ck_assert_uint_eq(t->n_reads + t->n_writes, t->n);
}

START_TEST(test_fmt_parse)
{
	enum wl_trace_fmt f = WL_TRACE_MSR;
	ck_assert_int_eq(wl_trace_fmt_parse("disksim", &f), 0);
	ck_assert_int_eq(f, WL_TRACE_DISKSIM);
	ck_assert_int_eq(wl_trace_fmt_parse("blkparse", &f), 0);
	ck_assert_int_eq(f, WL_TRACE_BLKPARSE);
	ck_assert_int_eq(wl_trace_fmt_parse("msr", &f), 0);
	ck_assert_int_eq(f, WL_TRACE_MSR);
	ck_assert_int_eq(wl_trace_fmt_parse("MSR", &f), -EINVAL);
	ck_assert_int_eq(wl_trace_fmt_parse("", &f), -EINVAL);
	ck_assert_int_eq(wl_trace_fmt_parse(NULL, &f), -EINVAL);
}
END_TEST

/* Counts from awk: 10000 lines (the last without '\n'), $5 == 1 on 4077. */
START_TEST(test_ssdsim_example)
{
	const char *path = shared_trace("ssdsim-example.ascii");
	if (!path)
		return;
	struct wl_trace t;
	struct nd_err err = { 0 };
	int rc = wl_trace_load(path, WL_TRACE_DISKSIM, &t, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_uint_eq(t.n, 10000);
	ck_assert_uint_eq(t.n_reads, 4077);
	ck_assert_uint_eq(t.n_writes, 5923);
	assert_monotonic(&t);
	/* "0 0 303567 7 0" */
	ck_assert_uint_eq(t.req[0].off_bytes, 303567ull * 512);
	ck_assert_uint_eq(t.req[0].len_bytes, 7 * 512);
	ck_assert_uint_eq(t.req[0].is_write, 1);
	/* "0 1 55590 6 0": device 1 is read and ignored */
	ck_assert_uint_eq(t.req[1].off_bytes, 55590ull * 512);
	/* "26214000 0 303574 7 0" */
	ck_assert_uint_eq(t.req[2].t_ns, 26214000);
	/* "78643005 1 55596 6 1" */
	ck_assert_uint_eq(t.req[4].t_ns, 78643005);
	ck_assert_uint_eq(t.req[4].is_write, 0);
	/* the unterminated last line "259601203125 8 146550 1 0" */
	ck_assert_uint_eq(t.req[9999].t_ns, 259601203125ull);
	ck_assert_uint_eq(t.req[9999].off_bytes, 146550ull * 512);
	ck_assert_uint_eq(t.req[9999].len_bytes, 512);
	ck_assert_uint_eq(t.max_end_bytes, 513235456ull);
	wl_trace_free(&t);
	ck_assert(t.req == NULL && t.n == 0);
}
END_TEST

/* 677 D lines: 4 "D N 0 (00 ..)", 161 R (8 sectors), 512 WS (512 sectors). */
START_TEST(test_wiscsee_blkparse)
{
	const char *path = shared_trace("wiscsee-blkparse.txt");
	if (!path)
		return;
	struct wl_trace t;
	struct nd_err err = { 0 };
	int rc = wl_trace_load(path, WL_TRACE_BLKPARSE, &t, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_uint_eq(t.n, 673);
	ck_assert_uint_eq(t.n_reads, 161);
	ck_assert_uint_eq(t.n_writes, 512);
	assert_monotonic(&t);
	/* 0.001368096 D R 540544 + 8: the first request, after a D N event */
	ck_assert_uint_eq(t.req[0].off_bytes, 540544ull * 512);
	ck_assert_uint_eq(t.req[0].len_bytes, 8 * 512);
	ck_assert_uint_eq(t.req[0].is_write, 0);
	/* 0.001503478: relative to the first request, in ns */
	ck_assert_uint_eq(t.req[1].t_ns, 1503478 - 1368096);
	/* last: 0.451332585 D R 20480 + 8 */
	ck_assert_uint_eq(t.req[672].t_ns, 451332585ull - 1368096);
	ck_assert_uint_eq(t.req[672].off_bytes, 20480ull * 512);
	ck_assert_uint_eq(t.max_end_bytes, 276824064ull);
	size_t w = 0;
	for (size_t i = 0; i < t.n; i++) {
		if (t.req[i].is_write) {
			ck_assert_uint_eq(t.req[i].len_bytes, 512 * 512);
			w++;
		} else {
			ck_assert_uint_eq(t.req[i].len_bytes, 8 * 512);
		}
	}
	ck_assert_uint_eq(w, 512);
	wl_trace_free(&t);
}
END_TEST

START_TEST(test_missing_file)
{
	struct wl_trace t;
	struct nd_err err = { 0 };
	char path[1024];
	snprintf(path, sizeof path, "%s/no-such-trace.txt", tu_tmpdir());
	for (int f = WL_TRACE_DISKSIM; f <= WL_TRACE_MSR; f++) {
		int rc = wl_trace_load(path, (enum wl_trace_fmt)f, &t, &err);
		ck_assert_int_eq(rc, -ENOENT);
		ck_assert_int_eq(err.code, -ENOENT);
		ck_assert_ptr_nonnull(strstr(err.msg, path));
		ck_assert_ptr_nonnull(strstr(err.msg, "No such file or directory"));
		ck_assert(t.n == 0 && t.req == NULL);
	}
	wl_trace_free(NULL);
}
END_TEST

START_TEST(test_disksim_fixture)
{
	struct wl_trace t;
	/* Comments, blank lines, CRLF, decimal times (rounded to ns), a
	 * 12000-character comment (getline, no fixed buffer) and no final
	 * newline. */
	static char text[13000];
	size_t len = (size_t)snprintf(text, sizeof text,
				      "# time dev sector size type\n"
				      "\n"
				      "1000 3 10 8 1\r\n"
				      "  1500.4\t0 20 1 0\n"
				      "#");
	memset(text + len, 'x', 12000);
	len += 12000;
	snprintf(text + len, sizeof text - len, "\n1600.5 21 30 2 1");
	load_ok("ds-ok.txt", WL_TRACE_DISKSIM, text, &t);
	ck_assert_uint_eq(t.n, 3);
	assert_monotonic(&t);
	ck_assert_uint_eq(t.n_reads, 2);
	ck_assert_uint_eq(t.n_writes, 1);
	ck_assert_uint_eq(t.req[1].t_ns, 500);
	ck_assert_uint_eq(t.req[1].off_bytes, 20 * 512);
	ck_assert_uint_eq(t.req[1].len_bytes, 512);
	ck_assert_uint_eq(t.req[1].is_write, 1);
	ck_assert_uint_eq(t.req[2].t_ns, 601);
	ck_assert_uint_eq(t.max_end_bytes, 32 * 512);
	wl_trace_free(&t);
}
END_TEST

/* Out-of-order times are sorted stably: equal times keep file order. */
START_TEST(test_disksim_unsorted)
{
	struct wl_trace t;
	load_ok("ds-unsorted.txt", WL_TRACE_DISKSIM,
		"10 0 1 1 1\n"
		"5 0 2 1 1\n"
		"10 0 3 1 0\n"
		"5 0 4 1 0\n"
		"7 0 5 1 1\n", &t);
	ck_assert_uint_eq(t.n, 5);
	assert_monotonic(&t);
	static const uint64_t sector[] = { 2, 4, 5, 1, 3 };
	static const uint64_t t_ns[] = { 0, 0, 2, 5, 5 };
	for (size_t i = 0; i < 5; i++) {
		ck_assert_uint_eq(t.req[i].off_bytes, sector[i] * 512);
		ck_assert_uint_eq(t.req[i].t_ns, t_ns[i]);
	}
	wl_trace_free(&t);
}
END_TEST

START_TEST(test_disksim_bad)
{
	const enum wl_trace_fmt F = WL_TRACE_DISKSIM;
	expect_bad("ds-b1", F, "0 0 100 8 1\n1 0 100 8 2\n", 2, "type");
	expect_bad("ds-b2", F, "# c\n\n0 0 100 8 1\n5 0 -3 8 1\n", 4,
		   "start sector '-3'");
	expect_bad("ds-b3", F, "0 0 100 8 1\n0 0 100 8\n", 2, "5 fields");
	expect_bad("ds-b4", F, "0 0 100 8 1 junk\n", 1, "5 fields");
	expect_bad("ds-b5", F, "0 0 100 8 1\n\n0 0 100 0 1\n", 3, "size is 0");
	expect_bad("ds-b6", F, "0 0 1 8 1\nabc 0 1 8 1", 2, "arrival time");
	expect_bad("ds-b7", F, "1.5.3 0 1 8 1\n", 1, "arrival time");
	expect_bad("ds-b8", F, "-1 0 1 8 1\n", 1, "arrival time");
	expect_bad("ds-b9", F, "1e3 0 1 8 1\n", 1, "arrival time");
	expect_bad("ds-b10", F, "0 -1 1 8 1\n", 1, "device");
	expect_bad("ds-b11", F, "0 0 0x10 8 1\n", 1, "start sector");
	expect_bad("ds-b12", F, "0 0 1 8 1.0\n", 1, "type");
	expect_bad("ds-b13", F, "0 0 1 8x 1\n", 1, "size");
	/* 2^55 sectors * 512 = 2^64 bytes */
	expect_bad("ds-b14", F, "0 0 36028797018963968 8 1\n", 1, "overflow");
	/* 8388608 sectors = 4 GiB does not fit len_bytes */
	expect_bad("ds-b15", F, "0 0 1 8388608 1\n", 1, "too large");
	expect_bad("ds-b16", F, "99999999999999999999999 0 1 8 1\n", 1,
		   "too large");
	expect_bad("ds-b17", F, "0 0 18446744073709551615 1 1\n", 1,
		   "overflow");
	/* off + len past 2^64 */
	expect_bad("ds-b18", F, "0 0 36028797018963967 2 1\n", 1, "overflow");
}
END_TEST

START_TEST(test_disksim_nul_and_empty)
{
	/* An embedded NUL must not silently cut a line short. */
	const char *path = fixture("ds-nul", "");
	FILE *fp = fopen(path, "wb");
	ck_assert_ptr_nonnull(fp);
	static const char data[] = "0 0 1 8 1\n0 0 1 8 1\0 junk\n";
	fwrite(data, 1, sizeof data - 1, fp);
	fclose(fp);
	struct wl_trace t;
	struct nd_err err = { 0 };
	ck_assert_int_eq(wl_trace_load(path, WL_TRACE_DISKSIM, &t, &err),
			 -EINVAL);
	char where[1100];
	snprintf(where, sizeof where, "%s:2: ", path);
	ck_assert_msg(strstr(err.msg, where) && strstr(err.msg, "NUL"), "%s",
		      err.msg);

	/* Only comments: no requests is an error, not an empty trace. */
	path = fixture("ds-empty", "# nothing\n\n");
	ck_assert_int_eq(wl_trace_load(path, WL_TRACE_DISKSIM, &t, &err),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, path));
	ck_assert_ptr_nonnull(strstr(err.msg, "no I/O requests"));
}
END_TEST

START_TEST(test_blkparse_fixture)
{
	struct wl_trace t;
	load_ok("bp-ok.txt", WL_TRACE_BLKPARSE,
		"Input file sda.blktrace.0 added\n"
		"  8,0    3        1     0.000000000   697  Q   W 223490 + 8 [kjournald]\n"
		"  8,0    3        2     0.000001000   697  G   W 223490 + 8 [kjournald]\n"
		"  8,0    3        3     0.000002000   697  P   N [kjournald]\n"
		"  8,0    3        4     0.000003000   697  D   W 223490 + 8 [kjournald]\n"
		"  8,0    3        5     0.000004000   697  D   N 0 (00 ..) [kworker/0:1]\n"
		"  8,0    3        6     0.000005000   697  D   D 1000 + 64 [fstrim]\n"
		"  8,0    3        7     0.000006000   697  D FWS [jbd2/sda1-8]\n"
		"  8,0    3        8     0.000007000   697  D  WS 5 + 0 [x]\n"
		"  8,0    3        9     0.000008000   697  U   N [kjournald] 1\n"
		"  8,0    3       10     0.5   697  D  RM 100 + 16 [Web Content]\r\n"
		"  8,0    3       11     1.000000001   697  C   W 223490 + 8 [0]\n"
		"  8,0    1        1     1.250000000   12  D  WFS 7 + 1\n"
		"\n"
		"CPU3 (sda):\n"
		" Reads Queued:           0,        0KiB\t Writes Queued:           1,        4KiB\n"
		" Read depth:             1        \t Write depth:             1\n"
		" IO unplugs:             0        \t Timer unplugs:           0\n"
		"\n"
		"Total (sda):\n"
		" Reads Queued:           0,        0KiB\t Writes Queued:           1,        4KiB\n"
		"\n"
		"Throughput (R/W): 0KiB/s / 4KiB/s\n"
		"Events (sda): 11 entries\n"
		"Skips: 0 forward (0 -   0.0%)\n", &t);
	ck_assert_uint_eq(t.n, 3);
	ck_assert_uint_eq(t.n_reads, 1);
	ck_assert_uint_eq(t.n_writes, 2);
	assert_monotonic(&t);
	ck_assert_uint_eq(t.req[0].off_bytes, 223490ull * 512);
	ck_assert_uint_eq(t.req[0].len_bytes, 4096);
	ck_assert_uint_eq(t.req[1].t_ns, 500000000 - 3000);
	ck_assert_uint_eq(t.req[1].is_write, 0);
	ck_assert_uint_eq(t.req[1].len_bytes, 16 * 512);
	ck_assert_uint_eq(t.req[2].t_ns, 1250000000 - 3000);
	ck_assert_uint_eq(t.req[2].off_bytes, 7 * 512);
	ck_assert_uint_eq(t.max_end_bytes, (223490ull + 8) * 512);
	wl_trace_free(&t);
}
END_TEST

START_TEST(test_blkparse_bad)
{
	const enum wl_trace_fmt F = WL_TRACE_BLKPARSE;
	const char *ok = "  8,0  1  1  0.000000100  12  D  R 8 + 8 [p]\n";
	char text[1024];
	static const struct {
		const char *line;
		const char *what;
	} cases[] = {
		{ "  8,0  1  2  0.00x1  12  D  R 5 + 8 [p]", "time '0.00x1'" },
		{ "  8,0  1  2  -0.1  12  D  R 5 + 8 [p]", "time" },
		{ "  8,0  1  2  0.1  12  D  W abc + 8 [p]", "sector 'abc'" },
		{ "  8,0  1  2  0.1  12  D  W -5 + 8 [p]", "sector '-5'" },
		{ "  8,0  1  2  0.1  12  D  W 100 [p]", "sector + nsectors" },
		{ "  8,0  1  2  0.1  12  D  W 100", "sector + nsectors" },
		{ "  8,0  1  2  0.1  12  D  W 100 +", "sector + nsectors" },
		{ "  8,0  1  2  0.1  12  D  W 100 - 8 [p]", "sector + nsectors" },
		{ "  8,0  1  2  0.1  12  D  W 100 + x8 [p]", "nsectors 'x8'" },
		{ "  8,0  1  2  0.1  12  D  W 100 + 8 junk", "junk" },
		{ "  8,0  1  2  0.1  12  D  W [p]", "sector + nsectors" },
		{ "  8,0  1  2  0.1  12  D", "RWBS" },
		{ "  8,0  1  2  0.1  12  D  w 5 + 8", "RWBS" },
		{ "  8,0  1  2", "truncated" },
		{ "  8,0  x  2  0.1  12  D  R 5 + 8 [p]", "cpu" },
		{ "  8,0  1  2  0.1  pid  Q  R 5 + 8 [p]", "pid" },
		{ "  8,0  1  2  0.1  12  D  W 36028797018963968 + 8",
		  "overflow" },
		{ "hello world", "not a blkparse event line" },
		{ "8,x 1 2 0.1 12 D R 5 + 8", "not a blkparse event line" },
	};
	for (size_t i = 0; i < ND_ARRAY_LEN(cases); i++) {
		/* Lines 1-3 are fine (one blank), the bad one is line 4. */
		snprintf(text, sizeof text, "%s\n%s%s\n", ok, ok, cases[i].line);
		char name[32];
		snprintf(name, sizeof name, "bp-b%zu", i);
		expect_bad(name, F, text, 4, cases[i].what);
	}
	/* An unknown line after the summary block is still reported. */
	expect_bad("bp-bsum", F,
		   "  8,0  1  1  0.1  12  D  R 8 + 8 [p]\n"
		   "Total (sda):\n"
		   " Reads Queued:  0,  0KiB\n"
		   "garbage\n", 4, "not a blkparse event line");
}
END_TEST

START_TEST(test_msr_fixture)
{
	struct wl_trace t;
	load_ok("msr-ok.csv", WL_TRACE_MSR,
		"Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime\n"
		"128166372003061629,hm,1,Read,3154152960,4096,23065\n"
		"128166372016382155,hm,1,Write,3154152960,32768,1223\r\n"
		"128166372016382155,hm,1,WRITE,0,512,1\n"
		"128166372003061630,hm,0,read,8192,65536,99\n"
		"\n"
		"128166372026382155,hm,1,write,18446744073709547519,4096,1", &t);
	ck_assert_uint_eq(t.n, 5);
	ck_assert_uint_eq(t.n_reads, 2);
	ck_assert_uint_eq(t.n_writes, 3);
	assert_monotonic(&t);
	/* 100 ns ticks; the 4th line is earlier than the 2nd and sorted in */
	ck_assert_uint_eq(t.req[0].off_bytes, 3154152960ull);
	ck_assert_uint_eq(t.req[1].t_ns, 100);
	ck_assert_uint_eq(t.req[1].off_bytes, 8192);
	ck_assert_uint_eq(t.req[1].len_bytes, 65536);
	ck_assert_uint_eq(t.req[2].t_ns,
			  (128166372016382155ull - 128166372003061629ull) * 100);
	ck_assert_uint_eq(t.req[2].len_bytes, 32768);
	ck_assert_uint_eq(t.req[3].off_bytes, 0);
	ck_assert_uint_eq(t.req[3].is_write, 1);
	ck_assert_uint_eq(t.req[4].t_ns,
			  (128166372026382155ull - 128166372003061629ull) * 100);
	ck_assert_uint_eq(t.max_end_bytes, UINT64_MAX);
	wl_trace_free(&t);
}
END_TEST

START_TEST(test_msr_bad)
{
	const enum wl_trace_fmt F = WL_TRACE_MSR;
	const char *ok = "128166372003061629,hm,1,Read,0,4096,1\n";
	char text[1024];
	static const struct {
		const char *line;
		const char *what;
	} cases[] = {
		{ "128166372003061630,hm,1,Trim,0,4096,1", "Type 'Trim'" },
		{ "128166372003061630,hm,1,Read,0,0,1", "Size is 0" },
		{ "128166372003061630,hm,1,Read,0,4096", "7 fields" },
		{ "128166372003061630,hm,1,Read,0,4096,1,9", "more than 7" },
		{ "128166372003061630,hm,1,Read,-512,4096,1", "Offset '-512'" },
		{ "128166372003061630,,1,Read,0,4096,1", "Hostname" },
		{ "x128166372003061630,hm,1,Read,0,4096,1", "Timestamp" },
		{ "128166372003061630,hm,one,Read,0,4096,1", "DiskNumber" },
		{ "128166372003061630,hm,1,Read,0,4096,1.5", "ResponseTime" },
		{ "128166372003061630,hm,1,Read,0,4294967296,1", "too large" },
		{ "128166372003061630,hm,1,Read,18446744073709551615,2,1",
		  "overflow" },
		{ "128166372003061630 hm 1 Read 0 4096 1", "7 fields" },
		/* a header is only accepted before the first request */
		{ "Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime",
		  "Timestamp" },
	};
	for (size_t i = 0; i < ND_ARRAY_LEN(cases); i++) {
		snprintf(text, sizeof text, "%s%s\n%s\n", ok, ok, cases[i].line);
		char name[32];
		snprintf(name, sizeof name, "msr-b%zu", i);
		/* ok, ok, blank, bad: line 4 */
		expect_bad(name, F, text, 4, cases[i].what);
	}
}
END_TEST

/* A file in one format read as another fails at line 1, never loads. */
START_TEST(test_wrong_format)
{
	const char *path = shared_trace("wiscsee-blkparse.txt");
	if (!path)
		return;
	struct wl_trace t;
	struct nd_err err = { 0 };
	ck_assert_int_eq(wl_trace_load(path, WL_TRACE_DISKSIM, &t, &err),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, ":1: "));
	ck_assert_int_eq(wl_trace_load(path, WL_TRACE_MSR, &t, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, ":1: "));
	path = shared_trace("ssdsim-example.ascii");
	if (!path)
		return;
	ck_assert_int_eq(wl_trace_load(path, WL_TRACE_BLKPARSE, &t, &err),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, ":1: "));
}
END_TEST

static Suite *trace_suite(void)
{
	Suite *s = suite_create("trace");
	TCase *tc = tcase_create("trace");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fmt_parse);
	tcase_add_test(tc, test_ssdsim_example);
	tcase_add_test(tc, test_wiscsee_blkparse);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_disksim_fixture);
	tcase_add_test(tc, test_disksim_unsorted);
	tcase_add_test(tc, test_disksim_bad);
	tcase_add_test(tc, test_disksim_nul_and_empty);
	tcase_add_test(tc, test_blkparse_fixture);
	tcase_add_test(tc, test_blkparse_bad);
	tcase_add_test(tc, test_msr_fixture);
	tcase_add_test(tc, test_msr_bad);
	tcase_add_test(tc, test_wrong_format);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(trace_suite());
}
