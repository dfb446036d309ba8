# edgecr build.  `make` builds everything into build/, `make check` runs every
# test, `make run` starts the device flow on embedded defaults, `make deps`
# installs the Debian packages all of it needs (as root; the same as
# packaging/install-deps.sh, which also works before make is installed).

CC ?= cc
PKGS := libmicrohttpd jansson sqlite3 openssl libsystemd libcurl
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter \
	-Icommon $(shell pkg-config --cflags $(PKGS)) \
	-DEDGECR_LOCALEDIR='"$(LOCALEDIR)"' -DEDGECR_VERSION='"$(VERSION)"'
LDLIBS += $(shell pkg-config --libs $(PKGS)) -lpthread
PREFIX ?= /usr
LOCALEDIR ?= $(PREFIX)/share/locale
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

.PHONY: all check unit integration run deps bench pot install deb clean
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
UNIT_CFLAGS = $(CFLAGS) -Itests/unit -Iregistry -Iagent -Icmdlets
$(B)/tests/test_common_%: tests/unit/test_common_%.c tests/unit/unit.h $(B)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -o $@ $< $(B)/libcommon.a $(LDLIBS)
$(B)/tests/test_reg_%: tests/unit/test_reg_%.c tests/unit/unit.h $(B)/libregistry.a $(B)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -o $@ $< $(B)/libregistry.a $(B)/libcommon.a $(LDLIBS)
$(B)/tests/test_agent_%: tests/unit/test_agent_%.c tests/unit/unit.h $(B)/libagent.a $(B)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -o $@ $< $(B)/libagent.a $(B)/libcommon.a $(LDLIBS)
$(B)/tests/test_cmdlet_%: tests/unit/test_cmdlet_%.c tests/unit/unit.h $(B)/libcmdlet.a $(B)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -o $@ $< $(B)/libcmdlet.a $(B)/libcommon.a $(LDLIBS)

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
	@tests/bench/run.sh

pot:
	xgettext --keyword=_ --keyword=N_ --from-code=UTF-8 --add-comments=TRANSLATORS \
		-o po/edgecr.pot $(sort $(wildcard */*.c))

# Install layout: programs in /usr/sbin (agent, registry) and /usr/bin (the
# cmdlets), catalogs under LOCALEDIR, the unit, sysusers file and default
# configuration where systemd and Debian look for them.
DESTDIR ?=
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/edgecr \
		$(DESTDIR)/lib/systemd/system $(DESTDIR)$(PREFIX)/lib/sysusers.d $(DESTDIR)/etc/edgecr \
		$(DESTDIR)$(PREFIX)/share/doc/edgecr $(DESTDIR)$(PREFIX)/share/powershell/Modules/EdgeCR
	install -m 0755 $(B)/edgecr-agent $(B)/edgecr-registry $(DESTDIR)$(PREFIX)/sbin/
	install -m 0755 $(B)/edgecr-cmdlet $(DESTDIR)$(PREFIX)/bin/
	for n in $(CMDLET_NAMES); do ln -sf edgecr-cmdlet $(DESTDIR)$(PREFIX)/bin/$$n; done
	install -m 0644 packaging/systemd/edgecr-agent.service $(DESTDIR)/lib/systemd/system/
	install -m 0644 packaging/systemd/sysusers-edgecr.conf $(DESTDIR)$(PREFIX)/lib/sysusers.d/edgecr.conf
	install -m 0644 packaging/agent.conf $(DESTDIR)/etc/edgecr/agent.conf
	install -m 0644 README.md README.pt-PT.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/edgecr/
	install -m 0644 cmdlets/*.ps*1 $(DESTDIR)$(PREFIX)/share/powershell/Modules/EdgeCR/
	for mo in $(CATALOGS); do lang=$${mo#$(B)/locale/}; lang=$${lang%%/*}; \
		install -D -m 0644 $$mo $(DESTDIR)$(LOCALEDIR)/$$lang/LC_MESSAGES/edgecr.mo; done

# A binary Debian package built from the install tree with dpkg-deb.
deb: all
	rm -rf $(B)/deb && $(MAKE) install DESTDIR=$(CURDIR)/$(B)/deb
	install -d $(B)/deb/DEBIAN
	sed -e 's/@VERSION@/$(VERSION)/' -e "s/@ARCH@/$$(dpkg --print-architecture)/" \
		packaging/debian/control.in > $(B)/deb/DEBIAN/control
	install -m 0755 packaging/debian/postinst packaging/debian/prerm $(B)/deb/DEBIAN/
	install -m 0644 packaging/debian/conffiles $(B)/deb/DEBIAN/
	dpkg-deb --root-owner-group --build $(B)/deb $(B)/edgecr_$(VERSION)_$$(dpkg --print-architecture).deb

clean:
	rm -rf $(B)

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
