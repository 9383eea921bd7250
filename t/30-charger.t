#!/usr/bin/perl
# Charger API: sessions, readings, stop; idempotent replays, batches,
# conflicts and impossible data.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;

my $t = Evbill::Test->new;
$t->write_conf($t->std_conf);
$t->run;

# The three counts of a readings answer (issue 3 adds the cost beside them).
sub counts {
    my ($r) = @_;
    my $j = $r->{json} || {};
    return { map { $_ => $j->{$_} } qw(accepted duplicates last_seq) };
}

# A rejected request: status, problem type, and nothing written.
sub bad {
    my ($code, $status, $type, $name) = @_;
    $t->store_unchanged(sub {
        is_problem($code->(), $status, $type, $name);
    }, "$name: store unchanged");
}

my $c = $t->charger(id => 'CHG-A');
my $sid = 'sess-1';

# --- start -----------------------------------------------------------

my $start = $t->start_body(session_id => $sid, id_token => 'RFID-0001',
    timestamp => '2026-11-25T11:00:00+01:00');
my $r = $c->start($start);
is($r->{status}, 201, 'start: 201') or diag($r->{body});
like($r->{headers}{'content-type'} || '', qr{^application/json\b},
    'start: application/json');
my $s = $r->{json} || {};
is($s->{charger_id}, 'CHG-A', 'charger_id from the key');
is($s->{session_id}, $sid, 'session_id');
is($s->{state}, 'active', 'state active');
is($s->{connector_id}, 1, 'connector_id');
is($s->{id_token}, 'RFID-0001', 'id_token');
is($s->{token_type}, 'RFID', 'token_type');
is($s->{tariff_id}, 'TARIFF1', 'tariff from the charger');
is($s->{started_at}, '2026-11-25T10:00:00.000Z', 'started_at in UTC, ms');
ok(exists $s->{stopped_at} && !defined $s->{stopped_at}, 'stopped_at null');
ok(exists $s->{stop_reason} && !defined $s->{stop_reason}, 'stop_reason null');
is($s->{meter_start_wh}, 1000, 'meter_start_wh');
ok(exists $s->{meter_stop_wh} && !defined $s->{meter_stop_wh},
    'meter_stop_wh null');
is($s->{energy_wh}, 0, 'energy_wh 0');
is($s->{last_seq}, 0, 'last_seq 0');

my $tx = $t->txn_id;
$r = $c->start($start);
is($r->{status}, 200, 'same start again: 200');
is_deeply($r->{json}, $s, 'same start: the stored session');
is($t->txn_id, $tx, 'same start: nothing written');

bad(sub { $c->start({ %$start, id_token => 'OTHER' }) }, 409,
    'session-conflict', 'same session id, other id_token');
bad(sub { $c->start({ %$start, meter_start_wh => 1001 }) }, 409,
    'session-conflict', 'same session id, other meter_start_wh');
bad(sub { $c->start({ %$start, timestamp => '2026-11-25T10:00:01Z' }) }, 409,
    'session-conflict', 'same session id, other timestamp');

# the same instant written otherwise is the same start
$r = $c->start({ %$start, timestamp => '2026-11-25T10:00:00.000Z' });
is($r->{status}, 200, 'same instant, other notation: 200');

# defaults and options
$r = $c->start($t->start_body(session_id => 'sess-def', token_type => undef,
    tariff_id => 'TARIFF-REQ', timestamp => '2026-11-25T10:00:00.5Z',
    ocmf => 'OCMF|{"start":1}|{"SD":"00"}', connector_id => 2));
is($r->{status}, 201, 'start with options');
is($r->{json}{token_type}, 'RFID', 'token_type defaults to RFID');
is($r->{json}{tariff_id}, 'TARIFF-REQ', 'tariff_id from the request wins');
is($r->{json}{started_at}, '2026-11-25T10:00:00.500Z', 'fraction kept');
is($r->{json}{start_ocmf}, 'OCMF|{"start":1}|{"SD":"00"}', 'start_ocmf verbatim');
is($r->{json}{connector_id}, 2, 'connector_id 2');
for my $tt (qw(APP_USER AD_HOC_USER OTHER)) {
    $r = $c->start($t->start_body(session_id => "sess-$tt", token_type => $tt));
    is($r->{json}{token_type}, $tt, "token_type $tt");
}

# no tariff anywhere
my $nt = $t->charger(id => 'CHG-NOTARIFF', no_tariff => 1);
bad(sub { $nt->start($t->start_body(session_id => 'nt-1')) }, 422,
    'no-tariff', 'no tariff on charger or request');
$r = $nt->start($t->start_body(session_id => 'nt-2', tariff_id => 'T9'));
is($r->{status}, 201, 'tariff in the request suffices');

# --- readings --------------------------------------------------------

my $p = "sessions/$sid/readings";
$r = $c->reading($sid, $t->reading_body(1));
is($r->{status}, 200, 'reading 1: 200') or diag($r->{body});
like($r->{headers}{'content-type'} || '', qr{^application/json\b}, 'json');
is_deeply(counts($r), { accepted => 1, duplicates => 0, last_seq => 1 },
    'reading 1: accepted');

$r = $c->reading($sid, $t->reading_body(1));
is($r->{status}, 200, 'reading 1 again: 200');
is_deeply(counts($r), { accepted => 0, duplicates => 1, last_seq => 1 },
    'reading 1 again: a duplicate');

bad(sub { $c->reading($sid, $t->reading_body(1, energy_wh => 1101)) }, 409,
    'seq-conflict', 'seq 1 with another energy');
bad(sub { $c->reading($sid, $t->reading_body(1, state => 'parked')) }, 409,
    'seq-conflict', 'seq 1 with another state');

# batch
$r = $c->reading($sid, { readings => [ map { $t->reading_body($_) } 2 .. 4 ] });
is($r->{status}, 200, 'batch 2..4');
is_deeply(counts($r), { accepted => 3, duplicates => 0, last_seq => 4 },
    'batch 2..4 accepted');
$r = $c->reading($sid, { readings => [ map { $t->reading_body($_) } 3 .. 6 ] });
is_deeply(counts($r), { accepted => 2, duplicates => 2, last_seq => 6 },
    'batch 3..6: two duplicates, two new');

# all or nothing
bad(sub { $c->reading($sid, { readings => [ $t->reading_body(7),
        $t->reading_body(8, energy_wh => 1500) ] }) }, 422,
    'register-backwards', 'batch with register going down');
bad(sub { $c->reading($sid, { readings => [ $t->reading_body(7),
        $t->reading_body(8, timestamp => '2026-11-25T10:05:00Z') ] }) }, 422,
    'time-backwards', 'batch with time going back');
bad(sub { $c->reading($sid, { readings => [ $t->reading_body(7),
        $t->reading_body(6, energy_wh => 9999) ] }) }, 400,
    'seq-order', 'batch with seq not increasing');
bad(sub { $c->reading($sid, { readings => [ $t->reading_body(7),
        $t->reading_body(7) ] }) }, 400, 'seq-order', 'batch with seq twice');
bad(sub { $c->reading($sid, { readings => [ $t->reading_body(6, energy_wh => 1),
        $t->reading_body(7) ] }) }, 409, 'seq-conflict',
    'batch whose first reading conflicts');
bad(sub { $c->reading($sid, { readings => [] }) }, 400, 'invalid-value',
    'empty batch');
$r = $t->get_session('CHG-A', $sid);
is($r->{json}{last_seq}, 6, 'after refused batches: last_seq 6');
is(scalar @{ $r->{json}{readings} || [] }, 6, 'after refused batches: 6 readings');

# seq gaps are allowed, going back is not
$r = $c->reading($sid, $t->reading_body(9));
is_deeply(counts($r), { accepted => 1, duplicates => 0, last_seq => 9 },
    'seq 9 after 6 (a gap)');
bad(sub { $c->reading($sid, $t->reading_body(8)) }, 409, 'seq-conflict',
    'new seq 8 below last_seq 9');
bad(sub { $c->reading($sid, $t->reading_body(10,
        timestamp => '2026-11-25T10:08:00Z')) }, 422, 'time-backwards',
    'time going back');
bad(sub { $c->reading($sid, $t->reading_body(10, energy_wh => 1899)) }, 422,
    'register-backwards', 'register going down');

# every field of a reading
$r = $c->reading($sid, $t->reading_body(10, state => 'parked', power_w => 11000,
    current_a => 16.5, ocmf => "OCMF|{\"RD\":[{\"RV\":1.1}]}|{\"SD\":\"AB\"}"));
is($r->{status}, 200, 'reading with all fields');
$r = $t->get_session('CHG-A', $sid);
my @rd = @{ $r->{json}{readings} || [] };
is_deeply([ map { $_->{seq} } @rd ], [1 .. 6, 9, 10], 'stored seqs');
my ($r10) = grep { $_->{seq} == 10 } @rd;
is($r10->{state}, 'parked', 'state parked');
is($r10->{power_w}, 11000, 'power_w');
ok(defined $r10->{current_a} && $r10->{current_a} == 16.5, 'current_a 16.5');
is($r10->{ocmf}, "OCMF|{\"RD\":[{\"RV\":1.1}]}|{\"SD\":\"AB\"}", 'ocmf verbatim');
is($r10->{timestamp}, '2026-11-25T10:10:00.000Z', 'timestamp');
is($r10->{energy_wh}, 2000, 'energy_wh');
my ($r1) = grep { $_->{seq} == 1 } @rd;
is($r1->{state}, 'charging', 'state defaults to charging');
ok(!exists $r1->{power_w} && !exists $r1->{ocmf}, 'absent optionals absent');
is($r->{json}{last_seq}, 10, 'session last_seq');
is($r->{json}{energy_wh}, 1000, 'session energy_wh so far');

# before start, below the meter start
my $s2 = 'sess-2';
is($c->start($t->start_body(session_id => $s2,
    timestamp => '2026-11-25T12:00:00Z'))->{status}, 201, 'start sess-2');
bad(sub { $c->reading($s2, $t->reading_body(1)) }, 422,
    'reading-before-start', 'reading before the start');
bad(sub { $c->reading($s2, $t->reading_body(1,
        timestamp => '2026-11-25T12:01:00Z', energy_wh => 999)) }, 422,
    'register-backwards', 'first reading below meter_start_wh');

# unknown sessions, another charger's session
bad(sub { $c->reading('nosuch', $t->reading_body(1)) }, 404,
    'unknown-session', 'reading on unknown session');
bad(sub { $c->stop('nosuch', { timestamp => '2026-11-25T13:00:00Z',
        meter_stop_wh => 5000 }) }, 404, 'unknown-session', 'stop unknown session');
my $other = $t->charger(id => 'CHG-B');
bad(sub { $other->reading($sid, $t->reading_body(11)) }, 404,
    'unknown-session', "another charger's session");

# --- stop ------------------------------------------------------------

bad(sub { $c->stop($sid, { timestamp => '2026-11-25T11:00:00Z',
        meter_stop_wh => 1999 }) }, 422, 'register-backwards',
    'stop below the last reading');
bad(sub { $c->stop($sid, { timestamp => '2026-11-25T10:09:00Z',
        meter_stop_wh => 2500 }) }, 422, 'time-backwards',
    'stop before the last reading');

my $stop = { timestamp => '2026-11-25T11:00:00Z', meter_stop_wh => 2500,
    reason => 'EV_DISCONNECTED', ocmf => 'OCMF|{"stop":1}|{"SD":"01"}' };
$r = $c->stop($sid, $stop);
is($r->{status}, 200, 'stop: 200') or diag($r->{body});
my $st = $r->{json} || {};
is($st->{state}, 'stopped', 'stopped');
is($st->{stopped_at}, '2026-11-25T11:00:00.000Z', 'stopped_at');
is($st->{stop_reason}, 'EV_DISCONNECTED', 'stop_reason');
is($st->{meter_stop_wh}, 2500, 'meter_stop_wh');
is($st->{energy_wh}, 1500, 'energy_wh = stop - start');
is($st->{last_seq}, 10, 'last_seq');
is($st->{stop_ocmf}, 'OCMF|{"stop":1}|{"SD":"01"}', 'stop_ocmf');
ok(!exists $st->{readings}, 'no readings in the charger answer');

$tx = $t->txn_id;
$r = $c->stop($sid, $stop);
is($r->{status}, 200, 'same stop again: 200');
is_deeply($r->{json}, $st, 'same stop: same answer');
is($t->txn_id, $tx, 'same stop: nothing written');

bad(sub { $c->stop($sid, { %$stop, meter_stop_wh => 2501 }) }, 409,
    'stop-conflict', 'a different stop');
bad(sub { $c->stop($sid, { %$stop, reason => 'OTHER' }) }, 409,
    'stop-conflict', 'a stop with another reason');
bad(sub { $c->reading($sid, $t->reading_body(11,
        timestamp => '2026-11-25T10:30:00Z', energy_wh => 2100)) }, 409,
    'session-stopped', 'new reading after stop');
# a reading already stored, sent again after the stop: still a duplicate
$r = $c->reading($sid, $t->reading_body(9));
ok($r->{status} == 200 && ($r->{json}{duplicates} // 0) == 1
    || $r->{status} == 409, 'replayed old reading after stop: 200 duplicate '
    . 'or 409') or diag("$r->{status} $r->{body}");

$r = $c->start($start);
is($r->{status}, 200, 'start replayed after stop: 200');
is($r->{json}{state}, 'stopped', '... with the stored (stopped) session');

# stop without a reason, with no readings
is($c->start($t->start_body(session_id => 'sess-3',
    timestamp => '2026-11-25T12:00:00Z'))->{status}, 201, 'start sess-3');
$r = $c->stop('sess-3', { timestamp => '2026-11-25T12:30:00Z',
    meter_stop_wh => 1000 });
is($r->{status}, 200, 'stop without readings or reason');
ok(defined $r->{json}{stop_reason} && length $r->{json}{stop_reason},
    'a default stop_reason');
is($r->{json}{energy_wh}, 0, 'energy 0');
# the spec lists time-backwards for stops; reading-before-start says the
# same thing, so either name is fine here
$t->store_unchanged(sub {
    my $r = $c->stop('sess-2', { timestamp => '2026-11-25T11:59:00Z',
        meter_stop_wh => 1000 });
    my $type = ($r->{json} && $r->{json}{type}) || '';
    $type =~ s/^urn:evbill:problem://;
    is_problem($r, 422, $type =~ /^(time-backwards|reading-before-start)$/
        ? $type : 'time-backwards', 'stop before the session started');
}, 'stop before the session started: store unchanged');
bad(sub { $c->stop('sess-2', { timestamp => '2026-11-25T12:30:00Z',
        meter_stop_wh => 999 }) }, 422, 'register-backwards',
    'stop below meter_start_wh');

# --- paths and methods -----------------------------------------------

# session ids with spaces and other printable characters, percent-encoded
my $odd = 'S 1*x:%~';
is($c->start($t->start_body(session_id => $odd))->{status}, 201, 'odd id start');
$r = $c->reading($odd, $t->reading_body(1));
is($r->{status}, 200, 'odd id: percent-decoded path') or diag($r->{body});
is($t->get_session('CHG-A', $odd)->{json}{last_seq}, 1, 'odd id stored');

bad(sub { $c->post('nothing', {}) }, 404, 'not-found', 'unknown path');
bad(sub { $c->post("sessions/$sid/readings/x", {}) }, 404, 'not-found',
    'path below readings');
bad(sub { $c->post("sessions/$sid/other", {}) }, 404, 'not-found',
    'unknown session action');
$r = $c->request(method => 'GET', path => 'sessions', body => '');
is_problem($r, 405, 'method-not-allowed', 'GET sessions');
like($r->{headers}{allow} || '', qr/POST/, 'Allow: POST');
$r = $c->request(method => 'PUT', path => "sessions/$sid/readings",
    body => $t->reading_body(11));
is_problem($r, 405, 'method-not-allowed', 'PUT readings');

$t->finish;
done_testing;
