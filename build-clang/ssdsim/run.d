build-clang/ssdsim/run.o: ssdsim/run.c ssdsim/run.h core/energy.h \
  core/hist.h ssdsim/ssd.h core/cfg.h core/err.h core/evq.h \
  ssdsim/power.h workloads/synth.h core/rng.h workloads/trace.h \
  /usr/include/cjson/cJSON.h core/progress.h core/report.h core/util.h

ssdsim/run.h:

core/energy.h:

core/hist.h:

ssdsim/ssd.h:

core/cfg.h:

core/err.h:

core/evq.h:

ssdsim/power.h:

workloads/synth.h:

core/rng.h:

workloads/trace.h:

/usr/include/cjson/cJSON.h:

core/progress.h:

core/report.h:

core/util.h:
