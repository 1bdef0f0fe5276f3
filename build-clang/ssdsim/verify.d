build-clang/ssdsim/verify.o: ssdsim/verify.c ssdsim/ssd_int.h \
  ssdsim/ssd.h core/cfg.h core/err.h core/energy.h core/evq.h \
  ssdsim/power.h core/rng.h core/util.h

ssdsim/ssd_int.h:

ssdsim/ssd.h:

core/cfg.h:

core/err.h:

core/energy.h:

core/evq.h:

ssdsim/power.h:

core/rng.h:

core/util.h:
