# kiji — plain Makefile. Targets: all run test bench soak fuzz lint install clean.
# SANITIZE=1 builds into build/asan with ASan+UBSan (what `make test` uses).

CC      ?= cc
PKGS    := sqlite3 libpq md4c libutf8proc libsodium zlib libdeflate libxxhash jansson libcurl libxml-2.0 yaml-0.1 icu-uc icu-i18n libsystemd
CSTD    := -std=c17 -D_GNU_SOURCE
WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
PREFIX  ?= /usr/local
UNITDIR ?= /lib/systemd/system
DOCDIR  ?= $(PREFIX)/share/doc/kiji
DB      ?= kiji.db
LISTEN  ?= 127.0.0.1:8080

ifeq ($(SANITIZE),1)
BUILD   := build/asan
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
# Test hooks (KIJI_TEST_CLOCK_FILE, see text_now) exist only in this build.
CFLAGS  += -DKIJI_TEST_HOOKS
else
BUILD   := build/rel
OPT     := -O2 -g
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS  += -I. $(CSTD) $(WARN) $(OPT) $(PKG_CFLAGS) -MMD -MP
LDFLAGS += $(OPT)
LDLIBS  += $(PKG_LIBS) -lpthread -lm

LIB_SRC  := $(sort $(wildcard src/*/*.c))
THEME    := $(sort $(wildcard templates/*.html templates/*.xml static/*))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/embed.o
MAIN_OBJ := $(BUILD)/src/main.o
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all kiji run test unit deps test-deps bench soak fuzz lint install clean demo deb deb-test
all: kiji

kiji: $(BUILD)/kiji
ifneq ($(SANITIZE),1)
	@ln -sf $(BUILD)/kiji kiji
endif

$(BUILD)/kiji: $(MAIN_OBJ) $(BUILD)/libkiji.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libkiji.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The theme is compiled into the binary: one self-contained executable.
$(BUILD)/embed.c: $(THEME) scripts/embed.sh
	@mkdir -p $(@D)
	@scripts/embed.sh $@ $(THEME)

$(BUILD)/embed.o: $(BUILD)/embed.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/t*.h) $(BUILD)/libkiji.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libkiji.a $(LDFLAGS) $(LDLIBS)

unit: $(UNIT_BIN)

# Search latency benchmark, run by bench/search.sh (and so by `make bench`).
$(BUILD)/bench/search_bench: bench/search_bench.c $(BUILD)/libkiji.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libkiji.a $(LDFLAGS) $(LDLIBS)

deps:
	@scripts/deps.sh build

test-deps:
	@scripts/deps.sh test

# `make run`: install, build, create the demo site once, serve it.
run: deps
	@$(MAKE) --no-print-directory kiji
	@if [ -f $(DB) ]; then \
		echo "kiji: reusing $(DB) (rm $(DB) for a fresh demo site); the admin password" >&2; \
		echo "      was printed when it was made; set a new one: ./kiji user passwd admin --db $(DB)" >&2; \
	else ./kiji demo --db $(DB); fi
	./kiji serve --db $(DB) --listen $(LISTEN)

# `make test`: install, build (release with gcc and with clang, -Werror;
# ASan/UBSan for the tests), run every suite.
test: test-deps
	@$(MAKE) --no-print-directory kiji
	@$(MAKE) --no-print-directory CC=clang BUILD=build/clang build/clang/kiji
	@$(MAKE) --no-print-directory SANITIZE=1 kiji unit
	@tests/run.sh

bench: deps
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory kiji
	@bench/run.sh

# `make soak`: ten minutes of readers, posters and likers beside every
# abuse case at once, on the release build (tests/soak/soak.py).
soak: deps
	@$(MAKE) --no-print-directory kiji
	@/usr/bin/python3 tests/soak/soak.py --duration $${SOAK_SECONDS:-600} --every 30

fuzz:
	@$(MAKE) --no-print-directory -f fuzz/Makefile

lint:
	clang-tidy --quiet $(LIB_SRC) src/main.c -- $(CSTD) $(PKG_CFLAGS)
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 --suppress=missingIncludeSystem src

install: kiji
	install -D -m 0755 $(BUILD)/kiji $(DESTDIR)$(PREFIX)/bin/kiji
	install -D -m 0644 man/kiji.1 $(DESTDIR)$(PREFIX)/share/man/man1/kiji.1
	@mkdir -p $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR)/examples
	sed 's|/usr/bin/kiji|$(PREFIX)/bin/kiji|' contrib/kiji.service >$(DESTDIR)$(UNITDIR)/kiji.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/kiji.service
	install -m 0644 contrib/kiji.socket $(DESTDIR)$(UNITDIR)/kiji.socket
	install -m 0644 contrib/kiji-socket.conf contrib/nginx.conf contrib/Caddyfile \
		$(DESTDIR)$(DOCDIR)/examples/

# `make deb`: build/deb/kiji_<version>_amd64.deb with Debian's tools
# (debian/). dpkg-buildpackage writes beside the tree it builds, so it
# builds a copy under build/deb/ and the work tree stays clean.
deb:
	@scripts/deps.sh deb
	rm -rf build/deb && mkdir -p build/deb/kiji
	tar -cf - --exclude=./build --exclude=./kiji --exclude=./.git \
		--exclude='./kiji.db*' --exclude=node_modules --exclude=./bench/out \
		--exclude=./fuzz/corpus-out . | tar -xf - -C build/deb/kiji
	cd build/deb/kiji && dpkg-buildpackage -us -uc -b
	@ls build/deb/*.deb

# `make deb-test`: the package installed with apt in a fresh Debian 12
# chroot (debootstrap), a site made with kiji init and served
# (tests/package/chroot.sh). Minutes; not part of `make test`.
deb-test: deb
	@scripts/deps.sh deb-test
	@tests/package/chroot.sh

clean:
	rm -rf build kiji

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d)
