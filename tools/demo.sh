#!/bin/bash
# make demo / make demo-stop: run nginx with evbill under ./var, register a
# charger, play one signed charging session and print it as stored.

set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
var="$top/var"
nginx=${NGINX:-/usr/sbin/nginx}
client="$top/tools/evbill-client"

stop() {
    if [ -f "$var/nginx.pid" ] && kill -0 "$(cat "$var/nginx.pid")" 2>/dev/null
    then
        "$nginx" -p "$var/" -c "$var/nginx.conf" -s quit 2>/dev/null || true
        for _ in $(seq 50); do
            [ -f "$var/nginx.pid" ] || break
            sleep 0.1
        done
        echo "demo nginx stopped (the store stays in $var/store)"
    else
        echo "demo nginx is not running"
    fi
}

free_port() {
    perl -MIO::Socket::INET -e '
        for my $p (8480 .. 8580) {
            my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
                LocalPort => $p, Listen => 1, ReuseAddr => 1) or next;
            print $p; exit 0;
        }
        exit 1;'
}

if [ "${1:-start}" = stop ]; then
    stop
    exit 0
fi

[ -f "$var/nginx.pid" ] && stop >/dev/null

mkdir -p "$var/store" "$var/tmp"

# secrets live in files, never in nginx.conf
if [ ! -f "$var/master.key" ]; then
    (umask 077; head -c 32 /dev/urandom > "$var/master.key")
fi
if [ ! -f "$var/charger.secret" ]; then
    (umask 077; head -c 32 /dev/urandom | base64 > "$var/charger.secret")
fi

port=$(free_port)

# As root, workers would run as "nobody", which may not reach ./var inside
# a private checkout; the demo keeps them as the invoking user.
user_line=""
if [ "$(id -u)" = 0 ]; then
    user_line="user root;"
fi

cat > "$var/nginx.conf" <<EOF
# evbill demo configuration (written by tools/demo.sh)
load_module $top/build/ngx_evbill_module.so;
$user_line
worker_processes 2;
error_log $var/error.log info;
pid $var/nginx.pid;

events {}

http {
    access_log $var/access.log;
    client_body_temp_path $var/tmp/body;
    proxy_temp_path $var/tmp/proxy;
    fastcgi_temp_path $var/tmp/fastcgi;
    uwsgi_temp_path $var/tmp/uwsgi;
    scgi_temp_path $var/tmp/scgi;

    client_max_body_size 256k;
    client_body_buffer_size 256k;

    evbill_store $var/store size=256m;
    evbill_master_key_file $var/master.key;
    evbill_cpo DE EXA;

    server {
        listen 127.0.0.1:$port;

        location /charger/ {
            evbill_charger_api;
        }

        location /admin/ {
            allow 127.0.0.1;
            deny all;
            evbill_admin_api;
        }
    }
}
EOF

"$nginx" -t -q -p "$var/" -c "$var/nginx.conf"
"$nginx" -p "$var/" -c "$var/nginx.conf"

base="http://127.0.0.1:$port"
for _ in $(seq 50); do
    curl -s -o /dev/null "$base/admin/store" && break
    sleep 0.1
done

echo "evbill demo: nginx listening on $base (store: $var/store)"
echo

secret=$(cat "$var/charger.secret")

echo "== tariff DEMO-AC-22 (OCPI 2.2.1, admin API) =="
curl -s -X PUT "$base/admin/tariffs/DEMO-AC-22" \
    -H 'Content-Type: application/json' --data-binary @- <<EOF | json_pp
{
  "country_code": "DE", "party_id": "EXA", "id": "DEMO-AC-22",
  "currency": "EUR", "type": "REGULAR",
  "elements": [
    {"price_components": [
       {"type": "ENERGY", "price": 0.35, "vat": 19.0, "step_size": 1}],
     "restrictions": {"start_time": "07:00", "end_time": "22:00"}},
    {"price_components": [
       {"type": "ENERGY", "price": 0.29, "vat": 19.0, "step_size": 1},
       {"type": "PARKING_TIME", "price": 6.00, "vat": 19.0, "step_size": 60},
       {"type": "FLAT", "price": 0.50, "vat": 19.0, "step_size": 0}]}
  ],
  "last_updated": "2026-11-01T00:00:00Z"
}
EOF
echo

echo "== register charger DEMO-CP1 (admin API) =="
curl -s -X PUT "$base/admin/chargers/DEMO-CP1" \
    -H 'Content-Type: application/json' --data-binary @- <<EOF | json_pp
{
  "location": {
    "id": "LOC-BER-1", "name": "Demo Depot", "address": "Invalidenstr. 117",
    "city": "Berlin", "postal_code": "10115", "country": "DEU",
    "coordinates": {"latitude": "52.531000", "longitude": "13.384500"},
    "time_zone": "Europe/Berlin"
  },
  "evse_uid": "DEMO-EVSE-1", "evse_id": "DE*EXA*EDEMO1",
  "connector": {"standard": "IEC_62196_T2", "format": "SOCKET",
                "power_type": "AC_3_PHASE", "max_electric_power": 22000},
  "tariff_id": "DEMO-AC-22",
  "keys": [{"id": "demo-cp1.k1", "secret": "$secret"}]
}
EOF
echo

sign() {
    "$client" --quiet --url "$base/charger/" --key-id demo-cp1.k1 \
        --secret-b64 "$secret" "$@"
}

at() {
    date -u -d "@$(( t0 + $1 ))" +%Y-%m-%dT%H:%M:%SZ
}

t0=$(( $(date +%s) - 3600 ))
sid="demo-$(date -u +%Y%m%dT%H%M%S)"

echo "== charger: start session $sid (signed, RFC 9421) =="
sign start "{\"session_id\":\"$sid\",\"connector_id\":1,
  \"id_token\":\"04A2B3C4D5E6F7\",\"token_type\":\"RFID\",
  \"timestamp\":\"$(at 0)\",\"meter_start_wh\":1250400}" >/dev/null
echo "started at $(at 0), meter 1250400 Wh"

echo "== charger: readings =="
sign reading "$sid" "{\"seq\":1,\"timestamp\":\"$(at 600)\",
  \"energy_wh\":1253980,\"power_w\":21480,\"current_a\":31.2}"
echo
sign reading "$sid" "{\"readings\":[
  {\"seq\":2,\"timestamp\":\"$(at 1200)\",\"energy_wh\":1257560,\"power_w\":21470},
  {\"seq\":3,\"timestamp\":\"$(at 1800)\",\"energy_wh\":1261100,\"power_w\":21200},
  {\"seq\":4,\"timestamp\":\"$(at 2400)\",\"energy_wh\":1261130,\"state\":\"parked\",\"power_w\":0}]}"
echo
echo "(a replay of seq 1, as a charger that lost the answer would send it:)"
sign reading "$sid" "{\"seq\":1,\"timestamp\":\"$(at 600)\",
  \"energy_wh\":1253980,\"power_w\":21480,\"current_a\":31.2}"
echo

echo "== charger: stop =="
sign stop "$sid" "{\"timestamp\":\"$(at 3000)\",\"meter_stop_wh\":1261130,
  \"reason\":\"EVDisconnected\"}" >/dev/null
echo "stopped at $(at 3000), meter 1261130 Wh"
echo

echo "== the session as stored, with its cost (GET /admin/sessions/DEMO-CP1/$sid) =="
curl -s "$base/admin/sessions/DEMO-CP1/$sid" | json_pp
echo
echo "== its OCPI 2.2.1 CDR (GET /admin/cdrs/DEMO-CP1/$sid) =="
curl -s "$base/admin/cdrs/DEMO-CP1/$sid" | json_pp
echo
curl -s "$base/admin/cdrs/DEMO-CP1/$sid" | perl -MJSON::PP -e '
    my $c = decode_json(do { local $/; <STDIN> });
    printf "What it cost: %s kWh, %s EUR excl. VAT, %s EUR incl. VAT\n",
        $c->{total_energy}, $c->{total_cost}{excl_vat},
        $c->{total_cost}{incl_vat};'
echo "(invoices are not built yet)"
echo
echo "nginx is still running on $base (pid $(cat "$var/nginx.pid"));"
echo "stop it with: make demo-stop"
