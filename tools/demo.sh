#!/bin/bash
# make demo / make demo-stop: run nginx with evbill under ./var, register a
# charger, play one signed charging session and print a short summary of it;
# the full JSON of every answer goes to ./var/demo/.

set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
var="$top/var"
nginx=${NGINX:-/usr/sbin/nginx}
client="$top/tools/evbill-client"

stop_gateway() {
    if [ -f "$var/gateway.pid" ]; then
        kill "$(cat "$var/gateway.pid")" 2>/dev/null || true
        rm -f "$var/gateway.pid"
    fi
}

stop() {
    stop_gateway
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
    FROM=${1:-8480} perl -MIO::Socket::INET -e '
        for my $p ($ENV{FROM} .. $ENV{FROM} + 100) {
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

mkdir -p "$var/tmp" "$var/demo"
rm -f "$var/demo/"*.json

# secrets live in files, never in nginx.conf
if [ ! -f "$var/master.key" ]; then
    (umask 077; head -c 32 /dev/urandom > "$var/master.key")
fi
if [ ! -f "$var/charger.secret" ]; then
    (umask 077; head -c 32 /dev/urandom | base64 > "$var/charger.secret")
fi

port=$(free_port)

# Payments against t/gateway/fake-gateway.js (Node's standard library
# only) over HTTPS with a demo CA, when node is installed
pay=0
paycfg=""
payloc=""
if command -v node >/dev/null 2>&1; then
    pay=1
    gw="$var/gateway"
    mkdir -p "$gw"
    if [ ! -f "$gw/gw.pem" ]; then
        (cd "$gw" && umask 077 &&
         openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
             -subj /CN=evbill-demo-ca -keyout ca.key -out ca.pem \
             -addext basicConstraints=critical,CA:TRUE \
             -addext keyUsage=critical,keyCertSign,cRLSign &&
         openssl req -newkey rsa:2048 -nodes -subj /CN=localhost \
             -keyout gw.key -out gw.csr &&
         echo "subjectAltName=DNS:localhost" > ext.cnf &&
         openssl x509 -req -in gw.csr -CA ca.pem -CAkey ca.key \
             -CAcreateserial -days 3650 -extfile ext.cnf -out gw.pem
        ) >/dev/null 2>&1
        chmod 644 "$gw/ca.pem"
        (umask 077; echo "sk_test_demo$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$gw/api.key")
        (umask 077; echo "whsec_demo$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$gw/webhook.secret")
    fi
    gwport=$(free_port 9480)
    ctlport=$(free_port $(( gwport + 1 )))
    stop_gateway
    node "$top/t/gateway/fake-gateway.js" --port "$gwport" \
        --ctl-port "$ctlport" --cert "$gw/gw.pem" --key "$gw/gw.key" \
        --api-key "$(cat "$gw/api.key")" \
        --webhook-secret "$(cat "$gw/webhook.secret")" \
        --webhook-url "http://127.0.0.1:$port/webhooks/gateway" \
        > "$gw/ready" 2> "$gw/gateway.log" &
    echo $! > "$var/gateway.pid"
    for _ in $(seq 50); do
        grep -q ready "$gw/ready" 2>/dev/null && break
        sleep 0.1
    done
    paycfg="evbill_payment_gateway /_gateway/;
    evbill_payment_key_file $gw/api.key;
    evbill_payment_webhook_secret_file $gw/webhook.secret;
    evbill_payment_hold 50.00 EUR;
    upstream demo_gateway { server 127.0.0.1:$gwport; keepalive 4; }"
    payloc="location /_gateway/ {
            internal;
            proxy_pass https://demo_gateway/;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate $gw/ca.pem;
            proxy_ssl_server_name on;
            proxy_ssl_name localhost;
            proxy_next_upstream off;
            subrequest_output_buffer_size 16k;
        }

        location = /webhooks/gateway {
            evbill_payment_webhook;
        }

        location /public/ {
            evbill_app_api public;
        }"
fi

# As root, the workers run as an unprivileged user that can reach ./var
# (nginx creates the store directory and hands it to that user); only if
# none can, as root, and the demo says why.
user_line=""
user_note="workers run as $(id -un)"
if [ "$(id -u)" = 0 ]; then
    user_line="user root;"
    user_note="workers run as root: neither nobody nor www-data can reach $var (a directory above it is not searchable for them)"
    for u in nobody www-data; do
        id "$u" >/dev/null 2>&1 || continue
        if runuser -u "$u" -- test -x "$var" 2>/dev/null; then
            user_line="user $u $(id -gn "$u");"
            user_note="workers run as $u"
            break
        fi
    done
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
    evbill_seller_file $top/tools/demo-seller.json;
    $paycfg

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

        $payloc
    }
}
EOF

# a store left by an earlier release: upgrade it as an operator would
# (nginx is stopped here; see docs/operations.md#upgrades)
if [ -f "$var/store/data.mdb" ]; then
    "$top/build/evbill-store" upgrade "$var/store" | grep -v '^store \|^up to date' || true
fi

"$nginx" -t -q -p "$var/" -c "$var/nginx.conf"
"$nginx" -p "$var/" -c "$var/nginx.conf"

base="http://127.0.0.1:$port"
for _ in $(seq 50); do
    curl -s -o /dev/null "$base/admin/store" && break
    sleep 0.1
done

echo "evbill demo: nginx listening on $base (store: $var/store; $user_note)"

secret=$(cat "$var/charger.secret")
out="$var/demo"

# put FILE URL: PUT stdin, the answer's JSON into ./var/demo/FILE; prints
# the HTTP status
put() {
    curl -s -o "$out/$1" -w '%{http_code}' -X PUT "$2" \
        -H 'Content-Type: application/json' --data-binary @-
}

code=$(put tariff.json "$base/admin/tariffs/DEMO-AC-22" <<EOF
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
)
echo "tariff DEMO-AC-22 (OCPI 2.2.1, admin API): HTTP $code"

code=$(put charger.json "$base/admin/chargers/DEMO-CP1" <<EOF
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
)
echo "charger DEMO-CP1 with key demo-cp1.k1 (admin API): HTTP $code"

# sign FILE ARGS...: a signed charger request (RFC 9421), its answer into
# ./var/demo/FILE
sign() {
    local file=$1
    shift
    "$client" --quiet --url "$base/charger/" --key-id demo-cp1.k1 \
        --secret-b64 "$secret" "$@" > "$out/$file"
}

at() {
    date -u -d "@$(( t0 + $1 ))" +%Y-%m-%dT%H:%M:%SZ
}

t0=$(( $(date +%s) - 3600 ))
sid="demo-$(date -u +%Y%m%dT%H%M%S)"

# json FILE MEMBER: a member of a saved answer
json() {
    perl -MJSON::PP -e 'local $/; my $j = eval { decode_json(<STDIN>) } || {};
        my $v = $j; $v = ref $v eq "HASH" ? $v->{$_} : undef for split /\./,
        $ARGV[0]; print $v // ""' "$2" < "$out/$1"
}

# wait_payment ID STATE: until the admin view shows it, into payment.json
wait_payment() {
    for _ in $(seq 50); do
        curl -s -o "$out/payment.json" "$base/admin/payments/$1"
        [ "$(json payment.json state)" = "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

token=04A2B3C4D5E6F7
if [ $pay = 1 ]; then
    # the driver's app asks for a hold, confirms the card on the
    # gateway's page (here: its control port), the webhook authorises it
    curl -s -o "$out/hold.json" -X POST "$base/public/payments" \
        -H "Idempotency-Key: app-$sid" -H 'Content-Type: application/json' \
        -d '{"charger_id":"DEMO-CP1"}'
    token=$(json hold.json payment_id)
    curl -s -o "$out/payment.json" "$base/admin/payments/$token"
    curl -s -o /dev/null -X POST "http://127.0.0.1:$ctlport/authorize" \
        -d "{\"id\":\"$(json payment.json gateway_id)\"}"
    wait_payment "$token" authorized || true
    echo "payment $token: hold of $(json hold.json amount) $(json hold.json currency), $(json payment.json state) (fake gateway on 127.0.0.1:$gwport)"
fi

sign start.json start "{\"session_id\":\"$sid\",\"connector_id\":1,
  \"id_token\":\"$token\",\"token_type\":\"AD_HOC_USER\",
  \"timestamp\":\"$(at 0)\",\"meter_start_wh\":1250400}"
sign reading-1.json reading "$sid" "{\"seq\":1,\"timestamp\":\"$(at 600)\",
  \"energy_wh\":1253980,\"power_w\":21480,\"current_a\":31.2}"
sign readings-2-4.json reading "$sid" "{\"readings\":[
  {\"seq\":2,\"timestamp\":\"$(at 1200)\",\"energy_wh\":1257560,\"power_w\":21470},
  {\"seq\":3,\"timestamp\":\"$(at 1800)\",\"energy_wh\":1261100,\"power_w\":21200},
  {\"seq\":4,\"timestamp\":\"$(at 2400)\",\"energy_wh\":1261130,\"state\":\"parked\",\"power_w\":0}]}"
# a replay of seq 1, as a charger that lost the answer would send it
sign replay-1.json reading "$sid" "{\"seq\":1,\"timestamp\":\"$(at 600)\",
  \"energy_wh\":1253980,\"power_w\":21480,\"current_a\":31.2}"
sign stop.json stop "$sid" "{\"timestamp\":\"$(at 3000)\",\"meter_stop_wh\":1261130,
  \"reason\":\"EVDisconnected\"}"

if [ $pay = 1 ]; then
    # what an operator's timer does: run the outbox (the capture)
    curl -s -o "$out/reconcile.json" -X POST "$base/admin/payments/reconcile"
    wait_payment "$token" captured || true
fi

curl -s -o "$out/session.json" "$base/admin/sessions/DEMO-CP1/$sid"
curl -s -o "$out/cdr.json" "$base/admin/cdrs/DEMO-CP1/$sid"

echo
OUT="$out" perl -MJSON::PP -e '
    sub load {
        my $f = "$ENV{OUT}/$_[0]";
        open my $fh, "<", $f or die "$f: $!\n";
        my $j = eval { decode_json(do { local $/; <$fh> }) };
        die "$f: not a JSON object\n" unless ref $j eq "HASH";
        return $j;
    }
    # amounts as the JSON has them, shown with two decimals (text only)
    sub eur {
        my $v = "$_[0]";
        $v .= ".00" unless $v =~ /\./;
        $v .= "0" if $v =~ /\.\d$/;
        return $v;
    }
    my ($s, $c, $b, $d) = map { load($_) }
        qw(session.json cdr.json readings-2-4.json replay-1.json);
    my $k = $s->{cost}{rounded}{total_cost} || {};
    printf "session %s: %s to %s (%s), %d signed readings, %s Wh\n",
        $s->{session_id}, $s->{started_at}, $s->{stopped_at},
        $s->{stop_reason}, scalar @{ $s->{readings} || [] }, $s->{energy_wh};
    printf "  a batch of %d readings accepted; the replay of seq 1 counted "
        . "as %d duplicate\n", $b->{accepted}, $d->{duplicates};
    printf "  cost: %s EUR excl. VAT, %s EUR incl. VAT (tariff %s v%s)\n",
        eur($k->{excl_vat}), eur($k->{incl_vat}), $s->{cost}{tariff_id},
        $s->{cost}{tariff_version};
    printf "CDR %s: %s kWh, %s h, of which %s h parked\n",
        $c->{id}, $c->{total_energy}, $c->{total_time},
        $c->{total_parking_time} // 0;
    for my $n (qw(energy time parking fixed)) {
        my $x = $c->{"total_${n}_cost"} or next;
        next unless $x->{excl_vat} > 0;
        printf "  %-8s %s EUR excl. VAT, %s incl.\n", $n, eur($x->{excl_vat}),
            eur($x->{incl_vat} // $x->{excl_vat});
    }
    printf "  total    %s EUR excl. VAT, %s incl.\n",
        eur($c->{total_cost}{excl_vat}), eur($c->{total_cost}{incl_vat});'

# the invoice made at stop: JSON, and the HTML and UBL versions as files
inv=$(perl -MJSON::PP -e 'local $/; my $s = eval { decode_json(<STDIN>) };
    print $s->{invoice} // ""' < "$out/session.json")

if [ -n "$inv" ]; then
    curl -s -o "$out/invoice.json" "$base/admin/invoices/$inv.json"
    curl -s -o "$var/invoice-$inv.html" "$base/admin/invoices/$inv.html"
    curl -s -o "$var/invoice-$inv.xml" "$base/admin/invoices/$inv.xml"

    OUT="$out" perl -MJSON::PP -e '
        open my $fh, "<", "$ENV{OUT}/invoice.json" or die;
        my $i = decode_json(do { local $/; <$fh> });
        my $e = $i->{currency};
        # amounts shown with two decimals, as text (never a float)
        sub m2 {
            my $v = "$_[0]";
            $v .= ".00" unless $v =~ /\./;
            $v .= "0" if $v =~ /\.\d$/;
            return $v;
        }
        printf "invoice %s, issued %s, due %s, to %s (%s)\n",
            $i->{number}, $i->{issue_date}, $i->{due_date},
            $i->{buyer}{name}, $i->{buyer}{address}{country};
        printf "  %-13s %12s %-4s x %8s %s = %8s %s, VAT %s%%\n",
            $_->{dimension}, $_->{quantity}, $_->{unit},
            m2($_->{unit_price}), $e, m2($_->{net_amount}), $e,
            $_->{vat_rate} for @{ $i->{lines} };
        printf "  VAT %s%% on %s: %s %s\n", $_->{rate}, m2($_->{taxable}),
            m2($_->{amount}), $e for @{ $i->{vat} };
        printf "  net %s, VAT %s, payable %s %s (%s)\n",
            m2($i->{totals}{tax_exclusive}), m2($i->{totals}{tax_total}),
            m2($i->{totals}{payable}), $e, $i->{status}{state};'
    echo "  HTML: $var/invoice-$inv.html"
    echo "  UBL:  $var/invoice-$inv.xml"
else
    echo "no invoice: $(perl -MJSON::PP -e 'local $/; my $s = eval {
        decode_json(<STDIN>) }; print $s->{no_invoice} // "see the session"' \
        < "$out/session.json")"
fi
if [ $pay = 1 ]; then
    echo "payment $token: $(json payment.json state) $(json payment.json amount_captured) $(json payment.json currency) of $(json payment.json amount_hold) held ($(json payment.json card.brand) ending $(json payment.json card.last4))"
fi
echo
echo "The full JSON of every answer is in $out/"
echo "(session.json, cdr.json, invoice.json, tariff.json, charger.json, ...)."
echo "nginx is still running on $base (pid $(cat "$var/nginx.pid"));"
echo "stop it with: make demo-stop"
