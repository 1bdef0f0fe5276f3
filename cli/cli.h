/*
 * cli.h — what every `ndpsim` subcommand shares: the common options, config
 * loading, and error reporting.
 *
 * A subcommand is `int cmd_NAME(int argc, char **argv)` (argv[0] is the
 * subcommand name) registered in the table of cli/main.c.  It returns the
 * process exit code: 0 success, 1 a run failed, 2 bad usage or input.  Every
 * subcommand answers --help.
 */
#ifndef ND_CLI_H
#define ND_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "core/cfg.h"
#include "core/err.h"
#include "hostif/runparams.h"

#define CLI_MAX_SETS 128

struct cli_common {
	const char *config_path;          /* --config F */
	const char *host_preset;          /* --host NAME: configs/hosts/NAME.json (after --config) */
	const char *host_profile;         /* --host-profile F (applied after --host) */
	const char *sets[CLI_MAX_SETS];   /* --set k=v, in order */
	int nsets;
	const char *out_dir;              /* --out DIR */
	int seed_given;                   /* --seed N (same as --set seed=N) */
	uint64_t seed;
	int quiet;                        /* --quiet: no progress, no table */
};

/* If argv[*i] is a common option, consumes it (and its value), advances *i
 * past it and returns 1; returns 0 if it is not a common option; returns -1
 * and fills err when its value is missing. */
int cli_common_opt(struct cli_common *c, int argc, char **argv, int *i,
		   struct nd_err *err);

/* The value of option `name` at argv[*i], written "--name=value" or
 * "--name value" (then *i is advanced to the value).  NULL when argv[*i] is
 * not that option, or, with *missing set to 1, when the value is missing. */
const char *cli_opt_value(int argc, char **argv, int *i, const char *name, int *missing);

/* Text for --help listing the common options. */
extern const char cli_common_help[];

/* Defaults, then --config, then --host, then --host-profile, then each --set / --seed,
 * then validation. */
int cli_load(const struct cfg_bundle *b, const struct cli_common *c,
	     struct nd_err *err);

/* "128k" -> 131072: k, m, g (either case, optionally followed by B or iB)
 * are powers of 1024.  Returns 0, -EINVAL (not a size) or -ERANGE. */
int cli_parse_size(const char *s, uint64_t *out);

/* Prints "ndpsim: <msg>" to stderr and returns the exit code for err. */
int cli_error(const struct nd_err *err);

/* Prints "ndpsim <sub>: <msg>\nTry 'ndpsim <sub> --help'." and returns 2. */
int cli_usage_error(const char *sub, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The top-level section (seed, threads) lives in hostif/runparams.h. */

/* Applies run_params (omp_set_num_threads) before work starts. */
void cli_apply_run(const struct run_params *r);

#endif
