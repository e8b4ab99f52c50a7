# hvmdm: one non-recursive Makefile. Objects go under $(O)/ (build/ by
# default, build-asan/ for the sanitizer build). V=1 prints full commands.

O ?= build
-include config.mk

ifeq ($(wildcard config.mk),)
$(error run ./configure first (scripts/install-deps installs what it needs))
endif

Q := $(if $(filter 1,$(V)),,@)
WARNINGS := -Wall -Wextra -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
            -Wold-style-definition -Wnested-externs -Wno-unused-parameter
ifeq ($(WERROR),yes)
WARNINGS += -Werror
endif
CFLAGS ?= -O2 -g
SAN_FLAGS :=
ifeq ($(O),build-asan)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=undefined
endif
# libFuzzer builds (make fuzz, make fuzz-cov): clang, see fuzz/fuzz.h.
ifeq ($(O),build-fuzz)
SAN_FLAGS := -fsanitize=fuzzer-no-link,address,undefined \
             -fno-omit-frame-pointer -fno-sanitize-recover=undefined
FUZZ_LINK := -fsanitize=fuzzer,address,undefined
endif
ifeq ($(O),build-fuzz-cov)
SAN_FLAGS := -fsanitize=fuzzer-no-link -fprofile-instr-generate \
             -fcoverage-mapping
FUZZ_LINK := -fsanitize=fuzzer -fprofile-instr-generate
endif
ALL_CFLAGS := -std=gnu11 $(CFLAGS) $(SAN_FLAGS) $(WARNINGS) -I. -D_GNU_SOURCE \
              $(PKG_CFLAGS) -MMD -MP
LDLIBS := $(PKG_LIBS) -lpthread

# --- dm/ core: everything a device needs; shared by hvmdm and the tests
CORE_OBJS += dm/log.o
CORE_OBJS += dm/iomap.o
CORE_OBJS += dm/gmem.o
CORE_OBJS += dm/ioreq.o
CORE_OBJS += dm/ioreq-info.o
CORE_OBJS += dm/timer.o
CORE_OBJS += dm/irq.o
CORE_OBJS += dm/dev.o
CORE_OBJS += dm/machine.o
CORE_OBJS += dm/loop.o
CORE_OBJS += dm/chardev.o
CORE_OBJS += dm/opts.o
CORE_OBJS += dm/options.o
CORE_OBJS += dm/options-chardev.o
CORE_OBJS += dm/options-drive.o
CORE_OBJS += dm/options-net.o
CORE_OBJS += dm/options-device.o
CORE_OBJS += dm/qmp.o
CORE_OBJS += dm/report.o
CORE_OBJS += dm/hmp.o
CORE_OBJS += dm/qmp-cpus.o
CORE_OBJS += block/block.o
CORE_OBJS += block/block-qmp.o
CORE_OBJS += block/aio.o
CORE_OBJS += $(if $(filter 1,$(CONFIG_LIBURING)),block/aio-uring.o)
CORE_OBJS += block/raw.o
CORE_OBJS += block/qcow2.o
CORE_OBJS += ui/display.o
CORE_OBJS += ui/screendump.o

# --- hw/: devices and the board
HW_OBJS += hw/board.o
HW_OBJS += hw/pci/pci.o
HW_OBJS += hw/pci/pci-rom.o
HW_OBJS += hw/pci/pci-info.o
HW_OBJS += hw/pci/i440fx.o
HW_OBJS += hw/pci/piix3.o
HW_OBJS += hw/pci/piix4pm.o
HW_OBJS += hw/uart/uart16550.o
HW_OBJS += hw/i8042/i8042.o
HW_OBJS += hw/i8042/ps2.o
HW_OBJS += hw/cmos/cmos.o
HW_OBJS += hw/misc/port92.o
HW_OBJS += hw/ide/piix-ide.o
HW_OBJS += hw/ide/ata.o
HW_OBJS += hw/ide/atapi.o
HW_OBJS += hw/ide/bmdma.o
HW_OBJS += hw/xen-platform/xen-platform.o
HW_OBJS += hw/vga/stdvga.o
HW_OBJS += hw/vga/vga.o
HW_OBJS += hw/vga/vbe.o
HW_OBJS += hw/vga/vga-render.o
HW_OBJS += hw/vga/edid.o
HW_OBJS += hw/fw_cfg/fw_cfg.o
HW_OBJS += hw/fw_cfg/linuxboot.o
HW_OBJS += hw/fw_cfg/bootorder.o
HW_OBJS += hw/e1000/e1000.o
HW_OBJS += net/net.o
HW_OBJS += net/tap.o
HW_OBJS += $(if $(filter 1,$(CONFIG_SLIRP)),net/slirp.o,net/slirp-none.o)

# --- ui/: front ends, feeding the input devices above
HW_OBJS += ui/keymap.o
HW_OBJS += ui/vnc.o
HW_OBJS += ui/sdl.o
HW_OBJS += ui/vnc-qmp.o
HW_OBJS += ui/module.o
# hvmdm itself loads SDL and VNC as modules (ui/module.h): the tests link
# the front ends, hvmdm links ui/module.o and is built without them.
UI_VNC_OBJS := ui/vnc.o ui/keymap.o
UI_SDL_OBJS := ui/sdl.o
UI_MOD_OBJS := $(UI_VNC_OBJS) $(UI_SDL_OBJS)

# --- the Xen side and the process
XEN_OBJS += dm/hv-xen.o
XEN_OBJS += dm/main.o
XEN_OBJS += ui/module-calls.o

# --- tests/: runner, harness and test suites
TEST_OBJS += tests/runner.o
TEST_OBJS += tests/harness.o
TEST_OBJS += tests/replay.o
TEST_OBJS += tests/probe.o
TEST_OBJS += tests/test-iomap.o
TEST_OBJS += tests/test-ioreq.o
TEST_OBJS += tests/test-loop.o
TEST_OBJS += tests/test-gmem.o
TEST_OBJS += tests/test-core.o
TEST_OBJS += tests/test-uart.o
TEST_OBJS += tests/test-options.o
TEST_OBJS += tests/test-option-table.o
TEST_OBJS += tests/test-log.o
TEST_OBJS += tests/test-i8042.o
TEST_OBJS += tests/test-cmos.o
TEST_OBJS += tests/test-port92.o
TEST_OBJS += tests/test-pci.o
TEST_OBJS += tests/test-chipset.o
TEST_OBJS += tests/test-qmp.o
TEST_OBJS += tests/test-ide.o
TEST_OBJS += tests/test-atapi.o
TEST_OBJS += tests/test-block.o
TEST_OBJS += tests/test-fuzz.o
TEST_OBJS += tests/test-display.o
TEST_OBJS += tests/test-vnc.o
TEST_OBJS += tests/test-sdl.o
TEST_OBJS += tests/test-vga.o
TEST_OBJS += tests/test-vga-legacy.o
TEST_OBJS += tests/test-hostile.o
TEST_OBJS += tests/test-xen-platform.o
TEST_OBJS += tests/test-hostile-block.o
TEST_OBJS += tests/test-module.o

# --- firmware/hvmloader: the pure parts are also linked into the tests
FW_DIR := firmware/hvmloader
FW_PURE += lib-common
FW_PURE += pci-alloc
FW_PURE += pci-route
FW_PURE += e820
FW_PURE += acpi
FW_PURE += aml
FW_PURE += smbios
FW_PURE += mptable
FW_PURE += bios-info
FW_PURE += vcpu-ctx
FW_GEN := $(O)/firmware/gen
FW_HOST_OBJS := $(addprefix $(O)/firmware/host/,$(addsuffix .o,$(FW_PURE)))
FW_ASL := $(FW_DIR)/dsdt.asl $(FW_DIR)/links.asl $(FW_DIR)/isa.asl
FW_HEX := $(FW_GEN)/dsdt.hex $(FW_GEN)/ssdt_s3.hex $(FW_GEN)/ssdt_s4.hex \
          $(FW_GEN)/ssdt_vgid.hex
TEST_OBJS += tests/test-hvmloader.o
TEST_OBJS += tests/test-fw-cfg.o
TEST_OBJS += tests/test-e1000.o
TEST_OBJS += tests/test-net.o
# The firmware itself: freestanding 32-bit, no libc, one PT_LOAD.
FW_TARGET += start
FW_TARGET += hvmloader
FW_TARGET += console
FW_TARGET += xen
FW_TARGET += platform
FW_TARGET += pci
FW_TARGET += tables
FW_TARGET += bios
FW_TARGET += lib
FW_TARGET += smp
FW_TARGET += $(FW_PURE)
FW_OBJS := $(addprefix $(O)/firmware/target/,$(addsuffix .o,$(FW_TARGET)))
FW_BIN := $(O)/firmware/hvmloader
FW_CFLAGS := -m32 -march=i686 -O2 -std=gnu11 -ffreestanding -nostdinc \
             -isystem $(shell $(CC) -print-file-name=include) \
             -fno-pic -fno-pie -fno-stack-protector -fcf-protection=none \
             -fno-builtin -fno-tree-loop-distribute-patterns \
             -fno-asynchronous-unwind-tables -mno-sse -mno-mmx \
             $(WARNINGS) -I. -I$(FW_GEN) -MMD -MP

BENCH_IOREQ_OBJS := bench/ioreq.o
BENCH_IDE_OBJS := bench/ide.o bench/bench.o tests/harness.o
BENCH_VGA_OBJS := bench/vga.o bench/bench.o tests/harness.o
BENCH_FW_CFG_OBJS := bench/fw_cfg.o bench/bench.o tests/harness.o
BENCH_E1000_OBJS := bench/e1000.o bench/bench.o tests/harness.o
BENCH_VNC_OBJS := bench/vnc.o bench/bench.o tests/harness.o

DM_BIN := $(O)/hvmdm
DM_OBJS := $(filter-out $(UI_MOD_OBJS),$(CORE_OBJS) $(HW_OBJS)) $(XEN_OBJS)
DM_MODS := $(O)/hvmdm-ui-vnc.so $(O)/hvmdm-ui-sdl.so
DM_DYN := $(O)/ui/modules.dyn
TEST_BIN := $(O)/tests/run-tests
BENCH_BINS := $(O)/bench/ioreq
BENCH_BINS += $(O)/bench/ide
BENCH_BINS += $(O)/bench/vga
BENCH_BINS += $(O)/bench/fw_cfg
BENCH_BINS += $(O)/bench/e1000
BENCH_BINS += $(O)/bench/vnc

ALL_OBJS := $(CORE_OBJS) $(HW_OBJS) $(XEN_OBJS) $(TEST_OBJS) $(BENCH_IOREQ_OBJS) \
            $(BENCH_IDE_OBJS) $(BENCH_VGA_OBJS) $(BENCH_FW_CFG_OBJS)
ALL_OBJS += $(BENCH_E1000_OBJS)
ALL_OBJS += $(BENCH_VNC_OBJS)

.PHONY: all check check-asan bench clean distclean
all: $(DM_BIN) $(DM_MODS) $(TEST_BIN) $(BENCH_BINS) $(FW_BIN) $(MAN)

$(O)/%.o: %.c config.mk
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# hvmdm exports to the modules only what they call (DM_DYN), and
# --as-needed keeps the front ends' libraries out of it.
$(DM_BIN): $(addprefix $(O)/,$(DM_OBJS)) $(DM_DYN)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -Wl,--dynamic-list=$(DM_DYN) \
	    -Wl,--as-needed -o $@ $(filter %.o,$^) $(LDLIBS)

# The modules: position-independent objects under $(O)/pic/.
$(O)/pic/%.o: %.c config.mk
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $< (module)")
	$(Q)$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<

$(DM_DYN): $(addprefix $(O)/pic/,$(UI_MOD_OBJS))
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  GEN     $@")
	$(Q)nm -u $^ | awk 'NF == 2 && $$1 == "U" { print "  " $$2 ";" }' | \
	    sort -u | sed -e '1i {' -e '$$a };' > $@

$(O)/hvmdm-ui-vnc.so: $(addprefix $(O)/pic/,$(UI_VNC_OBJS))
$(O)/hvmdm-ui-sdl.so: $(addprefix $(O)/pic/,$(UI_SDL_OBJS))
$(DM_MODS):
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -shared -Wl,-Bsymbolic \
	    -Wl,--as-needed -o $@ $^ $(LDLIBS)

# Exports what the modules call, like hvmdm: tests/test-module.c loads one.
$(TEST_BIN): $(addprefix $(O)/,$(CORE_OBJS) $(HW_OBJS) $(TEST_OBJS)) \
             $(FW_HOST_OBJS) $(DM_DYN)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -Wl,--dynamic-list=$(DM_DYN) -o $@ \
	    $(filter %.o,$^) $(LDLIBS)

$(O)/bench/ioreq: $(addprefix $(O)/,$(CORE_OBJS) $(BENCH_IOREQ_OBJS))
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

$(O)/bench/ide: $(addprefix $(O)/,$(CORE_OBJS) $(HW_OBJS) $(BENCH_IDE_OBJS))
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

$(O)/bench/vga: $(addprefix $(O)/,$(CORE_OBJS) $(HW_OBJS) $(BENCH_VGA_OBJS))
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

$(O)/bench/fw_cfg: $(addprefix $(O)/,$(CORE_OBJS) $(HW_OBJS) \
                   $(BENCH_FW_CFG_OBJS))
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

$(O)/bench/e1000: $(addprefix $(O)/,$(CORE_OBJS) $(HW_OBJS) \
                  $(BENCH_E1000_OBJS))
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

$(O)/bench/vnc: $(addprefix $(O)/,$(CORE_OBJS) $(HW_OBJS) $(BENCH_VNC_OBJS))
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

# The DSDT and SSDTs: iasl compiles them to C arrays (-tc); prt.asl and
# cpus.asl are generated.
$(FW_GEN)/dsdt.hex: $(FW_ASL) $(FW_DIR)/gen-asl.sh
	@mkdir -p $(FW_GEN)
	$(if $(Q),@echo "  IASL    $<")
	$(Q)$(FW_DIR)/gen-asl.sh $(FW_GEN)
	$(Q)cp $(FW_ASL) $(FW_GEN)/
	$(Q)cd $(FW_GEN) && iasl -vs -tc -p dsdt dsdt.asl >iasl-dsdt.log 2>&1 || \
	    { cat iasl-dsdt.log; exit 1; }
	$(Q)! grep -E '^(Warning|Error|Remark)' $(FW_GEN)/iasl-dsdt.log

$(FW_GEN)/%.hex: $(FW_DIR)/%.asl
	@mkdir -p $(FW_GEN)
	$(if $(Q),@echo "  IASL    $<")
	$(Q)cp $< $(FW_GEN)/
	$(Q)cd $(FW_GEN) && iasl -vs -tc -p $* $*.asl >iasl-$*.log 2>&1 || \
	    { cat iasl-$*.log; exit 1; }

$(O)/firmware/host/%.o: $(FW_DIR)/%.c config.mk
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $< (host)")
	$(Q)$(CC) $(ALL_CFLAGS) -DHVMLOADER_HOST -I$(FW_GEN) -c -o $@ $<

$(O)/firmware/host/aml.o: $(FW_HEX)
$(O)/firmware/target/aml.o: $(FW_HEX)

$(O)/firmware/target/%.o: $(FW_DIR)/%.c config.mk
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $< (firmware)")
	$(Q)$(CC) $(FW_CFLAGS) -c -o $@ $<

$(O)/firmware/target/%.o: $(FW_DIR)/%.S config.mk
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  AS      $< (firmware)")
	$(Q)$(CC) $(FW_CFLAGS) -c -o $@ $<

$(FW_BIN): $(FW_OBJS) $(FW_DIR)/hvmloader.ld
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) -m32 -nostdlib -static -no-pie -Wl,--build-id=none \
	    -Wl,--no-warn-rwx-segments \
	    -Wl,-T,$(FW_DIR)/hvmloader.ld -o $@ $(FW_OBJS)

check: $(TEST_BIN) $(DM_BIN) $(DM_MODS)
	$(TEST_BIN) $(TESTS)

check-asan:
	$(MAKE) O=build-asan CFLAGS="-O1 -g" build-asan/tests/run-tests \
	    $(subst build/,build-asan/,$(DM_MODS))
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	    build-asan/tests/run-tests $(TESTS)

# End-to-end under the real Xen 4.17, emulated by qemu-system-x86_64
# (tests/xen/run): DM=hvmdm (default), DM=qemu (Debian's qemu-xen), or both.
# HVMLOADER=ours (or "xen ours") boots the guests with firmware/hvmloader.
DM ?= hvmdm
HVMLOADER ?= xen
.PHONY: check-xen
check-xen: $(if $(filter hvmdm,$(DM)),$(DM_BIN) $(DM_MODS)) \
           $(if $(filter ours,$(HVMLOADER)),$(FW_BIN))
	DM="$(DM)" HVMLOADER="$(HVMLOADER)" SOAK="$(SOAK)" tests/xen/run

# The main job: an unmodified Debian Linux guest booted under real Xen by
# xl with hvmdm as its device model: it starts on hvmdm's emulated disk and
# NIC, its PV drivers unplug them and take over (blkfront, netfront); then
# what the guest reported (PCI functions, disks, NICs), its VGA screen as a
# PNG (QMP screendump; LINUX_SCREEN=1 gives the Linux guests a VGA) and
# hvmdm's log (tests/xen/demo-show).
# SCENARIOS="..." runs other scenarios instead (e.g. disk-boot vga-banner).
DEMO_SCENARIOS = linux-net-pv
.PHONY: demo
demo: $(DM_BIN) $(DM_MODS)
	DM=hvmdm LINUX_SCREEN=1 \
	    SCENARIOS="$(or $(SCENARIOS),$(DEMO_SCENARIOS))" tests/xen/run; \
	    rc=$$?; tests/xen/demo-show; exit $$rc

bench: $(BENCH_BINS)
	$(O)/bench/ioreq
	$(O)/bench/ide
	$(O)/bench/vga
	$(O)/bench/fw_cfg
	$(O)/bench/e1000
	$(O)/bench/vnc

# --- fuzz/: one libFuzzer target per input surface (fuzz/fuzz.h). A new
# device's record target is fuzz/state-<dev>.c with FUZZ_STATE_TARGET and a
# line here. make fuzz runs each for FUZZ_TIME seconds on seeds made at build
# time (build-fuzz/seeds/), keeping a corpus in build-fuzz/corpus/; any
# crash, leak or timeout fails it (scripts/fuzz-run).
FUZZ_TARGETS += board
FUZZ_TARGETS += save-stream
FUZZ_TARGETS += qcow2
FUZZ_TARGETS += qmp
FUZZ_TARGETS += cmdline
FUZZ_TARGETS += replay
FUZZ_TARGETS += vnc
FUZZ_TARGETS += state-ide
FUZZ_TARGETS += state-uart
FUZZ_TARGETS += state-i8042
FUZZ_TARGETS += state-ps2-kbd
FUZZ_TARGETS += state-ps2-mouse
FUZZ_TARGETS += state-cmos
FUZZ_TARGETS += state-port92
FUZZ_TARGETS += state-piix3
FUZZ_TARGETS += state-piix4pm
FUZZ_TARGETS += state-i440fx
FUZZ_TARGETS += state-pci-bus
FUZZ_TARGETS += state-xen-platform
FUZZ_TARGETS += state-fw-cfg
FUZZ_TARGETS += state-vga
FUZZ_TARGETS += state-e1000
FUZZ_LIB_OBJS := tests/harness.o tests/replay.o fuzz/fuzz-common.o \
                 fuzz/fuzz-seeds.o fuzz/fuzz-state.o
FUZZ_CC ?= clang
FUZZ_TIME ?= 60
FUZZ_BINS := $(addprefix $(O)/fuzzers/,$(FUZZ_TARGETS))
FUZZ_SEEDS := $(addprefix $(O)/seeds/,$(addsuffix /.stamp,$(FUZZ_TARGETS)))

.SECONDARY: $(addprefix $(O)/fuzz/,$(addsuffix .o,$(FUZZ_TARGETS)))

$(O)/fuzzers/%: $(addprefix $(O)/,$(CORE_OBJS) $(HW_OBJS) $(FUZZ_LIB_OBJS)) \
                $(O)/fuzz/%.o
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(FUZZ_LINK) -o $@ $^ $(LDLIBS)

$(O)/seeds/%/.stamp: $(O)/fuzzers/%
	@rm -rf $(dir $@) && mkdir -p $(dir $@)
	$(Q)FUZZ_SEEDS=$(dir $@) $< > /dev/null
	@touch $@

.PHONY: fuzz fuzz-build fuzz-cov
fuzz-build:
	$(MAKE) O=build-fuzz CC=$(FUZZ_CC) WERROR=no CFLAGS="-O1 -g" \
	    $(subst build/,build-fuzz/,$(FUZZ_BINS) $(FUZZ_SEEDS))

fuzz: fuzz-build
	FUZZ_TIME=$(FUZZ_TIME) scripts/fuzz-run build-fuzz $(FUZZ_TARGETS)

# Line coverage of each target's corpus: clang's source-based coverage.
fuzz-cov: fuzz-build
	$(MAKE) O=build-fuzz-cov CC=$(FUZZ_CC) WERROR=no CFLAGS="-O1 -g" \
	    $(subst build/,build-fuzz-cov/,$(FUZZ_BINS))
	scripts/fuzz-run --coverage build-fuzz-cov $(FUZZ_TARGETS)

# ---- the man page: doc/hvmdm.1.in with the option table (tools/optdoc);
# @PREFIX@ is filled in by make install.
OPTDOC_OBJS := dm/options.o dm/opts.o dm/log.o tools/optdoc.o
OPTDOC_OBJS += dm/options-chardev.o dm/options-drive.o dm/options-net.o
OPTDOC_OBJS += dm/options-device.o
ALL_OBJS += tools/optdoc.o
MAN := $(O)/hvmdm.1
HVMDM_VERSION = $(shell sed -n 's/^\#define HVMDM_VERSION "\(.*\)"/\1/p' \
                  dm/report.h)

$(O)/tools/optdoc: $(addprefix $(O)/,$(OPTDOC_OBJS))
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

$(MAN): doc/hvmdm.1.in $(O)/tools/optdoc dm/report.h
	$(if $(Q),@echo "  GEN     $@")
	$(Q)for s in implemented warned refused; do \
	    $(O)/tools/optdoc $$s > $@.$$s || exit 1; done
	$(Q)sed -e 's|@VERSION@|$(HVMDM_VERSION)|g' \
	    -e '/^@OPTIONS@$$/{r $@.implemented' -e 'd}' \
	    -e '/^@WARNED@$$/{r $@.warned' -e 'd}' \
	    -e '/^@REFUSED@$$/{r $@.refused' -e 'd}' $< > $@
	$(Q)rm -f $@.implemented $@.warned $@.refused

# ---- make install / uninstall: ./configure --prefix=DIR, DESTDIR=STAGING
BINDIR = $(PREFIX)/bin
FWDIR = $(PREFIX)/lib/hvmdm
MANDIR = $(PREFIX)/share/man/man1
DOCDIR = $(PREFIX)/share/doc/hvmdm
INSTALL ?= install
INSTALLED := $(BINDIR)/hvmdm $(FWDIR)/hvmloader $(MANDIR)/hvmdm.1 \
             $(addprefix $(FWDIR)/,$(notdir $(DM_MODS))) \
             $(DOCDIR)/xl.cfg.example

.PHONY: install uninstall check-install
install: $(DM_BIN) $(DM_MODS) $(FW_BIN) $(MAN)
	$(INSTALL) -d $(addprefix $(DESTDIR),$(BINDIR) $(FWDIR) $(MANDIR) \
	    $(DOCDIR))
	$(INSTALL) -m 755 $(DM_BIN) $(DESTDIR)$(BINDIR)/hvmdm
	$(INSTALL) -m 644 $(FW_BIN) $(DESTDIR)$(FWDIR)/hvmloader
	$(INSTALL) -m 644 $(DM_MODS) $(DESTDIR)$(FWDIR)/
	sed 's|@PREFIX@|$(PREFIX)|g' $(MAN) > $(DESTDIR)$(MANDIR)/hvmdm.1
	sed 's|@PREFIX@|$(PREFIX)|g' doc/xl.cfg.example \
	    > $(DESTDIR)$(DOCDIR)/xl.cfg.example
	chmod 644 $(DESTDIR)$(MANDIR)/hvmdm.1 $(DESTDIR)$(DOCDIR)/xl.cfg.example

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	rmdir $(DESTDIR)$(FWDIR) $(DESTDIR)$(DOCDIR) 2>/dev/null || true

# Install into a scratch DESTDIR, check what landed, uninstall.
check-install: $(DM_BIN) $(DM_MODS) $(FW_BIN) $(MAN)
	tests/check-install.sh

clean:
	rm -rf build build-asan build-fuzz build-fuzz-cov

distclean: clean
	rm -f config.mk config.h

-include $(addprefix $(O)/,$(ALL_OBJS:.o=.d))
-include $(addprefix $(O)/pic/,$(UI_MOD_OBJS:.o=.d))
-include $(FW_HOST_OBJS:.o=.d) $(FW_OBJS:.o=.d)
-include $(addprefix $(O)/,$(FUZZ_LIB_OBJS:.o=.d))
-include $(addprefix $(O)/fuzz/,$(addsuffix .d,$(FUZZ_TARGETS)))
