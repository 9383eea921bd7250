#!/usr/bin/perl
# Store upgrades: a store written by the release of schema 1
# (t/fixtures/store-v1.dump, made by t/fixtures/make-store-v1.pl) is
# refused by nginx -t and by the workers with the exact evbill-store
# command; build/evbill-store upgrades it (refusing while nginx has it
# open); nginx then gives the same answers as that release did for its
# sessions, readings, costs and CDR, and the idle sweep closes its open
# sessions through the new activity index.  check's exit codes.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;
use Time::HiRes qw(sleep time);

plan skip_all => 'mdb_load (lmdb-utils) not installed'
    unless -x '/usr/bin/mdb_load';

my $fix = "$FindBin::Bin/fixtures";
my $tool = "$Evbill::Test::TOP/build/evbill-store";
plan skip_all => "no $tool; run make tools" unless -x $tool;

my $t = Evbill::Test->new;
my $store = $t->dir . '/store';

sub slurp { my ($f) = @_; open my $h, '<:raw', $f or die "$f: $!";
    local $/; my $s = <$h>; close $h; return $s }

# the fixture's master key (a test key: its charger keys are sealed
# under it)
my $hex = slurp("$fix/store-v1/master.key.hex");
$hex =~ s/\s+//g;
$t->write_file('master.key', pack('H*', $hex), 0600);

# restore the schema-1 store (mdb_load warns about a header keyword of
# newer mdb_dump versions it does not know: dropped)
my $dump = slurp("$fix/store-v1.dump");
$dump =~ s/^db_pagesize=.*\n//mg;
open(my $load, '|-', 'mdb_load', '-f', '/dev/stdin', $store)
    or die "mdb_load: $!";
print $load $dump;
close $load or die "mdb_load failed: $?";
if ($> == 0) {
    my ($uid, $gid) = (getpwnam('nobody'))[2, 3];
    chown $uid, $gid, "$store/data.mdb", "$store/lock.mdb";
}

sub tool {
    my (@args) = @_;
    my $out = `$tool @args 2>&1`;
    return ($? >> 8, $out);
}

my ($rc, $out) = tool('check', $store);
is($rc, 2, 'check on the v1 store: exit 2 (upgrade needed)') or diag($out);
like($out, qr/schema version: 1 \(this build: \d+\)/, '... prints the version');
like($out, qr/upgrade needed: yes/, '... and that an upgrade is needed');
like($out, qr/consistency: 0 problem/, '... records decode');

# nginx -t refuses it, naming the exact command
$t->write_conf($t->std_conf(workers => 1,
    http => 'evbill_session_idle_timeout 3650d;'));
my $size = -s "$store/data.mdb";
($rc, $out) = $t->test_config;
isnt($rc, 0, 'nginx -t fails on a schema-1 store');
like($out, qr/\[emerg\] .*store at \Q$store\E has schema version 1, this evbill build needs \d+: stop nginx, back up the store, then run "evbill-store upgrade \Q$store\E"/,
    '... with an [emerg] naming the exact command') or diag($out);
is(-s "$store/data.mdb", $size, '... writing nothing');

# so do the workers (at start, not only under -t)
$t->allow_alerts(qr/evbill-store upgrade/,
    qr/exited with fatal code 2 and cannot be respawned/);
$t->run;
my $deadline = time + 10;
sleep 0.1 while time < $deadline
    && $t->error_log !~ /cannot open store/;
like($t->error_log, qr/\[emerg\] .*evbill: cannot open store "\Q$store\E": store at \Q$store\E has schema version 1, this evbill build needs \d+: .*"evbill-store upgrade \Q$store\E"/,
    'a worker refuses it with the same [emerg]');

# while nginx (its master) runs, no worker has the store open: upgrade
# may proceed only when nothing has it open; tested below with workers
$t->stop;

($rc, $out) = tool('upgrade', $store);
is($rc, 0, 'upgrade: exit 0') or diag($out);
like($out, qr/^step 1 -> 2: activity index of open sessions \(idle sweep\): 2 item\(s\), committed$/m,
    '... printing the step (two open sessions indexed)');
like($out, qr/^step 2 -> 3: customers, tokens and session starts \(who is billed\): 3 item\(s\), committed$/m,
    '... and the step to schema 3 (three new databases)');
like($out, qr/^step 3 -> 4: invoice and credit note databases: 8 item\(s\), committed$/m,
    '... and the invoices step (no invoice for sessions stopped before)');
like($out, qr/^step 4 -> 5: reading log, live records of open sessions \(ingest layout\): [1-9]\d* item\(s\), committed$/m,
    '... and the ingest layout step (readings moved into the log)');
like($out, qr/^step 5 -> 6: sessions by customer \(driver API\): 0 item\(s\), committed$/m,
    '... and the driver index step (no start records in schema 1)');
like($out, qr/^step 6 -> 7: feed for downstream systems \(every CDR, invoice and credit note stored so far\): 1 item\(s\), committed$/m,
    '... and the feed step (the one CDR stored before announced)');
like($out, qr/^step \d+ -> \d+: monthly billing runs \(pending sessions, run records\): 2 item\(s\), committed$/m,
    '... and the billing runs step (two new databases)');
like($out, qr/^step \d+ -> \d+: payments, their links, outbox and webhook events: 4 item\(s\), committed$/m,
    '... and the payments step (four empty databases)');
like($out, qr/upgraded to schema version \d+/, '... and the result');

($rc, $out) = tool('check', $store);
is($rc, 0, 'check after the upgrade: exit 0') or diag($out);
like($out, qr/upgrade needed: no/, '... no upgrade needed');

($rc, $out) = tool('upgrade', $store);
is($rc, 0, 'upgrade again: exit 0, nothing to do') or diag($out);
like($out, qr/up to date/, '... says so');

($rc, $out) = $t->test_config;
is($rc, 0, 'nginx -t passes on the upgraded store') or diag($out);

$t->run(workers => 1);

# the same answers as the release that wrote the store
my %answers = (
    'session-stopped-1.json' => 'sessions/FIX-1/stopped-1',
    'session-open-1.json' => 'sessions/FIX-1/open-1',
    'session-open-2.json' => 'sessions/FIX-1/open-2',
    'session-voided-1.json' => 'sessions/FIX-1/voided-1',
    'cdr-stopped-1.json' => 'cdrs/FIX-1/stopped-1',
    'sessions.json' => 'sessions?charger_id=FIX-1',
    'charger.json' => 'chargers/FIX-1',
    'tariff.json' => 'tariffs/FIX',
);
for my $f (sort keys %answers) {
    my $r = $t->admin('GET', $answers{$f});
    is($r->{status}, 200, "GET $answers{$f}: 200");
    is($r->{body}, slurp("$fix/store-v1/$f"),
        "GET $answers{$f}: the same answer as schema 1 gave");
}

# the feed announces the CDR stored before it existed, as stored
{
    my $r = $t->admin('GET', 'feed');
    is($r->{status}, 200, 'GET feed after the upgrade: 200');
    my $f = eval { Evbill::Test->json->decode($r->{body}) } || {};
    is(scalar @{$f->{items} || []}, 1, '... one item');
    is($f->{items}[0]{kind}, 'cdr', '... the CDR');
    is($f->{next}, '1', '... next is its cursor');
    my $cdr = slurp("$fix/store-v1/cdr-stopped-1.json");
    ok(index($r->{body}, "\"data\":$cdr}") >= 0,
        '... with the CDR as GET cdrs/FIX-1/stopped-1 gave it');
}

# sessions stored before start records (schema 3) keep the behaviour of
# their release: their CDR takes the charger record at stop
{
    my $b = $t->default_charger_body(tariff_id => 'FIX');
    $b->{location}{name} = 'Renamed Site';
    is($t->put_charger('FIX-1', $b)->{status}, 200,
        'the charger is renamed before the open sessions close');
}

# in use: with the workers running, forge the old version back (LMDB
# takes writers of other processes): upgrade must refuse
open($load, '|-', 'mdb_load', '-s', 'meta', $store) or die "mdb_load: $!";
print $load "VERSION=3\nformat=print\ntype=btree\nHEADER=END\n"
    . " schema_version\n \\00\\00\\00\\01\nDATA=END\n";
close $load or die "mdb_load failed: $?";
my ($worker) = $t->workers;
($rc, $out) = tool('upgrade', $store);
is($rc, 5, 'upgrade refuses a store nginx has open: exit 5') or diag($out);
like($out, qr/store at \Q$store\E is in use by process $worker \(nginx\?\): stop nginx first/,
    '... naming the worker');
($rc, $out) = tool('check', $store);
is($rc, 2, 'check (read-only) works beside nginx: exit 2') or diag($out);
$t->stop;
($rc, $out) = tool('upgrade', $store);
is($rc, 0, 'with nginx stopped, upgrade runs') or diag($out);
like($out, qr/step 1 -> 2: .*: 2 item\(s\), committed/,
    '... the step again (it rebuilds the same index)');

# the idle sweep closes its open sessions through the index
$t->write_conf($t->std_conf(workers => 1,
    http => 'evbill_session_idle_timeout 1s;',
    main => 'error_log %%TESTDIR%%/error.log info;'));
$t->run(workers => 1);
my %done;
$deadline = time + 8;
while (time < $deadline && keys %done < 2) {
    for my $sid (qw(open-1 open-2)) {
        my $s = $t->get_session('FIX-1', $sid)->{json} || {};
        $done{$sid} = $s if ($s->{state} // '') eq 'stopped';
    }
    sleep 0.2;
}
is($done{'open-1'}{stop_reason}, 'timeout', 'open-1 closed by the sweep');
is($done{'open-1'}{stopped_at}, '2026-11-25T10:03:00.000Z',
    '... at its last reading');
is($done{'open-2'}{stop_reason}, 'timeout', 'open-2 closed by the sweep');
my $cdr = $t->admin('GET', 'cdrs/FIX-1/open-1');
is($cdr->{status}, 200, 'open-1 has a CDR now');
is($cdr->{json}{cdr_location}{name}, 'Renamed Site',
    '... from the charger record at stop (no start record: as before)');
is_deeply($cdr->{json}{cdr_token}, { country_code => 'DE', party_id => 'EXA',
    uid => 'TOKEN123', type => 'RFID', contract_id => 'TOKEN123' },
    '... and the token as before');
ok(!exists $t->get_session('FIX-1', 'open-1')->{json}{customer_id},
    '... its session shows no start record');
like($t->error_log, qr/idle sweep chunk: 2 read, 2 closed, 0 not closed, \d+ us in the write transaction/,
    'the sweep read exactly the two idle sessions from the index');

($rc, $out) = tool('check', $store);
is($rc, 0, 'check beside a running nginx: exit 0') or diag($out);
$t->finish;

# check exit 1: an activity entry without its session
open($load, '|-', 'mdb_load', '-s', 'activity', $store) or die "mdb_load: $!";
print $load "VERSION=3\nformat=print\ntype=btree\nHEADER=END\n"
    . " \\80\\00\\00\\00\\00\\00\\00\\01\\00\\00\\00\\00\\00\\00\\03\\e7\n \nDATA=END\n";
close $load or die "mdb_load failed: $?";
($rc, $out) = tool('check', $store);
is($rc, 1, 'check on an inconsistent index: exit 1') or diag($out);
like($out, qr/problem: activity index: session 999 is missing/,
    '... naming the problem');

($rc, $out) = tool('check', $t->dir . '/nowhere');
is($rc, 4, 'check without a store: exit 4') or diag($out);
($rc, $out) = tool('frobnicate');
is($rc, 4, 'bad usage: exit 4');

done_testing();
