#!/usr/bin/perl
# Concurrency: two workers, many clients; no reading lost or duplicated,
# and racing identical requests resolve to one write.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;
use IO::Handle;
use Time::HiRes qw(time);

my $t = Evbill::Test->new;
$t->write_conf($t->std_conf(workers => 2));
$t->run(workers => 2);

my $c = $t->charger(id => 'CON-1');
my $NCLIENTS = 16;
my $NREAD = 50;

# Runs $code in $n children released together; returns their outputs
# (one line of text each).
sub race {
    my ($n, $code) = @_;
    pipe(my $gate_r, my $gate_w) or die;
    my @kids;
    for my $i (1 .. $n) {
        pipe(my $rd, my $wr) or die;
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            close $gate_w;
            close $rd;
            <$gate_r>;                  # wait for the parent to open the gate
            my $out = eval { $code->($i) };
            $out = "died: $@" unless defined $out;
            print $wr $out;
            close $wr;
            POSIX::_exit(0);
        }
        close $wr;
        push @kids, [ $pid, $rd ];
    }
    close $gate_r;
    close $gate_w;                      # go
    my @out;
    for my $k (@kids) {
        my $fh = $k->[1];
        local $/;
        push @out, scalar(<$fh>) // '';
        waitpid $k->[0], 0;
    }
    return @out;
}

# --- many clients, one session each -----------------------------------

my $t0 = time;
my @out = race($NCLIENTS, sub {
    my ($i) = @_;
    my $cl = $t->client(key_id => $c->key_id, secret => $c->secret);
    my $sid = "con-$i";
    my $r = $cl->start($t->start_body(session_id => $sid));
    return "start $r->{status}" unless $r->{status} == 201;
    my ($acc, $dup, $bad) = (0, 0, 0);
    my $seq = 1;
    while ($seq <= $NREAD) {
        my $res;
        if ($seq % 10 == 0 && $seq + 2 <= $NREAD) {
            # a small batch, overlapping the previous reading
            $res = $cl->reading($sid, { readings => [
                map { $t->reading_body($_, step => 1) } $seq - 1 .. $seq + 2 ] });
            $seq += 3;
        } else {
            $res = $cl->reading($sid, $t->reading_body($seq, step => 1));
            # resend every 7th reading, as a charger that lost the answer
            if ($seq % 7 == 0 && $res->{status} == 200) {
                $acc += $res->{json}{accepted};
                $dup += $res->{json}{duplicates};
                $res = $cl->reading($sid, $t->reading_body($seq, step => 1));
            }
            $seq++;
        }
        if ($res->{status} != 200) {
            $bad++;
            next;
        }
        $acc += $res->{json}{accepted};
        $dup += $res->{json}{duplicates};
    }
    return "ok $acc $dup $bad";
});
my $elapsed = time - $t0;

for my $i (1 .. $NCLIENTS) {
    my $o = $out[$i - 1];
    my ($acc, $dup, $bad) = $o =~ /^ok (\d+) (\d+) (\d+)$/;
    ok(defined $acc, "client $i finished") or diag($o), next;
    is($bad, 0, "client $i: every request answered 200");
    is($acc, $NREAD, "client $i: $NREAD accepted in all");
    my $s = $t->get_session('CON-1', "con-$i")->{json} || {};
    is($s->{last_seq}, $NREAD, "client $i: last_seq $NREAD");
    is_deeply([ map { $_->{seq} } @{ $s->{readings} || [] } ], [1 .. $NREAD],
        "client $i: readings 1..$NREAD, each once");
    my @wrong = grep { $_->{energy_wh} != 1000 + 100 * $_->{seq} }
        @{ $s->{readings} || [] };
    ok(!@wrong, "client $i: values intact");
}
my $st = $t->store_stat;
is($st->{readings}, $NCLIENTS * $NREAD, 'store counts every reading once');
note(sprintf '%d clients x %d readings in %.2fs', $NCLIENTS, $NREAD, $elapsed);

# --- racing identical requests ----------------------------------------

my $start = $t->start_body(session_id => 'race-1');
@out = race(8, sub {
    my $cl = $t->client(key_id => $c->key_id, secret => $c->secret);
    my $r = $cl->start($start);
    return "$r->{status} " . ($r->{json}{session_id} // '');
});
my %n;
$n{ (split / /)[0] }++ for @out;
is($n{201}, 1, 'identical starts: one 201') or diag("@out");
is($n{200}, 7, 'identical starts: seven 200');

@out = race(8, sub {
    my $cl = $t->client(key_id => $c->key_id, secret => $c->secret);
    my $r = $cl->reading('race-1', $t->reading_body(1));
    return "$r->{status} " . ($r->{json}{accepted} // '-') . ' '
        . ($r->{json}{duplicates} // '-');
});
%n = ();
$n{$_}++ for @out;
is($n{'200 1 0'}, 1, 'identical readings: one accepted') or diag("@out");
is($n{'200 0 1'}, 7, 'identical readings: seven duplicates') or diag("@out");

@out = race(8, sub {
    my ($i) = @_;
    my $cl = $t->client(key_id => $c->key_id, secret => $c->secret);
    my $r = $cl->reading('race-1', $t->reading_body(2, energy_wh => 1200 + $i));
    return "$r->{status} " . ($r->{json}{type} // '');
});
%n = ();
$n{$_}++ for @out;
is($n{'200 '}, 1, 'conflicting readings: one wins') or diag("@out");
is($n{'409 urn:evbill:problem:seq-conflict'}, 7,
    'conflicting readings: the others 409 seq-conflict') or diag("@out");

my $stop = { timestamp => '2026-11-25T12:00:00Z', meter_stop_wh => 3000 };
@out = race(8, sub {
    my $cl = $t->client(key_id => $c->key_id, secret => $c->secret);
    my $r = $cl->stop('race-1', $stop);
    return "$r->{status} " . ($r->{json}{state} // '');
});
%n = ();
$n{$_}++ for @out;
is($n{'200 stopped'}, 8, 'identical stops: all 200 with the stopped session')
    or diag("@out");

my $s = $t->get_session('CON-1', 'race-1')->{json} || {};
is(scalar @{ $s->{readings} || [] }, 2, 'race session: two readings');
is($s->{last_seq}, 2, 'race session: last_seq 2');
is($s->{meter_stop_wh}, 3000, 'race session: stopped once');

$t->finish;
done_testing;
