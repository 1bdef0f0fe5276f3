/*
 * runparams.h — the top-level config section every run shares: the seed and
 * the OpenMP thread count.  (It lived in cli/; the library needs it, so
 * libndpsim.a links without the CLI objects.)
 */
#ifndef ND_HIF_RUNPARAMS_H
#define ND_HIF_RUNPARAMS_H

#include <stdint.h>

#include "core/cfg.h"

struct run_params {
	uint64_t seed;
	int threads;       /* 0 = OpenMP default */
};
extern const struct cfg_section run_section;

/* Applies run_params (omp_set_num_threads) before work starts. */
void hif_run_apply(const struct run_params *r);

#endif
