/*
 * memplat.h — the "memory" platform of the three-way comparison for
 * training: near-DRAM processing in a TETRIS-style 3D stack (ndram.h).
 *
 * Value path: the stack runs the same plain minibatch SGD as the host (same
 * model, same batch, same sample order, same learning-rate rule), so its
 * accuracy after e epochs is the host's, computed for real by ihp_train();
 * this module re-times that trajectory.  (The TETRIS PEs are 16-bit; the
 * trajectory is the float32 one, i.e. this assumes mixed-precision training
 * matches float32 here, which the report says.)
 *
 * Cost path: the data set must first arrive from the SSD.  That transfer is
 * simulated with ssdsim (sequential 128 KiB reads over the host path) and
 * crosses the host <-> stack link.  If the data set fits in the stack it is
 * loaded once; otherwise every epoch streams it again and an epoch takes
 * max(stack compute, SSD stream).  Per epoch the stack does every sample's
 * forward and backward MACs, reads every stored sample from its DRAM, moves
 * inputs and parameters through the vault buffers and all-reduces each
 * minibatch's gradient over the vault network (ring reduce-scatter +
 * all-gather: 2 (V-1) x n_params words per minibatch).
 */
#ifndef ND_HIF_MEMPLAT_H
#define ND_HIF_MEMPLAT_H

#include "core/err.h"
#include "hostif/ndram.h"
#include "ndp/ihp.h"
#include "ndp/train.h"
#include "ssdsim/ssd.h"

struct hif_mem_opts {
	const struct ndram_params *ndram;
	const struct ssd_params *ssd;
	const struct ndp_train_params *train;
	const struct ihp_params *host;
	const struct ndp_result *host_result;  /* the trajectory to re-time */
	uint32_t n_train, n_test;              /* data set sizes */
	uint64_t seed;
};

/* What the stack adds to an ndp_result. */
struct hif_mem_extra {
	const char *bound;        /* slowest stage of an epoch (ndram_cost.bound) */
	uint64_t stack_bytes;     /* DRAM traffic inside the stack, whole run */
};

/* Fills r (where = "memory") with the re-timed trajectory, energy by
 * component and bytes moved, and extra with what ndp_result has no field
 * for.  Returns 0 or -EINVAL.  Free r with ndp_result_free(). */
int hif_mem_train(const struct hif_mem_opts *o, struct ndp_result *r,
		  struct hif_mem_extra *extra, struct nd_err *err);

#endif
