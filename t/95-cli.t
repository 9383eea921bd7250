#!/usr/bin/perl
# tools/evbill-client, as the demo and operators use it.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;
use MIME::Base64;
use JSON::PP;

my $t = Evbill::Test->new;
$t->write_conf($t->std_conf(workers => 1));
$t->run;

my $c = $t->charger(id => 'CLI-1', key_id => 'cli-key');
my $cli = "$FindBin::Bin/../tools/evbill-client";
my @base = ($^X, $cli, '--url', $t->base_url . '/charger/', '--key-id', 'cli-key',
    '--secret-b64', encode_base64($c->secret, ''));

sub run_cli {
    my (@args) = @_;
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if ($pid == 0) {
        open STDERR, '>&', \*STDOUT;
        exec @args or POSIX::_exit(127);
    }
    local $/;
    my $out = <$fh>;
    close $fh;
    return ($? >> 8, $out // '');
}

my ($rc, $out) = run_cli(@base, 'start', encode_json($t->start_body(session_id => 'cli-s')));
is($rc, 0, 'start: exit 0') or diag($out);
like($out, qr/^HTTP 201/, 'start: 201 printed');
like($out, qr/"session_id"\s*:\s*"cli-s"/, 'start: session printed');

($rc, $out) = run_cli(@base, 'reading', 'cli-s',
    encode_json({ readings => [ $t->reading_body(1), $t->reading_body(2) ] }));
is($rc, 0, 'reading: exit 0') or diag($out);
like($out, qr/"accepted"\s*:\s*2/, 'reading: accepted 2');

my $f = $t->write_file('stop.json', encode_json({ timestamp => '2026-11-25T11:00:00Z',
    meter_stop_wh => 3000 }));
($rc, $out) = run_cli(@base, '--quiet', 'stop', 'cli-s', "\@$f");
is($rc, 0, 'stop from a file: exit 0') or diag($out);
my $j = eval { decode_json($out) } || {};
is($j->{state}, 'stopped', 'stop: --quiet prints just the session');

($rc, $out) = run_cli(@base, 'reading', 'cli-s', encode_json($t->reading_body(3)));
is($rc, 1, 'refused request: exit 1');
like($out, qr/^HTTP 409.*session-stopped/s, 'refused: the problem printed');

($rc, $out) = run_cli($^X, $cli, '--url', $t->base_url . '/charger/', '--key-id',
    'cli-key', '--secret-b64', encode_base64('w' x 32, ''), 'start', '{}');
is($rc, 1, 'wrong secret: exit 1');
like($out, qr/HTTP 401.*signature-invalid/s, 'wrong secret: 401');

($rc, $out) = run_cli($^X, $cli, 'start');
is($rc, 2, 'usage error: exit 2');
like($out, qr/usage:/, 'usage printed');

$t->finish;
done_testing;
