build-clang/ssdsim/power.o: ssdsim/power.c ssdsim/power_int.h \
  ssdsim/ssd_int.h ssdsim/ssd.h core/cfg.h core/err.h core/energy.h \
  core/evq.h ssdsim/power.h core/rng.h /usr/include/cjson/cJSON.h \
  core/report.h core/util.h

ssdsim/power_int.h:

ssdsim/ssd_int.h:

ssdsim/ssd.h:

core/cfg.h:

core/err.h:

core/energy.h:

core/evq.h:

ssdsim/power.h:

core/rng.h:

/usr/include/cjson/cJSON.h:

core/report.h:

core/util.h:
