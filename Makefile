# vfctl — VFIO passthrough and SR-IOV management toolkit
#
#   make                 libvfctl (shared, static, pkg-config), vfctl, vfctld, vfkvm,
#                        the units and the golden sysfs trees
#   make install         DESTDIR=... PREFIX=...
#   make check           lint, unit tests, golden outputs, the ABI check, the same tests
#                        under ASan/UBSan, bats on golden trees, fuzzing, the VM test bed
#   make check-unit | check-golden | check-abi | check-asan | check-bats | check-bench | check-fuzz | check-vm
#   make bench           tests/bench: vfctl against its peers, figures to docs/bench.md
#   make golden-update   rewrite tests/golden/expected after a deliberate output change
#   make abi-update      rewrite libvfctl's ABI baseline (lib/libvfctl.abi) on purpose
#   make fuzz            the libFuzzer targets tests/fuzz/fuzz_*.c (clang) in build/fuzz/
#   make deps            install build and test dependencies (Debian 12)
#   make lint            shellcheck, man --warnings, gcc -fanalyzer (in make check)
#   make compile_commands.json   build/compile_commands.json for clangd and friends

VERSION   := 0.1.0
SOVERSION := 0
PREFIX    ?= /usr/local
LIBDIR    ?= $(PREFIX)/lib
BINDIR    ?= $(PREFIX)/bin
INCDIR    ?= $(PREFIX)/include
DATADIR   ?= $(PREFIX)/share
MANDIR    ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/vendor-completions
PKGDIR    ?= $(LIBDIR)/pkgconfig
SBINDIR   ?= $(PREFIX)/sbin
# systemd reads /usr/local/lib/systemd/system too; udev reads rules only from
# /usr/lib, /lib, /etc and /run, so a non-/usr prefix puts the rule in /etc
UNITDIR   ?= $(PREFIX)/lib/systemd/system
# networkd reads PREFIX/lib/systemd/network too (/usr/local/lib included)
NETWORKDIR ?= $(PREFIX)/lib/systemd/network
UDEVRULESDIR ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/udev/rules.d,/etc/udev/rules.d)

B         ?= build
CC        ?= cc
PKG_CONFIG ?= pkg-config
DEPS      := libpci libnl-3.0 libnl-route-3.0 json-c libudev libsystemd
LIB_DEPS  := libpci libnl-3.0 libnl-route-3.0 json-c libudev

WARN      := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
ifeq ($(CI),true)
WARN      += -Werror
endif
CFLAGS    ?= -O2 -g
SAN_OPTS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_FLAGS := $(if $(SAN),$(SAN_OPTS))
# -MMD -MP: every object depends on the headers it includes (build/**/*.d)
BASE_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) $(SAN_FLAGS) -D_GNU_SOURCE -DVFCTL_VERSION='"$(VERSION)"' \
	     -MMD -MP $(shell $(PKG_CONFIG) --cflags $(DEPS))
LIB_LIBS   = $(shell $(PKG_CONFIG) --libs $(LIB_DEPS))
CLI_LIBS   = $(shell $(PKG_CONFIG) --libs json-c)
ALL_LDFLAGS = $(LDFLAGS) $(SAN_FLAGS)

# The layers (HACKING.md): what each may include is its -I list.
#   src/basic   internal base: rooted accessor, bounded writes, atomic files
#   lib         libvfctl (public header include/vfctl.h; lib/internal.h private)
#   src/shared  internal shared layer: config, plan/apply, vfctld protocol
#   src/vfctl, src/vfctld, src/vfkvm   the programs
INC_BASIC  := -Isrc/basic
INC_LIB    := -Iinclude -Isrc/basic -Ilib
INC_SHARED := -Iinclude -Isrc/basic -Isrc/shared
# libvfctl's and the base's objects hide everything but VFCTL_EXPORT
HIDDEN     := -fvisibility=hidden
layer_flags = $(if $(filter src/basic/%,$1),$(INC_BASIC) $(HIDDEN),$(if $(filter lib/%,$1),$(INC_LIB) $(HIDDEN),$(if $(filter tests/%,$1),$(INC_LIB) -Isrc/shared,$(INC_SHARED) -I$(dir $1))))

BASIC_SRC  := $(sort $(wildcard src/basic/*.c))
LIB_SRC    := $(sort $(wildcard lib/*.c)) $(BASIC_SRC)
SHARED_SRC := $(sort $(wildcard src/shared/*.c))
CLI_SRC    := $(sort $(wildcard src/vfctl/*.c))
LIB_OBJ    := $(LIB_SRC:%.c=$(B)/%.o)
LIB_PIC    := $(LIB_SRC:%.c=$(B)/pic/%.o)
SHARED_OBJ := $(SHARED_SRC:%.c=$(B)/%.o)
CLI_OBJ    := $(CLI_SRC:%.c=$(B)/%.o)
SHARED_LIB := $(B)/libshared.a

# vfkvm: the KVM launcher and its built-in guest (no OS, assembled with as)
VFKVM_SRC := $(sort $(wildcard src/vfkvm/*.c))
VFKVM_LIBOBJ := $(filter-out $(B)/src/vfkvm/main.o,$(VFKVM_SRC:%.c=$(B)/%.o)) $(B)/src/vfkvm/guest_blob.o
VFKVM   := $(B)/vfkvm
GUEST   := $(B)/guest/guest.bin

# ---- vfctld: the lease daemon (src/vfctld), systemd units, test client ----
VFCTLD_SRC := $(sort $(wildcard src/vfctld/*.c))
VFCTLD_LIBOBJ := $(filter-out $(B)/src/vfctld/vfctld.o,$(VFCTLD_SRC:%.c=$(B)/%.o))
VFCTLD  := $(B)/vfctld
VFCTLD_LIBS = $(shell $(PKG_CONFIG) --libs libsystemd json-c)
LEASE_PROBE := $(B)/lease-probe
ALLOC_RTT := $(B)/alloc-rtt
NL_PROBE  := $(B)/nl-probe
VFCTLD_UNITS := $(B)/systemd/vfctld.service $(B)/systemd/vfctld.socket

SONAME  := libvfctl.so.$(SOVERSION)
SOLIB   := $(B)/libvfctl.so.$(VERSION)
STLIB   := $(B)/libvfctl.a
VFCTL   := $(B)/vfctl
PCFILE  := $(B)/libvfctl.pc
# what every program links: the shared layer over the library (static)
PROG_LIBS = $(SHARED_LIB) $(STLIB)

# Rewritten when the install paths change, so that the units (and
# libvfctl.pc) of `make install PREFIX=/usr` carry /usr, not an older build's.
PATHS_STAMP := $(B)/.paths
PATHS_NOW := $(PREFIX) $(BINDIR) $(SBINDIR) $(LIBDIR) $(INCDIR)
$(shell mkdir -p $(B) && echo '$(PATHS_NOW)' | cmp -s - $(PATHS_STAMP) || \
	echo '$(PATHS_NOW)' > $(PATHS_STAMP))

# systemd units with the install paths (systemd/NAME.in -> build/systemd/NAME)
UNITS     := $(patsubst systemd/%.in,$(B)/systemd/%,$(wildcard systemd/*.in))
PROVISION_UNITS := $(B)/systemd/vfctl-provision.service $(B)/systemd/vfctl-provision@.service \
	$(B)/systemd/vfctl-metrics.service $(B)/systemd/vfctl-metrics.timer

UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test_*.c))
FIXTURES := $(B)/fixtures/.stamp

.PHONY: install-vfctld uninstall-vfctld
.PHONY: all install uninstall clean deps check check-unit check-golden golden-update check-asan \
	check-bats check-vm check-hw fixtures fuzz check-fuzz check-abi abi-update bench check-bench bench-vm
# the golden trees come with the build: the man pages' --sysfs-root examples use them
all: $(SOLIB) $(STLIB) $(VFCTL) $(PCFILE) $(VFKVM) $(UNITS) $(VFCTLD) $(LEASE_PROBE) $(ALLOC_RTT) $(NL_PROBE) $(FIXTURES)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(call layer_flags,$<) -c -o $@ $<

$(B)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(call layer_flags,$<) -fPIC -c -o $@ $<

$(SOLIB): $(LIB_PIC) lib/libvfctl.sym
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/libvfctl.sym \
		-Wl,--no-undefined -o $@ $(LIB_PIC) $(ALL_LDFLAGS) $(LIB_LIBS)
	ln -sf libvfctl.so.$(VERSION) $(B)/$(SONAME)
	ln -sf $(SONAME) $(B)/libvfctl.so

$(STLIB): $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(SHARED_LIB): $(SHARED_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(VFCTL): $(CLI_OBJ) $(PROG_LIBS)
	$(CC) -o $@ $(CLI_OBJ) $(PROG_LIBS) $(ALL_LDFLAGS) $(LIB_LIBS) $(CLI_LIBS)

# linked at the load address vfkvm puts it (VFKVM_GUEST_LOAD)
$(GUEST): src/vfkvm/guest/guest.S
	@mkdir -p $(dir $@)
	$(CC) -c -o $(B)/guest/guest.o $<
	$(LD) -m elf_x86_64 -nostdlib -Ttext=0x100000 -o $(B)/guest/guest.elf $(B)/guest/guest.o
	objcopy -O binary $(B)/guest/guest.elf $@

# the same guest with a #UD at ring 3, for the guest-failure test
$(B)/guest/fault.bin: src/vfkvm/guest/guest.S
	@mkdir -p $(dir $@)
	$(CC) -c -DFAULT_TEST -o $(B)/guest/fault.o $<
	$(LD) -m elf_x86_64 -nostdlib -Ttext=0x100000 -o $(B)/guest/fault.elf $(B)/guest/fault.o
	objcopy -O binary $(B)/guest/fault.elf $@

$(B)/src/vfkvm/guest_blob.o: src/vfkvm/guest_blob.S $(GUEST)
	@mkdir -p $(dir $@)
	$(CC) -c -DGUEST_BIN='"$(GUEST)"' -o $@ $<

$(VFKVM): $(VFKVM_LIBOBJ) $(B)/src/vfkvm/main.o $(PROG_LIBS)
	$(CC) -o $@ $(VFKVM_LIBOBJ) $(B)/src/vfkvm/main.o $(PROG_LIBS) $(ALL_LDFLAGS) $(LIB_LIBS) $(CLI_LIBS)

$(PCFILE): lib/libvfctl.pc.in Makefile $(PATHS_STAMP)
	@mkdir -p $(B)
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCDIR@|$(INCDIR)|; s|@VERSION@|$(VERSION)|' \
		$< > $@

# units get the install paths
$(B)/systemd/%: systemd/%.in Makefile $(PATHS_STAMP)
	@mkdir -p $(dir $@)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g; s|@BINDIR@|$(BINDIR)|g' $< > $@

install: all install-vfctld
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) \
		$(DESTDIR)$(PKGDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(UDEVRULESDIR) $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(NETWORKDIR) \
		$(DESTDIR)$(ZSHCOMPDIR)
	install -m 755 $(VFCTL) $(DESTDIR)$(BINDIR)/vfctl
	install -m 644 completion/vfctl.bash $(DESTDIR)$(BASHCOMPDIR)/vfctl
	install -m 644 completion/_vfctl $(DESTDIR)$(ZSHCOMPDIR)/_vfctl
	install -m 755 $(SOLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf libvfctl.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libvfctl.so
	install -m 644 $(STLIB) $(DESTDIR)$(LIBDIR)/
	install -m 644 include/vfctl.h $(DESTDIR)$(INCDIR)/vfctl.h
	install -m 644 $(PCFILE) $(DESTDIR)$(PKGDIR)/libvfctl.pc
	install -m 644 man/vfctl.1 $(DESTDIR)$(MANDIR)/man1/vfctl.1
	install -D -m 644 docs/vfctl.schema.json $(DESTDIR)$(DATADIR)/vfctl/vfctl.schema.json
	install -m 755 $(VFKVM) $(DESTDIR)$(BINDIR)/vfkvm
	install -m 644 man/vfkvm.1 $(DESTDIR)$(MANDIR)/man1/vfkvm.1
	install -m 644 man/vfctl.conf.5 $(DESTDIR)$(MANDIR)/man5/vfctl.conf.5
	install -m 644 $(PROVISION_UNITS) $(DESTDIR)$(UNITDIR)/
	install -m 644 udev/90-vfctl.rules $(DESTDIR)$(UDEVRULESDIR)/90-vfctl.rules
	install -m 644 udev/85-vfctl-vf.rules $(DESTDIR)$(UDEVRULESDIR)/85-vfctl-vf.rules
	install -m 644 systemd/09-vfctl-vf.network $(DESTDIR)$(NETWORKDIR)/09-vfctl-vf.network

uninstall: uninstall-vfctld
	rm -f $(DESTDIR)$(BINDIR)/vfctl $(DESTDIR)$(LIBDIR)/libvfctl.* $(DESTDIR)$(INCDIR)/vfctl.h \
		$(DESTDIR)$(PKGDIR)/libvfctl.pc $(DESTDIR)$(MANDIR)/man1/vfctl.1 \
		$(DESTDIR)$(DATADIR)/vfctl/vfctl.schema.json \
		$(DESTDIR)$(BINDIR)/vfkvm $(DESTDIR)$(MANDIR)/man1/vfkvm.1 \
		$(DESTDIR)$(MANDIR)/man5/vfctl.conf.5 \
		$(DESTDIR)$(UNITDIR)/vfctl-provision.service \
		$(DESTDIR)$(UNITDIR)/vfctl-provision@.service \
		$(DESTDIR)$(UNITDIR)/vfctl-metrics.service $(DESTDIR)$(UNITDIR)/vfctl-metrics.timer \
		$(DESTDIR)$(UDEVRULESDIR)/90-vfctl.rules $(DESTDIR)$(BASHCOMPDIR)/vfctl \
		$(DESTDIR)$(UDEVRULESDIR)/85-vfctl-vf.rules $(DESTDIR)$(NETWORKDIR)/09-vfctl-vf.network \
		$(DESTDIR)$(ZSHCOMPDIR)/_vfctl

# ---- vfctld ----
$(VFCTLD): $(VFCTLD_LIBOBJ) $(B)/src/vfctld/vfctld.o $(PROG_LIBS)
	$(CC) -o $@ $(VFCTLD_LIBOBJ) $(B)/src/vfctld/vfctld.o $(PROG_LIBS) $(ALL_LDFLAGS) $(LIB_LIBS) $(VFCTLD_LIBS)

# the VM tests' client: proves the fds vfctld sends are real VFIO fds
$(LEASE_PROBE): $(B)/tests/vm/lease-probe.o $(PROG_LIBS)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(PROG_LIBS) $(ALL_LDFLAGS) $(LIB_LIBS)

# vfctld's bench and concurrency client (tests/bench/vfctld-alloc, vfctld-lease.bats)
$(ALLOC_RTT): $(B)/tests/bench/alloc-rtt.o $(PROG_LIBS)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(PROG_LIBS) $(ALL_LDFLAGS) $(LIB_LIBS)

# the VM tests' reader and writer of a non-PCI PF's VFs (netdevsim) through
# libvfctl's netlink code (tests/vm/88-netlink-scale.bats)
$(NL_PROBE): $(B)/tests/vm/nl-probe.o $(PROG_LIBS)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(PROG_LIBS) $(ALL_LDFLAGS) $(LIB_LIBS)

# vfctld's unit tests (lease store, lifecycle) link vfctld without its main()
$(B)/tests/test_vfctld_%: $(B)/tests/unit/test_vfctld_%.o $(VFCTLD_LIBOBJ) $(PROG_LIBS)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(VFCTLD_LIBOBJ) $(PROG_LIBS) $(ALL_LDFLAGS) \
		$(LIB_LIBS) $(VFCTLD_LIBS) $(shell $(PKG_CONFIG) --libs cmocka)

install-vfctld: $(VFCTLD) $(VFCTLD_UNITS)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(VFCTLD) $(DESTDIR)$(SBINDIR)/vfctld
	install -m 644 $(VFCTLD_UNITS) $(DESTDIR)$(UNITDIR)/
	install -m 644 man/vfctld.8 $(DESTDIR)$(MANDIR)/man8/vfctld.8

uninstall-vfctld:
	rm -f $(DESTDIR)$(SBINDIR)/vfctld $(DESTDIR)$(UNITDIR)/vfctld.service \
		$(DESTDIR)$(UNITDIR)/vfctld.socket $(DESTDIR)$(MANDIR)/man8/vfctld.8
# ---- end vfctld ----

deps:
	tests/deps

clean:
	rm -rf $(B) build-asan $(FB)

# ---- tests ---------------------------------------------------------------
$(FIXTURES): tests/fixtures/mkfixtures $(wildcard tests/fixtures/captures/*)
	tests/fixtures/mkfixtures $(B)/fixtures
	@touch $@

fixtures: $(FIXTURES)

# unit tests may reach inside the layers they test (-Ilib -Isrc/shared)
$(B)/tests/%: $(B)/tests/unit/%.o $(PROG_LIBS)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(PROG_LIBS) $(ALL_LDFLAGS) $(LIB_LIBS) $(CLI_LIBS) \
		$(shell $(PKG_CONFIG) --libs cmocka)

# the vfkvm tests link vfkvm without its main(), and libvfctl (its VFIO)
$(B)/tests/test_vfkvm_%: $(B)/tests/unit/test_vfkvm_%.o $(VFKVM_LIBOBJ) $(PROG_LIBS)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(VFKVM_LIBOBJ) $(PROG_LIBS) $(ALL_LDFLAGS) $(LIB_LIBS) \
		$(shell $(PKG_CONFIG) --libs cmocka)
$(B)/tests/unit/test_vfkvm_%.o: BASE_CFLAGS += -Isrc/vfkvm

# vfctl's tests (its printers) link vfctl without its main()
CLI_LIBOBJ := $(filter-out $(B)/src/vfctl/vfctl.o,$(CLI_OBJ))
$(B)/tests/test_vfctl_%: $(B)/tests/unit/test_vfctl_%.o $(CLI_LIBOBJ) $(PROG_LIBS)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(CLI_LIBOBJ) $(PROG_LIBS) $(ALL_LDFLAGS) $(LIB_LIBS) $(CLI_LIBS) \
		$(shell $(PKG_CONFIG) --libs cmocka)
$(B)/tests/unit/test_vfctl_%.o: BASE_CFLAGS += -Isrc/vfctl
$(B)/tests/unit/test_vfctld_%.o: BASE_CFLAGS += -Isrc/vfctld

# vfctl's text and JSON on every golden tree, byte for byte (tests/golden)
check-golden: all $(FIXTURES)
	tests/golden/run $(abspath $(VFCTL)) $(abspath $(B)/fixtures)
	tests/check-json-schema docs/vfctl.schema.json --golden tests/golden/expected

# regenerate the expected outputs after a deliberate output change; commit the diff
golden-update: all $(FIXTURES)
	tests/golden/run --update $(abspath $(VFCTL)) $(abspath $(B)/fixtures)

# libvfctl's ABI (tests/abi/check, TAP): abidiff of the .so against the
# committed lib/libvfctl.abi (any change fails and prints the report), the
# exported names against lib/libvfctl.sym and include/vfctl.h, every global
# of the .a vfctl_-prefixed. After a deliberate ABI change (additions only):
# make abi-update, and commit lib/libvfctl.abi.
check-abi: $(SOLIB) $(STLIB)
	tests/abi/check $(SOLIB) $(STLIB) $(B)/abi

abi-update: $(SOLIB) $(STLIB)
	tests/abi/check --update $(SOLIB) $(STLIB) $(B)/abi

check-unit: $(UNIT_TESTS) $(FIXTURES)
	tests/run-unit $(B) $(UNIT_TESTS)

check-asan:
	$(MAKE) B=build-asan SAN=1 check-unit check-golden check-bats

# tests/bench: vfctl against its peers (lspci, ...), medians of alternating
# runs, figures to docs/bench.md; never pass/fail on time. check-bench is
# make check's smoke of the same scripts (3 runs each, golden trees only).
BENCH_ENV = VFCTL=$(abspath $(VFCTL)) VFCTLD=$(abspath $(VFCTLD)) ALLOC_RTT=$(abspath $(ALLOC_RTT)) FIXTURES=$(abspath $(B)/fixtures) \
	    BENCH_DIR=$(abspath $(B)/bench) REPO=$(CURDIR)
bench: all $(FIXTURES)
	$(BENCH_ENV) tests/bench/run

check-bench: all $(FIXTURES)
	$(BENCH_ENV) tests/bench/run --quick

# The VM figures (bind/restore/create/destroy against driverctl,
# dpdk-devbind.py and the bare sysfs writes): one boot of 6.12, not in check.
bench-vm: all
	rm -f $(B)/vm/bench/bench-vm.jsonl
	VFCTL_VM_KERNEL=linux-image-6.12-amd64 VFCTL_VM_OUT=$(B)/vm/bench VFCTL_VM_SYSTEMD=0 \
		tests/vm/run -c /vfctl/tests/bench/vm-sriov
	tests/bench/report $(B)/vm/bench/bench-vm.jsonl docs/bench-vm.md

check-bats: all $(FIXTURES) $(B)/guest/fault.bin
	VFCTLD=$(abspath $(VFCTLD)) LEASE_PROBE=$(abspath $(LEASE_PROBE)) ALLOC_RTT=$(abspath $(ALLOC_RTT)) VFCTL=$(abspath $(VFCTL)) VFKVM=$(abspath $(VFKVM)) BUILD=$(abspath $(B)) GUESTS=$(abspath $(B)/guest) FIXTURES=$(abspath $(B)/fixtures) REPO=$(CURDIR) VFCTL_SAN=$(SAN) bats --tap tests/bats

# The kernels the VM stage boots, oldest and newest vfctl supports: Debian
# 12's default (linux-image-amd64, 6.1) and bookworm-security's 6.12. Each
# boots once for all its suites (VM_SUITES, default all) and prints its own
# TAP, every test line tagged with the kernel ("ok 3 - [6.1] 50-bind ...");
# output in build/vm/PACKAGE. The kernels boot side by side (tests/vm/stage;
# VFCTL_VM_PARALLEL=0 for one after the other), each printed whole when
# done. TCG on 2 busy cores can be slow, so allow it.
VM_KERNELS ?= linux-image-amd64 linux-image-6.12-amd64
VM_SUITES  ?=
# The suites marked `# vm-boot: systemd` (the units under their sandbox) run
# in a second boot of each kernel with systemd as PID 1 (tests/vm/run
# --systemd, output in build/vm/PACKAGE-systemd); the others in the first.
VM_SD_ALL  := $(basename $(notdir $(shell grep -lx '. vm-boot: systemd' tests/vm/*.bats)))
VM_NAMED   := $(basename $(notdir $(VM_SUITES)))
VM_PLAIN   := $(if $(VM_SUITES),$(filter-out $(VM_SD_ALL),$(VM_NAMED)),all)
VM_SD      := $(if $(VM_SUITES),$(filter $(VM_SD_ALL),$(VM_NAMED)),$(VM_SD_ALL))
check-vm: all
	tests/vm/stage $(B)/vm "$(VM_KERNELS)" "$(VM_PLAIN)" "$(VM_SD)"

# ---- fuzzing ---------------------------------------------------------------
# Every tests/fuzz/fuzz_NAME.c is a libFuzzer target linked against the
# library's sources built again with clang and the fuzzer's coverage
# (objects in build-fuzz/, binaries in build/fuzz/NAME).
FUZZ_CC   ?= clang
FB        ?= build-fuzz
FUZZ_SAN  := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	     -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=gnu11 $(WARN) -O1 -g $(FUZZ_SAN) -D_GNU_SOURCE -DVFCTL_VERSION='"$(VERSION)"' \
	      -MMD -MP $(shell $(PKG_CONFIG) --cflags $(DEPS))
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZERS   := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)
FUZZ_OBJ  := $(LIB_SRC:%.c=$(FB)/%.o) $(SHARED_SRC:%.c=$(FB)/%.o)

$(FB)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(call layer_flags,$<) -c -o $@ $<

$(B)/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(INC_SHARED) -Ilib -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(LIB_LIBS)

# objects are kept between runs (the test and fuzz objects are intermediates of pattern rules)
.SECONDARY:

fuzz: $(FUZZERS)

# each target for VFCTL_FUZZ_SECONDS (default 45) from its seed corpus; TAP
check-fuzz: fuzz
	tests/fuzz/run $(FUZZERS)

# The SR-IOV passthrough qualification of one PF of this host (tests/hw/run,
# as root; see its --help and README.md): make check-hw PF=0000:03:00.0
# [HW_VFS=2] [HW_STEPS=enumerate,create,...] [HW_REPORT=FILE]. It changes the
# PF's VFs and puts them back; HW_YES=1 confirms (else it refuses).
check-hw: all
	@[ -n "$(PF)" ] || { echo "make check-hw: give the PF, e.g. make check-hw PF=0000:03:00.0 HW_YES=1" >&2; exit 2; }
	tests/hw/run --pf $(PF) $(if $(HW_VFS),--vfs $(HW_VFS)) $(if $(HW_STEPS),--steps $(HW_STEPS)) \
		$(if $(HW_REPORT),--report $(HW_REPORT)) $(if $(filter 1,$(HW_YES)),--yes) $(if $(filter 1,$(HW_DRY_RUN)),--dry-run)

check: lint check-unit check-golden check-abi check-asan check-bats check-bench check-fuzz check-vm

# header dependencies written by -MMD -MP
# (files only, and not the VM's staging tree, which has directories named *.d)
-include $(shell find $(B) $(FB) -path $(B)/vm -prune -o -type f -name '*.o' -print 2>/dev/null | sed 's/\.o$$/.d/')

# ---- habits: compile_commands.json, lint (HACKING.md) ----------------------
.PHONY: compile_commands.json lint lint-sh lint-man lint-analyzer

# build/compile_commands.json (clangd finds it there): each object's
# compiler command exactly as make runs it, read from a dry run; no bear needed
compile_commands.json:
	@mkdir -p $(B)
	$(MAKE) --no-print-directory -nB CC='$(CC)' $(filter-out $(FIXTURES),$(ALL_OBJS_GOALS)) | \
		awk -v cc='$(CC)' -v dir='$(CURDIR)' -f build-aux/compile-commands.awk > $(B)/compile_commands.json.tmp
	mv $(B)/compile_commands.json.tmp $(B)/compile_commands.json
	@echo "$(B)/compile_commands.json: $$(grep -c '"file"' $(B)/compile_commands.json) files"
ALL_OBJS_GOALS = $(SOLIB) $(STLIB) $(VFCTL) $(VFKVM) $(VFCTLD) $(LEASE_PROBE) $(ALLOC_RTT) $(NL_PROBE) $(UNIT_TESTS)

# every shell script (found by its #! line) and the bats suites; the
# captured trees, the fuzz corpus and the golden outputs hold none
LINT_SH = $(shell grep -rlE --exclude-dir=corpus --exclude-dir=captures --exclude-dir=expected \
	'^\#!.*(/|env )(ba|da|busybox )?sh\b' tests .ci | grep -v '\.bats$$') \
	$(wildcard tests/*/*.bash) completion/vfctl.bash
LINT_BATS = $(wildcard tests/bats/*.bats tests/vm/*.bats tests/hw/*.bats)
lint-sh:
	shellcheck $(LINT_SH)
	shellcheck -s bash $(LINT_BATS)

# groff's warnings (man --warnings) on every page: any line of them fails
lint-man:
	@for m in man/*.[1-8]; do \
		w=$$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$$m" 2>&1 >/dev/null); \
		if [ -n "$$w" ]; then echo "$$m:"; echo "$$w"; exit 1; fi; \
	done; echo "lint-man: $(words $(wildcard man/*.[1-8])) pages, no groff warnings"

# gcc's static analyzer over the library and the base, with the build's flags.
# -Wno-analyzer-malloc-leak: gcc 12 loses ownership stored into an element of
# a realloc'd array or a struct reached through a pointer (host->funcs[i].driver,
# vfctl_strv_push), so every report of it here was false; leaks are
# LeakSanitizer's job in make check-asan.
ANALYZER_SRC = $(LIB_SRC)
ANALYZER_FLAGS = $(filter-out -MMD -MP,$(BASE_CFLAGS)) -fanalyzer -Wno-analyzer-malloc-leak -Werror
lint-analyzer:
	@$(foreach f,$(ANALYZER_SRC),echo "  ANALYZE $f" && \
		$(CC) $(ANALYZER_FLAGS) $(call layer_flags,$f) -c -o /dev/null $f && ) true

lint: lint-sh lint-man lint-analyzer
# ---- end habits ----
