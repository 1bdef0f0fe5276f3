/* cmd_xbar.c — `ndpsim xbar`: BNNs on ReRAM / XNOR-RRAM crossbar tiles. */
#include <cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analog/gbo.h"
#include "analog/xbar.h"
#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/registry.h"
#include "cli/sweep.h"
#include "core/file.h"
#include "core/progress.h"
#include "core/outdir.h"
#include "core/report.h"
#include "core/util.h"
#include "workloads/bnn.h"
#include "workloads/idx.h"

static const char help_top[] =
	"usage: ndpsim xbar <train|eval|noise-sweep|gbo|cnn> [options]   (ndpsim xbar <sub> --help)\n"
	"Binarized MLPs on Fashion-MNIST run on simulated ReRAM crossbar tiles\n"
	"(XNOR-RRAM mapping, per-column sense amps / ADCs, device and circuit noise).\n"
	"  train        train the network of bnn.* and write model.bnn\n"
	"  eval         Monte Carlo over chip instances: accuracy, energy, latency, TOPS/W\n"
	"  noise-sweep  accuracy vs noise for several input encodings (and GBO)\n"
	"  gbo          learn per-layer pulse counts (GBO) and show the accuracy/energy trade-off\n"
	"  cnn          float / BWN / BNN conv nets (bcnn.*), the BNN unrolled onto tiles\n";

static const char help_train[] =
	"usage: ndpsim xbar train [--config FILE] [--set KEY=VALUE]... [--out DIR] [--seed N]\n"
	"Trains the network of the bnn.* keys (act=binary: BNN (a); act=multi: network (b))\n"
	"on the Fashion-MNIST training set and reports the exact digital test accuracy.\n"
	"Writes model.bnn, train.csv (epoch, loss, test accuracy) and report.json to DIR\n"
	"(default results/xbar-train).\n";

static const char help_eval[] =
	"usage: ndpsim xbar eval [--model FILE] [--config FILE] [--set KEY=VALUE]... [--out DIR]\n"
	"Runs the test set on xbar.mc.chips chip instances (xbar.* keys: tiles, noise, ADC,\n"
	"encoding) and reports accuracy mean/sd/min/max, agreement with the digital BNN,\n"
	"energy per inference with its breakdown, latency, images/s and TOPS/W.\n"
	"Without --model the network is trained first.  Writes report.json, chips.csv,\n"
	"energy.csv to DIR (default results/xbar-eval).\n"
	"  --model FILE     a model.bnn written by 'ndpsim xbar train'\n"
	"  --gbo            learn the per-layer pulse counts with GBO (gbo.* keys) under\n"
	"                   this config's noise and evaluate them (instead of encoding.*)\n";

static const char help_sweep[] =
	"usage: ndpsim xbar noise-sweep [--model FILE] [--param read|d2d|offset]\n"
	"                               [--sigmas LIST] [--encodings LIST] [--gbo] [options]\n"
	"Accuracy (mean and spread over xbar.mc.chips instances) against one noise source\n"
	"for several input encodings.  Writes sweep.csv, sweep.gp / sweep.png, report.json\n"
	"to DIR (default results/xbar-sweep).  Every point is an 'xbar eval' run by the\n"
	"sweep engine ('ndpsim sweep') in DIR/sweep/ (results.jsonl, points/<hash>/; the\n"
	"network trained once into DIR/sweep/model.bnn unless --model): run the same\n"
	"command again after a kill and only the missing points run; MPI as for sweep.\n"
	"  -j N             points run at once on this machine (default: online CPUs)\n"
	"  --param P        noise swept: read (cycle-to-cycle, default), d2d, offset\n"
	"  --sigmas LIST    comma-separated sigmas (default 0,0.1,0.2,0.3,0.4,0.5)\n"
	"  --encodings L    e.g. u1,u2,u4,u8,b4 (uN: N unary pulses per layer, bK:\n"
	"                   K-bit bit-serial, native: the model's own levels)\n"
	"  --gbo            at every sigma also learn pulse counts with GBO (gbo.* keys,\n"
	"                   gbo.budget = mean pulses per layer) and evaluate them\n"
	"  --model FILE     as for eval\n";

static const char help_gbo[] =
	"usage: ndpsim xbar gbo [--model FILE] [--lambdas LIST] [options]\n"
	"Learns per-layer unary pulse counts by gradient (gbo.* keys) under the noise of\n"
	"the xbar.* keys, evaluates the choice by Monte Carlo next to uniform encodings,\n"
	"and writes gbo.csv, gbo.gp / gbo.png (accuracy vs energy) and report.json to DIR\n"
	"(default results/xbar-gbo).\n"
	"  --lambdas LIST   run GBO once per lambda (default: gbo.lambda)\n"
	"  --model FILE     as for eval\n";

struct xctx {
	struct cli_common c;
	const char *sub;
	const char *model_path;
	const char *param, *sigmas, *encodings, *lambdas;
	int with_gbo;
	struct run_params run;
	struct bnn_params bp;
	struct xbar_params xp;
	struct gbo_params gp;
	struct cfg_bundle b;
	struct wl_dataset train, test;
	int have_train, have_test;
	struct bnn_model *m;
	const char *out;            /* where files go: the staging directory */
	const char *final_out;      /* the directory the user named (messages) */
	struct rep_outdir od;
	const char *done_note;      /* after "results in DIR/" once committed */
	struct nd_err err;
};

static void ctx_free(struct xctx *x)
{
	if (x->have_train)
		wl_dataset_free(&x->train);
	if (x->have_test)
		wl_dataset_free(&x->test);
	bnn_model_free(x->m);
}

/* "512,512" -> "512-512" for messages */
static const char *dims_text(const char *hidden)
{
	static char buf[CFG_STR_MAX];
	snprintf(buf, sizeof buf, "%s", hidden);
	for (char *p = buf; *p; p++)
		if (*p == ',')
			*p = '-';
	return buf;
}

static void train_cb(void *arg, int epoch, double loss, double acc)
{
	struct rep_csv *csv = arg;
	rep_csv_row(csv, "%d,%.6f,%.6f", epoch, loss, acc);
	fprintf(stderr, "  epoch %d: loss %.4f, test accuracy %.2f %%\n", epoch, loss, 100 * acc);
}

static int load_data(struct xctx *x)
{
	if (!x->have_train) {
		if (wl_fmnist_load(wl_fmnist_default_dir(), 1, &x->train, &x->err))
			return -1;
		x->have_train = 1;
	}
	if (!x->have_test) {
		if (wl_fmnist_load(wl_fmnist_default_dir(), 0, &x->test, &x->err))
			return -1;
		x->have_test = 1;
	}
	return 0;
}

/* Loads --model or trains one (writing model.bnn and train.csv). */
static int get_model(struct xctx *x, int force_train)
{
	if (load_data(x))
		return -1;
	if (x->model_path && !force_train)
		return bnn_model_load(x->model_path, &x->m, &x->err) ? -1 : 0;
	struct rep_csv *csv = rep_csv_new("epoch,train_loss,test_accuracy");
	if (!x->c.quiet)
		fprintf(stderr, "ndpsim xbar: training %s network 784-%s-10 (%d epochs)\n",
			x->bp.act == BNN_ACT_BINARY ? "BNN (a)" : "multi-level (b)", dims_text(x->bp.hidden),
			x->bp.epochs);
	int rc = xbar_bnn_train(&x->bp, &x->xp, x->run.seed, &x->train, &x->test,
				x->c.quiet ? NULL : train_cb, csv, &x->m, &x->err);
	if (!rc) {
		char path[4096];
		snprintf(path, sizeof path, "%s/model.bnn", x->out);
		rc = bnn_model_save(x->m, path, &x->err);
	}
	if (!rc)
		rc = rep_csv_write(csv, x->out, "train.csv", &x->err);
	rep_csv_free(csv);
	return rc ? -1 : 0;
}

static long test_n(const struct xctx *x)
{
	return x->xp.test_n ? x->xp.test_n : (long)x->test.n;
}

/* Calibrates references and runs the Monte Carlo for one plan. */
static int eval_plan(struct xctx *x, const struct xbar_params *xp,
		     const struct xbar_enc_plan *plan, struct xbar_mc *mc,
		     struct xbar_cost *cost)
{
	xbar_refs *refs;
	long nc = xp->adc_calib_n < (int)x->train.n ? xp->adc_calib_n : (long)x->train.n;
	if (xbar_refs_create(xp, x->m, plan, x->train.pixels, nc, &refs, &x->err))
		return -1;
	int rc = xbar_monte_carlo(xp, x->m, plan, refs, x->run.seed, x->test.pixels,
				  x->test.labels, test_n(x), mc, &x->err);
	xbar_refs_destroy(refs);
	if (rc)
		return -1;
	if (cost)
		xbar_cost(xp, x->m, plan, &mc->counts, cost);
	return 0;
}

static cJSON *cost_json(const struct xbar_cost *k)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "energy_j", en_to_json(&k->ledger));
	rep_add_dbl(o, "energy_per_image_j", k->j_per_image);
	rep_add_dbl(o, "ops_per_image", k->ops_per_image);
	rep_add_dbl(o, "tops_per_w", k->tops_per_w);
	rep_add_dbl(o, "latency_ns", k->latency_ns);
	rep_add_dbl(o, "images_per_s", k->images_per_s);
	rep_add_u64(o, "tiles", (uint64_t)k->tiles);
	return o;
}

static cJSON *plan_json(const struct xbar_enc_plan *p)
{
	cJSON *a = cJSON_CreateArray();
	for (int l = 0; l < p->nl; l++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(p->pulses[l]));
	return a;
}

/* pulse cost: pulses weighted by the layer's share of column reads */
static double plan_cost(const struct xctx *x, const struct xbar_enc_plan *p)
{
	double s = 0, w = 0;
	for (int l = 0; l < p->nl; l++) {
		double wl = (double)xbar_row_tiles(&x->xp, x->m, l) * x->m->dim[l + 1];
		s += wl * p->pulses[l];
		w += wl;
	}
	return s / w;
}

static double plan_mean(const struct xbar_enc_plan *p)
{
	double s = 0;
	for (int l = 0; l < p->nl; l++)
		s += p->pulses[l];
	return s / p->nl;
}

static int finish(struct xctx *x, cJSON *metrics)
{
	cJSON *rep = rep_new(&x->b, x->run.seed, metrics);
	int rc = rep_write_json(x->out, "report.json", rep, &x->err);
	cJSON_Delete(rep);
	return rc;
}

/* ---------------------------------------------------------------- */

static int do_train(struct xctx *x)
{
	if (get_model(x, 1))
		return -1;
	long c = bnn_predict(x->m, x->test.pixels, x->test.n, x->test.labels, NULL);
	double acc = (double)c / x->test.n;
	cJSON *mt = cJSON_CreateObject();
	rep_add_dbl(mt, "test_accuracy", acc);
	rep_add_u64(mt, "test_images", x->test.n);
	cJSON *d = cJSON_AddArrayToObject(mt, "dims");
	for (int l = 0; l <= x->m->nl; l++)
		cJSON_AddItemToArray(d, cJSON_CreateNumber(x->m->dim[l]));
	if (!x->c.quiet)
		printf("ndpsim xbar train — %s 784-%s-10, seed %llu\n  test accuracy (digital, 10,000 images): %.2f %%\n",
		       x->bp.act == BNN_ACT_BINARY ? "BNN (a)" : "network (b)", dims_text(x->bp.hidden),
		       (unsigned long long)x->run.seed, 100 * acc);
	x->done_note = " (the model: model.bnn)";
	return finish(x, mt) ? -1 : 0;
}

static void print_cost(const struct xbar_cost *k)
{
	printf("  energy per inference: %.4g nJ   TOPS/W: %.1f   latency: %.0f ns   images/s: %.3g   tiles: %ld\n",
	       k->j_per_image * 1e9, k->tops_per_w, k->latency_ns, k->images_per_s, k->tiles);
	double tot = en_total_j(&k->ledger);
	for (int i = 0; i < k->ledger.n; i++) {
		const struct en_entry *e = &k->ledger.e[i];
		double j = en_entry_j(e);
		printf("    %-17s %-12s %14llu x %9.3g J = %10.4g J  (%5.1f %%)\n", e->component, e->action,
		       (unsigned long long)e->count, e->j_per_action, j, tot > 0 ? 100 * j / tot : 0.0);
	}
}

/* Per-layer mapping, periphery and area, plus the one-time costs. */
static cJSON *layers_json(const struct xctx *x, const struct xbar_enc_plan *plan,
			  const struct xbar_cost *k, const struct xbar_area *ar)
{
	cJSON *a = cJSON_CreateArray();
	for (int l = 0; l < x->m->nl; l++) {
		cJSON *o = cJSON_CreateObject();
		rep_add_u64(o, "tiles", (uint64_t)ar->tiles[l]);
		rep_add_dbl(o, "utilisation", ar->util[l]);
		rep_add_dbl(o, "tile_mm2", ar->tile_mm2[l]);
		rep_add_dbl(o, "area_mm2", ar->layer_mm2[l]);
		rep_add_dbl(o, "ref_store_mm2", ar->ref_mm2[l]);
		rep_add_u64(o, "pulses", (uint64_t)plan->pulses[l]);
		rep_add_dbl(o, "energy_per_image_j", k->layer_j[l]);
		rep_add_dbl(o, "latency_ns", k->layer_ns[l]);
		rep_add_dbl(o, "tops_per_w", k->layer_tops_per_w[l]);
		rep_add_dbl(o, "tops_per_mm2", k->layer_tops_per_mm2[l]);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

static cJSON *program_json(const struct xbar_program *pr, double calib_j, long runs)
{
	cJSON *o = cJSON_CreateObject();
	rep_add_u64(o, "cells", pr->cells);
	rep_add_u64(o, "write_pulses", pr->pulses);
	rep_add_u64(o, "verify_reads", pr->verifies);
	rep_add_u64(o, "cells_outside_tolerance", pr->capped);
	rep_add_dbl(o, "pulses_per_cell", pr->mean_pulses);
	rep_add_dbl(o, "time_ns", pr->time_ns);
	/* pr->energy_j is the ledger's total: energy_j.total */
	cJSON_AddItemToObject(o, "energy_j", en_to_json(&pr->ledger));
	rep_add_dbl(o, "ref_calibration_energy_j", calib_j);
	rep_add_u64(o, "amortised_over_inferences", (uint64_t)runs);
	rep_add_dbl(o, "amortised_j_per_inference", (pr->energy_j + calib_j) / (double)runs);
	return o;
}

static int gbo_plan(struct xctx *x, const struct xbar_params *q, struct gbo_params *gp,
		    struct gbo_result *gr, struct xbar_enc_plan *plan)
{
	if (gbo_run(gp, q, x->m, x->run.seed, &x->train, gr, &x->err))
		return -1;
	plan->nl = x->m->nl;
	for (int l = 0; l < x->m->nl; l++) {
		plan->enc[l] = XBAR_ENC_UNARY;
		plan->pulses[l] = gr->chosen[l];
	}
	return 0;
}

static int do_eval(struct xctx *x)
{
	if (get_model(x, 0))
		return -1;
	struct xbar_enc_plan plan;
	struct gbo_result gr;
	if (x->with_gbo ? gbo_plan(x, &x->xp, &x->gp, &gr, &plan)
			: xbar_plan(&x->xp, x->m, &plan, &x->err))
		return -1;
	long n = test_n(x);
	long dig = bnn_predict(x->m, x->test.pixels, n, x->test.labels, NULL);
	struct xbar_mc mc;
	struct xbar_cost cost;
	if (eval_plan(x, &x->xp, &plan, &mc, &cost))
		return -1;
	/* chip 0 again, image by image against the digital network */
	long agree = 0;
	double calib_j = 0;
	{
		uint8_t *pd = xmalloc((size_t)n), *px = xmalloc((size_t)n);
		xbar_refs *refs;
		xbar_chip *chip;
		long nc = x->xp.adc_calib_n < (int)x->train.n ? x->xp.adc_calib_n : (long)x->train.n;
		bnn_predict(x->m, x->test.pixels, n, NULL, pd);
		if (xbar_refs_create(&x->xp, x->m, &plan, x->train.pixels, nc, &refs, &x->err) ||
		    xbar_chip_create(&x->xp, x->m, x->run.seed, 0, &chip, &x->err)) {
			free(pd);
			free(px);
			xbar_mc_free(&mc);
			return -1;
		}
		xbar_chip_eval(chip, &plan, refs, x->test.pixels, NULL, n, px, NULL);
		for (long i = 0; i < n; i++)
			agree += pd[i] == px[i];
		const struct xbar_counts *cc = xbar_refs_calib_counts(refs);
		if (cc->images) {
			struct xbar_cost kc;
			xbar_cost(&x->xp, x->m, &plan, cc, &kc);
			calib_j = en_total_j(&kc.ledger);
		}
		xbar_chip_destroy(chip);
		xbar_refs_destroy(refs);
		free(pd);
		free(px);
	}
	cJSON *mt = cJSON_CreateObject();
	rep_add_dbl(mt, "digital_accuracy", (double)dig / n);
	rep_add_u64(mt, "chip0_same_prediction_as_digital", (uint64_t)agree);
	rep_add_u64(mt, "test_images", (uint64_t)n);
	rep_add_u64(mt, "chips", (uint64_t)mc.chips);
	rep_add_dbl(mt, "accuracy_mean", mc.mean);
	rep_add_dbl(mt, "accuracy_sd", mc.sd);
	rep_add_dbl(mt, "accuracy_min", mc.min);
	rep_add_dbl(mt, "accuracy_max", mc.max);
	cJSON_AddItemToObject(mt, "pulses_per_layer", plan_json(&plan));
	if (x->with_gbo)
		cJSON_AddStringToObject(mt, "pulses_from", "gbo");
	rep_add_dbl(mt, "mean_pulses", plan_mean(&plan));
	rep_add_dbl(mt, "pulse_cost", plan_cost(x, &plan));   /* weighted by column reads */
	cJSON_AddItemToObject(mt, "cost", cost_json(&cost));
	struct xbar_area ar;
	xbar_area(&x->xp, x->m, &plan, &ar);
	struct xbar_program prog;
	if (xbar_program_cost(&x->xp, x->m, x->run.seed, 0, &prog, &x->err)) {
		xbar_mc_free(&mc);
		cJSON_Delete(mt);
		return -1;
	}
	cJSON_AddItemToObject(mt, "layers", layers_json(x, &plan, &cost, &ar));
	rep_add_dbl(mt, "chip_mm2", ar.chip_mm2);
	rep_add_dbl(mt, "global_buffer_mm2", ar.global_buf_mm2);
	rep_add_u64(mt, "stored_reference_bits", ar.ref_bits);
	rep_add_dbl(mt, "tops_per_mm2", cost.tops_per_mm2);
	cJSON_AddItemToObject(mt, "programming", program_json(&prog, calib_j, n));
	struct rep_csv *cc = rep_csv_new("chip,correct,accuracy");
	for (int i = 0; i < mc.chips; i++)
		rep_csv_row(cc, "%d,%ld,%.6f", i, mc.correct[i], (double)mc.correct[i] / n);
	struct rep_csv *ce = rep_csv_new("component,action,count,j_per_action,energy_j,energy_per_image_j");
	for (int i = 0; i < cost.ledger.n; i++) {
		const struct en_entry *e = &cost.ledger.e[i];
		rep_csv_row(ce, "%s,%s,%llu,%.6g,%.6g,%.6g", e->component, e->action,
			    (unsigned long long)e->count, e->j_per_action, en_entry_j(e),
			    en_entry_j(e) / (double)mc.counts.images);
	}
	int rc = rep_csv_write(cc, x->out, "chips.csv", &x->err);
	if (!rc)
		rc = rep_csv_write(ce, x->out, "energy.csv", &x->err);
	rep_csv_free(cc);
	rep_csv_free(ce);
	if (!x->c.quiet) {
		char adc[32];
		if (!x->xp.adc_ideal)
			snprintf(adc, sizeof adc, "%d-bit converter", x->xp.adc_bits);
		else
			snprintf(adc, sizeof adc, "unbounded converter");
		printf("ndpsim xbar eval — %d-layer net on %dx%d tiles (%d bias rows), %s, seed %llu\n",
		       x->m->nl, x->xp.rows, x->xp.cols, x->xp.bias_rows, adc,
		       (unsigned long long)x->run.seed);
		printf("  digital BNN: %.2f %%   crossbar over %d chips: mean %.2f %%, sd %.2f, min %.2f, max %.2f  (%ld images)\n",
		       100.0 * dig / n, mc.chips, 100 * mc.mean, 100 * mc.sd, 100 * mc.min, 100 * mc.max, n);
		printf("  chip 0 predicts the same class as the digital network for %ld of %ld images\n", agree, n);
		print_cost(&cost);
		printf("  layer  tiles  util   mm^2      nJ/image  TOPS/W   TOPS/mm^2\n");
		for (int l = 0; l < x->m->nl; l++)
			printf("  %5d  %5ld  %4.2f  %8.4f  %8.4g  %7.1f  %9.3g\n", l, ar.tiles[l], ar.util[l],
			       ar.layer_mm2[l], cost.layer_j[l] * 1e9, cost.layer_tops_per_w[l],
			       cost.layer_tops_per_mm2[l]);
		printf("  chip %.3f mm^2 (global buffer %.4f, %llu reference bits), network %.3g TOPS/mm^2\n",
		       ar.chip_mm2, ar.global_buf_mm2, (unsigned long long)ar.ref_bits, cost.tops_per_mm2);
		printf("  programming (once): %llu cells, %llu pulses (%.2f per cell), %llu verify reads, %.3g ms, %.4g uJ;"
		       " reference calibration %.4g uJ; amortised over %ld inferences: %.4g nJ each\n",
		       (unsigned long long)prog.cells, (unsigned long long)prog.pulses, prog.mean_pulses,
		       (unsigned long long)prog.verifies, prog.time_ns * 1e-6, prog.energy_j * 1e6,
		       calib_j * 1e6, n, (prog.energy_j + calib_j) / (double)n * 1e9);
	}
	xbar_mc_free(&mc);
	if (!rc)
		rc = finish(x, mt);
	else
		cJSON_Delete(mt);
	return rc ? -1 : 0;
}

static int parse_list(struct xctx *x, const char *opt, const char *s, double *v, int max)
{
	int n = 0;
	const char *p = s;
	while (*p) {
		char *end;
		double d = strtod(p, &end);
		if (end == p || n >= max || !(d >= 0)) {
			nd_errf(&x->err, -EINVAL, "%s: \"%s\": expected up to %d non-negative numbers", opt, s, max);
			return -1;
		}
		v[n++] = d;
		p = end;
		if (*p == ',')
			p++;
		else if (*p) {
			nd_errf(&x->err, -EINVAL, "%s: \"%s\": unexpected '%c'", opt, s, *p);
			return -1;
		}
	}
	if (!n) {
		nd_errf(&x->err, -EINVAL, "%s: empty list", opt);
		return -1;
	}
	return n;
}

/* A number of a point's metrics, NaN when absent. */
static double jnum(const cJSON *m, const char *path)
{
	const cJSON *v = sweep_json_path(m, path);
	return cJSON_IsNumber(v) ? v->valuedouble : (double)NAN;
}

/*
 * `xbar noise-sweep` is a grid of `xbar eval --model M` points run by the
 * sweep engine (cli/sweep.h, the one behind `ndpsim sweep`): one point per
 * sigma x encoding (and, with --gbo, one `xbar eval --gbo` per sigma), in
 * DIR/sweep/ (results.jsonl, points/<hash>/), so a killed sweep resumes, -j
 * runs points at once and MPI spreads them over ranks.  The network is
 * trained once (DIR/sweep/model.bnn, reused while the base config is the
 * same) unless --model names one.  When every point is in results.jsonl,
 * sweep.csv, sweep-plot.dat, sweep.gp / sweep.png and report.json are built
 * from the points' metrics into a staged set that replaces DIR as a whole,
 * DIR/sweep/ moved along.
 */
static int do_noise_sweep(struct xctx *x, int jobs)
{
	int rank = sweep_mpi_rank(), rc = 0, code = 0;
	double sig[64];
	int ns = parse_list(x, "--sigmas", x->sigmas, sig, 64);
	if (ns < 0)
		return cli_usage_error("xbar noise-sweep", "%s", x->err.msg);
	if (strcmp(x->param, "read") && strcmp(x->param, "d2d") && strcmp(x->param, "offset"))
		return cli_usage_error("xbar noise-sweep", "--param: '%s' is not read, d2d or offset",
				       x->param);
	char encs[CFG_STR_MAX];
	snprintf(encs, sizeof encs, "%s", x->encodings);
	char *toks[32];
	int ne = 0;
	for (char *t = strtok(encs, ","); t && ne < 32; t = strtok(NULL, ","))
		toks[ne++] = t;
	for (int e = 0; e < ne; e++) {
		char *end;
		long v = strtol(toks[e] + 1, &end, 10);
		if (strcmp(toks[e], "native") &&
		    ((toks[e][0] != 'u' && toks[e][0] != 'b') || end == toks[e] + 1 || *end || v < 1 || v > 64))
			return cli_usage_error("xbar noise-sweep", "--encodings: '%s' is not uN, bK or native",
					       toks[e]);
	}
	char sdir[4200], mpath[4300], keyp[4300], key[17];
	snprintf(sdir, sizeof sdir, "%s/sweep", x->final_out);
	snprintf(keyp, sizeof keyp, "%s/model.key", sdir);
	sweep_hash_hex(cfg_hash(&x->b), key);
	if (x->model_path)
		snprintf(mpath, sizeof mpath, "%s", x->model_path);
	else
		snprintf(mpath, sizeof mpath, "%s/model.bnn", sdir);
	struct sweep_grid g = { .pts_axis = -1 };
	struct sweep_results res = { 0 };
	cJSON *gdoc = NULL, *pts = NULL;
	struct rep_csv *csv = NULL;
	char *dat = NULL;
	const char *fixed[CLI_MAX_SETS + 1];
	int nfixed = 0;
	char seedset[64];
	for (int i = 0; i < x->c.nsets; i++)
		fixed[nfixed++] = x->c.sets[i];
	if (x->c.seed_given) {
		snprintf(seedset, sizeof seedset, "seed=%llu", (unsigned long long)x->c.seed);
		fixed[nfixed++] = seedset;
	}

	/* rank 0: DIR is ours (the figures are staged beside it), and the
	 * network exists: --model, or trained once into DIR/sweep/ */
	if (rank == 0) {
		rc = rep_outdir_begin(&x->od, x->final_out, &x->err);
		x->out = x->od.stage;
		if (!rc && !x->model_path) {
			char *have = NULL;
			int fresh = nd_read_file(keyp, 64, &have, NULL, NULL) || strcmp(have, key) ||
				    access(mpath, R_OK);
			free(have);
			if (fresh) {
				/* model.bnn and train.csv go to DIR/sweep/, which outlives a kill */
				const char *keep = x->out;
				x->out = sdir;
				rc = rep_mkdir_p(sdir, &x->err) ? -1 : get_model(x, 1);
				x->out = keep;
				if (!rc)
					rc = rep_write_atomic(keyp, key, strlen(key), &x->err);
			} else if (!x->c.quiet) {
				fprintf(stderr, "ndpsim xbar noise-sweep: the network of %s (same config)\n", mpath);
			}
		}
	}
	if ((code = sweep_mpi_max(rc ? cli_error(&x->err) : 0)))
		goto out;

	/* the grid: sigma-major, the encodings, then GBO */
	static const char *const on_key[] = { "xbar.noise.read.enable", "xbar.noise.d2d.enable",
					      "xbar.noise.offset.enable" };
	static const char *const sg_key[] = { "xbar.noise.read.sigma", "xbar.noise.d2d.sigma",
					      "xbar.noise.offset.sigma" };
	int pk = !strcmp(x->param, "read") ? 0 : !strcmp(x->param, "d2d") ? 1 : 2;
	gdoc = cJSON_CreateObject();
	cJSON_AddStringToObject(gdoc, "command", "xbar eval");
	cJSON *ga = cJSON_AddArrayToObject(gdoc, "args");
	cJSON_AddItemToArray(ga, cJSON_CreateString("--model"));
	cJSON_AddItemToArray(ga, cJSON_CreateString(mpath));
	cJSON *plist = cJSON_AddArrayToObject(gdoc, "points");
	int per = ne + x->with_gbo;
	for (int s = 0; s < ns; s++)
		for (int e = 0; e < per; e++) {
			cJSON *ent = cJSON_CreateObject();
			cJSON_AddItemToArray(plist, ent);
			/* sigma first, then the encoding: the engine's plot hint is
			 * --x sigma --series encoding.kind */
			cJSON_AddNumberToObject(ent, sg_key[pk], sig[s]);
			if (e == ne) {
				cJSON_AddBoolToObject(ent, on_key[pk], 1);
				cJSON *a = cJSON_AddArrayToObject(ent, "args");
				cJSON_AddItemToArray(a, cJSON_CreateString("--gbo"));
				continue;
			}
			int native = !strcmp(toks[e], "native");
			cJSON_AddStringToObject(ent, "xbar.encoding.kind",
						!native && toks[e][0] == 'b' ? "bitserial" : "unary");
			cJSON_AddNumberToObject(ent, "xbar.encoding.pulses",
						native ? 0 : strtol(toks[e] + 1, NULL, 10));
			cJSON_AddStringToObject(ent, "xbar.encoding.pulses_per_layer", "");
			cJSON_AddBoolToObject(ent, on_key[pk], 1);
		}
	if ((rc = sweep_grid_load_json(gdoc, "xbar noise-sweep", x->c.config_path, fixed, nfixed, &g,
				       &x->err))) {
		code = cli_error(&x->err);
		goto out;
	}
	if (rank == 0 && !x->c.quiet)
		fprintf(stderr, "ndpsim xbar noise-sweep: %zu points, run by the sweep engine in %s/\n",
			g.npoints, sdir);
	struct sweep_opts so = { .out = sdir, .config_path = x->c.config_path, .jobs = jobs,
				 .quiet = x->c.quiet, .child_close_fd = x->od.lock_fd };
	if ((code = sweep_engine(&g, &so)) || rank != 0)
		goto out;

	char rpath[4300];
	snprintf(rpath, sizeof rpath, "%s/results.jsonl", sdir);
	if (sweep_results_read(rpath, -1, &res, &x->err)) {
		code = cli_error(&x->err);
		goto out;
	}
	static double pm[33][64], plo[33][64], phi[33][64];  /* plot data [encoding][sigma] */
	csv = rep_csv_new("param,sigma,encoding,pulses_per_layer,mean_pulses,pulse_cost,accuracy_mean,accuracy_sd,accuracy_min,accuracy_max,energy_per_image_j");
	pts = cJSON_CreateArray();
	int chips = x->xp.chips;
	long li0 = g.npoints ? sweep_results_find(&res, g.pts[0].hash) : -1;
	double nimg = li0 < 0 ? (double)NAN
		: jnum(cJSON_GetObjectItemCaseSensitive(res.line[li0], "metrics"), "test_images");
	if (!x->c.quiet)
		printf("ndpsim xbar noise-sweep — %s noise, %d chips per point, %.0f test images\n  %-8s %-10s %-12s %9s %7s\n",
		       x->param, chips, nimg, "sigma", "encoding", "pulses", "acc %", "sd");
	for (size_t p = 0; p < g.npoints; p++) {
		int s = (int)(p / (size_t)per), e = (int)(p % (size_t)per);
		long li = sweep_results_find(&res, g.pts[p].hash);
		if (li < 0) {
			nd_errf(&x->err, -EIO, "%s: point %zu (%s) is missing", rpath, p, sweep_point_label(&g, p));
			code = cli_error(&x->err);
			goto out;
		}
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(res.line[li], "metrics");
		const char *name = e < ne ? toks[e] : "gbo";
		const cJSON *ppl = cJSON_GetObjectItemCaseSensitive(m, "pulses_per_layer"), *it;
		char pp[128] = "";
		size_t u = 0;
		cJSON_ArrayForEach(it, ppl)
			u += (size_t)snprintf(pp + u, sizeof pp - u, "%s%d", u ? " " : "", it->valueint);
		double mean = jnum(m, "accuracy_mean");
		double sd = jnum(m, "accuracy_sd");
		double mn = jnum(m, "accuracy_min");
		double mx = jnum(m, "accuracy_max");
		double jpi = jnum(m, "cost.energy_per_image_j");
		rep_csv_row(csv, "%s,%g,%s,%s,%.4f,%.4f,%.6f,%.6f,%.6f,%.6f,%.6g", x->param, sig[s], name, pp,
			    jnum(m, "mean_pulses"),
			    jnum(m, "pulse_cost"), mean, sd, mn, mx, jpi);
		pm[e][s] = mean;
		plo[e][s] = mn;
		phi[e][s] = mx;
		cJSON *o = cJSON_CreateObject();
		rep_add_dbl(o, "sigma", sig[s]);
		cJSON_AddStringToObject(o, "encoding", name);
		cJSON *pj = cJSON_Duplicate(ppl, 1);
		sweep_json_exact(pj);
		cJSON_AddItemToObject(o, "pulses_per_layer", pj);
		rep_add_dbl(o, "accuracy_mean", mean);
		rep_add_dbl(o, "accuracy_sd", sd);
		rep_add_dbl(o, "energy_per_image_j", jpi);
		cJSON_AddItemToArray(pts, o);
		if (!x->c.quiet)
			printf("  %-8g %-10s %-12s %9.2f %7.2f\n", sig[s], name, pp, 100 * mean, 100 * sd);
	}
	if (rep_csv_write(csv, x->out, "sweep.csv", &x->err)) {
		code = cli_error(&x->err);
		goto out;
	}
	/* one curve per encoding (a data block each): mean, min-max over chips */
	size_t cap = (size_t)(ne + 1) * (size_t)ns * 64 + 64, u = 0;
	dat = xmalloc(cap);
	for (int e = 0; e < per; e++) {
		u += (size_t)snprintf(dat + u, cap - u, "# %s\n", e < ne ? toks[e] : "gbo");
		for (int k = 0; k < ns; k++)
			u += (size_t)snprintf(dat + u, cap - u, "%g %.4f %.4f %.4f\n", sig[k],
					      100 * pm[e][k], 100 * plo[e][k], 100 * phi[e][k]);
		u += (size_t)snprintf(dat + u, cap - u, "\n\n");
	}
	char dpath[4300];
	snprintf(dpath, sizeof dpath, "%s/sweep-plot.dat", x->out);
	if (rep_write_atomic(dpath, dat, u, &x->err)) {
		code = cli_error(&x->err);
		goto out;
	}
	char gp[8192];
	u = (size_t)snprintf(gp, sizeof gp,
		"set terminal pngcairo size 900,600\nset output 'sweep.png'\n"
		"set title 'Accuracy vs %s noise (mean, min-max over %d chips)'\nset xlabel 'sigma (%s)'\n"
		"set ylabel 'test accuracy (%%)'\nset key top right\nset grid\nplot ",
		x->param, chips, !strcmp(x->param, "offset") ? "matches" : "relative, per cell");
	for (int e = 0; e < per; e++)
		u += (size_t)snprintf(gp + u, sizeof gp - u,
			"%s'sweep-plot.dat' index %d using 1:2:3:4 with yerrorlines lw 2 title '%s'",
			e ? ", " : "", e, e < ne ? toks[e] : "GBO (pulse cost <= gbo.budget)");
	snprintf(gp + u, sizeof gp - u, "\n");
	int gr = rep_gnuplot(x->out, "sweep", gp, &x->err);
	if (gr < 0)
		fprintf(stderr, "ndpsim: %s (plot skipped)\n", x->err.msg);
	cJSON *mt = cJSON_CreateObject();
	cJSON_AddStringToObject(mt, "param", x->param);
	cJSON_AddItemToObject(mt, "points", pts);
	pts = NULL;
	if (finish(x, mt)) {
		code = cli_error(&x->err);
		goto out;
	}
	/* the sweep directory moves into the new set, then the set replaces DIR */
	char moved[4300];
	snprintf(moved, sizeof moved, "%s/sweep", x->out);
	if (rename(sdir, moved)) {
		nd_errf(&x->err, -errno, "rename %s -> %s: %s", sdir, moved, strerror(errno));
		code = cli_error(&x->err);
		goto out;
	}
	if (rep_outdir_commit(&x->od, &x->err)) {
		if (rename(moved, sdir))
			fprintf(stderr, "ndpsim: the sweep's points are in %s\n", moved);
		code = cli_error(&x->err);
		goto out;
	}
	if (!x->c.quiet)
		printf("  results in %s/%s (every point: %s/results.jsonl)\n", x->final_out,
		       gr == 0 ? " (sweep.csv, sweep.png)" : " (sweep.csv)", sdir);
out:
	if (rank == 0)
		rep_outdir_abort(&x->od);
	free(dat);
	rep_csv_free(csv);
	cJSON_Delete(pts);
	cJSON_Delete(gdoc);
	sweep_results_free(&res);
	sweep_grid_free(&g);
	return sweep_mpi_max(code);
}

static int do_gbo(struct xctx *x)
{
	double lam[32];
	int nlam = 1;
	lam[0] = x->gp.lambda;
	if (x->lambdas && (nlam = parse_list(x, "--lambdas", x->lambdas, lam, 32)) < 0)
		return -1;
	if (get_model(x, 0))
		return -1;
	int cand[GBO_MAX_CAND];
	int nc = gbo_parse_candidates(x->gp.candidates, cand, &x->err);
	if (nc < 0)
		return -1;
	struct rep_csv *csv = rep_csv_new("kind,lambda,pulses_per_layer,mean_pulses,pulse_cost,accuracy_mean,accuracy_sd,energy_per_image_j,tops_per_w,budget_kind,latency_ns,images_per_s");
	cJSON *runs = cJSON_CreateArray();
	/* jobs: uniform T for every candidate; GBO for every lambda under
	 * gbo.budget_kind; with a budget also GBO under the other kind and
	 * the cheapest-layer baseline under both */
	struct job { int kind; int bk; double lambda; int t; } jobs[GBO_MAX_CAND + 32 + 3];
	int nj = 0;
	for (int k = 0; k < nc; k++)
		jobs[nj++] = (struct job){ 0, x->gp.budget_kind, 0, cand[k] };
	for (int k = 0; k < nlam; k++)
		jobs[nj++] = (struct job){ 1, x->gp.budget_kind, lam[k], 0 };
	if (x->gp.budget > 0) {
		jobs[nj++] = (struct job){ 1, !x->gp.budget_kind, lam[0], 0 };
		jobs[nj++] = (struct job){ 2, GBO_BUDGET_MEAN, 0, 0 };
		jobs[nj++] = (struct job){ 2, GBO_BUDGET_WEIGHTED, 0, 0 };
	}
	static const char *const kname[] = { "uniform", "gbo", "cheapest" };
	static const char *const bname[] = { "weighted", "mean" };
	if (!x->c.quiet)
		printf("ndpsim xbar gbo — candidates %s, budget %g, %d chips, %ld test images\n"
		       "  %-8s %-8s %-8s %-12s %6s %7s %7s %6s %10s %8s %10s\n",
		       x->gp.candidates, x->gp.budget, x->xp.chips, test_n(x), "kind", "budget", "lambda",
		       "pulses", "mean T", "wcost T", "acc %", "sd", "nJ/image", "lat ns", "images/s");
	for (int k = 0; k < nj; k++) {
		struct xbar_enc_plan plan;
		struct gbo_result gr;
		const struct job *jb = &jobs[k];
		struct gbo_params gp = x->gp;
		gp.lambda = jb->lambda;
		gp.budget_kind = jb->bk;
		if (jb->kind == 1) {
			if (gbo_plan(x, &x->xp, &gp, &gr, &plan))
				goto fail;
		} else if (jb->kind == 2) {
			if (gbo_cheapest_first(&gp, &x->xp, x->m, &plan, &x->err))
				goto fail;
		} else {
			plan.nl = x->m->nl;
			for (int l = 0; l < plan.nl; l++) {
				plan.enc[l] = XBAR_ENC_UNARY;
				plan.pulses[l] = jb->t;
			}
		}
		struct xbar_mc mc;
		struct xbar_cost cost;
		if (eval_plan(x, &x->xp, &plan, &mc, &cost))
			goto fail;
		char ppl[128] = "";
		size_t u = 0;
		for (int l = 0; l < plan.nl; l++)
			u += (size_t)snprintf(ppl + u, sizeof ppl - u, "%s%d", l ? " " : "", plan.pulses[l]);
		const char *bk = jb->kind ? bname[jb->bk] : "-";
		rep_csv_row(csv, "%s,%g,%s,%.4f,%.4f,%.6f,%.6f,%.6g,%.4f,%s,%.1f,%.6g", kname[jb->kind], jb->lambda, ppl,
			    plan_mean(&plan), plan_cost(x, &plan), mc.mean, mc.sd, cost.j_per_image, cost.tops_per_w,
			    bk, cost.latency_ns, cost.images_per_s);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", kname[jb->kind]);
		cJSON_AddStringToObject(o, "budget_kind", bk);
		rep_add_dbl(o, "lambda", jb->lambda);
		cJSON_AddItemToObject(o, "pulses_per_layer", plan_json(&plan));
		rep_add_dbl(o, "accuracy_mean", mc.mean);
		rep_add_dbl(o, "accuracy_sd", mc.sd);
		rep_add_dbl(o, "energy_per_image_j", cost.j_per_image);
		rep_add_dbl(o, "pulse_cost", plan_cost(x, &plan));
		rep_add_dbl(o, "mean_pulses", plan_mean(&plan));
		rep_add_dbl(o, "latency_ns", cost.latency_ns);
		rep_add_dbl(o, "images_per_s", cost.images_per_s);
		if (jb->kind == 1) {
			cJSON *pr = cJSON_AddArrayToObject(o, "probabilities");
			for (int l = 0; l < gr.nl; l++) {
				cJSON *row = cJSON_CreateArray();
				for (int c = 0; c < gr.ncand; c++)
					cJSON_AddItemToArray(row, cJSON_CreateNumber(gr.prob[l][c]));
				cJSON_AddItemToArray(pr, row);
			}
			rep_add_dbl(o, "loss_first", gr.loss_first);
			rep_add_dbl(o, "loss_last", gr.loss_last);
		}
		cJSON_AddItemToArray(runs, o);
		if (!x->c.quiet)
			printf("  %-8s %-8s %-8g %-12s %6.2f %7.2f %7.2f %6.2f %10.4g %8.0f %10.3g\n", kname[jb->kind],
			       bk, jb->lambda, ppl, plan_mean(&plan), plan_cost(x, &plan), 100 * mc.mean,
			       100 * mc.sd, cost.j_per_image * 1e9, cost.latency_ns, cost.images_per_s);
		xbar_mc_free(&mc);
	}
	if (rep_csv_write(csv, x->out, "gbo.csv", &x->err))
		goto fail;
	rep_csv_free(csv);
	csv = NULL;
	const char *gps =
		"set terminal pngcairo size 900,600\nset output 'gbo.png'\nset datafile separator ','\n"
		"set title 'GBO: accuracy vs energy per inference'\nset xlabel 'energy per inference (nJ)'\n"
		"set ylabel 'test accuracy (%)'\nset key bottom right\nset grid\n"
		"plot 'gbo.csv' using (strcol(1) eq 'uniform' ? $8*1e9 : 1/0):(100*$6):(100*$7) with yerrorlines title 'uniform unary T', "
		"'gbo.csv' using (strcol(1) eq 'gbo' ? $8*1e9 : 1/0):(100*$6):(100*$7) with yerrorbars pt 7 title 'GBO'\n";
	if (rep_gnuplot(x->out, "gbo", gps, &x->err) < 0)
		fprintf(stderr, "ndpsim: %s (plot skipped)\n", x->err.msg);
	cJSON *mt = cJSON_CreateObject();
	cJSON_AddItemToObject(mt, "runs", runs);
	return finish(x, mt) ? -1 : 0;
fail:
	rep_csv_free(csv);
	cJSON_Delete(runs);
	return -1;
}

/* Whether the model file sits directly in the directory out (both exist). */
static int model_inside(const char *model, const char *out)
{
	char dir[4096], a[PATH_MAX], b[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", model);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof dir, ".");
	return realpath(dir, a) && realpath(out, b) && !strcmp(a, b);
}

int cmd_xbar(int argc, char **argv)
{
	if (argc < 2) {
		fputs(help_top, stderr);
		return 2;
	}
	struct xctx x;
	memset(&x, 0, sizeof x);
	x.sub = argv[1];
	x.param = "read";
	x.sigmas = "0,0.1,0.2,0.3,0.4,0.5";
	x.encodings = "u1,u2,u4,u8,b4";
	const char *help;
	char subname[64];
	if (!strcmp(x.sub, "--help") || !strcmp(x.sub, "-h")) {
		fputs(help_top, stdout);
		return 0;
	} else if (!strcmp(x.sub, "train")) {
		help = help_train;
	} else if (!strcmp(x.sub, "eval")) {
		help = help_eval;
	} else if (!strcmp(x.sub, "noise-sweep")) {
		help = help_sweep;
	} else if (!strcmp(x.sub, "gbo")) {
		help = help_gbo;
	} else if (!strcmp(x.sub, "cnn")) {
		return cmd_xbar_cnn(argc - 1, argv + 1);
	} else {
		fprintf(stderr, "ndpsim xbar: unknown subcommand '%s'\n", x.sub);
		fputs(help_top, stderr);
		return 2;
	}
	snprintf(subname, sizeof subname, "xbar %s", x.sub);
	const char *jobs_s = NULL;
	for (int i = 2; i < argc;) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(help, stdout);
			fputs(cli_common_help, stdout);
			return 0;
		}
		if (!strcmp(a, "--gbo") && (!strcmp(x.sub, "noise-sweep") || !strcmp(x.sub, "eval"))) {
			x.with_gbo = 1;
			i++;
			continue;
		}
		const char **slot = NULL;
		if (!strcmp(a, "--model") && strcmp(x.sub, "train"))
			slot = &x.model_path;
		else if (!strcmp(x.sub, "noise-sweep") && !strcmp(a, "--param"))
			slot = &x.param;
		else if (!strcmp(x.sub, "noise-sweep") && !strcmp(a, "--sigmas"))
			slot = &x.sigmas;
		else if (!strcmp(x.sub, "noise-sweep") && !strcmp(a, "--encodings"))
			slot = &x.encodings;
		else if (!strcmp(x.sub, "gbo") && !strcmp(a, "--lambdas"))
			slot = &x.lambdas;
		else if (!strcmp(x.sub, "noise-sweep") && (!strcmp(a, "-j") || !strcmp(a, "--jobs")))
			slot = &jobs_s;
		if (slot) {
			if (i + 1 >= argc)
				return cli_usage_error(subname, "%s needs a value", a);
			*slot = argv[i + 1];
			i += 2;
			continue;
		}
		int k = cli_common_opt(&x.c, argc, argv, &i, &x.err);
		if (k < 0)
			return cli_usage_error(subname, "%s", x.err.msg);
		if (k == 0)
			return cli_usage_error(subname, "unknown option '%s'", a);
	}
	const struct cli_param pool[] = {
		{ &run_section, &x.run }, { &bnn_section, &x.bp }, { &xbar_section, &x.xp },
		{ &gbo_section, &x.gp },
	};
	cli_bundle_cmd(&x.b, "xbar", pool, ND_ARRAY_LEN(pool));   /* sections: cli/registry.c */
	if (cli_load(&x.b, &x.c, &x.err))
		return cli_error(&x.err);
	cli_apply_run(&x.run);
	static char outbuf[256];
	snprintf(outbuf, sizeof outbuf, "results/xbar-%s", !strcmp(x.sub, "noise-sweep") ? "sweep" : x.sub);
	x.final_out = x.c.out_dir ? x.c.out_dir : outbuf;
	if (x.model_path && model_inside(x.model_path, x.final_out))
		return cli_usage_error(subname, "--model %s lies in --out %s, which this run replaces "
				       "as a whole; name another --out", x.model_path, x.final_out);
	x.od.lock_fd = -1;
	if (!strcmp(x.sub, "noise-sweep")) {
		long jobs = 0;
		if (jobs_s) {
			char *end;
			jobs = strtol(jobs_s, &end, 10);
			if (end == jobs_s || *end || jobs < 1 || jobs > 1024)
				return cli_usage_error(subname, "-j: \"%s\" is not a number of jobs in [1, 1024]",
						       jobs_s);
		}
		sweep_mpi_init();
		int code = do_noise_sweep(&x, (int)jobs);
		ctx_free(&x);
		sweep_mpi_fini();
		return code;
	}
	/* staged beside the named directory and swapped in whole (core/outdir.h):
	 * a failed or killed run leaves the previous set as it was */
	if (rep_outdir_begin(&x.od, x.final_out, &x.err))
		return cli_error(&x.err);
	x.out = x.od.stage;
	x.done_note = "";
	int rc;
	if (!strcmp(x.sub, "train"))
		rc = do_train(&x);
	else if (!strcmp(x.sub, "eval"))
		rc = do_eval(&x);
	else
		rc = do_gbo(&x);
	ctx_free(&x);
	if (!rc)
		rc = rep_outdir_commit(&x.od, &x.err);
	else
		rep_outdir_abort(&x.od);
	if (!rc && !x.c.quiet)
		printf("  results in %s/%s\n", x.final_out, x.done_note);
	return rc ? cli_error(&x.err) : 0;
}
