/*
 * tu_ssd.h — config loading shared by the ssdsim test programs and benchmarks.
 */
#ifndef ND_TU_SSD_H
#define ND_TU_SSD_H

#include "cli/cli.h"
#include "ssdsim/ssd.h"
#include "workloads/synth.h"

/* Built-in defaults, then preset (NULL: none), then each "key=value" of the
 * NULL-terminated sets, then validation; a failure fails the test. */
void tu_ssd_load(const char *preset, const char *const *sets, struct run_params *run,
		 struct ssd_params *sp, struct wl_params *wp);

/* The same without Check, for the benchmarks: each of the NULL-terminated
 * lists sets and more (either may be NULL) in turn.  Returns 0 or the
 * first failure's -errno with err set. */
int tu_ssd_try_load(const char *preset, const char *const *sets, const char *const *more,
		    struct run_params *run, struct ssd_params *sp, struct wl_params *wp,
		    struct nd_err *err);

#endif
