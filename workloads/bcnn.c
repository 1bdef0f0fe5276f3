/*
 * bcnn.c — float / BWN / BNN convolutional networks: STE training, folding
 * into unrolled bnn layers, exact digital inference (see bcnn.h).
 *
 * Training runs every layer as im2col + a small GEMM over (batch x
 * positions) rows; it is single-threaded, so sums run in one fixed order.
 */
#include "workloads/bcnn.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "core/rng.h"
#include "core/report.h"
#include "core/util.h"

#ifdef _OPENMP
#define BC_PRAGMA(x) _Pragma(#x)
#define BC_SIMD BC_PRAGMA(omp simd)
#else
#define BC_SIMD
#endif

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define BC_CLONES __attribute__((target_clones("avx2", "default")))
#define BC_CLONES_POP __attribute__((target_clones("popcnt", "default")))
#else
#define BC_CLONES
#define BC_CLONES_POP
#endif

/* ------------------------------------------------------------------ */
/* Config section "bcnn"                                               */

static const char *const mode_names[] = { "float", "bwn", "bnn", NULL };

#define CFG_T struct bcnn_params

static const struct cfg_key bcnn_keys[] = {
	CFG_KEY_ENUM("mode", mode, BCNN_BNN, mode_names,
	  "numeric form: float (fp32), bwn (binary weights, fp32 activations; Rastegari et al. 2016), bnn (binary weights and activations; Courbariaux et al. 2016)"),
	CFG_KEY_STR("conv", conv, "channels", "16,16,32,32",
	  "output channels of the 2 or 4 convolutions, a 2x2 max-pool after every second (seed lecture's CIFAR-10 shape 2x(conv,conv,pool),fc,fc; channels cut to train on one core)"),
	CFG_KEY_INT("kernel", kernel, "pixels", 3, 1, 7,
	  "square kernel size k of every conv, valid padding (3x3: the seed tile's 27 rows = 3x3x3)"),
	CFG_KEY_INT("fc", fc, "units", 128, 1, 4096,
	  "hidden fully-connected units before the 10-class output (issue 12: a 128-unit fc)"),
	CFG_KEY_INT("epochs", epochs, "epochs", 3, 1, 1000,
	  "training epochs over train_n images (assumption: 3 x 60,000 images take ~1 min each on one core, bench/README.md)"),
	CFG_KEY_INT("batch", batch, "images", 64, 1, 1024,
	  "minibatch size (assumption: 64, a common CNN choice; BN statistics over 64 x positions values)"),
	CFG_KEY_DBL("lr", lr, "-", 0.005, 1e-6, 1.0,
	  "Adam learning rate (BNN practice 1e-3..1e-2, as bnn.lr)"),
	CFG_KEY_DBL("lr_decay", lr_decay, "x/epoch", 0.7, 0.01, 1.0,
	  "learning-rate factor applied after each epoch (assumption: tuned so that 3 epochs settle)"),
	CFG_KEY_INT("train_n", train_n, "images", 0, 0, 60000,
	  "training images used (first n of a once-shuffled order; 0 = all 60,000)"),
	CFG_KEY_INT("calib_n", calib_n, "images", 5000, 64, 60000,
	  "training images used to re-estimate the batch-norm statistics before folding (assumption; bnn.calib_n uses 10,000 for the MLP)"),
	CFG_KEY_INT("input_steps", input_steps, "levels-1", 4, 1, 255,
	  "first-layer input levels - 1 (pixel rounded to Q+1 levels in [-1,1], fed to the crossbar as Q unary pulses; bnn.input_steps' rule)"),
	CFG_KEY_BOOL("noise_aware.enable", na_on, 0,
	  "noise-aware training of the CNN: crossbar device variation and read noise sampled on every conv / fc pre-activation in the training forward pass (as bnn.noise_aware.*: Joshi et al., Nat. Commun. 11:2473, 2020); under `ndpsim xbar cnn`, whose xbar.tile.* give the unrolled mapping"),
	CFG_KEY_DBL("noise_aware.d2d_sigma", na_d2d_sigma, "relative", 0.1, 0.0, 2.0,
	  "relative sigma of per-cell conductance variation assumed in training, redrawn every step (default = xbar.noise.d2d.sigma's 0.1)"),
	CFG_KEY_DBL("noise_aware.read_sigma", na_read_sigma, "relative", 0.05, 0.0, 10.0,
	  "relative sigma of a driven cell's read current per pulse assumed in training (default = xbar.noise.read.sigma's 0.05)"),
	CFG_KEY_INT("noise_aware.pulses", na_pulses, "pulses", 1, 1, 64,
	  "unary pulses per layer the read noise averages over (variance / T), the T of the deployed encoding"),
	CFG_END
};

static int parse_conv(const char *s, int ch[BCNN_MAX_CONV], struct nd_err *err)
{
	int n = 0;
	const char *q = s;
	while (*q) {
		char *end;
		long v = strtol(q, &end, 10);
		if (end == q || v < 1 || v > 1024)
			return nd_errf(err, -EINVAL, "bcnn.conv: \"%s\": channel counts must be integers in 1..1024", s);
		if (n >= BCNN_MAX_CONV)
			return nd_errf(err, -EINVAL, "bcnn.conv: \"%s\": at most %d convolutions", s, BCNN_MAX_CONV);
		ch[n++] = (int)v;
		q = end;
		if (*q == ',')
			q++;
		else if (*q)
			return nd_errf(err, -EINVAL, "bcnn.conv: \"%s\": unexpected '%c'", s, *q);
	}
	if (n != 2 && n != 4)
		return nd_errf(err, -EINVAL, "bcnn.conv: \"%s\": give 2 or 4 channel counts (blocks of conv, conv, pool)", s);
	return n;
}

int bcnn_shape(const struct bcnn_params *p, struct bcnn_shape *s, struct nd_err *err)
{
	memset(s, 0, sizeof *s);
	int ch[BCNN_MAX_CONV];
	int nc = parse_conv(p->conv, ch, err);
	if (nc < 0)
		return nc;
	int H = 28, W = 28, C = 1;
	s->nconv = nc;
	s->nl = nc + 2;
	for (int l = 0; l < s->nl; l++) {
		int k = l < nc ? p->kernel : (l == nc ? H : 1);
		int co = l < nc ? ch[l] : (l == nc ? p->fc : 10);
		if (l == nc && H != W)
			return nd_errf(err, -EINVAL, "bcnn.kernel: internal: non-square map");
		s->h[l] = H;
		s->w[l] = W;
		s->c[l] = C;
		s->k[l] = k;
		s->cout[l] = co;
		s->oh[l] = H - k + 1;
		s->ow[l] = W - k + 1;
		if (s->oh[l] < 1)
			return nd_errf(err, -EINVAL,
				       "bcnn.kernel: %d x %d kernels shrink the map of conv layer %d (%d x %d) to nothing",
				       k, k, l + 1, H, W);
		s->pool[l] = l < nc && (l & 1);
		if (s->pool[l] && s->oh[l] < 2)
			return nd_errf(err, -EINVAL,
				       "bcnn.kernel: conv layer %d's %d x %d output cannot be pooled 2 x 2",
				       l + 1, s->oh[l], s->ow[l]);
		s->ph[l] = s->pool[l] ? s->oh[l] / 2 : s->oh[l];
		s->pw[l] = s->pool[l] ? s->ow[l] / 2 : s->ow[l];
		s->n_in[l] = k * k * C;
		s->positions[l] = s->oh[l] * s->ow[l];
		if (s->n_in[l] > BNN_MAX_WIDTH)
			return nd_errf(err, -EINVAL, "bcnn.conv: layer %d unrolls to %d rows, more than %d",
				       l + 1, s->n_in[l], BNN_MAX_WIDTH);
		H = s->ph[l];
		W = s->pw[l];
		C = co;
	}
	return 0;
}

static int bcnn_check(const void *params, struct nd_err *err)
{
	struct bcnn_shape s;
	return bcnn_shape(params, &s, err);
}

const struct cfg_section bcnn_section = {
	"bcnn", bcnn_keys, sizeof(struct bcnn_params), bcnn_check
};

double bcnn_macs(const struct bcnn_shape *s, int l)
{
	return (double)s->positions[l] * s->n_in[l] * s->cout[l];
}

void bcnn_model_free(struct bcnn_model *m)
{
	if (!m)
		return;
	bnn_model_free(m->net);
	free(m);
}

/* ------------------------------------------------------------------ */
/* Kernels                                                             */

/* The three products of a layer over `rows` unrolled vectors; one
 * dispatch per call, the inner loops over output channels vectorise. */
/* z = col W^T with the channel count a compile-time constant, so a row of
 * z stays in registers across the n inputs. */
#define GEMM_FWD_CO(CO)                                                         \
	static inline void gemm_fwd_##CO(float *restrict z, const float *restrict col, \
					 const float *restrict wt, size_t rows, int n) \
	{                                                                       \
		for (size_t r = 0; r < rows; r++) {                             \
			float acc[CO] = { 0 };                                  \
			const float *cr = col + r * (size_t)n;                  \
			for (int i = 0; i < n; i++) {                           \
				float a = cr[i];                                \
				const float *restrict wr = wt + (size_t)i * CO; \
				for (int j = 0; j < CO; j++)                    \
					acc[j] += a * wr[j];                    \
			}                                                       \
			memcpy(z + r * CO, acc, sizeof acc);                    \
		}                                                               \
	}
GEMM_FWD_CO(8)
GEMM_FWD_CO(16)
GEMM_FWD_CO(32)

BC_CLONES
static void gemm_fwd(float *restrict z, const float *restrict col, const float *restrict wt,
		     size_t rows, int n, int Co)
{
	if (Co == 8)
		gemm_fwd_8(z, col, wt, rows, n);
	else if (Co == 16)
		gemm_fwd_16(z, col, wt, rows, n);
	else if (Co == 32)
		gemm_fwd_32(z, col, wt, rows, n);
	else
		for (size_t r = 0; r < rows; r++) {
			float *restrict zr = z + r * (size_t)Co;
			const float *cr = col + r * (size_t)n;
			for (int j = 0; j < Co; j++)
				zr[j] = 0;
			for (int i = 0; i < n; i++) {
				float a = cr[i];
				if (a == 0.0f)
					continue;
				const float *restrict wr = wt + (size_t)i * Co;
				BC_SIMD
				for (int j = 0; j < Co; j++)
					zr[j] += a * wr[j];
			}
		}
}

BC_CLONES
static void gemm_dw(float *restrict dwt, const float *restrict col, const float *restrict dz,
		    size_t rows, int n, int Co)
{
	memset(dwt, 0, sizeof(float) * (size_t)n * Co);
	for (size_t r = 0; r < rows; r++) {
		const float *cr = col + r * (size_t)n, *restrict d = dz + r * (size_t)Co;
		for (int i = 0; i < n; i++) {
			float a = cr[i];
			if (a == 0.0f)
				continue;
			float *restrict g = dwt + (size_t)i * Co;
			BC_SIMD
			for (int j = 0; j < Co; j++)
				g[j] += a * d[j];
		}
	}
}

/* dcol = dz W with W in its Co x n layout: axpys over n. */
BC_CLONES
static void gemm_dcol(float *restrict dcol, const float *restrict we, const float *restrict dz,
		      size_t rows, int n, int Co)
{
	for (size_t r = 0; r < rows; r++) {
		const float *restrict d = dz + r * (size_t)Co;
		float *restrict dc = dcol + r * (size_t)n;
		for (int i = 0; i < n; i++)
			dc[i] = 0;
		for (int j = 0; j < Co; j++) {
			float a = d[j];
			if (a == 0.0f)
				continue;
			const float *restrict wr = we + (size_t)j * n;
			BC_SIMD
			for (int i = 0; i < n; i++)
				dc[i] += a * wr[i];
		}
	}
}

static void add_to(float *restrict y, const float *restrict x, int n)
{
	for (int k = 0; k < n; k++)
		y[k] += x[k];
}

/* ------------------------------------------------------------------ */
/* Training                                                            */

#define BN_EPS 1e-5
#define ADAM_B1 0.9
#define ADAM_B2 0.999
#define ADAM_EPS 1e-8

struct tl {
	int H, W, C, K, Co, OH, OW, P, pool, PH, PW, PP, n;
	float *w;                  /* Co x n: latent (binary modes) or real weights */
	float *wt;                 /* n x Co: weights in use, transposed */
	float *we;                 /* Co x n: weights in use */
	float *dwt;                /* n x Co */
	float *gam, *bet, *dg, *db;
	float *mw, *vw, *mg, *vg, *mb, *vb;
	float *col, *dcol;         /* B*P x n */
	float *z;                  /* B*P x Co: conv output, then normalised */
	float *yf;                 /* B*P x Co: BN output */
	float *y;                  /* B*PP x Co: pooled (= yf without pool) */
	int32_t *arg;              /* B*PP x Co: row of the max inside yf */
	float *a;                  /* B*PP x Co: activation (next input) */
	float *da;                 /* B*PP x Co */
	float *dyf;                /* B*P x Co */
	double *mu, *istd;         /* Co: statistics in use */
	double *smu, *svar;        /* Co: re-estimation sums */
};

struct trainer {
	const struct bcnn_params *p;
	struct bcnn_shape s;
	int mode, B, Q;
	struct tl L[BNN_MAX_LAYERS];
	float *x0;                 /* B x 784 input */
	double *prob;              /* B x 10 */
	long step;
	const struct bnn_noise_hook *hook;   /* noise-aware training, or NULL */
};

static void tl_alloc(struct tl *t, const struct bcnn_shape *s, int l, int B)
{
	t->H = s->h[l];
	t->W = s->w[l];
	t->C = s->c[l];
	t->K = s->k[l];
	t->Co = s->cout[l];
	t->OH = s->oh[l];
	t->OW = s->ow[l];
	t->P = s->positions[l];
	t->pool = s->pool[l];
	t->PH = s->ph[l];
	t->PW = s->pw[l];
	t->PP = t->PH * t->PW;
	t->n = s->n_in[l];
	size_t wn = (size_t)t->n * t->Co, co = (size_t)t->Co;
	size_t rows = (size_t)B * t->P, prow = (size_t)B * t->PP;
	t->w = xcalloc(wn, sizeof(float));
	t->wt = xcalloc(wn, sizeof(float));
	t->we = xcalloc(wn, sizeof(float));
	t->dwt = xcalloc(wn, sizeof(float));
	t->mw = xcalloc(wn, sizeof(float));
	t->vw = xcalloc(wn, sizeof(float));
	t->gam = xcalloc(co, sizeof(float));
	t->bet = xcalloc(co, sizeof(float));
	t->dg = xcalloc(co, sizeof(float));
	t->db = xcalloc(co, sizeof(float));
	t->mg = xcalloc(co, sizeof(float));
	t->vg = xcalloc(co, sizeof(float));
	t->mb = xcalloc(co, sizeof(float));
	t->vb = xcalloc(co, sizeof(float));
	t->col = xcalloc(rows * t->n, sizeof(float));
	t->dcol = xcalloc(rows * t->n, sizeof(float));
	t->z = xcalloc(rows * co, sizeof(float));
	t->yf = xcalloc(rows * co, sizeof(float));
	t->dyf = xcalloc(rows * co, sizeof(float));
	t->y = t->pool ? xcalloc(prow * co, sizeof(float)) : t->yf;
	t->arg = xcalloc(prow * co, sizeof(int32_t));
	t->a = xcalloc(prow * co, sizeof(float));
	t->da = xcalloc(prow * co, sizeof(float));
	t->mu = xcalloc(co, sizeof(double));
	t->istd = xcalloc(co, sizeof(double));
	t->smu = xcalloc(co, sizeof(double));
	t->svar = xcalloc(co, sizeof(double));
}

static void tl_free(struct tl *t)
{
	free(t->w); free(t->wt); free(t->we); free(t->dwt); free(t->mw); free(t->vw);
	free(t->gam); free(t->bet); free(t->dg); free(t->db);
	free(t->mg); free(t->vg); free(t->mb); free(t->vb);
	free(t->col); free(t->dcol); free(t->z); free(t->dyf);
	if (t->pool)
		free(t->y);
	free(t->yf); free(t->arg); free(t->a); free(t->da);
	free(t->mu); free(t->istd); free(t->smu); free(t->svar);
}

/* Weights in use from the latent ones: sign (w >= 0 -> +1) in the binary
 * modes. */
static void effective_weights(struct trainer *tr)
{
	for (int l = 0; l < tr->s.nl; l++) {
		struct tl *t = &tr->L[l];
		for (int j = 0; j < t->Co; j++)
			for (int i = 0; i < t->n; i++) {
				float v = t->w[(size_t)j * t->n + i];
				if (tr->mode != BCNN_FLOAT)
					v = v >= 0 ? 1.0f : -1.0f;
				t->wt[(size_t)i * t->Co + j] = v;
				t->we[(size_t)j * t->n + i] = v;
			}
	}
}

static void input_batch(struct trainer *tr, const uint8_t *pixels, const long *idx, int nb)
{
	unsigned q = (unsigned)tr->Q;
	for (int b = 0; b < nb; b++) {
		const uint8_t *px = pixels + (size_t)idx[b] * 784;
		for (int k = 0; k < 784; k++) {
			unsigned lev = (px[k] * q * 2u + 255u) / 510u;   /* bnn.h's rounding */
			tr->x0[(size_t)b * 784 + k] = (float)(2.0 * lev - q) / (float)q;
		}
	}
}

/* stats: 0 = use t->mu / t->istd (eval); 1 = batch statistics (train);
 * 2 = batch statistics, also summed into smu / svar (re-estimation). */
static void forward(struct trainer *tr, int nb, int stats)
{
	const float *in = tr->x0;
	for (int l = 0; l < tr->s.nl; l++) {
		struct tl *t = &tr->L[l];
		int n = t->n, Co = t->Co, KC = t->K * t->C;
		size_t rows = (size_t)nb * t->P;
		for (int b = 0; b < nb; b++) {
			const float *im = in + (size_t)b * t->H * t->W * t->C;
			for (int oy = 0; oy < t->OH; oy++)
				for (int ox = 0; ox < t->OW; ox++) {
					float *c = t->col + ((size_t)b * t->P + (size_t)oy * t->OW + ox) * n;
					for (int ky = 0; ky < t->K; ky++)
						memcpy(c + ky * KC, im + ((size_t)(oy + ky) * t->W + ox) * t->C,
						       sizeof(float) * (size_t)KC);
				}
		}
		gemm_fwd(t->z, t->col, t->wt, rows, n, Co);
		if (stats == 1 && tr->hook)
			tr->hook->fn(tr->hook->arg, l, n, t->z, (long)rows, Co, (uint64_t)tr->step);
		if (stats) {
			for (int j = 0; j < Co; j++) {
				double s1 = 0, s2 = 0;
				for (size_t r = 0; r < rows; r++) {
					double v = (double)t->z[r * Co + j];
					s1 += v;
					s2 += v * v;
				}
				double mu = s1 / (double)rows, var = s2 / (double)rows - mu * mu;
				var = var > 0 ? var : 0;
				t->mu[j] = mu;
				t->istd[j] = 1.0 / sqrt(var + BN_EPS);
				if (stats == 2) {
					t->smu[j] += mu;
					t->svar[j] += var;
				}
			}
		}
		for (size_t r = 0; r < rows; r++)
			for (int j = 0; j < Co; j++) {
				float zh = (float)(((double)t->z[r * Co + j] - t->mu[j]) * t->istd[j]);
				t->z[r * Co + j] = zh;
				t->yf[r * Co + j] = t->gam[j] * zh + t->bet[j];
			}
		if (t->pool)
			for (int b = 0; b < nb; b++)
				for (int py = 0; py < t->PH; py++)
					for (int px = 0; px < t->PW; px++)
						for (int j = 0; j < Co; j++) {
							int32_t best = -1;
							float bv = 0;
							for (int dy = 0; dy < 2; dy++)
								for (int dx = 0; dx < 2; dx++) {
									int32_t r = (int32_t)((size_t)b * t->P +
											      (size_t)(2 * py + dy) * t->OW + 2 * px + dx);
									float v = t->yf[(size_t)r * Co + j];
									if (best < 0 || v > bv) {
										best = r;
										bv = v;
									}
								}
							size_t o = ((size_t)b * t->PP + (size_t)py * t->PW + px) * Co + j;
							t->y[o] = bv;
							t->arg[o] = best;
						}
		size_t pn = (size_t)nb * t->PP * Co;
		if (l < tr->s.nl - 1) {
			if (tr->mode == BCNN_BNN)
				for (size_t k = 0; k < pn; k++)
					t->a[k] = t->y[k] >= 0 ? 1.0f : -1.0f;
			else
				for (size_t k = 0; k < pn; k++)
					t->a[k] = t->y[k] > 0 ? t->y[k] : 0.0f;
		}
		in = t->a;
	}
}

/* Softmax cross-entropy on the last layer's y; writes its da.  Returns the
 * summed loss; *correct counts first-argmax hits. */
static double loss_grad(struct trainer *tr, const uint8_t *labels, const long *idx,
			int nb, long *correct)
{
	struct tl *t = &tr->L[tr->s.nl - 1];
	double loss = 0;
	for (int b = 0; b < nb; b++) {
		const float *yv = t->y + (size_t)b * 10;
		double y[10];
		for (int j = 0; j < 10; j++)
			y[j] = (double)yv[j];
		int best = 0;
		double mx = y[0];
		for (int j = 1; j < 10; j++)
			if (y[j] > mx) {
				mx = y[j];
				best = j;
			}
		int lab = labels[idx[b]];
		if (correct && best == lab)
			(*correct)++;
		double se = 0;
		for (int j = 0; j < 10; j++)
			se += exp(y[j] - mx);
		loss += -(y[lab] - mx - log(se));
		for (int j = 0; j < 10; j++) {
			double pj = exp(y[j] - mx) / se;
			t->da[(size_t)b * 10 + j] = (float)((pj - (j == lab)) / nb);
		}
	}
	return loss;
}

static void backward(struct trainer *tr, int nb)
{
	for (int l = tr->s.nl - 1; l >= 0; l--) {
		struct tl *t = &tr->L[l];
		int n = t->n, Co = t->Co, KC = t->K * t->C;
		size_t rows = (size_t)nb * t->P, pn = (size_t)nb * t->PP * Co;
		/* through the activation (STE for sign: pass where |y| <= 1) */
		if (l < tr->s.nl - 1) {
			if (tr->mode == BCNN_BNN)
				for (size_t k = 0; k < pn; k++)
					t->da[k] = fabsf(t->y[k]) <= 1.0f ? t->da[k] : 0.0f;
			else
				for (size_t k = 0; k < pn; k++)
					t->da[k] = t->y[k] > 0 ? t->da[k] : 0.0f;
		}
		if (t->pool) {
			memset(t->dyf, 0, sizeof(float) * rows * Co);
			for (size_t k = 0; k < pn; k++)
				t->dyf[(size_t)t->arg[k] * Co + k % (size_t)Co] += t->da[k];
		} else {
			memcpy(t->dyf, t->da, sizeof(float) * rows * Co);
		}
		/* batch norm (t->z holds the normalised values) */
		for (int j = 0; j < Co; j++) {
			double sd = 0, sdz = 0;
			for (size_t r = 0; r < rows; r++) {
				double d = (double)t->dyf[r * Co + j];
				sd += d;
				sdz += d * (double)t->z[r * Co + j];
			}
			t->dg[j] = (float)sdz;
			t->db[j] = (float)sd;
			double f = (double)t->gam[j] * t->istd[j], mn = sd / (double)rows, mz = sdz / (double)rows;
			for (size_t r = 0; r < rows; r++)
				t->dyf[r * Co + j] = (float)(f * ((double)t->dyf[r * Co + j] - mn - (double)t->z[r * Co + j] * mz));
		}
		/* weights: dW^T += col^T dz */
		gemm_dw(t->dwt, t->col, t->dyf, rows, n, Co);
		if (l == 0)
			break;
		/* inputs: dcol = dz W, then col2im into the previous layer's da */
		gemm_dcol(t->dcol, t->we, t->dyf, rows, n, Co);
		struct tl *pv = &tr->L[l - 1];
		memset(pv->da, 0, sizeof(float) * (size_t)nb * pv->PP * pv->Co);
		for (int b = 0; b < nb; b++) {
			float *im = pv->da + (size_t)b * t->H * t->W * t->C;
			for (int oy = 0; oy < t->OH; oy++)
				for (int ox = 0; ox < t->OW; ox++) {
					const float *c = t->dcol + ((size_t)b * t->P + (size_t)oy * t->OW + ox) * n;
					for (int ky = 0; ky < t->K; ky++)
						add_to(im + ((size_t)(oy + ky) * t->W + ox) * t->C, c + ky * KC, KC);
				}
		}
	}
}

static void adam(float *p, float *m, float *v, const float *g, size_t n, double lr_t, int clip)
{
	for (size_t k = 0; k < n; k++) {
		m[k] = (float)(ADAM_B1 * (double)m[k] + (1 - ADAM_B1) * (double)g[k]);
		v[k] = (float)(ADAM_B2 * (double)v[k] + (1 - ADAM_B2) * (double)g[k] * (double)g[k]);
		float q = p[k] - (float)(lr_t * (double)m[k] / (sqrt((double)v[k]) + ADAM_EPS));
		if (clip)
			q = q > 1.0f ? 1.0f : (q < -1.0f ? -1.0f : q);
		p[k] = q;
	}
}

static void update(struct trainer *tr, double lr)
{
	tr->step++;
	double lr_t = lr * sqrt(1 - pow(ADAM_B2, (double)tr->step)) / (1 - pow(ADAM_B1, (double)tr->step));
	for (int l = 0; l < tr->s.nl; l++) {
		struct tl *t = &tr->L[l];
		/* dW (Co x n) from dW^T; STE: the gradient of sign(w) is passed to w */
		float *g = t->dcol;   /* scratch of >= n * Co floats: rows >= Co */
		float *gw = (size_t)tr->B * t->P >= (size_t)t->Co ? g : xmalloc(sizeof(float) * (size_t)t->n * t->Co);
		for (int j = 0; j < t->Co; j++)
			for (int i = 0; i < t->n; i++)
				gw[(size_t)j * t->n + i] = t->dwt[(size_t)i * t->Co + j];
		adam(t->w, t->mw, t->vw, gw, (size_t)t->n * t->Co, lr_t, tr->mode != BCNN_FLOAT);
		if (gw != g)
			free(gw);
		adam(t->gam, t->mg, t->vg, t->dg, (size_t)t->Co, lr_t, 0);
		adam(t->bet, t->mb, t->vb, t->db, (size_t)t->Co, lr_t, 0);
	}
	effective_weights(tr);
}

static void shuffle(long *v, long n, struct rng *r)
{
	for (long i = n - 1; i > 0; i--) {
		long j = (long)rng_below(r, (uint64_t)i + 1);
		long t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
}

#define ST_ORDER 0x6263000001ull
#define ST_EPOCH 0x6263000100ull
#define ST_INIT 0x6263001000ull

/* Folds the trained BNN (statistics in mu / istd) into a bcnn_model. */
static struct bcnn_model *fold(const struct trainer *tr)
{
	struct bcnn_model *m = xcalloc(1, sizeof *m);
	m->s = tr->s;
	struct bnn_model *net = xcalloc(1, sizeof *net);
	m->net = net;
	net->act = BNN_ACT_BINARY;
	net->q = 1;
	net->input_thr = 128;   /* qin 1: pixel >= 128 <=> round(pixel / 255) = 1 */
	net->nl = tr->s.nl;
	net->dim[0] = 784;
	for (int l = 1; l < net->nl; l++)
		net->dim[l] = tr->s.h[l] * tr->s.w[l] * tr->s.c[l];
	net->dim[net->nl] = 10;
	for (int l = 0; l < net->nl; l++) {
		const struct tl *t = &tr->L[l];
		struct bnn_layer *L = &net->layer[l];
		int Q = l == 0 ? tr->Q : 1, last = l == net->nl - 1;
		net->qin[l] = Q;
		L->n_in = t->n;
		L->n_out = t->Co;
		L->words = (t->n + 63) / 64;
		L->kind = last ? BNN_OUT_SCORE : BNN_OUT_BINARY;
		L->wbits = xcalloc((size_t)L->words * t->Co, sizeof(uint64_t));
		if (last) {
			L->g = xcalloc((size_t)t->Co, sizeof(double));
			L->h = xcalloc((size_t)t->Co, sizeof(double));
		} else {
			L->thresh = xcalloc((size_t)t->Co, sizeof(int32_t));
		}
		long lim = (long)t->n * Q + 1;
		for (int j = 0; j < t->Co; j++) {
			double gam = (double)t->gam[j], bet = (double)t->bet[j], mu = t->mu[j], is = t->istd[j];
			int flip = !last && gam < 0;
			for (int i = 0; i < t->n; i++) {
				int pos = t->w[(size_t)j * t->n + i] >= 0;
				if (flip)
					pos = !pos;
				if (pos)
					L->wbits[(size_t)j * L->words + (size_t)(i >> 6)] |= 1ull << (i & 63);
			}
			if (last) {
				L->g[j] = gam * is;
				L->h[j] = bet - gam * is * mu;
				continue;
			}
			/* gam (D - mu) is + bet >= 0, D = D_Q / Q */
			double th;
			if (gam == 0)
				th = bet >= 0 ? (double)-lim : (double)lim;
			else {
				double tD = mu - bet / (gam * is);
				th = gam > 0 ? ceil(Q * tD) : ceil(-Q * tD);
			}
			th = th < -lim ? -lim : (th > lim ? lim : th);
			L->thresh[j] = (int32_t)th;
		}
	}
	return m;
}

int bcnn_train(const struct bcnn_params *p, uint64_t seed,
	       const struct wl_dataset *train, const struct wl_dataset *test,
	       bnn_epoch_fn cb, void *arg, struct bcnn_result *out,
	       struct nd_err *err)
{
	if (p->na_on) {
		memset(out, 0, sizeof *out);
		return nd_errf(err, -EINVAL,
			       "bcnn.noise_aware.enable: noise-aware training needs the crossbar's noise model; it runs under `ndpsim xbar cnn`");
	}
	return bcnn_train_noisy(p, seed, train, test, cb, arg, NULL, out, err);
}

int bcnn_train_noisy(const struct bcnn_params *p, uint64_t seed,
		     const struct wl_dataset *train, const struct wl_dataset *test,
		     bnn_epoch_fn cb, void *arg, const struct bnn_noise_hook *hook,
		     struct bcnn_result *out, struct nd_err *err)
{
	memset(out, 0, sizeof *out);
	clock_t c0 = clock();
	struct trainer tr;
	memset(&tr, 0, sizeof tr);
	int rc = bcnn_shape(p, &tr.s, err);
	if (rc)
		return rc;
	tr.hook = hook;
	tr.p = p;
	tr.mode = p->mode;
	tr.B = p->batch;
	tr.Q = p->input_steps;
	for (int l = 0; l < tr.s.nl; l++) {
		struct tl *t = &tr.L[l];
		tl_alloc(t, &tr.s, l, tr.B);
		struct rng r;
		rng_seed(&r, seed, ST_INIT + (uint64_t)l);
		double lim = sqrt(6.0 / (t->n + t->Co));   /* Glorot uniform */
		for (size_t k = 0; k < (size_t)t->n * t->Co; k++)
			t->w[k] = (float)((2.0 * rng_uniform(&r) - 1.0) * lim);
		for (int j = 0; j < t->Co; j++)
			t->gam[j] = 1.0f;
	}
	tr.x0 = xcalloc((size_t)tr.B * 784, sizeof(float));
	effective_weights(&tr);
	long nall = (long)train->n, n = p->train_n && p->train_n < nall ? p->train_n : nall;
	long *order = xmalloc(sizeof(long) * (size_t)nall);
	for (long i = 0; i < nall; i++)
		order[i] = i;
	struct rng ro;
	rng_seed(&ro, seed, ST_ORDER);
	shuffle(order, nall, &ro);
	double lr = p->lr;
	for (int ep = 1; ep <= p->epochs; ep++) {
		struct rng re;
		rng_seed(&re, seed, ST_EPOCH + (uint64_t)ep);
		shuffle(order, n, &re);
		double loss = 0;
		for (long i0 = 0; i0 < n; i0 += tr.B) {
			int nb = n - i0 < tr.B ? (int)(n - i0) : tr.B;
			input_batch(&tr, train->pixels, order + i0, nb);
			forward(&tr, nb, 1);
			loss += loss_grad(&tr, train->labels, order + i0, nb, NULL);
			backward(&tr, nb);
			update(&tr, lr);
		}
		lr *= p->lr_decay;
		if (cb)
			cb(arg, ep, loss / (double)n, -1);
	}
	/* batch-norm statistics re-estimated over calib_n training images,
	 * in order, as the mean of batch means and variances */
	long nc = p->calib_n < nall ? p->calib_n : nall, nbt = 0;
	for (int l = 0; l < tr.s.nl; l++) {
		memset(tr.L[l].smu, 0, sizeof(double) * (size_t)tr.L[l].Co);
		memset(tr.L[l].svar, 0, sizeof(double) * (size_t)tr.L[l].Co);
	}
	for (long i0 = 0; i0 + tr.B <= nc || (i0 == 0 && nc > 0); i0 += tr.B) {
		int nb = nc - i0 < tr.B ? (int)(nc - i0) : tr.B;
		input_batch(&tr, train->pixels, order + i0, nb);
		forward(&tr, nb, 2);
		nbt++;
	}
	for (int l = 0; l < tr.s.nl; l++)
		for (int j = 0; j < tr.L[l].Co; j++) {
			tr.L[l].mu[j] = tr.L[l].smu[j] / (double)nbt;
			tr.L[l].istd[j] = 1.0 / sqrt(tr.L[l].svar[j] / (double)nbt + BN_EPS);
		}
	out->test_acc = -1;
	if (tr.mode == BCNN_BNN) {
		out->model = fold(&tr);
		if (test)
			out->test_acc = (double)bcnn_predict(out->model, test->pixels, (long)test->n,
							     test->labels, NULL) / (double)test->n;
	} else if (test) {
		long correct = 0, *idx = xmalloc(sizeof(long) * (size_t)tr.B);
		for (long i0 = 0; i0 < (long)test->n; i0 += tr.B) {
			int nb = (long)test->n - i0 < tr.B ? (int)((long)test->n - i0) : tr.B;
			for (int b = 0; b < nb; b++)
				idx[b] = i0 + b;
			input_batch(&tr, test->pixels, idx, nb);
			forward(&tr, nb, 0);
			loss_grad(&tr, test->labels, idx, nb, &correct);
		}
		free(idx);
		out->test_acc = (double)correct / (double)test->n;
	}
	out->train_s = (double)(clock() - c0) / CLOCKS_PER_SEC;
	free(order);
	free(tr.x0);
	for (int l = 0; l < tr.s.nl; l++)
		tl_free(&tr.L[l]);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Folded model: random instance, periphery, digital inference         */

struct bcnn_model *bcnn_random(const struct bcnn_params *p, uint64_t seed, struct nd_err *err)
{
	struct trainer tr;
	memset(&tr, 0, sizeof tr);
	if (bcnn_shape(p, &tr.s, err))
		return NULL;
	tr.Q = p->input_steps;
	tr.mode = BCNN_BNN;
	for (int l = 0; l < tr.s.nl; l++) {
		struct tl *t = &tr.L[l];
		tl_alloc(t, &tr.s, l, 1);
		struct rng r;
		rng_seed(&r, seed, ST_INIT + (uint64_t)l);
		for (size_t k = 0; k < (size_t)t->n * t->Co; k++)
			t->w[k] = (float)(2.0 * rng_uniform(&r) - 1.0);
		/* threshold near the middle of D's range: mu = small offset,
		 * BN scale +/-1 so that some channels flip */
		for (int j = 0; j < t->Co; j++) {
			t->gam[j] = rng_uniform(&r) < 0.5 ? -1.0f : 1.0f;
			t->bet[j] = 0.0f;
			t->mu[j] = (rng_uniform(&r) - 0.5) * sqrt((double)t->n);
			t->istd[j] = 1.0 / sqrt((double)t->n);
		}
	}
	struct bcnn_model *m = fold(&tr);
	for (int l = 0; l < tr.s.nl; l++)
		tl_free(&tr.L[l]);
	return m;
}

void bcnn_unroll(const struct bcnn_shape *s, int l, const uint8_t *in, int pos, uint8_t *vec)
{
	int oy = pos / s->ow[l], ox = pos % s->ow[l], K = s->k[l], C = s->c[l], KC = K * C;
	for (int ky = 0; ky < K; ky++)
		memcpy(vec + ky * KC, in + ((size_t)(oy + ky) * s->w[l] + ox) * C, (size_t)KC);
}

void bcnn_post_layer(const struct bcnn_model *m, int l, const double *dq, uint8_t *out)
{
	const struct bcnn_shape *s = &m->s;
	int Co = s->cout[l], pl = s->pool[l] ? 2 : 1;
	for (int py = 0; py < s->ph[l]; py++)
		for (int px = 0; px < s->pw[l]; px++)
			for (int j = 0; j < Co; j++) {
				int bit = 0;
				for (int dy = 0; dy < pl; dy++)
					for (int dx = 0; dx < pl; dx++) {
						int pos = (pl * py + dy) * s->ow[l] + pl * px + dx;
						bit |= bnn_act_level(m->net, l, j, dq[(size_t)pos * Co + j]);
					}
				out[((size_t)py * s->pw[l] + px) * Co + j] = (uint8_t)bit;
			}
}

int bcnn_classify(const struct bcnn_model *m, const double *dq)
{
	int l = m->net->nl - 1, best = 0;
	double bs = -(double)INFINITY;
	for (int j = 0; j < m->net->layer[l].n_out; j++) {
		double v = bnn_score(m->net, l, j, dq[j]);
		if (v > bs) {
			bs = v;
			best = j;
		}
	}
	return best;
}

/* D_Q of every output channel of layer l for one unrolled vector. */
BC_CLONES_POP
static void layer_dq(const struct bnn_model *net, int l, const uint8_t *vec,
		     uint64_t *bits, double *dq)
{
	const struct bnn_layer *L = &net->layer[l];
	int n = L->n_in, Q = net->qin[l];
	if (Q == 1) {
		memset(bits, 0, sizeof(uint64_t) * (size_t)L->words);
		for (int i = 0; i < n; i++)
			bits[i >> 6] |= (uint64_t)(vec[i] & 1u) << (i & 63);
		for (int j = 0; j < L->n_out; j++) {
			const uint64_t *wr = L->wbits + (size_t)j * L->words;
			int c = 0;
			for (int k = 0; k < L->words; k++) {
				uint64_t x = ~(wr[k] ^ bits[k]);
				if (k == L->words - 1 && (n & 63))
					x &= ~0ull >> (64 - (n & 63));
				c += __builtin_popcountll(x);
			}
			dq[j] = 2.0 * c - n;
		}
		return;
	}
	for (int j = 0; j < L->n_out; j++) {
		long d = 0;
		for (int i = 0; i < n; i++)
			d += (long)bnn_w(L, j, i) * (2 * (long)vec[i] - Q);
		dq[j] = (double)d;
	}
}

long bcnn_predict(const struct bcnn_model *m, const uint8_t *pixels, long n,
		  const uint8_t *labels, uint8_t *preds)
{
	const struct bcnn_shape *s = &m->s;
	const struct bnn_model *net = m->net;
	size_t mapmax = 784, dqmax = 0, vmax = 0;
	for (int l = 0; l < s->nl; l++) {
		size_t mp = (size_t)s->ph[l] * s->pw[l] * s->cout[l];
		mapmax = mp > mapmax ? mp : mapmax;
		size_t d = (size_t)s->positions[l] * s->cout[l];
		dqmax = d > dqmax ? d : dqmax;
		vmax = (size_t)s->n_in[l] > vmax ? (size_t)s->n_in[l] : vmax;
	}
	long correct = 0;
#ifdef _OPENMP
#pragma omp parallel reduction(+:correct)
#endif
	{
		uint8_t *ma = xmalloc(mapmax), *mb = xmalloc(mapmax), *vec = xmalloc(vmax);
		uint64_t *bits = xmalloc(sizeof(uint64_t) * (vmax / 64 + 1));
		double *dq = xmalloc(sizeof(double) * dqmax);
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
		for (long i = 0; i < n; i++) {
			bnn_input_levels(net, pixels + (size_t)i * 784, ma);
			int cls = 0;
			for (int l = 0; l < s->nl; l++) {
				for (int pos = 0; pos < s->positions[l]; pos++) {
					bcnn_unroll(s, l, ma, pos, vec);
					layer_dq(net, l, vec, bits, dq + (size_t)pos * s->cout[l]);
				}
				if (l == s->nl - 1) {
					cls = bcnn_classify(m, dq);
				} else {
					bcnn_post_layer(m, l, dq, mb);
					uint8_t *t = ma;
					ma = mb;
					mb = t;
				}
			}
			if (preds)
				preds[i] = (uint8_t)cls;
			if (labels && labels[i] == cls)
				correct++;
		}
		free(ma);
		free(mb);
		free(vec);
		free(bits);
		free(dq);
	}
	return correct;
}

/* ------------------------------------------------------------------ */
/* Save / load                                                         */

static const char BCNN_MAGIC[8] = "NDBCNN1";

enum { H_KERNEL, H_FC, H_STEPS, H_NCONV, H_CONV, H_THR = H_CONV + BCNN_MAX_CONV, H_NL, H_N };


void bcnn_model_conv(const struct bcnn_model *m, char *buf, size_t n)
{
	size_t k = 0;
	buf[0] = '\0';
	for (int l = 0; l < m->s.nconv && k < n; l++)
		k += (size_t)snprintf(buf + k, n - k, "%s%d", l ? "," : "", m->s.cout[l]);
}

int bcnn_model_save(const struct bcnn_model *m, const char *path, struct nd_err *err)
{
	char tmp[4096];
	int rc = 0;
	FILE *f = rep_stream_open(path, tmp, sizeof tmp, &rc, err);
	if (!f)
		return rc;
	const struct bcnn_shape *s = &m->s;
	const struct bnn_model *net = m->net;
	int32_t hdr[H_N];
	memset(hdr, 0, sizeof hdr);
	hdr[H_KERNEL] = s->k[0];
	hdr[H_FC] = s->cout[s->nconv];
	hdr[H_STEPS] = net->qin[0];
	hdr[H_NCONV] = s->nconv;
	for (int l = 0; l < s->nconv; l++)
		hdr[H_CONV + l] = s->cout[l];
	hdr[H_THR] = net->input_thr;
	hdr[H_NL] = net->nl;
	uLong crc = crc32(0L, Z_NULL, 0);
	int ok = bnn_fwrite_crc(BCNN_MAGIC, 1, 8, f, &crc) && bnn_fwrite_crc(hdr, sizeof hdr, 1, f, &crc);
	for (int l = 0; ok && l < net->nl; l++) {
		const struct bnn_layer *L = &net->layer[l];
		size_t nw = (size_t)L->n_out * (size_t)L->words, no = (size_t)L->n_out;
		ok = bnn_fwrite_crc(L->wbits, sizeof(uint64_t), nw, f, &crc);
		if (ok && L->kind == BNN_OUT_SCORE)
			ok = bnn_fwrite_crc(L->g, sizeof(double), no, f, &crc) && bnn_fwrite_crc(L->h, sizeof(double), no, f, &crc);
		else if (ok)
			ok = bnn_fwrite_crc(L->thresh, sizeof(int32_t), no, f, &crc);
	}
	uint32_t c32 = (uint32_t)crc;
	ok = ok && fwrite(&c32, sizeof c32, 1, f) == 1;
	return rep_stream_commit(f, ok, tmp, path, err);
}

int bcnn_model_load(const char *path, struct bcnn_model **out, struct nd_err *err)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return nd_errf(err, -errno, "%s: cannot open CNN model: %s", path, strerror(errno));
	char magic[8];
	int32_t hdr[H_N];
	struct bcnn_model *m = NULL;
	struct trainer tr;
	memset(&tr, 0, sizeof tr);
	uLong crc = crc32(0L, Z_NULL, 0);
	int rc = -EINVAL;
	if (!bnn_fread_crc(magic, 1, 8, f, &crc) || memcmp(magic, BCNN_MAGIC, 8) || !bnn_fread_crc(hdr, sizeof hdr, 1, f, &crc)) {
		nd_errf(err, -EINVAL, "%s: not an ndpsim CNN model (bad magic or header; "
			"'ndpsim xbar cnn' writes model.bcnn)", path);
		goto out;
	}
	/* the shape from the header, checked as the bcnn.* keys are */
	struct bcnn_params p;
	memset(&p, 0, sizeof p);
	if (hdr[H_KERNEL] < 1 || hdr[H_KERNEL] > 7 || hdr[H_FC] < 1 || hdr[H_FC] > 4096 ||
	    hdr[H_STEPS] < 1 || hdr[H_STEPS] > 255 || (hdr[H_NCONV] != 2 && hdr[H_NCONV] != 4) ||
	    hdr[H_THR] < 0 || hdr[H_THR] > 256) {
		nd_errf(err, -EINVAL, "%s: corrupt header (kernel %d, fc %d, input steps %d, %d convs)", path,
			hdr[H_KERNEL], hdr[H_FC], hdr[H_STEPS], hdr[H_NCONV]);
		goto out;
	}
	p.kernel = hdr[H_KERNEL];
	p.fc = hdr[H_FC];
	p.input_steps = hdr[H_STEPS];
	size_t k = 0;
	for (int l = 0; l < hdr[H_NCONV]; l++) {
		if (hdr[H_CONV + l] < 1 || hdr[H_CONV + l] > 4096) {
			nd_errf(err, -EINVAL, "%s: corrupt header (conv %d has %d channels)", path, l + 1,
				hdr[H_CONV + l]);
			goto out;
		}
		k += (size_t)snprintf(p.conv + k, sizeof p.conv - k, "%s%d", l ? "," : "", hdr[H_CONV + l]);
	}
	struct nd_err e2;
	memset(&e2, 0, sizeof e2);
	if (bcnn_shape(&p, &tr.s, &e2) || tr.s.nl != hdr[H_NL]) {
		nd_errf(err, -EINVAL, "%s: corrupt header (shape: %s)", path,
			e2.msg[0] ? e2.msg : "layer count");
		goto out;
	}
	/* an all-zero network of that shape, folded as a trained one is */
	tr.Q = p.input_steps;
	tr.mode = BCNN_BNN;
	for (int l = 0; l < tr.s.nl; l++)
		tl_alloc(&tr.L[l], &tr.s, l, 1);
	m = fold(&tr);
	m->net->input_thr = hdr[H_THR];
	for (int l = 0; l < m->net->nl; l++) {
		struct bnn_layer *L = &m->net->layer[l];
		size_t nw = (size_t)L->n_out * (size_t)L->words, no = (size_t)L->n_out;
		int ok = bnn_fread_crc(L->wbits, sizeof(uint64_t), nw, f, &crc);
		if (ok && L->kind == BNN_OUT_SCORE)
			ok = bnn_fread_crc(L->g, sizeof(double), no, f, &crc) && bnn_fread_crc(L->h, sizeof(double), no, f, &crc);
		else if (ok)
			ok = bnn_fread_crc(L->thresh, sizeof(int32_t), no, f, &crc);
		if (!ok) {
			nd_errf(err, -EINVAL, "%s: layer %d truncated", path, l + 1);
			goto out;
		}
	}
	uint32_t stored;
	if (fread(&stored, sizeof stored, 1, f) != 1) {
		nd_errf(err, -EINVAL, "%s: truncated (no checksum)", path);
		goto out;
	}
	if (stored != (uint32_t)crc) {
		nd_errf(err, -EINVAL, "%s: checksum mismatch (crc32 %08x, the file says %08x): "
			"the model was cut or changed", path, (unsigned)crc, (unsigned)stored);
		goto out;
	}
	if (fgetc(f) != EOF) {
		nd_errf(err, -EINVAL, "%s: trailing bytes after the model", path);
		goto out;
	}
	/* range: thresholds within what D_Q can reach (fold clamps to
	 * +-(n_in Q + 1)); finite score scale and shift; weight bits beyond
	 * n_in zero */
	for (int l = 0; l < m->net->nl; l++) {
		const struct bnn_layer *L = &m->net->layer[l];
		long lim = (long)L->n_in * m->net->qin[l] + 1;
		for (int o = 0; o < L->n_out; o++) {
			if (L->kind == BNN_OUT_SCORE ? !isfinite(L->g[o]) || !isfinite(L->h[o])
						     : L->thresh[o] < -lim || L->thresh[o] > lim) {
				if (L->kind == BNN_OUT_SCORE)
					nd_errf(err, -EINVAL, "%s: layer %d channel %d: non-finite score "
						"(g %g, h %g)", path, l + 1, o, L->g[o], L->h[o]);
				else
					nd_errf(err, -EINVAL, "%s: layer %d channel %d: threshold %d outside "
						"+-%ld", path, l + 1, o, (int)L->thresh[o], lim);
				goto out;
			}
			if (L->n_in & 63) {
				uint64_t hi = L->wbits[(size_t)o * L->words + (size_t)L->words - 1] >> (L->n_in & 63);
				if (hi) {
					nd_errf(err, -EINVAL, "%s: layer %d channel %d: weight bits beyond "
						"the %d inputs", path, l + 1, o, L->n_in);
					goto out;
				}
			}
		}
	}
	*out = m;
	m = NULL;
	rc = 0;
out:
	for (int l = 0; l < tr.s.nl && l < BNN_MAX_LAYERS; l++)
		tl_free(&tr.L[l]);
	bcnn_model_free(m);
	fclose(f);
	return rc;
}
