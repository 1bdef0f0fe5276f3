/*
 * bnn_dp.h — digital binarized-network inference through a given integer
 * datapath, built on bnn.h's public model only.
 *
 * A datapath has a word width (8, 16, 32 or 64 bits), a rate in word-ops
 * per cycle (the caller's cost path uses it) and an accumulator width.  One
 * word-op is an AND (XNOR in {0,1} encoding) of a weight word with an input
 * bit-plane word, a popcount of it and the add into the accumulator.  The
 * code runs exactly that sequence, word by word and bit-plane by bit-plane
 * (bits_for(Q_l) planes of layer l's input levels, the same planes bnn.c's
 * bnn_predict runs), and every running sum lives in a signed acc_bits
 * register that saturates — so a narrow accumulator really changes the
 * answer.  With a 64-bit word and a wide accumulator the result equals
 * bnn_predict's.  The per-neuron weight popcount is a constant of the model
 * (folded at load time, not counted); the per-image popcount of each input
 * plane is counted.
 */
#ifndef ND_WL_BNN_DP_H
#define ND_WL_BNN_DP_H

#include <stdint.h>

#include "core/err.h"
#include "workloads/bnn.h"

struct bnn_dp {
	int word_bits;      /* 8, 16, 32 or 64 */
	int acc_bits;       /* 2..64: signed, saturating */
};

/* Checks the datapath; `what` names the config section.  0 or -EINVAL. */
int bnn_dp_check(const struct bnn_dp *d, const char *what, struct nd_err *err);

/* Bit-planes layer l's code runs (bits needed for the levels 0..qin[l]). */
int bnn_dp_planes(const struct bnn_model *m, int l);

/* Word-ops of one image on datapath d, as bnn_dp_predict runs them. */
uint64_t bnn_dp_word_ops(const struct bnn_model *m, const struct bnn_dp *d);

/* Word-ops of one image as bnn.c's bnn_predict runs them (64-bit words,
 * including its per-image popcount of every weight row). */
uint64_t bnn_dp_host_word_ops(const struct bnn_model *m);

/* Classifies n images (784 pixels each) on datapath d; preds may be NULL.
 * Returns the number equal to labels (when not NULL); *saturations counts
 * accumulator clips (may be NULL).  OpenMP over images; deterministic. */
long bnn_dp_predict(const struct bnn_model *m, const struct bnn_dp *d,
		    const uint8_t *pixels, long n, const uint8_t *labels,
		    uint8_t *preds, uint64_t *saturations);

#endif
