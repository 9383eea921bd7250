package Evbill::Test;

# Test harness for the evbill module: writes an nginx.conf into a private
# temporary directory, runs Debian's nginx with the freshly built module
# on 127.0.0.1, talks HTTP to it and stops it.  In the spirit of
# nginx-tests' Test::Nginx, but small and our own.
#
#   my $t = Evbill::Test->new;
#   $t->write_conf($t->std_conf(http => 'evbill_session_idle_timeout 1s;'));
#   $t->run;
#   my $c = $t->charger;                  # a registered charger + client
#   my $r = $c->start({...});
#   $t->finish;                           # stop, check the error log
#
# Set TEST_EVBILL_LEAVE=1 to keep the directory, TEST_EVBILL_NGINX to use
# another nginx binary, TEST_EVBILL_MODULE another module file,
# TEST_EVBILL_TIMEOUT the per-file watchdog (300 s).  TEST_EVBILL_STATIC=1
# says the nginx binary has the module compiled in (--add-module): no
# load_module line then.
#
# nginx runs with ASAN_OPTIONS and UBSAN_OPTIONS logging into the test
# directory (sanitizer/report.PID; harmless for a binary without them):
# any report there counts as an alert, and fails the test file at exit
# even when it never calls check_alerts.

use strict;
use warnings;

use Test::More;
use File::Temp qw(tempdir);
use File::Basename qw(dirname);
use File::Spec;
use Cwd qw(abs_path);
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use Scalar::Util ();
use HTTP::Tiny;
use JSON::PP;
use MIME::Base64 qw(encode_base64 decode_base64);

use lib dirname(abs_path(__FILE__)) . '/../../../tools/lib';
use Evbill::Client;

our $NGINX = $ENV{TEST_EVBILL_NGINX} || '/usr/sbin/nginx';
our $TOP = abs_path(dirname(abs_path(__FILE__)) . '/../../..');
our $MODULE = $ENV{TEST_EVBILL_MODULE} || "$TOP/build/ngx_evbill_module.so";
our $STATIC = $ENV{TEST_EVBILL_STATIC} ? 1 : 0;
our @DIRS;

my $JSON = JSON::PP->new->canonical(1)->utf8(1);

# Every harness object, so that END can stop nginx before File::Temp's
# own END removes the directory (and the pid file with it) when a test
# dies half-way.
our %LIVE;

END {
    for my $t (grep { defined } values %LIVE) {
        next unless $t->{owner} == $$;
        local ($?, $!, $@);
        eval { $t->stop(timeout => 10) };
    }
    # A sanitizer report fails the file, whatever its tests said.
    for my $d (@DIRS) {
        next unless $d->[1] == $$;
        my @r = sanitizer_reports($d->[0]);
        next unless @r;
        diag("sanitizer report in $d->[0]:\n" . join("\n", @r));
        $? = 1 unless $?;
    }
}

# Sanitizer reports in a test directory: the log_path files, and any
# report that went to stderr (the error log) instead.
sub sanitizer_reports {
    my ($dir) = @_;
    my @r;
    for my $f (sort glob("$dir/sanitizer/report.*")) {
        open my $in, '<', $f or next;
        local $/;
        my $c = <$in>;
        push @r, "$f:\n$c" if defined $c && length $c;
    }
    if (open my $in, '<', "$dir/error.log") {
        while (my $l = <$in>) {
            push @r, $l if $l =~ /(?:Address|Leak|UndefinedBehavior)Sanitizer
                |\bruntime\ error:|ERROR:\ Can't\ open\ file:.*sanitizer/x;
        }
    }
    return @r;
}

# Sanitizer options for nginx and its workers (forked, so the master's
# options hold for them): reports go to the test directory, the first
# one stops the process.
sub _sanitizer_env {
    my ($dir) = @_;
    for my $v (qw(ASAN_OPTIONS UBSAN_OPTIONS)) {
        my $o = $ENV{$v} // '';
        $o =~ s/(?:^|:)log_path=[^:]*//g;
        $ENV{$v} = join(':', grep { length } $o,
            "log_path=$dir/sanitizer/report");
    }
}

sub json { $JSON }

sub new {
    my ($class, %o) = @_;
    my $dir = tempdir('evbill-test-XXXXXX', TMPDIR => 1,
        CLEANUP => !$ENV{TEST_EVBILL_LEAVE});
    chmod 0755, $dir;
    my $self = bless {
        dir => $dir,
        ports => [],
        allowed_alerts => [],
        http => HTTP::Tiny->new(timeout => 30, keep_alive => 0),
        seq => 0,
        owner => $$,
    }, $class;
    $LIVE{"$self"} = $self;
    Scalar::Util::weaken($LIVE{"$self"});
    diag("test dir $dir") if $ENV{TEST_EVBILL_LEAVE};
    push @DIRS, [$dir, $$];
    _sanitizer_env($dir);
    $self->port(0);

    # The master key: 32 random bytes, readable by the owner only.
    my $key = "$dir/master.key";
    open my $u, '<:raw', '/dev/urandom' or die "urandom: $!";
    read($u, my $bytes, 32) == 32 or die "urandom short read";
    close $u;
    $self->write_file('master.key', $bytes, 0600);
    $self->{master_key} = $key;

    # The store directory belongs to the worker user (nobody when the
    # suite runs as root), as an operator would set it up.
    $self->make_store_dir('store');
    # where the workers (nobody under root) can write sanitizer reports
    $self->make_store_dir('sanitizer');

    plan(skip_all => "no module at $MODULE; run make module")
        if !$STATIC && !$o{no_module_check} && !-f $MODULE;

    # Load a private copy: `make module` rewriting build/*.so in place
    # while nginx runs would crash its workers.
    if (!$STATIC && -f $MODULE) {
        open my $in, '<:raw', $MODULE or die "$MODULE: $!";
        local $/;
        my $so = <$in>;
        close $in;
        $self->write_file('ngx_evbill_module.so', $so, 0755);
    }
    $self->{module} = "$dir/ngx_evbill_module.so";

    # A watchdog, so that a hung server cannot hang the suite.
    my $limit = $ENV{TEST_EVBILL_TIMEOUT} || 300;
    my $owner = $$;
    $SIG{ALRM} = sub {
        return unless $$ == $owner;
        diag("test timed out after ${limit}s; error.log tail:\n"
            . $self->log_tail(30));
        $self->kill9;
        die "timeout\n";
    };
    alarm $limit;
    return $self;
}

sub dir        { $_[0]{dir} }
sub testdir    { $_[0]{dir} }
sub master_key { $_[0]{master_key} }
sub module     { $_[0]{module} }

sub make_store_dir {
    my ($self, $name) = @_;
    my $path = "$self->{dir}/$name";
    mkdir $path, 0755 unless -d $path;
    if ($> == 0) {
        my ($uid, $gid) = (getpwnam('nobody'))[2, 3];
        chown $uid, $gid, $path if defined $uid;
    }
    return $path;
}

sub write_file {
    my ($self, $name, $content, $mode) = @_;
    my $path = $name =~ m{^/} ? $name : "$self->{dir}/$name";
    open my $f, '>:raw', $path or die "$path: $!";
    print $f $content;
    close $f or die "$path: $!";
    chmod $mode, $path if defined $mode;
    return $path;
}

sub read_file {
    my ($self, $name) = @_;
    my $path = $name =~ m{^/} ? $name : "$self->{dir}/$name";
    open my $f, '<:raw', $path or return '';
    local $/;
    my $c = <$f>;
    return defined $c ? $c : '';
}

# A free TCP port on 127.0.0.1 (n-th, allocated once).
sub port {
    my ($self, $n) = @_;
    $n ||= 0;
    return $self->{ports}[$n] if $self->{ports}[$n];
    # Below the ephemeral range: after a kill -9 the port is free for a
    # moment, and an outgoing connection must not take it meanwhile.
    my ($lo) = split ' ', (eval {
        open my $f, '<', '/proc/sys/net/ipv4/ip_local_port_range' or die;
        scalar <$f> } || '32768');
    $lo = 32768 unless $lo && $lo > 12000;
    for (1 .. 200) {
        my $try = 10000 + int(rand($lo - 10001));
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
            LocalPort => $try, Proto => 'tcp', Listen => 1, ReuseAddr => 1)
            or next;
        my $p = $s->sockport;
        close $s;
        next if grep { defined $_ && $_ == $p } @{ $self->{ports} };
        return $self->{ports}[$n] = $p;
    }
    die "no free port";
}

# A standard configuration with a charger and an admin location.  Options:
# workers (2), store_opts ('size=64m'), http, server, charger, admin
# (extra directives in those blocks), main (extra main-context lines),
# window ('300s'), data_age ('3650d'; '' for the module's 365d default).
#
# The suite plays fixed data (sessions on 2026-11-25, the 2026 DST days),
# which the default evbill_max_data_age would refuse a year later: the
# standard configuration widens it to the largest value allowed.
sub std_conf {
    my ($self, %o) = @_;
    my $workers = defined $o{workers} ? $o{workers} : 2;
    my $store = defined $o{store} ? $o{store} : '%%TESTDIR%%/store';
    my $sopts = defined $o{store_opts} ? $o{store_opts} : 'size=64m';
    my $win = defined $o{window} ? "evbill_signature_window $o{window};" : '';
    my $age = defined $o{data_age} ? $o{data_age} : '3650d';
    $win .= "\n    evbill_max_data_age $age;" if $age ne '';
    my $main = $o{main} || '';
    my $http = $o{http} || '';
    my $server = $o{server} || '';
    my $charger = $o{charger} || '';
    my $admin = $o{admin} || '';
    return <<"EOF";
worker_processes $workers;
$main
events {
    worker_connections 1024;
}

http {
    evbill_store $store $sopts;
    evbill_master_key_file %%MASTER_KEY%%;
    evbill_cpo DE EXA;
    $win
    client_max_body_size 256k;
    client_body_buffer_size 256k;
    $http

    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;
        $server

        location /charger/ {
            evbill_charger_api;
            $charger
        }

        location /admin/ {
            allow 127.0.0.1;
            deny all;
            evbill_admin_api;
            $admin
        }

        location / {
            return 404;
        }
    }
}
EOF
}

sub expand {
    my ($self, $text) = @_;
    $text =~ s/%%MODULE%%/$self->{module}/g;
    $text =~ s/%%TESTDIR%%/$self->{dir}/g;
    $text =~ s/%%MASTER_KEY%%/$self->{master_key}/g;
    $text =~ s/%%PORT_(\d+)%%/$self->port($1)/ge;
    $text =~ s/%%PORT%%/$self->port(0)/ge;
    return $text;
}

# Writes nginx.conf: the module, the error log at info and the pid file
# first; temp paths and access_log off inside http {}.
sub write_conf {
    my ($self, $text, %o) = @_;
    my $name = $o{name} || 'nginx.conf';
    my $pre = ($STATIC ? '' : "load_module %%MODULE%%;\n")
        . "error_log %%TESTDIR%%/error.log info;\n"
        . "pid %%TESTDIR%%/nginx.pid;\n";
    $pre = '' if $o{raw};
    my $inhttp = "\n"
        . "    client_body_temp_path %%TESTDIR%%/client_body_temp;\n"
        . "    proxy_temp_path %%TESTDIR%%/proxy_temp;\n"
        . "    fastcgi_temp_path %%TESTDIR%%/fastcgi_temp;\n"
        . "    uwsgi_temp_path %%TESTDIR%%/uwsgi_temp;\n"
        . "    scgi_temp_path %%TESTDIR%%/scgi_temp;\n"
        . "    access_log off;\n";
    $text =~ s/(\bhttp\s*\{)/$1$inhttp/ unless $o{raw};
    my $conf = $self->expand($pre . $text);
    $self->{conf_text} = $conf;
    $self->write_file($name, $conf);
    return $conf;
}

# Line number (1-based) of the first line of the written config matching
# a pattern, for "in nginx.conf:LINE" checks.
sub conf_line {
    my ($self, $re) = @_;
    my @l = split /\n/, $self->{conf_text};
    for my $i (0 .. $#l) {
        return $i + 1 if $l[$i] =~ $re;
    }
    return undef;
}

sub nginx_cmd {
    my ($self, @extra) = @_;
    return ($NGINX, '-p', "$self->{dir}/", '-c', "$self->{dir}/nginx.conf",
        '-e', "$self->{dir}/error.log", @extra);
}

sub _run_capture {
    my ($self, @cmd) = @_;
    my $out = "$self->{dir}/cmd.out";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', $out or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
        exec @cmd or POSIX::_exit(127);
    }
    waitpid $pid, 0;
    my $rc = $? >> 8;
    return ($rc, $self->read_file($out));
}

# nginx -t: (exit code, output).
sub test_config {
    my ($self) = @_;
    return $self->_run_capture($self->nginx_cmd('-t'));
}

sub pid {
    my ($self) = @_;
    my $p = $self->read_file('nginx.pid');
    $p =~ s/\s+//g;
    return $p =~ /^\d+$/ ? $p : undef;
}

sub alive {
    my ($pid) = @_;
    return 0 unless $pid;
    return 0 unless kill 0, $pid;
    # A killed process whose main thread is a zombie may still have a
    # thread finishing an fsync, holding the listening socket: alive
    # until every thread is gone.
    opendir my $d, "/proc/$pid/task" or return 0;
    for my $tid (grep { /^\d+$/ } readdir $d) {
        open my $f, '<', "/proc/$pid/task/$tid/stat" or next;
        my $st = <$f>;
        return 1 if defined $st && $st !~ /^\d+ \(.*\) [ZX] /;
    }
    return 0;
}

# Children of a process, from /proc.
sub children {
    my ($ppid) = @_;
    my @c;
    opendir my $d, '/proc' or return;
    for my $p (grep { /^\d+$/ } readdir $d) {
        open my $f, '<', "/proc/$p/stat" or next;
        my $st = <$f>;
        next unless defined $st && $st =~ /^\d+ \(.*\) \S (\d+) /;
        push @c, $p if $1 == $ppid;
    }
    return @c;
}

sub workers {
    my ($self) = @_;
    my $pid = $self->pid or return;
    return grep { alive($_) } children($pid);
}

sub error_log { $_[0]->read_file('error.log') }

sub log_tail {
    my ($self, $n) = @_;
    my @l = split /\n/, $self->error_log;
    $n ||= 20;
    @l = @l[-$n .. -1] if @l > $n;
    return join("\n", @l);
}

sub port_open {
    my ($self, $port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $port || $self->port(0), Proto => 'tcp', Timeout => 1);
    return 0 unless $s;
    close $s;
    return 1;
}

# Start nginx and wait until it serves.
sub run {
    my ($self, %o) = @_;
    unlink "$self->{dir}/nginx.pid";
    my ($rc, $out) = $self->_run_capture($self->nginx_cmd);
    if ($rc != 0) {
        die "nginx failed to start (exit $rc): $out\n" . $self->log_tail;
    }
    my $deadline = time + 10;
    while (time < $deadline) {
        my $pid = $self->pid;
        if ($pid && alive($pid) && $self->port_open) {
            # wait for the workers, so a test can count on them
            my $want = $o{workers};
            if (!$want || $self->workers >= $want) {
                $self->{running} = 1;
                return $self;
            }
        }
        sleep 0.05;
    }
    my $tail = $self->log_tail;
    $self->kill9;
    die "nginx did not come up: $out\n$tail\n";
}

sub _wait_gone {
    my ($timeout, @pids) = @_;
    my $deadline = time + $timeout;
    while (time < $deadline) {
        return 1 unless grep { alive($_) } @pids;
        sleep 0.02;
    }
    return !grep { alive($_) } @pids;
}

# Graceful shutdown (QUIT), waiting for master and workers to go.
sub stop {
    my ($self, %o) = @_;
    my $pid = $self->pid;
    return $self unless $pid && alive($pid);
    my @w = children($pid);
    kill 'QUIT', $pid;
    unless (_wait_gone($o{timeout} || 20, $pid, @w)) {
        diag("nginx did not quit in time; killing it");
        $self->kill9;
    }
    $self->{running} = 0;
    return $self;
}

# SIGKILL the master and all its workers, and wait until they are gone.
sub kill9 {
    my ($self) = @_;
    my $pid = $self->pid;
    return $self unless $pid;
    my @w = children($pid);
    kill 'KILL', $pid;
    # workers may have been replaced while we looked; look again
    @w = (@w, children($pid));
    kill 'KILL', @w if @w;
    _wait_gone(10, $pid, @w) or die "nginx processes survived SIGKILL";
    $self->_wait_port_free;
    $self->{running} = 0;
    return $self;
}

# Wait until the listening ports can be bound again (a process we did
# not see may still hold them).
sub _wait_port_free {
    my ($self) = @_;
    my $deadline = time + 10;
    for my $port (grep { defined } @{ $self->{ports} }) {
        while (time < $deadline) {
            my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                LocalPort => $port, Proto => 'tcp', Listen => 1,
                ReuseAddr => 1);
            if ($s) {
                close $s;
                last;
            }
            sleep 0.05;
        }
    }
}

sub restart {
    my ($self, %o) = @_;
    $self->stop;
    return $self->run(%o);
}

# HUP: re-read the config, new workers; waits until the old workers have
# gone and the new ones are up.
sub reload {
    my ($self, %o) = @_;
    my $pid = $self->pid or die "not running";
    my @old = children($pid);
    kill 'HUP', $pid;
    my $deadline = time + ($o{timeout} || 20);
    while (time < $deadline) {
        my @now = grep { alive($_) } children($pid);
        my %old = map { $_ => 1 } @old;
        my @new = grep { !$old{$_} } @now;
        last if @new && (!$o{wait_old} || !grep { alive($_) } @old);
        sleep 0.05;
    }
    return $self;
}

# Error log lines at [alert] or [emerg] not matched by an allowed pattern.
sub allow_alerts {
    my ($self, @re) = @_;
    push @{ $self->{allowed_alerts} }, @re;
}

sub alerts {
    my ($self) = @_;
    my @bad;
    for my $l (split /\n/, $self->error_log) {
        next unless $l =~ /\[(alert|emerg|crit)\]/;
        next if grep { $l =~ $_ } @{ $self->{allowed_alerts} };
        push @bad, $l;
    }
    return @bad;
}

sub check_alerts {
    my ($self, $name) = @_;
    my @a = ($self->alerts, sanitizer_reports($self->{dir}));
    ok(!@a, $name || 'no alerts or emergencies in error.log')
        or diag(join("\n", @a));
}

# Stop nginx and check the error log.
sub finish {
    my ($self) = @_;
    $self->stop;
    $self->check_alerts;
}

sub DESTROY {
    my ($self) = @_;
    local ($?, $!, $@);
    delete $LIVE{"$self"};
    return unless ($self->{owner} || 0) == $$;
    my $pid = $self->pid;
    if ($pid && alive($pid)) {
        eval { $self->stop(timeout => 5) };
    }
}

sub base_url {
    my ($self, $port) = @_;
    return 'http://127.0.0.1:' . ($port || $self->port(0));
}

# ---------------------------------------------------------------------
# HTTP

sub http {
    my ($self, $method, $path, %o) = @_;
    my %args;
    $args{headers} = $o{headers} if $o{headers};
    if (defined $o{body}) {
        my $b = ref $o{body} ? $JSON->encode($o{body}) : $o{body};
        $args{content} = $b;
        $args{headers}{'content-type'} ||= 'application/json';
    }
    my $url = $path =~ m{^http} ? $path : $self->base_url($o{port}) . $path;
    my $res = $self->{http}->request($method, $url, \%args);
    return Evbill::Client::response($res);
}

sub get  { my $s = shift; $s->http('GET', @_) }

# Raw request over a socket; returns a parsed response (no chunked
# decoding beyond the simple case).
sub raw {
    my ($self, $text, %o) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $o{port} || $self->port(0), Proto => 'tcp',
        Timeout => 10) or die "connect: $!";
    $s->autoflush(1);
    print $s $text;
    shutdown($s, 1) unless $o{keep_open};
    local $/;
    my $in = <$s>;
    close $s;
    $in = '' unless defined $in;
    my ($head, $body) = split /\r\n\r\n/, $in, 2;
    $body = '' unless defined $body;
    my @l = split /\r\n/, $head || '';
    my $sl = shift @l || '';
    my ($status) = $sl =~ m{^HTTP/\S+ (\d+)};
    my %h;
    for (@l) {
        my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
        $h{lc $k} = $v;
    }
    if (($h{'transfer-encoding'} || '') =~ /chunked/i) {
        my $d = '';
        while ($body =~ s/^([0-9a-fA-F]+)\r\n//) {
            my $n = hex $1;
            last if $n == 0;
            $d .= substr($body, 0, $n, '');
            $body =~ s/^\r\n//;
        }
        $body = $d;
    }
    return Evbill::Client::response({ status => $status || 0,
        headers => \%h, content => $body });
}

# ---------------------------------------------------------------------
# Admin API

sub admin {
    my ($self, $method, $path, $body, %o) = @_;
    return $self->http($method, "/admin/$path",
        (defined $body ? (body => $body) : ()), %o);
}

sub default_charger_body {
    my ($self, %o) = @_;
    my $b = {
        location => {
            id => 'LOC1',
            name => 'Test Site',
            address => 'Teststrasse 1',
            city => 'Berlin',
            postal_code => '10115',
            country => 'DEU',
            coordinates => { latitude => '52.520008',
                             longitude => '13.404954' },
            time_zone => 'Europe/Berlin',
        },
        evse_uid => 'EVSE1',
        evse_id => 'DE*EXA*E0001*1',
        connector => {
            standard => 'IEC_62196_T2',
            format => 'SOCKET',
            power_type => 'AC_3_PHASE',
            max_electric_power => 22000,
        },
        tariff_id => 'TARIFF1',
    };
    for (keys %o) {
        if (defined $o{$_}) { $b->{$_} = $o{$_} } else { delete $b->{$_} }
    }
    return $b;
}

sub put_charger {
    my ($self, $id, $body) = @_;
    $body ||= $self->default_charger_body;
    return $self->admin('PUT', 'chargers/' . Evbill::Client::uri_escape($id),
        $body);
}

sub get_charger {
    my ($self, $id) = @_;
    return $self->admin('GET', 'chargers/' . Evbill::Client::uri_escape($id));
}

sub put_key {
    my ($self, $charger, $kid, $secret) = @_;
    return $self->admin('PUT', 'chargers/'
        . Evbill::Client::uri_escape($charger) . '/keys/'
        . Evbill::Client::uri_escape($kid),
        { secret => encode_base64($secret, '') });
}

sub get_session {
    my ($self, $charger, $sid) = @_;
    return $self->admin('GET', 'sessions/'
        . Evbill::Client::uri_escape($charger) . '/'
        . Evbill::Client::uri_escape($sid));
}

sub list_sessions {
    my ($self, %q) = @_;
    my $qs = join '&', map { "$_=" . Evbill::Client::uri_escape($q{$_}) }
        sort keys %q;
    return $self->admin('GET', 'sessions' . ($qs ne '' ? "?$qs" : ''));
}

sub store_stat {
    my ($self) = @_;
    my $r = $self->admin('GET', 'store');
    return $r->{json} || {};
}

sub txn_id {
    my ($self) = @_;
    return $self->store_stat->{txn_id};
}

sub random_secret {
    open my $u, '<:raw', '/dev/urandom' or die;
    read $u, my $b, 32;
    return $b;
}

# Register a charger with one fresh key and return a signing client for
# it.  Options: id, key_id, secret, body (charger body overrides as a
# hash for default_charger_body), no_tariff.
sub charger {
    my ($self, %o) = @_;
    my $n = ++$self->{seq};
    my $id = $o{id} || "CH$n-$$";
    my $kid = $o{key_id} || "key-$id";
    my $secret = $o{secret} || random_secret();
    my %b = %{ $o{body} || {} };
    $b{tariff_id} = undef if $o{no_tariff};
    my $body = $self->default_charger_body(%b);
    $body->{keys} = [ { id => $kid, secret => encode_base64($secret, '') } ];
    my $r = $self->put_charger($id, $body);
    die "PUT charger $id: $r->{status} $r->{body}\n"
        unless $r->{status} == 201 || $r->{status} == 200;
    my $c = $self->client(key_id => $kid, secret => $secret);
    $c->{charger_id} = $id;
    return $c;
}

sub client {
    my ($self, %o) = @_;
    return Evbill::Client->new(url => $self->base_url($o{port}) . '/charger/',
        %o);
}

# A valid start body.
sub start_body {
    my ($self, %o) = @_;
    my $b = {
        session_id => 'S' . (++$self->{seq}) . "-$$",
        connector_id => 1,
        id_token => 'TOKEN123',
        token_type => 'RFID',
        timestamp => '2026-11-25T10:00:00Z',
        meter_start_wh => 1000,
    };
    for (keys %o) {
        if (defined $o{$_}) { $b->{$_} = $o{$_} } else { delete $b->{$_} }
    }
    return $b;
}

# Readings at 10:00:00 + seq minutes, energy 1000 + 100 * seq.  Load
# generators pass step => 1 (seconds per seq): at a minute per seq, a
# few thousand readings run past nginx's clock (422 in-the-future).
sub reading_body {
    my ($self, $seq, %o) = @_;
    my $step = delete $o{step} // 60;
    my $b = {
        seq => $seq,
        timestamp => ts_plus('2026-11-25T10:00:00Z', $step * $seq),
        energy_wh => 1000 + 100 * $seq,
    };
    for (keys %o) {
        if (defined $o{$_}) { $b->{$_} = $o{$_} } else { delete $b->{$_} }
    }
    return $b;
}

# "2026-11-25T10:00:00Z" + seconds, rendered with milliseconds.
sub ts_plus {
    my ($ts, $sec) = @_;
    my ($y, $mo, $d, $h, $mi, $s) =
        $ts =~ /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)/ or die "bad ts $ts";
    require Time::Local;
    my $t = Time::Local::timegm($s, $mi, $h, $d, $mo - 1, $y) + $sec;
    return Evbill::Client::rfc3339($t);
}

sub ts_ms {
    my ($ts) = @_;
    return ts_plus($ts, 0);
}

# ---------------------------------------------------------------------
# Assertions

# is_problem($res, $status, $name, $test_name): status, problem type,
# content type, and the problem's own status field.
sub is_problem {
    my ($res, $status, $name, $tn) = @_;
    $tn ||= "$status $name";
    my $ok = 1;
    my $ct = $res->{headers}{'content-type'} || '';
    my $type = ($res->{json} && ref $res->{json} eq 'HASH')
        ? ($res->{json}{type} || '') : '';
    $ok &&= $res->{status} == $status;
    $ok &&= $ct =~ m{^application/problem\+json\b};
    $ok &&= $type eq "urn:evbill:problem:$name";
    $ok &&= ($res->{json}{status} || 0) == $status;
    $ok &&= defined $res->{json}{title} && defined $res->{json}{detail};
    my $r = ok($ok, $tn);
    diag("expected $status $name (problem+json); got $res->{status} "
        . "[$ct] " . substr($res->{body}, 0, 400)) unless $ok;
    return $r;
}

# Runs $code and checks the store's txn_id did not move.
sub store_unchanged {
    my ($self, $code, $tn) = @_;
    my $before = $self->txn_id;
    my @r = $code->();
    my $after = $self->txn_id;
    ok(defined $before && defined $after && $before eq $after,
        $tn || 'store unchanged')
        or diag('txn_id ' . ($before // 'undef') . ' -> '
                . ($after // 'undef'));
    return wantarray ? @r : $r[0];
}

sub import {
    my ($class, @args) = @_;
    my $caller = caller;
    no strict 'refs';
    for my $f (qw(is_problem ts_plus ts_ms)) {
        *{"${caller}::$f"} = \&{$f};
    }
}

1;
