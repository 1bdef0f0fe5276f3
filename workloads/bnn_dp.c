/*
 * bnn_dp.c — BNN inference word by word on a given datapath.  See bnn_dp.h.
 */
#include "workloads/bnn_dp.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define IN_PIX 784

int bnn_dp_check(const struct bnn_dp *d, const char *what, struct nd_err *err)
{
	int w = d->word_bits;
	if (w != 8 && w != 16 && w != 32 && w != 64)
		return nd_errf(err, -EINVAL, "%s.word_bits: %d is not 8, 16, 32 or 64", what, w);
	if (d->acc_bits < 2 || d->acc_bits > 64)
		return nd_errf(err, -EINVAL, "%s.acc_bits: %d is not in 2..64", what, d->acc_bits);
	return 0;
}

int bnn_dp_planes(const struct bnn_model *m, int l)
{
	int b = 0;
	while ((1 << b) <= m->qin[l])
		b++;
	return b;
}

static uint64_t words_of(int n, int wb)
{
	return ((uint64_t)n + (uint64_t)wb - 1) / (uint64_t)wb;
}

uint64_t bnn_dp_word_ops(const struct bnn_model *m, const struct bnn_dp *d)
{
	uint64_t s = 0;
	for (int l = 0; l < m->nl; l++) {
		uint64_t W = words_of(m->dim[l], d->word_bits), nb = (uint64_t)bnn_dp_planes(m, l);
		s += nb * W + (uint64_t)m->dim[l + 1] * nb * W;
	}
	return s;
}

uint64_t bnn_dp_host_word_ops(const struct bnn_model *m)
{
	uint64_t s = 0;
	for (int l = 0; l < m->nl; l++) {
		uint64_t W = words_of(m->dim[l], 64), nb = (uint64_t)bnn_dp_planes(m, l);
		s += nb * W + (uint64_t)m->dim[l + 1] * (nb + 1) * W;
	}
	return s;
}

/* A signed acc_bits register. */
struct reg {
	int64_t lo, hi;
	uint64_t sat;
};

static inline int64_t reg_add(struct reg *r, int64_t a, int64_t b)
{
	/* a and b are within +-2^62 here (sums of popcounts of <= 4096 inputs
	 * times 2^planes), so a + b does not overflow int64. */
	int64_t v = a + b;
	if (v > r->hi) {
		r->sat++;
		return r->hi;
	}
	if (v < r->lo) {
		r->sat++;
		return r->lo;
	}
	return v;
}

/* Word k (of width wb) of a row of 64-bit words. */
static inline uint64_t word_at(const uint64_t *row, int k, int wb)
{
	if (wb == 64)
		return row[k];
	int per = 64 / wb;
	uint64_t v = row[k / per] >> ((k % per) * wb);
	return v & ((1ull << wb) - 1);
}

struct scratch {
	uint8_t *la, *lb;
	uint64_t *planes;    /* nb x W64 */
	int64_t *dq;
};

/* Built twice, with the POPCNT instruction and without: __builtin_popcountll
 * is a libgcc call (__popcountdi2) in a baseline x86-64 build, 4-5 % of
 * `ndpsim run` in perf.  The count is exact either way. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((target_clones("popcnt", "default")))
#endif
static int predict_one(const struct bnn_model *m, const struct bnn_dp *d, const int32_t *const *pw,
		       const uint8_t *pix, struct scratch *s, struct reg *r)
{
	bnn_input_levels(m, pix, s->la);
	int wb = d->word_bits, best = 0;
	for (int l = 0; l < m->nl; l++) {
		const struct bnn_layer *L = &m->layer[l];
		int nb = bnn_dp_planes(m, l), W64 = L->words, W = (int)words_of(L->n_in, wb);
		memset(s->planes, 0, sizeof(uint64_t) * (size_t)(nb * W64));
		for (int i = 0; i < L->n_in; i++)
			for (int b = 0; b < nb; b++)
				s->planes[b * W64 + (i >> 6)] |= (uint64_t)((s->la[i] >> b) & 1u) << (i & 63);
		int64_t pc_plane[16];
		for (int b = 0; b < nb; b++) {
			int64_t c = 0;
			for (int k = 0; k < W; k++)
				c = reg_add(r, c, __builtin_popcountll(word_at(s->planes + b * W64, k, wb)));
			pc_plane[b] = c;
		}
		for (int j = 0; j < L->n_out; j++) {
			const uint64_t *wr = L->wbits + (size_t)j * (size_t)W64;
			int64_t acc = 0;
			for (int b = 0; b < nb; b++) {
				const uint64_t *p = s->planes + b * W64;
				int64_t c = 0;
				for (int k = 0; k < W; k++)
					c = reg_add(r, c, __builtin_popcountll(word_at(wr, k, wb) &
									       word_at(p, k, wb)));
				/* (2c - pc) x 2^b: a shift and a subtract in the register */
				int64_t t = reg_add(r, 2 * c, -pc_plane[b]);
				acc = reg_add(r, acc, t * ((int64_t)1 << b));
			}
			int64_t sw = 2 * (int64_t)pw[l][j] - L->n_in;
			s->dq[j] = reg_add(r, 2 * acc, -(int64_t)m->qin[l] * sw);
		}
		if (L->kind == BNN_OUT_SCORE) {
			double bs = -(double)INFINITY;
			for (int j = 0; j < L->n_out; j++) {
				double sc = bnn_score(m, l, j, (double)s->dq[j]);
				if (sc > bs) {
					bs = sc;
					best = j;
				}
			}
		} else {
			for (int j = 0; j < L->n_out; j++)
				s->lb[j] = (uint8_t)bnn_act_level(m, l, j, (double)s->dq[j]);
			uint8_t *t = s->la;
			s->la = s->lb;
			s->lb = t;
		}
	}
	return best;
}

long bnn_dp_predict(const struct bnn_model *m, const struct bnn_dp *d,
		    const uint8_t *pixels, long n, const uint8_t *labels,
		    uint8_t *preds, uint64_t *saturations)
{
	int mw = 0, nbmax = 0;
	for (int l = 0; l <= m->nl; l++)
		mw = m->dim[l] > mw ? m->dim[l] : mw;
	int32_t *pw[BNN_MAX_LAYERS];
	for (int l = 0; l < m->nl; l++) {
		const struct bnn_layer *L = &m->layer[l];
		pw[l] = xmalloc((size_t)L->n_out * sizeof *pw[l]);
		for (int j = 0; j < L->n_out; j++) {
			int c = 0;
			for (int k = 0; k < L->words; k++)
				c += __builtin_popcountll(L->wbits[(size_t)j * (size_t)L->words + (size_t)k]);
			pw[l][j] = c;
		}
		nbmax = bnn_dp_planes(m, l) > nbmax ? bnn_dp_planes(m, l) : nbmax;
	}
	struct reg r0 = { 0, 0, 0 };
	r0.hi = d->acc_bits >= 64 ? INT64_MAX : (int64_t)((1ull << (d->acc_bits - 1)) - 1);
	r0.lo = d->acc_bits >= 64 ? INT64_MIN : -r0.hi - 1;
	long correct = 0;
	uint64_t sat = 0;
#ifdef _OPENMP
#pragma omp parallel reduction(+:correct, sat)
#endif
	{
		struct scratch s;
		s.la = xmalloc((size_t)mw);
		s.lb = xmalloc((size_t)mw);
		s.planes = xmalloc(sizeof(uint64_t) * (size_t)nbmax * (size_t)(mw / 64 + 1));
		s.dq = xmalloc(sizeof(int64_t) * (size_t)mw);
		struct reg r = r0;
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
		for (long i = 0; i < n; i++) {
			int p = predict_one(m, d, (const int32_t *const *)pw, pixels + (size_t)i * IN_PIX, &s, &r);
			if (preds)
				preds[i] = (uint8_t)p;
			if (labels && labels[i] == p)
				correct++;
		}
		sat += r.sat;
		free(s.la);
		free(s.lb);
		free(s.planes);
		free(s.dq);
	}
	for (int l = 0; l < m->nl; l++)
		free(pw[l]);
	if (saturations)
		*saturations = sat;
	return correct;
}
