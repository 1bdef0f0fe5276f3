build-clang/hostif/memplat.o: hostif/memplat.c hostif/memplat.h \
  core/err.h hostif/ndram.h core/cfg.h core/energy.h ndp/ihp.h \
  ndp/train.h ssdsim/ssd.h core/evq.h workloads/idx.h workloads/model.h \
  core/util.h ssdsim/run.h core/hist.h workloads/synth.h core/rng.h \
  workloads/trace.h

hostif/memplat.h:

core/err.h:

hostif/ndram.h:

core/cfg.h:

core/energy.h:

ndp/ihp.h:

ndp/train.h:

ssdsim/ssd.h:

core/evq.h:

workloads/idx.h:

workloads/model.h:

core/util.h:

ssdsim/run.h:

core/hist.h:

workloads/synth.h:

core/rng.h:

workloads/trace.h:
