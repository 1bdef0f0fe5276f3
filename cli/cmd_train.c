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
	"       ndpsim train --grid FILE [-j N] [--config FILE] [--set KEY=VALUE]... [--out DIR]\n"
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
	"               (default DIR results/ispml).  Every run is a point of the sweep engine\n"
	"               ('ndpsim sweep') in DIR/sweep/ (results.jsonl, points/<hash>/): run\n"
	"               the same command again after a kill and only the missing runs run;\n"
	"               under MPI (make MPI=1; mpirun) the runs spread over the ranks\n"
	"  -j N         --grid: runs at once on this machine (default: online CPUs)\n"
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

/*
 * `train --grid FILE` is a grid of `train` points run by the sweep engine
 * (cli/sweep.h, the one behind `ndpsim sweep`): every run is a point of
 * DIR/sweep/ (results.jsonl, points/<hash>/report.json), so a killed grid
 * resumes where it stopped, runs under MPI (`make MPI=1`, mpirun) and with
 * -j workers.  Part 1 is algos x channels in storage; part 2 is one storage
 * run and, per host variant, one host run (`--where host`) per host
 * page-cache ratio.  When every point is in results.jsonl the CSVs, figures,
 * summary.txt and report.json are built from the points' metrics into a
 * staged set that replaces DIR as a whole, DIR/sweep/ moved along.
 */

struct point {
	int where;
	int part;              /* 0: accuracy vs time, 1: storage vs host */
	int variant;           /* host variant (part 1) */
	double mem_ratio;
	const cJSON *m;        /* the point's metrics (in results.jsonl) */
	double target;         /* its train.target_acc */
};

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

/* Metrics accessors: a number (NaN when absent or null), a string. */
static double mnum(const cJSON *m, const char *path)
{
	const cJSON *v = sweep_json_path(m, path);
	return cJSON_IsNumber(v) ? v->valuedouble : (double)NAN;
}

static const char *mstr(const cJSON *m, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, key);
	return cJSON_IsString(v) ? v->valuestring : "?";
}

static int mreached(const cJSON *m)
{
	return cJSON_IsTrue(sweep_json_path(m, "target.reached"));
}

/* time / energy to target, NaN when not reached */
static double mt_target(const cJSON *m)
{
	return mreached(m) ? mnum(m, "target.time_s") : (double)NAN;
}

static double me_target(const cJSON *m)
{
	return mreached(m) ? mnum(m, "target.energy_j") : (double)NAN;
}

/* Fraction of the data set read from the SSD in the epochs after the
 * first: smallest (lo) or largest (NaN with a single epoch). */
static double reread(const cJSON *m, int hi)
{
	double v = (double)NAN, data = mnum(m, "data_bytes");
	const cJSON *ep = cJSON_GetObjectItemCaseSensitive(m, "epochs");
	int n = cJSON_GetArraySize(ep);
	for (int e = 1; e < n; e++) {
		double f = mnum(cJSON_GetArrayItem(ep, e), "read_bytes") / data;
		if (isnan(v) || (hi ? f > v : f < v))
			v = f;
	}
	return v;
}

static cJSON *dup_exact(const cJSON *m)
{
	cJSON *d = cJSON_Duplicate(m, 1);
	sweep_json_exact(d);
	return d;
}

static int mepochs(const cJSON *m)
{
	return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m, "epochs"));
}

/* gnuplot dies on a panel whose every point is undefined (no run reached
 * the target: tiny grids do that): such a panel gets a note instead. */
static int append_empty_panel(char *script, size_t cap, int len, const char *what)
{
	return len + snprintf(script + len, cap - (size_t)len,
			      "set label 1 '%s' at graph 0.5, 0.5 center\n"
			      "unset logscale y\nset yrange [0:1]\nplot -1 notitle\nunset label 1\n",
			      what);
}

/* One panel of storage_vs_host.png: the storage side as a horizontal line at
 * storage_val (if it reached the target), the host variants from column col
 * of storage_vs_host.csv (if any reached it); an empty panel if none did. */
static int append_side_panel(char *script, size_t cap, int len, int any, int storage_reached,
			     const char *storage_plot, int col, const char *const *vnames, int nvar,
			     int host_reached)
{
	if (!any)
		return append_empty_panel(script, cap, len, "no run reached the target");
	const char *sep = "plot ";
	if (storage_reached) {
		len += snprintf(script + len, cap - (size_t)len, "plot %s with lines lw 3 title 'storage'",
				storage_plot);
		sep = ", ";
	}
	for (int v = 0; host_reached && v < nvar && len < (int)cap - 400; v++) {
		len += snprintf(script + len, cap - (size_t)len,
				"%s'storage_vs_host.csv' using ((strcol(2) eq '%s') ? $3 : 1/0):%d "
				"skip 1 with linespoints lw 2 title 'host: %s'", sep, vnames[v], col,
				vnames[v]);
		sep = ", ";
	}
	return len + snprintf(script + len, cap - (size_t)len, "\n");
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
		const cJSON *m = pt[i].m;
		if (pt[i].part != 0)
			continue;
		const char *algo = mstr(m, "algo");
		int ch = (int)mnum(m, "channels");
		const cJSON *c;
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(m, "curve"))
			rep_csv_row(cv, "%s,%d,%.9f,%.6f,%.6f,%.9g", algo, ch, mnum(c, "t_s"),
				    mnum(c, "epochs"), mnum(c, "accuracy"), mnum(c, "energy_j"));
		double e1 = mnum(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m, "epochs"), 0),
				 "end_s");
		rep_csv_row(sm, "%s,%d,%.9f,%.9f,%.6f,%.9f,%.9g,%.9g,%.4f,%.4f", algo, ch, e1,
			    mnum(m, "time_s"), mnum(m, "final_accuracy"), mt_target(m), me_target(m),
			    mnum(m, "energy_j.total"), mnum(m, "compute_utilization"),
			    mnum(m, "master_utilization"));
		cJSON_AddItemToArray(ja, dup_exact(m));
		if (out) {
			char ts[32] = "-", tj[32] = "-";
			if (mreached(m)) {
				snprintf(ts, sizeof ts, "%.4f", mt_target(m));
				snprintf(tj, sizeof tj, "%.4f", me_target(m));
			}
			fprintf(out, "  %-9s %4d %10.4f %10.4f %9.2f %12s %12s %5.1f%% %5.1f%%\n",
				algo, ch, e1, mnum(m, "time_s"), 100 * mnum(m, "final_accuracy"), ts, tj,
				100 * mnum(m, "compute_utilization"), 100 * mnum(m, "master_utilization"));
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
		const cJSON *ri = isp->m;
		double target2 = isp->target;
		if (out)
			fprintf(out, "\nstorage vs host (storage: %s, %d channels; data set %.1f MB; "
				"target %.1f %%):\n  storage reaches it at %.4f s, %.4f J\n", mstr(ri, "algo"),
				(int)mnum(ri, "channels"), mnum(ri, "data_bytes") * 1e-6, 100 * target2,
				mt_target(ri), me_target(ri));
		rep_csv_row(vc, "storage,,,%.9f,%.9g,%.6f,%.9f,%.9g,%.0f,,,", mt_target(ri),
			    me_target(ri), mnum(ri, "final_accuracy"), mnum(ri, "time_s"),
			    mnum(ri, "energy_j.total"), mnum(ri, "bytes.host_link"));
		const cJSON *c;
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(ri, "curve"))
			rep_csv_row(cc, "storage,,,%.9f,%.6f,%.9g", mnum(c, "t_s"), mnum(c, "accuracy"),
				    mnum(c, "energy_j"));
		cJSON_AddItemToArray(jv, dup_exact(ri));
		int host_reached = 0;
		for (int v = 0; v < nvar; v++) {
			double prev_ratio = 0, prev_speed = 0;
			int have_prev = 0;
			char crossover[512] = "";
			if (out)
				fprintf(out, "  host \"%s\":\n", vnames[v]);
			for (int i = 0; i < npt; i++) {
				const struct point *q = &pt[i];
				const cJSON *r = q->m;
				if (q->part != 1 || q->where != WHERE_HOST || q->variant != v)
					continue;
				double ratio = q->mem_ratio;
				char verdict[320];
				double speed;
				host_reached |= mreached(r);
				if (mreached(r) && mreached(ri)) {
					/* integer nanoseconds, as the runs kept them */
					double th = round(mt_target(r) * 1e9), ts = round(mt_target(ri) * 1e9);
					speed = th / ts;   /* > 1: storage faster */
					snprintf(verdict, sizeof verdict,
						 "%s faster by %.2fx (host %.4f s / %.4f J; energy host/storage "
						 "%.1fx)", speed >= 1 ? "storage" : "host",
						 speed >= 1 ? speed : 1 / speed, th * 1e-9, me_target(r),
						 me_target(r) / me_target(ri));
				} else if (mreached(ri)) {
					speed = HUGE_VAL;
					snprintf(verdict, sizeof verdict, "storage: only storage reached the target");
				} else if (mreached(r)) {
					speed = 0;
					snprintf(verdict, sizeof verdict, "host: only the host reached the target");
				} else {
					speed = (double)NAN;
					snprintf(verdict, sizeof verdict, "neither side reached the target");
				}
				rep_csv_row(vc, "host,%s,%g,%.9f,%.9g,%.6f,%.9f,%.9g,%.0f,%.4f,%.4f,%.6f",
					    vnames[v], ratio, mt_target(r), me_target(r),
					    mnum(r, "final_accuracy"), mnum(r, "time_s"),
					    mnum(r, "energy_j.total"), mnum(r, "bytes.host_link"),
					    reread(r, 0), reread(r, 1), speed);
				cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r, "curve"))
					rep_csv_row(cc, "host,%s,%g,%.9f,%.6f,%.9g", vnames[v], ratio,
						    mnum(c, "t_s"), mnum(c, "accuracy"), mnum(c, "energy_j"));
				cJSON *o = dup_exact(r);
				cJSON_AddStringToObject(o, "variant", vnames[v]);
				rep_add_dbl(o, "host_memory_ratio", ratio);
				cJSON_AddStringToObject(o, "verdict", verdict);
				rep_add_dbl(o, "host_over_storage_time_ratio", isfinite(speed) ? speed : -1);
				cJSON_AddItemToArray(jv, o);
				if (out && mepochs(r) > 1)
					fprintf(out, "    memory %5.2fx data set: %s; re-reads %.0f-%.0f %% "
						"of the data set per epoch after the first\n", ratio, verdict,
						100 * reread(r, 0), 100 * reread(r, 1));
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
		int any = mreached(ri) || host_reached;
		len = snprintf(script, sizeof script,
			 "set datafile separator ','\n"
			 "set terminal pngcairo size 1400,540 noenhanced\n"
			 "set output 'storage_vs_host.png'\n"
			 "set multiplot layout 1,3 title 'Storage (ISP, %s, %d channels) vs host (IHP), "
			 "host page cache = ratio x data set'\n"
			 "set grid\nset logscale x 2\nset xlabel 'host page cache / data set'\n"
			 "set key bottom right\n"
			 "set title 'time to %.1f %%'\nset ylabel 'simulated time (s)'\nset yrange [0:*]\n",
			 mstr(ri, "algo"), (int)mnum(ri, "channels"), 100 * target2);
		/* a series whose every point is undefined stops gnuplot: leave out
		 * the sides that never reached the target */
		char sv[64];
		snprintf(sv, sizeof sv, "%.9f", mt_target(ri));
		len = append_side_panel(script, sizeof script, len, any, mreached(ri), sv, 4, vnames, nvar,
					host_reached);
		len += snprintf(script + len, sizeof script - (size_t)len,
				"set title 'energy to %.1f %%'\nset ylabel 'energy (J)'\n"
				"set key center right\nset yrange [*:*]\n%s", 100 * target2,
				any ? "set logscale y 10\n" : "");
		snprintf(sv, sizeof sv, "%.9g", me_target(ri));
		len = append_side_panel(script, sizeof script, len, any, mreached(ri), sv, 5, vnames, nvar,
					host_reached);
		len += snprintf(script + len, sizeof script - (size_t)len,
				"unset label 1\nunset logscale\nset title 'test accuracy vs time (host at %g and %gx)'\n"
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

/* "key=value" (a set list of the grid file) as the JSON value of a point
 * entry, typed by the key's table row; where names the list in errors. */
static int add_setting(cJSON *ent, const struct cfg_bundle *b, const char *src,
		       const char *where, const char *kv, struct nd_err *err)
{
	char key[256];
	const char *eq = strchr(kv, '=');
	if (!eq || (size_t)(eq - kv) >= sizeof key)
		return nd_errf(err, -EINVAL, "%s: %s: \"%s\": expected key=value", src, where, kv);
	snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
	const char *val = eq + 1;
	const struct cfg_key *k = cfg_find(b, key, NULL);
	if (!k)
		return nd_errf(err, -EINVAL, "%s: %s: %s: not a key of 'train' (see 'ndpsim config --for train')",
			       src, where, key);
	cJSON *v = NULL;
	switch (k->type) {
	case CFG_INT: case CFG_U64: case CFG_DBL: {
		char *end;
		double d = strtod(val, &end);
		if (end == val || *end || !isfinite(d))
			return nd_errf(err, -EINVAL, "%s: %s: %s: \"%s\" is not a number (%s)", src,
				       where, key, val, k->unit);
		v = cJSON_CreateNumber(d);
		break;
	}
	case CFG_BOOL:
		if (strcmp(val, "true") && strcmp(val, "false"))
			return nd_errf(err, -EINVAL, "%s: %s: %s: \"%s\" is not true or false", src,
				       where, key, val);
		v = cJSON_CreateBool(!strcmp(val, "true"));
		break;
	case CFG_STR: case CFG_ENUM:
		v = cJSON_CreateString(val);
		break;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(ent, key);   /* a later setting wins */
	cJSON_AddItemToObject(ent, key, v);
	return 0;
}

/* The leaves of the grid's "config" object as "section.key=value" (its
 * descriptions left out), in *sets (strings owned by the caller). */
static void flatten(const cJSON *o, const char *prefix, char ***sets, int *n)
{
	for (const cJSON *it = o ? o->child : NULL; it; it = it->next) {
		char path[512], val[CFG_STR_MAX + 32];
		snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", it->string);
		if (cJSON_IsObject(it)) {
			flatten(it, path, sets, n);
			continue;
		}
		if (!strcmp(it->string, "description") && cJSON_IsString(it))
			continue;
		sweep_fmt_scalar(it, val, sizeof val);
		size_t l = strlen(path) + strlen(val) + 2;
		*sets = xrealloc(*sets, sizeof **sets * (size_t)(*n + 1));
		(*sets)[*n] = xmalloc(l);
		snprintf((*sets)[(*n)++], l, "%s=%s", path, val);
	}
}

static int cmd_grid(const char *grid_path, const struct cli_common *c, int jobs)
{
	struct nd_err err = { 0 };
	struct rep_outdir od = { .lock_fd = -1 };
	struct cfg_bundle b;
	cli_bundle_alloc(&b, cli_cmd_find("train"));
	cfg_defaults(&b);
	int rc = 0, code = 0;
	char **fixed = NULL;
	int nfixed = 0;
	struct point *pt = NULL;
	int npt = 0;
	cJSON *doc = NULL, *gdoc = NULL;
	struct sweep_grid g = { .pts_axis = -1 };
	struct sweep_results res = { 0 };
	char *text_buf = NULL;
	sweep_mpi_init();
	int rank = sweep_mpi_rank();
	if (c->config_path && (rc = cfg_load_file(&b, c->config_path, &err)))
		goto fail;
	char *text = NULL;
	/* the same cap as the sweep's grid reader: a grid is a few lines */
	if ((rc = nd_read_file(grid_path, SWEEP_GRID_MAX_BYTES, &text, NULL, &err)))
		goto fail;
	doc = cJSON_Parse(text);
	free(text);
	if (!doc) {
		rc = nd_errf(&err, -EINVAL, "%s: not valid JSON", grid_path);
		goto fail;
	}

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

	/* fixed part of every point: the grid's "config", then --set / --seed */
	const cJSON *cfgj = cJSON_GetObjectItemCaseSensitive(doc, "config");
	if (cfgj && (rc = cfg_apply_json(&b, cfgj, grid_path, &err)))
		goto fail;
	flatten(cfgj, "", &fixed, &nfixed);
	for (int i = 0; i < c->nsets; i++) {
		fixed = xrealloc(fixed, sizeof *fixed * (size_t)(nfixed + 1));
		fixed[nfixed++] = xstrdup(c->sets[i]);
	}
	if (c->seed_given) {
		char s[64];
		snprintf(s, sizeof s, "seed=%llu", (unsigned long long)c->seed);
		fixed = xrealloc(fixed, sizeof *fixed * (size_t)(nfixed + 1));
		fixed[nfixed++] = xstrdup(s);
	}
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

	/* The points, in the order of the old in-process grid: part 1 (algo x
	 * channels), then part 2 (storage, then host per variant x ratio). */
	npt = nalgo * nch + 1 + nvar * nrat;
	pt = xcalloc((size_t)npt, sizeof *pt);
	gdoc = cJSON_CreateObject();
	cJSON_AddStringToObject(gdoc, "command", "train");
	cJSON *plist = cJSON_AddArrayToObject(gdoc, "points");
	int k = 0;
	char buf[3][64];
	for (int a = 0; a < nalgo; a++) {
		for (int ch = 0; ch < nch; ch++, k++) {
			pt[k].part = 0;
			pt[k].where = WHERE_STORAGE;
			cJSON *ent = cJSON_CreateObject();
			cJSON_AddItemToArray(plist, ent);
			for (int j = 0; j < n1; j++)
				if ((rc = add_setting(ent, &b, grid_path, "accuracy_vs_time.set", sets1[j], &err)))
					goto fail;
			snprintf(buf[0], sizeof buf[0], "ndp.algo=%s", algos[a]);
			snprintf(buf[1], sizeof buf[1], "ssd.channels=%d", (int)chans[ch]);
			if ((rc = add_setting(ent, &b, grid_path, "accuracy_vs_time", buf[0], &err)) ||
			    (rc = add_setting(ent, &b, grid_path, "accuracy_vs_time", buf[1], &err)))
				goto fail;
		}
	}
	for (int i = 0; i < 1 + nvar * nrat; i++, k++) {
		pt[k].part = 1;
		pt[k].where = i == 0 ? WHERE_STORAGE : WHERE_HOST;
		pt[k].variant = i ? (i - 1) / nrat : 0;
		pt[k].mem_ratio = i ? ratios[(i - 1) % nrat] : 0;
		cJSON *ent = cJSON_CreateObject();
		cJSON_AddItemToArray(plist, ent);
		for (int j = 0; j < n2; j++)
			if ((rc = add_setting(ent, &b, grid_path, "storage_vs_host.set", sets2[j], &err)))
				goto fail;
		snprintf(buf[0], sizeof buf[0], "ndp.algo=%s", isp_algo);
		snprintf(buf[1], sizeof buf[1], "ssd.channels=%d", isp_ch);
		if ((rc = add_setting(ent, &b, grid_path, "storage_vs_host", buf[0], &err)) ||
		    (rc = add_setting(ent, &b, grid_path, "storage_vs_host", buf[1], &err)))
			goto fail;
		if (i) {
			for (int j = 0; j < nvs[pt[k].variant]; j++)
				if ((rc = add_setting(ent, &b, grid_path, "storage_vs_host.host_variants[].set",
						      vsets[pt[k].variant][j], &err)))
					goto fail;
			snprintf(buf[2], sizeof buf[2], "host.page_cache_ratio=%.17g", pt[k].mem_ratio);
			if ((rc = add_setting(ent, &b, grid_path, "storage_vs_host", buf[2], &err)))
				goto fail;
			cJSON *args = cJSON_AddArrayToObject(ent, "args");
			cJSON_AddItemToArray(args, cJSON_CreateString("--where"));
			cJSON_AddItemToArray(args, cJSON_CreateString("host"));
		}
	}
	/* every key, value and point checked before anything runs (every rank) */
	if ((rc = sweep_grid_load_json(gdoc, grid_path, c->config_path, (const char *const *)fixed,
				       nfixed, &g, &err)))
		goto fail;
	ND_ASSERT(g.npoints == (size_t)npt);
	const struct run_params *runp = cfg_bundle_params(&g.base, &run_section);
	const struct ndp_train_params *tp = cfg_bundle_params(&g.base, &ndp_train_section);
	const char *final = c->out_dir ? c->out_dir : "results/ispml";
	char sdir[4200];
	snprintf(sdir, sizeof sdir, "%s/sweep", final);
	/* The data set is there (else every point would fail alike), and DIR is
	 * ours: the figures are staged beside it and swapped in whole
	 * (core/outdir.h) once every point is done. */
	if (rank == 0) {
		struct wl_dataset tr = { 0 }, te = { 0 };
		rc = ndp_load_data(tp, &tr, &te, &err);
		wl_dataset_free(&tr);
		wl_dataset_free(&te);
		if (!rc)
			rc = rep_outdir_begin(&od, final, &err);
	}
	if ((code = sweep_mpi_max(rc ? cli_error(&err) : 0)))
		goto out;
	if (rank == 0 && !c->quiet)
		fprintf(stderr, "ndpsim train --grid: %d runs, run by the sweep engine in %s/\n", npt,
			sdir);
	double wall0 = nd_wall_s();
	struct sweep_opts so = { .out = sdir, .config_path = c->config_path, .jobs = jobs,
				 .quiet = c->quiet, .child_close_fd = od.lock_fd };
	if ((code = sweep_engine(&g, &so)) || rank != 0)
		goto out;

	/* every point's metrics, from results.jsonl */
	char rpath[4300];
	snprintf(rpath, sizeof rpath, "%s/results.jsonl", sdir);
	if ((rc = sweep_results_read(rpath, -1, &res, &err)))
		goto fail;
	for (int i = 0; i < npt; i++) {
		long li = sweep_results_find(&res, g.pts[i].hash);
		if (li < 0) {
			rc = nd_errf(&err, -EIO, "%s: point %d (%s) is missing", rpath, i,
				     sweep_point_label(&g, (size_t)i));
			goto fail;
		}
		pt[i].m = cJSON_GetObjectItemCaseSensitive(res.line[li], "metrics");
		pt[i].target = mnum(res.line[li], "config.train.target_acc");
	}
	/* The summary goes to stdout and to summary.txt. */
	size_t text_len = 0;
	FILE *mem = open_memstream(&text_buf, &text_len);
	if (!mem) {
		rc = nd_errf(&err, -errno, "open_memstream: %s", strerror(errno));
		goto fail;
	}
	rc = write_grid(od.stage, pt, npt, &g.base, runp->seed, algos, nalgo, chans, nch, ratios,
			nrat, vnames, nvar, tp->target_acc, mem, &err);
	fclose(mem);
	if (!rc) {
		char path[4300];
		snprintf(path, sizeof path, "%s/summary.txt", od.stage);
		rc = rep_write_atomic(path, text_buf, text_len, &err);
	}
	if (rc)
		goto fail;
	/* the sweep directory moves into the new set, then the set replaces DIR */
	char moved[4300];
	snprintf(moved, sizeof moved, "%s/sweep", od.stage);
	if (rename(sdir, moved)) {
		rc = nd_errf(&err, -errno, "rename %s -> %s: %s", sdir, moved, strerror(errno));
		goto fail;
	}
	if ((rc = rep_outdir_commit(&od, &err))) {
		if (rename(moved, sdir))
			fprintf(stderr, "ndpsim: the grid's points are in %s\n", moved);
		goto fail;
	}
	if (!c->quiet) {
		fwrite(text_buf, 1, text_len, stdout);
		printf("  results in %s/ (%.1f s wall; every run: %s/sweep/results.jsonl)\n", final,
		       nd_wall_s() - wall0, final);
	}
fail:
	if (rc)
		code = cli_error(&err);
out:
	if (rank == 0)
		rep_outdir_abort(&od);
	free(text_buf);
	sweep_results_free(&res);
	sweep_grid_free(&g);
	free(pt);
	for (int i = 0; i < nfixed; i++)
		free(fixed[i]);
	free(fixed);
	cJSON_Delete(gdoc);
	cJSON_Delete(doc);
	cli_bundle_free(&b);
	code = sweep_mpi_max(code);
	sweep_mpi_fini();
	return code;
}

int cmd_train(int argc, char **argv)
{
	struct cli_common c = { 0 };
	struct nd_err err = { 0 };
	const char *where_s = NULL, *algo = NULL, *grid = NULL, *jobs_s = NULL;
	for (int i = 1; i < argc;) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			printf(help, cli_common_help);
			return 0;
		}
		if (!strcmp(a, "--where") || !strcmp(a, "--algo") || !strcmp(a, "--grid") ||
		    !strcmp(a, "-j") || !strcmp(a, "--jobs")) {
			if (i + 1 >= argc)
				return cli_usage_error("train", "%s needs a value", a);
			if (!strcmp(a, "--where"))
				where_s = argv[i + 1];
			else if (!strcmp(a, "--algo"))
				algo = argv[i + 1];
			else if (a[1] == 'j' || !strcmp(a, "--jobs"))
				jobs_s = argv[i + 1];
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
		long jobs = 0;
		if (jobs_s) {
			char *end;
			jobs = strtol(jobs_s, &end, 10);
			if (end == jobs_s || *end || jobs < 1 || jobs > 1024)
				return cli_usage_error("train", "-j: \"%s\" is not a number of jobs in [1, 1024]",
						       jobs_s);
		}
		return cmd_grid(grid, &c, (int)jobs);
	}
	if (jobs_s)
		return cli_usage_error("train", "-j applies to --grid");

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
