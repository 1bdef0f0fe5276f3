/*
 * ssdsim report regression: every run listed in
 * tests/fixtures/ssd-report-hashes.txt must give the same "metrics" object in
 * report.json as when the hash was recorded (before the issue-10 rewrite).
 * NDPSIM_REHASH=1 prints the fixture with the current hashes instead of
 * checking (how the file was made; never run it to make a failing test pass).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/common/tutil.h"

#define FIXTURE "tests/fixtures/ssd-report-hashes.txt"

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Replaces every @SHARED@ in src by the shared folder. */
static void expand(char *dst, size_t n, const char *src)
{
	const char *sh = tu_shared_dir();
	size_t o = 0;
	while (*src && o + 1 < n) {
		if (!strncmp(src, "@SHARED@", 8)) {
			o += (size_t)snprintf(dst + o, n - o, "%s", sh);
			src += 8;
		} else {
			dst[o++] = *src++;
		}
	}
	dst[o < n ? o : n - 1] = '\0';
}

START_TEST(reports_match_recorded_hashes)
{
	FILE *f = fopen(FIXTURE, "r");
	ck_assert_msg(f != NULL, "cannot open " FIXTURE);
	int rehash = getenv("NDPSIM_REHASH") != NULL;
	char line[4096], args[4096], out[8192], dir[512], rep[600];
	int checked = 0, skipped = 0;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || !line[0]) {
			if (rehash)
				printf("%s\n", line);
			continue;
		}
		char want[32], name[128];
		int used = 0;
		ck_assert_msg(sscanf(line, "%31s %127s %n", want, name, &used) == 2,
			      "bad fixture line: %s", line);
		if (strstr(line, "@SHARED@")) {
			char probe[600];
			snprintf(probe, sizeof probe, "%s/data/traces", tu_shared_dir());
			FILE *t = fopen(probe, "r");
			if (!t) {
				skipped++;
				if (rehash)
					printf("%s\n", line);
				continue;
			}
			fclose(t);
		}
		expand(args, sizeof args, line + used);
		snprintf(dir, sizeof dir, "%s/hash-%s", tu_tmpdir(), name);
		int rc = tu_ndpsim(out, sizeof out, "ssd --quiet --no-plot --out %s %s", dir, args);
		ck_assert_msg(rc == 0, "%s: exit %d: %s", name, rc, out);
		snprintf(rep, sizeof rep, "%s/report.json", dir);
		char *text = tu_slurp(rep);
		ck_assert_msg(text != NULL, "%s: no report", name);
		const char *m = strstr(text, "\"metrics\"");
		ck_assert_msg(m != NULL, "%s: no metrics", name);
		char got[32];
		snprintf(got, sizeof got, "%016llx", (unsigned long long)fnv1a(m));
		free(text);
		if (rehash)
			printf("%s %s %s\n", got, name, line + used);
		else
			ck_assert_msg(!strcmp(got, want), "%s: report metrics hash %s, recorded %s",
				      name, got, want);
		checked++;
	}
	fclose(f);
	if (skipped)
		tu_skip("shared traces not found: trace lines of the fixture not checked");
	ck_assert_int_gt(checked, 10);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ssd_hashes");
	TCase *tc = tcase_create("ssd_hashes");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, reports_match_recorded_hashes);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
