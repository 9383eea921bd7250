#!/usr/bin/perl
# Durability: a reading answered 200 survives kill -9 of every nginx
# process; stale LMDB reader slots of killed workers are cleared.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;
use IO::Handle;
use Time::HiRes qw(sleep time);

my $t = Evbill::Test->new;
$t->write_conf($t->std_conf(workers => 2));
$t->run(workers => 2);

# a tariff for the charger's sessions, so each stop writes a CDR (priced
# from the rating state kept with the session)
is($t->http('PUT', '/admin/tariffs/TARIFF1', body => <<'EOF')->{status}, 201,
{"country_code":"DE","party_id":"EXA","id":"TARIFF1","currency":"EUR",
 "type":"REGULAR","last_updated":"2026-01-01T00:00:00Z",
 "elements":[
  {"price_components":[{"type":"ENERGY","price":0.30,"vat":19.0,
                        "step_size":1}],
   "restrictions":{"start_time":"10:01","end_time":"20:00"}},
  {"price_components":[{"type":"ENERGY","price":0.20,"vat":19.0,
                        "step_size":1},
                       {"type":"TIME","price":1.20,"vat":19.0,
                        "step_size":60}]}]}
EOF
    "the charger's tariff");

my $c = $t->charger(id => 'DUR-1');

# --- one reading, then kill -9 ----------------------------------------

is($c->start($t->start_body(session_id => 'd1'))->{status}, 201, 'start');
for my $round (1 .. 3) {
    my $r = $c->reading('d1', $t->reading_body($round));
    is($r->{status}, 200, "round $round: reading $round answered 200");
    $t->kill9;
    $t->run(workers => 2);
    $r = $t->get_session('DUR-1', 'd1');
    is($r->{json}{last_seq}, $round, "round $round: last_seq $round after kill -9");
    my @seq = map { $_->{seq} } @{ $r->{json}{readings} || [] };
    is_deeply(\@seq, [1 .. $round], "round $round: all readings there");
}

# a stop, then kill -9
my $r = $c->stop('d1', { timestamp => '2026-11-25T11:00:00Z', meter_stop_wh => 5000 });
is($r->{status}, 200, 'stop answered 200');
$t->kill9;
$t->run(workers => 2);
is($t->get_session('DUR-1', 'd1')->{json}{state}, 'stopped', 'stop survives kill -9');

# --- kill -9 in the middle of a stream of writes ----------------------

# Each writer posts readings one after another on its own session and
# reports every seq answered 200 on a pipe.
sub writers {
    my ($n, $tag) = @_;
    my @w;
    for my $i (1 .. $n) {
        my $sid = "$tag-$i";
        is($c->start($t->start_body(session_id => $sid))->{status}, 201,
            "start $sid");
        pipe(my $rd, my $wr) or die "pipe: $!";
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            close $rd;
            $wr->autoflush(1);
            my $cl = $t->client(key_id => $c->key_id, secret => $c->secret);
            for my $seq (1 .. 100000) {
                my $res = $cl->reading($sid, $t->reading_body($seq, step => 1));
                last unless $res->{status} == 200;
                print $wr "$seq\n";
            }
            close $wr;
            POSIX::_exit(0);
        }
        close $wr;
        push @w, { sid => $sid, pid => $pid, fh => $rd };
    }
    return @w;
}

for my $round (1 .. 2) {
    my @w = writers(4, "burst$round");
    sleep 0.7;
    $t->kill9;
    my %acked;
    for my $w (@w) {
        my $fh = $w->{fh};
        my @s = map { chomp; $_ } <$fh>;
        $acked{ $w->{sid} } = \@s;
        waitpid $w->{pid}, 0;
    }
    $t->run(workers => 2);
    my $total = 0;
    for my $w (@w) {
        my $sid = $w->{sid};
        my @a = @{ $acked{$sid} };
        $total += @a;
        my $s = $t->get_session('DUR-1', $sid)->{json} || {};
        my %stored = map { $_->{seq} => 1 } @{ $s->{readings} || [] };
        my @lost = grep { !$stored{$_} } @a;
        ok(!@lost, "round $round $sid: all " . scalar(@a) . ' acknowledged readings stored')
            or diag("lost: @lost");
        my $max = @a ? $a[-1] : 0;
        ok(($s->{last_seq} // -1) >= $max, "round $round $sid: last_seq >= $max");
        # anything stored beyond the acknowledged ones was in flight
        ok(($s->{last_seq} // 0) <= $max + 1,
            "round $round $sid: at most the in-flight reading beyond");
        is(scalar keys %stored, $s->{last_seq}, "round $round $sid: readings 1..last_seq");
    }
    ok($total > 10, "round $round: writes were flowing ($total acknowledged)");

    # the sessions' readings interleave in the reading log: after the
    # kill, every chain, live record and index entry is consistent
    # (evbill-store check reads a snapshot beside nginx) ...
    my $store = $t->dir . '/store';
    my $out = `$Evbill::Test::TOP/build/evbill-store check $store 2>&1`;
    is($? >> 8, 0, "round $round: evbill-store check after kill -9")
        or diag($out);

    # ... and each session stops with its CDR, priced from the state
    # kept with it
    for my $w (@w) {
        my $s = $t->get_session('DUR-1', $w->{sid})->{json} || {};
        my $last = $t->reading_body($s->{last_seq} || 1, step => 1);
        my $r = $c->stop($w->{sid}, { timestamp => $last->{timestamp},
                                      meter_stop_wh => $last->{energy_wh} });
        is($r->{status}, 200, "round $round $w->{sid}: stop after kill -9");
        is($t->admin('GET', "cdrs/DUR-1/$w->{sid}")->{status}, 200,
            "round $round $w->{sid}: its CDR");
    }
}

# --- stale readers ---------------------------------------------------

# keep the workers reading while they are killed
sub readers {
    my @p;
    for (1 .. 4) {
        my $pid = fork // die;
        if ($pid == 0) {
            my $end = time + 30;
            while (time < $end) {
                $t->get_session('DUR-1', 'd1');
                $t->list_sessions(limit => 50);
            }
            POSIX::_exit(0);
        }
        push @p, $pid;
    }
    return @p;
}

# Kill single workers (the master respawns them, the other worker keeps
# the environment open, so LMDB does not reset its reader table): the
# new worker must clear the slots of the dead one.
$t->allow_alerts(qr/worker process \d+ exited on signal 9/);
my @p = readers();
for my $round (1 .. 4) {
    sleep 0.3;
    my @w = $t->workers;
    kill 'KILL', $w[0];
    my $deadline = time + 10;
    while (time < $deadline) {
        last if !Evbill::Test::alive($w[0]) && $t->workers == 2;
        sleep 0.05;
    }
}
sleep 0.3;
kill 'TERM', @p;
waitpid $_, 0 for @p;
$r = $c->start($t->start_body(session_id => 'after-kills'));
is($r->{status}, 201, 'writes work after workers were killed mid-read');
$r = $c->reading('after-kills', $t->reading_body(1));
is($r->{status}, 200, 'a reading too');
ok($t->get_session('DUR-1', 'd1')->{status} == 200, 'reads work after kills');

SKIP: {
    skip 'mdb_stat not installed', 2 unless -x '/usr/bin/mdb_stat';
    my $store = $t->dir . '/store';
    my $out = `/usr/bin/mdb_stat -r $store 2>&1`;
    my @dead;
    for my $l (split /\n/, $out) {
        next unless $l =~ /^\s*(\d+)\s+[0-9a-f]+\s+(\S+)/;
        push @dead, $l unless Evbill::Test::alive($1);
    }
    note($out);
    like($out, qr/Reader Table/, 'reader table listed');
    ok(!@dead, 'no reader slot of a killed worker left') or diag($out);
}

my $st = $t->store_stat;
ok(defined $st->{readers_used} && $st->{readers_used} < $st->{max_readers},
    "reader slots not exhausted ($st->{readers_used} of $st->{max_readers})");

$t->finish;
done_testing;
