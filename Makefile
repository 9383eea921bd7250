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

# Debian packages: what the build, the tests, the demo and bench need.
DEB_PKGS   := nginx nginx-dev liblmdb-dev lmdb-utils libyajl-dev libssl-dev \
              tzdata wrk gcc make perl curl ca-certificates

.PHONY: all deps module unit tools check-layers test demo demo-stop bench clean

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
    echo "$(sort $(CORE_SRCS) $(LMDB_SRCS) $(OPS_SRCS) $(HTTP_SRCS) $(HDRS))" \
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

$(MODULE): $(NGX_BUILD)/Makefile ngx_evbill_module.c $(CORE_SRCS) \
           $(LMDB_SRCS) $(OPS_SRCS) $(HTTP_SRCS) $(HDRS)
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

test: deps
	$(MAKE) all
	tools/check-layers.sh
	prove -r t/

demo: deps
	$(MAKE) all
	@tools/demo.sh start

demo-stop:
	@tools/demo.sh stop

bench: deps
	$(MAKE) all
	@tools/bench.sh

clean:
	rm -rf $(BUILD)
