build-clang/tests/test_sweep: tests/test_sweep.c \
  /usr/include/cjson/cJSON.h cli/sweep.h core/cfg.h core/err.h \
  tests/common/tutil.h

/usr/include/cjson/cJSON.h:

cli/sweep.h:

core/cfg.h:

core/err.h:

tests/common/tutil.h:
