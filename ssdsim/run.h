/*
 * run.h — drive the SSD model with a synthetic workload or a trace and
 * collect the results (latency histograms, throughput, WAF, utilisation,
 * energy).  This is the code path of `ndpsim ssd` and of every sweep point.
 */
#ifndef ND_SSD_RUN_H
#define ND_SSD_RUN_H

#include <stdint.h>
#include <stdio.h>

#include "core/energy.h"
#include "core/hist.h"
#include "ssdsim/ssd.h"
#include "workloads/synth.h"
#include "workloads/trace.h"

struct ssd_run_opts {
	const struct ssd_params *ssd;
	const struct wl_params *wl;
	const struct wl_trace *trace;   /* NULL: synthetic workload */
	uint64_t seed;
	int verify;                     /* check the mapping at the end */
	int progress;                   /* progress line on a terminal */
	int internal;                   /* requests use SSD_PATH_INTERNAL (in-storage consumers) */
};

struct ssd_run_result {
	uint64_t n[2], bytes[2];        /* [0] reads, [1] writes */
	struct hist lat[2];
	uint64_t t_first_ns, t_last_ns; /* first submit, last completion */
	uint64_t t_drain_ns;            /* buffer flushed, drive idle */
	uint64_t capacity_bytes;
	struct ssd_stats st;
	int n_channels, n_dies;
	double *chan_util, *die_util;   /* owned */
	double link_bytes_per_s, channel_bytes_per_s;
	struct energy_ledger led;
	double wall_s;                  /* whole run, wall clock */
	double wall_sim_s;              /* event loop only (no preconditioning) */
	double cpu_s, cpu_sim_s;        /* the same in CPU time of this thread */
	uint64_t events;
	int verified;                   /* 1 verified OK, 0 not asked */
	uint64_t pre_trace_units;       /* written by trace-aware preconditioning */
	struct ssd_power_report pw;     /* drive power (pw.enabled: power model on) */
};

/* Runs the workload to completion.  Returns 0, -EINVAL for impossible
 * parameters, -ENOSPC when the drive ran out of space (see ssd_status), or
 * -EBADMSG when verification fails (err says how). */
int ssd_run(const struct ssd_run_opts *o, struct ssd_run_result *r,
	    struct nd_err *err);
void ssd_run_result_free(struct ssd_run_result *r);

/* Reads the first `bytes` of a drive that holds them (filled functionally
 * first), sequentially in 128 KiB requests at queue depth qd, over the host
 * path or (internal) the in-storage path: what it costs a platform to fetch
 * a data set stored at the start of the drive.  As ssd_run(). */
int ssd_run_read_window(const struct ssd_params *sp, uint64_t bytes, int internal,
			int qd, uint64_t seed, struct ssd_run_result *r,
			struct nd_err *err);

/* metrics object of report.json (stable keys, documented in README). */
struct cJSON *ssd_run_metrics(const struct ssd_run_result *r);
/* More than 1 % of the read map units hit unmapped space: writes the
 * warning (what happened, how to change it) into buf and returns 1. */
int ssd_run_unmapped_warning(const struct ssd_run_result *r, char *buf, size_t n);
/* The human table. */
void ssd_run_print(const struct ssd_run_result *r, FILE *out);
/* CSVs (latency histograms, per-channel and per-die utilisation) and the
 * latency CDF plot into dir. */
int ssd_run_write_files(const struct ssd_run_result *r, const char *dir,
			struct nd_err *err);

#endif
