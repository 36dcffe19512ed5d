# gridplan — build, test, run.  `make V=1` shows full command lines.
CC      ?= gcc
PKGS    := geos proj spatialite libmicrohttpd libpng cairo freetype2 jansson zlib sqlite3
DEBS    := build-essential pkg-config libgeos-dev libproj-dev proj-data libspatialite-dev \
           libsqlite3-mod-spatialite libmicrohttpd-dev libpng-dev libcairo2-dev libfreetype-dev \
           libjansson-dev libmetis-dev fonts-wqy-zenhei sqlite3 zlib1g-dev
# Only the tests need these: Criterion, GDAL's ogrinfo as a real OGC API client, curl, headless Chromium.
TEST_DEBS := libcriterion-dev gdal-bin curl chromium
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
PORT    ?= 8080

.PHONY: all deps deps-check test-deps-check run test unit integration asan bench clean demo web web-test-deps
all: deps-check $(BIN) web

# Missing Debian packages: installed when run as root, otherwise the exact command is printed.
# npm comes from Debian's nodejs/npm only where no node is installed already.
define install_missing
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || printf '%s ' $$p; done); \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "  APT    $$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing) >/dev/null || exit 1; \
	  else \
	    echo "missing Debian packages; run:"; echo "  sudo apt-get install -y $$missing"; exit 1; \
	  fi; \
	fi
endef
deps-check:
	$(call install_missing,$(DEBS))
test-deps-check:
	$(call install_missing,$(DEBS) $(TEST_DEBS))
deps: deps-check

# Web map: Leaflet comes from npm (web/package-lock.json) and is copied into web/vendor/ so the page
# needs no CDN; the e2e test's playwright-core lives in tests/web/ and drives Debian's chromium.
# The tile styles are copied too, so the page's legends use the colours the tiles are drawn with.
WEB_VENDOR := web/vendor/leaflet/leaflet.js
WEB_STYLES := $(patsubst geodata/styles/%,web/vendor/styles/%,$(wildcard geodata/styles/*.json))
web: $(WEB_VENDOR) $(WEB_STYLES)
web/vendor/styles/%.json: geodata/styles/%.json
	@mkdir -p $(@D)
	$(Q)cp $< $@
web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	$(quiet) NPM web
	$(Q)cd web && npm ci --no-audit --no-fund --loglevel=error >/dev/null
$(WEB_VENDOR): web/node_modules/.package-lock.json
	$(quiet) VENDOR web/vendor/leaflet
	$(Q)rm -rf web/vendor/leaflet && mkdir -p web/vendor/leaflet && \
	  cp -R web/node_modules/leaflet/dist/leaflet.js web/node_modules/leaflet/dist/leaflet.css \
	        web/node_modules/leaflet/dist/images web/node_modules/leaflet/LICENSE web/vendor/leaflet/
web-test-deps: tests/web/node_modules/.package-lock.json
tests/web/node_modules/.package-lock.json: tests/web/package.json tests/web/package-lock.json
	$(quiet) NPM tests/web
	$(Q)cd tests/web && npm ci --no-audit --no-fund --loglevel=error >/dev/null

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
integration: test-deps-check all web-test-deps $(TESTBIN)
	@tests/run_integration.sh $(BIN)

test: test-deps-check all web-test-deps $(TESTBIN)
	@tests/run_all.sh $(BIN) $(TESTBIN)

asan:
	$(MAKE) BUILD=build/asan OPT=-O1 EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	        EXTRA_LDLIBS="-fsanitize=address,undefined" unit

# The demo city: generated as GeoJSON (deterministic), then imported into a new database that
# replaces the old one only when every layer loaded.
$(DEMO_DB): | all
	$(quiet) DEMO $@
	$(Q)$(BIN) demo --out $(DEMO_DIR) --db $@

demo: $(DEMO_DB)

run: all $(DEMO_DB)
	$(BIN) serve --db $(DEMO_DB) --port $(PORT)

bench: all
	@bench/run.sh

clean:
	rm -rf build tests/artifacts bench/work geodata/demo web/vendor web/node_modules tests/web/node_modules
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	find tiles -mindepth 1 ! -name README.md -delete 2>/dev/null || true

-include $(LIBOBJ:.o=.d) $(BUILD)/main.d $(TESTBIN:=.d)
