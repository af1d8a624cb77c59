# SPDX-License-Identifier: GPL-2.0
#
# extpager: the module, libpager, the daemons, the demo and the selftests.
#
#   make                 build everything (the module against Debian's 6.12)
#   make KDIR=<tree>     build the module against another kernel tree
#   make check           run the selftests in a VM on the stock kernel (6.12)
#   make check KVER=6.1  the same on another stock kernel (6.1, 6.12, 7.2)
#   make check-kernels   the selftests on each stock kernel in turn
#   make check-debug     the same on the debug kernel (KASAN, lockdep, ...)
#   make demo            filepager and a client under memory pressure, in the VM
#                        (KVER=6.1: on 6.1)
#   make stress          kill the manager of an object being written, 1000 times
#   make fuzz            the protocol fuzzer in the VM: FUZZ_MESSAGES (1000000),
#                        FUZZ_KERNEL (debug), FUZZ_SEED (random)
#   make check-faults    fail every allocation of each operation in turn, in the
#                        VM on the debug kernel (fail-nth)
#   make check-dsm       dsmpager's test on two VMs joined by a network
#                        (scripts/vm pair; KVER=6.1: on 6.1)
#   make bench           benchmarks in the VM: faults (extpager, userfaultfd, tmpfs),
#                        paging out (extpager, tmpfs+swap), nbdpager against libnbd
#   make bench-dsm       dsmpager between two guests (scripts/vm pair): page
#                        ping-pong, Jacobi on 1 and 2 nodes
#   make checkpatch      checkpatch.pl --strict over module/ and uapi/
#   make lint            checkpatch, regen --check, the module with W=1 and C=1
#   make regen           regenerate uapi/ and module/genl.[ch] from the YNL spec
#   make deps            install what building and testing need (apt-get)
#   make install         libpager, its header and pkg-config file, daemons,
#                        man pages
#   make deb             the Debian packages, in build/ (see README.md, Install)
#   make packages        make deb, then unpack them and build against them (for make check)
#
# `make` also builds the examples twice: in the tree, and against a staged
# `make install` (build/stage) through its libpager.pc, as a user would.

.DEFAULT_GOAL := all
SHELL := /bin/bash

# Derived once and lazily: a fresh machine has none of it before `make deps`.
kver = $(eval kver := $(shell scripts/paths kver))$(kver)
ksrc = $(eval ksrc := $(shell scripts/paths ksrc))$(ksrc)
KDIR ?= /lib/modules/$(kver)/build
krel = $(eval krel := $(shell cat $(KDIR)/include/config/kernel.release))$(krel)
MODDIR = build/module-$(krel)
# The stock kernel `make check` and `make demo` boot: 6.12, or 6.1.
KVER ?= stock

# The one version of everything: the module, libpager.pc, the daemons.
VERSION := $(shell cat VERSION)

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man

CFLAGS ?= -O2 -g
# CPPFLAGS and LDFLAGS as the user (or dpkg-buildflags) gives them.
EP_CFLAGS := -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror=implicit-function-declaration -Werror=incompatible-pointer-types \
	-D_GNU_SOURCE -DEXTPAGER_VERSION='"$(VERSION)"' -Iuapi -Ilibpager \
	$(shell pkg-config --cflags libnl-genl-3.0 liburing 2>/dev/null) $(CPPFLAGS)
# What libpager links with: libnl, and liburing for the data channel.
LIBPAGER_LIBS := $(shell pkg-config --libs libnl-genl-3.0 liburing 2>/dev/null)

LIB_SRCS := $(wildcard libpager/*.c)
LIB_OBJS := $(patsubst %.c,build/%.o,$(LIB_SRCS))
DAEMONS := $(patsubst daemons/%.c,build/daemons/%,$(wildcard daemons/*.c))
DEMOS := $(patsubst demo/%.c,build/demo/%,$(wildcard demo/*.c))
SELFTESTS := $(patsubst selftests/%.c,build/selftests/%,$(wildcard selftests/*_test.c))
BENCHES := $(patsubst bench/%.c,build/bench/%,$(wildcard bench/*.c))
EXAMPLES := $(patsubst examples/%.c,build/examples/%,$(wildcard examples/*.c))
STRESS := $(patsubst stress/%.c,build/stress/%,$(wildcard stress/*.c))
FUZZERS := $(patsubst fuzz/%.c,build/fuzz/%,$(wildcard fuzz/*.c))
FAULTS := $(patsubst faults/%.c,build/faults/%,$(wildcard faults/*.c))

.PHONY: FORCE all module libpager daemons demos selftests benches examples stresses fuzzers \
	faults deps check check-debug check-kernels bench bench-dsm demo stress fuzz check-faults check-dsm checkpatch lint regen \
	install deb packages clean

all: module libpager daemons demos selftests benches examples stresses fuzzers faults

# --- the module ---------------------------------------------------------------
# Built in build/module-<release>/ through links to the sources, so that the
# stock and debug kernels' builds live side by side.
module:
	@test -e $(KDIR)/Makefile || { echo "no kernel tree at KDIR=$(KDIR); run 'make deps'" >&2; exit 1; }
	@mkdir -p $(MODDIR)/module
	@find $(MODDIR) -xtype l -delete
	@ln -sfn $(CURDIR)/Kbuild $(MODDIR)/Kbuild
	@ln -sfn $(CURDIR)/VERSION $(MODDIR)/VERSION
	@ln -sfn $(CURDIR)/uapi $(MODDIR)/uapi
	@for f in module/*.[ch] module/*.sh; do ln -sfn $(CURDIR)/$$f $(MODDIR)/$$f; done
	$(MAKE) -C $(KDIR) M=$(CURDIR)/$(MODDIR) modules

# --- libpager -----------------------------------------------------------------
libpager: build/libpager.so.1 build/libpager.a build/libpager.pc

build/libpager/%.o: libpager/%.c $(wildcard libpager/*.h uapi/linux/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(EP_CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

build/libpager.so.1: $(LIB_OBJS) libpager/libpager.map
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,libpager.so.1 \
		-Wl,--version-script=libpager/libpager.map -o $@ $(LIB_OBJS) $(LIBPAGER_LIBS) -lpthread
	ln -sf libpager.so.1 build/libpager.so

build/libpager.a: $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

# Made on every run, replaced only when it differs: it always says where
# this run's PREFIX, LIBDIR and INCLUDEDIR put things, and is otherwise left
# alone, so that what depends on it is not rebuilt for nothing.
build/libpager.pc: libpager/libpager.pc.in VERSION FORCE
	@mkdir -p $(@D)
	@sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' $< >$@.new
	@if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; echo "  GEN     $@"; fi

FORCE:

# --- daemons, the demo's client, selftests ------------------------------------
daemons: $(DAEMONS)

build/daemons/%: daemons/%.c $(wildcard daemons/*.h) build/libpager.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(EP_CFLAGS) $(LDFLAGS) -o $@ $< build/libpager.a $(LIBPAGER_LIBS) -lpthread $(DAEMON_LIBS)

# Only zpager needs a compressor.
build/daemons/zpager: DAEMON_LIBS = $(shell pkg-config --libs liblz4 2>/dev/null || echo -llz4)
# nbdpager speaks NBD through libnbd.
build/daemons/nbdpager: DAEMON_LIBS = $(shell pkg-config --libs libnbd 2>/dev/null || echo -lnbd)
# dsmpager keeps its home pages in an NBD export.
build/daemons/dsmpager: DAEMON_LIBS = $(shell pkg-config --libs libnbd 2>/dev/null || echo -lnbd)

demos: $(DEMOS)

build/demo/%: demo/%.c build/libpager.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(EP_CFLAGS) $(LDFLAGS) -o $@ $< build/libpager.a $(LIBPAGER_LIBS) -lpthread

selftests: $(SELFTESTS)

build/selftests/%: selftests/%.c $(wildcard selftests/*.h daemons/*.h) build/libpager.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(EP_CFLAGS) $(LDFLAGS) -Wno-sign-compare -Wno-override-init -Wno-clobbered -I$(ksrc)/tools/testing/selftests -o $@ $< \
		build/libpager.a $(LIBPAGER_LIBS) -lpthread $(SELFTEST_LIBS)

# nbdpager_test reads the export back through libnbd.
build/selftests/nbdpager_test: SELFTEST_LIBS = $(shell pkg-config --libs libnbd 2>/dev/null || echo -lnbd)
build/selftests/dsmpager_test: build/daemons/dsmpager
# make check-dsm's program, one node in each guest (selftests/dsm/run.sh);
# not a *_test: make check, in one guest, does not run it.
selftests: build/selftests/dsm_pair
build/selftests/dsm_pair: build/daemons/dsmpager

benches: $(BENCHES)

build/bench/%: bench/%.c build/libpager.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(EP_CFLAGS) $(LDFLAGS) -o $@ $< build/libpager.a $(LIBPAGER_LIBS) -lpthread -lm \
		$(BENCH_LIBS)

# nbd_bench reads the export with libnbd too, and runs nbdpager.
build/bench/nbd_bench: BENCH_LIBS = $(shell pkg-config --libs libnbd 2>/dev/null || echo -lnbd)
build/bench/nbd_bench: $(wildcard selftests/helpers.h) build/daemons/nbdpager
# dsm_bench runs dsmpager, one per node.
build/bench/dsm_bench: $(wildcard selftests/helpers.h selftests/dsm.h) build/daemons/dsmpager

stresses: $(STRESS)

build/stress/%: stress/%.c build/libpager.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(EP_CFLAGS) $(LDFLAGS) -o $@ $< build/libpager.a $(LIBPAGER_LIBS) -lpthread

fuzzers: $(FUZZERS)

build/fuzz/%: fuzz/%.c $(wildcard fuzz/*.h) build/libpager.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(EP_CFLAGS) $(LDFLAGS) -o $@ $< build/libpager.a $(LIBPAGER_LIBS) -lpthread

faults: $(FAULTS)

build/faults/%: faults/%.c $(wildcard fuzz/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(EP_CFLAGS) $(LDFLAGS) -o $@ $< -lpthread

# --- examples -----------------------------------------------------------------
# Each example is built as the daemons are (build/examples/NAME), and with
# nothing of the tree's: against the headers, libraries and libpager.pc of
# `make install DESTDIR=build/stage`, linked with the shared library
# (NAME-shared, run with LD_LIBRARY_PATH) and with the static ones (NAME-static:
# libpager and libnl, which libpager.pc's Requires.private brings).  The
# sysroot makes pkg-config put build/stage before the installed paths.
STAGE := $(CURDIR)/build/stage
STAGE_PC = PKG_CONFIG_PATH=$(STAGE)$(LIBDIR)/pkgconfig PKG_CONFIG_SYSROOT_DIR=$(STAGE) pkg-config
USER_CFLAGS = $(CFLAGS) $(CPPFLAGS) $(LDFLAGS) -Wall -Wextra -Wno-unused-parameter

examples: $(EXAMPLES) $(EXAMPLES:%=%-shared) $(EXAMPLES:%=%-static)

build/examples/%: examples/%.c build/libpager.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(EP_CFLAGS) $(LDFLAGS) -o $@ $< build/libpager.a $(LIBPAGER_LIBS) -lpthread

build/stage/.installed: build/libpager.so.1 build/libpager.a build/libpager.pc \
		libpager/libpager.h $(wildcard uapi/linux/*.h) $(DAEMONS)
	rm -rf $(STAGE)
	$(MAKE) --no-print-directory install DESTDIR=$(STAGE)
	touch $@

build/examples/%-shared: examples/%.c build/stage/.installed
	flags=$$($(STAGE_PC) --cflags --libs libpager) && \
	$(CC) $(USER_CFLAGS) -o $@ $< $$flags

build/examples/%-static: examples/%.c build/stage/.installed
	cflags=$$($(STAGE_PC) --static --cflags libpager) && \
	libs=$$($(STAGE_PC) --static --libs libpager) && \
	$(CC) $(USER_CFLAGS) -o $@ $< $$cflags -Wl,-Bstatic $$libs -Wl,-Bdynamic

# --- set-up, tests, checks ----------------------------------------------------
deps:
	@scripts/deps

check: deps
	@$(MAKE) --no-print-directory all packages
	@scripts/check $(KVER)

# The suite on each stock kernel (scripts/lib.sh's STOCK_KERNELS): a line
# per kernel, then the total.
check-kernels: deps
	@$(MAKE) --no-print-directory all packages
	@scripts/check kernels

check-debug: deps
	@$(MAKE) --no-print-directory all
	@scripts/check debug

# Figures, not assertions: every case runs in the same VM, side by side.
bench: deps
	@$(MAKE) --no-print-directory all
	@scripts/vm run --swap=512M -- \
		sh -c 'build/bench/fault_bench && build/bench/return_bench && build/bench/nbd_bench'

# dsmpager's figures need two kernels: a pair of guests, each running
# dsm_bench as its node; node 0 prints (Documentation/testing.rst).  A
# loaded host took 17 minutes, near scripts/vm's default 20.
bench-dsm: deps
	@$(MAKE) --no-print-directory all
	@scripts/vm pair --timeout=$${EXTPAGER_VM_TIMEOUT:-3600} -- build/bench/dsm_bench

# The manager-kill campaign: STRESS_KILLS kills (1000 by default),
# STRESS_SEED to replay a run, STRESS_KERNEL=debug for the debug kernel.
STRESS_KILLS ?= 1000
STRESS_KERNEL ?= stock
stress: deps
	@$(MAKE) --no-print-directory all
	@scripts/vm run --kernel=$(STRESS_KERNEL) --timeout=$${EXTPAGER_VM_TIMEOUT:-7200} -- \
		env STRESS_KILLS=$(STRESS_KILLS) STRESS_SEED=$(STRESS_SEED) build/stress/kill_stress

# filepager serving a file to a client under memory pressure, told in words
# (on KVER, as make check).
demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/vm run --kernel=$(KVER) -- scripts/demo

# The protocol fuzzer (Documentation/testing.rst): 1,000,000 messages on
# the debug kernel by default; it prints its seed, which FUZZ_SEED replays.
FUZZ_MESSAGES ?= 1000000
FUZZ_KERNEL ?= debug
FUZZ_SEED ?=
fuzz: deps
	@$(MAKE) --no-print-directory all
	@scripts/vm run --kernel=$(FUZZ_KERNEL) --timeout=$${EXTPAGER_VM_TIMEOUT:-14400} -- \
		fuzz/run $(FUZZ_MESSAGES) $(FUZZ_SEED)

# Fault injection (Documentation/testing.rst): the n-th allocation of each
# operation failed, for n = 1, 2, ... until none is left to fail.
check-faults: deps
	@$(MAKE) --no-print-directory all
	@scripts/vm run --kernel=debug --timeout=$${EXTPAGER_VM_TIMEOUT:-3600} -- faults/run

# dsmpager across two kernels (Documentation/testing.rst, "Two guests"):
# selftests/dsm/run.sh in both guests of a pair.  Their lines come tagged
# [0] and [1], so the closing line is made here: the guests' own summed,
# plus a failure for a pair run that failed with none (a splat, a hang),
# or that ended without a summary.
check-dsm: deps
	@$(MAKE) --no-print-directory all
	@log=$$(mktemp); \
	scripts/vm pair --kernel=$(KVER) --timeout=$${EXTPAGER_VM_TIMEOUT:-3600} -- \
		selftests/dsm/run.sh 2>&1 | tee $$log; rc=$${PIPESTATUS[0]}; \
	sed -n 's/^\[[01]\] \([0-9]\+\) passed, \([0-9]\+\) failed, \([0-9]\+\) skipped$$/\1 \2 \3/p' $$log | \
	awk -v rc=$$rc '{ p += $$1; f += $$2; s += $$3; n++ } \
		END { if (!n || (rc && !f)) f++; printf "%d passed, %d failed, %d skipped\n", p, f, s; exit f || rc }'; \
	st=$$?; rm -f $$log; exit $$st

checkpatch:
	@out=$$(perl $(ksrc)/scripts/checkpatch.pl --no-tree --strict --quiet \
		--show-types -f module/*.[ch] uapi/linux/*.h Kbuild); \
	if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; echo "checkpatch: clean"

regen:
	@scripts/ynl-regen

# The generated files match the spec; W=1 and sparse over every file of the
# module (C=2 checks even what is up to date); any warning fails.
lint: checkpatch
	@scripts/ynl-regen --check && echo "regen: generated files match the spec"
	@out=$$($(MAKE) --no-print-directory module W=1 C=2 2>&1); rc=$$?; echo "$$out"; \
	if [ $$rc != 0 ] || grep -qiE 'warning|error' <<<"$$out"; then \
		echo "lint: the module does not build cleanly with W=1 C=2" >&2; exit 1; fi; \
	echo "lint: W=1 and sparse clean"

# The uapi headers go under $(INCLUDEDIR)/extpager/linux/, which libpager.pc's
# Cflags name: /usr/include/linux/ belongs to the kernel's headers
# (linux-libc-dev).
install: libpager daemons
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/extpager/linux $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man8
	install -m 644 build/libpager.a $(DESTDIR)$(LIBDIR)/
	install -m 755 build/libpager.so.1 $(DESTDIR)$(LIBDIR)/
	ln -sf libpager.so.1 $(DESTDIR)$(LIBDIR)/libpager.so
	install -m 644 libpager/libpager.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 uapi/linux/extpager.h uapi/linux/extpager_channel.h $(DESTDIR)$(INCLUDEDIR)/extpager/linux/
	install -m 644 build/libpager.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	$(if $(DAEMONS),install -m 755 $(DAEMONS) $(DESTDIR)$(BINDIR)/)
	install -m 644 man/man3/*.3 $(DESTDIR)$(MANDIR)/man3/
	install -m 644 man/man8/*.8 $(DESTDIR)$(MANDIR)/man8/

# The Debian packages, built by dpkg-buildpackage from a copy of the tree in
# build/deb/ (it writes its results to the parent directory, and its clean
# step would remove build/), then moved to build/ and checked by lintian.
DEB_COPY := build/deb/extpager-$(VERSION)

deb:
	rm -rf build/deb build/*.deb
	mkdir -p $(DEB_COPY)
	tar -c --exclude=./build --exclude=./.git . | tar -x -C $(DEB_COPY)
	cd $(DEB_COPY) && dpkg-buildpackage -us -uc -b
	lintian --fail-on error build/deb/*.changes
	mv build/deb/*.deb build/

# What selftests/packages_test.sh runs: the packages unpacked, the examples
# built against them, the module built from extpager-dkms by DKMS.
packages: deb
	@scripts/packages

clean:
	rm -rf build
