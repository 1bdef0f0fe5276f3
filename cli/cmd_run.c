/* cmd_run.c — `ndpsim run`: the main job (see README). */
#include <string.h>

#include "cli/cli.h"
#include "cli/cmds.h"

/* Until the three-way comparison lands (hostif issue), the main job is the
 * SSD model on the default synthetic workload with --verify. */
int cmd_run(int argc, char **argv)
{
	char *args[CLI_MAX_SETS * 2 + 16];
	int n = 0;
	args[n++] = "ssd";
	for (int i = 1; i < argc && n < (int)(sizeof args / sizeof args[0]) - 12; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: ndpsim run [ssd options]\n"
			       "The main job; today: `ndpsim ssd` on the embedded default config, drive\n"
			       "filled and in GC steady state, 70 %% reads, with --verify, into\n"
			       "results/run (see ndpsim ssd --help for the options).\n");
			return 0;
		}
		args[n++] = argv[i];
	}
	/* A filled drive in GC steady state under a 70/30 read/write mix:
	 * the sets are echoed into report.json like any other. */
	args[n++] = "--set";
	args[n++] = "ssd.precondition.fill=1";
	args[n++] = "--set";
	args[n++] = "ssd.precondition.overwrite=0.2";
	args[n++] = "--set";
	args[n++] = "workload.read_ratio=0.7";
	args[n++] = "--verify";
	args[n++] = "--out";
	args[n++] = "results/run";
	args[n] = NULL;
	return cmd_ssd(n, args);
}
