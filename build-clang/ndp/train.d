build-clang/ndp/train.o: ndp/train.c ndp/train.h core/cfg.h core/err.h \
  core/energy.h ssdsim/ssd.h core/evq.h ssdsim/power.h workloads/idx.h \
  workloads/model.h workloads/sgd.h /usr/include/cjson/cJSON.h \
  core/report.h core/rng.h core/util.h

ndp/train.h:

core/cfg.h:

core/err.h:

core/energy.h:

ssdsim/ssd.h:

core/evq.h:

ssdsim/power.h:

workloads/idx.h:

workloads/model.h:

workloads/sgd.h:

/usr/include/cjson/cJSON.h:

core/report.h:

core/rng.h:

core/util.h:
