build-clang/hostif/ndram.o: hostif/ndram.c hostif/ndram.h core/cfg.h \
  core/err.h core/energy.h core/util.h workloads/sgd.h workloads/model.h \
  workloads/idx.h

hostif/ndram.h:

core/cfg.h:

core/err.h:

core/energy.h:

core/util.h:

workloads/sgd.h:

workloads/model.h:

workloads/idx.h:
