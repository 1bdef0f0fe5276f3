/* Sweeps: grid format and validation, results.jsonl, resume after SIGKILL,
 * MPI vs local, plots, the example grids. */
#include <cJSON.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/sweep.h"
#include "core/cfg.h"
#include "tests/common/tutil.h"

/* Small, fast points: 64 blocks per plane, a few thousand requests. */
#define SMALL "\"ssd.blocks\": 64, \"workload.count\": 3000, \"workload.read_ratio\": 0.5"

static const char *bin(void)
{
	const char *b = getenv("NDPSIM_BIN");
	return b && *b ? b : "build/ndpsim";
}

static const char *tdir(const char *name)
{
	static char d[4][512];
	static int k;
	char *p = d[k++ % 4];
	snprintf(p, sizeof d[0], "%s/sweep-%s", tu_tmpdir(), name);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", p);
	ck_assert_int_eq(system(cmd), 0);
	return p;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0, r;
	char *b = malloc(cap);
	while ((r = fread(b + n, 1, cap - n - 1, f)) > 0)
		if ((n += r) + 1 >= cap)
			b = realloc(b, cap *= 2);
	b[n] = '\0';
	fclose(f);
	return b;
}

/* Complete lines of a file, each malloc'ed; returns the count. */
static int lines_of(const char *path, char ***out)
{
	char *t = slurp(path);
	*out = NULL;
	if (!t)
		return 0;
	int n = 0;
	for (char *p = t, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		*out = realloc(*out, sizeof **out * (size_t)(n + 1));
		(*out)[n++] = strndup(p, (size_t)(nl - p));
	}
	free(t);
	return n;
}

static void free_lines(char **l, int n)
{
	for (int i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every line a result, its hash the FNV-1a of its config, no hash twice;
 * returns the number of lines. */
static int check_results(const char *dir)
{
	char path[600];
	snprintf(path, sizeof path, "%s/results.jsonl", dir);
	char **l;
	int n = lines_of(path, &l);
	char **h = calloc((size_t)n + 1, sizeof *h);
	for (int i = 0; i < n; i++) {
		cJSON *j = cJSON_Parse(l[i]);
		ck_assert_msg(j != NULL, "%s line %d is not JSON", path, i + 1);
		const cJSON *hash = cJSON_GetObjectItemCaseSensitive(j, "hash");
		const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(j, "config");
		ck_assert(cJSON_IsString(hash) && cJSON_IsObject(cfg));
		ck_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "point")));
		ck_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "metrics")));
		char hex[17];
		sweep_hash_hex(sweep_hash_json(cfg), hex);
		ck_assert_str_eq(hash->valuestring, hex);
		h[i] = strdup(hex);
		cJSON_Delete(j);
	}
	qsort(h, (size_t)n, sizeof *h, cmp_str);
	for (int i = 1; i < n; i++)
		ck_assert_msg(strcmp(h[i - 1], h[i]), "hash %s twice in %s", h[i], path);
	free_lines(h, n);
	free_lines(l, n);
	return n;
}

/* ------------------------------------------------------------------ */

/* After killpg(SIGKILL) and the leader's waitpid, the point workers of the
 * group may still be exiting, holding the --out lock for a moment (a rerun
 * then rightly says another run is writing); wait until no process of the
 * group is left, at most 5 s. */
static void group_gone(pid_t pgid)
{
	for (int t = 0; t < 500 && killpg(pgid, 0) == 0; t++) {
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
}

/* Starts ndpsim argv in its own process group, SIGKILLs the group once res
 * has at least `lines` complete lines (waiting up to wait_s seconds), reaps
 * it and waits until its workers are gone. */
static void kill_after_lines(char *const argv[], const char *res, int lines, int wait_s)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		setpgid(0, 0);
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(bin(), argv);
		_exit(127);
	}
	setpgid(pid, pid);
	char **l = NULL;
	int n = 0;
	for (int t = 0; t < wait_s * 100; t++) {
		n = lines_of(res, &l);
		free_lines(l, n);
		if (n >= lines)
			break;
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	ck_assert_int_ge(n, lines);
	ck_assert_int_eq(killpg(pid, SIGKILL), 0);
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	group_gone(pid);
	ck_assert(WIFSIGNALED(st));
}

START_TEST(grid_expansion)
{
	const char *g = tu_write_file("sw-expand.json",
		"{\"command\": \"ssd\", \"description\": \"x\", \"set\": {" SMALL "},\n"
		" \"grid\": {\"ssd.ftl.op\": {\"from\": 0.07, \"to\": 0.28, \"step\": 0.07},\n"
		"          \"ssd.channels\": {\"from\": 2, \"to\": 16, \"times\": 2}},\n"
		" \"zip\": [{\"ssd.ftl.gc_policy\": [\"greedy\", \"cost_benefit\"],\n"
		"           \"ssd.nand.multiplane\": [true, false]}]}");
	struct sweep_grid grid;
	struct nd_err err = { 0 };
	ck_assert_msg(sweep_grid_load(g, NULL, NULL, 0, &grid, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(grid.nkeys, 4);
	ck_assert_int_eq(grid.naxes, 3);
	ck_assert_uint_eq(grid.npoints, 4 * 4 * 2);
	/* clean decimal values, the first key outermost, the zip last */
	ck_assert_str_eq(grid.pts[0].sets[0], "ssd.ftl.op=0.07");
	ck_assert_str_eq(sweep_point_label(&grid, 31),
			 "ssd.ftl.op=0.28 ssd.channels=16 ssd.ftl.gc_policy=cost_benefit ssd.nand.multiplane=false");
	ck_assert_str_eq(grid.pts[2 * 8].sets[0], "ssd.ftl.op=0.21");
	ck_assert_str_eq(grid.pts[1].sets[3], "ssd.nand.multiplane=false");
	/* argv of a point: the same options a single run takes */
	int argc;
	char **argv = sweep_point_argv(&grid, 3, "base.json", "out/p", &argc);
	ck_assert_str_eq(argv[0], "ssd");
	ck_assert_str_eq(argv[1], "--config");
	ck_assert_str_eq(argv[2], "base.json");
	ck_assert_str_eq(argv[3], "--set");
	ck_assert_str_eq(argv[4], "ssd.blocks=64");
	ck_assert_str_eq(argv[argc - 1], "--quiet");
	ck_assert_ptr_null(argv[argc]);
	sweep_argv_free(argv);
	for (size_t i = 0; i < grid.npoints; i++)
		ck_assert_int_eq(grid.pts[i].dup_of, -1);
	sweep_grid_free(&grid);

	/* a value listed twice is one config: run once */
	g = tu_write_file("sw-dup.json", "{\"command\": \"ssd\", \"grid\": {\"ssd.channels\": [4, 8, 4]}}");
	ck_assert_msg(sweep_grid_load(g, NULL, NULL, 0, &grid, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(grid.pts[2].dup_of, 0);
	ck_assert_uint_eq(grid.pts[2].hash, grid.pts[0].hash);
	ck_assert_uint_ne(grid.pts[1].hash, grid.pts[0].hash);
	sweep_grid_free(&grid);
}
END_TEST

/* Must show 3: bad grids fail before any point runs, naming the key. */
START_TEST(bad_grids_exit_2)
{
	static const struct { const char *grid, *msg; } bad[] = {
		{ "{\"command\": \"ssd\", \"grid\": {\"ssd.chanels\": [4, 8]}}",
		  "grid: ssd.chanels: unknown key" },
		{ "{\"command\": \"ssd\", \"grid\": {\"ssd.channels\": []}}",
		  "grid: ssd.channels: empty list of values" },
		{ "{\"command\": \"ssd\", \"grid\": {\"ssd.channels\": [4, \"eight\"]}}",
		  "grid: ssd.channels[1]: expected a number (channels), got \"eight\"" },
		{ "{\"command\": \"ssd\", \"grid\": {\"ssd.channels\": [\"8\"]}}",
		  "grid: ssd.channels[0]: expected a number" },
		{ "{\"command\": \"ssd\", \"grid\": {\"ssd.ftl.gc_policy\": [\"greedy\", 1]}}",
		  "grid: ssd.ftl.gc_policy[1]: expected a string" },
		{ "{\"command\": \"ssd\", \"grid\": {\"ssd.nand.multiplane\": [true, \"no\"]}}",
		  "grid: ssd.nand.multiplane[1]: expected true or false" },
		{ "{\"command\": \"ssd\", \"grid\": {\"ssd.ftl.gc_policy\": [\"greedy\", \"lru\"]}}",
		  "grid: ssd.ftl.gc_policy[1]: unknown value \"lru\"" },
		{ "{\"command\": \"ssd\", \"grid\": {\"ssd.channels\": [8, 0]}}",
		  "grid: ssd.channels[1]: 0 is out of range" },
		{ "{\"command\": \"ssd\", \"grid\": {\"ssd.channels\": {\"from\": 16, \"to\": 4, \"step\": 4}}}",
		  "grid: ssd.channels: range: \"from\" is above \"to\"" },
		{ "{\"command\": \"ssd\", \"grid\": {\"ssd.channels\": {\"from\": 4, \"to\": 16, \"step\": 0}}}",
		  "grid: ssd.channels: range: \"step\" must be > 0" },
		{ "{\"command\": \"ssd\", \"grid\": {\"ssd.channels\": {\"from\": 4, \"to\": 16}}}",
		  "grid: ssd.channels: range needs" },
		{ "{\"command\": \"ssd\", \"grid\": {\"ssd.channels\": {\"from\": 4, \"to\": \"x\", \"step\": 1}}}",
		  "grid: ssd.channels: range: non-numeric \"to\"" },
		{ "{\"command\": \"ssd\", \"grid\": {\"ssd.channels\": 8}}",
		  "grid: ssd.channels: expected a list of values or a range" },
		{ "{\"command\": \"ssd\", \"grid\": {\"ssd.channels\": [8]}, \"set\": {\"workload.count\": \"many\"}}",
		  "set: workload.count: expected a number" },
		{ "{\"command\": \"ssd\", \"grid\": {\"ssd.channels\": [8]}, \"set\": {\"ssd.channels\": 4}}",
		  "ssd.channels: key given twice" },
		{ "{\"command\": \"ssd\", \"zip\": [{\"ssd.ways\": [1, 2], \"ssd.dies\": [1]}]}",
		  "zip[0]: ssd.dies: 1 values, but ssd.ways has 2" },
		{ "{\"command\": \"ssd\", \"grid\": {\"xbar.adc.bits\": [1, 2]}}",
		  "grid: xbar.adc.bits: not a key of command 'ssd'" },
		{ "{\"command\": \"ssd\", \"grid\": {\"ssd.page_bytes\": [8192, 6144]}}",
		  "point 1 (ssd.page_bytes=6144): ssd.page_bytes: 6144 is not a multiple" },
		{ "{\"command\": \"frob\", \"grid\": {\"ssd.channels\": [8]}}",
		  "command: unknown command 'frob'" },
		{ "{\"command\": \"ssd\", \"grids\": {\"ssd.channels\": [8]}}",
		  "grids: unknown field" },
		{ "{\"command\": \"ssd\"}", "no swept keys" },
		{ "{\"command\": \"ssd\", \"args\": [\"--out\", \"x\"], \"grid\": {\"ssd.channels\": [8]}}",
		  "args: --out is set by the sweep" },
		{ "{\"command\": \"ssd\",\n \"grid\": {\"ssd.channels\": [8],}}", "bad.json:2: malformed JSON" },
	};
	char out[8192];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *g = tu_write_file("bad.json", bad[i].grid);
		const char *d = tdir("bad");
		int rc = tu_ndpsim(out, sizeof out, "sweep --grid %s --out %s", g, d);
		ck_assert_msg(rc == 2, "grid %zu: exit %d: %s", i, rc, out);
		ck_assert_msg(strstr(out, bad[i].msg), "grid %zu: wanted \"%s\" in: %s", i, bad[i].msg, out);
		ck_assert_msg(strstr(out, "bad.json"), "grid %zu: message does not name the file: %s", i, out);
		struct stat st;
		ck_assert_msg(stat(d, &st) != 0, "grid %zu: %s was created", i, d);
	}
	/* --set on the command line against the grid, and a missing grid */
	const char *g = tu_write_file("bad.json", "{\"command\": \"ssd\", \"grid\": {\"ssd.channels\": [4]}}");
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "sweep --grid %s --set ssd.channels=8 --out %s", g,
				   tdir("bad")), 2);
	ck_assert_ptr_nonnull(strstr(out, "ssd.channels: key given twice"));
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "sweep --grid %s/none.json", tu_tmpdir()), 2);
	ck_assert_ptr_nonnull(strstr(out, "none.json"));
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "sweep --out x"), 2);
	ck_assert_ptr_nonnull(strstr(out, "--grid"));

	/* a bad grid pointed at an existing sweep leaves its results alone */
	const char *good = tu_write_file("good.json",
		"{\"command\": \"ssd\", \"set\": {" SMALL "}, \"grid\": {\"ssd.channels\": [4]}}");
	const char *d = tdir("keep");
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "sweep --quiet --grid %s --out %s", good, d), 0);
	char path[600];
	snprintf(path, sizeof path, "%s/results.jsonl", d);
	char *before = slurp(path);
	g = tu_write_file("bad.json", "{\"command\": \"ssd\", \"grid\": {\"ssd.channels\": [4, []]}}");
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "sweep --grid %s --out %s", g, d), 2);
	char *after = slurp(path);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
}
END_TEST

static const char *grid6(void)
{
	return tu_write_file("g6.json",
		"{\"command\": \"ssd\", \"set\": {" SMALL "},\n"
		" \"grid\": {\"ssd.channels\": [2, 4, 8],\n"
		"          \"ssd.ftl.gc_policy\": [\"greedy\", \"cost_benefit\"]}}");
}

/* results.jsonl, summary.csv, a rerun that runs nothing, a partial last line */
START_TEST(run_and_rerun)
{
	char out[8192], path[600], csv[600];
	const char *d = tdir("run");
	int rc = tu_ndpsim(out, sizeof out, "sweep --grid %s --out %s -j 2", grid6(), d);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "6 points of 'ssd', 0 were done before, 6 ran now, 0 failed"));
	ck_assert_int_eq(check_results(d), 6);
	snprintf(csv, sizeof csv, "%s/summary.csv", d);
	char **l;
	int n = lines_of(csv, &l);
	ck_assert_int_eq(n, 7);
	ck_assert_msg(!strncmp(l[0], "hash,ssd.channels,ssd.ftl.gc_policy,", 36), "%s", l[0]);
	ck_assert_ptr_nonnull(strstr(l[0], ",waf,"));
	ck_assert_ptr_nonnull(strstr(l[0], ",read.lat_ns.p99,"));
	ck_assert_ptr_nonnull(strstr(l[0], ",energy_j.total"));
	ck_assert_ptr_nonnull(strstr(l[1], ",2,greedy,"));
	ck_assert_ptr_nonnull(strstr(l[6], ",8,cost_benefit,"));
	free_lines(l, n);

	snprintf(path, sizeof path, "%s/results.jsonl", d);
	char *first = slurp(path);
	rc = tu_ndpsim(out, sizeof out, "sweep --grid %s --out %s", grid6(), d);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "6 were done before, 0 ran now"));
	char *second = slurp(path);
	ck_assert_str_eq(first, second);
	free(second);

	/* a torn last line (a writer killed mid-write) is dropped, not kept */
	FILE *f = fopen(path, "a");
	fputs("{\"hash\": \"00000000", f);
	fclose(f);
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "sweep --grid %s --out %s --list", grid6(), d), 0);
	ck_assert_ptr_nonnull(strstr(out, "6 done, 0 pending"));
	rc = tu_ndpsim(out, sizeof out, "sweep --grid %s --out %s", grid6(), d);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "dropped a partial last line"));
	second = slurp(path);
	ck_assert_str_eq(first, second);
	free(second);

	/* a growing grid runs only the new points */
	const char *g8 = tu_write_file("g8.json",
		"{\"command\": \"ssd\", \"set\": {" SMALL "},\n"
		" \"grid\": {\"ssd.channels\": [2, 4, 8, 16],\n"
		"          \"ssd.ftl.gc_policy\": [\"greedy\", \"cost_benefit\"]}}");
	rc = tu_ndpsim(out, sizeof out, "sweep --grid %s --out %s", g8, d);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "6 were done before, 2 ran now"));
	ck_assert_int_eq(check_results(d), 8);
	second = slurp(path);
	ck_assert(!strncmp(first, second, strlen(first)));
	free(second);
	free(first);

	/* another command's sweep directory is refused */
	const char *gx = tu_write_file("gx.json",
		"{\"command\": \"ssd\", \"args\": [\"--verify\"], \"set\": {" SMALL "}, \"grid\": {\"ssd.channels\": [4]}}");
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "sweep --grid %s --out %s", gx, d), 2);
	ck_assert_ptr_nonnull(strstr(out, "another command or args"));
}
END_TEST

/* The point runner is `ndpsim ssd` itself: a point's metrics are those of a
 * single run with the same settings. */
START_TEST(same_as_single_run)
{
	char out[8192], path[600];
	const char *d = tdir("single");
	/* tu_write_file() returns a static buffer */
	char g[600], base[600];
	snprintf(g, sizeof g, "%s", tu_write_file("g1.json",
		"{\"command\": \"ssd\", \"set\": {" SMALL ", \"ssd.verify\": true},"
		" \"grid\": {\"ssd.channels\": [4]}}"));
	snprintf(base, sizeof base, "%s", tu_write_file("base1.json", "{\"ssd\": {\"ftl\": {\"op\": 0.2}}}"));
	int rc = tu_ndpsim(out, sizeof out, "sweep --quiet --grid %s --config %s --seed 9 --out %s", g, base, d);
	ck_assert_msg(rc == 0, "%s", out);
	const char *s = tdir("single-ref");
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "ssd --quiet --verify --config %s --set ssd.blocks=64 "
				   "--set workload.count=3000 --set workload.read_ratio=0.5 --set ssd.channels=4 "
				   "--seed 9 --out %s", base, s), 0);
	snprintf(path, sizeof path, "%s/report.json", s);
	char *rt = slurp(path);
	cJSON *rep = cJSON_Parse(rt);
	snprintf(path, sizeof path, "%s/results.jsonl", d);
	char **l;
	ck_assert_int_eq(lines_of(path, &l), 1);
	cJSON *line = cJSON_Parse(l[0]);
	char *a = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(rep, "metrics"));
	char *b = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(line, "metrics"));
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	a = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(rep, "config"));
	b = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(line, "config"));
	ck_assert_str_eq(a, b);
	ck_assert_ptr_nonnull(strstr(a, "\"seed\":9"));
	ck_assert_ptr_nonnull(strstr(a, "\"op\":0.2"));
	free(a);
	free(b);
	cJSON_Delete(line);
	cJSON_Delete(rep);
	free(rt);
	free_lines(l, 1);

	/* "args" go to every point; one that changes a key is caught, by name */
	snprintf(g, sizeof g, "%s", tu_write_file("g2.json",
		"{\"command\": \"ssd\", \"args\": [\"--verify\"], \"set\": {" SMALL "},"
		" \"grid\": {\"ssd.channels\": [4, 8]}}"));
	d = tdir("single-args");
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "sweep --grid %s --out %s -j 1", g, d), 1);
	ck_assert_ptr_nonnull(strstr(out, "ssd.verify: point has false, the run used true"));
	ck_assert_ptr_nonnull(strstr(out, "stopping"));
	ck_assert_int_eq(check_results(d), 0);
}
END_TEST

/* Must show 2: SIGKILL mid-sweep, rerun, every point present once. */
START_TEST(kill_and_resume)
{
	char out[8192], path[600];
	const char *d = tdir("kill");
	/* ~0.3-0.5 s per point: the kill lands while points run */
	const char *g = tu_write_file("gk.json",
		"{\"command\": \"ssd\",\n"
		" \"set\": {\"ssd.blocks\": 64, \"workload.count\": 300000, \"workload.read_ratio\": 0.5,\n"
		"         \"ssd.precondition.fill\": 1},\n"
		" \"grid\": {\"ssd.channels\": [2, 4, 8], \"ssd.ftl.op\": [0.1, 0.2, 0.3, 0.4]}}");
	snprintf(path, sizeof path, "%s/results.jsonl", d);
	char *const argv[] = { (char *)bin(), "sweep", "--grid", (char *)g, "--out", (char *)d,
			       "-j", "2", NULL };
	kill_after_lines(argv, path, 2, 30);
	char *killed = slurp(path);
	int nk = check_results(d);
	ck_assert_msg(nk < 12, "the sweep finished before the kill; make points slower");

	int rc = tu_ndpsim(out, sizeof out, "sweep --grid %s --out %s -j 2", g, d);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_int_eq(check_results(d), 12);   /* every point, each once */
	char *full = slurp(path);
	ck_assert(!strncmp(killed, full, strlen(killed)));   /* finished points kept as they were */
	free(killed);
	free(full);
	char expect[64];
	snprintf(expect, sizeof expect, "%d were done before, %d ran now", nk, 12 - nk);
	ck_assert_msg(strstr(out, expect), "wanted \"%s\" in: %s", expect, out);
}
END_TEST

/* An ndpsim built with MPI (its `sweep --help` says "MPI yes"), or NULL. */
static const char *mpi_bin(void)
{
	const char *cand[] = { getenv("NDPSIM_MPI_BIN"), getenv("NDPSIM_BIN"), "build-mpi/ndpsim",
			       "build-san-mpi/ndpsim" };
	for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++) {
		if (!cand[i] || !*cand[i] || access(cand[i], X_OK))
			continue;
		char cmd[600], buf[8192] = "";
		snprintf(cmd, sizeof cmd, "%s sweep --help 2>&1", cand[i]);
		FILE *p = popen(cmd, "r");
		if (!p)
			continue;
		size_t n = fread(buf, 1, sizeof buf - 1, p);
		buf[n] = '\0';
		pclose(p);
		if (strstr(buf, "This build: MPI yes"))
			return cand[i];
	}
	return NULL;
}

static int sorted_equal(const char *pa, const char *pb)
{
	char **a, **b;
	int na = lines_of(pa, &a), nb = lines_of(pb, &b);
	int same = na == nb && na > 0;
	qsort(a, (size_t)na, sizeof *a, cmp_str);
	qsort(b, (size_t)nb, sizeof *b, cmp_str);
	for (int i = 0; same && i < na; i++)
		same = !strcmp(a[i], b[i]);
	free_lines(a, na);
	free_lines(b, nb);
	return same;
}

/* Must show 1: two MPI ranks on loopback give the local results. */
START_TEST(mpi_matches_local)
{
	const char *mb = mpi_bin();
	if (!mb || system("command -v mpirun >/dev/null 2>&1")) {
		tu_skip_need("mpi", "mpi_matches_local: no ndpsim built with MPI (make MPI=1) or no mpirun");
		return;
	}
	const char *g = tu_write_file("gm.json",
		"{\"command\": \"ssd\", \"set\": {" SMALL "},\n"
		" \"grid\": {\"ssd.channels\": [2, 4, 8], \"ssd.channel.rate_mts\": [400, 1200]},\n"
		" \"zip\": [{\"ssd.nand.t_read_ns\": [50000, 75000], \"ssd.nand.t_prog_ns\": [600000, 1200000]}]}");
	char out[8192], cmd[2000], pl[600], pm[600];
	const char *dl = tdir("local"), *dm = tdir("mpi");
	int rc = tu_ndpsim(out, sizeof out, "sweep --quiet --grid %s --out %s -j 2", g, dl);
	ck_assert_msg(rc == 0, "%s", out);
	snprintf(cmd, sizeof cmd,
		 "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_warn_on_fork=0 "
		 "mpirun --oversubscribe --allow-run-as-root -n 2 %s sweep --grid %s --out %s -j 1 "
		 "> %s/mpi.log 2>&1", mb, g, dm, tu_tmpdir());
	rc = system(cmd);
	snprintf(pl, sizeof pl, "%s/mpi.log", tu_tmpdir());
	char *log = slurp(pl);
	ck_assert_msg(rc == 0, "mpirun failed (%d): %s", rc, log ? log : "");
	ck_assert_msg(strstr(log, "2 ranks x 1 jobs"), "not 2 ranks: %s", log);
	ck_assert_msg(strstr(log, "(rank 1)"), "rank 1 ran nothing: %s", log);
	free(log);
	snprintf(pl, sizeof pl, "%s/results.jsonl", dl);
	snprintf(pm, sizeof pm, "%s/results.jsonl", dm);
	ck_assert_int_eq(check_results(dm), 12);
	ck_assert_msg(sorted_equal(pl, pm), "MPI results.jsonl differs from the local one");
	snprintf(pl, sizeof pl, "%s/summary.csv", dl);
	snprintf(pm, sizeof pm, "%s/summary.csv", dm);
	char *a = slurp(pl), *b = slurp(pm);
	ck_assert_str_eq(a, b);   /* grid order, so byte for byte */
	free(a);
	free(b);
	/* a rerun under MPI runs nothing */
	snprintf(cmd, sizeof cmd,
		 "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_warn_on_fork=0 "
		 "mpirun --oversubscribe --allow-run-as-root -n 2 %s sweep --grid %s --out %s "
		 "> %s/mpi.log 2>&1", mb, g, dm, tu_tmpdir());
	ck_assert_int_eq(system(cmd), 0);
	snprintf(pl, sizeof pl, "%s/mpi.log", tu_tmpdir());
	log = slurp(pl);
	ck_assert_msg(strstr(log, "12 were done before, 0 ran now"), "%s", log);
	free(log);
}
END_TEST

START_TEST(plot_png_svg)
{
	char out[8192], p[700];
	const char *d = tdir("plot");
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "sweep --quiet --grid %s --out %s", grid6(), d), 0);
	int rc = tu_ndpsim(out, sizeof out, "plot %s --x ssd.channels --y read.lat_ns.p99 --series ssd.ftl.gc_policy --logx",
			   d);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "6 points in 2 series"));
	snprintf(p, sizeof p, "%s/plots/read.lat_ns.p99-vs-ssd.channels-by-ssd.ftl.gc_policy.csv", d);
	char **l;
	int n = lines_of(p, &l);
	ck_assert_int_eq(n, 7);
	ck_assert_str_eq(l[0], "series,x,xpos,y");
	ck_assert(!strncmp(l[1], "cost_benefit,2,2,", 17));   /* by series, then x */
	ck_assert(!strncmp(l[6], "greedy,8,8,", 11));
	free_lines(l, n);
	if (strstr(out, "gnuplot not installed")) {
		tu_skip_need("gnuplot", "plot_png_svg: gnuplot not installed (PNG/SVG not checked)");
	} else {
		struct stat st;
		snprintf(p, sizeof p, "%s/plots/read.lat_ns.p99-vs-ssd.channels-by-ssd.ftl.gc_policy.png", d);
		ck_assert_int_eq(stat(p, &st), 0);
		ck_assert_int_gt(st.st_size, 1000);
		snprintf(p, sizeof p, "%s/plots/read.lat_ns.p99-vs-ssd.channels-by-ssd.ftl.gc_policy.svg", d);
		ck_assert_int_eq(stat(p, &st), 0);
		char *svg = slurp(p);
		ck_assert_ptr_nonnull(strstr(svg, "<svg"));
		free(svg);
	}
	/* a categorical x and a fixed other key */
	rc = tu_ndpsim(out, sizeof out, "plot %s --x ssd.ftl.gc_policy --y waf --where ssd.channels=4 --out gc", d);
	ck_assert_msg(rc == 0, "%s", out);
	snprintf(p, sizeof p, "%s/plots/gc.csv", d);
	n = lines_of(p, &l);
	ck_assert_int_eq(n, 3);
	ck_assert(!strncmp(l[1], "-,cost_benefit,0,", 17));
	free_lines(l, n);
	/* points that would share x and series: name the key that varies */
	rc = tu_ndpsim(out, sizeof out, "plot %s --x ssd.channels --y waf", d);
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "they differ in ssd.ftl.gc_policy ("));
	rc = tu_ndpsim(out, sizeof out, "plot %s --x ssd.channels --y wav --series ssd.ftl.gc_policy", d);
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "--y wav: no such number"));
	ck_assert_ptr_nonnull(strstr(out, "read.lat_ns.p99"));
	rc = tu_ndpsim(out, sizeof out, "plot %s --x ssd.chanels --y waf", d);
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "--x ssd.chanels: no such key"));
	rc = tu_ndpsim(out, sizeof out, "plot %s/nothing --x ssd.channels --y waf", tu_tmpdir());
	ck_assert_int_eq(rc, 2);
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "plot %s --y waf", d), 2);
}
END_TEST

/* The example grids in configs/sweeps/ check out (those of a command not built yet skip). */
START_TEST(example_grids)
{
	glob_t gl;
	ck_assert_int_eq(glob("configs/sweeps/*.json", 0, NULL, &gl), 0);
	ck_assert_uint_ge(gl.gl_pathc, 3);
	char out[16384];
	for (size_t i = 0; i < gl.gl_pathc; i++) {
		int rc = tu_ndpsim(out, sizeof out, "sweep --grid %s --list --out %s", gl.gl_pathv[i],
				   tdir("examples"));
		if (rc == 2 && strstr(out, "unknown command")) {
			char why[700];
			snprintf(why, sizeof why, "example_grids: %s: its command is not built yet", gl.gl_pathv[i]);
			tu_skip(why);
			continue;
		}
		ck_assert_msg(rc == 0, "%s: %s", gl.gl_pathv[i], out);
		ck_assert_ptr_nonnull(strstr(out, "pending"));
	}
	globfree(&gl);
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "sweep --help"), 0);
	ck_assert_ptr_nonnull(strstr(out, "usage: ndpsim sweep"));
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "plot --help"), 0);
	ck_assert_ptr_nonnull(strstr(out, "usage: ndpsim plot"));
}
END_TEST


/* ------------------------------------------------------------------ */
/* `train --grid`: a grid of train points run by the same engine       */

/* a and b hold the same tree with bit-identical numbers (cJSON_Compare
 * allows a relative error of DBL_EPSILON). */
static int json_exact(const cJSON *a, const cJSON *b)
{
	if (!a || !b || (a->type & 0xff) != (b->type & 0xff))
		return 0;
	if (cJSON_IsNumber(a))
		return a->valuedouble == b->valuedouble;
	if (cJSON_IsString(a))
		return !strcmp(a->valuestring, b->valuestring);
	if (cJSON_IsObject(a) || cJSON_IsArray(a)) {
		const cJSON *x = a->child, *y = b->child;
		for (; x && y; x = x->next, y = y->next)
			if ((x->string && (!y->string || strcmp(x->string, y->string))) || !json_exact(x, y))
				return 0;
		return !x && !y;
	}
	return 1;
}

static int have_data(void)
{
	const char *d = getenv("NDPSIM_FMNIST_DIR");
	char probe[600];
	snprintf(probe, sizeof probe, "%s/t10k-images-idx3-ubyte.gz",
		 d && *d ? d : "/usr/share/datasets/fashion-mnist");
	return access(probe, R_OK) == 0;
}

static int have_gnuplot(void)
{
	return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

/* One algorithm, one channel count; storage and two host page-cache ratios
 * (4 points, ~1.5 s each).  target: the part-2 target accuracy. */
static const char *tiny_train_grid(const char *name, const char *target)
{
	char text[1200];
	snprintf(text, sizeof text,
		"{\"config\": {\"ssd\": {\"blocks\": 64}, \"train\": {\"model\": \"lr\"}},\n"
		" \"accuracy_vs_time\": {\"algos\": [\"sync\"], \"channels\": [4],\n"
		"   \"set\": [\"train.epochs=1\", \"train.evals_per_epoch=1\"]},\n"
		" \"storage_vs_host\": {\"storage_algo\": \"sync\", \"storage_channels\": 4,\n"
		"   \"host_memory_ratios\": [0.5, 1], \"host_variants\": [{\"name\": \"default\", \"set\": []}],\n"
		"   \"set\": [\"train.epochs=1\", \"train.evals_per_epoch=1\", \"train.target_acc=%s\"]}}\n",
		target);
	return tu_write_file(name, text);
}

/* Every line of DIR/results.jsonl: hash = FNV-1a of its config continued
 * over its own args; a point run with --where host reports where = host,
 * every other one storage; no hash twice.  Returns the number of lines and
 * the number of host points in *hosts. */
static int check_train_results(const char *dir, int *hosts)
{
	char path[600];
	snprintf(path, sizeof path, "%s/results.jsonl", dir);
	char **l;
	int n = lines_of(path, &l);
	*hosts = 0;
	for (int i = 0; i < n; i++) {
		cJSON *j = cJSON_Parse(l[i]);
		ck_assert_msg(j != NULL, "%s line %d is not JSON", path, i + 1);
		const cJSON *hash = cJSON_GetObjectItemCaseSensitive(j, "hash");
		const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(j, "config");
		const cJSON *args = cJSON_GetObjectItemCaseSensitive(j, "args");
		const cJSON *where = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(j, "metrics"), "where");
		ck_assert(cJSON_IsString(hash) && cJSON_IsObject(cfg) && cJSON_IsString(where));
		char *av[8];
		int na = 0, host = 0;
		for (const cJSON *a = args ? args->child : NULL; a && na < 8; a = a->next) {
			av[na++] = a->valuestring;
			host |= !strcmp(a->valuestring, "host");
		}
		ck_assert_str_eq(where->valuestring, host ? "host" : "storage");
		*hosts += host;
		char hex[17];
		sweep_hash_hex(sweep_hash_args(sweep_hash_json(cfg), av, na), hex);
		ck_assert_str_eq(hash->valuestring, hex);
		for (int k = 0; k < i; k++)
			ck_assert_msg(strncmp(l[k], l[i], 30), "%s: a point twice", path);
		/* the metrics as the point's own report.json has them, to the bit */
		char rp[800];
		snprintf(rp, sizeof rp, "%s/points/%s/report.json", dir, hash->valuestring);
		char *rt = slurp(rp);
		ck_assert_msg(rt != NULL, "no %s", rp);
		cJSON *rep = cJSON_Parse(rt);
		free(rt);
		ck_assert_msg(json_exact(cJSON_GetObjectItemCaseSensitive(rep, "metrics"),
					 cJSON_GetObjectItemCaseSensitive(j, "metrics")),
			      "%s line %d: metrics differ from %s", path, i + 1, rp);
		cJSON_Delete(rep);
		cJSON_Delete(j);
	}
	free_lines(l, n);
	return n;
}

static int same_file(const char *a, const char *b)
{
	char *x = slurp(a), *y = slurp(b);
	int same = x && y && !strcmp(x, y);
	free(x);
	free(y);
	return same;
}

/* A train grid killed part-way and run again gives the results.jsonl, CSVs
 * and report.json of an uninterrupted run. */
START_TEST(train_grid_kill_and_resume)
{
	if (!have_data()) {
		tu_skip_need("dataset", "Fashion-MNIST not installed (dataset-fashion-mnist)");
		return;
	}
	char out[16384], pa[700], pb[700];
	const char *g = tiny_train_grid("tg-kill.json", "0.5");
	const char *da = tdir("tg-full"), *db = tdir("tg-kill");
	int rc = tu_ndpsim(out, sizeof out, "train --grid %s --out %s -j 1 --set threads=1 --quiet", g, da);
	ck_assert_msg(rc == 0, "%s", out);
	snprintf(pa, sizeof pa, "%s/sweep", da);
	int hosts;
	ck_assert_int_eq(check_train_results(pa, &hosts), 4);
	ck_assert_int_eq(hosts, 2);

	snprintf(pb, sizeof pb, "%s/sweep/results.jsonl", db);
	char *const argv[] = { (char *)bin(), "train", "--grid", (char *)g, "--out", (char *)db,
			       "-j", "1", "--set", "threads=1", NULL };
	kill_after_lines(argv, pb, 1, 60);
	snprintf(pb, sizeof pb, "%s/sweep", db);
	int nk = check_train_results(pb, &hosts);
	ck_assert_msg(nk < 4, "the grid finished before the kill");
	snprintf(pa, sizeof pa, "%s/report.json", db);
	ck_assert_msg(access(pa, F_OK) != 0, "a killed grid left a report.json");

	rc = tu_ndpsim(out, sizeof out, "train --grid %s --out %s -j 1 --set threads=1", g, db);
	ck_assert_msg(rc == 0, "%s", out);
	char expect[64];
	snprintf(expect, sizeof expect, "%d already in", nk);
	ck_assert_msg(strstr(out, expect), "wanted \"%s\" in: %s", expect, out);
	ck_assert_int_eq(check_train_results(pb, &hosts), 4);
	snprintf(pa, sizeof pa, "%s/sweep/results.jsonl", da);
	snprintf(pb, sizeof pb, "%s/sweep/results.jsonl", db);
	ck_assert_msg(sorted_equal(pa, pb), "results.jsonl of the resumed grid differs");
	static const char *const files[] = { "report.json", "accuracy_vs_time.csv", "grid_summary.csv",
					     "storage_vs_host.csv", "storage_vs_host_curves.csv",
					     "summary.txt" };
	for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
		snprintf(pa, sizeof pa, "%s/%s", da, files[f]);
		snprintf(pb, sizeof pb, "%s/%s", db, files[f]);
		ck_assert_msg(same_file(pa, pb), "%s differs after the resume", files[f]);
	}
	/* a third run finds every point done and runs none */
	rc = tu_ndpsim(out, sizeof out, "train --grid %s --out %s -j 1 --set threads=1", g, db);
	ck_assert_msg(rc == 0 && strstr(out, "4 already in"), "%s", out);
}
END_TEST

#define NS_SMALL "--set bnn.hidden=64,64 --set bnn.epochs=1 --set bnn.train_n=5000 " \
	"--set xbar.mc.test_n=1000 --set xbar.mc.chips=2 --set threads=1 --sigmas 0,0.2 --encodings u1,b4"

/* xbar noise-sweep killed part-way and run again: the results.jsonl,
 * sweep.csv and report.json of an uninterrupted run, and the network is
 * not trained again. */
START_TEST(noise_sweep_kill_and_resume)
{
	if (!have_data()) {
		tu_skip_need("dataset", "Fashion-MNIST not installed (dataset-fashion-mnist)");
		return;
	}
	char out[16384], pa[700], pb[700];
	const char *da = tdir("ns-full"), *db = tdir("ns-kill");
	int rc = tu_ndpsim(out, sizeof out, "xbar noise-sweep " NS_SMALL " -j 1 --out %s --quiet", da);
	ck_assert_msg(rc == 0, "%s", out);
	snprintf(pa, sizeof pa, "%s/sweep/results.jsonl", da);
	char **l;
	int n = lines_of(pa, &l);
	free_lines(l, n);
	ck_assert_int_eq(n, 4);

	char *argv[40];
	int k = 0;
	char *words = strdup("xbar noise-sweep " NS_SMALL " -j 1 --out");
	argv[k++] = (char *)bin();
	for (char *w = strtok(words, " "); w; w = strtok(NULL, " "))
		argv[k++] = w;
	argv[k++] = (char *)db;
	argv[k] = NULL;
	snprintf(pb, sizeof pb, "%s/sweep/results.jsonl", db);
	kill_after_lines(argv, pb, 1, 60);
	free(words);
	n = lines_of(pb, &l);
	free_lines(l, n);
	ck_assert_msg(n >= 1 && n < 4, "%d points before the kill", n);
	snprintf(pb, sizeof pb, "%s/sweep.csv", db);
	ck_assert_msg(access(pb, F_OK) != 0, "a killed sweep left a sweep.csv");

	rc = tu_ndpsim(out, sizeof out, "xbar noise-sweep " NS_SMALL " -j 1 --out %s", db);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_msg(strstr(out, "the network of") && !strstr(out, "training BNN"),
		      "the network was trained again: %s", out);
	char expect[64];
	snprintf(expect, sizeof expect, "%d already in", n);
	ck_assert_msg(strstr(out, expect), "wanted \"%s\" in: %s", expect, out);
	/* the same lines but for the path of the network each point names */
	char **la, **lb;
	snprintf(pa, sizeof pa, "%s/sweep/results.jsonl", da);
	snprintf(pb, sizeof pb, "%s/sweep/results.jsonl", db);
	int na = lines_of(pa, &la), nb = lines_of(pb, &lb);
	ck_assert_int_eq(na, 4);
	ck_assert_int_eq(nb, 4);
	for (int i = 0; i < na; i++) {
		char *at = strstr(la[i], da);
		ck_assert_ptr_nonnull(at);
		size_t pre = (size_t)(at - la[i]), dl = strlen(da);
		char *fixed = malloc(strlen(la[i]) + strlen(db) + 1);
		sprintf(fixed, "%.*s%s%s", (int)pre, la[i], db, at + dl);
		free(la[i]);
		la[i] = fixed;
	}
	qsort(la, (size_t)na, sizeof *la, cmp_str);
	qsort(lb, (size_t)nb, sizeof *lb, cmp_str);
	for (int i = 0; i < na; i++)
		ck_assert_msg(!strcmp(la[i], lb[i]), "results.jsonl line differs after the resume:\n%.300s\n%.300s",
			      la[i], lb[i]);
	free_lines(la, na);
	free_lines(lb, nb);
	static const char *const files[] = { "report.json", "sweep.csv", "sweep-plot.dat" };
	for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
		snprintf(pa, sizeof pa, "%s/%s", da, files[f]);
		snprintf(pb, sizeof pb, "%s/%s", db, files[f]);
		ck_assert_msg(same_file(pa, pb), "%s differs after the resume", files[f]);
	}
	/* the sweep's rows are the points' own metrics: row 2 (sigma 0, b4) */
	snprintf(pa, sizeof pa, "%s/sweep.csv", db);
	n = lines_of(pa, &l);
	ck_assert_int_eq(n, 5);
	ck_assert_msg(!strncmp(l[2], "read,0,b4,4 4 4,", 16), "%s", l[2]);
	free_lines(l, n);
}
END_TEST

/* train --grid on two MPI ranks: the results.jsonl (in any order) and the
 * report of the local run. */
START_TEST(train_grid_mpi_matches_local)
{
	const char *mb = mpi_bin();
	if (!mb || system("command -v mpirun >/dev/null 2>&1")) {
		tu_skip_need("mpi", "train_grid_mpi_matches_local: no ndpsim built with MPI (make MPI=1) or no mpirun");
		return;
	}
	if (!have_data()) {
		tu_skip_need("dataset", "Fashion-MNIST not installed (dataset-fashion-mnist)");
		return;
	}
	char out[16384], cmd[2400], pa[700], pb[700];
	const char *g = tiny_train_grid("tg-mpi.json", "0.5");
	const char *da = tdir("tg-local"), *db = tdir("tg-mpi");
	int rc = tu_ndpsim(out, sizeof out, "train --grid %s --out %s -j 1 --set threads=1 --quiet", g, da);
	ck_assert_msg(rc == 0, "%s", out);
	snprintf(cmd, sizeof cmd,
		 "mpirun --oversubscribe --allow-run-as-root -n 2 %s train --grid %s --out %s -j 1 "
		 "--set threads=1 --quiet 2>&1", mb, g, db);
	rc = tu_sh(out, sizeof out, cmd);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	snprintf(pa, sizeof pa, "%s/sweep/results.jsonl", da);
	snprintf(pb, sizeof pb, "%s/sweep/results.jsonl", db);
	ck_assert_msg(sorted_equal(pa, pb), "MPI results.jsonl differs from the local one");
	snprintf(pa, sizeof pa, "%s/report.json", da);
	snprintf(pb, sizeof pb, "%s/report.json", db);
	ck_assert_msg(same_file(pa, pb), "MPI report.json differs from the local one");
}
END_TEST

/* A PNG is whole when it ends in its IEND chunk. */
static int png_whole(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	unsigned char t[8] = { 0 };
	int ok = fseek(f, -8, SEEK_END) == 0 && fread(t, 1, 8, f) == 8 &&
		 !memcmp(t, "IEND\xae\x42\x60\x82", 8);
	fclose(f);
	return ok;
}

/* A tiny grid whose runs never reach the target (one epoch, 99 %) renders
 * both figures: gnuplot used to stop on a panel with no defined point. */
START_TEST(train_grid_tiny_figures)
{
	if (!have_data()) {
		tu_skip_need("dataset", "Fashion-MNIST not installed (dataset-fashion-mnist)");
		return;
	}
	if (!have_gnuplot()) {
		tu_skip_need("gnuplot", "train_grid_tiny_figures: gnuplot not installed");
		return;
	}
	char out[16384], p[700];
	const char *d = tdir("tg-fig");
	const char *g = tiny_train_grid("tg-fig.json", "0.99");
	int rc = tu_ndpsim(out, sizeof out, "train --grid %s --out %s -j 2 --set threads=1", g, d);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "neither side reached the target"));
	snprintf(p, sizeof p, "%s/storage_vs_host.png", d);
	ck_assert_msg(png_whole(p), "%s missing or cut", p);
	snprintf(p, sizeof p, "%s/accuracy_vs_time.png", d);
	ck_assert_msg(png_whole(p), "%s missing or cut", p);
	snprintf(p, sizeof p, "%s/storage_vs_host.gp", d);
	char *gp = slurp(p);
	ck_assert_ptr_nonnull(gp);
	ck_assert_ptr_nonnull(strstr(gp, "no run reached the target"));
	free(gp);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sweep");
	TCase *tc = tcase_create("sweep");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, grid_expansion);
	tcase_add_test(tc, bad_grids_exit_2);
	tcase_add_test(tc, run_and_rerun);
	tcase_add_test(tc, same_as_single_run);
	tcase_add_test(tc, kill_and_resume);
	tcase_add_test(tc, mpi_matches_local);
	tcase_add_test(tc, plot_png_svg);
	tcase_add_test(tc, example_grids);
	suite_add_tcase(s, tc);
	TCase *tt = tcase_create("train-grid");
	tcase_set_timeout(tt, 240);
	tcase_add_test(tt, train_grid_kill_and_resume);
	tcase_add_test(tt, train_grid_tiny_figures);
	tcase_add_test(tt, noise_sweep_kill_and_resume);
	tcase_add_test(tt, train_grid_mpi_matches_local);
	suite_add_tcase(s, tt);
	return tu_run_suite(s);
}
