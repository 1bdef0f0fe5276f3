build-clang/cli/cmd_ssd.o: cli/cmd_ssd.c /usr/include/cjson/cJSON.h \
  cli/cli.h core/cfg.h core/err.h hostif/runparams.h cli/cmds.h \
  core/report.h ssdsim/run.h core/energy.h core/hist.h ssdsim/ssd.h \
  core/evq.h ssdsim/power.h workloads/synth.h core/rng.h \
  workloads/trace.h

/usr/include/cjson/cJSON.h:

cli/cli.h:

core/cfg.h:

core/err.h:

hostif/runparams.h:

cli/cmds.h:

core/report.h:

ssdsim/run.h:

core/energy.h:

core/hist.h:

ssdsim/ssd.h:

core/evq.h:

ssdsim/power.h:

workloads/synth.h:

core/rng.h:

workloads/trace.h:
