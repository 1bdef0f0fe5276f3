/*
 * cmd_plot.c — `ndpsim plot`: one metric of a sweep against one swept key,
 * a line per value of another key, as PNG and SVG through gnuplot.
 *
 * Reads DIR/results.jsonl (the lines `ndpsim sweep` appends), so a plot can
 * be drawn while a sweep still runs or after it was killed.  Writes
 * DIR/plots/NAME.csv (the plotted numbers), NAME.gp (the script) and, when
 * gnuplot is installed, NAME.png and NAME.svg.  Points that share a series
 * value and an x value would make a line go back and forth; that is an error
 * naming the other keys that vary, to be fixed with --where.
 */
#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/sweep.h"
#include "core/report.h"
#include "core/util.h"

static const char help[] =
	"usage: ndpsim plot DIR --x KEY --y METRIC [--series KEY] [--where KEY=VALUE]...\n"
	"                   [--out NAME] [--logx] [--logy]\n"
	"Plots METRIC of every point in DIR/results.jsonl (written by 'ndpsim sweep')\n"
	"against KEY, one line per value of the --series key, points sorted by x.\n"
	"Writes DIR/plots/NAME.csv, NAME.gp and (with gnuplot) NAME.png and NAME.svg.\n"
	"  --x KEY          a swept or config key, e.g. ssd.ftl.op (a non-numeric key\n"
	"                   gives one tick per value)\n"
	"  --y METRIC       a number under \"metrics\" of the report, dotted, e.g. waf,\n"
	"                   write.lat_ns.p99, energy_j.total (see DIR/summary.csv header)\n"
	"  --series KEY     one line per value of KEY\n"
	"  --where K=V      keep only the points with K = V (repeatable), e.g. to fix a\n"
	"                   third swept key\n"
	"  --out NAME       file name without extension (default <y>-vs-<x>[-by-<series>])\n"
	"  --logx, --logy   logarithmic axis\n";

struct prow {
	char x[256], s[256];
	double xv, sv, y;
	long line;
};

static int x_numeric, s_numeric;

static int cmp_text(const char *a, double av, const char *b, double bv, int numeric)
{
	if (numeric)
		return av < bv ? -1 : av > bv;
	return strcmp(a, b);
}

static int cmp_row(const void *pa, const void *pb)
{
	const struct prow *a = pa, *b = pb;
	int c = cmp_text(a->s, a->sv, b->s, b->sv, s_numeric);
	return c ? c : cmp_text(a->x, a->xv, b->x, b->xv, x_numeric);
}

/* key as "point.K", "config.K", "metrics.K" or bare: for a bare key the
 * metrics come first for --y, last otherwise. */
static const cJSON *lookup(const cJSON *line, const char *key, int metrics_first)
{
	static const char *const part[] = { "point", "config", "metrics" };
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(part[i]);
		if (!strncmp(key, part[i], n) && key[n] == '.') {
			const cJSON *v = sweep_json_path(cJSON_GetObjectItemCaseSensitive(line, part[i]), key + n + 1);
			if (v)
				return v;
		}
	}
	const cJSON *v = NULL;
	if (metrics_first)
		v = sweep_json_path(cJSON_GetObjectItemCaseSensitive(line, "metrics"), key);
	for (int i = 0; i < 3 && !v; i++)
		v = sweep_json_path(cJSON_GetObjectItemCaseSensitive(line, part[i]), key);
	return v;
}

static int is_scalar(const cJSON *v)
{
	return cJSON_IsNumber(v) || cJSON_IsString(v) || cJSON_IsBool(v);
}

/* Does value v match the text want (numerically when both are numbers)? */
static int matches(const cJSON *v, const char *want)
{
	if (!is_scalar(v))
		return 0;
	char *end;
	double w = strtod(want, &end);
	if (cJSON_IsNumber(v) && end != want && !*end)
		return fabs(v->valuedouble - w) <= 1e-12 * fmax(fabs(w), 1e-300);
	char t[1024];
	sweep_fmt_scalar(v, t, sizeof t);
	return !strcmp(t, want);
}

/* gnuplot single-quoted string: ' doubled. */
static void gp_quote(char *buf, size_t n, const char *s)
{
	size_t u = 0;
	for (; *s && u + 3 < n; s++) {
		if (*s == '\'')
			buf[u++] = '\'';
		buf[u++] = *s;
	}
	buf[u] = '\0';
}

static void file_name(char *buf, size_t n, const char *y, const char *x, const char *series)
{
	snprintf(buf, n, "%s-vs-%s%s%s", y, x, series ? "-by-" : "", series ? series : "");
	for (char *p = buf; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '-' || *p == '_'))
			*p = '_';
}

static void add_name(const char *name, const cJSON *v, void *arg)
{
	char *buf = arg;
	size_t u = strlen(buf);
	if (cJSON_IsNumber(v) && u + strlen(name) + 3 < 1500)
		snprintf(buf + u, 1500 - u, "%s%s", u ? ", " : "", name);
}

/* Appends to buf the leaf paths where the configs a and b differ (x and
 * series left out). */
static void config_diff(const cJSON *a, const cJSON *b, const char *prefix, const char *x,
			const char *series, char *buf, size_t bn, int *count)
{
	for (const cJSON *ka = a ? a->child : NULL; ka; ka = ka->next) {
		char p[512];
		snprintf(p, sizeof p, "%s%s%s", prefix, prefix[0] ? "." : "", ka->string);
		const cJSON *kb = cJSON_GetObjectItemCaseSensitive(b, ka->string);
		if (cJSON_IsObject(ka) && cJSON_IsObject(kb)) {
			config_diff(ka, kb, p, x, series, buf, bn, count);
			continue;
		}
		if (kb && cJSON_Compare(ka, kb, 1))
			continue;
		if (!strcmp(p, x) || (series && !strcmp(p, series)))
			continue;
		size_t u = strlen(buf);
		if ((*count)++ < 6) {
			char va[64], vb[64];
			sweep_fmt_scalar(ka, va, sizeof va);
			sweep_fmt_scalar(kb, vb, sizeof vb);
			snprintf(buf + u, bn > u ? bn - u : 0, "%s%s (%s vs %s)", u ? ", " : "", p, va, vb);
		} else if (*count == 7) {
			snprintf(buf + u, bn > u ? bn - u : 0, ", ...");
		}
	}
}

int cmd_plot(int argc, char **argv)
{
	const char *dir = NULL, *x = NULL, *y = NULL, *series = NULL, *name = NULL;
	const char *where[64];
	int nwhere = 0, logx = 0, logy = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(help, stdout);
			return 0;
		}
		if (!strcmp(a, "--logx") || !strcmp(a, "--logy")) {
			*(a[5] == 'x' ? &logx : &logy) = 1;
			continue;
		}
		const char **slot = !strcmp(a, "--x") ? &x : !strcmp(a, "--y") ? &y
				  : !strcmp(a, "--series") ? &series : !strcmp(a, "--out") ? &name
				  : !strcmp(a, "--where") ? &where[nwhere] : NULL;
		if (slot) {
			if (i + 1 >= argc)
				return cli_usage_error("plot", "%s needs a value", a);
			if (slot == &where[nwhere]) {
				if (nwhere == 64 || !strchr(argv[i + 1], '='))
					return cli_usage_error("plot", "--where takes KEY=VALUE (at most 64)");
				nwhere++;
			}
			*slot = argv[++i];
			continue;
		}
		if (a[0] == '-')
			return cli_usage_error("plot", "unknown option '%s'", a);
		if (dir)
			return cli_usage_error("plot", "one sweep directory only ('%s' and '%s')", dir, a);
		dir = a;
	}
	if (!dir || !x || !y)
		return cli_usage_error("plot", "needs DIR, --x KEY and --y METRIC");
	if (name && (!*name || strchr(name, '/')))
		return cli_usage_error("plot", "--out takes a file name without '/'");

	struct nd_err err = { 0 };
	char path[4200];
	snprintf(path, sizeof path, "%s/results.jsonl", dir);
	struct sweep_results r;
	if (sweep_results_read(path, -1, &r, &err))
		return cli_error(&err);
	if (!r.n) {
		sweep_results_free(&r);
		fprintf(stderr, "ndpsim: %s: no results (run 'ndpsim sweep --out %s' first)\n", path, dir);
		return 2;
	}
	struct prow *rows = xcalloc(r.n, sizeof *rows);
	size_t n = 0, no_x = 0, no_y = 0, no_s = 0, filtered = 0;
	int rc = 2;
	x_numeric = s_numeric = 1;
	for (size_t i = 0; i < r.n; i++) {
		const cJSON *line = r.line[i];
		int keep = 1;
		for (int w = 0; w < nwhere && keep; w++) {
			char key[256];
			const char *eq = strchr(where[w], '=');
			snprintf(key, sizeof key, "%.*s", (int)(eq - where[w]), where[w]);
			keep = matches(lookup(line, key, 0), eq + 1);
		}
		if (!keep) {
			filtered++;
			continue;
		}
		const cJSON *xv = lookup(line, x, 0), *yv = lookup(line, y, 1);
		const cJSON *sv = series ? lookup(line, series, 0) : NULL;
		if (!is_scalar(xv)) {
			no_x++;
			continue;
		}
		if (!cJSON_IsNumber(yv)) {
			no_y++;
			continue;
		}
		if (series && !is_scalar(sv)) {
			no_s++;
			continue;
		}
		struct prow *p = &rows[n++];
		sweep_fmt_scalar(xv, p->x, sizeof p->x);
		x_numeric &= cJSON_IsNumber(xv);
		p->xv = cJSON_IsNumber(xv) ? xv->valuedouble : 0;
		if (series) {
			sweep_fmt_scalar(sv, p->s, sizeof p->s);
			s_numeric &= cJSON_IsNumber(sv);
			p->sv = cJSON_IsNumber(sv) ? sv->valuedouble : 0;
		} else {
			snprintf(p->s, sizeof p->s, "-");
		}
		for (char *c = p->s; *c; c++)   /* the CSV and gnuplot's strcol() see one field */
			if (*c == ',' || *c == '\'' || *c == '"')
				*c = ';';
		for (char *c = p->x; *c; c++)
			if (*c == ',' || *c == '"')
				*c = ';';
		p->y = yv->valuedouble;
		p->line = (long)i;
	}
	if (!n) {
		char names[1500] = "";
		if (no_y)
			sweep_json_leaves(cJSON_GetObjectItemCaseSensitive(r.line[0], "metrics"), "", add_name, names);
		if (filtered == r.n)
			fprintf(stderr, "ndpsim: plot: no point of %s matches the --where filters\n", path);
		else if (no_x)
			fprintf(stderr, "ndpsim: plot: --x %s: no such key in %s (a swept key or any config key)\n", x, path);
		else if (no_y)
			fprintf(stderr, "ndpsim: plot: --y %s: no such number under \"metrics\" in %s; there are: %s\n",
				y, path, names);
		else
			fprintf(stderr, "ndpsim: plot: --series %s: no such key in %s\n", series, path);
		goto out;
	}
	qsort(rows, n, sizeof *rows, cmp_row);
	for (size_t i = 1; i < n; i++)
		if (!cmp_row(&rows[i - 1], &rows[i])) {
			char vary[2048] = "";
			int nv = 0;
			config_diff(cJSON_GetObjectItemCaseSensitive(r.line[rows[i - 1].line], "config"),
				    cJSON_GetObjectItemCaseSensitive(r.line[rows[i].line], "config"), "", x,
				    series, vary, sizeof vary, &nv);
			fprintf(stderr, "ndpsim: plot: %s: several points have %s = %s%s%s%s%s; they differ in %s — "
				"pick one with --where KEY=VALUE or make it the --series "
				"(points of an earlier grid stay in results.jsonl: one --out per study)\n",
				path, x, rows[i].x, series ? " and " : "", series ? series : "",
				series ? " = " : "", series ? rows[i].s : "",
				vary[0] ? vary : "nothing (the same config twice?)");
			goto out;
		}
	/* category positions: distinct x values in sorted order */
	char (*cats)[256] = NULL;
	size_t ncat = 0;
	if (!x_numeric) {
		struct prow *sorted = xmalloc(n * sizeof *sorted);
		memcpy(sorted, rows, n * sizeof *sorted);
		for (size_t i = 0; i < n; i++)
			snprintf(sorted[i].s, sizeof sorted[i].s, "-");
		qsort(sorted, n, sizeof *sorted, cmp_row);
		cats = xmalloc(n * sizeof *cats);
		for (size_t i = 0; i < n; i++)
			if (!ncat || strcmp(cats[ncat - 1], sorted[i].x))
				snprintf(cats[ncat++], sizeof cats[0], "%s", sorted[i].x);
		free(sorted);
	}

	char pdir[4300], fname[600];
	snprintf(pdir, sizeof pdir, "%s/plots", dir);
	if (name)
		snprintf(fname, sizeof fname, "%s", name);
	else
		file_name(fname, sizeof fname, y, x, series);
	if (rep_mkdir_p(pdir, &err)) {
		rc = cli_error(&err);
		goto out_cats;
	}
	struct rep_csv *csv = rep_csv_new("series,x,xpos,y");
	for (size_t i = 0; i < n; i++) {
		double pos = rows[i].xv;
		for (size_t c = 0; c < ncat; c++)
			if (!strcmp(cats[c], rows[i].x))
				pos = (double)c;
		char xs[64], ys[64];
		sweep_fmt_num(pos, xs, sizeof xs);
		sweep_fmt_num(rows[i].y, ys, sizeof ys);
		rep_csv_row(csv, "%s,%s,%s,%s", rows[i].s, rows[i].x, xs, ys);
	}
	char csvname[700];
	snprintf(csvname, sizeof csvname, "%s.csv", fname);
	int wrc = rep_csv_write(csv, pdir, csvname, &err);
	rep_csv_free(csv);
	if (wrc) {
		rc = cli_error(&err);
		goto out_cats;
	}

	size_t cap = 8192, u = 0;
	char *gp = xmalloc(cap);
	char qx[600], qy[600], qs[600], qf[1300], qv[600];
	gp_quote(qx, sizeof qx, x);
	gp_quote(qy, sizeof qy, y);
	gp_quote(qs, sizeof qs, series ? series : "");
	gp_quote(qf, sizeof qf, fname);
	u += (size_t)snprintf(gp + u, cap - u,
		"# ndpsim plot %s --x %s --y %s%s%s\n"
		"set datafile separator ','\n"
		"set terminal pngcairo size 900,600 noenhanced font ',11'\n"
		"set output '%s.png'\n"
		"set title '%s vs %s (%zu points)'\n"
		"set xlabel '%s'\nset ylabel '%s'\nset grid\n"
		"set offsets graph %s, graph %s, graph %s, graph %s\n"
		"%s%s%s%s%s",
		dir, x, y, series ? " --series " : "", series ? series : "", qf, qy, qx, n, qx, qy,
		logx ? "0" : "0.03", logx ? "0" : "0.03", logy ? "0" : "0.05", logy ? "0" : "0.05",
		series ? "set key outside right title '" : "set key off\n", series ? qs : "",
		series ? "'\n" : "", logx ? "set logscale x\n" : "", logy ? "set logscale y\n" : "");
	u += (size_t)snprintf(gp + u, cap - u, "plot ");
	size_t ns = 0;
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(rows[i].s, rows[i - 1].s))
			continue;
		gp_quote(qv, sizeof qv, rows[i].s);
		if (u + 2 * sizeof qv + 256 > cap)
			gp = xrealloc(gp, cap *= 2);
		/* alternate filled and larger open markers and dash types, so that
		 * series lying on top of each other stay visible */
		static const int pt[] = { 7, 6, 5, 4, 9, 8, 13, 12 };
		u += (size_t)snprintf(gp + u, cap - u,
			"%s'%s.csv' every ::1 using 3:(strcol(1) eq '%s' ? $4 : 1/0)%s with linespoints "
			"lw 2 dt %zu pt %d ps %s title '%s'",
			ns ? ", \\\n     " : "", qf, qv, x_numeric ? "" : ":xtic(2)", ns % 5 + 1,
			pt[ns % 8], ns % 2 ? "2" : "1.2", qv);
		ns++;
	}
	if (u + 256 > cap)
		gp = xrealloc(gp, cap += 256);
	snprintf(gp + u, cap - u,
		"\nset terminal svg size 900,600 noenhanced dynamic font 'sans,11'\n"
		"set output '%s.svg'\nreplot\nunset output\n", qf);
	int g = rep_gnuplot(pdir, fname, gp, &err);
	free(gp);
	if (g < 0) {
		rc = cli_error(&err);
		goto out_cats;
	}
	printf("ndpsim plot — %s vs %s: %zu points in %zu series", y, x, n, ns);
	if (no_x + no_y + no_s)
		printf(" (%zu results without these keys left out)", no_x + no_y + no_s);
	printf("\n  %s/%s.csv, %s.gp%s\n", pdir, fname, fname,
	       g == 0 ? ", .png, .svg" : "  (gnuplot not installed: no PNG/SVG)");
	rc = 0;
out_cats:
	free(cats);
out:
	free(rows);
	sweep_results_free(&r);
	return rc;
}
