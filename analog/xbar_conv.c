/*
 * xbar_conv.c — binarized CNNs on crossbar tiles: unrolled mapping, the
 * per-position evaluation through xbar_layer_run(), the digital periphery
 * (threshold, OR-pool) and the cost of positions run in sequence.
 */
#include "analog/xbar_conv.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

int xbar_conv_map(const struct xbar_params *p, const struct bcnn_model *m,
		  struct xbar_conv_map *out, struct nd_err *err)
{
	memset(out, 0, sizeof *out);
	const struct bnn_model *net = m->net;
	const struct bcnn_shape *s = &m->s;
	out->nl = net->nl;
	int big = 0;
	for (int l = 0; l < net->nl; l++) {
		out->row_tiles[l] = xbar_row_tiles(p, net, l);
		out->col_tiles[l] = xbar_col_tiles(p, net, l);
		out->tiles[l] = (long)out->row_tiles[l] * out->col_tiles[l];
		out->util[l] = (double)net->layer[l].n_in * net->layer[l].n_out /
			       ((double)out->tiles[l] * (p->rows - p->bias_rows) * p->cols);
		out->total_tiles += out->tiles[l];
		if (out->tiles[l] > out->tiles[big])
			big = l;
	}
	if (out->total_tiles > p->max_tiles) {
		const char *kind = big < s->nconv ? "conv" : "fc";
		int no = big < s->nconv ? big + 1 : big - s->nconv + 1;
		return nd_errf(err, -EINVAL,
			       "xbar.max_tiles: the CNN needs %ld tiles of %dx%d (%d bias rows), the chip has %d; "
			       "the largest, %s layer %d, unrolls to %d rows (%dx%dx%d) x %d columns = %ld tiles",
			       out->total_tiles, p->rows, p->cols, p->bias_rows, p->max_tiles, kind, no,
			       s->n_in[big], s->k[big], s->k[big], s->c[big], s->cout[big], out->tiles[big]);
	}
	return xbar_check_mapping(p, net, err);
}

/* Per-thread buffers of one evaluation. */
struct cwork {
	xbar_scratch *xs;
	uint8_t *ma, *mb;
	uint8_t *vec[XBAR_LAYER_BLK];
	double *dq;
	struct xbar_counts cnt;
};

static void eval_image(const xbar_chip *c, const struct bcnn_model *m,
		       const struct xbar_enc_plan *plan, const xbar_refs *refs,
		       const uint8_t *pix, uint64_t img, struct cwork *w, int *cls)
{
	const struct bcnn_shape *s = &m->s;
	bnn_input_levels(m->net, pix, w->ma);
	for (int l = 0; l < s->nl; l++) {
		int P = s->positions[l], Co = s->cout[l];
		for (int p0 = 0; p0 < P; p0 += XBAR_LAYER_BLK) {
			int nk = P - p0 < XBAR_LAYER_BLK ? P - p0 : XBAR_LAYER_BLK;
			const uint8_t *lev[XBAR_LAYER_BLK];
			uint64_t item[XBAR_LAYER_BLK];
			double *dq[XBAR_LAYER_BLK];
			for (int e = 0; e < nk; e++) {
				bcnn_unroll(s, l, w->ma, p0 + e, w->vec[e]);
				lev[e] = w->vec[e];
				item[e] = img * (uint64_t)P + (uint64_t)(p0 + e);
				dq[e] = w->dq + (size_t)(p0 + e) * Co;
			}
			xbar_layer_run(c, plan, refs, l, lev, item, nk, dq, w->xs, &w->cnt);
		}
		if (l == s->nl - 1) {
			*cls = bcnn_classify(m, w->dq);
		} else {
			bcnn_post_layer(m, l, w->dq, w->mb);
			uint64_t bits = (uint64_t)s->ph[l] * s->pw[l] * Co;
			w->cnt.l[l].buf_bits += bits;
			w->cnt.l[l].out_bits += bits;
			uint8_t *t = w->ma;
			w->ma = w->mb;
			w->mb = t;
		}
	}
}

/* n images through chip c (OpenMP over images), or, with cal, through
 * cal's noise-free chip recording the references' statistics. */
static long eval_chip(const xbar_chip *c, const struct bcnn_model *m,
		      const struct xbar_enc_plan *plan, const xbar_refs *refs,
		      const uint8_t *pixels, const uint8_t *labels, long n,
		      uint8_t *preds, struct xbar_counts *counts, xbar_calib *cal)
{
	const struct bcnn_shape *s = &m->s;
	size_t mapmax = 784, dqmax = 0, vmax = 0;
	for (int l = 0; l < s->nl; l++) {
		size_t mp = (size_t)s->ph[l] * s->pw[l] * s->cout[l];
		mapmax = mp > mapmax ? mp : mapmax;
		size_t d = (size_t)s->positions[l] * s->cout[l];
		dqmax = d > dqmax ? d : dqmax;
		vmax = (size_t)s->n_in[l] > vmax ? (size_t)s->n_in[l] : vmax;
	}
	struct xbar_counts total;
	memset(&total, 0, sizeof total);
	total.nl = s->nl;
	long correct = 0;
#ifdef _OPENMP
#pragma omp parallel reduction(+:correct)
#endif
	{
		struct cwork w;
		memset(&w, 0, sizeof w);
		w.xs = cal ? xbar_calib_scratch(cal) : xbar_scratch_create(c);
		w.ma = xmalloc(mapmax);
		w.mb = xmalloc(mapmax);
		for (int e = 0; e < XBAR_LAYER_BLK; e++)
			w.vec[e] = xmalloc(vmax);
		w.dq = xmalloc(sizeof(double) * dqmax);
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
		for (long i = 0; i < n; i++) {
			int cls = 0;
			eval_image(c, m, plan, refs, pixels + (size_t)i * 784, (uint64_t)i, &w, &cls);
			if (preds)
				preds[i] = (uint8_t)cls;
			if (labels && labels[i] == cls)
				correct++;
			w.cnt.images++;
		}
		/* integer counts and sums: the total does not depend on the order */
#ifdef _OPENMP
#pragma omp critical(xbar_conv_counts)
#endif
		{
			xbar_counts_add(&total, &w.cnt);
			if (cal)
				xbar_calib_merge(cal, w.xs, NULL);
		}
		xbar_scratch_destroy(w.xs);
		free(w.ma);
		free(w.mb);
		for (int e = 0; e < XBAR_LAYER_BLK; e++)
			free(w.vec[e]);
		free(w.dq);
	}
	if (counts) {
		counts->nl = s->nl;
		xbar_counts_add(counts, &total);
	}
	return correct;
}

int xbar_conv_refs(const struct xbar_params *p, const struct bcnn_model *m,
		   const uint8_t *pixels, long n, xbar_refs **out, struct nd_err *err)
{
	*out = NULL;
	struct xbar_conv_map map;
	struct xbar_enc_plan plan;
	xbar_calib *cal = NULL;
	int rc = xbar_conv_map(p, m, &map, err);
	if (!rc)
		rc = xbar_plan(p, m->net, &plan, err);
	if (!rc)
		rc = xbar_calib_create(p, m->net, &plan, &cal, err);
	if (rc)
		return rc;
	long samples[BNN_MAX_LAYERS];
	memset(samples, 0, sizeof samples);
	if (xbar_calib_needed(cal)) {
		if (n <= 0 || !pixels) {
			xbar_calib_destroy(cal);
			return nd_errf(err, -EINVAL,
				       "xbar.adc.ref: calibrated references need calibration images (xbar.adc.calib_n)");
		}
		for (int l = 0; l < m->s.nl; l++)
			ND_ASSERT((uint64_t)n * (uint64_t)m->s.positions[l] < (1ull << 30));
		struct xbar_counts cc;
		memset(&cc, 0, sizeof cc);
		eval_chip(xbar_calib_chip(cal), m, &plan, NULL, pixels, NULL, n, NULL, &cc, cal);
		xbar_calib_merge(cal, NULL, &cc);
		for (int l = 0; l < m->s.nl; l++)
			samples[l] = n * (long)m->s.positions[l];
	}
	*out = xbar_calib_finish(cal, samples);
	return 0;
}

long xbar_conv_eval(const struct xbar_params *p, const struct bcnn_model *m,
		    const xbar_refs *refs, uint64_t seed, uint64_t chip,
		    const uint8_t *pixels, const uint8_t *labels, long n, uint8_t *preds,
		    struct xbar_counts *counts, struct nd_err *err)
{
	struct xbar_enc_plan plan;
	struct xbar_conv_map map;
	xbar_refs *own = NULL;
	xbar_chip *c = NULL;
	/* read-noise stream items image * positions + pos fit xbar.c's 30 bits */
	for (int l = 0; l < m->s.nl; l++)
		ND_ASSERT((uint64_t)n * (uint64_t)m->s.positions[l] < (1ull << 30));
	if (xbar_conv_map(p, m, &map, err) || xbar_plan(p, m->net, &plan, err))
		return -1;
	if (!refs) {
		if (xbar_conv_refs(p, m, NULL, 0, &own, err))
			return -1;
		refs = own;
	}
	if (xbar_chip_create(p, m->net, seed, chip, &c, err)) {
		xbar_refs_destroy(own);
		return -1;
	}
	long r = eval_chip(c, m, &plan, refs, pixels, labels, n, preds, counts, NULL);
	xbar_chip_destroy(c);
	xbar_refs_destroy(own);
	return r;
}

int xbar_conv_monte_carlo(const struct xbar_params *p, const struct bcnn_model *m,
			  const xbar_refs *refs, uint64_t seed, const uint8_t *pixels,
			  const uint8_t *labels, long n, struct xbar_mc *out, struct nd_err *err)
{
	memset(out, 0, sizeof *out);
	out->chips = p->chips;
	out->n = n;
	out->correct = xcalloc((size_t)p->chips, sizeof(long));
	out->min = 1;
	out->max = 0;
	double s = 0, ss = 0;
	for (int ch = 0; ch < p->chips; ch++) {
		long k = xbar_conv_eval(p, m, refs, seed, (uint64_t)ch, pixels, labels, n, NULL,
					ch == 0 ? &out->counts : NULL, err);
		if (k < 0) {
			xbar_mc_free(out);
			return -EINVAL;
		}
		out->correct[ch] = k;
		double a = (double)k / (double)n;
		s += a;
		ss += a * a;
		out->min = a < out->min ? a : out->min;
		out->max = a > out->max ? a : out->max;
	}
	out->mean = s / p->chips;
	double var = p->chips > 1 ? (ss - s * s / p->chips) / (p->chips - 1) : 0.0;
	out->sd = var > 0 ? sqrt(var) : 0.0;
	return 0;
}

void xbar_conv_cost(const struct xbar_params *p, const struct bcnn_model *m,
		    const struct xbar_counts *cnt, struct xbar_cost *out)
{
	struct xbar_enc_plan plan;
	struct nd_err err;
	memset(&err, 0, sizeof err);
	if (xbar_plan(p, m->net, &plan, &err))
		ND_ASSERT(!"xbar_conv_cost: plan checked by xbar_conv_eval");
	xbar_cost(p, m->net, &plan, cnt, out);
	struct xbar_area ar;
	xbar_area(p, m->net, &plan, &ar);
	double slowest = 0;
	out->ops_per_image = 0;
	out->latency_ns = 0;
	for (int l = 0; l < m->s.nl; l++) {
		double pos = m->s.positions[l];
		out->layer_ops[l] = 2.0 * bcnn_macs(&m->s, l);
		out->layer_ns[l] *= pos;
		out->layer_tops_per_w[l] = out->layer_j[l] > 0 ? out->layer_ops[l] / out->layer_j[l] * 1e-12 : 0.0;
		out->layer_tops_per_mm2[l] = ar.layer_mm2[l] > 0 && out->layer_ns[l] > 0 ?
			out->layer_ops[l] * (1e9 / out->layer_ns[l]) * 1e-12 / ar.layer_mm2[l] : 0.0;
		out->ops_per_image += out->layer_ops[l];
		out->latency_ns += out->layer_ns[l];
		slowest = out->layer_ns[l] > slowest ? out->layer_ns[l] : slowest;
	}
	out->tops_per_w = out->j_per_image > 0 ? out->ops_per_image / out->j_per_image * 1e-12 : 0.0;
	out->images_per_s = slowest > 0 ? 1e9 / slowest : 0.0;
	out->tops_per_mm2 = out->chip_mm2 > 0 ? out->ops_per_image * out->images_per_s * 1e-12 / out->chip_mm2 : 0.0;
}
