#!/usr/bin/perl
# A store whose files an LMDB tool run as root left owned by root: the
# master hands them back to the worker user at start, so the workers can
# open the store instead of exiting.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;

plan skip_all => 'needs root: nginx changes owners only as root' if $> != 0;

my $t = Evbill::Test->new;
$t->write_conf($t->std_conf(workers => 1));
$t->run(workers => 1);

my $c = $t->charger(id => 'OWN-1');
is($c->start($t->start_body(session_id => 'o1'))->{status}, 201, 'start');
is($c->reading('o1', $t->reading_body(1))->{status}, 200, 'reading');

$t->stop;

my $store = $t->dir . '/store';
my $worker_uid = (stat "$store/data.mdb")[4];
isnt($worker_uid, 0, 'workers created the store as a non-root user');

# what "mdb_stat" as root on a stopped store does to the lock file
chown 0, 0, "$store/data.mdb", "$store/lock.mdb" or die "chown: $!";
is((stat "$store/lock.mdb")[4], 0, 'lock.mdb now owned by root');

my ($rc, $out) = $t->test_config;
is($rc, 0, 'nginx -t still passes');
like($out, qr/lock\.mdb" is owned by uid 0/, 'nginx -t warns about the owner');

$t->run(workers => 1);

is((stat "$store/lock.mdb")[4], $worker_uid, 'lock.mdb handed back');
is((stat "$store/data.mdb")[4], $worker_uid, 'data.mdb handed back');

my $r = $t->get_session('OWN-1', 'o1');
is($r->{status}, 200, 'the store opens: session readable');
is($r->{json}{last_seq}, 1, 'reading still there');
is($c->reading('o1', $t->reading_body(2))->{status}, 200, 'and writable');

done_testing();
