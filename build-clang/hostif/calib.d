build-clang/hostif/calib.o: hostif/calib.c hostif/calib.h core/err.h \
  ndp/ihp.h core/cfg.h ndp/train.h core/energy.h ssdsim/ssd.h core/evq.h \
  workloads/idx.h workloads/model.h /usr/include/cjson/cJSON.h \
  core/report.h core/util.h core/version.h hostif/io.h core/hist.h

hostif/calib.h:

core/err.h:

ndp/ihp.h:

core/cfg.h:

ndp/train.h:

core/energy.h:

ssdsim/ssd.h:

core/evq.h:

workloads/idx.h:

workloads/model.h:

/usr/include/cjson/cJSON.h:

core/report.h:

core/util.h:

core/version.h:

hostif/io.h:

core/hist.h:
