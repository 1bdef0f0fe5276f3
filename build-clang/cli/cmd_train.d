build-clang/cli/cmd_train.o: cli/cmd_train.c /usr/include/cjson/cJSON.h \
  cli/cli.h core/cfg.h core/err.h hostif/runparams.h cli/cmds.h \
  core/report.h core/util.h hostif/host.h ndp/train.h core/energy.h \
  ssdsim/ssd.h core/evq.h ssdsim/power.h workloads/idx.h \
  workloads/model.h workloads/sgd.h ndp/ndp.h

/usr/include/cjson/cJSON.h:

cli/cli.h:

core/cfg.h:

core/err.h:

hostif/runparams.h:

cli/cmds.h:

core/report.h:

core/util.h:

hostif/host.h:

ndp/train.h:

core/energy.h:

ssdsim/ssd.h:

core/evq.h:

ssdsim/power.h:

workloads/idx.h:

workloads/model.h:

workloads/sgd.h:

ndp/ndp.h:
