/* cmd_run.c — `ndpsim run`: the main job (see README). */
#include <string.h>

#include "cli/cli.h"
#include "cli/cmds.h"

/* Until the three-way comparison lands (hostif issue), the main job is the
 * SSD model on the default synthetic workload with --verify. */
int cmd_run(int argc, char **argv)
{
	char *args[CLI_MAX_SETS * 2 + 8];
	int n = 0;
	args[n++] = "ssd";
	for (int i = 1; i < argc && n < (int)(sizeof args / sizeof args[0]) - 4; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: ndpsim run [ssd options]\n"
			       "The main job; today: `ndpsim ssd --verify --out results/run` on the\n"
			       "embedded default config (see ndpsim ssd --help for the options).\n");
			return 0;
		}
		args[n++] = argv[i];
	}
	args[n++] = "--verify";
	args[n++] = "--out";
	args[n++] = "results/run";
	args[n] = NULL;
	return cmd_ssd(n, args);
}
