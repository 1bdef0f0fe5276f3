/*
 * main.c — `ndpsim`: dispatch to subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cmds.h"
#include "core/version.h"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct cmd cmds[] = {
	{ "run", cmd_run, "the main job: host vs storage vs memory on the default workload" },
	{ "ssd", cmd_ssd, "simulate the SSD on a synthetic workload or a block trace" },
	{ "config", cmd_config, "print the resolved configuration (--dump: with units, ranges, sources)" },
	{ "io", cmd_io, "read a file for real (io_uring / libaio / pread): MB/s, latency, crc32" },
	{ "calibrate", cmd_calibrate, "measure this machine (I/O, DRAM, SGD FLOP/s) into a host profile; --validate" },
	{ "xbar", cmd_xbar, "BNNs on ReRAM crossbars: train, eval, noise-sweep, gbo (accuracy, energy, TOPS/W)" },
	{ "sweep", cmd_sweep, "what-if sweeps of any config keys, local cores or MPI, resumable" },
	{ "train", cmd_train, "train LR / MLP in storage (sync, Downpour, EASGD) or on the host; --grid: the ISP-ML grid" },
	{ "plot", cmd_plot, "plot a metric of a sweep against a swept key (gnuplot PNG + SVG)" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: ndpsim <command> [options]    (ndpsim <command> --help)\n\n"
		"ndpsim %s — host, storage or memory? Time and energy of ML work\n"
		"on the host, inside the SSD and in memory.\n\ncommands:\n",
		NDPSIM_VERSION);
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		fprintf(out, "  %-10s %s\n", cmds[i].name, cmds[i].help);
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
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "ndpsim: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
