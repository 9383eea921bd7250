#!/usr/bin/perl
# tools/evbill-client, as the demo and operators use it; build/evbill-rate
# (the dry run offline) and its bounds.

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

# --- evbill-rate: the dry run, with the module's bounds ----------------

my $rate = "$FindBin::Bin/../build/evbill-rate";

sub run_rate {
    my ($req, @args) = @_;
    my $in = $t->write_file('rate-in.json', ref $req ? encode_json($req) : $req);
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', $in or POSIX::_exit(127);
        open STDERR, '>', $t->dir . '/rate-err.txt' or POSIX::_exit(127);
        exec $rate, @args or POSIX::_exit(127);
    }
    local $/;
    my $o = <$fh>;
    close $fh;
    return ($? >> 8, $o // '', $t->read_file('rate-err.txt'));
}

my $tariff = { country_code => 'DE', party_id => 'EXA', id => 'T',
    currency => 'EUR', last_updated => '2026-01-01T00:00:00Z',
    elements => [{ price_components => [{ type => 'ENERGY', price => 0.25,
        step_size => 1 }] }] };
sub rate_req {
    my ($end, @starts) = @_;
    return { time_zone => 'Europe/Berlin', tariffs => [$tariff],
        session => { start_date_time => '2020-01-01T00:00:00Z',
            end_date_time => $end,
            charging_periods => [ map { { start_date_time => $_,
                dimensions => [{ type => 'ENERGY', volume => 2 }] } }
                @starts ] } };
}

SKIP: {
    skip "no $rate; run make tools", 18 unless -x $rate;

    my $ok = rate_req('2020-01-31T00:00:00Z', '2020-01-01T00:00:00Z',
        '2020-01-02T00:00:00Z');
    my ($rrc, $ro, $re) = run_rate($ok);
    is($rrc, 0, 'evbill-rate: 30 days in 2020, exit 0') or diag($re);
    like($ro, qr/"rounded":\{"total_cost":\{"excl_vat":1\.00\}/,
        'evbill-rate: priced');
    my $api = $t->admin('POST', 'rate', $ok);
    is($api->{status}, 200, 'POST rate: the same request');
    is(eval { decode_json($ro) } && JSON::PP->new->canonical->encode(
        decode_json($ro)), JSON::PP->new->canonical->encode($api->{json}),
        'evbill-rate and POST rate give the same answer');

    my $long = rate_req('2020-02-01T00:00:01Z', '2020-01-01T00:00:00Z');
    ($rrc, $ro, $re) = run_rate($long);
    is($rrc, 1, 'evbill-rate: 31 days + 1 s refused by default (31d)');
    my $p = eval { decode_json($ro) } || {};
    is($p->{type}, 'urn:evbill:problem:invalid-value', '... invalid-value');
    is(($p->{errors} || [])->[0]{pointer}, '/session/end_date_time',
        '... pointing at end_date_time');
    like($re, qr/--max-duration/, '... stderr names the flag');
    is_problem($t->admin('POST', 'rate', $long), 400, 'invalid-value',
        'POST rate refuses it too (evbill_session_max_duration 31d)');

    ($rrc, $ro, $re) = run_rate($long, '--max-duration', '32d');
    is($rrc, 0, 'evbill-rate --max-duration 32d: priced') or diag($re);
    ($rrc, $ro, $re) = run_rate($ok, '--max-duration', '720h');
    is($rrc, 0, 'evbill-rate --max-duration 720h: 30 days fit');
    ($rrc, $ro, $re) = run_rate($ok, '--max-duration', '86400');
    is($rrc, 1, 'evbill-rate --max-duration 86400 (seconds): refused');

    ($rrc, $ro, $re) = run_rate($ok, '--max-periods', '1');
    $p = eval { decode_json($ro) } || {};
    ok($rrc == 1 && ($p->{errors} || [])->[0]{pointer} eq
        '/session/charging_periods', 'evbill-rate --max-periods 1: two '
        . 'periods refused, pointing at charging_periods') or diag($ro);
    ($rrc) = run_rate($ok, '--max-periods', '2');
    is($rrc, 0, 'evbill-rate --max-periods 2: priced');

    for my $bad (['--max-duration', '0'], ['--max-duration', '367d'],
                 ['--max-periods', '20001'], ['--max-periods', 'x'])
    {
        ($rrc, $ro, $re) = run_rate($ok, @$bad);
        is($rrc, 2, "evbill-rate @$bad: usage error") or diag($re);
    }
}

$t->finish;
done_testing;
