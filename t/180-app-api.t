#!/usr/bin/perl
# The driver API's locations (issue 10): evbill_app_api with
# evbill_customer $variable for signed-in drivers, evbill_app_api public
# for what needs no sign-in; nginx -t checks them; no identity is 401
# unauthenticated.  (Here a request header stands in for the operator's
# auth layer; in production the variable comes from auth_request, a JWT
# module or a client certificate, never from what the client sends.)

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;

my $t = Evbill::Test->new;
$t->allow_alerts(qr/evbill_app_api|evbill_customer|invalid variable name|invalid parameter/);

my $APP = 'location /app/ { evbill_app_api; '
    . 'evbill_customer $http_x_test_customer; } '
    . 'location /public/ { evbill_app_api public; }';

sub fails {
    my ($server, $re, $name) = @_;
    $t->write_conf($t->std_conf(server => $server));
    my ($rc, $out) = $t->test_config;
    ok($rc != 0 && $out =~ /\[emerg\]/ && $out =~ $re, "nginx -t: $name")
        or diag($out);
}

fails('location /app/ { evbill_app_api; }',
    qr/"evbill_app_api" in location "\/app\/" needs "evbill_customer \$variable"/,
    'evbill_app_api without evbill_customer');
fails('location /p/ { evbill_app_api private; }',
    qr/invalid parameter "private", only "public" is allowed/,
    'evbill_app_api with another parameter');
fails('location /app/ { evbill_app_api; evbill_customer customer; }',
    qr/invalid variable name "customer"/, 'evbill_customer without $');
fails('location /app/ { evbill_app_api; evbill_app_api public; '
    . 'evbill_customer $remote_user; }',
    qr/"evbill_app_api" directive is duplicate/, 'evbill_app_api twice');
fails('location = /app { evbill_app_api public; }',
    qr/must be in a prefix location/, 'an exact location');

$t->write_conf($t->std_conf(server => $APP));
my ($rc, $out) = $t->test_config;
is($rc, 0, 'nginx -t: both locations in one server') or diag($out);

# evbill_customer inherited from the server
$t->write_conf($t->std_conf(server => 'evbill_customer $remote_user; '
    . 'location /app/ { evbill_app_api; }'));
($rc, $out) = $t->test_config;
is($rc, 0, 'nginx -t: evbill_customer at server level') or diag($out);

$t->write_conf($t->std_conf(server => $APP));
$t->run;

is_problem($t->http('GET', '/app/sessions'), 401, 'unauthenticated',
    'no identity: 401 unauthenticated');
is_problem($t->http('GET', '/app/sessions',
    headers => { 'x-test-customer' => '' }), 401, 'unauthenticated',
    'an empty identity: 401');
is_problem($t->http('GET', '/app/sessions',
    headers => { 'x-test-customer' => 'a/b' }), 401, 'unauthenticated',
    'an identity that cannot be a customer id: 401');
is_problem($t->http('GET', '/app/nothing-here',
    headers => { 'x-test-customer' => 'C-1' }), 404, 'not-found',
    'signed in, an unknown endpoint: 404');
is_problem($t->http('GET', '/public/nothing-here'), 404, 'not-found',
    'public, an unknown endpoint: 404');

$t->finish;
done_testing;
