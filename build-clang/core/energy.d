build-clang/core/energy.o: core/energy.c core/energy.h \
  /usr/include/cjson/cJSON.h core/report.h core/err.h core/util.h

core/energy.h:

/usr/include/cjson/cJSON.h:

core/report.h:

core/err.h:

core/util.h:
