build-clang/tests/test_cfg: tests/test_cfg.c /usr/include/cjson/cJSON.h \
  cli/cli.h core/cfg.h core/err.h hostif/runparams.h cli/registry.h \
  ssdsim/ssd.h core/energy.h core/evq.h ssdsim/power.h \
  tests/common/tutil.h workloads/synth.h core/rng.h workloads/trace.h

/usr/include/cjson/cJSON.h:

cli/cli.h:

core/cfg.h:

core/err.h:

hostif/runparams.h:

cli/registry.h:

ssdsim/ssd.h:

core/energy.h:

core/evq.h:

ssdsim/power.h:

tests/common/tutil.h:

workloads/synth.h:

core/rng.h:

workloads/trace.h:
