#!/usr/bin/perl
# CDRs from the session's start (issue 9): a CDR takes the location,
# EVSE, connector, time zone and token as they were when the session
# started, even when the charger record or the token changed since;
# rating uses the start's time zone; cdr_token comes from the token
# record (issuer, contract id); a roaming (unknown) token gets the CPO's
# country and party with its uid; the session shows its customer and
# token; with evbill_node_id the CDR id carries the node and stays <= 36.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;

# 0.30/kWh 08:00-20:00 local, 0.20/kWh otherwise.
my $TARIFF = <<'EOF2';
{"country_code":"DE","party_id":"EXA","id":"TOD","currency":"EUR",
 "type":"REGULAR","last_updated":"2026-01-01T00:00:00Z",
 "elements":[
  {"price_components":[{"type":"ENERGY","price":0.30,"step_size":1}],
   "restrictions":{"start_time":"08:00","end_time":"20:00"}},
  {"price_components":[{"type":"ENERGY","price":0.20,"step_size":1}]}
 ]}
EOF2

my $t = Evbill::Test->new;
$t->write_conf($t->std_conf(http => 'evbill_node_id FRA1;'));
$t->run;

is($t->http('PUT', '/admin/tariffs/TOD', body => $TARIFF)->{status}, 201,
    'PUT the time-of-day tariff');

my $customer = {
    name => 'Erika Mustermann', email => 'erika@example.org',
    address => { street => 'Heidestrasse 17', city => 'Koeln',
                 postal_code => '51147', country => 'DE' },
    invoicing => 'per_session',
};
is($t->admin('PUT', 'customers/C-1', $customer)->{status}, 201,
    'PUT customer C-1');
is($t->admin('PUT', 'tokens/04A2B3C4', { customer_id => 'C-1',
    type => 'RFID', contract_id => 'NL-ABC-C12345678-X',
    issuer => { country_code => 'NL', party_id => 'ABC' } })->{status}, 201,
    'PUT token 04A2B3C4 (issued by NL ABC)');

my $body = $t->default_charger_body(tariff_id => 'TOD');
my $c = $t->charger(id => 'CH-START', body => { tariff_id => 'TOD' });

# a session at 19:30 UTC: 20:30 in Berlin (0.20/kWh), 14:30 in New York
# (0.30/kWh); 10 kWh
sub run_session {
    my ($sid, $token, $type, $between, $live) = @_;
    $live //= 1;
    my $start = '2026-11-25T19:30:00Z';
    my $r = $c->start($t->start_body(session_id => $sid, id_token => $token,
        token_type => $type, timestamp => $start, meter_start_wh => 1000));
    is($r->{status}, 201, "$sid: start") or diag($r->{body});
    $between->() if $between;
    $r = $c->reading($sid, { seq => 1, timestamp => ts_plus($start, 300),
        energy_wh => 6000 });
    is($r->{status}, 200, "$sid: reading") or diag($r->{body});
    cmp_ok($r->{json}{cost}{total_cost}{excl_vat}, '==', $live,
        "$sid: live cost $live in the start's time zone");
    $r = $c->stop($sid, { timestamp => ts_plus($start, 600),
        meter_stop_wh => 11000 });
    is($r->{status}, 200, "$sid: stop") or diag($r->{body});
    $r = $t->admin('GET', "cdrs/CH-START/$sid");
    is($r->{status}, 200, "$sid: CDR") or diag($r->{body});
    return $r->{json} || {};
}

# the charger moves (another address, name, EVSE and time zone) and the
# token changes issuer while the session runs
my $moved = $t->default_charger_body(tariff_id => 'TOD',
    evse_uid => 'EVSE-NEW', evse_id => 'US*EXA*E9999*1');
$moved->{location} = { %{ $moved->{location} }, name => 'Moved Site',
    address => 'Broadway 1', city => 'New York', postal_code => '10004',
    country => 'USA', time_zone => 'America/New_York', id => 'LOC-NY' };
$moved->{connector} = { %{ $moved->{connector} }, standard => 'CHADEMO',
    power_type => 'DC', format => 'CABLE' };

my $cdr = run_session('S-MOVED', '04a2b3c4', 'RFID', sub {
    is($t->put_charger('CH-START', $moved)->{status}, 200,
        'mid-session: the charger record changes');
    is($t->admin('PUT', 'tokens/04A2B3C4', { customer_id => 'C-1',
        type => 'RFID', contract_id => 'DE-EXA-C00000000-Z' })->{status},
        200, 'mid-session: the token changes');
});

my $loc = $cdr->{cdr_location} || {};
is($loc->{id}, 'LOC1', 'CDR: the location id of the start');
is($loc->{name}, 'Test Site', 'CDR: the location name of the start');
is($loc->{address}, 'Teststrasse 1', 'CDR: the address of the start');
is($loc->{city}, 'Berlin', 'CDR: the city of the start');
is($loc->{country}, 'DEU', 'CDR: the country of the start');
is($loc->{evse_uid}, 'EVSE1', 'CDR: the EVSE of the start');
is($loc->{evse_id}, 'DE*EXA*E0001*1', 'CDR: the EVSE id of the start');
is($loc->{connector_standard}, 'IEC_62196_T2',
    'CDR: the connector standard of the start');
is($loc->{connector_power_type}, 'AC_3_PHASE',
    'CDR: the power type of the start');
cmp_ok($cdr->{total_cost}{excl_vat}, '==', 2,
    "CDR: rated in the start's time zone (Berlin 20:30, 0.20/kWh)");
is_deeply($cdr->{cdr_token}, { country_code => 'NL', party_id => 'ABC',
    uid => '04a2b3c4', type => 'RFID',
    contract_id => 'NL-ABC-C12345678-X' },
    "CDR: cdr_token from the token record as at the start");
like($cdr->{id}, qr/^FRA1-EVB[0-9]+$/, 'CDR id carries the node id');
ok(length($cdr->{id}) <= 36, 'CDR id within CiString(36)');
ok(!exists $cdr->{invoice_reference_id}, 'no invoice_reference_id yet');

my $s = $t->get_session('CH-START', 'S-MOVED')->{json} || {};
is($s->{customer_id}, 'C-1', 'GET session: its customer');
is_deeply($s->{cdr_token}, $cdr->{cdr_token},
    'GET session: its token as stored at the start');
is($s->{token_known}, JSON::PP::true, 'GET session: a known token');

# after the change, a new session takes the new state
$cdr = run_session('S-AFTER', '04A2B3C4', 'RFID', undef, 1.5);
is($cdr->{cdr_location}{name}, 'Moved Site', 'a later session: new place');
cmp_ok($cdr->{total_cost}{excl_vat}, '==', 3,
    'a later session: rated in New York (14:30, 0.30/kWh)');
is($cdr->{cdr_token}{country_code}, 'DE',
    'a token without issuer: the CPO\'s country');
is($cdr->{cdr_token}{contract_id}, 'DE-EXA-C00000000-Z',
    '... and its contract id');

# back to Berlin for the rest
is($t->put_charger('CH-START', $body)->{status}, 200, 'charger back');

# a roaming token: unknown to the store
$cdr = run_session('S-ROAM', 'ROAMING-1', 'APP_USER');
is_deeply($cdr->{cdr_token}, { country_code => 'DE', party_id => 'EXA',
    uid => 'ROAMING-1', type => 'APP_USER', contract_id => 'ROAMING-1' },
    'roaming token: the CPO\'s country and party, the uid as contract id');
$s = $t->get_session('CH-START', 'S-ROAM')->{json} || {};
ok(exists $s->{customer_id} && !defined $s->{customer_id},
    'roaming token: no customer');
is($s->{token_known}, JSON::PP::false, 'roaming token: not known');

# the uid matches but not the type: not this token
$cdr = run_session('S-TYPE', '04A2B3C4', 'APP_USER');
is($cdr->{cdr_token}{country_code}, 'DE', 'another type: unknown token');
$s = $t->get_session('CH-START', 'S-TYPE')->{json} || {};
ok(!defined $s->{customer_id}, 'another type: no customer');

# a retired customer's token: no customer, the token's issuer stays
is($t->admin('PUT', 'tokens/APP-7', { customer_id => 'C-1',
    type => 'APP_USER', issuer => { country_code => 'BE',
    party_id => 'XYZ' } })->{status}, 201, 'PUT token APP-7');
is($t->admin('DELETE', 'customers/C-1')->{status}, 200, 'retire C-1');
$cdr = run_session('S-RETIRED', 'APP-7', 'APP_USER');
is($cdr->{cdr_token}{party_id}, 'XYZ',
    'retired customer: the CDR keeps the token\'s issuer');
$s = $t->get_session('CH-START', 'S-RETIRED')->{json} || {};
ok(!defined $s->{customer_id}, 'retired customer: the session has none');
is($s->{token_known}, JSON::PP::true, '... though the token is known');

# a session stored before start records: (simulated by none here) the
# CDR of S-MOVED stays as it was after more changes to the charger
is($t->put_charger('CH-START', $moved)->{status}, 200, 'charger moves again');
is($t->admin('GET', 'cdrs/CH-START/S-MOVED')->{json}{cdr_location}{name},
    'Test Site', 'a stored CDR never changes');

$t->check_alerts;
$t->stop;

# without evbill_node_id: CDR ids as before; the idle sweep's close takes
# the start too; evbill-store check verifies the start records
{
    my $u = Evbill::Test->new;
    $u->write_conf($u->std_conf(http => 'evbill_session_idle_timeout 1s;'));
    $u->run;
    is($u->http('PUT', '/admin/tariffs/TOD', body => $TARIFF)->{status},
        201, 'no node id: tariff');
    my $d = $u->charger(id => 'CH-N', body => { tariff_id => 'TOD' });
    my $start = '2026-11-25T10:00:00Z';
    is($d->start($u->start_body(session_id => 'S1', timestamp => $start))
        ->{status}, 201, 'no node id: start');
    is($d->stop('S1', { timestamp => ts_plus($start, 60),
        meter_stop_wh => 1500 })->{status}, 200, 'no node id: stop');
    like($u->admin('GET', 'cdrs/CH-N/S1')->{json}{id}, qr/^EVB[0-9]+$/,
        'no node id: EVB and the session number');

    is($d->start($u->start_body(session_id => 'S-IDLE', timestamp => $start))
        ->{status}, 201, 'sweep: start');
    is($u->put_charger('CH-N', $moved)->{status}, 200,
        'sweep: the charger moves');
    my $st = {};
    my $deadline = time + 10;
    while (time < $deadline) {
        $st = $u->get_session('CH-N', 'S-IDLE')->{json} || {};
        last if ($st->{state} // '') eq 'stopped';
        select(undef, undef, undef, 0.2);
    }
    is($st->{stop_reason}, 'timeout', 'sweep: closed the idle session');
    is($u->admin('GET', 'cdrs/CH-N/S-IDLE')->{json}{cdr_location}{name},
        'Test Site', 'sweep: its CDR has the location of the start');

    my $tool = "$Evbill::Test::TOP/build/evbill-store";
    my $out = `$tool check ${\ $u->dir}/store 2>&1`;
    is($? >> 8, 0, 'evbill-store check: exit 0') or diag($out);
    like($out, qr/consistency: 0 problem/, '... start records consistent');
    $u->check_alerts;
    $u->stop;

    # a start record without its session is reported
    my $store = $u->dir . '/store';
    open(my $load, '|-', 'mdb_load', '-s', 'session_starts', $store)
        or die "mdb_load: $!";
    print $load "VERSION=3\nformat=print\ntype=btree\nHEADER=END\n"
        . " \\00\\00\\00\\00\\00\\00\\03\\e7\n"
        . " \\01\\00\\00\\00\\00\\00\\00\\03\\e7\nDATA=END\n";
    close $load or die "mdb_load failed: $?";
    $out = `$tool check $store 2>&1`;
    is($? >> 8, 1, 'check: a start record without its session: exit 1')
        or diag($out);
    like($out, qr/problem: session start 999: no such session/,
        '... naming it');

    # start records (version 2) share one copy of each charger document:
    # fewer documents than start records (the one without a session
    # aside), all of them of the charger of this file's sessions
    my $count = sub {
        my ($db) = @_;
        my $st = `mdb_stat -s $db $store 2>&1`;
        return $st =~ /Entries: (\d+)/ ? $1 : -1;
    };
    my ($docs, $starts) = ($count->('charger_docs'),
                           $count->('session_starts'));
    ok($docs >= 1 && $docs < $starts - 1,
       "charger documents stored once: $docs for $starts start records");

    # a start record whose document is not there is reported: version 2,
    # sid 999, empty strings, a key no document has
    my $z4 = '\\00' x 4;
    open($load, '|-', 'mdb_load', '-s', 'session_starts', $store)
        or die "mdb_load: $!";
    print $load "VERSION=3\nformat=print\ntype=btree\nHEADER=END\n"
        . " \\00\\00\\00\\00\\00\\00\\03\\e7\n"
        . " \\02\\00\\00\\00\\00\\00\\00\\03\\e7$z4\\00$z4\\00"
        . ($z4 x 3) . ('\\ff' x 12) . ($z4 x 3) . ('\\00' x 8)
        . "\nDATA=END\n";
    close $load or die "mdb_load failed: $?";
    $out = `$tool check $store 2>&1`;
    is($? >> 8, 1, 'check: a start record without its document: exit 1');
    like($out,
        qr/problem: session start 999: its charger document is missing/,
        '... naming it') or diag($out);

}

done_testing;
