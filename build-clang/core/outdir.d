build-clang/core/outdir.o: core/outdir.c core/outdir.h core/err.h \
  core/report.h

core/outdir.h:

core/err.h:

core/report.h:
