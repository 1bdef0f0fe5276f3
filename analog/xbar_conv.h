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
 * Converter references: centred, or (adc.ref = calibrated) placed per
 * layer, pulse, row tile and column from the exact partial sums of every
 * position of xbar.adc.calib_n training images (xbar_conv_refs), a
 * design-time setting shared by all chip instances whose calibration run
 * is counted (xbar_refs_calib_counts) and whose storage is in the area.
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
 * has (the message names the conv layer and its unrolled rows). */
int xbar_conv_map(const struct xbar_params *p, const struct bcnn_model *m,
		  struct xbar_conv_map *out, struct nd_err *err);

/* Converter references of m under p: centred, or, when p's references are
 * calibrated (adc.ref = calibrated with a b-bit converter), from n
 * calibration images (training images; OpenMP over images, integer sums,
 * so the thread count changes nothing).  Returns 0, or -EINVAL naming
 * the key (mapping; xbar.adc.ref with n <= 0 when calibration is needed). */
int xbar_conv_refs(const struct xbar_params *p, const struct bcnn_model *m,
		   const uint8_t *pixels, long n, xbar_refs **out, struct nd_err *err);

/* Runs n test images through chip instance `chip` with refs from
 * xbar_conv_refs() for p (NULL: centred references made here; an error
 * naming xbar.adc.ref when p's are calibrated) (OpenMP over images; read
 * noise from stream (seed, chip, layer, image * positions + pos), so the
 * thread count changes nothing).  preds may be NULL; counts (may be NULL)
 * are accumulated.  Returns the number correct, or -1 with err set. */
long xbar_conv_eval(const struct xbar_params *p, const struct bcnn_model *m,
		    const xbar_refs *refs, uint64_t seed, uint64_t chip,
		    const uint8_t *pixels, const uint8_t *labels, long n, uint8_t *preds,
		    struct xbar_counts *counts, struct nd_err *err);

/* Monte Carlo over chips 0..p->chips-1 (as xbar_monte_carlo), refs as in
 * xbar_conv_eval (shared by every chip). */
int xbar_conv_monte_carlo(const struct xbar_params *p, const struct bcnn_model *m,
			  const xbar_refs *refs, uint64_t seed, const uint8_t *pixels,
			  const uint8_t *labels, long n, struct xbar_mc *out, struct nd_err *err);

/* Cost path: xbar_cost() of the counts (the ledger is xbar.c's), with the
 * operations, latency and throughput of the conv layers scaled by their
 * positions: ops = 2 x positions x n_in x n_out, layer latency = positions x
 * the per-vector latency (positions run in sequence on the layer's tiles),
 * pipelined throughput = 1 / the slowest layer. */
void xbar_conv_cost(const struct xbar_params *p, const struct bcnn_model *m,
		    const struct xbar_counts *cnt, struct xbar_cost *out);

#endif
