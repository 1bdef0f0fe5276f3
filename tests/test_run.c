/*
 * The main job's pipeline (`ndpsim run`) on a reduced workload: every
 * platform reported, energy breakdowns that sum to their totals, bytes moved
 * consistent with the model, figures and CSVs written.
 */
#include <cJSON.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "tests/common/tutil.h"
#include "workloads/idx.h"

static const cJSON *platform(const cJSON *plats, const char *wl, const char *name)
{
	const cJSON *p;
	cJSON_ArrayForEach(p, plats) {
		if (!strcmp(cJSON_GetObjectItem(p, "workload")->valuestring, wl) &&
		    !strcmp(cJSON_GetObjectItem(p, "platform")->valuestring, name))
			return p;
	}
	return NULL;
}

static double num(const cJSON *o, const char *a, const char *b)
{
	const cJSON *x = cJSON_GetObjectItem(o, a);
	if (b)
		x = cJSON_GetObjectItem(x, b);
	ck_assert_ptr_nonnull(x);
	return x->valuedouble;
}

START_TEST(reduced_main_job)
{
	char probe[512];
	snprintf(probe, sizeof probe, "%s/t10k-images-idx3-ubyte.gz", wl_fmnist_default_dir());
	if (access(probe, R_OK)) {
		tu_skip_need("dataset", "Fashion-MNIST not installed");
		return;
	}
	char dir[512], out[8192];
	snprintf(dir, sizeof dir, "%s/run", tu_tmpdir());
	int rc = tu_ndpsim(out, sizeof out,
			   "run --quiet --out %s --set train.epochs=2 --set host.page_cache_ratio=0.25 "
			   "--set bnn.hidden=64,64 --set bnn.epochs=1 --set bnn.train_n=5000 "
			   "--set xbar.mc.test_n=1000 --set xbar.mc.chips=2 --set compare.cache_dir=%s/cache",
			   dir, tu_tmpdir());
	ck_assert_msg(rc == 0, "%s", out);
	char path[600];
	snprintf(path, sizeof path, "%s/report.json", dir);
	char *text = tu_slurp(path);
	ck_assert_ptr_nonnull(text);
	cJSON *rep = cJSON_Parse(text);
	free(text);
	ck_assert_ptr_nonnull(rep);
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(rep, "version"));
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(rep, "seed"));
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(rep, "config"));
	const cJSON *plats = cJSON_GetObjectItem(cJSON_GetObjectItem(rep, "metrics"), "platforms");
	ck_assert_int_eq(cJSON_GetArraySize(plats), 8);

	/* Every supported platform: the breakdown sums to its total. */
	const cJSON *p;
	cJSON_ArrayForEach(p, plats) {
		if (!cJSON_IsTrue(cJSON_GetObjectItem(p, "supported")))
			continue;
		const cJSON *e = cJSON_GetObjectItem(p, "energy_run_j");
		double total = num(e, "total", NULL), sum = 0;
		const cJSON *c;
		cJSON_ArrayForEach(c, cJSON_GetObjectItem(e, "by_component"))
			sum += c->valuedouble;
		ck_assert_msg(sum == total, "%s %s: %.17g vs %.17g",
			      cJSON_GetObjectItem(p, "workload")->valuestring,
			      cJSON_GetObjectItem(p, "platform")->valuestring, sum, total);
		ck_assert(total > 0);
		double acc = num(p, "accuracy", NULL);
		ck_assert(acc > 0.5 && acc < 1.0);
	}
	/* The crossbar does not train, and says so. */
	const cJSON *xb = platform(plats, "train", "memory: ReRAM crossbar");
	ck_assert_ptr_nonnull(xb);
	ck_assert(!cJSON_IsTrue(cJSON_GetObjectItem(xb, "supported")));
	ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(xb, "note")->valuestring, "not supported"));

	/* Bytes: the host reads the data set, then at least 75 % of it again in
	 * epoch 2 (page cache 0.25 x data set); storage sends only results. */
	const cJSON *host = platform(plats, "train", "host");
	const cJSON *sto = platform(plats, "train", "storage");
	const cJSON *mem = platform(plats, "train", "memory: near-DRAM");
	double data = 60000.0 / 5 * 4096;   /* 5 samples per 4 KiB unit */
	ck_assert(num(host, "bytes_moved", "ssd_to_host") >= data * 1.75);
	ck_assert(num(sto, "bytes_moved", "ssd_to_host") <= 4096);
	ck_assert(num(sto, "bytes_moved", "inside_ssd") >= data);
	ck_assert(num(mem, "bytes_moved", "ssd_to_host") >= data);
	ck_assert(num(mem, "bytes_moved", "in_stack") > 0);
	/* Digital inference is exact: host, storage and near-DRAM agree. */
	double a = num(platform(plats, "infer", "host"), "accuracy", NULL);
	ck_assert(a == num(platform(plats, "infer", "storage"), "accuracy", NULL));
	ck_assert(a == num(platform(plats, "infer", "memory: near-DRAM"), "accuracy", NULL));
	cJSON_Delete(rep);

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
	/* Second run: the binarized network comes from the cache. */
	rc = tu_ndpsim(out, sizeof out,
		       "run --quiet --out %s --set compare.workloads=infer --set bnn.hidden=64,64 "
		       "--set bnn.epochs=1 --set bnn.train_n=5000 --set xbar.mc.test_n=1000 "
		       "--set xbar.mc.chips=2 --set compare.cache_dir=%s/cache", dir, tu_tmpdir());
	ck_assert_msg(rc == 0, "%s", out);
}
END_TEST

START_TEST(bad_input_exit_2)
{
	char out[4096];
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "run --set compare.workloads=all"), 2);
	ck_assert_ptr_nonnull(strstr(out, "compare.workloads"));
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "run --set train.data_dir=/nonexistent"), 2);
	ck_assert_ptr_nonnull(strstr(out, "/nonexistent"));
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "run --help"), 0);
	ck_assert_ptr_nonnull(strstr(out, "host vs storage vs memory"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("run");
	TCase *tc = tcase_create("run");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, reduced_main_job);
	tcase_add_test(tc, bad_input_exit_2);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
