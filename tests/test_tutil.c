/*
 * test_tutil.c — the harness itself: a skipped case is counted as skipped
 * (not passed), a program whose every case skipped exits 77, and a skip for
 * something listed in $NDPSIM_REQUIRE fails.  The program re-runs itself
 * with an inner suite and checks what that child printed and returned.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tests/common/tutil.h"

static const char *self;

START_TEST(inner_skip)
{
	tu_skip_need("dataset", "inner: pretend the data set is missing");
	tu_skip("inner: a second skip in the same case");
}
END_TEST

START_TEST(inner_pass)
{
	ck_assert_int_eq(2 + 2, 4);
}
END_TEST

static int inner(const char *mode)
{
	Suite *s = suite_create("inner");
	TCase *t = tcase_create("inner");
	tcase_add_test(t, inner_skip);
	if (!strcmp(mode, "mixed"))
		tcase_add_test(t, inner_pass);
	suite_add_tcase(s, t);
	return tu_run_suite(s);
}

/* Runs this program in inner mode; returns its exit code, output in buf. */
static int run_inner(const char *mode, const char *require, char *buf, size_t n)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "NDPSIM_REQUIRE='%s' %s --inner %s 2>&1", require, self, mode);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	size_t got = fread(buf, 1, n - 1, p);
	buf[got] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(all_skipped_exits_77)
{
	char out[4096];
	int rc = run_inner("skip", "", out, sizeof out);
	ck_assert_msg(rc == 77, "exit %d: %s", rc, out);
	ck_assert_msg(strstr(out, "tutil: 1 cases, 1 skipped"), "%s", out);
}
END_TEST

START_TEST(skip_is_not_a_pass)
{
	char out[4096];
	int rc = run_inner("mixed", "", out, sizeof out);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	/* two skip lines from one case: one skipped case of two */
	ck_assert_msg(strstr(out, "tutil: 2 cases, 1 skipped"), "%s", out);
}
END_TEST

START_TEST(required_skip_fails)
{
	char out[4096];
	int rc = run_inner("mixed", "mpi dataset", out, sizeof out);
	ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
	ck_assert_msg(strstr(out, "dataset is required here"), "%s", out);
	/* a word that only contains the need does not count */
	rc = run_inner("mixed", "datasets", out, sizeof out);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
}
END_TEST

int main(int argc, char **argv)
{
	self = argv[0];
	if (argc == 3 && !strcmp(argv[1], "--inner"))
		return inner(argv[2]);
	Suite *s = suite_create("tutil");
	TCase *t = tcase_create("harness");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, all_skipped_exits_77);
	tcase_add_test(t, skip_is_not_a_pass);
	tcase_add_test(t, required_skip_fails);
	suite_add_tcase(s, t);
	return tu_run_suite(s);
}
