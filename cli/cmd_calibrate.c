/*
 * cmd_calibrate.c — `ndpsim calibrate`: measure this machine's per-core
 * rate of every kernel the host model charges (LR and MLP SGD steps,
 * bnn_predict) and its package power (RAPL, when readable), write a host
 * profile that --host-profile applies, and with --validate check the host
 * model against runs the calibration did not time (hostif/calib.h does the
 * work).
 */
#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/registry.h"
#include "core/outdir.h"
#include "core/report.h"
#include "core/util.h"
#include "hostif/calib.h"
#include "hostif/io.h"

static const char help[] =
	"usage: ndpsim calibrate [--out FILE] [--kernels LIST] [--reps N] [--idle S]\n"
	"                        [--validate] [--validate-only] [--epochs N]\n"
	"                        [--io [--dir DIR] [--size SIZE] [--bs SIZE] [--qd N] [--buffered]]\n"
	"                        [--config FILE] [--host NAME] [--host-profile FILE]\n"
	"                        [--set KEY=VALUE]... [--seed N] [--quiet]\n"
	"\n"
	"Measures this machine for the host model and writes a host profile, a config\n"
	"fragment {\"host\": {\"cores\", \"gflops_lr\", \"gflops_mlp\", \"bnn_gops\"}} (plus\n"
	"\"p_idle_w\" and \"p_active_w\" when package power can be read) that every command\n"
	"applies with --host-profile FILE.  All kernels run on the same OpenMP threads\n"
	"(--set threads=N); host.cores = that number.\n"
	"  lr, mlp  the in-host SGD step of logistic regression / the MLP (train.hidden)\n"
	"           exactly as the host model runs it (workloads/sgd.h), on Fashion-MNIST;\n"
	"           host.gflops_lr / gflops_mlp = the step's FLOPs / wall time / threads\n"
	"  bnn      bnn_predict of a network of the bnn section over 2000 training images;\n"
	"           host.bnn_gops = 64-bit XNOR+popcount word-ops / s / threads, counted\n"
	"           as the host platform charges them (bnn_dp_host_word_ops)\n"
	"  power    package energy from /sys/class/powercap/intel-rapl:N (or\n"
	"           $NDPSIM_POWERCAP_ROOT): idle over --idle S seconds asleep, active\n"
	"           over >= 1 s of the kernels run back to back.  When it cannot be read the profile\n"
	"           says \"power not measured\" and has no power keys: the preset it is\n"
	"           applied over keeps its figures.\n"
	"Every figure is the median of --reps repetitions.  The raw numbers go to FILE\n"
	"with .json replaced by .measurements.json.  The two are one set, replaced as a\n"
	"whole: they live in DIR/.NAME.set/ (NAME: FILE's name) and FILE and\n"
	"FILE.measurements.json are symbolic links into it.\n"
	"\n"
	"  --out FILE       host profile (results/host-profile.json)\n"
	"  --kernels LIST   kernels to measure, a list of lr, mlp, bnn (lr,mlp,bnn)\n"
	"  --reps N         repetitions per measurement, 1..101 (5)\n"
	"  --idle S         quiet interval for the idle power, 0.1..60 s (2)\n"
	"  --validate       then predict runs the calibration did not time and time them\n"
	"                   for real: whole LR and MLP epochs (epoch 2 of 2 in the host\n"
	"                   model, data cached) and bnn_predict over the test set, each\n"
	"                   with the profile's own rate and, calibrated on LR only, with\n"
	"                   the preset's MLP and BNN rates scaled by measured / preset LR;\n"
	"                   prints every predicted / measured ratio\n"
	"  --validate-only  measure nothing, write nothing: validate the host model as\n"
	"                   configured (e.g. --host-profile results/host-profile.json)\n"
	"  --epochs N       real epochs / BNN runs of the validation, the first one a\n"
	"                   warm-up, 2..101 (4)\n"
	"  --io             also measure reads (io_uring, libaio, pread) and DRAM copy\n"
	"                   bandwidth and write host.io_sw_ns and host.dram_gb_s\n"
	"  --no-io          (the default) no I/O or DRAM measurement\n"
	"  --dir DIR        --io: where the temporary file is created (build)\n"
	"  --size SIZE      --io: temporary file size, e.g. 16M, 64M, 1G (64M)\n"
	"  --bs SIZE        --io: read block size (128k)   --qd N   requests in flight (32)\n"
	"  --buffered       --io: no O_DIRECT (then the page cache serves the repetitions)\n"
	"%s"
	"\n"
	"Exit status: 0 ok (whatever the ratios), 1 a measurement failed, 2 bad usage\n"
	"or input (an unwritable --out, a profile with an unknown key, no Fashion-MNIST:\n"
	"install dataset-fashion-mnist).\n";

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

static void *section_params(const struct cfg_bundle *b, const struct cfg_section *sec)
{
	void *p = cfg_bundle_params(b, sec);
	ND_ASSERT(p != NULL);   /* a section the command registered */
	return p;
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

/*
 * The profile and its measurements are one set, replaced as a whole: both
 * files live in the directory "<dir>/.<profile name>.set/", written into a
 * staging directory beside it and swapped in by one rename (core/outdir.h);
 * FILE and FILE.measurements.json are symbolic links into that directory,
 * made once.  A failed or killed calibration leaves the previous pair, and a
 * reader never finds a new profile beside old measurements.
 */
struct calib_set {
	char dir[8400];      /* "<dir>/.<name>.set" */
	char ptarget[8400];  /* ".<name>.set/<name>", relative to the link */
	char mtarget[8400];
	char pname[4096], mname[4096];
};

static void set_names(const char *out, const char *mpath, struct calib_set *cs)
{
	const char *pb = strrchr(out, '/'), *mb = strrchr(mpath, '/');
	pb = pb ? pb + 1 : out;
	mb = mb ? mb + 1 : mpath;
	snprintf(cs->pname, sizeof cs->pname, "%s", pb);
	snprintf(cs->mname, sizeof cs->mname, "%s", mb);
	snprintf(cs->dir, sizeof cs->dir, "%.*s.%s.set", (int)(pb - out), out, cs->pname);
	snprintf(cs->ptarget, sizeof cs->ptarget, ".%s.set/%s", cs->pname, cs->pname);
	snprintf(cs->mtarget, sizeof cs->mtarget, ".%s.set/%s", cs->pname, cs->mname);
}

/* path becomes a symbolic link to target (atomically: a new link renamed
 * over it); nothing is done when it already is one. */
static int link_into(const char *path, const char *target, struct nd_err *err)
{
	char cur[4096], tmp[4200];
	ssize_t l = readlink(path, cur, sizeof cur - 1);
	if (l >= 0) {
		cur[l] = '\0';
		if (!strcmp(cur, target))
			return 0;
	}
	snprintf(tmp, sizeof tmp, "%s.link.%ld", path, (long)getpid());
	unlink(tmp);
	if (symlink(target, tmp))
		return nd_errf(err, -errno, "%s: symlink: %s", tmp, strerror(errno));
	if (rename(tmp, path)) {
		int e = errno;
		unlink(tmp);
		return nd_errf(err, -e, "%s: rename: %s", path, strerror(e));
	}
	return 0;
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

static void print_sgd(const struct hif_calib *c, const struct hif_calib_sgd *s)
{
	printf("SGD step %s%s%s: %d stream%s x %d samples = %d per step, %d thread%s\n",
	       s->model, s->hidden[0] ? " 784-" : "", s->hidden[0] ? s->hidden : "", s->streams,
	       s->streams == 1 ? "" : "s", s->stream_batch, s->batch, s->threads,
	       s->threads == 1 ? "" : "s");
	printf("  steps %u-%u of %u in epoch 1 (the model trained untimed up to them):\n"
	       "  %.4g FLOP (workloads/sgd.h's count) in %.4f s, median of %d\n",
	       s->first_step + 1, s->first_step + s->steps, s->epoch_steps, s->flops, s->rep_s,
	       c->reps);
	printf("  %.4g GFLOP/s = %d x %.4g GFLOP/s per core  (without sample assembly: %.4g)\n",
	       s->gflops, s->threads, s->gflops_per_core, s->kernel_gflops);
	printf("  repetitions %.4f .. %.4f s; CPU share %.0f %%%s\n", s->rep_min_s, s->rep_max_s,
	       s->cpu_share * 100.0, s->cpu_share < HIF_CALIB_QUIET_SHARE ?
	       "  WARNING: the machine was busy, the rate is too low" : "");
}

static void print_bnn(const struct hif_calib *c)
{
	const struct hif_calib_bnn *b = &c->bnn;
	printf("BNN inference (bnn_predict): %s, %llu word-ops per image, %ld images, %d thread%s\n",
	       b->arch, (unsigned long long)b->word_ops, b->images, b->threads,
	       b->threads == 1 ? "" : "s");
	printf("  %.4f s, median of %d (%.4f .. %.4f): %.4g Gword-op/s = %d x %.4g per core; "
	       "CPU share %.0f %%%s\n", b->rep_s, c->reps, b->rep_min_s, b->rep_max_s, b->gops,
	       b->threads, b->gops_per_core, b->cpu_share * 100.0,
	       b->cpu_share < HIF_CALIB_QUIET_SHARE ?
	       "  WARNING: the machine was busy, the rate is too low" : "");
}

static void print_power(const struct hif_calib *c)
{
	const struct hif_calib_power *p = &c->power;
	if (p->measured)
		printf("power: idle %.4g W, active %.4g W (%s)\n", p->p_idle_w, p->p_active_w, p->note);
	else
		printf("%s\n  host.p_active_w / p_idle_w are not written: the preset keeps its figures\n",
		       p->note);
}

/* The keys the profile sets, with their values. */
static void print_profile(const char *path, const cJSON *prof)
{
	printf("profile: %s  (", path);
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(prof, "host"), *it;
	const char *sep = "";
	cJSON_ArrayForEach(it, h) {
		/* rep_num() writes non-integers as raw text */
		if (cJSON_IsNumber(it))
			printf("%shost.%s %.4g", sep, it->string, it->valuedouble);
		else if (cJSON_IsRaw(it))
			printf("%shost.%s %s", sep, it->string, it->valuestring);
		else
			continue;
		sep = ", ";
	}
	printf(")\n");
}

static void print_valid(const struct hif_calib_valid *v)
{
	static const char *const what[HIF_CHK_N] = {
		"LR epoch, profile's gflops_lr",
		"MLP epoch, profile's gflops_mlp",
		"BNN test set, profile's bnn_gops",
		"MLP epoch, calibrated on LR only",
		"BNN test set, calibrated on LR only",
	};
	static const char *const unit[HIF_CHK_N] = {
		"GFLOP/s", "GFLOP/s", "Gword-op/s", "GFLOP/s", "Gword-op/s"
	};
	printf("validation: runs the calibration did not time, %d thread%s for real, "
	       "host.cores %d in the model\n", v->threads, v->threads == 1 ? "" : "s", v->cores);
	printf("  %-36s %11s %10s %10s %7s\n", "run (rate used per core)", "rate", "predicted",
	       "measured", "ratio");
	for (int k = 0; k < HIF_CHK_N; k++) {
		const struct hif_calib_check *c = &v->chk[k];
		if (!c->done)
			continue;
		char r[32];
		snprintf(r, sizeof r, "%.4g %s", c->rate, unit[k]);
		printf("  %-36s %11s %9.4fs %9.4fs %7.3f\n", what[k], r, c->pred_s, c->meas_s, c->ratio);
	}
	printf("  measured = median of runs 2..%d (run 1 a warm-up):", v->epochs);
	static const char *const rn[3] = { "LR", "MLP", "BNN" };
	for (int k = 0; k < 3; k++) {
		if (k < 2 ? !v->steps[k] : !v->bnn_images)
			continue;
		printf(" %s", rn[k]);
		for (int e = 0; e < v->epochs; e++)
			printf(" %.4f", v->meas_s[k][e]);
		printf(";");
	}
	printf("\n");
	if (v->scale > 0)
		printf("  calibrated on LR only: measured / preset gflops_lr = %.4g / %.4g = %.4g; the "
		       "preset's gflops_mlp %.4g and bnn_gops %.4g scaled by it\n",
		       v->scale * v->preset_lr, v->preset_lr, v->scale, v->preset_mlp, v->preset_bnn);
	for (int k = 0; k < 2; k++)
		if (v->steps[k])
			printf("  same computation: %s parameters after 2 real epochs %s the model's\n",
			       rn[k], v->same_params[k] ? "equal" : "DIFFER FROM");
	if (v->bnn_images)
		printf("  BNN: %ld test images, %llu word-ops each, %ld correct\n", v->bnn_images,
		       (unsigned long long)v->bnn_word_ops, v->bnn_correct);
	printf("  CPU share of the real runs %.0f %%%s\n", v->cpu_share * 100.0,
	       v->cpu_share < HIF_CALIB_QUIET_SHARE ?
	       "  WARNING: the machine was busy, the measured times are too long" : "");
}

/* stdout first, so that an error on stderr follows what was printed. */
static int fail(const struct nd_err *err)
{
	fflush(stdout);
	return cli_error(err);
}

/* Before minutes of measuring: the directory of --out exists (or is made)
 * and is writable, and --out is not a directory.  -EINVAL / -ENOTDIR /
 * -EISDIR naming the path. */
static int check_out(const char *out, struct nd_err *err)
{
	struct stat st;
	if (!stat(out, &st) && S_ISDIR(st.st_mode))
		return nd_errf(err, -EISDIR, "%s: --out is a directory; expected a file name "
			       "such as %s/host-profile.json", out, out);
	char dir[4096];
	if (strlen(out) >= sizeof dir)
		return nd_errf(err, -EINVAL, "%.100s...: --out path too long", out);
	snprintf(dir, sizeof dir, "%s", out);
	char *slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	int rc = rep_mkdir_p(dir, err);
	if (rc) {
		nd_err_prefix(err, "%s", out);
		err->code = -EINVAL;
		return rc == -ENOTDIR ? -ENOTDIR : -EINVAL;
	}
	if (access(dir, W_OK))
		return nd_errf(err, -EINVAL, "%s: cannot write the profile into %s: %s", out, dir,
			       strerror(errno));
	return 0;
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
	int do_io = 0, validate = 0, only = 0, reps = 5, rc = 0, have_data = 0, lock_fd = -1;
	cJSON *prof = NULL, *meas = NULL;
	struct rep_outdir od = { .lock_fd = -1 };

	hif_calib_opts_init(&o);
	for (int i = 1; i < argc;) {
		const char *a = argv[i], *val;
		int missing = 0, j = i;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			printf(help, cli_common_help);
			return 0;
		}
		if (!strcmp(a, "--io")) { do_io = 1; i++; continue; }
		if (!strcmp(a, "--no-io")) { do_io = 0; i++; continue; }
		if (!strcmp(a, "--buffered")) { o.direct = 0; i++; continue; }
		if (!strcmp(a, "--validate")) { validate = 1; i++; continue; }
		if (!strcmp(a, "--validate-only")) { only = validate = 1; i++; continue; }
		static const char *const names[] = {
			"--out", "--dir", "--size", "--bs", "--qd", "--reps", "--epochs",
			"--kernels", "--idle",
		};
		size_t k;
		for (k = 0; k < ND_ARRAY_LEN(names); k++) {
			j = i;
			if ((val = cli_opt_value(argc, argv, &j, names[k], &missing)) || missing)
				break;
		}
		if (k < ND_ARRAY_LEN(names)) {
			if (missing || !*val)
				return cli_usage_error("calibrate", "option %s needs a value", names[k]);
			long n;
			uint64_t sz;
			char *end;
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
			case 6:
				if (parse_int(val, 2, HIF_CALIB_REPS_MAX, &n))
					return cli_usage_error("calibrate", "--epochs '%s': expected a "
							       "whole number from 2 to %d", val,
							       HIF_CALIB_REPS_MAX);
				o.val_epochs = (int)n;
				break;
			case 7:
				if (hif_calib_parse_kernels(val, &o.kernels, &err))
					return cli_usage_error("calibrate", "%s", err.msg);
				break;
			default:
				errno = 0;
				o.idle_s = strtod(val, &end);
				if (*end || errno || !(o.idle_s >= 0.1 && o.idle_s <= 60))
					return cli_usage_error("calibrate", "--idle '%s': expected "
							       "seconds from 0.1 to 60", val);
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
	if (only)
		do_io = 0;
	if (do_io && o.direct && o.bs_bytes % HIF_IO_DIRECT_MULT_BYTES)
		return cli_usage_error("calibrate", "--bs %zu: O_DIRECT needs a multiple of %u "
				       "(or use --buffered)", o.bs_bytes, HIF_IO_DIRECT_MULT_BYTES);
	if (do_io && o.file_bytes < o.bs_bytes)
		return cli_usage_error("calibrate", "--size must be at least one block (--bs)");

	cli_bundle_all(&b);
	if ((rc = cli_load(&b, &com, &err))) {
		rc = fail(&err);
		goto out;
	}
	char mpath[4096];
	measurements_path(out, mpath, sizeof mpath);
	if (!only && (rc = check_out(out, &err))) {
		rc = fail(&err);
		goto out;
	}
	/* one calibration per --out at a time (core/outdir.h) */
	if (!only && (rc = rep_out_lock(out, &lock_fd, &err))) {
		rc = fail(&err);
		goto out;
	}
	const struct run_params *run = section_params(&b, &run_section);
	const struct ssd_params *sp = section_params(&b, &ssd_section);
	const struct ndp_train_params *tp = section_params(&b, &ndp_train_section);
	const struct bnn_params *bp = section_params(&b, &bnn_section);
	struct ihp_params *hp = section_params(&b, &ihp_section);
	const struct ihp_params preset = *hp;
	cli_apply_run(run);

	c = xmalloc(sizeof *c);
	hif_calib_init(c, reps);
	c->io_keys = do_io;
	if (!com.quiet)
		printf("calibrate: %s, %s\n", c->machine, c->when);
	if (do_io) {
		if ((rc = hif_calib_io(&o, c, &err)) < 0) {
			rc = fail(&err);
			goto out;
		}
		if (!com.quiet)
			print_io(&o, c);
		hif_calib_dram(&o, c);
		if (!com.quiet)
			printf("DRAM copy: %.4g GB/s (memcpy of 64 MiB, bytes read + written)\n",
			       c->dram_gb_s);
	}
	struct hif_calib_work w = {
		.train = tp, .host = &preset, .ssd = sp, .bnn = bp, .train_set = &tr,
		.test_set = &te, .seed = run->seed,
	};
	if ((rc = ndp_load_data(tp, &tr, &te, &err))) {
		rc = fail(&err);
		goto out;
	}
	have_data = 1;
	if (!com.quiet && !only)
		printf("measuring %s%s%s%s (idle power first, %.3g s)...\n",
		       o.kernels & 1 ? "lr " : "", o.kernels & 2 ? "mlp " : "",
		       o.kernels & 4 ? "bnn " : "", validate ? "and the validation runs" : "",
		       o.idle_s);
	fflush(stdout);
	if (validate) {
		/* The calibration repetitions alternate with the validation
		 * runs (hif_calib_validate); the prediction of the cross-kernel
		 * checks takes the configured host section as the preset. */
		v = xmalloc(sizeof *v);
		if ((rc = hif_calib_validate(&o, &w, &preset, only ? NULL : c, v, &err))) {
			rc = fail(&err);
			goto out;
		}
	} else if ((rc = hif_calib_kernels(&o, &w, c, &err))) {
		rc = fail(&err);
		goto out;
	}
	if (!only && !com.quiet) {
		for (int k = 0; k < 2; k++)
			if (c->sgd[k].done)
				print_sgd(c, &c->sgd[k]);
		if (c->bnn.done)
			print_bnn(c);
		print_power(c);
	}
	if (!only) {
		/* both files staged and swapped in as one set before anything
		 * says so (struct calib_set) */
		prof = hif_calib_profile_json(c);
		meas = hif_calib_measurements_json(c, v);
		struct calib_set cs;
		char sp_[8400], sm_[8400];
		set_names(out, mpath, &cs);
		if ((rc = rep_outdir_begin(&od, cs.dir, &err))) {
			rc = fail(&err);
			goto out;
		}
		snprintf(sp_, sizeof sp_, "%s/%s", od.stage, cs.pname);
		snprintf(sm_, sizeof sm_, "%s/%s", od.stage, cs.mname);
		if ((rc = write_json(sm_, meas, &err)) || (rc = write_json(sp_, prof, &err)) ||
		    (rc = rep_outdir_commit(&od, &err)) || (rc = link_into(mpath, cs.mtarget, &err)) ||
		    (rc = link_into(out, cs.ptarget, &err))) {
			rc = fail(&err);
			goto out;
		}
		if (!com.quiet)
			print_profile(out, prof);
	}
	if (validate && !com.quiet)
		print_valid(v);
	if (!only && !com.quiet)
		printf("measurements: %s\n", mpath);
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
	rep_outdir_abort(&od);
	if (lock_fd >= 0)
		close(lock_fd);
	return rc;
}
