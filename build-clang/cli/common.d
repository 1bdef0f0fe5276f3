build-clang/cli/common.o: cli/common.c cli/cli.h core/cfg.h core/err.h \
  hostif/runparams.h core/util.h

cli/cli.h:

core/cfg.h:

core/err.h:

hostif/runparams.h:

core/util.h:
