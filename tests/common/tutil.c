#include "tests/common/tutil.h"

#include "core/cfg.h"
#include "core/file.h"
#include "workloads/idx.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *tu_shared_dir(void)
{
	const char *s = getenv("NDPSIM_SHARED");
	return s && *s ? s : "../shared";
}

const char *tu_tmpdir(void)
{
	static char dir[256];
	if (!dir[0]) {
		mkdir("build", 0755);
		snprintf(dir, sizeof dir, "build/test-tmp");
		mkdir(dir, 0755);
	}
	return dir;
}

/* Skipped cases are recorded as the pids of the processes that ran them,
 * one line each, in a file named after the runner (set before it forks). */
static char skip_log[320];

static void record_skip(void)
{
	if (!skip_log[0])
		return;
	FILE *f = fopen(skip_log, "a");
	if (!f)
		return;
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
}

void tu_skip(const char *why)
{
	printf("skip: %s\n", why);
	fflush(stdout);
	record_skip();
}

void tu_skip_need(const char *need, const char *why)
{
	const char *req = getenv("NDPSIM_REQUIRE");
	size_t n = strlen(need);
	for (const char *p = req; p && (p = strstr(p, need)); p += n) {
		int start = p == req || p[-1] == ' ' || p[-1] == ',';
		int end = p[n] == '\0' || p[n] == ' ' || p[n] == ',';
		if (start && end)
			ck_abort_msg("%s is required here (NDPSIM_REQUIRE=%s) but: %s", need, req, why);
	}
	tu_skip(why);
}

/* Distinct pids in the skip log: the number of skipped cases. */
static int count_skips(void)
{
	FILE *f = fopen(skip_log, "r");
	if (!f)
		return 0;
	long seen[4096];
	int n = 0;
	long pid;
	while (fscanf(f, "%ld", &pid) == 1) {
		int dup = 0;
		for (int i = 0; i < n && !dup; i++)
			dup = seen[i] == pid;
		if (!dup && n < (int)(sizeof seen / sizeof seen[0]))
			seen[n++] = pid;
	}
	fclose(f);
	return n;
}

int tu_run_suite(Suite *s)
{
	snprintf(skip_log, sizeof skip_log, "%s/skips-%ld", tu_tmpdir(), (long)getpid());
	unlink(skip_log);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	int run = srunner_ntests_run(sr);
	srunner_free(sr);
	int skipped = count_skips();
	unlink(skip_log);
	printf("tutil: %d cases, %d skipped\n", run, skipped);
	if (failed)
		return 1;
	return run > 0 && skipped >= run ? 77 : 0;
}

int tu_sh(char *out, unsigned long n, const char *cmd)
{
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	size_t got = 0;
	if (out && n) {
		size_t r;
		while (got + 1 < n && (r = fread(out + got, 1, n - 1 - got, p)) > 0)
			got += r;
		out[got] = '\0';
	}
	char sink[4096];
	while (fread(sink, 1, sizeof sink, p) > 0)
		;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int tu_ndpsim(char *out, unsigned long n, const char *args_fmt, ...)
{
	char args[4096], cmd[4600];
	va_list ap;
	va_start(ap, args_fmt);
	vsnprintf(args, sizeof args, args_fmt, ap);
	va_end(ap);
	const char *bin = getenv("NDPSIM_BIN");
	snprintf(cmd, sizeof cmd, "%s %s 2>&1", bin && *bin ? bin : "build/ndpsim", args);
	return tu_sh(out, n, cmd);
}

const char *tu_write_file(const char *name, const char *text)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/%s", tu_tmpdir(), name);
	FILE *f = fopen(path, "w");
	if (!f)
		return NULL;
	fputs(text, f);
	fclose(f);
	return path;
}

char *tu_slurp(const char *path)
{
	char *t;
	return nd_read_file(path, (size_t)1 << 30, &t, NULL, NULL) ? NULL : t;
}

int tu_fmnist(const struct wl_dataset **train, const struct wl_dataset **test)
{
	static struct wl_dataset tr, te;
	static int have = -1;
	if (have < 0) {
		struct nd_err err = { 0 };
		have = !wl_fmnist_load(wl_fmnist_default_dir(), 1, &tr, &err) &&
		       !wl_fmnist_load(wl_fmnist_default_dir(), 0, &te, &err);
		if (!have)
			fprintf(stderr, "%s\n", err.msg);
	}
	*train = &tr;
	*test = &te;
	return have;
}

void tu_defaults(const struct cfg_section *sec, void *p)
{
	struct cfg_bundle b = { 0 };
	cfg_bundle_add(&b, sec, p);
	cfg_defaults(&b);
}
