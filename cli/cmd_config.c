/* cmd_config.c — `ndpsim config`: the resolved configuration. */
#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/registry.h"

static const char help[] =
	"usage: ndpsim config [--for COMMAND] [--dump] [--config FILE] [--set KEY=VALUE]...\n"
	"Prints the fully resolved configuration (defaults < --config < --set) as JSON.\n"
	"  --for COMMAND    only the sections COMMAND loads (run, ssd, train, xbar), checked\n"
	"                   exactly as COMMAND checks them: a key it does not read is unknown\n"
	"  --dump           list every key with its value, unit, range and description\n"
	"  --config FILE    JSON config applied over the built-in defaults\n"
	"  --set KEY=VALUE  override one key (repeatable)\n";

int cmd_config(int argc, char **argv)
{
	struct cli_common c = { 0 };
	struct nd_err err = { 0 };
	int dump = 0;
	const char *for_cmd = NULL;
	for (int i = 1; i < argc;) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(help, stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--for")) {
			if (i + 1 >= argc)
				return cli_usage_error("config", "--for needs a command name");
			for_cmd = argv[i + 1];
			i += 2;
			continue;
		}
		if (!strcmp(argv[i], "--dump")) {
			dump = 1;
			i++;
			continue;
		}
		int k = cli_common_opt(&c, argc, argv, &i, &err);
		if (k < 0)
			return cli_usage_error("config", "%s", err.msg);
		if (k == 0)
			return cli_usage_error("config", "unknown option '%s'", argv[i]);
	}
	struct cfg_bundle b;
	if (for_cmd) {
		/* the sections of the command's row: the same bundle, the same
		 * cli_load() and so the same checks as the command itself */
		const struct cli_cmd *cmd = cli_cmd_find(for_cmd);
		if (!cmd || !cmd->sections[0])
			return cli_usage_error("config", "--for %s: not a command that reads a config "
					       "(run, ssd, train, xbar)", for_cmd);
		cli_bundle_alloc(&b, cmd);
	} else {
		cli_bundle_all(&b);
	}
	int rc = cli_load(&b, &c, &err);
	if (rc) {
		cli_bundle_free(&b);
		return cli_error(&err);
	}
	if (dump) {
		cfg_dump_help(&b, stdout);
	} else {
		cJSON *j = cfg_to_json(&b);
		char *t = cJSON_Print(j);
		puts(t);
		free(t);
		cJSON_Delete(j);
	}
	cli_bundle_free(&b);
	return 0;
}
