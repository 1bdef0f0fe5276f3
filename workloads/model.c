/*
 * model.c — logistic regression / MLP forward, backward, SGD step,
 * evaluation, and the on-the-fly augmentation of amplified copies.
 *
 * Zero inputs are skipped in the forward pass and in the weight gradients
 * (adding 0 * w changes no sum), which roughly halves the work on
 * Fashion-MNIST; wl_mlp_macs_executed() counts what ran, wl_mlp_macs_fwd/bwd the dense work.
 * The forward pass lists each sample's non-zero inputs once (index and
 * value, in input order, without a branch) and both the forward pass and
 * the weight gradient walk that list, so a zero costs no mispredicted
 * branch.  Every output still adds its terms in the same order (inputs in
 * increasing index for a forward sum, samples in order for a gradient
 * element), so the results are those of the plain loops bit for bit.
 * Inner loops are element-wise (no reductions), so vectorising them
 * (`omp simd`, AVX2 clones) changes no result; for narrow layers (the 10
 * classes of LR) the outputs are kept in registers.
 */
#include "workloads/model.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/util.h"

/* MD_PAR_FOR: a parallel loop over samples or rows, serial below
 * MD_PAR_MIN MACs of work.  A parallel region costs its fork and barrier,
 * and on a shared machine the waiting thread spins while the other one is
 * descheduled: perf of `ndpsim run --sensitivity` at load 15 on 2 vCPUs
 * had 80 % of its CPU time in libgomp's wait loop when one LR minibatch
 * (32 x 784 x 10 = 250,000 MACs, ~0.1 ms) was split in two.  A few ms of
 * work per region is where splitting pays.  The threshold changes no
 * result (every sum has the same order on any number of threads). */
#define MD_PAR_MIN 4000000L
#ifdef _OPENMP
#define MD_PRAGMA(x) _Pragma(#x)
#define MD_SIMD MD_PRAGMA(omp simd)
#define MD_SIMD_SUM(v) MD_PRAGMA(omp simd reduction(+:v))
#define MD_PAR_FOR(work) MD_PRAGMA(omp parallel for schedule(static) if ((work) >= MD_PAR_MIN))
#else
#define MD_SIMD
#define MD_SIMD_SUM(v)
#define MD_PAR_FOR(work) (void)(work);
#endif

/* Helpers of the cloned kernels, inlined into each clone. */
#define MD_INLINE static inline __attribute__((always_inline))

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define MD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define MD_CLONES
#endif

struct wl_mlp_ws {
	int max_batch;
	float *a[WL_MLP_MAX_LAYERS + 1];   /* a[1..nl]: activations / logits */
	float *d[WL_MLP_MAX_LAYERS + 1];   /* d[1..nl]: errors dL/dz */
	/* Non-zero inputs of layer l (0..nl-1) per sample s, written by the
	 * forward pass: nzn[l][s] indices at nzi[l] + s x dim[l]. */
	uint16_t *nzi[WL_MLP_MAX_LAYERS];
	int *nzn[WL_MLP_MAX_LAYERS];
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
	for (int l = 0; l < m->nl; l++) {
		ND_ASSERT(m->dim[l] <= 65536);   /* uint16_t indices */
		ws->nzi[l] = xmalloc((size_t)max_batch * (size_t)m->dim[l] * sizeof *ws->nzi[l]);
		ws->nzn[l] = xmalloc((size_t)max_batch * sizeof *ws->nzn[l]);
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
	for (int l = 0; l < WL_MLP_MAX_LAYERS; l++) {
		free(ws->nzi[l]);
		free(ws->nzn[l]);
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
		for (int t = 0; t < n; t++) {
			const float *row = in + (size_t)t * (size_t)din;
			unsigned c = 0;
			MD_SIMD_SUM(c)
			for (int k = 0; k < din; k++)
				c += row[k] != 0.0f;
			nz += c;
		}
		s += nz * (uint64_t)m->dim[l + 1] * (bwd ? (l > 0 ? 3u : 2u) : 1u);
	}
	return s;
}

/* ------------------------------------------------------------ kernels */

/* The indices of the non-zero entries of in[0, din), in order, to idx
 * (the values are read back from in); returns their number.  No branch: every entry is written, the
 * position advances only past a non-zero (the test is the one the plain
 * loop skipped on: v == 0, so -0 is skipped too). */
MD_INLINE int nz_list(const float *restrict in, int din, uint16_t *restrict idx)
{
	int c = 0;
	for (int i = 0; i < din; i++) {
		idx[c] = (uint16_t)i;
		c += in[i] != 0.0f;
	}
	return c;
}

/* Ten outputs (the classes of Fashion-MNIST: LR, and every MLP's last
 * layer) in registers: lanes 0-7 as one vector (GCC / clang vector
 * extension: lane-wise IEEE mul and add, exactly the scalar arithmetic),
 * lanes 8 and 9 as scalars. */
typedef float md_v8 __attribute__((vector_size(32)));

/* Unaligned 8-float load / store (memcpy: no alignment or aliasing
 * assumption; compiles to one vector move). */
#define LD8(v, p) memcpy(&(v), (p), sizeof(md_v8))
#define ST8(p, v) memcpy((p), &(v), sizeof(md_v8))

/* out = b + sum over the listed inputs (idx into val, the layer's input),
 * in order, of v x W[i]; ReLU if asked. */
MD_INLINE void fwd_list(const uint16_t *restrict idx, const float *restrict val, int nnz,
		     const float *restrict W, const float *restrict b, float *restrict out,
		     int dout, int relu)
{
	if (dout == 10) {
		md_v8 a, w;
		LD8(a, b);
		float a8 = b[8], a9 = b[9];
		for (int k = 0; k < nnz; k++) {
			float v = val[idx[k]];
			const float *row = W + (size_t)idx[k] * 10u;
			LD8(w, row);
			a += v * w;
			a8 += v * row[8];
			a9 += v * row[9];
		}
		ST8(out, a);
		out[8] = a8;
		out[9] = a9;
	} else {
		memcpy(out, b, (size_t)dout * sizeof *out);
		for (int k = 0; k < nnz; k++) {
			float v = val[idx[k]];
			const float *row = W + (size_t)idx[k] * (size_t)dout;
			MD_SIMD
			for (int j = 0; j < dout; j++)
				out[j] += v * row[j];
		}
	}
	if (relu)
		for (int j = 0; j < dout; j++)
			out[j] = out[j] > 0.0f ? out[j] : 0.0f;
}

/* out = b + in . W (W: din x dout), skipping zero inputs; ReLU if asked.
 * The indices of the sample's non-zero inputs are left in idx, their number
 * in *nnz. */
MD_CLONES
static void fwd_sample(const float *in, const float *W, const float *b, float *out,
		       int din, int dout, int relu, uint16_t *idx, int *nnz)
{
	int c = nz_list(in, din, idx);
	*nnz = c;
	fwd_list(idx, in, c, W, b, out, dout, relu);
}

/* Two samples through a 10-wide layer at once: the same per-sample sums,
 * in the same order, as fwd_sample, but the two dependency chains of adds
 * interleave (one sample's sum alone waits on the adder's latency). */
MD_CLONES
static void fwd_pair10(const float *in0, const float *in1, const float *W, const float *b,
		       float *out0, float *out1, int din, int relu, uint16_t *idx0, int *nnz0,
		       uint16_t *idx1, int *nnz1)
{
	int c0 = nz_list(in0, din, idx0), c1 = nz_list(in1, din, idx1);
	*nnz0 = c0;
	*nnz1 = c1;
	md_v8 a0, a1, w0, w1;
	LD8(a0, b);
	a1 = a0;
	float p8 = b[8], p9 = b[9], q8 = b[8], q9 = b[9];
	int c = c0 < c1 ? c0 : c1, k = 0;
	for (; k < c; k++) {
		float v0 = in0[idx0[k]], v1 = in1[idx1[k]];
		const float *r0 = W + (size_t)idx0[k] * 10u, *r1 = W + (size_t)idx1[k] * 10u;
		LD8(w0, r0);
		LD8(w1, r1);
		a0 += v0 * w0;
		a1 += v1 * w1;
		p8 += v0 * r0[8];
		q8 += v1 * r1[8];
		p9 += v0 * r0[9];
		q9 += v1 * r1[9];
	}
	for (int j = k; j < c0; j++) {
		float v0 = in0[idx0[j]];
		const float *r0 = W + (size_t)idx0[j] * 10u;
		LD8(w0, r0);
		a0 += v0 * w0;
		p8 += v0 * r0[8];
		p9 += v0 * r0[9];
	}
	for (int j = k; j < c1; j++) {
		float v1 = in1[idx1[j]];
		const float *r1 = W + (size_t)idx1[j] * 10u;
		LD8(w1, r1);
		a1 += v1 * w1;
		q8 += v1 * r1[8];
		q9 += v1 * r1[9];
	}
	ST8(out0, a0);
	ST8(out1, a1);
	out0[8] = p8;
	out0[9] = p9;
	out1[8] = q8;
	out1[9] = q9;
	if (relu)
		for (int j = 0; j < 10; j++) {
			out0[j] = out0[j] > 0.0f ? out0[j] : 0.0f;
			out1[j] = out1[j] > 0.0f ? out1[j] : 0.0f;
		}
}

#if defined(__GNUC__) && defined(__x86_64__)
#define MD_HAVE_QUAD512 1
#include <immintrin.h>

/* Four samples through a 10-wide layer with AVX-512: a sample's ten sums
 * in the low ten lanes of one 16-lane register (masked loads and stores:
 * nothing past a row is read), so one multiply and one add per input and
 * sample, and four independent add chains to hide the adder's latency.
 * Each lane is the same multiply, then the same add, in the same input
 * order as fwd_sample (no contraction), so the same bits. */
/* nz_list, 16 entries per compare: the lanes with in[i] != 0 (NaN
 * included, as in C) compressed in order and narrowed to 16 bits; a masked
 * store writes exactly the entries found. */
__attribute__((target("avx512f,avx512bw,avx512vl")))
static inline int nz_list_512(const float *restrict in, int din, uint16_t *restrict idx)
{
	int c = 0;
	const __m512 zero = _mm512_setzero_ps();
	__m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
	const __m512i step = _mm512_set1_epi32(16);
	for (int i = 0; i < din; i += 16) {
		__mmask16 live = din - i >= 16 ? (__mmask16)0xffff
					       : (__mmask16)((1u << (din - i)) - 1u);
		__m512 x = _mm512_maskz_loadu_ps(live, in + i);
		__mmask16 nz = _mm512_mask_cmp_ps_mask(live, x, zero, _CMP_NEQ_UQ);
		int k = __builtin_popcount((unsigned)nz);
		__m256i v = _mm512_cvtepi32_epi16(_mm512_maskz_compress_epi32(nz, lane));
		_mm256_mask_storeu_epi16(idx + c, (__mmask16)((1u << k) - 1u), v);
		c += k;
		lane = _mm512_add_epi32(lane, step);
	}
	return c;
}

__attribute__((target("avx512f,avx512bw,avx512vl")))
static void fwd_quad10_512(const float *const in[4], const float *W, const float *b,
			   float *const out[4], int din, int relu, uint16_t *const idx[4],
			   int *const nnz[4])
{
	const __mmask16 m10 = 0x3ff;
	int c[4], cmin = din;
	__m512 a[4];
	__m512 bias = _mm512_maskz_loadu_ps(m10, b);
	for (int q = 0; q < 4; q++) {
		c[q] = nz_list_512(in[q], din, idx[q]);
		*nnz[q] = c[q];
		if (c[q] < cmin)
			cmin = c[q];
		a[q] = bias;
	}
	const uint16_t *i0 = idx[0], *i1 = idx[1], *i2 = idx[2], *i3 = idx[3];
	const float *x0 = in[0], *x1 = in[1], *x2 = in[2], *x3 = in[3];
	for (int k = 0; k < cmin; k++) {
		__m512 w0 = _mm512_maskz_loadu_ps(m10, W + (size_t)i0[k] * 10u);
		__m512 w1 = _mm512_maskz_loadu_ps(m10, W + (size_t)i1[k] * 10u);
		__m512 w2 = _mm512_maskz_loadu_ps(m10, W + (size_t)i2[k] * 10u);
		__m512 w3 = _mm512_maskz_loadu_ps(m10, W + (size_t)i3[k] * 10u);
		a[0] = _mm512_add_ps(a[0], _mm512_mul_ps(_mm512_set1_ps(x0[i0[k]]), w0));
		a[1] = _mm512_add_ps(a[1], _mm512_mul_ps(_mm512_set1_ps(x1[i1[k]]), w1));
		a[2] = _mm512_add_ps(a[2], _mm512_mul_ps(_mm512_set1_ps(x2[i2[k]]), w2));
		a[3] = _mm512_add_ps(a[3], _mm512_mul_ps(_mm512_set1_ps(x3[i3[k]]), w3));
	}
	for (int q = 0; q < 4; q++) {
		const uint16_t *iq = idx[q];
		const float *xq = in[q];
		__m512 acc = a[q];
		for (int k = cmin; k < c[q]; k++) {
			__m512 w = _mm512_maskz_loadu_ps(m10, W + (size_t)iq[k] * 10u);
			acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_set1_ps(xq[iq[k]]), w));
		}
		if (relu)
			acc = _mm512_max_ps(acc, _mm512_setzero_ps());
		_mm512_mask_storeu_ps(out[q], m10, acc);
	}
}
#endif

/* First position of a sorted index list holding an index >= r. */
static int lower_bound16(const uint16_t *a, int n, int r)
{
	int lo = 0, hi = n;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (a[mid] < r)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* g[i] += v x d[s] over the listed inputs of every sample s whose index is
 * in [i0, i1), samples in order. */
MD_INLINE void wgrad_list(const struct wl_mlp_ws *ws, int l, const float *restrict in,
			  const float *restrict d, float *restrict g, int n, int din, int dout,
			  int i0, int i1)
{
	for (int s = 0; s < n; s++) {
		const uint16_t *idx = ws->nzi[l] + (size_t)s * (size_t)din;
		const float *val = in + (size_t)s * (size_t)din;
		int c = ws->nzn[l][s];
		const float *ds = d + (size_t)s * (size_t)dout;
		int k = i0 ? lower_bound16(idx, c, i0) : 0;
		if (dout == 10) {
			md_v8 d0, r;
			LD8(d0, ds);
			float d8 = ds[8], d9 = ds[9];
			for (; k < c && idx[k] < i1; k++) {
				float v = val[idx[k]];
				float *row = g + (size_t)idx[k] * 10u;
				LD8(r, row);
				r += v * d0;
				ST8(row, r);
				row[8] += v * d8;
				row[9] += v * d9;
			}
			continue;
		}
		for (; k < c && idx[k] < i1; k++) {
			float v = val[idx[k]];
			float *row = g + (size_t)idx[k] * (size_t)dout;
			MD_SIMD
			for (int j = 0; j < dout; j++)
				row[j] += v * ds[j];
		}
	}
}

/* Rows [i0, i1) of the weight gradient: g[i][j] = inv_n * sum_s in[s][i] d[s][j],
 * summed over s in order, over the non-zero inputs the forward pass listed
 * for layer l. */
MD_CLONES
static void wgrad_rows(const struct wl_mlp_ws *ws, int l, const float *in, const float *d,
		       float *g, int n, int din, int dout, int i0, int i1, float inv_n)
{
	memset(g + (size_t)i0 * (size_t)dout, 0, (size_t)(i1 - i0) * (size_t)dout * sizeof *g);
	wgrad_list(ws, l, in, d, g, n, din, dout, i0, i1);
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
		uint16_t *nzi = ws->nzi[l];
		int *nzn = ws->nzn[l];
#ifdef MD_HAVE_QUAD512
		if (dout == 10 && n >= 4 && __builtin_cpu_supports("avx512f") &&
		    __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) {
			int nq = n / 4;
MD_PAR_FOR(work)
			for (int sq = 0; sq < nq; sq++) {
				size_t s = 4 * (size_t)sq;
				const float *const ins[4] = { in + s * din, in + (s + 1) * din,
							      in + (s + 2) * din, in + (s + 3) * din };
				float *const outs[4] = { out + s * 10, out + (s + 1) * 10,
							 out + (s + 2) * 10, out + (s + 3) * 10 };
				uint16_t *const idx[4] = { nzi + s * din, nzi + (s + 1) * din,
							   nzi + (s + 2) * din, nzi + (s + 3) * din };
				int *const nn[4] = { nzn + s, nzn + s + 1, nzn + s + 2, nzn + s + 3 };
				fwd_quad10_512(ins, W, b, outs, din, relu, idx, nn);
			}
			for (size_t s = 4 * (size_t)nq; s < (size_t)n; s++)
				fwd_sample(in + s * din, W, b, out + s * 10, din, 10, relu,
					   nzi + s * din, nzn + s);
			continue;
		}
#endif
		if (dout == 10) {
			int np = (n + 1) / 2;
MD_PAR_FOR(work)
			for (int sp = 0; sp < np; sp++) {
				size_t s = 2 * (size_t)sp, t = s + 1;
				if (t < (size_t)n)
					fwd_pair10(in + s * din, in + t * din, W, b, out + s * 10,
						   out + t * 10, din, relu, nzi + s * din, nzn + s,
						   nzi + t * din, nzn + t);
				else
					fwd_sample(in + s * din, W, b, out + s * 10, din, 10, relu,
						   nzi + s * din, nzn + s);
			}
			continue;
		}
MD_PAR_FOR(work)
		for (int s = 0; s < n; s++)
			fwd_sample(in + (size_t)s * (size_t)din, W, b, out + (size_t)s * (size_t)dout,
				   din, dout, relu, nzi + (size_t)s * (size_t)din, nzn + s);
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
		/* Row blocks for the threads (the block count changes no sum):
		 * one when serial. */
		int nblk = work >= MD_PAR_MIN ? 8 : 1, blk = (din + nblk - 1) / nblk;
MD_PAR_FOR(work)
		for (int bi = 0; bi < nblk; bi++) {
			int i0 = bi * blk, i1 = i0 + blk < din ? i0 + blk : din;
			if (i0 < i1)
				wgrad_rows(ws, l, in, d, gW, n, din, dout, i0, i1, inv_n);
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
		float *restrict xo = x;
		const uint8_t *restrict pi = px;
		int nk = rows * cols;
		MD_SIMD
		for (int k = 0; k < nk; k++)
			xo[k] = pixel(pi[k]);
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
