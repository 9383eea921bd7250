#!/usr/bin/perl
# Issue 6, item 4: a price that cannot be computed is never shown as
# current.  Registers rating cannot represent (10^-9 kWh in int64) are
# refused at the door; a rating failure that passes the door (a price so
# high that the cost overflows) clears the cost in the reading's answer,
# the session and the stop, which stores no CDR.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;

my $MAX = 9223372036854;    # INT64_MAX / 10^6 Wh

my $t = Evbill::Test->new;
$t->write_conf($t->std_conf);
$t->run;

# 100000 EUR/kWh: 10^8 kWh cost 10^13 EUR, beyond 64 bits at 10^-6
my $TARIFF = <<'END';
{"country_code":"DE","party_id":"EXA","id":"DEAR","currency":"EUR",
 "type":"REGULAR","last_updated":"2026-01-01T00:00:00Z",
 "elements":[{"price_components":[{"type":"ENERGY","price":100000,
                                   "vat":19.0,"step_size":1}]}]}
END

is($t->http('PUT', '/admin/tariffs/DEAR', body => $TARIFF)->{status}, 201,
    'PUT tariff DEAR');
my $c = $t->charger(id => 'RF-1', body => { tariff_id => 'DEAR' });

# --- the door ----------------------------------------------------------

sub refused {
    my ($path, $body, $field, $name) = @_;
    $t->store_unchanged(sub {
        my $r = $c->post($path, $t->json->encode($body));
        is_problem($r, 400, 'number-out-of-range', $name);
        like($r->{json}{detail} // '', qr/\Q$field\E.*\b$MAX\b/,
            "$name: the detail names the field and its maximum");
    }, "$name: store unchanged");
}

refused('sessions', $t->start_body(session_id => 'big',
    meter_start_wh => $MAX + 1), 'meter_start_wh',
    'start: meter_start_wh above the register maximum');

is($c->start($t->start_body(session_id => 'S1', meter_start_wh => 1000))
    ->{status}, 201, 'start S1');
refused('sessions/S1/readings', $t->reading_body(1, energy_wh => 10 ** 13),
    'energy_wh', 'reading: a register of 10^13 Wh');
refused('sessions/S1/readings',
    { readings => [ $t->reading_body(1), $t->reading_body(2,
        energy_wh => $MAX + 1) ] },
    'readings[1].energy_wh', 'batch: one register above the maximum');
refused('sessions/S1/stop', { timestamp => '2026-11-25T11:00:00Z',
    meter_stop_wh => $MAX + 1 }, 'meter_stop_wh',
    'stop: meter_stop_wh above the register maximum');

# the largest register is accepted (every difference fits)
is($c->start($t->start_body(session_id => 'S0', meter_start_wh => $MAX))
    ->{status}, 201, 'start at the register maximum');

# --- a rating failure past the door ------------------------------------

my $r = $c->reading('S1', $t->reading_body(1, energy_wh => 2000));
is($r->{status}, 200, 'reading 1 (1 kWh) rated') or diag($r->{body});
ok(ref $r->{json}{cost} eq 'HASH', 'reading 1 answers a cost');
ok(!exists $r->{json}{cost_error}, 'and no cost_error');

$r = $c->reading('S1', $t->reading_body(2, energy_wh => 100_000_002_000));
is($r->{status}, 200, 'reading 2 (10^8 kWh more) is stored')
    or diag($r->{body});
ok(exists $r->{json}{cost} && !defined $r->{json}{cost},
    'reading 2 answers "cost": null, not the old cost')
    or diag($r->{body});
like($r->{json}{cost_error} // '', qr/could not be rated/,
    'with a cost_error');

my $s = $t->get_session('RF-1', 'S1');
is($s->{status}, 200, 'GET the session');
ok(exists $s->{json}{cost} && !defined $s->{json}{cost},
    'the session: cost null') or diag($s->{body});
ok(length($s->{json}{cost_error} // ''), 'the session: cost_error');
is($s->{json}{last_seq}, 2, 'both readings stored');

# later readings do not bring a price back from a partial state
$r = $c->reading('S1', $t->reading_body(3, energy_wh => 100_000_002_100));
is($r->{status}, 200, 'reading 3 stored');
ok(exists $r->{json}{cost} && !defined $r->{json}{cost},
    'reading 3: cost still null') or diag($r->{body});
ok(length($r->{json}{cost_error} // ''), 'reading 3: cost_error');

$r = $c->stop('S1', { timestamp => '2026-11-25T11:00:00Z',
    meter_stop_wh => 100_000_002_100 });
is($r->{status}, 200, 'the stop is stored') or diag($r->{body});
is($r->{json}{state}, 'stopped', 'stopped');
ok(exists $r->{json}{cost} && !defined $r->{json}{cost},
    'the stop answers cost null, not a stale cost') or diag($r->{body});
like($r->{json}{cost_error} // '', qr/could not be rated/,
    'the stop answers a cost_error');

$s = $t->get_session('RF-1', 'S1');
ok(exists $s->{json}{cost} && !defined $s->{json}{cost},
    'the stopped session: cost null') or diag($s->{body});
is_problem($t->admin('GET', 'cdrs/RF-1/S1'), 404, 'unknown-cdr',
    'no CDR for a session that could not be rated');
is($t->store_stat->{cdrs}, 0, 'no CDR stored');

# the same stop again answers the same
my $again = $c->stop('S1', { timestamp => '2026-11-25T11:00:00Z',
    meter_stop_wh => 100_000_002_100 });
is($again->{status}, 200, 'the same stop again: 200');
ok(!defined $again->{json}{cost}, 'still cost null');

$t->finish;
done_testing;
