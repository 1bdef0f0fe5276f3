build-clang/ndp/params.o: ndp/params.c ndp/ndp.h core/cfg.h core/err.h \
  ndp/train.h core/energy.h ssdsim/ssd.h core/evq.h ssdsim/power.h \
  workloads/idx.h workloads/model.h workloads/sgd.h

ndp/ndp.h:

core/cfg.h:

core/err.h:

ndp/train.h:

core/energy.h:

ssdsim/ssd.h:

core/evq.h:

ssdsim/power.h:

workloads/idx.h:

workloads/model.h:

workloads/sgd.h:
