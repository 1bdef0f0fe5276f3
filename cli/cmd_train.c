/*
 * cmd_train.c — `ndpsim train`: train a model in storage (ISP, ndp/ndp.h)
 * or on the host (IHP, ndp/ihp.h) on data held in the simulated SSD, and
 * `ndpsim train --grid FILE`: the ISP-ML experiment grid (configs/
 * experiments/ispml.json).
 */
#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/registry.h"
#include "cli/sweep.h"
#include "core/file.h"
#include "core/outdir.h"
#include "core/report.h"
#include "core/util.h"
#include "hostif/host.h"
#include "ndp/ndp.h"

static const char help[] =
	"usage: ndpsim train [--where storage|host] [--algo sync|downpour|easgd]\n"
	"                    [--config FILE] [--set KEY=VALUE]... [--out DIR] [--seed N] [--quiet]\n"
	"       ndpsim train --grid FILE [--config FILE] [--set KEY=VALUE]... [--out DIR]\n"
	"Trains logistic regression or an MLP (train.model) on Fashion-MNIST stored in the\n"
	"simulated SSD, in storage (per-channel compute units and a master in the controller)\n"
	"or on the host (CPU + DRAM page cache reading through the host link), and reports\n"
	"accuracy against simulated time, time and energy to train.target_acc, energy by\n"
	"component and bytes moved.  Writes report.json, curve.csv and accuracy_vs_time.png\n"
	"to DIR (default results/train).\n"
	"  --where W    storage (default) or host\n"
	"  --algo A     in-storage SGD variant: sync, downpour, easgd (same as --set ndp.algo=A)\n"
	"  --grid FILE  run an experiment grid (e.g. configs/experiments/ispml.json): every\n"
	"               algorithm x channel count (accuracy vs time), and storage vs host at\n"
	"               several host page-cache sizes; CSVs, gnuplot figures, summary.txt\n"
	"               (default DIR results/ispml)\n"
	"Keys: train.* (model, SGD, data), ndp.* (units, master, bus, variants), host.*,\n"
	"ssd.*; `ndpsim config --dump` lists them with units and sources.\n"
	"%s";

struct params {
	struct run_params run;
	struct ssd_params ssd;
	struct ndp_train_params train;
	struct ndp_params ndp;
	struct ihp_params host;
};

static void bundle(struct cfg_bundle *b, struct params *p)
{
	const struct cli_param pool[] = {
		{ &run_section, &p->run }, { &ssd_section, &p->ssd },
		{ &ndp_train_section, &p->train }, { &ndp_section, &p->ndp },
		{ &ihp_section, &p->host },
	};
	cli_bundle_cmd(b, "train", pool, ND_ARRAY_LEN(pool));   /* sections: cli/registry.c */
}

enum { WHERE_STORAGE, WHERE_HOST };

static int run_one(const struct params *p, int where, const struct wl_dataset *tr,
		   const struct wl_dataset *te, int progress, struct ndp_result *r,
		   struct nd_err *err)
{
	if (where == WHERE_HOST) {
		struct ihp_run_opts o = {
			.train = &p->train, .host = &p->host, .ssd = &p->ssd,
			.train_set = tr, .test_set = te, .seed = p->run.seed, .progress = progress,
		};
		return ihp_train(&o, r, err);
	}
	struct ndp_run_opts o = {
		.train = &p->train, .ndp = &p->ndp, .ssd = &p->ssd,
		.train_set = tr, .test_set = te, .seed = p->run.seed, .progress = progress,
	};
	return ndp_train(&o, r, err);
}

static int plot_single(const char *dir, const struct ndp_result *r, double target,
		       struct nd_err *err)
{
	char script[2048];
	snprintf(script, sizeof script,
		 "set datafile separator ','\n"
		 "set terminal pngcairo size 900,560 noenhanced\n"
		 "set output 'accuracy_vs_time.png'\n"
		 "set title 'ndpsim train: %s, %s, %s, %d channels'\n"
		 "set xlabel 'simulated time (s)'\nset ylabel 'test accuracy'\n"
		 "set grid\nset key bottom right\nset yrange [0:1]\n"
		 "plot 'curve.csv' using 1:3 skip 1 with linespoints lw 2 title 'accuracy', "
		 "%g with lines dt 2 title 'target'\n",
		 r->where, r->algo, r->model, r->channels, target);
	int rc = rep_gnuplot(dir, "accuracy_vs_time", script, err);
	return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------------ grid */

struct point {
	struct params p;
	int where;
	int part;              /* 0: accuracy vs time, 1: storage vs host */
	int variant;           /* host variant (part 1) */
	double mem_ratio;
	struct ndp_result r;
	struct nd_err err;
	int rc;
};

static int set_all(struct params *p, const char *const *sets, int n, struct nd_err *err)
{
	struct cfg_bundle b;
	bundle(&b, p);
	for (int i = 0; i < n; i++)
		if (cfg_set(&b, sets[i], err))
			return -EINVAL;
	return cfg_validate(&b, err);
}

/* Appends the strings of JSON array `arr` (path names it in errors). */
static int json_sets(const cJSON *arr, const char *path, const char **sets, int *n,
		     struct nd_err *err)
{
	if (!arr)
		return 0;
	if (!cJSON_IsArray(arr))
		return nd_errf(err, -EINVAL, "%s: expected an array of \"key=value\" strings", path);
	const cJSON *it;
	cJSON_ArrayForEach(it, arr) {
		if (!cJSON_IsString(it) || !strchr(it->valuestring, '='))
			return nd_errf(err, -EINVAL, "%s: expected \"key=value\" strings", path);
		if (*n >= 60)
			return nd_errf(err, -EINVAL, "%s: too many settings", path);
		sets[(*n)++] = it->valuestring;
	}
	return 0;
}

static int json_nums(const cJSON *arr, const char *path, double *v, int max, int *n,
		     struct nd_err *err)
{
	*n = 0;
	if (!cJSON_IsArray(arr))
		return nd_errf(err, -EINVAL, "%s: expected an array of numbers", path);
	const cJSON *it;
	cJSON_ArrayForEach(it, arr) {
		if (!cJSON_IsNumber(it) || *n >= max)
			return nd_errf(err, -EINVAL, "%s: expected at most %d numbers", path, max);
		v[(*n)++] = it->valuedouble;
	}
	return *n ? 0 : nd_errf(err, -EINVAL, "%s: empty", path);
}

/* Fraction of the data set read from the SSD in the epochs after the
 * first: smallest and largest (NaN with a single epoch). */
static double reread_min(const struct ndp_result *r)
{
	double mn = (double)NAN;
	for (int e = 1; e < r->epochs; e++) {
		double f = (double)r->epoch_read_bytes[e] / (double)r->data_bytes;
		if (isnan(mn) || f < mn)
			mn = f;
	}
	return mn;
}

static double reread_max(const struct ndp_result *r)
{
	double mx = (double)NAN;
	for (int e = 1; e < r->epochs; e++) {
		double f = (double)r->epoch_read_bytes[e] / (double)r->data_bytes;
		if (isnan(mx) || f > mx)
			mx = f;
	}
	return mx;
}

static int write_grid(const char *dir, struct point *pt, int npt, const struct cfg_bundle *b,
		      uint64_t seed, const char **algos, int nalgo, const double *chans, int nch,
		      const double *ratios, int nrat, const char *const *vnames, int nvar,
		      double target, FILE *out, struct nd_err *err)
{
	int rc;
	/* Part 1: accuracy against time, and a per-run summary. */
	struct rep_csv *cv = rep_csv_new("algo,channels,t_s,epochs,accuracy,energy_j");
	struct rep_csv *sm = rep_csv_new("algo,channels,epoch1_s,time_s,final_accuracy,"
					 "time_to_target_s,energy_to_target_j,energy_j,"
					 "unit_utilization,master_utilization");
	cJSON *metrics = cJSON_CreateObject();
	cJSON *ja = cJSON_AddArrayToObject(metrics, "accuracy_vs_time");
	if (out)
		fprintf(out, "accuracy vs time (in storage):\n"
			"  %-9s %4s %10s %10s %9s %12s %12s %6s %6s\n", "algo", "ch", "epoch1 s",
			"total s", "final %", "target s", "target J", "unit", "master");
	for (int i = 0; i < npt; i++) {
		const struct ndp_result *r = &pt[i].r;
		if (pt[i].part != 0)
			continue;
		for (int k = 0; k < r->npt; k++)
			rep_csv_row(cv, "%s,%d,%.9f,%.6f,%.6f,%.9g", r->algo, r->channels,
				    (double)r->pt[k].t_ns * 1e-9, r->pt[k].epochs, r->pt[k].acc,
				    r->pt[k].energy_j);
		double e1 = (double)r->epoch_end_ns[0] * 1e-9;
		rep_csv_row(sm, "%s,%d,%.9f,%.9f,%.6f,%.9f,%.9g,%.9g,%.4f,%.4f", r->algo,
			    r->channels, e1, (double)r->t_end_ns * 1e-9, r->final_acc,
			    r->target_reached ? (double)r->t_target_ns * 1e-9 : (double)NAN,
			    r->target_reached ? r->e_target_j : (double)NAN, en_total_j(&r->led),
			    r->unit_util, r->master_util);
		cJSON_AddItemToArray(ja, ndp_result_metrics(r));
		if (out) {
			char ts[32] = "-", tj[32] = "-";
			if (r->target_reached) {
				snprintf(ts, sizeof ts, "%.4f", (double)r->t_target_ns * 1e-9);
				snprintf(tj, sizeof tj, "%.4f", r->e_target_j);
			}
			fprintf(out, "  %-9s %4d %10.4f %10.4f %9.2f %12s %12s %5.1f%% %5.1f%%\n",
				r->algo, r->channels, e1, (double)r->t_end_ns * 1e-9,
				100 * r->final_acc, ts, tj, 100 * r->unit_util, 100 * r->master_util);
		}
	}
	if ((rc = rep_csv_write(cv, dir, "accuracy_vs_time.csv", err)) ||
	    (rc = rep_csv_write(sm, dir, "grid_summary.csv", err))) {
		rep_csv_free(cv);
		rep_csv_free(sm);
		cJSON_Delete(metrics);
		return rc;
	}
	rep_csv_free(cv);
	rep_csv_free(sm);

	/* One panel per channel count, one line per algorithm. */
	char script[8192];
	int len = snprintf(script, sizeof script,
			   "set datafile separator ','\n"
			   "set terminal pngcairo size %d,520 noenhanced\n"
			   "set output 'accuracy_vs_time.png'\n"
			   "set multiplot layout 1,%d title 'In-storage training: test accuracy vs "
			   "simulated time'\n"
			   "set grid\nset key bottom right\nset yrange [0.5:0.9]\n"
			   "set xlabel 'simulated time (s)'\nset ylabel 'test accuracy'\n",
			   420 * nch, nch);
	for (int c = 0; c < nch && len < (int)sizeof script - 600; c++) {
		len += snprintf(script + len, sizeof script - (size_t)len,
				"set title '%d channels'\nplot ", (int)chans[c]);
		for (int a = 0; a < nalgo; a++)
			len += snprintf(script + len, sizeof script - (size_t)len,
					"'accuracy_vs_time.csv' using ((strcol(1) eq '%s' && $2 == %d) ? $3 : "
					"1/0):5 skip 1 with lines lw 2 title '%s', ",
					algos[a], (int)chans[c], algos[a]);
		len += snprintf(script + len, sizeof script - (size_t)len,
				"%g with lines dt 2 lc 'gray' title 'target'\n", target);
	}
	snprintf(script + len, sizeof script - (size_t)len, "unset multiplot\n");
	if ((rc = rep_gnuplot(dir, "accuracy_vs_time", script, err)) < 0) {
		cJSON_Delete(metrics);
		return rc;
	}

	/* Part 2: storage vs host at each host page-cache size, per host variant. */
	const struct point *isp = NULL;
	for (int i = 0; i < npt; i++)
		if (pt[i].part == 1 && pt[i].where == WHERE_STORAGE)
			isp = &pt[i];
	if (isp) {
		struct rep_csv *vc = rep_csv_new("where,variant,mem_ratio,time_to_target_s,"
						 "energy_to_target_j,final_accuracy,time_s,energy_j,"
						 "host_link_bytes,reread_min,reread_max,host_over_storage");
		struct rep_csv *cc = rep_csv_new("where,variant,mem_ratio,t_s,accuracy,energy_j");
		cJSON *jv = cJSON_AddArrayToObject(metrics, "storage_vs_host");
		cJSON *jx = cJSON_AddArrayToObject(metrics, "crossover");
		const struct ndp_result *ri = &isp->r;
		double target2 = isp->p.train.target_acc;
		if (out)
			fprintf(out, "\nstorage vs host (storage: %s, %d channels; data set %.1f MB; "
				"target %.1f %%):\n  storage reaches it at %.4f s, %.4f J\n", ri->algo,
				ri->channels, (double)ri->data_bytes * 1e-6, 100 * target2,
				ri->target_reached ? (double)ri->t_target_ns * 1e-9 : (double)NAN,
				ri->target_reached ? ri->e_target_j : (double)NAN);
		rep_csv_row(vc, "storage,,,%.9f,%.9g,%.6f,%.9f,%.9g,%llu,,,",
			    ri->target_reached ? (double)ri->t_target_ns * 1e-9 : (double)NAN,
			    ri->target_reached ? ri->e_target_j : (double)NAN, ri->final_acc,
			    (double)ri->t_end_ns * 1e-9, en_total_j(&ri->led),
			    (unsigned long long)ri->host_link_bytes);
		for (int k = 0; k < ri->npt; k++)
			rep_csv_row(cc, "storage,,,%.9f,%.6f,%.9g", (double)ri->pt[k].t_ns * 1e-9,
				    ri->pt[k].acc, ri->pt[k].energy_j);
		cJSON_AddItemToArray(jv, ndp_result_metrics(ri));
		for (int v = 0; v < nvar; v++) {
			double prev_ratio = 0, prev_speed = 0;
			int have_prev = 0;
			char crossover[512] = "";
			if (out)
				fprintf(out, "  host \"%s\":\n", vnames[v]);
			for (int i = 0; i < npt; i++) {
				const struct point *q = &pt[i];
				const struct ndp_result *r = &q->r;
				if (q->part != 1 || q->where != WHERE_HOST || q->variant != v)
					continue;
				double ratio = q->mem_ratio;
				char verdict[320];
				double speed;
				if (r->target_reached && ri->target_reached) {
					double th = (double)r->t_target_ns, ts = (double)ri->t_target_ns;
					speed = th / ts;   /* > 1: storage faster */
					snprintf(verdict, sizeof verdict,
						 "%s faster by %.2fx (host %.4f s / %.4f J; energy host/storage "
						 "%.1fx)", speed >= 1 ? "storage" : "host",
						 speed >= 1 ? speed : 1 / speed, th * 1e-9, r->e_target_j,
						 r->e_target_j / ri->e_target_j);
				} else if (ri->target_reached) {
					speed = (double)INFINITY;
					snprintf(verdict, sizeof verdict, "storage: only storage reached the target");
				} else if (r->target_reached) {
					speed = 0;
					snprintf(verdict, sizeof verdict, "host: only the host reached the target");
				} else {
					speed = (double)NAN;
					snprintf(verdict, sizeof verdict, "neither side reached the target");
				}
				rep_csv_row(vc, "host,%s,%g,%.9f,%.9g,%.6f,%.9f,%.9g,%llu,%.4f,%.4f,%.6f",
					    vnames[v], ratio,
					    r->target_reached ? (double)r->t_target_ns * 1e-9 : (double)NAN,
					    r->target_reached ? r->e_target_j : (double)NAN, r->final_acc,
					    (double)r->t_end_ns * 1e-9, en_total_j(&r->led),
					    (unsigned long long)r->host_link_bytes, reread_min(r),
					    reread_max(r), speed);
				for (int k = 0; k < r->npt; k++)
					rep_csv_row(cc, "host,%s,%g,%.9f,%.6f,%.9g", vnames[v], ratio,
						    (double)r->pt[k].t_ns * 1e-9, r->pt[k].acc,
						    r->pt[k].energy_j);
				cJSON *o = ndp_result_metrics(r);
				cJSON_AddStringToObject(o, "variant", vnames[v]);
				rep_add_dbl(o, "host_memory_ratio", ratio);
				cJSON_AddStringToObject(o, "verdict", verdict);
				rep_add_dbl(o, "host_over_storage_time_ratio", isfinite(speed) ? speed : -1);
				cJSON_AddItemToArray(jv, o);
				if (out && r->epochs > 1)
					fprintf(out, "    memory %5.2fx data set: %s; re-reads %.0f-%.0f %% "
						"of the data set per epoch after the first\n", ratio, verdict,
						100 * reread_min(r), 100 * reread_max(r));
				else if (out)
					fprintf(out, "    memory %5.2fx data set: %s\n", ratio, verdict);
				if (have_prev && !isnan(speed) && !isnan(prev_speed) &&
				    (prev_speed >= 1) != (speed >= 1) && !crossover[0]) {
					double x = ratio;
					if (isfinite(speed) && isfinite(prev_speed) && speed != prev_speed)
						x = prev_ratio + (1 - prev_speed) * (ratio - prev_ratio) /
								 (speed - prev_speed);
					snprintf(crossover, sizeof crossover,
						 "host \"%s\": crossover between %gx and %gx host memory "
						 "(linear interpolation ~%.2fx): storage faster below, host above",
						 vnames[v], prev_ratio, ratio, x);
					if (prev_speed < 1)
						snprintf(crossover + strlen(crossover),
							 sizeof crossover - strlen(crossover), " (reversed)");
				}
				prev_ratio = ratio;
				prev_speed = speed;
				have_prev = 1;
			}
			if (!crossover[0])
				snprintf(crossover, sizeof crossover,
					 "host \"%s\": no crossover in the grid's host-memory range: %s is "
					 "faster at every size", vnames[v],
					 prev_speed >= 1 ? "storage" : "the host");
			cJSON_AddItemToArray(jx, cJSON_CreateString(crossover));
			if (out)
				fprintf(out, "    %s\n", crossover);
		}
		if ((rc = rep_csv_write(vc, dir, "storage_vs_host.csv", err)) ||
		    (rc = rep_csv_write(cc, dir, "storage_vs_host_curves.csv", err))) {
			rep_csv_free(vc);
			rep_csv_free(cc);
			cJSON_Delete(metrics);
			return rc;
		}
		rep_csv_free(vc);
		rep_csv_free(cc);
		len = snprintf(script, sizeof script,
			 "set datafile separator ','\n"
			 "set terminal pngcairo size 1400,540 noenhanced\n"
			 "set output 'storage_vs_host.png'\n"
			 "set multiplot layout 1,3 title 'Storage (ISP, %s, %d channels) vs host (IHP), "
			 "host page cache = ratio x data set'\n"
			 "set grid\nset logscale x 2\nset xlabel 'host page cache / data set'\n"
			 "set key bottom right\n"
			 "set title 'time to %.1f %%'\nset ylabel 'simulated time (s)'\nset yrange [0:*]\n"
			 "plot %.9f with lines lw 3 title 'storage'",
			 ri->algo, ri->channels, 100 * target2,
			 ri->target_reached ? (double)ri->t_target_ns * 1e-9 : 0);
		for (int v = 0; v < nvar && len < (int)sizeof script - 400; v++)
			len += snprintf(script + len, sizeof script - (size_t)len,
					", 'storage_vs_host.csv' using ((strcol(2) eq '%s') ? $3 : 1/0):4 "
					"skip 1 with linespoints lw 2 title 'host: %s'", vnames[v], vnames[v]);
		len += snprintf(script + len, sizeof script - (size_t)len,
				"\nset title 'energy to %.1f %%'\nset ylabel 'energy (J)'\nset logscale y 10\n"
				"set key center right\n"
				"set yrange [*:*]\nplot %.9g with lines lw 3 title 'storage'",
				100 * target2, ri->target_reached ? ri->e_target_j : 0);
		for (int v = 0; v < nvar && len < (int)sizeof script - 400; v++)
			len += snprintf(script + len, sizeof script - (size_t)len,
					", 'storage_vs_host.csv' using ((strcol(2) eq '%s') ? $3 : 1/0):5 "
					"skip 1 with linespoints lw 2 title 'host: %s'", vnames[v], vnames[v]);
		len += snprintf(script + len, sizeof script - (size_t)len,
				"\nunset logscale\nset title 'test accuracy vs time (host at %g and %gx)'\n"
				"set xlabel 'simulated time (s)'\nset ylabel 'test accuracy'\n"
				"set yrange [0.5:0.9]\nset key bottom right\n"
				"plot 'storage_vs_host_curves.csv' using ((strcol(1) eq 'storage') ? $4 : "
				"1/0):5 skip 1 with lines lw 3 title 'storage'",
				ratios[0], ratios[nrat - 1]);
		for (int v = 0; v < nvar && len < (int)sizeof script - 400; v++)
			for (int e = 0; e < 2; e++)
				len += snprintf(script + len, sizeof script - (size_t)len,
						", 'storage_vs_host_curves.csv' using ((strcol(2) eq '%s' && "
						"abs($3 - %g) < 1e-9) ? $4 : 1/0):5 skip 1 with lines "
						"title 'host %s %gx'", vnames[v], ratios[e ? nrat - 1 : 0],
						vnames[v], ratios[e ? nrat - 1 : 0]);
		snprintf(script + len, sizeof script - (size_t)len, "\nunset multiplot\n");
		if ((rc = rep_gnuplot(dir, "storage_vs_host", script, err)) < 0) {
			cJSON_Delete(metrics);
			return rc;
		}
	}
	cJSON *rep = rep_new(b, seed, metrics);
	rc = rep_write_json(dir, "report.json", rep, err);
	cJSON_Delete(rep);
	return rc;
}

static int cmd_grid(const char *grid_path, const struct cli_common *c)
{
	struct nd_err err = { 0 };
	struct rep_outdir od = { .lock_fd = -1 };
	struct params base;
	struct cfg_bundle b;
	bundle(&b, &base);
	cfg_defaults(&b);
	int rc = 0;
	if (c->config_path && (rc = cfg_load_file(&b, c->config_path, &err)))
		return cli_error(&err);
	char *text = NULL;
	/* the same cap as the sweep's grid reader: a grid is a few lines */
	if ((rc = nd_read_file(grid_path, SWEEP_GRID_MAX_BYTES, &text, NULL, &err)))
		return cli_error(&err);
	cJSON *doc = cJSON_Parse(text);
	free(text);
	if (!doc)
		return nd_errf(&err, -EINVAL, "%s: not valid JSON", grid_path), cli_error(&err);

	const char *algos[8];
	double chans[16], ratios[16];
	int nalgo = 0, nch = 0, nrat = 0;
	const char *sets1[64], *sets2[64];
	int n1 = 0, n2 = 0;
	const char *isp_algo = "sync";
	int isp_ch = 8;
	enum { MAX_VAR = 8 };
	const char *vnames[MAX_VAR] = { "default" };
	const char *vsets[MAX_VAR][64];
	int nvs[MAX_VAR] = { 0 }, nvar = 1;
	struct point *pt = NULL;
	int npt = 0;
	struct wl_dataset tr = { 0 }, te = { 0 };

	const cJSON *cfgj = cJSON_GetObjectItemCaseSensitive(doc, "config");
	if (cfgj && (rc = cfg_apply_json(&b, cfgj, grid_path, &err)))
		goto fail;
	for (int i = 0; i < c->nsets; i++)
		if ((rc = cfg_set(&b, c->sets[i], &err)))
			goto fail;
	if (c->seed_given) {
		char s[64];
		snprintf(s, sizeof s, "seed=%llu", (unsigned long long)c->seed);
		if ((rc = cfg_set(&b, s, &err)))
			goto fail;
	}
	if ((rc = cfg_validate(&b, &err)))
		goto fail;
	const cJSON *av = cJSON_GetObjectItemCaseSensitive(doc, "accuracy_vs_time");
	const cJSON *vh = cJSON_GetObjectItemCaseSensitive(doc, "storage_vs_host");
	if (!av || !vh) {
		rc = nd_errf(&err, -EINVAL, "%s: needs objects \"accuracy_vs_time\" and "
			     "\"storage_vs_host\"", grid_path);
		goto fail;
	}
	const cJSON *aa = cJSON_GetObjectItemCaseSensitive(av, "algos"), *it;
	if (!cJSON_IsArray(aa)) {
		rc = nd_errf(&err, -EINVAL, "%s: accuracy_vs_time.algos: expected an array", grid_path);
		goto fail;
	}
	cJSON_ArrayForEach(it, aa) {
		int ok = cJSON_IsString(it) && nalgo < 8;
		for (int k = 0; ok && ndp_algo_names[k]; k++)
			if (!strcmp(it->valuestring, ndp_algo_names[k]))
				ok = 2;
		if (ok != 2) {
			rc = nd_errf(&err, -EINVAL, "%s: accuracy_vs_time.algos: expected names among "
				     "sync, downpour, easgd", grid_path);
			goto fail;
		}
		algos[nalgo++] = it->valuestring;
	}
	if ((rc = json_nums(cJSON_GetObjectItemCaseSensitive(av, "channels"),
			    "accuracy_vs_time.channels", chans, 16, &nch, &err)) ||
	    (rc = json_sets(cJSON_GetObjectItemCaseSensitive(av, "set"), "accuracy_vs_time.set",
			    sets1, &n1, &err)) ||
	    (rc = json_nums(cJSON_GetObjectItemCaseSensitive(vh, "host_memory_ratios"),
			    "storage_vs_host.host_memory_ratios", ratios, 16, &nrat, &err)) ||
	    (rc = json_sets(cJSON_GetObjectItemCaseSensitive(vh, "set"), "storage_vs_host.set",
			    sets2, &n2, &err)))
		goto fail;
	const cJSON *ia = cJSON_GetObjectItemCaseSensitive(vh, "storage_algo");
	const cJSON *ic = cJSON_GetObjectItemCaseSensitive(vh, "storage_channels");
	if (cJSON_IsString(ia))
		isp_algo = ia->valuestring;
	if (cJSON_IsNumber(ic))
		isp_ch = ic->valueint;
	/* Host variants: [{"name": ..., "set": [...]}, ...]; default one. */
	const cJSON *hv = cJSON_GetObjectItemCaseSensitive(vh, "host_variants");
	if (hv) {
		if (!cJSON_IsArray(hv) || cJSON_GetArraySize(hv) < 1 ||
		    cJSON_GetArraySize(hv) > MAX_VAR) {
			rc = nd_errf(&err, -EINVAL, "%s: storage_vs_host.host_variants: expected 1..%d "
				     "objects {\"name\", \"set\"}", grid_path, MAX_VAR);
			goto fail;
		}
		nvar = 0;
		cJSON_ArrayForEach(it, hv) {
			const cJSON *nm = cJSON_GetObjectItemCaseSensitive(it, "name");
			if (!cJSON_IsString(nm) || !nm->valuestring[0] || strchr(nm->valuestring, '\'') ||
			    strchr(nm->valuestring, ',')) {
				rc = nd_errf(&err, -EINVAL, "%s: storage_vs_host.host_variants[%d].name: "
					     "expected a name without quotes or commas", grid_path, nvar);
				goto fail;
			}
			vnames[nvar] = nm->valuestring;
			nvs[nvar] = 0;
			if ((rc = json_sets(cJSON_GetObjectItemCaseSensitive(it, "set"),
					    "storage_vs_host.host_variants[].set", vsets[nvar],
					    &nvs[nvar], &err)))
				goto fail;
			nvar++;
		}
	}

	npt = nalgo * nch + 1 + nvar * nrat;
	pt = xcalloc((size_t)npt, sizeof *pt);
	int k = 0;
	char buf[3][64];
	for (int a = 0; a < nalgo; a++) {
		for (int ch = 0; ch < nch; ch++, k++) {
			pt[k].p = base;
			pt[k].part = 0;
			pt[k].where = WHERE_STORAGE;
			snprintf(buf[0], sizeof buf[0], "ndp.algo=%s", algos[a]);
			snprintf(buf[1], sizeof buf[1], "ssd.channels=%d", (int)chans[ch]);
			sets1[n1] = buf[0];
			sets1[n1 + 1] = buf[1];
			if ((rc = set_all(&pt[k].p, sets1, n1 + 2, &err)))
				goto fail;
		}
	}
	for (int i = 0; i < 1 + nvar * nrat; i++, k++) {
		const char *sets[140];
		int ns = 0;
		pt[k].p = base;
		pt[k].part = 1;
		pt[k].where = i == 0 ? WHERE_STORAGE : WHERE_HOST;
		pt[k].variant = i ? (i - 1) / nrat : 0;
		pt[k].mem_ratio = i ? ratios[(i - 1) % nrat] : 0;
		for (int j = 0; j < n2; j++)
			sets[ns++] = sets2[j];
		snprintf(buf[0], sizeof buf[0], "ndp.algo=%s", isp_algo);
		snprintf(buf[1], sizeof buf[1], "ssd.channels=%d", isp_ch);
		snprintf(buf[2], sizeof buf[2], "host.page_cache_ratio=%.17g", pt[k].mem_ratio);
		sets[ns++] = buf[0];
		sets[ns++] = buf[1];
		if (i) {
			for (int j = 0; j < nvs[pt[k].variant]; j++)
				sets[ns++] = vsets[pt[k].variant][j];
			sets[ns++] = buf[2];
		}
		if ((rc = set_all(&pt[k].p, sets, ns, &err)))
			goto fail;
	}
	if ((rc = ndp_load_data(&base.train, &tr, &te, &err)))
		goto fail;
	const char *final = c->out_dir ? c->out_dir : "results/ispml";
	/* staged beside the named directory and swapped in whole (core/outdir.h) */
	if ((rc = rep_outdir_begin(&od, final, &err)))
		goto fail;
	const char *out = od.stage;
	cli_apply_run(&base.run);
	if (!c->quiet)
		fprintf(stderr, "ndpsim train --grid: %d runs\n", npt);
	double wall0 = nd_wall_s();
	/* Runs are independent; each one's numbers do not depend on how many
	 * run at once. */
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1)
#endif
	for (int i = 0; i < npt; i++) {
		pt[i].rc = run_one(&pt[i].p, pt[i].where, &tr, &te, 0, &pt[i].r, &pt[i].err);
		if (!c->quiet) {
#ifdef _OPENMP
#pragma omp critical
#endif
			fprintf(stderr, "  done: %s %s %d ch%s%s (%.1f s wall)\n", pt[i].r.where,
				pt[i].r.algo, pt[i].r.channels, pt[i].part ? ", storage vs host" : "",
				pt[i].where == WHERE_HOST ? (pt[i].variant ? ", variant" : ", default host") : "",
				pt[i].r.wall_s);
		}
	}
	for (int i = 0; i < npt; i++) {
		if (pt[i].rc) {
			rc = pt[i].rc;
			err = pt[i].err;
			goto fail;
		}
	}
	/* The summary goes to stdout and to summary.txt. */
	char *text_buf = NULL;
	size_t text_len = 0;
	FILE *mem = open_memstream(&text_buf, &text_len);
	if (!mem) {
		rc = nd_errf(&err, -errno, "open_memstream: %s", strerror(errno));
		goto fail;
	}
	rc = write_grid(out, pt, npt, &b, base.run.seed, algos, nalgo, chans, nch, ratios, nrat,
			vnames, nvar, base.train.target_acc, mem, &err);
	fclose(mem);
	if (!rc) {
		char path[4300];
		snprintf(path, sizeof path, "%s/summary.txt", out);
		rc = rep_write_atomic(path, text_buf, text_len, &err);
	}
	if (!rc)
		rc = rep_outdir_commit(&od, &err);
	if (!rc && !c->quiet) {
		fwrite(text_buf, 1, text_len, stdout);
		printf("  results in %s/ (%.1f s wall)\n", final, nd_wall_s() - wall0);
	}
	free(text_buf);
fail:
	rep_outdir_abort(&od);
	for (int i = 0; i < npt; i++)
		ndp_result_free(&pt[i].r);
	free(pt);
	wl_dataset_free(&tr);
	wl_dataset_free(&te);
	cJSON_Delete(doc);
	return rc ? cli_error(&err) : 0;
}

int cmd_train(int argc, char **argv)
{
	struct cli_common c = { 0 };
	struct nd_err err = { 0 };
	const char *where_s = NULL, *algo = NULL, *grid = NULL;
	for (int i = 1; i < argc;) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			printf(help, cli_common_help);
			return 0;
		}
		if (!strcmp(a, "--where") || !strcmp(a, "--algo") || !strcmp(a, "--grid")) {
			if (i + 1 >= argc)
				return cli_usage_error("train", "%s needs a value", a);
			if (!strcmp(a, "--where"))
				where_s = argv[i + 1];
			else if (!strcmp(a, "--algo"))
				algo = argv[i + 1];
			else
				grid = argv[i + 1];
			i += 2;
			continue;
		}
		int k = cli_common_opt(&c, argc, argv, &i, &err);
		if (k < 0)
			return cli_usage_error("train", "%s", err.msg);
		if (k == 0)
			return cli_usage_error("train", "unknown option '%s'", a);
	}
	int where = WHERE_STORAGE;
	if (where_s) {
		if (!strcmp(where_s, "host"))
			where = WHERE_HOST;
		else if (strcmp(where_s, "storage"))
			return cli_usage_error("train", "--where: '%s' is not storage or host", where_s);
	}
	char algo_set[64];
	if (algo) {
		int ok = 0;
		for (int k = 0; ndp_algo_names[k]; k++)
			ok |= !strcmp(algo, ndp_algo_names[k]);
		if (!ok)
			return cli_usage_error("train", "--algo: '%s' is not sync, downpour or easgd", algo);
		if (where == WHERE_HOST)
			return cli_usage_error("train", "--algo applies to --where storage");
		if (c.nsets >= CLI_MAX_SETS)
			return cli_usage_error("train", "too many --set options");
		snprintf(algo_set, sizeof algo_set, "ndp.algo=%s", algo);
		c.sets[c.nsets++] = algo_set;
	}
	if (grid) {
		if (where_s || algo)
			return cli_usage_error("train", "--grid runs both sides and every algorithm; "
					       "drop --where / --algo");
		return cmd_grid(grid, &c);
	}

	struct params p;
	struct cfg_bundle b;
	bundle(&b, &p);
	if (cli_load(&b, &c, &err))
		return cli_error(&err);
	cli_apply_run(&p.run);
	const char *out = c.out_dir ? c.out_dir : "results/train";
	struct wl_dataset tr, te;
	if (ndp_load_data(&p.train, &tr, &te, &err))
		return cli_error(&err);
	/* staged beside out and swapped in whole (core/outdir.h) */
	struct rep_outdir od;
	if (rep_outdir_begin(&od, out, &err)) {
		wl_dataset_free(&tr);
		wl_dataset_free(&te);
		return cli_error(&err);
	}
	struct ndp_result r;
	int rc = run_one(&p, where, &tr, &te, !c.quiet, &r, &err);
	wl_dataset_free(&tr);
	wl_dataset_free(&te);
	if (rc) {
		ndp_result_free(&r);
		rep_outdir_abort(&od);
		return cli_error(&err);
	}
	cJSON *rep = rep_new(&b, p.run.seed, ndp_result_metrics(&r));
	rc = rep_write_json(od.stage, "report.json", rep, &err);
	cJSON_Delete(rep);
	if (!rc)
		rc = ndp_result_write_curve(&r, od.stage, "curve.csv", &err);
	if (!rc)
		rc = plot_single(od.stage, &r, p.train.target_acc, &err);
	if (!rc)
		rc = rep_outdir_commit(&od, &err);
	else
		rep_outdir_abort(&od);
	if (!c.quiet && !rc) {
		printf("ndpsim train — %s, seed %llu\n", where == WHERE_HOST ? "host" : "storage",
		       (unsigned long long)p.run.seed);
		ndp_result_print(&r, stdout);
		printf("  results in %s/ (report.json has the resolved config)\n", out);
	}
	ndp_result_free(&r);
	return rc ? cli_error(&err) : 0;
}
