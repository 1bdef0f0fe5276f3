/* tu_load.c — tu_ssd_try_load (tests/common/tu_ssd.h) without Check, so
 * the benchmarks link it too. */
#include "tests/common/tu_ssd.h"

#include <string.h>

#include "core/cfg.h"

int tu_ssd_try_load(const char *preset, const char *const *sets, const char *const *more,
		    struct run_params *run, struct ssd_params *sp, struct wl_params *wp,
		    struct nd_err *err)
{
	struct cfg_bundle b;
	memset(&b, 0, sizeof b);
	cfg_bundle_add(&b, &run_section, run);
	cfg_bundle_add(&b, &ssd_section, sp);
	cfg_bundle_add(&b, &wl_section, wp);
	cfg_defaults(&b);
	int rc = preset ? cfg_load_file(&b, preset, err) : 0;
	for (int i = 0; !rc && sets && sets[i]; i++)
		rc = cfg_set(&b, sets[i], err);
	for (int i = 0; !rc && more && more[i]; i++)
		rc = cfg_set(&b, more[i], err);
	return rc ? rc : cfg_validate(&b, err);
}
