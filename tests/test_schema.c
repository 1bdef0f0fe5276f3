/*
 * test_schema.c — one report schema across commands (docs/report-schema.md):
 * runs every command on reduced settings and checks its report.json (and
 * calibrate's measurements file, a sweep's results.jsonl lines) against the
 * rules: units in key names, snake-case keys without dots, energy objects
 * {total, by_component, by_action | by_where} whose parts add up to the
 * total, latency objects lat_ns {mean, p50, p90, p99, p999, max} in order.
 * The checker itself is tested on hand-written good and bad reports first.
 */
#include <cJSON.h>
#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/common/tutil.h"
#include "workloads/idx.h"

/* ------------------------------------------------------------ checker */

struct chk {
	char msg[8192];
	size_t len;
	int n;
};

static void bad(struct chk *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void bad(struct chk *c, const char *path, const char *fmt, ...)
{
	c->n++;
	if (c->len + 200 >= sizeof c->msg)
		return;
	c->len += (size_t)snprintf(c->msg + c->len, sizeof c->msg - c->len, "  %s: ", path);
	va_list ap;
	va_start(ap, fmt);
	c->len += (size_t)vsnprintf(c->msg + c->len, sizeof c->msg - c->len, fmt, ap);
	va_end(ap);
	c->len += (size_t)snprintf(c->msg + c->len, sizeof c->msg - c->len, "\n");
}

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

/* The last word of a snake-case key ("ref_energy" -> "energy"). */
static const char *last_word(const char *k)
{
	const char *u = strrchr(k, '_');
	return u ? u + 1 : k;
}

static int snake(const char *k)
{
	if (!*k)
		return 0;
	for (const char *p = k; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return 1;
}

/* Sum of the numbers of a by_component tree (components nest). */
static double tree_sum(const cJSON *o, struct chk *c, const char *path)
{
	double s = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, o) {
		if (cJSON_IsNumber(it))
			s += it->valuedouble;
		else if (cJSON_IsObject(it))
			s += tree_sum(it, c, path);
		else
			bad(c, path, "'%s' is neither a number of joules nor a group", it->string);
	}
	return s;
}

static int close_to(double a, double b)
{
	return fabs(a - b) <= 1e-9 + 1e-6 * fmax(fabs(a), fabs(b));
}

static void check_energy(const cJSON *o, struct chk *c, const char *path)
{
	const cJSON *tot = cJSON_GetObjectItemCaseSensitive(o, "total");
	const cJSON *bc = cJSON_GetObjectItemCaseSensitive(o, "by_component");
	const cJSON *ba = cJSON_GetObjectItemCaseSensitive(o, "by_action");
	const cJSON *bw = cJSON_GetObjectItemCaseSensitive(o, "by_where");
	if (!cJSON_IsNumber(tot) || !cJSON_IsObject(bc) || (!cJSON_IsArray(ba) && !cJSON_IsObject(bw))) {
		bad(c, path, "an energy object needs total, by_component and by_action or by_where");
		return;
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, o)
		if (strcmp(it->string, "total") && strcmp(it->string, "by_component") &&
		    strcmp(it->string, "by_action") && strcmp(it->string, "by_where"))
			bad(c, path, "unexpected key '%s' in an energy object", it->string);
	double t = tot->valuedouble, s = tree_sum(bc, c, path);
	if (!close_to(s, t))
		bad(c, path, "by_component sums to %.17g J, total is %.17g J", s, t);
	if (cJSON_IsArray(ba)) {
		double sa = 0;
		cJSON_ArrayForEach(it, ba) {
			static const char *const need[] = { "component", "action", "energy_j" };
			for (size_t k = 0; k < sizeof need / sizeof need[0]; k++)
				if (!cJSON_GetObjectItemCaseSensitive(it, need[k]))
					bad(c, path, "a by_action entry lacks '%s'", need[k]);
			/* an action priced per use, or a static draw over a time */
			int per_use = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(it, "count")) &&
				      cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(it, "j_per_action"));
			int draw = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(it, "watts")) &&
				   cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(it, "time_ns"));
			if (!per_use && !draw)
				bad(c, path, "a by_action entry has neither count + j_per_action nor "
				    "watts + time_ns");
			const cJSON *e = cJSON_GetObjectItemCaseSensitive(it, "energy_j");
			if (cJSON_IsNumber(e))
				sa += e->valuedouble;
		}
		if (!close_to(sa, t))
			bad(c, path, "by_action sums to %.17g J, total is %.17g J", sa, t);
	}
	if (cJSON_IsObject(bw)) {
		double sw = tree_sum(bw, c, path);
		if (!close_to(sw, t))
			bad(c, path, "by_where sums to %.17g J, total is %.17g J", sw, t);
	}
}

static void check_lat(const cJSON *o, struct chk *c, const char *path)
{
	static const char *const order[] = { "min", "p50", "p90", "p99", "p999", "max" };
	static const char *const need[] = { "mean", "p50", "p99", "max" };
	const cJSON *it;
	cJSON_ArrayForEach(it, o) {
		int ok = !strcmp(it->string, "mean");
		for (size_t k = 0; k < 6; k++)
			ok |= !strcmp(it->string, order[k]);
		if (!ok)
			bad(c, path, "'%s' is not a latency statistic (mean, p50, p90, p99, p999, max, min)",
			    it->string);
		else if (!cJSON_IsNumber(it))
			bad(c, path, "'%s' is not a number of nanoseconds", it->string);
	}
	for (size_t k = 0; k < 4; k++)
		if (!cJSON_GetObjectItemCaseSensitive(o, need[k]))
			bad(c, path, "lat_ns lacks '%s'", need[k]);
	double prev = -1;
	const char *pn = "";
	for (size_t k = 0; k < 6; k++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, order[k]);
		if (!cJSON_IsNumber(v))
			continue;
		if (v->valuedouble < prev)
			bad(c, path, "%s %.17g below %s %.17g", order[k], v->valuedouble, pn, prev);
		prev = v->valuedouble;
		pn = order[k];
	}
	const cJSON *mean = cJSON_GetObjectItemCaseSensitive(o, "mean"),
		    *max = cJSON_GetObjectItemCaseSensitive(o, "max");
	if (cJSON_IsNumber(mean) && cJSON_IsNumber(max) && mean->valuedouble > max->valuedouble)
		bad(c, path, "mean above max");
}

static void walk(const cJSON *v, struct chk *c, const char *path);

static void check_key(const char *k, const cJSON *v, struct chk *c, const char *path)
{
	static const char *const unitless[] = { "time", "latency", "energy", "power", "wall",
						"duration", "delay" };
	static const char *const gone[] = { "energy", "ledger", "energy_total" };
	if (!snake(k))
		bad(c, path, "key is not snake case [a-z0-9_]+ (a '.' splits a path: p99.9 is p999)");
	for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
		if (!strcmp(k, gone[i]))
			bad(c, path, "'%s' is not a schema name (energy is energy_j)", k);
	if (cJSON_IsNumber(v))
		for (size_t i = 0; i < sizeof unitless / sizeof unitless[0]; i++)
			if (!strcmp(last_word(k), unitless[i]))
				bad(c, path, "a number without a unit in its name");
	if (!strncmp(k, "lat_", 4) && strcmp(k, "lat_ns"))
		bad(c, path, "latency is lat_ns (nanoseconds)");
	if (!strcmp(k, "lat_ns")) {
		if (cJSON_IsObject(v))
			check_lat(v, c, path);
		else
			bad(c, path, "lat_ns is an object {mean, p50, p90, p99, p999, max}");
	}
	if (!strcmp(k, "energy_j") || ends_with(k, "_energy_j")) {
		if (cJSON_IsObject(v))
			check_energy(v, c, path);
		else if (!cJSON_IsNumber(v) && !cJSON_IsNull(v))
			bad(c, path, "energy_j is joules or an energy object");
	}
}

static void walk(const cJSON *v, struct chk *c, const char *path)
{
	char p[600];
	const cJSON *it;
	if (cJSON_IsObject(v)) {
		int inside_energy = ends_with(path, "by_component") || ends_with(path, "by_where");
		cJSON_ArrayForEach(it, v) {
			snprintf(p, sizeof p, "%s.%s", path, it->string);
			if (!inside_energy)   /* component names are data, not schema names */
				check_key(it->string, it, c, p);
			walk(it, c, p);
		}
	} else if (cJSON_IsArray(v)) {
		int i = 0;
		cJSON_ArrayForEach(it, v) {
			snprintf(p, sizeof p, "%s[%d]", path, i++);
			walk(it, c, p);
		}
	}
}

/* Checks a whole report: top level, then metrics.  with_config: the command
 * reads a config, so seed and config must be there. */
static int check_report(const cJSON *rep, int with_config, struct chk *c)
{
	memset(c, 0, sizeof *c);
	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(rep, "version")))
		bad(c, "version", "missing or not a string");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(rep, "metrics");
	if (!cJSON_IsObject(m))
		bad(c, "metrics", "missing or not an object");
	if (with_config) {
		if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(rep, "seed")))
			bad(c, "seed", "missing or not a number");
		if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(rep, "config")))
			bad(c, "config", "missing or not an object");
	}
	if (cJSON_IsObject(m))
		walk(m, c, "metrics");
	return c->n;
}

static int check_text(const char *json, int with_config, struct chk *c)
{
	cJSON *j = cJSON_Parse(json);
	ck_assert_msg(j != NULL, "test JSON does not parse: %s", json);
	int n = check_report(j, with_config, c);
	cJSON_Delete(j);
	return n;
}

/* The checker finds what it must find (and nothing in a good report). */
START_TEST(checker_self_test)
{
	struct chk c;
	const char *good =
		"{\"version\": \"x\", \"seed\": 1, \"config\": {}, \"metrics\": {"
		" \"energy_j\": {\"total\": 3, \"by_component\": {\"nand\": 1, \"xbar\": {\"adc\": 2}},"
		"   \"by_action\": [{\"component\": \"nand\", \"action\": \"read\", \"count\": 1,"
		"    \"energy_j\": 1, \"j_per_action\": 1}, {\"component\": \"xbar.adc\", \"action\": \"c\","
		"    \"count\": 2, \"energy_j\": 2, \"j_per_action\": 1}]},"
		" \"system_energy_j\": {\"total\": 1, \"by_component\": {\"a\": 1}, \"by_where\": {\"drive\": 1}},"
		" \"read\": {\"lat_ns\": {\"min\": 1, \"mean\": 5, \"p50\": 4, \"p90\": 8, \"p99\": 9,"
		"   \"p999\": 10, \"max\": 12}}, \"time_s\": 1, \"waf\": 1.1, \"curve\": [{\"t_s\": 0}]}}";
	ck_assert_msg(check_text(good, 1, &c) == 0, "%s", c.msg);
	static const struct { const char *metrics, *want; } cases[] = {
		{ "\"energy\": {\"total\": 1, \"by_component\": {\"a\": 1}, \"by_action\": []}", "not a schema name" },
		{ "\"ledger\": 1", "not a schema name" },
		{ "\"lat_ns\": {\"mean\": 1, \"p50\": 1, \"p99.9\": 2, \"p99\": 2, \"max\": 3}", "snake case" },
		{ "\"lat_us\": {\"mean\": 1}", "latency is lat_ns" },
		{ "\"lat_ns\": {\"mean\": 1, \"p50\": 5, \"p99\": 4, \"max\": 6}", "below p50" },
		{ "\"lat_ns\": {\"mean\": 1, \"p50\": 1, \"max\": 6}", "lacks 'p99'" },
		{ "\"time\": 4", "without a unit" },
		{ "\"ref_energy\": 4", "without a unit" },
		{ "\"energy_j\": {\"total\": 2, \"by_component\": {\"a\": 1}, \"by_action\": []}", "by_component sums" },
		{ "\"energy_j\": {\"total\": 1, \"by_component\": {\"a\": 1}, \"by_action\": ["
		  "{\"component\": \"a\", \"action\": \"r\", \"count\": 1, \"energy_j\": 2, \"j_per_action\": 2}]}",
		  "by_action sums" },
		{ "\"x_energy_j\": {\"total\": 1, \"by_component\": {\"a\": 1}}", "needs total" },
		{ "\"energy_j\": \"lots\"", "joules or an energy object" },
		{ "\"Bytes\": 4", "snake case" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char j[2048];
		snprintf(j, sizeof j, "{\"version\": \"x\", \"metrics\": {%s}}", cases[i].metrics);
		int n = check_text(j, 0, &c);
		ck_assert_msg(n > 0 && strstr(c.msg, cases[i].want), "case %zu (%s): wanted '%s', got %d: %s",
			      i, cases[i].metrics, cases[i].want, n, c.msg);
	}
	ck_assert_int_gt(check_text("{\"metrics\": {}}", 0, &c), 0);        /* no version */
	ck_assert_int_gt(check_text("{\"version\": \"x\", \"metrics\": {}}", 1, &c), 0);   /* no seed/config */
}
END_TEST

/* ----------------------------------------------------------- commands */

static int have_data(void)
{
	char probe[512];
	snprintf(probe, sizeof probe, "%s/t10k-images-idx3-ubyte.gz", wl_fmnist_default_dir());
	return access(probe, R_OK) == 0;
}

#define XSMALL "--set bnn.hidden=64,64 --set bnn.epochs=1 --set bnn.train_n=5000 " \
	       "--set xbar.mc.test_n=1000 --set xbar.mc.chips=2 --set threads=1"
#define CSMALL "--set bcnn.conv=8,8,16,16 --set bcnn.fc=32 --set bcnn.epochs=1 " \
	       "--set bcnn.train_n=500 --set bcnn.calib_n=256 --set xbar.adc.calib_n=100 " \
	       "--set xbar.mc.test_n=200 --set xbar.mc.chips=2 --set threads=1"
#define TSMALL "--set ssd.blocks=64 --set train.epochs=1 --set train.evals_per_epoch=1 --set threads=1"

static const struct run {
	const char *name;
	const char *args;       /* the --out directory follows */
	const char *file;       /* the report to check, in the --out directory */
	int with_config, data;
	int loud;               /* the command has no --quiet */
} runs[] = {
	{ "ssd", "ssd --set ssd.blocks=64 --set workload.count=3000 --set ssd.precondition.fill=1 "
	  "--no-plot", "report.json", 1, 0, 0 },
	{ "ssd-power", "ssd --set ssd.blocks=64 --set workload.count=3000 --set ssd.power.enable=true "
	  "--no-plot", "report.json", 1, 0, 0 },
	{ "io", "io --file configs/default.json --backend sync", "report.json", 0, 0, 1 },
	{ "train-host", "train --where host " TSMALL, "report.json", 1, 1, 0 },
	{ "train-storage", "train --where storage " TSMALL, "report.json", 1, 1, 0 },
	{ "train-grid", "train --grid @GRID@", "report.json", 1, 1, 0 },
	{ "xbar-train", "xbar train " XSMALL, "report.json", 1, 1, 0 },
	{ "xbar-eval", "xbar eval " XSMALL, "report.json", 1, 1, 0 },
	{ "xbar-noise-sweep", "xbar noise-sweep " XSMALL " --sigmas 0,0.2 --encodings u1 --gbo "
	  "--set gbo.steps=5", "report.json", 1, 1, 0 },
	{ "xbar-gbo", "xbar gbo " XSMALL " --set gbo.steps=5", "report.json", 1, 1, 0 },
	{ "xbar-cnn", "xbar cnn " CSMALL, "report.json", 1, 1, 0 },
	{ "run-infer", "run " XSMALL " --set compare.workloads=infer", "report.json", 1, 1, 0 },
	{ "calibrate", "calibrate --kernels lr --reps 1 --idle 0.1 --io --size 4M --buffered --out "
	  "@DIR@/hp.json", "hp.measurements.json", 0, 1, 0 },
	{ "sweep", "sweep -j 1 --grid @SWEEP@", "results.jsonl", 1, 0, 0 },
};

static const char *tiny_grid(void)
{
	return tu_write_file("schema-train-grid.json",
		"{\"config\": {\"ssd\": {\"blocks\": 64}, \"train\": {\"model\": \"lr\"}},\n"
		" \"accuracy_vs_time\": {\"algos\": [\"sync\"], \"channels\": [4],\n"
		"   \"set\": [\"train.epochs=1\", \"train.evals_per_epoch=1\"]},\n"
		" \"storage_vs_host\": {\"storage_algo\": \"sync\", \"storage_channels\": 4,\n"
		"   \"host_memory_ratios\": [0.5, 1], \"host_variants\": [{\"name\": \"default\", \"set\": []}],\n"
		"   \"set\": [\"train.epochs=1\", \"train.evals_per_epoch=1\", \"train.target_acc=0.5\"]}}\n");
}

static const char *tiny_sweep(void)
{
	return tu_write_file("schema-sweep.json",
		"{\"command\": \"ssd\", \"set\": {\"ssd.blocks\": 64, \"workload.count\": 3000,"
		" \"ssd.precondition.fill\": 1}, \"grid\": {\"ssd.channels\": [4, 8]}}");
}

/* s with @DIR@, @GRID@, @SWEEP@ replaced. */
static void expand(const char *s, const char *dir, char *out, size_t n)
{
	static char grid[600], sweep[600];
	snprintf(grid, sizeof grid, "%s", tiny_grid());
	snprintf(sweep, sizeof sweep, "%s", tiny_sweep());
	size_t k = 0;
	while (*s && k + 1 < n) {
		const char *rep = NULL;
		size_t skip = 0;
		if (!strncmp(s, "@DIR@", 5))
			rep = dir, skip = 5;
		else if (!strncmp(s, "@GRID@", 6))
			rep = grid, skip = 6;
		else if (!strncmp(s, "@SWEEP@", 7))
			rep = sweep, skip = 7;
		if (rep) {
			k += (size_t)snprintf(out + k, n - k, "%s", rep);
			s += skip;
		} else {
			out[k++] = *s++;
		}
	}
	ck_assert(k + 1 < n);
	out[k] = '\0';
}

START_TEST(command_reports)
{
	const struct run *r = &runs[_i];
	if (r->data && !have_data()) {
		tu_skip_need("dataset", "Fashion-MNIST not installed (dataset-fashion-mnist)");
		return;
	}
	char dir[600], args[2048], cmd[2400], out[16384], path[800];
	snprintf(dir, sizeof dir, "%s/schema-%s", tu_tmpdir(), r->name);
	snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s.lock'", dir, dir);
	ck_assert_int_eq(system(cmd), 0);
	expand(r->args, dir, args, sizeof args);
	int rc;
	if (strstr(r->args, "@DIR@")) {
		snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
		ck_assert_int_eq(system(cmd), 0);
		rc = tu_ndpsim(out, sizeof out, "%s --quiet", args);
	} else {
		rc = tu_ndpsim(out, sizeof out, "%s%s --out %s", args, r->loud ? "" : " --quiet", dir);
	}
	ck_assert_msg(rc == 0, "%s: exit %d: %s", r->name, rc, out);
	snprintf(path, sizeof path, "%s/%s", dir, r->file);
	char *text = tu_slurp(path);
	ck_assert_msg(text != NULL, "%s: no %s", r->name, path);
	struct chk c;
	int nrep = 0;
	if (ends_with(r->file, ".jsonl")) {
		/* one report-like object per line: {version, config, metrics, ...} */
		for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
			cJSON *j = cJSON_Parse(line);
			ck_assert_msg(j != NULL, "%s: a line of %s does not parse", r->name, path);
			int n = check_report(j, 0, &c);
			cJSON_Delete(j);
			ck_assert_msg(n == 0, "%s: %s line %d breaks the schema:\n%s", r->name, path,
				      nrep + 1, c.msg);
			nrep++;
		}
		ck_assert_int_eq(nrep, 2);
	} else {
		cJSON *j = cJSON_Parse(text);
		ck_assert_msg(j != NULL, "%s: %s does not parse", r->name, path);
		if (!r->with_config && !cJSON_GetObjectItemCaseSensitive(j, "metrics")) {
			/* calibrate's measurements file: its top level is the metrics */
			cJSON *wrap = cJSON_CreateObject();
			cJSON_AddStringToObject(wrap, "version", "-");
			cJSON_AddItemToObject(wrap, "metrics", j);
			j = wrap;
		}
		int n = check_report(j, r->with_config, &c);
		cJSON_Delete(j);
		ck_assert_msg(n == 0, "%s: %s breaks the schema (docs/report-schema.md):\n%s", r->name,
			      path, c.msg);
	}
	free(text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("schema");
	TCase *t = tcase_create("schema");
	tcase_set_timeout(t, 180);
	tcase_add_test(t, checker_self_test);
	tcase_add_loop_test(t, command_reports, 0, (int)(sizeof runs / sizeof runs[0]));
	suite_add_tcase(s, t);
	return tu_run_suite(s);
}
