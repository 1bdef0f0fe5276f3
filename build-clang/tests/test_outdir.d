build-clang/tests/test_outdir: tests/test_outdir.c core/outdir.h \
  core/err.h tests/common/tutil.h

core/outdir.h:

core/err.h:

tests/common/tutil.h:
