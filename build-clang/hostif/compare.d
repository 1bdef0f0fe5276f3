build-clang/hostif/compare.o: hostif/compare.c hostif/compare.h \
  core/cfg.h core/err.h core/energy.h hostif/platform.h \
  hostif/runparams.h ndp/train.h ssdsim/ssd.h core/evq.h ssdsim/power.h \
  workloads/idx.h workloads/model.h workloads/sgd.h \
  /usr/include/cjson/cJSON.h analog/xbar.h workloads/bnn.h \
  core/progress.h core/report.h core/util.h hostif/host.h hostif/ndram.h \
  ndp/ndp.h ssdsim/run.h core/hist.h workloads/synth.h core/rng.h \
  workloads/trace.h

hostif/compare.h:

core/cfg.h:

core/err.h:

core/energy.h:

hostif/platform.h:

hostif/runparams.h:

ndp/train.h:

ssdsim/ssd.h:

core/evq.h:

ssdsim/power.h:

workloads/idx.h:

workloads/model.h:

workloads/sgd.h:

/usr/include/cjson/cJSON.h:

analog/xbar.h:

workloads/bnn.h:

core/progress.h:

core/report.h:

core/util.h:

hostif/host.h:

hostif/ndram.h:

ndp/ndp.h:

ssdsim/run.h:

core/hist.h:

workloads/synth.h:

core/rng.h:

workloads/trace.h:
