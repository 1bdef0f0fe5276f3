/*
 * test_readme.c — every example command in README.md's code blocks still
 * runs, so the README cannot rot.
 *
 * Each line of a ``` block that starts with "./ndpsim" or "$ ./ndpsim"
 * (joined with its "\" continuations, its "# comment" dropped) is one
 * example.  It runs as written, with reduced settings appended (a later
 * --set wins) and --out pointed under the scratch directory; a grid file it
 * names is replaced by a reduced copy of that same file (the full grid of a
 * sweep is still checked point by point with `sweep --list`).  An example
 * whose block shows "ndpsim: ..." lines after it is an error example: it
 * must exit 2 and print those lines.  Every other example must exit 0.
 */
#include <cJSON.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/common/tutil.h"
#include "workloads/idx.h"

#define MAX_EX 64

struct example {
	char cmd[1024];          /* as written, without "./ndpsim" */
	char expect[4][256];     /* "ndpsim: ..." lines shown after it */
	int nexpect;
	int line;                /* in README.md */
};

static struct example ex[MAX_EX];
static int nex;

static void strip_comment(char *s)
{
	for (char *p = s; *p; p++)
		if (*p == '#' && (p == s || p[-1] == ' ')) {
			*p = '\0';
			break;
		}
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

/* The next line of *s (NUL-terminated in place; empty lines count), or NULL. */
static char *next_line(char **s)
{
	if (!*s || !**s)
		return NULL;
	char *l = *s, *nl = strchr(l, '\n');
	if (nl) {
		*nl = '\0';
		*s = nl + 1;
	} else {
		*s = l + strlen(l);
	}
	return l;
}

static void parse_readme(void)
{
	char *text = tu_slurp("README.md");
	ck_assert_ptr_nonnull(text);
	int in_block = 0, lineno = 0;
	struct example *cur = NULL;   /* the last "$ " example, collecting output */
	char *save = text;
	for (char *l = next_line(&save); l; l = next_line(&save)) {
		lineno++;
		if (!strncmp(l, "```", 3)) {
			in_block = !in_block;
			cur = NULL;
			continue;
		}
		if (!in_block)
			continue;
		const char *c = l;
		int dollar = !strncmp(c, "$ ", 2);
		if (dollar)
			c += 2;
		if (!strncmp(c, "./ndpsim", 8) && (c[8] == ' ' || c[8] == '\0')) {
			ck_assert_int_lt(nex, MAX_EX);
			struct example *e = &ex[nex++];
			memset(e, 0, sizeof *e);
			e->line = lineno;
			snprintf(e->cmd, sizeof e->cmd, "%s", c + 8);
			/* continuation lines */
			size_t n = strlen(e->cmd);
			while (n && e->cmd[n - 1] == '\\') {
				e->cmd[n - 1] = ' ';
				char *next = next_line(&save);
				ck_assert_ptr_nonnull(next);
				lineno++;
				strncat(e->cmd, next, sizeof e->cmd - strlen(e->cmd) - 1);
				n = strlen(e->cmd);
			}
			strip_comment(e->cmd);
			cur = dollar ? e : NULL;
		} else if (cur && !strncmp(l, "ndpsim: ", 8) && cur->nexpect < 4) {
			snprintf(cur->expect[cur->nexpect++], sizeof cur->expect[0], "%s", l);
		} else if (dollar) {
			cur = NULL;
		}
	}
	free(text);
}

/* Replaces every "from" in s (capacity n) with "to". */
static void subst(char *s, size_t n, const char *from, const char *to)
{
	char buf[4096];
	size_t k = 0, fl = strlen(from);
	for (const char *p = s; *p && k + 1 < sizeof buf;) {
		if (!strncmp(p, from, fl)) {
			k += (size_t)snprintf(buf + k, sizeof buf - k, "%s", to);
			p += fl;
		} else {
			buf[k++] = *p++;
		}
	}
	buf[k < sizeof buf ? k : sizeof buf - 1] = '\0';
	ck_assert_msg(strlen(buf) + 1 < n, "example too long after substitution");
	snprintf(s, n, "%s", buf);
}

/* The word after "./ndpsim" ("run", "ssd", ...; "" for "--help"). */
static void subcommand(const char *cmd, char *out, size_t n)
{
	while (*cmd == ' ')
		cmd++;
	size_t k = 0;
	while (cmd[k] && cmd[k] != ' ' && k + 1 < n) {
		out[k] = cmd[k];
		k++;
	}
	out[k] = '\0';
}

static void write_json(const char *path, cJSON *j)
{
	char *t = cJSON_Print(j);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(t, f);
	fclose(f);
	free(t);
}

static void keep_first(cJSON *arr, int n)
{
	ck_assert(cJSON_IsArray(arr));
	while (cJSON_GetArraySize(arr) > n)
		cJSON_DeleteItemFromArray(arr, cJSON_GetArraySize(arr) - 1);
}

/* A reduced copy of a sweep grid: the same keys, two values of each, a
 * small drive and few requests. */
static const char *small_sweep_grid(const char *src)
{
	static char path[600];
	char *t = tu_slurp(src);
	ck_assert_msg(t != NULL, "%s", src);
	cJSON *g = cJSON_Parse(t);
	free(t);
	ck_assert_ptr_nonnull(g);
	cJSON *set = cJSON_GetObjectItemCaseSensitive(g, "set"), *it;
	ck_assert_ptr_nonnull(set);
	cJSON_DeleteItemFromObject(set, "workload.count");
	cJSON_DeleteItemFromObject(set, "ssd.blocks");
	cJSON_DeleteItemFromObject(set, "ssd.precondition.overwrite");
	cJSON_AddNumberToObject(set, "workload.count", 2000);
	cJSON_AddNumberToObject(set, "ssd.blocks", 64);
	cJSON_AddNumberToObject(set, "ssd.precondition.overwrite", 0);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(g, "grid"))
		if (cJSON_IsArray(it))
			keep_first(it, 2);
	snprintf(path, sizeof path, "%s/readme-sweep-grid.json", tu_tmpdir());
	write_json(path, g);
	cJSON_Delete(g);
	return path;
}

static void append_sets(cJSON *part, const char *const *sets)
{
	cJSON *s = cJSON_GetObjectItemCaseSensitive(part, "set");
	ck_assert(cJSON_IsArray(s));
	for (; *sets; sets++)
		cJSON_AddItemToArray(s, cJSON_CreateString(*sets));
}

/* A reduced copy of a `train --grid` file: one algorithm, one channel
 * count, two host memory ratios, one epoch. */
static const char *small_train_grid(const char *src)
{
	static char path[600];
	char *t = tu_slurp(src);
	ck_assert_msg(t != NULL, "%s", src);
	cJSON *g = cJSON_Parse(t);
	free(t);
	ck_assert_ptr_nonnull(g);
	cJSON *a = cJSON_GetObjectItemCaseSensitive(g, "accuracy_vs_time");
	cJSON *v = cJSON_GetObjectItemCaseSensitive(g, "storage_vs_host");
	ck_assert(a && v);
	keep_first(cJSON_GetObjectItemCaseSensitive(a, "algos"), 1);
	keep_first(cJSON_GetObjectItemCaseSensitive(a, "channels"), 1);
	keep_first(cJSON_GetObjectItemCaseSensitive(v, "host_memory_ratios"), 2);
	keep_first(cJSON_GetObjectItemCaseSensitive(v, "host_variants"), 1);
	static const char *const one[] = { "train.epochs=1", "train.evals_per_epoch=1", NULL };
	static const char *const one_t[] = { "train.epochs=1", "train.evals_per_epoch=1",
					     "train.amplify=1", "train.target_acc=0.5", NULL };
	append_sets(a, one);
	append_sets(v, one_t);
	snprintf(path, sizeof path, "%s/readme-train-grid.json", tu_tmpdir());
	write_json(path, g);
	cJSON_Delete(g);
	return path;
}

/* The grid file an example names after --grid (static). */
static const char *grid_of(const char *cmd)
{
	static char g[600];
	const char *p = strstr(cmd, "--grid ");
	ck_assert_ptr_nonnull(p);
	p += 7;
	size_t k = 0;
	while (p[k] && p[k] != ' ' && k + 1 < sizeof g) {
		g[k] = p[k];
		k++;
	}
	g[k] = '\0';
	return g;
}

static int have_data(void)
{
	char probe[512];
	snprintf(probe, sizeof probe, "%s/t10k-images-idx3-ubyte.gz", wl_fmnist_default_dir());
	return access(probe, R_OK) == 0;
}

static int sh(char *out, size_t n, const char *cmd)
{
	return tu_sh(out, n, cmd);
}

#define RUN_TINY "--set bnn.hidden=16 --set bnn.epochs=1 --set bnn.train_n=1000 " \
	"--set bnn.calib_n=500 --set xbar.mc.test_n=200 --set xbar.mc.chips=1 --set threads=1 " \
	"--set compare.workloads=infer"
#define XBAR_TINY "--set bnn.hidden=16 --set bnn.epochs=1 --set bnn.train_n=1000 " \
	"--set bnn.calib_n=500 --set xbar.mc.test_n=200 --set xbar.mc.chips=1 --set threads=1"
/* `xbar cnn` takes bcnn.* (not bnn.*) keys */
#define CNN_TINY "--set bcnn.conv=8,8,16,16 --set bcnn.fc=32 --set bcnn.epochs=1 " \
	"--set bcnn.train_n=500 --set bcnn.calib_n=256 --set xbar.adc.calib_n=100 " \
	"--set xbar.mc.test_n=200 --set xbar.mc.chips=1 --set threads=1"
#define TRAIN_TINY "--set ssd.blocks=64 --set train.epochs=1 --set train.evals_per_epoch=1 " \
	"--set threads=1"
#define SSD_TINY "--set workload.count=3000 --set ssd.blocks=64"

START_TEST(readme_examples)
{
	parse_readme();
	ck_assert_msg(nex >= 15, "only %d examples found in README.md", nex);
	const char *bin = getenv("NDPSIM_BIN");
	char abin[1024];
	if (!realpath(bin && *bin ? bin : "build/ndpsim", abin))
		ck_abort_msg("no ndpsim binary");
	const char *tmp = tu_tmpdir();
	char iofile[600], bad[600], cmd[8192], out[65536];
	snprintf(iofile, sizeof iofile, "%s/readme-io-file", tmp);
	FILE *f = fopen(iofile, "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < (1 << 20); i++)
		fputc(i & 0xff, f);
	fclose(f);
	snprintf(bad, sizeof bad, "%s/bad.json", tmp);
	f = fopen(bad, "w");
	ck_assert_ptr_nonnull(f);
	fputs("{\"ssd\": {\"nand\": {\"t_read_ns\": -5}}}\n", f);
	fclose(f);
	int data = have_data(), skipped = 0;
	for (int i = 0; i < nex; i++) {
		struct example *e = &ex[i];
		char c[4096], sub[64], results[700];
		snprintf(c, sizeof c, "%s", e->cmd);
		subcommand(c, sub, sizeof sub);
		if (!data && (!strcmp(sub, "run") || !strcmp(sub, "train") || !strcmp(sub, "xbar"))) {
			skipped++;   /* counted below: the case skips if any did */
			continue;
		}
		/* results/ -> the scratch directory; the file placeholders -> real files */
		snprintf(results, sizeof results, "%s/readme-results/", tmp);
		subst(c, sizeof c, "results/", results);
		subst(c, sizeof c, "/path/to/file", iofile);
		subst(c, sizeof c, "bad.json", bad);
		subst(c, sizeof c, "| less", "> /dev/null");
		char extra[1024] = "";
		if (!strcmp(sub, "run"))
			snprintf(extra, sizeof extra, " " RUN_TINY " --set compare.cache_dir=%s/readme-cache", tmp);
		else if (!strcmp(sub, "xbar") && !strncmp(c, " xbar cnn", 9))
			snprintf(extra, sizeof extra, " " CNN_TINY);
		else if (!strcmp(sub, "xbar"))
			snprintf(extra, sizeof extra, " " XBAR_TINY);
		else if (!strcmp(sub, "ssd") && !e->nexpect)
			snprintf(extra, sizeof extra, " " SSD_TINY);
		else if (!strcmp(sub, "train") && !strstr(c, "--grid"))
			snprintf(extra, sizeof extra, " " TRAIN_TINY);
		if (!strcmp(sub, "sweep")) {
			char orig[600];
			snprintf(orig, sizeof orig, "%s", grid_of(c));
			/* the full grid, every point checked, nothing run */
			snprintf(cmd, sizeof cmd, "%s sweep --grid %s --list --out %s/readme-list 2>&1", abin,
				 orig, tmp);
			int rc = sh(out, sizeof out, cmd);
			ck_assert_msg(rc == 0, "README.md:%d: sweep --list of %s: exit %d: %s", e->line, orig,
				      rc, out);
			subst(c, sizeof c, orig, small_sweep_grid(orig));
			snprintf(extra, sizeof extra, " -j 1");
		}
		if (!strcmp(sub, "train") && strstr(c, "--grid")) {
			char orig[600];
			snprintf(orig, sizeof orig, "%s", grid_of(c));
			subst(c, sizeof c, orig, small_train_grid(orig));
		}
		/* commands that write results and were given no --out write under tmp */
		int writes = !strcmp(sub, "run") || !strcmp(sub, "ssd") || !strcmp(sub, "train") ||
			     !strcmp(sub, "xbar") || !strcmp(sub, "sweep");
		char outopt[700] = "";
		if (writes && !strstr(c, "--out "))
			snprintf(outopt, sizeof outopt, " --out %s/readme-%d", tmp, i);
		/* the pipe, if any, stays last */
		char *pipe = strstr(c, "> /dev/null");
		char tail[64] = "";
		if (pipe) {
			snprintf(tail, sizeof tail, " %s", pipe);
			*pipe = '\0';
		}
		snprintf(cmd, sizeof cmd, "%s%s%s%s%s 2>&1", abin, c, extra, outopt, tail);
		int rc = sh(out, sizeof out, cmd);
		if (e->nexpect) {
			ck_assert_msg(rc == 2, "README.md:%d: %s: exit %d (an error example: 2): %s", e->line,
				      cmd, rc, out);
			for (int k = 0; k < e->nexpect; k++) {
				char want[700];
				snprintf(want, sizeof want, "%s", e->expect[k]);
				subst(want, sizeof want, "bad.json", bad);
				ck_assert_msg(strstr(out, want), "README.md:%d: wanted \"%s\" in: %s", e->line,
					      want, out);
			}
		} else {
			ck_assert_msg(rc == 0, "README.md:%d: %s: exit %d: %.3000s", e->line, cmd, rc, out);
		}
	}
	printf("readme: %d examples in README.md, %d run, %d skipped (no data set)\n", nex, nex - skipped,
	       skipped);
	if (skipped)
		tu_skip_need("dataset", "Fashion-MNIST not installed: the run / train / xbar examples "
			     "did not run (dataset-fashion-mnist)");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("readme");
	TCase *t = tcase_create("readme");
	tcase_set_timeout(t, 600);
	tcase_add_test(t, readme_examples);
	suite_add_tcase(s, t);
	return tu_run_suite(s);
}
