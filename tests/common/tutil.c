#include "tests/common/tutil.h"

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

void tu_skip(const char *why)
{
	printf("skip: %s\n", why);
	fflush(stdout);
}

int tu_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
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
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *t = malloc((size_t)(n < 0 ? 0 : n) + 1);
	if (!t) {
		fclose(f);
		return NULL;
	}
	t[fread(t, 1, (size_t)(n < 0 ? 0 : n), f)] = '\0';
	fclose(f);
	return t;
}
