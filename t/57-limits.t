#!/usr/bin/perl
# Bounded work (issue 6, item 1): timestamps within evbill_max_data_age
# before and evbill_signature_window after the server's clock (too-old,
# in-the-future; stored data replays as duplicates whatever its age), a
# session's span and periods within evbill_session_max_duration and
# evbill_session_max_periods (session-limit, nothing stored), the same
# bounds on the dry run (400 with a pointer), and the idle sweep closing
# a session stored beyond them, bounded.
#
# Times are relative to the clock, in a charger whose zone is UTC (no DST
# whatever the date), 10 days back: the defaults apply to "now".

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;
use Time::HiRes qw(sleep time);

my $J = Evbill::Test->json;

sub at { Evbill::Client::rfc3339($_[0]) }

my $now = int time;
my $B = int($now / 86400) * 86400 - 10 * 86400;    # 00:00Z, 10 days ago
my $H = 3600;
my $D = 86400;

# 0.30/kWh 08:00-20:00, 0.20/kWh otherwise: two cuts a day
my $TOD = {
    country_code => 'DE', party_id => 'EXA', id => 'TOD', currency => 'EUR',
    type => 'REGULAR', last_updated => '2026-01-01T00:00:00Z',
    elements => [
        { price_components => [{ type => 'ENERGY', price => 0.30,
            step_size => 1 }],
          restrictions => { start_time => '08:00', end_time => '20:00' } },
        { price_components => [{ type => 'ENERGY', price => 0.20,
            step_size => 1 }] },
    ] };
my $FLAT = { %$TOD, id => 'FLAT', elements => [
    { price_components => [{ type => 'ENERGY', price => 0.25,
        step_size => 1 }] } ] };

my $limits = 'evbill_session_max_duration 3d; evbill_session_max_periods 4;';

my $t = Evbill::Test->new;

# --- phase 0: old data stored while the bound allowed it ---------------

$t->write_conf($t->std_conf(data_age => '3650d', http => $limits));
$t->run;

is($t->http('PUT', '/admin/tariffs/TOD', body => $TOD)->{status}, 201,
    'PUT TOD');
is($t->http('PUT', '/admin/tariffs/FLAT', body => $FLAT)->{status}, 201,
    'PUT FLAT');

my %utc = (location => { %{ $t->default_charger_body->{location} },
    time_zone => 'UTC' });
my $c = $t->charger(id => 'LIM-TOD', body => { %utc, tariff_id => 'TOD' });
my $f = $t->charger(id => 'LIM-FLAT', body => { %utc, tariff_id => 'FLAT' });

my $old = $now - 400 * $D;
my %old_start = (session_id => 'old', timestamp => at($old),
    meter_start_wh => 1000);
my %old_rd = (seq => 1, timestamp => at($old + 600), energy_wh => 2000);
my %old_stop = (timestamp => at($old + 1200), meter_stop_wh => 2500);
is($f->start($t->start_body(%old_start))->{status}, 201,
    'a session 400 days old, while evbill_max_data_age was 3650d');
is($f->reading('old', \%old_rd)->{status}, 200, '... its reading');
is($f->stop('old', \%old_stop)->{status}, 200, '... its stop');
my %old_rd2 = (seq => 1, timestamp => at($old + 600), energy_wh => 3000);
is($f->start($t->start_body(session_id => 'old-active',
    timestamp => at($old), meter_start_wh => 1000))->{status}, 201,
    'another one, left active');
is($f->reading('old-active', \%old_rd2)->{status}, 200, '... its reading');

# --- phase 1: the default evbill_max_data_age (365d) ------------------

$t->stop;
$t->write_conf($t->std_conf(data_age => '', http => $limits));
$t->run;

# replays of stored data are duplicates whatever their age
$t->store_unchanged(sub {
    my $r = $f->start($t->start_body(%old_start));
    is($r->{status}, 200, 'old start replayed: 200') or diag($r->{body});
    $r = $f->reading('old', \%old_rd);
    is($r->{status}, 200, 'old reading replayed: 200') or diag($r->{body});
    is($r->{json}{duplicates}, 1, '... a duplicate');
    $r = $f->reading('old-active', { readings => [\%old_rd2] });
    is($r->{status}, 200, 'old reading replayed in a batch: 200');
    is($r->{json}{duplicates}, 1, '... a duplicate');
    $r = $f->stop('old', \%old_stop);
    is($r->{status}, 200, 'old stop replayed: 200') or diag($r->{body});
}, 'replays of old data change nothing');

# the same ages, not stored yet
$t->store_unchanged(sub {
    is_problem($f->start($t->start_body(session_id => 'too-old',
        timestamp => at($now - 366 * $D))), 422, 'too-old',
        'start 366 days old');
    is_problem($f->start($t->start_body(session_id => 'year-0',
        timestamp => '0000-01-01T00:00:00Z')), 422, 'too-old',
        'start in year 0');
    is_problem($f->reading('old-active', { seq => 2,
        timestamp => at($old + 1200), energy_wh => 3100 }), 422, 'too-old',
        'a new reading 400 days old');
    is_problem($f->stop('old-active', { timestamp => at($old + 1200),
        meter_stop_wh => 3100 }), 422, 'too-old', 'a stop 400 days old');
    is_problem($f->start($t->start_body(session_id => 'future',
        timestamp => at($now + 3600))), 422, 'in-the-future',
        'start an hour ahead (window 300s)');
    is_problem($f->start($t->start_body(session_id => 'year-9999',
        timestamp => '9999-12-31T23:59:59Z')), 422, 'in-the-future',
        'start in 9999');
}, 'too-old and in-the-future change nothing');
is($t->get_session('LIM-FLAT', 'too-old')->{status}, 404,
    'no session too-old');
is($t->get_session('LIM-FLAT', 'old-active')->{json}{last_seq}, 1,
    'old-active: still at seq 1');

my $r = $f->start($t->start_body(session_id => 'recent',
    timestamp => at($now - 364 * $D)));
is($r->{status}, 201, 'start 364 days old: accepted') or diag($r->{body});
$r = $f->start($t->start_body(session_id => 'ahead',
    timestamp => at($now + 60)));
is($r->{status}, 201, 'start 60 s ahead: within the window')
    or diag($r->{body});

is($f->start($t->start_body(session_id => 'live',
    timestamp => at($now - 3600), meter_start_wh => 0))->{status}, 201,
    'start an hour ago');
$t->store_unchanged(sub {
    is_problem($f->reading('live', { seq => 1, timestamp => at($now + 3600),
        energy_wh => 10 }), 422, 'in-the-future', 'a reading an hour ahead');
    is_problem($f->reading('live', { readings => [
        { seq => 1, timestamp => at($now - 1800), energy_wh => 10 },
        { seq => 2, timestamp => at($now + 3600), energy_wh => 20 }] }),
        422, 'in-the-future', 'a batch with one reading ahead: refused whole');
    is_problem($f->stop('live', { timestamp => at($now + 3600),
        meter_stop_wh => 10 }), 422, 'in-the-future', 'a stop an hour ahead');
}, 'in-the-future readings and stops change nothing');
is($t->get_session('LIM-FLAT', 'live')->{json}{last_seq}, 0,
    'live: no reading of the refused batch stored');

# --- session-limit: the span (evbill_session_max_duration 3d) ----------

my $s0 = $B + 7 * $H;
is($f->start($t->start_body(session_id => 'long', timestamp => at($s0),
    meter_start_wh => 0))->{status}, 201, 'long: start');
$r = $f->reading('long', { seq => 1, timestamp => at($s0 + 3 * $D),
    energy_wh => 1000 });
is($r->{status}, 200, 'long: a reading exactly 3 days after the start')
    or diag($r->{body});
$t->store_unchanged(sub {
    my $x = $f->reading('long', { seq => 2,
        timestamp => at($s0 + 3 * $D + 1), energy_wh => 1100 });
    is_problem($x, 422, 'session-limit', 'long: a reading 3 d 1 s after');
    like($x->{json}{detail} // '', qr/evbill_session_max_duration/,
        '... the detail names the directive');
    is_problem($f->stop('long', { timestamp => at($s0 + 3 * $D + 1),
        meter_stop_wh => 1100 }), 422, 'session-limit',
        'long: a stop 3 d 1 s after');
}, 'long: refused readings and stops change nothing');
$r = $f->stop('long', { timestamp => at($s0 + 3 * $D), meter_stop_wh => 1000 });
is($r->{status}, 200, 'long: the stop at the bound') or diag($r->{body});

# --- session-limit: the periods (evbill_session_max_periods 4) ---------

is($c->start($t->start_body(session_id => 'cut', timestamp => at($s0),
    meter_start_wh => 0))->{status}, 201, 'cut: start 07:00');
for my $rd ([1, 30 * 60, 100],              # 07:30: 1 period
            [2, $D + 30 * 60, 1000])        # +1d 07:30: cut 08:00, 20:00
{
    $r = $c->reading('cut', { seq => $rd->[0], timestamp => at($s0 + $rd->[1]),
        energy_wh => $rd->[2] });
    is($r->{status}, 200, "cut: reading $rd->[0]") or diag($r->{body});
}
$t->store_unchanged(sub {
    # +1d 21:00 would cut at +1d 08:00 and 20:00: 5 periods
    my $x = $c->reading('cut', { seq => 3, timestamp => at($s0 + $D + 14 * $H),
        energy_wh => 1500 });
    is_problem($x, 422, 'session-limit', 'cut: a reading making 5 periods');
    like($x->{json}{detail} // '', qr/seq 3.*evbill_session_max_periods/,
        '... the detail names the reading and the directive');
    is_problem($c->reading('cut', { readings => [
        { seq => 3, timestamp => at($s0 + $D + 2 * $H), energy_wh => 1200 },
        { seq => 4, timestamp => at($s0 + $D + 14 * $H), energy_wh => 1500 }]
        }), 422, 'session-limit', 'cut: a batch whose last reading goes past');
}, 'cut: refused readings change nothing');
$r = $c->reading('cut', { seq => 3, timestamp => at($s0 + $D + 2 * $H),
    energy_wh => 1200 });
is($r->{status}, 200, 'cut: +1d 09:00 (4 periods) accepted') or diag($r->{body});
$t->store_unchanged(sub {
    my $x = $c->stop('cut', { timestamp => at($s0 + $D + 14 * $H),
        meter_stop_wh => 1500 });
    is_problem($x, 422, 'session-limit', 'cut: a stop making 5 periods');
    like($x->{json}{detail} // '', qr/stays active/, '... the session stays active');
}, 'cut: the refused stop changes nothing');
is($t->get_session('LIM-TOD', 'cut')->{json}{state}, 'active',
    'cut: still active');
$r = $c->stop('cut', { timestamp => at($s0 + $D + 12 * $H),
    meter_stop_wh => 1500 });
is($r->{status}, 200, 'cut: a stop at +1d 19:00 (4 periods)') or diag($r->{body});
my $cdr = $t->admin('GET', 'cdrs/LIM-TOD/cut');
is($cdr->{status}, 200, 'cut: CDR');
is(scalar @{ $cdr->{json}{charging_periods} || [] }, 4, 'cut: 4 periods');

# left active for phase 2: 3 periods in 13.5 h; and one flat
is($c->start($t->start_body(session_id => 'three', timestamp => at($s0),
    meter_start_wh => 0))->{status}, 201, 'three: start');
is($c->reading('three', { readings => [
    { seq => 1, timestamp => at($s0 + 30 * 60), energy_wh => 100 },
    { seq => 2, timestamp => at($s0 + 13.5 * $H), energy_wh => 900 }] }
    )->{status}, 200, 'three: readings (3 periods)');
is($f->start($t->start_body(session_id => 'short', timestamp => at($s0),
    meter_start_wh => 0))->{status}, 201, 'short: start');
is($f->reading('short', { seq => 1, timestamp => at($s0 + $H),
    energy_wh => 4000 })->{status}, 200, 'short: reading');
is($f->start($t->start_body(session_id => 'span', timestamp => at($s0),
    meter_start_wh => 0))->{status}, 201, 'span: start');
is($f->reading('span', { seq => 1, timestamp => at($s0 + 2 * $D),
    energy_wh => 4000 })->{status}, 200, 'span: reading 2 days later');

# --- the dry run: the same bounds, 400 with a pointer ------------------

sub dry {
    my (%o) = @_;
    my $req = { time_zone => 'UTC', tariffs => [$TOD],
        session => { start_date_time => $o{start}, end_date_time => $o{end},
            charging_periods => [ map { { start_date_time => $_,
                dimensions => [{ type => 'ENERGY', volume => 1 }] } }
                @{ $o{periods} } ] } };
    return $t->admin('POST', 'rate', $req);
}

sub is_bound {
    my ($res, $pointer, $name) = @_;
    is_problem($res, 400, 'invalid-value', $name);
    my $e = ($res->{json}{errors} || [])->[0] || {};
    is($e->{pointer}, $pointer, "$name: pointer $pointer");
    is($e->{type}, 'urn:evbill:problem:invalid-value', "$name: type");
}

$r = dry(start => '2020-01-01T00:00:00Z', end => '2020-01-04T00:00:00Z',
    periods => ['2020-01-01T00:00:00Z', '2020-01-02T00:00:00Z']);
is($r->{status}, 200, 'dry run of 3 days in 2020: no clock bound')
    or diag($r->{body});
is_bound(dry(start => '2020-01-01T00:00:00Z', end => '2020-01-04T00:00:01Z',
    periods => ['2020-01-01T00:00:00Z']), '/session/end_date_time',
    'dry run over 3 days');
is_bound(dry(start => '0000-01-01T00:00:00Z', end => '9999-12-31T23:59:59Z',
    periods => ['0000-01-01T00:00:00Z']), '/session/end_date_time',
    'dry run from year 0 to 9999');
is_bound(dry(start => '2020-01-01T00:00:00Z', end => '2020-01-01T01:00:00Z',
    periods => ['2020-01-01T00:00:00Z', '2020-01-10T00:00:00Z']),
    '/session/charging_periods/1/start_date_time',
    'dry run with a period 9 days out');
is_bound(dry(start => '2020-01-01T00:00:00Z', end => '2020-01-01T05:00:00Z',
    periods => [map { sprintf('2020-01-01T%02d:00:00Z', $_) } 0 .. 4]),
    '/session/charging_periods', 'dry run with 5 periods');
$r = dry(start => '2020-01-01T00:00:00Z', end => '2020-01-01T05:00:00Z',
    periods => [map { sprintf('2020-01-01T%02d:00:00Z', $_) } 0 .. 3]);
is($r->{status}, 200, 'dry run with 4 periods') or diag($r->{body});

# --- phase 2: bounds lowered; the idle sweep still closes, bounded -----

$t->stop;
$t->write_conf($t->std_conf(data_age => '', http =>
    'evbill_session_max_duration 1d; evbill_session_max_periods 2; '
    . 'evbill_session_idle_timeout 1s;'));
$t->run;

my %s;
my $deadline = time + 10;
while (time < $deadline) {
    %s = map { $_ => $t->get_session($_->[0], $_->[1])->{json} || {} }
        (['LIM-TOD', 'three'], ['LIM-FLAT', 'short'], ['LIM-FLAT', 'span']);
    last unless grep { ($_->{state} // '') ne 'stopped' } values %s;
    sleep 0.2;
}
%s = (three => $t->get_session('LIM-TOD', 'three')->{json} || {},
      short => $t->get_session('LIM-FLAT', 'short')->{json} || {},
      span => $t->get_session('LIM-FLAT', 'span')->{json} || {});

is($s{short}{state}, 'stopped', 'sweep: short closed');
ok($s{short}{cost}, 'sweep: short rated');
is($t->admin('GET', 'cdrs/LIM-FLAT/short')->{status}, 200, 'sweep: short CDR');

for my $k (['three', 'LIM-TOD', qr/evbill_session_max_periods/],
           ['span', 'LIM-FLAT', qr/evbill_session_max_duration/])
{
    my ($sid, $ch, $re) = @$k;
    is($s{$sid}{state}, 'stopped', "sweep: $sid closed beyond the bound");
    is($s{$sid}{stop_reason}, 'timeout', "sweep: $sid reason timeout");
    ok(!defined $s{$sid}{cost}, "sweep: $sid cost null");
    like($s{$sid}{cost_error} // '', $re, "sweep: $sid cost_error says why");
    is_problem($t->admin('GET', "cdrs/$ch/$sid"), 404, 'unknown-cdr',
        "sweep: $sid no CDR");
}

$t->finish;

done_testing;
