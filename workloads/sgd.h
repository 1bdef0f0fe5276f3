/*
 * sgd.h — the one SGD step every training platform runs: the host
 * (hostif/host.c), the in-storage units and master (ndp/isp.c), the near-DRAM
 * PEs (hostif/plat_ndram.c) and `ndpsim calibrate` (hostif/calib.c).
 *
 * A step is: the gradient of each minibatch part (wl_sgd_grad), their sum in
 * part order (wl_sgd_sum), the mean (wl_sgd_mean) and the update
 * (wl_sgd_update).  Because every platform calls these same functions in the
 * same order, two platforms that see the same samples in the same order and
 * compute in the same format produce the same model bit for bit.
 *
 * Cost counts.  Each function adds what it executed to a wl_sgd_count:
 * multiply-accumulates of the forward and backward passes, and the
 * element-wise operations of sum, mean and update.  With zero_skip the MACs
 * counted are the ones a datapath that skips zero operands executes (zero
 * pixels and ReLU zeros: the value is the same, 0 x w adds nothing); without
 * it, the dense count.  FLOPs = 2 x MACs + element-wise ops.
 *
 * Numeric format (the value path).  fp32: plain float arithmetic, identical
 * to wl_sgd_step().  Fixed point Qm.n: the weights are stored in a signed
 * 1 + m + n bit word with n fraction bits; after every update each weight is
 * rounded to the grid 2^-n (to nearest, ties away from zero, or
 * stochastically: up with probability equal to the remainder, Gupta et al.
 * ICML 2015) and saturated to [-2^m, 2^m - 2^-n].  Products are accumulated
 * wide (the PE's 32-bit accumulator), so forward and backward passes compute
 * with the stored (quantised) weights and float activations; what a
 * fixed-point datapath loses here is the small updates that round away —
 * the effect that makes round-to-nearest training fail at low precision.
 */
#ifndef ND_WL_SGD_H
#define ND_WL_SGD_H

#include <stddef.h>
#include <stdint.h>

#include "core/cfg.h"
#include "core/err.h"
#include "workloads/model.h"

enum wl_num_kind { WL_NUM_FP32, WL_NUM_FIXED };
enum wl_round { WL_ROUND_NEAREST, WL_ROUND_STOCHASTIC };
extern const char *const wl_num_names[];     /* "fp32", "fixed" */
extern const char *const wl_round_names[];   /* "nearest", "stochastic" */

/* A datapath's number format (config fields of its section). */
struct wl_numfmt {
	int kind;        /* enum wl_num_kind */
	int int_bits;    /* m: integer bits, sign not included */
	int frac_bits;   /* n: fraction bits */
	int round;       /* enum wl_round */
};

/* Checks a fixed-point format: at least one integer bit, 1 + m + n <= 32.
 * `what` names the config section ("ndram", "ndp.unit") for the message.
 * Returns 0 or -EINVAL. */
int wl_numfmt_check(const struct wl_numfmt *f, const char *what, struct nd_err *err);
/* "fp32" or "Q3.12 (16-bit, stochastic rounding)". */
void wl_numfmt_name(const struct wl_numfmt *f, char *buf, size_t n);

struct wl_sgd {
	const struct wl_mlp *m;
	int zero_skip;              /* count skipped zero operands as not executed */
	struct wl_numfmt fmt;
	uint64_t seed;              /* stochastic rounding stream */
	uint64_t n_updates;         /* updates applied (the rounding stream's position) */
};

struct wl_sgd_count {
	uint64_t macs;              /* executed (zero_skip) or dense */
	uint64_t macs_dense;
	uint64_t elem_ops;          /* sum, mean, update: one op per element */
};

static inline double wl_sgd_flops(const struct wl_sgd_count *c)
{
	return 2.0 * (double)c->macs + (double)c->elem_ops;
}

void wl_sgd_init(struct wl_sgd *s, const struct wl_mlp *m, int zero_skip,
		 const struct wl_numfmt *fmt, uint64_t seed);

/* Initial parameters (wl_mlp_init), stored in the format (rounded to
 * nearest). */
void wl_sgd_init_params(const struct wl_sgd *s, float *params, uint64_t seed);

/* Forward + backward of one minibatch part: the mean gradient of n samples
 * into grad; returns the summed loss; adds the MACs to c (may be NULL). */
double wl_sgd_grad(const struct wl_sgd *s, const float *params, const float *x,
		   const uint8_t *y, int n, float *grad, struct wl_mlp_ws *ws,
		   struct wl_sgd_count *c);

/* sum = g (first part) or sum += g. */
void wl_sgd_sum(const struct wl_sgd *s, float *sum, const float *g, int first,
		struct wl_sgd_count *c);
/* sum *= 1 / parts (as a float reciprocal, the sync-ISP master's
 * arithmetic). */
void wl_sgd_mean(const struct wl_sgd *s, float *sum, int parts, struct wl_sgd_count *c);

/* params -= lr * grad, then stored in the format.  Advances the rounding
 * stream. */
void wl_sgd_update(struct wl_sgd *s, float *params, const float *grad, float lr,
		   struct wl_sgd_count *c);

/* Forward-only MACs of n samples for inference (wl_mlp_predict), executed
 * or dense according to zero_skip.  x as for wl_sgd_grad; ws holds the
 * activations of the last forward pass over exactly these n samples. */
uint64_t wl_sgd_infer_macs(const struct wl_sgd *s, const float *x, int n,
			   const struct wl_mlp_ws *ws);

/* One value of the format's grid (for tests): v rounded and saturated;
 * u in [0, 1) is the stochastic draw (ignored for nearest). */
float wl_numfmt_quantize(const struct wl_numfmt *f, float v, double u);

#endif
