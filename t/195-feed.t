#!/usr/bin/perl
# The feed for downstream systems (issue 10): GET feed?after=&limit=
# announces every CDR, invoice, credit note and credit CDR in commit
# order under cursors 1, 2, 3 ...; read to the end twice gives the same
# items and next; new items come after the stored cursor, nothing missed
# and nothing repeated; limit pages; two workers stopping sessions while
# a reader follows: no gap, each op's entries together; kill -9 keeps
# the feed whole; bad cursors and limits are 400 invalid-query.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;
use Evbill::ExactJSON qw(jdecode num);
use POSIX ();

my $t = Evbill::Test->new;
$t->write_file('seller.json',
    $t->read_file("$FindBin::Bin/fixtures/invoice/seller.json"));
$t->write_conf($t->std_conf(workers => 2,
    http => 'evbill_seller_file %%TESTDIR%%/seller.json;'));
$t->run(workers => 2);

# GET feed: the answer, its body parsed (exact numbers)
sub feed {
    my ($q) = @_;
    my $r = $t->admin('GET', 'feed' . (defined $q ? "?$q" : ''));
    $r->{x} = ($r->{status} == 200) ? eval { jdecode($r->{body}) } : undef;
    return $r;
}

# every item after $after, following next with pages of $limit; the
# pages' bodies too
sub read_all {
    my ($after, $limit) = @_;
    my (@items, @bodies);
    for (1 .. 10000) {
        my $r = feed("after=$after&limit=$limit");
        is($r->{status}, 200, "GET feed?after=$after: 200")
            or return (\@items, $after, \@bodies);
        push @bodies, $r->{body};
        my $x = $r->{x};
        last unless @{ $x->{items} };
        push @items, @{ $x->{items} };
        is($x->{next}, $x->{items}[-1]{cursor},
            "... next is the last item's cursor ($x->{next})")
            unless $x->{next} eq $x->{items}[-1]{cursor};
        $after = $x->{next};
    }
    return (\@items, $after, \@bodies);
}

sub make_session {
    my ($c, $sid) = @_;
    my $r = $c->start($t->start_body(session_id => $sid,
        token_type => 'AD_HOC_USER'));
    return "start $r->{status}" unless $r->{status} == 201;
    $r = $c->stop($sid, { timestamp => '2026-11-25T10:30:00Z',
        meter_stop_wh => 5500 });
    return "stop $r->{status}" unless $r->{status} == 200;
    return 'ok';
}

is($t->admin('PUT', 'tariffs/THREE', '{"country_code":"DE","party_id":"EXA",'
    . '"id":"THREE","currency":"EUR","last_updated":"2026-01-01T00:00:00Z",'
    . '"elements":[{"price_components":[{"type":"ENERGY","price":0.335,'
    . '"vat":19,"step_size":1},{"type":"FLAT","price":0.505,"vat":7,'
    . '"step_size":0},{"type":"TIME","price":1.20,"vat":19,'
    . '"step_size":60}]}]}')->{status}, 201, 'PUT tariff THREE');

# --- an empty feed -----------------------------------------------------

{
    my $r = feed();
    is($r->{status}, 200, 'an empty feed: 200');
    is($r->{body}, '{"items":[],"next":"0"}', '... no items, next "0"');
    is(feed('after=0')->{body}, $r->{body}, '... after=0 the same');
}

# --- sessions stop: a CDR and an invoice each ----------------------------

my $c = $t->charger(id => 'FEED-1', body => { tariff_id => 'THREE' });
is(make_session($c, "s$_"), 'ok', "session s$_ started and stopped")
    for 1 .. 3;

my ($items, $next, $bodies) = read_all(0, 100);
is(scalar @$items, 6, 'three sessions: six items');
is_deeply([ map { $_->{kind} } @$items ],
    [ ('cdr', 'invoice') x 3 ], '... a CDR, then its invoice, each time');
is_deeply([ map { $_->{cursor} } @$items ], [ 1 .. 6 ],
    '... cursors 1 to 6');
is($next, '6', '... next is 6');
like($_->{at}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
    "item $_->{cursor}: at is an RFC 3339 time") for @$items;

for my $i (1 .. 3) {
    my ($cdr, $inv) = @$items[2 * $i - 2, 2 * $i - 1];
    my $g = $t->admin('GET', "cdrs/FEED-1/s$i");
    is_deeply($cdr->{data}, jdecode($g->{body}),
        "s$i: the CDR's data is the CDR as GET cdrs gives it");
    is($cdr->{id}, $cdr->{data}{id}, "s$i: the CDR's id is its OCPI id");
    my $gi = jdecode($t->admin('GET', "invoices/$inv->{id}")->{body});
    ok(exists $gi->{status}, "s$i: GET invoices/{number} has a status");
    delete $gi->{status};
    is_deeply($inv->{data}, $gi, "s$i: the invoice's data is GET "
        . 'invoices/{number} without the payment status');
    is($inv->{data}{number}, $inv->{id}, "s$i: the invoice's id is its "
        . 'number');
    is($inv->{data}{session}{cdr_id}, $cdr->{id}, "s$i: the invoice names "
        . 'the CDR before it');
}

# --- read to the end twice: the same ---------------------------------------

{
    my ($again, $next2, $bodies2) = read_all(0, 100);
    is_deeply($bodies2, $bodies, 'read to the end again: the same bodies, '
        . 'byte for byte');
    is($next2, $next, '... and the same next');
    my $r = feed("after=$next");
    is($r->{body}, qq({"items":[],"next":"$next"}),
        'at the end: no items, next the given cursor');
}

# --- limit paging ----------------------------------------------------------

for my $limit (1, 2, 4) {
    my ($paged, $n2) = read_all(0, $limit);
    is_deeply($paged, $items, "pages of $limit: the same items");
    is($n2, $next, "... ending at the same next");
}
{
    my $r = feed('limit=2');
    is_deeply([ map { $_->{cursor} } @{ $r->{x}{items} } ], [ 1, 2 ],
        'limit=2 without after: the first two');
    is($r->{x}{next}, '2', '... next 2');
    $r = feed('after=2&limit=3');
    is_deeply([ map { $_->{cursor} } @{ $r->{x}{items} } ], [ 3, 4, 5 ],
        'after=2&limit=3: 3, 4, 5');
}

# --- credit notes: new items after the stored cursor ---------------------

my $stored = $next;
my ($inv1, $inv2) = map { $_->{id} } grep { $_->{kind} eq 'invoice' }
    @$items[0 .. 3];
my ($flat) = map { 0 + num($_->{id}) } grep { $_->{dimension} eq 'FLAT' }
    @{ jdecode($t->admin('GET', "invoices/$inv1")->{body})->{lines} };

my $r = $t->admin('PUT', "invoices/$inv1/credits/p1",
    { reason => 'Start fee waived', lines => [ $flat ] });
is($r->{status}, 201, 'a partial credit note: 201') or diag($r->{body});
my $cn1 = jdecode($r->{body})->{number};
$r = $t->admin('PUT', "invoices/$inv2/credits/all", { reason => 'Refund' });
is($r->{status}, 201, 'a whole credit note: 201') or diag($r->{body});
my $cn2 = jdecode($r->{body})->{number};
is(make_session($c, 's4'), 'ok', 'one more session');

my ($new, $next3) = read_all($stored, 100);
is_deeply([ map { [ $_->{cursor}, $_->{kind} ] } @$new ],
    [ [ 7, 'credit_note' ], [ 8, 'credit_cdr' ], [ 9, 'cdr' ],
      [ 10, 'credit_note' ], [ 11, 'credit_cdr' ],
      [ 12, 'cdr' ], [ 13, 'invoice' ] ],
    'after the stored cursor: the partial credit note, its credit CDR '
    . 'and corrected CDR, the whole one and its credit CDR, the new '
    . 'session: nothing missed, nothing repeated');
is($next3, '13', '... next 13');
is($new->[0]{id}, $cn1, '... the first credit note by number');
is($new->[3]{id}, $cn2, '... the second');
{
    my $cdrs = jdecode($t->admin('GET', "credit-notes/$cn1/cdrs")->{body});
    my $g = jdecode($t->admin('GET', "credit-notes/$cn1")->{body});
    is_deeply($new->[0]{data}, $g, 'the credit note\'s data is GET '
        . 'credit-notes/{number}');
    is_deeply([ $new->[1]{data}, $new->[2]{data} ],
        [ $cdrs->{credit_cdr}, $cdrs->{corrected_cdr} ],
        '... the credit CDR and the corrected CDR as GET '
        . 'credit-notes/{number}/cdrs gives them')
        or diag(explain([ keys %$cdrs ]));
    is($new->[1]{id}, $new->[1]{data}{id}, '... the credit CDR by its id');
    isnt($new->[2]{id}, $items->[0]{id},
        '... the corrected CDR has an id of its own');
}
my ($all) = read_all(0, 1000);
is_deeply([ map { $_->{cursor} } @$all ], [ 1 .. 13 ],
    'the whole feed: 1 to 13');

# --- bad cursors and limits --------------------------------------------------

for my $q ('after=', 'after=abc', 'after=-1', 'after=+1', 'after=01',
    'after=1.0', 'after=%201', 'after=0x1', 'after=14', 'after=99999',
    'after=18446744073709551616', 'after=123456789012345678901',
    'limit=0', 'limit=1001', 'limit=', 'limit=x', 'limit=-1', 'limit=1e2',
    'after=3&limit=0')
{
    $t->store_unchanged(sub {
        is_problem(feed($q), 400, 'invalid-query', "GET feed?$q: 400 "
            . 'invalid-query');
    }, "GET feed?$q: store unchanged");
}
is(feed('after=13')->{status}, 200, 'after=13 (the end): 200');
is(feed('limit=1000')->{status}, 200, 'limit=1000: 200');
is_problem($t->admin('POST', 'feed', {}), 405, 'method-not-allowed',
    'POST feed: 405');

# --- two workers stop sessions while a reader follows ----------------------

my $NW = 4;
my $NS = 12;
my @ch = map { $t->charger(id => "FW-$_", body => { tariff_id => 'THREE' }) }
    1 .. $NW;

# the reader: follows the feed from 13 until it has every new item,
# writing each item's cursor, kind, id and invoice's cdr_id
pipe(my $rd, my $wr) or die "pipe: $!";
my $reader = fork // die "fork: $!";
if ($reader == 0) {
    close $rd;
    my $after = 13;
    my $want = 13 + 2 * $NW * $NS;
    my $deadline = time + 120;
    while ($after < $want && time < $deadline) {
        my $r = feed("after=$after&limit=7");
        if ($r->{status} != 200) {
            print $wr "error $r->{status}\n";
            last;
        }
        for my $it (@{ $r->{x}{items} }) {
            print $wr join(' ', $it->{cursor}, $it->{kind}, $it->{id},
                $it->{kind} eq 'invoice'
                ? ($it->{data}{session}{cdr_id} // '?') : '-'), "\n";
        }
        $after = $r->{x}{next};
        select(undef, undef, undef, 0.01) unless @{ $r->{x}{items} };
    }
    close $wr;
    POSIX::_exit(0);
}
close $wr;

my @kids;
for my $w (1 .. $NW) {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        my $bad = 0;
        for my $s (1 .. $NS) {
            $bad++ if make_session($ch[$w - 1], "w$w-$s") ne 'ok';
        }
        POSIX::_exit($bad ? 1 : 0);
    }
    push @kids, $pid;
}
my $failed = 0;
for (@kids) {
    waitpid $_, 0;
    $failed++ if $?;
}
is($failed, 0, "$NW writers stopped $NS sessions each, all answered");

my @seen = do { local $/ = "\n"; <$rd> };
close $rd;
waitpid $reader, 0;
chomp @seen;
my @cur = map { (split / /)[0] } @seen;
is(scalar @seen, 2 * $NW * $NS, 'the reader saw every new item')
    or diag(join "\n", @seen[0 .. ($#seen > 5 ? 5 : $#seen)]);
is_deeply(\@cur, [ 14 .. 13 + 2 * $NW * $NS ],
    '... in commit order, cursors strictly increasing by 1 (no gap, '
    . 'nothing twice)');
{
    my $pairs = 0;
    for (my $i = 0; $i + 1 < @seen; $i += 2) {
        my ($k1, $id1) = (split / /, $seen[$i])[1, 2];
        my ($k2, $cdr) = (split / /, $seen[$i + 1])[1, 3];
        $pairs++ if $k1 eq 'cdr' && $k2 eq 'invoice'
            && $cdr eq $id1;
    }
    is($pairs, $NW * $NS, '... each CDR followed by its invoice (one op, '
        . 'one transaction)');
}
{
    my ($whole) = read_all(0, 1000);
    is_deeply([ map { "$_->{cursor} $_->{kind} $_->{id}" }
            @$whole[13 .. $#$whole] ],
        [ map { join ' ', (split / /)[0 .. 2] } @seen ],
        'read afterwards: the same items as the reader saw as they came');
}

# --- kill -9 keeps the feed whole ------------------------------------------

{
    my ($before, $nb, $bb) = read_all(0, 1000);
    $t->kill9;
    $t->run(workers => 2);
    my ($after, $na, $ba) = read_all(0, 1000);
    is_deeply($ba, $bb, 'after kill -9: the same feed, byte for byte');
    is($na, $nb, '... the same next');
    is(make_session($c, 's5'), 'ok', 'a session after the restart');
    my ($more) = read_all($na, 1000);
    is_deeply([ map { $_->{cursor} } @$more ], [ $na + 1, $na + 2 ],
        '... its CDR and invoice follow without a gap');
}

# --- the consumer of docs/invoicing.md, as written -------------------------

SKIP: {
    my @missing = grep { system("command -v $_ >/dev/null 2>&1") != 0 }
        qw(jq sqlite3 curl);
    skip "no @missing", 6 if @missing;

    my $doc = $t->read_file("$FindBin::Bin/../docs/invoicing.md");
    my ($sh) = $doc =~ /A consumer in shell.*?```sh\n(.*?)```/s;
    ok($sh, 'docs/invoicing.md has the consumer in shell');
    # one pass: stop when nothing is new instead of waiting for more
    $sh =~ s/take_page \|\| sleep 5/take_page || exit 0/;
    $t->write_file('consumer.sh', $sh);
    my $db = $t->dir . '/erp.db';
    my $run = "API=" . $t->base_url . "/admin DB=$db sh "
        . $t->dir . '/consumer.sh 2>&1';
    my $rows = sub {
        my $q = 'SELECT kind, id FROM documents ORDER BY rowid';
        [ map { [ split /\|/ ] } split /\n/, scalar `sqlite3 $db "$q"` ]
    };

    my $out = `$run`;
    is($?, 0, 'the consumer takes the feed') or diag($out);
    my ($whole) = read_all(0, 1000);
    is_deeply($rows->(), [ map { [ $_->{kind}, $_->{id} ] } @$whole ],
        '... every item once, in order');

    is(make_session($c, 's6'), 'ok', 'one more session');
    $out = `$run`;
    is($?, 0, 'the consumer again') or diag($out);
    ($whole) = read_all(0, 1000);
    is_deeply($rows->(), [ map { [ $_->{kind}, $_->{id} ] } @$whole ],
        '... took the two new items and nothing twice');
}

# --- evbill-store check: the feed is whole -------------------------------

{
    my $tool = "$Evbill::Test::TOP/build/evbill-store";
    SKIP: {
        skip "no $tool", 2 unless -x $tool;
        my $out = `$tool check ${\ $t->dir}/store 2>&1`;
        is($? >> 8, 0, 'evbill-store check: exit 0') or diag($out);
        unlike($out, qr/feed:/, '... no feed problem');
    }
}

$t->check_alerts;
done_testing;
