#include "cli/registry.h"

#include <stdlib.h>

#include "analog/gbo.h"
#include "analog/xbar.h"
#include "cli/cli.h"
#include "core/util.h"
#include "hostif/compare.h"
#include "hostif/ndram.h"
#include "hostif/host.h"
#include "ndp/ndp.h"
#include "ssdsim/ssd.h"
#include "workloads/bcnn.h"
#include "workloads/bnn.h"
#include "workloads/synth.h"

/* One line per module section. */
static const struct cfg_section *const all_sections[] = {
	&run_section,
	&ssd_section,
	&wl_section,
	&ndram_section,
	&ndp_train_section,
	&ndp_section,
	&ihp_section,
	&bnn_section,
	&bcnn_section,
	&xbar_section,
	&gbo_section,
	&hif_compare_section,
};

void cli_bundle_all(struct cfg_bundle *b)
{
	b->n = 0;
	for (size_t i = 0; i < ND_ARRAY_LEN(all_sections); i++)
		cfg_bundle_add(b, all_sections[i], xcalloc(1, all_sections[i]->params_size));
}

void cli_bundle_free(struct cfg_bundle *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->params[i]);
	b->n = 0;
}
