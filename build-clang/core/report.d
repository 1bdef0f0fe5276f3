build-clang/core/report.o: core/report.c core/report.h core/err.h \
  /usr/include/cjson/cJSON.h core/cfg.h core/util.h core/version.h

core/report.h:

core/err.h:

/usr/include/cjson/cJSON.h:

core/cfg.h:

core/util.h:

core/version.h:
