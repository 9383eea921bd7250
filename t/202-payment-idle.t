#!/usr/bin/perl
# Payments and the idle sweep (issue 11): a session the sweep closes is
# invoiced, its capture waits in the outbox (no client request to run
# it from), and reconcile captures it, exactly once.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;
use Evbill::Gateway;
use Evbill::ExactJSON qw(jdecode num);

plan(skip_all => 'node is not installed') unless `node --version 2>/dev/null`;

my $SELLER = do {
    local $/;
    open my $f, '<', "$FindBin::Bin/fixtures/invoice/seller.json" or die;
    <$f>;
};

my $t = Evbill::Test->new;
$t->write_file('seller.json', $SELLER);
my $g = Evbill::Gateway->new($t);

$t->write_conf($t->std_conf(workers => 1,
    http => 'evbill_seller_file %%TESTDIR%%/seller.json; '
        . 'evbill_session_idle_timeout 1s; '
        . $g->http_conf . ' '
        . 'evbill_payment_gateway /_gateway/; '
        . 'evbill_payment_key_file ' . $g->key_file . '; '
        . 'evbill_payment_webhook_secret_file ' . $g->secret_file . '; '
        . 'evbill_payment_hold 50.00 EUR;',
    server => $g->location . ' '
        . 'location = /webhooks/gateway { evbill_payment_webhook; } '
        . 'location /public/ { evbill_app_api public; }'));
$t->run;

sub xget {
    my $r = $t->admin('GET', $_[0]);
    return (($r->{body} =~ /^\{/) ? eval { jdecode($r->{body}) } : undef)
        || {};
}

my $r = $t->admin('PUT', 'tariffs/T', '{"country_code":"DE","party_id":'
    . '"EXA","id":"T","currency":"EUR","last_updated":'
    . '"2026-01-01T00:00:00Z","elements":[{"price_components":[{"type":'
    . '"ENERGY","price":0.40,"vat":19,"step_size":1}]}]}');
is($r->{status}, 201, 'tariff');
my $c = $t->charger(id => 'I-1', body => { tariff_id => 'T' });

$r = $t->http('POST', '/public/payments', body => { charger_id => 'I-1' },
    headers => { 'Idempotency-Key' => 'k-idle' });
is($r->{status}, 201, 'POST payments') or diag($r->{body});
my $pid = jdecode($r->{body})->{payment_id};
$g->authorize(xget("payments/$pid")->{gateway_id});
my $p = {};
for (1 .. 40) {
    $p = xget("payments/$pid");
    last if $p->{state} eq 'authorized';
    select(undef, undef, undef, 0.1);
}
is($p->{state}, 'authorized', 'authorized');

is($c->start($t->start_body(session_id => 'idle', token_type => 'AD_HOC_USER',
    id_token => $pid))->{status}, 201, 'start');
is($c->reading('idle', { seq => 1, timestamp => '2026-11-25T10:30:00Z',
    energy_wh => 5500 })->{status}, 200, 'a reading');

my $s = {};
for (1 .. 40) {
    $s = xget('sessions/I-1/idle');
    last if ($s->{state} // '') eq 'stopped';
    select(undef, undef, undef, 0.25);
}
is($s->{stop_reason}, 'timeout', 'the sweep closed it');
ok($s->{invoice}, '... and invoiced it');
my $total = num(xget("invoices/$s->{invoice}")->{totals}{payable});
is(xget("payments/$pid")->{state}, 'capture_pending',
    'the capture waits in the outbox');

$r = $t->admin('POST', 'payments/reconcile');
is($r->{status}, 200, 'reconcile');
for (1 .. 40) {
    $p = xget("payments/$pid");
    last if $p->{state} eq 'captured';
    select(undef, undef, undef, 0.1);
}
is($p->{state}, 'captured', 'captured');
is(num($p->{amount_captured}), $total, '... the invoice total');
is(scalar($g->calls(qr{/capture$})), 1, '... exactly one capture');

$t->finish;
done_testing;
