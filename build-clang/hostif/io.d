build-clang/hostif/io.o: hostif/io.c hostif/io.h core/err.h core/hist.h \
  core/file.h core/util.h

hostif/io.h:

core/err.h:

core/hist.h:

core/file.h:

core/util.h:
