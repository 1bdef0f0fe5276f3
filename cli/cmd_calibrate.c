/*
 * cmd_calibrate.c — `ndpsim calibrate`: measure this machine (real reads per
 * backend, DRAM copy bandwidth, FLOP/s of the in-host SGD step), write a
 * host profile that is a config fragment, and with --validate check the host
 * model's prediction of an epoch against the real epoch (hostif/calib.h does
 * the work).
 */
#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/registry.h"
#include "core/report.h"
#include "core/util.h"
#include "hostif/calib.h"
#include "hostif/io.h"

static const char help[] =
	"usage: ndpsim calibrate [--out FILE] [--dir DIR] [--size SIZE] [--bs SIZE] [--qd N]\n"
	"                        [--buffered] [--reps N] [--no-io] [--no-sgd]\n"
	"                        [--validate] [--validate-only] [--epochs N]\n"
	"                        [--config FILE] [--set KEY=VALUE]... [--seed N] [--quiet]\n"
	"\n"
	"Measures this machine for the host model and writes a host profile, a config\n"
	"fragment ({\"host\": {\"cores\", \"gflops_lr\" or \"gflops_mlp\", \"io_sw_ns\", \"dram_gb_s\"}}) that\n"
	"`ndpsim train --where host` and `ndpsim run` take with --config FILE.\n"
	"  I/O   a temporary file under DIR is read through io_uring, libaio and pread\n"
	"        (O_DIRECT, no fallback: a backend the kernel forbids is reported as\n"
	"        skipped): MB/s (10^6 B/s), IOPS, latency, CPU time per request;\n"
	"        host.io_sw_ns = that CPU time for the first backend measured\n"
	"  DRAM  memcpy bandwidth, host.dram_gb_s (bytes read + written)\n"
	"  SGD   the in-host training step of the configured train.model exactly as\n"
	"        the host model runs it, on Fashion-MNIST; FLOPs counted as the model\n"
	"        charges them; host.cores = OpenMP threads, host.gflops_lr (or _mlp) =\n"
	"        FLOP/s / threads\n"
	"Every figure is the median of --reps repetitions.  The raw numbers go to\n"
	"FILE with .json replaced by .measurements.json.\n"
	"\n"
	"  --out FILE       host profile (results/host-profile.json)\n"
	"  --dir DIR        where the temporary file is created (build)\n"
	"  --size SIZE      temporary file size, e.g. 16M, 64M, 1G (64M)\n"
	"  --bs SIZE        read block size (128k)        --qd N   requests in flight (32)\n"
	"  --buffered       no O_DIRECT (then the page cache serves the repetitions)\n"
	"  --reps N         repetitions per measurement, 1..101 (5)\n"
	"  --no-io          skip the I/O measurement (no host.io_sw_ns)\n"
	"  --no-sgd         skip the SGD measurement (no host.cores / gflops_lr)\n"
	"  --validate       then predict one in-host epoch with the calibrated profile\n"
	"                   (ndp/ihp.h, epoch 2 of 2, data cached in DRAM) and time the\n"
	"                   same computation for real; prints both and their ratio\n"
	"  --validate-only  measure nothing, write nothing: validate the host model as\n"
	"                   configured (e.g. --config results/host-profile.json)\n"
	"  --epochs N       real epochs timed by the validation, the first one a\n"
	"                   warm-up, 2..101 (4)\n"
	"%s"
	"\n"
	"Exit status: 0 ok (whatever the ratio), 1 a measurement failed, 2 bad usage\n"
	"or input (e.g. no Fashion-MNIST: install dataset-fashion-mnist or use --no-sgd).\n";

static int parse_int(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!*s || end == s || *end || errno || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Value of "--name=value" or "--name value"; NULL when a is not --name. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, int *missing)
{
	size_t n = strlen(name);
	const char *a = argv[*i];
	if (strncmp(a, name, n))
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n])
		return NULL;
	if (*i + 1 >= argc) {
		*missing = 1;
		return NULL;
	}
	return argv[++*i];
}

static void *section_params(const struct cfg_bundle *b, const struct cfg_section *sec)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->sec[i] == sec)
			return b->params[i];
	ND_ASSERT(!"section not registered");
	return NULL;
}

/* FILE.json -> FILE.measurements.json; other names get the suffix added. */
static void measurements_path(const char *out, char *buf, size_t n)
{
	size_t len = strlen(out);
	if (len > 5 && !strcmp(out + len - 5, ".json"))
		snprintf(buf, n, "%.*s.measurements.json", (int)(len - 5), out);
	else
		snprintf(buf, n, "%s.measurements.json", out);
}

static int write_json(const char *path, const cJSON *j, struct nd_err *err)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		int rc = rep_mkdir_p(dir, err);
		if (rc)
			return rc;
	}
	char *text = cJSON_Print(j);
	ND_ASSERT(text);
	size_t len = strlen(text);
	char *buf = xmalloc(len + 2);
	memcpy(buf, text, len);
	buf[len] = '\n';
	int rc = rep_write_atomic(path, buf, len + 1, err);
	free(buf);
	cJSON_free(text);
	return rc;
}

static void print_io(const struct hif_calib_opts *o, const struct hif_calib *c)
{
	printf("I/O: %llu-byte file in %s, bs %zu B, QD %u%s, median of %d reads\n",
	       (unsigned long long)o->file_bytes, o->dir, o->bs_bytes, o->qd,
	       o->direct ? ", O_DIRECT" : ", buffered", c->reps);
	printf("  %-9s %9s %9s %11s %11s %11s\n", "backend", "MB/s", "IOPS", "lat p50 us",
	       "lat p99 us", "CPU us/req");
	for (int i = 0; i < HIF_CALIB_NBACKENDS; i++) {
		const struct hif_calib_io *io = &c->io[i];
		if (io->status) {
			printf("  %-9s skipped: %s\n", hif_io_backend_long(io->backend), io->note);
			continue;
		}
		printf("  %-9s %9.1f %9.0f %11.1f %11.1f %11.2f%s\n",
		       hif_io_backend_long(io->backend), io->mb_s, io->iops, io->lat_p50_us,
		       io->lat_p99_us, io->cpu_ns_per_io / 1e3,
		       io->qd == 1 && o->qd > 1 ? "  (QD 1: pread)" : "");
	}
}

static void print_sgd(const struct hif_calib *c)
{
	const struct hif_calib_sgd *s = &c->sgd;
	printf("SGD step: train.model %s%s%s, %d stream%s x %d samples = %d per step, "
	       "%d thread%s\n", s->model, s->hidden[0] ? " " : "", s->hidden, s->streams,
	       s->streams == 1 ? "" : "s", s->stream_batch, s->batch, s->threads,
	       s->threads == 1 ? "" : "s");
	printf("  steps %u-%u of %u in epoch 1 (the model trained untimed up to them):\n"
	       "  %.4g FLOP (as the host model counts them) in %.4f s, median of %d\n",
	       s->first_step + 1, s->first_step + s->steps, s->epoch_steps, s->flops, s->rep_s,
	       c->reps);
	printf("  %.3f GFLOP/s = %d x %.4g GFLOP/s per core  (without sample assembly: %.3f)\n",
	       s->gflops, s->threads, s->gflops_per_core, s->kernel_gflops);
	printf("  repetitions %.4f .. %.4f s; CPU share %.0f %%%s\n", s->rep_min_s, s->rep_max_s,
	       s->cpu_share * 100.0, s->cpu_share < HIF_CALIB_QUIET_SHARE ?
	       "  WARNING: the machine was busy, the FLOP/s is too low" : "");
}

/* The keys the profile sets, with their values. */
static void print_profile(const char *path, const struct hif_calib *c,
			  const struct ihp_params *h)
{
	printf("profile: %s  (", path);
	const char *sep = "";
	if (c->sgd_done) {
		printf("host.cores %d, host.gflops_lr %.4g, gflops_mlp %.4g", h->cores, h->gflops_lr, h->gflops_mlp);
		sep = ", ";
	}
	if (c->io_done && c->io_sw_from >= 0) {
		printf("%shost.io_sw_ns %llu", sep, (unsigned long long)h->io_sw_ns);
		sep = ", ";
	}
	if (c->dram_gb_s > 0)
		printf("%shost.dram_gb_s %.4g", sep, h->dram_gb_s);
	printf(")\n");
}

static void print_valid(const struct hif_calib_valid *v)
{
	printf("validation: one in-host epoch, %llu samples in %u steps, %.4g FLOP,\n"
	       "  host.cores %d x host.gflops %.4g, %d thread%s for real\n",
	       (unsigned long long)v->samples, v->steps, v->flops, v->cores,
	       v->gflops_per_core, v->threads, v->threads == 1 ? "" : "s");
	printf("  predicted  %.4f s  (ihp model, epoch 2 of 2, data in the page cache;"
	       " epoch 1 with SSD reads: %.4f s)\n", v->pred_s, v->pred_epoch1_s);
	printf("  measured   %.4f s  (median of real epochs 2..%d:", v->meas_median_s, v->epochs);
	for (int e = 1; e < v->epochs; e++)
		printf(" %.4f", v->meas_s[e]);
	printf("; epoch 1 %.4f s, warm-up)\n", v->meas_s[0]);
	double dev = v->ratio - 1.0;
	printf("  ratio      %.3f  predicted / measured (%+.1f %%, %s 25 %%)\n", v->ratio,
	       dev * 100.0, dev <= 0.25 && dev >= -0.25 ? "within" : "NOT within");
	printf("  same computation: parameters after 2 real epochs %s the model's\n",
	       v->same_params ? "equal" : "DIFFER FROM");
	printf("  CPU share of the real epochs %.0f %%%s\n", v->cpu_share * 100.0,
	       v->cpu_share < HIF_CALIB_QUIET_SHARE ?
	       "  WARNING: the machine was busy, the measured time is too long" : "");
}

/* stdout first, so that an error on stderr follows what was printed. */
static int fail(const struct nd_err *err)
{
	fflush(stdout);
	return cli_error(err);
}

int cmd_calibrate(int argc, char **argv)
{
	struct hif_calib_opts o;
	struct cli_common com = { 0 };
	struct nd_err err = { 0 };
	struct cfg_bundle b = { 0 };
	struct wl_dataset tr = { 0 }, te = { 0 };
	struct hif_calib *c = NULL;
	struct hif_calib_valid *v = NULL;
	const char *out = "results/host-profile.json";
	int do_io = 1, do_sgd = 1, validate = 0, only = 0, reps = 5, rc = 0, have_data = 0;
	cJSON *prof = NULL, *meas = NULL;

	hif_calib_opts_init(&o);
	for (int i = 1; i < argc;) {
		const char *a = argv[i], *val;
		int missing = 0, j = i;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			printf(help, cli_common_help);
			return 0;
		}
		if (!strcmp(a, "--no-io")) { do_io = 0; i++; continue; }
		if (!strcmp(a, "--no-sgd")) { do_sgd = 0; i++; continue; }
		if (!strcmp(a, "--buffered")) { o.direct = 0; i++; continue; }
		if (!strcmp(a, "--validate")) { validate = 1; i++; continue; }
		if (!strcmp(a, "--validate-only")) { only = validate = 1; i++; continue; }
		static const char *const names[] = {
			"--out", "--dir", "--size", "--bs", "--qd", "--reps", "--epochs",
		};
		size_t k;
		for (k = 0; k < ND_ARRAY_LEN(names); k++) {
			j = i;
			if ((val = opt_value(argc, argv, &j, names[k], &missing)) || missing)
				break;
		}
		if (k < ND_ARRAY_LEN(names)) {
			if (missing || !*val)
				return cli_usage_error("calibrate", "option %s needs a value", names[k]);
			long n;
			uint64_t sz;
			switch (k) {
			case 0: out = val; break;
			case 1: o.dir = val; break;
			case 2:
				if (cli_parse_size(val, &sz) || sz == 0)
					return cli_usage_error("calibrate", "--size '%s': expected a "
							       "size such as 16M, 64M or 1G", val);
				o.file_bytes = sz;
				break;
			case 3:
				if (cli_parse_size(val, &sz) || sz == 0 || sz > HIF_IO_BS_MAX_BYTES)
					return cli_usage_error("calibrate", "--bs '%s': expected a "
							       "size from 1 to 64M such as 4k or 128K", val);
				o.bs_bytes = (size_t)sz;
				break;
			case 4:
				if (parse_int(val, 1, HIF_IO_QD_MAX, &n))
					return cli_usage_error("calibrate", "--qd '%s': expected a "
							       "whole number from 1 to %u", val, HIF_IO_QD_MAX);
				o.qd = (unsigned)n;
				break;
			case 5:
				if (parse_int(val, 1, HIF_CALIB_REPS_MAX, &n))
					return cli_usage_error("calibrate", "--reps '%s': expected a "
							       "whole number from 1 to %d", val,
							       HIF_CALIB_REPS_MAX);
				reps = (int)n;
				break;
			default:
				if (parse_int(val, 2, HIF_CALIB_REPS_MAX, &n))
					return cli_usage_error("calibrate", "--epochs '%s': expected a "
							       "whole number from 2 to %d", val,
							       HIF_CALIB_REPS_MAX);
				o.val_epochs = (int)n;
				break;
			}
			i = j + 1;
			continue;
		}
		int r = cli_common_opt(&com, argc, argv, &i, &err);
		if (r < 0)
			return cli_usage_error("calibrate", "%s", err.msg);
		if (r == 0)
			return cli_usage_error("calibrate", "unknown option '%s'", a);
	}
	if (o.direct && o.bs_bytes % HIF_IO_DIRECT_MULT_BYTES)
		return cli_usage_error("calibrate", "--bs %zu: O_DIRECT needs a multiple of %u "
				       "(or use --buffered)", o.bs_bytes, HIF_IO_DIRECT_MULT_BYTES);
	if (do_io && !only && o.file_bytes < o.bs_bytes)
		return cli_usage_error("calibrate", "--size must be at least one block (--bs)");
	if (only) {
		do_io = 0;
		do_sgd = 0;
	}

	cli_bundle_all(&b);
	if ((rc = cli_load(&b, &com, &err))) {
		rc = fail(&err);
		goto out;
	}
	const struct run_params *run = section_params(&b, &run_section);
	const struct ssd_params *sp = section_params(&b, &ssd_section);
	const struct ndp_train_params *tp = section_params(&b, &ndp_train_section);
	struct ihp_params *hp = section_params(&b, &ihp_section);
	cli_apply_run(run);

	c = xmalloc(sizeof *c);
	hif_calib_init(c, reps);
	if (!com.quiet)
		printf("calibrate: %s, %s\n", c->machine, c->when);
	if (do_io) {
		if ((rc = hif_calib_io(&o, c, &err)) < 0) {
			rc = fail(&err);
			goto out;
		}
		if (!com.quiet)
			print_io(&o, c);
	}
	if (!only) {
		hif_calib_dram(&o, c);
		if (!com.quiet)
			printf("DRAM copy: %.4g GB/s (memcpy of 64 MiB, bytes read + written)\n",
			       c->dram_gb_s);
	}
	struct hif_calib_work w = {
		.train = tp, .host = hp, .ssd = sp, .train_set = &tr, .test_set = &te,
		.seed = run->seed,
	};
	if (do_sgd || validate) {
		if ((rc = ndp_load_data(tp, &tr, &te, &err))) {
			rc = fail(&err);
			goto out;
		}
		have_data = 1;
	}
	/* I/O and DRAM figures first, so that the prediction uses them too. */
	hif_calib_apply(c, hp);
	if (validate) {
		/* With --validate the SGD repetitions alternate with the real
		 * epochs (hif_calib_validate), then the profile is written. */
		v = xmalloc(sizeof *v);
		if ((rc = hif_calib_validate(&o, &w, hp, do_sgd ? c : NULL, v, &err))) {
			rc = fail(&err);
			goto out;
		}
	} else if (do_sgd) {
		if ((rc = hif_calib_sgd(&o, &w, c, &err))) {
			rc = fail(&err);
			goto out;
		}
	}
	if (do_sgd && !com.quiet)
		print_sgd(c);
	char mpath[4096];
	measurements_path(out, mpath, sizeof mpath);
	if (!only) {
		prof = hif_calib_profile_json(c);
		if ((rc = write_json(out, prof, &err))) {
			rc = fail(&err);
			goto out;
		}
		hif_calib_apply(c, hp);
		if (!com.quiet)
			print_profile(out, c, hp);
	}
	if (validate && !com.quiet)
		print_valid(v);
	if (!only) {
		meas = hif_calib_measurements_json(c, v);
		if ((rc = write_json(mpath, meas, &err))) {
			rc = fail(&err);
			goto out;
		}
		if (!com.quiet)
			printf("measurements: %s\n", mpath);
	}
	rc = 0;
out:
	cJSON_Delete(prof);
	cJSON_Delete(meas);
	if (have_data) {
		wl_dataset_free(&tr);
		wl_dataset_free(&te);
	}
	free(v);
	free(c);
	cli_bundle_free(&b);
	return rc;
}
