build-clang/ssdsim/params.o: ssdsim/params.c core/util.h ssdsim/ssd.h \
  core/cfg.h core/err.h core/energy.h core/evq.h ssdsim/power.h

core/util.h:

ssdsim/ssd.h:

core/cfg.h:

core/err.h:

core/energy.h:

core/evq.h:

ssdsim/power.h:
