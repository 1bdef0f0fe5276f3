/*
 * bnn.c — binarized MLP training (STE + Adam) and exact bit-packed inference.
 *
 * Determinism: every parallel loop owns its outputs (a row of Z, a row of
 * dW, a feature of batch norm) and sums over the reduction dimension in
 * index order, so results are identical for any OpenMP thread count.
 */
#include "workloads/bnn.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <unistd.h>

#include "core/rng.h"
#include "core/report.h"
#include "core/util.h"

#ifdef _OPENMP
#define ND_PRAGMA(x) _Pragma(#x)
#define BNN_SIMD ND_PRAGMA(omp simd)
#define BNN_PAR ND_PRAGMA(omp parallel for schedule(static))
#else
#define BNN_SIMD
#define BNN_PAR
#endif

/* Hardware popcount / AVX2 where the CPU has it, chosen at load time
 * (GCC function multi-versioning); the results are identical. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define BNN_CLONES_POP __attribute__((target_clones("popcnt", "default")))
#define BNN_CLONES_VEC __attribute__((target_clones("avx2", "default")))
#else
#define BNN_CLONES_POP
#define BNN_CLONES_VEC
#endif

/* Hot arithmetic kernels over arrays whose bounds the callers establish run
 * uninstrumented in sanitizer builds (they dominate test time there). */
#if defined(__GNUC__) && !defined(__clang__)
#define ND_HOT __attribute__((no_sanitize("address", "undefined")))
#else
#define ND_HOT
#endif

#define BNN_IN 784
#define BNN_CLASSES 10
#define BN_EPS 1e-4f
#define ADAM_B1 0.9f
#define ADAM_B2 0.999f
#define ADAM_EPS 1e-8f

/* ------------------------------------------------------------------ */
/* Config section "bnn"                                                */

static const char *const act_names[] = { "binary", "multi", NULL };

#define CFG_T struct bnn_params
static const struct cfg_key bnn_keys[] = {
	CFG_KEY_ENUM("act", act, 0, act_names,
	  "activations: binary = (a) +1/-1 BNN (Courbariaux et al. 2016); multi = (b) binary weights, Q+1-level activations (GBO setting, Kim et al. DATE'22)"),
	CFG_KEY_INT("act_steps", act_steps, "levels-1", 16, 1, 255,
	  "Q for act=multi: activations on {0,1/Q,..,1}; 16 so that 16 unary pulses carry a level exactly (GBO candidates 1..16)"),
	CFG_KEY_STR("hidden", hidden, "neurons", "512,512",
	  "hidden layer widths, comma-separated (784-512-512-10 as in the issue's benchmark)"),
	CFG_KEY_INT("epochs", epochs, "epochs", 10, 1, 1000,
	  "training epochs over train_n images"),
	CFG_KEY_INT("batch", batch, "images", 100, 1, 4096,
	  "minibatch size (100 as in Courbariaux et al. 2016)"),
	CFG_KEY_DBL("lr", lr, "-", 0.005, 1e-6, 1.0,
	  "Adam learning rate of latent weights and BN parameters (BNN practice 1e-3..1e-2)"),
	CFG_KEY_DBL("lr_decay", lr_decay, "x/epoch", 0.8, 0.01, 1.0,
	  "learning-rate factor applied after each epoch"),
	CFG_KEY_INT("train_n", train_n, "images", 0, 0, 60000,
	  "training images used (first n of the shuffled-once order; 0 = all 60,000)"),
	CFG_KEY_INT("calib_n", calib_n, "images", 10000, 100, 60000,
	  "training images used to re-estimate batch-norm statistics before folding"),
	CFG_KEY_DBL("input_threshold", input_threshold, "-", 0.5, 0.0, 1.0,
	  "act=binary, input_steps=1: pixel/255 >= threshold gives input +1 (else -1)"),
	CFG_KEY_INT("input_steps", input_steps, "levels-1", 4, 1, 255,
	  "act=binary: first-layer input levels - 1 (1 = binarised pixels as in XNOR-RRAM's MLP; more = higher-precision input fed as pulses)"),
	CFG_KEY_BOOL("noise_aware.enable", na_on, 0,
	  "noise-aware training: sample crossbar device variation and read noise in the training forward pass (Joshi et al., Nat. Commun. 11:2473, 2020; Long et al., DATE'19); only under `ndpsim xbar`, whose xbar.tile.* / xbar.device.* give the mapping"),
	CFG_KEY_DBL("noise_aware.d2d_sigma", na_d2d_sigma, "relative", 0.1, 0.0, 2.0,
	  "relative sigma of per-cell conductance variation assumed in training, redrawn every step (default = xbar.noise.d2d.sigma's 0.1)"),
	CFG_KEY_DBL("noise_aware.read_sigma", na_read_sigma, "relative", 0.05, 0.0, 10.0,
	  "relative sigma of a driven cell's read current per pulse assumed in training (default = xbar.noise.read.sigma's 0.05)"),
	CFG_KEY_INT("noise_aware.pulses", na_pulses, "pulses", 1, 1, 64,
	  "unary pulses per layer the read noise averages over (variance / T), the T of the deployed encoding"),
	CFG_END
};

static int bnn_check(const void *params, struct nd_err *err)
{
	const struct bnn_params *p = params;
	int dims[BNN_MAX_LAYERS + 1];
	int rc = bnn_parse_dims(p->hidden, dims, err);
	return rc < 0 ? rc : 0;
}

const struct cfg_section bnn_section = {
	"bnn", bnn_keys, sizeof(struct bnn_params), bnn_check
};

int bnn_parse_dims(const char *hidden, int dims[BNN_MAX_LAYERS + 1],
		   struct nd_err *err)
{
	int n = 0;
	const char *s = hidden;
	dims[n++] = BNN_IN;
	while (*s) {
		char *end;
		long v = strtol(s, &end, 10);
		if (end == s || v < 1 || v > BNN_MAX_WIDTH)
			return nd_errf(err, -EINVAL,
				       "bnn.hidden: \"%s\": widths must be integers in 1..%d separated by commas",
				       hidden, BNN_MAX_WIDTH);
		if (n >= BNN_MAX_LAYERS)
			return nd_errf(err, -EINVAL, "bnn.hidden: \"%s\": at most %d hidden layers",
				       hidden, BNN_MAX_LAYERS - 1);
		dims[n++] = (int)v;
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			return nd_errf(err, -EINVAL, "bnn.hidden: \"%s\": unexpected '%c'", hidden, *s);
	}
	dims[n] = BNN_CLASSES;
	return n;  /* number of weight layers */
}

/* ------------------------------------------------------------------ */
/* Folded model: levels, activations, inference                        */

void bnn_model_free(struct bnn_model *m)
{
	if (!m)
		return;
	for (int l = 0; l < m->nl; l++) {
		free(m->layer[l].wbits);
		free(m->layer[l].thresh);
		free(m->layer[l].g);
		free(m->layer[l].h);
	}
	free(m);
}

static void layer_alloc(struct bnn_layer *L, int n_in, int n_out, int kind)
{
	L->n_in = n_in;
	L->n_out = n_out;
	L->words = (n_in + 63) / 64;
	L->kind = kind;
	L->wbits = xcalloc((size_t)n_out * (size_t)L->words, sizeof(uint64_t));
	L->thresh = xcalloc((size_t)n_out, sizeof(int32_t));
	L->g = xcalloc((size_t)n_out, sizeof(double));
	L->h = xcalloc((size_t)n_out, sizeof(double));
}

static inline unsigned pixel_level(unsigned p, unsigned q)
{
	return (p * q * 2u + 255u) / 510u;  /* round(p * q / 255) */
}

void bnn_input_levels(const struct bnn_model *m, const uint8_t *pix, uint8_t *lev)
{
	if (m->qin[0] == 1) {
		for (int i = 0; i < BNN_IN; i++)
			lev[i] = pix[i] >= m->input_thr;
	} else {
		for (int i = 0; i < BNN_IN; i++)
			lev[i] = (uint8_t)pixel_level(pix[i], (unsigned)m->qin[0]);
	}
}

int bnn_act_level(const struct bnn_model *m, int l, int j, double dq)
{
	const struct bnn_layer *L = &m->layer[l];
	if (L->kind == BNN_OUT_BINARY)
		return dq >= (double)L->thresh[j];
	double y = L->g[j] * (dq / m->qin[l]) + L->h[j];
	double v = floor(m->q * y + 0.5);
	if (v < 0)
		return 0;
	if (v > m->q)
		return m->q;
	return (int)v;
}

double bnn_score(const struct bnn_model *m, int l, int j, double dq)
{
	const struct bnn_layer *L = &m->layer[l];
	return L->g[j] * (dq / m->qin[l]) + L->h[j];
}

static int bits_for(int q)
{
	int b = 0;
	while ((1 << b) <= q)
		b++;
	return b;
}

/* D_Q of every neuron of L for input levels lev (bit planes). */
BNN_CLONES_POP
ND_HOT
static void layer_dq(int q, const struct bnn_layer *L, const uint8_t *lev,
		     uint64_t *planes, int64_t *dq)
{
	int nb = bits_for(q), W = L->words;
	memset(planes, 0, sizeof(uint64_t) * (size_t)(nb * W));
	for (int i = 0; i < L->n_in; i++)
		for (int b = 0; b < nb; b++)
			planes[b * W + (i >> 6)] |= (uint64_t)((lev[i] >> b) & 1u) << (i & 63);
	int pc_plane[16];
	for (int b = 0; b < nb; b++) {
		int c = 0;
		for (int w = 0; w < W; w++)
			c += __builtin_popcountll(planes[b * W + w]);
		pc_plane[b] = c;
	}
	for (int j = 0; j < L->n_out; j++) {
		const uint64_t *wr = L->wbits + (size_t)j * (size_t)W;
		int64_t acc = 0;   /* sum_i w_i lev_i */
		for (int b = 0; b < nb; b++) {
			const uint64_t *p = planes + b * W;
			int c = 0;
			for (int w = 0; w < W; w++)
				c += __builtin_popcountll(wr[w] & p[w]);
			acc += (int64_t)(2 * c - pc_plane[b]) * ((int64_t)1 << b);
		}
		int pw = 0;
		for (int w = 0; w < W; w++)
			pw += __builtin_popcountll(wr[w]);
		int64_t sw = 2 * pw - L->n_in;
		dq[j] = 2 * acc - (int64_t)q * sw;
	}
}

static int max_width(const struct bnn_model *m)
{
	int w = 0;
	for (int l = 0; l <= m->nl; l++)
		if (m->dim[l] > w)
			w = m->dim[l];
	return w;
}

static int predict_one(const struct bnn_model *m, const uint8_t *pix,
		       uint8_t *la, uint8_t *lb, uint64_t *planes, int64_t *dq)
{
	bnn_input_levels(m, pix, la);
	int best = 0;
	for (int l = 0; l < m->nl; l++) {
		const struct bnn_layer *L = &m->layer[l];
		layer_dq(m->qin[l], L, la, planes, dq);
		if (L->kind == BNN_OUT_SCORE) {
			double bs = -(double)INFINITY;
			for (int j = 0; j < L->n_out; j++) {
				double s = bnn_score(m, l, j, (double)dq[j]);
				if (s > bs) {
					bs = s;
					best = j;
				}
			}
		} else {
			for (int j = 0; j < L->n_out; j++)
				lb[j] = (uint8_t)bnn_act_level(m, l, j, (double)dq[j]);
			uint8_t *t = la;
			la = lb;
			lb = t;
		}
	}
	return best;
}

long bnn_predict(const struct bnn_model *m, const uint8_t *pixels, long n,
		 const uint8_t *labels, uint8_t *preds)
{
	long correct = 0;
	int mw = max_width(m);
	int nb = 0;
	for (int l = 0; l < m->nl; l++)
		if (bits_for(m->qin[l]) > nb)
			nb = bits_for(m->qin[l]);
#ifdef _OPENMP
#pragma omp parallel reduction(+:correct)
#endif
	{
		uint8_t *la = xmalloc((size_t)mw), *lb = xmalloc((size_t)mw);
		uint64_t *planes = xmalloc(sizeof(uint64_t) * (size_t)nb * (size_t)(mw / 64 + 1));
		int64_t *dq = xmalloc(sizeof(int64_t) * (size_t)mw);
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
		for (long i = 0; i < n; i++) {
			int p = predict_one(m, pixels + (size_t)i * BNN_IN, la, lb, planes, dq);
			if (preds)
				preds[i] = (uint8_t)p;
			if (labels && labels[i] == p)
				correct++;
		}
		free(la);
		free(lb);
		free(planes);
		free(dq);
	}
	return correct;
}

/* ------------------------------------------------------------------ */
/* Save / load                                                         */

/* NDBNN3 = NDBNN2 + a trailing crc32 (zlib) of every byte before it; a
 * model file that was cut, flipped or edited is refused, naming the file. */
static const char MODEL_MAGIC[8] = "NDBNN3\n";
static const char MODEL_MAGIC_V2[8] = "NDBNN2\n";

int bnn_fwrite_crc(const void *p, size_t size, size_t n, FILE *f, unsigned long *crc)
{
	*crc = crc32(*crc, p, (uInt)(size * n));
	return fwrite(p, size, n, f) == n;
}

int bnn_fread_crc(void *p, size_t size, size_t n, FILE *f, unsigned long *crc)
{
	if (fread(p, size, n, f) != n)
		return 0;
	*crc = crc32(*crc, p, (uInt)(size * n));
	return 1;
}

int bnn_model_save(const struct bnn_model *m, const char *path,
		   struct nd_err *err)
{
	char tmp[4096];
	int rc = 0;
	FILE *f = rep_stream_open(path, tmp, sizeof tmp, &rc, err);
	if (!f)
		return rc;
	int32_t hdr[4 + 2 * BNN_MAX_LAYERS + 1] = { m->act, m->q, m->input_thr, m->nl };
	for (int l = 0; l <= m->nl; l++)
		hdr[4 + l] = m->dim[l];
	for (int l = 0; l < m->nl; l++)
		hdr[5 + BNN_MAX_LAYERS + l] = m->qin[l];
	uLong crc = crc32(0L, Z_NULL, 0);
	int ok = bnn_fwrite_crc(MODEL_MAGIC, 1, 8, f, &crc) && bnn_fwrite_crc(hdr, sizeof hdr, 1, f, &crc);
	for (int l = 0; ok && l < m->nl; l++) {
		const struct bnn_layer *L = &m->layer[l];
		size_t nw = (size_t)L->n_out * (size_t)L->words, no = (size_t)L->n_out;
		int32_t kind = L->kind;
		ok = bnn_fwrite_crc(&kind, sizeof kind, 1, f, &crc) &&
		     bnn_fwrite_crc(L->wbits, sizeof(uint64_t), nw, f, &crc) &&
		     bnn_fwrite_crc(L->thresh, sizeof(int32_t), no, f, &crc) &&
		     bnn_fwrite_crc(L->g, sizeof(double), no, f, &crc) &&
		     bnn_fwrite_crc(L->h, sizeof(double), no, f, &crc);
	}
	uint32_t c32 = (uint32_t)crc;
	ok = ok && fwrite(&c32, sizeof c32, 1, f) == 1;
	return rep_stream_commit(f, ok, tmp, path, err);
}

int bnn_model_load(const char *path, struct bnn_model **out, struct nd_err *err)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return nd_errf(err, -errno, "%s: cannot open model: %s", path, strerror(errno));
	char magic[8];
	int32_t hdr[4 + 2 * BNN_MAX_LAYERS + 1];
	struct bnn_model *m = NULL;
	int rc = -EINVAL;
	uLong crc = crc32(0L, Z_NULL, 0);
	if (bnn_fread_crc(magic, 1, 8, f, &crc) && !memcmp(magic, MODEL_MAGIC_V2, 8)) {
		nd_errf(err, -EINVAL, "%s: a model of an older ndpsim (no checksum); "
			"write it again with 'ndpsim xbar train'", path);
		goto out;
	}
	if (memcmp(magic, MODEL_MAGIC, 8) || !bnn_fread_crc(hdr, sizeof hdr, 1, f, &crc)) {
		nd_errf(err, -EINVAL, "%s: not an ndpsim BNN model (bad magic or header)", path);
		goto out;
	}
	if (hdr[0] < 0 || hdr[0] > 1 || hdr[1] < 1 || hdr[1] > 255 || hdr[3] < 1 ||
	    hdr[3] > BNN_MAX_LAYERS || hdr[2] < 0 || hdr[2] > 256 ||
	    (hdr[0] == BNN_ACT_BINARY && hdr[1] != 1)) {
		nd_errf(err, -EINVAL, "%s: corrupt model header", path);
		goto out;
	}
	m = xcalloc(1, sizeof *m);
	m->act = hdr[0];
	m->q = hdr[1];
	m->input_thr = hdr[2];
	m->nl = hdr[3];
	for (int l = 0; l <= m->nl; l++) {
		m->dim[l] = hdr[4 + l];
		if (m->dim[l] < 1 || m->dim[l] > BNN_MAX_WIDTH ||
		    (l == 0 && m->dim[l] != BNN_IN) || (l == m->nl && m->dim[l] != BNN_CLASSES)) {
			nd_errf(err, -EINVAL, "%s: corrupt layer widths", path);
			m->nl = 0;
			goto out;
		}
	}
	for (int l = 0; l < m->nl; l++) {
		m->qin[l] = hdr[5 + BNN_MAX_LAYERS + l];
		if (m->qin[l] < 1 || m->qin[l] > 255) {
			nd_errf(err, -EINVAL, "%s: corrupt input steps", path);
			m->nl = 0;
			goto out;
		}
	}
	int nl = m->nl;
	m->nl = 0;
	for (int l = 0; l < nl; l++) {
		int32_t kind;
		if (!bnn_fread_crc(&kind, sizeof kind, 1, f, &crc) || kind < 0 || kind > 2 ||
		    (kind == BNN_OUT_SCORE) != (l == nl - 1)) {
			nd_errf(err, -EINVAL, "%s: layer %d: bad kind or truncated", path, l);
			goto out;
		}
		struct bnn_layer *L = &m->layer[l];
		layer_alloc(L, m->dim[l], m->dim[l + 1], kind);
		m->nl = l + 1;
		size_t nw = (size_t)L->n_out * (size_t)L->words, no = (size_t)L->n_out;
		if (!bnn_fread_crc(L->wbits, sizeof(uint64_t), nw, f, &crc) ||
		    !bnn_fread_crc(L->thresh, sizeof(int32_t), no, f, &crc) ||
		    !bnn_fread_crc(L->g, sizeof(double), no, f, &crc) ||
		    !bnn_fread_crc(L->h, sizeof(double), no, f, &crc)) {
			nd_errf(err, -EINVAL, "%s: layer %d truncated", path, l);
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
	/* range: the folded batch-norm scale and shift must be finite; a
	 * threshold beyond what any input can reach is corrupt */
	for (int l = 0; l < m->nl; l++) {
		const struct bnn_layer *L = &m->layer[l];
		for (int o = 0; o < L->n_out; o++) {
			if (!isfinite(L->g[o]) || !isfinite(L->h[o])) {
				nd_errf(err, -EINVAL, "%s: layer %d output %d: non-finite parameter "
					"(g %g, h %g)", path, l, o, L->g[o], L->h[o]);
				goto out;
			}
		}
	}
	if (fgetc(f) != EOF) {
		nd_errf(err, -EINVAL, "%s: trailing bytes after the model", path);
		goto out;
	}
	*out = m;
	m = NULL;
	rc = 0;
out:
	fclose(f);
	bnn_model_free(m);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Training                                                            */

struct tl {
	int n, m;
	float *w, *wb;                  /* latent m*n; sign(w) m*n */
	uint64_t *wbits;                /* sign(w) >= 0 packed, m * words */
	uint64_t *wbitsT;               /* the same, word-major: words * m */
	int words;
	float *gam, *bet;
	float *mw, *vw, *mg, *vg, *mb, *vb;
	float *dw, *dg, *db;
	float *z, *zh, *y, *a, *dy, *dz, *dx;
	float *mu, *istd;               /* batch statistics */
	double *pmu, *pvar;             /* population statistics (calibrated) */
};

struct trainer {
	int act, q, nl, B;
	int qin0;                       /* first-layer input steps */
	int dim[BNN_MAX_LAYERS + 1];
	struct tl L[BNN_MAX_LAYERS];
	float *x0;                      /* B * 784 */
	float *prob;                    /* B * 10 */
	long step;
	const struct bnn_noise_hook *hook;   /* NULL: no noise */
};

static float *fz(size_t n) { return xcalloc(n ? n : 1, sizeof(float)); }

static void tl_init(struct tl *L, int n, int m, int B, struct rng *r)
{
	size_t nm = (size_t)n * (size_t)m, bm = (size_t)B * (size_t)m;
	L->n = n;
	L->m = m;
	L->w = fz(nm); L->wb = fz(nm);
	L->words = (n + 63) / 64;
	L->wbits = xcalloc((size_t)m * (size_t)L->words, sizeof(uint64_t));
	L->wbitsT = xcalloc((size_t)m * (size_t)L->words, sizeof(uint64_t));
	L->mw = fz(nm); L->vw = fz(nm); L->dw = fz(nm);
	L->gam = fz((size_t)m); L->bet = fz((size_t)m);
	L->mg = fz((size_t)m); L->vg = fz((size_t)m);
	L->mb = fz((size_t)m); L->vb = fz((size_t)m);
	L->dg = fz((size_t)m); L->db = fz((size_t)m);
	L->mu = fz((size_t)m); L->istd = fz((size_t)m);
	L->z = fz(bm); L->zh = fz(bm); L->y = fz(bm); L->a = fz(bm);
	L->dy = fz(bm); L->dz = fz(bm);
	L->dx = fz((size_t)B * (size_t)n);
	L->pmu = xcalloc((size_t)m, sizeof(double));
	L->pvar = xcalloc((size_t)m, sizeof(double));
	/* Glorot-uniform latent weights (Courbariaux et al. 2016 use the same
	 * scale for the learning-rate and clipping heuristics). */
	float lim = sqrtf(6.0f / (float)(n + m));
	for (size_t k = 0; k < nm; k++)
		L->w[k] = (float)(2.0 * rng_uniform(r) - 1.0) * lim;
	for (int j = 0; j < m; j++)
		L->gam[j] = 1.0f;
}

static void tl_free(struct tl *L)
{
	float *f[] = { L->w, L->wb, L->mw, L->vw, L->dw, L->gam, L->bet,
		       L->mg, L->vg, L->mb, L->vb, L->dg, L->db, L->mu, L->istd,
		       L->z, L->zh, L->y, L->a, L->dy, L->dz, L->dx };
	for (size_t k = 0; k < ND_ARRAY_LEN(f); k++)
		free(f[k]);
	free(L->pmu);
	free(L->pvar);
	free(L->wbits);
	free(L->wbitsT);
}

/* sign(W) as floats (for dX) and as packed bits (for the forward pass).
 * The AVX-512 form compares 16 weights at a time into a mask (the same
 * w >= 0 test); both give the same floats and bits. */
static void binarise_row_gen(const float *w, float *wb, uint64_t *bits, int n, int W)
{
	for (int i = 0; i < n; i++)
		wb[i] = w[i] >= 0.0f ? 1.0f : -1.0f;
	for (int k = 0; k < W; k++) {
		uint64_t v = 0;
		int i1 = (k + 1) * 64 < n ? (k + 1) * 64 : n;
		for (int i = k * 64; i < i1; i++)
			v |= (uint64_t)(w[i] >= 0.0f) << (i & 63);
		bits[k] = v;
	}
}

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("avx512f")))
ND_HOT
static void binarise_row_avx512(const float *w, float *wb, uint64_t *bits, int n, int W)
{
	const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
	const __m512 mone = _mm512_set1_ps(-1.0f);
	int i = 0;
	for (; i + 16 <= n; i += 16) {
		__mmask16 k = _mm512_cmp_ps_mask(_mm512_loadu_ps(w + i), zero, _CMP_GE_OQ);
		_mm512_storeu_ps(wb + i, _mm512_mask_blend_ps(k, mone, one));
		if ((i & 63) == 0)
			bits[i >> 6] = 0;
		bits[i >> 6] |= (uint64_t)k << (i & 63);
	}
	if (i < n) {
		if ((i & 63) == 0)
			bits[i >> 6] = 0;
		for (; i < n; i++) {
			wb[i] = w[i] >= 0.0f ? 1.0f : -1.0f;
			bits[i >> 6] |= (uint64_t)(w[i] >= 0.0f) << (i & 63);
		}
	}
	(void)W;
}

static int have_avx512(void)
{
	static int have = -1;   /* racy but idempotent */
	if (have < 0) {
		__builtin_cpu_init();
		have = __builtin_cpu_supports("avx512f") ? 1 : 0;
	}
	return have;
}
#endif

static void binarise(struct tl *L)
{
	int n = L->n, m = L->m, W = L->words;
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
	int v512 = have_avx512();
#endif
	BNN_PAR
	for (int j = 0; j < m; j++) {
		const float *w = L->w + (size_t)j * n;
		float *wb = L->wb + (size_t)j * n;
		uint64_t *bits = L->wbits + (size_t)j * W;
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
		if (v512)
			binarise_row_avx512(w, wb, bits, n, W);
		else
#endif
			binarise_row_gen(w, wb, bits, n, W);
		for (int k = 0; k < W; k++)
			L->wbitsT[(size_t)k * m + j] = bits[k];
	}
}

/* Input encodings of a layer's rows for the bit-packed forward pass:
 * x = (na * lev + nb) / den with integer levels lev in 0..q. */
struct lin_in {
	int q;            /* levels - 1 */
	int na, nb, den;  /* x = (na * lev + nb) / den */
};

/* cnt[j] += popcount(wt[j] & x) for j < m: vectorised where the CPU has a
 * vector popcount (AVX-512 VPOPCNTDQ, chosen once at run time), scalar
 * popcnt otherwise; the integers are the same either way. */
BNN_CLONES_POP
ND_HOT
static void popcnt_and_acc_gen(uint64_t *restrict cnt, const uint64_t *restrict wt,
			       uint64_t x, int m)
{
	for (int j = 0; j < m; j++)
		cnt[j] += (uint64_t)__builtin_popcountll(wt[j] & x);
}

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((target("avx512f,avx512vpopcntdq")))
ND_HOT
static void popcnt_and_acc_vp(uint64_t *restrict cnt, const uint64_t *restrict wt,
			      uint64_t x, int m)
{
	BNN_SIMD
	for (int j = 0; j < m; j++)
		cnt[j] += (uint64_t)__builtin_popcountll(wt[j] & x);
}

static void popcnt_and_acc(uint64_t *restrict cnt, const uint64_t *restrict wt,
			   uint64_t x, int m)
{
	static int have = -1;   /* racy but idempotent */
	if (have < 0) {
		__builtin_cpu_init();
		have = __builtin_cpu_supports("avx512vpopcntdq") ? 1 : 0;
	}
	if (have)
		popcnt_and_acc_vp(cnt, wt, x, m);
	else
		popcnt_and_acc_gen(cnt, wt, x, m);
}
#else
#define popcnt_and_acc popcnt_and_acc_gen
#endif

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
/* The bit planes of the levels of x[0 .. 16 * floor(n / 16)), 16 inputs at
 * a time: the scalar loop's float operations lane by lane (multiply,
 * subtract, multiply, add 0.5, truncate, clamp), each plane a 16-bit
 * mask.  pl must be zeroed.  Returns the first input left to the scalar
 * loop. */
__attribute__((target("avx512f")))
ND_HOT
static int planes_avx512(const float *x, int n, float fden, float fnb, float finv_na,
			 int q, int nb, int W, uint64_t *pl)
{
	const __m512 vden = _mm512_set1_ps(fden), vnb = _mm512_set1_ps(fnb);
	const __m512 vinv = _mm512_set1_ps(finv_na), half = _mm512_set1_ps(0.5f);
	const __m512i vq = _mm512_set1_epi32(q), z = _mm512_setzero_si512();
	int i = 0;
	for (; i + 16 <= n; i += 16) {
		__m512 v = _mm512_mul_ps(_mm512_sub_ps(_mm512_mul_ps(_mm512_loadu_ps(x + i), vden), vnb), vinv);
		__m512i lv = _mm512_cvttps_epi32(_mm512_add_ps(v, half));
		lv = _mm512_min_epi32(_mm512_max_epi32(lv, z), vq);
		for (int k = 0; k < nb; k++) {
			__mmask16 mk = _mm512_test_epi32_mask(lv, _mm512_set1_epi32(1 << k));
			pl[k * W + (i >> 6)] |= (uint64_t)mk << (i & 63);
		}
	}
	return i;
}
#endif

/* Z (rows x m) = X (rows x n) * sign(W)^T, computed exactly in integers:
 * the rows of X are bit planes of their levels, so z = (na * sum_i w_i
 * lev_i + nb * sum_i w_i) / den with every sum a popcount (the float
 * multiply-adds it replaces summed the same integers).  Each output is
 * owned by one thread: independent of the thread count. */
BNN_CLONES_POP
ND_HOT
static void mm_fwd_bits(const struct tl *L, const struct lin_in *e, const float *X,
			long rows, float *Z)
{
	int n = L->n, m = L->m, W = L->words, nb = bits_for(e->q);
	double inv_den = 1.0 / (double)e->den;
	float fden = (float)e->den, fnb = (float)e->nb, finv_na = 1.0f / (float)e->na;
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
	int v512 = have_avx512();
#endif
	int *sw = xmalloc(sizeof(int) * (size_t)m);
	for (int j = 0; j < m; j++) {
		int c = 0;
		for (int w = 0; w < W; w++)
			c += __builtin_popcountll(L->wbits[(size_t)j * W + w]);
		sw[j] = 2 * c - n;
	}
#ifdef _OPENMP
#pragma omp parallel
#endif
	{
		uint64_t *pl = xmalloc(sizeof(uint64_t) * (size_t)nb * (size_t)W);
		uint64_t *cnt = xmalloc(sizeof(uint64_t) * (size_t)nb * (size_t)m);
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
		for (long b = 0; b < rows; b++) {
			const float *x = X + (size_t)b * n;
			memset(pl, 0, sizeof(uint64_t) * (size_t)nb * (size_t)W);
			memset(cnt, 0, sizeof(uint64_t) * (size_t)nb * (size_t)m);
			int pc[16];
			int i0 = 0;
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
			if (v512)
				i0 = planes_avx512(x, n, fden, fnb, finv_na, e->q, nb, W, pl);
#endif
			for (int i = i0; i < n; i++) {
				/* truncation rounds v + 0.5 >= 0 to nearest; below, clamped */
				int lv = (int)((x[i] * fden - fnb) * finv_na + 0.5f);
				lv = lv < 0 ? 0 : (lv > e->q ? e->q : lv);
				for (int k = 0; k < nb; k++)
					pl[k * W + (i >> 6)] |= (uint64_t)(((unsigned)lv >> k) & 1u) << (i & 63);
			}
			for (int k = 0; k < nb; k++) {
				int c = 0;
				for (int w = 0; w < W; w++) {
					uint64_t v = pl[k * W + w];
					c += __builtin_popcountll(v);
					if (v)
						popcnt_and_acc(cnt + (size_t)k * m, L->wbitsT + (size_t)w * m, v, m);
				}
				pc[k] = c;
			}
			float *z = Z + (size_t)b * m;
			for (int j = 0; j < m; j++) {
				int64_t acc = 0;   /* sum_i w_i lev_i */
				for (int k = 0; k < nb; k++)
					acc += (2 * (int64_t)cnt[(size_t)k * m + j] - pc[k]) * ((int64_t)1 << k);
				int64_t num = e->na * acc + (int64_t)e->nb * sw[j];
				z[j] = e->den == 1 ? (float)num : (float)((double)num * inv_den);
			}
		}
		free(pl);
		free(cnt);
	}
	free(sw);
}

/* Register-blocked C (R x N) = A (R x K) * Bm (K x N), A(r, k) = A[r * sr +
 * k * sk], Bm row k at Bm + k * N.  Every element is summed over k in
 * index order from zero (no contraction: -std=c11), whatever the blocking
 * or the thread that owns it, so the result is independent of both. */
typedef float v16f __attribute__((vector_size(64)));
typedef float v16fu __attribute__((vector_size(64), aligned(4)));  /* unaligned access */
#define MB 6     /* rows per block */
#define NB 16    /* columns per block: one 16-lane vector */
#define V16_LOAD(p) (*(const v16fu *)(const void *)(p))
#define V16_STORE(p, v) (*(v16fu *)(void *)(p) = (v))

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define BNN_CLONES_GEMM __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define BNN_CLONES_GEMM
#endif

BNN_CLONES_GEMM
ND_HOT
static void gemm_block(const float *restrict A, long sr, long sk,
		       const float *restrict Bm, float *restrict C,
		       int r0, int nr, int c0, int nc, int K, int N)
{
	if (nr == MB && nc == NB) {
		v16f a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 }, a4 = { 0 }, a5 = { 0 };
		const float *ar = A + (size_t)r0 * (size_t)sr;
		for (int k = 0; k < K; k++) {
			v16f x = V16_LOAD(Bm + (size_t)k * (size_t)N + c0);
			const float *ak = ar + (size_t)k * (size_t)sk;
			a0 += ak[0] * x;
			a1 += ak[sr] * x;
			a2 += ak[2 * sr] * x;
			a3 += ak[3 * sr] * x;
			a4 += ak[4 * sr] * x;
			a5 += ak[5 * sr] * x;
		}
		float *cp = C + (size_t)r0 * (size_t)N + c0;
		V16_STORE(cp, a0);
		V16_STORE(cp + N, a1);
		V16_STORE(cp + 2 * N, a2);
		V16_STORE(cp + 3 * N, a3);
		V16_STORE(cp + 4 * N, a4);
		V16_STORE(cp + 5 * N, a5);
		return;
	}
	if (nc == NB) {
		for (int r = r0; r < r0 + nr; r++) {
			v16f a = { 0 };
			const float *ar = A + (size_t)r * (size_t)sr;
			for (int k = 0; k < K; k++)
				a += ar[(size_t)k * (size_t)sk] * V16_LOAD(Bm + (size_t)k * (size_t)N + c0);
			V16_STORE(C + (size_t)r * (size_t)N + c0, a);
		}
		return;
	}
	for (int r = r0; r < r0 + nr; r++)
		for (int c = c0; c < c0 + nc; c++) {
			float acc = 0.0f;
			for (int k = 0; k < K; k++)
				acc += A[(size_t)r * sr + (size_t)k * sk] * Bm[(size_t)k * N + c];
			C[(size_t)r * N + c] = acc;
		}
}

static void gemm(const float *A, long sr, long sk, const float *Bm, float *C,
		 int R, int K, int N)
{
	int rb = (R + MB - 1) / MB, cb = (N + NB - 1) / NB;
	long nblk = (long)rb * cb;
#ifdef _OPENMP
#pragma omp parallel for schedule(static)
#endif
	for (long t = 0; t < nblk; t++) {
		int r0 = (int)(t / cb) * MB, c0 = (int)(t % cb) * NB;
		int nr = R - r0 < MB ? R - r0 : MB, nc = N - c0 < NB ? N - c0 : NB;
		gemm_block(A, sr, sk, Bm, C, r0, nr, c0, nc, K, N);
	}
}

static float act_fn(int act, int q, float y)
{
	if (act == BNN_ACT_BINARY)
		return y >= 0.0f ? 1.0f : -1.0f;
	float c = y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
	return floorf((float)q * c + 0.5f) / (float)q;
}

/* Straight-through estimator of the activation's derivative. */
static float act_ste(int act, float y)
{
	if (act == BNN_ACT_BINARY)
		return fabsf(y) <= 1.0f ? 1.0f : 0.0f;
	return (y >= 0.0f && y <= 1.0f) ? 1.0f : 0.0f;
}

static void input_rows(const struct trainer *t, const uint8_t *pixels,
		       const uint32_t *idx, long rows, int input_thr, float *X)
{
	BNN_PAR
	for (long b = 0; b < rows; b++) {
		const uint8_t *p = pixels + (size_t)idx[b] * BNN_IN;
		float *x = X + (size_t)b * BNN_IN;
		for (int i = 0; i < BNN_IN; i++) {
			float lev = (float)pixel_level(p[i], (unsigned)t->qin0) / (float)t->qin0;
			if (t->act == BNN_ACT_BINARY && t->qin0 == 1)
				x[i] = p[i] >= input_thr ? 1.0f : -1.0f;
			else if (t->act == BNN_ACT_BINARY)
				x[i] = 2.0f * lev - 1.0f;
			else
				x[i] = lev;
		}
	}
}

#define FB 64   /* batch-norm features per thread block */

/* How layer l's float inputs encode levels. */
static struct lin_in layer_in(const struct trainer *t, int l)
{
	int q = l ? t->q : t->qin0;
	struct lin_in e = { q, 1, 0, q };
	if (t->act == BNN_ACT_BINARY) {
		e.na = 2;
		e.nb = -q;
	}
	return e;
}

/* Training-mode forward pass of one minibatch (batch statistics). */
static void fwd_train(struct trainer *t)
{
	int B = t->B;
	const float *X = t->x0;
	for (int l = 0; l < t->nl; l++) {
		struct tl *L = &t->L[l];
		int m = L->m;
		struct lin_in e = layer_in(t, l);
		mm_fwd_bits(L, &e, X, B, L->z);
		if (t->hook) {
			/* z is D (act = binary) or (D + S_w) / 2 (act = multi:
			 * inputs in [0, 1]); the hook works in D units */
			if (t->act == BNN_ACT_BINARY) {
				t->hook->fn(t->hook->arg, l, L->n, L->z, B, m, (uint64_t)t->step);
			} else {
				size_t nz = (size_t)B * (size_t)m;
				for (size_t k = 0; k < nz; k++)
					L->z[k] *= 2.0f;
				t->hook->fn(t->hook->arg, l, L->n, L->z, B, m, (uint64_t)t->step);
				for (size_t k = 0; k < nz; k++)
					L->z[k] *= 0.5f;
			}
		}
		int last = l == t->nl - 1;
		/* batch norm: features in blocks of FB, each block owned by one
		 * thread, sums over b in order */
		int nfb = (m + FB - 1) / FB;
		BNN_PAR
		for (int fb = 0; fb < nfb; fb++) {
			int j0 = fb * FB, j1 = j0 + FB < m ? j0 + FB : m;
			double s[FB] = { 0 }, ss[FB] = { 0 };
			for (int b = 0; b < B; b++)
				for (int j = j0; j < j1; j++)
					s[j - j0] += (double)L->z[(size_t)b * m + j];
			for (int j = j0; j < j1; j++)
				L->mu[j] = (float)(s[j - j0] / B);
			for (int b = 0; b < B; b++)
				for (int j = j0; j < j1; j++) {
					double d = (double)(L->z[(size_t)b * m + j] - L->mu[j]);
					ss[j - j0] += d * d;
				}
			for (int j = j0; j < j1; j++)
				L->istd[j] = (float)(1.0 / sqrt(ss[j - j0] / B + (double)BN_EPS));
			for (int b = 0; b < B; b++)
				for (int j = j0; j < j1; j++) {
					size_t k = (size_t)b * m + j;
					L->zh[k] = (L->z[k] - L->mu[j]) * L->istd[j];
					L->y[k] = L->gam[j] * L->zh[k] + L->bet[j];
					if (!last)
						L->a[k] = act_fn(t->act, t->q, L->y[k]);
				}
		}
		X = L->a;
	}
}

/* Softmax cross-entropy on the last layer; fills its dy.  Returns the
 * summed loss. */
static double loss_grad(struct trainer *t, const uint8_t *lab)
{
	struct tl *L = &t->L[t->nl - 1];
	double loss = 0;
	for (int b = 0; b < t->B; b++) {
		const float *y = L->y + (size_t)b * BNN_CLASSES;
		float *dy = L->dy + (size_t)b * BNN_CLASSES;
		double mx = (double)y[0], e[BNN_CLASSES], se = 0;
		for (int c = 1; c < BNN_CLASSES; c++)
			if ((double)y[c] > mx)
				mx = (double)y[c];
		for (int c = 0; c < BNN_CLASSES; c++)
			se += (e[c] = exp((double)y[c] - mx));
		loss += -((double)y[lab[b]] - mx - log(se));
		for (int c = 0; c < BNN_CLASSES; c++)
			dy[c] = (float)((e[c] / se - (c == lab[b])) / t->B);
	}
	return loss;
}

static void bwd(struct trainer *t)
{
	int B = t->B;
	for (int l = t->nl - 1; l >= 0; l--) {
		struct tl *L = &t->L[l];
		int n = L->n, m = L->m;
		const float *X = l ? t->L[l - 1].a : t->x0;
		const float *g = l < t->nl - 1 ? t->L[l + 1].dx : NULL;
		int nfb = (m + FB - 1) / FB;
		BNN_PAR
		for (int fb = 0; fb < nfb; fb++) {
			int j0 = fb * FB, j1 = j0 + FB < m ? j0 + FB : m;
			if (g)
				for (int b = 0; b < B; b++)
					for (int j = j0; j < j1; j++) {
						size_t k = (size_t)b * m + j;
						L->dy[k] = g[k] * act_ste(t->act, L->y[k]);
					}
			for (int j = j0; j < j1; j++)
				L->dg[j] = L->db[j] = 0;
			for (int b = 0; b < B; b++)
				for (int j = j0; j < j1; j++) {
					size_t k = (size_t)b * m + j;
					L->db[j] += L->dy[k];
					L->dg[j] += L->dy[k] * L->zh[k];
				}
			/* gam istd / B once per feature: the same three operations
			 * in the same order as per element, so the same bits. */
			float cz[FB];
			for (int j = j0; j < j1; j++)
				cz[j - j0] = L->gam[j] * L->istd[j] / (float)B;
			for (int b = 0; b < B; b++)
				for (int j = j0; j < j1; j++) {
					size_t k = (size_t)b * m + j;
					L->dz[k] = cz[j - j0] *
						   ((float)B * L->dy[k] - L->db[j] - L->zh[k] * L->dg[j]);
				}
		}
		/* dW (m x n) = dZ^T (m x B) X (B x n); dX (B x n) = dZ (B x m)
		 * sign(W) (m x n) */
		gemm(L->dz, 1, m, X, L->dw, m, B, n);
		if (l > 0)
			gemm(L->dz, m, 1, L->wb, L->dx, B, m, n);
	}
}

/* Element-wise, so vector width and threads never change a result (IEEE
 * sqrt and division are correctly rounded in every lane). */
static void adam_range_gen(float *restrict p, float *restrict mo, float *restrict ve,
			   const float *restrict g, size_t n, float lr_t, int clip)
{
	for (size_t k = 0; k < n; k++) {
		float gk = g[k];
		/* STE for weights: no gradient once the latent weight is
		 * saturated beyond the clip range. */
		if (clip && fabsf(p[k]) > 1.0f)
			gk = 0.0f;
		float m1 = ADAM_B1 * mo[k] + (1.0f - ADAM_B1) * gk;
		float v1 = ADAM_B2 * ve[k] + (1.0f - ADAM_B2) * gk * gk;
		float pk = p[k] - lr_t * m1 / (sqrtf(v1) + ADAM_EPS);
		if (clip)
			pk = pk < -1.0f ? -1.0f : (pk > 1.0f ? 1.0f : pk);
		mo[k] = m1;
		ve[k] = v1;
		p[k] = pk;
	}
}

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("avx2")))
ND_HOT
static void adam_range_avx2(float *restrict p, float *restrict mo, float *restrict ve,
			    const float *restrict g, size_t n, float lr_t, int clip)
{
	const __m256 b1 = _mm256_set1_ps(ADAM_B1), c1 = _mm256_set1_ps(1.0f - ADAM_B1);
	const __m256 b2 = _mm256_set1_ps(ADAM_B2), c2 = _mm256_set1_ps(1.0f - ADAM_B2);
	const __m256 eps = _mm256_set1_ps(ADAM_EPS), lr = _mm256_set1_ps(lr_t);
	const __m256 one = _mm256_set1_ps(1.0f), mone = _mm256_set1_ps(-1.0f);
	const __m256 absm = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	size_t k = 0;
	for (; k + 8 <= n; k += 8) {
		__m256 pk = _mm256_loadu_ps(p + k), gk = _mm256_loadu_ps(g + k);
		if (clip) {
			__m256 sat = _mm256_cmp_ps(_mm256_and_ps(pk, absm), one, _CMP_GT_OQ);
			gk = _mm256_andnot_ps(sat, gk);
		}
		__m256 m1 = _mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(mo + k)),
					  _mm256_mul_ps(c1, gk));
		__m256 v1 = _mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(ve + k)),
					  _mm256_mul_ps(_mm256_mul_ps(c2, gk), gk));
		__m256 d = _mm256_div_ps(_mm256_mul_ps(lr, m1),
					 _mm256_add_ps(_mm256_sqrt_ps(v1), eps));
		pk = _mm256_sub_ps(pk, d);
		if (clip)
			pk = _mm256_min_ps(_mm256_max_ps(pk, mone), one);
		_mm256_storeu_ps(mo + k, m1);
		_mm256_storeu_ps(ve + k, v1);
		_mm256_storeu_ps(p + k, pk);
	}
	adam_range_gen(p + k, mo + k, ve + k, g + k, n - k, lr_t, clip);
}

static void adam_range(float *restrict p, float *restrict mo, float *restrict ve,
		       const float *restrict g, size_t n, float lr_t, int clip)
{
	static int have = -1;   /* racy but idempotent */
	if (have < 0) {
		__builtin_cpu_init();
		have = __builtin_cpu_supports("avx2") ? 1 : 0;
	}
	if (have)
		adam_range_avx2(p, mo, ve, g, n, lr_t, clip);
	else
		adam_range_gen(p, mo, ve, g, n, lr_t, clip);
}
#else
#define adam_range adam_range_gen
#endif

static void adam_vec(float *p, float *mo, float *ve, const float *g, size_t n,
		     float lr_t, int clip)
{
	/* threads only for large vectors (BN parameters are a few hundred
	 * values, not worth a barrier) */
	if (n < 16384) {
		adam_range(p, mo, ve, g, n, lr_t, clip);
		return;
	}
	long nc = (long)((n + 8191) / 8192);
#ifdef _OPENMP
#pragma omp parallel for schedule(static)
#endif
	for (long c = 0; c < nc; c++) {
		size_t k0 = (size_t)c * 8192, k1 = k0 + 8192 < n ? k0 + 8192 : n;
		adam_range(p + k0, mo + k0, ve + k0, g + k0, k1 - k0, lr_t, clip);
	}
}

static void adam_step(struct trainer *t, double lr)
{
	t->step++;
	double bc = sqrt(1.0 - pow((double)ADAM_B2, (double)t->step)) /
		    (1.0 - pow((double)ADAM_B1, (double)t->step));
	float lr_t = (float)(lr * bc);
	for (int l = 0; l < t->nl; l++) {
		struct tl *L = &t->L[l];
		adam_vec(L->w, L->mw, L->vw, L->dw, (size_t)L->n * L->m, lr_t, 1);
		adam_vec(L->gam, L->mg, L->vg, L->dg, (size_t)L->m, lr_t, 0);
		adam_vec(L->bet, L->mb, L->vb, L->db, (size_t)L->m, lr_t, 0);
	}
}

/* Population batch-norm statistics of every layer on `rows` inputs, layer
 * by layer in eval mode (each layer sees its predecessors' calibrated
 * outputs). X0 is consumed as scratch. */
static void calibrate(struct trainer *t, float *X0, long rows)
{
	int mw = 0;
	for (int l = 1; l <= t->nl; l++)
		if (t->dim[l] > mw)
			mw = t->dim[l];
	float *Z = xmalloc(sizeof(float) * (size_t)rows * (size_t)mw);
	float *A = xmalloc(sizeof(float) * (size_t)rows * (size_t)mw);
	const float *X = X0;
	for (int l = 0; l < t->nl; l++) {
		struct tl *L = &t->L[l];
		int m = L->m;
		binarise(L);
		struct lin_in e = layer_in(t, l);
		mm_fwd_bits(L, &e, X, rows, Z);
		for (int j = 0; j < m; j++)
			L->pmu[j] = L->pvar[j] = 0;
		for (long b = 0; b < rows; b++)
			for (int j = 0; j < m; j++)
				L->pmu[j] += (double)Z[(size_t)b * m + j];
		for (int j = 0; j < m; j++)
			L->pmu[j] /= (double)rows;
		for (long b = 0; b < rows; b++)
			for (int j = 0; j < m; j++) {
				double d = (double)Z[(size_t)b * m + j] - L->pmu[j];
				L->pvar[j] += d * d;
			}
		for (int j = 0; j < m; j++)
			L->pvar[j] /= (double)rows;
		if (l == t->nl - 1)
			break;
		double *sd = xmalloc(sizeof(double) * (size_t)m);
		for (int j = 0; j < m; j++)
			sd[j] = sqrt(L->pvar[j] + (double)BN_EPS);
		BNN_PAR
		for (long b = 0; b < rows; b++)
			for (int j = 0; j < m; j++) {
				size_t k = (size_t)b * m + j;
				double y = (double)L->gam[j] * ((double)Z[k] - L->pmu[j]) / sd[j] +
					   (double)L->bet[j];
				A[k] = act_fn(t->act, t->q, (float)y);
			}
		free(sd);
		X = A;  /* Z was computed from X, so A may overwrite it */
	}
	free(Z);
	free(A);
}

/* Folds the calibrated batch norm into thresholds / affine maps. */
static struct bnn_model *fold(const struct trainer *t, int input_thr)
{
	struct bnn_model *m = xcalloc(1, sizeof *m);
	m->act = t->act;
	m->q = t->q;
	m->input_thr = input_thr;
	m->nl = t->nl;
	memcpy(m->dim, t->dim, sizeof m->dim);
	for (int l = 0; l < t->nl; l++)
		m->qin[l] = l ? t->q : t->qin0;
	for (int l = 0; l < t->nl; l++) {
		const struct tl *T = &t->L[l];
		int last = l == t->nl - 1;
		int kind = last ? BNN_OUT_SCORE : (t->act == BNN_ACT_BINARY ? BNN_OUT_BINARY : BNN_OUT_MULTI);
		struct bnn_layer *L = &m->layer[l];
		layer_alloc(L, T->n, T->m, kind);
		for (int j = 0; j < T->m; j++) {
			double sd = sqrt(T->pvar[j] + (double)BN_EPS), gam = (double)T->gam[j];
			double bet = (double)T->bet[j];
			double mu = T->pmu[j];
			int flip = 0, sw = 0;
			if (kind == BNN_OUT_BINARY) {
				double lim = (T->n + 1.0) * m->qin[l];
				if (gam == 0.0) {
					L->thresh[j] = bet >= 0 ? (int32_t)-lim : (int32_t)lim;
				} else {
					double tt = mu - bet * sd / gam;
					if (gam < 0) {
						flip = 1;
						tt = -tt;
					}
					double c = ceil(tt * m->qin[l]);
					c = c < -lim ? -lim : (c > lim ? lim : c);
					L->thresh[j] = (int32_t)c;
				}
			}
			for (int i = 0; i < T->n; i++) {
				int pos = T->w[(size_t)j * T->n + i] >= 0.0f;
				if (flip)
					pos = !pos;
				sw += pos ? 1 : -1;
				if (pos)
					L->wbits[(size_t)j * L->words + (i >> 6)] |= 1ull << (i & 63);
			}
			if (kind != BNN_OUT_BINARY) {
				if (t->act == BNN_ACT_BINARY) {
					/* z = D */
					L->g[j] = gam / sd;
					L->h[j] = bet - gam * mu / sd;
				} else {
					/* z = sum w a = (D + S_w) / 2 */
					L->g[j] = gam / (2.0 * sd);
					L->h[j] = bet + gam * (sw / 2.0 - mu) / sd;
				}
			}
		}
	}
	return m;
}

static int input_threshold_level(double thr)
{
	for (int p = 0; p <= 255; p++)
		if (p / 255.0 >= thr - 1e-12)
			return p;
	return 256;
}

int bnn_train(const struct bnn_params *p, uint64_t seed,
	      const struct wl_dataset *train, const struct wl_dataset *test,
	      bnn_epoch_fn cb, void *arg, struct bnn_model **out,
	      struct nd_err *err)
{
	*out = NULL;
	if (p->na_on)
		return nd_errf(err, -EINVAL,
			       "bnn.noise_aware.enable: noise-aware training needs the crossbar's noise model; it runs under `ndpsim xbar` (train, eval, noise-sweep, gbo)");
	return bnn_train_noisy(p, seed, train, test, cb, arg, NULL, out, err);
}

int bnn_train_noisy(const struct bnn_params *p, uint64_t seed,
		    const struct wl_dataset *train, const struct wl_dataset *test,
		    bnn_epoch_fn cb, void *arg, const struct bnn_noise_hook *hook,
		    struct bnn_model **out, struct nd_err *err)
{
	*out = NULL;
	struct trainer t;
	memset(&t, 0, sizeof t);
	t.hook = hook && hook->fn ? hook : NULL;
	int nl = bnn_parse_dims(p->hidden, t.dim, err);
	if (nl < 0)
		return nl;
	if (train->rows * train->cols != BNN_IN)
		return nd_errf(err, -EINVAL, "training images are %ux%u, expected 28x28",
			       train->rows, train->cols);
	t.nl = nl;
	t.act = p->act;
	t.q = p->act == BNN_ACT_BINARY ? 1 : p->act_steps;
	t.B = p->batch;
	t.qin0 = p->act == BNN_ACT_BINARY ? p->input_steps : t.q;
	int input_thr = input_threshold_level(p->input_threshold);
	struct rng r;
	rng_seed(&r, seed, 0xB0);
	for (int l = 0; l < nl; l++)
		tl_init(&t.L[l], t.dim[l], t.dim[l + 1], t.B, &r);
	t.x0 = fz((size_t)t.B * BNN_IN);

	long ntr = p->train_n && (uint32_t)p->train_n < train->n ? p->train_n : (long)train->n;
	uint32_t *order = xmalloc(sizeof(uint32_t) * train->n);
	for (uint32_t i = 0; i < train->n; i++)
		order[i] = i;
	rng_seed(&r, seed, 0xB1);
	for (uint32_t i = train->n - 1; i > 0; i--) {
		uint32_t k = (uint32_t)rng_below(&r, (uint64_t)i + 1), tmp = order[i];
		order[i] = order[k];
		order[k] = tmp;
	}
	uint32_t *sub = xmalloc(sizeof(uint32_t) * (size_t)ntr);
	memcpy(sub, order, sizeof(uint32_t) * (size_t)ntr);
	long ncal = p->calib_n < ntr ? p->calib_n : ntr;
	uint8_t *lab = xmalloc((size_t)t.B);
	uint8_t *preds = test ? xmalloc(test->n) : NULL;
	struct bnn_model *m = NULL;
	double lr = p->lr;
	for (int ep = 0; ep < p->epochs; ep++) {
		struct rng rs;
		rng_seed(&rs, seed, 0xB100 + (uint64_t)ep);
		for (long i = ntr - 1; i > 0; i--) {
			long k = (long)rng_below(&rs, (uint64_t)i + 1);
			uint32_t tmp = sub[i];
			sub[i] = sub[k];
			sub[k] = tmp;
		}
		double loss = 0;
		long nb = ntr / t.B;
		for (long bi = 0; bi < nb; bi++) {
			const uint32_t *idx = sub + bi * t.B;
			input_rows(&t, train->pixels, idx, t.B, input_thr, t.x0);
			for (int b = 0; b < t.B; b++)
				lab[b] = train->labels[idx[b]];
			for (int l = 0; l < nl; l++)
				binarise(&t.L[l]);
			fwd_train(&t);
			loss += loss_grad(&t, lab);
			bwd(&t);
			adam_step(&t, lr);
		}
		lr *= p->lr_decay;
		/* the folded model of an epoch is only needed by a callback and
		 * at the end (calibration does not feed back into training) */
		if (!cb && ep + 1 < p->epochs)
			continue;
		/* calibrate BN statistics on the first calib_n of the fixed order */
		float *Xc = xmalloc(sizeof(float) * (size_t)ncal * BNN_IN);
		input_rows(&t, train->pixels, order, ncal, input_thr, Xc);
		calibrate(&t, Xc, ncal);
		free(Xc);
		bnn_model_free(m);
		m = fold(&t, input_thr);
		double acc = -1;
		if (test && cb)
			acc = (double)bnn_predict(m, test->pixels, test->n, test->labels, preds) / test->n;
		if (cb)
			cb(arg, ep + 1, nb ? loss / (double)(nb * t.B) : 0.0, acc);
	}
	for (int l = 0; l < nl; l++)
		tl_free(&t.L[l]);
	free(t.x0);
	free(order);
	free(sub);
	free(lab);
	free(preds);
	*out = m;
	return 0;
}
