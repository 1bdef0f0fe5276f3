build-clang/cli/cmd_sweep.o: cli/cmd_sweep.c /usr/include/cjson/cJSON.h \
  cli/cli.h core/cfg.h core/err.h hostif/runparams.h cli/cmds.h \
  cli/sweep.h core/report.h core/util.h

/usr/include/cjson/cJSON.h:

cli/cli.h:

core/cfg.h:

core/err.h:

hostif/runparams.h:

cli/cmds.h:

cli/sweep.h:

core/report.h:

core/util.h:
