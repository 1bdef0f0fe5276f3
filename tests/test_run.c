/*
 * The main job (`ndpsim run`) on reduced workloads: every platform reported
 * with system and marginal energy; energies re-derived here from the config
 * and the counts the test works out itself (not the ledger's own sums); the
 * host's idle power moving every system total by exactly X x wall time and
 * no marginal one; one platform's number format or datapath changing that
 * platform's answer only; bad input.
 */
#include <cJSON.h>
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "tests/common/tutil.h"
#include "workloads/idx.h"

/* The reduced network and test set of every run here. */
#define SMALL "--set bnn.hidden=64,64 --set bnn.epochs=1 --set bnn.train_n=5000 " \
	      "--set xbar.mc.test_n=1000 --set xbar.mc.chips=2 "

static int have_data(void)
{
	char probe[512];
	snprintf(probe, sizeof probe, "%s/t10k-images-idx3-ubyte.gz", wl_fmnist_default_dir());
	return access(probe, R_OK) == 0;
}

/* Runs `ndpsim run --quiet --out <tmp>/<name> <args>` and returns the parsed
 * report (caller frees). */
static cJSON *run(const char *name, const char *args)
{
	char dir[512], out[8192], path[600];
	snprintf(dir, sizeof dir, "%s/%s", tu_tmpdir(), name);
	int rc = tu_ndpsim(out, sizeof out, "run --quiet --out %s --set compare.cache_dir=%s/cache %s",
			   dir, tu_tmpdir(), args);
	ck_assert_msg(rc == 0, "%s", out);
	snprintf(path, sizeof path, "%s/report.json", dir);
	char *text = tu_slurp(path);
	ck_assert_ptr_nonnull(text);
	cJSON *rep = cJSON_Parse(text);
	free(text);
	ck_assert_ptr_nonnull(rep);
	return rep;
}

static const cJSON *plats(const cJSON *rep)
{
	return cJSON_GetObjectItem(cJSON_GetObjectItem(rep, "metrics"), "platforms");
}

static const cJSON *platform(const cJSON *rep, const char *wl, const char *name)
{
	const cJSON *p;
	cJSON_ArrayForEach(p, plats(rep)) {
		if (!strcmp(cJSON_GetObjectItem(p, "workload")->valuestring, wl) &&
		    !strcmp(cJSON_GetObjectItem(p, "platform")->valuestring, name))
			return p;
	}
	ck_abort_msg("no row %s / %s", wl, name);
	return NULL;
}

static double num(const cJSON *o, const char *a, const char *b)
{
	const cJSON *x = cJSON_GetObjectItem(o, a);
	if (b)
		x = cJSON_GetObjectItem(x, b);
	ck_assert_msg(x != NULL, "missing %s%s%s", a, b ? "." : "", b ? b : "");
	return x->valuedouble;
}

static double cfgv(const cJSON *rep, const char *sec, const char *key)
{
	const cJSON *c = cJSON_GetObjectItem(cJSON_GetObjectItem(rep, "config"), sec);
	char buf[128];
	snprintf(buf, sizeof buf, "%s", key);
	for (char *k = strtok(buf, "."); k; k = strtok(NULL, ".")) {
		c = cJSON_GetObjectItem(c, k);
		ck_assert_msg(c != NULL, "config %s.%s missing", sec, key);
	}
	return c->valuedouble;
}

static double comp(const cJSON *row, const char *view, const char *component)
{
	const cJSON *x = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(row, view),
								   "by_component"), component);
	return x ? x->valuedouble : 0.0;
}

static void close_to(double got, double want, double rel, const char *what)
{
	ck_assert_msg(fabs(got - want) <= rel * fabs(want) + 1e-15, "%s: %.12g, expected %.12g",
		      what, got, want);
}

/* The drive's static power from the ssd section: NAND standby of every die,
 * the controller cores, the drive DRAM's background. */
static double drive_static_w(const cJSON *rep)
{
	double dies = cfgv(rep, "ssd", "channels") * cfgv(rep, "ssd", "ways") * cfgv(rep, "ssd", "dies");
	return cfgv(rep, "ssd", "energy.vcc") * cfgv(rep, "ssd", "energy.i_standby_ua") * 1e-6 * dies +
	       cfgv(rep, "ssd", "ctrl.core_w") * cfgv(rep, "ssd", "ctrl.cores") +
	       cfgv(rep, "ssd", "dram.static_w");
}

/* Idle draw of each platform's machine, from the config. */
static double idle_w(const cJSON *rep, const char *pf)
{
	double w = cfgv(rep, "host", "p_idle_w") + cfgv(rep, "host", "dram_idle_w") + drive_static_w(rep);
	if (!strcmp(pf, "storage"))
		w += cfgv(rep, "ndp", "unit.static_w") * cfgv(rep, "ssd", "channels") +
		     cfgv(rep, "ndp", "master.static_w");
	if (!strcmp(pf, "memory: near-DRAM"))
		w += cfgv(rep, "ndram", "vaults") * cfgv(rep, "ndram", "energy.static_pj_cycle") * 1e-12 *
		     cfgv(rep, "ndram", "clock_mhz") * 1e6;
	return w;
}

/* Word-ops per image of the 784-64-64-10 network (input levels 0..4: three
 * bit planes in layer 0; binary hidden layers: one plane) on w-bit words:
 * per layer planes x words for the input popcounts + outputs x planes x
 * words; the host's bnn.c also popcounts each weight row per image. */
static double word_ops(int w, int host)
{
	const int dim[4] = { 784, 64, 64, 10 }, planes[3] = { 3, 1, 1 };
	double s = 0;
	for (int l = 0; l < 3; l++) {
		double W = ceil((double)dim[l] / w);
		s += planes[l] * W + dim[l + 1] * (planes[l] + host) * W;
	}
	return s;
}

START_TEST(main_job_rows_and_energies)
{
	if (!have_data()) {
		tu_skip_need("dataset", "Fashion-MNIST not installed");
		return;
	}
	cJSON *rep = run("run", "--set train.epochs=2 --set train.target_acc=0.8 "
			 "--set host.page_cache_ratio=0.25 " SMALL);
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(rep, "version"));
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(rep, "seed"));
	ck_assert_int_eq(cJSON_GetArraySize(plats(rep)), 8);
	const cJSON *p;
	cJSON_ArrayForEach(p, plats(rep)) {
		const char *pf = cJSON_GetObjectItem(p, "platform")->valuestring;
		if (!cJSON_IsTrue(cJSON_GetObjectItem(p, "supported")))
			continue;
		double T = num(p, "wall_s", NULL), sys = num(p, "system_energy_j", "total"),
		       marg = num(p, "marginal_energy_j", "total");
		ck_assert(T > 0 && marg > 0 && sys > marg);
		/* Must-show 7 (a): system - marginal = the machine's idle draw,
		 * worked out here from the config, x the wall time. */
		close_to(sys - marg, idle_w(rep, pf) * T, 1e-9, pf);
		/* Every joule sits somewhere: the where-split covers the total. */
		double at = 0;
		const cJSON *c;
		cJSON_ArrayForEach(c, cJSON_GetObjectItem(cJSON_GetObjectItem(p, "system_energy_j"), "by_where"))
			at += c->valuedouble;
		close_to(at, sys, 1e-12, "by_where");
		/* Host package and DRAM background are on for the whole wall time
		 * on every row (the host row adds its busy time on top). */
		double pkg = comp(p, "system_energy_j", "host_cpu");
		ck_assert(pkg >= cfgv(rep, "host", "p_idle_w") * T * (1 - 1e-9));
		double acc = num(p, "accuracy", NULL);
		ck_assert(acc > 0.5 && acc < 1.0);
	}
	const cJSON *xb = platform(rep, "train", "memory: ReRAM crossbar");
	ck_assert(!cJSON_IsTrue(cJSON_GetObjectItem(xb, "supported")));
	ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(xb, "note")->valuestring, "not supported"));

	/* Bytes: the host reads the data set, then at least 75 % of it again in
	 * epoch 2 (page cache 0.25 x data set); storage sends only results. */
	double data = 60000.0 / 5 * 4096;   /* 5 samples per 4 KiB unit */
	ck_assert(num(platform(rep, "train", "host"), "bytes_moved", "ssd_to_host") >= data * 1.75);
	ck_assert(num(platform(rep, "train", "storage"), "bytes_moved", "ssd_to_host") <= 4096);
	ck_assert(num(platform(rep, "train", "storage"), "bytes_moved", "inside_ssd") >= data);
	ck_assert(num(platform(rep, "train", "memory: near-DRAM"), "bytes_moved", "ssd_to_host") >= data);

	/* Must-show 4: storage inference pays the drive's and the units'
	 * static power over its whole wall time, not the read window. */
	const cJSON *si = platform(rep, "infer", "storage");
	double T = num(si, "wall_s", NULL);
	close_to(comp(si, "system_energy_j", "static"), drive_static_w(rep) * T, 1e-9, "drive static");
	close_to(comp(si, "system_energy_j", "isp_master"), cfgv(rep, "ndp", "master.static_w") * T, 1e-9,
		 "master static");
	/* Must-show 7 (b): the units' energy = word-ops (counted here) x the
	 * energy of one (3 integer ops + one word from SRAM) + static x T. */
	double n = 1000, wb = cfgv(rep, "ndp", "unit.word_bits");
	double e_op = 3 * cfgv(rep, "ndp", "unit.int_op_pj") * 1e-12 +
		      cfgv(rep, "ndp", "unit.sram_pj_byte") * 1e-12 * wb / 8;
	close_to(comp(si, "system_energy_j", "isp_unit"),
		 word_ops((int)wb, 0) * n * e_op +
		 cfgv(rep, "ndp", "unit.static_w") * cfgv(rep, "ssd", "channels") * T, 1e-9, "isp_unit");
	/* ... and the host's package: idle x T + (active - idle) x the time its
	 * cores take for bnn.c's word-ops at host.bnn_gops. */
	const cJSON *hi = platform(rep, "infer", "host");
	double th = num(hi, "wall_s", NULL);
	double t_cpu = ceil(word_ops(64, 1) * n / (cfgv(rep, "host", "cores") *
						  cfgv(rep, "host", "bnn_gops") * 1e9) * 1e9) * 1e-9;
	close_to(comp(hi, "system_energy_j", "host_cpu"),
		 cfgv(rep, "host", "p_idle_w") * th +
		 (cfgv(rep, "host", "p_active_w") - cfgv(rep, "host", "p_idle_w")) * t_cpu, 1e-6, "host_cpu");
	/* The verdict names a winner per view and says whether they agree. */
	const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(rep, "metrics"),
								 "verdict"), "infer");
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(v, "least_system_energy"));
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(v, "energy_views_agree"));
	cJSON_Delete(rep);

	char dir[512], path[600];
	snprintf(dir, sizeof dir, "%s/run", tu_tmpdir());
	const char *files[] = { "platforms.csv", "energy.csv", "curve_host.csv", "curve_storage.csv",
				"curve_memory-near-dram.csv", "figures.gp" };
	for (size_t i = 0; i < ND_ARRAY_LEN(files); i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		ck_assert_msg(access(path, R_OK) == 0, "%s missing", path);
	}
	if (system("command -v gnuplot >/dev/null 2>&1") == 0) {
		const char *figs[] = { "energy_train.png", "energy_infer.png", "time_train.png",
				       "accuracy_vs_time.png" };
		for (size_t i = 0; i < ND_ARRAY_LEN(figs); i++) {
			snprintf(path, sizeof path, "%s/%s", dir, figs[i]);
			ck_assert_msg(access(path, R_OK) == 0, "%s missing", path);
		}
	}
}
END_TEST

/* Must-show 1: the host's idle floor X W higher (idle and active package
 * power both + X) raises every platform's system energy by exactly X x its
 * wall time and leaves marginal energy as it was. */
START_TEST(host_idle_power_moves_system_energy_only)
{
	if (!have_data()) {
		tu_skip_need("dataset", "Fashion-MNIST not installed");
		return;
	}
	const double X = 20;
	cJSON *a = run("idle0", "--set train.epochs=1 " SMALL);
	cJSON *b = run("idle1", "--set train.epochs=1 --set host.p_idle_w=75 --set host.p_active_w=170 " SMALL);
	ck_assert(cfgv(a, "host", "p_idle_w") + X == cfgv(b, "host", "p_idle_w"));
	int n = 0;
	const cJSON *p;
	cJSON_ArrayForEach(p, plats(a)) {
		if (!cJSON_IsTrue(cJSON_GetObjectItem(p, "supported")))
			continue;
		const char *wl = cJSON_GetObjectItem(p, "workload")->valuestring;
		const char *pf = cJSON_GetObjectItem(p, "platform")->valuestring;
		const cJSON *q = platform(b, wl, pf);
		double T = num(p, "wall_s", NULL);
		ck_assert(T == num(q, "wall_s", NULL));
		close_to(num(q, "system_energy_j", "total") - num(p, "system_energy_j", "total"), X * T, 1e-9, pf);
		close_to(num(q, "marginal_energy_j", "total"), num(p, "marginal_energy_j", "total"), 1e-9, pf);
		n++;
	}
	ck_assert_int_eq(n, 7);
	cJSON_Delete(a);
	cJSON_Delete(b);
}
END_TEST

/* Must-show 2: near-DRAM's number format changes near-DRAM's accuracy and
 * no other platform's; 8-bit round-to-nearest (Q3.4) measurably degrades
 * against the 16-bit default.  In fp32 the PEs compute exactly the host's
 * model (same samples, same order, same step), so their curves coincide. */
START_TEST(near_dram_format_changes_only_its_row)
{
	if (!have_data()) {
		tu_skip_need("dataset", "Fashion-MNIST not installed");
		return;
	}
	const char *base = "--set compare.workloads=train --set train.epochs=2";
	char a8[256], a32[256];
	snprintf(a8, sizeof a8, "%s --set ndram.frac_bits=4 --set ndram.rounding=nearest", base);
	snprintf(a32, sizeof a32, "%s --set ndram.format=fp32", base);
	cJSON *r16 = run("fmt16", base), *r8 = run("fmt8", a8), *r32 = run("fmt32", a32);
	const char *others[] = { "host", "storage" };
	for (int i = 0; i < 2; i++) {
		double x = num(platform(r16, "train", others[i]), "accuracy", NULL);
		ck_assert(x == num(platform(r8, "train", others[i]), "accuracy", NULL));
		ck_assert(x == num(platform(r32, "train", others[i]), "accuracy", NULL));
	}
	double a16 = num(platform(r16, "train", "memory: near-DRAM"), "accuracy", NULL);
	double b8 = num(platform(r8, "train", "memory: near-DRAM"), "accuracy", NULL);
	ck_assert_msg(b8 < a16 - 0.05, "8-bit nearest %.4f vs 16-bit %.4f", b8, a16);
	ck_assert(num(platform(r32, "train", "memory: near-DRAM"), "accuracy", NULL) ==
		  num(platform(r32, "train", "host"), "accuracy", NULL));
	cJSON_Delete(r16);
	cJSON_Delete(r8);
	cJSON_Delete(r32);
}
END_TEST

/* Must-show 8: each digital inference row runs its own datapath: a 6-bit
 * accumulator on the near-DRAM PEs saturates and changes that row only;
 * storage's 8-bit words change its word-op count (and time), not its
 * exact answer. */
START_TEST(digital_rows_run_their_own_datapath)
{
	if (!have_data()) {
		tu_skip_need("dataset", "Fashion-MNIST not installed");
		return;
	}
	const char *base = "--set compare.workloads=infer " SMALL;
	char brk[512];
	snprintf(brk, sizeof brk, "%s --set ndram.acc_bits=6 --set ndp.unit.word_bits=8", base);
	cJSON *a = run("dp0", base), *b = run("dp1", brk);
	const char *same[] = { "host", "memory: ReRAM crossbar" };
	for (int i = 0; i < 2; i++) {
		const cJSON *p = platform(a, "infer", same[i]), *q = platform(b, "infer", same[i]);
		ck_assert(num(p, "accuracy", NULL) == num(q, "accuracy", NULL));
		ck_assert(num(p, "wall_s", NULL) == num(q, "wall_s", NULL));
	}
	const cJSON *s0 = platform(a, "infer", "storage"), *s1 = platform(b, "infer", "storage");
	ck_assert(num(s0, "accuracy", NULL) == num(s1, "accuracy", NULL));
	ck_assert(num(s1, "wall_s", NULL) > num(s0, "wall_s", NULL));
	double m0 = num(platform(a, "infer", "memory: near-DRAM"), "accuracy", NULL);
	double m1 = num(platform(b, "infer", "memory: near-DRAM"), "accuracy", NULL);
	ck_assert_msg(m1 < m0 - 0.05, "saturating 6-bit accumulator %.4f vs 16-bit %.4f", m1, m0);
	ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(platform(b, "infer", "memory: near-DRAM"),
							 "note")->valuestring, "saturated"));
	cJSON_Delete(a);
	cJSON_Delete(b);
}
END_TEST

START_TEST(bad_input_exit_2)
{
	char out[4096];
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "run --set compare.workloads=all"), 2);
	ck_assert_ptr_nonnull(strstr(out, "compare.workloads"));
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "run --set train.data_dir=/nonexistent"), 2);
	ck_assert_ptr_nonnull(strstr(out, "/nonexistent"));
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "run --host nosuch-cpu"), 2);
	ck_assert_ptr_nonnull(strstr(out, "configs/hosts/nosuch-cpu.json"));
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "run --set host.sleep_w=1.5"), 2);
	ck_assert_ptr_nonnull(strstr(out, "host.wake_ns"));
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "run --set ndram.int_bits=0"), 2);
	ck_assert_ptr_nonnull(strstr(out, "ndram.int_bits"));
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "run --set ndp.unit.format=fixed --set ndp.unit.int_bits=0"), 2);
	ck_assert_ptr_nonnull(strstr(out, "ndp.unit.int_bits"));
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "run --help"), 0);
	ck_assert_ptr_nonnull(strstr(out, "host vs storage vs memory"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("run");
	TCase *tc = tcase_create("run");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, main_job_rows_and_energies);
	tcase_add_test(tc, host_idle_power_moves_system_energy_only);
	tcase_add_test(tc, near_dram_format_changes_only_its_row);
	tcase_add_test(tc, digital_rows_run_their_own_datapath);
	tcase_add_test(tc, bad_input_exit_2);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
