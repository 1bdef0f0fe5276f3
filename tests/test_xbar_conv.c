/* Binarized CNNs on crossbar tiles (issue 12, deliver 1 / must-show 1).
 * Shapes and tile counts are re-derived by hand; the digital network is
 * checked against a direct nested-loop convolution written here; the ideal
 * crossbar must equal the digital network on all 10,000 test images. */
#include <cJSON.h>
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "analog/gbo.h"
#include "analog/xbar.h"
#include "analog/xbar_conv.h"
#include "core/util.h"
#include "tests/common/tutil.h"
#include "workloads/bcnn.h"
#include "workloads/idx.h"

static struct wl_dataset train, test;
static int have_data = -1;

static int data(void)
{
	if (have_data < 0) {
		struct nd_err err = { 0 };
		have_data = !wl_fmnist_load(wl_fmnist_default_dir(), 1, &train, &err) &&
			    !wl_fmnist_load(wl_fmnist_default_dir(), 0, &test, &err);
		if (!have_data)
			fprintf(stderr, "%s\n", err.msg);
	}
	return have_data;
}

#define NEED_DATA() do { if (!data()) { tu_skip_need("dataset", "Fashion-MNIST not installed (dataset-fashion-mnist)"); return; } } while (0)

static void cdefaults(struct bcnn_params *p)
{
	tu_defaults(&bcnn_section, p);
}

static void xdefaults(struct xbar_params *p)
{
	tu_defaults(&xbar_section, p);
}

static void xideal(struct xbar_params *p)
{
	xdefaults(p);
	p->adc_ideal = 1;
	p->adc_ref = XBAR_REF_CENTRED;
	p->onoff_on = 0;
}

/* 28 -> 26 -> 24 -> pool 12 -> 10 -> 8 -> pool 4; fc on 4x4x32; tiles of
 * 128 rows: ceil(9/128) .. ceil(512/128), one column tile each. */
START_TEST(shapes_and_tiles)
{
	struct bcnn_params bp;
	cdefaults(&bp);
	struct nd_err err = { 0 };
	struct bcnn_shape s;
	ck_assert_int_eq(bcnn_shape(&bp, &s, &err), 0);
	static const int n_in[] = { 9, 144, 144, 288, 512, 128 };
	static const int pos[] = { 676, 576, 100, 64, 1, 1 };
	static const int out_map[] = { 26 * 26 * 16, 12 * 12 * 16, 10 * 10 * 32, 4 * 4 * 32, 128, 10 };
	static const int rt[] = { 1, 2, 2, 3, 4, 1 };
	ck_assert_int_eq(s.nl, 6);
	for (int l = 0; l < 6; l++) {
		ck_assert_int_eq(s.n_in[l], n_in[l]);
		ck_assert_int_eq(s.positions[l], pos[l]);
		ck_assert_int_eq(s.ph[l] * s.pw[l] * s.cout[l], out_map[l]);
	}
	struct bcnn_model *m = bcnn_random(&bp, 3, &err);
	ck_assert_ptr_nonnull(m);
	struct xbar_params p;
	xideal(&p);
	struct xbar_conv_map map;
	ck_assert_int_eq(xbar_conv_map(&p, m, &map, &err), 0);
	long tot = 0;
	for (int l = 0; l < 6; l++) {
		ck_assert_int_eq(map.row_tiles[l], rt[l]);
		ck_assert_int_eq(map.col_tiles[l], 1);
		tot += rt[l];
		double u = (double)n_in[l] * s.cout[l] / (rt[l] * 128.0 * 128.0);
		ck_assert(fabs(map.util[l] - u) < 1e-12);
	}
	ck_assert_int_eq(map.total_tiles, tot);
	ck_assert(fabs(map.util[4] - 1.0) < 1e-12);   /* 512 x 128 fills 4 tiles */
	/* the lecture seed's 27 x 32 tile with 5 bias rows: 27 weight rows */
	p.rows = 32;
	p.bias_rows = 5;
	p.cols = 32;
	ck_assert_int_eq(xbar_conv_map(&p, m, &map, &err), 0);
	static const int rt27[] = { 1, 6, 6, 11, 19, 5 }, ct32[] = { 1, 1, 1, 1, 4, 1 };
	for (int l = 0; l < 6; l++) {
		ck_assert_int_eq(map.row_tiles[l], rt27[l]);
		ck_assert_int_eq(map.col_tiles[l], ct32[l]);
	}
	ck_assert(fabs(map.util[0] - 9.0 * 16 / (27.0 * 32)) < 1e-12);
	/* more tiles than the chip: -EINVAL naming the key */
	xideal(&p);
	p.max_tiles = (int)tot - 1;
	ck_assert_int_eq(xbar_conv_map(&p, m, &map, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "xbar.max_tiles"));
	ck_assert_ptr_nonnull(strstr(err.msg, "512 rows"));
	/* calibrated references need calibration images */
	xideal(&p);
	p.adc_ideal = 0;
	p.adc_ref = XBAR_REF_CALIBRATED;
	xbar_refs *rf = NULL;
	ck_assert_int_eq(xbar_conv_refs(&p, m, NULL, 0, &rf, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "xbar.adc.ref"));
	ck_assert_ptr_null(rf);
	bcnn_model_free(m);
	/* bad shapes name the key */
	snprintf(bp.conv, sizeof bp.conv, "16,16,32");
	ck_assert_int_eq(bcnn_shape(&bp, &s, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "bcnn.conv"));
	cdefaults(&bp);
	bp.kernel = 7;
	ck_assert_int_eq(bcnn_shape(&bp, &s, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "bcnn.kernel"));
}
END_TEST

/* Second method: the folded network computed with plain nested loops over
 * (oy, ox, ky, kx, c) on +1/-1 values, thresholds and a 2x2 max over the
 * thresholded bits, written independently of bcnn.c's unrolling. */
static int direct_forward(const struct bcnn_model *m, const uint8_t *pix, double *scores)
{
	const struct bnn_model *net = m->net;
	const struct bcnn_shape *s = &m->s;
	int Q = net->qin[0];
	static int map[2][26 * 26 * 64];
	int cur = 0, H = 28, W = 28, C = 1;
	for (int i = 0; i < 784; i++)
		map[0][i] = (int)((pix[i] * (unsigned)Q * 2u + 255u) / 510u);   /* round(p Q / 255) */
	for (int l = 0; l < s->nl; l++) {
		const struct bnn_layer *L = &net->layer[l];
		int K = l < s->nconv ? s->k[l] : (l == s->nconv ? H : 1), q = net->qin[l];
		int OH = H - K + 1, OW = W - K + 1, Co = L->n_out;
		static long D[26 * 26 * 64];
		for (int oy = 0; oy < OH; oy++)
			for (int ox = 0; ox < OW; ox++)
				for (int j = 0; j < Co; j++) {
					long d = 0;
					for (int ky = 0; ky < K; ky++)
						for (int kx = 0; kx < K; kx++)
							for (int c = 0; c < C; c++) {
								int lev = map[cur][((oy + ky) * W + ox + kx) * C + c];
								int w = bnn_w(L, j, (ky * K + kx) * C + c);
								d += (long)w * (2 * lev - q);
							}
					D[(oy * OW + ox) * Co + j] = d;
				}
		if (l == s->nl - 1) {
			int best = 0;
			for (int j = 0; j < Co && scores; j++)
				scores[j] = L->g[j] * (double)D[j] + L->h[j];
			for (int j = 1; j < Co; j++)
				if (L->g[j] * (double)D[j] + L->h[j] > L->g[best] * (double)D[best] + L->h[best])
					best = j;
			return best;
		}
		int pool = l < s->nconv && (l & 1), PH = pool ? OH / 2 : OH, PW = pool ? OW / 2 : OW;
		for (int py = 0; py < PH; py++)
			for (int px = 0; px < PW; px++)
				for (int j = 0; j < Co; j++) {
					int bit = 0;
					for (int dy = 0; dy < (pool ? 2 : 1); dy++)
						for (int dx = 0; dx < (pool ? 2 : 1); dx++) {
							int y = pool ? 2 * py + dy : py, x = pool ? 2 * px + dx : px;
							bit |= D[(y * OW + x) * Co + j] >= L->thresh[j];
						}
					map[!cur][(py * PW + px) * Co + j] = bit;
				}
		cur = !cur;
		H = PH;
		W = PW;
		C = Co;
	}
	return -1;
}

static int direct_predict(const struct bcnn_model *m, const uint8_t *pix)
{
	return direct_forward(m, pix, NULL);
}

START_TEST(digital_matches_direct)
{
	struct bcnn_params bp;
	cdefaults(&bp);
	struct nd_err err = { 0 };
	struct bcnn_model *m = bcnn_random(&bp, 5, &err);
	ck_assert_ptr_nonnull(m);
	/* synthetic images: smooth blobs, so every input level occurs */
	enum { N = 24 };
	uint8_t *pix = xmalloc(784 * N), pred[N];
	for (int i = 0; i < N; i++)
		for (int k = 0; k < 784; k++) {
			int y = k / 28, x = k % 28;
			double v = 127.5 + 127.5 * sin(0.3 * (i + 1) * x + 0.17 * y * (i % 5 + 1));
			pix[i * 784 + k] = (uint8_t)v;
		}
	bcnn_predict(m, pix, N, NULL, pred);
	int seen[10] = { 0 }, kinds = 0;
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(pred[i], direct_predict(m, pix + i * 784));
		kinds += !seen[pred[i]]++;
	}
	ck_assert_int_ge(kinds, 2);   /* not a constant network */
	free(pix);
	bcnn_model_free(m);
}
END_TEST

/* Must-show 1: every effect off, a converter that resolves every level:
 * the crossbar's prediction equals the digital network's on all 10,000
 * test images, on 128x128 tiles and on the seed's 27+5 x 32 tiles (whose
 * bias rows hold a share of each channel's threshold). */
START_TEST(ideal_equals_digital)
{
	NEED_DATA();
	struct bcnn_params bp;
	cdefaults(&bp);
	struct nd_err err = { 0 };
	struct bcnn_model *m = bcnn_random(&bp, 7, &err);
	ck_assert_ptr_nonnull(m);
	long n = test.n;
	uint8_t *pd = xmalloc((size_t)n), *px = xmalloc((size_t)n);
	long cd = bcnn_predict(m, test.pixels, n, test.labels, pd);
	int seen[10] = { 0 }, kinds = 0;
	for (long i = 0; i < n; i++)
		kinds += !seen[pd[i]]++;
	ck_assert_int_ge(kinds, 3);
	struct xbar_params p;
	for (int geo = 0; geo < 2; geo++) {
		xideal(&p);
		if (geo) {
			p.rows = 32;
			p.bias_rows = 5;
			p.cols = 32;
		}
		/* all 10,000 on 128x128 tiles, the first 2,000 on the seed tile */
		long ng = geo ? 2000 : n;
		struct xbar_counts cnt;
		memset(&cnt, 0, sizeof cnt);
		long cx = xbar_conv_eval(&p, m, NULL, 1, 0, test.pixels, test.labels, ng, px, &cnt, &err);
		ck_assert_msg(cx >= 0, "%s", err.msg);
		long diff = 0;
		for (long i = 0; i < ng; i++)
			diff += pd[i] != px[i];
		ck_assert_msg(diff == 0, "geometry %d: %ld of %ld predictions differ", geo, diff, ng);
		if (!geo)
			ck_assert_int_eq(cx, cd);
		ck_assert_int_eq(cnt.images, (uint64_t)ng);
		/* hand count: conversions = images x positions x row tiles x
		 * channels x pulses (layer 0: input_steps unary pulses) */
		struct xbar_conv_map map;
		ck_assert_int_eq(xbar_conv_map(&p, m, &map, &err), 0);
		for (int l = 0; l < m->s.nl; l++) {
			uint64_t T = l == 0 ? (uint64_t)bp.input_steps : 1;
			uint64_t conv = (uint64_t)ng * m->s.positions[l] * map.row_tiles[l] * m->s.cout[l] * T;
			ck_assert_uint_eq(cnt.l[l].conversions, conv);
			ck_assert_uint_eq(cnt.l[l].tile_pulses,
					  (uint64_t)ng * m->s.positions[l] * map.tiles[l] * T);
		}
	}
	free(pd);
	free(px);
	bcnn_model_free(m);
}
END_TEST

/* A small trained BNN shared by the tests below (trained once). */
static struct bcnn_result small;
static struct bcnn_model *small_model(void)
{
	static int done;
	struct bcnn_result r;
	if (!done) {
		struct bcnn_params bp;
		cdefaults(&bp);
		snprintf(bp.conv, sizeof bp.conv, "8,8,16,16");
		bp.fc = 32;
		bp.epochs = 1;
		bp.train_n = 1000;
		bp.calib_n = 256;
		struct nd_err err = { 0 };
		struct wl_dataset sub = test;
		sub.n = 500;
		ck_assert_int_eq(bcnn_train(&bp, 2, &train, &sub, NULL, NULL, &r, &err), 0);
		ck_assert(r.test_acc > 0.4);
		small = r;
		done = 1;
	}
	return small.model;
}

static void effects_off(struct xbar_params *p)
{
	p->d2d_on = p->read_on = p->stuck_on = p->offset_on = p->onoff_on = 0;
	p->prog_on = p->drift_on = p->ret_on = p->ir_on = 0;
}

/* Calibrated converter references for conv layers (the default
 * xbar.adc.ref): the calibration run is counted by hand (every position
 * of every calibration image is one sample); with every effect off and a
 * 10-bit converter whose references are placed from the statistics (step
 * 1 when 16 sigmas fit in 1,024 levels, full scale covering every
 * partial sum) the crossbar equals the digital network; thread count
 * changes nothing; at 3 bits with device noise the calibrated references
 * beat centred ones. */
START_TEST(calibrated_refs)
{
	NEED_DATA();
	struct bcnn_model *m = small_model();
	struct nd_err err = { 0 };
	struct xbar_params p;
	xdefaults(&p);
	ck_assert_int_eq(p.adc_ref, XBAR_REF_CALIBRATED);
	ck_assert_int_eq(p.adc_ideal, 0);
	long nc = 200, n = 1000;
	struct xbar_params q = p;
	effects_off(&q);
	q.adc_bits = 10;
	q.adc_range_sd = 16;
	xbar_refs *rf = NULL;
	ck_assert_int_eq(xbar_conv_refs(&q, m, train.pixels, nc, &rf, &err), 0);
	const struct xbar_counts *cc = xbar_refs_calib_counts(rf);
	ck_assert_uint_eq(cc->images, (uint64_t)nc);
	struct xbar_conv_map map;
	ck_assert_int_eq(xbar_conv_map(&q, m, &map, &err), 0);
	for (int l = 0; l < m->s.nl; l++) {
		uint64_t T = l == 0 ? (uint64_t)m->net->qin[0] : 1;
		ck_assert_uint_eq(cc->l[l].conversions,
				  (uint64_t)nc * m->s.positions[l] * map.row_tiles[l] * m->s.cout[l] * T);
	}
	uint8_t *pd = xmalloc((size_t)n), *px = xmalloc((size_t)n), *py = xmalloc((size_t)n);
	bcnn_predict(m, test.pixels, n, NULL, pd);
	ck_assert_int_ge(xbar_conv_eval(&q, m, rf, 1, 0, test.pixels, NULL, n, px, NULL, &err), 0);
	long diff = 0;
	for (long i = 0; i < n; i++)
		diff += pd[i] != px[i];
	ck_assert_msg(diff == 0, "calibrated 10-bit, effects off: %ld of %ld differ from digital", diff, n);
	xbar_refs_destroy(rf);
	/* 3 bits (the default), device variation and read noise */
	p.d2d_on = 1;
	p.d2d_sigma = 0.1;
	p.read_on = 1;
	p.read_sigma = 0.05;
	p.adc_calib_n = (int)nc;
	xbar_refs *r1 = NULL, *r2 = NULL;
#ifdef _OPENMP
	omp_set_num_threads(1);
#endif
	ck_assert_int_eq(xbar_conv_refs(&p, m, train.pixels, nc, &r1, &err), 0);
	long k1 = xbar_conv_eval(&p, m, r1, 1, 0, test.pixels, test.labels, n, px, NULL, &err);
#ifdef _OPENMP
	omp_set_num_threads(2);
#endif
	ck_assert_int_eq(xbar_conv_refs(&p, m, train.pixels, nc, &r2, &err), 0);
	/* second method for conv1's references: its exact partial sums by
	 * hand (no bias rows by default; one row tile of 9 rows): matches of
	 * pulse t = #{i : [t < level_i] == weight bit i} over every position
	 * of the nc calibration images, then mean and sd to start and step */
	{
		ck_assert_int_eq(p.bias_rows, 0);
		const struct bnn_layer *L0 = &m->net->layer[0];
		int T = m->net->qin[0], no = L0->n_out, ni = L0->n_in, P = m->s.positions[0];
		ck_assert_int_le(no, 64);
		long s1[4][64], s2[4][64];
		memset(s1, 0, sizeof s1);
		memset(s2, 0, sizeof s2);
		ck_assert_int_le(T, 4);
		uint8_t lev[784], vec[64];
		for (long i = 0; i < nc; i++) {
			bnn_input_levels(m->net, train.pixels + (size_t)i * 784, lev);
			for (int pos = 0; pos < P; pos++) {
				bcnn_unroll(&m->s, 0, lev, pos, vec);
				for (int t = 0; t < T; t++)
					for (int j = 0; j < no; j++) {
						long mt = 0;
						for (int k = 0; k < ni; k++) {
							int wb = (int)((L0->wbits[(size_t)j * L0->words + (size_t)(k >> 6)] >> (k & 63)) & 1u);
							mt += (t < vec[k]) == wb;
						}
						s1[t][j] += mt;
						s2[t][j] += mt * mt;
					}
			}
		}
		long ns = nc * P;
		int levels = 1 << p.adc_bits;
		for (int t = 0; t < T; t++)
			for (int j = 0; j < no; j++) {
				double mu = (double)s1[t][j] / (double)ns;
				double var = (double)s2[t][j] / (double)ns - mu * mu;
				double sd = var > 0 ? sqrt(var) : 0.0;
				double stp = p.adc_range_sd * sd / levels;
				int step = stp < 1.0 ? 1 : (int)floor(stp + 0.5);
				int start = (int)floor(mu - (levels * step - 1) / 2.0 + 0.5);
				int32_t gs, gp;
				xbar_refs_get(r2, 0, t, 0, j, &gs, &gp);
				ck_assert_msg(gs == start && gp == step,
					      "conv1 pulse %d column %d: start %d step %d, by hand %d %d", t, j,
					      (int)gs, (int)gp, start, step);
			}
	}
	long k2 = xbar_conv_eval(&p, m, r2, 1, 0, test.pixels, test.labels, n, py, NULL, &err);
	ck_assert_int_eq(k1, k2);
	ck_assert_int_eq(memcmp(px, py, (size_t)n), 0);
	ck_assert_int_eq(memcmp(xbar_refs_calib_counts(r1), xbar_refs_calib_counts(r2),
				sizeof(struct xbar_counts)), 0);
	struct xbar_params pc = p;
	pc.adc_ref = XBAR_REF_CENTRED;
	long kc = xbar_conv_eval(&pc, m, NULL, 1, 0, test.pixels, test.labels, n, NULL, NULL, &err);
	long kd = bcnn_predict(m, test.pixels, n, test.labels, NULL);
	fprintf(stderr, "calibrated_refs: digital %ld, 3-bit calibrated %ld, centred %ld of %ld\n", kd, k1, kc, n);
	ck_assert_msg(k1 > kc + n / 20, "calibrated %ld vs centred %ld", k1, kc);
	/* a calibrated reference without calibration images is refused */
	ck_assert_int_eq(xbar_conv_eval(&p, m, NULL, 1, 0, test.pixels, test.labels, 10, NULL, NULL, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "xbar.adc.ref"));
	xbar_refs_destroy(r1);
	xbar_refs_destroy(r2);
	free(pd);
	free(px);
	free(py);
}
END_TEST

/* The CNN model file: save / load gives the same network bit for bit
 * (every weight word, threshold and score parameter compared, and the
 * predictions); a cut, flipped, NaN or out-of-range file is refused naming
 * the file; through the command a bad file exits 2 before anything is
 * written and a saved model reproduces the run that wrote it. */
static void write_bytes(const char *path, const unsigned char *b, size_t n)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(b, 1, n, f), n);
	fclose(f);
}

static unsigned char *read_bytes(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *b = xmalloc((size_t)len);
	ck_assert_uint_eq(fread(b, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*n = (size_t)len;
	return b;
}

static void expect_refused(const char *path, const char *what)
{
	struct nd_err err = { 0 };
	struct bcnn_model *m = NULL;
	ck_assert_int_eq(bcnn_model_load(path, &m, &err), -EINVAL);
	ck_assert_ptr_null(m);
	ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, what), "wanted '%s' naming %s: %s", what,
		      path, err.msg);
}

START_TEST(model_file)
{
	struct bcnn_params bp;
	cdefaults(&bp);
	snprintf(bp.conv, sizeof bp.conv, "8,8,16,16");
	bp.fc = 32;
	struct nd_err err = { 0 };
	struct bcnn_model *m = bcnn_random(&bp, 11, &err), *r = NULL;
	ck_assert_ptr_nonnull(m);
	char path[700], bad[700];
	snprintf(path, sizeof path, "%s/m.bcnn", tu_tmpdir());
	snprintf(bad, sizeof bad, "%s/bad.bcnn", tu_tmpdir());
	ck_assert_int_eq(bcnn_model_save(m, path, &err), 0);
	ck_assert_int_eq(bcnn_model_load(path, &r, &err), 0);
	ck_assert_int_eq(memcmp(&r->s, &m->s, sizeof m->s), 0);
	ck_assert_int_eq(r->net->nl, m->net->nl);
	ck_assert_int_eq(r->net->input_thr, m->net->input_thr);
	for (int l = 0; l < m->net->nl; l++) {
		const struct bnn_layer *a = &m->net->layer[l], *b = &r->net->layer[l];
		ck_assert_int_eq(a->n_in, b->n_in);
		ck_assert_int_eq(a->n_out, b->n_out);
		ck_assert_int_eq(a->kind, b->kind);
		ck_assert_int_eq(m->net->qin[l], r->net->qin[l]);
		ck_assert_int_eq(memcmp(a->wbits, b->wbits, sizeof(uint64_t) * (size_t)a->words * a->n_out), 0);
		if (a->kind == BNN_OUT_SCORE) {
			ck_assert_int_eq(memcmp(a->g, b->g, sizeof(double) * (size_t)a->n_out), 0);
			ck_assert_int_eq(memcmp(a->h, b->h, sizeof(double) * (size_t)a->n_out), 0);
		} else {
			ck_assert_int_eq(memcmp(a->thresh, b->thresh, sizeof(int32_t) * (size_t)a->n_out), 0);
		}
	}
	if (data()) {
		uint8_t *pa = xmalloc(500), *pb = xmalloc(500);
		bcnn_predict(m, test.pixels, 500, NULL, pa);
		bcnn_predict(r, test.pixels, 500, NULL, pb);
		ck_assert_int_eq(memcmp(pa, pb, 500), 0);
		free(pa);
		free(pb);
	}
	bcnn_model_free(r);
	size_t n;
	unsigned char *b = read_bytes(path, &n);
	/* cut anywhere: refused */
	static const double cuts[] = { 0.0, 0.001, 0.3, 0.999 };
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		write_bytes(bad, b, (size_t)(cuts[i] * (double)n));
		expect_refused(bad, cuts[i] < 0.01 ? "not an ndpsim CNN model" : "truncated");
	}
	write_bytes(bad, b, n - 1);
	expect_refused(bad, "truncated");
	/* one flipped bit in the weights: the checksum */
	b[n / 2] ^= 4;
	write_bytes(bad, b, n);
	expect_refused(bad, "checksum mismatch");
	b[n / 2] ^= 4;
	/* trailing bytes */
	unsigned char *b2 = xmalloc(n + 3);
	memcpy(b2, b, n);
	memset(b2 + n, 0, 3);
	write_bytes(bad, b2, n + 3);
	expect_refused(bad, "trailing bytes");
	free(b2);
	/* a NaN score and an unreachable threshold, with a valid checksum */
	struct bnn_layer *out = &m->net->layer[m->net->nl - 1];
	double g0 = out->g[0];
	out->g[0] = (double)NAN;
	ck_assert_int_eq(bcnn_model_save(m, bad, &err), 0);
	expect_refused(bad, "non-finite");
	out->g[0] = g0;
	struct bnn_layer *h1 = &m->net->layer[1];
	h1->thresh[3] = h1->n_in + 2;   /* D_Q of 72 +-1 inputs reaches +-72 */
	ck_assert_int_eq(bcnn_model_save(m, bad, &err), 0);
	expect_refused(bad, "outside");
	/* a missing file names it */
	struct bcnn_model *none = NULL;
	ck_assert_int_lt(bcnn_model_load("/nonexistent/x.bcnn", &none, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/x.bcnn"));
	free(b);
	bcnn_model_free(m);
	/* the command: a bad file exits 2 naming it, before anything is
	 * written (an existing --out directory is left alone) */
	char out_s[8192], dir[800];
	snprintf(dir, sizeof dir, "%s/cnn-keep", tu_tmpdir());
	char mk[2000];
	snprintf(mk, sizeof mk, "mkdir -p %s && echo keep > %s/marker", dir, dir);
	ck_assert_int_eq(system(mk), 0);
	write_bytes(bad, (const unsigned char *)"NDBCNN1\n\1\2", 10);
	int rc = tu_ndpsim(out_s, sizeof out_s, "xbar cnn --model %s --out %s", bad, dir);
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out_s, bad));
	char mpath[1000];
	snprintf(mpath, sizeof mpath, "%s/marker", dir);
	char *keep = tu_slurp(mpath);
	ck_assert_ptr_nonnull(keep);
	ck_assert_str_eq(keep, "keep\n");
	free(keep);
}
END_TEST

/* Noise-aware training of the CNN (bcnn.noise_aware.*): a hook that adds
 * exactly zero (sigmas 0) gives plain training's model bit for bit; with
 * the sigmas on the model differs from plain training and two runs of
 * the same seed (1 and 2 threads) are bit-identical.  Models compared as
 * their files' bytes. */
static unsigned char *train_bytes(const struct bcnn_params *bp, const struct bnn_noise_hook *hook,
				  size_t *n)
{
	struct bcnn_result r;
	struct nd_err err = { 0 };
	ck_assert_int_eq(bcnn_train_noisy(bp, 5, &train, NULL, NULL, NULL, hook, &r, &err), 0);
	char path[700];
	snprintf(path, sizeof path, "%s/nat.bcnn", tu_tmpdir());
	ck_assert_int_eq(bcnn_model_save(r.model, path, &err), 0);
	bcnn_model_free(r.model);
	return read_bytes(path, n);
}

START_TEST(noise_aware_cnn)
{
	NEED_DATA();
	struct bcnn_params bp;
	cdefaults(&bp);
	snprintf(bp.conv, sizeof bp.conv, "4,4,8,8");
	bp.fc = 16;
	bp.epochs = 1;
	bp.train_n = 256;
	bp.calib_n = 64;
	struct xbar_params xp;
	xdefaults(&xp);
	struct bnn_params nb;
	memset(&nb, 0, sizeof nb);
	nb.na_pulses = 4;
	struct xbar_bnn_noise nz;
	struct bnn_noise_hook hook = { xbar_bnn_noise_fn, &nz };
	size_t n0, n1, n2, n3;
	unsigned char *plain = train_bytes(&bp, NULL, &n0);
	xbar_bnn_noise_init(&nz, &xp, &nb, 5);
	ck_assert(xbar_bnn_noise_sd(&nz, 144) == 0.0);
	unsigned char *zero = train_bytes(&bp, &hook, &n1);
	ck_assert_uint_eq(n0, n1);
	ck_assert_int_eq(memcmp(plain, zero, n0), 0);
	nb.na_d2d_sigma = 0.2;
	nb.na_read_sigma = 2.0;
	xbar_bnn_noise_init(&nz, &xp, &nb, 5);
	ck_assert(xbar_bnn_noise_sd(&nz, 144) > 0.0);
#ifdef _OPENMP
	omp_set_num_threads(1);
#endif
	unsigned char *na = train_bytes(&bp, &hook, &n2);
#ifdef _OPENMP
	omp_set_num_threads(2);
#endif
	unsigned char *nb2 = train_bytes(&bp, &hook, &n3);
	ck_assert_uint_eq(n2, n3);
	ck_assert_int_eq(memcmp(na, nb2, n2), 0);
	ck_assert_uint_eq(n0, n2);
	ck_assert_int_ne(memcmp(plain, na, n0), 0);
	/* bcnn_train() itself refuses the key (no noise model in workloads/) */
	struct bcnn_result r;
	struct nd_err err = { 0 };
	bp.na_on = 1;
	ck_assert_int_eq(bcnn_train(&bp, 5, &train, NULL, NULL, NULL, &r, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "bcnn.noise_aware.enable"));
	free(plain);
	free(zero);
	free(na);
	free(nb2);
}
END_TEST

/* Noise on: accuracy moves, chips differ, thread count changes nothing
 * (accuracies and counts), and the energy breakdown adds up. */
START_TEST(noisy_threads_energy)
{
	NEED_DATA();
	struct bcnn_params bp;
	cdefaults(&bp);
	snprintf(bp.conv, sizeof bp.conv, "8,8,16,16");
	bp.fc = 32;
	bp.epochs = 1;
	bp.train_n = 1000;
	bp.calib_n = 256;
	struct nd_err err = { 0 };
	struct bcnn_result r;
	struct wl_dataset sub = test;
	sub.n = 500;
	ck_assert_int_eq(bcnn_train(&bp, 2, &train, &sub, NULL, NULL, &r, &err), 0);
	ck_assert(r.test_acc > 0.4);      /* trained: chance is 0.1 */
	struct xbar_params p;
	xdefaults(&p);
	p.adc_ref = XBAR_REF_CENTRED;
	p.chips = 2;
	p.d2d_on = 1;
	p.d2d_sigma = 0.3;
	p.read_on = 1;
	p.read_sigma = 0.3;
	struct xbar_mc a, b;
#ifdef _OPENMP
	omp_set_num_threads(1);
#endif
	ck_assert_int_eq(xbar_conv_monte_carlo(&p, r.model, NULL, 1, test.pixels, test.labels, 300, &a, &err), 0);
#ifdef _OPENMP
	omp_set_num_threads(2);
#endif
	ck_assert_int_eq(xbar_conv_monte_carlo(&p, r.model, NULL, 1, test.pixels, test.labels, 300, &b, &err), 0);
	for (int c = 0; c < p.chips; c++)
		ck_assert_int_eq(a.correct[c], b.correct[c]);
	ck_assert_int_eq(memcmp(&a.counts, &b.counts, sizeof a.counts), 0);
	ck_assert(a.correct[0] != a.correct[1]);   /* per-chip variation is real */
	long dig = bcnn_predict(r.model, test.pixels, 300, test.labels, NULL);
	ck_assert(a.mean < (double)dig / 300);
	struct xbar_cost k;
	xbar_conv_cost(&p, r.model, &a.counts, &k);
	double sum = 0;
	for (int i = 0; i < k.ledger.n; i++)
		sum += en_entry_j(&k.ledger.e[i]);
	ck_assert(fabs(sum - k.j_per_image * 300) <= 1e-9 * sum);
	double lsum = k.dma_j;
	for (int l = 0; l < r.model->s.nl; l++)
		lsum += k.layer_j[l];
	ck_assert(fabs(lsum - k.j_per_image) <= 1e-9 * lsum);
	/* ops: 2 x MACs of every position, summed by hand from the shape */
	double ops = 0;
	const struct bcnn_shape *s = &r.model->s;
	for (int l = 0; l < s->nl; l++)
		ops += 2.0 * s->positions[l] * s->n_in[l] * s->cout[l];
	ck_assert(fabs(k.ops_per_image - ops) < 1e-6);
	ck_assert(fabs(k.tops_per_w - ops / k.j_per_image * 1e-12) <= 1e-9 * k.tops_per_w);
	xbar_mc_free(&a);
	xbar_mc_free(&b);
	bcnn_model_free(r.model);
	/* the same code path in the other two forms */
	for (int mode = BCNN_FLOAT; mode <= BCNN_BWN; mode++) {
		bp.mode = mode;
		ck_assert_int_eq(bcnn_train(&bp, 2, &train, &sub, NULL, NULL, &r, &err), 0);
		ck_assert(r.test_acc > 0.4);
		ck_assert_ptr_null(r.model);
	}
}
END_TEST

/* The default command runs (calibrated 3-bit references: the default
 * xbar.adc.ref; reduced sizes), charges the calibration, writes
 * model.bcnn, and a second run with --model reproduces the first's
 * accuracies without training. */
static double jnum(const cJSON *o, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *t = strtok(buf, "."); t && o; t = strtok(NULL, "."))
		o = cJSON_GetObjectItemCaseSensitive(o, t);
	ck_assert_msg(cJSON_IsNumber(o), "no number at %s", path);
	return o->valuedouble;
}

START_TEST(cli_default_and_model)
{
	NEED_DATA();
	char out[16384], d1[700], d2[700], p[800];
	snprintf(d1, sizeof d1, "%s/cnn-def", tu_tmpdir());
	snprintf(d2, sizeof d2, "%s/cnn-reuse", tu_tmpdir());
	const char *tiny = "--set bcnn.conv=8,8,16,16 --set bcnn.fc=32 --set bcnn.epochs=1 "
			    "--set bcnn.train_n=500 --set bcnn.calib_n=256 --set xbar.adc.calib_n=100 "
			    "--set xbar.mc.test_n=200 --set xbar.mc.chips=2";
	int rc = tu_ndpsim(out, sizeof out, "xbar cnn --modes bnn %s --out %s", tiny, d1);
	ck_assert_msg(rc == 0, "default run: exit %d: %s", rc, out);
	ck_assert_ptr_nonnull(strstr(out, "calibrated on 100 training images"));
	snprintf(p, sizeof p, "%s/model.bcnn", d1);
	rc = tu_ndpsim(out, sizeof out, "xbar cnn --model %s --set xbar.adc.calib_n=100 "
		       "--set xbar.mc.test_n=200 --set xbar.mc.chips=2 --out %s", p, d2);
	ck_assert_msg(rc == 0, "--model run: exit %d: %s", rc, out);
	ck_assert_ptr_nonnull(strstr(out, "not trained"));
	cJSON *r[2];
	for (int i = 0; i < 2; i++) {
		snprintf(p, sizeof p, "%s/report.json", i ? d2 : d1);
		char *t = tu_slurp(p);
		ck_assert_ptr_nonnull(t);
		r[i] = cJSON_Parse(t);
		free(t);
		ck_assert_ptr_nonnull(r[i]);
	}
	static const char *const keys[] = {
		"metrics.accuracy.bnn.test_accuracy",
		"metrics.accuracy.bnn_crossbar_ideal.mc.accuracy_mean",
		"metrics.accuracy.bnn_crossbar_config.mc.accuracy_mean",
		"metrics.accuracy.bnn_crossbar_config.mc.accuracy_min",
		"metrics.energy_per_inference_j",
		"metrics.reference_calibration.energy_j",
	};
	for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
		ck_assert_msg(jnum(r[0], keys[k]) == jnum(r[1], keys[k]), "%s: %g vs %g", keys[k],
			      jnum(r[0], keys[k]), jnum(r[1], keys[k]));
	ck_assert(jnum(r[0], "metrics.reference_calibration.energy_j") > 0);
	ck_assert(jnum(r[0], "metrics.reference_calibration.training_images") == 100);
	ck_assert(jnum(r[1], "metrics.accuracy.bnn.train_cpu_s") == 0);
	cJSON_Delete(r[0]);
	cJSON_Delete(r[1]);
}
END_TEST

/* Bad input through the command: exit 2 naming the key, before training. */
START_TEST(cli_bad_input)
{
	char out[4096];
	int rc = tu_ndpsim(out, sizeof out, "xbar cnn --set xbar.max_tiles=5 --out %s/cnn-bad", tu_tmpdir());
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "xbar.max_tiles"));
	ck_assert_ptr_nonnull(strstr(out, "unrolls to"));
	rc = tu_ndpsim(out, sizeof out, "xbar cnn --set bcnn.conv=16,16,32 --out %s/cnn-bad", tu_tmpdir());
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "bcnn.conv"));
	rc = tu_ndpsim(out, sizeof out, "xbar cnn --set xbar.adc.bits=0 --out %s/cnn-bad", tu_tmpdir());
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "xbar.adc.bits"));
	rc = tu_ndpsim(out, sizeof out, "xbar cnn --modes float,cnn --out %s/cnn-bad", tu_tmpdir());
	ck_assert_int_eq(rc, 2);
}
END_TEST

/* ------------------------------------------------------------------ */
/* GBO over the CNN's crossbar layers (issue 12 items 3, 4)             */

static void gdefaults(struct gbo_params *g)
{
	tu_defaults(&gbo_section, g);
}

static void gbo_noisy(struct xbar_params *p)
{
	xdefaults(p);
	p->d2d_on = 1;
	p->d2d_sigma = 0.1;
	p->read_on = 1;
	p->read_sigma = 1.0;
}

/* d loss / d pi against a central finite difference of the loss, on one
 * image with fixed noise draws.  With the smooth forward pass (the
 * surrogate the straight-through backward pass differentiates) every
 * layer's gradient must match; with the hard thresholds only the output
 * layer's (its loss is smooth in pi; a hidden layer's bits do not flip
 * for a tiny step, so its finite difference is 0 while the STE is not). */
START_TEST(gbo_conv_gradient)
{
	NEED_DATA();
	struct bcnn_model *m = small_model();
	struct gbo_params g;
	gdefaults(&g);
	struct xbar_params p;
	gbo_noisy(&p);
	struct nd_err err = { 0 };
	int nl = m->s.nl, nc = 5;
	double pi[BNN_MAX_LAYERS][GBO_MAX_CAND];
	for (int l = 0; l < nl; l++)
		for (int c = 0; c < nc; c++)
			pi[l][c] = 0.12 + 0.05 * ((l + 2 * c) % 5);   /* need not sum to 1 */
	double dpi[BNN_MAX_LAYERS * GBO_MAX_CAND], dh[BNN_MAX_LAYERS * GBO_MAX_CAND];
	int checked = 0;
	for (int img = 0; img < 4; img++) {
		const uint8_t *pix = train.pixels + (size_t)img * 784;
		int lab = train.labels[img];
		for (int smooth = 1; smooth >= 0; smooth--) {
			double L0 = gbo_conv_sample_grad(&g, &p, m, (const double (*)[GBO_MAX_CAND])pi, pix, lab,
							 7, (uint64_t)img, smooth, dpi, &err);
			ck_assert(isfinite(L0) && L0 > 0);
			for (int l = smooth ? 0 : nl - 1; l < nl; l++)
				for (int c = 0; c < nc; c++) {
					const double h = 1e-6;
					double save = pi[l][c];
					pi[l][c] = save + h;
					double Lp = gbo_conv_sample_grad(&g, &p, m, (const double (*)[GBO_MAX_CAND])pi,
									 pix, lab, 7, (uint64_t)img, smooth, dh, &err);
					pi[l][c] = save - h;
					double Lm = gbo_conv_sample_grad(&g, &p, m, (const double (*)[GBO_MAX_CAND])pi,
									 pix, lab, 7, (uint64_t)img, smooth, dh, &err);
					pi[l][c] = save;
					double fd = (Lp - Lm) / (2 * h), an = dpi[l * nc + c];
					ck_assert_msg(fabs(fd - an) <= 1e-5 + 1e-4 * fabs(fd),
						      "image %d smooth %d layer %d cand %d: analytic %.9g, finite difference %.9g",
						      img, smooth, l, c, an, fd);
					checked += fabs(an) > 1e-4;
				}
		}
	}
	/* the hard forward pass is the real network: noise off and every
	 * layer at T = 4 (the 5-level input exactly), the loss is the
	 * cross-entropy of the scores of direct_forward()'s nested loops */
	struct xbar_params q;
	xdefaults(&q);
	effects_off(&q);
	for (int l = 0; l < nl; l++)
		for (int c = 0; c < nc; c++)
			pi[l][c] = c == 2;
	for (int img = 0; img < 20; img++) {
		const uint8_t *pix = test.pixels + (size_t)img * 784;
		int lab = test.labels[img];
		double sc[10], mx = -1e300, se = 0;
		direct_forward(m, pix, sc);
		for (int j = 0; j < 10; j++)
			mx = sc[j] > mx ? sc[j] : mx;
		for (int j = 0; j < 10; j++)
			se += exp(sc[j] - mx);
		double want = -(sc[lab] - mx - log(se));
		double got = gbo_conv_sample_grad(&g, &q, m, (const double (*)[GBO_MAX_CAND])pi, pix, lab, 7,
						  (uint64_t)img, 0, dpi, &err);
		ck_assert_msg(fabs(got - want) <= 1e-9 * (1 + want), "image %d: loss %.12g vs %.12g", img, got, want);
	}
	/* the check is not vacuous: most gradients are far from 0 */
	ck_assert_int_gt(checked, 4 * (nl + 1) * nc / 2);
	/* bad candidates: NAN and the key */
	snprintf(g.candidates, sizeof g.candidates, "4,2");
	ck_assert(isnan(gbo_conv_sample_grad(&g, &p, m, (const double (*)[GBO_MAX_CAND])pi, train.pixels,
					     0, 7, 0, 1, dpi, &err)));
	ck_assert_ptr_nonnull(strstr(err.msg, "gbo.candidates"));
}
END_TEST

/* Budget weights and the cheapest-layer baseline, by hand for the
 * default network on 128 x 128 tiles: column reads of one pulse = row
 * tiles x channels x positions = 1x16x676, 2x16x576, 2x32x100, 3x32x64,
 * 4x128x1, 1x10x1. */
START_TEST(gbo_conv_budgets)
{
	struct bcnn_params bp;
	cdefaults(&bp);
	struct nd_err err = { 0 };
	struct bcnn_model *m = bcnn_random(&bp, 3, &err);
	ck_assert_ptr_nonnull(m);
	struct xbar_params p;
	xdefaults(&p);
	static const double reads[] = { 10816, 18432, 6400, 6144, 512, 10 };
	double tot = 0, w[BNN_MAX_LAYERS];
	for (int l = 0; l < 6; l++)
		tot += reads[l];
	gbo_conv_weights(&p, m, GBO_BUDGET_WEIGHTED, w);
	for (int l = 0; l < 6; l++)
		ck_assert_msg(fabs(w[l] - reads[l] / tot) < 1e-12, "layer %d: %g vs %g", l, w[l], reads[l] / tot);
	gbo_conv_weights(&p, m, GBO_BUDGET_MEAN, w);
	for (int l = 0; l < 6; l++)
		ck_assert(fabs(w[l] - 1.0 / 6) < 1e-12);
	struct gbo_params g;
	gdefaults(&g);
	g.budget = 4;
	struct xbar_enc_plan plan;
	/* mean <= 4: all at 1 (6), then by reads: fc2 (10) gets 16 (sum 21),
	 * fc1 (512) 1 + ... max c with 20 + c <= 24: 4; the rest stay at 1 */
	g.budget_kind = GBO_BUDGET_MEAN;
	ck_assert_int_eq(gbo_conv_cheapest_first(&g, &p, m, &plan, &err), 0);
	static const int want_mean[] = { 1, 1, 1, 1, 4, 16 };
	for (int l = 0; l < 6; l++)
		ck_assert_int_eq(plan.pulses[l], want_mean[l]);
	/* weighted <= 4 (tot = 42314 reads x 4 = 169256): all at 1 costs
	 * 42314; fc2 -> 16 (+150), fc1 -> 16 (+7680), conv4 -> 16 (+92160:
	 * 142304), conv3 -> 4 (+19200 = 161504; 8 would be 186104), conv1 ->
	 * 1 (2 adds 10816 -> 172320 > 169256), conv2 -> 1 */
	g.budget_kind = GBO_BUDGET_WEIGHTED;
	ck_assert_int_eq(gbo_conv_cheapest_first(&g, &p, m, &plan, &err), 0);
	static const int want_w[] = { 1, 1, 4, 16, 16, 16 };
	for (int l = 0; l < 6; l++)
		ck_assert_msg(plan.pulses[l] == want_w[l], "layer %d: %d", l, plan.pulses[l]);
	g.budget = 0;
	ck_assert_int_eq(gbo_conv_cheapest_first(&g, &p, m, &plan, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "gbo.budget"));
	bcnn_model_free(m);
}
END_TEST

/* Same seed, 1 or 2 threads: bit-identical probabilities and choice;
 * the budget holds; another seed differs. */
START_TEST(gbo_conv_threads)
{
	NEED_DATA();
	struct bcnn_model *m = small_model();
	struct gbo_params g;
	gdefaults(&g);
	g.steps = 6;
	g.batch = 8;
	g.lr = 0.5;
	g.budget = 4;
	g.train_n = 1000;
	struct xbar_params p;
	gbo_noisy(&p);
	struct nd_err err = { 0 };
	struct gbo_result a, b, c;
#ifdef _OPENMP
	omp_set_num_threads(1);
#endif
	ck_assert_int_eq(gbo_conv_run(&g, &p, m, 5, &train, &a, &err), 0);
#ifdef _OPENMP
	omp_set_num_threads(2);
#endif
	ck_assert_int_eq(gbo_conv_run(&g, &p, m, 5, &train, &b, &err), 0);
	ck_assert_int_eq(gbo_conv_run(&g, &p, m, 6, &train, &c, &err), 0);
	ck_assert_int_eq(memcmp(a.prob, b.prob, sizeof a.prob), 0);
	ck_assert_int_eq(memcmp(a.chosen, b.chosen, sizeof a.chosen), 0);
	ck_assert(a.loss_first == b.loss_first && a.loss_last == b.loss_last);
	ck_assert(a.lambda_final == b.lambda_final);
	ck_assert(memcmp(a.prob, c.prob, sizeof a.prob) != 0);
	ck_assert_int_eq(a.nl, m->s.nl);
	double cost = 0;
	for (int l = 0; l < a.nl; l++) {
		cost += a.weight[l] * a.chosen[l];
		double ps = 0;
		for (int k = 0; k < a.ncand; k++)
			ps += a.prob[l][k];
		ck_assert(fabs(ps - 1) < 1e-12);
		ck_assert(a.prob[l][0] != 0.2);   /* the logits moved */
	}
	ck_assert(cost <= 4 + 1e-9);
	ck_assert(fabs(cost - a.cost_pulses) < 1e-12);
}
END_TEST

/* `xbar cnn --gbo`: gbo.csv's values checked against the report and by
 * hand: the uniform T = 4 row is the configured row (xbar.encoding.pulses
 * = 4: same chips, seed and references, so the same accuracy and energy);
 * each row's mean T and weighted cost re-derived from its pulses and
 * layers.csv's tiles and positions; the budgets hold; latency is the sum
 * over layers of positions x pulses x the per-pulse stage time, so it
 * grows with the pulses; bad input exits 2 naming the key. */
static double csv_num(const char *line, int col)
{
	const char *p = line;
	for (int k = 0; k < col && p; k++) {
		p = strchr(p, ',');
		if (p)
			p++;
	}
	ck_assert_ptr_nonnull(p);
	return strtod(p, NULL);
}

static void csv_field(const char *line, int col, char *buf, size_t n)
{
	const char *p = line;
	for (int k = 0; k < col && p; k++) {
		p = strchr(p, ',');
		if (p)
			p++;
	}
	ck_assert_ptr_nonnull(p);
	size_t k = strcspn(p, ",\n");
	ck_assert(k < n);
	memcpy(buf, p, k);
	buf[k] = '\0';
}

START_TEST(cli_gbo)
{
	NEED_DATA();
	char out[32768], d[700], path[800];
	snprintf(d, sizeof d, "%s/cnn-gbo", tu_tmpdir());
	const char *tiny = "--set bcnn.conv=8,8,16,16 --set bcnn.fc=32 --set bcnn.epochs=1 "
			   "--set bcnn.train_n=500 --set bcnn.calib_n=256 --set xbar.adc.calib_n=100 "
			   "--set xbar.mc.test_n=150 --set xbar.mc.chips=2 --set xbar.encoding.pulses=4 "
			   "--set xbar.noise.read.enable=true --set xbar.noise.read.sigma=1 "
			   "--set gbo.steps=4 --set gbo.batch=8 --set gbo.budget=4";
	int rc = tu_ndpsim(out, sizeof out, "xbar cnn --modes bnn %s --gbo --uniform 1,4 --out %s", tiny, d);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	snprintf(path, sizeof path, "%s/report.json", d);
	char *t = tu_slurp(path);
	ck_assert_ptr_nonnull(t);
	cJSON *rep = cJSON_Parse(t);
	free(t);
	ck_assert_ptr_nonnull(rep);
	/* tiles x channels x positions per layer, from layers.csv */
	snprintf(path, sizeof path, "%s/layers.csv", d);
	char *lc = tu_slurp(path);
	ck_assert_ptr_nonnull(lc);
	double reads[BNN_MAX_LAYERS], rsum = 0, pos[BNN_MAX_LAYERS], rt[BNN_MAX_LAYERS];
	int nl = 0;
	for (char *line = strchr(lc, '\n') + 1; *line; line = strchr(line, '\n') + 1, nl++) {
		/* layer,kind,n_in_rows,n_out_cols,positions,row_tiles,... */
		reads[nl] = csv_num(line, 5) * csv_num(line, 3) * csv_num(line, 4);
		pos[nl] = csv_num(line, 4);
		rt[nl] = csv_num(line, 5);
		rsum += reads[nl];
	}
	free(lc);
	ck_assert_int_eq(nl, 6);
	snprintf(path, sizeof path, "%s/gbo.csv", d);
	char *g = tu_slurp(path);
	ck_assert_ptr_nonnull(g);
	ck_assert_ptr_nonnull(strstr(g, "kind,lambda,pulses_per_layer,mean_pulses,pulse_cost,accuracy_mean,"
				       "accuracy_sd,energy_per_image_j,tops_per_w,budget_kind,latency_ns,images_per_s"));
	int rows = 0, seen[3] = { 0, 0, 0 };
	double lat1 = 0, lat4 = 0;
	/* latency by hand: per position T pulses of (pulse + one 3-bit
	 * conversion, bits + 1 ns) then the adder tree, ceil(log2 rt) + 1
	 * stages of 1 ns (the defaults), positions in sequence */
	double t_pulse = jnum(rep, "config.xbar.device.t_pulse_ns");
	ck_assert(jnum(rep, "config.xbar.adc.bits") == 3 && jnum(rep, "config.xbar.adc.t_ns") == 0 &&
		  jnum(rep, "config.xbar.adc.per_tile") == 0 && jnum(rep, "config.xbar.energy.t_add_ns") == 1);
	const cJSON *runs = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rep, "metrics"), "gbo");
	ck_assert(cJSON_IsArray(runs));
	for (char *line = strchr(g, '\n') + 1; *line; line = strchr(line, '\n') + 1, rows++) {
		char kind[32], ppl[128], bk[32];
		csv_field(line, 0, kind, sizeof kind);
		csv_field(line, 2, ppl, sizeof ppl);
		csv_field(line, 9, bk, sizeof bk);
		int pl[BNN_MAX_LAYERS], k = 0;
		for (char *q = strtok(ppl, " "); q; q = strtok(NULL, " "))
			pl[k++] = atoi(q);
		ck_assert_int_eq(k, 6);
		double mean = 0, wc = 0;
		for (int l = 0; l < 6; l++) {
			mean += pl[l] / 6.0;
			wc += reads[l] / rsum * pl[l];
		}
		ck_assert_msg(fabs(csv_num(line, 3) - mean) < 1e-4, "%s: mean %g vs %g", kind, csv_num(line, 3), mean);
		ck_assert_msg(fabs(csv_num(line, 4) - wc) < 1e-4, "%s: cost %g vs %g", kind, csv_num(line, 4), wc);
		double acc = csv_num(line, 5);
		ck_assert(acc > 0.05 && acc <= 1);
		const cJSON *o = cJSON_GetArrayItem(runs, rows);
		ck_assert_ptr_nonnull(o);
		ck_assert(fabs(jnum(o, "mc.accuracy_mean") - acc) < 1e-6);
		ck_assert(fabs(jnum(o, "energy_per_image_j") - csv_num(line, 7)) <= 1e-5 * csv_num(line, 7));
		double lat = 0;
		for (int l = 0; l < 6; l++)
			lat += pos[l] * (pl[l] * (t_pulse + 4.0) + ceil(log2(rt[l])) + 1);
		ck_assert_msg(fabs(csv_num(line, 10) - lat) < 0.06, "%s: latency %g vs %g by hand", kind,
			      csv_num(line, 10), lat);
		double slow = 0;
		for (int l = 0; l < 6; l++) {
			double tl = pos[l] * (pl[l] * (t_pulse + 4.0) + ceil(log2(rt[l])) + 1);
			slow = tl > slow ? tl : slow;
		}
		ck_assert_msg(fabs(csv_num(line, 11) - 1e9 / slow) <= 1e-5 * csv_num(line, 11),
			      "%s: %g images/s vs 1 / the slowest layer %g", kind, csv_num(line, 11), 1e9 / slow);
		if (!strcmp(kind, "uniform")) {
			seen[0]++;
			if (pl[0] == 4) {
				ck_assert_msg(acc == jnum(rep, "metrics.accuracy.bnn_crossbar_config.mc.accuracy_mean"),
					      "uniform 4 %.6f vs the configured row %.6f", acc,
					      jnum(rep, "metrics.accuracy.bnn_crossbar_config.mc.accuracy_mean"));
				ck_assert(fabs(csv_num(line, 7) - jnum(rep, "metrics.energy_per_inference_j")) <=
					  1e-5 * csv_num(line, 7));
				ck_assert(fabs(csv_num(line, 10) - jnum(rep, "metrics.latency_ns")) < 0.1);
				lat4 = csv_num(line, 10);
			} else {
				lat1 = csv_num(line, 10);
			}
		} else {
			ck_assert(!strcmp(bk, "mean") || !strcmp(bk, "weighted"));
			ck_assert_msg((!strcmp(bk, "mean") ? mean : wc) <= 4 + 1e-4, "%s %s over budget", kind, bk);
			seen[!strcmp(kind, "gbo") ? 1 : 2]++;
		}
	}
	free(g);
	ck_assert_int_eq(rows, 6);            /* 2 uniform, GBO x 2 kinds, cheapest x 2 */
	ck_assert(seen[0] == 2 && seen[1] == 2 && seen[2] == 2);
	ck_assert(lat4 > 3 * lat1);
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rep, "metrics"), "accuracy"),
		"bnn_crossbar_ideal"));
	cJSON_Delete(rep);
	/* bad input: exit 2 naming the key */
	rc = tu_ndpsim(out, sizeof out, "xbar cnn --modes bnn %s --gbo --set gbo.budget=0.5 --out %s/cnn-gbo-bad",
		       tiny, tu_tmpdir());
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "gbo.budget"));
	rc = tu_ndpsim(out, sizeof out, "xbar cnn --lambdas 0.1 --out %s/cnn-gbo-bad", tu_tmpdir());
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "--gbo"));
	rc = tu_ndpsim(out, sizeof out, "xbar cnn --gbo --uniform 0,4 --out %s/cnn-gbo-bad", tu_tmpdir());
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "--uniform"));
	rc = tu_ndpsim(out, sizeof out, "xbar cnn --gbo --set gbo.candidates=4,2 --out %s/cnn-gbo-bad", tu_tmpdir());
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "gbo.candidates"));
	snprintf(path, sizeof path, "%s/cnn-gbo-bad", tu_tmpdir());
	ck_assert(access(path, F_OK) != 0);   /* nothing written */
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("xbar_conv");
	TCase *tc = tcase_create("xbar_conv");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, shapes_and_tiles);
	tcase_add_test(tc, digital_matches_direct);
	tcase_add_test(tc, ideal_equals_digital);
	tcase_add_test(tc, noisy_threads_energy);
	tcase_add_test(tc, calibrated_refs);
	tcase_add_test(tc, model_file);
	tcase_add_test(tc, noise_aware_cnn);
	tcase_add_test(tc, cli_bad_input);
	tcase_add_test(tc, cli_default_and_model);
	suite_add_tcase(s, tc);
	tc = tcase_create("gbo");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, gbo_conv_budgets);
	tcase_add_test(tc, gbo_conv_gradient);
	tcase_add_test(tc, gbo_conv_threads);
	tcase_add_test(tc, cli_gbo);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	setenv("CK_FORK", "no", 1);
	int rc = tu_run_suite(suite());
	bcnn_model_free(small.model);
	if (have_data > 0) {
		wl_dataset_free(&train);
		wl_dataset_free(&test);
	}
	return rc;
}
