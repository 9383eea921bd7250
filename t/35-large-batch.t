#!/usr/bin/perl
# Bodies larger than client_body_buffer_size go to a temporary file; the
# module reads them from there.  A batch of the largest allowed size is
# applied whole, plain and chunked; one reading more is refused whole.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;

my $t = Evbill::Test->new;
$t->write_conf($t->std_conf(workers => 1,
    charger => 'client_body_buffer_size 1k; client_max_body_size 1m;'));
$t->run(workers => 1);

my $c = $t->charger(id => 'BIG-1');

sub batch {
    my ($from, $n) = @_;
    return { readings => [ map { $t->reading_body($_) } $from .. $from + $n - 1 ] };
}

is($c->start($t->start_body(session_id => 'b1'))->{status}, 201, 'start');

my $r = $c->reading('b1', batch(1, 1000));
is($r->{status}, 200, '1000 readings in one body (via a temp file): 200')
    or diag($r->{body});
is($r->{json}{accepted}, 1000, 'all 1000 accepted');
is($r->{json}{last_seq}, 1000, 'last_seq 1000');

$r = $c->reading('b1', batch(1001, 1000), chunked => 1);
is($r->{status}, 200, 'the next 1000, chunked: 200') or diag($r->{body});
is($r->{json}{accepted}, 1000, 'all 1000 accepted');

my $txn = $t->txn_id;
$r = $c->reading('b1', batch(2001, 1001));
is($r->{status}, 400, '1001 readings: 400');
is($r->{json}{type}, 'urn:evbill:problem:invalid-value', 'invalid-value');
is($t->txn_id, $txn, 'store unchanged');

my $s = $t->get_session('BIG-1', 'b1');
is($s->{json}{last_seq}, 2000, 'session has 2000 readings');
is(scalar @{ $s->{json}{readings} }, 2000, 'all readings listed');

done_testing();
