#!/usr/bin/perl
# Monthly invoices (issue 10): POST billing-runs over dozens of sessions
# of several customers (monthly ones, and per-session ones the run leaves
# alone), in chunks of a small limit, repeated (the same answer, nothing
# new in the store), a late session (it stops after its month's run: the
# next month's run takes it, its lines marked late), a month not ended
# (422 period-not-ended, store unchanged), bad bodies; every monthly
# invoice's lines equal its sessions' CDR amounts, its VAT follows the
# billing rule over all its lines (once per rate), and it passes the UBL
# 2.1 schema and CEN's EN 16931 rules.

use strict;
use warnings;
use utf8;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;
use Evbill::ExactJSON qw(jdecode num);
use Evbill::Invoice qw(validate_ubl);
use JSON::PP;

my $t = Evbill::Test->new;

{
    local $/;
    open my $f, '<', "$FindBin::Bin/fixtures/invoice/seller.json" or die;
    $t->write_file('seller.json', <$f>);
}

$t->write_conf($t->std_conf(workers => 2,
    http => 'evbill_seller_file %%TESTDIR%%/seller.json;'));
$t->run;

my $json = JSON::PP->new->utf8->canonical;

sub xreq {
    my ($m, $path, $body, %o) = @_;
    my $r = $t->admin($m, $path, defined $body && ref $body
        ? $json->encode($body) : $body, %o);
    $r->{x} = ($r->{body} =~ /^\{/) ? eval { jdecode($r->{body}) } : undef;
    return $r;
}

# a decimal token in minor units (EUR: 2 decimals)
sub cents {
    my ($s) = @_;
    $s = num($s) if defined $s && $s =~ /^\x{1}/;
    my ($neg, $i, $f) = ($s // '0') =~ /^(-?)(\d+)(?:\.(\d+))?$/
        or die "not a decimal: $s";
    $f = substr(($f // '') . '00', 0, 2);
    return ($neg ? -1 : 1) * ($i * 100 + $f);
}

# --- who is billed, and the tariffs ---------------------------------------------

my @monthly = map { sprintf 'M%02d', $_ } 1 .. 5;
for my $id (@monthly) {
    is(xreq('PUT', "customers/$id", { name => "Fleet $id GmbH",
        email => lc($id) . '@fleet.example', address => { street =>
        'Ring 1', city => 'Berlin', postal_code => '10115', country => 'DE' },
        vat_id => 'DE811907980', invoicing => 'monthly',
        ($id eq 'M02' ? (language => 'de') : ()) })->{status}, 201,
        "monthly customer $id");
    is(xreq('PUT', "tokens/TOK-$id", { customer_id => $id, type => 'RFID' })
        ->{status}, 201, "token of $id");
}
is(xreq('PUT', 'customers/P01', { name => 'Per Session AG',
    email => 'p@ps.example', address => { street => 'Weg 2', city => 'Bonn',
    postal_code => '53111', country => 'DE' }, invoicing => 'per_session' })
    ->{status}, 201, 'a customer invoiced per session');
is(xreq('PUT', 'tokens/TOK-P01', { customer_id => 'P01', type => 'RFID' })
    ->{status}, 201, 'token of P01');

sub tariff {
    my ($id, $elements, %extra) = @_;
    my $x = join '', map { ",\"$_\":$extra{$_}" } sort keys %extra;
    is(xreq('PUT', "tariffs/$id", '{"country_code":"DE","party_id":"EXA",'
        . '"id":"' . $id . '","currency":"EUR","last_updated":'
        . '"2026-01-01T00:00:00Z"' . $x . ',"elements":' . $elements . '}')
        ->{status}, 201, "PUT tariff $id");
}

# two VAT rates; odd prices so per-session VAT rounding shows
tariff('TWO', '[{"price_components":[{"type":"ENERGY","price":0.333,'
    . '"vat":19,"step_size":1},{"type":"FLAT","price":0.505,"vat":7,'
    . '"step_size":0}]}]');
# a min price: the session's adjustment becomes a charge of the month
tariff('MIN', '[{"price_components":[{"type":"ENERGY","price":0.10,'
    . '"vat":19,"step_size":1}]}]', min_price => '{"excl_vat":5.00}');
# a max price: an allowance
tariff('MAX', '[{"price_components":[{"type":"ENERGY","price":2.00,'
    . '"vat":19,"step_size":1}]}]', max_price => '{"excl_vat":3.00}');

my %charger = map { $_ => $t->charger(id => "RUN-$_",
    body => { tariff_id => $_ }) } qw(TWO MIN MAX);

my $n = 0;
my %sessions;     # "charger/session" -> { customer, month }

# one session: start, a reading, stop
sub session {
    my (%o) = @_;
    my $c = $charger{ $o{tariff} || 'TWO' };
    my $sid = 'r' . ++$n;
    my $wh = $o{wh} || 2000 + 137 * $n;
    my $r = $c->start($t->start_body(session_id => $sid,
        timestamp => $o{start}, meter_start_wh => 1000,
        id_token => "TOK-$o{customer}", token_type => 'RFID'));
    is($r->{status}, 201, "$sid: start") or diag($r->{body});
    my $end = ts_plus($o{start}, $o{minutes} * 60);
    $r = $c->reading($sid, { seq => 1, timestamp => $end,
        energy_wh => 1000 + $wh });
    is($r->{status}, 200, "$sid: reading") or diag($r->{body});
    my $key = "$c->{charger_id}/$sid";
    $sessions{$key} = { customer => $o{customer}, charger => $c,
        sid => $sid, end => $end, wh => $wh };
    return $key if $o{open};
    $r = $c->stop($sid, { timestamp => $end, meter_stop_wh => 1000 + $wh });
    is($r->{status}, 200, "$sid: stop") or diag($r->{body});
    return $key;
}

sub session_view {
    my ($key) = @_;
    return xreq('GET', "sessions/$key")->{x} || {};
}

# October: two sessions of M01, one of M03 ending in November in Berlin
# (23:30 UTC on 31 October is 00:30 on 1 November there)
my @oct = map { session(customer => 'M01', start => "2026-10-0${_}T08:00:00Z",
    minutes => 40) } 1 .. 2;
my $tz_nov = session(customer => 'M03', start => '2026-10-31T22:50:00Z',
    minutes => 40);
# a session of M02 that ends in October but stops only after October's run
my $late = session(customer => 'M02', start => '2026-10-30T10:00:00Z',
    minutes => 30, open => 1);

# November: dozens, over the five monthly customers and three tariffs
my @nov;
for my $d (1 .. 6) {
    for my $i (0 .. $#monthly) {
        my $tariff = (qw(TWO TWO MIN TWO MAX))[($d + $i) % 5];
        push @nov, session(customer => $monthly[$i], tariff => $tariff,
            start => sprintf('2026-11-%02dT%02d:00:00Z', $d + 1, 6 + $i),
            minutes => 20 + 7 * $i);
    }
}
# the per-session customer: invoiced at its stop, never by the run
my $ps = session(customer => 'P01', start => '2026-11-10T09:00:00Z',
    minutes => 30);
ok(session_view($ps)->{invoice}, 'per_session: invoiced at stop');

like(session_view($nov[0])->{no_invoice},
    qr/^invoiced monthly: pending run for 2026-11$/,
    'a monthly session says which run it waits for');
like(session_view($tz_nov)->{no_invoice}, qr/pending run for 2026-11$/,
    "the month is the seller's zone's: 31 Oct 23:30 UTC is November");
like(session_view($oct[0])->{no_invoice}, qr/pending run for 2026-10$/,
    'an October session');

# --- refused: nothing changes -------------------------------------------------------

# this month and the next in the seller's zone (the test may run after
# December 2026)
my @open_months = do {
    require POSIX;
    local $ENV{TZ} = 'Europe/Berlin';
    POSIX::tzset();
    my @lt = localtime;
    my @m = (POSIX::strftime('%Y-%m', @lt),
        POSIX::strftime('%Y-%m', 0, 0, 0, 1, $lt[4] + 1, $lt[5]));
    @m;
};
for my $p (@open_months) {
    my $r = $t->store_unchanged(sub {
        xreq('POST', 'billing-runs', { period => $p }) },
        "$p: store unchanged");
    is_problem($r, 422, 'period-not-ended', "$p has not ended: 422");
}
for my $c (
    [ '{"period":"2026-13"}', 400, 'invalid-value', 'month 13' ],
    [ '{"period":"2026-1"}', 400, 'invalid-value', 'one digit month' ],
    [ '{"period":202611}', 400, 'invalid-type', 'a number' ],
    [ '{}', 400, 'missing-field', 'no period' ],
    [ '{"period":"2026-11","limit":0}', 400, 'number-out-of-range',
      'limit 0' ],
    [ '{"period":"2026-11","limit":1001}', 400, 'number-out-of-range',
      'limit 1001' ],
    [ '{"period":"2026-11","limit":1.5}', 400, 'not-an-integer',
      'limit 1.5' ],
    [ '{"period":"2026-11","x":1}', 400, 'invalid-value', 'unknown field' ],
    [ '{"period":', 400, 'malformed-json', 'malformed' ],
) {
    my $r = $t->store_unchanged(sub { xreq('POST', 'billing-runs', $c->[0]) },
        "$c->[3]: store unchanged");
    is_problem($r, $c->[1], $c->[2], "$c->[3]: $c->[1] $c->[2]");
}
is_problem(xreq('GET', 'billing-runs/2026-11'), 404, 'unknown-billing-run',
    'no run of November yet');
is_problem(xreq('GET', 'billing-runs/nonsense'), 404, 'unknown-billing-run',
    'not a period');

# --- October's run ---------------------------------------------------------------

my $ro = xreq('POST', 'billing-runs', { period => '2026-10' });
is($ro->{status}, 200, 'run 2026-10') or diag($ro->{body});
is($ro->{x}{done}, JSON::PP::true, '... done in one call');
is(scalar @{ $ro->{x}{invoices} }, 1, '... one invoice (M01)');
my $oct_inv = $ro->{x}{invoices}[0];
is(session_view($_)->{invoice}, $oct_inv, "$_: linked to $oct_inv")
    for @oct;
like(session_view($tz_nov)->{no_invoice}, qr/2026-11/,
    "M03's session ending on 1 November (Berlin) waits for November");

# the late session stops now: October's run has passed
{
    my $s = $sessions{$late};
    my $r = $s->{charger}->stop($s->{sid}, { timestamp => $s->{end},
        meter_stop_wh => 1000 + $s->{wh} });
    is($r->{status}, 200, 'late: stop after the October run');
    like(session_view($late)->{no_invoice},
        qr/^invoiced monthly: late for the run of 2026-10/,
        'late: the session says it is late for October');
}

# repeated: the same answer, nothing written
my $again = $t->store_unchanged(sub {
    xreq('POST', 'billing-runs', { period => '2026-10' }) },
    'run 2026-10 again: store unchanged');
is_deeply($again->{x}{invoices}, $ro->{x}{invoices},
    'run 2026-10 again: the same invoices');
is(num($again->{x}{made}), 0, '... none made');

# --- November's run, two customers per call -----------------------------------------

my (@calls, %seen);
for (1 .. 10) {
    my $r = xreq('POST', 'billing-runs', { period => '2026-11', limit => 2 });
    is($r->{status}, 200, 'run 2026-11, limit 2: call ' . (@calls + 1))
        or diag($r->{body});
    push @calls, $r->{x};
    last if !$r->{x} || $r->{x}{done};
}
is(scalar @calls, 3, 'five customers in chunks of two: three calls');
is($calls[0]{done}, JSON::PP::false, 'the first chunk is not done');
cmp_ok(num($calls[0]{made}), '==', 2, 'the first chunk: two invoices');
my @nov_inv = @{ $calls[-1]{invoices} || [] };
is(scalar @nov_inv, 5, 'five invoices, one per monthly customer');
is_deeply([ @{ $calls[1]{invoices} }[0 .. 1] ], $calls[0]{invoices},
    'each answer lists the run so far');

my $rep = $t->store_unchanged(sub {
    xreq('POST', 'billing-runs', { period => '2026-11', limit => 2 }) },
    'run 2026-11 when done: store unchanged');
is_deeply($rep->{x}{invoices}, \@nov_inv, '... the same invoices');
is($rep->{x}{done}, JSON::PP::true, '... done');
is(num($rep->{x}{made}), 0, '... none made');
my $get = xreq('GET', 'billing-runs/2026-11');
is($get->{status}, 200, 'GET billing-runs/2026-11');
is_deeply($get->{x}{invoices}, \@nov_inv, '... its invoices');
is($get->{x}{done}, JSON::PP::true, '... done');

# gapless: every number of the series, per session and monthly, in order
{
    my @all = map { $_->{number} }
        @{ xreq('GET', 'invoices?limit=100')->{x}{items} || [] };
    my @k = sort { $a <=> $b } map { /(\d+)$/ ? $1 + 0 : -1 } @all;
    is_deeply(\@k, [ 1 .. scalar @k ], scalar(@k) . ' invoice numbers, '
        . 'no gap, no duplicate');
    is(scalar @k, 1 + 1 + 5, 'one per session, October, five of November');
    my %item = map { $_->{number} => $_ }
        @{ xreq('GET', 'invoices?limit=100')->{x}{items} || [] };
    ok(!exists $item{ $nov_inv[0] }{session_id}
       && !exists $item{ $nov_inv[0] }{charger_id},
       'the listing: a monthly invoice names no single session');
    my ($psn) = grep { exists $item{$_}{session_id} } keys %item;
    ok($psn, 'the listing: a per-session invoice still names its session');
}

# --- each November invoice against its sessions' CDRs -------------------------------

my %dimcost = (ENERGY => 'total_energy_cost', FLAT => 'total_fixed_cost',
    TIME => 'total_time_cost', PARKING_TIME => 'total_parking_cost');
my (%by_customer, @files, $late_checked);
for my $num (@nov_inv, $oct_inv) {
    my $inv = xreq('GET', "invoices/$num")->{x};
    ok($inv, "GET invoices/$num") or next;
    my $cust = $inv->{customer_id} // '';
    $by_customer{$cust} = $inv if $num ne $oct_inv;
    ok(!exists $inv->{session}, "$num: no session at document level");

    my (%lines, %late);
    for my $l (@{ $inv->{lines} }) {
        ok($l->{session}, "$num line $l->{id}: names its session") or next;
        push @{ $lines{ $l->{session} } }, $l;
        $late{ $l->{session} } = 1 if $l->{late};
    }
    my $excl = 0;
    my $incl = 0;
    for my $key (sort keys %lines) {
        is($sessions{$key}{customer}, $cust, "$num: $key is ${cust}'s");
        is(session_view($key)->{invoice}, $num, "$key: linked to $num");
        my $cdr = xreq('GET', "cdrs/$key")->{x};
        my %sum;
        $sum{ $dimcost{ $_->{dimension} } } += cents($_->{net_amount})
            for @{ $lines{$key} };
        for my $f (sort keys %sum) {
            is($sum{$f}, cents($cdr->{$f}{excl_vat}),
                "$num: $key lines = its CDR's $f");
        }
        $excl += cents($cdr->{total_cost}{excl_vat});
        $incl += cents($cdr->{total_cost}{incl_vat});
        if ($key eq $late) {
            ok($late{$key}, "$num: the late session's lines are marked late");
            $late_checked = 1;
        } else {
            ok(!$late{$key}, "$num: $key not late");
        }
    }
    is(cents($inv->{totals}{tax_exclusive}), $excl,
        "$num: net total = the sessions' CDR net totals (min/max kept)");

    # the billing rule over all lines: VAT once per rate
    my $tax = 0;
    for my $v (@{ $inv->{vat} }) {
        my $taxable = cents($v->{taxable});
        is($taxable, cents($v->{lines}) - cents($v->{allowance} // '0')
            + cents($v->{charge} // '0'), "$num: $v->{rate}%: taxable");
        my ($ri, $rf) = num($v->{rate}) =~ /^(\d+)(?:\.(\d+))?$/;
        my $rate = $ri * 1000000 + substr(($rf // '') . '000000', 0, 6);
        my $want = int(($taxable * $rate + 50000000) / 100000000);
        is(cents($v->{amount}), $want,
            "$num: VAT $v->{rate}% once on the rate's taxable sum");
        $tax += $want;
    }
    is(cents($inv->{totals}{tax_total}), $tax, "$num: VAT total");
    is(cents($inv->{totals}{payable}), $excl + $tax, "$num: payable");
    my $nsess = scalar keys %lines;
    cmp_ok(abs(cents($inv->{totals}{payable}) - $incl), '<=', $nsess,
        "$num: within a cent per session of the CDRs' gross sum ("
        . (cents($inv->{totals}{payable}) - $incl) . ' cents)');

    my $r = xreq('GET', "invoices/$num.xml");
    is($r->{status}, 200, "GET invoices/$num.xml");
    $t->write_file("inv-$num.xml", $r->{body});
    push @files, $t->dir . "/inv-$num.xml";
}
ok($late_checked, 'the late session is on a November invoice');
is(scalar(grep { exists $by_customer{$_} } @monthly), 5,
    'each monthly customer has its November invoice');
ok((grep { $_->{session} eq $tz_nov } @{ $by_customer{M03}{lines} }),
    "M03's November invoice has the session that ended on 1 November");
ok(!(grep { $_->{session} eq $ps } map { @{ $_->{lines} } }
    values %by_customer), 'the per-session customer is on no monthly invoice');
is($by_customer{M02}{language}, 'de', "M02's invoice in its language");

# the late note in every format
{
    my $num = $by_customer{M02}{number};
    my $x = xreq('GET', "invoices/$num.xml")->{body};
    like($x, qr{<cbc:Note>Ladevorgang \Q$late\E \(nachgereicht\)</cbc:Note>},
        'UBL: the late line says so in its note');
    my $h = xreq('GET', "invoices/$num.html")->{body};
    like($h, qr/\Q$late\E \(nachgereicht\)/, 'HTML: the late line');
}

# every monthly invoice through the UBL 2.1 schema and the EN 16931 rules
my $res = validate_ubl(@files);
for my $f (@files) {
    is_deeply($res->{$f}, [], "$f: UBL 2.1 schema and EN 16931 rules")
        or diag(join "\n", @{ $res->{$f} || [] });
}

# a credit note of a monthly invoice works like any other
{
    my $num = $by_customer{M01}{number};
    my $cn = xreq('PUT', "invoices/$num/credits/goodwill",
        { reason => 'Goodwill', lines => [ 1 ] });
    ok($cn->{status} == 201, "a credit note of monthly invoice $num")
        or diag($cn->{body});
}

# December's sessions are not November's: a new session in November after
# the run is late and waits for December's run
{
    my $k = session(customer => 'M04', start => '2026-11-29T10:00:00Z',
        minutes => 15);
    like(session_view($k)->{no_invoice}, qr/late for the run of 2026-11/,
        'a November session stored after its run: late');
}

$t->finish;
done_testing;
