build-clang/tests/test_calib: tests/test_calib.c \
  /usr/include/cjson/cJSON.h cli/cli.h core/cfg.h core/err.h \
  hostif/runparams.h cli/registry.h core/util.h hostif/calib.h \
  hostif/host.h ndp/train.h core/energy.h ssdsim/ssd.h core/evq.h \
  ssdsim/power.h workloads/idx.h workloads/model.h workloads/sgd.h \
  workloads/bnn.h hostif/io.h core/hist.h workloads/bnn_dp.h \
  tests/common/tutil.h

/usr/include/cjson/cJSON.h:

cli/cli.h:

core/cfg.h:

core/err.h:

hostif/runparams.h:

cli/registry.h:

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

workloads/bnn_dp.h:

tests/common/tutil.h:
