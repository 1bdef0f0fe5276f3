build-clang/tests/common/tu_ssd.o: tests/common/tu_ssd.c \
  tests/common/tu_ssd.h cli/cli.h core/cfg.h core/err.h \
  hostif/runparams.h ssdsim/ssd.h core/energy.h core/evq.h \
  ssdsim/power.h workloads/synth.h core/rng.h workloads/trace.h

tests/common/tu_ssd.h:

cli/cli.h:

core/cfg.h:

core/err.h:

hostif/runparams.h:

ssdsim/ssd.h:

core/energy.h:

core/evq.h:

ssdsim/power.h:

workloads/synth.h:

core/rng.h:

workloads/trace.h:
