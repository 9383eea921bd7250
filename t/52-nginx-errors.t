#!/usr/bin/perl
# nginx's own error pages inside evbill locations become problem+json:
# 403 from deny, 503 and 429 from limit_req, 404 from a path that is no
# endpoint.  Other locations keep nginx's pages.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;

my $t = Evbill::Test->new;
$t->write_conf($t->std_conf(workers => 1,
    http => 'limit_req_zone $binary_remote_addr zone=one:1m rate=1r/m;',
    server => 'location /closed/ { deny all; evbill_admin_api; }
        location /slow/ { limit_req zone=one; evbill_admin_api; }
        location /slow429/ { limit_req zone=one; limit_req_status 429;
                             evbill_admin_api; }'));
$t->run(workers => 1);

sub problem {
    my ($r, $status, $name, $test) = @_;
    is($r->{status}, $status, "$test: $status");
    like($r->{headers}{'content-type'} // '', qr{^application/problem\+json},
        "$test: problem+json");
    is($r->{json} && $r->{json}{type}, "urn:evbill:problem:$name",
        "$test: $name");
}

problem($t->http('GET', '/closed/store'), 403, 'forbidden', 'deny');

# the first request takes the zone's only slot, the next ones are refused
$t->http('GET', '/slow/store');
problem($t->http('GET', '/slow/store'), 503, 'service-unavailable',
    'limit_req');
problem($t->http('GET', '/slow429/store'), 429, 'too-many-requests',
    'limit_req_status 429');

my $r = $t->http('GET', '/elsewhere');
is($r->{status}, 404, 'outside evbill: 404');
unlike($r->{headers}{'content-type'} // '', qr/problem/,
    'outside evbill: nginx\'s own page');

done_testing();
