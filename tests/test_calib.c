/*
 * test_calib.c — `ndpsim calibrate` and hostif/calib: the I/O measurement
 * per backend (and a forbidden backend reported as skipped), the host
 * profile being a config the loader accepts, the validation of the host
 * model (predicted in-host epoch within 25 % of the real one, the real run
 * computing the model's parameters bit for bit), and the command line.
 *
 * Timing on a shared machine: a short probe measures the CPU share first.
 * When another process holds one of our cores (share below
 * HIF_CALIB_QUIET_SHARE) the test drops to one OpenMP thread (which then
 * has a core of its own; the calibrated profile says cores = 1, so the
 * model is validated for that host) or waits and probes again, up to
 * BUSY_RETRIES times.  The validation runs up to VALID_ATTEMPTS times and
 * the first one within 25 % passes.  If none is
 * within 25 % and at least one ran on a quiet machine, the test fails; if
 * the machine was busy throughout it reports skip.  Under AddressSanitizer the
 * ratio is not asserted (instrumented code has another speed profile).
 */
#include <check.h>
#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli/cli.h"
#include "cli/registry.h"
#include "core/cfg.h"
#include "core/util.h"
#include "hostif/calib.h"
#include "hostif/io.h"
#include "hostif/host.h"
#include "ndp/train.h"
#include "tests/common/tutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define IO_BYTES ((uint64_t)16 << 20)
#define VALID_ATTEMPTS 3
#define BUSY_RETRIES 5

static struct wl_dataset tr, te;

static void set_threads(int n)
{
#ifdef _OPENMP
	omp_set_num_threads(n);
#else
	(void)n;
#endif
}
static int have_data;

static void *params_of(const struct cfg_bundle *b, const struct cfg_section *sec)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->sec[i] == sec)
			return b->params[i];
	ck_abort_msg("section %s not registered", sec->name);
	return NULL;
}

/* No temporary file of the calibration is left in dir. */
static int leftovers(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += !strncmp(e->d_name, "ndpsim-calibrate.", 17);
	closedir(d);
	return n;
}

static void io_opts(struct hif_calib_opts *o)
{
	hif_calib_opts_init(o);
	o->dir = tu_tmpdir();
	o->file_bytes = IO_BYTES;
}

/* Every backend reads the 16 MiB file (O_DIRECT, bs 128 KiB, QD 32) or is
 * reported as skipped with its reason; io_sw_ns comes from the first one
 * measured. */
START_TEST(io_measures_every_backend_or_says_why_not)
{
	struct hif_calib_opts o;
	io_opts(&o);
	struct hif_calib *c = xmalloc(sizeof *c);
	struct nd_err e = { 0 };
	hif_calib_init(c, 3);
	int rc = hif_calib_io(&o, c, &e);
	ck_assert_msg(rc == 0, "%s", e.msg);
	ck_assert(c->io_done);
	ck_assert_int_eq(leftovers(o.dir), 0);
	int first = -1;
	for (int i = 0; i < HIF_CALIB_NBACKENDS; i++) {
		const struct hif_calib_io *io = &c->io[i];
		if (io->status) {
			char why[1000];
			snprintf(why, sizeof why, "calibrate: %s skipped: %s", io->backend, io->note);
			tu_skip(why);
			ck_assert(io->note[0]);
			continue;
		}
		if (first < 0)
			first = i;
		printf("io %-5s %8.1f MB/s %7.0f IOPS p50 %8.1f us  p99 %8.1f us  CPU %6.2f us/req\n",
		       io->backend, io->mb_s, io->iops, io->lat_p50_us, io->lat_p99_us,
		       io->cpu_ns_per_io / 1e3);
		ck_assert_uint_eq(io->bytes, IO_BYTES);
		ck_assert_uint_eq(io->requests, IO_BYTES / (128u << 10));
		ck_assert_uint_eq(io->qd, strcmp(io->backend, "sync") ? 32u : 1u);
		ck_assert(io->mb_s > 0 && io->iops > 0);
		ck_assert(io->lat_p50_us > 0 && io->lat_p50_us <= io->lat_p99_us + 1e-9);
		ck_assert(io->lat_p99_us <= io->lat_max_us + 1e-9);
		ck_assert(io->cpu_ns_per_io > 0);
	}
	ck_assert_int_eq(c->io_sw_from, first);
	if (first >= 0)   /* rounded to 4 significant digits */
		ck_assert(fabs((double)c->io_sw_ns / c->io[first].cpu_ns_per_io - 1) < 1e-3);
	free(c);
}
END_TEST

/* A backend the kernel forbids is a skip with the reason, not a failure,
 * and not silently replaced by the next backend. */
START_TEST(forbidden_backend_is_reported_as_skipped)
{
	struct hif_calib_opts o;
	io_opts(&o);
	o.file_bytes = (uint64_t)1 << 20;
	struct hif_calib *c = xmalloc(sizeof *c);
	struct nd_err e = { 0 };
	hif_calib_init(c, 1);
	ck_assert_int_eq(hif_io_force_fail("uring", -EPERM), 0);
	int rc = hif_calib_io(&o, c, &e);
	hif_io_force_fail(NULL, 0);
	ck_assert_msg(rc == 0, "%s", e.msg);
	ck_assert_int_eq(c->io[0].status, -EPERM);
	ck_assert_str_eq(c->io[0].backend, "uring");
	ck_assert_msg(strstr(c->io[0].note, "Operation not permitted"), "note: %s", c->io[0].note);
	ck_assert(c->io_sw_from != 0);
	cJSON *m = hif_calib_measurements_json(c, NULL);
	cJSON *b0 = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "io"),
							   "backends"), 0);
	ck_assert_str_eq(cJSON_GetObjectItem(b0, "status")->valuestring, "skipped");
	ck_assert(cJSON_GetObjectItem(b0, "reason")->valuestring[0]);
	cJSON_Delete(m);
	ck_assert_int_eq(leftovers(o.dir), 0);
	free(c);
}
END_TEST

/* The profile is a config fragment with real keys only: the loader takes it
 * and it sets exactly what hif_calib_apply() sets; the measurements file is
 * not a config. */
START_TEST(profile_is_a_valid_config)
{
	struct hif_calib *c = xcalloc(1, sizeof *c);
	hif_calib_init(c, 5);
	c->sgd_done = 1;
	snprintf(c->sgd.model, sizeof c->sgd.model, "lr");
	c->sgd.threads = 2;
	c->sgd.streams = 8;
	c->sgd.stream_batch = 32;
	c->sgd.batch = 256;
	c->sgd.steps = 59;
	c->sgd.gflops = 8.642;
	c->sgd.gflops_per_core = 4.321;
	c->io_done = 1;
	c->io_sw_from = 1;
	snprintf(c->io[1].backend, sizeof c->io[1].backend, "aio");
	c->io_sw_ns = 12345;
	c->dram_gb_s = 19.5;

	cJSON *j = hif_calib_profile_json(c);
	char *text = cJSON_Print(j);
	const char *path = tu_write_file("calib-profile.json", text);
	ck_assert(path);
	struct cfg_bundle b;
	struct nd_err e = { 0 };
	cli_bundle_all(&b);
	cfg_defaults(&b);
	int rc = cfg_load_file(&b, path, &e);
	ck_assert_msg(rc == 0, "%s", e.msg);
	ck_assert_msg(cfg_validate(&b, &e) == 0, "%s", e.msg);
	const struct ihp_params *h = params_of(&b, &ihp_section);
	ck_assert_int_eq(h->cores, 2);
	ck_assert(h->gflops_lr == 4.321);
	ck_assert_uint_eq(h->io_sw_ns, 12345);
	ck_assert(h->dram_gb_s == 19.5);

	struct ihp_params applied;
	cfg_defaults(&b);
	applied = *(const struct ihp_params *)params_of(&b, &ihp_section);
	hif_calib_apply(c, &applied);
	ck_assert_int_eq(applied.cores, 2);
	ck_assert(applied.gflops_lr == 4.321);
	ck_assert_uint_eq(applied.io_sw_ns, 12345);
	ck_assert(applied.dram_gb_s == 19.5);

	/* Measurements carry extra keys: the loader must refuse them as config. */
	cJSON *m = hif_calib_measurements_json(c, NULL);
	char *mt = cJSON_Print(m);
	const char *mpath = tu_write_file("calib-measurements.json", mt);
	cfg_defaults(&b);
	ck_assert_int_ne(cfg_load_file(&b, mpath, &e), 0);
	cli_bundle_free(&b);
	free(mt);
	cJSON_Delete(m);
	free(text);
	cJSON_Delete(j);
	free(c);
}
END_TEST

START_TEST(median_of_odd_and_even_counts)
{
	double a[] = { 5, 1, 3 }, b[] = { 4, 1, 3, 2 }, one[] = { 7 };
	ck_assert(hif_calib_median(a, 3) == 3);
	ck_assert(hif_calib_median(b, 4) == 2.5);
	ck_assert(hif_calib_median(one, 1) == 7);
}
END_TEST

/* The host model, calibrated here, predicts the wall time of one in-host
 * epoch (epoch 2, data in DRAM) within 25 % of the same computation run for
 * real; the real run computes the model's parameters bit for bit. */
START_TEST(host_model_predicts_a_real_epoch_within_25_percent)
{
	if (!have_data) {
		tu_skip_need("dataset", "Fashion-MNIST not installed (dataset-fashion-mnist)");
		return;
	}
	struct cfg_bundle b;
	cli_bundle_all(&b);
	cfg_defaults(&b);
	const struct run_params *run = params_of(&b, &run_section);
	const struct ssd_params *sp = params_of(&b, &ssd_section);
	const struct ndp_train_params *tp = params_of(&b, &ndp_train_section);
	const struct ihp_params *hp = params_of(&b, &ihp_section);
	struct hif_calib_opts o;
	hif_calib_opts_init(&o);
	o.val_epochs = 5;
	struct hif_calib_work w = {
		.train = tp, .host = hp, .ssd = sp, .train_set = &tr, .test_set = &te,
		.seed = run->seed,
	};
	struct hif_calib *c = xmalloc(sizeof *c);
	struct hif_calib_valid *v = xmalloc(sizeof *v);
	struct nd_err e = { 0 };
	int quiet_seen = 0, passed = 0, n = 0, busy = 0;
	double last_ratio = 0;
	while (n < VALID_ATTEMPTS && !passed && busy < BUSY_RETRIES) {
		/* A short probe first: on a busy machine the full measurement
		 * would take minutes (parallel steps wait for preempted threads)
		 * and time the other process. */
		struct hif_calib_opts probe = o;
		probe.sgd_steps = 8;
		probe.sgd_at_end = 0;
		hif_calib_init(c, 1);
		int rc = hif_calib_sgd(&probe, &w, c, &e);
		ck_assert_msg(rc == 0, "%s", e.msg);
		if (!UNDER_ASAN && c->sgd.cpu_share < HIF_CALIB_QUIET_SHARE) {
			printf("probe: CPU share %.0f %% of %d threads, machine busy\n",
			       c->sgd.cpu_share * 100.0, c->sgd.threads);
			fflush(stdout);
			busy++;
			/* With one core taken by another process, one thread still
			 * has a core of its own: validate the 1-core host. */
			if (c->sgd.threads > 1)
				set_threads(1);
			else
				sleep(2);
			continue;
		}
		hif_calib_init(c, 5);
		rc = hif_calib_validate(&o, &w, hp, c, v, &e);
		ck_assert_msg(rc == 0, "%s", e.msg);
		ck_assert(c->sgd_done);
		struct ihp_params cal = *hp;
		hif_calib_apply(c, &cal);
		ck_assert_int_eq(cal.cores, c->sgd.threads);
		ck_assert_int_eq(v->cores, cal.cores);
		ck_assert(v->gflops_per_core == cal.gflops_lr);
		n++;
		ck_assert_msg(v->same_params, "the real epochs did not compute the model's parameters");
		ck_assert_uint_eq(v->samples, tr.n);
		ck_assert(v->pred_s > 0 && v->meas_median_s > 0);
		/* The prediction is compute bound: FLOPs / (cores x FLOP/s). */
		double compute_s = v->flops / (cal.cores * cal.gflops_lr * 1e9);
		ck_assert_msg(fabs(v->pred_s / compute_s - 1) < 0.01, "pred %g s, FLOPs/rate %g s",
			      v->pred_s, compute_s);
		int quiet = v->cpu_share >= HIF_CALIB_QUIET_SHARE &&
			    c->sgd.cpu_share >= HIF_CALIB_QUIET_SHARE;
		printf("validation attempt %d: %.3f GFLOP/s on %d threads; predicted %.4f s, "
		       "measured %.4f s (median of %d), ratio %.3f; CPU share %.0f %% / %.0f %%%s\n",
		       n, c->sgd.gflops, c->sgd.threads, v->pred_s, v->meas_median_s,
		       v->epochs - 1, v->ratio, c->sgd.cpu_share * 100.0, v->cpu_share * 100.0,
		       quiet ? "" : " (busy machine)");
		fflush(stdout);
		if (UNDER_ASAN) {
			tu_skip("calibrate: the 25 % timing assertion is not made under AddressSanitizer");
			passed = 1;
			break;
		}
		last_ratio = v->ratio;
		quiet_seen |= quiet;
		if (fabs(v->ratio - 1) <= 0.25)
			passed = 1;
	}
	if (!passed && !quiet_seen)
		tu_skip("calibrate: machine busy (another process on our cores); 25 % check not made");
	else if (!passed)
		ck_abort_msg("predicted / measured epoch outside 1 +- 0.25 in %d attempts "
			     "(last ratio %.3f)", n, last_ratio);
	free(v);
	free(c);
	cli_bundle_free(&b);
}
END_TEST

static int file_exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

START_TEST(cli_calibrate)
{
	char out[16384], prof[512], meas[512];
	int rc = tu_ndpsim(out, sizeof out, "calibrate --help");
	ck_assert_int_eq(rc, 0);
	ck_assert(strstr(out, "usage: ndpsim calibrate"));
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "calibrate --size 0"), 2);
	ck_assert(strstr(out, "--size"));
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "calibrate --reps 0"), 2);
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "calibrate --bogus"), 2);
	ck_assert(strstr(out, "unknown option"));
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "calibrate --bs 1000"), 2);
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "calibrate --epochs 1"), 2);
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "calibrate --out"), 2);
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "calibrate --set host.cores=0 --no-io --no-sgd"), 2);

	snprintf(prof, sizeof prof, "%s/cli-profile.json", tu_tmpdir());
	snprintf(meas, sizeof meas, "%s/cli-profile.measurements.json", tu_tmpdir());
	unlink(prof);
	unlink(meas);
	rc = tu_ndpsim(out, sizeof out, "calibrate --size 16M --reps 2 --set threads=1 --dir %s --out %s%s",
		       tu_tmpdir(), prof, have_data ? "" : " --no-sgd");
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert(strstr(out, "io_uring") && strstr(out, "libaio") && strstr(out, "pread"));
	ck_assert(file_exists(prof) && file_exists(meas));
	ck_assert_int_eq(leftovers(tu_tmpdir()), 0);

	/* The profile is a config: `ndpsim config` resolves it. */
	rc = tu_ndpsim(out, sizeof out, "config --config %s", prof);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert(strstr(out, "\"io_sw_ns\""));
	if (!have_data) {
		tu_skip_need("dataset", "Fashion-MNIST not installed: calibrate --validate and train not run");
		return;
	}
	ck_assert(strstr(out, "\"gflops_lr\""));
	/* ... and the host model takes it. */
	rc = tu_ndpsim(out, sizeof out, "train --where host --config %s --set train.epochs=1 --set threads=1 "
		       "--out %s/cli-train --quiet", prof, tu_tmpdir());
	ck_assert_msg(rc == 0, "%s", out);
	/* --validate-only checks a profile without measuring or writing. */
	rc = tu_ndpsim(out, sizeof out, "calibrate --validate-only --epochs 2 --set threads=1 --config %s", prof);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert(strstr(out, "predicted") && strstr(out, "measured") && strstr(out, "ratio"));
	ck_assert(strstr(out, "parameters after 2 real epochs equal the model's"));
}
END_TEST

int main(void)
{
	struct ndp_train_params tp;
	struct cfg_bundle b = { 0 };
	struct nd_err e = { 0 };
	cfg_bundle_add(&b, &ndp_train_section, &tp);
	cfg_defaults(&b);
	have_data = ndp_load_data(&tp, &tr, &te, &e) == 0;

	Suite *s = suite_create("calib");
	TCase *t = tcase_create("io");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, io_measures_every_backend_or_says_why_not);
	tcase_add_test(t, forbidden_backend_is_reported_as_skipped);
	tcase_add_test(t, profile_is_a_valid_config);
	tcase_add_test(t, median_of_odd_and_even_counts);
	suite_add_tcase(s, t);
	t = tcase_create("validate");
	tcase_set_timeout(t, 300);
	tcase_add_test(t, host_model_predicts_a_real_epoch_within_25_percent);
	tcase_add_test(t, cli_calibrate);
	suite_add_tcase(s, t);
	int rc = tu_run_suite(s);
	if (have_data) {
		wl_dataset_free(&tr);
		wl_dataset_free(&te);
	}
	return rc;
}
