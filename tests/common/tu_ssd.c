#include "tests/common/tu_ssd.h"

#include <check.h>
#include <string.h>

#include "core/cfg.h"

void tu_ssd_load(const char *preset, const char *const *sets, struct run_params *run,
		 struct ssd_params *sp, struct wl_params *wp)
{
	struct nd_err err = { 0 };
	ck_assert_msg(tu_ssd_try_load(preset, sets, NULL, run, sp, wp, &err) == 0, "%s", err.msg);
}
