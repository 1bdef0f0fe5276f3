build-clang/cli/cmd_train.o: cli/cmd_train.c /usr/include/cjson/cJSON.h \
  cli/cli.h core/cfg.h core/err.h cli/cmds.h core/report.h core/util.h \
  ndp/ihp.h ndp/train.h core/energy.h ssdsim/ssd.h core/evq.h \
  workloads/idx.h workloads/model.h ndp/ndp.h

/usr/include/cjson/cJSON.h:

cli/cli.h:

core/cfg.h:

core/err.h:

cli/cmds.h:

core/report.h:

core/util.h:

ndp/ihp.h:

ndp/train.h:

core/energy.h:

ssdsim/ssd.h:

core/evq.h:

workloads/idx.h:

workloads/model.h:

ndp/ndp.h:
