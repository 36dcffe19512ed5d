# gridplan — build, test, run.  `make V=1` shows full command lines.
CC      ?= gcc
PKGS    := geos proj spatialite libmicrohttpd libpng cairo freetype2 jansson zlib sqlite3
DEBS    := build-essential pkg-config libgeos-dev libproj-dev proj-data libspatialite-dev \
           libsqlite3-mod-spatialite libmicrohttpd-dev libpng-dev libcairo2-dev libfreetype-dev \
           libjansson-dev libcriterion-dev libmetis-dev gdal-bin fonts-wqy-zenhei sqlite3 \
           zlib1g-dev curl
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
ALL_CFLAGS = -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -MMD -MP -Isrc \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CFLAGS) $(EXTRA_CFLAGS)
LDLIBS  = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lmetis -lm -lpthread $(EXTRA_LDLIBS)
BUILD   ?= build

SRC     := $(wildcard src/*.c)
LIBSRC  := $(filter-out src/main.c,$(SRC))
LIBOBJ  := $(LIBSRC:src/%.c=$(BUILD)/%.o)
TESTSRC := $(wildcard tests/test_*.c)
TESTBIN := $(TESTSRC:tests/%.c=$(BUILD)/tests/%)
BIN     := $(BUILD)/gridplan

ifeq ($(V),1)
Q :=
quiet = @true
else
Q := @
quiet = @printf '  %-6s %s\n'
endif

DEMO_DB ?= geodata/demo.sqlite
DEMO_DIR ?= geodata/demo
DEMO_LAYERS := streets communities buildings facilities roads
PORT    ?= 8080

.PHONY: all deps run test unit integration asan bench clean demo
all: deps-check $(BIN)

# Missing Debian packages: installed when run as root, otherwise the exact command is printed.
deps-check:
	@missing=$$(for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || printf '%s ' $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "  APT    $$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing) >/dev/null || exit 1; \
	  else \
	    echo "missing Debian packages; run:"; echo "  sudo apt-get install -y $$missing"; exit 1; \
	  fi; \
	fi
deps: deps-check

$(BUILD)/%.o: src/%.c
	@mkdir -p $(@D)
	$(quiet) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libgridplan.a: $(LIBOBJ)
	$(quiet) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(BUILD)/main.o $(BUILD)/libgridplan.a
	$(quiet) LINK $@
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(BUILD)/libgridplan.a
	@mkdir -p $(@D)
	$(quiet) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libgridplan.a $(LDLIBS) -lcriterion

# Unit tests: every tests/test_<module>.c is one Criterion binary; the summary line comes last.
unit: all $(TESTBIN)
	@tests/run_unit.sh $(TESTBIN)

# Integration tests: tests/it_*.sh against the built binary (server, GDAL, browser).
integration: all $(TESTBIN)
	@tests/run_integration.sh $(BIN)

test: all $(TESTBIN)
	@tests/run_all.sh $(BIN) $(TESTBIN)

asan:
	$(MAKE) BUILD=build/asan OPT=-O1 EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	        EXTRA_LDLIBS="-fsanitize=address,undefined" unit

# The demo city: generated as GeoJSON (deterministic), then imported one layer per call, parents first.
$(DEMO_DB): | all
	$(quiet) DEMO $@
	$(Q)rm -f $@ $@-wal $@-shm
	$(Q)$(BIN) demo --out $(DEMO_DIR)
	$(Q)for layer in $(DEMO_LAYERS); do \
	  $(BIN) import --create --db $@ --layer $$layer $(DEMO_DIR)/$$layer.geojson || { rm -f $@; exit 1; }; \
	done

demo: $(DEMO_DB)

run: all $(DEMO_DB)
	$(BIN) serve --db $(DEMO_DB) --port $(PORT)

bench: all
	@bench/run.sh

clean:
	rm -rf build tests/artifacts bench/work geodata/demo
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	find tiles -mindepth 1 ! -name README.md -delete 2>/dev/null || true

-include $(LIBOBJ:.o=.d) $(BUILD)/main.d $(TESTBIN:=.d)
