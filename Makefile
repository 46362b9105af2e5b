# isolated — CPU isolation and real-time tuning for KVM hosts.
# Plain GNU make; objects under $(BUILD)/. `make check` runs the tests twice:
# a normal build and one under AddressSanitizer + UndefinedBehaviorSanitizer.

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
SYSCONFDIR ?= /etc
# Where the daemon's system files go. systemd reads units from
# /usr/local/lib/systemd/system as well as /usr/lib/systemd/system, and
# dbus-daemon activation files from /usr/local/share/dbus-1/system-services
# as well as /usr/share/...: both follow PREFIX. The D-Bus bus policy is read
# only from /usr/share/dbus-1/system.d and /etc/dbus-1/system.d (the latter
# for the local administrator), and polkitd reads actions only from
# /usr/share/polkit-1/actions: those do not follow a PREFIX of /usr/local.
UNITDIR ?= $(PREFIX)/lib/systemd/system
DBUS_SERVICEDIR ?= $(DATADIR)/dbus-1/system-services
DBUS_POLICYDIR ?= $(if $(filter /usr,$(PREFIX)),$(DATADIR),$(SYSCONFDIR))/dbus-1/system.d
POLKIT_ACTIONDIR ?= /usr/share/polkit-1/actions
# bash-completion loads completions from $(XDG_DATA_DIRS)/bash-completion/
# completions (/usr/local/share and /usr/share by default).
COMPLETIONDIR ?= $(DATADIR)/bash-completion/completions
DESTDIR ?=
BUILD ?= build
SAN ?= 0
PKG_CONFIG ?= pkg-config

PKGS := libsystemd libnl-3.0 libnl-route-3.0 libcap inih json-c zlib
TEST_PKGS := cmocka

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
TEST_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS := $(shell $(PKG_CONFIG) --libs $(TEST_PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wsign-compare -Wformat=2 -Wno-format-nonliteral -Wpointer-arith -Wundef -Wvla
CFLAGS ?= -O2 -g
ISO_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) -fstack-protector-strong -fPIE -Iinclude \
	-DISO_DATADIR='"$(DATADIR)/isolated"' -DISO_SYSCONFDIR='"$(SYSCONFDIR)/isolated"' $(PKG_CFLAGS)
LDFLAGS_HARD := -pie -Wl,-z,now -Wl,-z,relro

ifeq ($(SAN),1)
ISO_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS_HARD += -fsanitize=address,undefined
else
ISO_CFLAGS += -D_FORTIFY_SOURCE=3
endif

LIB_SRC := $(sort $(wildcard lib/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CTL_SRC := $(sort $(wildcard ctl/*.c))
CTL_OBJ := $(CTL_SRC:%.c=$(BUILD)/%.o)
# Everything but main(), for the unit tests of isoctl's modules.
CTL_LIB_OBJ := $(filter-out $(BUILD)/ctl/isoctl.o,$(CTL_OBJ))
# The benchmark (isoctl bench): an archive of its own, linked into isoctl.
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_OBJ := $(BENCH_SRC:%.c=$(BUILD)/%.o)
DAEMON_SRC := $(sort $(wildcard daemon/*.c))
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(BUILD)/%.o)
# Everything but main(), for the unit tests of the daemon's modules.
DAEMON_LIB_OBJ := $(filter-out $(BUILD)/daemon/isolated.o,$(DAEMON_OBJ))
UNIT_SRC := $(sort $(wildcard tests/unit/test-*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# Programs the integration tests and benchmarks run (thread storms, a
# notify socket listener, ...): tests/helpers/NAME.c -> $(BUILD)/tests/helpers/NAME
HELPER_SRC := $(sort $(wildcard tests/helpers/*.c))
HELPER_BIN := $(HELPER_SRC:tests/helpers/%.c=$(BUILD)/tests/helpers/%)
# Fuzz harnesses: tests/fuzz/fuzz-NAME.c. `make check` replays their
# regression corpus (tests/fuzz/corpus/NAME/) through $(BUILD)/tests/fuzz-replay-NAME;
# `make fuzz` (clang, libFuzzer) runs them. See tests/fuzz/README.
FUZZ_NAMES := $(sort $(patsubst tests/fuzz/fuzz-%.c,%,$(wildcard tests/fuzz/fuzz-*.c)))
FUZZ_REPLAY_BIN := $(FUZZ_NAMES:%=$(BUILD)/tests/fuzz-replay-%)

all: check-deps $(BUILD)/isoctl $(BUILD)/isolated $(BUILD)/completion/isoctl

# The bash completion with the policy directories this build reads.
$(BUILD)/completion/isoctl: completion/isoctl Makefile
	@mkdir -p $(dir $@)
	sed 's|@DATADIR@|$(DATADIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' $< >$@

check-deps:
	@$(PKG_CONFIG) --exists $(PKGS) || { echo "missing build dependencies: $$(for p in $(PKGS); do $(PKG_CONFIG) --exists $$p || printf '%s ' $$p; done)(see README: apt-get install ...)" >&2; exit 1; }

$(BUILD)/%.o: %.c $(wildcard include/isolated/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ISO_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# The install paths are compiled into both programs (isolated/paths.h):
# rebuild them when they change.
PATHS_STAMP := $(BUILD)/.paths$(subst /,_,$(DATADIR)+$(SYSCONFDIR))
$(CTL_OBJ) $(DAEMON_OBJ): $(PATHS_STAMP)
$(PATHS_STAMP):
	@mkdir -p $(BUILD) && rm -f $(BUILD)/.paths* && touch '$@'

$(BUILD)/libisolated.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/libctl.a: $(CTL_LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/libbench.a: $(BENCH_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/isoctl: $(BUILD)/ctl/isoctl.o $(BUILD)/libctl.a $(BUILD)/libbench.a $(BUILD)/libisolated.a
	$(CC) $(CFLAGS) $(LDFLAGS_HARD) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread -lm

$(BUILD)/ctl/%.o: ctl/isoctl.h bench/bench.h

$(BUILD)/bench/%.o: $(wildcard bench/*.h)

$(BUILD)/libdaemon.a: $(DAEMON_LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/isolated: $(BUILD)/daemon/isolated.o $(BUILD)/libdaemon.a $(BUILD)/libisolated.a
	$(CC) $(CFLAGS) $(LDFLAGS_HARD) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/daemon/%.o: daemon/daemon.h

# Unit tests link the daemon's modules too (a test that defines holder_*
# stubs gets procev.o or bus.o without holder.o: archive members are only
# pulled in for symbols still undefined).
$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libdaemon.a $(BUILD)/libctl.a $(BUILD)/libbench.a $(BUILD)/libisolated.a \
		$(wildcard include/isolated/*.h tests/unit/*.h daemon/*.h ctl/*.h bench/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ISO_CFLAGS) -Idaemon -Ictl -Ibench $(TEST_CFLAGS) $(CFLAGS) -Wno-missing-prototypes -DTEST_DATADIR='"$(CURDIR)/tests/data"' \
		$(LDFLAGS_HARD) -o $@ $< $(BUILD)/libdaemon.a $(BUILD)/libctl.a $(BUILD)/libbench.a $(BUILD)/libisolated.a \
		$(PKG_LIBS) $(TEST_LIBS) -lpthread -lm

$(BUILD)/tests/helpers/%: tests/helpers/%.c $(BUILD)/libisolated.a $(wildcard include/isolated/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ISO_CFLAGS) $(CFLAGS) -Wno-missing-prototypes $(LDFLAGS_HARD) -o $@ $< $(BUILD)/libisolated.a \
		$(PKG_LIBS) -lpthread

# The harness with a main() that feeds it files, built like the unit tests.
$(BUILD)/tests/fuzz-replay-%: tests/fuzz/fuzz-%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $(BUILD)/libisolated.a $(wildcard include/isolated/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ISO_CFLAGS) -Itests/fuzz $(CFLAGS) $(LDFLAGS_HARD) -o $@ $< tests/fuzz/replay.c $(BUILD)/libisolated.a \
		$(PKG_LIBS)

unit: $(UNIT_BIN)

fuzz-replay: $(FUZZ_REPLAY_BIN)

helpers: $(HELPER_BIN)

# One pass: unit tests, then the integration tests against the built isoctl.
check-one: all unit helpers fuzz-replay
	@tests/run-tests.sh "$(BUILD)" $(UNIT_BIN)

# The unit tests alone (no root, nothing of the host changed): the Debian
# package build's test step.
check-unit: unit
	@UNIT_ONLY=1 tests/run-tests.sh "$(BUILD)" $(UNIT_BIN)

check: all
	$(MAKE) check-one BUILD=build
	$(MAKE) check-one BUILD=build/san SAN=1

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(DATADIR)/isolated/policies $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)/isolated
	install -m 0755 $(BUILD)/isoctl $(DESTDIR)$(SBINDIR)/isoctl
	install -m 0644 policies/*.conf $(DESTDIR)$(DATADIR)/isolated/policies/
	install -m 0644 policies/host.conf.example $(DESTDIR)$(DATADIR)/isolated/
	install -m 0644 man/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 man/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0755 $(BUILD)/isolated $(DESTDIR)$(SBINDIR)/isolated
	install -d $(DESTDIR)$(COMPLETIONDIR)
	install -m 0644 $(BUILD)/completion/isoctl $(DESTDIR)$(COMPLETIONDIR)/isoctl
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DBUS_SERVICEDIR) $(DESTDIR)$(DBUS_POLICYDIR) $(DESTDIR)$(POLKIT_ACTIONDIR)
	@# The unit and the activation file name the daemon by its default path.
	sed 's|/usr/local/sbin/isolated|$(SBINDIR)/isolated|' systemd/isolated.service >$(BUILD)/isolated.service
	install -m 0644 $(BUILD)/isolated.service $(DESTDIR)$(UNITDIR)/isolated.service
	[ ! -e systemd/io.isolated.Daemon1.service ] || { \
		sed 's|/usr/local/sbin/isolated|$(SBINDIR)/isolated|' systemd/io.isolated.Daemon1.service \
			>$(BUILD)/io.isolated.Daemon1.service && \
		install -m 0644 $(BUILD)/io.isolated.Daemon1.service $(DESTDIR)$(DBUS_SERVICEDIR)/; }
	[ ! -e systemd/io.isolated.Daemon1.conf ] || install -m 0644 systemd/io.isolated.Daemon1.conf $(DESTDIR)$(DBUS_POLICYDIR)/
	[ ! -e systemd/io.isolated.policy ] || install -m 0644 systemd/io.isolated.policy $(DESTDIR)$(POLKIT_ACTIONDIR)/
	@# The daemon's configuration: the example for reference, and as the
	@# live file only where there is none (an administrator's is never replaced).
	[ ! -e policies/isolated.conf.example ] || { \
		install -m 0644 policies/isolated.conf.example $(DESTDIR)$(DATADIR)/isolated/ && \
		{ [ -e $(DESTDIR)$(SYSCONFDIR)/isolated/isolated.conf ] || \
		install -m 0644 policies/isolated.conf.example $(DESTDIR)$(SYSCONFDIR)/isolated/isolated.conf; }; }

# ---- make fuzz: libFuzzer with clang, the engine rebuilt instrumented in $(FUZZ_BUILD) ----
FUZZ_CC ?= clang
FUZZ_TIME ?= 60
FUZZ_BUILD := build/fuzz
FUZZ ?= $(FUZZ_NAMES)
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) -Iinclude -Itests/fuzz -O1 -g $(FUZZ_SAN) \
	-DISO_DATADIR='"$(DATADIR)/isolated"' -DISO_SYSCONFDIR='"$(SYSCONFDIR)/isolated"' $(PKG_CFLAGS)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)

$(FUZZ_BUILD)/lib/%.o: lib/%.c $(wildcard include/isolated/*.h lib/*.h) Makefile
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/fuzz.h $(FUZZ_LIB_OBJ) $(wildcard include/isolated/*.h)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJ) $(PKG_LIBS) -lpthread -lm

fuzz-build: $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz-%)
# Not intermediate: keep the instrumented engine between runs.
.SECONDARY: $(FUZZ_LIB_OBJ)

# Each harness for FUZZ_TIME seconds, one after the other (FUZZ=NAME... for
# some): seeds made from the fixtures, the regression corpus, new inputs into
# a scratch corpus under $(FUZZ_BUILD) (never into the repo), crashes into
# $(FUZZ_BUILD)/crashes/. Fails if any harness found anything.
fuzz: fuzz-build $(BUILD)/isoctl
	@rm -rf $(FUZZ_BUILD)/seeds && tests/fuzz/make-seeds.sh $(FUZZ_BUILD)/seeds $(BUILD)/isoctl
	tests/fuzz/run-fuzz.sh $(FUZZ_BUILD) $(FUZZ_TIME) $(FUZZ)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

.PHONY: all check-deps unit helpers fuzz-replay check check-one check-unit install format clean fuzz fuzz-build
-include $(LIB_OBJ:.o=.d) $(CTL_OBJ:.o=.d) $(BENCH_OBJ:.o=.d) $(DAEMON_OBJ:.o=.d)
