/* Config: descriptor tables, JSON errors with paths, --set, CLI exit codes. */
#include <cJSON.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/registry.h"
#include "core/cfg.h"
#include "ssdsim/ssd.h"
#include "tests/common/tutil.h"
#include "workloads/synth.h"

static struct run_params run;
static struct ssd_params sp;
static struct wl_params wp;
static struct cfg_bundle b;

static void setup(void)
{
	memset(&b, 0, sizeof b);
	cfg_bundle_add(&b, &run_section, &run);
	cfg_bundle_add(&b, &ssd_section, &sp);
	cfg_bundle_add(&b, &wl_section, &wp);
	cfg_defaults(&b);
}

static int apply(const char *json, struct nd_err *err)
{
	cfg_defaults(&b);
	int rc = cfg_apply_text(&b, json, "t.json", err);
	return rc ? rc : cfg_validate(&b, err);
}

START_TEST(defaults_and_values)
{
	struct nd_err err = { 0 };
	ck_assert_int_eq(cfg_validate(&b, &err), 0);
	ck_assert_int_eq(sp.channels, 8);
	ck_assert_uint_eq(sp.t_read_ns, 75000);
	ck_assert_str_eq(sp.alloc_order, "CWDP");
	ck_assert_int_eq(apply("{\"seed\": 7, \"ssd\": {\"channels\": 16, \"nand\": {\"t_read_ns\": 50000},"
			       " \"ftl\": {\"gc_policy\": \"cost_benefit\"}, \"description\": \"x\"}}", &err), 0);
	ck_assert_uint_eq(run.seed, 7);
	ck_assert_int_eq(sp.channels, 16);
	ck_assert_uint_eq(sp.t_read_ns, 50000);
	ck_assert_int_eq(sp.gc_policy, SSD_GC_COST_BENEFIT);
}
END_TEST

START_TEST(errors_name_json_path)
{
	struct nd_err err = { 0 };
	ck_assert_int_eq(apply("{\"ssd\": {\"chanels\": 8}}", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "t.json: ssd.chanels: unknown key"));
	ck_assert_int_eq(apply("{\"ssd\": {\"nand\": {\"t_read_ns\": \"fast\"}}}", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "ssd.nand.t_read_ns: expected a number"));
	ck_assert_int_eq(apply("{\"ssd\": {\"channels\": 0}}", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "ssd.channels: 0 is out of range"));
	ck_assert_int_eq(apply("{\"ssd\": {\"channels\": 2.5}}", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "expected an integer"));
	ck_assert_int_eq(apply("{\"ssd\": {\"page_bytes\": 1000}}", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "ssd.page_bytes: 1000 is not a multiple of 512"));
	ck_assert_int_eq(apply("{\"ssd\": {\"page_bytes\": 6144}}", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "multiple of ssd.map_unit_bytes"));
	ck_assert_int_eq(apply("{\"ssd\": {\"ftl\": {\"gc_policy\": \"lru\"}}}", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "ssd.ftl.gc_policy: unknown value \"lru\""));
	ck_assert_int_eq(apply("{\"ssd\": {\"ftl\": {\"alloc_order\": \"CWDX\"}}}", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "permutation of CWDP"));
	ck_assert_int_eq(apply("{\"ssd\": {\"nand\": 5}}", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "ssd.nand: expected an object"));
	ck_assert_int_eq(apply("{\"ssd\": {\"verify\": 1}}", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "ssd.verify: expected true or false"));
	ck_assert_int_eq(apply("{\"bogus\": 1}", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "bogus: unknown key"));
	ck_assert_int_eq(apply("[1, 2]", &err), -EINVAL);
	ck_assert_int_eq(apply("{\"ssd\": {\"ftl\": {\"op\": 0.001}}}", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "ssd.ftl.op"));
}
END_TEST

START_TEST(malformed_json_names_line)
{
	struct nd_err err = { 0 };
	ck_assert_int_eq(apply("{\n \"ssd\": {\n  \"channels\": 8,\n }\n}", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "t.json:4: malformed JSON"));
	ck_assert_int_eq(apply("{\"seed\": 1} trailing", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "malformed JSON"));
}
END_TEST

START_TEST(set_overrides)
{
	struct nd_err err = { 0 };
	ck_assert_int_eq(cfg_set(&b, "ssd.channels=4", &err), 0);
	ck_assert_int_eq(sp.channels, 4);
	ck_assert_int_eq(cfg_set(&b, "workload.count=1e6", &err), 0);
	ck_assert_uint_eq(wp.count, 1000000);
	ck_assert_int_eq(cfg_set(&b, "workload.pattern=seq", &err), 0);
	ck_assert_int_eq(wp.pattern, WL_SEQ);
	ck_assert_int_eq(cfg_set(&b, "ssd.nand.multiplane=false", &err), 0);
	ck_assert_int_eq(sp.multiplane, 0);
	ck_assert_int_eq(cfg_set(&b, "ssd.nope=1", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "--set ssd.nope: unknown key"));
	ck_assert_int_eq(cfg_set(&b, "ssd.channels=lots", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "not a number"));
	ck_assert_int_eq(cfg_set(&b, "ssd.channels", &err), -EINVAL);
	ck_assert_int_eq(cfg_set(&b, "ssd.channels=100000", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "out of range"));
}
END_TEST

/* Inputs that a lenient parser would take silently are refused, each with
 * the path: duplicate keys (cJSON keeps both; the last would win), a NUL
 * escape that cuts a string short, hex / inf / blank-padded numbers and
 * yes/on booleans in --set. */
START_TEST(strict_input_forms)
{
	struct nd_err err = { 0 };
	ck_assert_int_eq(apply("{\"ssd\": {\"channels\": 4, \"channels\": 16}}", &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "t.json: ssd.channels: duplicate key"), "%s", err.msg);
	ck_assert_int_eq(apply("{\"ssd\": {\"nand\": {\"t_read_ns\": 1}, \"nand\": {\"t_prog_ns\": 2}}}", &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "ssd.nand: duplicate key"), "%s", err.msg);
	ck_assert_int_eq(apply("{\"seed\": 1, \"seed\": 2}", &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "t.json: seed: duplicate key"), "%s", err.msg);
	ck_assert_int_eq(apply("{\"ssd\": {}, \"ssd\": {}}", &err), -EINVAL);
	ck_assert_int_eq(apply("{\n\"ssd\": {\"ftl\": {\"alloc_order\": \"CW\\u0000DP\"}}}", &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "t.json:2: a string contains"), "%s", err.msg);
	/* an escaped backslash followed by u0000 is not a NUL escape: the
	 * string is then simply a bad alloc order */
	ck_assert_int_eq(apply("{\"ssd\": {\"ftl\": {\"alloc_order\": \"\\\\u0000\"}}}", &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "alloc_order"), "%s", err.msg);
	const char *bad_num[] = { "0x10", "inf", "nan", " 4", "4 ", "1e", ".5", "4.", "" };
	for (size_t i = 0; i < sizeof bad_num / sizeof bad_num[0]; i++) {
		char a[64];
		snprintf(a, sizeof a, "ssd.channels=%s", bad_num[i]);
		ck_assert_msg(cfg_set(&b, a, &err) == -EINVAL, "accepted %s", a);
		ck_assert_msg(strstr(err.msg, "--set ssd.channels"), "%s", err.msg);
	}
	ck_assert_int_eq(cfg_set(&b, "ssd.channels=-4", &err), -EINVAL);   /* range */
	ck_assert_int_eq(cfg_set(&b, "ssd.channels=+4", &err), 0);
	ck_assert_int_eq(sp.channels, 4);
	const char *bad_bool[] = { "yes", "on", "no", "off", "TRUE", "2" };
	for (size_t i = 0; i < sizeof bad_bool / sizeof bad_bool[0]; i++) {
		char a[64];
		snprintf(a, sizeof a, "ssd.nand.multiplane=%s", bad_bool[i]);
		ck_assert_msg(cfg_set(&b, a, &err) == -EINVAL, "accepted %s", a);
	}
	ck_assert_int_eq(cfg_set(&b, "ssd.nand.multiplane=0", &err), 0);
	ck_assert_int_eq(sp.multiplane, 0);
	ck_assert_int_eq(cfg_set(&b, "ssd.nand.multiplane=true", &err), 0);
	ck_assert_int_eq(sp.multiplane, 1);
}
END_TEST

/* The typed row macros refuse a field of another type at compile time:
 * compile a good and a bad table with the compiler that built us. */
START_TEST(typed_keys_check_field_types)
{
	const char *head =
		"#include \"core/cfg.h\"\n"
		"struct p { int n; double x; char s[CFG_STR_MAX]; uint64_t u; };\n"
		"#define CFG_T struct p\n"
		"static const struct cfg_key k[] = { ";
	const char *tail = ", CFG_END };\n"
		"const struct cfg_key *get(void);\n"
		"const struct cfg_key *get(void) { return k; }\n";
	const char *good = "CFG_KEY_INT(\"n\", n, \"-\", 1, 0, 2, \"h\"), "
			   "CFG_KEY_DBL(\"x\", x, \"-\", 1, 0, 2, \"h\"), "
			   "CFG_KEY_STR(\"s\", s, \"-\", \"a\", \"h\"), "
			   "CFG_KEY_U64(\"u\", u, \"-\", 1, 0, 2, \"h\")";
	const char *bad[] = { "CFG_KEY_DBL(\"n\", n, \"-\", 1, 0, 2, \"h\")",
			      "CFG_KEY_INT(\"x\", x, \"-\", 1, 0, 2, \"h\")",
			      "CFG_KEY_U64(\"n\", n, \"-\", 1, 0, 2, \"h\")",
			      "CFG_KEY_STR(\"u\", u, \"-\", \"a\", \"h\")",
			      "CFG_KEY_BOOL(\"x\", x, 0, \"h\")" };
	const char *cc = getenv("CC");
	if (system("command -v cc >/dev/null 2>&1") && !(cc && *cc)) {
		tu_skip("no C compiler on PATH: typed-key compile check not made");
		return;
	}
	for (int i = -1; i < (int)(sizeof bad / sizeof bad[0]); i++) {
		char src[2048], path[600], cmd[1400];
		snprintf(src, sizeof src, "%s%s%s", head, i < 0 ? good : bad[i], tail);
		snprintf(path, sizeof path, "%s/typed-%d.c", tu_tmpdir(), i + 1);
		FILE *f = fopen(path, "w");
		ck_assert_ptr_nonnull(f);
		fputs(src, f);
		fclose(f);
		snprintf(cmd, sizeof cmd, "%s -std=c11 -I. -fsyntax-only %s >/dev/null 2>&1",
			 cc && *cc ? cc : "cc", path);
		int rc = system(cmd);
		if (i < 0)
			ck_assert_msg(rc == 0, "the well-typed table did not compile: %s", path);
		else
			ck_assert_msg(rc != 0, "%s compiled: %s", bad[i], path);
	}
}
END_TEST

START_TEST(resolved_json_roundtrip)
{
	struct nd_err err = { 0 };
	cfg_set(&b, "ssd.channels=4", &err);
	cfg_set(&b, "ssd.link.iface=sata", &err);
	uint64_t h1 = cfg_hash(&b);
	cJSON *j = cfg_to_json(&b);
	char *t = cJSON_Print(j);
	cfg_defaults(&b);
	ck_assert_uint_ne(cfg_hash(&b), h1);
	ck_assert_int_eq(cfg_apply_text(&b, t, "echo", &err), 0);
	ck_assert_uint_eq(cfg_hash(&b), h1);
	free(t);
	cJSON_Delete(j);
}
END_TEST

START_TEST(default_json_matches_builtin)
{
	struct nd_err err = { 0 };
	/* default.json holds every section: compare with the whole registry. */
	struct cfg_bundle all;
	cli_bundle_all(&all);
	cfg_defaults(&all);
	uint64_t h = cfg_hash(&all);
	ck_assert_msg(cfg_load_file(&all, "configs/default.json", &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(cfg_hash(&all), h);
	cli_bundle_free(&all);
	const char *presets[] = { "configs/mqsim-default.json", "configs/simplessd-mlc.json",
				  "configs/tlc-nvme.json" };
	for (int i = 0; i < 3; i++) {
		cfg_defaults(&b);
		ck_assert_msg(cfg_load_file(&b, presets[i], &err) == 0, "%s", err.msg);
		ck_assert_msg(cfg_validate(&b, &err) == 0, "%s", err.msg);
	}
	ck_assert_int_eq(cfg_load_file(&b, "configs/none.json", &err), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "configs/none.json"));
}
END_TEST

/* The CLI: exit code 2 and a message naming the file and path; an earlier
 * result is left untouched. */
START_TEST(cli_bad_input_exit_2)
{
	char out[8192];
	const char *bad = tu_write_file("bad.json", "{\"ssd\": {\"nand\": {\"t_read_ns\": -5}}}");
	int rc = tu_ndpsim(out, sizeof out, "ssd --config %s --quiet", bad);
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "bad.json: ssd.nand.t_read_ns: -5 is out of range"));
	const char *syn = tu_write_file("syntax.json", "{\n\"ssd\": {\n\"channels\": 8,,\n}}");
	rc = tu_ndpsim(out, sizeof out, "ssd --config %s --quiet", syn);
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "syntax.json:3: malformed JSON"));
	rc = tu_ndpsim(out, sizeof out, "ssd --set ssd.channels=abc");
	ck_assert_int_eq(rc, 2);
	rc = tu_ndpsim(out, sizeof out, "ssd --bogus");
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "unknown option '--bogus'"));
	rc = tu_ndpsim(out, sizeof out, "frobnicate");
	ck_assert_int_eq(rc, 2);
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "ssd --help"), 0);
	ck_assert_ptr_nonnull(strstr(out, "usage: ndpsim ssd"));
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "config --help"), 0);
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "run --help"), 0);
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "config --dump"), 0);
	ck_assert_ptr_nonnull(strstr(out, "ssd.nand.t_read_ns"));
	ck_assert_ptr_nonnull(strstr(out, "MQSim default: 75 us"));

	/* --host-profile applies after --config and before --set. */
	const char *base = tu_write_file("base.json", "{\"host\": {\"gflops_lr\": 1.5, \"cores\": 8}}");
	char basep[512];
	snprintf(basep, sizeof basep, "%s", base);
	const char *prof = tu_write_file("prof.json", "{\"host\": {\"gflops_lr\": 4.25}}");
	rc = tu_ndpsim(out, sizeof out, "config --config %s --host-profile %s --set host.cores=3",
		       basep, prof);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\"gflops_lr\":\t4.25"));
	ck_assert_ptr_nonnull(strstr(out, "\"cores\":\t3"));
	ck_assert_int_eq(tu_ndpsim(out, sizeof out, "config --host-profile /nonexistent.json"), 2);

	/* A good run, then a bad one into the same directory: the first
	 * report survives byte for byte. */
	char dir[512], path[600];
	snprintf(dir, sizeof dir, "%s/keep", tu_tmpdir());
	rc = tu_ndpsim(out, sizeof out, "ssd --quiet --set ssd.blocks=16 --set ssd.ftl.op=0.5 "
		       "--set workload.count=100 --out %s", dir);
	ck_assert_msg(rc == 0, "%s", out);
	snprintf(path, sizeof path, "%s/report.json", dir);
	struct stat st1, st2;
	ck_assert_int_eq(stat(path, &st1), 0);
	rc = tu_ndpsim(out, sizeof out, "ssd --quiet --config %s --out %s", bad, dir);
	ck_assert_int_eq(rc, 2);
	ck_assert_int_eq(stat(path, &st2), 0);
	ck_assert_int_eq(st1.st_size, st2.st_size);
	ck_assert_int_eq(st1.st_mtim.tv_nsec, st2.st_mtim.tv_nsec);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cfg");
	TCase *tc = tcase_create("cfg");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, defaults_and_values);
	tcase_add_test(tc, errors_name_json_path);
	tcase_add_test(tc, malformed_json_names_line);
	tcase_add_test(tc, set_overrides);
	tcase_add_test(tc, strict_input_forms);
	tcase_add_test(tc, typed_keys_check_field_types);
	tcase_add_test(tc, resolved_json_roundtrip);
	tcase_add_test(tc, default_json_matches_builtin);
	tcase_add_test(tc, cli_bad_input_exit_2);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
