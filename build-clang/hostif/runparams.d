build-clang/hostif/runparams.o: hostif/runparams.c hostif/runparams.h \
  core/cfg.h core/err.h

hostif/runparams.h:

core/cfg.h:

core/err.h:
