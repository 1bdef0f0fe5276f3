build-clang/hostif/platform.o: hostif/platform.c hostif/platform.h \
  core/energy.h core/err.h hostif/runparams.h core/cfg.h ndp/train.h \
  ssdsim/ssd.h core/evq.h ssdsim/power.h workloads/idx.h \
  workloads/model.h workloads/sgd.h core/util.h hostif/compare.h \
  hostif/host.h ssdsim/run.h core/hist.h workloads/synth.h core/rng.h \
  workloads/trace.h

hostif/platform.h:

core/energy.h:

core/err.h:

hostif/runparams.h:

core/cfg.h:

ndp/train.h:

ssdsim/ssd.h:

core/evq.h:

ssdsim/power.h:

workloads/idx.h:

workloads/model.h:

workloads/sgd.h:

core/util.h:

hostif/compare.h:

hostif/host.h:

ssdsim/run.h:

core/hist.h:

workloads/synth.h:

core/rng.h:

workloads/trace.h:
