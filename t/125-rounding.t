#!/usr/bin/perl
# Rounded figures add up (docs/rating.md, "Exactness and rounding"): each
# billed line is rounded to cents, a dimension is the sum of its lines,
# the net total the sum of all lines, VAT once per rate on that sum.
#
# 3 kWh at 0.335 (1.005) and a 0.505 FLAT, both at 19 %: rounded on their
# own the totals were 1.51 / 1.80 while the dimensions said 1.01 + 0.51 =
# 1.52 and 1.20 + 0.60 = 1.80.  Line by line: 1.52 net, 0.29 VAT, 1.81,
# the same in the live cost, the CDR, POST rate and evbill-rate.  A tariff
# with more billed lines than the rating state holds is refused.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;
use Evbill::ExactJSON qw(jdecode jencode num);
use JSON::PP;
use Math::BigInt;

# Numbers kept as their text: Evbill::ExactJSON.




# {"excl_vat", "incl_vat"?} as the printed decimals, e.g. "1.52/1.81".
sub price {
    my ($p) = @_;
    return 'undef' unless ref $p eq 'HASH';
    return (num($p->{excl_vat}) // 'undef')
        . (defined $p->{incl_vat} ? '/' . num($p->{incl_vat}) : '');
}

# cents as integers: the rounded figures are printed with 2 decimals
sub cents {
    my ($v) = @_;
    $v = num($v) // return undef;
    return undef unless $v =~ /^([0-9]+)\.([0-9]{2})$/;
    return $1 * 100 + $2;
}

my @DIMS = qw(total_energy_cost total_time_cost total_parking_cost
    total_fixed_cost total_reservation_cost);

# The rounded dimensions add up to the rounded total, both sides.
sub adds_up {
    my ($r, $name) = @_;
    my ($e, $i) = (0, 0);
    for my $k (@DIMS) {
        my $p = $r->{$k} || {};
        $e += cents($p->{excl_vat}) // -1e9;
        $i += cents($p->{incl_vat} // $p->{excl_vat}) // -1e9;
    }
    my $ok = $e == (cents($r->{total_cost}{excl_vat}) // -1)
        && $i == (cents($r->{total_cost}{incl_vat}) // -1);
    ok($ok, $name) or diag(jencode($r));
}

my $TARIFF = <<'EOF';
{"country_code":"DE","party_id":"EXA","id":"RND","currency":"EUR",
 "last_updated":"2026-01-01T00:00:00Z",
 "elements":[{"price_components":[
   {"type":"ENERGY","price":0.335,"vat":19,"step_size":1},
   {"type":"FLAT","price":0.505,"vat":19,"step_size":0}]}]}
EOF

my $t = Evbill::Test->new;
$t->write_conf($t->std_conf(workers => 1));
$t->run;

is($t->admin('PUT', 'tariffs/RND', $TARIFF)->{status}, 201, 'PUT RND');
my $c = $t->charger(id => 'RND-1', body => { tariff_id => 'RND' });

is($c->start($t->start_body(session_id => 'r1', meter_start_wh => 1000,
    timestamp => '2026-11-25T10:00:00Z'))->{status}, 201, 'start');

# live cost: 3 kWh
my $res = $c->reading('r1', { seq => 1, timestamp => '2026-11-25T10:30:00Z',
    energy_wh => 4000 });
is($res->{status}, 200, 'reading') or diag($res->{body});
my $live = (eval { jdecode($res->{body}) } || {})->{cost} || {};
is(price($live->{total_cost}), '1.51/1.7969', 'live: exact total unchanged');
is(price($live->{rounded}{total_cost}), '1.52/1.81',
    'live: rounded total 1.52 + VAT 0.29 (was 1.51/1.80)');
is(price($live->{rounded}{total_energy_cost}), '1.01/1.20',
    'live: energy line 1.005 -> 1.01, + its VAT share');
is(price($live->{rounded}{total_fixed_cost}), '0.51/0.61',
    'live: FLAT line 0.505 -> 0.51, + its VAT share');
adds_up($live->{rounded}, 'live: the rounded dimensions add up');

# the CDR: stop at the last reading
$res = $c->stop('r1', { timestamp => '2026-11-25T10:30:00Z',
    meter_stop_wh => 4000 });
is($res->{status}, 200, 'stop') or diag($res->{body});
my $cr = $t->admin('GET', 'cdrs/RND-1/r1');
is($cr->{status}, 200, 'CDR') or diag($cr->{body});
my $cdr = eval { jdecode($cr->{body}) } || {};
is(price($cdr->{total_cost}), '1.52/1.81', 'CDR: total_cost 1.52/1.81');
is(price($cdr->{total_energy_cost}), '1.01/1.20', 'CDR: energy 1.01/1.20');
is(price($cdr->{total_fixed_cost}), '0.51/0.61', 'CDR: fixed 0.51/0.61');
adds_up($cdr, 'CDR: the totals add up');
my $sess = eval { jdecode($t->get_session('RND-1', 'r1')->{body}) } || {};
is(jencode($sess->{cost}{rounded} // {}), jencode($live->{rounded}),
    'session: final rounded cost = last live cost');

# POST rate of the CDR's own periods, and evbill-rate on the same input
my $req = jencode({ time_zone => 'Europe/Berlin', tariffs => $cdr->{tariffs},
    session => { map { ($_ => $cdr->{$_}) }
                 qw(start_date_time end_date_time charging_periods) } });
$res = $t->admin('POST', 'rate', $req);
is($res->{status}, 200, 'POST rate of the CDR') or diag($res->{body});
my $dry = eval { jdecode($res->{body}) } || {};
my $r = $dry->{rounded} || {};
for my $k ('total_cost', @DIMS) {
    is(price($r->{$k}), price($cdr->{$k}), "POST rate: rounded $k = CDR");
}
adds_up($r, 'POST rate: the rounded dimensions add up');
is(jencode([ map { [ $_->{dimension}, num($_->{price}), num($_->{vat}),
                     num($_->{quantity}), num($_->{amount}) ] }
             @{ $r->{lines} || [] } ]),
    '[["ENERGY","0.335","19","3","1.01"],["FLAT","0.505","19","1","0.51"]]',
    'POST rate: rounded.lines, one per dimension at one price');
is(jencode([ map { [ num($_->{vat}), num($_->{lines}),
                     num($_->{adjustment}), num($_->{taxable}),
                     num($_->{amount}) ] } @{ $r->{vat} || [] } ]),
    '[["19","1.52","0.00","1.52","0.29"]]',
    'POST rate: rounded.vat, 19 % once on 1.52');

my $in = $t->write_file('rerate.json', $req);
my $rate = "$FindBin::Bin/../build/evbill-rate";
my $out = `$rate --rounding half_up < $in`;
is($? >> 8, 0, 'evbill-rate: exit 0');
chomp $out;
is($out, $res->{body}, 'evbill-rate: the same answer as POST rate');

# a tariff with 49 billed lines is refused, and nothing is stored
my @el = map { sprintf '{"price_components":[{"type":"ENERGY",'
                   . '"price":0.%03d,"step_size":1}]}', $_ } 1 .. 49;
(my $big = $TARIFF) =~ s/"id":"RND"/"id":"BIG"/;
$big =~ s/"elements":\[.*\]\}/"elements":[@{[ join ',', @el ]}]}/s;
my $put = $t->store_unchanged(sub { $t->admin('PUT', 'tariffs/BIG', $big) },
    '49 lines: store unchanged');
is_problem($put, 400, 'invalid-tariff', '49 lines: 400 invalid-tariff');
is((($put->{json} || {})->{errors} || [{}])->[0]{pointer},
    '/elements/48/price_components/0', '49 lines: points at the 49th line');
(my $ok48 = $big) =~ s/,\{"price_components":\[\{"type":"ENERGY","price":0\.049,"step_size":1\}\]\}//;
is($t->admin('PUT', 'tariffs/BIG', $ok48)->{status}, 201,
    '48 lines: accepted');

# a dry run whose two tariffs together price more than 48 lines
{
    my (@a, @b);
    push @a, sprintf '{"price_components":[{"type":"ENERGY","price":0.%03d,'
        . '"step_size":1}],"restrictions":{"max_kwh":%d}}', $_, $_
        for 1 .. 40;
    push @b, sprintf '{"price_components":[{"type":"ENERGY","price":0.%03d,'
        . '"step_size":1}],"restrictions":{"max_kwh":%d}}', 100 + $_, 40 + $_
        for 1 .. 40;
    my $head = '{"country_code":"DE","party_id":"EXA","currency":"EUR",'
        . '"last_updated":"2026-01-01T00:00:00Z",';
    # periods in time order: minutes 0..79 past 10:00
    my @per = map {
        sprintf '{"start_date_time":"2026-11-25T%02d:%02d:00Z",'
            . '"tariff_id":"%s","dimensions":[{"type":"ENERGY",'
            . '"volume":1}]}', 10 + int($_ / 60), $_ % 60,
            $_ < 40 ? 'A' : 'B'
    } 0 .. 79;
    my $body = '{"time_zone":"UTC","tariffs":['
        . $head . '"id":"A","elements":[' . join(',', @a) . ']},'
        . $head . '"id":"B","elements":[' . join(',', @b) . ']}],'
        . '"session":{"start_date_time":"2026-11-25T10:00:00Z",'
        . '"end_date_time":"2026-11-25T11:20:00Z","charging_periods":['
        . join(',', @per) . ']}}';
    my $d = $t->store_unchanged(sub { $t->admin('POST', 'rate', $body) },
        'dry run over 48 lines: store unchanged');
    is_problem($d, 400, 'invalid-tariff',
        'dry run over 48 lines: 400 invalid-tariff');
    like(($d->{json} || {})->{detail} // '', qr/more than 48 distinct lines/,
        'dry run over 48 lines: the detail says why');
}

$t->finish;
done_testing;
