#!/usr/bin/perl
# The driver index's schema step (issue 10): a store of schema 5 (the
# same data less customer_sessions) is upgraded by evbill-store upgrade,
# which fills customer_sessions from the sessions' start records, so a
# driver's list after the upgrade shows the sessions started before it.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;

plan skip_all => 'mdb_dump/mdb_load (lmdb-utils) not installed'
    unless -x '/usr/bin/mdb_load' && -x '/usr/bin/mdb_dump';

my $APP = 'location /app/ { evbill_app_api; '
    . 'evbill_customer $http_x_test_customer; }';

my $t = Evbill::Test->new;
$t->write_conf($t->std_conf(workers => 1, server => $APP));
$t->run(workers => 1);

for my $c (qw(C-A C-B)) {
    is($t->admin('PUT', "customers/$c", { name => "Customer $c",
        email => 'x@example.com', address => { street => 'Weg 1',
        city => 'Bonn', postal_code => '53111', country => 'DE' },
        invoicing => 'per_session' })->{status}, 201, "customer $c");
    is($t->admin('PUT', "tokens/TOK-$c", { customer_id => $c,
        type => 'RFID' })->{status}, 201, "token of $c");
}

my $c = $t->charger(id => 'UP-1');
my @s = ([ 'A1', 'C-A', '10:00' ], [ 'B1', 'C-B', '10:05' ],
         [ 'A2', 'C-A', '10:10' ], [ 'N1', undef, '10:15' ]);
for my $s (@s) {
    is($c->start($t->start_body(session_id => $s->[0],
        timestamp => "2026-11-20T$s->[2]:00Z",
        id_token => $s->[1] ? "TOK-$s->[1]" : 'NOBODY'))->{status}, 201,
        "start $s->[0]");
}

sub own {
    my ($who) = @_;
    my $r = $t->http('GET', '/app/sessions',
        headers => { 'x-test-customer' => $who });
    return join ',', map { $_->{session_id} } @{ $r->{json}{items} || [] };
}

is(own('C-A'), 'A2,A1', "A's sessions before");
$t->stop;

# the same store at schema 5: every database but customer_sessions
my $store = $t->dir . '/store';
my $old = $t->dir . '/store5';
mkdir $old or die "$old: $!";
my @dbs = grep { length && $_ ne 'customer_sessions' }
    split /\n/, `mdb_dump -l $store`;
ok(scalar(grep { $_ eq 'sessions' } @dbs), 'mdb_dump lists the databases');
for my $db (@dbs) {
    system("mdb_dump -s $db $store | mdb_load -s $db $old 2>/dev/null") == 0
        or die "copy $db failed";
}
open(my $load, '|-', 'mdb_load', '-s', 'meta', $old) or die "mdb_load: $!";
print $load "VERSION=3\nformat=print\ntype=btree\nHEADER=END\n"
    . " schema_version\n \\00\\00\\00\\05\nDATA=END\n";
close $load or die "mdb_load failed: $?";

my $tool = "$Evbill::Test::TOP/build/evbill-store";
my $out = `$tool upgrade $old 2>&1`;
is($? >> 8, 0, 'upgrade of the schema 5 copy: exit 0') or diag($out);
like($out, qr/^step 5 -> 6: sessions by customer \(driver API\): 3 item\(s\), committed$/m,
    '... indexing the three sessions that have a customer') or diag($out);
$out = `$tool check $old 2>&1`;
is($? >> 8, 0, 'check after the upgrade: exit 0') or diag($out);

# serve the upgraded copy
my $uid = (stat "$store/data.mdb")[4];
system('rm', '-rf', $store) == 0 or die;
rename $old, $store or die "rename: $!";
chown $uid, -1, "$store/data.mdb", "$store/lock.mdb";
$t->run(workers => 1);
is(own('C-A'), 'A2,A1', "A's sessions after the upgrade");
is(own('C-B'), 'B1', "B's");
is(own('NOBODY'), '', 'a token without a customer: in no list');
$t->finish;

# evbill-store check: customer_sessions against the start records
my @dump = split /\n/, `mdb_dump -s customer_sessions $store`;
my ($hdr) = grep { $dump[$_] eq 'HEADER=END' } 0 .. $#dump;
my @keys = map { $dump[$_] } grep { ($_ - $hdr) % 2 == 1 }
    $hdr + 1 .. $#dump - 1;
is(scalar @keys, 3, 'customer_sessions: three entries');
my $hexa = unpack 'H*', "C-A\0";
my ($a1) = grep { /^ \Q$hexa\E/ } @keys;
(my $wrong = $a1) =~ s/^ \Q$hexa\E/' ' . unpack('H*', "C-B\0")/e;

my $bad = $t->dir . '/store-bad';
mkdir $bad or die;
for my $db (@dbs) {
    system("mdb_dump -s $db $store | mdb_load -s $db $bad 2>/dev/null") == 0
        or die "copy $db failed";
}
# A1 listed under C-B instead of C-A
open($load, '|-', 'mdb_load', '-s', 'customer_sessions', $bad)
    or die "mdb_load: $!";
print $load "VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n"
    . join('', map { "$_\n \n" } grep { $_ ne $a1 } @keys)
    . "$wrong\n \nDATA=END\n";
close $load or die "mdb_load failed: $?";
$out = `$tool check $bad 2>&1`;
is($? >> 8, 1, 'check: a session listed under another customer: exit 1')
    or diag($out);
like($out, qr/customer_sessions: session \d+ is listed under customer "C-B", which its start record does not name/,
    '... naming it') or diag($out);
like($out, qr/customer_sessions: session \d+ of customer "C-A" is not listed/,
    '... and the entry it lacks') or diag($out);

done_testing;
