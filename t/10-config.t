#!/usr/bin/perl
# Directive errors: nginx -t must fail with a core-module style message
# that names the file and line, and a valid configuration must pass.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;

my $t = Evbill::Test->new;
my $conf_path = $t->dir . '/nginx.conf';

# Check that a configuration passes nginx -t.
sub passes {
    my ($text, $name) = @_;
    $t->write_conf($text);
    my ($rc, $out) = $t->test_config;
    is($rc, 0, "passes: $name") or diag($out);
}

# Check that a configuration fails with a message matching $re, and (when
# $line_re is given) that the message points at the line matching it.
sub fails {
    my ($text, $re, $line_re, $name) = @_;
    $t->write_conf($text);
    my ($rc, $out) = $t->test_config;
    my $ok = $rc != 0 && $out =~ /\[emerg\]/ && $out =~ $re;
    if ($ok && $line_re) {
        my $line = $t->conf_line($line_re);
        $ok = defined $line && $out =~ /\Q$conf_path\E:$line\b/;
        diag("expected line $line of the config") unless $ok;
    }
    ok($ok, "fails: $name") or diag("rc=$rc: $out");
}

passes($t->std_conf, 'standard configuration');
passes($t->std_conf(http => 'evbill_signature_window 60s; '
        . 'evbill_signature_origin https://edge.example.net; '
        . 'evbill_session_idle_timeout 48h; evbill_write_queue 4096;',
        server => 'evbill_signature_window 10s; '
        . 'evbill_signature_origin http://edge.example.net:8080;',
        charger => 'evbill_signature_window 5m; '
        . 'evbill_signature_origin https://EDGE.example.net:8443;'),
    'all directives, in every allowed context');
passes($t->std_conf(http => 'evbill_node_id FRA1;'), 'evbill_node_id');
passes($t->std_conf(main => 'thread_pool evb threads=4;',
        http => 'evbill_thread_pool evb;'), 'named thread pool');
passes($t->std_conf(store_opts => 'size=1g'), 'size=1g');
passes($t->std_conf(store_opts => 'size=512k'), 'size=512k');
passes($t->std_conf(store_opts => ''), 'default size');
passes(<<'EOF', 'module loaded, no API used, no store needed');
events {}
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { return 200; }
    }
}
EOF

# Exact and regex locations.
fails($t->std_conf(server => 'location = /x { evbill_charger_api; }'),
    qr/evbill_charger_api/, qr{location = /x}, 'charger API in exact location');
fails($t->std_conf(server => 'location ~ ^/y/ { evbill_charger_api; }'),
    qr/evbill_charger_api/, qr{location ~ \^/y/}, 'charger API in regex location');
fails($t->std_conf(server => 'location ~* ^/z/ { evbill_admin_api; }'),
    qr/evbill_admin_api/, qr{location ~\* \^/z/}, 'admin API in regex location');
fails($t->std_conf(server => 'location = /w { evbill_admin_api; }'),
    qr/evbill_admin_api/, qr{location = /w}, 'admin API in exact location');
fails($t->std_conf(server => 'evbill_charger_api; # here'),
    qr/"evbill_charger_api" directive is not allowed here/,
    qr/# here/, 'charger API in server context');

# Store and master key required when an API is used.
(my $nostore = $t->std_conf) =~ s/^\s*evbill_store .*$//m;
fails($nostore, qr/evbill_store/, undef, 'evbill_store missing');
(my $nokey = $t->std_conf) =~ s/^\s*evbill_master_key_file .*$//m;
fails($nokey, qr/evbill_master_key_file/, undef,
    'evbill_master_key_file missing');

# The master key file.
my $std = $t->std_conf;
sub with_key {
    my ($path) = @_;
    (my $c = $std) =~ s/%%MASTER_KEY%%/$path/;
    return $c;
}
my $dir = $t->dir;
fails(with_key("$dir/nosuch.key"), qr/nosuch\.key/,
    qr/evbill_master_key_file/, 'master key file missing');

$t->write_file('k644.key', 'k' x 32, 0644);
fails(with_key("$dir/k644.key"), qr/k644\.key/, qr/evbill_master_key_file/,
    'master key mode 0644 refused');
$t->write_file('k640.key', 'k' x 32, 0640);
fails(with_key("$dir/k640.key"), qr/k640\.key/, qr/evbill_master_key_file/,
    'master key mode 0640 refused');
$t->write_file('k604.key', 'k' x 32, 0604);
fails(with_key("$dir/k604.key"), qr/k604\.key/, qr/evbill_master_key_file/,
    'master key mode 0604 refused');
$t->write_file('k16.key', 'k' x 16, 0600);
fails(with_key("$dir/k16.key"), qr/k16\.key/, qr/evbill_master_key_file/,
    'master key of 16 bytes refused');
$t->write_file('k33.key', 'k' x 33, 0600);
fails(with_key("$dir/k33.key"), qr/k33\.key/, qr/evbill_master_key_file/,
    'master key of 33 bytes refused');
$t->write_file('k0.key', '', 0600);
fails(with_key("$dir/k0.key"), qr/k0\.key/, qr/evbill_master_key_file/,
    'empty master key refused');
$t->write_file('khexbad.key', ('zz' x 32), 0600);
fails(with_key("$dir/khexbad.key"), qr/khexbad\.key/,
    qr/evbill_master_key_file/, '64 non-hex characters refused');
fails(with_key($dir), qr/\Q$dir\E/, qr/evbill_master_key_file/,
    'a directory as master key refused');
SKIP: {
    skip 'running as root: mode 0000 files are readable', 1 if $> == 0;
    $t->write_file('k000.key', 'k' x 32, 0000);
    fails(with_key("$dir/k000.key"), qr/k000\.key/,
        qr/evbill_master_key_file/, 'unreadable master key refused');
}

$t->write_file('k400.key', 'k' x 32, 0400);
passes(with_key("$dir/k400.key"), 'master key mode 0400');
$t->write_file('khex.key', unpack('H*', 'k' x 32), 0600);
passes(with_key("$dir/khex.key"), 'master key as 64 hex characters');
# what `openssl rand -hex 32 > key` writes
$t->write_file('khexnl.key', unpack('H*', 'k' x 32) . "\n", 0600);
passes(with_key("$dir/khexnl.key"), 'master key as hex with a newline');

# Store size.
for my $bad ('size=abc', 'size=', 'size=10x', 'size=-1m', 'sise=1m', 'size=0') {
    fails($t->std_conf(store_opts => $bad), qr/evbill_store|size|invalid parameter/,
        qr/evbill_store/, "evbill_store $bad");
}

# Thread pool.
fails($t->std_conf(http => 'evbill_thread_pool nosuch;'),
    qr/nosuch/, undef, 'unknown thread pool');

# Duplicates.
fails($t->std_conf(http => 'evbill_store %%TESTDIR%%/store2; # dup'),
    qr/"evbill_store" directive is duplicate/, qr/# dup/,
    'duplicate evbill_store');
fails($t->std_conf(http => 'evbill_master_key_file %%MASTER_KEY%%; # dup'),
    qr/"evbill_master_key_file" directive is duplicate/, qr/# dup/,
    'duplicate evbill_master_key_file');
fails($t->std_conf(http => 'evbill_signature_window 1s; evbill_signature_window 2s;'),
    qr/"evbill_signature_window" directive is duplicate/,
    qr/evbill_signature_window 2s/, 'duplicate evbill_signature_window');
fails($t->std_conf(http => 'evbill_session_idle_timeout 1h; evbill_session_idle_timeout 2h;'),
    qr/"evbill_session_idle_timeout" directive is duplicate/,
    qr/evbill_session_idle_timeout 2h/, 'duplicate evbill_session_idle_timeout');
fails($t->std_conf(charger => 'evbill_charger_api; # dup'),
    qr/"evbill_charger_api" directive is duplicate/, qr/# dup/,
    'duplicate evbill_charger_api');
fails($t->std_conf(http => 'evbill_node_id FRA1; evbill_node_id FRA2;'),
    qr/"evbill_node_id" directive is duplicate/, qr/evbill_node_id FRA2/,
    'duplicate evbill_node_id');
for my $bad ('fra1', 'FRA-1', 'ABCDEFGHI', '""') {
    fails($t->std_conf(http => "evbill_node_id $bad;"),
        qr/invalid node id .*must be 1 to 8 upper-case letters or digits/,
        qr/evbill_node_id/, "evbill_node_id $bad refused");
}
fails($t->std_conf(http => 'evbill_cpo DE EXA; # dup'),
    qr/"evbill_cpo" directive is duplicate/, qr/# dup/, 'duplicate evbill_cpo');
fails($t->std_conf(http => 'evbill_signature_origin https://a.example; '
        . 'evbill_signature_origin https://b.example;'),
    qr/"evbill_signature_origin" directive is duplicate/,
    qr/b\.example/, 'duplicate evbill_signature_origin');

# Signature origin.
for my $bad ('edge.example.net', 'ftp://edge.example.net', 'https://',
             'http:///path', 'https//edge.example.net') {
    fails($t->std_conf(http => "evbill_signature_origin $bad;"),
        qr/evbill_signature_origin|\Q$bad\E/, qr/evbill_signature_origin/,
        "evbill_signature_origin $bad");
}

# Ports: 1 to 65535, digits only (issue 6).
for my $bad ('https://edge.example.net:99999', 'https://edge.example.net:abc',
             'https://edge.example.net:0', 'https://edge.example.net:',
             'http://[::1]x', 'http://[]:80', 'https://:8443') {
    fails($t->std_conf(http => "evbill_signature_origin $bad;"),
        qr/invalid signature origin/, qr/evbill_signature_origin/,
        "evbill_signature_origin $bad");
}
passes($t->std_conf(http => 'evbill_signature_origin https://edge.example.net:65535;'),
    'evbill_signature_origin with port 65535');
passes($t->std_conf(http => 'evbill_signature_origin http://[::1]:8080;'),
    'evbill_signature_origin with an IPv6 literal and a port');
passes($t->std_conf(http => 'evbill_signature_origin http://[::1];'),
    'evbill_signature_origin with an IPv6 literal');

# An idle timeout of 0 would sweep back to back and close nothing.
fails($t->std_conf(http => 'evbill_session_idle_timeout 0;'),
    qr/"evbill_session_idle_timeout" directive must be positive/,
    qr/evbill_session_idle_timeout 0/, 'evbill_session_idle_timeout 0');
fails($t->std_conf(http => 'evbill_session_idle_timeout 0s;'),
    qr/must be positive/, qr/evbill_session_idle_timeout 0s/,
    'evbill_session_idle_timeout 0s');

# nginx -t writes nothing: a missing store directory stays missing.
{
    my $fresh = $t->dir . '/fresh-store';
    $t->write_conf($t->std_conf(store => $fresh));
    my ($rc, $out) = $t->test_config;
    is($rc, 0, 'nginx -t passes with a missing store directory') or diag($out);
    ok(!-e $fresh, 'nginx -t did not create the store directory');
}

# Without evbill_cpo, CDRs carry XX/XXX: nginx -t says so.
{
    (my $nocpo = $t->std_conf) =~ s/^\s*evbill_cpo .*$//m;
    $t->write_conf($nocpo);
    my ($rc, $out) = $t->test_config;
    is($rc, 0, 'nginx -t passes without evbill_cpo') or diag($out);
    like($out, qr/\[warn\].*evbill_cpo.*"XX".*"XXX"/,
        'and warns that CDRs carry XX/XXX');
    $t->write_conf($t->std_conf);
    ($rc, $out) = $t->test_config;
    unlike($out, qr/\[warn\].*evbill_cpo/, 'no such warning with evbill_cpo');
}

# Time values.
for my $w ('0', '86401', '2d') {
    fails($t->std_conf(http => "evbill_signature_window $w;"),
        qr/"evbill_signature_window" directive must be between 1s and 24h/,
        qr/evbill_signature_window \Q$w\E/, "evbill_signature_window $w");
}
passes($t->std_conf(http => 'evbill_signature_window 24h;'),
    'evbill_signature_window 24h');
fails($t->std_conf(http => 'evbill_signature_window abc;'),
    qr/evbill_signature_window/, qr/evbill_signature_window abc/,
    'bad evbill_signature_window');
fails($t->std_conf(http => 'evbill_session_idle_timeout 5q;'),
    qr/evbill_session_idle_timeout/, qr/evbill_session_idle_timeout 5q/,
    'bad evbill_session_idle_timeout');
fails($t->std_conf(charger => 'evbill_signature_window -1;'),
    qr/evbill_signature_window/, qr/evbill_signature_window -1/,
    'negative evbill_signature_window');

# Contexts.
fails($t->std_conf(server => 'evbill_store %%TESTDIR%%/s2;'),
    qr/"evbill_store" directive is not allowed here/, qr/s2;/,
    'evbill_store in server');
fails($t->std_conf(charger => 'evbill_session_idle_timeout 1h;'),
    qr/"evbill_session_idle_timeout" directive is not allowed here/,
    qr/evbill_session_idle_timeout 1h/, 'idle timeout in location');

# Write queue.
fails($t->std_conf(http => 'evbill_write_queue many;'),
    qr/evbill_write_queue/, qr/evbill_write_queue many/,
    'bad evbill_write_queue');

# Rounding policy (issue 3).
passes($t->std_conf(http => 'evbill_rounding half_even;'), 'evbill_rounding half_even');
fails($t->std_conf(http => 'evbill_rounding bankers;'),
    qr/invalid value "bankers"/, qr/evbill_rounding bankers/,
    'bad evbill_rounding');
fails($t->std_conf(http => 'evbill_rounding half_up; evbill_rounding half_even;'),
    qr/"evbill_rounding" directive is duplicate/, qr/evbill_rounding half_even/,
    'duplicate evbill_rounding');
fails($t->std_conf(charger => 'evbill_rounding half_up;'),
    qr/"evbill_rounding" directive is not allowed here/,
    qr/evbill_rounding half_up/, 'evbill_rounding in location');

# Bounds on data and sessions (issue 6): positive, with sane maxima.
passes($t->std_conf(data_age => '', http => 'evbill_max_data_age 30d; '
        . 'evbill_session_max_duration 12h; evbill_session_max_periods 100;'),
    'evbill_max_data_age, evbill_session_max_duration, '
    . 'evbill_session_max_periods');
passes($t->std_conf(data_age => '', http => 'evbill_max_data_age 3650d; '
        . 'evbill_session_max_duration 366d; '
        . 'evbill_session_max_periods 20000;'), 'the largest bounds');
passes($t->std_conf(data_age => '', http => 'evbill_max_data_age 1s; '
        . 'evbill_session_max_duration 1s; evbill_session_max_periods 1;'),
    'the smallest bounds');
for my $bad (['evbill_max_data_age 0;', qr/must be between 1s and 3650d/],
             ['evbill_max_data_age 3651d;', qr/must be between 1s and 3650d/],
             ['evbill_max_data_age 11y;', qr/must be between 1s and 3650d/],
             ['evbill_max_data_age -1d;', qr/invalid value/],
             ['evbill_max_data_age soon;', qr/invalid value/],
             ['evbill_session_max_duration 0;',
              qr/must be between 1s and 366d/],
             ['evbill_session_max_duration 367d;',
              qr/must be between 1s and 366d/],
             ['evbill_session_max_duration 1x;', qr/invalid value/],
             ['evbill_session_max_periods 0;',
              qr/must be between 1 and 20000/],
             ['evbill_session_max_periods 20001;',
              qr/must be between 1 and 20000/],
             ['evbill_session_max_periods -5;', qr/invalid number/],
             ['evbill_session_max_periods many;', qr/invalid number/])
{
    my ($line, $re) = @$bad;
    (my $name = $line) =~ s/;$//;
    (my $dir1) = $line =~ /^(\S+)/;
    fails($t->std_conf(data_age => '', http => "$line # here"),
        qr/\Q$dir1\E.*$re|$re.*\Q$dir1\E/, qr/# here/,
        "bad $name");
}
fails($t->std_conf(data_age => '', http => 'evbill_max_data_age 1d; '
        . 'evbill_max_data_age 2d;'),
    qr/"evbill_max_data_age" directive is duplicate/,
    qr/evbill_max_data_age 2d/, 'duplicate evbill_max_data_age');
fails($t->std_conf(charger => 'evbill_session_max_periods 10;'),
    qr/"evbill_session_max_periods" directive is not allowed here/,
    qr/evbill_session_max_periods 10/, 'evbill_session_max_periods in location');
fails($t->std_conf(server => 'evbill_session_max_duration 1d;'),
    qr/"evbill_session_max_duration" directive is not allowed here/,
    qr/evbill_session_max_duration 1d/, 'evbill_session_max_duration in server');
# At start, nginx creates the missing store directory (0700).
{
    my $fresh = $t->dir . '/fresh-store2';
    $t->write_conf($t->std_conf(store => $fresh, workers => 1));
    $t->run(workers => 1);
    ok(-d $fresh, 'nginx creates the store directory at start');
    is((stat $fresh)[2] & 0777, 0700, 'mode 0700');
    is($t->admin('GET', 'store')->{status}, 200,
        'and the workers open the store in it');
    if ($> == 0) {
        my $uid = (getpwnam('nobody'))[2];
        is((stat $fresh)[4], $uid, 'owned by the worker user');
    }
    $t->stop;
}

# A refused config does not start either.
$t->write_file('k644b.key', 'k' x 32, 0644);
$t->write_conf(with_key("$dir/k644b.key"));
ok(!eval { $t->run; 1 }, 'nginx refuses to start with a 0644 master key');
$t->stop;

done_testing;
