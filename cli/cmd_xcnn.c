/* cmd_xcnn.c — `ndpsim xbar cnn`: the float / BWN / BNN conv nets of
 * workloads/bcnn.h trained side by side, the BNN on crossbar tiles
 * (analog/xbar_conv.h) ideal and as configured. */
#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analog/gbo.h"
#include "analog/xbar.h"
#include "analog/xbar_conv.h"
#include "cli/cli.h"
#include "cli/cmds.h"
#include "core/outdir.h"
#include "core/report.h"
#include "core/util.h"
#include "workloads/bcnn.h"
#include "workloads/idx.h"

static const char help_cnn[] =
	"usage: ndpsim xbar cnn [--modes LIST] [--model FILE] [--gbo [--lambdas LIST] [--uniform LIST]]\n"
	"                       [--config FILE] [--set KEY=VALUE]... [--out DIR]\n"
	"Trains the bcnn.* network (2x(conv,conv,pool),fc,fc on Fashion-MNIST) in each\n"
	"numeric form of LIST (default float,bwn,bnn; same code path, straight-through\n"
	"estimator), then runs the BNN on crossbar tiles: ideal (every xbar effect off,\n"
	"converter resolving every level) and as configured by xbar.* (the noisy row),\n"
	"xbar.chips instances over xbar.test_n images.  Prints the accuracy table, tiles\n"
	"and utilisation per layer and the energy ledger per inference.  Writes\n"
	"report.json, layers.csv, train-<mode>.csv and the trained BNN as model.bcnn\n"
	"to --out (results/xbar-cnn).\n"
	"  --modes LIST     subset of float,bwn,bnn\n"
	"  --model FILE     reuse a BNN written by an earlier run (model.bcnn; its shape\n"
	"                   replaces bcnn.conv/kernel/fc/input_steps) instead of\n"
	"                   training one; --modes then defaults to bnn\n"
	"  --gbo            learn the BNN's per-layer unary pulse counts (conv and fc)\n"
	"                   with GBO (gbo.* keys, noise of the xbar.* keys) and evaluate\n"
	"                   each encoding on xbar.chips chips x xbar.test_n images, as\n"
	"                   `xbar gbo` does for the MLP: uniform T for every candidate,\n"
	"                   GBO for every lambda under gbo.budget_kind and, with\n"
	"                   gbo.budget, GBO under the other kind (weighted: pulses\n"
	"                   weighted by the layer's share of column reads, row tiles x\n"
	"                   channels x positions; mean: the plain mean pulses per\n"
	"                   layer) and the \"most pulses to the cheapest layer\"\n"
	"                   baseline under both.  Writes gbo.csv (accuracy, energy,\n"
	"                   latency and pipelined throughput of each encoding); the\n"
	"                   ideal-crossbar rows are skipped, the as-configured row stays\n"
	"  --lambdas LIST   with --gbo: run GBO once per lambda (default: gbo.lambda)\n"
	"  --uniform LIST   with --gbo: the uniform T evaluated (default: every\n"
	"                   gbo.candidates value)\n";

static void epoch_cb(void *arg, int epoch, double loss, double acc)
{
	struct rep_csv *csv = arg;
	(void)acc;
	rep_csv_row(csv, "%d,%.6f", epoch, loss);
	fprintf(stderr, "    epoch %d: training loss %.4f\n", epoch, loss);
}

static const char *const mode_label[] = { "DNN float", "BWN", "BNN" };
static const char *const mode_key[] = { "float", "bwn", "bnn" };

static void ideal_params(struct xbar_params *q)
{
	q->d2d_on = q->read_on = q->stuck_on = q->offset_on = q->onoff_on = 0;
	q->prog_on = q->drift_on = q->ret_on = q->ir_on = 0;
	q->adc_ideal = 1;
}

static cJSON *mc_json(const struct xbar_mc *mc)
{
	cJSON *o = cJSON_CreateObject();
	rep_add_dbl(o, "accuracy_mean", mc->mean);
	rep_add_dbl(o, "accuracy_sd", mc->sd);
	rep_add_dbl(o, "accuracy_min", mc->min);
	rep_add_dbl(o, "accuracy_max", mc->max);
	rep_add_u64(o, "chips", (uint64_t)mc->chips);
	rep_add_u64(o, "images", (uint64_t)mc->n);
	return o;
}

/* One encoding of the GBO table: its plan as xbar.encoding.pulses_per_layer
 * of a copy of xp, references made for it (calibrated ones on training
 * images, as the configured row), the Monte Carlo and the cost. */
static int eval_encoding(const struct xbar_params *xp, const struct bcnn_model *bm,
			 const struct xbar_enc_plan *plan, uint64_t seed,
			 const struct wl_dataset *train, const struct wl_dataset *test, long n,
			 struct xbar_mc *mc, struct xbar_cost *cost, struct nd_err *err)
{
	struct xbar_params q = *xp;
	size_t u = 0;
	q.enc = XBAR_ENC_UNARY;
	q.pulses_per_layer[0] = '\0';
	for (int l = 0; l < plan->nl; l++)
		u += (size_t)snprintf(q.pulses_per_layer + u, sizeof q.pulses_per_layer - u, "%s%d",
				      l ? "," : "", plan->pulses[l]);
	xbar_refs *refs = NULL;
	long cn = q.adc_calib_n < (long)train->n ? q.adc_calib_n : (long)train->n;
	int rc = xbar_conv_refs(&q, bm, train->pixels, cn, &refs, err);
	if (!rc)
		rc = xbar_conv_monte_carlo(&q, bm, refs, seed, test->pixels, test->labels, n, mc, err);
	xbar_refs_destroy(refs);
	if (!rc)
		xbar_conv_cost(&q, bm, &mc->counts, cost);
	return rc;
}

static double plan_wsum(const double *w, const struct xbar_enc_plan *p)
{
	double s = 0;
	for (int l = 0; l < p->nl; l++)
		s += w[l] * p->pulses[l];
	return s;
}

/* `xbar cnn --gbo`: the jobs of `xbar gbo` on the CNN's layers; rows to
 * gbo.csv in out, the runs to the returned JSON array (NULL on error). */
static cJSON *cnn_gbo(const struct gbo_params *gp0, const struct xbar_params *xp,
		      const struct bcnn_model *bm, uint64_t seed, const struct wl_dataset *train,
		      const struct wl_dataset *test, long n, const double *lam, int nlam,
		      const int *uni, int nuni, const char *out, int quiet, struct nd_err *err)
{
	struct job { int kind; int bk; double lambda; int t; } jobs[GBO_MAX_CAND + 32 + 3];
	int nj = 0;
	for (int k = 0; k < nuni; k++)
		jobs[nj++] = (struct job){ 0, gp0->budget_kind, 0, uni[k] };
	for (int k = 0; k < nlam; k++)
		jobs[nj++] = (struct job){ 1, gp0->budget_kind, lam[k], 0 };
	if (gp0->budget > 0) {
		jobs[nj++] = (struct job){ 1, !gp0->budget_kind, lam[0], 0 };
		jobs[nj++] = (struct job){ 2, GBO_BUDGET_MEAN, 0, 0 };
		jobs[nj++] = (struct job){ 2, GBO_BUDGET_WEIGHTED, 0, 0 };
	}
	static const char *const kname[] = { "uniform", "gbo", "cheapest" };
	static const char *const bname[] = { "weighted", "mean" };
	double wread[BNN_MAX_LAYERS];
	gbo_conv_weights(xp, bm, GBO_BUDGET_WEIGHTED, wread);
	struct rep_csv *csv = rep_csv_new("kind,lambda,pulses_per_layer,mean_pulses,pulse_cost,accuracy_mean,accuracy_sd,energy_per_image_j,tops_per_w,budget_kind,latency_ns,images_per_s,gbo_cpu_s,eval_cpu_s");
	cJSON *runs = cJSON_CreateArray();
	if (!quiet)
		printf("  GBO over the CNN's %d crossbar layers — candidates %s, budget %g, %d chips x %ld test images\n"
		       "  %-8s %-8s %-8s %-14s %6s %7s %7s %6s %10s %9s %10s\n",
		       bm->s.nl, gp0->candidates, gp0->budget, xp->chips, n, "kind", "budget", "lambda",
		       "pulses", "mean T", "wcost T", "acc %", "sd", "nJ/image", "lat ns", "images/s");
	for (int k = 0; k < nj; k++) {
		const struct job *jb = &jobs[k];
		struct gbo_params gp = *gp0;
		gp.lambda = jb->lambda;
		gp.budget_kind = jb->bk;
		struct xbar_enc_plan plan;
		struct gbo_result gr;
		memset(&gr, 0, sizeof gr);
		double gs = 0, es;
		clock_t t0 = clock();
		if (jb->kind == 1) {
			if (gbo_conv_run(&gp, xp, bm, seed, train, &gr, err))
				goto fail;
			plan.nl = gr.nl;
			for (int l = 0; l < gr.nl; l++) {
				plan.enc[l] = XBAR_ENC_UNARY;
				plan.pulses[l] = gr.chosen[l];
			}
			gs = (double)(clock() - t0) / CLOCKS_PER_SEC;
		} else if (jb->kind == 2) {
			if (gbo_conv_cheapest_first(&gp, xp, bm, &plan, err))
				goto fail;
		} else {
			plan.nl = bm->s.nl;
			for (int l = 0; l < plan.nl; l++) {
				plan.enc[l] = XBAR_ENC_UNARY;
				plan.pulses[l] = jb->t;
			}
		}
		struct xbar_mc mc;
		struct xbar_cost cost;
		memset(&mc, 0, sizeof mc);
		t0 = clock();
		if (eval_encoding(xp, bm, &plan, seed, train, test, n, &mc, &cost, err)) {
			xbar_mc_free(&mc);
			goto fail;
		}
		es = (double)(clock() - t0) / CLOCKS_PER_SEC;
		char ppl[128] = "";
		size_t u = 0;
		for (int l = 0; l < plan.nl; l++)
			u += (size_t)snprintf(ppl + u, sizeof ppl - u, "%s%d", l ? " " : "", plan.pulses[l]);
		double mean = 0;
		for (int l = 0; l < plan.nl; l++)
			mean += plan.pulses[l];
		mean /= plan.nl;
		double wc = plan_wsum(wread, &plan);
		const char *bk = jb->kind ? bname[jb->bk] : "-";
		rep_csv_row(csv, "%s,%g,%s,%.4f,%.4f,%.6f,%.6f,%.6g,%.4f,%s,%.1f,%.6g,%.2f,%.2f", kname[jb->kind],
			    jb->lambda, ppl, mean, wc, mc.mean, mc.sd, cost.j_per_image, cost.tops_per_w, bk,
			    cost.latency_ns, cost.images_per_s, gs, es);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", kname[jb->kind]);
		cJSON_AddStringToObject(o, "budget_kind", bk);
		rep_add_dbl(o, "lambda", jb->lambda);
		cJSON *pa = cJSON_AddArrayToObject(o, "pulses_per_layer");
		for (int l = 0; l < plan.nl; l++)
			cJSON_AddItemToArray(pa, cJSON_CreateNumber(plan.pulses[l]));
		rep_add_dbl(o, "mean_pulses", mean);
		rep_add_dbl(o, "pulse_cost", wc);
		cJSON_AddItemToObject(o, "mc", mc_json(&mc));
		rep_add_dbl(o, "energy_per_image_j", cost.j_per_image);
		rep_add_dbl(o, "tops_per_w", cost.tops_per_w);
		rep_add_dbl(o, "latency_ns", cost.latency_ns);
		rep_add_dbl(o, "images_per_s", cost.images_per_s);
		rep_add_dbl(o, "eval_cpu_s", es);
		if (jb->kind == 1) {
			cJSON *pr = cJSON_AddArrayToObject(o, "probabilities");
			for (int l = 0; l < gr.nl; l++) {
				cJSON *row = cJSON_CreateArray();
				for (int c = 0; c < gr.ncand; c++)
					cJSON_AddItemToArray(row, cJSON_CreateNumber(gr.prob[l][c]));
				cJSON_AddItemToArray(pr, row);
			}
			rep_add_dbl(o, "lambda_final", gr.lambda_final);
			rep_add_dbl(o, "loss_first", gr.loss_first);
			rep_add_dbl(o, "loss_last", gr.loss_last);
			rep_add_dbl(o, "gbo_cpu_s", gs);
		}
		cJSON_AddItemToArray(runs, o);
		if (!quiet) {
			printf("  %-8s %-8s %-8g %-14s %6.2f %7.2f %7.2f %6.2f %10.4g %9.0f %10.3g\n", kname[jb->kind],
			       bk, jb->lambda, ppl, mean, wc, 100 * mc.mean, 100 * mc.sd, cost.j_per_image * 1e9,
			       cost.latency_ns, cost.images_per_s);
			fflush(stdout);
		}
		xbar_mc_free(&mc);
	}
	if (rep_csv_write(csv, out, "gbo.csv", err))
		goto fail;
	rep_csv_free(csv);
	return runs;
fail:
	rep_csv_free(csv);
	cJSON_Delete(runs);
	return NULL;
}

/* "1,2,4" -> ints in [lo, hi]; returns the count or -1 with err set. */
static int parse_ints(const char *opt, const char *s, int *v, int max, int lo, int hi, struct nd_err *err)
{
	int n = 0;
	const char *p = s;
	while (*p) {
		char *end;
		long d = strtol(p, &end, 10);
		if (end == p || n >= max || d < lo || d > hi) {
			nd_errf(err, -EINVAL, "%s: \"%s\": expected up to %d integers in %d..%d", opt, s, max, lo, hi);
			return -1;
		}
		v[n++] = (int)d;
		p = end;
		if (*p == ',')
			p++;
		else if (*p) {
			nd_errf(err, -EINVAL, "%s: \"%s\": unexpected '%c'", opt, s, *p);
			return -1;
		}
	}
	if (!n) {
		nd_errf(err, -EINVAL, "%s: empty list", opt);
		return -1;
	}
	return n;
}

static int parse_lambdas(const char *s, double *v, int max, struct nd_err *err)
{
	int n = 0;
	const char *p = s;
	while (*p) {
		char *end;
		double d = strtod(p, &end);
		if (end == p || n >= max || !(d >= 0) || !(d <= 100)) {
			nd_errf(err, -EINVAL, "--lambdas: \"%s\": expected up to %d numbers in [0, 100]", s, max);
			return -1;
		}
		v[n++] = d;
		p = end;
		if (*p == ',')
			p++;
		else if (*p) {
			nd_errf(err, -EINVAL, "--lambdas: \"%s\": unexpected '%c'", s, *p);
			return -1;
		}
	}
	if (!n) {
		nd_errf(err, -EINVAL, "--lambdas: empty list");
		return -1;
	}
	return n;
}

int cmd_xbar_cnn(int argc, char **argv)
{
	struct cli_common c;
	struct run_params run;
	struct bcnn_params bp;
	struct xbar_params xp;
	struct gbo_params gp;
	struct cfg_bundle b;
	struct nd_err err;
	memset(&c, 0, sizeof c);
	memset(&b, 0, sizeof b);
	memset(&err, 0, sizeof err);
	const char *modes = NULL, *model_path = NULL, *lambdas_s = NULL, *uniform_s = NULL;
	int with_gbo = 0;
	for (int i = 1; i < argc;) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(help_cnn, stdout);
			fputs(cli_common_help, stdout);
			return 0;
		}
		if (!strcmp(a, "--modes")) {
			if (i + 1 >= argc)
				return cli_usage_error("xbar cnn", "--modes needs a value");
			modes = argv[i + 1];
			i += 2;
			continue;
		}
		if (!strcmp(a, "--gbo")) {
			with_gbo = 1;
			i++;
			continue;
		}
		if (!strcmp(a, "--lambdas") || !strcmp(a, "--uniform")) {
			if (i + 1 >= argc)
				return cli_usage_error("xbar cnn", "%s needs a value", a);
			*(!strcmp(a, "--lambdas") ? &lambdas_s : &uniform_s) = argv[i + 1];
			i += 2;
			continue;
		}
		if (!strcmp(a, "--model")) {
			if (i + 1 >= argc)
				return cli_usage_error("xbar cnn", "--model needs a file");
			model_path = argv[i + 1];
			i += 2;
			continue;
		}
		int k = cli_common_opt(&c, argc, argv, &i, &err);
		if (k < 0)
			return cli_usage_error("xbar cnn", "%s", err.msg);
		if (k == 0)
			return cli_usage_error("xbar cnn", "unknown option '%s'", a);
	}
	int want[3] = { 0, 0, 0 };
	if (!modes)
		modes = model_path ? "bnn" : "float,bwn,bnn";
	{
		char buf[64];
		snprintf(buf, sizeof buf, "%s", modes);
		for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
			int f = -1;
			for (int m = 0; m < 3; m++)
				if (!strcmp(tok, mode_key[m]))
					f = m;
			if (f < 0)
				return cli_usage_error("xbar cnn", "--modes: '%s' is not float, bwn or bnn", tok);
			want[f] = 1;
		}
	}
	cfg_bundle_add(&b, &run_section, &run);
	cfg_bundle_add(&b, &bcnn_section, &bp);
	cfg_bundle_add(&b, &xbar_section, &xp);
	cfg_bundle_add(&b, &gbo_section, &gp);
	if (cli_load(&b, &c, &err))
		return cli_error(&err);
	cli_apply_run(&run);
	/* GBO's lists, checked before anything is written */
	double lam[32];
	int uni[GBO_MAX_CAND], nlam = 1, nuni;
	lam[0] = gp.lambda;
	if ((lambdas_s || uniform_s) && !with_gbo)
		return cli_usage_error("xbar cnn", "%s needs --gbo", lambdas_s ? "--lambdas" : "--uniform");
	if (with_gbo && !want[BCNN_BNN])
		return cli_usage_error("xbar cnn", "--gbo needs the bnn mode (--modes ...,bnn)");
	if (lambdas_s && (nlam = parse_lambdas(lambdas_s, lam, 32, &err)) < 0)
		return cli_usage_error("xbar cnn", "%s", err.msg);
	nuni = uniform_s ? parse_ints("--uniform", uniform_s, uni, GBO_MAX_CAND, 1, 64, &err)
			 : gbo_parse_candidates(gp.candidates, uni, &err);
	if (nuni < 0)
		return uniform_s ? cli_usage_error("xbar cnn", "%s", err.msg) : cli_error(&err);
	/* a model file is read (and refused) before anything is written */
	struct bcnn_model *loaded = NULL;
	if (model_path && bcnn_model_load(model_path, &loaded, &err))
		return cli_error(&err);
	/* the mapping is checked before any training: a random model of the
	 * same shape has the same tiles */
	struct xbar_conv_map map;
	{
		struct bcnn_model *probe = loaded ? NULL : bcnn_random(&bp, 1, &err);
		if (!loaded && !probe)
			return cli_error(&err);
		int rc = xbar_conv_map(&xp, loaded ? loaded : probe, &map, &err);
		bcnn_model_free(probe);
		if (rc) {
			bcnn_model_free(loaded);
			return cli_error(&err);
		}
	}
	const char *final_out = c.out_dir ? c.out_dir : "results/xbar-cnn";
	/* staged and swapped in whole (core/outdir.h), as every other command */
	struct rep_outdir od;
	if (rep_outdir_begin(&od, final_out, &err)) {
		bcnn_model_free(loaded);
		return cli_error(&err);
	}
	const char *out = od.stage;
	struct wl_dataset train, test;
	memset(&train, 0, sizeof train);
	memset(&test, 0, sizeof test);
	if (wl_fmnist_load(wl_fmnist_default_dir(), 1, &train, &err)) {
		bcnn_model_free(loaded);
		rep_outdir_abort(&od);
		return cli_error(&err);
	}
	if (wl_fmnist_load(wl_fmnist_default_dir(), 0, &test, &err)) {
		bcnn_model_free(loaded);
		wl_dataset_free(&train);
		rep_outdir_abort(&od);
		return cli_error(&err);
	}
	int rc = 0;
	struct bcnn_result res[3];
	memset(res, 0, sizeof res);
	struct bcnn_shape s;
	bcnn_shape(&bp, &s, &err);
	char conv_s[CFG_STR_MAX];
	snprintf(conv_s, sizeof conv_s, "%s", bp.conv);
	int kernel = bp.kernel, fc = bp.fc;
	if (loaded) {
		s = loaded->s;
		bcnn_model_conv(loaded, conv_s, sizeof conv_s);
		kernel = s.k[0];
		fc = s.cout[s.nconv];
		/* the loaded BNN in place of a trained one: its digital accuracy */
		if (want[BCNN_BNN]) {
			res[BCNN_BNN].model = loaded;
			res[BCNN_BNN].test_acc = (double)bcnn_predict(loaded, test.pixels, (long)test.n,
								      test.labels, NULL) / (double)test.n;
			res[BCNN_BNN].train_s = 0;
			loaded = NULL;
			if (!c.quiet)
				fprintf(stderr, "ndpsim xbar cnn: BNN from %s (conv %s, k %d, fc %d), not trained\n",
					model_path, conv_s, kernel, fc);
		}
	}
	for (int m = 0; m < 3 && !rc; m++) {
		if (!want[m] || (m == BCNN_BNN && res[m].model))
			continue;
		struct bcnn_params q = bp;
		q.mode = m;
		if (!c.quiet)
			fprintf(stderr, "ndpsim xbar cnn: training %s (conv %s, k %d, fc %d; %d epochs x %d images)\n",
				mode_label[m], bp.conv, bp.kernel, bp.fc, bp.epochs,
				bp.train_n ? bp.train_n : (int)train.n);
		struct rep_csv *csv = rep_csv_new("epoch,train_loss");
		/* noise-aware training (BNN only): the crossbar's noise model of
		 * xp's tiles with the bcnn.noise_aware.* sigmas */
		struct xbar_bnn_noise nz;
		struct bnn_noise_hook hook = { xbar_bnn_noise_fn, &nz };
		if (bp.na_on && m == BCNN_BNN) {
			struct bnn_params nb;
			memset(&nb, 0, sizeof nb);
			nb.na_d2d_sigma = bp.na_d2d_sigma;
			nb.na_read_sigma = bp.na_read_sigma;
			nb.na_pulses = bp.na_pulses;
			xbar_bnn_noise_init(&nz, &xp, &nb, run.seed);
		}
		q.na_on = 0;
		rc = bcnn_train_noisy(&q, run.seed, &train, &test, c.quiet ? NULL : epoch_cb, csv,
				      bp.na_on && m == BCNN_BNN ? &hook : NULL, &res[m], &err);
		char name[64];
		snprintf(name, sizeof name, "train-%s.csv", mode_key[m]);
		if (!rc)
			rc = rep_csv_write(csv, out, name, &err);
		rep_csv_free(csv);
		/* the trained BNN, reusable with --model */
		if (!rc && m == BCNN_BNN) {
			char path[4200];
			snprintf(path, sizeof path, "%s/model.bcnn", out);
			rc = bcnn_model_save(res[m].model, path, &err);
		}
	}
	long n = xp.test_n ? xp.test_n : (long)test.n;
	n = n > (long)test.n ? (long)test.n : n;
	struct xbar_mc ideal, noisy, nadc;
	memset(&ideal, 0, sizeof ideal);
	memset(&noisy, 0, sizeof noisy);
	memset(&nadc, 0, sizeof nadc);
	struct xbar_cost cost;
	memset(&cost, 0, sizeof cost);
	double ideal_s = 0, noisy_s = 0, nadc_s = 0, calib_s = 0, calib_j = 0;
	long digital_n = -1, calib_n = 0, calib_images = 0;
	uint64_t ref_bits = 0;
	xbar_refs *refs = NULL;
	if (!rc && want[BCNN_BNN]) {
		const struct bcnn_model *bm = res[BCNN_BNN].model;
		digital_n = bcnn_predict(bm, test.pixels, n, test.labels, NULL);
		struct xbar_params qi = xp;
		ideal_params(&qi);
		qi.chips = 1;
		clock_t t0 = clock();
		if (!with_gbo)
			rc = xbar_conv_monte_carlo(&qi, bm, NULL, run.seed, test.pixels, test.labels, n, &ideal, &err);
		ideal_s = (double)(clock() - t0) / CLOCKS_PER_SEC;
		/* the converter references of the configured chip: centred, or
		 * calibrated on training images (a design-time run, charged) */
		if (!rc) {
			t0 = clock();
			calib_n = xp.adc_calib_n < (long)train.n ? xp.adc_calib_n : (long)train.n;
			rc = xbar_conv_refs(&xp, bm, train.pixels, calib_n, &refs, &err);
			calib_s = (double)(clock() - t0) / CLOCKS_PER_SEC;
		}
		if (!rc) {
			t0 = clock();
			rc = xbar_conv_monte_carlo(&xp, bm, refs, run.seed, test.pixels, test.labels, n, &noisy, &err);
			noisy_s = (double)(clock() - t0) / CLOCKS_PER_SEC;
		}
		/* the configured device effects with a converter that resolves
		 * every level: separates the converter's share of the loss */
		if (!rc && !xp.adc_ideal && !with_gbo) {
			struct xbar_params qa = xp;
			qa.adc_ideal = 1;
			t0 = clock();
			rc = xbar_conv_monte_carlo(&qa, bm, NULL, run.seed, test.pixels, test.labels, n, &nadc, &err);
			nadc_s = (double)(clock() - t0) / CLOCKS_PER_SEC;
		}
		if (!rc) {
			xbar_conv_cost(&xp, bm, &noisy.counts, &cost);
			const struct xbar_counts *cc = xbar_refs_calib_counts(refs);
			if (cc->images) {
				struct xbar_cost kc;
				xbar_conv_cost(&xp, bm, cc, &kc);
				calib_j = en_total_j(&kc.ledger);
				calib_images = (long)cc->images;
			}
			struct xbar_enc_plan plan;
			if (xbar_plan(&xp, bm->net, &plan, &err) == 0) {
				struct xbar_area ar;
				xbar_area(&xp, bm->net, &plan, &ar);
				ref_bits = ar.ref_bits;
			}
		}
	}
	if (!rc) {
		cJSON *mt = cJSON_CreateObject();
		if (want[BCNN_BNN]) {
			cJSON *mo = cJSON_AddObjectToObject(mt, "bnn_model");
			cJSON_AddStringToObject(mo, "file", model_path ? model_path : "model.bcnn (trained here)");
			cJSON_AddStringToObject(mo, "conv", conv_s);
			rep_add_u64(mo, "kernel", (uint64_t)kernel);
			rep_add_u64(mo, "fc", (uint64_t)fc);
		}
		cJSON *tab = cJSON_AddObjectToObject(mt, "accuracy");
		double ref = want[BCNN_FLOAT] ? res[BCNN_FLOAT].test_acc : (double)NAN;
		if (!c.quiet) {
			printf("ndpsim xbar cnn — Fashion-MNIST, 28x28 -> conv %s (k %d, valid, pool after every 2nd) -> fc %d -> 10, seed %llu%s%s\n",
			       conv_s, kernel, fc, (unsigned long long)run.seed, model_path ? ", BNN from " : "",
			       model_path ? model_path : "");
			printf("  %-26s %9s %11s %12s\n", "network", "accuracy", "drop (pp)", "CPU train s");
		}
		for (int m = 0; m < 3; m++) {
			if (!want[m])
				continue;
			cJSON *o = cJSON_AddObjectToObject(tab, mode_key[m]);
			rep_add_dbl(o, "test_accuracy", res[m].test_acc);
			rep_add_dbl(o, "train_cpu_s", res[m].train_s);
			if (!c.quiet)
				printf("  %-26s %8.2f%% %11.2f %12.1f\n", m == BCNN_BNN ? "BNN (digital, folded)" : mode_label[m],
				       100 * res[m].test_acc, 100 * (ref - res[m].test_acc), res[m].train_s);
		}
		if (want[BCNN_BNN]) {
			cJSON *o;
			if (ideal.correct) {
				o = cJSON_AddObjectToObject(tab, "bnn_crossbar_ideal");
				cJSON_AddItemToObject(o, "mc", mc_json(&ideal));
				rep_add_u64(o, "digital_correct_same_images", (uint64_t)digital_n);
				rep_add_dbl(o, "cpu_s", ideal_s);
			}
			o = cJSON_AddObjectToObject(tab, "bnn_crossbar_config");
			cJSON_AddItemToObject(o, "mc", mc_json(&noisy));
			rep_add_dbl(o, "cpu_s", noisy_s);
			if (nadc.correct) {
				o = cJSON_AddObjectToObject(tab, "bnn_crossbar_config_ideal_adc");
				cJSON_AddItemToObject(o, "mc", mc_json(&nadc));
				rep_add_dbl(o, "cpu_s", nadc_s);
			}
			cJSON_AddItemToObject(mt, "cost", en_to_json(&cost.ledger));
			rep_add_dbl(mt, "energy_per_inference_j", cost.j_per_image);
			rep_add_dbl(mt, "tops_per_w", cost.tops_per_w);
			rep_add_dbl(mt, "latency_ns", cost.latency_ns);
			rep_add_dbl(mt, "images_per_s", cost.images_per_s);
			rep_add_dbl(mt, "chip_mm2", cost.chip_mm2);
			rep_add_u64(mt, "tiles", (uint64_t)map.total_tiles);
			cJSON *ca = cJSON_AddObjectToObject(mt, "reference_calibration");
			cJSON_AddStringToObject(ca, "adc_ref",
						xp.adc_ref == XBAR_REF_CALIBRATED && !xp.adc_ideal ? "calibrated" : "centred");
			rep_add_u64(ca, "training_images", (uint64_t)calib_images);
			rep_add_dbl(ca, "energy_j", calib_j);
			rep_add_dbl(ca, "amortised_j_per_inference", calib_j / (double)n);
			rep_add_u64(ca, "stored_reference_bits", ref_bits);
			rep_add_dbl(ca, "cpu_s", calib_s);
			if (!c.quiet) {
				if (ideal.correct)
					printf("  %-26s %8.2f%% %11.2f %12s   (%ld images, %.1f CPU s; digital on the same images: %.2f%%)\n",
					       "BNN crossbar, ideal", 100 * ideal.mean, 100 * (ref - ideal.mean), "-", n,
					       ideal_s, 100.0 * digital_n / n);
				printf("  %-26s %8.2f%% %11.2f %12s   (%d chips, sd %.2f pp, min %.2f%%, max %.2f%%; %.1f CPU s)\n",
				       "BNN crossbar, as config", 100 * noisy.mean, 100 * (ref - noisy.mean), "-",
				       noisy.chips, 100 * noisy.sd, 100 * noisy.min, 100 * noisy.max, noisy_s);
				if (nadc.correct)
					printf("  %-26s %8.2f%% %11.2f %12s   (same device effects, converter resolving every level; %.1f CPU s)\n",
					       "  same, ideal converter", 100 * nadc.mean, 100 * (ref - nadc.mean), "-", nadc_s);
			}
		}
		cJSON *la = cJSON_AddArrayToObject(mt, "layers");
		struct rep_csv *csv = rep_csv_new("layer,kind,n_in_rows,n_out_cols,positions,row_tiles,col_tiles,tiles,utilisation,energy_per_image_j,latency_ns,tops_per_w");
		if (!c.quiet)
			printf("  layer  kind  rows(k*k*Cin) cols  positions  tiles (r x c)  utilisation  energy/img     latency   TOPS/W\n");
		for (int l = 0; l < s.nl; l++) {
			const char *kind = l < s.nconv ? "conv" : "fc";
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "kind", kind);
			rep_add_u64(o, "rows", (uint64_t)s.n_in[l]);
			rep_add_u64(o, "cols", (uint64_t)s.cout[l]);
			rep_add_u64(o, "positions", (uint64_t)s.positions[l]);
			rep_add_u64(o, "row_tiles", (uint64_t)map.row_tiles[l]);
			rep_add_u64(o, "col_tiles", (uint64_t)map.col_tiles[l]);
			rep_add_u64(o, "tiles", (uint64_t)map.tiles[l]);
			rep_add_dbl(o, "utilisation", map.util[l]);
			rep_add_dbl(o, "energy_per_image_j", cost.layer_j[l]);
			rep_add_dbl(o, "latency_ns", cost.layer_ns[l]);
			rep_add_dbl(o, "tops_per_w", cost.layer_tops_per_w[l]);
			cJSON_AddItemToArray(la, o);
			rep_csv_row(csv, "%d,%s,%d,%d,%d,%d,%d,%ld,%.6f,%.6g,%.6g,%.6g", l + 1, kind, s.n_in[l], s.cout[l],
				    s.positions[l], map.row_tiles[l], map.col_tiles[l], map.tiles[l], map.util[l],
				    cost.layer_j[l], cost.layer_ns[l], cost.layer_tops_per_w[l]);
			if (!c.quiet)
				printf("  %5d  %-4s  %13d %4d  %9d  %5ld (%d x %d)  %10.1f%%  %9.4g J  %8.0f ns  %7.1f\n",
				       l + 1, kind, s.n_in[l], s.cout[l], s.positions[l], map.tiles[l], map.row_tiles[l],
				       map.col_tiles[l], 100 * map.util[l], cost.layer_j[l], cost.layer_ns[l],
				       cost.layer_tops_per_w[l]);
		}
		if (!c.quiet && want[BCNN_BNN]) {
			printf("  tiles %ld of %dx%d, chip %.4g mm^2; energy per inference %.4g nJ (%.1f TOPS/W), latency %.0f ns, %.3g images/s pipelined\n",
			       map.total_tiles, xp.rows, xp.cols, cost.chip_mm2, cost.j_per_image * 1e9, cost.tops_per_w,
			       cost.latency_ns, cost.images_per_s);
			double tot = en_total_j(&cost.ledger);
			for (int i = 0; i < cost.ledger.n; i++) {
				const struct en_entry *e = &cost.ledger.e[i];
				double j = en_entry_j(e);
				printf("    %-17s %-12s %14llu x %9.3g J = %10.4g J  (%5.1f %%)\n", e->component, e->action,
				       (unsigned long long)e->count, e->j_per_action, j, tot > 0 ? 100 * j / tot : 0.0);
			}
			if (calib_images)
				printf("  converter references calibrated on %ld training images (every position): one-time %.4g mJ "
				       "(%.4g nJ per test inference over %ld), %llu reference bits stored (in the area)\n",
				       calib_images, calib_j * 1e3, calib_j / (double)n * 1e9, n,
				       (unsigned long long)ref_bits);
			else
				printf("  converter references centred (no calibration)\n");
		}
		rc = rep_csv_write(csv, out, "layers.csv", &err);
		rep_csv_free(csv);
		if (!rc && with_gbo) {
			cJSON *runs = cnn_gbo(&gp, &xp, res[BCNN_BNN].model, run.seed, &train, &test, n, lam, nlam,
					      uni, nuni, out, c.quiet, &err);
			if (!runs)
				rc = -EINVAL;
			else
				cJSON_AddItemToObject(mt, "gbo", runs);
		}
		cJSON *rep = rep_new(&b, run.seed, mt);
		if (!rc)
			rc = rep_write_json(out, "report.json", rep, &err);
		cJSON_Delete(rep);
	}
	xbar_refs_destroy(refs);
	xbar_mc_free(&ideal);
	xbar_mc_free(&noisy);
	xbar_mc_free(&nadc);
	for (int m = 0; m < 3; m++)
		bcnn_model_free(res[m].model);
	bcnn_model_free(loaded);
	wl_dataset_free(&train);
	wl_dataset_free(&test);
	if (!rc)
		rc = rep_outdir_commit(&od, &err);
	else
		rep_outdir_abort(&od);
	if (!rc && !c.quiet)
		printf("  results in %s/\n", final_out);
	return rc ? cli_error(&err) : 0;
}
