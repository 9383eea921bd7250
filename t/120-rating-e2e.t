#!/usr/bin/perl
# Rating end to end: a charger in Europe/Berlin under a tariff whose
# energy price changes at a local time of day, sessions on the two DST
# change days of 2026.  The CDR cuts a period exactly at the boundary
# instant (UTC), its totals equal the live cost of the last reading (the
# stop is that reading) and the dry run (POST rate) of its own periods;
# the live cost never goes down; the idle-timeout close makes a CDR too;
# a session whose tariff is not defined is not rated and has no CDR.
# A window that applies again after the clocks go back is cut at the jump
# (live cost, CDR and POST rate 12.00), and CDRs whose durations are not
# exact in hours re-rate (POST rate, evbill-rate) to their own totals.
#
# Reading times are multiples of 36 s from the session start (0.01 h),
# and the energy at each cut is a whole Wh, so every CDR volume is exact
# and the totals can be compared exactly, not only at cents.  Numbers are
# compared as exact decimals, never as Perl floats.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;
use Evbill::ExactJSON qw(jdecode jencode num);
use JSON::PP;
use Math::BigInt;
use Time::Local qw(timegm);
use Time::HiRes qw(sleep time);

# ---------------------------------------------------------------------
# Numbers kept as their text: Evbill::ExactJSON.




# A decimal as an integer at 10^-12 (undef if not a number or finer).
sub fixed {
    my ($s) = @_;
    $s = num($s);
    return undef unless defined $s;
    my ($sign, $int, $frac) = $s =~ /^(-?)([0-9]+)(?:\.([0-9]{0,12}))?$/
        or return undef;
    $frac = '' unless defined $frac;
    my $n = Math::BigInt->new($int . $frac . ('0' x (12 - length $frac)));
    $n->bneg if $sign;
    return $n;
}

# Exact equality of two decimals (JSON numbers or strings).
sub deq {
    my ($a, $b) = @_;
    my ($x, $y) = (fixed($a), fixed($b));
    return defined $x && defined $y && $x == $y;
}

sub is_dec {
    my ($got, $want, $name) = @_;
    my $r = ok(deq($got, $want), $name);
    diag('got ' . (num($got) // 'undef') . ', want ' . (num($want) // 'undef'))
        unless $r;
    return $r;
}

# Both sides of a {"excl_vat", "incl_vat"?} price equal, exactly.
sub is_price {
    my ($got, $want, $name) = @_;
    my $ok = ref $got eq 'HASH' && ref $want eq 'HASH'
        && deq($got->{excl_vat}, $want->{excl_vat})
        && (defined $got->{incl_vat} ? deq($got->{incl_vat}, $want->{incl_vat})
                                     : !defined $want->{incl_vat});
    my $r = ok($ok, $name);
    diag('got ' . (ref $got ? jencode($got) : 'undef') . ', want '
        . (ref $want ? jencode($want) : 'undef')) unless $r;
    return $r;
}

# RFC 3339 UTC (with or without milliseconds) to epoch milliseconds.
sub ms {
    my ($ts) = @_;
    my ($y, $mo, $d, $h, $mi, $s, $f) = ($ts // '') =~
        /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,3}))?Z$/
        or return undef;
    $f = defined $f ? substr($f . '00', 0, 3) : '000';
    return timegm($s, $mi, $h, $d, $mo - 1, $y) * 1000 + $f;
}

sub http_json {
    my ($t, $method, $path, $body) = @_;
    my $res = $t->http($method, $path,
        (defined $body ? (body => ref $body ? jencode($body) : $body) : ()));
    $res->{x} = length $res->{body} ? eval { jdecode($res->{body}) } : undef;
    return $res;
}

# ---------------------------------------------------------------------

# 0.30/kWh 08:00-20:00 local, 0.20/kWh otherwise; parking 1.50/h; 19 %.
my $TARIFF = <<'EOF';
{"country_code":"DE","party_id":"EXA","id":"TOD","currency":"EUR",
 "type":"REGULAR","last_updated":"2026-01-01T00:00:00Z",
 "elements":[
  {"price_components":[{"type":"ENERGY","price":0.30,"vat":19.0,
                        "step_size":1}],
   "restrictions":{"start_time":"08:00","end_time":"20:00"}},
  {"price_components":[{"type":"ENERGY","price":0.20,"vat":19.0,
                        "step_size":1}]},
  {"price_components":[{"type":"PARKING_TIME","price":1.50,"vat":19.0,
                        "step_size":1}]}
 ]}
EOF

my $t = Evbill::Test->new;
$t->write_conf($t->std_conf(workers => 2));
$t->run;

{
    my $r = $t->http('PUT', '/admin/tariffs/TOD', body => $TARIFF);
    is($r->{status}, 201, 'PUT the time-of-day tariff') or diag($r->{body});
}
my $c = $t->charger(id => 'BER-1', body => { tariff_id => 'TOD' });

# One session: start, readings (each answer's cost kept), stop at the
# last reading.  $plan: start, meter_start, readings [[sec, Wh, state,
# expected live excl_vat]...].
sub session {
    my ($sid, $plan) = @_;
    my $start = $plan->{start};
    my $res = $c->start($t->start_body(session_id => $sid,
        timestamp => $start, meter_start_wh => $plan->{meter_start}));
    is($res->{status}, 201, "$sid: start") or diag($res->{body});

    my (@costs, $last);
    my $seq = 0;
    for my $rd (@{ $plan->{readings} }) {
        my ($sec, $wh, $state, $want) = @$rd;
        $seq++;
        my %b = (seq => $seq, timestamp => ts_plus($start, $sec),
            energy_wh => $wh);
        $b{state} = $state if $state;
        $res = $c->reading($sid, \%b);
        my $x = length $res->{body} ? eval { jdecode($res->{body}) } : undef;
        is($res->{status}, 200, "$sid: reading $seq") or diag($res->{body});
        my $cost = ref $x eq 'HASH' ? $x->{cost} : undef;
        ok(ref $cost eq 'HASH', "$sid: reading $seq answers a cost")
            or diag($res->{body});
        $cost = {} unless ref $cost eq 'HASH';
        is($cost->{tariff_id}, 'TOD', "$sid: reading $seq: tariff_id");
        is(num($cost->{tariff_version}), 1, "$sid: reading $seq: version 1");
        is_dec($cost->{total_cost}{excl_vat}, $want,
            "$sid: reading $seq: live cost $want");
        push @costs, $cost;
        $last = \%b;
    }

    # the live cost never goes down
    my @bad;
    for my $i (1 .. $#costs) {
        my ($p, $n) = map { fixed($_->{total_cost}{excl_vat}) }
            @costs[$i - 1, $i];
        push @bad, $i + 1 unless defined $p && defined $n && $n >= $p;
    }
    ok(!@bad, "$sid: live cost non-decreasing")
        or diag("went down at reading(s) @bad");

    # no CDR while active
    is_problem($t->admin('GET', "cdrs/BER-1/$sid"), 404, 'unknown-cdr',
        "$sid: no CDR while active");

    $res = $c->stop($sid, { timestamp => $last->{timestamp},
        meter_stop_wh => $last->{energy_wh} });
    is($res->{status}, 200, "$sid: stop at the last reading")
        or diag($res->{body});

    my $cdr = http_json($t, 'GET', "/admin/cdrs/BER-1/$sid");
    is($cdr->{status}, 200, "$sid: CDR") or diag($cdr->{body});
    my $s = http_json($t, 'GET', "/admin/sessions/BER-1/$sid");
    return ($cdr->{x} || {}, $costs[-1] || {}, $s->{x} || {});
}

# The CDR against the last live cost and its own dry run.
sub check_cdr {
    my ($sid, $cdr, $live, $sess, $boundary, $want) = @_;

    # the boundary instant starts a period; every period is contiguous
    my @p = @{ $cdr->{charging_periods} || [] };
    my @starts = map { ms($_->{start_date_time}) } @p;
    my $b = ms($boundary);
    ok((grep { defined $_ && $_ == $b } @starts),
        "$sid: a charging period starts at $boundary")
        or diag('period starts: '
                . join(' ', map { $_->{start_date_time} // '?' } @p));
    my @order = grep { $starts[$_] <= $starts[$_ - 1] } 1 .. $#starts;
    ok(!@order && @p && $starts[0] == ms($cdr->{start_date_time}),
        "$sid: periods in order from the session start");

    # energy (kWh) and parking (h) before and after the boundary
    my %sum = map { $_ => Math::BigInt->new(0) }
        qw(e_before e_after park);
    for my $i (0 .. $#p) {
        for my $d (@{ $p[$i]{dimensions} || [] }) {
            my $v = fixed($d->{volume}) // Math::BigInt->new(-1);
            if ($d->{type} eq 'ENERGY') {
                $sum{ $starts[$i] < $b ? 'e_before' : 'e_after' }->badd($v);
            } elsif ($d->{type} eq 'PARKING_TIME') {
                $sum{park}->badd($v);
            }
        }
    }
    ok($sum{e_before} == fixed($want->{e_before}),
        "$sid: $want->{e_before} kWh before the boundary")
        or diag("got " . $sum{e_before}->bstr . " e-12");
    ok($sum{e_after} == fixed($want->{e_after}),
        "$sid: $want->{e_after} kWh after it (energy interpolated at the cut)")
        or diag("got " . $sum{e_after}->bstr . " e-12");
    ok($sum{park} == fixed($want->{park}), "$sid: $want->{park} h parked")
        or diag("got " . $sum{park}->bstr . " e-12");

    is_price($cdr->{total_cost}, $want->{total_cost},
        "$sid: CDR total_cost " . jencode($want->{total_cost}));
    is_price($cdr->{total_cost}, $live->{rounded}{total_cost},
        "$sid: CDR total_cost = last live cost (rounded)");
    is_price($cdr->{total_energy_cost}, $live->{rounded}{total_energy_cost},
        "$sid: CDR total_energy_cost = last live one");
    is_price($cdr->{total_parking_cost}, $live->{rounded}{total_parking_cost},
        "$sid: CDR total_parking_cost = last live one");
    is_dec($cdr->{total_energy}, $live->{total_energy},
        "$sid: CDR total_energy = last live one");
    is_dec($cdr->{total_time}, $live->{total_time},
        "$sid: CDR total_time = last live one");
    is_dec($cdr->{total_parking_time}, $live->{total_parking_time},
        "$sid: CDR total_parking_time = last live one");
    is(ref $cdr->{tariffs} eq 'ARRAY' ? num($cdr->{tariffs}[0]{elements}[0]
        {price_components}[0]{price}) : undef, '0.30',
        "$sid: CDR tariffs verbatim");

    # the session's final cost is the last live cost, field for field
    is(jencode($sess->{cost} // {}), jencode($live),
        "$sid: final session cost = last live cost");

    # the dry run of the CDR's own periods
    my $dry = http_json($t, 'POST', '/admin/rate', {
        time_zone => 'Europe/Berlin',
        tariffs => $cdr->{tariffs},
        session => {
            start_date_time => $cdr->{start_date_time},
            end_date_time => $cdr->{end_date_time},
            charging_periods => $cdr->{charging_periods},
        },
    });
    is($dry->{status}, 200, "$sid: dry run of the CDR") or diag($dry->{body});
    my $d = $dry->{x} || {};
    is_price($d->{rounded}{total_cost}, $cdr->{total_cost},
        "$sid: dry run rounded total_cost = CDR total_cost");
    for my $k (qw(total_energy_cost total_parking_cost total_time_cost
                  total_fixed_cost)) {
        is_price($d->{rounded}{$k}, $cdr->{$k},
            "$sid: dry run rounded $k = CDR");
    }
    is_price($d->{total_cost}, $live->{total_cost},
        "$sid: dry run total_cost = last live cost, exactly");
    for my $k (qw(total_energy total_time total_parking_time)) {
        is_dec($d->{$k}, $cdr->{$k}, "$sid: dry run $k = CDR $k");
    }
    is_deeply([ map { $_->{code} } @{ $d->{warnings} || [] } ], [],
        "$sid: dry run: no warnings (no period spans a price change)");
}

# --- 2026-10-25: clocks go back at 01:00Z (CEST -> CET) ---------------
# 08:00 local is 07:00Z that day (it would be 06:00Z under CEST).  The
# session starts at 02:30 CEST, crosses the DST change and 08:00 CET,
# then parks.

{
    my $sid = 'dst-autumn';
    my ($cdr, $live, $s) = session($sid, {
        start => '2026-10-25T00:30:00Z',
        meter_start => 10000,
        readings => [
            [ 3600, 13000, undef, '0.60' ],         # 01:30Z, after DST
            [ 7200, 16000, undef, '1.20' ],
            [ 14400, 22000, undef, '2.40' ],
            [ 22680, 28000, undef, '3.60' ],        # 06:48Z
            [ 24120, 30000, undef, '4.10' ],        # 07:12Z: cut 07:00Z
            [ 25200, 31800, undef, '4.64' ],        # 07:30Z
            [ 26280, 31800, 'parked', '5.09' ],     # 07:48Z, 0.3 h parked
            [ 27360, 31800, 'parked', '5.54' ],     # 08:06Z
        ],
    });
    check_cdr($sid, $cdr, $live, $s, '2026-10-25T07:00:00Z', {
        e_before => '19', e_after => '2.8', park => '0.6',
        total_cost => { excl_vat => '5.54', incl_vat => '6.59' },
    });
    is_price($live->{total_cost}, { excl_vat => '5.54', incl_vat => '6.5926' },
        "$sid: unrounded live total 5.54 / 6.5926");
    is_dec($live->{total_time}, '7.6',
        "$sid: total_time 7.6 h (OCPI: charging and not charging)");
    is_dec($live->{total_parking_time}, '0.6', "$sid: 0.6 h parked");
}

# --- 2026-03-29: clocks go forward at 01:00Z (CET -> CEST) ------------
# 20:00 local is 18:00Z that day (19:00Z under CET): 0.30 -> 0.20.

{
    my $sid = 'dst-spring';
    my ($cdr, $live, $s) = session($sid, {
        start => '2026-03-29T17:24:00Z',
        meter_start => 5000,
        readings => [
            [ 1440, 7000, undef, '0.60' ],          # 17:48Z
            [ 2880, 9400, undef, '1.20' ],          # 18:12Z: cut 18:00Z
            [ 4320, 11000, undef, '1.52' ],         # 18:36Z
        ],
    });
    check_cdr($sid, $cdr, $live, $s, '2026-03-29T18:00:00Z', {
        e_before => '3.2', e_after => '2.8', park => '0',
        total_cost => { excl_vat => '1.52', incl_vat => '1.81' },
    });
}

# --- re-rating a CDR through POST rate and evbill-rate -----------------
# Every rounded total_*_cost of both re-rates equals the CDR's (they
# hold under any per-line or per-total rounding rule, since both sides
# come from the same code); returns POST rate's answer.

my $RATE_BIN = "$FindBin::Bin/../build/evbill-rate";

sub rerate {
    my ($sid, $cdr, $tz) = @_;
    my $req = {
        time_zone => $tz,
        tariffs => $cdr->{tariffs},
        session => {
            start_date_time => $cdr->{start_date_time},
            end_date_time => $cdr->{end_date_time},
            charging_periods => $cdr->{charging_periods},
        },
    };
    my $dry = http_json($t, 'POST', '/admin/rate', $req);
    is($dry->{status}, 200, "$sid: POST rate of the CDR") or diag($dry->{body});

    my $f = $t->write_file("rerate-$sid.json", jencode($req));
    my $out = '';
    if (open(my $fh, '-|', 'sh', '-c', 'exec "$0" --rounding half_up < "$1"',
             $RATE_BIN, $f)) {
        local $/;
        $out = <$fh> // '';
        close $fh;
    }
    my $cli = length $out ? eval { jdecode($out) } : undef;
    ok(ref $cli eq 'HASH', "$sid: evbill-rate of the CDR") or diag($out);

    for my $k (qw(total_cost total_energy_cost total_time_cost
                  total_parking_cost total_fixed_cost total_reservation_cost)) {
        is_price(($dry->{x} || {})->{rounded}{$k}, $cdr->{$k},
            "$sid: POST rate rounded $k = CDR $k");
        is_price(($cli || {})->{rounded}{$k}, $cdr->{$k},
            "$sid: evbill-rate rounded $k = CDR $k");
    }
    return $dry->{x} || {};
}

# --- 2026-10-25: a cheap window 22:00-02:30 applies again after the ----
# clocks go back at 01:00Z (03:00 CEST -> 02:00 CET): 10 kWh every 30
# min from 00:00Z; 01:00-01:30Z is 02:00-02:30 CET, at 0.20.  Total
# 2 + 4 + 2 + 4 = 12.00.

{
    my $WIN = <<'EOF';
{"country_code":"DE","party_id":"EXA","id":"WIN","currency":"EUR",
 "type":"REGULAR","last_updated":"2026-01-01T00:00:00Z",
 "elements":[
  {"price_components":[{"type":"ENERGY","price":0.20,"step_size":1}],
   "restrictions":{"start_time":"22:00","end_time":"02:30"}},
  {"price_components":[{"type":"ENERGY","price":0.40,"step_size":1}]}
 ]}
EOF
    my $r = $t->http('PUT', '/admin/tariffs/WIN', body => $WIN);
    is($r->{status}, 201, 'PUT the window tariff') or diag($r->{body});
    my $w = $t->charger(id => 'BER-WIN', body => { tariff_id => 'WIN' });
    my $sid = 'dst-window';
    my $start = '2026-10-25T00:00:00Z';
    my $res = $w->start($t->start_body(session_id => $sid,
        timestamp => $start, meter_start_wh => 0));
    is($res->{status}, 201, "$sid: start") or diag($res->{body});
    my $live = {};
    for my $i (1 .. 4) {
        $res = $w->reading($sid, { seq => $i,
            timestamp => ts_plus($start, 1800 * $i),
            energy_wh => 10000 * $i });
        is($res->{status}, 200, "$sid: reading $i") or diag($res->{body});
        $live = (eval { jdecode($res->{body}) } || {})->{cost} || {};
    }
    is_price($live->{total_cost}, { excl_vat => '12' },
        "$sid: live cost 12.00 (01:00-01:30Z in the window again)");
    $res = $w->stop($sid, { timestamp => ts_plus($start, 7200),
        meter_stop_wh => 40000 });
    is($res->{status}, 200, "$sid: stop") or diag($res->{body});
    my $cdr = http_json($t, 'GET', "/admin/cdrs/BER-WIN/$sid")->{x} || {};
    is_price($cdr->{total_cost}, { excl_vat => '12.00' }, "$sid: CDR 12.00");
    my @starts = map { ms($_->{start_date_time}) }
        @{ $cdr->{charging_periods} || [] };
    is_deeply(\@starts, [ map { ms($start) + 1800000 * $_ } 0 .. 3 ],
        "$sid: periods cut at 00:30Z, at the jump (01:00Z) and at 01:30Z");
    my $d = rerate($sid, $cdr, 'Europe/Berlin');
    is_price($d->{total_cost}, { excl_vat => '12' },
        "$sid: POST rate 12.00 exactly");
    is_deeply([ map { $_->{code} } @{ $d->{warnings} || [] } ], [],
        "$sid: POST rate: no warnings");

    # the periods as the module used to cut them: one spans the jump
    my @p = @{ $cdr->{charging_periods} || [] };
    if (@p == 4) {
        my %merged = %{ $p[1] };
        $merged{dimensions} = [ { type => 'ENERGY', volume => "\x{1}N20" },
                                { type => 'TIME', volume => "\x{1}N1" } ];
        my $x = http_json($t, 'POST', '/admin/rate', {
            time_zone => 'Europe/Berlin', tariffs => $cdr->{tariffs},
            session => { start_date_time => $cdr->{start_date_time},
                end_date_time => $cdr->{end_date_time},
                charging_periods => [ $p[0], \%merged, $p[3] ] } })->{x} || {};
        is_deeply([ map { $_->{code} } @{ $x->{warnings} || [] } ],
            [ 'period_spans_price_change' ],
            "$sid: a period over the jump back warns");
        is_price($x->{total_cost}, { excl_vat => '14' },
            "$sid: (and prices 14.00, the old answer)");
    } else {
        fail("$sid: four periods to merge");
    }
}

# --- a CDR re-rates to its own totals (hours at 10^-9 h) ---------------
# Readings 15 s apart are not exact at 10^-6 h (0.004166.. h): a CDR
# rounded to 6 decimals re-rated a 10-minute session under TIME 6.00/h
# step 60 at 1.10, and 70 parked minutes under a 300 s step one step
# higher.

{
    my $STEP = <<'EOF';
{"country_code":"DE","party_id":"EXA","id":"STEP","currency":"EUR",
 "type":"REGULAR","last_updated":"2026-01-01T00:00:00Z",
 "elements":[
  {"price_components":[{"type":"ENERGY","price":0.45,"vat":19,"step_size":1}],
   "restrictions":{"start_time":"18:00","end_time":"20:00"}},
  {"price_components":[{"type":"ENERGY","price":0.35,"vat":19,"step_size":1},
                       {"type":"TIME","price":6.00,"vat":19,"step_size":60},
                       {"type":"PARKING_TIME","price":0.90,"vat":19,
                        "step_size":300},
                       {"type":"FLAT","price":0.50,"vat":19,"step_size":0}]}
 ]}
EOF
    my $r = $t->http('PUT', '/admin/tariffs/STEP', body => $STEP);
    is($r->{status}, 201, 'PUT the step tariff') or diag($r->{body});
    my $sc = $t->charger(id => 'BER-STEP', body => { tariff_id => 'STEP' });

    my $T6 = <<'EOF';
{"country_code":"DE","party_id":"EXA","id":"T6","currency":"EUR",
 "type":"REGULAR","last_updated":"2026-01-01T00:00:00Z",
 "elements":[{"price_components":[{"type":"TIME","price":6.00,
                                   "step_size":60}]}]}
EOF
    $r = $t->http('PUT', '/admin/tariffs/T6', body => $T6);
    is($r->{status}, 201, 'PUT the TIME tariff') or diag($r->{body});
    my $tc = $t->charger(id => 'BER-T6', body => { tariff_id => 'T6' });

    # 10 minutes, readings every 15 s
    my $sid = 'ten-min';
    my $start = '2026-11-20T10:00:00Z';
    is($tc->start($t->start_body(session_id => $sid, timestamp => $start,
        meter_start_wh => 0))->{status}, 201, "$sid: start");
    my $res = $tc->reading($sid, { readings => [ map { { seq => $_,
        timestamp => ts_plus($start, 15 * $_), energy_wh => 25 * $_ } }
        1 .. 40 ] });
    is($res->{status}, 200, "$sid: 40 readings") or diag($res->{body});
    my $lc = eval { decode_json($res->{body})->{cost} } || {};
    is($lc->{total_time}, '0.166666667',
        "$sid: the live cost prints hours at 9 decimals, as the CDR");
    $res = $tc->stop($sid, { timestamp => ts_plus($start, 600),
        meter_stop_wh => 1000 });
    is($res->{status}, 200, "$sid: stop") or diag($res->{body});
    my $cdr = http_json($t, 'GET', "/admin/cdrs/BER-T6/$sid")->{x} || {};
    is_price($cdr->{total_cost}, { excl_vat => '1.00' }, "$sid: CDR 1.00");
    is_dec($cdr->{total_time}, '0.166666667', "$sid: total_time at 9 decimals");
    rerate($sid, $cdr, 'Europe/Berlin');

    # 599 readings 15 s apart from 16:30 local, parked 10 min in every 20
    # (7 blocks, 70 min: 14 steps of 300 s), across 18:00 local
    $sid = 'long-park';
    $start = '2026-11-20T15:30:00Z';
    is($sc->start($t->start_body(session_id => $sid, timestamp => $start,
        meter_start_wh => 0))->{status}, 201, "$sid: start");
    my ($wh, @all) = (0);
    for my $i (1 .. 599) {
        my $parked = int($i / 40) % 2;
        $wh += 3 unless $parked;
        push @all, { seq => $i, timestamp => ts_plus($start, 15 * $i),
            energy_wh => $wh, ($parked ? (state => 'parked') : ()) };
    }
    my $ok = 1;
    while (my @b = splice(@all, 0, 100)) {
        $res = $sc->reading($sid, { readings => \@b });
        $ok = 0 unless $res->{status} == 200;
    }
    ok($ok, "$sid: 599 readings") or diag($res->{body});
    $res = $sc->stop($sid, { timestamp => ts_plus($start, 15 * 599),
        meter_stop_wh => $wh });
    is($res->{status}, 200, "$sid: stop") or diag($res->{body});
    $cdr = http_json($t, 'GET', "/admin/cdrs/BER-STEP/$sid")->{x} || {};
    is_dec($cdr->{total_parking_time}, '1.166666667',
        "$sid: 70 min parked, at 9 decimals");
    rerate($sid, $cdr, 'Europe/Berlin');
}

# --- a session whose tariff is not defined -----------------------------

{
    my $u = $t->charger(id => 'BER-NOTARIFF',
        body => { tariff_id => 'NOT-DEFINED' });
    my $res = $u->start($t->start_body(session_id => 'unrated'));
    is($res->{status}, 201, 'unrated: start') or diag($res->{body});
    ok(exists $res->{json}{cost} && !defined $res->{json}{cost},
        'unrated: start answers cost null');
    $res = $u->reading('unrated', $t->reading_body(1));
    is($res->{status}, 200, 'unrated: reading accepted') or diag($res->{body});
    ok(exists $res->{json}{cost} && !defined $res->{json}{cost},
        'unrated: reading answers cost null');
    my $s = $t->get_session('BER-NOTARIFF', 'unrated')->{json} || {};
    ok(exists $s->{cost} && !defined $s->{cost}, 'unrated: session cost null');
    like($s->{cost_error} // '', qr/\S/, 'unrated: cost_error says why')
        and note("cost_error: $s->{cost_error}");
    $res = $u->stop('unrated', { timestamp => '2026-11-25T10:05:00Z',
        meter_stop_wh => 1500 });
    is($res->{status}, 200, 'unrated: stop') or diag($res->{body});
    $s = $t->get_session('BER-NOTARIFF', 'unrated')->{json} || {};
    is($s->{state}, 'stopped', 'unrated: stopped');
    ok(exists $s->{cost} && !defined $s->{cost}, 'unrated: still cost null');
    like($s->{cost_error} // '', qr/\S/, 'unrated: still a cost_error');
    is_problem($t->admin('GET', 'cdrs/BER-NOTARIFF/unrated'), 404,
        'unknown-cdr', 'unrated: no CDR');
}

is_problem($t->admin('GET', 'cdrs/BER-1/no-such-session'), 404,
    'unknown-session', 'CDR of an unknown session');

$t->finish;

# --- the idle-timeout close makes a CDR too ----------------------------

{
    my $t2 = Evbill::Test->new;
    $t2->write_conf($t2->std_conf(workers => 1,
        http => 'evbill_session_idle_timeout 1s;'));
    $t2->run;
    is($t2->http('PUT', '/admin/tariffs/TOD', body => $TARIFF)->{status}, 201,
        'idle: PUT the tariff');
    my $ic = $t2->charger(id => 'BER-IDLE', body => { tariff_id => 'TOD' });
    is($ic->start($t2->start_body(session_id => 'idle',
        timestamp => '2026-10-25T06:30:00Z', meter_start_wh => 0))->{status},
        201, 'idle: start 06:30Z');
    my $live;
    for my $rd ([1, 1800, 3000], [2, 2880, 6000]) {      # 07:00Z, 07:18Z
        my $res = $ic->reading('idle', { seq => $rd->[0],
            timestamp => ts_plus('2026-10-25T06:30:00Z', $rd->[1]),
            energy_wh => $rd->[2] });
        is($res->{status}, 200, "idle: reading $rd->[0]") or diag($res->{body});
        $live = (eval { jdecode($res->{body}) } || {})->{cost} || {};
    }
    is_price($live->{total_cost}, { excl_vat => '1.5', incl_vat => '1.785' },
        'idle: live cost 3 kWh at 0.20 + 3 kWh at 0.30');

    my ($s, $deadline) = ({}, time + 8);
    while (time < $deadline) {
        $s = $t2->get_session('BER-IDLE', 'idle')->{json} || {};
        last if ($s->{state} // '') eq 'stopped';
        sleep 0.2;
    }
    is($s->{state}, 'stopped', 'idle: closed by the sweep');
    is($s->{stop_reason}, 'timeout', 'idle: stop_reason timeout');
    my $cdr = http_json($t2, 'GET', '/admin/cdrs/BER-IDLE/idle');
    is($cdr->{status}, 200, 'idle: CDR') or diag($cdr->{body});
    my $x = $cdr->{x} || {};
    is(ms($x->{end_date_time}), ms('2026-10-25T07:18:00Z'),
        'idle: CDR ends at the last reading');
    is_price($x->{total_cost}, $live->{rounded}{total_cost},
        'idle: CDR total_cost = last live cost');
    is_price($x->{total_cost}, { excl_vat => '1.50', incl_vat => '1.79' },
        'idle: CDR total_cost 1.50 / 1.79');
    ok((grep { ms($_->{start_date_time}) == ms('2026-10-25T07:00:00Z') }
        @{ $x->{charging_periods} || [] }), 'idle: a period starts at 07:00Z');
    my $ss = http_json($t2, 'GET', '/admin/sessions/BER-IDLE/idle')->{x} || {};
    is(jencode($ss->{cost} // {}), jencode($live),
        'idle: final session cost = last live cost');
    $t2->finish;
}

done_testing;
