#!/usr/bin/perl
# Payments (issue 11) against t/gateway/fake-gateway.js over HTTPS with
# proxy_ssl_verify on: POST payments (Idempotency-Key, retried), the
# authorisation webhook, a start with an unauthorised and a used payment,
# the capture of the invoice's total at stop run by reconcile (exactly
# one capture), the admin view, webhooks (bad signature, old timestamp,
# replayed, out of order), EUR and JPY, and logs free of secrets.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;
use Evbill::Gateway;
use Evbill::ExactJSON qw(jdecode num);
use JSON::PP;

my $SELLER = do {
    local $/;
    open my $f, '<', "$FindBin::Bin/fixtures/invoice/seller.json" or die;
    <$f>;
};

plan(skip_all => 'node is not installed') unless `node --version 2>/dev/null`;

my $t = Evbill::Test->new;
$t->write_file('seller.json', $SELLER);
my $g = Evbill::Gateway->new($t);

sub conf {
    my (%o) = @_;
    return $t->std_conf(workers => 1, main => $o{main} || '',
        http => 'evbill_seller_file %%TESTDIR%%/seller.json; '
            . $g->http_conf . ' '
            . 'evbill_payment_gateway /_gateway/; '
            . 'evbill_payment_key_file ' . $g->key_file . '; '
            . 'evbill_payment_webhook_secret_file ' . $g->secret_file . '; '
            . 'evbill_payment_hold 50.00 EUR; evbill_payment_hold 5000 JPY; '
            . ($o{http} || ''),
        server => $g->location(timeout => $o{timeout} || '2s') . ' '
            . 'location = /webhooks/gateway { evbill_payment_webhook; } '
            . 'location /public/ { evbill_app_api public; }');
}

sub fails {
    my ($http, $re, $name) = @_;
    $t->write_conf($t->std_conf(http => $http));
    my ($rc, $out) = $t->test_config;
    ok($rc != 0 && $out =~ /\[emerg\]/ && $out =~ $re, "nginx -t: $name")
        or diag($out);
}
$t->allow_alerts(qr/payment|ISO 4217|invalid amount|must hold one line|a hold for/);
my $keys = 'evbill_payment_key_file ' . $g->key_file . '; '
    . 'evbill_payment_webhook_secret_file ' . $g->secret_file . '; ';
fails('evbill_payment_gateway /_gateway/;',
    qr/"evbill_payment_key_file" is required by the payment directives/,
    'the gateway without a key file');
fails('evbill_payment_gateway /_gateway/; ' . $keys,
    qr/"evbill_payment_hold" is required/, 'no hold');
fails('evbill_payment_gateway /_gateway/; ' . $keys
    . 'evbill_payment_hold 50.00 EUR;',
    qr/"evbill_seller_file" is required/, 'no seller file');
fails('evbill_payment_gateway _gateway;',
    qr/must name a location, starting with "\/"/, 'a gateway without /');
fails('evbill_payment_hold 50.001 EUR;',
    qr/invalid amount "50.001": a positive amount with at most 2 decimals/,
    'a hold below the cent');
fails('evbill_payment_hold 50.5 JPY;', qr/at most 0 decimals for JPY/,
    'a hold below the yen');
fails('evbill_payment_hold 50 EURO;', qr/"EURO" is not an ISO 4217/,
    'an unknown currency');
fails('evbill_payment_hold 50 EUR; evbill_payment_hold 60 EUR;',
    qr/a hold for EUR is set already/, 'two holds for EUR');
$t->write_file('two-lines.key', "a\nb\n");
fails('evbill_payment_key_file %%TESTDIR%%/two-lines.key;',
    qr/must hold one line, the secret/, 'a key file of two lines');

$t->write_conf(conf());
my ($rc, $out) = $t->test_config;
is($rc, 0, 'nginx -t: the payment directives') or diag($out);
unlike($t->read_file('nginx.conf'), qr/\Q${\ $g->api_key}\E/,
    'the key is not in nginx.conf');
$t->run;

sub tariff {
    my ($id, $currency, $elements) = @_;
    my $r = $t->admin('PUT', "tariffs/$id", '{"country_code":"DE",'
        . '"party_id":"EXA","id":"' . $id . '","currency":"' . $currency
        . '","last_updated":"2026-01-01T00:00:00Z","elements":'
        . $elements . '}');
    is($r->{status}, 201, "PUT tariff $id") or diag($r->{body});
}

sub xget {
    my ($path) = @_;
    my $r = $t->admin('GET', $path);
    $r->{x} = ($r->{body} =~ /^\{/) ? eval { jdecode($r->{body}) } : undef;
    return $r->{x} || {};
}

sub pay {
    my ($charger, $key, %o) = @_;
    my $r = $t->http('POST', '/public/payments',
        body => { charger_id => $charger },
        headers => { defined $key ? ('Idempotency-Key' => $key) : () });
    $r->{x} = ($r->{body} =~ /^\{/) ? eval { jdecode($r->{body}) } : undef;
    return $r;
}

sub wait_state {
    my ($id, $state) = @_;
    my $p = {};
    for (1 .. 40) {
        $p = xget("payments/$id");
        return $p if ($p->{state} // '') eq $state;
        select(undef, undef, undef, 0.1);
    }
    return $p;
}

sub reconcile {
    my $r = $t->admin('POST', 'payments/reconcile');
    is($r->{status}, 200, 'reconcile: 200') or diag($r->{body});
    return $r;
}

sub session {
    my ($c, $sid, $pid, %o) = @_;
    my $r = $c->start($t->start_body(session_id => $sid,
        timestamp => '2026-11-25T10:00:00Z', meter_start_wh => 1000,
        token_type => 'AD_HOC_USER', id_token => $pid));
    return $r if $o{start_only};
    is($r->{status}, 201, "$sid: start") or diag($r->{body});
    $r = $c->stop($sid, { timestamp => '2026-11-25T10:30:00Z',
        meter_stop_wh => $o{stop_wh} || 5500 });
    is($r->{status}, 200, "$sid: stop") or diag($r->{body});
    return xget("sessions/$c->{charger_id}/$sid");
}

tariff('EUR1', 'EUR', '[{"price_components":[{"type":"ENERGY","price":0.40,'
    . '"vat":19,"step_size":1}]}]');
tariff('JPY1', 'JPY', '[{"price_components":[{"type":"ENERGY","price":45,'
    . '"vat":10,"step_size":1}]}]');
my $c = $t->charger(id => 'PAY-1', body => { tariff_id => 'EUR1' });
my $c2 = $t->charger(id => 'PAY-2', body => { tariff_id => 'EUR1' });
my $cj = $t->charger(id => 'PAY-J', body => { tariff_id => 'JPY1' });

# --- POST payments ----------------------------------------------------

$t->store_unchanged(sub {
    is_problem(pay('PAY-1', undef), 400, 'idempotency-key-missing',
        'no Idempotency-Key: 400');
}, 'no Idempotency-Key: store unchanged');
$t->store_unchanged(sub {
    my $r = $t->http('POST', '/public/payments', body => { charger_id =>
        'PAY-1', card_number => '4242424242424242' },
        headers => { 'Idempotency-Key' => 'k-card' });
    is_problem($r, 400, 'invalid-value', 'a member besides charger_id: 400');
}, 'other members: store unchanged');
is_problem(pay('NOPE', 'k-nope'), 404, 'unknown-charger',
    'an unknown charger: 404');

my $r = pay('PAY-1', 'app-key-1');
is($r->{status}, 201, 'POST payments: 201') or diag($r->{body});
my $p = $r->{x} || {};
is_deeply([ sort keys %$p ],
    [ qw(amount client_secret currency payment_id state) ],
    'only payment_id, client_secret, amount, currency, state');
is(num($p->{amount}), '50.00', 'the hold: 50.00');
is($p->{currency}, 'EUR', '... EUR');
is($p->{state}, 'requires_authorization', '... requires_authorization');
like($p->{client_secret}, qr/_secret_/, 'the client_secret of the intent');
my $pid = $p->{payment_id};

my $again = pay('PAY-1', 'app-key-1');
is($again->{status}, 201, 'the same key again: 201');
is($again->{x}{payment_id}, $pid, '... the same payment');
is($again->{x}{client_secret}, $p->{client_secret}, '... the same secret');
is_problem(pay('PAY-2', 'app-key-1'), 409, 'idempotency-conflict',
    'the same key for another charger: 409');

my @creates = $g->calls(qr{^/v1/payment_intents$});
is(scalar @creates, 1, 'exactly one create at the gateway');
is($creates[0]{key}, "evbill-$pid-create", '... with the stored key');
like($creates[0]{body}, qr/^amount=5000&currency=eur&capture_method=manual&/,
    '... 5000 cents, manual capture');
ok($creates[0]{auth}, '... with the API key as Bearer');

my $adm = xget("payments/$pid");
is($adm->{state}, 'requires_authorization', 'admin: requires_authorization');
my $gw = $adm->{gateway_id};
like($gw, qr/^pi_/, 'admin: the intent id');

# --- start before the authorisation, then after --------------------------

$r = $t->store_unchanged(sub { session($c, 'early', $pid, start_only => 1) },
    'unauthorised start: store unchanged');
is_problem($r, 409, 'payment-not-authorized', 'start before it: 409');

is($g->authorize($gw)->{status}, 200, 'the driver confirms the card');
$adm = wait_state($pid, 'authorized');
is($adm->{state}, 'authorized', 'the webhook marked it authorized');
is(num($adm->{amount_authorized}), '50.00', '... 50.00 authorised');

my $s = session($c, 'S1', $pid);
is_problem(session($c2, 'S2', $pid, start_only => 1), 409, 'payment-in-use',
    'another session with it: 409 payment-in-use');
ok($s->{invoice}, 'the session was invoiced') or diag(explain($s));
my $inv = xget("invoices/$s->{invoice}");
my $total = num($inv->{totals}{payable});
ok($total > 0, "the invoice's total: $total");

$adm = xget("payments/$pid");
is($adm->{state}, 'capture_pending', 'at stop: capture_pending');
is($adm->{invoice}, $s->{invoice}, '... linked to the invoice');
is($adm->{session}{session_id}, 'S1', '... and the session');
is(scalar($g->calls(qr{/capture$})), 0, 'the stop did not wait for the gateway');

reconcile();
$adm = wait_state($pid, 'captured');
is($adm->{state}, 'captured', 'reconcile: captured');
is(num($adm->{amount_captured}), $total, "... the invoice's total");
is($adm->{card}{last4}, '4242', '... card brand and last 4 as reported');
my @caps = $g->calls(qr{/capture$});
is(scalar @caps, 1, 'exactly one capture');
(my $cents = $total) =~ s/\.//;
$cents =~ s/^0+//;
is($caps[0]{body}, "amount_to_capture=$cents", '... of the total in cents');

reconcile();
is(scalar($g->calls(qr{/capture$})), 1, 'reconcile again: no second capture');

my $st = xget("invoices/$s->{invoice}")->{status} || {};
is($st->{state}, 'paid', 'the invoice: paid');
is(num($st->{paid}), $total, '... the total');
like($st->{paid_at} // '', qr/^\d{4}-\d\d-\d\dT/, '... when');
is($st->{card_brand}, 'visa', '... the card brand the gateway reported');
is($st->{card_last4}, '4242', '... and its last four digits');
my $html = $t->admin('GET', "invoices/$s->{invoice}.html")->{body} // '';
like($html, qr{<section class="status paid"><strong>Paid</strong>: [^<]+ by card visa ending in 4242</section>},
    'the HTML invoice: paid, with the card brand and last 4');

# --- the hold reached: the charger is told to stop; the rest stays due ---

{
    my $c3 = $t->charger(id => 'PAY-3', body => { tariff_id => 'EUR1' });
    my $h = pay('PAY-3', 'app-key-hold')->{x}{payment_id};
    $g->authorize(xget("payments/$h")->{gateway_id});
    wait_state($h, 'authorized');
    $r = $c3->start($t->start_body(session_id => 'H1',
        timestamp => '2026-11-25T10:00:00Z', meter_start_wh => 1000,
        token_type => 'AD_HOC_USER', id_token => $h));
    is($r->{status}, 201, 'hold: start') or diag($r->{body});
    $r = $c3->reading('H1', { seq => 1, timestamp => '2026-11-25T11:00:00Z',
        energy_wh => 21000 });
    is($r->{status}, 200, 'hold: a reading below it');
    ok(!exists $r->{json}{stop}, '... no stop') or diag($r->{body});
    $r = $c3->reading('H1', { seq => 2, timestamp => '2026-11-25T14:00:00Z',
        energy_wh => 121000 });
    is($r->{status}, 200, 'hold: a reading past it') or diag($r->{body});
    ok($r->{json}{stop}, '... "stop": true');
    is($r->{json}{stop_reason}, 'payment-hold-reached',
        '... "stop_reason": "payment-hold-reached"');
    $r = $c3->stop('H1', { timestamp => '2026-11-25T14:00:00Z',
        meter_stop_wh => 121000 });
    is($r->{status}, 200, 'hold: stop');
    my $hs = xget("sessions/PAY-3/H1");
    my $hi = xget("invoices/$hs->{invoice}");
    ok(num($hi->{totals}{payable}) > 50, 'hold: the invoice is above it');
    reconcile();
    my $hp = wait_state($h, 'captured');
    is(num($hp->{amount_captured}), '50.00', 'hold: 50.00 captured, no more');
    my ($hc) = grep { $_->{key} eq "evbill-$h-capture" } @{ $g->log };
    is($hc->{body}, 'amount_to_capture=5000', '... capturable, never above');
    $hi = xget("invoices/$hs->{invoice}");
    is($hi->{status}{state}, 'due', 'hold: the rest stays due');
    is(num($hi->{status}{paid}), '50.00', '... 50.00 paid');
}

# --- webhooks -----------------------------------------------------------

sub hook {
    my ($body, $sig) = @_;
    return $t->http('POST', '/webhooks/gateway', body => $body,
        headers => { defined $sig ? ('Stripe-Signature' => $sig) : () });
}

my $ev = $g->events->[-1];
my $evbody = JSON::PP->new->canonical->encode($ev);
$r = hook($evbody, $g->sign($evbody));
is($r->{status}, 200, 'a replayed event: 200');
like($r->{body}, qr/"duplicate":true/, '... seen before');

my $fake = JSON::PP->new->canonical->encode({ id => 'evt_forged',
    type => 'payment_intent.canceled', data => { object => {
    id => $gw, status => 'canceled', metadata => { evbill_payment => $pid } } } });
$t->store_unchanged(sub {
    is_problem(hook($fake, $g->sign($fake, secret => 'whsec_wrong')), 400,
        'webhook-signature', 'a bad signature: 400');
    is_problem(hook($fake), 400, 'webhook-signature', 'no signature: 400');
    is_problem(hook($fake, $g->sign($fake, t => time - 301)), 400,
        'webhook-signature', 'a timestamp 301 s old: 400');
    is_problem(hook($fake . ' ', $g->sign($fake)), 400, 'webhook-signature',
        'a body changed after signing: 400');
}, 'refused webhooks: store unchanged');

# out of order: a late authorisation after the capture changes nothing
my ($auth) = grep { $_->{type} eq 'payment_intent.amount_capturable_updated' }
    @{ $g->events };
my $late = JSON::PP->new->canonical->encode({ %$auth, id => 'evt_late' });
$r = hook($late, $g->sign($late));
is($r->{status}, 200, 'a late authorisation event: 200');
is(xget("payments/$pid")->{state}, 'captured', '... still captured');

# --- a charger's own hold (PUT chargers "payment_hold") ------------------

{
    my $body = $t->default_charger_body(tariff_id => 'EUR1',
        payment_hold => { amount => 20.5, currency => 'EUR' });
    my $r = $t->put_charger('PAY-H', $body);
    is($r->{status}, 201, 'PUT chargers with payment_hold') or diag($r->{body});
    my $gc = jdecode($t->get_charger('PAY-H')->{body}) || {};
    is(num($gc->{payment_hold}{amount}), '20.50', 'GET chargers shows it');
    is($gc->{payment_hold}{currency}, 'EUR', '... in EUR');
    $r = pay('PAY-H', 'app-key-own');
    is(num($r->{x}{amount}), '20.50', 'its own hold: 20.50');
    my ($oc) = grep { ($_->{key} // '') eq "evbill-$r->{x}{payment_id}-create" }
        @{ $g->log };
    like($oc->{body}, qr/^amount=2050&currency=eur&/, '... 2050 cents');
    for my $bad ({ amount => 20.001, currency => 'EUR' },
                 { amount => 20, currency => 'EURO' },
                 { amount => -1, currency => 'EUR' }, 'x') {
        $t->store_unchanged(sub {
            is_problem($t->put_charger('PAY-H', $t->default_charger_body(
                tariff_id => 'EUR1', payment_hold => $bad)), 400,
                'invalid-value', 'a bad payment_hold: 400');
        }, '... store unchanged');
    }
    $r = $t->put_charger('PAY-H', $t->default_charger_body(
        tariff_id => 'EUR1'));
    is($r->{status}, 200, 'PUT chargers without it');
    ok(!exists(($t->get_charger('PAY-H')->{json} || {})->{payment_hold}),
        '... GET chargers no longer shows one');
    is(num(pay('PAY-H', 'app-key-own2')->{x}{amount}), '50.00',
        '... the configured hold again');
}

# --- JPY: no minor unit ---------------------------------------------------

$r = pay('PAY-J', 'app-key-jpy');
is($r->{status}, 201, 'JPY: 201') or diag($r->{body});
is(num($r->{x}{amount}), '5000', 'JPY: 5000, no decimals');
my $jid = $r->{x}{payment_id};
my ($jc) = grep { $_->{key} eq "evbill-$jid-create" } @{ $g->log };
like($jc->{body}, qr/^amount=5000&currency=jpy&/, 'JPY: 5000 yen, not x100');
$g->authorize(xget("payments/$jid")->{gateway_id});
is(wait_state($jid, 'authorized')->{state}, 'authorized', 'JPY: authorized');
$s = session($cj, 'SJ', $jid);
my $jt = num(xget("invoices/$s->{invoice}")->{totals}{payable});
reconcile();
is(wait_state($jid, 'captured')->{state}, 'captured', 'JPY: captured');
my ($jcap) = grep { $_->{key} eq "evbill-$jid-capture" } @{ $g->log };
is($jcap->{body}, "amount_to_capture=$jt", "JPY: the total in yen ($jt)");

# --- nothing secret in the log ----------------------------------------------

my $log = $t->error_log;
for my $secret ($g->api_key, $g->secret, $p->{client_secret}) {
    unlike($log, qr/\Q$secret\E/, 'the error log holds no secret');
}
unlike($log, qr/amount=|v1=|Bearer/, '... no body, signature or Bearer');

# --- at debug level too: the module's own lines hold no secret ------------

$t->write_conf(conf(main => 'error_log %%TESTDIR%%/debug.log debug;'));
$t->reload(wait_old => 1);
{
    my $r = pay('PAY-1', 'app-key-debug');
    is($r->{status}, 201, 'debug log: POST payments') or diag($r->{body});
    my $did = $r->{x}{payment_id};
    $g->authorize(xget("payments/$did")->{gateway_id});
    is(wait_state($did, 'authorized')->{state}, 'authorized',
        'debug log: the webhook applied');
    my @mine = grep { /\bevbill( payment)?: / } split /\n/, $t->read_file('debug.log');
    ok(@mine > 0, 'debug log: the module wrote lines');
    my @bad = grep { index($_, $g->api_key) >= 0 || index($_, $g->secret) >= 0
        || index($_, $r->{x}{client_secret}) >= 0 || /v1=|amount=/ } @mine;
    is(scalar @bad, 0, 'debug log: none of them holds a key, secret, '
        . 'signature or body') or diag(join "\n", @bad[0 .. ($#bad > 4 ? 4 : $#bad)]);
}

$t->finish;
done_testing;
