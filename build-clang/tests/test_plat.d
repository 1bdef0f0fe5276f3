build-clang/tests/test_plat: tests/test_plat.c core/util.h hostif/host.h \
  core/cfg.h core/err.h ndp/train.h core/energy.h ssdsim/ssd.h \
  core/evq.h ssdsim/power.h workloads/idx.h workloads/model.h \
  workloads/sgd.h hostif/platform.h hostif/runparams.h \
  tests/common/tutil.h

core/util.h:

hostif/host.h:

core/cfg.h:

core/err.h:

ndp/train.h:

core/energy.h:

ssdsim/ssd.h:

core/evq.h:

ssdsim/power.h:

workloads/idx.h:

workloads/model.h:

workloads/sgd.h:

hostif/platform.h:

hostif/runparams.h:

tests/common/tutil.h:
