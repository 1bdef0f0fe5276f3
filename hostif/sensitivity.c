/*
 * sensitivity.c — one assumption at a time at x0.5 and x2: winner and lead
 * of each question under each view.  See sensitivity.h.
 */
#include "hostif/sensitivity.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "analog/xbar.h"
#include "core/report.h"
#include "core/util.h"
#include "hostif/host.h"
#include "hostif/platform.h"
#include "ndp/train.h"

static const double factors[HIF_SENS_NF] = { 0.5, 2.0 };
static const char *const views[3] = { "time", "system_energy", "marginal_energy" };
static const char *const wls[2] = { "train", "infer" };

/* The assumptions that carry most weight in the default comparison (the
 * issue's list): host power and rate, the units' and PEs' rates, PCIe,
 * page cache, drive and unit static power, the crossbar's ADC. */
static const struct builtin {
	const char *path, *what;
} builtin[] = {
	{ "host.p_idle_w", "host package idle power" },
	{ "host.p_active_w", "host package active power" },
	{ "host.gflops_lr", "host FLOP/s per core (LR step)" },
	{ "host.bnn_gops", "host BNN word-op/s per core" },
	{ "host.dram_idle_w", "host DRAM background power" },
	{ "host.page_cache_mib", "host page cache size" },
	{ "ssd.link.pcie_lanes", "PCIe bandwidth (lanes)" },
	{ "ssd.ctrl.core_w", "drive controller power per core" },
	{ "ndp.unit.macs_per_cycle", "storage unit MAC rate" },
	{ "ndp.unit.word_ops_per_cycle", "storage unit BNN word-op rate" },
	{ "ndp.unit.static_w", "storage unit static power" },
	{ "ndram.pe_util", "near-DRAM PE utilisation" },
	{ "ndram.energy.static_pj_cycle", "near-DRAM stack static energy" },
	{ "xbar.adc.e_pj", "crossbar ADC energy per conversion" },
};

/* Crossbar keys its value path does not read: prices, areas, converter
 * and programming timing (analog/xbar.c: read only by xbar_cost(),
 * xbar_area() and xbar_program_cost()). */
static int xbar_cost_only(const char *k)
{
	static const char *const pre[] = { "adc.e_pj", "adc.t_ns", "energy.", "periph.e_", "area.",
					   "program.e_write_pj", "program.t_write_ns" };
	for (size_t i = 0; i < ND_ARRAY_LEN(pre); i++)
		if (!strncmp(k, pre[i], strlen(pre[i])))
			return 1;
	return 0;
}

/* ------------------------------------------------------- bundle copies */

struct vbundle {
	struct cfg_bundle b;
};

static void vb_copy(const struct cfg_bundle *src, struct vbundle *v)
{
	memset(v, 0, sizeof *v);
	for (size_t i = 0; i < src->n; i++) {
		void *p = xmalloc(src->sec[i]->params_size);
		memcpy(p, src->params[i], src->sec[i]->params_size);
		cfg_bundle_add(&v->b, src->sec[i], p);
	}
}

static void vb_free(struct vbundle *v)
{
	for (size_t i = 0; i < v->b.n; i++)
		free(v->b.params[i]);
	v->b.n = 0;
}

static void *field(const struct cfg_bundle *b, const char *path, const struct cfg_key **k)
{
	size_t si;
	*k = cfg_find(b, path, &si);
	return *k ? (char *)b->params[si] + (*k)->off : NULL;
}

static double get_num(const struct cfg_key *k, const void *f)
{
	switch (k->type) {
	case CFG_INT: return *(const int *)f;
	case CFG_U64: return (double)*(const uint64_t *)f;
	case CFG_DBL: return *(const double *)f;
	default: return (double)NAN;
	}
}

static void set_num(const struct cfg_key *k, void *f, double v)
{
	if (k->type == CFG_INT)
		*(int *)f = (int)v;
	else if (k->type == CFG_U64)
		*(uint64_t *)f = (uint64_t)v;
	else
		*(double *)f = v;
}

/* The value the model uses: xbar.adc.e_pj = 0 means the ISAAC table at
 * xbar.adc.bits, which is what setting it reproduces. */
static double effective(const struct cfg_bundle *b, const char *path)
{
	const struct cfg_key *k;
	void *f = field(b, path, &k);
	double v = get_num(k, f);
	if (!strcmp(path, "xbar.adc.e_pj") && v <= 0) {
		const struct xbar_params *xp = cfg_bundle_params(b, &xbar_section);
		if (xp)
			v = xbar_conv_energy_j(xp, xp->adc_bits) * 1e12;
	}
	return v;
}

/* base x factor in the key's type and range. */
static double scaled(const struct cfg_key *k, double base, double f, int *clamped)
{
	double v = base * f;
	if (k->type != CFG_DBL) {
		double r = (double)llround(v);
		if (r == base && base != 0)
			r = f < 1 ? base - 1 : base + 1;
		v = r;
	}
	*clamped = 0;
	if (v < k->min) {
		v = k->min;
		*clamped = 1;
	}
	if (v > k->max) {
		v = k->max;
		*clamped = 1;
	}
	return v;
}

/* ------------------------------------------------------------ prepare */

static int add_key(const struct cfg_bundle *b, struct hif_sens *s, const char *path,
		   const char *what, struct nd_err *err)
{
	const struct cfg_key *k;
	if (!field(b, path, &k))
		return nd_errf(err, -EINVAL, "compare.sensitivity_keys: '%s' is not a config key "
			       "(ndpsim config --dump lists them)", path);
	if (k->type != CFG_INT && k->type != CFG_U64 && k->type != CFG_DBL)
		return nd_errf(err, -EINVAL, "compare.sensitivity_keys: '%s' is not numeric; only "
			       "numbers can be scaled by 0.5 and 2", path);
	if (s->nkeys >= HIF_SENS_MAX_KEYS)
		return nd_errf(err, -EINVAL, "compare.sensitivity_keys: more than %d keys",
			       HIF_SENS_MAX_KEYS);
	for (int i = 0; i < s->nkeys; i++)
		if (!strcmp(s->key[i].path, path))
			return nd_errf(err, -EINVAL, "compare.sensitivity_keys: '%s' twice", path);
	struct hif_sens_key *q = &s->key[s->nkeys++];
	memset(q, 0, sizeof *q);
	snprintf(q->path, sizeof q->path, "%s", path);
	q->what = what;
	q->base = effective(b, path);
	return 0;
}

int hif_sens_prepare(const struct cfg_bundle *b, struct hif_sens *s, struct nd_err *err)
{
	memset(s, 0, sizeof *s);
	const struct hif_compare_params *cp = cfg_bundle_params(b, &hif_compare_section);
	const struct ndp_train_params *tp = cfg_bundle_params(b, &ndp_train_section);
	ND_ASSERT(cp && tp);
	int rc = 0;
	if (!cp->sens_keys[0]) {
		for (size_t i = 0; i < ND_ARRAY_LEN(builtin) && !rc; i++) {
			const char *p = builtin[i].path;
			if (!strcmp(p, "host.gflops_lr") && tp->model == NDP_MODEL_MLP)
				rc = add_key(b, s, "host.gflops_mlp", "host FLOP/s per core (MLP step)", err);
			else
				rc = add_key(b, s, p, builtin[i].what, err);
		}
		return rc;
	}
	char buf[CFG_STR_MAX];
	snprintf(buf, sizeof buf, "%s", cp->sens_keys);
	char *save = NULL;
	for (char *t = strtok_r(buf, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ')
			t++;
		size_t n = strlen(t);
		while (n && t[n - 1] == ' ')
			t[--n] = '\0';
		if (!n)
			continue;
		const char *what = "";
		for (size_t i = 0; i < ND_ARRAY_LEN(builtin); i++)
			if (!strcmp(builtin[i].path, t))
				what = builtin[i].what;
		rc = add_key(b, s, t, what, err);
	}
	if (!rc && !s->nkeys)
		rc = nd_errf(err, -EINVAL, "compare.sensitivity_keys: no key in '%s'", cp->sens_keys);
	return rc;
}

/* ------------------------------------------------------------ points */

static int plat_index(const struct hif_platform *p)
{
	for (int i = 0; i < hif_platform_count(); i++)
		if (hif_platform_at(i) == p)
			return i;
	ND_ASSERT(0);
	return -1;
}

static unsigned bit(int wl, const struct hif_platform *p)
{
	return 1u << (8 * wl + plat_index(p));
}

static int has_prefix(const char *k, const char *const *pre, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strncmp(k, pre[i], strlen(pre[i])))
			return 1;
	return 0;
}

/* ssd keys no training value path reads: the data order of every
 * training row comes from train.*, the seed, ssd.channels and the layout
 * (geometry, map unit, multiplane, FTL), never from timings, prices,
 * the link or the power model. */
static int ssd_value_free(const char *k)
{
	static const char *const ssd_pre[] = { "link.", "ctrl.", "energy.", "power.", "nand.t_",
					       "dram.", "channel." };
	return has_prefix(k, ssd_pre, ND_ARRAY_LEN(ssd_pre));
}

/* Keys the host's training value path does not read (hostif/host.c:
 * host.order, host.batch and host.zero_skip change the steps or their
 * counts). */
static int host_value_free(const char *sec, const char *k)
{
	if (!strcmp(sec, "host"))
		return strcmp(k, "zero_skip") && strcmp(k, "order") && strcmp(k, "batch");
	return !strcmp(sec, "ssd") && ssd_value_free(k);
}

/* Keys sync in-storage training's value path does not read (ndp/isp.c:
 * the algorithm, the units' numeric format and zero skip; the Downpour /
 * EASGD keys and ndp.infer are taken as value keys to stay on the safe
 * side).  Only ndp.algo = sync is recorded at all (plat_storage.c). */
static int storage_value_free(const char *sec, const char *k)
{
	static const char *const val[] = { "algo", "unit.zero_skip", "unit.format", "unit.int_bits",
					   "unit.frac_bits", "unit.rounding", "downpour.", "easgd.",
					   "infer" };
	if (!strcmp(sec, "ndp"))
		return !has_prefix(k, val, ND_ARRAY_LEN(val));
	return !strcmp(sec, "ssd") && ssd_value_free(k);
}

/* Keys near-DRAM training's value path does not read (plat_ndram.c: the
 * stack's numeric format and zero skip). */
static int ndram_value_free(const char *sec, const char *k)
{
	static const char *const val[] = { "format", "int_bits", "frac_bits", "rounding",
					   "zero_skip" };
	if (!strcmp(sec, "ndram"))
		return !has_prefix(k, val, ND_ARRAY_LEN(val));
	return !strcmp(sec, "ssd") && ssd_value_free(k);
}

/* What a key reaches (rows_of). */
struct reach {
	unsigned rows;               /* bits as hif_compare_opts.rerun */
	int reuse_x, reuse_h, reuse_s, reuse_d;   /* crossbar, host / storage / near-DRAM training */
	int full;                    /* everything re-runs, the data reloaded */
};

/* Which rows a key reaches (see sensitivity.h), which of them may
 * re-charge from the recorded value path, or a full re-run. */
static unsigned rows_of_(const char *path, int *reuse_x, int *full)
{
	*reuse_x = *full = 0;
	const char *dot = strchr(path, '.');
	char sec[32] = "";
	if (dot && (size_t)(dot - path) < sizeof sec) {
		memcpy(sec, path, (size_t)(dot - path));
		sec[dot - path] = '\0';
	}
	const char *k = dot ? dot + 1 : path;
	unsigned ht = bit(HIF_WL_TRAIN, &hif_plat_host), hi = bit(HIF_WL_INFER, &hif_plat_host);
	unsigned st = bit(HIF_WL_TRAIN, &hif_plat_storage), si = bit(HIF_WL_INFER, &hif_plat_storage);
	unsigned dt = bit(HIF_WL_TRAIN, &hif_plat_ndram), di = bit(HIF_WL_INFER, &hif_plat_ndram);
	unsigned xb = bit(HIF_WL_INFER, &hif_plat_xbar);
	if (!strcmp(sec, "host")) {
		*reuse_x = 1;
		/* plat_host.c: the train row reads the rates of the SGD kernels,
		 * the infer row bnn_gops; the crossbar row host.dram_pj_bit. */
		if (!strncmp(k, "gflops_", 7))
			return ht;
		if (!strcmp(k, "bnn_gops"))
			return hi;
		return ht | hi | xb;
	}
	if (!strcmp(sec, "ssd")) {
		*reuse_x = 1;
		return ~0u;
	}
	if (!strcmp(sec, "ndp")) {
		/* plat_storage.c: inference reads the word datapath and the
		 * result size, training (ndp_train) the rest. */
		static const char *const inf[] = { "unit.word_ops_per_cycle", "unit.int_op_pj",
						   "unit.word_bits", "unit.acc_bits", "result_bytes" };
		if (has_prefix(k, inf, ND_ARRAY_LEN(inf)))
			return si;
		if (!strcmp(k, "unit.macs_per_cycle"))
			return st;
		return st | si;
	}
	if (!strcmp(sec, "ndram")) {
		static const char *const inf[] = { "word_bits", "acc_bits", "word_ops_per_cycle" };
		static const char *const trn[] = { "format", "int_bits", "frac_bits", "rounding",
						   "zero_skip" };
		if (has_prefix(k, inf, ND_ARRAY_LEN(inf)))
			return di;
		if (has_prefix(k, trn, ND_ARRAY_LEN(trn)))
			return dt;
		return dt | di;
	}
	if (!strcmp(sec, "xbar")) {
		*reuse_x = xbar_cost_only(k);
		return xb;
	}
	if (!strcmp(sec, "compare") && !strcmp(k, "infer_runs")) {
		*reuse_x = 1;
		return xb;
	}
	*full = 1;
	*reuse_x = 0;
	return ~0u;
}

static struct reach rows_of(const char *path)
{
	struct reach r;
	memset(&r, 0, sizeof r);
	r.rows = rows_of_(path, &r.reuse_x, &r.full);
	if (r.full)
		return r;
	const char *dot = strchr(path, '.');
	char sec[32] = "";
	if (dot && (size_t)(dot - path) < sizeof sec) {
		memcpy(sec, path, (size_t)(dot - path));
		sec[dot - path] = '\0';
	}
	const char *k = dot ? dot + 1 : path;
	r.reuse_h = host_value_free(sec, k);
	r.reuse_s = storage_value_free(sec, k);
	r.reuse_d = ndram_value_free(sec, k);
	return r;
}

static const char *short_name(const char *p)
{
	if (!p)
		return "none";
	if (!strncmp(p, "memory: ", 8))
		p += 8;
	return !strcmp(p, "ReRAM crossbar") ? "crossbar" : p;
}

static void how_of(const char *path, const int have[2], char *buf, size_t n)
{
	struct reach R = rows_of(path);
	unsigned m = R.rows;
	if (R.full) {
		snprintf(buf, n, "full re-run");
		return;
	}
	size_t u = 0;
	buf[0] = '\0';
	for (int wl = 0; wl < 2; wl++)
		for (int i = 0; i < hif_platform_count(); i++) {
			const struct hif_platform *p = hif_platform_at(i);
			if (!(m & (1u << (8 * wl + i))) || (p == &hif_plat_xbar && wl == HIF_WL_TRAIN) ||
			    !have[wl])
				continue;
			int rc = (p == &hif_plat_xbar && R.reuse_x) ||
				 (wl == HIF_WL_TRAIN && ((p == &hif_plat_host && R.reuse_h) ||
							 (p == &hif_plat_storage && R.reuse_s) ||
							 (p == &hif_plat_ndram && R.reuse_d)));
			u += (size_t)snprintf(buf + u, n > u ? n - u : 0, "%s%s %s %s", u ? ", " : "",
					      short_name(p->name), wls[wl], rc ? "re-charged" : "re-run");
		}
	if (!u)
		snprintf(buf, n, "boundary only");
}

static int point_on(const struct cfg_bundle *vb, const struct hif_data *d,
		    const struct hif_compare *base, struct hif_memo *memo, const char *path,
		    int recharge, int progress, struct hif_compare *out, struct nd_err *err)
{
	struct reach R = rows_of(path);
	if (memo)
		memo->replayed = 0;
	if (!recharge || R.full) {
		struct hif_data dd;
		int rc = hif_data_load(vb, progress, &dd, err);
		if (rc)
			return rc;
		struct hif_compare_opts o = { .progress = progress, .no_repeats = 1 };
		rc = hif_compare_run_on(vb, &dd, &o, out, err);
		hif_data_free(&dd);
		return rc;
	}
	/* A borrowed view of the baseline's record: replayed, never written. */
	struct hif_memo mm;
	memset(&mm, 0, sizeof mm);
	if (memo) {
		mm = *memo;
		mm.record = 0;
		mm.replayed = 0;
		mm.reuse_xbar = R.reuse_x;
		mm.reuse_host = R.reuse_h;
		mm.reuse_storage = R.reuse_s;
		mm.reuse_ndram = R.reuse_d;
	}
	struct hif_compare_opts o = { .progress = progress, .base = base, .rerun = R.rows,
				      .memo = memo ? &mm : NULL, .no_repeats = 1 };
	int rc = hif_compare_run_on(vb, d, &o, out, err);
	if (memo)
		memo->replayed = mm.replayed;   /* what this point replayed (tests) */
	return rc;
}

static int vary(const struct cfg_bundle *b, const char *path, double factor,
		struct vbundle *v, double *value, int *clamped, struct nd_err *err)
{
	vb_copy(b, v);
	const struct cfg_key *k;
	void *f = field(&v->b, path, &k);
	ND_ASSERT(f);
	*value = scaled(k, effective(b, path), factor, clamped);
	set_num(k, f, *value);
	return cfg_validate(&v->b, err);
}

int hif_sens_point_run(const struct cfg_bundle *b, const struct hif_data *d,
		       const struct hif_compare *base, struct hif_memo *memo, const char *path,
		       double factor, int recharge, struct hif_compare *out, struct nd_err *err)
{
	memset(out, 0, sizeof *out);
	struct vbundle v;
	double value;
	int clamped;
	int rc = vary(b, path, factor, &v, &value, &clamped, err);
	if (!rc)
		rc = point_on(&v.b, d, base, memo, path, recharge, 0, out, err);
	vb_free(&v);
	return rc;
}

/* The figure of the row of platform `name` in c (NAN when absent or not
 * qualifying). */
static double figure_of(const struct hif_compare *c, const char *wl, const char *name, int view)
{
	for (int i = 0; i < c->n; i++)
		if (!strcmp(c->row[i].workload, wl) && !strcmp(c->row[i].platform, name))
			return hif_row_figure(&c->row[i], view);
	return (double)NAN;
}

static void winners(const struct hif_compare *c, const struct hif_sens_win base[2][3],
		    struct hif_sens_win w[2][3])
{
	for (int q = 0; q < 2; q++)
		for (int v = 0; v < 3; v++) {
			const struct hif_row *r = hif_compare_winner(c, wls[q], v, &w[q][v].lead);
			w[q][v].winner = r ? r->platform : NULL;
			const char *bw = base ? base[q][v].winner : w[q][v].winner;
			w[q][v].base_ratio = (double)NAN;
			if (!bw)
				continue;
			double fb = figure_of(c, wls[q], bw, v), other = (double)INFINITY;
			for (int i = 0; i < c->n; i++) {
				const struct hif_row *x = &c->row[i];
				if (strcmp(x->workload, wls[q]) || !strcmp(x->platform, bw))
					continue;
				double f = hif_row_figure(x, v);
				if (!isnan(f) && f < other)
					other = f;
			}
			w[q][v].base_ratio = isnan(fb) ? 0 : other / fb;
		}
}

int hif_sens_run(const struct cfg_bundle *b, const struct hif_data *d,
		 const struct hif_compare *base, struct hif_memo *memo, int progress,
		 struct hif_sens *s, struct nd_err *err)
{
	double c0 = nd_cpu_s(), w0 = nd_wall_s();
	winners(base, NULL, s->base);
	for (int q = 0; q < 2; q++)
		for (int i = 0; i < base->n; i++)
			s->have[q] |= !strcmp(base->row[i].workload, wls[q]);
	for (int i = 0; i < s->nkeys; i++) {
		struct hif_sens_key *k = &s->key[i];
		how_of(k->path, s->have, k->how, sizeof k->how);
		for (int f = 0; f < HIF_SENS_NF; f++) {
			struct hif_sens_point *p = &k->pt[f];
			p->factor = factors[f];
			if (progress)
				fprintf(stderr, "ndpsim run: sensitivity %s x%g (%d of %d)\n", k->path,
					factors[f], 2 * i + f + 1, 2 * s->nkeys);
			if (k->base == 0) {
				snprintf(p->why, sizeof p->why, "the value is 0: x%g leaves it at 0",
					 factors[f]);
				continue;
			}
			struct vbundle v;
			struct nd_err e2 = { 0 };
			int rc = vary(b, k->path, factors[f], &v, &p->value, &p->clamped, &e2);
			if (rc) {
				/* Out of the model's consistent range (a cross-key check):
				 * reported, not fatal. */
				snprintf(p->why, sizeof p->why, "%.190s", e2.msg);
				vb_free(&v);
				continue;
			}
			struct hif_compare c;
			rc = point_on(&v.b, d, base, memo, k->path, 1, progress, &c, err);
			vb_free(&v);
			if (rc) {
				hif_compare_free(&c);
				return rc;
			}
			p->valid = 1;
			winners(&c, s->base, p->w);
			for (int q = 0; q < 2; q++)
				for (int vw = 0; vw < 3; vw++)
					p->flips += s->have[q] && p->w[q][vw].winner != s->base[q][vw].winner;
			hif_compare_free(&c);
		}
	}
	s->cpu_s = nd_cpu_s() - c0;
	s->wall_s = nd_wall_s() - w0;
	return 0;
}

/* ------------------------------------------------------------ output */

static cJSON *win_json(const struct hif_sens_win *w)
{
	cJSON *o = cJSON_CreateObject();
	if (w->winner)
		cJSON_AddStringToObject(o, "winner", w->winner);
	else
		cJSON_AddNullToObject(o, "winner");
	cJSON_AddItemToObject(o, "lead", rep_num(w->lead));
	cJSON_AddItemToObject(o, "baseline_winner_ratio", rep_num(w->base_ratio));
	return o;
}

static cJSON *wins_json(const struct hif_sens *s, const struct hif_sens_win w[2][3])
{
	cJSON *o = cJSON_CreateObject();
	for (int q = 0; q < 2; q++) {
		if (!s->have[q])
			continue;
		cJSON *qo = cJSON_AddObjectToObject(o, wls[q]);
		for (int v = 0; v < 3; v++)
			cJSON_AddItemToObject(qo, views[v], win_json(&w[q][v]));
	}
	return o;
}

cJSON *hif_sens_json(const struct hif_sens *s)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "method",
				"one key at a time at x0.5 and x2; lead = runner-up / winner; "
				"baseline_winner_ratio = best other / the baseline winner (< 1: it lost)");
	cJSON *fa = cJSON_AddArrayToObject(o, "factors");
	for (int f = 0; f < HIF_SENS_NF; f++)
		cJSON_AddItemToArray(fa, rep_num(factors[f]));
	cJSON_AddItemToObject(o, "baseline", wins_json(s, s->base));
	cJSON *ks = cJSON_AddArrayToObject(o, "keys");
	cJSON *fl = cJSON_CreateArray();
	for (int i = 0; i < s->nkeys; i++) {
		const struct hif_sens_key *k = &s->key[i];
		cJSON *ko = cJSON_CreateObject();
		cJSON_AddStringToObject(ko, "key", k->path);
		cJSON_AddStringToObject(ko, "assumption", k->what);
		rep_add_dbl(ko, "base_value", k->base);
		cJSON_AddStringToObject(ko, "how", k->how);
		cJSON *pts = cJSON_AddArrayToObject(ko, "points");
		for (int f = 0; f < HIF_SENS_NF; f++) {
			const struct hif_sens_point *p = &k->pt[f];
			cJSON *po = cJSON_CreateObject();
			rep_add_dbl(po, "factor", p->factor);
			cJSON_AddBoolToObject(po, "run", p->valid);
			if (!p->valid) {
				cJSON_AddStringToObject(po, "why_not", p->why);
			} else {
				rep_add_dbl(po, "value", p->value);
				cJSON_AddBoolToObject(po, "clamped_to_range", p->clamped);
				cJSON_AddItemToObject(po, "winners", wins_json(s, p->w));
				for (int q = 0; q < 2; q++)
					for (int v = 0; v < 3; v++) {
						if (!s->have[q] || p->w[q][v].winner == s->base[q][v].winner)
							continue;
						char t[256];
						snprintf(t, sizeof t, "%s x%g: %s %s: %s -> %s", k->path, p->factor,
							 wls[q], views[v], short_name(s->base[q][v].winner),
							 short_name(p->w[q][v].winner));
						cJSON_AddItemToArray(fl, cJSON_CreateString(t));
					}
			}
			cJSON_AddItemToArray(pts, po);
		}
		cJSON_AddItemToArray(ks, ko);
	}
	cJSON_AddItemToObject(o, "flips", fl);
	rep_add_dbl(o, "cpu_s", s->cpu_s);
	rep_add_dbl(o, "wall_s", s->wall_s);
	return o;
}

static void cell(char *buf, size_t n, const struct hif_sens_win *w, const struct hif_sens_win *b)
{
	int flip = b && w->winner != b->winner;
	if (!w->winner)
		snprintf(buf, n, "%snone", flip ? "*" : "");
	else if (isinf(w->lead))
		snprintf(buf, n, "%s%s alone", flip ? "*" : "", short_name(w->winner));
	else
		snprintf(buf, n, "%s%s %.3gx", flip ? "*" : "", short_name(w->winner), w->lead);
}

void hif_sens_print(const struct hif_sens *s, FILE *out)
{
	for (int q = 0; q < 2; q++) {
		if (!s->have[q])
			continue;
		fprintf(out, "\nsensitivity (%s): winner and lead (runner-up / winner), one assumption at "
			"x0.5 or x2; * = the winner changed\n", wls[q]);
		fprintf(out, "  %-30s %5s %10s  %-20s %-20s %-20s  %s\n", "key", "", "value", "fastest",
			"least system", "least marginal", "how");
		char c[3][48];
		for (int v = 0; v < 3; v++)
			cell(c[v], sizeof c[v], &s->base[q][v], NULL);
		fprintf(out, "  %-30s %5s %10s  %-20s %-20s %-20s\n", "baseline", "", "", c[0], c[1], c[2]);
		for (int i = 0; i < s->nkeys; i++) {
			const struct hif_sens_key *k = &s->key[i];
			for (int f = 0; f < HIF_SENS_NF; f++) {
				const struct hif_sens_point *p = &k->pt[f];
				char fx[16], val[32];
				snprintf(fx, sizeof fx, "x%g", p->factor);
				if (!p->valid) {
					fprintf(out, "  %-30s %5s %10s  %s\n", f ? "" : k->path, fx, "-", p->why);
					continue;
				}
				snprintf(val, sizeof val, "%.4g%s", p->value, p->clamped ? "!" : "");
				for (int v = 0; v < 3; v++)
					cell(c[v], sizeof c[v], &p->w[q][v], &s->base[q][v]);
				fprintf(out, "  %-30s %5s %10s  %-20s %-20s %-20s  %s\n", f ? "" : k->path, fx,
					val, c[0], c[1], c[2], f ? "" : k->how);
			}
		}
	}
	int nflip = 0;
	for (int i = 0; i < s->nkeys; i++)
		for (int f = 0; f < HIF_SENS_NF; f++)
			nflip += s->key[i].pt[f].flips;
	fprintf(out, "  (! = clamped to the key's range)  %d winner change%s over %d points; "
		"%.0f s CPU, %.0f s wall\n", nflip, nflip == 1 ? "" : "s", HIF_SENS_NF * s->nkeys,
		s->cpu_s, s->wall_s);
}

/* A ratio for the log-scale figure. */
static double plot_ratio(double r)
{
	if (isnan(r) || r < 1e-3)
		return 1e-3;
	return r > 1e3 ? 1e3 : r;
}

int hif_sens_write_files(const struct hif_sens *s, const char *dir, struct nd_err *err)
{
	struct rep_csv *csv = rep_csv_new("key,base_value,factor,value,clamped,run,question,view,"
					  "winner,lead,baseline_winner_ratio");
	int rc = 0;
	for (int i = 0; i < s->nkeys; i++)
		for (int f = 0; f < HIF_SENS_NF; f++) {
			const struct hif_sens_point *p = &s->key[i].pt[f];
			for (int q = 0; q < 2; q++)
				for (int v = 0; v < 3 && s->have[q]; v++)
					rep_csv_row(csv, "%s,%.9g,%g,%.9g,%d,%d,%s,%s,%s,%.9g,%.9g",
						    s->key[i].path, s->key[i].base, p->factor, p->value,
						    p->clamped, p->valid, wls[q], views[v],
						    p->valid ? short_name(p->w[q][v].winner) : "",
						    p->valid ? p->w[q][v].lead : (double)NAN,
						    p->valid ? p->w[q][v].base_ratio : (double)NAN);
		}
	rc = rep_csv_write(csv, dir, "sensitivity.csv", err);
	rep_csv_free(csv);
	if (rc)
		return rc;
	/* Tornado: per question and view, the baseline winner's ratio (best
	 * other / it) at x0.5 and x2 around its baseline value, keys sorted by
	 * swing; left of 1 it lost. */
	char script[8192];
	size_t u = (size_t)snprintf(script, sizeof script,
		"set terminal pngcairo size %d,%d noenhanced\nset output 'sensitivity.png'\n"
		"set multiplot layout 3,%d columnsfirst title 'ndpsim run --sensitivity: best other / "
		"baseline winner (< 1 = the winner changes), each key at x0.5 and x2'\n"
		"set logscale x\nset grid xtics\nset style fill solid 0.7 border -1\n"
		"set key top right opaque\n"
		"set arrow 1 from 1, graph 0 to 1, graph 1 nohead lw 2 lc rgb 'red' front\n"
		"set lmargin 32\n",
		900 * (s->have[0] + s->have[1]), 240 + 40 * s->nkeys * 3, s->have[0] + s->have[1]);
	for (int q = 0; q < 2 && !rc; q++) {
		if (!s->have[q])
			continue;
		for (int v = 0; v < 3 && !rc; v++) {
			int idx[HIF_SENS_MAX_KEYS];
			double sw[HIF_SENS_MAX_KEYS];
			double b0 = plot_ratio(s->base[q][v].base_ratio);
			for (int i = 0; i < s->nkeys; i++) {
				idx[i] = i;
				sw[i] = 0;
				for (int f = 0; f < HIF_SENS_NF; f++)
					if (s->key[i].pt[f].valid)
						sw[i] = fmax(sw[i], fabs(log(plot_ratio(
							s->key[i].pt[f].w[q][v].base_ratio) / b0)));
			}
			for (int i = 1; i < s->nkeys; i++)   /* insertion sort, smallest swing first */
				for (int j = i; j > 0 && sw[idx[j]] < sw[idx[j - 1]]; j--) {
					int t = idx[j];
					idx[j] = idx[j - 1];
					idx[j - 1] = t;
				}
			struct rep_csv *dat = rep_csv_new("n key base x0_5 x2");
			for (int r = 0; r < s->nkeys; r++) {
				const struct hif_sens_key *k = &s->key[idx[r]];
				double x[HIF_SENS_NF];
				for (int f = 0; f < HIF_SENS_NF; f++)
					x[f] = k->pt[f].valid ? plot_ratio(k->pt[f].w[q][v].base_ratio) : b0;
				rep_csv_row(dat, "%d %s %.6g %.6g %.6g", r, k->path, b0, x[0], x[1]);
			}
			double lo = fmin(1, b0), hi = fmax(1, b0);
			for (int i = 0; i < s->nkeys; i++)
				for (int f = 0; f < HIF_SENS_NF; f++)
					if (s->key[i].pt[f].valid) {
						double x = plot_ratio(s->key[i].pt[f].w[q][v].base_ratio);
						lo = fmin(lo, x);
						hi = fmax(hi, x);
					}
			char fn[64];
			snprintf(fn, sizeof fn, "tornado_%s_%s.dat", wls[q], views[v]);
			rc = rep_csv_write(dat, dir, fn, err);
			rep_csv_free(dat);
			u += (size_t)snprintf(script + u, sizeof script - u,
				"set title '%s, %s (baseline winner: %s)'\nset yrange [-0.7:%d-0.3]\n"
				"set xrange [%.6g:%.6g]\n"
				"plot '%s' using (($3+$4)/2):1:($3<$4?$3:$4):($3<$4?$4:$3):($1-0.38):($1):ytic(2) "
				"with boxxyerror title 'x0.5', '' using (($3+$5)/2):1:($3<$5?$3:$5):($3<$5?$5:$3):"
				"($1):($1+0.38) with boxxyerror title 'x2'\n",
				wls[q], views[v], short_name(s->base[q][v].winner), s->nkeys, lo / 1.25,
				hi * 1.25, fn);
		}
	}
	if (!rc) {
		snprintf(script + u, sizeof script - u, "unset multiplot\n");
		rc = rep_gnuplot(dir, "sensitivity", script, err);
		rc = rc < 0 ? rc : 0;
	}
	return rc;
}
