/* Crossbar model on Fashion-MNIST: the must-show items 1-7.
 * Two small networks are trained once (784-128-128-10, 3 epochs) and shared
 * by the cases, which run in one process (CK_FORK=no). */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "analog/gbo.h"
#include "analog/xbar.h"
#include "core/rng.h"
#include "core/util.h"
#include "tests/common/tutil.h"
#include "workloads/bnn.h"
#include "workloads/idx.h"

static const struct wl_dataset *train, *test;   /* tests/common: loaded once */
static struct bnn_model *model_a, *model_b;

static int data(void)
{
	return tu_fmnist(&train, &test);
}

static struct bnn_model *model(int act)
{
	struct bnn_model **m = act == BNN_ACT_BINARY ? &model_a : &model_b;
	if (!*m) {
		struct bnn_params p;
		struct cfg_bundle b = { 0 };
		struct nd_err err = { 0 };
		cfg_bundle_add(&b, &bnn_section, &p);
		cfg_defaults(&b);
		p.act = act;
		snprintf(p.hidden, sizeof p.hidden, "128,128");
		p.epochs = 3;
		p.lr = 0.01;
		ck_assert_int_eq(bnn_train(&p, 1, train, NULL, NULL, NULL, m, &err), 0);
	}
	return *m;
}

static void xdefaults(struct xbar_params *p)
{
	tu_defaults(&xbar_section, p);
}

static void gdefaults(struct gbo_params *g)
{
	tu_defaults(&gbo_section, g);
}

static void plan_uniform(const struct bnn_model *m, int enc, int pulses, struct xbar_enc_plan *pl)
{
	pl->nl = m->nl;
	for (int l = 0; l < m->nl; l++) {
		pl->enc[l] = enc;
		pl->pulses[l] = pulses;
	}
}

/* Monte Carlo accuracy of a plan on the first n test images. */
static double mc_acc(const struct xbar_params *p, const struct bnn_model *m,
		     const struct xbar_enc_plan *pl, long n, struct xbar_mc *keep)
{
	struct nd_err err = { 0 };
	xbar_refs *refs;
	ck_assert_int_eq(xbar_refs_create(p, m, pl, train->pixels, p->adc_calib_n, &refs, &err), 0);
	struct xbar_mc mc;
	ck_assert_int_eq(xbar_monte_carlo(p, m, pl, refs, 1, test->pixels, test->labels, n, &mc, &err), 0);
	xbar_refs_destroy(refs);
	double a = mc.mean;
	if (keep)
		*keep = mc;
	else
		xbar_mc_free(&mc);
	return a;
}

#define NEED_DATA() do { if (!data()) { tu_skip_need("dataset", "Fashion-MNIST not installed (dataset-fashion-mnist)"); return; } } while (0)

/* 1. Noise off, unbounded converter: same prediction as the digital BNN for
 * every one of the 10,000 test images (128x128 tiles and the seed tile with
 * 5 bias rows). */
START_TEST(ideal_equivalence)
{
	NEED_DATA();
	const struct bnn_model *m = model(BNN_ACT_BINARY);
	uint8_t *pd = xmalloc(test->n), *px = xmalloc(test->n);
	bnn_predict(m, test->pixels, test->n, test->labels, pd);
	for (int preset = 0; preset < 2; preset++) {
		struct xbar_params p;
		xdefaults(&p);
		p.adc_ideal = 1;
		if (preset) {
			p.rows = 32;
			p.bias_rows = 5;
			p.cols = 32;
		}
		struct xbar_enc_plan pl;
		struct nd_err err = { 0 };
		ck_assert_int_eq(xbar_plan(&p, m, &pl, &err), 0);
		xbar_refs *refs;
		ck_assert_int_eq(xbar_refs_create(&p, m, &pl, train->pixels, 0, &refs, &err), 0);
		xbar_chip *c;
		ck_assert_int_eq(xbar_chip_create(&p, m, 1, 0, &c, &err), 0);
		xbar_chip_eval(c, &pl, refs, test->pixels, test->labels, test->n, px, NULL);
		long same = 0;
		for (uint32_t i = 0; i < test->n; i++)
			same += pd[i] == px[i];
		ck_assert_int_eq(same, (long)test->n);
		ck_assert_int_eq(test->n, 10000);
		xbar_chip_destroy(c);
		xbar_refs_destroy(refs);
	}
	free(pd);
	free(px);
}
END_TEST

/* 2. BNN (a) >= 84 %, network (b) >= 86 % on the 10,000 test images. */
START_TEST(digital_accuracy)
{
	NEED_DATA();
	long ca = bnn_predict(model(BNN_ACT_BINARY), test->pixels, test->n, test->labels, NULL);
	long cb = bnn_predict(model(BNN_ACT_MULTI), test->pixels, test->n, test->labels, NULL);
	printf("digital accuracy: (a) %.2f %%, (b) %.2f %%\n", 100.0 * ca / test->n, 100.0 * cb / test->n);
	ck_assert_int_ge(ca, 8400);
	ck_assert_int_ge(cb, 8600);
}
END_TEST

/* 3. 128-row tiles, 3-bit sense amp: within 1.5 pp of the ideal BNN. */
START_TEST(adc3_close_to_ideal)
{
	NEED_DATA();
	const struct bnn_model *m = model(BNN_ACT_BINARY);
	struct xbar_params p;
	xdefaults(&p);
	ck_assert_int_eq(p.rows, 128);
	ck_assert_int_eq(p.adc_bits, 3);
	struct xbar_enc_plan pl;
	struct nd_err err = { 0 };
	ck_assert_int_eq(xbar_plan(&p, m, &pl, &err), 0);
	p.chips = 1;  /* noise off: every chip is the same */
	double a3 = mc_acc(&p, m, &pl, test->n, NULL);
	double ideal = (double)bnn_predict(m, test->pixels, test->n, test->labels, NULL) / test->n;
	printf("3-bit sense amp: %.2f %% vs ideal %.2f %%\n", 100 * a3, 100 * ideal);
	ck_assert(fabs(a3 - ideal) <= 0.015);
	/* a 1-bit sense amp on 128-row partial sums is clearly worse */
	p.adc_bits = 1;
	double a1 = mc_acc(&p, m, &pl, test->n, NULL);
	ck_assert(a1 < a3);
}
END_TEST

/* 4. Accuracy falls as read noise grows (10 chips per point); where T = 1
 * has lost >= 20 pp, more unary pulses recover accuracy. */
START_TEST(noise_sweep_and_pulses)
{
	NEED_DATA();
	const struct bnn_model *m = model(BNN_ACT_MULTI);
	struct xbar_params p;
	xdefaults(&p);
	p.chips = 10;
	p.read_on = 1;
	const double sig[] = { 0.0, 0.5, 1.0, 2.0 };
	double acc1[4], acc8[4];
	struct xbar_enc_plan u1, u8;
	plan_uniform(m, XBAR_ENC_UNARY, 1, &u1);
	plan_uniform(m, XBAR_ENC_UNARY, 8, &u8);
	for (int s = 0; s < 4; s++) {
		p.read_sigma = sig[s];
		acc1[s] = mc_acc(&p, m, &u1, 500, NULL);
		acc8[s] = mc_acc(&p, m, &u8, 500, NULL);
		printf("read sigma %.1f: T=1 %.2f %%, T=8 %.2f %%\n", sig[s], 100 * acc1[s], 100 * acc8[s]);
	}
	for (int s = 1; s < 4; s++) {
		ck_assert(acc1[s] < acc1[s - 1]);
		ck_assert(acc8[s] < acc8[s - 1]);
	}
	/* severe: T = 1 lost >= 20 pp; 8 pulses recover at least 10 pp of it */
	ck_assert(acc1[0] - acc1[2] >= 0.20);
	ck_assert(acc8[2] >= acc1[2] + 0.10);
}
END_TEST

/* 4 (GBO). Under severe read noise GBO, at no more pulse cost than uniform
 * T = 4, beats it by >= 5 pp. */
START_TEST(gbo_beats_uniform)
{
	NEED_DATA();
	const struct bnn_model *m = model(BNN_ACT_MULTI);
	struct xbar_params p;
	xdefaults(&p);
	p.chips = 10;
	p.read_on = 1;
	p.read_sigma = 2.0;
	struct gbo_params g;
	gdefaults(&g);
	g.budget = 4;
	g.steps = 200;
	struct gbo_result r;
	struct nd_err err = { 0 };
	ck_assert_int_eq(gbo_run(&g, &p, m, 1, train, &r, &err), 0);
	ck_assert(r.cost_pulses <= 4.0 + 1e-9);
	struct xbar_enc_plan gp, u4;
	plan_uniform(m, XBAR_ENC_UNARY, 4, &u4);
	gp = u4;
	for (int l = 0; l < m->nl; l++)
		gp.pulses[l] = r.chosen[l];
	double ag = mc_acc(&p, m, &gp, 1000, NULL);
	double au = mc_acc(&p, m, &u4, 1000, NULL);
	char s[64];
	gbo_format(&r, s, sizeof s);
	printf("GBO %s (cost %.2f pulses): %.2f %% vs uniform T=4: %.2f %%\n", s, r.cost_pulses,
	       100 * ag, 100 * au);
	ck_assert(ag >= au + 0.05);
}
END_TEST

/* 5. Same seed, 1 and 2 threads: identical Monte Carlo (all noises on). */
START_TEST(mc_thread_independent)
{
	NEED_DATA();
#ifdef _OPENMP
	const struct bnn_model *m = model(BNN_ACT_BINARY);
	struct xbar_params p;
	xdefaults(&p);
	p.chips = 3;
	p.d2d_on = p.read_on = p.stuck_on = p.offset_on = 1;
	p.read_sigma = 0.3;
	struct xbar_enc_plan pl;
	struct nd_err err = { 0 };
	ck_assert_int_eq(xbar_plan(&p, m, &pl, &err), 0);
	struct xbar_mc a, b;
	omp_set_num_threads(1);
	mc_acc(&p, m, &pl, 1000, &a);
	omp_set_num_threads(2);
	mc_acc(&p, m, &pl, 1000, &b);
	for (int c = 0; c < p.chips; c++)
		ck_assert_int_eq(a.correct[c], b.correct[c]);
	ck_assert_int_eq(memcmp(&a.counts, &b.counts, sizeof a.counts), 0);
	ck_assert(a.mean == b.mean && a.sd == b.sd);
	/* chips differ from each other: the noise really is per instance */
	ck_assert(a.min < a.max);
	xbar_mc_free(&a);
	xbar_mc_free(&b);
	struct gbo_params g;
	gdefaults(&g);
	g.steps = 10;
	struct gbo_result r1, r2;
	omp_set_num_threads(1);
	ck_assert_int_eq(gbo_run(&g, &p, model(BNN_ACT_MULTI), 3, train, &r1, &err), 0);
	omp_set_num_threads(2);
	ck_assert_int_eq(gbo_run(&g, &p, model(BNN_ACT_MULTI), 3, train, &r2, &err), 0);
	ck_assert_int_eq(memcmp(r1.prob, r2.prob, sizeof r1.prob), 0);
#else
	tu_skip("built without OpenMP");
#endif
}
END_TEST

/* 6. The energy breakdown adds up to the total; energy grows with pulses. */
START_TEST(energy_breakdown)
{
	NEED_DATA();
	const struct bnn_model *m = model(BNN_ACT_BINARY);
	struct xbar_params p;
	xdefaults(&p);
	p.chips = 1;
	struct xbar_enc_plan u1, u2;
	plan_uniform(m, XBAR_ENC_UNARY, 1, &u1);
	plan_uniform(m, XBAR_ENC_UNARY, 2, &u2);
	struct xbar_mc a, b;
	mc_acc(&p, m, &u1, 500, &a);
	mc_acc(&p, m, &u2, 500, &b);
	struct xbar_cost ca, cb;
	xbar_cost(&p, m, &u1, &a.counts, &ca);
	xbar_cost(&p, m, &u2, &b.counts, &cb);
	double sum = 0, comp = 0;
	for (int i = 0; i < ca.ledger.n; i++) {
		ck_assert(en_entry_j(&ca.ledger.e[i]) >= 0);
		sum += en_entry_j(&ca.ledger.e[i]);
	}
	const char *cs[] = { "xbar.wl_driver", "xbar.array", "xbar.sample_hold", "xbar.adc",
			     "xbar.shift_add", "xbar.activation", "xbar.in_buffer",
			     "xbar.out_buffer", "xbar.control", "xbar.dma" };
	for (size_t k = 0; k < ND_ARRAY_LEN(cs); k++) {
		double j = en_component_j(&ca.ledger, cs[k]);
		ck_assert(j > 0);
		comp += j;
	}
	double tot = en_total_j(&ca.ledger);
	ck_assert(tot > 0);
	ck_assert(fabs(sum - tot) <= 1e-12 * tot);
	ck_assert(comp == tot);
	ck_assert(ca.j_per_image * 500 <= tot * (1 + 1e-12) && ca.j_per_image * 500 >= tot * (1 - 1e-12));
	/* reads and conversions double with two pulses; latency grows */
	ck_assert_uint_eq(b.counts.l[0].conversions, 2 * a.counts.l[0].conversions);
	ck_assert_uint_eq(b.counts.l[0].row_drives, 2 * a.counts.l[0].row_drives);
	ck_assert(cb.j_per_image > 1.8 * ca.j_per_image);
	/* calibrated references are re-read only by multi-pulse layers */
	ck_assert(en_component_j(&ca.ledger, "xbar.ref_store") == 0);
	ck_assert(en_component_j(&cb.ledger, "xbar.ref_store") > 0);
	ck_assert(cb.latency_ns > ca.latency_ns);
	ck_assert(ca.tops_per_w > 1 && ca.tops_per_w < 1e4);
	ck_assert_int_eq(ca.tiles, 7 * 1 + 1 * 1 + 1 * 1);
	xbar_mc_free(&a);
	xbar_mc_free(&b);
}
END_TEST

static int set_err(const char *kv, const char *want)
{
	struct xbar_params p;
	struct gbo_params g;
	struct cfg_bundle b = { 0 };
	struct nd_err err = { 0 };
	cfg_bundle_add(&b, &xbar_section, &p);
	cfg_bundle_add(&b, &gbo_section, &g);
	cfg_defaults(&b);
	/* "k1=v1;k2=v2": several overrides, then validation */
	char buf[256];
	snprintf(buf, sizeof buf, "%s", kv);
	int rc = 0;
	for (char *t = strtok(buf, ";"); t && !rc; t = strtok(NULL, ";"))
		rc = cfg_set(&b, t, &err);
	if (!rc)
		rc = cfg_validate(&b, &err);
	if (rc && !strstr(err.msg, want)) {
		fprintf(stderr, "message for %s lacks '%s': %s\n", kv, want, err.msg);
		return 0;
	}
	return rc == -EINVAL;
}

/* 7. Bad parameters give clear errors naming the key. */
START_TEST(bad_parameters)
{
	ck_assert(set_err("xbar.noise.read.sigma=-0.1", "xbar.noise.read.sigma"));
	ck_assert(set_err("xbar.noise.d2d.sigma=-1", "xbar.noise.d2d.sigma"));
	ck_assert(set_err("xbar.adc.bits=11", "xbar.adc.bits"));
	ck_assert(set_err("xbar.adc.bits=-1", "xbar.adc.bits"));
	ck_assert(set_err("xbar.adc.bits=0", "xbar.adc.bits"));
	ck_assert(set_err("xbar.drift.nu=-0.01", "xbar.drift.nu"));
	ck_assert(set_err("gbo.budget=0.5", "gbo.budget"));
	ck_assert(set_err("xbar.tile.rows=5000", "xbar.tile.rows"));
	ck_assert(set_err("xbar.tile.rows=64;xbar.tile.bias_rows=64", "xbar.tile.bias_rows"));
	ck_assert(set_err("xbar.device.r_hrs_ohm=5e4", "xbar.device.r_hrs_ohm"));
	ck_assert(set_err("gbo.candidates=4,2", "gbo.candidates"));
	/* model-dependent: per-layer pulses, chip capacity, converter size */
	struct bnn_model m;
	memset(&m, 0, sizeof m);
	m.nl = 3;
	m.dim[0] = 784;
	m.dim[1] = 512;
	m.dim[2] = 512;
	m.dim[3] = 10;
	m.q = 1;
	m.qin[0] = 4;
	m.qin[1] = m.qin[2] = 1;
	struct xbar_params p;
	xdefaults(&p);
	struct xbar_enc_plan pl;
	struct nd_err err = { 0 };
	snprintf(p.pulses_per_layer, sizeof p.pulses_per_layer, "1,2");
	ck_assert_int_eq(xbar_plan(&p, &m, &pl, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "pulses_per_layer"));
	p.pulses_per_layer[0] = '\0';
	p.max_tiles = 10;
	ck_assert_int_eq(xbar_check_mapping(&p, &m, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "xbar.max_tiles"));
	xdefaults(&p);
	p.rows = 1024;
	p.adc_ideal = 1;
	ck_assert_int_eq(xbar_check_mapping(&p, &m, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "xbar.tile.rows"));
	/* the command line: exit code 2 and the key in the message */
	const char *bin = getenv("NDPSIM_BIN");
	if (bin && *bin) {
		char cmd[1024];
		snprintf(cmd, sizeof cmd,
			 "%s xbar eval --quiet --set xbar.noise.read.sigma=-1 --out %s/xbar-bad 2>%s/xbar-bad.err",
			 bin, tu_tmpdir(), tu_tmpdir());
		int st = system(cmd);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2);
		snprintf(cmd, sizeof cmd, "grep -q 'xbar.noise.read.sigma' %s/xbar-bad.err", tu_tmpdir());
		ck_assert_int_eq(system(cmd), 0);
	}
}
END_TEST

/* 7. The read-noise sampler of the evaluation: xbar_normal_fill_multi()
 * gives, stream by stream, exactly rng_normal_zig_fill()'s values and
 * final stream positions (any number of streams, odd ones included, and
 * any length), over ~6 M draws, enough to pass through the ziggurat's
 * tail (|x| > r = 3.4426) and wedges many times. */
START_TEST(normal_fill_same_stream)
{
	enum { NS = 9, NMAX = 1500 };
	static double a[NS][NMAX], b[NS][NMAX];
	static const int lens[] = { 1, 2, 7, 8, 63, 512, 1500 };
	long draws = 0, tails = 0;
	for (int rep = 0; rep < 60; rep++)
		for (int nr = 1; nr <= NS; nr++) {
			int n = lens[(rep + nr) % (int)(sizeof lens / sizeof lens[0])];
			struct rng r1[NS], r2[NS], *rp[NS];
			double *op[NS];
			for (int j = 0; j < nr; j++) {
				rng_seed(&r1[j], 7 + (uint64_t)rep, (uint64_t)(nr * 16 + j));
				r2[j] = r1[j];
				rp[j] = &r2[j];
				op[j] = b[j];
				rng_normal_zig_fill(&r1[j], a[j], n);
			}
			xbar_normal_fill_multi(rp, nr, op, n);
			for (int j = 0; j < nr; j++) {
				ck_assert_int_eq(memcmp(a[j], b[j], sizeof(double) * (size_t)n), 0);
				ck_assert_int_eq(memcmp(&r1[j], &r2[j], sizeof r1[j]), 0);
				for (int k = 0; k < n; k++)
					tails += fabs(a[j][k]) > 3.442619855899;
			}
			draws += (long)nr * n;
		}
	/* long runs: the streams of the evaluation (512 columns a tile) */
	for (int rep = 0; rep < 700; rep++) {
		struct rng r1[8], r2[8], *rp[8];
		double *op[8];
		for (int j = 0; j < 8; j++) {
			rng_seed(&r1[j], 99, (uint64_t)(rep * 8 + j));
			r2[j] = r1[j];
			rp[j] = &r2[j];
			op[j] = b[j];
			rng_normal_zig_fill(&r1[j], a[j], NMAX);
		}
		xbar_normal_fill_multi(rp, 8, op, NMAX);
		for (int j = 0; j < 8; j++) {
			ck_assert_int_eq(memcmp(a[j], b[j], sizeof(double) * NMAX), 0);
			ck_assert_int_eq(memcmp(&r1[j], &r2[j], sizeof r1[j]), 0);
			for (int k = 0; k < NMAX; k++)
				tails += fabs(a[j][k]) > 3.442619855899;
		}
		draws += 8L * NMAX;
	}
	/* P(|x| > r) = 5.76e-4: ~3,500 tail values expected */
	ck_assert(draws > 8000000 && tails > 2000);
}
END_TEST

/* 7b. The ziggurat itself (fast path, wedges and tail are one code path in
 * core/rng.c, shared by both fills above, so their agreement does not
 * check it): 4 M draws of rng_normal_zig_fill() against N(0, 1), each
 * bound 5 standard errors: mean 0, variance 1, P(|x| < 1) = 0.682689,
 * P(|x| > 2) = 0.045500 (wedges), P(|x| > r = 3.4426) = 5.7614e-4 (the
 * tail beyond the base strip), from erfc(), not from the sampler. */
START_TEST(ziggurat_matches_normal)
{
	enum { N = 4000000 };
	double *x = xmalloc(N * sizeof *x);
	struct rng r;
	rng_seed(&r, 2026, 12);
	rng_normal_zig_fill(&r, x, N);
	double sum = 0, sq = 0;
	long in1 = 0, out2 = 0, tail = 0;
	for (long k = 0; k < N; k++) {
		sum += x[k];
		sq += x[k] * x[k];
		in1 += fabs(x[k]) < 1;
		out2 += fabs(x[k]) > 2;
		tail += fabs(x[k]) > 3.442619855899;
	}
	free(x);
	double mean = sum / N, var = sq / N - mean * mean;
	ck_assert_double_lt(fabs(mean), 5 * sqrt(1.0 / N));
	ck_assert_double_lt(fabs(var - 1), 5 * sqrt(2.0 / N));
	const double p[3] = { 1 - erfc(1 / sqrt(2.0)), erfc(2 / sqrt(2.0)),
			      erfc(3.442619855899 / sqrt(2.0)) };
	const long got[3] = { in1, out2, tail };
	for (int i = 0; i < 3; i++) {
		double se = sqrt(p[i] * (1 - p[i]) * N);
		ck_assert_double_lt(fabs((double)got[i] - p[i] * N), 5 * se);
	}
}
END_TEST

/* 8. The whole-network evaluation (blocks of 32 images, row tile by row
 * tile) gives every image the prediction of the same network run one
 * image and one layer at a time through xbar_layer_run(): the blocking
 * does not change a value, with every noise on, tiles whose row and
 * column counts are not multiples of 64, and several pulses. */
START_TEST(block_independent)
{
	NEED_DATA();
	const struct bnn_model *m = model(BNN_ACT_MULTI);
	struct xbar_params p;
	xdefaults(&p);
	p.d2d_on = p.read_on = p.stuck_on = p.offset_on = 1;
	p.read_sigma = 0.2;
	p.rows = 100;
	p.cols = 72;
	struct xbar_enc_plan pl;
	struct nd_err err = { 0 };
	plan_uniform(m, XBAR_ENC_UNARY, 3, &pl);
	xbar_refs *refs;
	ck_assert_int_eq(xbar_refs_create(&p, m, &pl, train->pixels, 500, &refs, &err), 0);
	xbar_chip *c;
	ck_assert_int_eq(xbar_chip_create(&p, m, 5, 2, &c, &err), 0);
	enum { N = 150 };
	uint8_t pred[N];
	xbar_chip_eval(c, &pl, refs, test->pixels, test->labels, N, pred, NULL);
	xbar_scratch *s = xbar_scratch_create(c);
	uint8_t lev[1024], nxt[1024];
	double dq[1024];
	int differ = 0;
	for (long i = 0; i < N; i++) {
		bnn_input_levels(m, test->pixels + (size_t)i * 784, lev);
		uint64_t item = (uint64_t)i;
		int best = 0;
		for (int l = 0; l < m->nl; l++) {
			const uint8_t *lp = lev;
			double *dp = dq;
			xbar_layer_run(c, &pl, refs, l, &lp, &item, 1, &dp, s, NULL);
			if (l == m->nl - 1) {
				double bs = -1e300;
				for (int j = 0; j < m->dim[l + 1]; j++)
					if (bnn_score(m, l, j, dq[j]) > bs) {
						bs = bnn_score(m, l, j, dq[j]);
						best = j;
					}
			} else {
				for (int j = 0; j < m->dim[l + 1]; j++)
					nxt[j] = (uint8_t)bnn_act_level(m, l, j, dq[j]);
				memcpy(lev, nxt, (size_t)m->dim[l + 1]);
			}
		}
		ck_assert_int_eq(best, pred[i]);
		differ += pred[i] != pred[0];
	}
	ck_assert(differ > 0);   /* not one constant answer */
	xbar_scratch_destroy(s);
	xbar_chip_destroy(c);
	xbar_refs_destroy(refs);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("xbar");
	TCase *tc = tcase_create("xbar");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, bad_parameters);
	tcase_add_test(tc, ideal_equivalence);
	tcase_add_test(tc, digital_accuracy);
	tcase_add_test(tc, adc3_close_to_ideal);
	tcase_add_test(tc, noise_sweep_and_pulses);
	tcase_add_test(tc, gbo_beats_uniform);
	tcase_add_test(tc, mc_thread_independent);
	tcase_add_test(tc, energy_breakdown);
	tcase_add_test(tc, block_independent);
	suite_add_tcase(s, tc);
	TCase *tn = tcase_create("normals");
	tcase_set_timeout(tn, 600);
	tcase_add_test(tn, normal_fill_same_stream);
	tcase_add_test(tn, ziggurat_matches_normal);
	suite_add_tcase(s, tn);
	return s;
}

int main(void)
{
	/* one process: the trained networks are shared by the cases, and
	 * OpenMP is never used across a fork */
	setenv("CK_FORK", "no", 1);
	int rc = tu_run_suite(suite());
	bnn_model_free(model_a);
	bnn_model_free(model_b);
	return rc;
}
