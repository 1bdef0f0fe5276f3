/*
 * sgd.c — the shared SGD step and its number formats.  See sgd.h.
 */
#include "workloads/sgd.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/rng.h"
#include "core/util.h"

const char *const wl_num_names[] = { "fp32", "fixed", NULL };
const char *const wl_round_names[] = { "nearest", "stochastic", NULL };

int wl_numfmt_check(const struct wl_numfmt *f, const char *what, struct nd_err *err)
{
	if (f->kind != WL_NUM_FIXED)
		return 0;
	if (f->int_bits < 1)
		return nd_errf(err, -EINVAL, "%s.int_bits: a fixed-point format needs at least one "
			       "integer bit (Qm.n with m >= 1), got %d", what, f->int_bits);
	if (f->frac_bits < 0 || 1 + f->int_bits + f->frac_bits > 32)
		return nd_errf(err, -EINVAL, "%s: Q%d.%d does not fit a 32-bit word (1 + m + n <= 32)",
			       what, f->int_bits, f->frac_bits);
	return 0;
}

void wl_numfmt_name(const struct wl_numfmt *f, char *buf, size_t n)
{
	if (f->kind != WL_NUM_FIXED)
		snprintf(buf, n, "fp32");
	else
		snprintf(buf, n, "Q%d.%d (%d-bit, %s rounding)", f->int_bits, f->frac_bits,
			 1 + f->int_bits + f->frac_bits, wl_round_names[f->round]);
}

float wl_numfmt_quantize(const struct wl_numfmt *f, float v, double u)
{
	if (f->kind != WL_NUM_FIXED)
		return v;
	double scale = ldexp(1.0, f->frac_bits);
	double t = (double)v * scale;
	double q = f->round == WL_ROUND_STOCHASTIC ? floor(t + u)
						   : (t >= 0 ? floor(t + 0.5) : -floor(-t + 0.5));
	double hi = ldexp(1.0, f->int_bits + f->frac_bits);   /* 2^(m+n) */
	if (q > hi - 1)
		q = hi - 1;
	if (q < -hi)
		q = -hi;
	return (float)(q / scale);
}

void wl_sgd_init(struct wl_sgd *s, const struct wl_mlp *m, int zero_skip,
		 const struct wl_numfmt *fmt, uint64_t seed)
{
	memset(s, 0, sizeof *s);
	s->m = m;
	s->zero_skip = zero_skip;
	if (fmt)
		s->fmt = *fmt;
	s->seed = seed;
}

void wl_sgd_init_params(const struct wl_sgd *s, float *params, uint64_t seed)
{
	wl_mlp_init(s->m, params, seed);
	if (s->fmt.kind != WL_NUM_FIXED)
		return;
	struct wl_numfmt near = s->fmt;
	near.round = WL_ROUND_NEAREST;
	for (size_t i = 0; i < s->m->n_params; i++)
		params[i] = wl_numfmt_quantize(&near, params[i], 0);
}

double wl_sgd_grad(const struct wl_sgd *s, const float *params, const float *x,
		   const uint8_t *y, int n, float *grad, struct wl_mlp_ws *ws,
		   struct wl_sgd_count *c)
{
	double loss = wl_mlp_grad(s->m, params, x, y, n, grad, ws);
	if (c) {
		uint64_t dense = (uint64_t)n * (wl_mlp_macs_fwd(s->m) + wl_mlp_macs_bwd(s->m));
		c->macs_dense += dense;
		c->macs += s->zero_skip ? wl_mlp_macs_executed(s->m, x, n, ws, 1) : dense;
	}
	return loss;
}

uint64_t wl_sgd_infer_macs(const struct wl_sgd *s, const float *x, int n,
			   const struct wl_mlp_ws *ws)
{
	return s->zero_skip ? wl_mlp_macs_executed(s->m, x, n, ws, 0)
			    : (uint64_t)n * wl_mlp_macs_fwd(s->m);
}

#ifdef _OPENMP
#define SGD_SIMD _Pragma("omp simd")
#else
#define SGD_SIMD
#endif

void wl_sgd_sum(const struct wl_sgd *s, float *sum, const float *g, int first,
		struct wl_sgd_count *c)
{
	size_t np = s->m->n_params;
	if (first) {
		memcpy(sum, g, np * sizeof *sum);
	} else {
		float *restrict a = sum;
		const float *restrict b = g;
		SGD_SIMD
		for (size_t j = 0; j < np; j++)
			a[j] += b[j];
	}
	if (c)
		c->elem_ops += np;
}

void wl_sgd_mean(const struct wl_sgd *s, float *sum, int parts, struct wl_sgd_count *c)
{
	size_t np = s->m->n_params;
	float inv = 1.0f / (float)parts;
	SGD_SIMD
	for (size_t j = 0; j < np; j++)
		sum[j] *= inv;
	if (c)
		c->elem_ops += np;
}

void wl_sgd_update(struct wl_sgd *s, float *params, const float *grad, float lr,
		   struct wl_sgd_count *c)
{
	size_t np = s->m->n_params;
	wl_sgd_step(params, grad, lr, np);
	if (c)
		c->elem_ops += np;
	if (s->fmt.kind != WL_NUM_FIXED)
		return;
	/* One stream per update, drawn in index order: deterministic for any
	 * thread count. */
	struct rng r;
	rng_seed(&r, s->seed ^ 0x5ca1ab1e0ddba11ull, s->n_updates);
	int sto = s->fmt.round == WL_ROUND_STOCHASTIC;
	for (size_t i = 0; i < np; i++)
		params[i] = wl_numfmt_quantize(&s->fmt, params[i], sto ? rng_uniform(&r) : 0);
	s->n_updates++;
}
