build-clang/core/evq.o: core/evq.c core/evq.h core/util.h

core/evq.h:

core/util.h:
