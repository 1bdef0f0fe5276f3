build-clang/cli/registry.o: cli/registry.c cli/registry.h core/cfg.h \
  core/err.h analog/gbo.h analog/xbar.h core/energy.h workloads/bnn.h \
  workloads/idx.h cli/cli.h hostif/runparams.h core/util.h \
  hostif/compare.h hostif/platform.h ndp/train.h ssdsim/ssd.h core/evq.h \
  ssdsim/power.h workloads/model.h workloads/sgd.h hostif/ndram.h \
  hostif/host.h ndp/ndp.h workloads/synth.h core/rng.h workloads/trace.h

cli/registry.h:

core/cfg.h:

core/err.h:

analog/gbo.h:

analog/xbar.h:

core/energy.h:

workloads/bnn.h:

workloads/idx.h:

cli/cli.h:

hostif/runparams.h:

core/util.h:

hostif/compare.h:

hostif/platform.h:

ndp/train.h:

ssdsim/ssd.h:

core/evq.h:

ssdsim/power.h:

workloads/model.h:

workloads/sgd.h:

hostif/ndram.h:

hostif/host.h:

ndp/ndp.h:

workloads/synth.h:

core/rng.h:

workloads/trace.h:
