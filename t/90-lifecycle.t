#!/usr/bin/perl
# Lifecycle: reload and graceful shutdown under write load, a full store
# (507), a full write queue (503), retired keys.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;
use IO::Handle;
use Time::HiRes qw(sleep time);

# Writers: each posts batches of $batch readings on its own session until
# it gets something other than 200 or $until passes, and reports
# "seq status" lines on a pipe (status 599: no answer).
sub writers {
    my ($t, $c, $n, $tag, %o) = @_;
    my $batch = $o{batch} || 1;
    my $until = time + ($o{duration} || 3);
    my @w;
    # open every session first: a small write queue must not refuse them
    for my $i (1 .. $n) {
        my $r = $c->start($t->start_body(session_id => "$tag-$i"));
        die "start $tag-$i: $r->{status}" unless $r->{status} == 201;
    }
    for my $i (1 .. $n) {
        my $sid = "$tag-$i";
        pipe(my $rd, my $wr) or die;
        my $pid = fork // die;
        if ($pid == 0) {
            close $rd;
            $wr->autoflush(1);
            my $cl = $t->client(key_id => $c->key_id, secret => $c->secret);
            my $seq = 0;
            while (time < $until) {
                my @b = map { $t->reading_body($seq + $_, step => 1) } 1 .. $batch;
                my $res = $cl->reading($sid, @b == 1 ? $b[0] : { readings => \@b });
                my $type = ($res->{json} && $res->{json}{type})
                    || ($res->{status} == 599 ? substr($res->{body}, 0, 80) : "");
                $type =~ s/\s+/_/g;
                # a 503 says when to retry
                $type .= '|Retry-After:' . ($res->{headers}{'retry-after'} // '')
                    if $res->{status} == 503;
                print $wr ($seq + $batch) . " $res->{status} $type\n";
                if ($res->{status} == 200) {
                    $seq += $batch;
                } elsif ($res->{status} != 503 || !$o{retry_503}) {
                    last;
                }
            }
            close $wr;
            POSIX::_exit(0);
        }
        close $wr;
        push @w, { sid => $sid, pid => $pid, fh => $rd };
    }
    return @w;
}

sub collect {
    my (@w) = @_;
    for my $w (@w) {
        my $fh = $w->{fh};
        $w->{lines} = [ map { chomp; [ split / /, $_, 3 ] } <$fh> ];
        waitpid $w->{pid}, 0;
        my @ok = grep { $_->[1] == 200 } @{ $w->{lines} };
        $w->{acked} = @ok ? $ok[-1][0] : 0;
    }
    return @w;
}

# --- reload under load ------------------------------------------------

{
    my $t = Evbill::Test->new;
    $t->write_conf($t->std_conf(workers => 2));
    $t->run(workers => 2);
    my $c = $t->charger(id => 'LIFE-1');

    my @w = writers($t, $c, 8, 'reload', duration => 3, batch => 5);
    for (1 .. 3) {
        sleep 0.6;
        $t->reload;
    }
    collect(@w);
    my $total = 0;
    for my $w (@w) {
        my @bad = grep { $_->[1] != 200 } @{ $w->{lines} };
        ok(!@bad, "$w->{sid}: every request answered 200 across reloads")
            or diag(join ', ', map { "@$_" } @bad);
        my $s = $t->get_session('LIFE-1', $w->{sid})->{json} || {};
        is($s->{last_seq}, $w->{acked}, "$w->{sid}: last_seq = acknowledged ($w->{acked})");
        is(scalar @{ $s->{readings} || [] }, $w->{acked}, "$w->{sid}: nothing lost or doubled");
        $total += $w->{acked};
    }
    ok($total > 50, "writes flowed during reloads ($total readings)");

    # --- graceful shutdown under load -----------------------------------

    @w = writers($t, $c, 8, 'quit', duration => 5, batch => 200);
    sleep 0.8;
    my $pid = $t->pid;
    kill 'QUIT', $pid;
    collect(@w);
    my $deadline = time + 20;
    sleep 0.05 while Evbill::Test::alive($pid) && time < $deadline;
    ok(!Evbill::Test::alive($pid), 'nginx quit');
    $t->run(workers => 2);
    my $answered = 0;
    for my $w (@w) {
        my @odd = grep { $_->[1] != 200 && $_->[1] != 599 } @{ $w->{lines} };
        ok(!@odd, "$w->{sid}: only 200 or no connection during QUIT")
            or diag(join ', ', map { "@$_" } @odd);
        my $s = $t->get_session('LIFE-1', $w->{sid})->{json} || {};
        is($s->{last_seq}, $w->{acked},
            "$w->{sid}: store holds exactly the answered batches ($w->{acked})");
        $answered += $w->{acked};
    }
    ok($answered > 0, "batches were written before QUIT ($answered readings)");

    # --- retired charger ---------------------------------------------
    my $r = $t->admin('DELETE', 'chargers/LIFE-1');
    is($r->{status}, 200, 'retire the charger');
    $t->store_unchanged(sub {
        is_problem($c->start($t->start_body(session_id => 'after-retire')),
            401, 'signature-invalid', "retired charger's key: 401");
    });
    $t->reload;
    sleep 0.3;
    is_problem($c->reading('reload-1', $t->reading_body(100000)), 401,
        'signature-invalid', 'still 401 after a reload');
    $t->finish;
}

# --- store full ------------------------------------------------------

{
    my $t = Evbill::Test->new;
    $t->write_conf($t->std_conf(workers => 1, store_opts => 'size=1m'));
    $t->run;
    my $c = $t->charger(id => 'FULL-1');
    is($c->start($t->start_body(session_id => 'full'))->{status}, 201, 'start');
    my $seq = 0;
    my $last_ok = 0;
    my $r;
    for my $i (1 .. 200) {
        my @b = map { $t->reading_body($seq + $_, step => 1,
            ocmf => 'OCMF|' . ('x' x 16000) . "|$i") } 1 .. 8;
        $r = $c->reading('full', { readings => \@b });
        last unless $r->{status} == 200;
        $seq += 8;
        $last_ok = $seq;
    }
    ok($last_ok > 0, "readings stored before the map filled ($last_ok)");
    is_problem($r, 507, 'store-full', 'a full map answers 507');
    my $s = $t->get_session('FULL-1', 'full')->{json} || {};
    is($s->{last_seq}, $last_ok, 'the refused batch left nothing');
    my ($last) = grep { $_->{seq} == $last_ok } @{ $s->{readings} || [] };
    ok($last && length($last->{ocmf} // '') > 16000,
        'the last reading answered 200 is readable');
    is($t->get_session('FULL-1', 'full')->{status}, 200, 'reads still work');
    $t->store_unchanged(sub {
        my $again = $c->reading('full', { readings => [
            map { $t->reading_body($seq + $_, step => 1, ocmf => 'y' x 16000) } 1 .. 8 ] });
        is_problem($again, 507, 'store-full', '507 again, nothing written');
    });
    $t->stop;
    $t->run;
    $s = $t->get_session('FULL-1', 'full')->{json} || {};
    is($s->{last_seq}, $last_ok, 'after restart: the store is intact');
    $t->finish;
}

# --- write queue full ------------------------------------------------

{
    my $t = Evbill::Test->new;
    $t->write_conf($t->std_conf(workers => 1, http => 'evbill_write_queue 1;'));
    $t->run;
    my $c = $t->charger(id => 'QUEUE-1');
    my @w = collect(writers($t, $c, 12, 'q', duration => 2, batch => 200,
        retry_503 => 1));
    my ($n503, $bad) = (0, 0);
    for my $w (@w) {
        for my $l (@{ $w->{lines} }) {
            if ($l->[1] == 503) {
                $n503++;
                $bad++ unless $l->[2] eq
                    'urn:evbill:problem:write-queue-full|Retry-After:1';
            } elsif ($l->[1] != 200) {
                $bad++;
                diag("@$l");
            }
        }
        my $s = $t->get_session('QUEUE-1', $w->{sid})->{json} || {};
        is($s->{last_seq}, $w->{acked},
            "$w->{sid}: exactly the 200 batches stored ($w->{acked})");
    }
    is($bad, 0, 'only 200 or 503 write-queue-full with Retry-After: 1');
    ok($n503 > 0, "a queue of 1 overflows under 12 writers ($n503 times 503)");
    $t->finish;
}

done_testing;
