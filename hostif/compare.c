#include "hostif/compare.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analog/xbar.h"
#include "core/progress.h"
#include "core/report.h"
#include "core/util.h"
#include "hostif/host.h"
#include "hostif/ndram.h"
#include "ndp/ndp.h"
#include "ssdsim/run.h"
#include "workloads/bnn.h"

#define CFG_T struct hif_compare_params
static const char *const which_names[] = { "both", "train", "infer", NULL };

static const struct cfg_key compare_keys[] = {
	CFG_KEY_ENUM("workloads", which, HIF_BOTH, which_names,
	  "which comparisons `ndpsim run` makes: training, inference, or both"),
	CFG_KEY_BOOL("xbar_noise", xbar_noise, 1,
	  "the crossbar row switches on device-to-device variation and per-pulse read noise at the "
	  "xbar.noise.*.sigma values (the xbar section alone defaults to an ideal array)"),
	CFG_KEY_INT("infer_runs", infer_runs, "passes", 1, 1, 1000000000,
	  "passes over the test set that share one programming of the crossbar's weights: the row "
	  "carries 1/infer_runs of the write-verify energy (assumption: 1, the chip is programmed for "
	  "this pass alone; the full programming cost is in the row's note)"),
	CFG_KEY_STR("cache_dir", cache_dir, "-", "results/cache",
	  "where trained BNN models are kept, keyed by the hash of their config and seed"),
	CFG_KEY_INT("repeats", repeats, "seeds", 1, 1, 100,
	  "training rows run with this many data-order seeds (seed, seed+1, ...); the table shows the "
	  "first seed's run and a 95 % interval of the final accuracy over all of them (1 = no interval)"),
	CFG_KEY_STR("sensitivity_keys", sens_keys, "-", "",
	  "keys `ndpsim run --sensitivity` varies at x0.5 and x2, comma-separated full paths "
	  "(\"\" = the built-in list of hostif/sensitivity.c, printed with the table)"),
	CFG_END
};

const struct cfg_section hif_compare_section = {
	"compare", compare_keys, sizeof(struct hif_compare_params), NULL
};

/* The platforms, in the order of the table.  A new platform is one file
 * and one line here. */
static const struct hif_platform *const platforms[] = {
	&hif_plat_host, &hif_plat_storage, &hif_plat_ndram, &hif_plat_xbar,
};

static void note(const struct hif_ctx *x, const char *what)
{
	if (x->progress)
		fprintf(stderr, "ndpsim run: %s\n", what);
}

static int get_bnn(const struct hif_ctx *x, struct bnn_model **m, struct nd_err *err)
{
	/* Cache key: the bnn section and the seed. */
	struct cfg_bundle kb = { 0 };
	cfg_bundle_add(&kb, &bnn_section, (void *)x->bnn);
	uint64_t h = cfg_hash(&kb) ^ (x->run->seed * 0x9e3779b97f4a7c15ULL);
	char path[4096];
	snprintf(path, sizeof path, "%s/bnn-%016llx.ndbnn", x->cmp->cache_dir,
		 (unsigned long long)h);
	struct stat st;
	if (!stat(path, &st) && !bnn_model_load(path, m, err)) {
		note(x, "binarized network loaded from the cache");
		return 0;
	}
	note(x, "training the binarized network (kept in compare.cache_dir for next time)");
	int rc = bnn_train(x->bnn, x->run->seed, x->tr, x->te, NULL, NULL, m, err);
	if (rc)
		return rc;
	if (rep_mkdir_p(x->cmp->cache_dir, err) == 0)
		bnn_model_save(*m, path, err);   /* a cache miss next time is fine */
	nd_err_clear(err);
	return 0;
}

int hif_platform_count(void)
{
	return (int)ND_ARRAY_LEN(platforms);
}

const struct hif_platform *hif_platform_at(int i)
{
	ND_ASSERT(i >= 0 && i < (int)ND_ARRAY_LEN(platforms));
	return platforms[i];
}

void hif_result_copy(struct hif_result *dst, const struct hif_result *src)
{
	*dst = *src;
	dst->curve = NULL;
	if (src->ncurve) {
		dst->curve = xmalloc((size_t)src->ncurve * sizeof *dst->curve);
		memcpy(dst->curve, src->curve, (size_t)src->ncurve * sizeof *dst->curve);
	}
}

/* Training with compare.repeats data-order seeds: the first is the row,
 * the others only give the accuracy interval. */
static int train_repeats(const struct hif_ctx *x, const struct hif_platform *p,
			 struct hif_result *r, struct nd_err *err)
{
	int n = x->cmp->repeats;
	double s = r->acc, ss = r->acc * r->acc;
	for (int k = 1; k < n; k++) {
		struct run_params rp = *x->run;
		rp.seed = x->run->seed + (uint64_t)k;
		struct hif_ctx y = *x;
		y.run = &rp;
		y.progress = 0;
		y.memo = NULL;
		struct hif_result t;
		hif_result_init(&t);
		int rc = p->train(&y, &t, err);
		double a = t.acc;
		hif_result_free(&t);
		if (rc)
			return rc;
		s += a;
		ss += a * a;
	}
	double mean = s / n, var = n > 1 ? (ss - s * s / n) / (n - 1) : 0;
	hif_acc_interval(r, n, mean, var > 0 ? sqrt(var) : 0);
	return 0;
}

static int run_workload(const struct hif_ctx *x, const struct hif_compare_opts *o,
			struct hif_compare *c, int wl, struct nd_err *err)
{
	const char *wname = wl == HIF_WL_TRAIN ? "train" : "infer";
	for (size_t i = 0; i < ND_ARRAY_LEN(platforms); i++) {
		const struct hif_platform *p = platforms[i];
		ND_ASSERT(c->n < (int)ND_ARRAY_LEN(c->row));
		struct hif_row *row = &c->row[c->n++];
		snprintf(row->workload, sizeof row->workload, "%s", wname);
		row->platform = p->name;
		struct hif_result *r = &row->res;
		if (o->base && !(o->rerun & (1u << (8 * wl + (int)i)))) {
			/* Not re-run: nothing it reads changed but the boundary. */
			const struct hif_row *br = NULL;
			for (int j = 0; j < o->base->n && !br; j++)
				if (!strcmp(o->base->row[j].workload, wname) &&
				    o->base->row[j].platform == p->name)
					br = &o->base->row[j];
			ND_ASSERT(br);
			hif_result_copy(r, &br->res);
			if (r->supported)
				hif_result_finish(x, r);
			continue;
		}
		hif_result_init(r);
		const char *why = p->unsupported(x, wl);
		int (*fn)(const struct hif_ctx *, struct hif_result *, struct nd_err *) =
			wl == HIF_WL_TRAIN ? p->train : p->infer;
		if (why || !fn) {
			r->supported = 0;
			snprintf(r->note, sizeof r->note, "%s", why ? why : "not supported");
			continue;
		}
		char what[96];
		snprintf(what, sizeof what, "%s on %s", row->workload, p->name);
		note(x, what);
		int rc = fn(x, r, err);
		if (!rc && wl == HIF_WL_TRAIN && x->cmp->repeats > 1 && !o->no_repeats)
			rc = train_repeats(x, p, r, err);
		if (rc)
			return rc;
		hif_result_finish(x, r);
	}
	return 0;
}

static void ctx_of(const struct cfg_bundle *b, struct hif_ctx *x)
{
	memset(x, 0, sizeof *x);
	x->run = cfg_bundle_params(b, &run_section);
	x->ssd = cfg_bundle_params(b, &ssd_section);
	x->train = cfg_bundle_params(b, &ndp_train_section);
	x->ndp = cfg_bundle_params(b, &ndp_section);
	x->host = cfg_bundle_params(b, &ihp_section);
	x->ndram = cfg_bundle_params(b, &ndram_section);
	x->bnn = cfg_bundle_params(b, &bnn_section);
	x->xbar = cfg_bundle_params(b, &xbar_section);
	x->cmp = cfg_bundle_params(b, &hif_compare_section);
	ND_ASSERT(x->run && x->ssd && x->train && x->ndp && x->host && x->ndram && x->bnn && x->xbar &&
		  x->cmp);
}

int hif_data_load(const struct cfg_bundle *b, int progress, struct hif_data *d,
		  struct nd_err *err)
{
	memset(d, 0, sizeof *d);
	struct hif_ctx x;
	ctx_of(b, &x);
	x.progress = progress;
	int rc = ndp_load_data(x.train, &d->tr, &d->te, err);
	if (rc)
		return rc;
	if (x.cmp->which != HIF_TRAIN) {
		x.tr = &d->tr;
		x.te = &d->te;
		rc = get_bnn(&x, &d->bnn, err);
	}
	if (rc)
		hif_data_free(d);
	return rc;
}

void hif_data_free(struct hif_data *d)
{
	bnn_model_free(d->bnn);
	d->bnn = NULL;
	wl_dataset_free(&d->tr);
	wl_dataset_free(&d->te);
}

int hif_compare_run_on(const struct cfg_bundle *b, const struct hif_data *d,
		       const struct hif_compare_opts *o, struct hif_compare *c,
		       struct nd_err *err)
{
	memset(c, 0, sizeof *c);
	struct hif_ctx x;
	ctx_of(b, &x);
	x.progress = o->progress;
	x.memo = o->memo;
	c->train_target = x.train->target_acc;
	x.tr = &d->tr;
	x.te = &d->te;
	int rc = 0;
	if (x.cmp->which != HIF_INFER)
		rc = run_workload(&x, o, c, HIF_WL_TRAIN, err);
	if (!rc && x.cmp->which != HIF_TRAIN) {
		ND_ASSERT(d->bnn);
		x.bnn_model = d->bnn;
		x.n_infer = x.xbar->test_n ? x.xbar->test_n : (long)d->te.n;
		if (x.n_infer > (long)d->te.n)
			x.n_infer = (long)d->te.n;
		rc = run_workload(&x, o, c, HIF_WL_INFER, err);
	}
	return rc;
}

int hif_compare_run(const struct cfg_bundle *b, int progress, struct hif_compare *c,
		    struct nd_err *err)
{
	memset(c, 0, sizeof *c);
	struct hif_data d;
	int rc = hif_data_load(b, progress, &d, err);
	if (rc)
		return rc;
	struct hif_compare_opts o = { .progress = progress };
	rc = hif_compare_run_on(b, &d, &o, c, err);
	hif_data_free(&d);
	return rc;
}

void hif_compare_free(struct hif_compare *c)
{
	for (int i = 0; i < c->n; i++)
		hif_result_free(&c->row[i].res);
	c->n = 0;
}

/* ------------------------------------------------------------- output */

/* The headline time of a row: to the target (train) or the whole test set. */
static double row_time(const struct hif_row *w)
{
	return !strcmp(w->workload, "train") ? w->res.t_target_s : w->res.wall_s;
}

static int row_qualifies(const struct hif_row *w)
{
	return w->res.supported && (strcmp(w->workload, "train") || w->res.target_reached);
}

/* Headline energies: to the target (train) or the whole run (infer). */
static double row_sys(const struct hif_row *w)
{
	return !strcmp(w->workload, "train") ? w->res.sys_target_j : en_total_j(&w->res.sys);
}

static double row_marg(const struct hif_row *w)
{
	return !strcmp(w->workload, "train") ? w->res.marg_target_j : en_total_j(&w->res.marg);
}

double hif_row_figure(const struct hif_row *w, int view)
{
	if (!row_qualifies(w))
		return (double)NAN;
	return view == 0 ? row_time(w) : view == 1 ? row_sys(w) : row_marg(w);
}

const struct hif_row *hif_compare_winner(const struct hif_compare *c, const char *wl, int view,
					 double *lead)
{
	const struct hif_row *best = NULL, *second = NULL;
	for (int i = 0; i < c->n; i++) {
		const struct hif_row *w = &c->row[i];
		if (strcmp(w->workload, wl) || !row_qualifies(w))
			continue;
		double f = hif_row_figure(w, view);
		if (!best || f < hif_row_figure(best, view)) {
			second = best;
			best = w;
		} else if (!second || f < hif_row_figure(second, view)) {
			second = w;
		}
	}
	if (lead)
		*lead = !best ? (double)NAN : !second ? (double)INFINITY
			: hif_row_figure(second, view) / hif_row_figure(best, view);
	return best;
}

static cJSON *view_json(const struct hif_result *r, const struct energy_ledger *l)
{
	cJSON *o = cJSON_CreateObject();
	rep_add_dbl(o, "total", en_total_j(l));
	cJSON *bc = cJSON_AddObjectToObject(o, "by_component");
	double at[HIF_AT_N] = { 0 };
	for (int k = 0; k < l->n; k++) {
		if (!en_is_first_of_component(l, k))
			continue;
		double j = en_component_j(l, l->e[k].component);
		rep_add_dbl(bc, l->e[k].component, j);
		int w = hif_where_of(r, l->e[k].component);
		ND_ASSERT(w >= 0 && w < HIF_AT_N);   /* every component is tagged */
		at[w] += j;
	}
	cJSON *bw = cJSON_AddObjectToObject(o, "by_where");
	for (int w = 0; w < HIF_AT_N; w++)
		rep_add_dbl(bw, hif_where_names[w], at[w]);
	return o;
}

struct verdict {
	const struct hif_row *t, *s, *m;
};

static void verdict_of(const struct hif_compare *c, const char *wl, struct verdict *v)
{
	memset(v, 0, sizeof *v);
	for (int i = 0; i < c->n; i++) {
		const struct hif_row *w = &c->row[i];
		if (strcmp(w->workload, wl) || !row_qualifies(w))
			continue;
		if (!v->t || row_time(w) < row_time(v->t))
			v->t = w;
		if (!v->s || row_sys(w) < row_sys(v->s))
			v->s = w;
		if (!v->m || row_marg(w) < row_marg(v->m))
			v->m = w;
	}
}

struct cJSON *hif_compare_metrics(const struct hif_compare *c)
{
	cJSON *m = cJSON_CreateObject();
	rep_add_dbl(m, "target_accuracy", c->train_target);
	cJSON *plat = cJSON_AddArrayToObject(m, "platforms");
	for (int i = 0; i < c->n; i++) {
		const struct hif_row *w = &c->row[i];
		const struct hif_result *r = &w->res;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "workload", w->workload);
		cJSON_AddStringToObject(o, "platform", w->platform);
		cJSON_AddBoolToObject(o, "supported", r->supported);
		cJSON_AddStringToObject(o, "note", r->note);
		if (r->supported) {
			cJSON_AddStringToObject(o, "format", r->format);
			rep_add_dbl(o, "accuracy", r->acc);
			if (r->acc_sd > 0)
				rep_add_dbl(o, "accuracy_sd", r->acc_sd);
			if (r->acc_n > 1) {
				cJSON *ci = cJSON_AddObjectToObject(o, "accuracy_ci95");
				cJSON_AddStringToObject(ci, "over", !strcmp(w->workload, "train")
							? "data-order seeds (compare.repeats)"
							: "crossbar chip instances (xbar.mc.chips)");
				rep_add_u64(ci, "n", (uint64_t)r->acc_n);
				rep_add_dbl(ci, "mean", r->acc_mean);
				rep_add_dbl(ci, "lo", r->acc_lo);
				rep_add_dbl(ci, "hi", r->acc_hi);
			}
			rep_add_dbl(o, "wall_s", r->sys_wall_s);
			if (!strcmp(w->workload, "train")) {
				cJSON_AddBoolToObject(o, "target_reached", r->target_reached);
				if (r->target_reached) {
					rep_add_dbl(o, "time_to_target_s", r->t_target_s);
					rep_add_dbl(o, "system_energy_to_target_j", r->sys_target_j);
					rep_add_dbl(o, "marginal_energy_to_target_j", r->marg_target_j);
				}
			}
			rep_add_dbl(o, "idle_power_w", r->idle_w);
			cJSON_AddItemToObject(o, "system_energy_j", view_json(r, &r->sys));
			cJSON_AddItemToObject(o, "marginal_energy_j", view_json(r, &r->marg));
			cJSON *bm = cJSON_AddObjectToObject(o, "bytes_moved");
			rep_add_u64(bm, "flash_to_controller", r->b_flash);
			rep_add_u64(bm, "ssd_to_host", r->b_link);
			rep_add_u64(bm, "host_dram", r->b_host_dram);
			rep_add_u64(bm, "in_stack", r->b_stack);
			rep_add_u64(bm, "inside_ssd", r->b_internal);
			cJSON_AddItemToObject(o, "energy_j", en_to_json(&r->sys));
		}
		cJSON_AddItemToArray(plat, o);
	}
	cJSON *vd = cJSON_AddObjectToObject(m, "verdict");
	const char *wls[2] = { "train", "infer" };
	for (int k = 0; k < 2; k++) {
		struct verdict v;
		verdict_of(c, wls[k], &v);
		if (!v.t)
			continue;
		cJSON *o = cJSON_AddObjectToObject(vd, wls[k]);
		cJSON_AddStringToObject(o, "fastest", v.t->platform);
		cJSON_AddStringToObject(o, "least_system_energy", v.s->platform);
		cJSON_AddStringToObject(o, "least_marginal_energy", v.m->platform);
		cJSON_AddBoolToObject(o, "energy_views_agree", v.s == v.m);
	}
	return m;
}

static void fmt_time(char *buf, size_t n, double s)
{
	if (s >= 1)
		snprintf(buf, n, "%.2f s", s);
	else if (s >= 1e-3)
		snprintf(buf, n, "%.2f ms", s * 1e3);
	else
		snprintf(buf, n, "%.1f us", s * 1e6);
}

void hif_compare_print(const struct hif_compare *c, FILE *out)
{
	const char *wl[2] = { "train", "infer" };
	for (int w = 0; w < 2; w++) {
		int any = 0;
		for (int i = 0; i < c->n; i++)
			any |= !strcmp(c->row[i].workload, wl[w]);
		if (!any)
			continue;
		if (w == 0)
			fprintf(out, "\ntrain: logistic regression / MLP on Fashion-MNIST to %.1f %% test accuracy\n"
				"  (time and energy to the target; system = whole machine on, marginal = above its idle draw)\n",
				100 * c->train_target);
		else
			fprintf(out, "\ninfer: binarized network on the test set (whole test set)\n");
		fprintf(out, "  %-24s %11s %12s %12s %9s %11s  %s\n", "platform", w ? "time" : "time to tgt",
			"system", "marginal", "accuracy", "SSD->host", "format");
		for (int i = 0; i < c->n; i++) {
			const struct hif_row *row = &c->row[i];
			const struct hif_result *r = &row->res;
			if (strcmp(row->workload, wl[w]))
				continue;
			if (!r->supported) {
				fprintf(out, "  %-24s %s\n", row->platform, r->note);
				continue;
			}
			char t[32];
			if (row_qualifies(row))
				fmt_time(t, sizeof t, row_time(row));
			else
				snprintf(t, sizeof t, "not reached");
			if (row_qualifies(row))
				fprintf(out, "  %-24s %11s %10.4g J %10.4g J %8.2f%% %8.1f MB  %s\n", row->platform, t,
					row_sys(row), row_marg(row), 100 * r->acc, (double)r->b_link * 1e-6,
					r->format);
			else
				fprintf(out, "  %-24s %11s %12s %12s %8.2f%% %8.1f MB  %s\n", row->platform, t,
					"-", "-", 100 * r->acc, (double)r->b_link * 1e-6, r->format);
		}
		for (int i = 0; i < c->n; i++) {
			const struct hif_result *r = &c->row[i].res;
			if (strcmp(c->row[i].workload, wl[w]) || !r->supported || r->acc_n < 2)
				continue;
			fprintf(out, "  %-24s accuracy 95 %% interval %.2f-%.2f %% (mean %.2f %%, %d %s)\n",
				c->row[i].platform, 100 * r->acc_lo, 100 * r->acc_hi, 100 * r->acc_mean,
				r->acc_n, w ? "chip instances" : "data-order seeds");
		}
		struct verdict v;
		verdict_of(c, wl[w], &v);
		if (v.t) {
			fprintf(out, "  -> fastest: %s; least system energy: %s; least marginal energy: %s",
				v.t->platform, v.s->platform, v.m->platform);
			fprintf(out, "%s\n", v.s == v.m ? " (the energy views agree)"
						       : " (the energy views DISAGREE)");
		}
	}
}

static void slug(char *dst, size_t n, const char *platform)
{
	size_t k = 0;
	for (const char *p = platform; *p && k + 1 < n; p++)
		dst[k++] = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ? *p
			   : (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : '-';
	dst[k] = '\0';
	/* squeeze dashes */
	char *w = dst;
	for (char *r = dst; *r; r++)
		if (!(*r == '-' && w > dst && w[-1] == '-'))
			*w++ = *r;
	*w = '\0';
}

int hif_compare_write_files(const struct hif_compare *c, const char *dir, struct nd_err *err)
{
	int rc;
	struct rep_csv *p = rep_csv_new("workload,platform,supported,format,accuracy,target_reached,"
					"wall_s,time_to_target_s,system_energy_j,marginal_energy_j,"
					"system_energy_to_target_j,marginal_energy_to_target_j,idle_power_w,"
					"ssd_to_host_bytes,flash_bytes,in_ssd_bytes,in_stack_bytes,host_dram_bytes");
	struct rep_csv *e = rep_csv_new("workload,platform,view,component,where,energy_j");
	for (int i = 0; i < c->n; i++) {
		const struct hif_row *row = &c->row[i];
		const struct hif_result *r = &row->res;
		char fmt[80];
		snprintf(fmt, sizeof fmt, "%s", r->format);
		for (char *q = fmt; *q; q++)
			if (*q == ',')
				*q = ';';
		rep_csv_row(p, "%s,%s,%d,%s,%.6f,%d,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%llu,%llu,%llu,%llu,%llu",
			    row->workload, row->platform, r->supported, fmt, r->acc, r->target_reached,
			    r->sys_wall_s, r->t_target_s, en_total_j(&r->sys), en_total_j(&r->marg),
			    r->sys_target_j, r->marg_target_j, r->idle_w,
			    (unsigned long long)r->b_link, (unsigned long long)r->b_flash,
			    (unsigned long long)r->b_internal, (unsigned long long)r->b_stack,
			    (unsigned long long)r->b_host_dram);
		for (int view = 0; view < 2; view++) {
			const struct energy_ledger *l = view ? &r->marg : &r->sys;
			for (int k = 0; k < l->n; k++)
				if (en_is_first_of_component(l, k))
					rep_csv_row(e, "%s,%s,%s,%s,%s,%.9g", row->workload, row->platform,
						    view ? "marginal" : "system", l->e[k].component,
						    hif_where_names[hif_where_of(r, l->e[k].component)],
						    en_component_j(l, l->e[k].component));
		}
		if (r->ncurve) {
			char name[96], s[48];
			slug(s, sizeof s, row->platform);
			snprintf(name, sizeof name, "curve_%s.csv", s);
			struct rep_csv *cv = rep_csv_new("t_s,epochs,accuracy,loss,energy_j");
			for (int k = 0; k < r->ncurve; k++)
				rep_csv_row(cv, "%.9g,%.6f,%.6f,%.6f,%.9g", (double)r->curve[k].t_ns * 1e-9,
					    r->curve[k].epochs, r->curve[k].acc, r->curve[k].loss,
					    r->curve[k].energy_j);
			rc = rep_csv_write(cv, dir, name, err);
			rep_csv_free(cv);
			if (rc)
				goto out;
		}
	}
	if ((rc = rep_csv_write(p, dir, "platforms.csv", err)) ||
	    (rc = rep_csv_write(e, dir, "energy.csv", err)))
		goto out;

	/* Figures: energy by component (stacked), time, accuracy vs time. The
	 * bar data are written here so the gnuplot script stays plain. */
	char script[4096];
	size_t used = (size_t)snprintf(script, sizeof script,
		"set terminal pngcairo size 1000,560 noenhanced\n"
		"set style fill solid 0.8 border -1\nset boxwidth 0.6\nset grid ytics\n"
		"set key outside right\nset xtics rotate by -15\n");
	const char *wls[2] = { "train", "infer" };
	for (int w = 0; w < 2 && !rc; w++) {
		char comps[16][32];
		int nc = 0, np = 0;
		for (int i = 0; i < c->n; i++) {
			const struct hif_row *row = &c->row[i];
			const struct energy_ledger *l = &row->res.sys;
			if (strcmp(row->workload, wls[w]) || !row_qualifies(row))
				continue;
			np++;
			for (int k = 0; k < l->n && nc < 16; k++) {
				int seen = 0;
				for (int j = 0; j < nc; j++)
					seen |= !strcmp(comps[j], l->e[k].component);
				if (!seen)
					snprintf(comps[nc++], sizeof comps[0], "%s", l->e[k].component);
			}
		}
		if (!np)
			continue;
		char hdr[1024] = "platform";
		for (int j = 0; j < nc; j++) {
			size_t u = strlen(hdr);
			snprintf(hdr + u, sizeof hdr - u, " %s", comps[j]);
		}
		struct rep_csv *dat = rep_csv_new(hdr);
		struct rep_csv *tdat = rep_csv_new("platform time_s system_energy_j marginal_energy_j");
		for (int i = 0; i < c->n; i++) {
			const struct hif_row *rw = &c->row[i];
			if (strcmp(rw->workload, wls[w]) || !row_qualifies(rw))
				continue;
			char row[2048], name[64];
			snprintf(name, sizeof name, "%s", rw->platform);
			for (char *q = name; *q; q++)
				if (*q == ' ')
					*q = '_';
			size_t u = (size_t)snprintf(row, sizeof row, "%s", name);
			for (int j = 0; j < nc; j++)
				u += (size_t)snprintf(row + u, sizeof row - u, " %.9g",
						      en_component_j(&rw->res.sys, comps[j]));
			rep_csv_row(dat, "%s", row);
			rep_csv_row(tdat, "%s %.9g %.9g %.9g", name, row_time(rw), row_sys(rw),
				    fmax(row_marg(rw), 1e-12));
		}
		char fn[64];
		snprintf(fn, sizeof fn, "energy_%s.dat", wls[w]);
		rc = rep_csv_write(dat, dir, fn, err);
		snprintf(fn, sizeof fn, "time_%s.dat", wls[w]);
		if (!rc)
			rc = rep_csv_write(tdat, dir, fn, err);
		rep_csv_free(dat);
		rep_csv_free(tdat);
		used += (size_t)snprintf(script + used, sizeof script - used,
			"set output 'energy_%s.png'\nset title 'ndpsim run: system energy by component (%s, whole run)'\n"
			"set ylabel 'energy (J)'\nset style data histograms\nset style histogram rowstacked\n"
			"plot for [k=2:%d] 'energy_%s.dat' using k:xtic(1) title columnheader(k)\n"
			"set output 'time_%s.png'\nset title 'ndpsim run: %s time (%s)'\nset ylabel 'seconds'\n"
			"set logscale y\nset style histogram clustered\n"
			"plot 'time_%s.dat' using 2:xtic(1) title '%s'\n"
			"set output 'energy_total_%s.png'\nset title 'ndpsim run: energy (%s, %s; log scale)'\n"
			"set ylabel 'joules'\nplot 'time_%s.dat' using 3:xtic(1) title 'system', '' using 4 title 'marginal'\nunset logscale y\n",
			wls[w], wls[w], nc + 1, wls[w], wls[w], wls[w],
			w ? "whole test set" : "to the target accuracy", wls[w],
			w ? "inference" : "time to target",
			wls[w], wls[w], w ? "whole test set" : "to the target accuracy", wls[w]);
	}
	int have_curves = 0;
	for (int i = 0; i < c->n; i++)
		have_curves |= c->row[i].res.ncurve > 0;
	if (!rc && have_curves) {
		used += (size_t)snprintf(script + used, sizeof script - used,
			"set datafile separator ','\nset style data linespoints\nunset xtics\nset xtics\n"
			"set output 'accuracy_vs_time.png'\n"
			"set title 'ndpsim run: test accuracy vs simulated time (training)'\n"
			"set xlabel 'simulated time (s)'\nset ylabel 'test accuracy'\nset logscale x\n"
			"set key bottom right\nset yrange [0.5:*]\nplot ");
		int k = 0;
		for (int i = 0; i < c->n; i++) {
			if (!c->row[i].res.ncurve)
				continue;
			char sl[48];
			slug(sl, sizeof sl, c->row[i].platform);
			used += (size_t)snprintf(script + used, sizeof script - used,
				"%s'curve_%s.csv' using 1:3 lw 2 title '%s'", k++ ? ", " : "", sl,
				c->row[i].platform);
		}
		used += (size_t)snprintf(script + used, sizeof script - used, "\n");
	}
	if (!rc) {
		rc = rep_gnuplot(dir, "figures", script, err);
		rc = rc < 0 ? rc : 0;
	}
out:
	rep_csv_free(p);
	rep_csv_free(e);
	return rc;
}
