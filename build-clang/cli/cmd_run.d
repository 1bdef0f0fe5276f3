build-clang/cli/cmd_run.o: cli/cmd_run.c /usr/include/cjson/cJSON.h \
  analog/xbar.h core/cfg.h core/err.h core/energy.h workloads/bnn.h \
  workloads/idx.h cli/cli.h hostif/runparams.h cli/cmds.h core/report.h \
  hostif/compare.h hostif/platform.h ndp/train.h ssdsim/ssd.h core/evq.h \
  ssdsim/power.h workloads/model.h workloads/sgd.h hostif/ndram.h \
  hostif/host.h ndp/ndp.h

/usr/include/cjson/cJSON.h:

analog/xbar.h:

core/cfg.h:

core/err.h:

core/energy.h:

workloads/bnn.h:

workloads/idx.h:

cli/cli.h:

hostif/runparams.h:

cli/cmds.h:

core/report.h:

hostif/compare.h:

hostif/platform.h:

ndp/train.h:

ssdsim/ssd.h:

core/evq.h:

ssdsim/power.h:

workloads/model.h:

workloads/sgd.h:

hostif/ndram.h:

hostif/host.h:

ndp/ndp.h:
