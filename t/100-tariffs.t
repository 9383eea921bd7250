#!/usr/bin/perl
# Admin tariffs: PUT stores a new version unless the body is
# byte-identical to the latest, GET returns the latest or an older
# version; an invalid tariff is refused with its own problem type and an
# errors[] list of JSON Pointers, and changes nothing; a session is billed
# with the tariff version current when it started.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;
use JSON::PP;

my $J = JSON::PP->new->utf8(1)->canonical(1);
my $RFC3339 = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$/;

# A valid OCPI 2.2.1 tariff, with a restricted element first.
sub tariff {
    my ($id, %o) = @_;
    my $price = $o{price} // 0.30;
    return {
        country_code => 'DE',
        party_id => 'EXA',
        id => $id,
        currency => 'EUR',
        type => 'REGULAR',
        last_updated => '2026-01-01T00:00:00Z',
        elements => [
            {
                price_components => [
                    { type => 'ENERGY', price => $price, vat => 19,
                      step_size => 1 },
                ],
                restrictions => { start_time => '08:00',
                                  end_time => '20:00',
                                  day_of_week => [qw(MONDAY TUESDAY)] },
            },
            {
                price_components => [
                    { type => 'ENERGY', price => 0.20, vat => 19,
                      step_size => 1 },
                    { type => 'PARKING_TIME', price => 6, vat => 19,
                      step_size => 60 },
                ],
            },
        ],
    };
}

my $t = Evbill::Test->new;
$t->write_conf($t->std_conf(workers => 2));
$t->run;

sub put_raw {
    my ($id, $body) = @_;
    return $t->http('PUT', '/admin/tariffs/' . Evbill::Client::uri_escape($id),
        body => ref $body ? $J->encode($body) : $body);
}

sub get_t { $t->admin('GET', "tariffs/$_[0]") }

# --- versions ---------------------------------------------------------

my $b1 = $J->encode(tariff('AC-1'));
my $b2 = $J->encode(tariff('AC-1', price => 0.35));

my $r = put_raw('AC-1', $b1);
is($r->{status}, 201, 'first PUT: 201');
is($r->{json}{tariff_id}, 'AC-1', '... tariff_id');
is($r->{json}{version}, 1, '... version 1');
like($r->{json}{created_at} // '', $RFC3339, '... created_at');
is_deeply($r->{json}{tariff}, $J->decode($b1), '... the tariff as sent');
my $created1 = $r->{json}{created_at};

$r = put_raw('AC-1', $b1);
is($r->{status}, 200, 'identical replay: 200');
is($r->{json}{version}, 1, '... still version 1');
is($r->{json}{created_at}, $created1, '... created_at of version 1');

$r = get_t('AC-1');
is($r->{status}, 200, 'GET latest');
is($r->{json}{version}, 1, '... version 1');

$r = put_raw('AC-1', $b2);
is($r->{status}, 200, 'changed body: 200');
is($r->{json}{version}, 2, '... version 2');
is($r->{json}{tariff}{elements}[0]{price_components}[0]{price}, '0.35',
    '... with the new price');
ok(($r->{json}{created_at} // '') ge $created1, '... created_at not earlier');

$r = put_raw('AC-1', $b2);
is($r->{json}{version}, 2, 'replay of version 2: version 2');

# byte-identical, not equivalent: other whitespace is another version,
# stored verbatim
(my $b3 = $b2) =~ s/,/, /g;
$r = put_raw('AC-1', $b3);
is($r->{status}, 200, 'same tariff, other bytes: 200');
is($r->{json}{version}, 3, '... version 3');
$r = get_t('AC-1');
is($r->{json}{version}, 3, 'GET latest: version 3');
ok(index($r->{body}, $b3) >= 0, '... the body exactly as sent (verbatim)')
    or diag($r->{body});

$r = $t->admin('GET', 'tariffs/AC-1/versions/1');
is($r->{status}, 200, 'GET versions/1');
is($r->{json}{version}, 1, '... version 1');
is($r->{json}{created_at}, $created1, '... its created_at');
is($r->{json}{tariff}{elements}[0]{price_components}[0]{price}, '0.3',
    '... the old price');
ok(index($r->{body}, $b1) >= 0, '... verbatim');
$r = $t->admin('GET', 'tariffs/AC-1/versions/2');
is($r->{json}{version}, 2, 'GET versions/2');
is_deeply($r->{json}{tariff}, $J->decode($b2), '... version 2');

# an old body again is not identical to the latest: a new version
$r = put_raw('AC-1', $b1);
is($r->{json}{version}, 4, 'version 1 body again: version 4');
is_deeply(get_t('AC-1')->{json}{tariff}, $J->decode($b1), '... is latest');

is_problem($t->admin('GET', 'tariffs/AC-1/versions/5'), 404, 'unknown-tariff',
    'no version 5');
is_problem($t->admin('GET', 'tariffs/AC-1/versions/0'), 400, 'invalid-value',
    'version 0');
is_problem($t->admin('GET', 'tariffs/AC-1/versions/x1'), 400, 'invalid-value',
    'version not a number');
is_problem(get_t('NOPE'), 404, 'unknown-tariff', 'unknown tariff');
is_problem($t->admin('GET', 'tariffs/NOPE/versions/1'), 404, 'unknown-tariff',
    'unknown tariff, version 1');

# OCPI 2.3.0: tax_included and before_taxes/after_taxes limits
{
    my $t3 = tariff('AC-230');
    $t3->{tax_included} = 'NO';
    $t3->{min_price} = { before_taxes => 0.50, after_taxes => 0.60 };
    $t3->{max_price} = { before_taxes => 50 };
    $r = put_raw('AC-230', $t3);
    is($r->{status}, 201, 'an OCPI 2.3.0 tariff is accepted')
        or diag($r->{body});
}

# --- refusals ---------------------------------------------------------

my $latest = get_t('AC-1')->{json}{version};

# bad($name, $mutate, $status, $problem, [$pointer, $problem_of_entry]...)
sub bad {
    my ($name, $mutate, $status, $problem, @want) = @_;
    my $id = 'AC-1';
    my $body;
    if (ref $mutate eq 'CODE') {
        my $tar = tariff($id);
        $mutate->($tar);
        $body = $J->encode($tar);
    } else {
        $body = $mutate;
    }
    my $res = $t->store_unchanged(sub { put_raw($id, $body) },
        "$name: store unchanged");
    is_problem($res, $status, $problem, "$name: $status $problem");
    my $errors = ref $res->{json} eq 'HASH' ? $res->{json}{errors} : undef;
    for my $w (@want) {
        my ($ptr, $ptype) = @$w;
        $ptype ||= $problem;
        my @hit = grep {
            ref $_ eq 'HASH' && ($_->{pointer} // '') eq $ptr
                && ($_->{type} // '') eq "urn:evbill:problem:$ptype"
                && length($_->{detail} // '')
        } @{ ref $errors eq 'ARRAY' ? $errors : [] };
        ok(scalar @hit, "$name: errors[] has $ptr ($ptype)")
            or diag('errors: ' . (defined $errors ? $J->encode($errors)
                                  : 'missing') );
    }
    if (@want && ref $errors eq 'ARRAY' && @$errors) {
        is($res->{json}{type}, $errors->[0]{type},
            "$name: the problem type is the first error's");
    }
    my $g = get_t($id);
    is($g->{json}{version}, $latest, "$name: latest is still version $latest");
    return $res;
}

my $pc0 = '/elements/0/price_components/0';

bad('unknown dimension', sub { $_[0]{elements}[0]{price_components}[0]{type}
    = 'KWH' }, 400, 'tariff-unknown-dimension', ["$pc0/type"]);
bad('RESERVATION_TIME is no tariff dimension',
    sub { $_[0]{elements}[1]{price_components}[1]{type} = 'RESERVATION_TIME' },
    400, 'tariff-unknown-dimension',
    ['/elements/1/price_components/1/type']);
bad('negative price', sub { $_[0]{elements}[0]{price_components}[0]{price}
    = -0.25 }, 400, 'tariff-negative-price', ["$pc0/price"]);
bad('negative vat', sub { $_[0]{elements}[0]{price_components}[0]{vat}
    = -19 }, 400, 'tariff-negative-price', ["$pc0/vat"]);
bad('negative min_price', sub { $_[0]{min_price} = { excl_vat => -1 } },
    400, 'tariff-negative-price', ['/min_price/excl_vat']);
bad('missing step_size', sub {
    delete $_[0]{elements}[0]{price_components}[0]{step_size} },
    400, 'tariff-missing-field', ["$pc0/step_size"]);
bad('missing price', sub {
    delete $_[0]{elements}[1]{price_components}[1]{price} },
    400, 'tariff-missing-field', ['/elements/1/price_components/1/price']);
bad('missing currency', sub { delete $_[0]{currency} },
    400, 'tariff-missing-field', ['/currency']);
bad('missing last_updated', sub { delete $_[0]{last_updated} },
    400, 'tariff-missing-field', ['/last_updated']);
bad('missing elements', sub { delete $_[0]{elements} },
    400, 'tariff-missing-field', ['/elements']);
bad('no elements', sub { $_[0]{elements} = [] },
    400, 'tariff-missing-field', ['/elements']);
bad('missing component type', sub {
    delete $_[0]{elements}[0]{price_components}[0]{type} },
    400, 'tariff-missing-field', ["$pc0/type"]);
bad('start_time 8:00', sub { $_[0]{elements}[0]{restrictions}{start_time}
    = '8:00' }, 400, 'tariff-bad-time-format',
    ['/elements/0/restrictions/start_time']);
bad('end_time 24:00', sub { $_[0]{elements}[0]{restrictions}{end_time}
    = '24:00' }, 400, 'tariff-bad-time-format',
    ['/elements/0/restrictions/end_time']);
bad('start_date not a date', sub {
    $_[0]{elements}[1]{restrictions} = { start_date => '01.03.2026' } },
    400, 'tariff-bad-time-format', ['/elements/1/restrictions/start_date']);
bad('last_updated not RFC 3339', sub { $_[0]{last_updated} = 'yesterday' },
    400, 'tariff-bad-time-format', ['/last_updated']);
bad('start_date_time not RFC 3339', sub {
    $_[0]{start_date_time} = '2026-01-01 00:00' },
    400, 'tariff-bad-time-format', ['/start_date_time']);
bad('end_date before start_date', sub {
    $_[0]{elements}[0]{restrictions}{start_date} = '2026-03-01';
    $_[0]{elements}[0]{restrictions}{end_date} = '2026-02-01' },
    400, 'tariff-end-before-start', ['/elements/0/restrictions/end_date']);
bad('end_date_time before start_date_time', sub {
    $_[0]{start_date_time} = '2026-06-01T00:00:00Z';
    $_[0]{end_date_time} = '2026-05-01T00:00:00Z' },
    400, 'tariff-end-before-start', ['/end_date_time']);
bad('max_kwh below min_kwh', sub {
    $_[0]{elements}[0]{restrictions}{min_kwh} = 10;
    $_[0]{elements}[0]{restrictions}{max_kwh} = 5 },
    400, 'tariff-end-before-start', ['/elements/0/restrictions/max_kwh']);
bad('unknown currency EURO', sub { $_[0]{currency} = 'EURO' },
    400, 'tariff-unknown-currency', ['/currency']);
bad('unknown currency XYZ', sub { $_[0]{currency} = 'XYZ' },
    400, 'tariff-unknown-currency', ['/currency']);
bad('type not a TariffType', sub { $_[0]{type} = 'CHEAP' },
    400, 'invalid-tariff', ['/type']);
bad('day_of_week FUNDAY', sub {
    $_[0]{elements}[0]{restrictions}{day_of_week} = ['MONDAY', 'FUNDAY'] },
    400, 'invalid-tariff', ['/elements/0/restrictions/day_of_week/1']);
bad('country_code too long', sub { $_[0]{country_code} = 'DEU' },
    400, 'invalid-tariff', ['/country_code']);
bad('two faults, both listed', sub {
    $_[0]{elements}[0]{price_components}[0]{price} = -1;
    $_[0]{elements}[1]{restrictions} = { end_time => '7 pm' } },
    400, 'tariff-negative-price', ["$pc0/price"],
    ['/elements/1/restrictions/end_time', 'tariff-bad-time-format']);
bad('id mismatch', sub { $_[0]{id} = 'AC-2' }, 400, 'tariff-id-mismatch');
bad('malformed JSON', '{"id": "AC-1",', 400, 'malformed-json');
bad('not an object', '[1,2]', 400, 'invalid-type');

# a refused first version leaves no tariff behind
$t->store_unchanged(sub {
    my $x = tariff('NEW-1');
    $x->{currency} = 'EURO';
    is_problem(put_raw('NEW-1', $x), 400, 'tariff-unknown-currency',
        'refused first version');
});
is_problem(get_t('NEW-1'), 404, 'unknown-tariff', '... no tariff stored');

# --- a session keeps the version current when it started --------------

{
    my $bill = sub {
        my ($price) = @_;
        return {
            country_code => 'DE', party_id => 'EXA', id => 'BILL',
            currency => 'EUR', last_updated => '2026-01-01T00:00:00Z',
            elements => [ { price_components => [
                { type => 'ENERGY', price => $price, vat => 19,
                  step_size => 1 } ] } ],
        };
    };
    is(put_raw('BILL', $bill->(0.30))->{status}, 201,
        'BILL version 1: 0.30/kWh');
    my $c = $t->charger(id => 'CH-BILL', body => { tariff_id => 'BILL' });
    my $start = sub {
        my ($sid) = @_;
        my $res = $c->start($t->start_body(session_id => $sid,
            timestamp => '2026-11-25T10:00:00Z', meter_start_wh => 1000));
        is($res->{status}, 201, "start $sid") or diag($res->{body});
    };
    my $read = sub {
        my ($sid, $seq, $kwh) = @_;
        my $res = $c->reading($sid, { seq => $seq,
            timestamp => ts_plus('2026-11-25T10:00:00Z', 600 * $seq),
            energy_wh => 1000 + 1000 * $kwh });
        is($res->{status}, 200, "$sid reading $seq") or diag($res->{body});
        return $res->{json}{cost} || {};
    };

    $start->('v1-a');
    $start->('v1-b');                       # no reading before version 2
    my $cost = $read->('v1-a', 1, 1);
    is($cost->{tariff_version}, 1, 'v1-a: tariff_version 1');
    is($cost->{total_cost}{excl_vat}, '0.3', 'v1-a: 1 kWh at 0.30');

    $r = put_raw('BILL', $bill->(0.50));
    is($r->{json}{version}, 2, 'BILL version 2: 0.50/kWh');

    $cost = $read->('v1-a', 2, 2);
    is($cost->{tariff_id}, 'BILL', 'v1-a after version 2: tariff_id');
    is($cost->{tariff_version}, 1, '... still tariff_version 1');
    is($cost->{total_cost}{excl_vat}, '0.6', '... 2 kWh at 0.30');
    is($cost->{total_cost}{incl_vat}, '0.714', '... incl. 19 % VAT');
    is($cost->{rounded}{total_cost}{incl_vat}, '0.71', '... rounded');

    $cost = $read->('v1-b', 1, 1);
    is($cost->{tariff_version}, 1,
        'v1-b (started before version 2, first reading after): version 1');
    is($cost->{total_cost}{excl_vat}, '0.3', '... 1 kWh at 0.30');

    $start->('v2-a');
    $cost = $read->('v2-a', 1, 1);
    is($cost->{tariff_version}, 2, 'v2-a (started after): tariff_version 2');
    is($cost->{total_cost}{excl_vat}, '0.5', '... 1 kWh at 0.50');

    my $s = $t->get_session('CH-BILL', 'v1-a')->{json} || {};
    is($s->{cost}{tariff_version}, 1, 'GET session v1-a: version 1');
    is($s->{cost}{total_cost}{excl_vat}, '0.6', '... 0.60');

    $r = $c->stop('v1-a', { timestamp => '2026-11-25T10:20:00Z',
        meter_stop_wh => 3000 });
    is($r->{status}, 200, 'stop v1-a') or diag($r->{body});
    my $cdr = $t->admin('GET', 'cdrs/CH-BILL/v1-a');
    is($cdr->{status}, 200, 'CDR of v1-a');
    is($cdr->{json}{total_cost}{excl_vat}, '0.6', '... total 0.60');
    is($cdr->{json}{total_cost}{incl_vat}, '0.71', '... incl. VAT 0.71');
    is_deeply($cdr->{json}{tariffs}, [ $bill->(0.30) ],
        '... tariffs: version 1 as stored');
    $s = $t->get_session('CH-BILL', 'v1-a')->{json} || {};
    is($s->{cost}{tariff_version}, 1, 'final cost: version 1');
    is($s->{cost}{total_cost}{excl_vat}, '0.6', '... 0.60');
}

# The dry run: a period naming a tariff the request does not carry is
# refused alike on the first and on a later period (422 no-tariff).
for my $which (0, 1) {
    my @periods = map { {
        start_date_time => "2026-11-24T1${_}:00:00Z",
        dimensions => [ { type => 'ENERGY', volume => 5 } ],
    } } (0, 1);
    $periods[$which]{tariff_id} = 'NOT-IN-REQUEST';
    my $txn = $t->txn_id;
    my $r = $t->http('POST', '/admin/rate', body => $J->encode({
        time_zone => 'Europe/Berlin',
        tariffs => [ tariff('DRY-1') ],
        session => { start_date_time => '2026-11-24T10:00:00Z',
                     end_date_time => '2026-11-24T12:00:00Z',
                     charging_periods => \@periods },
    }));
    is_problem($r, 422, 'no-tariff',
        "dry run: unknown tariff_id on period $which");
    is($t->txn_id, $txn, '... nothing stored');
}

$t->finish;
done_testing;
