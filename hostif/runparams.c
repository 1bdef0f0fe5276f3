#include "hostif/runparams.h"

#include <stddef.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define CFG_T struct run_params
static const struct cfg_key run_keys[] = {
	CFG_KEY_U64("seed", seed, "-", 1, 0, 9007199254740991.0,
	  "master random seed; every stream (workload, noise, sampling) derives from it"),
	CFG_KEY_INT("threads", threads, "threads", 0, 0, 1024,
	  "OpenMP threads for heavy handlers (0 = OpenMP default); results do not depend on it"),
	CFG_END
};

const struct cfg_section run_section = {
	"", run_keys, sizeof(struct run_params), NULL
};

void hif_run_apply(const struct run_params *r)
{
#ifdef _OPENMP
	if (r->threads > 0)
		omp_set_num_threads(r->threads);
#else
	(void)r;
#endif
}
