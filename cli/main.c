/*
 * main.c — `ndpsim`: dispatch to subcommands (the table is cli/registry.c).
 */
#include <stdio.h>
#include <string.h>

#include "cli/registry.h"
#include "core/version.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: ndpsim <command> [options]    (ndpsim <command> --help)\n\n"
		"ndpsim %s — host, storage or memory? Time and energy of ML work\n"
		"on the host, inside the SSD and in memory.\n\ncommands:\n",
		NDPSIM_VERSION);
	for (size_t i = 0; i < cli_ncmds; i++)
		fprintf(out, "  %-10s %s\n", cli_cmds[i].name, cli_cmds[i].help);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("ndpsim %s\n", NDPSIM_VERSION);
		return 0;
	}
	const struct cli_cmd *c = cli_cmd_find(argv[1]);
	if (c)
		return c->fn(argc - 1, argv + 1);
	fprintf(stderr, "ndpsim: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
