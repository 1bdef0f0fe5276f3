build-clang/cli/cmd_calibrate.o: cli/cmd_calibrate.c \
  /usr/include/cjson/cJSON.h cli/cli.h core/cfg.h core/err.h \
  hostif/runparams.h cli/cmds.h cli/registry.h core/report.h core/util.h \
  hostif/calib.h hostif/host.h ndp/train.h core/energy.h ssdsim/ssd.h \
  core/evq.h ssdsim/power.h workloads/idx.h workloads/model.h \
  workloads/sgd.h workloads/bnn.h hostif/io.h core/hist.h

/usr/include/cjson/cJSON.h:

cli/cli.h:

core/cfg.h:

core/err.h:

hostif/runparams.h:

cli/cmds.h:

cli/registry.h:

core/report.h:

core/util.h:

hostif/calib.h:

hostif/host.h:

ndp/train.h:

core/energy.h:

ssdsim/ssd.h:

core/evq.h:

ssdsim/power.h:

workloads/idx.h:

workloads/model.h:

workloads/sgd.h:

workloads/bnn.h:

hostif/io.h:

core/hist.h:
