#!/usr/bin/perl
# Gapless invoice numbers (issue 9): sessions stopped concurrently through
# both workers get 1..N, no gap, no duplicate; kill -9 of nginx in the
# middle of such a run, a restart and the clients' retries leave the
# series still gapless, every number with its invoice, every session
# with exactly one.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;
use IO::Handle;
use POSIX ();
use Time::HiRes qw(sleep);

my $t = Evbill::Test->new;
$t->write_file('seller.json',
    $t->read_file("$FindBin::Bin/fixtures/invoice/seller.json"));
$t->write_conf($t->std_conf(workers => 2,
    http => 'evbill_seller_file %%TESTDIR%%/seller.json;'));
$t->run(workers => 2);

my $TARIFF = '{"country_code":"DE","party_id":"EXA","id":"GAP",'
    . '"currency":"EUR","last_updated":"2026-01-01T00:00:00Z",'
    . '"elements":[{"price_components":[{"type":"ENERGY","price":0.40,'
    . '"vat":19,"step_size":1}]}]}';
is($t->admin('PUT', 'tariffs/GAP', $TARIFF)->{status}, 201, 'PUT tariff');
my $c = $t->charger(id => 'GAP-1', body => { tariff_id => 'GAP' });

sub start_all {
    my ($tag, $n) = @_;
    my @s = map { "$tag-$_" } 1 .. $n;
    for my $sid (@s) {
        my $r = $c->start($t->start_body(session_id => $sid,
            token_type => 'AD_HOC_USER'));
        die "start $sid: $r->{status} $r->{body}" unless $r->{status} == 201;
    }
    pass("$tag: $n sessions started");
    return @s;
}

sub stop_body {
    return { timestamp => '2026-11-25T10:30:00Z', meter_stop_wh => 6000 };
}

# Stops @$sids in $k children (each with a client of its own), released
# together; each child reports the sessions it saw stopped (200).
sub stoppers {
    my ($k, $sids) = @_;
    pipe(my $gate_r, my $gate_w) or die;
    my @kids;
    for my $i (0 .. $k - 1) {
        my @mine = @$sids[grep { $_ % $k == $i } 0 .. $#$sids];
        pipe(my $rd, my $wr) or die;
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            close $gate_w;
            close $rd;
            $wr->autoflush(1);
            <$gate_r>;
            my $cl = $t->client(key_id => $c->key_id, secret => $c->secret);
            for my $sid (@mine) {
                my $r = eval { $cl->stop($sid, stop_body()) };
                last unless $r && $r->{status} == 200;
                print $wr "$sid\n";
            }
            close $wr;
            POSIX::_exit(0);
        }
        close $wr;
        push @kids, [ $pid, $rd ];
    }
    close $gate_r;
    close $gate_w;
    return @kids;
}

sub collect {
    my (@kids) = @_;
    my @done;
    for my $k (@kids) {
        my $fh = $k->[1];
        push @done, map { chomp; $_ } <$fh>;
        waitpid $k->[0], 0;
    }
    return @done;
}

# every invoice, through the listing's pages
sub all_invoices {
    my (@items, $cursor);
    for (1 .. 100) {
        my $q = 'invoices?limit=7' . ($cursor ? "&cursor=$cursor" : '');
        my $r = $t->admin('GET', $q);
        die "GET $q: $r->{status}" unless $r->{status} == 200;
        push @items, @{ $r->{json}{items} };
        $cursor = $r->{json}{next} or last;
    }
    return @items;
}

# the series is 1..N without gap or duplicate, each number's invoice is
# its session's, each session has one
sub check_series {
    my ($name, @sessions) = @_;
    my @items = all_invoices();
    is(scalar @items, scalar @sessions, "$name: one invoice per session");
    my ($prefix) = ($items[0]{number} // '') =~ /^(INV-\d{4}-)\d{6}$/;
    ok($prefix, "$name: numbers INV-YYYY-NNNNNN")
        or diag($items[0]{number});
    my @n = sort { $a <=> $b }
        map { /^INV-\d{4}-(\d{6})$/ ? $1 + 0 : -1 } map { $_->{number} } @items;
    is_deeply(\@n, [ 1 .. scalar @sessions ], "$name: 1..N, no gap, no "
        . 'duplicate');
    my %by_session = map { $_->{session_id} => $_->{number} } @items;
    is(scalar keys %by_session, scalar @sessions,
        "$name: no session invoiced twice");
    my $bad = 0;
    for my $sid (@sessions) {
        my $s = $t->get_session('GAP-1', $sid)->{json} || {};
        my $cdr = $t->admin('GET', "cdrs/GAP-1/$sid")->{json} || {};
        my $num = $by_session{$sid} // '';
        $bad++, diag("$sid: session says " . ($s->{invoice} // 'none')
                     . ", CDR " . ($cdr->{invoice_reference_id} // 'none')
                     . ", listing $num")
            unless $num ne '' && ($s->{invoice} // '') eq $num
                && ($cdr->{invoice_reference_id} // '') eq $num;
        my $inv = $t->admin('GET', "invoices/$num")->{json} || {};
        $bad++, diag("invoice $num is not the invoice of $sid")
            unless ($inv->{session}{session_id} // '') eq $sid;
    }
    is($bad, 0, "$name: every number with its invoice, its session and "
        . 'its CDR');
}

# --- concurrent stops through both workers ------------------------------

my @first = start_all('race', 40);
my @done = collect(stoppers(8, \@first));
is(scalar @done, 40, 'race: 40 stops answered 200');
check_series('race', @first);

# --- kill -9 in the middle of a run ---------------------------------------

$t->allow_alerts(qr/exited on signal 9/);
for my $round (1 .. 2) {
    my @s = start_all("kill$round", 60);
    my @kids = stoppers(4, \@s);
    sleep 0.15;
    $t->kill9;
    my @acked = collect(@kids);
    note("round $round: " . scalar(@acked) . ' stops acknowledged before '
        . 'the kill');
    $t->run(workers => 2);

    # what the dead nginx acknowledged is stopped and invoiced; the rest
    # is retried (a replayed stop is answered as stored)
    my $fail = 0;
    for my $sid (@s) {
        my $r = $c->stop($sid, stop_body());
        $fail++, diag("stop $sid: $r->{status} $r->{body}")
            unless $r->{status} == 200;
    }
    is($fail, 0, "round $round: every stop answered after the restart");
    push @first, @s;
    check_series("after kill -9 round $round", @first);
}

# offline, the store's own check agrees: every number a counter issued
# has its document, every index entry its invoice
$t->stop;
my $out = `$Evbill::Test::TOP/build/evbill-store check ${\ $t->dir}/store 2>&1`;
is($? >> 8, 0, 'evbill-store check: exit 0') or diag($out);
like($out, qr/consistency: 0 problem/, '... no problem') or diag($out);

$t->finish;
done_testing;
