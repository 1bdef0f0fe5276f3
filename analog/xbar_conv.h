/*
 * xbar_conv.h — binarized CNNs (workloads/bcnn.h) on the crossbar tiles of
 * analog/xbar.h.
 *
 * Mapping by unrolling: conv layer l's k x k x C_in kernel is one column of
 * n_in = k*k*C_in weight pairs, C_out columns side by side, so the layer is
 * an n_in x C_out matrix split over ceil(n_in / (rows - bias_rows)) x
 * ceil(C_out / cols) tiles exactly as an MLP layer is (xbar_row_tiles /
 * xbar_col_tiles); the fc layers are the same with positions = 1.  The tiles
 * of a layer are programmed once and every output position of the layer's
 * map is one input vector streamed through them (positions in sequence on
 * the same tiles, no replication), each with the layer's pulses, read
 * noise fresh per pulse and position.  Partial sums of the row tiles are
 * added digitally; the batch-norm threshold of each channel and the 2 x 2
 * OR-pool are evaluated in the digital periphery (counted as the layer's
 * threshold actions and output-buffer bits).
 *
 * Everything else — cell variation, stuck cells, read noise, converter
 * bits and references, offsets, drift, IR drop, the energy ledger — is
 * xbar.c's own model: a chip is xbar_chip_create() of the folded model's
 * unrolled layers and each vector goes through xbar_layer_run().
 *
 * Supported: adc.ref = centred (calibrated references for conv layers are
 * not implemented and rejected naming the key).
 */
#ifndef ND_XBAR_CONV_H
#define ND_XBAR_CONV_H

#include <stdint.h>

#include "analog/xbar.h"
#include "core/err.h"
#include "workloads/bcnn.h"

/* Tiles of every layer and their utilisation (weights / weight cells). */
struct xbar_conv_map {
	int nl;
	int row_tiles[BNN_MAX_LAYERS], col_tiles[BNN_MAX_LAYERS];
	long tiles[BNN_MAX_LAYERS];
	double util[BNN_MAX_LAYERS];
	long total_tiles;
};

/* Maps m onto tiles of p.  Returns 0, or -EINVAL with a message naming the
 * key: xbar.max_tiles when the unrolled layers need more tiles than the chip
 * has (the message names the conv layer and its unrolled rows), xbar.adc.ref
 * for calibrated references. */
int xbar_conv_map(const struct xbar_params *p, const struct bcnn_model *m,
		  struct xbar_conv_map *out, struct nd_err *err);

/* Runs n test images through chip instance `chip` (OpenMP over images;
 * read noise from stream (seed, chip, layer, image * positions + pos), so
 * the thread count changes nothing).  preds may be NULL; counts (may be
 * NULL) are accumulated.  Returns the number correct, or -1 with err set. */
long xbar_conv_eval(const struct xbar_params *p, const struct bcnn_model *m,
		    uint64_t seed, uint64_t chip, const uint8_t *pixels,
		    const uint8_t *labels, long n, uint8_t *preds,
		    struct xbar_counts *counts, struct nd_err *err);

/* Monte Carlo over chips 0..p->chips-1 (as xbar_monte_carlo). */
int xbar_conv_monte_carlo(const struct xbar_params *p, const struct bcnn_model *m,
			  uint64_t seed, const uint8_t *pixels, const uint8_t *labels,
			  long n, struct xbar_mc *out, struct nd_err *err);

/* Cost path: xbar_cost() of the counts (the ledger is xbar.c's), with the
 * operations, latency and throughput of the conv layers scaled by their
 * positions: ops = 2 x positions x n_in x n_out, layer latency = positions x
 * the per-vector latency (positions run in sequence on the layer's tiles),
 * pipelined throughput = 1 / the slowest layer. */
void xbar_conv_cost(const struct xbar_params *p, const struct bcnn_model *m,
		    const struct xbar_counts *cnt, struct xbar_cost *out);

#endif
