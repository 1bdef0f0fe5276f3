/*
 * bcnn.h — small convolutional networks on 28 x 28 images in three numeric
 * forms that share one code path: float (fp32 weights, ReLU), BWN (binary
 * weights sign(w), fp32 ReLU activations) and BNN (binary weights and +1/-1
 * activations, Courbariaux et al. 2016).  Training with the straight-through
 * estimator; the trained BNN is folded into a bnn_model (workloads/bnn.h) of
 * unrolled layers so that the crossbar (analog/xbar_conv.h) and the digital
 * reference run the same integers.  Plain functions over arrays; no timing.
 *
 * Architecture (the seed lecture's CIFAR-10 shape, two blocks of conv, conv,
 * pool, then fc, fc): valid k x k convolutions (no padding: a +1/-1 network
 * has no zero to pad with), 2 x 2 max-pooling after every second conv, then
 * a hidden fc layer and the 10-class output.  With k = 3 on 28 x 28:
 * 28 -> 26 -> 24 -> pool 12 -> 10 -> 8 -> pool 4, so the fc input is
 * 4 x 4 x C4.  Feature maps are stored HWC (channel fastest).
 *
 * Every layer is a convolution: the hidden fc layer is a conv whose kernel
 * covers the whole 4 x 4 map, the output layer a 1 x 1 conv on a 1 x 1 map.
 * Unrolling (im2col): output position (oy, ox) of layer l reads the vector
 * v_i, i = (ky * k + kx) * C_in + c  =  input (oy + ky, ox + kx, c), so a
 * layer is an n_in = k*k*C_in by n_out = C_out matrix applied at
 * positions = OH * OW places: kernel x input channels on crossbar rows,
 * output channels on columns.
 *
 * Per layer: z = W v (per position), batch norm per channel, max-pool (if
 * any), activation.  The BNN's activation is sign(pool(BN(z))), which is
 * exactly OR over the pool window of [BN(z) >= 0]: folded, a per-channel
 * integer threshold on D_Q at every position (weights of a channel with a
 * negative BN scale flipped, as bnn.h does for neurons) and then an OR of
 * the thresholded bits — both in the digital periphery.  The output layer
 * keeps y = g * D + h (class scores).  The first layer's input is the
 * pixel rounded to input_steps + 1 levels in [-1, 1] (bnn.h's rule).
 *
 * Determinism: training is single-threaded and draws from streams of
 * (seed, purpose, epoch); inference (bcnn_predict) uses OpenMP over images
 * with per-image outputs only, so thread count never changes a result.
 */
#ifndef ND_WL_BCNN_H
#define ND_WL_BCNN_H

#include <stdint.h>

#include "core/cfg.h"
#include "core/err.h"
#include "workloads/bnn.h"
#include "workloads/idx.h"

#define BCNN_MAX_CONV 4

enum bcnn_mode { BCNN_FLOAT = 0, BCNN_BWN = 1, BCNN_BNN = 2 };

/* Section "bcnn". */
struct bcnn_params {
	int mode;                      /* enum bcnn_mode (ndpsim train / single runs) */
	char conv[CFG_STR_MAX];        /* "16,16,32,32": output channels of the convs */
	int kernel;                    /* k */
	int fc;                        /* hidden fc units */
	int epochs;
	int batch;
	double lr;
	double lr_decay;
	int train_n;                   /* 0 = all 60,000 */
	int calib_n;                   /* images for the final BN statistics */
	int input_steps;               /* first-layer input levels - 1 */
	/* noise-aware training (the hook comes from analog/: bcnn_train_noisy) */
	int na_on;
	double na_d2d_sigma, na_read_sigma;
	int na_pulses;
};
extern const struct cfg_section bcnn_section;

/* Shapes of every layer (all treated as convolutions, see above). */
struct bcnn_shape {
	int nl;                        /* convs + 2 */
	int nconv;
	int h[BNN_MAX_LAYERS], w[BNN_MAX_LAYERS], c[BNN_MAX_LAYERS];  /* input map */
	int k[BNN_MAX_LAYERS];
	int cout[BNN_MAX_LAYERS];
	int oh[BNN_MAX_LAYERS], ow[BNN_MAX_LAYERS];   /* conv output (before pool) */
	int pool[BNN_MAX_LAYERS];      /* 2 x 2 max-pool after the layer */
	int ph[BNN_MAX_LAYERS], pw[BNN_MAX_LAYERS];   /* layer output map */
	int n_in[BNN_MAX_LAYERS];      /* k * k * c: unrolled rows */
	int positions[BNN_MAX_LAYERS]; /* oh * ow */
};

/* Resolves the shapes of p.  Returns 0 or -EINVAL naming bcnn.conv /
 * bcnn.kernel when the maps shrink to nothing. */
int bcnn_shape(const struct bcnn_params *p, struct bcnn_shape *s,
	       struct nd_err *err);

/* Multiply-accumulates of one image (sum over layers of positions * n_in *
 * n_out). */
double bcnn_macs(const struct bcnn_shape *s, int layer);

/* A folded BNN: net->layer[l] is layer l unrolled (n_in x n_out); net->dim
 * holds 784, the input map size of every later layer, and 10. */
struct bcnn_model {
	struct bcnn_shape s;
	struct bnn_model *net;
};
void bcnn_model_free(struct bcnn_model *m);   /* NULL is fine */

/* Writes / reads a folded BNN (little-endian binary, magic "NDBCNN1"):
 * the shape parameters (kernel, fc units, input steps, conv channels,
 * input threshold), then per layer the weight bits and either the
 * per-channel thresholds (hidden layers) or the score scale and shift
 * (output layer), then a crc32 (zlib) of every byte before it.  The
 * reader re-derives the shape with bcnn_shape() and refuses a file that
 * is cut, changed (checksum), has out-of-range shape parameters or
 * thresholds, non-finite scores or trailing bytes, with -EINVAL and a
 * message naming the file.  The writer goes through a temporary file and
 * a rename, so an existing file is replaced whole or not at all.
 * bcnn_model_conv() writes the model's channels as "16,16,32,32". */
int bcnn_model_save(const struct bcnn_model *m, const char *path, struct nd_err *err);
int bcnn_model_load(const char *path, struct bcnn_model **out, struct nd_err *err);
void bcnn_model_conv(const struct bcnn_model *m, char *buf, size_t n);

/* Training result: test accuracy of the network in its own numeric form
 * (float / BWN: fp32 forward with the re-estimated BN statistics; BNN: the
 * folded model through bcnn_predict) and, for BNN, the folded model. */
struct bcnn_result {
	double test_acc;
	double train_s;                /* CPU seconds of training */
	struct bcnn_model *model;      /* BNN only; caller frees */
};

/* Trains p->mode on `train`, evaluates on `test` (may be NULL: acc = -1).
 * cb (may be NULL) is called after every epoch with the mean loss and,
 * when test != NULL, the current test accuracy.  Returns 0 or -EINVAL. */
int bcnn_train(const struct bcnn_params *p, uint64_t seed,
	       const struct wl_dataset *train, const struct wl_dataset *test,
	       bnn_epoch_fn cb, void *arg, struct bcnn_result *out,
	       struct nd_err *err);

/* bcnn_train() with noise injection (noise-aware training, as
 * bnn_train_noisy()): hook (may be NULL = none) is called on every layer's
 * pre-activations z = W v (rows = images x output positions, m = output
 * channels, D units: v in [-1, 1], weights +1/-1 in the binary modes) in
 * the training forward pass only, with the optimiser step (0-based).  A
 * NULL hook gives bcnn_train()'s result bit for bit.  bcnn_train() refuses
 * bcnn.noise_aware.enable (the noise model lives in analog/: `ndpsim xbar
 * cnn` passes xbar_bnn_noise_fn). */
int bcnn_train_noisy(const struct bcnn_params *p, uint64_t seed,
		     const struct wl_dataset *train, const struct wl_dataset *test,
		     bnn_epoch_fn cb, void *arg, const struct bnn_noise_hook *hook,
		     struct bcnn_result *out, struct nd_err *err);

/* A BNN with random weights and thresholds near the median of D (for
 * tests that need a folded model in milliseconds). */
struct bcnn_model *bcnn_random(const struct bcnn_params *p, uint64_t seed,
			       struct nd_err *err);

/* Unrolled input vector of layer l at output position pos (= oy * ow + ox)
 * from the layer's input map `in` (levels, HWC). */
void bcnn_unroll(const struct bcnn_shape *s, int l, const uint8_t *in, int pos,
		 uint8_t *vec);

/* Digital periphery of a hidden layer: dq[pos * n_out + j] (D_Q of every
 * position) -> threshold per channel, OR over the pool window -> output
 * map levels (HWC, 0/1). */
void bcnn_post_layer(const struct bcnn_model *m, int l, const double *dq,
		     uint8_t *out);

/* Class of the output layer's D_Q (first argmax of the scores). */
int bcnn_classify(const struct bcnn_model *m, const double *dq);

/* Exact digital inference (XNOR / popcount for binary inputs, integer dot
 * products for the multi-level first layer).  preds may be NULL; returns
 * the number correct when labels != NULL.  OpenMP over images. */
long bcnn_predict(const struct bcnn_model *m, const uint8_t *pixels, long n,
		  const uint8_t *labels, uint8_t *preds);

#endif
