#!/usr/bin/perl
# A store of another schema version is refused by nginx -t with a clear
# sentence (a read-only check: nothing written).  Workers refuse it too
# (evb_store_open, covered by t/unit/test_store.c).

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;

plan skip_all => 'mdb_load (lmdb-utils) not installed'
    unless -x '/usr/bin/mdb_load';

my $t = Evbill::Test->new;
$t->write_conf($t->std_conf(workers => 1));

my ($rc, $out) = $t->test_config;
is($rc, 0, 'nginx -t passes before any store exists') or diag($out);

$t->run(workers => 1);
my $c = $t->charger(id => 'SCH-1');
is($c->start($t->start_body(session_id => 's1'))->{status}, 201, 'start');
$t->stop;

($rc, $out) = $t->test_config;
is($rc, 0, 'nginx -t passes with a store of this version') or diag($out);

my $store = $t->dir . '/store';
my $uid = (stat "$store/data.mdb")[4];

# a charger record that does not decode: reading it answers 503
# store-unavailable, which says when to retry
open(my $bad, '|-', 'mdb_load', '-s', 'chargers', $store)
    or die "mdb_load: $!";
print $bad "VERSION=3\nformat=print\ntype=btree\nHEADER=END\n"
    . " BROKEN\n \\01\\00\\00\nDATA=END\n";
close $bad or die "mdb_load failed: $?";
chown $uid, -1, "$store/data.mdb", "$store/lock.mdb";
$t->run(workers => 1);
my $r = $t->get_charger('BROKEN');
is_problem($r, 503, 'store-unavailable', 'a corrupt record: 503');
is($r->{headers}{'retry-after'}, '1', '503 store-unavailable: Retry-After: 1');
$t->stop;

# forge a newer schema version the way a later build would have written it
open(my $load, '|-', 'mdb_load', '-s', 'meta', $store) or die "mdb_load: $!";
print $load "VERSION=3\nformat=print\ntype=btree\nHEADER=END\n"
    . " schema_version\n \\00\\00\\00\\63\nDATA=END\n";
close $load or die "mdb_load failed: $?";
chown $uid, -1, "$store/data.mdb", "$store/lock.mdb";

my $size = -s "$store/data.mdb";
($rc, $out) = $t->test_config;
isnt($rc, 0, 'nginx -t fails on a store of a newer schema version');
like($out, qr/store at \S+ has schema version 99, newer than this evbill build's \d+: it was written by a newer release/,
    '... saying which versions');
my $line = $t->conf_line(qr/evbill_store /);
like($out, qr/\[emerg\].*schema version 99.* in \Q${\ $t->dir}\E\/nginx\.conf:$line\b/,
    '... in nginx\'s "in FILE:LINE" form, at the evbill_store line');
is(-s "$store/data.mdb", $size, '... and writes nothing');

# evbill-store refuses it as well
my $tool = "$Evbill::Test::TOP/build/evbill-store";
my $o = `$tool upgrade $store 2>&1`;
is($? >> 8, 3, 'evbill-store upgrade refuses a newer schema: exit 3')
    or diag($o);
like($o, qr/schema version 99, newer than this build's \d+: refused/,
    '... saying so');
is(-s "$store/data.mdb", $size, '... and writes nothing');
$o = `$tool check $store 2>&1`;
is($? >> 8, 3, 'evbill-store check on a newer schema: exit 3') or diag($o);

done_testing();
