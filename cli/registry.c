#include "cli/registry.h"

#include <stdlib.h>
#include <string.h>

#include "analog/gbo.h"
#include "analog/xbar.h"
#include "cli/cli.h"
#include "cli/cmds.h"
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
const struct cfg_section *const cli_all_sections[] = {
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
	NULL,
};

/* One line per command.  The sections are those the command loads, in that
 * order (a sweep checks the point hash against the config of every report,
 * so a wrong list shows up at the first point; tests/test_cli.c checks each
 * list against the command's report). */
const struct cli_cmd cli_cmds[] = {
	{ "run", cmd_run, "the main job: host vs storage vs memory on the default workload",
	  { &run_section, &ssd_section, &ndp_train_section, &ndp_section, &ihp_section,
	    &ndram_section, &bnn_section, &xbar_section, &hif_compare_section }, "run" },
	{ "ssd", cmd_ssd, "simulate the SSD on a synthetic workload or a block trace",
	  { &run_section, &ssd_section, &wl_section }, "ssd" },
	{ "config", cmd_config, "print the resolved configuration (--dump: with units, ranges, sources)",
	  { NULL }, NULL },
	{ "io", cmd_io, "read a file for real (io_uring / libaio / pread): MB/s, latency, crc32",
	  { NULL }, NULL },
	{ "calibrate", cmd_calibrate,
	  "measure this machine (I/O, DRAM, SGD FLOP/s) into a host profile; --validate",
	  { NULL }, NULL },   /* reads every section (cli_bundle_all) */
	{ "xbar", cmd_xbar, "BNNs on ReRAM crossbars: train, eval, noise-sweep, gbo (accuracy, energy, TOPS/W)",
	  { &run_section, &bnn_section, &xbar_section, &gbo_section }, "xbar eval" },
	{ "sweep", cmd_sweep, "what-if sweeps of any config keys, local cores or MPI, resumable",
	  { NULL }, NULL },   /* the sections of the command its grid names */
	{ "train", cmd_train,
	  "train LR / MLP in storage (sync, Downpour, EASGD) or on the host; --grid: the ISP-ML grid",
	  { &run_section, &ssd_section, &ndp_train_section, &ndp_section, &ihp_section }, "train" },
	{ "plot", cmd_plot, "plot a metric of a sweep against a swept key (gnuplot PNG + SVG)",
	  { NULL }, NULL },
};
const size_t cli_ncmds = ND_ARRAY_LEN(cli_cmds);

const struct cli_cmd *cli_cmd_find(const char *name)
{
	for (size_t i = 0; i < cli_ncmds; i++)
		if (!strcmp(cli_cmds[i].name, name))
			return &cli_cmds[i];
	return NULL;
}

void cli_bundle_cmd(struct cfg_bundle *b, const char *name, const struct cli_param *pool,
		    size_t npool)
{
	const struct cli_cmd *c = cli_cmd_find(name);
	ND_ASSERT(c != NULL);
	memset(b, 0, sizeof *b);
	for (int i = 0; i < CLI_MAX_SECTIONS && c->sections[i]; i++) {
		void *p = NULL;
		for (size_t k = 0; k < npool && !p; k++)
			if (pool[k].sec == c->sections[i])
				p = pool[k].params;
		ND_ASSERT(p != NULL);   /* the command offers no storage for a section of its row */
		cfg_bundle_add(b, c->sections[i], p);
	}
	/* and every section it offers is loaded: params it reads stay unset otherwise */
	ND_ASSERT(b->n == npool);
}

void cli_bundle_all(struct cfg_bundle *b)
{
	b->n = 0;
	for (size_t i = 0; cli_all_sections[i]; i++)
		cfg_bundle_add(b, cli_all_sections[i], xcalloc(1, cli_all_sections[i]->params_size));
}

void cli_bundle_alloc(struct cfg_bundle *b, const struct cli_cmd *cmd)
{
	memset(b, 0, sizeof *b);
	for (int i = 0; i < CLI_MAX_SECTIONS && cmd->sections[i]; i++)
		cfg_bundle_add(b, cmd->sections[i], xcalloc(1, cmd->sections[i]->params_size));
}

void cli_bundle_free(struct cfg_bundle *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->params[i]);
	b->n = 0;
}
