/*
 * test_file.c — reading user-named files: FIFOs, devices and directories are
 * refused at once (a FIFO without a writer would block open() forever), size
 * and line caps stop with a located error, and the commands that read input
 * (config, trace, grid, real I/O) exit 2 on each of them.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "tests/common/tutil.h"

static char fifo[512];

static void make_fifo(void)
{
	snprintf(fifo, sizeof fifo, "%s/fifo-%ld", tu_tmpdir(), (long)getpid());
	unlink(fifo);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
}

START_TEST(non_regular_files_refused_without_blocking)
{
	struct nd_err err = { 0 };
	make_fifo();
	alarm(20);   /* a blocking open would hang the case: fail it instead */
	ck_assert_int_eq(nd_open_regular(fifo, 0, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "not a regular file (a FIFO)"), "%s", err.msg);
	ck_assert_int_eq(nd_open_regular("/dev/zero", 0, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "/dev/zero: not a regular file (a character device)"), "%s", err.msg);
	ck_assert_int_eq(nd_open_regular(tu_tmpdir(), 0, &err), -EISDIR);
	ck_assert_msg(strstr(err.msg, "is a directory"), "%s", err.msg);
	ck_assert_int_eq(nd_open_regular("build/no/such/file", 0, &err), -ENOENT);
	char *buf = NULL;
	ck_assert_int_eq(nd_read_file(fifo, 100, &buf, NULL, &err), -EINVAL);
	ck_assert_ptr_null(buf);
	alarm(0);
	unlink(fifo);
}
END_TEST

START_TEST(size_and_line_caps)
{
	struct nd_err err = { 0 };
	const char *p = tu_write_file("cap.txt", "0123456789\nabc\n");
	char *buf = NULL;
	size_t len = 0;
	ck_assert_int_eq(nd_read_file(p, 15, &buf, &len, &err), 0);
	ck_assert_uint_eq(len, 15);
	ck_assert_str_eq(buf, "0123456789\nabc\n");
	free(buf);
	buf = NULL;
	ck_assert_int_eq(nd_read_file(p, 14, &buf, &len, &err), -EFBIG);
	ck_assert_ptr_null(buf);
	ck_assert_msg(strstr(err.msg, "larger than 14 bytes"), "%s", err.msg);

	FILE *f = fopen(p, "r");
	ck_assert_ptr_nonnull(f);
	char *line = NULL;
	size_t cap = 0;
	ck_assert_int_eq(nd_getline_max(&line, &cap, f, 10), 10);
	ck_assert_str_eq(line, "0123456789");
	ck_assert_int_eq(nd_getline_max(&line, &cap, f, 2), -E2BIG);  /* "abc" */
	fclose(f);
	f = fopen(p, "r");
	ck_assert_int_eq(nd_getline_max(&line, &cap, f, 10), 10);
	ck_assert_int_eq(nd_getline_max(&line, &cap, f, 10), 3);
	ck_assert_str_eq(line, "abc");
	ck_assert_int_eq(nd_getline_max(&line, &cap, f, 10), -1);
	fclose(f);
	free(line);
}
END_TEST

/* Every command that reads a user-named file: exit 2 with the path, at
 * once, for a FIFO, /dev/zero and a newline-free file. */
START_TEST(commands_refuse_bad_files)
{
	char out[8192];
	make_fifo();
	char longf[600];
	snprintf(longf, sizeof longf, "%s/long-line.txt", tu_tmpdir());
	FILE *f = fopen(longf, "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 70000; i++)
		fputc('7', f);
	fclose(f);
	const char *o = tu_tmpdir();
	/* each command reads the FIFO through the option before " FIFO" */
	const char *cs[][2] = {
		{ "ssd --config", "" },
		{ "ssd --format disksim --trace", "--out %s/bf1" },
		{ "io --file", "" },
		{ "sweep --grid", "--out %s/bf2" },
	};
	for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
		char args[2048];
		snprintf(args, sizeof args, "%s %s %s%s", cs[i][0], fifo,
			 cs[i][1][0] ? "--out " : "", cs[i][1][0] ? o : "");
		if (cs[i][1][0])
			snprintf(args + strlen(args), sizeof args - strlen(args), "/bf%zu", i);
		int rc = tu_ndpsim(out, sizeof out, "%s", args);
		ck_assert_msg(rc == 2, "%s: exit %d: %s", args, rc, out);
		ck_assert_msg(strstr(out, "not a regular file (a FIFO)") && strstr(out, fifo),
			      "%s: %s", args, out);
	}
	int rc = tu_ndpsim(out, sizeof out, "ssd --trace /dev/zero --format msr --out %s/bf3", o);
	ck_assert_msg(rc == 2 && strstr(out, "/dev/zero: not a regular file"), "%d %s", rc, out);
	rc = tu_ndpsim(out, sizeof out, "sweep --grid /dev/zero --out %s/bf4", o);
	ck_assert_msg(rc == 2 && strstr(out, "/dev/zero: not a regular file"), "%d %s", rc, out);
	rc = tu_ndpsim(out, sizeof out, "ssd --trace %s --format disksim --out %s/bf5", longf, o);
	ck_assert_msg(rc == 2 && strstr(out, ":1: line longer than 65536 bytes"), "%d %s", rc, out);
	unlink(fifo);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("file");
	TCase *t = tcase_create("file");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, non_regular_files_refused_without_blocking);
	tcase_add_test(t, size_and_line_caps);
	tcase_add_test(t, commands_refuse_bad_files);
	suite_add_tcase(s, t);
	return tu_run_suite(s);
}
