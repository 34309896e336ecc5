# showervae: plain Makefile.
#   make            build the library (static + shared) and the showervae program
#   make test       build and run the Criterion test suite
#   make demo       build and run the demonstration (see README.md)
#   make bench      build and run the benchmark programs in bench/ (make bench-deps: the PyTorch peer)
#   make check-asan the test suite and the input corpus built with AddressSanitizer + UBSan + leak detection
#   make check-crash kill -9 / full-disk consistency; make fuzz FUZZ_SECONDS=N: long fuzzing runs
#   make install    PREFIX=/usr/local DESTDIR= : library, header, pkg-config file, program
#   make clean
# Options: NATIVE=1 adds -march=native (off by default: CI and users' machines differ).
#          BUILD=dir puts objects elsewhere (check-asan uses build-asan).

# The version is written once, in the public header.
VERSION   := $(shell sed -n 's/^\#define SHOWERVAE_VERSION_STRING "\(.*\)"/\1/p' vae/showervae.h)
SOVERSION := $(shell sed -n 's/^\#define SHOWERVAE_VERSION_MAJOR \([0-9]*\)/\1/p' vae/showervae.h)
PREFIX    ?= /usr/local
DESTDIR   ?=
BUILD     ?= build

CC      = gcc
CXX     = g++
# CFLAGS is the user's (optimisation, debug info); the flags the code needs are always added:
# C11, warnings, and the float options the likelihood loops need to vectorise (GCC will not
# if-convert float selects without -fno-trapping-math; -fno-math-errno keeps sqrt inline).
CFLAGS  ?= -O2 -g
REQ_CFLAGS = -std=c11 -Wall -Wextra $(if $(findstring clang,$(CC)),-Wno-pass-failed,-fvect-cost-model=dynamic) -fno-trapping-math -fno-math-errno
ifeq ($(NATIVE),1)
REQ_CFLAGS += -march=native
endif
SAN     ?=
# Libraries found through pkg-config (evaluated late: after tools/deps.sh has run).
# The library needs the first set; the program (evaluation plots) also PLplot.
PKGS     = hdf5 libxml-2.0 libcjson zlib libdeflate nettle
APP_PKGS = plplot lapacke openblas libprotobuf-c ompi-c
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) $(APP_PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
APP_LIBS   = $(shell pkg-config --libs $(APP_PKGS))
CPPFLAGS = -I. -I$(BUILD)/gen -D_POSIX_C_SOURCE=200809L -MMD -MP $(PKG_CFLAGS)
ALLCFLAGS = $(REQ_CFLAGS) $(CFLAGS) $(SAN) -fPIC -fopenmp
LDLIBS  = $(PKG_LIBS) -ldnnl -lm -lpthread
LDFLAGS ?=

# The library is every .c in base/ layers/ physics/ io/ and vae/ itself; the program is
# vae/eval/ (evaluation, plots) and vae/cli/ (commands). A new file joins the side of its
# folder; `make check-arrows` keeps the include arrows pointing down (tools/check-arrows.sh).
LIB_DIRS  := base layers physics io vae
LIB_SRC   := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
APP_SRC   := $(filter-out vae/cli/main.c,$(wildcard vae/eval/*.c vae/cli/*.c vae/export/*.c))
# The ONNX schema (Debian's libonnx-dev ships onnx.proto) compiled by protoc-c for vae/export/.
ONNX_PROTO := /usr/include/onnx/onnx.proto
ONNX_GEN   := $(BUILD)/gen/onnx/onnx.pb-c.c
APP_OBJ   := $(APP_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/onnx/onnx.pb-c.o
CLI_SRC   := vae/cli/main.c
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_SRC  := $(wildcard tests/*.c)
TEST_OBJ  := $(TEST_SRC:%.c=$(BUILD)/%.o)
BENCH_SRC := $(filter-out bench/timing.c,$(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:%.c=$(BUILD)/%)
PUBLIC_H  := vae/showervae.h

STATIC := $(BUILD)/libshowervae.a
APPLIB := $(BUILD)/libshowervae-app.a
SHARED := $(BUILD)/libshowervae.so.$(VERSION)
PROG   := $(BUILD)/showervae
TESTS  := $(BUILD)/test_showervae
DEPS_OK := $(BUILD)/.deps-ok
ORT_DIR := $(CURDIR)/build/ort

.PHONY: all test demo bench bench-build bench-deps ort-deps check-asan check-arrows check-corpus check-crash check-fuzz fuzz fuzz-build install uninstall clean deps examples-check
all: $(STATIC) $(SHARED) $(PROG)

# Debian packages the build needs; installed by tools/deps.sh only when missing.
deps: $(DEPS_OK)
$(DEPS_OK): tools/deps.sh
	@mkdir -p $(@D)
	./tools/deps.sh
	@touch $@

# Objects are rebuilt when the compiler flags change (the stamp holds the last set).
FLAGS_STAMP := $(BUILD)/.flags
$(FLAGS_STAMP): FORCE
	@mkdir -p $(@D)
	@echo '$(CC) $(CPPFLAGS) $(ALLCFLAGS)' | cmp -s - $@ || echo '$(CC) $(CPPFLAGS) $(ALLCFLAGS)' > $@
FORCE:

$(BUILD)/%.o: %.c $(FLAGS_STAMP) | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(EXTRA_DEFS) $(ALLCFLAGS) -c $< -o $@

$(ONNX_GEN): | $(DEPS_OK)
	@mkdir -p $(BUILD)/gen
	protoc-c -I/usr/include --c_out=$(BUILD)/gen $(ONNX_PROTO)
$(ONNX_GEN:.c=.h): $(ONNX_GEN)
$(BUILD)/gen/onnx/onnx.pb-c.o: $(ONNX_GEN) $(FLAGS_STAMP)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) -w -c $< -o $@
$(BUILD)/vae/export/onnx.o: $(ONNX_GEN:.c=.h)

$(STATIC): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(SHARED): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libshowervae.so.$(SOVERSION) $(SAN) -fopenmp $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(APPLIB): $(APP_OBJ)
	rm -f $@
	ar rcs $@ $^

$(PROG): $(CLI_OBJ) $(APPLIB) $(STATIC)
	$(CC) $(SAN) -fopenmp $(LDFLAGS) -o $@ $^ $(APP_LIBS) $(LDLIBS)

# The CLI tests run the program built beside them.
$(TEST_OBJ): EXTRA_DEFS = -DSV_PROG='"$(PROG)"' -DSV_SRC_DIR='"$(CURDIR)"' -DSV_ORT_MODULES='"$(ORT_DIR)/node_modules"'
$(BUILD)/tests/test_export.o: $(ONNX_GEN:.c=.h)
$(TESTS): $(TEST_OBJ) $(APPLIB) $(STATIC) | $(PROG)
	$(CC) $(SAN) -fopenmp $(LDFLAGS) -o $@ $(TEST_OBJ) $(APPLIB) $(STATIC) -lcriterion $(APP_LIBS) $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(BUILD)/bench/timing.o $(STATIC)
	$(CC) $(SAN) -fopenmp $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The suite runs with 2 OpenMP threads unless OMP_NUM_THREADS says otherwise; then the two
# example hooks are built against an installation in a temporary prefix through pkg-config
# and run on a small model.
# ONNX Runtime (ort-deps) runs the exported ONNX files in tests/test_export.c; when it cannot be
# installed (no network) that test checks the files structurally and says so.
test: $(TESTS) check-arrows
	-@$(MAKE) --no-print-directory ort-deps || echo "make test: ONNX Runtime could not be installed; export tests run without it"
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} ./$(TESTS) --jobs 2
	$(MAKE) --no-print-directory examples-check
	$(MAKE) --no-print-directory check-corpus
	$(MAKE) --no-print-directory check-fuzz

# Fuzzing (libFuzzer, clang): four targets built with ASan and UBSan into build-fuzz/ (tests/fuzz/).
# `make fuzz FUZZ_SECONDS=N` runs each for N seconds and merges what it finds that adds
# coverage into the kept corpus tests/fuzz/corpus/TARGET/; `make check-fuzz` (part of make test)
# replays the kept corpus and fuzzes each target for FUZZ_CHECK_SECONDS. tools/fuzz.sh reports.
FUZZ_TARGETS := fuzz_showers fuzz_model fuzz_xml fuzz_options
FUZZ_SAN = -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_SECONDS ?= 300
FUZZ_CHECK_SECONDS ?= 10
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h tests/fuzz/fuzz_h5.h $(APPLIB) $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(REQ_CFLAGS) $(CFLAGS) -fsanitize=fuzzer $(SAN) -fopenmp $< -o $@ $(APPLIB) $(STATIC) $(APP_LIBS) $(LDLIBS)
fuzz-build:
	$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang CFLAGS="-O1 -g" SAN="$(FUZZ_SAN)" $(FUZZ_TARGETS:%=build-fuzz/fuzz/%)
fuzz: fuzz-build
	LSAN_OPTIONS=suppressions=$(CURDIR)/tools/lsan.supp ./tools/fuzz.sh build-fuzz $(FUZZ_SECONDS) merge $(FUZZ_TARGETS)
check-fuzz: fuzz-build
	LSAN_OPTIONS=suppressions=$(CURDIR)/tools/lsan.supp ./tools/fuzz.sh build-fuzz $(FUZZ_CHECK_SECONDS) keep $(FUZZ_TARGETS)

# The malformed-input corpus (tests/corpus/): made at test time from good files; every command
# that reads a kind of input runs on every item and must refuse it cleanly (run.sh says how).
CORPUS_MK := $(BUILD)/corpus/mkcorpus
$(CORPUS_MK): tests/corpus/mkcorpus.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) -std=c11 -Wall -Wextra -O1 $(SAN) -D_POSIX_C_SOURCE=200809L $(PKG_CFLAGS) $< -o $@ $(PKG_LIBS)
check-corpus: $(PROG) $(CORPUS_MK)
	LSAN_OPTIONS=suppressions=$(CURDIR)/tools/lsan.supp ./tests/corpus/run.sh ./$(PROG) ./$(CORPUS_MK) $(BUILD)/corpus/work

# Crash consistency (tests/crash/run.sh): kill -9 at seeded moments during simulate, generate,
# train and evaluate, resumes, and a full disk (ulimit -f). CRASH_TRIALS kills of each kind.
CRASH_TRIALS ?= 3
check-crash: $(PROG)
	./tests/crash/run.sh ./$(PROG) $(BUILD)/crash $(CRASH_TRIALS)

# The include arrows point down only: base <- layers, physics <- io <- vae <- vae/eval <- vae/cli.
check-arrows:
	@./tools/check-arrows.sh

EX = $(BUILD)/examples
examples-check: all
	rm -rf $(EX) && mkdir -p $(EX)
	$(MAKE) --no-print-directory install PREFIX=$(CURDIR)/$(EX)/prefix > $(EX)/install.log
	PKG_CONFIG_PATH=$(CURDIR)/$(EX)/prefix/lib/pkgconfig sh -c '$(CC) -std=c11 -Wall -Wextra -O2 tests/examples/hook.c \
	    $$(pkg-config --cflags --libs showervae) -lm -Wl,-rpath,$(CURDIR)/$(EX)/prefix/lib -o $(EX)/hook_c && \
	  $(CXX) -std=c++17 -Wall -Wextra -O2 tests/examples/hook.cpp $$(pkg-config --cflags --libs showervae) \
	    -Wl,-rpath,$(CURDIR)/$(EX)/prefix/lib -o $(EX)/hook_cpp'
	./$(PROG) simulate -n 300 -e 1:100 -s 3 -q -o $(EX)/data.h5
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} ./$(PROG) train -d $(EX)/data.h5 -p tiny -e 1 -q -o $(EX)/model.h5
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} ./$(EX)/hook_c $(EX)/model.h5 100 16
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} ./$(EX)/hook_c $(EX)/model.h5 50 16 bf16
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} ./$(EX)/hook_cpp $(EX)/model.h5 100 16

# Criterion records a test as passed before LeakSanitizer reports at the worker's exit, so
# the log is also searched: any sanitizer report fails the target.
ASAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
check-asan:
	$(MAKE) BUILD=build-asan SAN="$(ASAN_FLAGS)" build-asan/test_showervae
	@LSAN_OPTIONS=suppressions=$(CURDIR)/tools/lsan.supp OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} \
	  ./build-asan/test_showervae --jobs 2 >build-asan/test.log 2>&1; \
	st=$$?; cat build-asan/test.log; \
	if grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' build-asan/test.log; then \
	  echo "check-asan: sanitizer reports above (build-asan/test.log)"; exit 1; fi; \
	[ $$st -eq 0 ] || exit $$st
	$(MAKE) --no-print-directory BUILD=build-asan SAN="$(ASAN_FLAGS)" check-corpus

# The performance table first (bench_vae: generation at batch 1/100/10000 and training at
# batch 1024 for bench-ds2 and par04, against the PyTorch peer when `make bench-deps` has
# installed it), then end-to-end generation of 100k showers into HDF5 (bench_e2e), and the
# layer, simulator and I/O benchmarks. About 6 minutes on 2 cores.
bench-build: $(BENCH_BIN)

bench: $(BENCH_BIN) $(PROG)
	@export OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2}; set -e; \
	for b in bench_vae bench_hook "bench_train --dir $(BUILD)/bench-out" "bench_e2e --dir $(BUILD)/bench-out" bench_dense bench_simulate \
	         "bench_io --dir $(BUILD)/bench-out" "bench_mpi --dir $(BUILD)/bench-out --prog $(PROG) --reps 3"; do \
	  echo "== $$b"; ./$(BUILD)/bench/$$b; done

# The peers of bench_vae: Debian's python3-torch (and OpenBLAS so that its eager linear layers
# do not run on the reference BLAS; it also exports the ONNX models), and ONNX Runtime's CPU
# build from npm (onnxruntime-node $(ORT_VERSION), its install script skipped: it only fetches
# GPU parts) into ORT_DIR (build/ort, whatever BUILD is) with node and npm (Debian's, when no node
# is installed).
ORT_VERSION ?= 1.30.0
bench-deps: ort-deps
	SHOWERVAE_PKGS="python3-torch libopenblas0-pthread" ./tools/deps.sh
ort-deps:
	command -v npm >/dev/null 2>&1 || SHOWERVAE_PKGS="nodejs npm" ./tools/deps.sh
	test -d $(ORT_DIR)/node_modules/onnxruntime-node || \
	  npm install --prefix $(ORT_DIR) --no-audit --no-fund --ignore-scripts onnxruntime-node@$(ORT_VERSION)

# The demonstration: simulate a small ds2 dataset with the built-in simulator, train the
# default model on it for a few epochs, generate as many showers, inspect the files and
# evaluate the generated showers against the simulated ones (report in demo-out/report/).
# Outputs in demo-out/ (DEMO_EPOCHS=5: about 2 minutes of training on 2 cores).
DEMO_OUT ?= demo-out
DEMO_EPOCHS ?= 5
demo: $(PROG)
	@mkdir -p $(DEMO_OUT)
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} ./$(PROG) simulate --geometry ds2 --n 10000 --energy 1:1000 \
	    --seed 1 --force -o $(DEMO_OUT)/showers.h5
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} ./$(PROG) train -d $(DEMO_OUT)/showers.h5 --preset default \
	    --epochs $(DEMO_EPOCHS) --seed 1 --force -o $(DEMO_OUT)/model.h5
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} ./$(PROG) generate -m $(DEMO_OUT)/model.h5 \
	    --energies-from $(DEMO_OUT)/showers.h5 --seed 2 --force -o $(DEMO_OUT)/generated.h5
	./$(PROG) inspect -q $(DEMO_OUT)/model.h5
	./$(PROG) inspect -q $(DEMO_OUT)/showers.h5
	./$(PROG) inspect -q $(DEMO_OUT)/generated.h5
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} ./$(PROG) evaluate -g $(DEMO_OUT)/generated.h5 -r $(DEMO_OUT)/showers.h5 \
	    --protocol quick --cls-epochs 10 --force -o $(DEMO_OUT)/report
	@echo "demo: simulated showers $(DEMO_OUT)/showers.h5, model $(DEMO_OUT)/model.h5, generated showers $(DEMO_OUT)/generated.h5"
	@echo "demo: evaluation report $(DEMO_OUT)/report/index.html (metrics in $(DEMO_OUT)/report/metrics.json)"

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin \
	           $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(STATIC) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(SHARED) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libshowervae.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libshowervae.so.$(SOVERSION)
	ln -sf libshowervae.so.$(SOVERSION) $(DESTDIR)$(PREFIX)/lib/libshowervae.so
	install -m 644 $(PUBLIC_H) $(DESTDIR)$(PREFIX)/include/
	install -m 755 $(PROG) $(DESTDIR)$(PREFIX)/bin/
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
	  'Name: showervae' 'Description: calorimeter shower VAE: training and fast generation' \
	  'Version: $(VERSION)' 'Libs: -L$${libdir} -lshowervae' \
	  'Libs.private: $(PKG_LIBS) -ldnnl -lm -fopenmp' 'Cflags: -I$${includedir}' \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/showervae.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/libshowervae.* $(DESTDIR)$(PREFIX)/include/showervae.h \
	      $(DESTDIR)$(PREFIX)/bin/showervae $(DESTDIR)$(PREFIX)/lib/pkgconfig/showervae.pc

clean:
	rm -rf $(BUILD) build-asan build-fuzz $(DEMO_OUT)

-include $(wildcard $(BUILD)/*/*.d $(BUILD)/*/*/*.d)
