#!/bin/bash
# make bench-scale: the idle sweep with many open sessions.
#
# A store of BENCH_SESSIONS (1000000) open sessions with two readings
# each, BENCH_IDLE (100) of them idle for 30 days, is loaded once by
# build/evbill-bulk (through src/ops, 500 sessions per transaction) and
# kept under build/bench-scale/; each run works on a copy.  One nginx
# (2 workers) then:
#
#   A. idle timeout longer than the store's age: the first sweep (60 s
#      after start) closes only the BENCH_IDLE idle sessions; the others
#      are not read
#   B. restarted with a 1 s idle timeout: every session is idle, the
#      sweep closes them all, EVB_SWEEP_CHUNK (64) per write transaction
#
# It prints each worker's memory (VmRSS; RssAnon is the memory without
# the store's map, RssFile the pages of the map it touched) after start,
# after A and after B, and the sweep's time inside the write transaction
# per chunk (the worker logs each chunk at info: "idle sweep chunk: R
# read, C closed, F not closed, U us in the write transaction").
#
# Environment: BENCH_SESSIONS, BENCH_IDLE, BENCH_KEEP=1 (keep the run
# directory), NGINX (/usr/sbin/nginx).  Informational: exit status 0
# unless the bench could not run.

set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
NGINX=${NGINX:-/usr/sbin/nginx}
MODULE=$TOP/build/ngx_evbill_module.so
BULK=$TOP/build/evbill-bulk
N=${BENCH_SESSIONS:-1000000}
IDLE=${BENCH_IDLE:-100}

for f in "$MODULE" "$BULK"; do
    [ -f "$f" ] || { echo "bench-scale: $f missing (make all)" >&2; exit 1; }
done

# the loaded store, kept: loading a million sessions takes minutes
BASE=$TOP/build/bench-scale
SEED=$BASE/store-$N-$IDLE
mkdir -p "$BASE"
if [ ! -f "$SEED/loaded" ]; then
    rm -rf "$SEED"
    mkdir -p "$SEED"
    echo "bench-scale: loading $N sessions ($IDLE idle) into $SEED"
    t0=$(date +%s)
    "$BULK" "$SEED" "$N" "$IDLE" > "$SEED/loaded.tmp"
    mv "$SEED/loaded.tmp" "$SEED/loaded"
    echo "bench-scale: loaded in $(( $(date +%s) - t0 )) s"
fi
LOADED_MS=$(sed -n 's/.*at_ms=\([0-9]*\).*/\1/p' "$SEED/loaded")

DIR=$(mktemp -d "$BASE/run.XXXXXX")
chmod 755 "$DIR"

. "$TOP/tools/lib/nginx-stop.sh"
stop_nginx() { evb_stop_nginx "$DIR/nginx.pid" 300; }

cleanup() {
    stop_nginx
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "bench-scale: kept $DIR"
    else
        rm -rf "$DIR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir "$DIR/store"
cp --sparse=always "$SEED/data.mdb" "$DIR/store/data.mdb"
if [ "$(id -u)" = 0 ]; then
    chown -R nobody "$DIR/store"
fi
DATA_MB=$(( $(stat -c %s "$DIR/store/data.mdb") / 1048576 ))
MAP_MB=$(( DATA_MB * 2 + 1024 ))

PORT=$(perl -MIO::Socket::INET -e '
    my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0,
        Listen => 1, Proto => "tcp") or die "$!"; print $s->sockport, "\n";')

cp "$MODULE" "$DIR/ngx_evbill_module.so"
head -c 32 /dev/urandom > "$DIR/master.key"
chmod 600 "$DIR/master.key"

conf() {
    cat > "$DIR/nginx.conf" <<EOF
load_module $DIR/ngx_evbill_module.so;
worker_processes 2;
error_log $DIR/error.log info;
pid $DIR/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $DIR/client_body_temp;
    proxy_temp_path $DIR/proxy_temp;
    fastcgi_temp_path $DIR/fastcgi_temp;
    uwsgi_temp_path $DIR/uwsgi_temp;
    scgi_temp_path $DIR/scgi_temp;
    evbill_store $DIR/store size=${MAP_MB}m;
    evbill_master_key_file $DIR/master.key;
    evbill_cpo DE EXA;
    evbill_session_idle_timeout $1;
    server {
        listen 127.0.0.1:$PORT;
        location /admin/ { allow 127.0.0.1; deny all; evbill_admin_api; }
        # the sweep runs in workers that serve the charger API
        location /charger/ { evbill_charger_api; }
    }
}
EOF
}

workers() {
    pgrep -P "$(cat "$DIR/nginx.pid")" | sort -n
}

mem() {
    local w
    for w in $(workers); do
        awk -v w="$w" -v what="$1" '
            /^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 }
            END { printf "  %-22s worker %d: VmRSS %d MB, RssAnon %d MB, RssFile %d MB\n",
                  what, w, r / 1024, a / 1024, f / 1024 }' "/proc/$w/status"
    done
}

# chunks logged from line $1 of error.log on: count, index entries read,
# closed, us in the write transaction avg/p99/max, most read by one
chunks() {
    tail -n +"$1" "$DIR/error.log" \
    | sed -n 's/.*idle sweep chunk: \([0-9]*\) read, \([0-9]*\) closed, [0-9]* not closed, \([0-9]*\) us.*/\1 \2 \3/p' \
    | sort -k3,3n \
    | awk '{ n++; read += $1; closed += $2; us[n] = $3; sum += $3;
             if ($1 > maxread) maxread = $1 }
           END { if (!n) { print "0 0 0 0 0 0 0"; exit }
                 p = int(n * 0.99 + 0.999); if (p < 1) p = 1;
                 printf "%d %d %d %d %d %d %d\n", n, read, closed,
                        sum / n, us[p], us[n], maxread }'
}

closed_since() {
    chunks "$1" | awk '{ print $3 }'
}

start() {
    conf "$1"
    "$NGINX" -p "$DIR/" -c "$DIR/nginx.conf" -e "$DIR/error.log"
    for i in $(seq 1 100); do
        [ -f "$DIR/nginx.pid" ] && [ "$(workers | wc -l)" -ge 2 ] && return 0
        sleep 0.1
    done
    echo "bench-scale: nginx did not start" >&2
    tail -5 "$DIR/error.log" >&2
    exit 1
}

NOW_MS=$(date +%s%3N)
AGE_S=$(( (NOW_MS - LOADED_MS) / 1000 ))
echo "bench-scale: $N open sessions ($IDLE idle for 30 days), data.mdb $DATA_MB MB, store age ${AGE_S} s"

# A: only the idle ones are past the timeout
start "$(( AGE_S + 3600 ))s"
sleep 1
mem "after start"
L=$(( $(wc -l < "$DIR/error.log") + 1 ))
echo "bench-scale: A: waiting for the first sweep (60 s after start)"
for i in $(seq 1 90); do
    sleep 1
    [ "$(closed_since "$L")" -ge "$IDLE" ] && break
done
sleep 2
read -r C R CL AVG P99 MAX MAXREAD < <(chunks "$L")
echo "  A: $C chunk(s), $R index entries read, $CL closed; us per chunk in the write txn: avg $AVG, p99 $P99, max $MAX (most read by one chunk: $MAXREAD)"
mem "after A"
stop_nginx
rm -f "$DIR/nginx.pid"

# B: everything idle
L=$(( $(wc -l < "$DIR/error.log") + 1 ))
T0=$(date +%s%3N)
start 1s
mem "after start (B)"
WANT=$(( N - IDLE ))
PEAK=0
while :; do
    sleep 1
    for w in $(workers); do
        r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$w/status")
        [ "$r" -gt "$PEAK" ] && PEAK=$r
    done
    [ "$(closed_since "$L")" -ge "$WANT" ] && break
    if [ $(( $(date +%s%3N) - T0 )) -gt $(( 600000 + N / 10 )) ]; then
        echo "bench-scale: B did not finish" >&2
        break
    fi
done
T1=$(date +%s%3N)
read -r C R CL AVG P99 MAX MAXREAD < <(chunks "$L")
echo "  B: $CL sessions closed in $C chunk(s) in $(( (T1 - T0) / 1000 )) s; us per chunk in the write txn: avg $AVG, p99 $P99, max $MAX (most read by one chunk: $MAXREAD)"
echo "  B: peak worker VmRSS while sweeping: $(( PEAK / 1024 )) MB"
mem "after B"
