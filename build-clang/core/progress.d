build-clang/core/progress.o: core/progress.c core/progress.h core/util.h

core/progress.h:

core/util.h:
