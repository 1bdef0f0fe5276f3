build-clang/ndp/ihp.o: ndp/ihp.c ndp/ihp.h core/cfg.h core/err.h \
  ndp/train.h core/energy.h ssdsim/ssd.h core/evq.h workloads/idx.h \
  workloads/model.h core/progress.h core/util.h

ndp/ihp.h:

core/cfg.h:

core/err.h:

ndp/train.h:

core/energy.h:

ssdsim/ssd.h:

core/evq.h:

workloads/idx.h:

workloads/model.h:

core/progress.h:

core/util.h:
