#include "tests/common/tu_ssd.h"

#include <check.h>
#include <string.h>

#include "core/cfg.h"

void tu_ssd_load(const char *preset, const char *const *sets, struct run_params *run,
		 struct ssd_params *sp, struct wl_params *wp)
{
	struct nd_err err = { 0 };
	struct cfg_bundle b;
	memset(&b, 0, sizeof b);
	cfg_bundle_add(&b, &run_section, run);
	cfg_bundle_add(&b, &ssd_section, sp);
	cfg_bundle_add(&b, &wl_section, wp);
	cfg_defaults(&b);
	if (preset)
		ck_assert_msg(cfg_load_file(&b, preset, &err) == 0, "%s", err.msg);
	for (int i = 0; sets && sets[i]; i++)
		ck_assert_msg(cfg_set(&b, sets[i], &err) == 0, "%s", err.msg);
	ck_assert_msg(cfg_validate(&b, &err) == 0, "%s", err.msg);
}
