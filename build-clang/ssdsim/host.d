build-clang/ssdsim/host.o: ssdsim/host.c ssdsim/ssd_int.h ssdsim/ssd.h \
  core/cfg.h core/err.h core/energy.h core/evq.h ssdsim/power.h \
  core/rng.h ssdsim/power_int.h core/util.h

ssdsim/ssd_int.h:

ssdsim/ssd.h:

core/cfg.h:

core/err.h:

core/energy.h:

core/evq.h:

ssdsim/power.h:

core/rng.h:

ssdsim/power_int.h:

core/util.h:
