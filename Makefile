# bh_audit — PGXS build.  `make && make install` builds and installs the
# extension; `make test` and `make demo` run the two README commands.

EXTENSION = bh_audit
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" bh_audit.control)

MODULE_big = bh_audit
OBJS = \
	src/bh_audit.o \
	src/canon.o \
	src/capture_write.o \
	src/config_guard.o \
	src/chain.o \
	src/context.o \
	src/emit.o \
	src/event.o \
	src/guard.o \
	src/sealer.o \
	src/stats.o \
	src/tags.o \
	src/verify.o

DATA = src/bh_audit--$(EXTVERSION).sql

# pg_regress suites (sql/ and expected/); run by test/run-all.sh against a
# private preloaded instance, see test/regress.conf.
REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))

PG_CONFIG ?= pg_config
PG_CFLAGS += -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

SHLIB_LINK += -lcrypto

.PHONY: test demo
test:
	bash test/run-all.sh
demo:
	bash test/run-demo.sh
