build-clang/workloads/trace.o: workloads/trace.c workloads/trace.h \
  core/err.h core/file.h core/util.h

workloads/trace.h:

core/err.h:

core/file.h:

core/util.h:
