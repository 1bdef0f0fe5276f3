/*
 * model.c — logistic regression / MLP forward, backward, SGD step,
 * evaluation, and the on-the-fly augmentation of amplified copies.
 *
 * Zero inputs are skipped in the forward pass and in the weight gradients
 * (adding 0 * w changes no sum), which roughly halves the work on
 * Fashion-MNIST; wl_mlp_macs_executed() counts what ran, wl_mlp_macs_fwd/bwd the dense work.
 * Inner loops are element-wise (no reductions), so vectorising them
 * (`omp simd`, AVX2 clones) changes no result.
 */
#include "workloads/model.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/util.h"

/* MD_PAR_FOR: a parallel loop over samples or rows, serial below 200,000
 * MACs of work (not worth a parallel region). */
#ifdef _OPENMP
#define MD_PRAGMA(x) _Pragma(#x)
#define MD_SIMD MD_PRAGMA(omp simd)
#define MD_PAR_FOR(work) MD_PRAGMA(omp parallel for schedule(static) if ((work) >= 200000))
#else
#define MD_SIMD
#define MD_PAR_FOR(work) (void)(work);
#endif

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define MD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define MD_CLONES
#endif

struct wl_mlp_ws {
	int max_batch;
	float *a[WL_MLP_MAX_LAYERS + 1];   /* a[1..nl]: activations / logits */
	float *d[WL_MLP_MAX_LAYERS + 1];   /* d[1..nl]: errors dL/dz */
	double *loss;                      /* per sample */
	float *xbuf;                       /* wl_mlp_correct: one block of inputs */
};

int wl_mlp_setup(struct wl_mlp *m, int n_in, const char *hidden, int n_out,
		 const char *what, struct nd_err *err)
{
	memset(m, 0, sizeof *m);
	m->dim[0] = n_in;
	int nl = 0;
	const char *p = hidden;
	while (*p) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p || v < 1 || v > WL_MLP_MAX_WIDTH)
			return nd_errf(err, -EINVAL, "%s: \"%s\" is not a list of widths 1..%d "
				       "separated by commas (\"\" = logistic regression)",
				       what, hidden, WL_MLP_MAX_WIDTH);
		if (nl + 2 > WL_MLP_MAX_LAYERS)
			return nd_errf(err, -EINVAL, "%s: at most %d hidden layers", what,
				       WL_MLP_MAX_LAYERS - 1);
		m->dim[++nl] = (int)v;
		p = end;
		if (*p == ',')
			p++;
		else if (*p)
			return nd_errf(err, -EINVAL, "%s: unexpected '%c' in \"%s\"", what, *p, hidden);
	}
	m->dim[++nl] = n_out;
	m->nl = nl;
	size_t off = 0;
	m->max_width = 0;
	for (int l = 0; l <= nl; l++)
		if (m->dim[l] > m->max_width)
			m->max_width = m->dim[l];
	for (int l = 0; l < nl; l++) {
		m->off_w[l] = off;
		off += (size_t)m->dim[l] * (size_t)m->dim[l + 1];
		m->off_b[l] = off;
		off += (size_t)m->dim[l + 1];
	}
	m->n_params = off;
	return 0;
}

void wl_mlp_init(const struct wl_mlp *m, float *params, uint64_t seed)
{
	memset(params, 0, m->n_params * sizeof *params);
	if (m->nl == 1)
		return;
	struct rng r;
	rng_seed(&r, seed, 0x1417);
	for (int l = 0; l < m->nl; l++) {
		double lim = sqrt(6.0 / (m->dim[l] + m->dim[l + 1]));
		float *w = params + m->off_w[l];
		size_t n = (size_t)m->dim[l] * (size_t)m->dim[l + 1];
		for (size_t i = 0; i < n; i++)
			w[i] = (float)((2.0 * rng_uniform(&r) - 1.0) * lim);
	}
}

uint64_t wl_mlp_macs_fwd(const struct wl_mlp *m)
{
	uint64_t s = 0;
	for (int l = 0; l < m->nl; l++)
		s += (uint64_t)m->dim[l] * (uint64_t)m->dim[l + 1];
	return s;
}

uint64_t wl_mlp_macs_bwd(const struct wl_mlp *m)
{
	uint64_t s = 0;
	for (int l = 0; l < m->nl; l++)
		s += (uint64_t)m->dim[l] * (uint64_t)m->dim[l + 1] * (l > 0 ? 2u : 1u);
	return s;
}

struct wl_mlp_ws *wl_mlp_ws_create(const struct wl_mlp *m, int max_batch)
{
	struct wl_mlp_ws *ws = xcalloc(1, sizeof *ws);
	ws->max_batch = max_batch;
	for (int l = 1; l <= m->nl; l++) {
		ws->a[l] = xmalloc((size_t)max_batch * (size_t)m->dim[l] * sizeof(float));
		ws->d[l] = xmalloc((size_t)max_batch * (size_t)m->dim[l] * sizeof(float));
	}
	ws->loss = xmalloc((size_t)max_batch * sizeof *ws->loss);
	return ws;
}

void wl_mlp_ws_destroy(struct wl_mlp_ws *ws)
{
	if (!ws)
		return;
	for (int l = 1; l <= WL_MLP_MAX_LAYERS; l++) {
		free(ws->a[l]);
		free(ws->d[l]);
	}
	free(ws->loss);
	free(ws->xbuf);
	free(ws);
}

uint64_t wl_mlp_macs_executed(const struct wl_mlp *m, const float *x, int n,
			      const struct wl_mlp_ws *ws, int bwd)
{
	uint64_t s = 0;
	for (int l = 0; l < m->nl; l++) {
		int din = m->dim[l];
		const float *in = l == 0 ? x : ws->a[l];
		uint64_t nz = 0;
		for (size_t k = 0; k < (size_t)n * (size_t)din; k++)
			nz += in[k] != 0.0f;
		s += nz * (uint64_t)m->dim[l + 1] * (bwd ? (l > 0 ? 3u : 2u) : 1u);
	}
	return s;
}

/* ------------------------------------------------------------ kernels */

/* out = b + in . W (W: din x dout), skipping zero inputs; ReLU if asked. */
MD_CLONES
static void fwd_sample(const float *in, const float *W, const float *b, float *out,
		       int din, int dout, int relu)
{
	memcpy(out, b, (size_t)dout * sizeof *out);
	for (int i = 0; i < din; i++) {
		float v = in[i];
		if (v == 0.0f)
			continue;
		const float *row = W + (size_t)i * (size_t)dout;
		MD_SIMD
		for (int j = 0; j < dout; j++)
			out[j] += v * row[j];
	}
	if (relu)
		for (int j = 0; j < dout; j++)
			out[j] = out[j] > 0.0f ? out[j] : 0.0f;
}

/* Rows [i0, i1) of the weight gradient: g[i][j] = inv_n * sum_s in[s][i] d[s][j],
 * summed over s in order. */
MD_CLONES
static void wgrad_rows(const float *in, const float *d, float *g, int n, int din,
		       int dout, int i0, int i1, float inv_n)
{
	memset(g + (size_t)i0 * (size_t)dout, 0, (size_t)(i1 - i0) * (size_t)dout * sizeof *g);
	for (int s = 0; s < n; s++) {
		const float *xs = in + (size_t)s * (size_t)din;
		const float *ds = d + (size_t)s * (size_t)dout;
		for (int i = i0; i < i1; i++) {
			float v = xs[i];
			if (v == 0.0f)
				continue;
			float *row = g + (size_t)i * (size_t)dout;
			MD_SIMD
			for (int j = 0; j < dout; j++)
				row[j] += v * ds[j];
		}
	}
	for (size_t k = (size_t)i0 * (size_t)dout; k < (size_t)i1 * (size_t)dout; k++)
		g[k] *= inv_n;
}

/* Error of the layer below: dprev[i] = (W[i] . d) * [a[i] > 0]. */
static void back_sample(const float *W, const float *d, const float *a, float *dprev,
			int din, int dout)
{
	for (int i = 0; i < din; i++) {
		if (!(a[i] > 0.0f)) {
			dprev[i] = 0.0f;
			continue;
		}
		const float *row = W + (size_t)i * (size_t)dout;
		float sum = 0.0f;
		for (int j = 0; j < dout; j++)
			sum += row[j] * d[j];
		dprev[i] = sum;
	}
}

static void forward(const struct wl_mlp *m, const float *params, const float *x, int n,
		    struct wl_mlp_ws *ws)
{
	for (int l = 0; l < m->nl; l++) {
		int din = m->dim[l], dout = m->dim[l + 1];
		const float *in = l == 0 ? x : ws->a[l];
		float *out = ws->a[l + 1];
		const float *W = params + m->off_w[l], *b = params + m->off_b[l];
		int relu = l < m->nl - 1;
		long work = (long)n * din * dout;
MD_PAR_FOR(work)
		for (int s = 0; s < n; s++)
			fwd_sample(in + (size_t)s * (size_t)din, W, b, out + (size_t)s * (size_t)dout,
				   din, dout, relu);
	}
}

/* Softmax of the logits in place of nothing: writes p - onehot to dout and
 * returns the sample's loss. */
static double softmax_xent(const float *z, int k, int y, float *dz)
{
	float mx = z[0];
	for (int j = 1; j < k; j++)
		mx = z[j] > mx ? z[j] : mx;
	float sum = 0.0f;
	for (int j = 0; j < k; j++) {
		dz[j] = expf(z[j] - mx);
		sum += dz[j];
	}
	float inv = 1.0f / sum;
	for (int j = 0; j < k; j++)
		dz[j] *= inv;
	dz[y] -= 1.0f;
	return -(double)((z[y] - mx) - logf(sum));
}

double wl_mlp_loss(const struct wl_mlp *m, const float *params, const float *x,
		   const uint8_t *y, int n, struct wl_mlp_ws *ws)
{
	ND_ASSERT(n >= 1 && n <= ws->max_batch);
	forward(m, params, x, n, ws);
	int k = m->dim[m->nl];
	double loss = 0;
	for (int s = 0; s < n; s++)
		loss += softmax_xent(ws->a[m->nl] + (size_t)s * (size_t)k, k, y[s],
				     ws->d[m->nl] + (size_t)s * (size_t)k);
	return loss;
}

double wl_mlp_grad(const struct wl_mlp *m, const float *params, const float *x,
		   const uint8_t *y, int n, float *grad, struct wl_mlp_ws *ws)
{
	double loss = wl_mlp_loss(m, params, x, y, n, ws);
	float inv_n = 1.0f / (float)n;
	for (int l = m->nl - 1; l >= 0; l--) {
		int din = m->dim[l], dout = m->dim[l + 1];
		const float *in = l == 0 ? x : ws->a[l];
		const float *d = ws->d[l + 1];
		float *gW = grad + m->off_w[l], *gb = grad + m->off_b[l];
		long work = (long)n * din * dout;
		int blk = 16, nblk = (din + blk - 1) / blk;
MD_PAR_FOR(work)
		for (int bi = 0; bi < nblk; bi++) {
			int i0 = bi * blk, i1 = i0 + blk < din ? i0 + blk : din;
			wgrad_rows(in, d, gW, n, din, dout, i0, i1, inv_n);
		}
		for (int j = 0; j < dout; j++) {
			float s = 0.0f;
			for (int t = 0; t < n; t++)
				s += d[(size_t)t * (size_t)dout + (size_t)j];
			gb[j] = s * inv_n;
		}
		if (l == 0)
			break;
		const float *W = params + m->off_w[l];
		float *dprev = ws->d[l];
MD_PAR_FOR(work)
		for (int s = 0; s < n; s++)
			back_sample(W, d + (size_t)s * (size_t)dout, in + (size_t)s * (size_t)din,
				    dprev + (size_t)s * (size_t)din, din, dout);
	}
	return loss;
}

long wl_mlp_predict(const struct wl_mlp *m, const float *params, const float *x,
		    const uint8_t *y, int n, uint8_t *pred, struct wl_mlp_ws *ws)
{
	ND_ASSERT(n >= 1 && n <= ws->max_batch);
	forward(m, params, x, n, ws);
	int k = m->dim[m->nl];
	long ok = 0;
	for (int s = 0; s < n; s++) {
		const float *z = ws->a[m->nl] + (size_t)s * (size_t)k;
		int best = 0;
		for (int j = 1; j < k; j++)
			if (z[j] > z[best])
				best = j;
		if (pred)
			pred[s] = (uint8_t)best;
		if (y && best == y[s])
			ok++;
	}
	return ok;
}

MD_CLONES
void wl_sgd_step(float *params, const float *grad, float lr, size_t n)
{
	MD_SIMD
	for (size_t i = 0; i < n; i++)
		params[i] -= lr * grad[i];
}

static inline float pixel(uint8_t v)
{
	return (float)v * (1.0f / 255.0f);
}

long wl_mlp_correct(const struct wl_mlp *m, const float *params,
		    const struct wl_dataset *d)
{
	enum { BLOCK = 512 };
	size_t dim = (size_t)d->rows * d->cols;
	ND_ASSERT((int)dim == m->dim[0]);
	struct wl_mlp_ws *ws = wl_mlp_ws_create(m, BLOCK);
	float *x = xmalloc(BLOCK * dim * sizeof *x);
	long ok = 0;
	for (uint32_t s0 = 0; s0 < d->n; s0 += BLOCK) {
		int n = (int)nd_min_u64(BLOCK, d->n - s0);
		const uint8_t *px = d->pixels + (size_t)s0 * dim;
		for (size_t k = 0; k < (size_t)n * dim; k++)
			x[k] = pixel(px[k]);
		ok += wl_mlp_predict(m, params, x, d->labels + s0, n, NULL, ws);
	}
	free(x);
	wl_mlp_ws_destroy(ws);
	return ok;
}

void wl_sample_x(const struct wl_dataset *d, uint64_t slot,
		 const struct wl_aug *aug, float *x, uint8_t *label)
{
	uint64_t i = slot % d->n, copy = slot / d->n;
	int rows = (int)d->rows, cols = (int)d->cols;
	const uint8_t *px = d->pixels + i * (uint64_t)rows * (uint64_t)cols;
	*label = d->labels[i];
	if (copy == 0 || !aug) {
		for (int k = 0; k < rows * cols; k++)
			x[k] = pixel(px[k]);
		return;
	}
	struct rng r;
	rng_seed(&r, aug->seed ^ 0xa06e7a11c0b1e5ull, slot);
	int span = 2 * aug->shift + 1;
	int dx = (int)rng_below(&r, (uint64_t)span) - aug->shift;
	int dy = (int)rng_below(&r, (uint64_t)span) - aug->shift;
	float amp = aug->noise;
	uint64_t bits = 0;
	int left = 0;
	for (int rr = 0; rr < rows; rr++) {
		int sr = rr - dy;
		for (int c = 0; c < cols; c++) {
			int sc = c - dx;
			float v = (sr >= 0 && sr < rows && sc >= 0 && sc < cols) ?
				  pixel(px[sr * cols + sc]) : 0.0f;
			if (amp > 0.0f) {
				if (!left) {
					bits = rng_u64(&r);
					left = 2;
				}
				/* 24 random bits -> uniform in [-1, 1). */
				float u = (float)(bits & 0xffffffu) * (1.0f / 16777216.0f);
				bits >>= 32;
				left--;
				v += amp * (2.0f * u - 1.0f);
				v = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
			}
			x[rr * cols + c] = v;
		}
	}
}
