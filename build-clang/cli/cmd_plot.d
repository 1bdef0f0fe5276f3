build-clang/cli/cmd_plot.o: cli/cmd_plot.c /usr/include/cjson/cJSON.h \
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
