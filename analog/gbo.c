/*
 * gbo.c — per-layer pulse counts learned by gradient (see gbo.h).
 */
#include "analog/gbo.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/util.h"
#include "workloads/bcnn.h"

#define GBO_IN 784
#define GBO_CLASSES 10

static const char *const budget_names[] = { "weighted", "mean", NULL };

#define CFG_T struct gbo_params
static const struct cfg_key gbo_keys[] = {
	CFG_KEY_STR("candidates", candidates, "pulses", "1,2,4,8,16",
	  "candidate unary pulse counts per layer (shared/reference/analog.md: e.g. 1, 2, 4, 8, 16)"),
	CFG_KEY_DBL("lambda", lambda, "1/pulse", 0.002, 0.0, 100.0,
	  "weight of the expected pulse cost (column reads per column read of a 1-pulse encoding) in the loss"),
	CFG_KEY_DBL("lambda_lr", lambda_lr, "1/pulse^2", 0.002, 0.0, 100.0,
	  "with a budget: dual-ascent rate that raises lambda while the expected cost exceeds the budget"),
	CFG_KEY_INT("steps", steps, "steps", 300, 1, 1000000,
	  "gradient steps on the pulse logits"),
	CFG_KEY_INT("batch", batch, "images", 100, 1, 4096,
	  "training images per step"),
	CFG_KEY_DBL("lr", lr, "-", 0.05, 1e-6, 10.0,
	  "Adam learning rate of the pulse logits"),
	CFG_KEY_BOOL("gumbel", gumbel, 0,
	  "sample the mixing weights with Gumbel-softmax instead of the plain softmax"),
	CFG_KEY_DBL("tau", tau, "-", 1.0, 0.01, 100.0,
	  "softmax temperature"),
	CFG_KEY_INT("train_n", train_n, "images", 10000, 100, 60000,
	  "training images sampled from (never test images)"),
	CFG_KEY_DBL("budget", budget, "pulses", 0, 0, 64,
	  "pulse cost allowed (uniform T costs T under either budget_kind; 0 = no budget: each layer's most probable T)"),
	CFG_KEY_ENUM("budget_kind", budget_kind, 0, budget_names,
	  "weighted: pulses weighted by each layer's share of column reads (tracks energy); mean: the plain mean pulses per layer (Kim et al. DATE'22 abstract)"),
	CFG_END
};

static int gbo_check(const void *params, struct nd_err *err)
{
	const struct gbo_params *g = params;
	int cand[GBO_MAX_CAND];
	int n = gbo_parse_candidates(g->candidates, cand, err);
	if (n < 0)
		return n;
	if (g->budget > 0 && g->budget < cand[0])
		return nd_errf(err, -EINVAL, "gbo.budget: %g is below the smallest candidate %d",
			       g->budget, cand[0]);
	return 0;
}

const struct cfg_section gbo_section = {
	"gbo", gbo_keys, sizeof(struct gbo_params), gbo_check
};

int gbo_parse_candidates(const char *s, int cand[GBO_MAX_CAND], struct nd_err *err)
{
	int n = 0;
	const char *p = s;
	while (*p) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p || v < 1 || v > 64 || n >= GBO_MAX_CAND || (n && v <= cand[n - 1]))
			return nd_errf(err, -EINVAL,
				       "gbo.candidates: \"%s\": at most %d increasing pulse counts in 1..64",
				       s, GBO_MAX_CAND);
		cand[n++] = (int)v;
		p = end;
		if (*p == ',')
			p++;
		else if (*p)
			return nd_errf(err, -EINVAL, "gbo.candidates: \"%s\": unexpected '%c'", s, *p);
	}
	if (!n)
		return nd_errf(err, -EINVAL, "gbo.candidates: empty list");
	return n;
}

void gbo_format(const struct gbo_result *r, char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int l = 0; l < r->nl && used < n; l++)
		used += (size_t)snprintf(buf + used, n - used, "%s%d", l ? "," : "", r->chosen[l]);
}

/* requantised level of lev (0..q) sent as T unary pulses, in [0, 1] */
static inline double requant(int lev, int q, int T)
{
	return (double)(((unsigned)lev * (unsigned)T * 2u + (unsigned)q) / (2u * (unsigned)q)) / T;
}

struct gctx {
	const struct bnn_model *m;
	int nl, nc;
	const int *cand;
	float *W[BNN_MAX_LAYERS], *WT[BNN_MAX_LAYERS];
	double sd_read[BNN_MAX_LAYERS], sd_static[BNN_MAX_LAYERS];
};

struct gsample {
	uint8_t *lev[BNN_MAX_LAYERS];   /* input levels of each layer */
	double *abar;                   /* mixed input, max width */
	double *D[BNN_MAX_LAYERS];      /* pre-activation incl. noise */
	double *e1[BNN_MAX_LAYERS];     /* read-noise draws */
	double *dD, *da;
	int nl;
};

/* Forward + backward of one sample; adds d loss / d pi to dpi (nl x nc)
 * and returns the cross-entropy. */
static double sample_grad(const struct gctx *g, const double pi[][GBO_MAX_CAND],
			  const double *kappa, const uint8_t *pix, int label,
			  struct rng *r, struct gsample *s, double *dpi)
{
	const struct bnn_model *m = g->m;
	bnn_input_levels(m, pix, s->lev[0]);
	double scores[GBO_CLASSES];
	for (int l = 0; l < g->nl; l++) {
		const struct bnn_layer *L = &m->layer[l];
		int n = L->n_in, no = L->n_out, q = m->qin[l];
		double *D = s->D[l];
		for (int j = 0; j < no; j++)
			D[j] = 0;
		for (int i = 0; i < n; i++) {
			double a = 0;
			for (int c = 0; c < g->nc; c++)
				a += pi[l][c] * requant(s->lev[l][i], q, g->cand[c]);
			double x = 2.0 * a - 1.0;
			const float *row = g->WT[l] + (size_t)i * no;
			for (int j = 0; j < no; j++)
				D[j] += x * (double)row[j];
		}
		for (int j = 0; j < no; j++) {
			double e1 = rng_normal(r), e2 = rng_normal(r);
			s->e1[l][j] = e1;
			D[j] += g->sd_read[l] * kappa[l] * e1 + g->sd_static[l] * e2;
		}
		if (L->kind == BNN_OUT_SCORE) {
			for (int j = 0; j < no; j++)
				scores[j] = bnn_score(m, l, j, D[j] * q);
		} else {
			for (int j = 0; j < no; j++)
				s->lev[l + 1][j] = (uint8_t)bnn_act_level(m, l, j, D[j] * q);
		}
	}
	/* softmax cross-entropy */
	double mx = scores[0], se = 0, p[GBO_CLASSES];
	for (int j = 1; j < GBO_CLASSES; j++)
		if (scores[j] > mx)
			mx = scores[j];
	for (int j = 0; j < GBO_CLASSES; j++)
		se += (p[j] = exp(scores[j] - mx));
	double loss = -(scores[label] - mx - log(se));
	int last = g->nl - 1;
	for (int j = 0; j < GBO_CLASSES; j++)
		s->dD[j] = (p[j] / se - (j == label)) * m->layer[last].g[j];
	for (int l = last; l >= 0; l--) {
		const struct bnn_layer *L = &m->layer[l];
		int n = L->n_in, no = L->n_out, q = m->qin[l];
		double *dp = dpi + (size_t)l * g->nc;
		/* noise path: dD/dpi_c = sd_read * e1 / sqrt(T_c) */
		double ne = 0;
		for (int j = 0; j < no; j++)
			ne += s->dD[j] * s->e1[l][j];
		for (int c = 0; c < g->nc; c++)
			dp[c] += g->sd_read[l] * ne / sqrt((double)g->cand[c]);
		/* input path: dD_j/dabar_i = 2 w_ji */
		for (int i = 0; i < n; i++)
			s->da[i] = 0;
		for (int j = 0; j < no; j++) {
			double d = 2.0 * s->dD[j];
			if (d == 0)
				continue;
			const float *row = g->W[l] + (size_t)j * n;
			for (int i = 0; i < n; i++)
				s->da[i] += d * (double)row[i];
		}
		for (int i = 0; i < n; i++)
			for (int c = 0; c < g->nc; c++)
				dp[c] += s->da[i] * requant(s->lev[l][i], q, g->cand[c]);
		if (l == 0)
			break;
		/* straight-through to the previous layer's pre-activation */
		const struct bnn_layer *P = &m->layer[l - 1];
		int qp = m->qin[l - 1];
		for (int j = 0; j < n; j++) {
			double Dj = s->D[l - 1][j];
			double dd;
			if (P->kind == BNN_OUT_BINARY) {
				double width = sqrt((double)P->n_in);
				double t = (double)P->thresh[j] / qp;
				dd = fabs(Dj - t) <= width ? s->da[j] / (2.0 * width) : 0.0;
			} else {
				double y = P->g[j] * Dj + P->h[j];
				dd = (y >= 0 && y <= 1) ? s->da[j] * P->g[j] : 0.0;
			}
			s->dD[j] = dd;
		}
	}
	return loss;
}

void gbo_weights(const struct xbar_params *xp, const struct bnn_model *m, int kind,
		 double w[BNN_MAX_LAYERS])
{
	double wsum = 0;
	for (int l = 0; l < m->nl; l++) {
		w[l] = kind == GBO_BUDGET_MEAN ? 1.0 :
		       (double)xbar_row_tiles(xp, m, l) * m->dim[l + 1];
		wsum += w[l];
	}
	for (int l = 0; l < m->nl; l++)
		w[l] /= wsum;
}

/* Every layer at cand[0]; layers in order of increasing reads (ties:
 * earlier layer first) each get the largest candidate that keeps
 * sum_l w_l T_l within the budget. */
static void cheapest(int nl, const double *reads, const double *w, const int *cand, int nc,
		     double budget, struct xbar_enc_plan *plan)
{
	int order[BNN_MAX_LAYERS];
	plan->nl = nl;
	for (int l = 0; l < nl; l++) {
		plan->enc[l] = XBAR_ENC_UNARY;
		plan->pulses[l] = cand[0];
		order[l] = l;
	}
	for (int a = 1; a < nl; a++)   /* insertion sort: fewest reads first */
		for (int b = a; b > 0 && reads[order[b]] < reads[order[b - 1]]; b--) {
			int t = order[b];
			order[b] = order[b - 1];
			order[b - 1] = t;
		}
	for (int k = 0; k < nl; k++) {
		int l = order[k];
		for (int c = nc - 1; c >= 0; c--) {
			double cost = 0;
			for (int i = 0; i < nl; i++)
				cost += w[i] * (i == l ? cand[c] : plan->pulses[i]);
			if (cost <= budget + 1e-9) {
				plan->pulses[l] = cand[c];
				break;
			}
		}
	}
}

/* The candidates of the cheapest-layer baseline (count, or < 0 with err). */
static int cheapest_cands(const struct gbo_params *g, int *cand, struct nd_err *err)
{
	int nc = gbo_parse_candidates(g->candidates, cand, err);
	if (nc >= 0 && g->budget <= 0)
		return nd_errf(err, -EINVAL, "gbo.budget: the cheapest-layer baseline needs a budget");
	return nc;
}

int gbo_cheapest_first(const struct gbo_params *g, const struct xbar_params *xp,
		       const struct bnn_model *m, struct xbar_enc_plan *plan,
		       struct nd_err *err)
{
	int cand[GBO_MAX_CAND];
	int nc = cheapest_cands(g, cand, err);
	if (nc < 0)
		return nc;
	double w[BNN_MAX_LAYERS], reads[BNN_MAX_LAYERS];
	gbo_weights(xp, m, g->budget_kind, w);
	for (int l = 0; l < m->nl; l++)
		reads[l] = (double)xbar_row_tiles(xp, m, l) * m->dim[l + 1];
	cheapest(m->nl, reads, w, cand, nc, g->budget, plan);
	return 0;
}

static void pick(const struct gbo_params *gp, struct gbo_result *out)
{
	int nl = out->nl, nc = out->ncand;
	if (gp->budget <= 0) {
		for (int l = 0; l < nl; l++) {
			int b = 0;
			for (int c = 1; c < nc; c++)
				if (out->prob[l][c] > out->prob[l][b])
					b = c;
			out->chosen[l] = out->cand[b];
		}
	} else {
		/* most probable assignment whose cost fits the budget */
		long total = 1;
		for (int l = 0; l < nl; l++)
			total *= nc;
		double best = -(double)INFINITY;
		for (long k = 0; k < total; k++) {
			long x = k;
			double lp = 0, sum = 0;
			int pick_c[BNN_MAX_LAYERS];
			for (int l = 0; l < nl; l++) {
				pick_c[l] = (int)(x % nc);
				x /= nc;
				lp += log(out->prob[l][pick_c[l]] + 1e-300);
				sum += out->weight[l] * out->cand[pick_c[l]];
			}
			if (sum > gp->budget + 1e-9 || lp <= best)
				continue;
			best = lp;
			for (int l = 0; l < nl; l++)
				out->chosen[l] = out->cand[pick_c[l]];
		}
	}
	double s = 0, sw = 0;
	for (int l = 0; l < nl; l++) {
		s += out->chosen[l];
		sw += out->weight[l] * out->chosen[l];
	}
	out->mean_pulses = s / nl;
	out->cost_pulses = sw;
}

/* What one sample costs the driver: per-thread scratch and the forward +
 * backward pass of one image under mixing weights pi (kappa[l] = sum_c
 * pi[l][c] / sqrt(T_c)), adding d loss / d pi to dpi (nl x nc) and
 * returning the cross-entropy. */
struct gbo_ops {
	void *(*scratch_new)(const void *ctx);
	void (*scratch_free)(void *s);
	double (*sample)(const void *ctx, const double pi[][GBO_MAX_CAND], const double *kappa,
			 const uint8_t *pix, int label, struct rng *r, void *s, double *dpi);
};

/* The optimiser shared by the MLP and the CNN: softmax (or Gumbel-softmax)
 * over each layer's candidates, per-sample gradients in parallel summed in
 * sample order, Adam on the logits, dual ascent on lambda with a budget,
 * then pick().  out->cand, ncand, nl and weight are set by the caller. */
static void optimise(const struct gbo_params *gp, const struct gbo_ops *ops, const void *ctx,
		     uint64_t seed, const struct wl_dataset *train, struct gbo_result *out)
{
	int nl = out->nl, nc = out->ncand;
	double lambda = gp->lambda;
	long ntr = gp->train_n < (int)train->n ? gp->train_n : (long)train->n;
	double theta[BNN_MAX_LAYERS][GBO_MAX_CAND], mo[BNN_MAX_LAYERS][GBO_MAX_CAND],
	       ve[BNN_MAX_LAYERS][GBO_MAX_CAND];
	double pi[BNN_MAX_LAYERS][GBO_MAX_CAND], kappa[BNN_MAX_LAYERS];
	memset(theta, 0, sizeof theta);
	memset(mo, 0, sizeof mo);
	memset(ve, 0, sizeof ve);
	memset(pi, 0, sizeof pi);
	int B = gp->batch;
	double *dpi_s = xcalloc((size_t)B * nl * nc, sizeof(double));
	double *loss_s = xcalloc((size_t)B, sizeof(double));
	long *idx = xmalloc(sizeof(long) * (size_t)B);
	double lf = 0, ll = 0;
	int nf = 0, nlast = 0, win = gp->steps / 10 > 0 ? gp->steps / 10 : 1;
	for (int step = 0; step < gp->steps; step++) {
		struct rng r;
		rng_seed(&r, seed, 0x6B00000000ull + (uint64_t)step);
		for (int b = 0; b < B; b++)
			idx[b] = (long)rng_below(&r, (uint64_t)ntr);
		double soft[BNN_MAX_LAYERS][GBO_MAX_CAND];
		for (int l = 0; l < nl; l++) {
			double z[GBO_MAX_CAND], mx = -(double)INFINITY, se = 0;
			for (int c = 0; c < nc; c++) {
				double gum = 0;
				if (gp->gumbel) {
					double u = rng_uniform(&r);
					gum = -log(-log(u + 1e-300) + 1e-300);
				}
				z[c] = (theta[l][c] + gum) / gp->tau;
				if (z[c] > mx)
					mx = z[c];
			}
			for (int c = 0; c < nc; c++)
				se += (soft[l][c] = exp(z[c] - mx));
			kappa[l] = 0;
			for (int c = 0; c < nc; c++) {
				soft[l][c] /= se;
				pi[l][c] = soft[l][c];
				kappa[l] += soft[l][c] / sqrt((double)out->cand[c]);
			}
		}
		memset(dpi_s, 0, sizeof(double) * (size_t)B * nl * nc);
#ifdef _OPENMP
#pragma omp parallel
#endif
		{
			void *s = ops->scratch_new(ctx);
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
			for (int b = 0; b < B; b++) {
				struct rng rs;
				rng_seed(&rs, seed, 0x6C00000000ull + (uint64_t)step * 65536u + (uint64_t)b);
				loss_s[b] = ops->sample(ctx, (const double (*)[GBO_MAX_CAND])pi, kappa,
							train->pixels + (size_t)idx[b] * GBO_IN,
							train->labels[idx[b]], &rs, s,
							dpi_s + (size_t)b * nl * nc);
			}
			ops->scratch_free(s);
		}
		/* fixed-order reduction over samples */
		double loss = 0, dpi[BNN_MAX_LAYERS][GBO_MAX_CAND];
		memset(dpi, 0, sizeof dpi);
		for (int b = 0; b < B; b++) {
			loss += loss_s[b];
			for (int l = 0; l < nl; l++)
				for (int c = 0; c < nc; c++)
					dpi[l][c] += dpi_s[((size_t)b * nl + l) * nc + c];
		}
		loss /= B;
		if (step < win) {
			lf += loss;
			nf++;
		}
		if (step >= gp->steps - win) {
			ll += loss;
			nlast++;
		}
		double ecost = 0;
		for (int l = 0; l < nl; l++)
			for (int c = 0; c < nc; c++)
				ecost += out->weight[l] * soft[l][c] * out->cand[c];
		for (int l = 0; l < nl; l++) {
			double dp[GBO_MAX_CAND], dot = 0;
			for (int c = 0; c < nc; c++) {
				dp[c] = dpi[l][c] / B + lambda * out->weight[l] * out->cand[c];
				dot += soft[l][c] * dp[c];
			}
			for (int c = 0; c < nc; c++) {
				double gr = soft[l][c] * (dp[c] - dot) / gp->tau;
				mo[l][c] = 0.9 * mo[l][c] + 0.1 * gr;
				ve[l][c] = 0.999 * ve[l][c] + 0.001 * gr * gr;
				double mh = mo[l][c] / (1.0 - pow(0.9, step + 1));
				double vh = ve[l][c] / (1.0 - pow(0.999, step + 1));
				theta[l][c] -= gp->lr * mh / (sqrt(vh) + 1e-8);
			}
		}
		if (gp->budget > 0) {
			lambda += gp->lambda_lr * (ecost - gp->budget);
			if (lambda < 0)
				lambda = 0;
		}
	}
	out->lambda_final = lambda;
	out->loss_first = nf ? lf / nf : 0;
	out->loss_last = nlast ? ll / nlast : 0;
	for (int l = 0; l < nl; l++) {
		double mx = -(double)INFINITY, se = 0;
		for (int c = 0; c < nc; c++)
			if (theta[l][c] > mx)
				mx = theta[l][c];
		for (int c = 0; c < nc; c++)
			se += (out->prob[l][c] = exp(theta[l][c] - mx));
		for (int c = 0; c < nc; c++)
			out->prob[l][c] /= se;
	}
	free(dpi_s);
	free(loss_s);
	free(idx);
	pick(gp, out);
}

static void *mlp_scratch_new(const void *ctx)
{
	const struct gctx *g = ctx;
	const struct bnn_model *m = g->m;
	int mw = 0;
	for (int l = 0; l <= m->nl; l++)
		if (m->dim[l] > mw)
			mw = m->dim[l];
	struct gsample *s = xcalloc(1, sizeof *s);
	for (int l = 0; l <= m->nl; l++)
		s->lev[l] = xmalloc((size_t)mw);
	for (int l = 0; l < m->nl; l++) {
		s->D[l] = xmalloc(sizeof(double) * (size_t)mw);
		s->e1[l] = xmalloc(sizeof(double) * (size_t)mw);
	}
	s->abar = xmalloc(sizeof(double) * (size_t)mw);
	s->dD = xmalloc(sizeof(double) * (size_t)mw);
	s->da = xmalloc(sizeof(double) * (size_t)mw);
	s->nl = m->nl;
	return s;
}

static void mlp_scratch_free(void *p)
{
	struct gsample *s = p;
	for (int l = 0; l <= s->nl; l++)
		free(s->lev[l]);
	for (int l = 0; l < s->nl; l++) {
		free(s->D[l]);
		free(s->e1[l]);
	}
	free(s->abar);
	free(s->dD);
	free(s->da);
	free(s);
}

static double mlp_sample(const void *ctx, const double pi[][GBO_MAX_CAND], const double *kappa,
			 const uint8_t *pix, int label, struct rng *r, void *s, double *dpi)
{
	return sample_grad(ctx, pi, kappa, pix, label, r, s, dpi);
}

int gbo_run(const struct gbo_params *gp, const struct xbar_params *xp,
	    const struct bnn_model *m, uint64_t seed,
	    const struct wl_dataset *train, struct gbo_result *out,
	    struct nd_err *err)
{
	memset(out, 0, sizeof *out);
	int nc = gbo_parse_candidates(gp->candidates, out->cand, err);
	if (nc < 0)
		return nc;
	out->nl = m->nl;
	out->ncand = nc;
	struct gctx g;
	memset(&g, 0, sizeof g);
	g.m = m;
	g.nl = m->nl;
	g.nc = nc;
	g.cand = out->cand;
	for (int l = 0; l < m->nl; l++) {
		const struct bnn_layer *L = &m->layer[l];
		g.W[l] = xmalloc(sizeof(float) * (size_t)L->n_in * L->n_out);
		g.WT[l] = xmalloc(sizeof(float) * (size_t)L->n_in * L->n_out);
		for (int j = 0; j < L->n_out; j++)
			for (int i = 0; i < L->n_in; i++) {
				float w = (float)bnn_w(L, j, i);
				g.W[l][(size_t)j * L->n_in + i] = w;
				g.WT[l][(size_t)i * L->n_out + j] = w;
			}
		xbar_noise_model(xp, m, l, &g.sd_read[l], &g.sd_static[l]);
	}
	gbo_weights(xp, m, gp->budget_kind, out->weight);
	static const struct gbo_ops ops = { mlp_scratch_new, mlp_scratch_free, mlp_sample };
	optimise(gp, &ops, &g, seed, train, out);
	for (int l = 0; l < m->nl; l++) {
		free(g.W[l]);
		free(g.WT[l]);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The CNN (workloads/bcnn.h on analog/xbar_conv.h's tiles)             */

struct cctx {
	const struct bcnn_model *m;
	int nl, nc, smooth;
	const int *cand;
	double *W[BNN_MAX_LAYERS], *WT[BNN_MAX_LAYERS];
	double *t[BNN_MAX_LAYERS];      /* hidden: threshold in D units */
	double width[BNN_MAX_LAYERS];   /* straight-through window (D units) */
	double sd_read[BNN_MAX_LAYERS], sd_static[BNN_MAX_LAYERS];
	size_t mapsz[BNN_MAX_LAYERS];   /* input map of layer l (HWC) */
	size_t dsz[BNN_MAX_LAYERS];     /* positions x output channels */
	size_t mapmax, dmax;
	int vmax;
};

struct csample {
	uint8_t *lev0;                  /* first layer's input levels */
	double *x[BNN_MAX_LAYERS];      /* mixed input of layer l, per map element */
	double *a[BNN_MAX_LAYERS];      /* l > 0: the previous layer's activation */
	int *arg[BNN_MAX_LAYERS];       /* l > 0: position behind each map element */
	double *D[BNN_MAX_LAYERS], *e1[BNN_MAX_LAYERS];
	double *e2, *dx, *dDa, *dDb, *vec, *dvec;
	int nl;
};

static void *conv_scratch_new(const void *ctx)
{
	const struct cctx *g = ctx;
	struct csample *s = xcalloc(1, sizeof *s);
	s->nl = g->nl;
	s->lev0 = xmalloc(GBO_IN);
	for (int l = 0; l < g->nl; l++) {
		s->x[l] = xmalloc(sizeof(double) * g->mapsz[l]);
		s->a[l] = xmalloc(sizeof(double) * g->mapsz[l]);
		s->arg[l] = xmalloc(sizeof(int) * g->mapsz[l]);
		s->D[l] = xmalloc(sizeof(double) * g->dsz[l]);
		s->e1[l] = xcalloc(g->dsz[l], sizeof(double));
	}
	s->e2 = xmalloc(sizeof(double) * g->dmax);
	s->dx = xmalloc(sizeof(double) * g->mapmax);
	s->dDa = xmalloc(sizeof(double) * g->dmax);
	s->dDb = xmalloc(sizeof(double) * g->dmax);
	s->vec = xmalloc(sizeof(double) * (size_t)g->vmax);
	s->dvec = xmalloc(sizeof(double) * (size_t)g->vmax);
	return s;
}

static void conv_scratch_free(void *p)
{
	struct csample *s = p;
	if (!s)
		return;
	free(s->lev0);
	for (int l = 0; l < s->nl; l++) {
		free(s->x[l]);
		free(s->a[l]);
		free(s->arg[l]);
		free(s->D[l]);
		free(s->e1[l]);
	}
	free(s->e2);
	free(s->dx);
	free(s->dDa);
	free(s->dDb);
	free(s->vec);
	free(s->dvec);
	free(s);
}

/* Forward + backward of one image through the unrolled layers.  Forward:
 * layer l's mixed input x = sum_c pi_c q_Tc(level) per map element (the
 * first layer's requantised pixel levels; a binary layer's 0/1 inputs are
 * the same for every T, so x = (sum_c pi_c) a), then at every position
 * D = sum_i w_i (2 x_i - 1) + sd_read kappa e1 + sd_static e2, then the
 * periphery: the bit OR over the pool window of [D_Q >= thresh] (exactly
 * bcnn_post_layer), or with g->smooth the straight-through surrogate
 * clamp((D - t) / 2w + 1/2, 0, 1) at the window's largest D (what the
 * backward pass differentiates, for the gradient check).  Backward:
 * softmax cross-entropy, per position the transposed weights, scattered
 * back onto the input map (col2im), the pool's gradient to the position
 * with the largest D, the straight-through window |D - t| <= w (w =
 * sqrt(n_in), gbo_run's rule). */
static double conv_sample(const void *ctx, const double pi[][GBO_MAX_CAND], const double *kappa,
			  const uint8_t *pix, int label, struct rng *r, void *sp, double *dpi)
{
	const struct cctx *g = ctx;
	struct csample *s = sp;
	const struct bcnn_model *m = g->m;
	const struct bcnn_shape *sh = &m->s;
	const struct bnn_model *net = m->net;
	int last = g->nl - 1;
	double scores[GBO_CLASSES];
	bnn_input_levels(net, pix, s->lev0);
	for (int l = 0; l < g->nl; l++) {
		int q = net->qin[l], n = sh->n_in[l], no = sh->cout[l], P = sh->positions[l];
		int K = sh->k[l], C = sh->c[l], KC = K * C, OW = sh->ow[l], IW = sh->w[l];
		double *x = s->x[l];
		if (l == 0) {
			for (size_t e = 0; e < g->mapsz[0]; e++) {
				double v = 0;
				for (int c = 0; c < g->nc; c++)
					v += pi[0][c] * requant(s->lev0[e], q, g->cand[c]);
				x[e] = v;
			}
		} else {
			double S = 0;
			for (int c = 0; c < g->nc; c++)
				S += pi[l][c];
			for (size_t e = 0; e < g->mapsz[l]; e++)
				x[e] = S * s->a[l][e];
		}
		int noisy = g->sd_read[l] > 0 || g->sd_static[l] > 0;
		if (noisy) {
			rng_normal_zig_fill(r, s->e1[l], (long)g->dsz[l]);
			rng_normal_zig_fill(r, s->e2, (long)g->dsz[l]);
		}
		double sr = g->sd_read[l] * kappa[l], ss = g->sd_static[l];
		for (int pos = 0; pos < P; pos++) {
			int oy = pos / OW, ox = pos % OW;
			for (int ky = 0; ky < K; ky++) {
				const double *src = x + ((size_t)(oy + ky) * IW + ox) * C;
				double *dst = s->vec + ky * KC;
				for (int i = 0; i < KC; i++)
					dst[i] = 2.0 * src[i] - 1.0;
			}
			double *D = s->D[l] + (size_t)pos * no;
			for (int j = 0; j < no; j++)
				D[j] = 0;
			for (int i = 0; i < n; i++) {
				double v = s->vec[i];
				const double *row = g->WT[l] + (size_t)i * no;
				for (int j = 0; j < no; j++)
					D[j] += v * row[j];
			}
			if (noisy) {
				const double *e1 = s->e1[l] + (size_t)pos * no, *e2 = s->e2 + (size_t)pos * no;
				for (int j = 0; j < no; j++)
					D[j] += sr * e1[j] + ss * e2[j];
			}
		}
		if (l == last) {
			for (int j = 0; j < no; j++)
				scores[j] = bnn_score(net, l, j, s->D[l][j] * q);
			break;
		}
		/* periphery: threshold per channel, OR over the pool window */
		int pl = sh->pool[l] ? 2 : 1;
		double *an = s->a[l + 1];
		int *arg = s->arg[l + 1];
		for (int py = 0; py < sh->ph[l]; py++)
			for (int px = 0; px < sh->pw[l]; px++)
				for (int j = 0; j < no; j++) {
					int best = -1;
					double bd = 0;
					for (int dy = 0; dy < pl; dy++)
						for (int dx = 0; dx < pl; dx++) {
							int pos = (pl * py + dy) * OW + pl * px + dx;
							double d = s->D[l][(size_t)pos * no + j];
							if (best < 0 || d > bd) {
								best = pos;
								bd = d;
							}
						}
					size_t e = ((size_t)py * sh->pw[l] + px) * no + j;
					arg[e] = best;
					if (g->smooth) {
						double v = (bd - g->t[l][j]) / (2.0 * g->width[l]) + 0.5;
						an[e] = v < 0 ? 0.0 : v > 1 ? 1.0 : v;
					} else {
						an[e] = bnn_act_level(net, l, j, bd * q);
					}
				}
	}
	double mx = scores[0], se = 0, p[GBO_CLASSES];
	for (int j = 1; j < GBO_CLASSES; j++)
		if (scores[j] > mx)
			mx = scores[j];
	for (int j = 0; j < GBO_CLASSES; j++)
		se += (p[j] = exp(scores[j] - mx));
	double loss = -(scores[label] - mx - log(se));
	double *dD = s->dDa, *dDn = s->dDb;
	for (int j = 0; j < GBO_CLASSES; j++)
		dD[j] = (p[j] / se - (j == label)) * net->layer[last].g[j];
	for (int l = last; l >= 0; l--) {
		int q = net->qin[l], n = sh->n_in[l], no = sh->cout[l], P = sh->positions[l];
		int K = sh->k[l], C = sh->c[l], KC = K * C, OW = sh->ow[l], IW = sh->w[l];
		double *dp = dpi + (size_t)l * g->nc;
		/* noise path: dD/dpi_c = sd_read * e1 / sqrt(T_c) */
		double ne = 0;
		for (size_t k = 0; k < g->dsz[l]; k++)
			ne += dD[k] * s->e1[l][k];
		for (int c = 0; c < g->nc; c++)
			dp[c] += g->sd_read[l] * ne / sqrt((double)g->cand[c]);
		/* input path: dD_j/dx_i = 2 w_ji at every position, col2im */
		double *dx = s->dx;
		memset(dx, 0, sizeof(double) * g->mapsz[l]);
		for (int pos = 0; pos < P; pos++) {
			const double *d = dD + (size_t)pos * no;
			int any = 0;
			for (int j = 0; j < no && !any; j++)
				any = d[j] != 0;
			if (!any)
				continue;
			for (int i = 0; i < n; i++)
				s->dvec[i] = 0;
			for (int j = 0; j < no; j++) {
				if (d[j] == 0)
					continue;
				double dj = 2.0 * d[j];
				const double *row = g->W[l] + (size_t)j * n;
				for (int i = 0; i < n; i++)
					s->dvec[i] += dj * row[i];
			}
			int oy = pos / OW, ox = pos % OW;
			for (int ky = 0; ky < K; ky++) {
				double *dst = dx + ((size_t)(oy + ky) * IW + ox) * C;
				const double *src = s->dvec + ky * KC;
				for (int i = 0; i < KC; i++)
					dst[i] += src[i];
			}
		}
		if (l == 0) {
			for (size_t e = 0; e < g->mapsz[0]; e++)
				if (dx[e] != 0)
					for (int c = 0; c < g->nc; c++)
						dp[c] += dx[e] * requant(s->lev0[e], q, g->cand[c]);
			break;
		}
		double sa = 0, S = 0;
		for (size_t e = 0; e < g->mapsz[l]; e++)
			sa += dx[e] * s->a[l][e];
		for (int c = 0; c < g->nc; c++) {
			dp[c] += sa;
			S += pi[l][c];
		}
		/* to the previous layer's pre-activations: the window's largest D,
		 * inside the straight-through window */
		int pv = l - 1, npo = sh->cout[pv];
		memset(dDn, 0, sizeof(double) * g->dsz[pv]);
		for (size_t e = 0; e < g->mapsz[l]; e++) {
			if (dx[e] == 0)
				continue;
			int j = (int)(e % (size_t)npo);
			size_t k = (size_t)s->arg[l][e] * npo + j;
			double u = s->D[pv][k] - g->t[pv][j];
			if (fabs(u) <= g->width[pv])
				dDn[k] = dx[e] * S / (2.0 * g->width[pv]);
		}
		double *t = dD;
		dD = dDn;
		dDn = t;
	}
	return loss;
}

static void conv_reads(const struct xbar_params *xp, const struct bcnn_model *m,
		       double reads[BNN_MAX_LAYERS])
{
	for (int l = 0; l < m->s.nl; l++)
		reads[l] = (double)xbar_row_tiles(xp, m->net, l) * m->s.cout[l] * m->s.positions[l];
}

void gbo_conv_weights(const struct xbar_params *xp, const struct bcnn_model *m, int kind,
		      double w[BNN_MAX_LAYERS])
{
	double sum = 0;
	conv_reads(xp, m, w);
	for (int l = 0; l < m->s.nl; l++) {
		if (kind == GBO_BUDGET_MEAN)
			w[l] = 1.0;
		sum += w[l];
	}
	for (int l = 0; l < m->s.nl; l++)
		w[l] /= sum;
}

int gbo_conv_cheapest_first(const struct gbo_params *g, const struct xbar_params *xp,
			    const struct bcnn_model *m, struct xbar_enc_plan *plan,
			    struct nd_err *err)
{
	int cand[GBO_MAX_CAND];
	int nc = cheapest_cands(g, cand, err);
	if (nc < 0)
		return nc;
	double w[BNN_MAX_LAYERS], reads[BNN_MAX_LAYERS];
	gbo_conv_weights(xp, m, g->budget_kind, w);
	conv_reads(xp, m, reads);
	cheapest(m->s.nl, reads, w, cand, nc, g->budget, plan);
	return 0;
}

static int conv_ctx(const struct gbo_params *gp, const struct xbar_params *xp,
		    const struct bcnn_model *m, const int *cand, int nc, struct cctx *g,
		    struct nd_err *err)
{
	const struct bcnn_shape *sh = &m->s;
	const struct bnn_model *net = m->net;
	memset(g, 0, sizeof *g);
	(void)gp;
	if (net->nl != sh->nl || net->layer[sh->nl - 1].n_out != GBO_CLASSES ||
	    net->layer[sh->nl - 1].kind != BNN_OUT_SCORE)
		return nd_errf(err, -EINVAL, "gbo: the CNN's output layer is not %d class scores", GBO_CLASSES);
	for (int l = 1; l < sh->nl; l++)
		if (net->qin[l] != 1 || net->layer[l - 1].kind != BNN_OUT_BINARY)
			return nd_errf(err, -EINVAL, "gbo: CNN layer %d's input is not binary", l + 1);
	g->m = m;
	g->nl = sh->nl;
	g->nc = nc;
	g->cand = cand;
	g->mapsz[0] = GBO_IN;
	for (int l = 0; l < sh->nl; l++) {
		const struct bnn_layer *L = &net->layer[l];
		int n = L->n_in, no = L->n_out;
		ND_ASSERT(n == sh->n_in[l] && no == sh->cout[l]);
		if (l)
			g->mapsz[l] = (size_t)sh->h[l] * sh->w[l] * sh->c[l];
		ND_ASSERT(g->mapsz[l] == (size_t)sh->h[l] * sh->w[l] * sh->c[l]);
		g->dsz[l] = (size_t)sh->positions[l] * no;
		g->mapmax = g->mapsz[l] > g->mapmax ? g->mapsz[l] : g->mapmax;
		g->dmax = g->dsz[l] > g->dmax ? g->dsz[l] : g->dmax;
		g->vmax = n > g->vmax ? n : g->vmax;
		g->W[l] = xmalloc(sizeof(double) * (size_t)n * no);
		g->WT[l] = xmalloc(sizeof(double) * (size_t)n * no);
		for (int j = 0; j < no; j++)
			for (int i = 0; i < n; i++) {
				double w = bnn_w(L, j, i);
				g->W[l][(size_t)j * n + i] = w;
				g->WT[l][(size_t)i * no + j] = w;
			}
		if (L->kind == BNN_OUT_BINARY) {
			g->t[l] = xmalloc(sizeof(double) * (size_t)no);
			for (int j = 0; j < no; j++)
				g->t[l][j] = (double)L->thresh[j] / net->qin[l];
		}
		g->width[l] = sqrt((double)n);
		/* the unrolled rows on the tiles (not xbar_noise_model(), whose
		 * rows are the MLP's dim[l]) */
		xbar_preact_sd(xp, n, &g->sd_read[l], &g->sd_static[l]);
	}
	return 0;
}

static void conv_ctx_free(struct cctx *g)
{
	for (int l = 0; l < g->nl; l++) {
		free(g->W[l]);
		free(g->WT[l]);
		free(g->t[l]);
	}
}

static const struct gbo_ops conv_ops = { conv_scratch_new, conv_scratch_free, conv_sample };

int gbo_conv_run(const struct gbo_params *gp, const struct xbar_params *xp,
		 const struct bcnn_model *m, uint64_t seed,
		 const struct wl_dataset *train, struct gbo_result *out,
		 struct nd_err *err)
{
	memset(out, 0, sizeof *out);
	int nc = gbo_parse_candidates(gp->candidates, out->cand, err);
	if (nc < 0)
		return nc;
	struct cctx g;
	int rc = conv_ctx(gp, xp, m, out->cand, nc, &g, err);
	if (rc)
		return rc;
	out->nl = m->s.nl;
	out->ncand = nc;
	gbo_conv_weights(xp, m, gp->budget_kind, out->weight);
	optimise(gp, &conv_ops, &g, seed, train, out);
	conv_ctx_free(&g);
	return 0;
}

double gbo_conv_sample_grad(const struct gbo_params *gp, const struct xbar_params *xp,
			    const struct bcnn_model *m, const double pi[][GBO_MAX_CAND],
			    const uint8_t *pix, int label, uint64_t seed, uint64_t item,
			    int smooth, double *dpi, struct nd_err *err)
{
	int cand[GBO_MAX_CAND];
	int nc = gbo_parse_candidates(gp->candidates, cand, err);
	if (nc < 0)
		return (double)NAN;
	struct cctx g;
	if (conv_ctx(gp, xp, m, cand, nc, &g, err))
		return (double)NAN;
	g.smooth = smooth;
	double kappa[BNN_MAX_LAYERS];
	for (int l = 0; l < g.nl; l++) {
		kappa[l] = 0;
		for (int c = 0; c < nc; c++)
			kappa[l] += pi[l][c] / sqrt((double)cand[c]);
	}
	memset(dpi, 0, sizeof(double) * (size_t)g.nl * nc);
	struct rng r;
	rng_seed(&r, seed, item);
	void *s = conv_scratch_new(&g);
	double loss = conv_sample(&g, pi, kappa, pix, label, &r, s, dpi);
	conv_scratch_free(s);
	conv_ctx_free(&g);
	return loss;
}
