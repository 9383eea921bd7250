#!/bin/bash
# make bench: durable signed reading ingest against bare nginx and a
# keepalive proxy, with the same client (build/evbill-load) doing the same
# signing work in all three cases.
#
# One nginx (2 workers) with three servers on free 127.0.0.1 ports:
#   evbill  the charger API (+ admin API), a store in a fresh directory
#   bare    location / { return 200; }
#   proxy   location / { proxy_pass to bare over keepalive connections }
# Each case: BENCH_CONNECTIONS (64) connections, one session each,
# BENCH_WARMUP (2) s of warmup, then BENCH_DURATION (10) s measured.
# For every case it prints the workers' CPU per answered request (user
# and system time of nginx's worker processes from /proc/PID/stat over
# the run), which other work on the machine does not change much.
# For the evbill case it also prints what a commit writes (bytes the
# workers wrote to storage, from /proc/PID/io, over the write transactions
# counted by GET admin/store) and the store's bytes per reading; then, on
# a fresh store, BENCH_SESSIONS2 (64) interleaved sessions of
# BENCH_READINGS2 (40) readings each and the store's bytes per reading.
#
# Environment: BENCH_DURATION, BENCH_WARMUP, BENCH_CONNECTIONS,
# BENCH_THREADS (client threads, 1), BENCH_KEEP=1 (keep the directory),
# NGINX (/usr/sbin/nginx).
#
# Informational: the targets print PASS or MISS and the exit status is 0
# unless the bench itself could not run.

set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
NGINX=${NGINX:-/usr/sbin/nginx}
MODULE=$TOP/build/ngx_evbill_module.so
LOAD=$TOP/build/evbill-load
DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-1}
SESSIONS2=${BENCH_SESSIONS2:-64}
READINGS2=${BENCH_READINGS2:-40}
PAGE=$(getconf PAGESIZE)

for f in "$MODULE" "$LOAD"; do
    [ -x "$f" ] || [ -f "$f" ] || { echo "bench: $f missing (make all)" >&2;
                                    exit 1; }
done

mkdir -p "$TOP/build/bench"
# on the build disk, not a tmpfs: the fsync of every commit is the point
DIR=$(mktemp -d "$TOP/build/bench/run.XXXXXX")
chmod 755 "$DIR"

. "$TOP/tools/lib/nginx-stop.sh"
stop_nginx() { evb_stop_nginx "$DIR/nginx.pid" 100; }

cleanup() {
    stop_nginx
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "bench: kept $DIR"
    else
        rm -rf "$DIR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Three free ports, distinct.
read -r P_EVB P_BARE P_PROXY < <(perl -MIO::Socket::INET -e '
    my (@s, @p);
    for (1 .. 3) {
        my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
            LocalPort => 0, Listen => 1, Proto => "tcp") or die "$!";
        push @s, $s; push @p, $s->sockport;
    }
    print "@p\n";')

# A private copy of the module: a rebuild copies the .so in place, and
# running workers that have the old one mapped would crash.
cp "$MODULE" "$DIR/ngx_evbill_module.so"

head -c 32 /dev/urandom > "$DIR/master.key"
chmod 600 "$DIR/master.key"

ADMIN=http://127.0.0.1:$P_EVB/admin
SECRET=$(head -c 32 /dev/urandom | base64 -w0)
KEY_ID=bench-key-$$
# for replaying by hand with BENCH_KEEP=1
(umask 077; echo "$KEY_ID $SECRET" > "$DIR/charger.key")
CHARGER=BENCH-$$

# start_evbill STORE: nginx with its store in $DIR/STORE, the tariff and
# the charger
start_evbill() {
    local up i code

    cat > "$DIR/nginx.conf" <<EOF
load_module $DIR/ngx_evbill_module.so;
worker_processes 2;
error_log $DIR/error.log warn;
pid $DIR/nginx.pid;

events {
    worker_connections 4096;
}

http {
    access_log off;
    client_body_temp_path $DIR/client_body_temp;
    proxy_temp_path $DIR/proxy_temp;
    fastcgi_temp_path $DIR/fastcgi_temp;
    uwsgi_temp_path $DIR/uwsgi_temp;
    scgi_temp_path $DIR/scgi_temp;

    # nginx closes a keepalive connection after 1000 requests by default;
    # the client would then pay for reconnects in every case alike
    keepalive_requests 100000000;
    keepalive_timeout 75s;

    evbill_store $DIR/$1 size=1g;
    evbill_master_key_file $DIR/master.key;
    evbill_cpo DE EXA;
    client_max_body_size 256k;
    client_body_buffer_size 256k;

    upstream backend {
        server 127.0.0.1:$P_BARE;
        keepalive 64;
        keepalive_requests 100000000;
    }

    server {
        listen 127.0.0.1:$P_EVB;
        location /charger/ { evbill_charger_api; }
        location /admin/   { allow 127.0.0.1; deny all; evbill_admin_api; }
    }

    server {
        listen 127.0.0.1:$P_BARE;
        location / { return 200; }
    }

    server {
        listen 127.0.0.1:$P_PROXY;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF

    if ! "$NGINX" -p "$DIR/" -c "$DIR/nginx.conf" -e "$DIR/error.log" \
        > "$DIR/start.out" 2>&1
    then
        echo "bench: nginx failed to start:" >&2
        cat "$DIR/start.out" >&2
        tail -5 "$DIR/error.log" >&2 || true
        return 1
    fi

    up=0
    for i in $(seq 1 100); do
        if curl -s -m 2 -o /dev/null "$ADMIN/store"; then
            up=1
            break
        fi
        sleep 0.05
    done
    [ "$up" = 1 ] || { echo "bench: nginx does not answer" >&2; return 1; }

    # The charger's tariff, so that ingest includes live rating: five
    # restricted elements (time of day, weekdays, kWh, duration, power).
    code=$(curl -s -m 10 -o "$DIR/tariff.out" -w '%{http_code}' -X PUT \
        -H 'Content-Type: application/json' --data-binary @- \
        "$ADMIN/tariffs/TARIFF1" <<EOF
{"country_code":"DE","party_id":"EXA","id":"TARIFF1","currency":"EUR",
 "elements":[
  {"price_components":[{"type":"ENERGY","price":0.45,"vat":19,"step_size":1}],
   "restrictions":{"start_time":"17:00","end_time":"20:00",
                   "day_of_week":["MONDAY","TUESDAY","WEDNESDAY","THURSDAY","FRIDAY"]}},
  {"price_components":[{"type":"ENERGY","price":0.30,"vat":19,"step_size":1}],
   "restrictions":{"max_kwh":20}},
  {"price_components":[{"type":"TIME","price":1.20,"vat":19,"step_size":60}],
   "restrictions":{"min_duration":7200}},
  {"price_components":[{"type":"ENERGY","price":0.25,"vat":19,"step_size":1}],
   "restrictions":{"min_power":50}},
  {"price_components":[{"type":"PARKING_TIME","price":6.00,"vat":19,"step_size":300}],
   "restrictions":{"start_time":"08:00","end_time":"22:00"}},
  {"price_components":[{"type":"ENERGY","price":0.35,"vat":19,"step_size":1},
                       {"type":"FLAT","price":0.50,"vat":19,"step_size":0}]}],
 "last_updated":"2026-11-01T00:00:00Z"}
EOF
    )
    if [ "$code" != 201 ] && [ "$code" != 200 ]; then
        echo "bench: PUT tariff: $code $(cat "$DIR/tariff.out")" >&2
        return 1
    fi

    # One charger with a fresh key.
    code=$(curl -s -m 10 -o "$DIR/charger.out" -w '%{http_code}' -X PUT \
        -H 'Content-Type: application/json' --data-binary @- \
        "$ADMIN/chargers/$CHARGER" <<EOF
{"location":{"id":"LOC1","name":"Bench","address":"Benchstrasse 1",
 "city":"Berlin","postal_code":"10115","country":"DEU",
 "coordinates":{"latitude":"52.520008","longitude":"13.404954"},
 "time_zone":"Europe/Berlin"},
 "evse_uid":"EVSE1","evse_id":"DE*EXA*E0001*1",
 "connector":{"standard":"IEC_62196_T2","format":"SOCKET",
  "power_type":"AC_3_PHASE","max_electric_power":22000},
 "tariff_id":"TARIFF1",
 "keys":[{"id":"$KEY_ID","secret":"$SECRET"}]}
EOF
    )
    if [ "$code" != 201 ]; then
        echo "bench: PUT charger: $code $(cat "$DIR/charger.out")" >&2
        return 1
    fi
}

start_evbill store || exit 1

COMMON=(--host 127.0.0.1 --key-id "$KEY_ID" --secret-b64 "$SECRET"
        --connections "$CONNS" --threads "$THREADS"
        --sessions-prefix "B$$-S")

# One session per connection.
if ! "$LOAD" "${COMMON[@]}" --port "$P_EVB" --setup > "$DIR/setup.out"; then
    echo "bench: starting the sessions failed: $(cat "$DIR/setup.out")" >&2
    exit 1
fi

echo "evbill bench: $CONNS connections (one session each), 2 nginx" \
     "workers, $THREADS client thread(s), ${WARMUP}s warmup +" \
     "${DURATION}s per case; load average $(cut -d' ' -f1-3 /proc/loadavg)"

worker_cpu() {
    # worker_cpu: the CPU time (user + system, all threads) of nginx's
    # workers so far, in clock ticks; empty when unreadable
    local master pid sum=0 n=0 f
    master=$(cat "$DIR/nginx.pid" 2>/dev/null) || return 0
    for pid in $(pgrep -P "$master"); do
        # the fields after the command name, which may hold spaces
        f=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || return 0
        set -- $f
        [ $# -ge 13 ] || return 0
        sum=$((sum + ${12} + ${13}))
        n=$((n + 1))
    done
    [ "$n" -gt 0 ] && echo "$sum"
}

TICK=$(getconf CLK_TCK)

run() {
    # the client's line, with cpu_us: the workers' CPU per answered
    # request over the run (warmup included): what nginx itself spends,
    # whatever else the machine runs
    local mode=$1 port=$2 out line c0 c1 ok
    c0=$(worker_cpu || true)
    out=$("$LOAD" "${COMMON[@]}" --port "$port" --mode "$mode" \
          --duration "$DURATION" --warmup "$WARMUP") || true
    c1=$(worker_cpu || true)
    line=$(echo "$out" | grep "^mode=$mode ") || {
        echo "bench: $mode: no result" >&2
        exit 1
    }
    ok=$(echo "$line" | tr ' ' '\n' | sed -n 's/^total_2xx=//p')
    if [ -n "$c0" ] && [ -n "$c1" ] && [ -n "$ok" ] && [ "$ok" -gt 0 ]; then
        line="$line cpu_us=$(awk -v c=$((c1 - c0)) -v t="$TICK" -v n="$ok" \
            'BEGIN { printf "%.1f", c * 1000000 / t / n }')"
    fi
    echo "$line"
}

field() {
    # field LINE NAME
    echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

L_BARE=$(run bare "$P_BARE")
echo "$L_BARE"
L_PROXY=$(run proxy "$P_PROXY")
echo "$L_PROXY"
store_field() {
    # store_field JSON NAME: an integer member of GET admin/store
    echo "$1" | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"
}

worker_io() {
    # worker_io FIELD: the sum of a /proc/PID/io field over nginx's workers
    # (every thread of each); empty when unreadable
    local master pid v sum=0 n=0
    master=$(cat "$DIR/nginx.pid" 2>/dev/null) || return 0
    for pid in $(pgrep -P "$master"); do
        v=$(sed -n "s/^$1: //p" "/proc/$pid/io" 2>/dev/null) || return 0
        [ -n "$v" ] || return 0
        sum=$((sum + v))
        n=$((n + 1))
    done
    [ "$n" -gt 0 ] && echo "$sum"
}

writer_io() {
    # writer_io: wchar summed over the workers' threads other than their
    # main thread: the thread pool that runs the store's transactions,
    # so only LMDB's own page and meta writes (the event loop thread
    # writes the responses); empty when unreadable
    local master pid tid v sum=0 n=0
    master=$(cat "$DIR/nginx.pid" 2>/dev/null) || return 0
    for pid in $(pgrep -P "$master"); do
        for tid in $(ls "/proc/$pid/task" 2>/dev/null); do
            [ "$tid" = "$pid" ] && continue
            v=$(sed -n "s/^wchar: //p" "/proc/$pid/task/$tid/io" \
                2>/dev/null) || continue
            [ -n "$v" ] || continue
            sum=$((sum + v))
            n=$((n + 1))
        done
    done
    [ "$n" -gt 0 ] && echo "$sum"
}

STORE=$(curl -s -m 10 "$ADMIN/store" || true)
TXN0=$(store_field "$STORE" txn_id)
WC0=$(worker_io wchar || true)
WT0=$(writer_io || true)
L_EVB=$(run evbill "$P_EVB")
echo "$L_EVB"

WC1=$(worker_io wchar || true)
WT1=$(writer_io || true)
STORE=$(curl -s -m 10 "$ADMIN/store" || true)
READINGS=$(store_field "$STORE" readings)
TXN1=$(store_field "$STORE" txn_id)
MAP_USED=$(store_field "$STORE" map_used)
EVB_OK=$(field "$L_EVB" total_2xx)
EVB_ERR=$(field "$L_EVB" errors)
EVB_TERR=$(field "$L_EVB" total_errors)

awk -v bare="$L_BARE" -v proxy="$L_PROXY" -v evb="$L_EVB" '
function get(line, name,    n, i, a, kv) {
    n = split(line, a, " ");
    for (i = 1; i <= n; i++) {
        split(a[i], kv, "=");
        if (kv[1] == name) return kv[2];
    }
    return 0;
}
function verdict(ok) { return ok ? "PASS" : "MISS" }
BEGIN {
    printf "\n%-8s %12s %10s %10s %10s %8s %12s\n", "mode", "req/s", "p50 us",
        "p99 us", "max us", "errors", "cpu us/req";
    split("bare proxy evbill", m, " ");
    line["bare"] = bare; line["proxy"] = proxy; line["evbill"] = evb;
    for (i = 1; i <= 3; i++) {
        l = line[m[i]];
        printf "%-8s %12.0f %10d %10d %10d %8d %12s\n", m[i], get(l, "rps"),
            get(l, "p50_us"), get(l, "p99_us"), get(l, "max_us"),
            get(l, "errors"), get(l, "cpu_us") ? get(l, "cpu_us") : "?";
    }
    br = get(bare, "rps"); pr = get(proxy, "rps"); er = get(evb, "rps");
    bp = get(bare, "p99_us"); ep = get(evb, "p99_us");
    r1 = br > 0 ? er / br : 0;
    r2 = pr > 0 ? er / pr : 0;
    r3 = bp > 0 ? ep / bp : 0;
    printf "\n%-28s %7s %10s  %s\n", "ratio", "value", "target", "";
    printf "%-28s %7.2f %10s  %s\n", "evbill/bare req/s", r1, ">= 0.40",
        verdict(r1 >= 0.40);
    printf "%-28s %7.2f %10s  %s\n", "evbill/proxy req/s", r2, ">= 1.00",
        verdict(r2 >= 1.0);
    printf "%-28s %7.2f %10s  %s\n", "evbill p99 / bare p99", r3, "<= 1.50",
        verdict(r3 <= 1.5);
}'

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" \
     "(other work on the machine skews every number)"
echo
if [ -n "$READINGS" ] && [ "$READINGS" = "$EVB_OK" ]; then
    echo "store check: readings in store $READINGS = 2xx counted by the" \
         "client $EVB_OK: OK"
else
    echo "store check: readings in store ${READINGS:-?} != 2xx counted by" \
         "the client $EVB_OK: MISMATCH"
fi
if [ -n "$TXN0" ] && [ -n "$TXN1" ] && [ "$TXN1" -gt "$TXN0" ]; then
    COMMITS=$((TXN1 - TXN0))
    echo "group commit: $COMMITS write transactions for" \
         "$EVB_OK readings ($(awk -v r="$EVB_OK" -v t=$COMMITS \
         'BEGIN { printf "%.1f", r / t }') per commit)"
    # wchar counts the bytes of every write-family call: the store's page
    # writes, its meta and the responses (writev); the client counted the
    # latter.  Not write_bytes: with large page-cache folios (ext4 on
    # recent kernels) it counts a whole folio for a one-page write.
    RX=$(field "$L_EVB" rx_bytes)
    if [ -n "$WC0" ] && [ -n "$WC1" ] && [ -n "$RX" ] \
        && [ $((WC1 - WC0)) -gt "$RX" ]
    then
        awk -v b=$((WC1 - WC0 - RX)) -v t="$COMMITS" -v p="$PAGE" 'BEGIN {
            printf "pages written per commit: %.1f (bytes the workers" \
                " wrote to files, /proc/PID/io wchar less the responses'"'"'" \
                " bytes, in %d-byte pages: the store'"'"'s data pages and" \
                " meta; %.0f bytes over %d commits)\n", b / t / p, p, b, t
        }'
    else
        echo "pages written per commit: not measured (/proc/PID/io of the" \
             "workers unreadable: wchar ${WC0:-?} -> ${WC1:-?}," \
             "responses ${RX:-?} bytes)"
    fi
    # the same from the writer threads alone: no responses to subtract
    if [ -n "$WT0" ] && [ -n "$WT1" ] && [ "$WT1" -gt "$WT0" ]; then
        awk -v b=$((WT1 - WT0)) -v t="$COMMITS" -v p="$PAGE" 'BEGIN {
            printf "pages written per commit by the writer threads: %.1f" \
                " (wchar of the workers'"'"' thread-pool threads, which" \
                " run LMDB'"'"'s commits: %.0f bytes)\n", b / t / p, b
        }'
    fi
fi
if [ "$EVB_ERR" != 0 ] || [ "$EVB_TERR" != 0 ]; then
    echo "evbill non-2xx answers: $EVB_ERR in the window," \
         "$EVB_TERR in the whole run (see the client's messages above)"
fi

# Store bytes per plain reading, session records included: map_used (up
# to the last used page, free pages inside included) / readings.
per_reading_row() {
    # per_reading_row LABEL MAP_USED READINGS
    if [ -n "$2" ] && [ -n "$3" ] && [ "$3" -gt 0 ]; then
        awk -v l="$1" -v m="$2" -v r="$3" 'BEGIN { v = m / r;
            printf "%-34s %9.0f %10s  %s\n", l, v, "<= 128",
                v <= 128 ? "PASS" : "MISS" }'
    else
        printf '%-34s %9s %10s  %s\n' "$1" "?" "<= 128" \
            "(GET admin/store: map_used ${2:-?}, readings ${3:-?})"
    fi
}

# Phase 2 on a fresh store: SESSIONS2 sessions taking turns, READINGS2
# readings each, as chargers interleave in practice.
stop_nginx
P2_USED=
P2_READINGS=
P2_LINE=
if start_evbill store2; then
    C2=(--host 127.0.0.1 --key-id "$KEY_ID" --secret-b64 "$SECRET"
        --connections "$SESSIONS2" --threads 1 --sessions-prefix "I$$-S"
        --port "$P_EVB")
    if "$LOAD" "${C2[@]}" --setup > "$DIR/setup2.out"; then
        P2_LINE=$("$LOAD" "${C2[@]}" --mode interleaved --warmup 0 \
                  --duration 120 --readings "$READINGS2" \
                  | grep '^mode=' || true)
        STORE=$(curl -s -m 10 "$ADMIN/store" || true)
        P2_USED=$(store_field "$STORE" map_used)
        P2_READINGS=$(store_field "$STORE" readings)
    else
        echo "bench: phase 2: starting the sessions failed:" \
             "$(cat "$DIR/setup2.out")" >&2
    fi
fi
echo
printf '%-34s %9s %10s  %s\n' "store bytes per reading" "bytes" "target" ""
per_reading_row "after the ingest run above" "$MAP_USED" "$READINGS"
per_reading_row "$SESSIONS2 sessions x $READINGS2 interleaved" "$P2_USED" \
    "$P2_READINGS"
echo "  (map_used / readings from GET admin/store: map_used" \
     "${MAP_USED:-?} for ${READINGS:-?} readings; fresh store:" \
     "${P2_USED:-?} for ${P2_READINGS:-?} readings of" \
     "$((SESSIONS2 * READINGS2)) posted, $(field "$P2_LINE" total_2xx) 2xx)"

# rating (issue 3): a 4-period session under a parsed tariff with 5
# restricted elements, JSON excluded; CPU time of one thread
RATE_LINE=$("$TOP/build/evbill-rate" --bench 1 2>&1 | grep '^rate_sessions_per_sec=' || true)
RATE=${RATE_LINE#rate_sessions_per_sec=}
if [ -n "$RATE" ]; then
    echo
    printf '%-26s %10s %10s  %s\n' "rating" "per core" "target" ""
    printf '%-26s %10s %10s  %s\n' "sessions rated/s" "$RATE" ">= 500000" \
        "$([ "$RATE" -ge 500000 ] && echo PASS || echo MISS)"
fi

if grep -q '\[\(alert\|crit\|emerg\)\]' "$DIR/error.log"; then
    echo "nginx error log ($(grep -c '\[\(alert\|crit\|emerg\)\]' \
        "$DIR/error.log") alert/crit/emerg lines), first ones:"
    grep '\[\(alert\|crit\|emerg\)\]' "$DIR/error.log" | head -5
fi
exit 0
