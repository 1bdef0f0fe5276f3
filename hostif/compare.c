#include "hostif/compare.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analog/xbar.h"
#include "cli/cli.h"
#include "core/progress.h"
#include "core/report.h"
#include "core/util.h"
#include "hostif/memplat.h"
#include "hostif/ndram.h"
#include "ndp/ihp.h"
#include "ndp/ndp.h"
#include "ssdsim/run.h"
#include "workloads/bnn.h"

#define O(f) offsetof(struct hif_compare_params, f)
static const char *const which_names[] = { "both", "train", "infer", NULL };

static const struct cfg_key compare_keys[] = {
	{ "workloads", CFG_ENUM, O(which), "-", HIF_BOTH, 0, 0, NULL, which_names,
	  "which comparisons `ndpsim run` makes: training, inference, or both" },
	{ "bnn_ops_per_64_macs", CFG_DBL, O(bnn_ops_per_64), "ops", 3, 1, 64, NULL, NULL,
	  "digital BNN: integer ops per 64 binary MACs (64-bit XNOR + POPCNT + ADD)" },
	{ "xbar_noise", CFG_BOOL, O(xbar_noise), "-", 1, 0, 1, NULL, NULL,
	  "the crossbar row switches on device-to-device variation and per-pulse read noise at the "
	  "xbar.noise.*.sigma values (the xbar section alone defaults to an ideal array)" },
	{ "cache_dir", CFG_STR, O(cache_dir), "-", 0, 0, 0, "results/cache", NULL,
	  "where trained BNN models are kept, keyed by the hash of their config and seed" },
	CFG_END
};

const struct cfg_section hif_compare_section = {
	"compare", compare_keys, sizeof(struct hif_compare_params), NULL
};

/* The sections this module reads, found in the caller's bundle. */
struct ctx {
	const struct run_params *run;
	const struct ssd_params *ssd;
	const struct ndp_train_params *train;
	const struct ndp_params *ndp;
	const struct ihp_params *host;
	const struct ndram_params *ndram;
	const struct bnn_params *bnn;
	const struct xbar_params *xbar;
	const struct hif_compare_params *cmp;
	const struct cfg_bundle *b;
	struct wl_dataset tr, te;
	int progress;
};

static const void *section(const struct cfg_bundle *b, const struct cfg_section *s)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->sec[i] == s)
			return b->params[i];
	return NULL;
}

static struct hif_row *new_row(struct hif_compare *c, const char *wl, const char *pf)
{
	ND_ASSERT(c->n < (int)ND_ARRAY_LEN(c->row));
	struct hif_row *r = &c->row[c->n++];
	memset(r, 0, sizeof *r);
	snprintf(r->workload, sizeof r->workload, "%s", wl);
	snprintf(r->platform, sizeof r->platform, "%s", pf);
	r->supported = 1;
	en_init(&r->led);
	return r;
}

static void note(const struct ctx *x, const char *what)
{
	if (x->progress)
		fprintf(stderr, "ndpsim run: %s\n", what);
}

/* ------------------------------------------------------------- training */

static void from_result(struct hif_row *row, const struct ndp_result *r)
{
	row->acc = r->final_acc;
	row->target_reached = r->target_reached;
	row->run_time_s = (double)r->t_end_ns * 1e-9;
	row->led = r->led;
	row->run_energy_j = en_total_j(&r->led);
	if (r->target_reached) {
		row->time_s = (double)r->t_target_ns * 1e-9;
		row->energy_j = r->e_target_j;
	} else {
		row->time_s = row->run_time_s;
		row->energy_j = row->run_energy_j;
	}
	row->b_flash = r->st.channel_bytes;
	row->b_link = r->host_link_bytes;
	row->b_host_dram = r->host_dram_bytes;
	row->curve = xmalloc((size_t)(r->npt ? r->npt : 1) * sizeof *row->curve);
	memcpy(row->curve, r->pt, (size_t)r->npt * sizeof *r->pt);
	row->ncurve = r->npt;
}

static int compare_train(struct ctx *x, struct hif_compare *c, struct nd_err *err)
{
	struct ndp_result rh, rs, rm;
	memset(&rh, 0, sizeof rh);
	memset(&rs, 0, sizeof rs);
	memset(&rm, 0, sizeof rm);
	int rc;
	note(x, "training on the host (page cache + PCIe)");
	struct ihp_run_opts ho = { .train = x->train, .host = x->host, .ssd = x->ssd,
				   .train_set = &x->tr, .test_set = &x->te, .seed = x->run->seed,
				   .progress = x->progress };
	if ((rc = ihp_train(&ho, &rh, err)))
		goto out;
	from_result(new_row(c, "train", "host"), &rh);

	note(x, "training in storage (channel units + master)");
	struct ndp_run_opts so = { .train = x->train, .ndp = x->ndp, .ssd = x->ssd,
				   .train_set = &x->tr, .test_set = &x->te, .seed = x->run->seed,
				   .progress = x->progress };
	if ((rc = ndp_train(&so, &rs, err)))
		goto out;
	struct hif_row *r = new_row(c, "train", "storage");
	from_result(r, &rs);
	r->b_internal = rs.bus_bytes;
	snprintf(r->note, sizeof r->note, "%s SGD on %d channel units", rs.algo, rs.channels);

	note(x, "training in memory (near-DRAM stack)");
	struct hif_mem_extra mx = { "", 0 };
	struct hif_mem_opts mo = { .ndram = x->ndram, .ssd = x->ssd, .train = x->train,
				   .host = x->host, .host_result = &rh, .n_train = x->tr.n,
				   .n_test = x->te.n, .seed = x->run->seed };
	if ((rc = hif_mem_train(&mo, &rm, &mx, err)))
		goto out;
	r = new_row(c, "train", "memory: near-DRAM");
	from_result(r, &rm);
	r->b_stack = mx.stack_bytes;
	r->bound = mx.bound;
	snprintf(r->note, sizeof r->note, "host's SGD trajectory re-timed; epoch %s-bound", mx.bound);

	r = new_row(c, "train", "memory: ReRAM crossbar");
	r->supported = 0;
	snprintf(r->note, sizeof r->note,
		 "not supported: the crossbar runs binarized inference, it does not train");
out:
	ndp_result_free(&rh);
	ndp_result_free(&rs);
	ndp_result_free(&rm);
	return rc;
}

/* ------------------------------------------------------------- inference */

/* Reads `bytes` from the SSD (host path, or internal for storage), returns
 * its simulated time and charges its ledger into led. */
static int ssd_read_cost(const struct ctx *x, uint64_t bytes, int internal,
			 struct energy_ledger *led, uint64_t *t_ns, uint64_t *flash_bytes,
			 struct nd_err *err)
{
	/* In storage every channel's unit keeps reads in flight. */
	int qd = internal ? 8 * x->ssd->channels : 32;
	struct ssd_run_result r;
	int rc = ssd_run_read_window(x->ssd, bytes, internal, qd, x->run->seed, &r, err);
	if (!rc) {
		en_merge(led, &r.led);
		*t_ns = r.t_drain_ns;
		*flash_bytes = r.st.channel_bytes;
	}
	ssd_run_result_free(&r);
	return rc;
}

static uint64_t bnn_binary_macs(const struct bnn_model *m)
{
	uint64_t macs = 0;
	for (int l = 0; l < m->nl; l++)
		macs += (uint64_t)m->dim[l] * (uint64_t)m->dim[l + 1] *
			(uint64_t)(m->qin[l] > 0 ? m->qin[l] : 1);
	return macs;
}

static int get_bnn(struct ctx *x, struct bnn_model **m, struct nd_err *err)
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
	int rc = bnn_train(x->bnn, x->run->seed, &x->tr, &x->te, NULL, NULL, m, err);
	if (rc)
		return rc;
	if (rep_mkdir_p(x->cmp->cache_dir, err) == 0)
		bnn_model_save(*m, path, err);   /* a cache miss next time is fine */
	nd_err_clear(err);
	return 0;
}

static int compare_infer(struct ctx *x, struct hif_compare *c, struct nd_err *err)
{
	struct bnn_model *m = NULL;
	int rc = get_bnn(x, &m, err);
	if (rc)
		return rc;
	long n = x->xbar->test_n ? x->xbar->test_n : (long)x->te.n;
	uint64_t test_bytes = (uint64_t)n * 785u;
	uint64_t macs = bnn_binary_macs(m) * (uint64_t)n;
	double ops = (double)macs * x->cmp->bnn_ops_per_64 / 64.0;
	note(x, "digital inference (exact bit-packed XNOR/popcount)");
	long correct = bnn_predict(m, x->te.pixels, n, x->te.labels, NULL);
	double acc = (double)correct / (double)n;
	uint64_t t_io, fb;

	/* host: the test set over PCIe into DRAM, then the CPU. */
	struct hif_row *r = new_row(c, "infer", "host");
	if ((rc = ssd_read_cost(x, test_bytes, 0, &r->led, &t_io, &fb, err)))
		goto out;
	double t_cpu = ops / (x->host->cores * x->host->gflops_per_core * 1e9);
	int h = en_static(&r->led, "host_cpu", "idle", x->host->p_idle_w);
	en_set_time(&r->led, h, t_io + (uint64_t)(t_cpu * 1e9));
	h = en_static(&r->led, "host_cpu", "active_extra", x->host->p_active_w - x->host->p_idle_w);
	en_set_time(&r->led, h, (uint64_t)(t_cpu * 1e9));
	h = en_action(&r->led, "host_dram", "byte", x->host->dram_pj_bit * 8e-12);
	en_add(&r->led, h, 2 * test_bytes);   /* DMA in, read by the CPU */
	r->time_s = (double)t_io * 1e-9 + t_cpu;
	r->acc = acc;
	r->b_flash = fb;
	r->b_link = test_bytes;
	r->b_host_dram = 2 * test_bytes;
	snprintf(r->note, sizeof r->note, "digital BNN on %d cores", x->host->cores);

	/* storage: units read their own channels, classify, send the count. */
	r = new_row(c, "infer", "storage");
	if ((rc = ssd_read_cost(x, test_bytes, 1, &r->led, &t_io, &fb, err)))
		goto out;
	double unit_rate = x->ssd->channels * x->ndp->unit_macs_per_cycle * x->ndp->unit_clock_mhz * 1e6;
	double t_u = ops / unit_rate;
	h = en_action(&r->led, "ndp_units", "op", x->ndp->unit_mac_pj * 1e-12);
	en_add(&r->led, h, (uint64_t)ops);
	h = en_static(&r->led, "ndp_units", "static", x->ndp->unit_static_w * x->ssd->channels);
	en_set_time(&r->led, h, t_io + (uint64_t)(t_u * 1e9));
	r->time_s = (double)t_io * 1e-9 + t_u;
	r->acc = acc;
	r->b_flash = fb;
	r->b_link = x->ndp->result_bytes;
	r->b_internal = test_bytes;
	snprintf(r->note, sizeof r->note, "digital BNN on %d channel units", x->ssd->channels);

	/* near-DRAM: the test set over PCIe into the stack, then the PEs. */
	r = new_row(c, "infer", "memory: near-DRAM");
	if ((rc = ssd_read_cost(x, test_bytes, 0, &r->led, &t_io, &fb, err)))
		goto out;
	ndram_register(x->ndram, &r->led);
	struct ndram_job job = { .macs = (uint64_t)ops, .stack_bytes = 2 * test_bytes,
				 .buf_words = (uint64_t)ops, .offchip_bytes = test_bytes };
	struct ndram_cost nc;
	ndram_run(x->ndram, &job, &r->led, &nc);
	r->time_s = (double)(t_io + nc.t_ns) * 1e-9;
	r->acc = acc;
	r->b_flash = fb;
	r->b_link = test_bytes;
	r->b_stack = 2 * test_bytes;
	r->bound = nc.bound;
	snprintf(r->note, sizeof r->note, "digital BNN on the vault PEs (%s-bound)", nc.bound);

	/* crossbar: the test set over PCIe, then analog inference with noise. */
	r = new_row(c, "infer", "memory: ReRAM crossbar");
	if ((rc = ssd_read_cost(x, test_bytes, 0, &r->led, &t_io, &fb, err)))
		goto out;
	note(x, "analog inference on the crossbar (Monte Carlo over chip instances)");
	struct xbar_params xp = *x->xbar;
	if (x->cmp->xbar_noise) {
		xp.d2d_on = 1;
		xp.read_on = 1;
	}
	struct xbar_enc_plan plan;
	xbar_refs *refs = NULL;
	struct xbar_mc mc;
	memset(&mc, 0, sizeof mc);
	if ((rc = xbar_plan(&xp, m, &plan, err)))
		goto out;
	long nc_img = xp.adc_calib_n < (int)x->tr.n ? xp.adc_calib_n : (long)x->tr.n;
	if ((rc = xbar_refs_create(&xp, m, &plan, x->tr.pixels, nc_img, &refs, err)))
		goto out;
	rc = xbar_monte_carlo(&xp, m, &plan, refs, x->run->seed, x->te.pixels, x->te.labels,
			      n, &mc, err);
	xbar_refs_destroy(refs);
	if (rc) {
		xbar_mc_free(&mc);
		goto out;
	}
	struct xbar_cost cost;
	xbar_cost(&xp, m, &plan, &mc.counts, &cost);
	en_merge(&r->led, &cost.ledger);
	double t_x = (double)n / cost.images_per_s;
	r->time_s = (double)t_io * 1e-9 + t_x;
	r->acc = mc.mean;
	r->b_flash = fb;
	r->b_link = test_bytes;
	snprintf(r->note, sizeof r->note, "analog%s, %d chip instances: accuracy %.2f +- %.2f %%; %.1f TOPS/W",
		 x->cmp->xbar_noise ? " with variation + read noise" : ", ideal", mc.chips, 100 * mc.mean, 100 * mc.sd, cost.tops_per_w);
	xbar_mc_free(&mc);
out:
	for (int i = 0; i < c->n; i++) {
		struct hif_row *q = &c->row[i];
		if (!strcmp(q->workload, "infer")) {
			q->run_time_s = q->time_s;
			q->run_energy_j = q->energy_j = en_total_j(&q->led);
			q->target_reached = 1;
		}
	}
	bnn_model_free(m);
	return rc;
}

int hif_compare_run(const struct cfg_bundle *b, int progress, struct hif_compare *c,
		    struct nd_err *err)
{
	memset(c, 0, sizeof *c);
	struct ctx x;
	memset(&x, 0, sizeof x);
	x.b = b;
	x.run = section(b, &run_section);
	x.ssd = section(b, &ssd_section);
	x.train = section(b, &ndp_train_section);
	x.ndp = section(b, &ndp_section);
	x.host = section(b, &ihp_section);
	x.ndram = section(b, &ndram_section);
	x.bnn = section(b, &bnn_section);
	x.xbar = section(b, &xbar_section);
	x.cmp = section(b, &hif_compare_section);
	ND_ASSERT(x.run && x.ssd && x.train && x.ndp && x.host && x.ndram && x.bnn && x.xbar && x.cmp);
	x.progress = progress;
	c->train_target = x.train->target_acc;
	int rc = ndp_load_data(x.train, &x.tr, &x.te, err);
	if (rc)
		return rc;
	if (x.cmp->which != HIF_INFER)
		rc = compare_train(&x, c, err);
	if (!rc && x.cmp->which != HIF_TRAIN)
		rc = compare_infer(&x, c, err);
	wl_dataset_free(&x.tr);
	wl_dataset_free(&x.te);
	return rc;
}

void hif_compare_free(struct hif_compare *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->row[i].curve);
	c->n = 0;
}

/* ------------------------------------------------------------- output */

struct cJSON *hif_compare_metrics(const struct hif_compare *c)
{
	cJSON *m = cJSON_CreateObject();
	rep_add_dbl(m, "target_accuracy", c->train_target);
	cJSON *plat = cJSON_AddArrayToObject(m, "platforms");
	for (int i = 0; i < c->n; i++) {
		const struct hif_row *r = &c->row[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "workload", r->workload);
		cJSON_AddStringToObject(o, "platform", r->platform);
		cJSON_AddBoolToObject(o, "supported", r->supported);
		cJSON_AddStringToObject(o, "note", r->note);
		if (r->supported) {
			rep_add_dbl(o, "accuracy", r->acc);
			cJSON_AddBoolToObject(o, "target_reached", r->target_reached);
			rep_add_dbl(o, "time_s", r->time_s);
			rep_add_dbl(o, "energy_j", r->energy_j);
			rep_add_dbl(o, "run_time_s", r->run_time_s);
			cJSON *bm = cJSON_AddObjectToObject(o, "bytes_moved");
			rep_add_u64(bm, "flash_to_controller", r->b_flash);
			rep_add_u64(bm, "ssd_to_host", r->b_link);
			rep_add_u64(bm, "host_dram", r->b_host_dram);
			rep_add_u64(bm, "in_stack", r->b_stack);
			rep_add_u64(bm, "inside_ssd", r->b_internal);
			cJSON_AddItemToObject(o, "energy_run_j", en_to_json(&r->led));
		}
		cJSON_AddItemToArray(plat, o);
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
			fprintf(out, "\ntrain: logistic regression / MLP on Fashion-MNIST to %.1f %% test accuracy\n",
				100 * c->train_target);
		else
			fprintf(out, "\ninfer: binarized network on the test set\n");
		fprintf(out, "  %-24s %12s %12s %9s %12s %12s\n", "platform",
			w ? "time" : "time to tgt", w ? "energy" : "energy to tgt", "accuracy",
			"SSD->host", "in SSD/stack");
		const struct hif_row *best_t = NULL, *best_e = NULL;
		for (int i = 0; i < c->n; i++) {
			const struct hif_row *r = &c->row[i];
			if (strcmp(r->workload, wl[w]))
				continue;
			if (!r->supported) {
				fprintf(out, "  %-24s %s\n", r->platform, r->note);
				continue;
			}
			char t[32];
			fmt_time(t, sizeof t, r->time_s);
			fprintf(out, "  %-24s %12s %10.3f J %8.2f%% %9.1f MB %9.1f MB%s\n", r->platform, t,
				r->energy_j, 100 * r->acc, (double)r->b_link * 1e-6,
				(double)(r->b_internal + r->b_stack) * 1e-6,
				r->target_reached ? "" : "  (target not reached)");
			if (r->target_reached && (!best_t || r->time_s < best_t->time_s))
				best_t = r;
			if (r->target_reached && (!best_e || r->energy_j < best_e->energy_j))
				best_e = r;
		}
		if (best_t && best_e)
			fprintf(out, "  -> fastest: %s; least energy: %s\n", best_t->platform, best_e->platform);
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
	struct rep_csv *p = rep_csv_new("workload,platform,supported,time_s,energy_j,accuracy,"
					"target_reached,ssd_to_host_bytes,flash_bytes,in_ssd_bytes,"
					"in_stack_bytes,host_dram_bytes,run_energy_j");
	struct rep_csv *e = rep_csv_new("workload,platform,component,energy_j");
	for (int i = 0; i < c->n; i++) {
		const struct hif_row *r = &c->row[i];
		rep_csv_row(p, "%s,%s,%d,%.9g,%.9g,%.6f,%d,%llu,%llu,%llu,%llu,%llu,%.9g", r->workload,
			    r->platform, r->supported, r->time_s, r->energy_j, r->acc,
			    r->target_reached, (unsigned long long)r->b_link,
			    (unsigned long long)r->b_flash, (unsigned long long)r->b_internal,
			    (unsigned long long)r->b_stack, (unsigned long long)r->b_host_dram,
			    r->run_energy_j);
		for (int k = 0; k < r->led.n; k++) {
			if (en_is_first_of_component(&r->led, k))
				rep_csv_row(e, "%s,%s,%s,%.9g", r->workload, r->platform,
					    r->led.e[k].component,
					    en_component_j(&r->led, r->led.e[k].component));
		}
		if (r->ncurve) {
			char name[96], s[48];
			slug(s, sizeof s, r->platform);
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
			const struct hif_row *r = &c->row[i];
			if (strcmp(r->workload, wls[w]) || !r->supported)
				continue;
			np++;
			for (int k = 0; k < r->led.n && nc < 16; k++) {
				int seen = 0;
				for (int j = 0; j < nc; j++)
					seen |= !strcmp(comps[j], r->led.e[k].component);
				if (!seen)
					snprintf(comps[nc++], sizeof comps[0], "%s", r->led.e[k].component);
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
		struct rep_csv *tdat = rep_csv_new("platform time_s energy_j");
		for (int i = 0; i < c->n; i++) {
			const struct hif_row *r = &c->row[i];
			if (strcmp(r->workload, wls[w]) || !r->supported)
				continue;
			char row[2048], name[64];
			snprintf(name, sizeof name, "%s", r->platform);
			for (char *q = name; *q; q++)
				if (*q == ' ')
					*q = '_';
			size_t u = (size_t)snprintf(row, sizeof row, "%s", name);
			for (int j = 0; j < nc; j++)
				u += (size_t)snprintf(row + u, sizeof row - u, " %.9g",
						      en_component_j(&r->led, comps[j]));
			rep_csv_row(dat, "%s", row);
			rep_csv_row(tdat, "%s %.9g %.9g", name, r->time_s, r->energy_j);
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
			"set output 'energy_%s.png'\nset title 'ndpsim run: energy by component (%s, whole run)'\n"
			"set ylabel 'energy (J)'\nset style data histograms\nset style histogram rowstacked\n"
			"plot for [k=2:%d] 'energy_%s.dat' using k:xtic(1) title columnheader(k)\n"
			"set output 'time_%s.png'\nset title 'ndpsim run: %s time (%s)'\nset ylabel 'seconds'\n"
			"set logscale y\nset style histogram clustered\n"
			"plot 'time_%s.dat' using 2:xtic(1) title '%s'\n"
			"set output 'energy_total_%s.png'\nset title 'ndpsim run: energy (%s, %s; log scale)'\n"
			"set ylabel 'joules'\nplot 'time_%s.dat' using 3:xtic(1) title '%s'\nunset logscale y\n",
			wls[w], wls[w], nc + 1, wls[w], wls[w], wls[w],
			w ? "whole test set" : "to the target accuracy", wls[w],
			w ? "inference" : "time to target",
			wls[w], wls[w], w ? "whole test set" : "to the target accuracy", wls[w],
			w ? "inference" : "energy to target");
	}
	int have_curves = 0;
	for (int i = 0; i < c->n; i++)
		have_curves |= c->row[i].ncurve > 0;
	if (!rc && have_curves) {
		used += (size_t)snprintf(script + used, sizeof script - used,
			"set datafile separator ','\nset style data linespoints\nunset xtics\nset xtics\n"
			"set output 'accuracy_vs_time.png'\n"
			"set title 'ndpsim run: test accuracy vs simulated time (training)'\n"
			"set xlabel 'simulated time (s)'\nset ylabel 'test accuracy'\nset logscale x\n"
			"set key bottom right\nset yrange [0.5:*]\nplot ");
		int k = 0;
		for (int i = 0; i < c->n; i++) {
			if (!c->row[i].ncurve)
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
