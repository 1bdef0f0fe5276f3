/*
 * bench_ssd_proc.c — whole-process cost of `ndpsim ssd` (issue 10): wall
 * time (best of --runs, default 5) and peak RSS (getrusage of the child) of
 * build/ndpsim on the 512 GiB MQSim preset and on the same device scaled to
 * 16 TiB, plus the creation of an FTL-only 16 TiB drive in-process (forked,
 * so its RSS is its own).  Run from the project root; the shared traces are
 * looked up in $NDPSIM_SHARED or ../shared.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/cfg.h"
#include "core/util.h"
#include "ssdsim/ssd.h"
#include "workloads/synth.h"

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Runs argv (NULL-terminated) with stdout/stderr to /dev/null; wall seconds
 * and peak RSS in KiB, or -1 on failure. */
static int run_child(char *const *argv, double *wall, double *cpu, long *rss_kib)
{
	fflush(NULL);
	double t0 = now_s();
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	int st;
	struct rusage ru;
	while (wait4(pid, &st, 0, &ru) < 0)
		if (errno != EINTR)
			return -1;
	*wall = now_s() - t0;
	*cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
	*rss_kib = ru.ru_maxrss;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int bench_cmd(const char *name, int runs, const char *const *args)
{
	char *argv[64];
	int n = 0;
	argv[n++] = (char *)"build/ndpsim";
	argv[n++] = (char *)"ssd";
	argv[n++] = (char *)"--quiet";
	argv[n++] = (char *)"--no-plot";
	argv[n++] = (char *)"--out";
	argv[n++] = (char *)"build/bench-tmp/ssd-proc";
	for (int i = 0; args[i]; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	double best = 1e30, best_cpu = 1e30;
	long rss = 0;
	for (int r = 0; r < runs; r++) {
		double w, c;
		long k;
		if (run_child(argv, &w, &c, &k)) {
			fprintf(stderr, "bench_ssd_proc: %s: build/ndpsim failed\n", name);
			return 1;
		}
		best = w < best ? w : best;
		best_cpu = c < best_cpu ? c : best_cpu;
		rss = k > rss ? k : rss;
	}
	printf("bench %s_wall_ms %.1f ms\n", name, best * 1e3);
	printf("bench %s_cpu_ms %.1f ms\n", name, best_cpu * 1e3);
	printf("bench %s_rss_mib %.1f MiB\n", name, (double)rss / 1024.0);
	fflush(stdout);
	return 0;
}

/* ssd_create of the 16 TiB device without an event queue, in a child. */
static int bench_create_16t(void)
{
	int fd[2];
	if (pipe(fd))
		return 1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(fd[0]);
		struct run_params run;
		struct ssd_params sp;
		struct wl_params wp;
		struct cfg_bundle b = { 0 };
		struct nd_err err = { 0 };
		cfg_bundle_add(&b, &run_section, &run);
		cfg_bundle_add(&b, &ssd_section, &sp);
		cfg_bundle_add(&b, &wl_section, &wp);
		cfg_defaults(&b);
		if (cfg_load_file(&b, "configs/mqsim-default.json", &err) ||
		    cfg_set(&b, "ssd.blocks=65536", &err) || cfg_validate(&b, &err))
			_exit(1);
		struct rusage r0, r1;
		getrusage(RUSAGE_SELF, &r0);
		double t0 = now_s();
		ssd *s;
		if (ssd_create(&sp, NULL, NULL, 1, &s, &err))
			_exit(1);
		double t = now_s() - t0;
		getrusage(RUSAGE_SELF, &r1);
		double v[2] = { t, (double)(r1.ru_maxrss - r0.ru_maxrss) / 1024.0 };
		if (write(fd[1], v, sizeof v) != (ssize_t)sizeof v)
			_exit(1);
		ssd_destroy(s);
		_exit(0);
	}
	close(fd[1]);
	double v[2];
	ssize_t got = read(fd[0], v, sizeof v);
	close(fd[0]);
	int st;
	waitpid(pid, &st, 0);
	if (got != (ssize_t)sizeof v || !WIFEXITED(st) || WEXITSTATUS(st))
		return 1;
	printf("bench ssd_create_16t_ms %.2f ms\n", v[0] * 1e3);
	printf("bench ssd_create_16t_rss_growth_mib %.1f MiB\n", v[1]);
	return 0;
}

int main(int argc, char **argv)
{
	int runs = 5;
	if (argc == 3 && !strcmp(argv[1], "--runs"))
		runs = atoi(argv[2]);
	const char *sh = getenv("NDPSIM_SHARED");
	char trace[512];
	snprintf(trace, sizeof trace, "%s/data/traces/ssdsim-example.ascii", sh && *sh ? sh : "../shared");
	if (access(trace, R_OK)) {
		printf("skip: %s not found\n", trace);
		return 0;
	}
	if (system("mkdir -p build/bench-tmp"))
		return 1;
	const char *mq = "configs/mqsim-default.json";
	const char *tr512[] = { "--config", mq, "--trace", trace, "--format", "disksim", NULL };
	const char *tr16t[] = { "--config", mq, "--set", "ssd.blocks=65536", "--trace", trace,
				"--format", "disksim", NULL };
	const char *qd1[] = { "--config", mq, "--set", "ssd.precondition.fill=1", "--set",
			      "workload.count=100000", "--set", "workload.qd=1", NULL };
	const char *qd32[] = { "--config", mq, "--set", "ssd.precondition.fill=1", "--set",
			       "workload.count=1000000", "--set", "workload.qd=32", NULL };
	/* scattered writes on a large drive: memory must follow the units
	 * written, not the table (11 GB and 28 s before the dense rule took
	 * the table's size into account) */
	const char *w16t[] = { "--config", mq, "--set", "ssd.blocks=65536", "--set",
			       "workload.pattern=rand", "--set", "workload.read_ratio=0", "--set",
			       "workload.count=100000", "--set", "workload.qd=32", NULL };
	return bench_create_16t() ||
	       bench_cmd("ssd_proc_trace_512g", runs, tr512) ||
	       bench_cmd("ssd_proc_trace_16t", runs, tr16t) ||
	       bench_cmd("ssd_proc_filled_512g_qd1_1e5", runs, qd1) ||
	       bench_cmd("ssd_proc_filled_512g_qd32_1e6", runs, qd32) ||
	       bench_cmd("ssd_proc_randwrite_16t_1e5", runs, w16t);
}
