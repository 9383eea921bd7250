#!/usr/bin/perl
# Payments (issue 11 follow-up): a session closed without reaching the
# invoice hook (voided by the admin, or closed unrated by the idle
# sweep beyond evbill_session_max_duration) releases its ad hoc hold: a cancel is queued in the closing
# transaction and reconcile sends it, exactly once.

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

sub conf {
    my ($extra) = @_;
    return $t->std_conf(workers => 1,
    http => 'evbill_seller_file %%TESTDIR%%/seller.json; ' . $extra
        . $g->http_conf . ' '
        . 'evbill_payment_gateway /_gateway/; '
        . 'evbill_payment_key_file ' . $g->key_file . '; '
        . 'evbill_payment_webhook_secret_file ' . $g->secret_file . '; '
        . 'evbill_payment_hold 50.00 EUR;',
    server => $g->location . ' '
        . 'location = /webhooks/gateway { evbill_payment_webhook; } '
        . 'location /public/ { evbill_app_api public; }');
}

$t->write_conf(conf(''));
$t->run;

sub xget {
    my $r = $t->admin('GET', $_[0]);
    return (($r->{body} =~ /^\{/) ? eval { jdecode($r->{body}) } : undef)
        || {};
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

sub held {
    my ($charger, $key) = @_;
    my $r = $t->http('POST', '/public/payments',
        body => { charger_id => $charger },
        headers => { 'Idempotency-Key' => $key });
    is($r->{status}, 201, "$key: POST payments") or diag($r->{body});
    my $pid = (jdecode($r->{body}) || {})->{payment_id};
    $g->authorize(xget("payments/$pid")->{gateway_id});
    is(wait_state($pid, 'authorized')->{state}, 'authorized',
        "$key: authorized");
    return $pid;
}

sub released {
    my ($pid, $name) = @_;
    my $p = xget("payments/$pid");
    is($p->{state}, 'authorized', "$name: still authorized at close");
    is(($p->{pending_call} || {})->{action}, 'cancel',
        "$name: a cancel is queued in the closing transaction")
        or diag(explain($p));
    my $r = $t->admin('POST', 'payments/reconcile');
    is($r->{status}, 200, "$name: reconcile");
    is(wait_state($pid, 'canceled')->{state}, 'canceled',
        "$name: reconcile canceled the hold");
    my @c = grep { ($_->{key} // '') eq "evbill-$pid-cancel" } @{ $g->log };
    is(scalar @c, 1, "$name: exactly one cancel at the gateway");
    $t->admin('POST', 'payments/reconcile');
    @c = grep { ($_->{key} // '') eq "evbill-$pid-cancel" } @{ $g->log };
    is(scalar @c, 1, "$name: reconcile again sends no second cancel");
}

my $r = $t->admin('PUT', 'tariffs/T', '{"country_code":"DE","party_id":'
    . '"EXA","id":"T","currency":"EUR","last_updated":'
    . '"2026-01-01T00:00:00Z","elements":[{"price_components":[{"type":'
    . '"ENERGY","price":0.40,"vat":19,"step_size":1}]}]}');
is($r->{status}, 201, 'tariff');

# --- voided by the admin ------------------------------------------------

my $c = $t->charger(id => 'V-1', body => { tariff_id => 'T' });
my $pid = held('V-1', 'k-void');
is($c->start($t->start_body(session_id => 'v', token_type => 'AD_HOC_USER',
    id_token => $pid))->{status}, 201, 'void: start');
$r = $t->admin('POST', 'sessions/V-1/v/void', '{"reason":"meter swapped"}');
is($r->{status}, 200, 'void: 200') or diag($r->{body});
released($pid, 'void');

# --- the sweep closes a session beyond the bounds, unrated --------------

my $cl = $t->charger(id => 'L-1', body => { tariff_id => 'T' });
$pid = held('L-1', 'k-limit');
is($cl->start($t->start_body(session_id => 'l', token_type => 'AD_HOC_USER',
    id_token => $pid, timestamp => '2026-11-25T10:00:00Z',
    meter_start_wh => 1000))->{status}, 201, 'limit: start');
is($cl->reading('l', { seq => 1, timestamp => '2026-11-27T10:00:00Z',
    energy_wh => 5500 })->{status}, 200, 'limit: a reading two days on');

$t->stop;
$t->write_conf(conf('evbill_session_max_duration 1d; '
    . 'evbill_session_idle_timeout 1s; '));
$t->run;

my $s = {};
for (1 .. 40) {
    $s = xget('sessions/L-1/l');
    last if ($s->{state} // '') eq 'stopped';
    select(undef, undef, undef, 0.25);
}
is($s->{state}, 'stopped', 'limit: the sweep closed it');
ok(!defined $s->{cost} && !$s->{invoice}, 'limit: unrated, no invoice')
    or diag(explain($s));
like($s->{cost_error} // '', qr/evbill_session_max_duration/,
    'limit: cost_error says why');
released($pid, 'limit');

$t->finish;
done_testing;
