build-clang/core/cfg.o: core/cfg.c core/cfg.h core/err.h \
  /usr/include/cjson/cJSON.h core/file.h core/util.h

core/cfg.h:

core/err.h:

/usr/include/cjson/cJSON.h:

core/file.h:

core/util.h:
