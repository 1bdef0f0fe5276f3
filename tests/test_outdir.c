/*
 * test_outdir.c — results directories replaced as a whole: a committed run
 * replaces every file of the old set, an aborted or killed run leaves the
 * old set exactly as it was, and a second writer of the same --out is
 * refused while the first holds it.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/outdir.h"
#include "tests/common/tutil.h"

static char out[1024];

static void put(const char *dir, const char *name, const char *text)
{
	char p[2048];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Contents of out/name, or "" when missing (static buffer). */
static const char *get(const char *name)
{
	static char buf[256];
	char p[2048];
	snprintf(p, sizeof p, "%s/%s", out, name);
	buf[0] = '\0';
	FILE *f = fopen(p, "r");
	if (f) {
		buf[fread(buf, 1, sizeof buf - 1, f)] = '\0';
		fclose(f);
	}
	return buf;
}

static int count_beside(const char *infix)
{
	char cmd[2200];
	snprintf(cmd, sizeof cmd, "ls -d %s%s* 2>/dev/null | wc -l", out, infix);
	FILE *p = popen(cmd, "r");
	int n = -1;
	if (p) {
		if (fscanf(p, "%d", &n) != 1)
			n = -1;
		pclose(p);
	}
	return n;
}

static void setup(void)
{
	snprintf(out, sizeof out, "%s/outdir-%ld/res", tu_tmpdir(), (long)getpid());
	rep_rmtree(out);
}

START_TEST(commit_replaces_the_whole_set)
{
	struct nd_err err = { 0 };
	struct rep_outdir o;
	ck_assert_int_eq(rep_outdir_begin(&o, out, &err), 0);
	put(o.stage, "report.json", "old report");
	put(o.stage, "figure.png", "old figure");
	ck_assert_str_eq(get("report.json"), "");       /* nothing visible yet */
	ck_assert_int_eq(rep_outdir_commit(&o, &err), 0);
	ck_assert_str_eq(get("report.json"), "old report");
	ck_assert_str_eq(get("figure.png"), "old figure");

	ck_assert_int_eq(rep_outdir_begin(&o, out, &err), 0);
	put(o.stage, "report.json", "new report");
	ck_assert_str_eq(get("report.json"), "old report");   /* until commit */
	ck_assert_msg(rep_outdir_commit(&o, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(get("report.json"), "new report");
	ck_assert_str_eq(get("figure.png"), "");   /* the old figure went with its set */
	ck_assert_int_eq(count_beside(".new."), 0);
}
END_TEST

START_TEST(abort_and_kill_leave_the_old_set)
{
	struct nd_err err = { 0 };
	struct rep_outdir o;
	ck_assert_int_eq(rep_outdir_begin(&o, out, &err), 0);
	put(o.stage, "report.json", "kept");
	ck_assert_int_eq(rep_outdir_commit(&o, &err), 0);

	ck_assert_int_eq(rep_outdir_begin(&o, out, &err), 0);
	put(o.stage, "report.json", "bad input half way");
	rep_outdir_abort(&o);
	ck_assert_str_eq(get("report.json"), "kept");
	ck_assert_int_eq(count_beside(".new."), 0);

	/* a run killed while writing: its staging directory stays behind
	 * until the next run removes it; the old set is intact meanwhile */
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rep_outdir c;
		struct nd_err e = { 0 };
		if (rep_outdir_begin(&c, out, &e))
			_exit(3);
		put(c.stage, "report.json", "killed");
		raise(SIGKILL);
		_exit(4);
	}
	int st;
	waitpid(pid, &st, 0);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	ck_assert_str_eq(get("report.json"), "kept");
	ck_assert_int_eq(count_beside(".new."), 1);
	ck_assert_int_eq(rep_outdir_begin(&o, out, &err), 0);   /* lock died with it */
	ck_assert_int_eq(count_beside(".new."), 1);            /* only ours now */
	rep_outdir_abort(&o);
	ck_assert_int_eq(count_beside(".new."), 0);
}
END_TEST

START_TEST(second_writer_refused)
{
	struct nd_err err = { 0 };
	struct rep_outdir a, b;
	ck_assert_int_eq(rep_outdir_begin(&a, out, &err), 0);
	ck_assert_int_eq(rep_outdir_begin(&b, out, &err), -EBUSY);
	ck_assert_msg(strstr(err.msg, "another ndpsim run is writing this directory"), "%s", err.msg);
	put(a.stage, "report.json", "a");
	ck_assert_int_eq(rep_outdir_commit(&a, &err), 0);
	ck_assert_int_eq(rep_outdir_begin(&b, out, &err), 0);  /* free again */
	rep_outdir_abort(&b);
	ck_assert_str_eq(get("report.json"), "a");
	/* a plain file where the directory should be */
	char f[1100];
	snprintf(f, sizeof f, "%s/plain", out);
	put(out, "plain", "x");
	ck_assert_int_eq(rep_outdir_begin(&b, f, &err), -ENOTDIR);
	ck_assert_int_eq(rep_outdir_begin(&b, "/", &err), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("outdir");
	TCase *t = tcase_create("outdir");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, commit_replaces_the_whole_set);
	tcase_add_test(t, abort_and_kill_leave_the_old_set);
	tcase_add_test(t, second_writer_refused);
	suite_add_tcase(s, t);
	return tu_run_suite(s);
}
