/* Crossbar periphery, weight programming and device effects (issue 12,
 * must-show 2-4): the periphery breakdown of one layer re-derived by hand
 * from the action counts and the cited prices, write-verify convergence and
 * its charged pulses, drift / IR drop / retention limits and monotone
 * sweeps.  A 784-128-128-10 BNN is trained once (2 epochs). */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analog/xbar.h"
#include "core/util.h"
#include "tests/common/tutil.h"
#include "workloads/bnn.h"
#include "workloads/idx.h"

static const struct wl_dataset *train, *test;   /* tests/common: loaded once */
static struct bnn_model *model_a;

static int data(void)
{
	return tu_fmnist(&train, &test);
}

#define NEED_DATA() do { if (!data()) { tu_skip("Fashion-MNIST not installed (dataset-fashion-mnist)"); return; } } while (0)

static struct bnn_model *model(void)
{
	if (!model_a) {
		struct bnn_params p;
		struct cfg_bundle b = { 0 };
		struct nd_err err = { 0 };
		cfg_bundle_add(&b, &bnn_section, &p);
		cfg_defaults(&b);
		snprintf(p.hidden, sizeof p.hidden, "128,128");
		p.epochs = 2;
		p.lr = 0.01;
		ck_assert_int_eq(bnn_train(&p, 1, train, NULL, NULL, NULL, &model_a, &err), 0);
	}
	return model_a;
}

static void xdefaults(struct xbar_params *p)
{
	tu_defaults(&xbar_section, p);
}

/* Accuracy (and predictions) of chip 0 on the first n test images. */
static long eval(const struct xbar_params *p, const struct bnn_model *m, long n,
		 uint8_t *preds, struct xbar_counts *cnt)
{
	struct nd_err err = { 0 };
	struct xbar_enc_plan pl;
	ck_assert_int_eq(xbar_plan(p, m, &pl, &err), 0);
	xbar_refs *refs;
	ck_assert_int_eq(xbar_refs_create(p, m, &pl, train->pixels, p->adc_calib_n, &refs, &err), 0);
	xbar_chip *c;
	ck_assert_int_eq(xbar_chip_create(p, m, 7, 0, &c, &err), 0);
	long k = xbar_chip_eval(c, &pl, refs, test->pixels, test->labels, n, preds, cnt);
	xbar_chip_destroy(c);
	xbar_refs_destroy(refs);
	return k;
}

/* Must-show 4: layer 0 of 784-128-128-10 on 128 x 128 tiles, T = 2, exact
 * chip, 3-bit SAR converter, calibrated references.  Counts are derived
 * from the network's weights and the images' pulse bits by hand; prices
 * from the cited defaults written out here. */
START_TEST(periphery_by_hand)
{
	NEED_DATA();
	const struct bnn_model *m = model();
	struct xbar_params p;
	xdefaults(&p);
	p.pulses = 2;
	const long n = 200;
	struct xbar_counts cnt;
	memset(&cnt, 0, sizeof cnt);
	eval(&p, m, n, NULL, &cnt);
	struct xbar_enc_plan pl;
	struct nd_err err = { 0 };
	ck_assert_int_eq(xbar_plan(&p, m, &pl, &err), 0);
	struct xbar_cost cost;
	xbar_cost(&p, m, &pl, &cnt, &cost);

	/* counts by hand: 784 inputs over ceil(784/128) = 7 row tiles, 128
	 * neurons in one column tile */
	const int nin = 784, nout = 128, rt = 7;
	uint64_t lrs = 0;
	uint8_t lev[784];
	for (long im = 0; im < n; im++) {
		bnn_input_levels(m, test->pixels + (size_t)im * 784, lev);
		for (int j = 0; j < nout; j++)
			for (int i = 0; i < nin; i++) {
				/* T = 2 unary pulses of q = 4 levels: u =
				 * round(2 lev / 4), pulse t on iff t < u */
				int u = (lev[i] * 4 + 4) / 8;
				int w = bnn_w(&m->layer[0], j, i) > 0;
				for (int t = 0; t < 2; t++)
					lrs += (t < u) == w;   /* the driven cell of the pair is LRS */
			}
	}
	const struct xbar_layer_counts *k = &cnt.l[0];
	const uint64_t T = 2;
	ck_assert_uint_eq(k->tile_pulses, T * n * rt);
	ck_assert_uint_eq(k->row_drives, T * n * nin);
	ck_assert_uint_eq(k->conversions, T * n * rt * nout);
	ck_assert_uint_eq(k->adds, T * n * rt * nout);
	ck_assert_uint_eq(k->acts, (uint64_t)n * nout);
	ck_assert_uint_eq(k->in_bits, T * n * nin);
	ck_assert_uint_eq(k->out_bits, (uint64_t)n * nout);
	ck_assert_uint_eq(k->lrs_reads, lrs);
	ck_assert_uint_eq(k->lrs_reads + k->hrs_reads, T * n * nin * nout);

	/* prices: 0.42 pJ driver (ISAAC DAC); V^2/R t for the cells (0.5 V,
	 * 100 kOhm / 1.7 MOhm, 10 ns); S+H 0.00098 pJ; 3-bit SAR 0.59 pJ
	 * (ISAAC table extrapolated); add / threshold 0.1 pJ; buffer 0.156
	 * pJ/bit; control 1 pJ per tile pulse; calibrated references of a
	 * two-pulse layer: 2 x 8 bits read per conversion at 0.156 pJ/bit */
	double e_lrs = 0.25 / 100e3 * 10e-9, e_hrs = 0.25 / 1.7e6 * 10e-9;
	double e = 0.42e-12 * (double)(T * n * nin) + e_lrs * (double)lrs +
		   e_hrs * (double)(T * n * nin * nout - lrs) +
		   (0.00098e-12 + 0.59e-12 + 16 * 0.156e-12) * (double)(T * n * rt * nout) +
		   0.1e-12 * (double)(T * n * rt * nout) + 0.1e-12 * (double)(n * nout) +
		   0.156e-12 * (double)(T * n * nin + n * nout) + 1e-12 * (double)(T * n * rt);
	ck_assert_msg(fabs(cost.layer_j[0] * n - e) <= 1e-9 * e, "layer 0: %g J by hand, %g J reported",
		      e, cost.layer_j[0] * n);
	/* the ledger: layers + DMA (784 x 3 bits in, 10 x 16 bits out) */
	double sum = cost.dma_j;
	for (int l = 0; l < m->nl; l++)
		sum += cost.layer_j[l];
	ck_assert(fabs(sum - cost.j_per_image) <= 1e-9 * sum);
	ck_assert(fabs(cost.dma_j - (784.0 * 3 + 10 * 16) * 0.054e-12) <= 1e-20);
	double ops = 2.0 * 784 * 128;
	ck_assert(fabs(cost.layer_tops_per_w[0] - ops / cost.layer_j[0] * 1e-12) <= 1e-9 * cost.layer_tops_per_w[0]);

	/* area of one 128 x 128 tile, by hand (um^2): cells 2 x 128 x 128 x
	 * 12 F^2 at 32 nm; 256 drivers x 0.166; 128 S+H x 0.039; 128 SAR 3 b
	 * x 1200 / 32; 128 shift-add x 60; (128 + 32 x 128) SRAM bits x
	 * 0.148; control 10 % of the rest */
	double f2 = 0.032 * 0.032;
	double rest = 2.0 * 128 * 128 * 12 * f2 + 256 * 0.166 + 128 * 0.039 + 128 * 1200.0 / 32 +
		      128 * 60.0 + (128 + 32 * 128) * 0.148;
	struct xbar_area ar;
	xbar_area(&p, m, &pl, &ar);
	ck_assert(fabs(ar.tile_mm2[0] - 1.1 * rest * 1e-6) <= 1e-12);
	ck_assert_int_eq(ar.tiles[0], 7);
	ck_assert(fabs(ar.util[0] - 784.0 * 128 / (7.0 * 128 * 128)) <= 1e-12);
	ck_assert(cost.tops_per_mm2 > 0 && cost.chip_mm2 > 7 * ar.tile_mm2[0]);
}
END_TEST

/* Must-show 3: write-verify with tolerance -> 0 converges within the cap,
 * the charged pulses are the counted pulses, and the chip then computes
 * what the unprogrammed-noise chip computes. */
START_TEST(write_verify)
{
	NEED_DATA();
	const struct bnn_model *m = model();
	struct xbar_params p;
	xdefaults(&p);
	p.prog_on = 1;
	p.prog_sigma = 0.1;
	p.wv_on = 1;
	p.wv_tol = 1e-9;
	p.wv_step = 0.3;
	p.wv_max_iter = 100;
	struct xbar_program pr;
	struct nd_err err = { 0 };
	ck_assert_int_eq(xbar_program_cost(&p, m, 7, 0, &pr, &err), 0);
	uint64_t cells = 2ull * (784 * 128 + 128 * 128 + 128 * 10);
	ck_assert_uint_eq(pr.cells, cells);
	ck_assert_uint_eq(pr.capped, 0);
	/* |e| shrinks by E|0.3 N| ~ 0.24 a pulse: 1e-1 -> 1e-9 takes ~13 */
	ck_assert(pr.mean_pulses > 8 && pr.mean_pulses < 25);
	ck_assert_uint_eq(pr.verifies, pr.pulses);
	double ev = 0.42e-12 + 0.5 * (0.25 / 100e3 * 10e-9) * (1 + 100e3 / 1.7e6) + 0.00098e-12 + 0.59e-12;
	double e = pr.pulses * 5e-12 + pr.verifies * ev;
	ck_assert(fabs(pr.energy_j - e) <= 1e-9 * e);
	uint64_t charged = 0;
	for (int i = 0; i < pr.ledger.n; i++)
		if (!strcmp(pr.ledger.e[i].action, "write_pulse"))
			charged += pr.ledger.e[i].count;
	ck_assert_uint_eq(charged, pr.pulses);
	ck_assert(pr.time_ns > 0);
	/* amortised over 1,000 runs: a thousandth per inference */
	struct energy_ledger lg;
	en_init(&lg);
	xbar_program_amortise(&pr, 1000, &lg);
	ck_assert(fabs(en_total_j(&lg) - pr.energy_j / 1000) <= 1e-9 * pr.energy_j);
	/* converged cells: the same predictions as without programming error */
	uint8_t *a = xmalloc(1000), *b = xmalloc(1000);
	eval(&p, m, 1000, a, NULL);
	struct xbar_params q;
	xdefaults(&q);
	eval(&q, m, 1000, b, NULL);
	ck_assert_int_eq(memcmp(a, b, 1000), 0);
	/* without verify the same noise costs accuracy */
	p.wv_on = 0;
	p.prog_sigma = 0.5;
	long c0 = eval(&q, m, 1000, NULL, NULL), c1 = eval(&p, m, 1000, NULL, NULL);
	ck_assert_msg(c1 < c0, "programming noise without verify: %ld vs %ld", c1, c0);
	ck_assert_int_eq(xbar_program_cost(&p, m, 7, 0, &pr, &err), 0);
	ck_assert_uint_eq(pr.pulses, cells);
	ck_assert_uint_eq(pr.verifies, 0);
	free(a);
	free(b);
}
END_TEST

/* Must-show 2: the analytical limits change nothing (d2d on, so the analog
 * path runs), and each effect alone moves accuracy monotonically. */
START_TEST(effect_limits_and_sweeps)
{
	NEED_DATA();
	const struct bnn_model *m = model();
	const long n = 1000;
	struct xbar_params p;
	xdefaults(&p);
	p.d2d_on = 1;
	uint8_t *a = xmalloc(n), *b = xmalloc(n);
	eval(&p, m, n, a, NULL);
	struct xbar_params q = p;
	q.drift_on = 1;
	q.drift_nu = 0;
	q.drift_nu_sd = 0;
	eval(&q, m, n, b, NULL);
	ck_assert_int_eq(memcmp(a, b, (size_t)n), 0);
	q = p;
	q.ir_on = 1;
	q.r_wire_ohm = 0;
	eval(&q, m, n, b, NULL);
	ck_assert_int_eq(memcmp(a, b, (size_t)n), 0);
	q = p;
	q.ret_on = 1;
	q.ret_t_s = 0;
	eval(&q, m, n, b, NULL);
	ck_assert_int_eq(memcmp(a, b, (size_t)n), 0);

	/* sweeps, each effect alone (no d2d): accuracy never rises by more
	 * than 0.5 pp from one point to the next and falls overall */
	struct sweep { int kind; double v[4]; } sw[] = {
		{ 0, { 0, 0.01, 0.03, 0.1 } },      /* drift nu (sd 0.4 nu), t = 1 day, compensated */
		{ 1, { 0, 10, 30, 100 } },          /* IR drop, ohm per segment */
		{ 2, { 0, 1e7, 3e7, 1e8 } },        /* retention age, s (tau 100 years) */
	};
	for (size_t s = 0; s < ND_ARRAY_LEN(sw); s++) {
		double acc[4];
		for (int i = 0; i < 4; i++) {
			xdefaults(&q);
			if (sw[s].kind == 0) {
				q.drift_on = 1;
				q.drift_nu = sw[s].v[i];
				q.drift_nu_sd = sw[s].v[i] * 0.4;
			} else if (sw[s].kind == 1) {
				q.ir_on = 1;
				q.r_wire_ohm = sw[s].v[i];
			} else {
				q.ret_on = 1;
				q.ret_t_s = sw[s].v[i];
			}
			acc[i] = (double)eval(&q, m, n, NULL, NULL) / n;
			fprintf(stderr, "effect %d at %g: %.2f %%\n", sw[s].kind, sw[s].v[i], 100 * acc[i]);
		}
		for (int i = 1; i < 4; i++)
			ck_assert_msg(acc[i] <= acc[i - 1] + 0.005, "effect %d not monotone at %g", sw[s].kind, sw[s].v[i]);
		ck_assert_msg(acc[3] < acc[0] - 0.01, "effect %d does not move accuracy", sw[s].kind);
	}
	free(a);
	free(b);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("xbar_periph");
	TCase *tc = tcase_create("xbar_periph");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, periphery_by_hand);
	tcase_add_test(tc, write_verify);
	tcase_add_test(tc, effect_limits_and_sweeps);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	setenv("CK_FORK", "no", 1);
	int rc = tu_run_suite(suite());
	bnn_model_free(model_a);
	return rc;
}
