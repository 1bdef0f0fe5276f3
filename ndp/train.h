/*
 * train.h — what in-storage (ndp.h) and in-host (ihp.h) training share: the
 * "train" config section (model, SGD hyperparameters, data set and its
 * amplification), the layout of the data set in simulated flash, the
 * per-worker sample streams, and the result of a run (accuracy against
 * simulated time, time and energy to the target accuracy, energy by
 * component, bytes moved).
 *
 * Layout.  A training sample is stored as its 784 pixels plus its label
 * (785 bytes); floor(unit / 785) samples are packed into each FTL map unit
 * (5 per 4 KiB unit), and the data set occupies map units 0.. in slot order
 * (slot s = copy s / n of image s % n; see workloads/model.h), followed by
 * the test set.  Units are grouped into chunks of one program unit (page
 * units x planes when multi-plane), the granularity the FTL stripes over
 * channels: with the default CWDP order every channel holds 1/channels of
 * the chunks.  A chunk is the unit of reading and of shuffling.
 *
 * Streams.  Worker w (an in-storage channel unit, or the host) sees in epoch
 * e its chunks in the order of a Fisher-Yates shuffle drawn from stream
 * (seed, e, w), and the samples of each chunk in slot order; minibatch k is
 * samples [kB, (k+1)B) of that sequence (the last one may be short).
 * ndp_stream_* expose exactly this order, so a plain SGD loop can replay it.
 *
 * All times are simulated ns; energies J; sizes bytes.
 */
#ifndef ND_NDP_TRAIN_H
#define ND_NDP_TRAIN_H

#include <stdint.h>
#include <stdio.h>

#include "core/cfg.h"
#include "core/energy.h"
#include "core/err.h"
#include "ssdsim/ssd.h"
#include "workloads/idx.h"
#include "workloads/model.h"
#include "workloads/sgd.h"

enum ndp_model_kind { NDP_MODEL_LR, NDP_MODEL_MLP };

/* Section "train". */
struct ndp_train_params {
	int model;                      /* enum ndp_model_kind */
	char hidden[CFG_STR_MAX];       /* MLP hidden widths, "100" */
	int batch;                      /* samples per worker minibatch */
	double lr;                      /* learning rate of epoch 0 per lr_ref_batch samples */
	int lr_ref_batch;               /* linear scaling reference batch */
	double lr_decay;                /* multiplied in every epoch */
	int epochs;
	double target_acc;              /* fraction, e.g. 0.84 */
	int evals_per_epoch;            /* accuracy points per epoch of data */
	int amplify;                    /* k copies of the training set */
	int aug_shift;                  /* pixels */
	double aug_noise;               /* fraction of full scale */
	char data_dir[CFG_STR_MAX];     /* "" = wl_fmnist_default_dir() */
};
extern const struct cfg_section ndp_train_section;

/* Learning rate of an update in epoch e whose gradient is the mean over
 * n samples: lr * lr_decay^e * n / lr_ref_batch (the linear scaling rule,
 * Goyal et al. 2017), as the float every platform applies. */
float ndp_lr(const struct ndp_train_params *tp, int epoch, double n);

/* Network of the config (784 inputs, 10 classes). */
int ndp_model_setup(const struct ndp_train_params *tp, struct wl_mlp *m,
		    struct nd_err *err);

/* Loads the Fashion-MNIST train and test splits named by tp->data_dir. */
int ndp_load_data(const struct ndp_train_params *tp, struct wl_dataset *train,
		  struct wl_dataset *test, struct nd_err *err);

/* --------------------------------------------------------------- layout */

struct ndp_chunk {
	uint64_t unit;        /* first map unit */
	uint64_t slot;        /* first sample slot */
	uint32_t n_units;
	uint32_t n_samples;
	int chan;             /* channel holding it */
};

struct ndp_layout {
	uint32_t sample_bytes;       /* 785 */
	uint32_t samples_per_unit;   /* 5 for 4 KiB units */
	uint32_t unit_bytes;
	uint32_t chunk_units;
	int channels;
	uint64_t n_slots;            /* training samples (n x amplify) */
	uint64_t n_units;            /* training units */
	uint64_t data_bytes;         /* n_units x unit_bytes: the data set on disk */
	uint32_t n_chunks;
	struct ndp_chunk *chunk;
	uint32_t *chan_first;        /* chunks of channel c: chan_list[chan_first[c] .. chan_first[c+1]) */
	uint32_t *chan_list;
	uint32_t n_test;             /* test samples (stored after the training set) */
	uint32_t n_test_chunks;
	struct ndp_chunk *test_chunk;
};

/* Writes the training set (n_train x amplify samples) and n_test test
 * samples into the drive functionally (ssd_write_functional) and records
 * where every chunk landed.  Returns 0 or -EINVAL when the data does not fit
 * the drive's logical capacity. */
int ndp_layout_place(struct ndp_layout *L, ssd *s, const struct ssd_params *sp,
		     uint32_t n_train, int amplify, uint32_t n_test,
		     struct nd_err *err);
void ndp_layout_free(struct ndp_layout *L);

/* --------------------------------------------------------------- streams */

#define NDP_WORKER_HOST 0xffff

struct ndp_stream {
	const struct ndp_layout *L;
	uint64_t seed;
	int worker;                  /* channel, or NDP_WORKER_HOST (all chunks) */
	int batch;
	uint32_t n_chunks;
	const uint32_t *chunks;      /* the worker's chunk ids (borrowed) */
	uint32_t *all;               /* owned list when worker is the host */
	uint32_t *order;             /* this epoch's chunk ids */
	uint64_t *cum;               /* cum[p] = samples before position p */
	uint64_t n_samples;
	uint32_t n_batches;
	int epoch;
};

void ndp_stream_init(struct ndp_stream *st, const struct ndp_layout *L,
		     int worker, int batch, uint64_t seed);
void ndp_stream_fini(struct ndp_stream *st);
/* Sets the order of epoch e. */
void ndp_stream_epoch(struct ndp_stream *st, int epoch);
/* Samples [*s0, *s1) of batch k of the current epoch. */
void ndp_stream_batch(const struct ndp_stream *st, uint32_t k, uint64_t *s0,
		      uint64_t *s1);
/* Position (index into order) of the chunk holding sample i of the epoch. */
uint32_t ndp_stream_pos(const struct ndp_stream *st, uint64_t i);
/* Storage slot of sample i of the epoch. */
uint64_t ndp_stream_slot(const struct ndp_stream *st, uint64_t i);

/* --------------------------------------------------------------- replay */

/* The arithmetic of one synchronous step over G streams, the one copy that
 * the host model (hostif/host.c), its calibration (hostif/calib.c) and the
 * replay below run: for each stream with a batch k, in stream order, the
 * batch's samples are assembled (wl_sample_x with augmentation) and their
 * mean gradient taken (wl_sgd_grad); the step's gradient is the mean of the
 * per-stream means (sync ISP's arithmetic, ndp/isp.c), applied at
 * ndp_lr(tp, epoch, samples) through the shared step of workloads/sgd.h in
 * the format given. */
struct ndp_step {
	const struct wl_dataset *set;   /* borrowed */
	const struct ndp_train_params *tp;
	struct wl_aug aug;
	struct wl_sgd sgd;
	float *params, *grad, *sum, *x;
	uint8_t *y;
	struct wl_mlp_ws *ws;
	int time_asm;                   /* 1: add the assembly's wall time to asm_s */
	double asm_s;
};

/* For model m (borrowed), at most b samples per stream batch, format fmt
 * (NULL = fp32); initial parameters from seed.  Free with ndp_step_free(). */
void ndp_step_init(struct ndp_step *S, const struct wl_mlp *m, const struct wl_dataset *set,
		   const struct ndp_train_params *tp, int zero_skip, const struct wl_numfmt *fmt,
		   int b, uint64_t seed);
void ndp_step_free(struct ndp_step *S);

/* Samples of step k over the G streams st[0..G-1]. */
uint64_t ndp_step_samples(const struct ndp_stream *const *st, int G, uint32_t k);

/* Step k of epoch `epoch` over the G streams: updates S->params, adds each
 * stream's summed loss to *loss in stream order and the executed work to
 * *cnt; returns the samples it used. */
uint64_t ndp_step_run(struct ndp_step *S, const struct ndp_stream *const *st, int G, uint32_t k,
		      int epoch, double *loss, struct wl_sgd_count *cnt);

/* --------------------------------------------------------------- replay */

/* Plain minibatch SGD in the host's channel order (ndp_step over one
 * stream per channel) without a simulator around it: the value path of a
 * platform whose cost path is analytical (near-DRAM). */
struct ndp_replay {
	const struct ndp_train_params *tp;
	struct ndp_layout L;
	struct wl_mlp m;
	int G, b;
	struct ndp_stream *st;
	const struct ndp_stream **stp;   /* &st[g] */
	uint32_t S;                  /* steps per epoch */
	struct ndp_step step;        /* the arithmetic; step.params is the model */
};

/* Lays the data set out as a fresh drive of sp would (ndp_layout_place on a
 * temporary drive).  Returns 0 or -EINVAL. */
int ndp_layout_plan(struct ndp_layout *L, const struct ssd_params *sp, uint32_t n_train,
		    int amplify, uint64_t seed, struct nd_err *err);

int ndp_replay_init(struct ndp_replay *R, const struct ndp_train_params *tp,
		    const struct ssd_params *sp, const struct wl_dataset *train, int zero_skip,
		    const struct wl_numfmt *fmt, uint64_t seed, struct nd_err *err);
void ndp_replay_free(struct ndp_replay *R);
void ndp_replay_epoch(struct ndp_replay *R, int epoch);
/* Step k of the current epoch (k < R->S): returns the samples it used, adds
 * the summed loss to *loss and the executed work to c. */
uint64_t ndp_replay_step(struct ndp_replay *R, uint32_t k, int epoch, double *loss,
			 struct wl_sgd_count *c);

/* ---------------------------------------------------------- value record */

/* The value path's outcome of a training run whose steps and evaluation
 * points follow from the data order alone, never from the timing (sync
 * in-storage SGD, ndp/ndp.h; near-DRAM SGD, hostif/plat_ndram.c): per step
 * slot its samples, executed operations and summed loss; per accuracy-curve
 * point its test accuracy, in curve order; the final model.  A run whose
 * parameters differ only in what the cost path reads replays it instead of
 * doing the arithmetic and lands on the same curve, ledger and model (the
 * sensitivity analysis, hostif/sensitivity.h).  Free with ndp_value_free(). */
struct ndp_value {
	uint64_t nstep, cap_step;    /* step slots (a slot never written reads 0) */
	uint32_t *n;
	uint64_t *ops;
	double *loss;
	uint64_t nacc, cap_acc;
	double *acc;
	float *params;               /* final model, n_params floats */
	size_t n_params;
};
void ndp_value_free(struct ndp_value *v);
/* Writes step slot i (growing the record to i + 1 slots). */
void ndp_value_set_step(struct ndp_value *v, uint64_t i, uint32_t n, uint64_t ops, double loss);
/* Appends the next curve point's accuracy. */
void ndp_value_push_acc(struct ndp_value *v, double acc);
/* Keeps a copy of the final model. */
void ndp_value_set_params(struct ndp_value *v, const float *params, size_t n);

/* --------------------------------------------------------------- result */

struct ndp_point {
	uint64_t t_ns;
	double epochs;          /* data passes applied so far */
	double acc;             /* test accuracy of the global model */
	double loss;            /* mean training loss since the previous point */
	double energy_j;        /* total energy up to t_ns */
};

struct ndp_result {
	char where[16];         /* "storage" / "host" */
	char algo[16];
	int channels;
	char model[16];
	size_t n_params;
	float *params;          /* final global model (owned) */
	float *worker_params;   /* channels x n_params when asked (owned) */
	struct ndp_point *pt;
	int npt, cap;
	double final_acc;
	uint64_t t_end_ns;
	int target_reached;
	uint64_t t_target_ns;
	double e_target_j;
	int epochs;
	uint64_t *epoch_end_ns;      /* per epoch */
	uint64_t *epoch_read_bytes;  /* per epoch: bytes read from flash (ISP) / from the SSD (IHP) */
	uint64_t samples;            /* samples processed */
	uint64_t data_bytes;
	struct energy_ledger led;
	struct ssd_stats st;
	uint64_t bus_bytes, spill_bytes;
	uint64_t host_link_bytes;    /* both directions, incl. the inference result */
	uint64_t host_dram_bytes;
	uint64_t cache_hit_units, cache_miss_units, io_count;
	uint64_t cache_units;        /* IHP page cache capacity */
	double unit_util;            /* mean busy fraction of the compute units / host CPU */
	double master_util;
	/* In-storage inference (ISP, train.infer). */
	int infer_done;
	double infer_acc;
	uint64_t infer_ns;
	double infer_j;
	uint64_t infer_link_bytes;
	uint64_t infer_flash_bytes;
	double wall_s;
	uint64_t events;
};

void ndp_result_free(struct ndp_result *r);
/* Appends a point (grows the array). */
void ndp_result_point(struct ndp_result *r, const struct ndp_point *p);
/* Sets target_* from the points: the first one with acc >= target. */
void ndp_result_target(struct ndp_result *r, double target);

/* metrics object of report.json. */
struct cJSON *ndp_result_metrics(const struct ndp_result *r);
/* The human table. */
void ndp_result_print(const struct ndp_result *r, FILE *out);
/* curve CSV: t_s,epochs,acc,loss,energy_j. */
int ndp_result_write_curve(const struct ndp_result *r, const char *dir,
			   const char *name, struct nd_err *err);

#endif
