/*
 * gbo.h — gradient-based bit-encoding optimisation (GBO, Kim et al.,
 * DATE 2022): learn how many unary input pulses each layer gets.
 *
 * Model (shared/reference/analog.md): layer l's input level a is sent as T
 * unary pulses, i.e. requantised to T steps, and every pulse reads the
 * crossbar once, so the decoded sum carries read noise of variance
 * sigma_l^2 / T (sigma_l from xbar_noise_model(): the layer's tiles, cells and
 * on/off ratio) plus a static part that no pulse count removes.  Per layer a
 * softmax (or Gumbel-softmax) over candidate T mixes the candidates in the
 * forward pass — the mixed input sum_c pi_c q_Tc(a) and the mixed noise
 * sigma_l * eps * sum_c pi_c / sqrt(T_c) — with the folded network's weights
 * frozen; loss = cross-entropy under sampled noise + lambda * expected pulse
 * cost.  The pulse cost counts column reads (each one a conversion): layer l
 * weighs w_l = its share of the column reads of a one-pulse encoding, so
 * cost = sum_l w_l T_l, which is T for a uniform encoding and tracks energy.
 * With a budget, lambda rises by dual ascent while the expected cost
 * exceeds it.  Gradients reach the logits through the mixing weights;
 * activations pass the straight-through estimator.  At the end each layer
 * keeps its most probable T, or, with a budget, the most probable assignment
 * whose cost fits the budget.
 *
 * Determinism: noise is drawn from stream (seed, step, sample) and the
 * per-sample gradients are summed in sample order.
 */
#ifndef ND_GBO_H
#define ND_GBO_H

#include "analog/xbar.h"
#include "core/cfg.h"
#include "workloads/bcnn.h"
#include "workloads/bnn.h"
#include "workloads/idx.h"

#define GBO_MAX_CAND 8

/* Section "gbo". */
struct gbo_params {
	char candidates[CFG_STR_MAX];   /* "1,2,4,8,16" */
	double lambda;                  /* per pulse of cost */
	double lambda_lr;               /* dual ascent on lambda (budget) */
	int steps;
	int batch;
	double lr;
	int gumbel;
	double tau;
	int train_n;
	double budget;                  /* cost in pulses; 0 = none */
	int budget_kind;                /* enum gbo_budget */
};

/* What the pulse cost (and a budget on it) counts: column reads (each layer
 * weighted by its share of the column reads of a one-pulse encoding, which
 * tracks energy) or the plain mean of the layers' pulse counts (the paper's
 * abstract: "pulses per layer"). */
enum gbo_budget { GBO_BUDGET_WEIGHTED = 0, GBO_BUDGET_MEAN = 1 };
extern const struct cfg_section gbo_section;

struct gbo_result {
	int nl, ncand;
	int cand[GBO_MAX_CAND];
	double prob[BNN_MAX_LAYERS][GBO_MAX_CAND];
	int chosen[BNN_MAX_LAYERS];     /* pulses per layer */
	double weight[BNN_MAX_LAYERS];  /* layer's weight in the cost (budget_kind) */
	double mean_pulses;             /* unweighted mean over layers */
	double cost_pulses;             /* sum_l weight_l T_l */
	double lambda_final;
	double loss_first, loss_last;   /* mean CE of the first / last 10 % of steps */
};

/* Parses gbo.candidates.  Returns the count or -EINVAL. */
int gbo_parse_candidates(const char *s, int cand[GBO_MAX_CAND], struct nd_err *err);

/* Learns pulse counts for model m under the noise of xbar config xp on
 * training images.  Returns 0 or -EINVAL. */
int gbo_run(const struct gbo_params *g, const struct xbar_params *xp,
	    const struct bnn_model *m, uint64_t seed,
	    const struct wl_dataset *train, struct gbo_result *out,
	    struct nd_err *err);

/* Layer weights of the pulse cost for budget_kind (sum 1). */
void gbo_weights(const struct xbar_params *xp, const struct bnn_model *m, int kind,
		 double w[BNN_MAX_LAYERS]);

/* The trivial baseline "most pulses to the cheapest layer": every layer
 * starts at the smallest candidate; layers in order of increasing column
 * reads (cheapest first) each get the largest candidate that keeps the
 * cost (budget_kind) within gbo.budget.  Returns 0, or -EINVAL without a
 * budget. */
int gbo_cheapest_first(const struct gbo_params *g, const struct xbar_params *xp,
		       const struct bnn_model *m, struct xbar_enc_plan *plan,
		       struct nd_err *err);

/* GBO over a binarized CNN's crossbar layers (workloads/bcnn.h mapped by
 * analog/xbar_conv.h: conv and fc layers unrolled, k x k x C_in rows).
 * The same model as gbo_run(), per output position: layer l's input map
 * is mixed over the candidates (the first layer's requantised pixel
 * levels; the binary maps of later layers are the same for every T), every
 * position's pre-activation gets read noise sd_read_l * kappa_l * N(0, 1)
 * and the static part sd_static_l * N(0, 1), both drawn fresh per
 * (sample, position, channel), with sd from xbar_preact_sd() for the
 * layer's unrolled rows; the periphery is the hard per-channel threshold
 * and the OR over the pool window (bcnn_post_layer), back-propagated with
 * the straight-through estimator to the window's largest pre-activation.
 * Budget weights (gbo_conv_weights): mean = 1 / layers; weighted = the
 * layer's share of the column reads of a one-pulse encoding, row tiles x
 * output channels x positions.  Returns 0 or -EINVAL (candidates; a model
 * whose hidden layers are not binary). */
int gbo_conv_run(const struct gbo_params *g, const struct xbar_params *xp,
		 const struct bcnn_model *m, uint64_t seed,
		 const struct wl_dataset *train, struct gbo_result *out,
		 struct nd_err *err);
void gbo_conv_weights(const struct xbar_params *xp, const struct bcnn_model *m, int kind,
		      double w[BNN_MAX_LAYERS]);
/* gbo_cheapest_first() for the CNN's layers (column reads as above). */
int gbo_conv_cheapest_first(const struct gbo_params *g, const struct xbar_params *xp,
			    const struct bcnn_model *m, struct xbar_enc_plan *plan,
			    struct nd_err *err);

/* Test hook: the loss of one image under mixing weights pi (layers x
 * candidates; they need not sum to 1) with the noise of stream (seed,
 * item), and d loss / d pi in dpi (layers x candidates, row-major).  With
 * smooth, the forward pass uses the straight-through surrogate the
 * backward pass differentiates (clamp((D - t) / 2w + 1/2, 0, 1), max over
 * the pool window) instead of the hard thresholds, so a finite difference
 * of the loss must match dpi.  Returns NAN with err set on bad input. */
double gbo_conv_sample_grad(const struct gbo_params *g, const struct xbar_params *xp,
			    const struct bcnn_model *m, const double pi[][GBO_MAX_CAND],
			    const uint8_t *pix, int label, uint64_t seed, uint64_t item,
			    int smooth, double *dpi, struct nd_err *err);

/* Formats chosen pulses as "2,1,8" (for xbar.encoding.pulses_per_layer). */
void gbo_format(const struct gbo_result *r, char *buf, size_t n);

#endif
