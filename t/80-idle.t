#!/usr/bin/perl
# evbill_session_idle_timeout: an active session without readings for
# that long is closed at its last reading with reason "timeout".

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;
use Time::HiRes qw(sleep time);

my $t = Evbill::Test->new;
$t->write_conf($t->std_conf(http => 'evbill_session_idle_timeout 1s;',
    main => 'error_log %%TESTDIR%%/sweep-debug.log debug;'));
$t->run;

my $c = $t->charger(id => 'IDLE-1');

is($c->start($t->start_body(session_id => 'idle-1'))->{status}, 201, 'start idle-1');
my $r = $c->reading('idle-1', $t->reading_body(1));
$r = $c->reading('idle-1', $t->reading_body(2, energy_wh => 1234,
    timestamp => '2026-11-25T10:02:00.250Z'));
is($r->{status}, 200, 'readings');
is($c->start($t->start_body(session_id => 'idle-2', meter_start_wh => 777,
    timestamp => '2026-11-25T10:30:00Z'))->{status}, 201,
    'start idle-2 (no readings)');
is($c->start($t->start_body(session_id => 'busy'))->{status}, 201, 'start busy');

# keep "busy" alive while the others go idle
my $seq = 0;
my $deadline = time + 4;
my %done;
while (time < $deadline) {
    $r = $c->reading('busy', $t->reading_body(++$seq));
    last if $r->{status} != 200;
    for my $sid (qw(idle-1 idle-2)) {
        my $s = $t->get_session('IDLE-1', $sid)->{json} || {};
        $done{$sid} = $s if ($s->{state} // '') eq 'stopped';
    }
    sleep 0.25;
}
is($r->{status}, 200, 'busy session accepts readings all along')
    or diag($r->{body});

my $s1 = $done{'idle-1'} || $t->get_session('IDLE-1', 'idle-1')->{json} || {};
is($s1->{state}, 'stopped', 'idle-1 stopped');
is($s1->{stop_reason}, 'timeout', 'stop_reason timeout');
is($s1->{stopped_at}, '2026-11-25T10:02:00.250Z', 'stopped_at = last reading time');
is($s1->{meter_stop_wh}, 1234, 'meter_stop_wh = last register');
is($s1->{energy_wh}, 234, 'energy_wh');
is($s1->{last_seq}, 2, 'last_seq kept');
is(scalar @{ $s1->{readings} || [] }, 2, 'readings kept');

my $s2 = $done{'idle-2'} || $t->get_session('IDLE-1', 'idle-2')->{json} || {};
is($s2->{state}, 'stopped', 'idle-2 stopped');
is($s2->{stop_reason}, 'timeout', 'idle-2 stop_reason timeout');
is($s2->{stopped_at}, '2026-11-25T10:30:00.000Z', 'no readings: stopped at the start');
is($s2->{meter_stop_wh}, 777, 'no readings: meter_stop = meter_start');
is($s2->{energy_wh}, 0, 'no readings: energy 0');

my $b = $t->get_session('IDLE-1', 'busy')->{json} || {};
is($b->{state}, 'active', 'busy session still active');
is($b->{last_seq}, $seq, 'busy: every reading there');

# the charger's view after a timeout
$t->store_unchanged(sub {
    is_problem($c->reading('idle-1', $t->reading_body(3)), 409,
        'session-stopped', 'reading after the timeout');
});
$t->store_unchanged(sub {
    is_problem($c->stop('idle-1', { timestamp => '2026-11-25T11:00:00Z',
        meter_stop_wh => 2000 }), 409, 'stop-conflict',
        'a stop other than the timeout');
});
$r = $c->start($t->start_body(session_id => 'idle-1'));
is($r->{status}, 200, 'replayed start after timeout: the stored session')
    or diag($r->{body});
is($r->{json}{stop_reason}, 'timeout', '... stopped by timeout');

# the list agrees
$r = $t->list_sessions(charger_id => 'IDLE-1', state => 'stopped');
my %ids = map { $_->{session_id} => 1 } @{ $r->{json}{items} || [] };
ok($ids{'idle-1'} && $ids{'idle-2'} && !$ids{busy}, 'state=stopped lists the idle ones');

# a chunk that read sessions is logged at info; a tick with nothing due
# (busy kept its session fresh for seconds of 0.5 s ticks) is not
my $log = $t->error_log;
like($log, qr/idle sweep chunk: [1-9]\d* read, [1-9]\d* closed/,
    'the chunk that closed sessions is logged at info');
unlike($log, qr/idle sweep chunk: 0 read/,
    'a sweep tick with nothing due is not logged at info');

# one worker sweeps (two workers run): every tick, logged at debug when
# nothing is due, comes from the same process
my %pids;
my $ticks = 0;
for (split /\n/, $t->read_file('sweep-debug.log')) {
    next unless /\] (\d+)#\d+: .*evbill: idle sweep chunk/;
    $pids{$1}++;
    $ticks++;
}
cmp_ok($ticks, '>=', 3, "the sweep ticked ($ticks chunks logged)");
is(scalar(keys %pids), 1, 'all sweep chunks ran in one worker')
    or diag(join ' ', %pids);

$t->finish;
done_testing;
