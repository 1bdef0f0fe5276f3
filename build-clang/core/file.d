build-clang/core/file.o: core/file.c core/file.h core/err.h core/util.h

core/file.h:

core/err.h:

core/util.h:
