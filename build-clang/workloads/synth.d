build-clang/workloads/synth.o: workloads/synth.c workloads/synth.h \
  core/cfg.h core/err.h core/rng.h workloads/trace.h

workloads/synth.h:

core/cfg.h:

core/err.h:

core/rng.h:

workloads/trace.h:
