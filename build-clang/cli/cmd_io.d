build-clang/cli/cmd_io.o: cli/cmd_io.c cli/cli.h core/cfg.h core/err.h \
  hostif/runparams.h cli/cmds.h core/hist.h core/util.h hostif/io.h

cli/cli.h:

core/cfg.h:

core/err.h:

hostif/runparams.h:

cli/cmds.h:

core/hist.h:

core/util.h:

hostif/io.h:
