/*
 * `ndpsim run --sensitivity` on reduced workloads: a re-charged point equals
 * a full re-run, bit for bit (the value/cost split holds for the keys
 * treated as cost-only: a host key, a crossbar price, a PCIe key, the units'
 * MAC rate, a near-DRAM price; a near-DRAM format re-runs), and the replays
 * really happened (struct hif_memo.replayed); an assumption pushed
 * to an extreme flips the winner, and a base value put just short of the
 * flip point (worked out here from two runs) makes the x2 point flip in the
 * CLI's report; accuracy intervals re-derived from separate runs; bad keys
 * exit 2 with nothing earlier overwritten.
 */
#include <cJSON.h>
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analog/xbar.h"
#include "hostif/compare.h"
#include "hostif/host.h"
#include "hostif/ndram.h"
#include "hostif/sensitivity.h"
#include "ndp/ndp.h"
#include "tests/common/tutil.h"
#include "workloads/bnn.h"
#include "workloads/idx.h"

#define SMALL "--set bnn.hidden=64,64 --set bnn.epochs=1 --set bnn.train_n=5000 " \
	      "--set xbar.mc.test_n=1000 --set xbar.mc.chips=2 "

static int have_data(void)
{
	char probe[512];
	snprintf(probe, sizeof probe, "%s/t10k-images-idx3-ubyte.gz", wl_fmnist_default_dir());
	return access(probe, R_OK) == 0;
}

/* The sections of `ndpsim run`, set to the reduced workload. */
struct cfgs {
	struct run_params run;
	struct ssd_params sp;
	struct ndp_train_params tp;
	struct ndp_params np;
	struct ihp_params hp;
	struct ndram_params dp;
	struct bnn_params bp;
	struct xbar_params xp;
	struct hif_compare_params cp;
	struct cfg_bundle b;
};

static void small_bundle(struct cfgs *c, const char *const *extra)
{
	memset(c, 0, sizeof *c);
	cfg_bundle_add(&c->b, &run_section, &c->run);
	cfg_bundle_add(&c->b, &ssd_section, &c->sp);
	cfg_bundle_add(&c->b, &ndp_train_section, &c->tp);
	cfg_bundle_add(&c->b, &ndp_section, &c->np);
	cfg_bundle_add(&c->b, &ihp_section, &c->hp);
	cfg_bundle_add(&c->b, &ndram_section, &c->dp);
	cfg_bundle_add(&c->b, &bnn_section, &c->bp);
	cfg_bundle_add(&c->b, &xbar_section, &c->xp);
	cfg_bundle_add(&c->b, &hif_compare_section, &c->cp);
	cfg_defaults(&c->b);
	char cache[600];
	snprintf(cache, sizeof cache, "compare.cache_dir=%s/cache", tu_tmpdir());
	const char *const base[] = { "bnn.hidden=64,64", "bnn.epochs=1", "bnn.train_n=5000",
				     "xbar.mc.test_n=1000", "xbar.mc.chips=2", "train.epochs=1",
				     "train.target_acc=0.78", cache, NULL };
	struct nd_err err = { 0 };
	for (int i = 0; base[i]; i++)
		ck_assert_msg(cfg_set(&c->b, base[i], &err) == 0, "%s", err.msg);
	for (int i = 0; extra && extra[i]; i++)
		ck_assert_msg(cfg_set(&c->b, extra[i], &err) == 0, "%s", err.msg);
	ck_assert_msg(cfg_validate(&c->b, &err) == 0, "%s", err.msg);
}

static void same_result(const struct hif_row *a, const struct hif_row *b, const char *key)
{
	const struct hif_result *x = &a->res, *y = &b->res;
	ck_assert_str_eq(a->workload, b->workload);
	ck_assert_str_eq(a->platform, b->platform);
	ck_assert_int_eq(x->supported, y->supported);
	if (!x->supported)
		return;
	/* Deterministic code on the same inputs: equal to the last bit. */
	ck_assert_msg(x->sys_wall_s == y->sys_wall_s && x->acc == y->acc &&
		      en_total_j(&x->sys) == en_total_j(&y->sys) &&
		      en_total_j(&x->marg) == en_total_j(&y->marg) &&
		      x->sys_target_j == y->sys_target_j && x->marg_target_j == y->marg_target_j,
		      "%s: %s %s: re-charged %.12g s %.12g J %.12g J, re-run %.12g s %.12g J %.12g J", key,
		      a->workload, a->platform, x->sys_wall_s, en_total_j(&x->sys), x->sys_target_j,
		      y->sys_wall_s, en_total_j(&y->sys), y->sys_target_j);
}

/* Re-charged (rows copied and re-finished, value paths replayed) against
 * full re-runs of the same point, for the keys of one bundle: every row
 * equal to the last bit (==, no tolerance).  replayed[k] = the
 * HIF_REPLAYED_* bits key k's re-charged point must have used (so that a
 * replay falling back to a re-run, or not happening, is caught too). */
static void check_recharge(const char *const *extra, const char *const *keys,
			   const unsigned *replayed)
{
	struct cfgs c;
	small_bundle(&c, extra);
	struct nd_err err = { 0 };
	struct hif_data d;
	ck_assert_msg(hif_data_load(&c.b, 0, &d, &err) == 0, "%s", err.msg);
	struct hif_memo memo;
	memset(&memo, 0, sizeof memo);
	memo.record = 1;
	struct hif_compare base;
	struct hif_compare_opts o = { .memo = &memo };
	ck_assert_msg(hif_compare_run_on(&c.b, &d, &o, &base, &err) == 0, "%s", err.msg);
	for (int k = 0; keys[k]; k++) {
		struct hif_compare a, b;
		ck_assert_msg(hif_sens_point_run(&c.b, &d, &base, &memo, keys[k], 2, 1, &a, &err) == 0,
			      "%s", err.msg);
		ck_assert_msg(memo.replayed == replayed[k], "%s: replayed 0x%x, expected 0x%x", keys[k],
			      memo.replayed, replayed[k]);
		ck_assert_msg(hif_sens_point_run(&c.b, &d, &base, &memo, keys[k], 2, 0, &b, &err) == 0,
			      "%s", err.msg);
		ck_assert_int_eq(a.n, b.n);
		ck_assert_int_eq(a.n, base.n);
		int moved = 0;
		for (int i = 0; i < a.n; i++) {
			same_result(&a.row[i], &b.row[i], keys[k]);
			moved |= a.row[i].res.supported &&
				 (en_total_j(&a.row[i].res.sys) != en_total_j(&base.row[i].res.sys) ||
				  a.row[i].res.acc != base.row[i].res.acc);
		}
		ck_assert_msg(moved, "%s x2 moved nothing", keys[k]);
		hif_compare_free(&a);
		hif_compare_free(&b);
	}
	hif_compare_free(&base);
	hif_memo_free(&memo);
	hif_data_free(&d);
}

/* Inference: a host power (host row re-run, crossbar re-charged from its
 * kept Monte Carlo, the others re-finished), a crossbar price (crossbar
 * re-charged alone), PCIe (every row; crossbar re-charged). */
START_TEST(recharged_equals_rerun_infer)
{
	if (!have_data()) {
		tu_skip_need("dataset", "Fashion-MNIST not installed");
		return;
	}
	const char *const extra[] = { "compare.workloads=infer", NULL };
	const char *const keys[] = { "host.p_idle_w", "xbar.adc.e_pj", "ssd.link.pcie_lanes", NULL };
	const unsigned rep[] = { HIF_REPLAYED_XBAR, HIF_REPLAYED_XBAR, HIF_REPLAYED_XBAR };
	check_recharge(extra, keys, rep);
}
END_TEST

/* Training, each replayed platform under a key of its cost path: the
 * host's FLOP/s (its training replayed through the whole event loop;
 * storage and near-DRAM re-finished), the units' MAC rate (sync in-storage
 * training replayed through its event loop, whose timing it moves), the
 * PEs' MAC energy (near-DRAM re-priced per step).  The near-DRAM format is
 * a value key: re-run, nothing replayed, still equal. */
START_TEST(recharged_equals_rerun_train)
{
	if (!have_data()) {
		tu_skip_need("dataset", "Fashion-MNIST not installed");
		return;
	}
	const char *const extra[] = { "compare.workloads=train", NULL };
	const char *const keys[] = { "host.gflops_lr", "ndp.unit.macs_per_cycle", "ndram.energy.mac_pj",
				     "ndram.frac_bits", NULL };
	const unsigned rep[] = { HIF_REPLAYED_HOST, HIF_REPLAYED_STORAGE, HIF_REPLAYED_NDRAM, 0 };
	check_recharge(extra, keys, rep);
}
END_TEST

/* Must-show 6: the winner flips when one assumption goes to an extreme. */
START_TEST(extreme_assumption_flips_winner)
{
	if (!have_data()) {
		tu_skip_need("dataset", "Fashion-MNIST not installed");
		return;
	}
	struct cfgs c;
	const char *const extra[] = { "compare.workloads=infer", NULL };
	small_bundle(&c, extra);
	struct nd_err err = { 0 };
	struct hif_data d;
	ck_assert_msg(hif_data_load(&c.b, 0, &d, &err) == 0, "%s", err.msg);
	struct hif_compare base, hi;
	struct hif_compare_opts o = { 0 };
	ck_assert_msg(hif_compare_run_on(&c.b, &d, &o, &base, &err) == 0, "%s", err.msg);
	const struct hif_row *w0 = hif_compare_winner(&base, "infer", 0, NULL);
	ck_assert_ptr_nonnull(w0);
	ck_assert_str_ne(w0->platform, "host");   /* the host is not the fastest at its rate */
	/* The host's BNN rate x 10^4: its compute time vanishes and only the
	 * read over PCIe, which every row that reads over PCIe also pays, is left. */
	ck_assert_msg(hif_sens_point_run(&c.b, &d, &base, NULL, "host.bnn_gops", 1e4, 1, &hi, &err) == 0,
		      "%s", err.msg);
	const struct hif_row *w1 = hif_compare_winner(&hi, "infer", 0, NULL);
	ck_assert_ptr_nonnull(w1);
	ck_assert_str_eq(w1->platform, "host");
	hif_compare_free(&hi);
	hif_compare_free(&base);
	hif_data_free(&d);
}
END_TEST

static cJSON *report(const char *dir)
{
	char path[700];
	snprintf(path, sizeof path, "%s/report.json", dir);
	char *t = tu_slurp(path);
	ck_assert_ptr_nonnull(t);
	cJSON *r = cJSON_Parse(t);
	free(t);
	ck_assert_ptr_nonnull(r);
	return r;
}

static const cJSON *row(const cJSON *rep, const char *wl, const char *name)
{
	const cJSON *p;
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(cJSON_GetObjectItem(rep, "metrics"), "platforms")) {
		if (!strcmp(cJSON_GetObjectItem(p, "workload")->valuestring, wl) &&
		    !strcmp(cJSON_GetObjectItem(p, "platform")->valuestring, name))
			return p;
	}
	ck_abort_msg("no row %s / %s", wl, name);
	return NULL;
}

static double dnum(const cJSON *o, const char *k)
{
	const cJSON *x = cJSON_GetObjectItem(o, k);
	ck_assert_msg(x != NULL, "missing %s", k);
	return x->valuedouble;
}

/* The fastest infer time of the rows other than the host's. */
static double best_other_time(const cJSON *rep)
{
	double t = HUGE_VAL;
	const cJSON *p;
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(cJSON_GetObjectItem(rep, "metrics"), "platforms")) {
		if (strcmp(cJSON_GetObjectItem(p, "workload")->valuestring, "infer") ||
		    !strcmp(cJSON_GetObjectItem(p, "platform")->valuestring, "host"))
			continue;
		t = fmin(t, dnum(p, "wall_s"));
	}
	return t;
}

/* The CLI: the base of host.bnn_gops placed 1.5x short of the rate at which
 * the host becomes the fastest (worked out from two runs), so x0.5 keeps
 * the winner and x2 flips it, and report.json / the table say so. */
START_TEST(cli_reports_the_flip)
{
	if (!have_data()) {
		tu_skip_need("dataset", "Fashion-MNIST not installed");
		return;
	}
	char out[16384], d0[600], d1[600], d2[600];
	const char *tmp = tu_tmpdir();
	snprintf(d0, sizeof d0, "%s/sens0", tmp);
	snprintf(d1, sizeof d1, "%s/sens1", tmp);
	snprintf(d2, sizeof d2, "%s/sens2", tmp);
	const char *common = "--set compare.workloads=infer " SMALL;
	int rc = tu_ndpsim(out, sizeof out, "run --quiet --no-plot --out %s --set compare.cache_dir=%s/cache %s",
			   d0, tmp, common);
	ck_assert_msg(rc == 0, "%s", out);
	rc = tu_ndpsim(out, sizeof out, "run --quiet --no-plot --out %s --set compare.cache_dir=%s/cache %s "
		       "--set host.bnn_gops=5200", d1, tmp, common);
	ck_assert_msg(rc == 0, "%s", out);
	cJSON *a = report(d0), *b = report(d1);
	double g0 = 0.52, t0 = dnum(row(a, "infer", "host"), "wall_s");
	double t1 = dnum(row(b, "infer", "host"), "wall_s");
	/* t = t_io + k / g: two rates give k and t_io. */
	double k = (t0 - t1) / (1 / g0 - 1 / 5200.0), t_io = t0 - k / g0;
	double other = best_other_time(a);
	ck_assert_msg(other > t_io && t0 > other, "host %.6g s, best other %.6g s, read %.6g s", t0, other,
		      t_io);
	double g_flip = k / (other - t_io), g = g_flip / 1.5;
	cJSON_Delete(a);
	cJSON_Delete(b);
	rc = tu_ndpsim(out, sizeof out, "run --sensitivity --no-plot --out %s --set compare.cache_dir=%s/cache %s "
		       "--set host.bnn_gops=%.9g --set compare.sensitivity_keys=host.bnn_gops", d2, tmp, common, g);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_msg(strstr(out, "sensitivity (infer)") && strstr(out, "*host"), "%s", out);
	cJSON *r = report(d2);
	const cJSON *s = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "metrics"), "sensitivity");
	ck_assert_ptr_nonnull(s);
	const cJSON *k0 = cJSON_GetArrayItem(cJSON_GetObjectItem(s, "keys"), 0);
	ck_assert_str_eq(cJSON_GetObjectItem(k0, "key")->valuestring, "host.bnn_gops");
	const cJSON *pts = cJSON_GetObjectItem(k0, "points");
	ck_assert_int_eq(cJSON_GetArraySize(pts), 2);
	for (int f = 0; f < 2; f++) {
		const cJSON *p = cJSON_GetArrayItem(pts, f);
		const cJSON *t = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(p, "winners"),
									  "infer"), "time");
		const char *w = cJSON_GetObjectItem(t, "winner")->valuestring;
		double value = dnum(p, "value");
		ck_assert_msg(fabs(value - g * (f ? 2 : 0.5)) <= 1e-9 * g, "value %.9g", value);
		if (f)
			ck_assert_str_eq(w, "host");
		else
			ck_assert_str_ne(w, "host");
		/* The baseline winner's ratio re-derived from the model above:
		 * best other / its time; at x2 the host's own time is t_io + k/(2g). */
		if (f)
			ck_assert_msg(fabs(dnum(t, "lead") - other / (t_io + k / (2 * g))) <= 1e-6 *
				      dnum(t, "lead"), "lead %.9g", dnum(t, "lead"));
	}
	ck_assert_int_ge(cJSON_GetArraySize(cJSON_GetObjectItem(s, "flips")), 1);
	/* The crossbar's accuracy interval over its 2 chips: mean +- t(0.975, 1) sd / sqrt 2. */
	const cJSON *x = row(r, "infer", "memory: ReRAM crossbar");
	const cJSON *ci = cJSON_GetObjectItem(x, "accuracy_ci95");
	ck_assert_ptr_nonnull(ci);
	double sd = cJSON_GetObjectItem(x, "accuracy_sd") ? dnum(x, "accuracy_sd") : 0;
	double h = 12.706 * sd / sqrt(2.0);
	ck_assert(fabs(dnum(ci, "lo") - (dnum(x, "accuracy") - h)) < 1e-9);
	ck_assert(fabs(dnum(ci, "hi") - (dnum(x, "accuracy") + h)) < 1e-9);
	cJSON_Delete(r);
	char png[700];
	snprintf(png, sizeof png, "%s/sensitivity.gp", d2);
	ck_assert_msg(access(png, R_OK) == 0, "no tornado script");
}
END_TEST

/* compare.repeats = 2: the interval of the final accuracy over seeds 1 and
 * 2, recomputed from the row itself (seed 1) and a separate seed-2 run. */
START_TEST(repeats_give_an_interval)
{
	if (!have_data()) {
		tu_skip_need("dataset", "Fashion-MNIST not installed");
		return;
	}
	char out[8192], dir[600];
	const char *tmp = tu_tmpdir();
	snprintf(dir, sizeof dir, "%s/rep2", tmp);
	int rc = tu_ndpsim(out, sizeof out, "run --quiet --no-plot --out %s --seed 2 "
			   "--set compare.workloads=train --set train.epochs=1", dir);
	ck_assert_msg(rc == 0, "%s", out);
	cJSON *r = report(dir);
	double a2 = dnum(row(r, "train", "storage"), "accuracy");
	cJSON_Delete(r);
	snprintf(dir, sizeof dir, "%s/rep", tmp);
	rc = tu_ndpsim(out, sizeof out, "run --quiet --no-plot --out %s --seed 1 "
		       "--set compare.workloads=train --set train.epochs=1 --set compare.repeats=2", dir);
	ck_assert_msg(rc == 0, "%s", out);
	r = report(dir);
	const cJSON *x = row(r, "train", "storage");
	double a1 = dnum(x, "accuracy");
	const cJSON *ci = cJSON_GetObjectItem(x, "accuracy_ci95");
	ck_assert_ptr_nonnull(ci);
	/* n = 2: sd = |a1 - a2| / sqrt 2, half-width t(0.975, 1) sd / sqrt 2. */
	double m = (a1 + a2) / 2, h = 12.706 * fabs(a1 - a2) / 2;
	ck_assert_msg(fabs(dnum(ci, "mean") - m) < 1e-12, "mean %.12g vs %.12g", dnum(ci, "mean"), m);
	ck_assert_msg(fabs(dnum(ci, "lo") - (m - h)) < 1e-9 && fabs(dnum(ci, "hi") - (m + h)) < 1e-9,
		      "interval %.9g-%.9g, expected %.9g-%.9g", dnum(ci, "lo"), dnum(ci, "hi"), m - h, m + h);
	ck_assert(h > 0);   /* the seeds do differ */
	cJSON_Delete(r);
}
END_TEST

START_TEST(bad_keys_exit_2_nothing_overwritten)
{
	char out[4096];
	char dir[600];
	snprintf(dir, sizeof dir, "%s/sensbad", tu_tmpdir());
	mkdir(dir, 0755);
	ck_assert_ptr_nonnull(tu_write_file("sensbad/report.json", "{\"earlier\": true}\n"));
	int rc = tu_ndpsim(out, sizeof out, "run --sensitivity --out %s --set compare.sensitivity_keys="
			   "host.p_idle_w,host.no_such_key", dir);
	ck_assert_int_eq(rc, 2);
	ck_assert_msg(strstr(out, "host.no_such_key") != NULL, "%s", out);
	char path[700];
	snprintf(path, sizeof path, "%s/report.json", dir);
	char *t = tu_slurp(path);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t, "{\"earlier\": true}\n");
	free(t);
	rc = tu_ndpsim(out, sizeof out, "run --sensitivity --out %s --set compare.sensitivity_keys=compare.workloads",
		       dir);
	ck_assert_int_eq(rc, 2);
	ck_assert_msg(strstr(out, "compare.workloads") && strstr(out, "not numeric"), "%s", out);
	rc = tu_ndpsim(out, sizeof out, "run --set compare.repeats=0");
	ck_assert_int_eq(rc, 2);
	ck_assert_msg(strstr(out, "compare.repeats") != NULL, "%s", out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sens");
	TCase *tc = tcase_create("sens");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, extreme_assumption_flips_winner);
	tcase_add_test(tc, cli_reports_the_flip);
	tcase_add_test(tc, repeats_give_an_interval);
	tcase_add_test(tc, bad_keys_exit_2_nothing_overwritten);
	suite_add_tcase(s, tc);
	/* CK_RUN_CASE=recharge / recharge_train runs these alone. */
	TCase *rc = tcase_create("recharge");
	tcase_set_timeout(rc, 600);
	tcase_add_test(rc, recharged_equals_rerun_infer);
	suite_add_tcase(s, rc);
	TCase *rt = tcase_create("recharge_train");
	tcase_set_timeout(rt, 1800);   /* four full re-runs of three trainings */
	tcase_add_test(rt, recharged_equals_rerun_train);
	suite_add_tcase(s, rt);
	return tu_run_suite(s);
}
