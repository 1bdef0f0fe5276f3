build-clang/hostif/calib.o: hostif/calib.c hostif/calib.h core/err.h \
  hostif/host.h core/cfg.h ndp/train.h core/energy.h ssdsim/ssd.h \
  core/evq.h ssdsim/power.h workloads/idx.h workloads/model.h \
  workloads/sgd.h workloads/bnn.h /usr/include/cjson/cJSON.h \
  core/report.h core/util.h core/version.h hostif/io.h core/hist.h \
  workloads/bnn_dp.h

hostif/calib.h:

core/err.h:

hostif/host.h:

core/cfg.h:

ndp/train.h:

core/energy.h:

ssdsim/ssd.h:

core/evq.h:

ssdsim/power.h:

workloads/idx.h:

workloads/model.h:

workloads/sgd.h:

workloads/bnn.h:

/usr/include/cjson/cJSON.h:

core/report.h:

core/util.h:

core/version.h:

hostif/io.h:

core/hist.h:

workloads/bnn_dp.h:
