#include "core/util.h"

#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long fail_after = -1;

void xalloc_fail_after(long n) { fail_after = n; }

static void check_fault(size_t n)
{
	if (fail_after < 0)
		return;
	if (fail_after == 0) {
		fprintf(stderr, "ndpsim: out of memory allocating %zu bytes "
			"(injected)\n", n);
		abort();
	}
	fail_after--;
}

static void *oom(size_t n)
{
	fprintf(stderr, "ndpsim: out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	check_fault(n);
	void *p = malloc(n ? n : 1);
	return p ? p : oom(n);
}

void *xcalloc(size_t nmemb, size_t size)
{
	check_fault(nmemb * size);
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	return p ? p : oom(nmemb * size);
}

void *xrealloc(void *p, size_t n)
{
	check_fault(n);
	void *q = realloc(p, n ? n : 1);
	return q ? q : oom(n);
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = xmalloc(n);
	memcpy(d, s, n);
	return d;
}

void nd_assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "ndpsim: internal error: assertion '%s' failed at %s:%d\n",
		expr, file, line);
	abort();
}

uint64_t nd_xfer_ns(uint64_t bytes, double bytes_per_s)
{
	if (bytes == 0)
		return 0;
	double ns = (double)bytes * 1e9 / bytes_per_s;
	uint64_t r = (uint64_t)ns;
	if ((double)r < ns)
		r++;
	return r ? r : 1;
}

double nd_wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double nd_cpu_s(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru))
		return 0.0;
	return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
	       (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}
