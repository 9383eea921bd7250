package Evbill::Gateway;
# Starts and stops t/gateway/fake-gateway.js for a test: a test CA and a
# server certificate for 127.0.0.1 made with openssl (plus a self-signed
# one nginx must refuse), the API key and webhook secret as files for
# evbill_payment_key_file / evbill_payment_webhook_secret_file.
#
#   my $g = Evbill::Gateway->new($t, webhook_path => '/webhooks/gw');
#   $g->conf  # http{} lines: the upstream; $g->location: the internal one
#   $g->fault(op => 'capture', fault => 'reset');
#   $g->authorize($pi_id); $g->log; $g->intents

use strict;
use warnings;
use File::Spec;
use HTTP::Tiny;
use JSON::PP;

my $JSON = JSON::PP->new->canonical->utf8;

sub _sh {
    my ($cmd) = @_;
    my $out = `$cmd 2>&1`;
    die "failed: $cmd\n$out" if $?;
}

sub new {
    my ($class, $t, %o) = @_;
    my $dir = $t->dir . '/gateway';
    mkdir $dir;
    my $self = bless { t => $t, dir => $dir,
        port => $t->port(20), ctl => $t->port(21),
        http => HTTP::Tiny->new(timeout => 10) }, $class;
    _sh("cd $dir && openssl req -x509 -newkey rsa:2048 -nodes -days 2"
        . " -subj /CN=evbill-test-ca -keyout ca.key -out ca.pem"
        . " -addext basicConstraints=critical,CA:TRUE"
        . " -addext keyUsage=critical,keyCertSign,cRLSign");
    _sh("cd $dir && openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1"
        . " -keyout gw.key -out gw.csr");
    $t->write_file("$dir/ext.cnf",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    _sh("cd $dir && openssl x509 -req -in gw.csr -CA ca.pem -CAkey ca.key"
        . " -CAcreateserial -days 2 -extfile ext.cnf -out gw.pem");
    _sh("cd $dir && openssl req -x509 -newkey rsa:2048 -nodes -days 2"
        . " -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1"
        . " -keyout bad.key -out bad.pem");
    $self->{api_key} = 'sk_test_' . unpack('H*', pack('N4', map { rand 2**32 } 1 .. 4));
    $self->{secret} = 'whsec_' . unpack('H*', pack('N4', map { rand 2**32 } 1 .. 4));
    $t->write_file("$dir/api.key", "$self->{api_key}\n", 0600);
    $t->write_file("$dir/webhook.secret", "$self->{secret}\n", 0600);
    chmod 0755, $dir;
    if ($> == 0) {
        # nginx reads the files as root at start; the workers need none
        chmod 0644, "$dir/ca.pem";
    }
    my $hook = $o{webhook_url}
        || 'http://127.0.0.1:' . $t->port(0) . ($o{webhook_path} || '/webhooks/gateway');
    my $script = File::Spec->rel2abs(__FILE__);
    $script =~ s{lib/Evbill/Gateway\.pm$}{gateway/fake-gateway.js};
    my $pid = open(my $out, '-|');
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        open STDERR, '>', "$dir/gateway.log";
        exec 'node', $script, '--port', $self->{port}, '--ctl-port', $self->{ctl},
            '--cert', "$dir/gw.pem", '--key', "$dir/gw.key",
            '--bad-cert', "$dir/bad.pem", '--bad-key', "$dir/bad.key",
            '--api-key', $self->{api_key}, '--webhook-secret', $self->{secret},
            '--webhook-url', $hook;
        exit 127;
    }
    my $ready = <$out>;
    die "fake gateway did not start: " . $t->read_file("$dir/gateway.log")
        unless defined $ready && $ready =~ /ready/;
    $self->{pid} = $pid;
    $self->{out} = $out;
    return $self;
}

sub api_key  { $_[0]{api_key} }
sub secret   { $_[0]{secret} }
sub port     { $_[0]{port} }
sub key_file { "$_[0]{dir}/api.key" }
sub secret_file { "$_[0]{dir}/webhook.secret" }
sub ca_file  { "$_[0]{dir}/ca.pem" }

# http{} lines for the gateway: an upstream with keepalive.
sub http_conf {
    my ($self) = @_;
    return "upstream evbill_gateway { server 127.0.0.1:$self->{port}; keepalive 4; }";
}

# The internal location evbill_payment_gateway names.
sub location {
    my ($self, %o) = @_;
    my $timeout = $o{timeout} || '2s';
    return "location /_gateway/ { internal; "
        . "proxy_pass https://evbill_gateway/; "
        . "proxy_http_version 1.1; proxy_set_header Connection \"\"; "
        . "proxy_ssl_verify on; proxy_ssl_trusted_certificate " . $self->ca_file . "; "
        . "proxy_ssl_name localhost; proxy_ssl_server_name on; "
        . "proxy_read_timeout $timeout; proxy_send_timeout $timeout; "
        . "proxy_connect_timeout $timeout; proxy_next_upstream off; }";
}

sub ctl {
    my ($self, $method, $path, $body) = @_;
    my $r = $self->{http}->request($method, "http://127.0.0.1:$self->{ctl}$path",
        { (defined $body ? (content => $JSON->encode($body)) : ()),
          headers => { 'content-type' => 'application/json' } });
    die "gateway control $path: $r->{status} $r->{content}\n"
        unless $r->{success} || $path eq '/authorize';
    return { status => $r->{status},
             json => eval { $JSON->decode($r->{content}) } };
}

sub fault     { my ($s, %f) = @_; $s->ctl('POST', '/fault', \%f) }
sub bad_cert  { my ($s, $on) = @_; $s->ctl('POST', '/cert', { bad => $on ? JSON::PP::true : JSON::PP::false }) }
sub webhooks  { my ($s, %o) = @_; $s->ctl('POST', '/webhooks', \%o) }
sub authorize { my ($s, $id, %o) = @_; $s->ctl('POST', '/authorize', { id => $id, %o }) }
sub resend    { my ($s, $id) = @_; $s->ctl('POST', '/resend', { id => $id }) }
sub log       { $_[0]->ctl('GET', '/log')->{json} }
sub intents   { $_[0]->ctl('GET', '/intents')->{json} }
sub events    { $_[0]->ctl('GET', '/events')->{json} }

# API requests matching a path pattern (and, optionally, that were not
# refused by a fault), e.g. captures: $g->calls(qr{/capture$})
sub calls {
    my ($self, $re) = @_;
    return grep { $_->{path} =~ $re } @{ $self->log };
}

# A webhook signed with the gateway's secret, or anything else (tests of
# the verification): returns the raw body and the header.
sub sign {
    my ($self, $body, %o) = @_;
    require Digest::SHA;
    my $ts = defined $o{t} ? $o{t} : time;
    my $secret = defined $o{secret} ? $o{secret} : $self->{secret};
    my $sig = Digest::SHA::hmac_sha256_hex("$ts.$body", $secret);
    return "t=$ts,v1=$sig";
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    local $?;       # the gateway's exit is not the test's
    kill 'TERM', $self->{pid};
    waitpid $self->{pid}, 0;
    delete $self->{pid};
    close delete $self->{out} if $self->{out};
}

sub DESTROY { local $?; $_[0]->stop }

1;
