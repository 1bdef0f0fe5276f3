/*
 * bnn.h — binarized multi-layer perceptrons on 28 x 28 images: training in C
 * and exact bit-packed inference.  Plain functions over arrays; no timing.
 *
 * Two networks share one representation (see analog/README.md):
 *  (a) act = binary: weights and activations +1/-1 (stored as levels 0/1,
 *      x = 2*level - 1); pixels binarised at input_threshold, or (with
 *      input_steps > 1) rounded to input_steps + 1 levels in [-1, 1] — the
 *      usual BNN practice of a higher-precision first-layer input, fed to
 *      the crossbar as pulses like any multi-level input.
 *  (b) act = multi: weights +1/-1, activations on Q+1 levels {0, 1/Q, .., 1}
 *      (Q = act_steps); pixels rounded to the same levels.
 * Layer l has input levels lev_i in 0..Q_l (Q_l = qin[l]) and computes the
 * integer  D_Q = sum_i w_i * (2*lev_i - Q_l),  i.e. D = D_Q / Q_l =
 * sum_i w_i (2 a_i - 1) with a_i = lev_i / Q_l in [0, 1], which
 * is exactly what an XNOR crossbar with all rows on measures, pulse by pulse.
 * Batch norm is folded at the end of training into per-neuron integer
 * thresholds (binary hidden layers: out = [D >= thresh], the weights of a
 * neuron with negative BN scale are flipped; thresh is in D_Q units) or an
 * affine map y = g*D + h
 * (multi-level hidden layers: level = clamp(round(Q*y), 0, Q); last layer:
 * class scores y, prediction = first argmax).
 *
 * Training (bnn_train): latent float weights in [-1, 1], sign() in the
 * forward pass, the straight-through estimator for weights and activations,
 * batch norm with batch statistics, softmax cross-entropy, Adam; the final
 * batch-norm statistics are re-estimated on training images in eval mode.
 * Deterministic: every OpenMP loop writes disjoint outputs and reduces in a
 * fixed order, and the shuffle stream is derived from (seed, epoch), so the
 * thread count never changes a weight.
 */
#ifndef ND_WL_BNN_H
#define ND_WL_BNN_H

#include <stdint.h>
#include <stdio.h>

#include "core/cfg.h"
#include "core/err.h"
#include "workloads/idx.h"

#define BNN_MAX_LAYERS 8
#define BNN_MAX_WIDTH 8192

enum bnn_act { BNN_ACT_BINARY = 0, BNN_ACT_MULTI = 1 };
enum bnn_out { BNN_OUT_BINARY = 0, BNN_OUT_MULTI = 1, BNN_OUT_SCORE = 2 };

/* Section "bnn": architecture and training hyper-parameters. */
struct bnn_params {
	int act;                       /* enum bnn_act */
	int act_steps;                 /* Q for act = multi */
	char hidden[CFG_STR_MAX];      /* "512,512" */
	int epochs;
	int batch;
	double lr;
	double lr_decay;               /* multiplicative per epoch */
	int train_n;                   /* 0 = all 60,000 */
	int calib_n;                   /* images for the final BN statistics */
	double input_threshold;        /* binary input: pixel/255 >= this */
	int input_steps;               /* act = binary: 1 = binarised input */
	/* noise-aware training: crossbar noise sampled in the training forward
	 * pass (the model of the noise lives in analog/, see bnn_noise_hook) */
	int na_on;
	double na_d2d_sigma;           /* relative, per cell */
	double na_read_sigma;          /* relative, per cell and pulse */
	int na_pulses;                 /* unary pulses the read noise averages over */
};
extern const struct cfg_section bnn_section;

/* Parses "512,512" into dims[1..]; dims[0] = 784, last = 10.  Returns the
 * number of layers or -EINVAL with err naming bnn.hidden. */
int bnn_parse_dims(const char *hidden, int dims[BNN_MAX_LAYERS + 1],
		   struct nd_err *err);

/* One folded inference layer.  Weight bit i of row j is 1 for w = +1; rows
 * are `words` 64-bit words long and unused high bits are zero. */
struct bnn_layer {
	int n_in, n_out, words;
	int kind;                      /* enum bnn_out */
	uint64_t *wbits;               /* n_out * words */
	int32_t *thresh;               /* BNN_OUT_BINARY: out = [D_Q >= thresh] */
	double *g, *h;                 /* MULTI / SCORE: y = g * D + h */
};

struct bnn_model {
	int act;                       /* enum bnn_act */
	int q;                         /* hidden activation steps: 1 for binary */
	int input_thr;                 /* qin[0] == 1: level 1 iff pixel >= this */
	int qin[BNN_MAX_LAYERS];       /* input steps Q_l of each layer */
	int nl;
	int dim[BNN_MAX_LAYERS + 1];
	struct bnn_layer layer[BNN_MAX_LAYERS];
};

void bnn_model_free(struct bnn_model *m);  /* NULL is fine */

/* Writes / reads the folded model (little-endian binary, magic "NDBNN3",
 * then a crc32 of every byte before it).  The reader refuses a file whose
 * checksum differs or whose parameters are out of range (non-finite g / h)
 * with -EINVAL.  Return 0 or -errno with err naming the file. */
/* fwrite / fread of n items that also run a zlib crc32 over them (the
 * model files' checksum; bnn and bcnn models).  1 on success, 0 on a short
 * write or read. */
int bnn_fwrite_crc(const void *p, size_t size, size_t n, FILE *f, unsigned long *crc);
int bnn_fread_crc(void *p, size_t size, size_t n, FILE *f, unsigned long *crc);

int bnn_model_save(const struct bnn_model *m, const char *path,
		   struct nd_err *err);
int bnn_model_load(const char *path, struct bnn_model **out,
		   struct nd_err *err);

/* Input levels (0..qin[0]) of one image of 784 pixels. */
void bnn_input_levels(const struct bnn_model *m, const uint8_t *pix,
		      uint8_t *lev);

/* Activation level (0..q) of neuron j of hidden layer l given its
 * D_Q = Q_l * D (an integer in exact arithmetic; a real number when it comes
 * from a noisy crossbar). */
int bnn_act_level(const struct bnn_model *m, int l, int j, double dq);
/* Class score of neuron j of the last layer given D_Q. */
double bnn_score(const struct bnn_model *m, int l, int j, double dq);

/* Exact digital inference with bit-packed XNOR / popcount (bit planes of
 * the levels for act = multi).  preds[i] for images i < n; OpenMP over
 * images.  Returns the number of correct predictions when labels != NULL. */
long bnn_predict(const struct bnn_model *m, const uint8_t *pixels, long n,
		 const uint8_t *labels, uint8_t *preds);

/* Per-epoch progress: epoch (1-based), mean training loss, test accuracy
 * of the folded model (or -1 without a test set). */
typedef void (*bnn_epoch_fn)(void *arg, int epoch, double loss, double acc);

/* Trains a network on `train` and returns the folded model in *out.
 * `test` may be NULL.  Returns 0 or -EINVAL (bad bnn.hidden, or
 * bnn.noise_aware.enable without a noise model: use bnn_train_noisy()). */
int bnn_train(const struct bnn_params *p, uint64_t seed,
	      const struct wl_dataset *train, const struct wl_dataset *test,
	      bnn_epoch_fn cb, void *arg, struct bnn_model **out,
	      struct nd_err *err);

/* Noise injected into the training forward pass (noise-aware training):
 * fn adds noise to the pre-activations z (rows x m, row-major, in units of
 * D = sum_i w_i x_i with x_i in [-1, 1]: one +1/-1 weight times a full-scale
 * input is 1) of weight layer `layer` with n_in inputs, for optimiser step
 * `step` (0-based, counted over all epochs).  It must be deterministic in
 * (layer, step, row) whatever the thread count.  The crossbar's model of
 * that noise is xbar_bnn_noise() in analog/xbar.h. */
struct bnn_noise_hook {
	void (*fn)(void *arg, int layer, int n_in, float *z, long rows, int m,
		   uint64_t step);
	void *arg;
};

/* bnn_train() with noise injection: hook (may be NULL = none) is called on
 * every layer's pre-activations in the training forward pass only (not
 * in the batch-norm re-estimation nor at inference).  With a NULL hook,
 * or a hook that adds exactly zero, the result is bit-identical to
 * bnn_train() with bnn.noise_aware.enable = false. */
int bnn_train_noisy(const struct bnn_params *p, uint64_t seed,
		    const struct wl_dataset *train, const struct wl_dataset *test,
		    bnn_epoch_fn cb, void *arg, const struct bnn_noise_hook *hook,
		    struct bnn_model **out, struct nd_err *err);

/* +1 / -1 weight of row j, input i. */
static inline int bnn_w(const struct bnn_layer *L, int j, int i)
{
	return (int)((L->wbits[(size_t)j * (size_t)L->words + (size_t)(i >> 6)]
		      >> (i & 63)) & 1u) * 2 - 1;
}

#endif
