# acctdb build.
#
# GNU Make + pkg-config.  One tree of objects per MODE, each in its own
# directory, so a release build and a sanitizer build never share objects:
#
#   make                  release build (-O2, -Werror) in build/release
#   make MODE=asan        AddressSanitizer + UBSan build in build/asan
#   make MODE=tsan        ThreadSanitizer build in build/tsan
#   make demo             install deps, build, run the main job
#   make test             install deps, run every test phase (scripts/test.sh)
#   make fuzz             build libFuzzer targets with clang and run them
#   make bench            build the benchmarks (run them from build/release)
#   make install          PREFIX=/usr/local DESTDIR=
#
# Each src/<module>/module.mk may set per-file flags as
# CFLAGS_<file-basename> (Firedancer's Local.mk idea, kept small).

MODE    ?= release
BUILD   ?= build/$(MODE)
PREFIX  ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0

CC      ?= gcc
ifeq ($(origin CC),default)
CC      := gcc
endif
AR      ?= ar

PKGS      := libzstd liblz4 libcrypto libmicrohttpd json-c libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lzstd -llz4 -lcrypto -lmicrohttpd -ljson-c -lcurl)
LIBS      := $(PKG_LIBS) -lpthread -lm

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter
BASE    := -std=c17 -D_GNU_SOURCE -fPIC -fvisibility=hidden -Iinclude -Isrc $(PKG_CFLAGS)

ifeq ($(MODE),release)
OPT     := -O2 -g
else ifeq ($(MODE),asan)
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
           -fno-sanitize-recover=all -DADB_SANITIZE=1
LDSAN   := -fsanitize=address,undefined
else ifeq ($(MODE),tsan)
OPT     := -O1 -g -fsanitize=thread -DADB_SANITIZE=1
LDSAN   := -fsanitize=thread
else ifeq ($(MODE),fuzz)
CC      := clang
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
           -fno-sanitize-recover=all -DADB_FUZZ=1
LDSAN   := -fsanitize=address,undefined
else
$(error unknown MODE '$(MODE)': release, asan, tsan or fuzz)
endif

CFLAGS  := $(BASE) $(OPT) $(WARN) $(EXTRA_CFLAGS)
LDFLAGS := $(LDSAN) $(EXTRA_LDFLAGS)

# ---- sources -------------------------------------------------------------
MODULES   := util hash store index db snapshot bank api sim net state
LIB_SRCS  := $(sort $(foreach m,$(MODULES),$(wildcard src/$(m)/*.c)))
-include $(wildcard src/*/module.mk)

TOOL_SRCS := $(sort $(wildcard tools/acctdb/*.c))
TEST_SRCS := $(sort $(wildcard tests/*/*.c) tests/test_main.c)
TEST_SRCS := $(filter-out tests/oracle/% tests/data/%,$(TEST_SRCS))
BENCH_SRCS := $(sort $(wildcard bench/bench_*.c))
FUZZ_SRCS := $(sort $(wildcard fuzz/fuzz_*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB_OBJS  := $(call obj,$(LIB_SRCS))
TOOL_OBJS := $(call obj,$(TOOL_SRCS))
TEST_OBJS := $(call obj,$(TEST_SRCS))

LIB_A     := $(BUILD)/libacctdb.a
LIB_SO    := $(BUILD)/libacctdb.so.$(VERSION)
BIN       := $(BUILD)/acctdb
TEST_BIN  := $(BUILD)/acctdb-tests
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/%,$(BENCH_SRCS))
REPLAY_BINS := $(patsubst fuzz/%.c,$(BUILD)/replay/%,$(FUZZ_SRCS))
FUZZ_BINS := $(patsubst fuzz/%.c,$(BUILD)/fuzzer/%,$(FUZZ_SRCS))
EXAMPLE_BINS := $(BUILD)/lthash-from-json

.PHONY: all lib tools tests replay bench bench-deps examples demo test fuzz tsan install \
        uninstall clean deps check format

all: lib tools tests replay examples

lib: $(LIB_A) $(LIB_SO)
tools: $(BIN)
tests: $(TEST_BIN)
replay: $(REPLAY_BINS)
bench: $(BENCH_BINS)
examples: $(EXAMPLE_BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CFLAGS_$(notdir $(basename $<))) -MMD -MP -c $< -o $@

$(LIB_A): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(LIB_SO): $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,libacctdb.so.0 $(LDFLAGS) -o $@ $^ $(LIBS)
	ln -sf libacctdb.so.$(VERSION) $(BUILD)/libacctdb.so.0
	ln -sf libacctdb.so.$(VERSION) $(BUILD)/libacctdb.so

$(BIN): $(TOOL_OBJS) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $(TOOL_OBJS) $(LIB_A) $(LIBS)

$(TEST_BIN): $(TEST_OBJS) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $(TEST_OBJS) $(LIB_A) -lcmocka -lcjson $(LIBS)

$(BUILD)/bench_%: $(BUILD)/obj/bench/bench_%.o $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB_A) $(LIBS)

# bench_db runs the same trace on LMDB, RocksDB and SQLite: only it links
# them, and building it first installs them (scripts/deps.sh bench; a no-op
# when present).  `make` and `make test` never build benchmarks.
BENCH_DB_LIBS := -llmdb -lrocksdb -lsqlite3
$(BUILD)/obj/bench/bench_db.o: | bench-deps
$(BUILD)/bench_db: $(BUILD)/obj/bench/bench_db.o $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB_A) $(BENCH_DB_LIBS) $(LIBS)

bench-deps:
	scripts/deps.sh bench

# Corpus replay: each fuzz target linked with a plain main, in any MODE.
$(BUILD)/replay/%: $(BUILD)/obj/fuzz/%.o $(BUILD)/obj/fuzz/replay_main.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIB_A) $(LIBS)

# libFuzzer binaries (MODE=fuzz only).
$(BUILD)/fuzzer/%: $(BUILD)/obj/fuzz/%.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(LIB_A) $(LIBS)

$(BUILD)/lthash-from-json: $(BUILD)/obj/tools/examples/lthash_from_json.o $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB_A) -lcjson $(LIBS)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---- top-level jobs --------------------------------------------------------
deps:
	scripts/deps.sh

demo: deps
	$(MAKE) MODE=release all
	scripts/demo.sh build/release

test:
	scripts/test.sh

tsan:
	scripts/deps.sh
	$(MAKE) MODE=tsan tests
	ACCTDB_TEST_FILTER=concurrency build/tsan/acctdb-tests

fuzz:
	scripts/deps.sh fuzz
	$(MAKE) MODE=fuzz $(FUZZ_BINS)
	scripts/fuzz.sh build/fuzz $${FUZZ_SECONDS:-60}

check:
	scripts/check_layers.sh
	scripts/check_symbols.sh $(LIB_A)

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

install: $(LIB_A) $(LIB_SO) $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
	    $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/acctdb
	install -m 0644 $(LIB_A) $(DESTDIR)$(PREFIX)/lib/libacctdb.a
	install -m 0755 $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/libacctdb.so.$(VERSION)
	ln -sf libacctdb.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libacctdb.so.0
	ln -sf libacctdb.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libacctdb.so
	install -m 0644 include/acctdb.h include/acctdb_sim.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    -e 's|@LIBS@|$(PKG_LIBS) -lpthread -lm|g' acctdb.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/acctdb.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/acctdb $(DESTDIR)$(PREFIX)/lib/libacctdb.* \
	    $(DESTDIR)$(PREFIX)/include/acctdb.h $(DESTDIR)$(PREFIX)/include/acctdb_sim.h \
	    $(DESTDIR)$(PREFIX)/lib/pkgconfig/acctdb.pc

clean:
	rm -rf build
