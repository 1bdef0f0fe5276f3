/*
 * test_calib.c — `ndpsim calibrate` and hostif/calib, what is deterministic
 * about them (no speed is asserted here: bench/bench_calib.c records the
 * rates and the predicted / measured ratios):
 *  - the I/O measurement per backend, a forbidden backend reported as
 *    skipped;
 *  - the host profile: exactly the kernel keys plus host.cores (and the
 *    power keys only when power was measured), "power not measured" in its
 *    description otherwise, accepted by the loader and by `ndpsim config
 *    --host-profile`, applied over a preset whose other figures it keeps;
 *  - the RAPL reader on a fake powercap tree (package domains only, sums,
 *    wrap-around at max_energy_range_uj, bad files named), and a counter
 *    that does not advance giving "power not measured";
 *  - the validation: the real LR and MLP epochs compute the model's
 *    parameters bit for bit, and every prediction is the model's
 *    arithmetic re-derived here (FLOPs / (cores x rate), word-ops / (cores
 *    x rate), the LR-only rule preset x measured / preset);
 *  - bad input: unknown options and kernels, an unwritable --out, a profile
 *    with a key that does not exist: exit 2 naming it.
 */
#include <check.h>
#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
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
#include "workloads/bnn_dp.h"
#include "tests/common/tutil.h"

#define IO_BYTES ((uint64_t)16 << 20)

static struct wl_dataset tr, te;
static int have_data;

static void set_threads(int n)
{
#ifdef _OPENMP
	omp_set_num_threads(n);
#else
	(void)n;
#endif
}

static void *params_of(const struct cfg_bundle *b, const struct cfg_section *sec)
{
	void *p = cfg_bundle_params(b, sec);
	if (!p)
		ck_abort_msg("section %s not registered", sec->name);
	return p;
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

START_TEST(median_of_odd_and_even_counts)
{
	double a[] = { 5, 1, 3 }, b[] = { 4, 1, 3, 2 }, one[] = { 7 };
	ck_assert(hif_calib_median(a, 3) == 3);
	ck_assert(hif_calib_median(b, 4) == 2.5);
	ck_assert(hif_calib_median(one, 1) == 7);
}
END_TEST

/* A calibration record as hif_calib_kernels() leaves it, with made-up
 * rates (the profile's structure does not depend on them). */
static struct hif_calib *fake_calib(int power)
{
	struct hif_calib *c = xcalloc(1, sizeof *c);
	hif_calib_init(c, 5);
	c->threads = 3;
	for (int k = 0; k < 2; k++) {
		c->sgd[k].done = 1;
		snprintf(c->sgd[k].model, sizeof c->sgd[k].model, "%s", k ? "mlp" : "lr");
		snprintf(c->sgd[k].hidden, sizeof c->sgd[k].hidden, "%s", k ? "100" : "");
		c->sgd[k].threads = 3;
		c->sgd[k].steps = 59;
	}
	c->sgd[0].gflops_per_core = 1.234;
	c->sgd[1].gflops_per_core = 5.678;
	c->bnn.done = 1;
	c->bnn.threads = 3;
	c->bnn.word_ops = 35031;
	c->bnn.images = 2000;
	c->bnn.gops_per_core = 0.4321;
	if (power) {
		c->power.measured = 1;
		c->power.p_idle_w = 7.5;
		c->power.p_active_w = 31.25;
		snprintf(c->power.note, sizeof c->power.note, "package energy from 1 RAPL domain");
	} else {
		snprintf(c->power.note, sizeof c->power.note, "power not measured: no powercap here");
	}
	return c;
}

/* The names of the host object's keys, in order, comma-separated. */
static void host_keys(const cJSON *prof, char *b, size_t n)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(prof, "host"), *it;
	ck_assert_ptr_nonnull(h);
	b[0] = '\0';
	size_t off = 0;
	cJSON_ArrayForEach(it, h)
		off += (size_t)snprintf(b + off, n - off, "%s%s", off ? "," : "", it->string);
}

static double host_num(const cJSON *prof, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(prof, "host"), key);
	ck_assert_msg(it, "no host.%s", key);
	return cJSON_IsRaw(it) ? strtod(it->valuestring, NULL) : it->valuedouble;
}

/* Exactly the kernel keys and cores; power only when measured; what the
 * loader reads back is what hif_calib_apply() sets. */
START_TEST(profile_has_exactly_the_measured_keys)
{
	for (int power = 0; power < 2; power++) {
		struct hif_calib *c = fake_calib(power);
		cJSON *j = hif_calib_profile_json(c);
		char keys[512];
		host_keys(j, keys, sizeof keys);
		ck_assert_str_eq(keys, power ? "description,cores,gflops_lr,gflops_mlp,bnn_gops,"
					       "p_idle_w,p_active_w" :
					       "description,cores,gflops_lr,gflops_mlp,bnn_gops");
		const char *d = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(j, "host"), "description")->valuestring;
		ck_assert_int_eq(strstr(d, "power not measured") != NULL, !power);
		ck_assert(host_num(j, "cores") == 3);
		ck_assert(host_num(j, "gflops_lr") == 1.234);
		ck_assert(host_num(j, "gflops_mlp") == 5.678);
		ck_assert(host_num(j, "bnn_gops") == 0.4321);

		char *text = cJSON_Print(j);
		const char *path = tu_write_file("calib-profile.json", text);
		struct cfg_bundle b;
		struct nd_err e = { 0 };
		cli_bundle_all(&b);
		cfg_defaults(&b);
		struct ihp_params before = *(const struct ihp_params *)params_of(&b, &ihp_section);
		ck_assert_msg(cfg_load_file(&b, path, &e) == 0, "%s", e.msg);
		ck_assert_msg(cfg_validate(&b, &e) == 0, "%s", e.msg);
		const struct ihp_params *h = params_of(&b, &ihp_section);
		struct ihp_params applied = before;
		hif_calib_apply(c, &applied);
		ck_assert_int_eq(h->cores, 3);
		ck_assert(h->gflops_lr == 1.234 && h->gflops_mlp == 5.678 && h->bnn_gops == 0.4321);
		ck_assert(h->p_idle_w == (power ? 7.5 : before.p_idle_w));
		ck_assert(h->p_active_w == (power ? 31.25 : before.p_active_w));
		ck_assert(h->io_sw_ns == before.io_sw_ns && h->dram_gb_s == before.dram_gb_s);
		ck_assert(h->cores == applied.cores && h->gflops_lr == applied.gflops_lr &&
			  h->gflops_mlp == applied.gflops_mlp && h->bnn_gops == applied.bnn_gops &&
			  h->p_idle_w == applied.p_idle_w && h->p_active_w == applied.p_active_w &&
			  h->io_sw_ns == applied.io_sw_ns && h->dram_gb_s == applied.dram_gb_s);

		/* The measurements file is not a config. */
		cJSON *m = hif_calib_measurements_json(c, NULL);
		ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "power"), "status")
				 ->valuestring, power ? "measured" : "power not measured");
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
	/* --io adds io_sw_ns and dram_gb_s, nothing else. */
	struct hif_calib *c = fake_calib(0);
	c->io_keys = 1;
	c->io_done = 1;
	c->io_sw_from = 1;
	snprintf(c->io[1].backend, sizeof c->io[1].backend, "aio");
	c->io_sw_ns = 12345;
	c->dram_gb_s = 19.5;
	cJSON *j = hif_calib_profile_json(c);
	char keys[512];
	host_keys(j, keys, sizeof keys);
	ck_assert_str_eq(keys, "description,cores,gflops_lr,gflops_mlp,bnn_gops,io_sw_ns,dram_gb_s");
	cJSON_Delete(j);
	free(c);
}
END_TEST

/* `ndpsim config --host-profile` takes the profile; over --host laptop the
 * laptop's power figures stay (power not measured). */
START_TEST(profile_accepted_by_ndpsim_config)
{
	struct hif_calib *c = fake_calib(0);
	cJSON *j = hif_calib_profile_json(c);
	char *text = cJSON_Print(j);
	char path[512], out[65536];
	snprintf(path, sizeof path, "%s", tu_write_file("calib-cli-profile.json", text));
	int rc = tu_ndpsim(out, sizeof out, "config --host laptop --host-profile %s", path);
	ck_assert_msg(rc == 0, "%.2000s", out);
	ck_assert(strstr(out, "\"gflops_mlp\":\t5.678") && strstr(out, "\"bnn_gops\":\t0.4321") &&
		  strstr(out, "\"cores\":\t3"));
	/* configs/hosts/laptop.json: 28 W active, 2 W idle. */
	ck_assert(strstr(out, "\"p_active_w\":\t28,") && strstr(out, "\"p_idle_w\":\t2,"));
	free(text);
	cJSON_Delete(j);
	free(c);
}
END_TEST

/* ------------------------------------------------------------ fake powercap */

static void put(const char *dir, const char *file, const char *text)
{
	char p[700];
	snprintf(p, sizeof p, "%s/%s", dir, file);
	FILE *f = fopen(p, "w");
	ck_assert_msg(f, "%s: %s", p, strerror(errno));
	fputs(text, f);
	fclose(f);
}

static void put_u64(const char *dir, const char *file, uint64_t v)
{
	char b[32];
	snprintf(b, sizeof b, "%llu\n", (unsigned long long)v);
	put(dir, file, b);
}

/* A zone directory root/name with its three files. */
static void zone(const char *root, const char *z, const char *name, uint64_t uj, uint64_t range)
{
	char d[600];
	snprintf(d, sizeof d, "%s/%s", root, z);
	mkdir(d, 0755);
	put(d, "name", name);
	put_u64(d, "energy_uj", uj);
	put_u64(d, "max_energy_range_uj", range);
}

/* A fresh tree: two packages, a sub-zone and a psys domain (ignored). */
static const char *fake_tree(const char *tag)
{
	static char root[400];
	char cmd[600];
	snprintf(root, sizeof root, "%s/powercap-%s-%ld", tu_tmpdir(), tag, (long)getpid());
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(mkdir(root, 0755), 0);
	zone(root, "intel-rapl:0", "package-0\n", 1000000, 262143328850ull);
	zone(root, "intel-rapl:0:0", "core\n", 5, 262143328850ull);
	zone(root, "intel-rapl:1", "package-1\n", 200, 65532610987ull);
	zone(root, "intel-rapl:2", "psys\n", 7, 262143328850ull);
	return root;
}

START_TEST(rapl_reader_on_a_fake_tree)
{
	const char *root = fake_tree("reader");
	char z0[600], z1[600], zsub[600], zps[600];
	snprintf(z0, sizeof z0, "%s/intel-rapl:0", root);
	snprintf(z1, sizeof z1, "%s/intel-rapl:1", root);
	snprintf(zsub, sizeof zsub, "%s/intel-rapl:0:0", root);
	snprintf(zps, sizeof zps, "%s/intel-rapl:2", root);
	struct hif_rapl r;
	struct nd_err e = { 0 };
	ck_assert_msg(hif_rapl_open(root, &r, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(r.n, 2);   /* the two packages, not the core sub-zone or psys */
	double j;
	ck_assert_int_eq(hif_rapl_read(&r, &j, &e), 0);
	ck_assert(j == 0);

	/* +2.5 J and +0.75 J; the sub-zone and psys move too but do not count. */
	put_u64(z0, "energy_uj", 3500000);
	put_u64(z1, "energy_uj", 750200);
	put_u64(zsub, "energy_uj", 999999999);
	put_u64(zps, "energy_uj", 888888888);
	ck_assert_int_eq(hif_rapl_read(&r, &j, &e), 0);
	ck_assert_msg(fabs(j - 3.25) < 1e-12, "%.9f J", j);
	ck_assert_uint_eq(r.wraps, 0);

	/* Package 1 wraps: 750200 -> range - 100 -> 400 is (range - 100 -
	 * 750200) + 100 + 400 more microjoules. */
	const uint64_t R1 = 65532610987ull;
	put_u64(z1, "energy_uj", R1 - 100);
	ck_assert_int_eq(hif_rapl_read(&r, &j, &e), 0);
	put_u64(z1, "energy_uj", 400);
	ck_assert_int_eq(hif_rapl_read(&r, &j, &e), 0);
	double expect_uj = 2500000.0 + 750000.0 + (double)(R1 - 100 - 750200) + 100.0 + 400.0;
	ck_assert_msg(fabs(j - expect_uj * 1e-6) < 1e-9, "%.9f J, expected %.9f", j, expect_uj * 1e-6);
	ck_assert_uint_eq(r.wraps, 1);

	/* A counter that is not a number is named. */
	put(z0, "energy_uj", "abc\n");
	ck_assert_int_eq(hif_rapl_read(&r, &j, &e), -EINVAL);
	ck_assert_msg(strstr(e.msg, "intel-rapl:0/energy_uj"), "%s", e.msg);
	nd_err_clear(&e);
	ck_assert_int_ne(hif_rapl_open(root, &r, &e), 0);
	ck_assert_msg(strstr(e.msg, "intel-rapl:0/energy_uj"), "%s", e.msg);

	/* An unreadable counter (a directory in its place) is named. */
	char p[700];
	snprintf(p, sizeof p, "%s/energy_uj", z0);
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	nd_err_clear(&e);
	ck_assert_int_lt(hif_rapl_open(root, &r, &e), 0);
	ck_assert_msg(strstr(e.msg, "intel-rapl:0/energy_uj") && strstr(e.msg, "cannot read"),
		      "%s", e.msg);

	/* No tree, or no package domain in it: -ENOENT naming the root. */
	nd_err_clear(&e);
	ck_assert_int_eq(hif_rapl_open("build/test-tmp/no-such-powercap", &r, &e), -ENOENT);
	ck_assert(strstr(e.msg, "no-such-powercap"));
	const char *root2 = fake_tree("nopkg");
	char cmd[900];
	snprintf(cmd, sizeof cmd, "rm -rf '%s/intel-rapl:0' '%s/intel-rapl:1'", root2, root2);
	ck_assert_int_eq(system(cmd), 0);
	nd_err_clear(&e);
	ck_assert_int_eq(hif_rapl_open(root2, &r, &e), -ENOENT);
	ck_assert_msg(strstr(e.msg, "no package domain"), "%s", e.msg);
}
END_TEST

/* A small work: one thread, a 16-wide MLP, a 64-wide BNN, few images. */
struct small {
	struct cfg_bundle b;
	struct hif_calib_opts o;
	struct hif_calib_work w;
	struct ndp_train_params tp;
	struct bnn_params bp;
};

static void small_init(struct small *s)
{
	struct nd_err e = { 0 };
	cli_bundle_all(&s->b);
	cfg_defaults(&s->b);
	ck_assert_int_eq(cfg_set(&s->b, "train.hidden=16", &e), 0);
	ck_assert_int_eq(cfg_set(&s->b, "bnn.hidden=64", &e), 0);
	s->tp = *(const struct ndp_train_params *)params_of(&s->b, &ndp_train_section);
	s->bp = *(const struct bnn_params *)params_of(&s->b, &bnn_section);
	hif_calib_opts_init(&s->o);
	s->o.reps = 1;
	s->o.sgd_steps = 2;
	s->o.sgd_at_end = 0;
	s->o.bnn_images = 100;
	s->o.bnn_train_n = 200;
	s->o.val_epochs = 2;
	s->o.idle_s = 0.1;
	s->w = (struct hif_calib_work){
		.train = &s->tp, .host = params_of(&s->b, &ihp_section),
		.ssd = params_of(&s->b, &ssd_section), .bnn = &s->bp, .train_set = &tr,
		.test_set = &te,
		.seed = ((const struct run_params *)params_of(&s->b, &run_section))->seed,
	};
	set_threads(1);
}

/* A counter that does not move is not a power: the profile says so and
 * has no power keys. */
START_TEST(still_counter_is_power_not_measured)
{
	if (!have_data) {
		tu_skip_need("dataset", "Fashion-MNIST not installed (dataset-fashion-mnist)");
		return;
	}
	struct small s;
	small_init(&s);
	s.o.kernels = 1u << HIF_CALIB_BNN;
	s.o.powercap = fake_tree("still");
	struct hif_calib *c = xmalloc(sizeof *c);
	struct nd_err e = { 0 };
	hif_calib_init(c, 1);
	ck_assert_msg(hif_calib_kernels(&s.o, &s.w, c, &e) == 0, "%s", e.msg);
	ck_assert(c->bnn.done && !c->sgd[0].done && !c->sgd[1].done);
	ck_assert(!c->power.measured);
	ck_assert_msg(strstr(c->power.note, "power not measured") &&
		      strstr(c->power.note, "did not advance"), "%s", c->power.note);
	cJSON *j = hif_calib_profile_json(c);
	char keys[256];
	host_keys(j, keys, sizeof keys);
	ck_assert_str_eq(keys, "description,cores,bnn_gops");
	ck_assert(host_num(j, "cores") == 1);
	cJSON_Delete(j);

	/* A 1 J range wraps within 1 ms at 1 kW: refused, not sampled too slowly. */
	const char *root = fake_tree("short");
	char z0[600];
	snprintf(z0, sizeof z0, "%s/intel-rapl:0", root);
	put_u64(z0, "energy_uj", 5);
	put_u64(z0, "max_energy_range_uj", 1000000);
	s.o.powercap = root;
	hif_calib_init(c, 1);
	ck_assert_msg(hif_calib_kernels(&s.o, &s.w, c, &e) == 0, "%s", e.msg);
	ck_assert_msg(!c->power.measured && strstr(c->power.note, "too short to sample") &&
		      strstr(c->power.note, "range of 1 J"), "%s", c->power.note);

	/* No powercap at all: the reason is the missing tree. */
	s.o.powercap = "build/test-tmp/no-such-powercap";
	hif_calib_init(c, 1);
	ck_assert_msg(hif_calib_kernels(&s.o, &s.w, c, &e) == 0, "%s", e.msg);
	ck_assert_msg(!c->power.measured && strstr(c->power.note, "power not measured") &&
		      strstr(c->power.note, "no-such-powercap"), "%s", c->power.note);
	free(c);
	cli_bundle_free(&s.b);
}
END_TEST

/* A package that draws 10 W plus 40 W per busy core: a thread rewrites
 * the fake counter (atomically, by rename) every millisecond from this
 * process's CPU time, modulo a 20 J range so that it wraps during the run. */
struct fake_pkg {
	char dir[600];
	volatile int stop;
	uint64_t range_uj;
	double t0;
};

/* Writes the counter as the model has it now. */
static void fake_pkg_write(struct fake_pkg *f)
{
	char tmp[700], dst[700];
	snprintf(tmp, sizeof tmp, "%s/energy_uj.tmp", f->dir);
	snprintf(dst, sizeof dst, "%s/energy_uj", f->dir);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
		     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
	double uj = (10.0 * (nd_wall_s() - f->t0) + 40.0 * cpu) * 1e6;
	FILE *o = fopen(tmp, "w");
	if (o) {
		fprintf(o, "%llu\n", (unsigned long long)fmod(uj, (double)f->range_uj));
		fclose(o);
		rename(tmp, dst);
	}
}

static void *fake_pkg_main(void *arg)
{
	struct fake_pkg *f = arg;
	while (!f->stop) {
		fake_pkg_write(f);
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* With a counter that moves, power is measured and written; the wraps of
 * the 20 J range (every ~0.4 s in the power window) are taken in stride:
 * the sampler reads it every 10 ms. */
START_TEST(moving_counter_gives_power_keys)
{
	if (!have_data) {
		tu_skip_need("dataset", "Fashion-MNIST not installed (dataset-fashion-mnist)");
		return;
	}
	struct small s;
	small_init(&s);
	s.o.kernels = 1u << HIF_CALIB_BNN;
	s.o.bnn_images = 2000;
	s.o.reps = 3;
	s.o.idle_s = 0.3;
	const char *root = fake_tree("moving");
	struct fake_pkg f = { .range_uj = 20000000, .t0 = nd_wall_s() };
	snprintf(f.dir, sizeof f.dir, "%s/intel-rapl:0", root);
	put_u64(f.dir, "max_energy_range_uj", f.range_uj);
	char z1[600];
	snprintf(z1, sizeof z1, "%s/intel-rapl:1", root);
	put_u64(z1, "energy_uj", 0);   /* package 1 stays still: it adds nothing */
	s.o.powercap = root;
	fake_pkg_write(&f);   /* the model's value before the reader opens it */
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, fake_pkg_main, &f), 0);
	struct hif_calib *c = xmalloc(sizeof *c);
	struct nd_err e = { 0 };
	hif_calib_init(c, s.o.reps);
	int rc = hif_calib_kernels(&s.o, &s.w, c, &e);
	f.stop = 1;
	pthread_join(th, NULL);
	ck_assert_msg(rc == 0, "%s", e.msg);
	ck_assert_msg(c->power.measured, "%s", c->power.note);
	ck_assert_int_eq(c->power.domains, 2);
	ck_assert(c->power.p_idle_w > 0 && c->power.p_active_w >= c->power.p_idle_w);
	/* The model draws 10 W plus 40 W per busy core: asleep, only the fake
	 * writer and the sampler run (a few % of a core); a wrap missed or
	 * counted twice would move either figure by 20 J / its interval. */
	ck_assert_msg(c->power.p_idle_w >= 9.9 && c->power.p_idle_w < 25, "%s", c->power.note);
	ck_assert_msg(c->power.p_active_w <= 10 + 40.0 * (c->threads + 0.5), "%s", c->power.note);
	ck_assert_msg(strstr(c->power.note, "wrapped") && c->power.active_s >= s.o.active_s,
		      "%s", c->power.note);
	printf("fake package: idle %.4g W, active %.4g W (model: 10 W + 40 W x busy cores)\n",
	       c->power.p_idle_w, c->power.p_active_w);
	cJSON *j = hif_calib_profile_json(c);
	char keys[256];
	host_keys(j, keys, sizeof keys);
	ck_assert_str_eq(keys, "description,cores,bnn_gops,p_idle_w,p_active_w");
	ck_assert(host_num(j, "p_idle_w") == c->power.p_idle_w);
	ck_assert(host_num(j, "p_active_w") == c->power.p_active_w);
	const char *d = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "host"), "description")->valuestring;
	ck_assert(!strstr(d, "power not measured") && strstr(d, "RAPL"));
	cJSON_Delete(j);
	free(c);
	cli_bundle_free(&s.b);
}
END_TEST

/* The validation's real runs compute the model's parameters bit for bit,
 * and every prediction is the model's arithmetic (re-derived here). */
START_TEST(validation_runs_are_the_models_computation)
{
	if (!have_data) {
		tu_skip_need("dataset", "Fashion-MNIST not installed (dataset-fashion-mnist)");
		return;
	}
	struct small s;
	small_init(&s);
	s.o.powercap = "build/test-tmp/no-such-powercap";
	const struct ihp_params *preset = s.w.host;
	struct hif_calib *c = xmalloc(sizeof *c);
	struct hif_calib_valid *v = xmalloc(sizeof *v);
	struct nd_err e = { 0 };
	hif_calib_init(c, 1);
	ck_assert_msg(hif_calib_validate(&s.o, &s.w, preset, c, v, &e) == 0, "%s", e.msg);
	ck_assert(c->sgd[0].done && c->sgd[1].done && c->bnn.done);
	ck_assert_int_eq(c->threads, 1);
	ck_assert_int_eq(v->cores, 1);
	ck_assert_msg(v->same_params[0], "LR: the real epochs did not compute the model's parameters");
	ck_assert_msg(v->same_params[1], "MLP: the real epochs did not compute the model's parameters");
	for (int k = 0; k < 2; k++) {
		ck_assert_uint_eq(v->samples[k], tr.n);
		ck_assert(v->steps[k] > 0 && v->meas_s[k][1] > 0);
	}
	for (int k = 0; k < HIF_CHK_N; k++)
		ck_assert_msg(v->chk[k].done && v->chk[k].pred_s > 0 && v->chk[k].meas_s > 0 &&
			      v->chk[k].ratio == v->chk[k].pred_s / v->chk[k].meas_s,
			      "check %s", hif_calib_check_names[k]);
	/* Epoch 2 is compute bound (everything cached): FLOPs / (cores x rate). */
	double rate[2] = { c->sgd[0].gflops_per_core, c->sgd[1].gflops_per_core };
	for (int k = 0; k < 2; k++) {
		double compute_s = v->flops[k] / (1 * rate[k] * 1e9);
		const struct hif_calib_check *ck = &v->chk[k ? HIF_CHK_MLP_EPOCH : HIF_CHK_LR_EPOCH];
		ck_assert(ck->rate == rate[k]);
		ck_assert_msg(fabs(ck->pred_s / compute_s - 1) < 0.01, "%s: pred %g s, FLOPs/rate %g s",
			      k ? "mlp" : "lr", ck->pred_s, compute_s);
	}
	/* BNN: the word-ops hostif/plat_host.c charges, over the test set. */
	ck_assert_int_eq(v->bnn_images, (long)te.n);
	ck_assert(v->bnn_word_ops > 0 && v->bnn_word_ops == c->bnn.word_ops);
	double bnn_s = (double)v->bnn_word_ops * (double)te.n / (c->bnn.gops_per_core * 1e9);
	ck_assert_msg(fabs(v->chk[HIF_CHK_BNN_INFER].pred_s - bnn_s) <= 1e-9, "%g vs %g",
		      v->chk[HIF_CHK_BNN_INFER].pred_s, bnn_s);
	/* Calibrated on LR only: the preset's rates x measured / preset LR. */
	double scale = rate[0] / preset->gflops_lr;
	ck_assert(fabs(v->scale / scale - 1) < 1e-12);
	ck_assert(fabs(v->chk[HIF_CHK_MLP_FROM_LR].rate / (preset->gflops_mlp * scale) - 1) < 1e-12);
	ck_assert(fabs(v->chk[HIF_CHK_BNN_FROM_LR].rate / (preset->bnn_gops * scale) - 1) < 1e-12);
	double mlp_lr_s = v->flops[1] / (preset->gflops_mlp * scale * 1e9);
	ck_assert_msg(fabs(v->chk[HIF_CHK_MLP_FROM_LR].pred_s / mlp_lr_s - 1) < 0.01, "%g vs %g",
		      v->chk[HIF_CHK_MLP_FROM_LR].pred_s, mlp_lr_s);
	double bnn_lr_s = (double)v->bnn_word_ops * (double)te.n / (preset->bnn_gops * scale * 1e9);
	ck_assert(fabs(v->chk[HIF_CHK_BNN_FROM_LR].pred_s - bnn_lr_s) <= 1e-9);
	free(v);
	free(c);
	cli_bundle_free(&s.b);
}
END_TEST

START_TEST(kernel_lists)
{
	unsigned m = 0;
	struct nd_err e = { 0 };
	ck_assert_int_eq(hif_calib_parse_kernels("lr,mlp,bnn", &m, &e), 0);
	ck_assert_uint_eq(m, HIF_CALIB_ALL);
	ck_assert_int_eq(hif_calib_parse_kernels("bnn", &m, &e), 0);
	ck_assert_uint_eq(m, 1u << HIF_CALIB_BNN);
	ck_assert_int_eq(hif_calib_parse_kernels("lr,gpu", &m, &e), -EINVAL);
	ck_assert_msg(strstr(e.msg, "'gpu'"), "%s", e.msg);
	ck_assert_int_eq(hif_calib_parse_kernels("lr,", &m, &e), -EINVAL);
	ck_assert_int_eq(hif_calib_parse_kernels("", &m, &e), -EINVAL);
}
END_TEST

static int file_exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

START_TEST(cli_bad_input)
{
	char out[16384];
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "calibrate --help"), 0);
	ck_assert(strstr(out, "usage: ndpsim calibrate"));
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "calibrate --bogus"), 2);
	ck_assert(strstr(out, "unknown option '--bogus'"));
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "calibrate --no-sgd"), 2);
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "calibrate --kernels lr,gpu"), 2);
	ck_assert(strstr(out, "gpu"));
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "calibrate --reps 0"), 2);
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "calibrate --epochs 1"), 2);
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "calibrate --idle 0"), 2);
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "calibrate --io --size 0"), 2);
	ck_assert(strstr(out, "--size"));
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "calibrate --io --bs 1000"), 2);
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "calibrate --out"), 2);
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "calibrate --set host.cores=0"), 2);
	ck_assert(strstr(out, "host.cores"));

	/* A profile with a key that does not exist: exit 2 naming key and file. */
	const char *bad = tu_write_file("calib-bad-profile.json",
					"{\"host\": {\"cores\": 2, \"gflops_bogus\": 1.5}}");
	char badp[512];
	snprintf(badp, sizeof badp, "%s", bad);
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "config --host-profile %s", badp), 2);
	ck_assert_msg(strstr(out, "gflops_bogus") && strstr(out, "calib-bad-profile.json"), "%s", out);
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "calibrate --validate-only --host-profile %s",
				   badp), 2);
	ck_assert_msg(strstr(out, "gflops_bogus") && strstr(out, "calib-bad-profile.json"), "%s", out);

	/* An unwritable --out: refused before anything is measured, named,
	 * and an earlier profile there is left alone. */
	const char *f = tu_write_file("calib-a-file", "not a directory\n");
	char fp[512];
	snprintf(fp, sizeof fp, "%s", f);
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "calibrate --out %s/profile.json", fp), 2);
	ck_assert_msg(strstr(out, "calib-a-file/profile.json") && !strstr(out, "SGD step"), "%s", out);
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "calibrate --out %s", tu_tmpdir()), 2);
	ck_assert_msg(strstr(out, "is a directory"), "%s", out);
	char *kept = tu_slurp(fp);
	ck_assert(kept && !strcmp(kept, "not a directory\n"));
	free(kept);
}
END_TEST

/* A real, small run of the command: the profile it writes is taken by
 * `ndpsim config --host-profile`, and --validate-only checks it. */
START_TEST(cli_calibrate_writes_a_profile)
{
	if (!have_data) {
		tu_skip_need("dataset", "Fashion-MNIST not installed (dataset-fashion-mnist)");
		return;
	}
	char out[32768], prof[512], meas[512];
	snprintf(prof, sizeof prof, "%s/cli-profile.json", tu_tmpdir());
	snprintf(meas, sizeof meas, "%s/cli-profile.measurements.json", tu_tmpdir());
	unlink(prof);
	unlink(meas);
	int rc = tu_ndpsim(out, sizeof out, "calibrate --kernels lr,bnn --reps 1 --idle 0.1 "
			   "--set threads=1 --set bnn.hidden=64 --out %s", prof);
	ck_assert_msg(rc == 0, "%.2000s", out);
	ck_assert(file_exists(prof) && file_exists(meas));
	ck_assert(strstr(out, "power not measured") || strstr(out, "power: idle"));
	char *text = tu_slurp(prof);
	cJSON *j = cJSON_Parse(text);
	ck_assert_ptr_nonnull(j);
	char keys[256];
	host_keys(j, keys, sizeof keys);
	int power = strstr(keys, "p_idle_w") != NULL;
	ck_assert_str_eq(keys, power ? "description,cores,gflops_lr,bnn_gops,p_idle_w,p_active_w" :
			 "description,cores,gflops_lr,bnn_gops");
	ck_assert(host_num(j, "cores") == 1);
	char lr[64];
	/* The resolved config prints the shortest text that reads back
	 * exactly (rep_num). */
	double lrv = host_num(j, "gflops_lr");
	int prec = 1;
	char num[40];
	do
		snprintf(num, sizeof num, "%.*g", prec++, lrv);
	while (strtod(num, NULL) != lrv && prec <= 17);
	snprintf(lr, sizeof lr, "\"gflops_lr\":\t%s,", num);
	cJSON_Delete(j);
	free(text);

	rc = tu_ndpsim(out, sizeof out, "config --host-profile %s", prof);
	ck_assert_msg(rc == 0, "%.2000s", out);
	ck_assert_msg(strstr(out, lr), "%s not in the resolved config", lr);

	rc = tu_ndpsim(out, sizeof out, "calibrate --validate-only --kernels lr --epochs 2 "
		       "--set threads=1 --host-profile %s", prof);
	ck_assert_msg(rc == 0, "%.2000s", out);
	ck_assert(strstr(out, "predicted") && strstr(out, "measured") && strstr(out, "ratio"));
	ck_assert_msg(strstr(out, "LR parameters after 2 real epochs equal the model's"), "%.2000s", out);
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
	tcase_set_timeout(t, 120);
	tcase_add_test(t, io_measures_every_backend_or_says_why_not);
	tcase_add_test(t, forbidden_backend_is_reported_as_skipped);
	tcase_add_test(t, median_of_odd_and_even_counts);
	suite_add_tcase(s, t);
	t = tcase_create("profile");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, profile_has_exactly_the_measured_keys);
	tcase_add_test(t, profile_accepted_by_ndpsim_config);
	tcase_add_test(t, rapl_reader_on_a_fake_tree);
	tcase_add_test(t, kernel_lists);
	tcase_add_test(t, cli_bad_input);
	suite_add_tcase(s, t);
	t = tcase_create("runs");
	tcase_set_timeout(t, 900);
	tcase_add_test(t, still_counter_is_power_not_measured);
	tcase_add_test(t, moving_counter_gives_power_keys);
	tcase_add_test(t, validation_runs_are_the_models_computation);
	tcase_add_test(t, cli_calibrate_writes_a_profile);
	suite_add_tcase(s, t);
	int rc = tu_run_suite(s);
	if (have_data) {
		wl_dataset_free(&tr);
		wl_dataset_free(&te);
	}
	return rc;
}
