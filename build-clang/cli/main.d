build-clang/cli/main.o: cli/main.c cli/cmds.h core/version.h

cli/cmds.h:

core/version.h:
