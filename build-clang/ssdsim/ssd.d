build-clang/ssdsim/ssd.o: ssdsim/ssd.c ssdsim/ssd.h core/cfg.h core/err.h \
  core/energy.h core/evq.h core/rng.h core/util.h

ssdsim/ssd.h:

core/cfg.h:

core/err.h:

core/energy.h:

core/evq.h:

core/rng.h:

core/util.h:
