/*
 * registry.h — the one table of ndpsim's commands and every config section.
 *
 * Each command is one row of cli_cmds[] (cli/registry.c): its name, its
 * function, its line in `ndpsim --help`, the config sections it loads (in
 * the order it loads them, which is the order of the `config` object of its
 * report.json and so of a sweep point's hash) and, when a grid may name it,
 * how (`sweep_as`: "ssd", "xbar eval").  `ndpsim --help`, every command's
 * config loading (cli_bundle_cmd), `ndpsim sweep` and `ndpsim config --for`
 * read this table, so a section list lives in one place only.
 */
#ifndef ND_REGISTRY_H
#define ND_REGISTRY_H
#include <stddef.h>

#include "core/cfg.h"

#define CLI_MAX_SECTIONS 12

struct cli_cmd {
	const char *name;                  /* argv[1]: "ssd", "xbar" */
	int (*fn)(int argc, char **argv);  /* argv[0] is name */
	const char *help;                  /* one line for ndpsim --help */
	/* NULL-terminated, in load order; NULL first: the command reads no config */
	const struct cfg_section *sections[CLI_MAX_SECTIONS];
	/* how a sweep grid names it (words after the first are leading
	 * arguments: "xbar eval"); NULL when it cannot run a sweep point */
	const char *sweep_as;
};

extern const struct cli_cmd cli_cmds[];
extern const size_t cli_ncmds;

/* The row of command name (argv[1]), or NULL. */
const struct cli_cmd *cli_cmd_find(const char *name);

/* Storage a command offers for a section's parameters. */
struct cli_param {
	const struct cfg_section *sec;
	void *params;
};

/* Fills b with the sections of command name, in table order, each with the
 * params pointer that pool gives for it.  pool must hold exactly the row's
 * sections, in any order (anything else is a bug in the command: assert). */
void cli_bundle_cmd(struct cfg_bundle *b, const char *name, const struct cli_param *pool,
		    size_t npool);

/* Fills b with every section, each with freshly allocated params (free with
 * cli_bundle_free): for commands that need the whole configuration (config
 * --dump, calibrate). */
void cli_bundle_all(struct cfg_bundle *b);
/* Fills b with the sections of cmd, each with freshly allocated params. */
void cli_bundle_alloc(struct cfg_bundle *b, const struct cli_cmd *cmd);
void cli_bundle_free(struct cfg_bundle *b);

/* Every registered section, NULL-terminated (for tests and messages). */
extern const struct cfg_section *const cli_all_sections[];
#endif
