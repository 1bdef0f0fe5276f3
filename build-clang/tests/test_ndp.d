build-clang/tests/test_ndp: tests/test_ndp.c cli/cli.h core/cfg.h \
  core/err.h hostif/runparams.h core/util.h hostif/host.h ndp/train.h \
  core/energy.h ssdsim/ssd.h core/evq.h ssdsim/power.h workloads/idx.h \
  workloads/model.h workloads/sgd.h ndp/ndp.h tests/common/tutil.h

cli/cli.h:

core/cfg.h:

core/err.h:

hostif/runparams.h:

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

tests/common/tutil.h:
