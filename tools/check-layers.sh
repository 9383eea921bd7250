#!/bin/sh
# The include direction of evbill's layers (docs/architecture.md):
#   ngx_evbill_module.c -> src/http -> src/ops -> {src/core, lmdb}
# lmdb/ may include only src/core's basic headers; src/core includes
# neither nginx, LMDB nor ops; src/ops no nginx header.  Prints every
# include that breaks it and exits 1.  Run by `make test`.

cd "$(dirname "$0")/.." || exit 2

# src/core headers that lmdb/ may use: plain data and problems, no rules
LMDB_CORE_OK='evb_core.h evb_model.h evb_problem.h evb_party.h evb_feed.h'

bad=0

fail() {
    echo "check-layers: $1: includes $2 ($3)" >&2
    bad=1
}

incs() {
    # the include targets of a file, one a line
    sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]\([^>"]*\)[>"].*/\1/p' "$1"
}

for f in src/core/*.[ch]; do
    for i in $(incs "$f"); do
        case "$i" in
        ngx_*|*/ngx_*|nginx.h)
            fail "$f" "$i" "src/core includes no nginx header" ;;
        lmdb.h|*lmdb/*|evb_store.h|evb_codec.h)
            fail "$f" "$i" "src/core includes no LMDB or store header" ;;
        *ops/*|evb_ops*.h)
            fail "$f" "$i" "src/core includes no ops header" ;;
        *http/*)
            fail "$f" "$i" "src/core includes no http header" ;;
        esac
    done
done

for f in lmdb/*.[ch]; do
    for i in $(incs "$f"); do
        case "$i" in
        ngx_*|*/ngx_*|nginx.h)
            fail "$f" "$i" "lmdb/ includes no nginx header" ;;
        openssl/*)
            fail "$f" "$i" "lmdb/ includes no OpenSSL header" ;;
        *ops/*|evb_ops*.h|*http/*)
            fail "$f" "$i" "lmdb/ is below src/ops and src/http" ;;
        ../src/core/*)
            ok=0
            for h in $LMDB_CORE_OK; do
                [ "$i" = "../src/core/$h" ] && ok=1
            done
            [ $ok = 1 ] || fail "$f" "$i" \
                "lmdb/ uses only src/core's basic types: $LMDB_CORE_OK"
            ;;
        evb_store.h|evb_store_*.h|evb_codec.h|lmdb.h) ;;
        evb_*)
            fail "$f" "$i" "lmdb/ names src/core headers by path" ;;
        esac
    done
done

for f in src/ops/*.[ch]; do
    [ -e "$f" ] || continue
    for i in $(incs "$f"); do
        case "$i" in
        ngx_*|*/ngx_*|nginx.h)
            fail "$f" "$i" "src/ops includes no nginx header" ;;
        lmdb.h)
            fail "$f" "$i" "src/ops uses the store's API, not LMDB" ;;
        *http/*)
            fail "$f" "$i" "src/ops is below src/http" ;;
        esac
    done
done

for f in src/http/*.[ch]; do
    for i in $(incs "$f"); do
        case "$i" in
        lmdb.h)
            fail "$f" "$i" "src/http writes through src/ops, reads through the store's API" ;;
        evb_codec.h|*/evb_codec.h|evb_store_int.h|*/evb_store_int.h)
            fail "$f" "$i" "the record codec is private to lmdb/" ;;
        esac
    done
done

[ $bad = 0 ] && echo "check-layers: ok"
exit $bad
