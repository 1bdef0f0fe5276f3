build-clang/workloads/idx.o: workloads/idx.c workloads/idx.h core/err.h \
  core/file.h core/util.h

workloads/idx.h:

core/err.h:

core/file.h:

core/util.h:
