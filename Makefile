# edgecr build.  `make` builds everything into build/, `make check` runs every
# test, `make run` starts the device flow on embedded defaults, `make deps`
# installs the Debian packages all of it needs (as root; the same as
# packaging/install-deps.sh, which also works before make is installed).

CC ?= cc
PKGS := libmicrohttpd jansson sqlite3 openssl libsystemd libcurl yaml-0.1
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter \
	-Icommon $(shell pkg-config --cflags $(PKGS)) \
	-DEDGECR_LOCALEDIR='"$(LOCALEDIR)"' -DEDGECR_UIDIR='"$(UIDIR)"' -DEDGECR_VERSION='"$(VERSION)"'
LDLIBS += $(shell pkg-config --libs $(PKGS)) -lpthread
PREFIX ?= /usr
LOCALEDIR ?= $(PREFIX)/share/locale
# The web UI's static files, served by the agent's optional TCP listener.
UIDIR ?= $(PREFIX)/share/edgecr/ui
VERSION := 0.1.0

B ?= build
COMMON_SRC := $(wildcard common/*.c)
REGISTRY_SRC := $(filter-out registry/main.c,$(wildcard registry/*.c))
AGENT_SRC := $(filter-out agent/main.c,$(wildcard agent/*.c))
CMDLET_SRC := $(filter-out cmdlets/main.c,$(wildcard cmdlets/*.c))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
CMDLET_NAMES := Set-HcsKubernetesContainerRegistry Get-HcsKubernetesContainerRegistryInfo \
	Remove-HcsKubernetesContainerRegistry

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

PROGRAMS := $(if $(wildcard registry/main.c),$(B)/edgecr-registry) \
	$(if $(wildcard agent/main.c),$(B)/edgecr-agent) \
	$(if $(wildcard cmdlets/main.c),$(B)/edgecr-cmdlet)
UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
CATALOGS := $(patsubst po/%.po,$(B)/locale/%/LC_MESSAGES/edgecr.mo,$(wildcard po/*.po))

.PHONY: all check unit integration run deps bench pot install deb check-package clean \
	fuzz fuzz-build check-asan asan-build
all: $(PROGRAMS) $(CATALOGS) $(if $(wildcard cmdlets/main.c),cmdlet-links)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libcommon.a: $(call obj,$(COMMON_SRC))
$(B)/libregistry.a: $(call obj,$(REGISTRY_SRC))
$(B)/libagent.a: $(call obj,$(AGENT_SRC))
$(B)/libcmdlet.a: $(call obj,$(CMDLET_SRC))
$(B)/lib%.a:
	@mkdir -p $(B)
	rm -f $@ && $(AR) rcs $@ $^

$(B)/edgecr-registry: $(call obj,registry/main.c) $(B)/libregistry.a $(B)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/edgecr-agent: $(call obj,agent/main.c) $(B)/libagent.a $(B)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/edgecr-cmdlet: $(call obj,cmdlets/main.c) $(B)/libcmdlet.a $(B)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The cmdlets are one multi-call binary; each name is a symlink to it.
cmdlet-links: $(B)/edgecr-cmdlet
	@for n in $(CMDLET_NAMES); do ln -sf edgecr-cmdlet $(B)/$$n; done

# Unit tests are named after the part they test (test_common_*, test_reg_*,
# test_agent_*, test_cmdlet_*) and link only that part's library and common.
UNIT_CFLAGS = $(CFLAGS) -Itests/unit
$(B)/tests/test_common_%: tests/unit/test_common_%.c tests/unit/unit.h $(B)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -o $@ $< $(B)/libcommon.a $(LDLIBS)
$(B)/tests/test_reg_%: tests/unit/test_reg_%.c tests/unit/unit.h $(B)/libregistry.a $(B)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -Iregistry -o $@ $< $(B)/libregistry.a $(B)/libcommon.a $(LDLIBS)
$(B)/tests/test_agent_%: tests/unit/test_agent_%.c tests/unit/unit.h $(B)/libagent.a $(B)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -Iagent -o $@ $< $(B)/libagent.a $(B)/libcommon.a $(LDLIBS)
$(B)/tests/test_cmdlet_%: tests/unit/test_cmdlet_%.c tests/unit/unit.h $(B)/libcmdlet.a $(B)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -Icmdlets -o $@ $< $(B)/libcmdlet.a $(B)/libcommon.a $(LDLIBS)

$(B)/locale/%/LC_MESSAGES/edgecr.mo: po/%.po
	@mkdir -p $(dir $@)
	msgfmt --check -o $@ $<

unit: $(UNIT_TESTS)
	@tests/run-unit.sh $(UNIT_TESTS)

integration: all
	@tests/integration/run.sh

check: all $(UNIT_TESTS)
	@tests/run-all.sh $(UNIT_TESTS)

run: all
	@packaging/run-local.sh

deps:
	@packaging/install-deps.sh

bench: all
	@EDGECR_REGISTRY=$(abspath $(B))/edgecr-registry tests/bench/run.sh

pot:
	xgettext --keyword=_ --keyword=N_ --keyword=api_send_error:4 \
		--flag=api_send_error:4:c-format --from-code=UTF-8 --add-comments=TRANSLATORS \
		-o po/edgecr.pot $(sort $(wildcard */*.c))

# Install layout: programs in SBINDIR (agent, registry) and BINDIR (the
# cmdlets), the unit, sysusers and tmpfiles files where systemd looks for
# them on Debian 12, the default configuration, man pages, documentation,
# the PowerShell module and the catalogs under LOCALEDIR.
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
UNITDIR ?= /lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/edgecr
PSMODULEDIR ?= $(PREFIX)/share/powershell/Modules/EdgeCR
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(SYSCONFDIR)/edgecr \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(PSMODULEDIR) $(DESTDIR)$(UIDIR)
	install -m 0755 $(B)/edgecr-agent $(B)/edgecr-registry $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(B)/edgecr-cmdlet $(DESTDIR)$(BINDIR)/
	for n in $(CMDLET_NAMES); do ln -sf edgecr-cmdlet $(DESTDIR)$(BINDIR)/$$n; done
	sed -e 's|/usr/sbin/edgecr-agent|$(SBINDIR)/edgecr-agent|' \
		-e 's|/etc/edgecr/|$(SYSCONFDIR)/edgecr/|' -e 's|/usr/share/doc/edgecr/|$(DOCDIR)/|' \
		packaging/systemd/edgecr-agent.service > $(DESTDIR)$(UNITDIR)/edgecr-agent.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/edgecr-agent.service
	install -m 0644 packaging/systemd/sysusers-edgecr.conf $(DESTDIR)$(SYSUSERSDIR)/edgecr.conf
	install -m 0644 packaging/systemd/tmpfiles-edgecr.conf $(DESTDIR)$(TMPFILESDIR)/edgecr.conf
	install -m 0644 packaging/agent.conf $(DESTDIR)$(SYSCONFDIR)/edgecr/agent.conf
	install -m 0644 packaging/man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 packaging/man/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 README.md README.pt-PT.md docs/*.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 cmdlets/EdgeCR.psd1 cmdlets/EdgeCR.psm1 $(DESTDIR)$(PSMODULEDIR)/
	install -m 0644 share/ui/*.html share/ui/*.css share/ui/*.js $(DESTDIR)$(UIDIR)/
	for mo in $(CATALOGS); do lang=$${mo#$(B)/locale/}; lang=$${lang%%/*}; \
		install -D -m 0644 $$mo $(DESTDIR)$(LOCALEDIR)/$$lang/LC_MESSAGES/edgecr.mo; done

# The Debian package is built by dpkg-buildpackage and debhelper, which add
# the maintainer scripts for the unit, the sysusers and tmpfiles files, the
# shared library dependencies, stripping and the changelog.  debhelper needs
# debian/ at the top of a source tree, so this copies the sources and
# packaging/debian into $(B)/debsrc and builds there.  The result is
# $(B)/edgecr_$(VERSION)_ARCH.deb; make deb VERSION=... builds another version.
DEB_ARCH = $(shell dpkg --print-architecture)
DEB_STAGE = $(B)/debsrc/edgecr-$(VERSION)
DEB_SOURCES = Makefile README.md README.pt-PT.md common registry agent cmdlets po docs packaging share
deb:
	rm -rf $(B)/debsrc && mkdir -p $(DEB_STAGE)
	tar -cf - $(wildcard $(DEB_SOURCES)) | tar -xf - -C $(DEB_STAGE)
	cp -R packaging/debian $(DEB_STAGE)/debian
	sed -e 's/@VERSION@/$(VERSION)/' -e "s/@DATE@/$$(date -R)/" \
		packaging/debian/changelog.in > $(DEB_STAGE)/debian/changelog
	rm $(DEB_STAGE)/debian/changelog.in
	cd $(DEB_STAGE) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		dpkg-buildpackage --build=binary --no-sign -Jauto
	mv $(B)/debsrc/edgecr_$(VERSION)_$(DEB_ARCH).deb $(B)/

# Package tests (as root): lintian, systemd-analyze verify, then install,
# use, upgrade, remove and purge in a Debian 12 chroot; see docs/packaging.md.
# The upgrade starts from OLD_DEB, by default a package of this tree built
# with the lower version OLD_VERSION.
OLD_VERSION ?= $(VERSION)~pkgtest1
OLD_DEB ?=
check-package: deb
	$(if $(OLD_DEB),,$(MAKE) deb B=$(abspath $(B))/old VERSION='$(OLD_VERSION)')
	tests/package/run.sh $(B)/edgecr_$(VERSION)_$(DEB_ARCH).deb \
		$(or $(OLD_DEB),$(B)/old/edgecr_$(OLD_VERSION)_$(DEB_ARCH).deb)

# Fuzzing and sanitizer builds; docs/hardening.md describes both.
#
# `make fuzz` builds one libFuzzer program per parser of untrusted input
# (tests/fuzz/fuzz_*.c) with clang, AddressSanitizer and UBSan into
# $(FUZZ_B), then runs each for FUZZ_SECONDS on its seed corpus
# tests/fuzz/corpus/NAME/.  New inputs go to $(FUZZ_B)/corpus/NAME, crashes to
# $(FUZZ_B)/crashes/NAME.  The parts are built by a second make with these
# flags in the environment, so the usual CFLAGS additions still apply.
FUZZ_CC ?= clang
FUZZ_B ?= $(B)/fuzz
FUZZ_SECONDS ?= 20
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS ?= -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(FUZZ_B)/%,$(FUZZ_SRC))
FUZZ_LIBS = $(FUZZ_B)/libregistry.a $(FUZZ_B)/libagent.a $(FUZZ_B)/libcommon.a

fuzz-build:
	env CFLAGS='$(FUZZ_CFLAGS)' $(MAKE) CC=$(FUZZ_CC) B=$(FUZZ_B) $(FUZZ_LIBS)
	$(MAKE) $(FUZZ_TARGETS)

$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_LIBS)
	$(FUZZ_CC) $(CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Iregistry -Iagent -Itests/fuzz \
		-o $@ $< $(FUZZ_LIBS) $(LDLIBS)

fuzz: fuzz-build
	tests/fuzz/run-fuzz.sh $(FUZZ_B) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# `make check-asan` builds the programs and unit tests with ASan and UBSan
# (ASAN_CC, clang by default) into $(ASAN_B) and runs ASAN_SUITE on them, the
# whole of `make check` by default; ASAN_SUITE=tests/run-unit.sh runs only the
# unit tests.  Any sanitizer report fails the run (tests/fuzz/run-asan.sh).
ASAN_CC ?= clang
ASAN_B ?= $(B)/asan
ASAN_SUITE ?= tests/run-all.sh
# clang warns about tests/unit/test_reg_blobstore.c's HELLO_SHA256 + 7, which
# gcc, the compiler of the normal build, accepts; -Wno-error=string-plus-int keeps
# that one warning from failing this build.
ASAN_CFLAGS ?= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all -Wno-error=string-plus-int

asan-build:
	env CFLAGS='$(ASAN_CFLAGS)' LDFLAGS='$(ASAN_CFLAGS)' $(MAKE) CC=$(ASAN_CC) B=$(ASAN_B) \
		all $(patsubst $(B)/%,$(ASAN_B)/%,$(UNIT_TESTS))

check-asan: asan-build
	tests/fuzz/run-asan.sh $(ASAN_B) $(ASAN_SUITE) $(patsubst $(B)/%,$(ASAN_B)/%,$(UNIT_TESTS))

clean:
	rm -rf $(B)

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
