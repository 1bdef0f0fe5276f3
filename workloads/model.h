/*
 * model.h — differentiable classifiers for in-storage / in-host training:
 * multinomial logistic regression and multi-layer perceptrons (ReLU hidden
 * layers, softmax cross-entropy), as plain float32 functions over arrays.
 * No timing: the platforms (ndp/) charge time and energy from the MAC
 * counts this module reports.
 *
 * Parameters live in one flat float array so that workers, masters and
 * elastic centres can copy, average and subtract whole models:
 *   layer l (0..nl-1): W_l [dim[l]][dim[l+1]] row-major, then b_l [dim[l+1]].
 * Logistic regression is the network without hidden layers.
 *
 * Determinism: every OpenMP loop owns its outputs (one sample's activations,
 * one row of a weight gradient) and sums over the reduction dimension in
 * index order; float contraction is off in ISO C mode.  So a gradient, a
 * step and an accuracy are identical for any thread count.
 *
 * Data: wl_sample_x() turns stored sample "slots" into network inputs.  Slot
 * s names copy c = s / n of training image i = s % n; copy 0 is the image
 * itself (pixel / 255), copy c > 0 a deterministic augmentation of it (a
 * shift of up to aug_shift pixels and uniform noise of amplitude aug_noise),
 * computed on the fly, so an amplified data set costs no host memory.
 */
#ifndef ND_WL_MODEL_H
#define ND_WL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "workloads/idx.h"

#define WL_MLP_MAX_LAYERS 8
#define WL_MLP_MAX_WIDTH 4096

struct wl_mlp {
	int nl;                              /* weight layers (1 = LR) */
	int dim[WL_MLP_MAX_LAYERS + 1];      /* dim[0] inputs ... dim[nl] classes */
	size_t off_w[WL_MLP_MAX_LAYERS];     /* offsets into the flat parameters */
	size_t off_b[WL_MLP_MAX_LAYERS];
	size_t n_params;
	int max_width;
};

/* Sets up a network n_in -> hidden... -> n_out.  hidden is "" (logistic
 * regression) or comma-separated widths ("100", "256,128").  Returns 0 or
 * -EINVAL with err naming `what` (the config key). */
int wl_mlp_setup(struct wl_mlp *m, int n_in, const char *hidden, int n_out,
		 const char *what, struct nd_err *err);

/* Initial parameters: zeros for logistic regression; for hidden layers
 * Glorot-uniform weights (+-sqrt(6 / (fan_in + fan_out)), Glorot & Bengio
 * 2010) drawn from stream (seed, "init") and zero biases. */
void wl_mlp_init(const struct wl_mlp *m, float *params, uint64_t seed);

/* Dense multiply-accumulates per sample: forward pass; backward pass
 * (weight gradients plus error back-propagation through hidden layers). */
uint64_t wl_mlp_macs_fwd(const struct wl_mlp *m);
uint64_t wl_mlp_macs_bwd(const struct wl_mlp *m);

struct wl_mlp_ws;

/* MACs the last wl_mlp_grad / wl_mlp_loss / wl_mlp_predict over these n
 * samples executed with its zero skipping: per layer, nonzero inputs x
 * outputs for the forward pass, and (bwd) as many again for the weight
 * gradient plus, above layer 0, the error back-propagation (which skips
 * inactive ReLUs, the same zeros).  ws must hold that pass's activations. */
uint64_t wl_mlp_macs_executed(const struct wl_mlp *m, const float *x, int n,
			      const struct wl_mlp_ws *ws, int bwd);

/* Scratch space for batches of up to max_batch samples. */
struct wl_mlp_ws;
struct wl_mlp_ws *wl_mlp_ws_create(const struct wl_mlp *m, int max_batch);
void wl_mlp_ws_destroy(struct wl_mlp_ws *ws);

/* Mean gradient of the softmax cross-entropy over n samples (x: n rows of
 * dim[0] floats, y: labels) at `params`, written to grad (n_params).
 * Returns the summed loss.  1 <= n <= max_batch. */
double wl_mlp_grad(const struct wl_mlp *m, const float *params, const float *x,
		   const uint8_t *y, int n, float *grad, struct wl_mlp_ws *ws);

/* Summed loss only (for gradient checks). */
double wl_mlp_loss(const struct wl_mlp *m, const float *params, const float *x,
		   const uint8_t *y, int n, struct wl_mlp_ws *ws);

/* Class predictions of n samples; returns the number equal to y (when y is
 * not NULL).  1 <= n <= max_batch. */
long wl_mlp_predict(const struct wl_mlp *m, const float *params, const float *x,
		    const uint8_t *y, int n, uint8_t *pred, struct wl_mlp_ws *ws);

/* params -= lr * grad, element by element. */
void wl_sgd_step(float *params, const float *grad, float lr, size_t n);

/* Correct predictions of the model on a whole data set (copy 0 images),
 * in blocks, OpenMP over samples. */
long wl_mlp_correct(const struct wl_mlp *m, const float *params,
		    const struct wl_dataset *d);

/* Augmentation of amplified copies. */
struct wl_aug {
	uint64_t seed;
	int shift;           /* max |dx|, |dy| in pixels */
	float noise;         /* uniform noise amplitude, fraction of full scale */
};

/* Input vector (rows*cols floats in [0, 1]) and label of slot s of d. */
void wl_sample_x(const struct wl_dataset *d, uint64_t slot,
		 const struct wl_aug *aug, float *x, uint8_t *label);

#endif
