#!/usr/bin/perl
# The signing client itself, against RFC 9421's B.2.5 and the shared worked
# example: if these fail, every other signature test is meaningless.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../tools/lib";
use Evbill::Client;
use MIME::Base64;

my $SH = "$FindBin::Bin/../../shared/conformance/http-signatures";

sub slurp {
    my ($p) = @_;
    open my $f, '<:raw', $p or return undef;
    local $/;
    return scalar <$f>;
}

# RFC 9421 B.2.5: hmac-sha256 over "date" "@authority" "content-type".
{
    my $c = Evbill::Client->new(url => 'http://example.com/foo',
        key_id => 'test-shared-secret', secret_b64 =>
        'uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ==');
    my $r = $c->sign_request(method => 'POST', path => 'http://example.com/foo?param=Value&Pet=dog',
        body => '{"hello": "world"}',
        headers => { Date => 'Tue, 20 Apr 2021 02:07:55 GMT' },
        components => [qw(date @authority content-type)],
        params => [[created => 1618884473], [keyid => 'test-shared-secret']]);
    my $want = slurp("$SH/rfc9421_b25_base.txt");
    SKIP: {
        skip 'shared vectors not found', 1 unless defined $want;
        $want =~ s/\n\z//;
        is($r->{base}, $want, 'B.2.5 signature base');
    }
    is($r->{headers}{signature},
        'sig1=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:',
        'B.2.5 signature value');
    is($r->{headers}{'signature-input'},
        'sig1=("date" "@authority" "content-type");created=1618884473;'
        . 'keyid="test-shared-secret"', 'B.2.5 Signature-Input');
}

# The worked charger example.
{
    my $body = slurp("$SH/example-body.json");
    SKIP: {
        skip 'shared vectors not found', 4 unless defined $body;
        $body =~ s/\n\z//;
        my $c = Evbill::Client->new(url => 'https://edge.example.net/v1/',
            key_id => 'cp-DEEXAE0001.k2',
            secret_hex => '9f1c2a7b4e0d3c5a8b6f7e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d5e6f7');
        my $r = $c->sign_request(path => '/v1/meter-readings', body => $body,
            components => [qw(@method @target-uri content-type content-digest)],
            params => [[created => 1718000000], [expires => 1718000300],
                [keyid => 'cp-DEEXAE0001.k2'], [nonce => 'b3k2Zk9xQ1c3TnJ2'],
                [tag => 'ev-meter-v1']]);
        my $want = slurp("$SH/example-signature-base.txt");
        $want =~ s/\n\z//;
        is($r->{base}, $want, 'worked example signature base');
        is($r->{headers}{'content-digest'},
            'sha-256=:vK/4I3DFSio6MUlIBSU6UWDvuX07Go2nPTB7TAb+k3Y=:',
            'worked example content digest');
        is($r->{headers}{signature},
            'sig1=:Sq3licXehePTcud6aLNNva+nyj6CQvedADQfLL98xBo=:',
            'worked example signature');

        # the origin override re-targets @target-uri only
        my $c2 = Evbill::Client->new(url => 'http://127.0.0.1:8080/v1/',
            key_id => 'x', secret => 'y', origin => 'https://edge.example.net');
        my $r2 = $c2->sign_request(path => 'meter-readings', body => '{}');
        like($r2->{base}, qr{^"\@target-uri": https://edge\.example\.net/v1/meter-readings$}m,
            'origin override');
    }
}

# Defaults: the evbill profile.
{
    my $c = Evbill::Client->new(url => 'http://127.0.0.1:8080/charger',
        key_id => 'k1', secret => 'x' x 32);
    my $r = $c->sign_request(path => 'sessions', body => '{}', created => 1700000000);
    is($r->{headers}{'signature-input'},
        'sig1=("@method" "@target-uri" "content-digest" "content-type");'
        . 'created=1700000000;keyid="k1";alg="hmac-sha256"', 'default Signature-Input');
    is($r->{base}, join("\n",
        '"@method": POST',
        '"@target-uri": http://127.0.0.1:8080/charger/sessions',
        '"content-digest": sha-256=:RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o=:',
        '"content-type": application/json',
        '"@signature-params": ("@method" "@target-uri" "content-digest" "content-type");'
        . 'created=1700000000;keyid="k1";alg="hmac-sha256"'), 'default base');
    my $r2 = $c->sign_request(path => 'sessions', body => '{}',
        components => [qw(@method @authority @path content-digest)]);
    like($r2->{base}, qr{^"\@authority": 127\.0\.0\.1:8080\n"\@path": /charger/sessions$}m,
        '@authority and @path');
}

# RFC 9421 2.2.3: the scheme's default port is not part of the authority,
# in @authority and in @target-uri alike (the server derives them so)
{
    my %r = (scheme => 'http', authority => 'Edge.Example:80',
        path => '/charger/sessions', query => undef);
    is(Evbill::Client::component_value(\%r, '@authority'), 'edge.example',
        '@authority drops :80 and lower-cases');
    is(Evbill::Client::component_value(\%r, '@target-uri'),
        'http://edge.example/charger/sessions', '@target-uri drops :80');
    $r{scheme} = 'https';
    $r{authority} = 'edge.example:8443';
    is(Evbill::Client::component_value(\%r, '@target-uri'),
        'https://edge.example:8443/charger/sessions', 'other ports stay');
}

done_testing;
