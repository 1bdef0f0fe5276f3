build-clang/tests/test_run: tests/test_run.c /usr/include/cjson/cJSON.h \
  core/util.h tests/common/tutil.h workloads/idx.h core/err.h

/usr/include/cjson/cJSON.h:

core/util.h:

tests/common/tutil.h:

workloads/idx.h:

core/err.h:
