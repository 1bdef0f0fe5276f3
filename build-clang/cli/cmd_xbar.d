build-clang/cli/cmd_xbar.o: cli/cmd_xbar.c /usr/include/cjson/cJSON.h \
  analog/gbo.h analog/xbar.h core/cfg.h core/err.h core/energy.h \
  workloads/bnn.h workloads/idx.h cli/cli.h hostif/runparams.h \
  cli/cmds.h core/progress.h core/report.h core/util.h

/usr/include/cjson/cJSON.h:

analog/gbo.h:

analog/xbar.h:

core/cfg.h:

core/err.h:

core/energy.h:

workloads/bnn.h:

workloads/idx.h:

cli/cli.h:

hostif/runparams.h:

cli/cmds.h:

core/progress.h:

core/report.h:

core/util.h:
