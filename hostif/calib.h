/*
 * calib.h — measures this machine for the host model (hostif/host.h) and
 * checks the model against runs it was not calibrated on.
 *
 * The host profile.  `ndpsim calibrate` writes {"host": {...}} with the
 * per-core rate of every kernel the host model charges, all measured with
 * the same OpenMP threads on this machine, and host.cores = those threads:
 *  - host.gflops_lr / host.gflops_mlp: the in-host SGD step of logistic
 *    regression and of the MLP (train.hidden), exactly as hostif/host.c
 *    runs it — per stream g the samples of its minibatch assembled with
 *    wl_sample_x(), workloads/sgd.h's wl_sgd_grad / _sum / _mean / _update
 *    in stream order — on the real training set in the order of the
 *    model's streams.  FLOPs are the shared step's count (wl_sgd_flops:
 *    2 x MACs executed, zero operands skipped when host.zero_skip, + the
 *    element-wise ops), the number host.c divides by cores x gflops.  The
 *    steps timed are the last quarter of epoch 1; the three quarters before
 *    train the model untimed, and every repetition restarts from there.
 *  - host.bnn_gops: bnn_predict() (workloads/bnn.h, the host's digital BNN
 *    code) of a network of the configured bnn section over opts.bnn_images
 *    training images; word-ops = bnn_dp_host_word_ops() per image, the count
 *    hostif/plat_host.c divides by cores x bnn_gops.  The network is trained
 *    for the purpose on opts.bnn_train_n images for one epoch: the cost of
 *    bnn_predict follows the architecture (widths, bit-planes), not the
 *    weights.
 *  - host.p_idle_w / host.p_active_w: package energy from the Linux
 *    powercap interface (RAPL, hif_rapl_*) when it can be read: idle = the
 *    energy over a quiet interval of opts.idle_s (this process sleeps) /
 *    its length; active = the energy over a window of at least
 *    opts.active_s in which the calibrated kernels run back to back, after
 *    their timed repetitions / its length.  A sampler thread reads the
 *    counters every range / 2 kW (at most 50 ms), so a counter cannot wrap
 *    twice unseen; a range that would need reads faster than 1 ms is
 *    refused.  When it cannot be read, the profile has no
 *    power keys (the preset it is applied over keeps its figures) and its
 *    description says "power not measured" and why.  Never a guess.
 * Each rate is the median over opts.reps repetitions, rounded to four
 * significant digits (the profile and hif_calib_apply() use the same
 * numbers).  I/O (host.io_sw_ns) and DRAM copy bandwidth (host.dram_gb_s)
 * are measured on request (hif_calib_io, hif_calib_dram) and written to the
 * profile only when c->io_keys is set.
 *
 * Validation (hif_calib_validate) compares predictions with measurements
 * of runs the calibration did not time:
 *  - per kernel, the profile's own rate: whole real epochs 2..E of LR and
 *    of MLP in-host SGD (data in memory, CLOCK_MONOTONIC) against
 *    ihp_train() (epoch 2 of 2, page cache twice the data set), and
 *    bnn_predict over the test set against word-ops / (cores x bnn_gops);
 *  - across kernels ("calibrate on LR"): only gflops_lr is taken from the
 *    measurement, gflops_mlp and bnn_gops are the host preset's scaled by
 *    the measured / preset LR rate — the one-clock-factor rule the presets
 *    in configs/hosts/ were made with — and the same MLP epoch and BNN run
 *    are predicted.
 * After two real epochs the parameters must equal the model's bit for bit:
 * the computation timed is the one the model charged.  Calibration
 * repetitions alternate with the validation runs, so that both sample the
 * same drift of a shared machine.
 *
 * Busy machines.  Wall-clock figures are only as good as the machine is
 * quiet: each measurement also reports cpu_share = process CPU time / (wall
 * time x threads), well below 1 when our threads were preempted;
 * HIF_CALIB_QUIET_SHARE is the share below which a figure is flagged.
 * Nothing here asserts a speed: bench/bench_calib.c records the ratios.
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
#include "workloads/bnn.h"
#include "workloads/idx.h"

struct cJSON;

#define HIF_CALIB_NBACKENDS 3
#define HIF_CALIB_REPS_MAX 101
#define HIF_CALIB_QUIET_SHARE 0.8

/* The kernels of the host model. */
enum hif_calib_kernel { HIF_CALIB_LR, HIF_CALIB_MLP, HIF_CALIB_BNN, HIF_CALIB_NKERNELS };
#define HIF_CALIB_ALL ((1u << HIF_CALIB_NKERNELS) - 1)
extern const char *const hif_calib_kernel_names[];   /* "lr", "mlp", "bnn" */

/* Parses "lr,mlp,bnn" (any non-empty subset) into a bit mask of
 * 1 << enum hif_calib_kernel.  Returns 0 or -EINVAL naming the bad word. */
int hif_calib_parse_kernels(const char *s, unsigned *mask, struct nd_err *err);

struct hif_calib_opts {
	const char *dir;        /* directory of the I/O test file ("build"); borrowed */
	uint64_t file_bytes;    /* size of the I/O test file (64 MiB) */
	size_t bs_bytes;        /* block size (128 KiB) */
	unsigned qd;            /* requests in flight (32) */
	int direct;             /* O_DIRECT (1) */
	int reps;               /* repetitions of every measurement, median (5) */
	unsigned kernels;       /* kernels to calibrate (HIF_CALIB_ALL) */
	uint32_t sgd_steps;     /* steps per SGD repetition, 0 = a quarter epoch (0) */
	int sgd_at_end;         /* time the last sgd_steps steps of epoch 1, after
				 * training through the others untimed (1); 0: the
				 * first steps, from the initial model */
	long bnn_images;        /* training images per BNN repetition (2000) */
	int bnn_train_n;        /* images the BNN is trained on, one epoch (2000) */
	int val_epochs;         /* real epochs / BNN runs of the validation, >= 2 (4) */
	double idle_s;          /* quiet interval for idle package power, s (2) */
	double active_s;        /* power window: kernels back to back, >= s (1) */
	const char *powercap;   /* powercap root; NULL = hif_rapl_root() */
};

/* What the kernels and the validation run: borrowed, must outlive the call. */
struct hif_calib_work {
	const struct ndp_train_params *train; /* batch, hidden, lr...; model is set per kernel */
	const struct ihp_params *host;        /* order, batch, zero_skip; and the preset */
	const struct ssd_params *ssd;         /* the flash layout of the streams */
	const struct bnn_params *bnn;         /* the network whose inference is timed */
	const struct wl_dataset *train_set;
	const struct wl_dataset *test_set;
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
	int done;
	char model[16];         /* "lr" / "mlp" */
	char hidden[CFG_STR_MAX];
	int streams;            /* gradient calls per step */
	int stream_batch;       /* samples per call */
	int batch;              /* samples per step: ihp_batch() */
	int threads;
	size_t n_params;
	uint64_t macs_fwd, macs_bwd;   /* dense, per sample */
	uint32_t steps;         /* steps per repetition */
	uint32_t first_step;    /* its first step (0-based, in epoch 1) */
	uint32_t epoch_steps;   /* steps per epoch */
	double flops;           /* FLOPs of one repetition (wl_sgd_flops) */
	double rep_s;           /* median wall time of a repetition (whole step) */
	double kernel_s;        /* median of its grad + average + update part */
	double gflops;          /* flops / rep_s / 1e9 */
	double gflops_per_core; /* gflops / threads, 4 significant digits */
	double kernel_gflops;   /* flops / kernel_s / 1e9 (without sample assembly) */
	double rep_min_s, rep_max_s;
	double cpu_share;       /* process CPU time / (wall time x threads) over the reps */
};

struct hif_calib_bnn {
	int done;
	char arch[96];          /* "784-512-512-10, binary activations, 3 input planes" */
	int threads;
	uint64_t word_ops;      /* per image, bnn_dp_host_word_ops() */
	long images;            /* per repetition */
	double rep_s, rep_min_s, rep_max_s;
	double gops;            /* word_ops x images / rep_s / 1e9 */
	double gops_per_core;   /* gops / threads, 4 significant digits */
	double cpu_share;
};

/* Package power (RAPL). */
struct hif_calib_power {
	int measured;           /* 1: p_idle_w and p_active_w are set */
	char note[1024];        /* "power not measured: <why>" or the domains read */
	int domains;            /* package domains summed */
	double idle_s, idle_j;  /* the quiet interval */
	double active_s, active_j;   /* over the power window */
	double p_idle_w, p_active_w; /* 4 significant digits */
};

struct hif_calib {
	struct hif_calib_io io[HIF_CALIB_NBACKENDS];
	int io_done;            /* the I/O part ran */
	uint64_t io_file_bytes; /* its file and block size */
	size_t io_bs_bytes;
	int io_sw_from;         /* index of the backend io_sw_ns comes from, -1 none */
	uint64_t io_sw_ns;
	double dram_gb_s;       /* 0 if not measured */
	int io_keys;            /* write io_sw_ns / dram_gb_s into the profile */
	struct hif_calib_sgd sgd[2];     /* [HIF_CALIB_LR], [HIF_CALIB_MLP] */
	struct hif_calib_bnn bnn;
	struct hif_calib_power power;
	int threads;            /* OpenMP threads of every kernel = host.cores */
	int reps;
	char when[40];          /* UTC, ISO 8601 */
	char machine[192];      /* host name, CPU model, logical CPUs */
};

/* One prediction of a run the calibration did not time. */
enum hif_calib_check_id {
	HIF_CHK_LR_EPOCH,          /* LR epoch, profile's gflops_lr */
	HIF_CHK_MLP_EPOCH,         /* MLP epoch, profile's gflops_mlp */
	HIF_CHK_BNN_INFER,         /* BNN over the test set, profile's bnn_gops */
	HIF_CHK_MLP_FROM_LR,       /* MLP epoch, gflops_mlp scaled from the LR measurement */
	HIF_CHK_BNN_FROM_LR,       /* BNN, bnn_gops scaled from the LR measurement */
	HIF_CHK_N
};
extern const char *const hif_calib_check_names[];   /* "lr_epoch", ... */

struct hif_calib_check {
	int done;
	double rate;            /* per-core rate the prediction used (GFLOP/s or Gword-op/s) */
	double pred_s;
	double meas_s;          /* median of the measured runs 2.. */
	double ratio;           /* pred_s / meas_s */
};

struct hif_calib_valid {
	int threads;                /* OpenMP threads of the real runs */
	int cores;                  /* host.cores of the predictions */
	int epochs;                 /* real epochs / BNN runs, the first a warm-up */
	uint64_t samples[2];        /* per epoch, LR / MLP */
	uint32_t steps[2];
	double flops[2];            /* FLOPs of epoch 2 (the shared step's count) */
	double meas_s[3][HIF_CALIB_REPS_MAX];   /* each real run: LR, MLP, BNN */
	double pred_epoch1_s[2];    /* ihp_train: epoch 1, with its reads from the SSD */
	int same_params[2];         /* real params after 2 epochs == the model's */
	long bnn_images;            /* test images per BNN run */
	uint64_t bnn_word_ops;      /* per image */
	long bnn_correct;           /* of the last run */
	double scale;               /* measured / preset gflops_lr (cross-kernel checks) */
	double preset_lr, preset_mlp, preset_bnn;
	double cpu_share;           /* process CPU time / (wall x threads), runs 2.. */
	struct hif_calib_check chk[HIF_CHK_N];
};

/* ------------------------------------------------------------ RAPL */

#define HIF_RAPL_MAX 8

/* The package domains of a powercap tree: directories root/intel-rapl:N
 * (not the sub-zones intel-rapl:N:M) whose `name` starts with "package",
 * each with `energy_uj` (a counter in microjoules) and
 * `max_energy_range_uj` (where it wraps to 0). */
struct hif_rapl {
	int n;
	char path[HIF_RAPL_MAX][320];   /* .../energy_uj */
	uint64_t range_uj[HIF_RAPL_MAX];
	uint64_t last_uj[HIF_RAPL_MAX];
	uint64_t wraps;                 /* wrap-arounds seen */
	double uj;                      /* summed increase since open */
};

/* $NDPSIM_POWERCAP_ROOT when set, else "/sys/class/powercap". */
const char *hif_rapl_root(void);

/* Opens every package domain under root and reads its counter once.
 * Returns 0, or -ENOENT (no package domain), -EACCES / -errno (a file not
 * readable), -EINVAL (a file that is not a number), with err naming the
 * file. */
int hif_rapl_open(const char *root, struct hif_rapl *r, struct nd_err *err);

/* Reads every counter and adds its increase since the last read to r->uj:
 * cur - last, or, when cur < last (the counter wrapped once),
 * range - last + cur.  Sets *joules = r->uj * 1e-6 (may be NULL).  Returns
 * 0 or -errno with err naming the file.  Read at least once per wrap period
 * (range / power: ~ 4.4 min at 1 kW for a 2^28 uJ range). */
int hif_rapl_read(struct hif_rapl *r, double *joules, struct nd_err *err);

/* ------------------------------------------------------------ measuring */

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

/* Package power over the idle interval, then the kernels of o->kernels
 * (see the header comment), their active power when RAPL is readable.
 * Returns 0 or -EINVAL (bad model, the data set does not fit the drive,
 * bad bnn section). */
int hif_calib_kernels(const struct hif_calib_opts *o, const struct hif_calib_work *w,
		      struct hif_calib *c, struct nd_err *err);

/* Writes what the profile sets into host: cores and the rate of each
 * calibrated kernel, p_idle_w / p_active_w when measured, io_sw_ns /
 * dram_gb_s when c->io_keys.  Other keys are left alone. */
void hif_calib_apply(const struct hif_calib *c, struct ihp_params *host);

/* The host profile: a config fragment with only real config keys
 * ({"description", "host": {"description", "cores", ...}}); the
 * description strings say how each value was measured, and "power not
 * measured" with the reason when it was not.  Caller frees. */
struct cJSON *hif_calib_profile_json(const struct hif_calib *c);

/* Every raw measurement (and the validation when v is not NULL).  Not a
 * config.  Caller frees. */
struct cJSON *hif_calib_measurements_json(const struct hif_calib *c,
					  const struct hif_calib_valid *v);

/* The validation (header comment).  When c is not NULL the kernels of
 * o->kernels are calibrated as by hif_calib_kernels(), their repetitions
 * alternating with the validation runs, and the predictions use `host` with
 * the calibrated values applied; the cross-kernel checks need LR calibrated
 * and use `host`'s rates as the preset.  With c NULL, `host` is used as it
 * is (a profile loaded from a file) and only the per-kernel checks run.
 * Kernels not in o->kernels are not validated.  Returns 0 or -EINVAL with
 * err set. */
int hif_calib_validate(const struct hif_calib_opts *o, const struct hif_calib_work *w,
		       const struct ihp_params *host, struct hif_calib *c,
		       struct hif_calib_valid *v, struct nd_err *err);

/* Median of n values (n >= 1); sorts v in place. */
double hif_calib_median(double *v, int n);

#endif
