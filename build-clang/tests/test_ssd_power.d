build-clang/tests/test_ssd_power: tests/test_ssd_power.c \
  /usr/include/cjson/cJSON.h cli/cli.h core/cfg.h core/err.h \
  hostif/runparams.h core/util.h ssdsim/run.h core/energy.h core/hist.h \
  ssdsim/ssd.h core/evq.h ssdsim/power.h workloads/synth.h core/rng.h \
  workloads/trace.h tests/common/tu_ssd.h tests/common/tutil.h

/usr/include/cjson/cJSON.h:

cli/cli.h:

core/cfg.h:

core/err.h:

hostif/runparams.h:

core/util.h:

ssdsim/run.h:

core/energy.h:

core/hist.h:

ssdsim/ssd.h:

core/evq.h:

ssdsim/power.h:

workloads/synth.h:

core/rng.h:

workloads/trace.h:

tests/common/tu_ssd.h:

tests/common/tutil.h:
