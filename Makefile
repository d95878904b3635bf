# aiengine — build, run, test. See README.md.
# `make` builds build/aiengine; `make SANITIZE=1 ...` builds into build-san/ with ASan+UBSan.

CC      ?= cc
PKGS    := fcgi libmariadb json-c yaml-0.1 libcrypto libxcrypt libcurl
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wno-missing-field-initializers -Iinclude $(shell pkg-config --cflags $(PKGS))
LDLIBS  += $(shell pkg-config --libs $(PKGS))
# one version, debian/changelog's; `aiengine --version` prints it
VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog 2>/dev/null)
CFLAGS  += -DAIENGINE_VERSION='"$(VERSION)"'
# where the binary looks for its config without --etc / $$AIENGINE_ETC (the package: /etc/aiengine)
ifneq ($(ETC_DEFAULT),)
CFLAGS  += -DCONFIG_DEFAULT_ETC='"$(ETC_DEFAULT)"'
endif

ifeq ($(SANITIZE),1)
BUILD   := build-san
CFLAGS  += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
else
BUILD   := build
endif

SRC      := $(wildcard src/*.c)
LIB_OBJ  := $(patsubst src/%.c,$(BUILD)/%.o,$(filter-out src/main.c,$(SRC)))
BIN      := $(BUILD)/aiengine
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(FUZZ_SRC))
FUZZ_OBJ := $(patsubst src/%.c,build-fuzz/%.o,$(filter-out src/main.c,$(SRC)))
FUZZ_CFLAGS := -g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-missing-field-initializers \
           -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -Iinclude \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_SECONDS ?= 30

PREFIX  ?= /usr/local
DESTDIR ?=

.SECONDARY: $(FUZZ_OBJ)
.PHONY: all run test unit e2e bench clean format format-check lint install deps fuzz deb studio

all: $(BIN) studio

# The Studio's static files (docs/studio.md); npm packages pinned by studio/package-lock.json
STUDIO_SRC := $(wildcard studio/src/*) studio/index.html studio/vite.config.js studio/package-lock.json
studio: build/studio/index.html
build/studio/index.html: $(STUDIO_SRC)
	@scripts/studio.sh

$(BUILD)/%.o: src/%.c $(wildcard include/*.h) | $(BUILD)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD):
	mkdir -p $(BUILD)/tests

$(BIN): $(LIB_OBJ) $(BUILD)/main.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS) -lcmocka

deps:
	@scripts/deps.sh

run: deps $(BIN) studio
	@AIENGINE_BIN=$(abspath $(BIN)) /usr/bin/python3 scripts/stack.py run

unit: $(UNIT_BIN)
	@scripts/unit.sh $(UNIT_BIN)

e2e: $(BIN)
	@AIENGINE_BIN=$(abspath $(BIN)) /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e

test: deps $(BIN) $(UNIT_BIN) studio
	@AIENGINE_BIN=$(abspath $(BIN)) scripts/test.sh $(UNIT_BIN)

bench: deps $(BIN)
	@AIENGINE_BIN=$(abspath $(BIN)) bench/run.sh

# Every C file we own; CI runs `make format-check`, which fails on any difference.
TIDY_FLAGS := -std=c11 -D_GNU_SOURCE -Iinclude $(shell pkg-config --cflags $(PKGS))
FORMAT_FILES := $(wildcard src/*.c include/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c)

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

# clang-tidy on both cores (xargs fails if any batch does)
lint:
	printf '%s\n' src/*.c | xargs -P2 -n8 sh -c 'clang-tidy --quiet "$$@" -- $(TIDY_FLAGS)' clang-tidy
	cppcheck --quiet --enable=warning,performance,portability --error-exitcode=1 -Iinclude src

# Installed layout: binary in bin/, config in etc/aiengine/ (migrations path and socket
# rewritten for it), migrations, nginx template and systemd unit in share/aiengine/.
install: $(BIN)
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/aiengine
	install -d $(DESTDIR)$(PREFIX)/share/aiengine/migrations $(DESTDIR)$(PREFIX)/share/aiengine/nginx \
	           $(DESTDIR)$(PREFIX)/etc/aiengine
	install -m 0644 db/migrations/*.sql $(DESTDIR)$(PREFIX)/share/aiengine/migrations/
	install -m 0644 nginx/*.in nginx/*.conf $(DESTDIR)$(PREFIX)/share/aiengine/nginx/
	install -m 0644 etc/aiengine.service $(DESTDIR)$(PREFIX)/share/aiengine/
	if [ -d build/studio ]; then cp -r build/studio $(DESTDIR)$(PREFIX)/share/aiengine/; fi
	install -m 0644 etc/routes.yaml etc/resources.yaml $(DESTDIR)$(PREFIX)/etc/aiengine/
	sed -e 's|^migrations: .*|migrations: $(PREFIX)/share/aiengine/migrations|' \
	    -e 's|^  listen: [^ ]*|  listen: /run/aiengine/aiengine.sock|' \
	    etc/aiengine.yaml > $(DESTDIR)$(PREFIX)/etc/aiengine/aiengine.yaml
	sed -i 's|/usr/local|$(PREFIX)|g' $(DESTDIR)$(PREFIX)/share/aiengine/aiengine.service

# The Debian package (debian/, debhelper) into build/deb/: dpkg-buildpackage writes beside
# the source tree, so it builds from a copy of the committed-or-not files under build/deb/src
# and only the .deb (and its .buildinfo/.changes) come out.
DEB_DIR := build/deb
deb:
	@scripts/deps.sh --packaging
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	git ls-files -co --exclude-standard -z | grep -zv '^tests/openapi/node_modules/' \
	    | xargs -0 cp --parents -t $(DEB_DIR)/src
	cd $(DEB_DIR)/src && dpkg-buildpackage -us -uc -b -j2 >../build.log 2>&1 \
	    || { tail -30 ../build.log; exit 1; }
	rm -rf $(DEB_DIR)/src
	@ls $(DEB_DIR)/aiengine_$(VERSION)_amd64.deb

build-fuzz/%.o: src/%.c $(wildcard include/*.h)
	@mkdir -p build-fuzz
	clang $(FUZZ_CFLAGS) -c -o $@ $<

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(FUZZ_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(LDLIBS)

# Each libFuzzer target for FUZZ_SECONDS under ASan+UBSan, from tests/fuzz/corpus/.
fuzz: deps $(FUZZ_BIN)
	@scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

clean:
	rm -rf build build-san build-fuzz
