# evbill: build the nginx module against Debian's nginx, run the tests,
# play the demo.  `make demo` and `make test` install what is missing.

SHELL      := /bin/bash
TOP        := $(abspath .)
BUILD      := $(TOP)/build
NGX_SRC    := /usr/share/nginx/src
NGX_BUILD  := $(BUILD)/nginx
MODULE     := $(BUILD)/ngx_evbill_module.so
NGINX      ?= /usr/sbin/nginx

CC         ?= cc
CFLAGS_CORE := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror \
               -Wno-unused-parameter -Wpointer-arith -fPIC
LIBS       := -llmdb -lyajl -lcrypto

CORE_SRCS  := $(wildcard src/core/*.c)
LMDB_SRCS  := $(wildcard lmdb/*.c)
OPS_SRCS   := $(wildcard src/ops/*.c)
HTTP_SRCS  := $(wildcard src/http/*.c)
HDRS       := $(wildcard src/core/*.h lmdb/*.h src/ops/*.h src/http/*.h)
UNIT_SRCS  := $(wildcard t/unit/test_*.c)
UNIT_BINS  := $(patsubst t/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))
TOOL_SRCS  := $(wildcard tools/*.c)
TOOL_BINS  := $(patsubst tools/%.c,$(BUILD)/%,$(TOOL_SRCS))

# Debian packages: what the build, the tests, the demo and bench need;
# dpkg-dev to fetch nginx's source, pcre2 and zlib to build it, clang and
# its runtimes for make asan and make fuzz; Java with Saxon-HE (CEN's
# EN 16931 rules), xmllint (the UBL schema), Chromium and pdftotext for
# the invoice documents' tests and make invoice-preview.
DEB_PKGS   := nginx nginx-dev liblmdb-dev lmdb-utils libyajl-dev libssl-dev nodejs \
              tzdata wrk gcc make perl curl ca-certificates \
              dpkg-dev libpcre2-dev zlib1g-dev clang-14 libclang-rt-14-dev \
              default-jre-headless libsaxonhe-java chromium poppler-utils \
              libxml2-utils

.PHONY: all deps module unit tools check-layers test demo demo-stop \
        bench bench-scale clean static asan asan-build fuzz fuzz-build \
        invoice-preview

# objects are shared by unit tests and tools: never delete them as
# intermediates (that races with a parallel make)
.SECONDARY:

all: module unit tools

# Install only what is missing, so a prepared machine does not touch apt.
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
	        | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "evbill: installing$$missing"; \
	    if [ "$$(id -u)" != 0 ]; then SUDO=sudo; fi; \
	    $$SUDO apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q \
	        --no-install-recommends $$missing; \
	fi

# nginx's configure writes into its working directory, so configure a
# private copy of Debian's nginx-dev tree rather than /usr/share.
# config lists the sources when it runs: configure again when that list
# changes.
SRCLIST    := $(BUILD)/srclist
$(shell mkdir -p $(BUILD); \
    echo "$(sort $(CORE_SRCS) $(LMDB_SRCS) $(OPS_SRCS) $(HTTP_SRCS) \
                 $(HDRS))" \
        > $(SRCLIST).new; \
    cmp -s $(SRCLIST).new $(SRCLIST) || mv $(SRCLIST).new $(SRCLIST))

$(NGX_BUILD)/Makefile: config $(NGX_SRC)/conf_flags $(SRCLIST)
	rm -rf $(NGX_BUILD) && mkdir -p $(BUILD)
	cp -r $(NGX_SRC) $(NGX_BUILD)
	cd $(NGX_BUILD) && . ./conf_flags && \
	    ./configure "$${NGX_CONF_FLAGS[@]}" \
	        --builddir=$(NGX_BUILD)/objs \
	        --add-dynamic-module=$(TOP) > $(BUILD)/configure.log 2>&1 \
	    || { tail -20 $(BUILD)/configure.log; exit 1; }

module: $(MODULE)

MODULE_SRCS := ngx_evbill_module.c $(CORE_SRCS) $(LMDB_SRCS) $(OPS_SRCS) \
               $(HTTP_SRCS) $(HDRS)

$(MODULE): $(NGX_BUILD)/Makefile $(MODULE_SRCS)
	$(MAKE) -C $(NGX_BUILD) -f objs/Makefile modules \
	    > $(BUILD)/modules.log 2>&1 \
	    || { grep -E 'error|warning' -A3 $(BUILD)/modules.log | head -60; \
	         exit 1; }
	cp $(NGX_BUILD)/objs/ngx_evbill_module.so $(MODULE).tmp
	mv -f $(MODULE).tmp $(MODULE)

# Core, ops and store objects for unit tests and tools (no nginx).
$(BUILD)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_CORE) -c $< -o $@

CORE_OBJS  := $(patsubst %.c,$(BUILD)/obj/%.o,$(CORE_SRCS) $(LMDB_SRCS) \
                $(OPS_SRCS))

$(BUILD)/unit/%: t/unit/%.c t/unit/tap.h $(CORE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_CORE) -Wno-unused-function $< $(CORE_OBJS) -o $@ $(LIBS)

unit: $(UNIT_BINS)

$(BUILD)/%: tools/%.c $(CORE_OBJS)
	$(CC) $(CFLAGS_CORE) $< $(CORE_OBJS) -o $@ $(LIBS)

tools: $(TOOL_BINS)

# the include direction of the layers (docs/architecture.md)
check-layers:
	@tools/check-layers.sh

# The static build: nginx 1.22.1 from Debian's source package (nginx-dev
# has headers only) with the module compiled in (--add-module), configured
# with Debian's flags.  The source is fetched once and kept under build/.
NGX_FULL   := $(BUILD)/nginx-src
STATIC_DIR := $(BUILD)/static
STATIC_NGX := $(STATIC_DIR)/nginx
# the tests that check problem+json for nginx's own statuses
STATIC_TESTS := t/50-badinput.t t/52-nginx-errors.t

$(NGX_FULL)/.complete: tools/nginx-src.sh
	tools/nginx-src.sh $(NGX_FULL)

# $(call ngx_configure,builddir,extra configure arguments): Debian's flags
# without what a static build cannot take (other dynamic modules).
# configure also writes a Makefile into the shared source tree; the
# builds use their own objs/Makefile only.
define ngx_configure
	rm -rf $(1) && mkdir -p $(1)
	cd $(NGX_FULL) && . $(NGX_SRC)/conf_flags && flags=() && \
	    for f in "$${NGX_CONF_FLAGS[@]}"; do \
	        case $$f in --add-dynamic-module=*) ;; *) flags+=("$$f") ;; esac; \
	    done && \
	    ./configure "$${flags[@]}" --builddir=$(1)/objs \
	        --add-module=$(TOP) $(2) > $(1)/configure.log 2>&1 \
	    || { tail -20 $(1)/configure.log; exit 1; }
endef

# $(call ngx_make,builddir,binary): objs/Makefile uses paths relative to
# the source tree.
define ngx_make
	$(MAKE) -C $(NGX_FULL) -f $(1)/objs/Makefile binary \
	    > $(1)/make.log 2>&1 \
	    || { grep -E 'error|warning' -A3 $(1)/make.log | head -60; exit 1; }
	cp $(1)/objs/nginx $(2).tmp && mv -f $(2).tmp $(2)
endef

# (the Makefile holds the configure flags)
$(STATIC_DIR)/objs/Makefile: $(NGX_FULL)/.complete config Makefile \
                             $(NGX_SRC)/conf_flags $(SRCLIST)
	$(call ngx_configure,$(STATIC_DIR))

$(STATIC_NGX): $(STATIC_DIR)/objs/Makefile $(MODULE_SRCS)
	$(call ngx_make,$(STATIC_DIR),$@)

static: $(STATIC_NGX)

test: deps
	$(MAKE) all static
	tools/check-layers.sh
	prove -r t/
	TEST_EVBILL_NGINX=$(STATIC_NGX) TEST_EVBILL_STATIC=1 \
	    prove $(STATIC_TESTS)

# make asan: the same nginx source and the module under ASan and UBSan
# (clang), the whole t/ suite against that binary, and the unit tests
# built with the same sanitizers.  Any report fails the run: the first
# one stops the process, and the harness fails a test file whose
# directory holds a report (t/lib/Evbill/Test.pm).
SAN_CC     := clang-14
SAN_FLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
              -fno-omit-frame-pointer
# clang's may-be-uninitialized analysis (nginx turns it on for clang)
# flags paths gcc's -Werror build proves fine; the sanitizers are the
# point here
SAN_WARN   := -Wno-conditional-uninitialized
ASAN_DIR   := $(BUILD)/asan
ASAN_NGX   := $(ASAN_DIR)/nginx
SAN_ENV    := ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=0 \
              UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ASAN_UNITS := $(patsubst t/unit/%.c,$(ASAN_DIR)/unit/%,$(UNIT_SRCS))
ASAN_OBJS  := $(patsubst %.c,$(ASAN_DIR)/obj/%.o,$(CORE_SRCS) $(LMDB_SRCS) \
                $(OPS_SRCS))
CFLAGS_SAN := $(filter-out -O2 -fPIC,$(CFLAGS_CORE)) -O1 $(SAN_FLAGS) \
              $(SAN_WARN)

$(ASAN_DIR)/objs/Makefile: $(NGX_FULL)/.complete config Makefile \
                           tools/ubsan-nginx.ignore \
                           $(NGX_SRC)/conf_flags $(SRCLIST)
	$(call ngx_configure,$(ASAN_DIR),--with-cc=$(SAN_CC) \
	    --with-cc-opt="-O1 -g $(SAN_FLAGS) $(SAN_WARN) \
	        -fsanitize-ignorelist=$(TOP)/tools/ubsan-nginx.ignore" --with-ld-opt="$(SAN_FLAGS)")

$(ASAN_NGX): $(ASAN_DIR)/objs/Makefile $(MODULE_SRCS)
	$(call ngx_make,$(ASAN_DIR),$@)

$(ASAN_DIR)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(CFLAGS_SAN) -c $< -o $@

$(ASAN_DIR)/unit/%: t/unit/%.c t/unit/tap.h $(ASAN_OBJS)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(CFLAGS_SAN) -Wno-unused-function $< $(ASAN_OBJS) -o $@ \
	    $(LIBS)

asan-build: $(ASAN_NGX) $(ASAN_UNITS)

asan: deps
	$(MAKE) all
	$(MAKE) asan-build
	$(SAN_ENV) prove --exec '' $(ASAN_UNITS)
	$(SAN_ENV) TEST_EVBILL_NGINX=$(ASAN_NGX) TEST_EVBILL_STATIC=1 \
	    TEST_EVBILL_TIMEOUT=600 prove -r t/

# make fuzz: a libFuzzer harness per parser of untrusted input
# (t/fuzz/*.c), each run FUZZ_SECONDS from its seeds in
# t/fuzz/corpus/NAME/; new inputs and crashes go to build/fuzz/NAME/.
FUZZ_SECONDS ?= 60
# leaks count here (libFuzzer checks them after each input)
FUZZ_ENV   := ASAN_OPTIONS=halt_on_error=1 \
              UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
FUZZ_DIR   := $(BUILD)/fuzz
FUZZ_SRCS  := $(wildcard t/fuzz/*.c)
FUZZ_BINS  := $(patsubst t/fuzz/%.c,$(FUZZ_DIR)/bin/%,$(FUZZ_SRCS))
FUZZ_OBJS  := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(CORE_SRCS) $(LMDB_SRCS) \
                $(OPS_SRCS))
CFLAGS_FUZZ := $(CFLAGS_SAN)

$(FUZZ_DIR)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(CFLAGS_FUZZ) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/bin/%: t/fuzz/%.c $(FUZZ_OBJS)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(CFLAGS_FUZZ) -Wno-unused-function -fsanitize=fuzzer \
	    -Isrc/core -Ilmdb $< \
	    $(FUZZ_OBJS) -o $@ $(LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: deps
	$(MAKE) fuzz-build
	$(FUZZ_ENV) tools/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_DIR) $(FUZZ_BINS)

demo: deps
	$(MAKE) all
	@tools/demo.sh start

demo-stop:
	@tools/demo.sh stop

bench: deps
	$(MAKE) all
	@tools/bench.sh

# the idle sweep with many open sessions (BENCH_SESSIONS, default 1e6,
# loaded once by build/evbill-bulk and kept under build/bench-scale/)
bench-scale: deps
	$(MAKE) all
	@tools/bench-scale.sh

# A PNG of a sample HTML invoice (German, two VAT rates, a max_price
# allowance) as headless Chromium renders it, for people to look at; the
# sample documents (HTML and UBL) stay beside it under var/invoice-preview/.
PREVIEW    := $(TOP)/var/invoice-preview.png
PREVIEW_DIR := $(TOP)/var/invoice-preview

invoice-preview: deps
	$(MAKE) $(BUILD)/evbill-invoice-sample
	@mkdir -p $(PREVIEW_DIR)
	@$(BUILD)/evbill-invoice-sample $(PREVIEW_DIR) > /dev/null
	@profile=$$(mktemp -d) && \
	    timeout 120 chromium --headless --no-sandbox --disable-gpu \
	        --disable-dev-shm-usage --hide-scrollbars \
	        --user-data-dir=$$profile --window-size=900,1450 \
	        --screenshot=$(PREVIEW) \
	        file://$(PREVIEW_DIR)/invoice-de-max-price.html \
	        > $(PREVIEW_DIR)/chromium.log 2>&1; \
	    rc=$$?; rm -rf $$profile; \
	    if [ $$rc != 0 ] || [ ! -s $(PREVIEW) ]; then \
	        tail -5 $(PREVIEW_DIR)/chromium.log; exit 1; fi
	@echo $(PREVIEW)

clean:
	rm -rf $(BUILD)
