/*
 * test_cli.c — the results directory of every command, seen from outside:
 * a run whose writes fail (RLIMIT_FSIZE 0: every write(2) to a regular file
 * fails with EFBIG) prints no success line, exits non-zero and leaves the
 * previous set byte for byte; a successful run replaces the set as a whole
 * (a file of the old set that the new one does not write is gone); a second
 * run on an --out that another run holds is refused with a message naming it.
 * Plus: sweep point workers die with a killed parent.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "cli/cli.h"
#include "cli/registry.h"
#include "core/outdir.h"
#include "core/util.h"
#include "workloads/bnn.h"
#include "tests/common/tutil.h"
#include "workloads/idx.h"

static const char *bin(void)
{
	const char *b = getenv("NDPSIM_BIN");
	return b && *b ? b : "build/ndpsim";
}

static int have_data(void)
{
	char probe[512];
	snprintf(probe, sizeof probe, "%s/t10k-images-idx3-ubyte.gz", wl_fmnist_default_dir());
	return access(probe, R_OK) == 0;
}

/* A fresh directory path under the scratch dir (nothing there yet). */
static const char *fresh(const char *name)
{
	static char d[4][600];
	static int k;
	char *p = d[k++ % 4];
	snprintf(p, sizeof d[0], "%s/cli-%s", tu_tmpdir(), name);
	rep_rmtree(p);
	char lock[700];
	snprintf(lock, sizeof lock, "%s.lock", p);
	unlink(lock);
	return p;
}

/* Runs `ndpsim ARGS` with every file write failing (ulimit -f, a few blocks; SIGXFSZ
 * ignored so write(2) returns EFBIG instead of killing the process). */
static int run_nowrite(char *out, size_t n, int blocks, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int run_nowrite(char *out, size_t n, int blocks, const char *fmt, ...)
{
	char args[4096], cmd[4700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	/* blocks of 512 bytes (dash's unit).  Commands that use OpenMP get 2:
	 * LLVM's libomp sizes a 1 KiB shared-memory segment at start-up and
	 * aborts if it cannot, and each of their results sets has a larger file */
	snprintf(cmd, sizeof cmd, "trap '' XFSZ; ulimit -f %d; exec %s %s 2>&1", blocks, bin(), args);
	return tu_sh(out, n, cmd);
}

static void put(const char *dir, const char *name, const char *text)
{
	char p[1200];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* An old set: report.json and a figure with known contents. */
static void old_set(const char *dir)
{
	char cmd[800];
	snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	put(dir, "report.json", "{\"old\": true}\n");
	put(dir, "stale.png", "old figure");
}

static int exists(const char *dir, const char *name)
{
	char p[1200];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", dir, name);
	return stat(p, &st) == 0;
}

/* The old set is there, byte for byte, and no staging directory is left. */
static void old_set_intact(const char *dir)
{
	char p[1200];
	snprintf(p, sizeof p, "%s/report.json", dir);
	char *t = tu_slurp(p);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t, "{\"old\": true}\n");
	free(t);
	snprintf(p, sizeof p, "%s/stale.png", dir);
	t = tu_slurp(p);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t, "old figure");
	free(t);
	/* nothing else in the directory */
	DIR *d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	ck_assert_int_eq(n, 2);
	/* and no <dir>.new.* beside it */
	char cmd[1300];
	snprintf(cmd, sizeof cmd, "ls -d '%s'.new.* >/dev/null 2>&1", dir);
	ck_assert_int_ne(system(cmd), 0);
}

/* One command under test: its arguments (reduced settings), the words of
 * its success line, and whether it needs the data set. */
struct cmd {
	const char *name;
	const char *args;       /* @OUT@: the --out value, @FILE@: an input file */
	const char *success;    /* printed only after the set is in place */
	const char *late;       /* a file it writes after others (NDPSIM_FAULT_WRITE) */
	int data;
	int cheap;              /* also run once for real (seconds): the first NCHEAP */
};

#define XSMALL "--set bnn.hidden=64,64 --set bnn.epochs=1 --set bnn.train_n=5000 " \
	       "--set xbar.mc.test_n=1000 --set xbar.mc.chips=2 --set threads=1"

static char io_file[600];

static const struct cmd cmds[] = {
	{ "ssd", "ssd --set ssd.blocks=64 --set workload.count=3000 --no-plot --out @OUT@",
	  "results in", "utilization.csv", 0, 1 },
	{ "train", "train --where host --set ssd.blocks=64 --set train.epochs=1 "
	  "--set train.evals_per_epoch=1 --set threads=1 --out @OUT@", "results in", "curve.csv", 1, 1 },
	{ "xbar-eval", "xbar eval " XSMALL " --out @OUT@", "results in", "energy.csv", 1, 1 },
	{ "io", "io --file @FILE@ --out @OUT@", "report ", "report.json", 0, 1 },
	/* not cheap from here on: only the failing and the locked run */
	{ "xbar-train", "xbar train " XSMALL " --out @OUT@", "results in", "train.csv", 1, 0 },
	{ "run", "run " XSMALL " --set compare.workloads=infer --out @OUT@", "results, figures",
	  "energy.csv", 1, 0 },
};
#define NCHEAP 4

/* c->args with @OUT@ -> out and @FILE@ -> the input file of `io`. */
static void cmd_args(const struct cmd *c, const char *out, char *buf, size_t n)
{
	size_t k = 0;
	for (const char *a = c->args; *a && k + 1 < n;) {
		const char *rep = NULL;
		if (!strncmp(a, "@OUT@", 5))
			rep = out;
		else if (!strncmp(a, "@FILE@", 6))
			rep = io_file;
		if (rep) {
			k += (size_t)snprintf(buf + k, n - k, "%s", rep);
			a += rep == out ? 5 : 6;
		} else {
			buf[k++] = *a++;
		}
	}
	ck_assert(k + 1 < n);
	buf[k] = '\0';
}

static void make_io_file(void)
{
	snprintf(io_file, sizeof io_file, "%s/cli-io-input", tu_tmpdir());
	FILE *f = fopen(io_file, "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 65536; i++)
		fputc(i * 7 & 0xff, f);
	fclose(f);
}

/* A case's common start: skipped (reported, NULL returned) without the data
 * set; else an io file, a fresh out dir holding an old set, and the args. */
static const char *set_up_case(const struct cmd *c, char *args, size_t cap)
{
	if (c->data && !have_data()) {
		tu_skip_need("dataset", "Fashion-MNIST not installed (dataset-fashion-mnist)");
		return NULL;
	}
	make_io_file();
	const char *d = fresh(c->name);
	old_set(d);
	cmd_args(c, d, args, cap);
	return d;
}

START_TEST(failed_write_keeps_old_set)
{
	const struct cmd *c = &cmds[_i];
	char out[16384], args[2048];
	const char *d = set_up_case(c, args, sizeof args);
	if (!d)
		return;
	int rc = run_nowrite(out, sizeof out, strcmp(c->name, "io") ? 2 : 0, "%s", args);
	ck_assert_msg(rc == 1 || rc == 2, "%s: exit %d: %s", c->name, rc, out);
	ck_assert_msg(!strstr(out, c->success), "%s: success line after a failed write: %s",
		      c->name, out);
	/* the failure is the write (the model writer says "write failed") */
	ck_assert_msg(strstr(out, "File too large") || strstr(out, "write failed"), "%s: %s", c->name, out);
	old_set_intact(d);
}
END_TEST

/* A write that fails after others succeeded (injected): the files that
 * were written do not land beside the old set. */
START_TEST(late_failure_keeps_old_set)
{
	const struct cmd *c = &cmds[_i];
	char out[16384], args[2048];
	const char *d = set_up_case(c, args, sizeof args);
	if (!d)
		return;
	setenv("NDPSIM_FAULT_WRITE", c->late, 1);
	int rc = tu_ndpsim(out, sizeof out, "%s", args);
	unsetenv("NDPSIM_FAULT_WRITE");
	ck_assert_msg(rc == 1, "%s: exit %d: %s", c->name, rc, out);
	ck_assert_msg(strstr(out, "injected failure"), "%s: %s", c->name, out);
	ck_assert_msg(!strstr(out, c->success), "%s: success line after a failed write: %s",
		      c->name, out);
	old_set_intact(d);
}
END_TEST

START_TEST(success_replaces_whole_set)
{
	const struct cmd *c = &cmds[_i];
	char out[16384], args[2048];
	const char *d = set_up_case(c, args, sizeof args);
	if (!d)
		return;
	int rc = tu_ndpsim(out, sizeof out, "%s", args);
	ck_assert_msg(rc == 0, "%s: %s", c->name, out);
	ck_assert_msg(strstr(out, c->success), "%s: %s", c->name, out);
	ck_assert(!exists(d, "stale.png"));   /* the old set went as a whole */
	char p[1200];
	snprintf(p, sizeof p, "%s/report.json", d);
	char *t = tu_slurp(p);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_nonnull(strstr(t, "\"metrics\""));
	ck_assert_ptr_null(strstr(t, "\"old\""));
	/* the report's config has the sections of the command's row, in order */
	char name[64];
	snprintf(name, sizeof name, "%s", c->args);
	*strchr(name, ' ') = '\0';
	const struct cli_cmd *row = cli_cmd_find(name);
	ck_assert_ptr_nonnull(row);
	cJSON *rep = cJSON_Parse(t);
	ck_assert_ptr_nonnull(rep);
	const cJSON *cfg = cJSON_GetObjectItem(rep, "config"), *it;
	if (row->sections[0]) {
		ck_assert_ptr_nonnull(cfg);
		int k = 0;
		cJSON_ArrayForEach(it, cfg) {
			if (!cJSON_IsObject(it))
				continue;   /* top-level keys: seed, threads */
			while (row->sections[k] && !row->sections[k]->name[0])
				k++;
			ck_assert_ptr_nonnull(row->sections[k]);
			ck_assert_str_eq(it->string, row->sections[k]->name);
			k++;
		}
		while (row->sections[k] && !row->sections[k]->name[0])
			k++;
		ck_assert_ptr_null(row->sections[k]);   /* none left over */
	}
	cJSON_Delete(rep);
	free(t);
}
END_TEST

/* The command table: every row complete, every section registered, every
 * command in `ndpsim --help` and answering --help itself. */
START_TEST(command_table)
{
	char out[16384];
	int rc = tu_ndpsim(out, sizeof out, "--help");
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_ge(cli_ncmds, 9);
	for (size_t i = 0; i < cli_ncmds; i++) {
		const struct cli_cmd *c = &cli_cmds[i];
		ck_assert_ptr_nonnull(c->name);
		ck_assert_ptr_nonnull(c->fn);
		ck_assert(c->help && c->help[0]);
		ck_assert_ptr_eq(cli_cmd_find(c->name), c);
		char line[128];
		snprintf(line, sizeof line, "\n  %-10s %s", c->name, c->help);
		ck_assert_msg(strstr(out, line), "ndpsim --help lacks '%s'", c->name);
		for (int k = 0; k < CLI_MAX_SECTIONS && c->sections[k]; k++) {
			int found = 0;
			for (int j = 0; cli_all_sections[j]; j++)
				found |= cli_all_sections[j] == c->sections[k];
			ck_assert_msg(found, "%s: section '%s' is not registered", c->name,
				      c->sections[k]->name);
			for (int j = 0; j < k; j++)
				ck_assert_ptr_ne(c->sections[j], c->sections[k]);
		}
		if (c->sweep_as) {
			/* a grid names the command by its own name, maybe with a leading argument */
			size_t n = strlen(c->name);
			ck_assert(!strncmp(c->sweep_as, c->name, n) &&
				  (c->sweep_as[n] == '\0' || c->sweep_as[n] == ' '));
			ck_assert(c->sections[0] != NULL);
		}
		char h[16384];
		rc = tu_ndpsim(h, sizeof h, "%s --help", c->name);
		ck_assert_msg(rc == 0 && strstr(h, "usage"), "%s --help: exit %d: %s", c->name, rc, h);
	}
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "nope"), 2);
}
END_TEST

/* `config --for CMD` refuses exactly what CMD refuses: a key CMD does not
 * read, a value out of range, a cross-key check. */
START_TEST(config_for_matches_command)
{
	static const struct { const char *cmd, *sets; } bad[] = {
		{ "ssd", "--set train.epochs=2" },                  /* not a key of ssd */
		{ "ssd", "--set ssd.channels=0" },                  /* out of range */
		{ "ssd", "--set ssd.page_bytes=1000" },             /* cross-key check */
		{ "train", "--set workload.count=5" },
		{ "train", "--set train.model=mlp --set train.hidden=abc" },
		{ "train", "--set train.model=mlp --set train.hidden=0,5" },
		{ "xbar eval", "--set train.hidden=5" },
		{ "xbar eval", "--set bnn.hidden=abc" },
		{ "run", "--set workload.count=5" },
		{ "run", "--set compare.workloads=all" },
	};
	char out[8192];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char name[32];
		snprintf(name, sizeof name, "%s", bad[i].cmd);
		char *sp = strchr(name, ' ');
		if (sp)
			*sp = '\0';
		int rc = tu_ndpsim(out, sizeof out, "config --for %s %s", name, bad[i].sets);
		ck_assert_msg(rc == 2, "config --for %s %s: exit %d: %s", name, bad[i].sets, rc, out);
		char first[8192];
		memcpy(first, out, sizeof first);
		rc = tu_ndpsim(out, sizeof out, "%s %s --quiet --out %s/cli-cfg-for", bad[i].cmd,
			       bad[i].sets, tu_tmpdir());
		ck_assert_msg(rc == 2, "%s %s: exit %d: %s", bad[i].cmd, bad[i].sets, rc, out);
		ck_assert_str_eq(out, first);   /* the same message */
	}
	/* and accepts what the command accepts */
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "config --for train --set train.model=mlp "
				   "--set train.hidden=64,32"), 0);
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "config --for ssd --set ssd.channels=4"), 0);
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "config --for plot"), 2);
}
END_TEST

/* Holds <dir>.lock as a running ndpsim would; returns the fd. */
static int hold_lock(const char *dir)
{
	char lock[700];
	snprintf(lock, sizeof lock, "%s.lock", dir);
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
	return fd;
}

START_TEST(locked_out_refused)
{
	const struct cmd *c = &cmds[_i];
	char out[16384], args[2048];
	const char *d = set_up_case(c, args, sizeof args);
	if (!d)
		return;
	int fd = hold_lock(d);
	int rc = tu_ndpsim(out, sizeof out, "%s", args);
	close(fd);
	ck_assert_msg(rc == 1, "%s: exit %d: %s", c->name, rc, out);
	ck_assert_msg(strstr(out, "another ndpsim run is writing this directory"), "%s: %s",
		      c->name, out);
	ck_assert(!strstr(out, c->success));
	old_set_intact(d);
}
END_TEST

/* The commands whose --out is not a set swapped in whole still take the
 * lock: a sweep (its directory grows point by point) and calibrate (a
 * profile file). */
START_TEST(locked_sweep_and_calibrate_refused)
{
	char out[16384];
	const char *d = fresh("sweep-locked");
	const char *g = tu_write_file("cli-g.json",
		"{\"command\": \"ssd\", \"set\": {\"ssd.blocks\": 64, \"workload.count\": 3000},"
		" \"grid\": {\"ssd.channels\": [4, 8]}}");
	int fd = hold_lock(d);
	int rc = tu_ndpsim(out, sizeof out, "sweep --grid %s --out %s -j 1", g, d);
	close(fd);
	ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
	ck_assert_msg(strstr(out, "another ndpsim run is writing this directory"), "%s", out);
	ck_assert(!exists(d, "results.jsonl"));
	/* free again: the same sweep runs */
	rc = tu_ndpsim(out, sizeof out, "sweep --grid %s --out %s -j 1", g, d);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert(exists(d, "results.jsonl"));

	if (!have_data()) {
		tu_skip_need("dataset", "Fashion-MNIST not installed (dataset-fashion-mnist)");
		return;
	}
	const char *cd = fresh("cal");
	char prof[800];
	snprintf(prof, sizeof prof, "%s/hp.json", cd);
	ck_assert_int_eq(mkdir(cd, 0755), 0);
	put(cd, "hp.json", "old profile");
	fd = hold_lock(prof);
	rc = tu_ndpsim(out, sizeof out, "calibrate --kernels lr --reps 1 --idle 0.1 --out %s", prof);
	close(fd);
	ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
	ck_assert_msg(strstr(out, "another ndpsim run is writing"), "%s", out);
	/* and a calibration whose writes fail says nothing of a profile */
	/* (injected: its files are smaller than the 1 KiB libomp needs to start) */
	setenv("NDPSIM_FAULT_WRITE", "hp.json", 1);
	rc = tu_ndpsim(out, sizeof out, "calibrate --kernels lr --reps 1 --idle 0.1 --out %s", prof);
	unsetenv("NDPSIM_FAULT_WRITE");
	ck_assert_msg(rc == 1 || rc == 2, "exit %d: %s", rc, out);
	ck_assert_msg(!strstr(out, "profile:") && !strstr(out, "measurements:"), "%s", out);
	char *t = tu_slurp(prof);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t, "old profile");
	free(t);
}
END_TEST

/* calibrate's profile and measurements are one set: a run whose profile
 * write fails after its measurements were written leaves both old files,
 * byte for byte (before, the new measurements stood beside the old profile). */
START_TEST(calibrate_pair_is_one_set)
{
	if (!have_data()) {
		tu_skip_need("dataset", "Fashion-MNIST not installed (dataset-fashion-mnist)");
		return;
	}
	char out[16384], prof[800], meas[800];
	const char *cd = fresh("calset");
	snprintf(prof, sizeof prof, "%s/hp.json", cd);
	snprintf(meas, sizeof meas, "%s/hp.measurements.json", cd);
	int rc = tu_ndpsim(out, sizeof out, "calibrate --kernels lr --reps 1 --idle 0.1 --out %s", prof);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	char *p0 = tu_slurp(prof), *m0 = tu_slurp(meas);
	ck_assert(p0 && m0);
	ck_assert_ptr_nonnull(strstr(p0, "host profile measured by ndpsim calibrate"));
	/* the measurements name their run's time, so two runs differ */
	setenv("NDPSIM_FAULT_WRITE", "hp.json", 1);   /* written after the measurements */
	rc = tu_ndpsim(out, sizeof out, "calibrate --kernels lr --reps 1 --idle 0.1 --out %s", prof);
	unsetenv("NDPSIM_FAULT_WRITE");
	ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
	ck_assert_msg(!strstr(out, "measurements:"), "%s", out);
	char *p1 = tu_slurp(prof), *m1 = tu_slurp(meas);
	ck_assert(p1 && m1);
	ck_assert_msg(!strcmp(p0, p1), "the profile changed after a failed run");
	ck_assert_msg(!strcmp(m0, m1), "the measurements changed after a failed run: not one set");
	free(p1);
	free(m1);
	/* a good run replaces both */
	rc = tu_ndpsim(out, sizeof out, "calibrate --kernels lr --reps 1 --idle 0.1 --out %s", prof);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	m1 = tu_slurp(meas);
	ck_assert_msg(m1 && strcmp(m0, m1), "a good run left the old measurements");
	free(m1);
	free(p0);
	free(m0);
}
END_TEST

/* Processes of process group pg that are alive (not zombies). */
static int alive_in_group(pid_t pg)
{
	DIR *d = opendir("/proc");
	ck_assert_ptr_nonnull(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char p[300], buf[1024];
		snprintf(p, sizeof p, "/proc/%s/stat", e->d_name);
		FILE *f = fopen(p, "r");
		if (!f)
			continue;
		size_t got = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[got] = '\0';
		/* pid (comm) state ppid pgrp ...; comm may hold spaces */
		char *r = strrchr(buf, ')');
		char state;
		long ppid, pgrp;
		if (r && sscanf(r + 1, " %c %ld %ld", &state, &ppid, &pgrp) == 3 && pgrp == pg &&
		    state != 'Z' && state != 'X')
			n++;
	}
	closedir(d);
	return n;
}

/* SIGKILL to the sweep alone (not its group): its point workers must not
 * outlive it and run beside a resumed sweep. */
START_TEST(sweep_workers_die_with_parent)
{
	const char *d = fresh("sweep-orphans");
	/* points of several seconds each (~5 s CPU), far longer than the 1 s
	 * the workers get to die after the parent: one that does not notice
	 * its parent's death is caught still running */
	const char *g = tu_write_file("cli-gk.json",
		"{\"command\": \"ssd\",\n"
		" \"set\": {\"ssd.blocks\": 64, \"workload.count\": 1000000, \"workload.read_ratio\": 0.5,\n"
		"         \"ssd.precondition.fill\": 1},\n"
		" \"grid\": {\"ssd.channels\": [2, 4]}}");
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		setpgid(0, 0);
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(bin(), bin(), "sweep", "--grid", g, "--out", d, "-j", "2", (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	/* wait until the sweep has its workers (3 processes in the group) */
	int seen = 0;
	for (int t = 0; t < 2000 && seen < 3; t++) {   /* up to 20 s */
		seen = alive_in_group(pid);
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	ck_assert_msg(seen >= 3, "the sweep never started both workers (%d)", seen);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFSIGNALED(st));
	int left = -1;
	for (int t = 0; t < 100; t++) {   /* up to 1 s for the kernel to deliver */
		left = alive_in_group(pid);
		if (!left)
			break;
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	if (left)
		killpg(pid, SIGKILL);   /* do not leave them running after a failure */
	ck_assert_msg(left == 0, "%d sweep workers outlived their killed parent", left);
}
END_TEST

/* `train --grid` reads its grid through the bounded reader: a FIFO is
 * refused without blocking and /dev/zero-like input is capped. */
START_TEST(train_grid_bounded)
{
	char out[4096], fifo[600];
	snprintf(fifo, sizeof fifo, "%s/cli-fifo", tu_tmpdir());
	unlink(fifo);
	ck_assert_int_eq(mkfifo(fifo, 0644), 0);
	int rc = tu_ndpsim(out, sizeof out, "train --grid %s --out %s/cli-tg", fifo, tu_tmpdir());
	ck_assert_msg(rc == 2, "exit %d: %s", rc, out);
	ck_assert_msg(strstr(out, fifo), "%s", out);
	rc = tu_ndpsim(out, sizeof out, "train --grid /dev/zero --out %s/cli-tg", tu_tmpdir());
	ck_assert_msg(rc == 2, "exit %d: %s", rc, out);
	ck_assert_msg(strstr(out, "/dev/zero"), "%s", out);
	unlink(fifo);
}
END_TEST

/* A tiny BNN trained on made-up images (no data set needed). */
static struct bnn_model *tiny_model(void)
{
	struct bnn_params p;
	tu_defaults(&bnn_section, &p);
	p.act = BNN_ACT_MULTI;
	snprintf(p.hidden, sizeof p.hidden, "16");
	p.epochs = 1;
	p.train_n = 200;
	p.calib_n = 100;
	p.batch = 50;
	struct wl_dataset d = { 0 };
	d.n = 200;
	d.rows = d.cols = 28;
	d.pixels = xmalloc((size_t)d.n * 784);
	d.labels = xmalloc(d.n);
	for (uint32_t i = 0; i < d.n; i++) {
		d.labels[i] = (uint8_t)(i % 10);
		for (int k = 0; k < 784; k++)   /* a column band per class, plus a ramp */
			d.pixels[(size_t)i * 784 + k] = (uint8_t)((k % 28) / 3 == (int)(i % 10) ? 230 :
								   (k * 7 + (int)i) % 50);
	}
	struct bnn_model *m = NULL;
	struct nd_err err = { 0 };
	ck_assert_msg(bnn_train(&p, 5, &d, NULL, NULL, NULL, &m, &err) == 0, "%s", err.msg);
	wl_dataset_free(&d);
	return m;
}

/* Model files carry a checksum and are range-checked on load. */
START_TEST(model_file_checked)
{
	struct bnn_model *m = tiny_model(), *m2 = NULL;
	struct nd_err err = { 0 };
	char path[600];
	snprintf(path, sizeof path, "%s/cli-model.bnn", tu_tmpdir());
	ck_assert_int_eq(bnn_model_save(m, path, &err), 0);
	ck_assert_int_eq(bnn_model_load(path, &m2, &err), 0);
	bnn_model_free(m2);
	m2 = NULL;

	/* one bit flipped in a weight word: the checksum catches it */
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	FILE *f = fopen(path, "r+b");
	ck_assert_ptr_nonnull(f);
	long at = (long)st.st_size / 2;
	ck_assert_int_eq(fseek(f, at, SEEK_SET), 0);
	int c = fgetc(f);
	ck_assert_int_ne(c, EOF);
	ck_assert_int_eq(fseek(f, at, SEEK_SET), 0);
	fputc(c ^ 0x10, f);
	fclose(f);
	ck_assert_int_eq(bnn_model_load(path, &m2, &err), -EINVAL);
	ck_assert_ptr_null(m2);
	ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, "checksum mismatch"), "%s", err.msg);

	/* a NaN parameter under a valid checksum: the range check catches it */
	const struct bnn_layer *L = &m->layer[m->nl - 1];
	L->g[1] = (double)NAN;
	ck_assert_int_eq(bnn_model_save(m, path, &err), 0);
	ck_assert_int_eq(bnn_model_load(path, &m2, &err), -EINVAL);
	ck_assert_ptr_null(m2);
	ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, "non-finite"), "%s", err.msg);
	L->g[1] = 1.0 / 0.0;
	ck_assert_int_eq(bnn_model_save(m, path, &err), 0);
	ck_assert_int_eq(bnn_model_load(path, &m2, &err), -EINVAL);
	bnn_model_free(m);

	/* and through the command: exit 2, the file named, nothing written */
	char out[8192];
	const char *d = fresh("model-nan");
	int rc = tu_ndpsim(out, sizeof out, "xbar eval --model %s --out %s", path, d);
	ck_assert_msg(rc == 2, "exit %d: %s", rc, out);
	ck_assert_msg(strstr(out, path) && strstr(out, "non-finite"), "%s", out);
	ck_assert_int_ne(stat(d, &st), 0);
	/* a model inside the --out it would replace is refused before anything runs */
	rc = tu_ndpsim(out, sizeof out, "xbar eval --model %s --out %s", path, tu_tmpdir());
	ck_assert_msg(rc == 2 && strstr(out, "replaces as a whole"), "exit %d: %s", rc, out);
}
END_TEST

/* gnuplot exits 0 when it cannot write its figure: a cut PNG is a failed
 * write (exit 1, a message naming it, no success line, no cut file left). */
START_TEST(failed_figure_write_fails)
{
	if (system("command -v gnuplot >/dev/null 2>&1")) {
		tu_skip_need("gnuplot", "failed_figure_write_fails: gnuplot not installed");
		return;
	}
	char out[8192], p[900];
	const char *d = fresh("fig");
	const char *g = tu_write_file("cli-fig.json",
		"{\"command\": \"ssd\", \"set\": {\"ssd.blocks\": 64, \"workload.count\": 3000},"
		" \"grid\": {\"ssd.channels\": [4, 8]}}");
	int rc = tu_ndpsim(out, sizeof out, "sweep --grid %s --out %s -j 1 --quiet", g, d);
	ck_assert_msg(rc == 0, "%s", out);
	/* unlimited: the PNG ends in its IEND chunk */
	rc = tu_ndpsim(out, sizeof out, "plot %s --x ssd.channels --y read.lat_ns.p99 --out whole", d);
	ck_assert_msg(rc == 0, "%s", out);
	snprintf(p, sizeof p, "%s/plots/whole.png", d);
	char *t = tu_slurp(p);
	ck_assert_ptr_nonnull(t);
	free(t);
	FILE *f = fopen(p, "rb");
	unsigned char tail[8];
	ck_assert(f && fseek(f, -8, SEEK_END) == 0 && fread(tail, 1, 8, f) == 8);
	fclose(f);
	ck_assert(!memcmp(tail, "IEND\xae\x42\x60\x82", 8));
	/* 8 KiB per file: the CSV and the script fit, the PNG (~25 KiB) does not */
	rc = run_nowrite(out, sizeof out, 16, "plot %s --x ssd.channels --y read.lat_ns.p99 --out cut", d);
	ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
	ck_assert_msg(strstr(out, "cut.png: gnuplot did not write the whole figure"), "%s", out);
	ck_assert_msg(!strstr(out, "ndpsim plot \xe2\x80\x94"), "success line after a failed figure: %s", out);
	snprintf(p, sizeof p, "%s/plots/cut.png", d);
	ck_assert_msg(access(p, F_OK) != 0, "a cut %s is left", p);
	snprintf(p, sizeof p, "%s/plots/cut.csv", d);
	ck_assert_msg(access(p, F_OK) == 0, "the limit hit the CSV, not the figure");
}
END_TEST

/* cli_opt_value: "--x=v", "--x v", a missing value, another option. */
START_TEST(opt_value_forms)
{
	char *argv[] = { "cmd", "--bs=4k", "--qd", "8", "--bsx", "--out" };
	int argc = 6, i = 1, missing = 0;
	ck_assert_str_eq(cli_opt_value(argc, argv, &i, "--bs", &missing), "4k");
	ck_assert_int_eq(i, 1);
	i = 2;
	ck_assert_str_eq(cli_opt_value(argc, argv, &i, "--qd", &missing), "8");
	ck_assert_int_eq(i, 3);   /* advanced to the value */
	i = 4;
	ck_assert_ptr_null(cli_opt_value(argc, argv, &i, "--bs", &missing));   /* --bsx is not --bs */
	ck_assert_int_eq(missing, 0);
	i = 5;
	ck_assert_ptr_null(cli_opt_value(argc, argv, &i, "--out", &missing));
	ck_assert_int_eq(missing, 1);
	ck_assert_int_eq(i, 5);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli");
	TCase *t = tcase_create("outdir");
	tcase_set_timeout(t, 120);
	int n = (int)(sizeof cmds / sizeof cmds[0]);
	tcase_add_loop_test(t, failed_write_keeps_old_set, 0, n);
	tcase_add_loop_test(t, late_failure_keeps_old_set, 0, NCHEAP);
	tcase_add_loop_test(t, success_replaces_whole_set, 0, NCHEAP);
	tcase_add_loop_test(t, locked_out_refused, 0, n);
	tcase_add_test(t, locked_sweep_and_calibrate_refused);
	tcase_add_test(t, sweep_workers_die_with_parent);
	tcase_add_test(t, train_grid_bounded);
	tcase_add_test(t, failed_figure_write_fails);
	tcase_add_test(t, calibrate_pair_is_one_set);
	suite_add_tcase(s, t);
	TCase *r = tcase_create("registry");
	tcase_set_timeout(r, 60);
	tcase_add_test(r, command_table);
	tcase_add_test(r, config_for_matches_command);
	tcase_add_test(r, model_file_checked);
	tcase_add_test(r, opt_value_forms);
	suite_add_tcase(s, r);
	return tu_run_suite(s);
}
