/*
 * calib.h — measures this machine for the host model (ndp/ihp.h) and checks
 * the model against it.
 *
 * Four measurements, each a median over opts.reps repetitions (other
 * processes may share the cores):
 *  - I/O: a temporary file of file_bytes (random bytes, fsync'ed) is read
 *    start to end through each backend of hostif/io.h (uring, aio, sync; no
 *    fallback, so a backend the kernel forbids is reported as skipped with
 *    its errno, never silently replaced): MB/s (10^6 bytes/s), IOPS,
 *    per-request latency, and the CPU time of the reading thread per request
 *    (getrusage(RUSAGE_THREAD), user + system; no crc).  That CPU time is
 *    what host.io_sw_ns models: the software path of one read command on one
 *    core.  It is taken from the first measured backend in the order uring,
 *    aio, sync.
 *  - DRAM: memcpy of two 64 MiB buffers on one thread; GB/s counts the bytes
 *    read plus the bytes written (10^9 bytes/s), as host.dram_gb_s is used
 *    for the loader's copy (ihp.c charges 2 x sample bytes per sample).
 *  - SGD: the in-host training step exactly as ihp.c executes it — per
 *    stream g the samples of its minibatch assembled with wl_sample_x(), one
 *    wl_mlp_grad() each, the per-stream gradients summed in stream order and
 *    scaled, one wl_sgd_step() — on the real training set in the order of the
 *    model's streams (ndp_stream over the same flash layout).  FLOPs per step
 *    are the ones ihp.c charges: 2 x samples x (fwd + bwd MACs) +
 *    2 x n_params x (streams + 1).  threads = omp_get_max_threads() (1
 *    without OpenMP); gflops_per_core = FLOPs / step time / threads, so that
 *    cores x gflops_per_core reproduces the measured rate.  The steps timed
 *    are the last quarter of epoch 1; the three quarters before it train the
 *    model untimed, and every repetition restarts from that model.  The
 *    kernel skips zero inputs and zero ReLU outputs while the model charges
 *    dense MACs, so the work per charged FLOP follows the data and, for an
 *    MLP, the state of training: the first steps from the initial model are
 *    not representative, and none of the steps timed here is one of the
 *    epochs the validation times.
 *  - Validation: the same minibatch SGD is run for real (same streams,
 *    same steps, data in memory) for val_epochs epochs, each timed with
 *    CLOCK_MONOTONIC, the first a warm-up; ihp_train() with the calibrated
 *    profile, train.epochs = 2 and a page cache twice the data set predicts
 *    epoch 2 (all data in DRAM: compute and DRAM bound).  After two real
 *    epochs the parameters must equal the model's bit for bit: the
 *    computation timed is the one the model charged.  When the calibration
 *    is made for the validation, its repetitions alternate with the real
 *    epochs: the speed of a shared VM drifts over seconds, and alternating
 *    makes both sides sample the same drift (an A/B interleave).
 *
 * Busy machines.  Wall-clock figures are only as good as the machine is
 * quiet: another process on the same cores stretches a parallel step by
 * much more than its share (the step waits for the descheduled thread).
 * Each SGD measurement therefore also reports cpu_share = process CPU time
 * / (wall time x threads): near 1 when the threads had their cores (the
 * OpenMP threads spin between regions), well below when they were
 * preempted.  HIF_CALIB_QUIET_SHARE is the share below which a figure is
 * flagged as taken on a busy machine.
 *
 * Functions return 0 or a negative errno with a message in *err.
 */
#ifndef ND_HOSTIF_CALIB_H
#define ND_HOSTIF_CALIB_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "hostif/host.h"
#include "ndp/train.h"
#include "ssdsim/ssd.h"
#include "workloads/idx.h"

struct cJSON;

#define HIF_CALIB_NBACKENDS 3
#define HIF_CALIB_REPS_MAX 101
#define HIF_CALIB_QUIET_SHARE 0.8

struct hif_calib_opts {
	const char *dir;        /* directory of the temporary file ("build"); borrowed */
	uint64_t file_bytes;    /* size of the temporary file (64 MiB) */
	size_t bs_bytes;        /* block size (128 KiB) */
	unsigned qd;            /* requests in flight (32) */
	int direct;             /* O_DIRECT (1) */
	int reps;               /* repetitions of every measurement, median (5) */
	uint32_t sgd_steps;     /* steps per SGD repetition, 0 = a quarter epoch (0) */
	int sgd_at_end;         /* time the last sgd_steps steps of epoch 1, after
				 * training through the others untimed (1); 0: the
				 * first steps, from the initial model */
	int val_epochs;         /* real epochs timed in the validation, >= 2 (3) */
};

/* What the SGD step and the validation run: borrowed, must outlive the call. */
struct hif_calib_work {
	const struct ndp_train_params *train;
	const struct ihp_params *host;        /* order, batch; the rest is replaced */
	const struct ssd_params *ssd;         /* the flash layout of the streams */
	const struct wl_dataset *train_set;
	const struct wl_dataset *test_set;    /* ihp_train evaluates on it */
	uint64_t seed;
};

struct hif_calib_io {
	char backend[8];        /* "uring", "aio", "sync" */
	int status;             /* 0 measured, else the negative errno: skipped */
	char note[768];         /* why it was skipped (an nd_err message) */
	int direct;
	unsigned qd;            /* most requests in flight (1 for sync) */
	uint64_t bytes, requests;
	double mb_s, iops;      /* median over reps */
	double lat_mean_us, lat_p50_us, lat_p99_us, lat_max_us;   /* of the median rep */
	double cpu_ns_per_io;   /* median over reps */
};

struct hif_calib_sgd {
	char model[16];         /* "lr" / "mlp" */
	char hidden[CFG_STR_MAX];
	int streams;            /* gradient calls per step */
	int stream_batch;       /* samples per call */
	int batch;              /* samples per step: ihp_batch() */
	int threads;
	size_t n_params;
	uint64_t macs_fwd, macs_bwd;
	uint32_t steps;         /* steps per repetition */
	uint32_t first_step;    /* its first step (0-based, in epoch 1) */
	uint32_t epoch_steps;   /* steps per epoch */
	double flops;           /* FLOPs of one repetition, as ihp.c charges them */
	double rep_s;           /* median wall time of a repetition (whole step) */
	double kernel_s;        /* median of its grad + average + update part */
	double gflops;          /* flops / rep_s / 1e9 */
	double gflops_per_core; /* gflops / threads */
	double kernel_gflops;   /* flops / kernel_s / 1e9 (without sample assembly) */
	double rep_min_s, rep_max_s;
	double cpu_share;       /* process CPU time / (wall time x threads) over the reps */
};

struct hif_calib {
	struct hif_calib_io io[HIF_CALIB_NBACKENDS];
	int io_done;            /* the I/O part ran */
	uint64_t io_file_bytes; /* its file and block size */
	size_t io_bs_bytes;
	int io_sw_from;         /* index of the backend io_sw_ns comes from, -1 none */
	uint64_t io_sw_ns;
	double dram_gb_s;       /* 0 if not measured */
	int sgd_done;
	struct hif_calib_sgd sgd;
	int reps;
	char when[40];          /* UTC, ISO 8601 */
	char machine[192];      /* host name, CPU model, logical CPUs */
};

struct hif_calib_valid {
	int threads;                /* OpenMP threads of the real epochs */
	int cores;                  /* host.cores and ... */
	double gflops_per_core;     /* ... host.gflops_per_core of the prediction */
	uint64_t samples;           /* per epoch */
	uint32_t steps;             /* per epoch */
	double flops;               /* FLOPs the model charges for one epoch */
	double pred_s;              /* ihp_train: epoch_end[1] - epoch_end[0] */
	double pred_epoch1_s;       /* ihp_train: epoch 1, with its reads from the SSD */
	int epochs;                 /* real epochs run */
	double meas_s[HIF_CALIB_REPS_MAX];   /* wall time of each real epoch */
	double meas_median_s;       /* median over epochs 2.. (1-based) */
	double ratio;               /* pred_s / meas_median_s */
	int same_params;            /* real params after 2 epochs == model's */
	double cpu_share;           /* process CPU time / (wall x threads), epochs 2.. */
};

/* Fills o with the defaults shown above. */
void hif_calib_opts_init(struct hif_calib_opts *o);

/* Clears c and records the date and the machine. */
void hif_calib_init(struct hif_calib *c, int reps);

/* Creates the temporary file under o->dir, measures every backend, removes
 * the file.  A backend the kernel forbids, or O_DIRECT refused by the file
 * system, is recorded as skipped (io[i].status < 0), not an error.  Returns
 * 0, or -errno when the file cannot be created or a read fails. */
int hif_calib_io(const struct hif_calib_opts *o, struct hif_calib *c,
		 struct nd_err *err);

/* Copy bandwidth of host DRAM into c->dram_gb_s.  Returns 0. */
int hif_calib_dram(const struct hif_calib_opts *o, struct hif_calib *c);

/* Times the in-host SGD step (see the header comment).  Returns 0 or
 * -EINVAL (bad model, the data set does not fit the drive). */
int hif_calib_sgd(const struct hif_calib_opts *o, const struct hif_calib_work *w,
		  struct hif_calib *c, struct nd_err *err);

/* Writes the measured values into host: cores, gflops_per_core (when the
 * SGD step was timed), io_sw_ns (when a backend was measured), dram_gb_s
 * (when measured).  Other keys are left alone. */
void hif_calib_apply(const struct hif_calib *c, struct ihp_params *host);

/* The host profile: a config fragment with only real config keys
 * ({"description", "host": {"description", "cores", ...}}); the
 * description strings say how each value was measured.  Caller frees. */
struct cJSON *hif_calib_profile_json(const struct hif_calib *c);

/* Every raw measurement (and the validation when v is not NULL).  Not a
 * config.  Caller frees. */
struct cJSON *hif_calib_measurements_json(const struct hif_calib *c,
					  const struct hif_calib_valid *v);

/* Times o->val_epochs real epochs of the in-host SGD (epoch 1 a warm-up)
 * and predicts epoch 2 with ihp_train() under `host`.  When c is not NULL
 * the SGD step is calibrated as by hif_calib_sgd(), its repetitions
 * alternating with the real epochs (so that both sample the same state of
 * a shared machine), and the prediction uses `host` with the calibrated
 * values applied (hif_calib_apply); c->sgd is filled.  With c NULL, `host`
 * is used as it is (e.g. a profile loaded from a file).  Returns 0 or
 * -EINVAL with err set. */
int hif_calib_validate(const struct hif_calib_opts *o, const struct hif_calib_work *w,
		       const struct ihp_params *host, struct hif_calib *c,
		       struct hif_calib_valid *v, struct nd_err *err);

/* Median of n values (n >= 1); sorts v in place. */
double hif_calib_median(double *v, int n);

#endif
