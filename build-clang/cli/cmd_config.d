build-clang/cli/cmd_config.o: cli/cmd_config.c /usr/include/cjson/cJSON.h \
  cli/cli.h core/cfg.h core/err.h hostif/runparams.h cli/cmds.h \
  cli/registry.h

/usr/include/cjson/cJSON.h:

cli/cli.h:

core/cfg.h:

core/err.h:

hostif/runparams.h:

cli/cmds.h:

cli/registry.h:
