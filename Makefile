# engine — build, test and benchmark entry points.
#
#   make                 build the extension (needs postgresql-server-dev-15)
#   make install         install it into PostgreSQL 15 (root)
#   make test            install what is missing, build, install, run every suite
#   make demo            start a throwaway cluster with a small market
#   make check-core      core unit + property tests under ASan/UBSan
#   make check-layout    src/pg: no two files calling each other, none over 450 lines
#   make fuzz-core       libFuzzer on the record decoder + apply, 60 s
#   make bench-core      core throughput, latency and instructions per command,
#                        current core vs a previous one (BENCH_BASE=rev, QUICK=1)
#   make bench           pgbench: SELECT 1, INSERT, place_order
#   make bench-recovery  snapshot and recovery timings
#   make bench-failover  promotion of a follower to leader at 1M resting orders
#   make test-ha         failover under pg_auto_failover (not part of make test)

PG_CONFIG ?= $(shell command -v pg_config >/dev/null 2>&1 && echo pg_config || echo /usr/lib/postgresql/15/bin/pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

# ---------------------------------------------------------------- extension
MODULE_big = engine
CORE_SRCS = $(sort $(wildcard src/core/*.c))
PG_SRCS = $(sort $(wildcard src/pg/*.c src/pg/api/*.c src/pg/worker/*.c))
OBJS = $(CORE_SRCS:.c=.o) $(PG_SRCS:.c=.o)
EXTENSION = engine
DATA = $(wildcard sql/engine--*.sql)
# PostgreSQL's headers are system headers here: -Wextra is for our code.
PG_CPPFLAGS = -Isrc/core -Isrc/pg -isystem $(shell $(PG_CONFIG) --includedir-server)
# The core's CORE_ASSERTs are on where PostgreSQL's Asserts are.
ifneq ($(findstring enable-cassert,$(shell $(PG_CONFIG) --configure 2>/dev/null)),)
PG_CPPFLAGS += -DCORE_DEBUG
endif
PG_CFLAGS = -std=gnu11 -Wall -Wextra

# pg_regress inputs are sql/<name>.sql (every .sql that is not the extension
# script), outputs expected/<name>.out; one temporary instance for them all.
REGRESS = $(filter-out engine--%,$(basename $(notdir $(wildcard sql/*.sql))))
PG_REGRESS_TEMP_INSTANCE ?= --temp-instance=./tmp_check_regress
REGRESS_OPTS = --inputdir=. --temp-config=$(CURDIR)/test/engine.conf $(PG_REGRESS_TEMP_INSTANCE)

TAP_TESTS = 1
PROVE_TESTS ?= $(sort $(wildcard test/t/*.pl))

EXTRA_CLEAN = build tmp_check tmp_check_regress results regression.diffs regression.out

ifneq ($(PGXS),)
include $(PGXS)
# PGXS tracks no header dependencies: rebuild every object when a header changes.
$(OBJS): $(wildcard src/core/*.h src/pg/*.h src/pg/api/*.h src/pg/worker/*.h)
# After the include: Makefile.global resets PROVE_FLAGS.
PROVE_FLAGS = -I ./test/t

check-layout: all
	bash test/scripts/layering.sh
else
all:
	@echo "PostgreSQL 15 development files not found: run 'make test' or install postgresql-server-dev-15" >&2; exit 1
endif

# --------------------------------------------------------------------- core
CC_CORE ?= gcc
CORE_HDRS = $(wildcard src/core/*.h)
CORE_WARN = -std=gnu11 -Wall -Wextra -Werror -DCORE_DEBUG
CORE_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
BUILD = build

$(BUILD)/test_core: $(CORE_SRCS) $(CORE_HDRS) $(wildcard test/core/*.c test/core/*.h)
	@mkdir -p $(BUILD)
	$(CC_CORE) $(CORE_WARN) $(CORE_SAN) -O1 -g -Isrc/core -Itest/core -o $@ \
		$(CORE_SRCS) test/core/test_main.c $(filter-out test/core/test_main.c test/core/fuzz_core.c,$(wildcard test/core/*.c))

check-core: $(BUILD)/test_core
	$(BUILD)/test_core

$(BUILD)/fuzz_core: $(CORE_SRCS) $(CORE_HDRS) test/core/fuzz_core.c
	@mkdir -p $(BUILD)
	clang -std=gnu11 -Wall -Wextra -Werror -DCORE_DEBUG -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -Isrc/core -o $@ $(CORE_SRCS) test/core/fuzz_core.c

fuzz-core: $(BUILD)/fuzz_core
	@mkdir -p $(BUILD)/fuzz-corpus
	$(BUILD)/fuzz_core -max_total_time=$${FUZZ_SECONDS:-60} -max_len=4096 -print_final_stats=1 $(BUILD)/fuzz-corpus

# bench-core builds the benchmark twice (this core and the one at BENCH_BASE,
# default: the core before its last change) with these flags; see
# test/bench/bench_core.sh.  $(BUILD)/bench_core alone is the current core's,
# for profilers.
BENCH_CFLAGS = -std=gnu11 -Wall -Wextra -O2 -g -DNDEBUG

$(BUILD)/bench_core: $(CORE_SRCS) $(CORE_HDRS) test/bench/bench_core.c
	@mkdir -p $(BUILD)
	$(CC_CORE) $(BENCH_CFLAGS) -Isrc/core -o $@ $(CORE_SRCS) test/bench/bench_core.c

bench-core:
	CC_CORE='$(CC_CORE)' BENCH_CFLAGS='$(BENCH_CFLAGS)' BENCH_BASE='$(BENCH_BASE)' QUICK='$(QUICK)' \
		bash test/bench/bench_core.sh

# ------------------------------------------------------------ whole project
test:
	bash test/scripts/test.sh

demo:
	bash test/scripts/demo.sh

bench:
	bash test/bench/bench.sh

bench-recovery:
	bash test/bench/bench_recovery.sh

bench-failover:
	bash test/bench/bench_failover.sh

test-ha:
	bash test/scripts/test_ha.sh

.PHONY: check-core check-layout fuzz-core bench-core test demo bench bench-recovery bench-failover test-ha
