build-clang/core/hist.o: core/hist.c core/hist.h

core/hist.h:
