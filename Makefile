# ndpsim — build, test, run.
#   make run        install missing packages, build, run the main job
#   make check      install missing packages, build, run every test suite
#   make check SANITIZE=1   the same under AddressSanitizer + UBSan
#   make bench      benchmarks (bench/README.md records the figures)
#   make WERROR=1   warnings are errors (CI)     make OPENMP=0   no OpenMP
#   make MPI=1      build with mpicc into build-mpi/ (ndpsim sweep under mpirun)
#   make CC=clang   the same with clang into build-clang/ (CI builds both)

CC      ?= cc
OPENMP  ?= 1
SANITIZE ?= 0
WERROR  ?= 0
MPI     ?= 0

# Debian packages the project needs (make deps installs the missing ones).
DEB_PKGS := libcjson-dev liburing-dev libaio-dev check zlib1g-dev pkg-config \
            gnuplot-nox dataset-fashion-mnist

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wdouble-promotion -Wformat=2 -Wpointer-arith -Wundef -Wvla \
        -Wold-style-definition -Wno-unused-parameter
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE $(WARN) -I. $(shell pkg-config --cflags libcjson 2>/dev/null)
LDLIBS  := $(shell pkg-config --libs libcjson liburing 2>/dev/null || echo -lcjson -luring) -laio -lz -lm -lpthread
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lm)

BUILD := build
# CC=clang: a second compiler with the same warnings, in build-clang/
# (make deps then also installs clang and LLVM's OpenMP runtime).
ifneq ($(findstring clang,$(CC)),)
  BUILD := build-clang
  DEB_PKGS += clang libomp-dev
endif
ifeq ($(SANITIZE),1)
  BUILD := $(BUILD)-san
  CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(OPENMP),1)
  CFLAGS += -fopenmp
  LDFLAGS += -fopenmp
endif
ifeq ($(WERROR),1)
  CFLAGS += -Werror
endif
# MPI=1: OpenMPI from Debian (make deps-mpi installs it; objects wait for it).
MPI_DEPS :=
ifeq ($(MPI),1)
  CC := mpicc
  CFLAGS += -DNDPSIM_MPI
  BUILD := $(BUILD)-mpi
  MPI_DEPS := deps-mpi
endif

MODULES := core workloads ssdsim ndp analog hostif
LIB_SRC := $(foreach m,$(MODULES),$(wildcard $(m)/*.c))
CLI_SRC := $(wildcard cli/*.c)
TEST_SRC := $(wildcard tests/test_*.c)
BENCH_SRC := $(wildcard bench/bench_*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
TEST_COMMON := $(wildcard tests/common/*.c)
# Tests and benchmarks link the CLI layer too (all of it but main()).
TEST_COMMON_OBJ := $(TEST_COMMON:%.c=$(BUILD)/%.o) $(filter-out $(BUILD)/cli/main.o,$(CLI_OBJ))

LIB := $(BUILD)/libndpsim.a
BIN := $(BUILD)/ndpsim

.PHONY: all deps deps-mpi run check bench clean distclean
all: $(BIN) ndpsim

ndpsim: $(BIN)
	@ln -sf $(BIN) ndpsim

# Installs missing Debian packages when root, otherwise names the command.
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "make deps: installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	  else \
	    echo "make deps: missing packages; run: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

deps-mpi:
	@$(MAKE) --no-print-directory deps DEB_PKGS="$(DEB_PKGS) libopenmpi-dev openmpi-bin"

$(BUILD)/%.o: %.c | $(MPI_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(LIB) $(TEST_COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -MMD -MP -o $@ $< $(TEST_COMMON_OBJ) $(LIB) $(LDLIBS) $(CHECK_LIBS)

$(BUILD)/bench/%: bench/%.c $(LIB) $(TEST_COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -MMD -MP -o $@ $< $(filter-out $(BUILD)/tests/%,$(TEST_COMMON_OBJ)) $(BUILD)/tests/common/tu_load.o $(LIB) $(LDLIBS)

run: deps
	$(MAKE) -j$$(nproc 2>/dev/null || echo 2) all
	./$(BIN) run

check: deps $(BIN) $(TEST_BIN)
	@NDPSIM_BIN=$(BIN) sh tests/run-all.sh $(TEST_BIN)

bench: deps $(BIN) $(BENCH_BIN)
	@for b in $(BENCH_BIN); do $$b || exit 1; done

clean:
	rm -rf build build-san build-mpi build-san-mpi build-clang build-clang-san build-clang-mpi ndpsim

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_BIN:=.d) $(BENCH_BIN:=.d) $(TEST_COMMON_OBJ:.o=.d)
