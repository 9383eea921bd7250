package Evbill::Client;

# A small RFC 9421 (HTTP Message Signatures, hmac-sha256) client for the
# evbill charger API, with an RFC 9530 Content-Digest over the body.
#
# It is both the reference client (tools/evbill-client, the demo) and the
# tests' way to make well-formed and deliberately broken requests, so
# every part of the signature can be overridden.
#
#   my $c = Evbill::Client->new(url => 'http://127.0.0.1:8080/charger/',
#                               key_id => 'k1', secret_b64 => '...');
#   my $res = $c->start({session_id => 's1', ...});
#   my $res = $c->post('sessions/s1/readings', $json_or_ref, %sign_opts);
#
# Core Perl only.

use strict;
use warnings;

use Digest::SHA qw(sha256 sha512 hmac_sha256 hmac_sha512);
use MIME::Base64 qw(encode_base64 decode_base64);
use HTTP::Tiny;
use JSON::PP;

our $VERSION = '0.1';

my $JSON = JSON::PP->new->canonical(1)->utf8(1);

sub new {
    my ($class, %a) = @_;
    my $self = bless {
        url        => $a{url} || die("url required\n"),
        key_id     => $a{key_id},
        origin     => $a{origin},       # scheme://authority signed
        label      => $a{label} || 'sig1',
        components => $a{components}
                      || [qw(@method @target-uri content-digest content-type)],
        timeout    => $a{timeout} || 30,
    }, $class;
    $self->{url} .= '/' unless $self->{url} =~ m{/$};
    if (defined $a{secret}) {
        $self->{secret} = $a{secret};
    } elsif (defined $a{secret_b64}) {
        $self->{secret} = decode_base64($a{secret_b64});
    } elsif (defined $a{secret_hex}) {
        $self->{secret} = pack('H*', $a{secret_hex});
    }
    $self->{http} = HTTP::Tiny->new(timeout => $self->{timeout},
        keep_alive => 0, agent => "evbill-client/$VERSION");
    return $self;
}

sub key_id { $_[0]{key_id} }
sub secret { $_[0]{secret} }
sub url    { $_[0]{url} }

sub split_url {
    my ($url) = @_;
    $url =~ m{^(https?)://([^/?#]+)([^?#]*)(?:\?([^#]*))?} or
        die "bad url $url\n";
    return (lc $1, $2, ($3 eq '' ? '/' : $3), $4);
}

# "sha-256=:<b64>:" of the body.
sub content_digest {
    my ($body, $alg) = @_;
    $alg ||= 'sha-256';
    my $d = $alg eq 'sha-512' ? sha512($body) : sha256($body);
    return "$alg=:" . encode_base64($d, '') . ':';
}

# RFC 8941 serialisation of the inner list plus parameters, as the
# "@signature-params" line and Signature-Input member carry it.
# $params is an array of [name, value] pairs; integers stay bare,
# everything else becomes an sf-string.
sub serialize_params {
    my ($components, $params) = @_;
    my $s = '(' . join(' ', map { '"' . $_ . '"' } @$components) . ')';
    for my $p (@$params) {
        my ($k, $v) = @$p;
        if (!defined $v) {
            $s .= ";$k";
        } elsif (ref $v eq 'SCALAR') {      # raw, e.g. \'?1' or a bad token
            $s .= ";$k=$$v";
        } elsif ($v =~ /^-?[0-9]+$/ && $k ne 'keyid' && $k ne 'nonce') {
            $s .= ";$k=$v";
        } else {
            (my $e = $v) =~ s/([\\"])/\\$1/g;
            $s .= ";$k=\"$e\"";
        }
    }
    return $s;
}

# The value of a component for the request described by %$r
# (method, scheme, authority, path, query, headers{lc name}).
sub component_value {
    my ($r, $name) = @_;
    if ($name eq '@method') {
        return uc $r->{method};
    } elsif ($name eq '@target-uri') {
        return $r->{target_uri} if defined $r->{target_uri};
        return "$r->{scheme}://" . component_value($r, '@authority')
            . $r->{path} . (defined $r->{query} ? "?$r->{query}" : '');
    } elsif ($name eq '@authority') {
        # RFC 9421 2.2.3: lower case, the scheme's default port left out
        my $a = lc $r->{authority};
        $a =~ s/:80$// if $r->{scheme} eq 'http';
        $a =~ s/:443$// if $r->{scheme} eq 'https';
        return $a;
    } elsif ($name eq '@scheme') {
        return lc $r->{scheme};
    } elsif ($name eq '@path') {
        return $r->{path};
    } elsif ($name eq '@query') {
        return '?' . (defined $r->{query} ? $r->{query} : '');
    } elsif ($name eq '@request-target') {
        return $r->{path} . (defined $r->{query} ? "?$r->{query}" : '');
    }
    my $v = $r->{headers}{lc $name};
    return undef unless defined $v;
    $v = join(', ', @$v) if ref $v eq 'ARRAY';
    $v =~ s/^\s+//;
    $v =~ s/\s+$//;
    return $v;
}

# The RFC 9421 section 2.5 signature base.
sub signature_base {
    my ($r, $components, $params_str) = @_;
    my $base = '';
    for my $c (@$components) {
        my $v = component_value($r, $c);
        die "component $c not in request\n" unless defined $v;
        $base .= qq{"$c": $v\n};
    }
    $base .= qq{"\@signature-params": $params_str};
    return $base;
}

# Build a signed request without sending it.  Options (all optional):
#   method (POST), path (relative to the API url, or absolute /...),
#   body (string or ref -> JSON), content_type ('application/json';
#   undef to omit), headers {extra},
#   key_id, secret, label, components [..], created, expires, alg,
#   params [[name,value],...] (replaces the generated parameter list),
#   extra_params [[nonce => 'x'], ...], omit [qw(keyid created ...)],
#   origin ('https://edge.example.net'), target_uri (signed verbatim),
#   sign_authority (the authority signed), sign_path, sign_method,
#   digest (the Content-Digest header value; undef with exists => omit),
#   digest_alg ('sha-256'), tamper_body (body sent instead of the signed
#   one), no_signature, no_signature_input,
#   signature_input / signature (header values sent verbatim),
#   mac (the raw MAC to send instead of the computed one),
#   more_signatures [ {label, key_id, secret, ...}, ... ] (added after).
sub sign_request {
    my ($self, %o) = @_;
    my $method = uc($o{method} || 'POST');
    my $path = defined $o{path} ? $o{path} : '';
    my $url = $path =~ m{^[a-z]+://} ? $path
        : $path =~ m{^/} ? do { my ($s, $a) = split_url($self->{url});
                                "$s://$a$path" }
        : $self->{url} . $path;
    my ($scheme, $authority, $upath, $query) = split_url($url);

    my $body = defined $o{body} ? $o{body} : '';
    $body = $JSON->encode($body) if ref $body;

    my %h;
    my $ct = exists $o{content_type} ? $o{content_type} : 'application/json';
    $h{'content-type'} = $ct if defined $ct;
    if (exists $o{digest}) {
        $h{'content-digest'} = $o{digest} if defined $o{digest};
    } else {
        $h{'content-digest'} = content_digest($body, $o{digest_alg});
    }
    if ($o{headers}) {
        $h{lc $_} = $o{headers}{$_} for keys %{ $o{headers} };
    }

    my $origin = exists $o{origin} ? $o{origin} : $self->{origin};
    my ($sscheme, $sauth) = ($scheme, $authority);
    if (defined $origin) {
        ($sscheme, $sauth) = split_url($origin);
    }
    my $desc = {
        method => $o{sign_method} || $method,
        scheme => $sscheme,
        authority => defined $o{sign_authority} ? $o{sign_authority} : $sauth,
        path => defined $o{sign_path} ? $o{sign_path} : $upath,
        query => $query,
        target_uri => $o{target_uri},
        headers => { %h, host => $authority },
    };

    my @sigs;
    for my $so (\%o, @{ $o{more_signatures} || [] }) {
        push @sigs, $self->_one_signature($desc, $so);
    }

    $h{'signature-input'} = join(', ',
        map { "$_->{label}=$_->{input}" } @sigs);
    $h{'signature'} = join(', ', map {
        "$_->{label}=:" . encode_base64($_->{mac}, '') . ':' } @sigs);
    $h{'signature-input'} = $o{signature_input} if defined $o{signature_input};
    $h{'signature'} = $o{signature} if defined $o{signature};
    delete $h{'signature-input'} if $o{no_signature_input};
    delete $h{'signature'} if $o{no_signature};

    return {
        method => $method,
        url => $url,
        headers => \%h,
        body => defined $o{tamper_body} ? $o{tamper_body} : $body,
        base => $sigs[0]{base},
        bases => [ map { $_->{base} } @sigs ],
    };
}

sub _one_signature {
    my ($self, $desc, $o) = @_;
    my $components = $o->{components} || $self->{components};
    my $label = $o->{label} || $self->{label};
    my $key_id = exists $o->{key_id} ? $o->{key_id} : $self->{key_id};
    my $secret = exists $o->{secret} ? $o->{secret} : $self->{secret};
    my $params;
    if ($o->{params}) {
        $params = $o->{params};
    } else {
        my %omit = map { $_ => 1 } @{ $o->{omit} || [] };
        my $created = defined $o->{created} ? $o->{created} : time;
        $params = [];
        push @$params, [created => $created] unless $omit{created};
        push @$params, [expires => $o->{expires}] if defined $o->{expires};
        push @$params, [keyid => $key_id] unless $omit{keyid};
        my $alg = exists $o->{alg} ? $o->{alg} : 'hmac-sha256';
        push @$params, [alg => $alg] if defined $alg && !$omit{alg};
        push @$params, @{ $o->{extra_params} || [] };
    }
    my $input = serialize_params($components, $params);
    my $base = signature_base($desc, $components, $input);
    my $mac;
    if (defined $o->{mac}) {
        $mac = $o->{mac};
    } elsif (($o->{mac_alg} || '') eq 'hmac-sha512') {
        $mac = hmac_sha512($base, defined $secret ? $secret : '');
    } else {
        $mac = hmac_sha256($base, defined $secret ? $secret : '');
    }
    return { label => $label, input => $input, base => $base, mac => $mac };
}

# Send a prepared request (from sign_request); returns
# {status, reason, headers, body, json}.  With chunked => 1 the body goes
# out with Transfer-Encoding: chunked.
sub send_request {
    my ($self, $req, %o) = @_;
    my %args = (headers => { %{ $req->{headers} } });
    if ($o{chunked}) {
        my $body = $req->{body};
        my $done = 0;
        $args{content} = sub {
            return undef if $done;
            $done = 1;
            return $body;
        };
    } elsif ($req->{method} ne 'GET' || length $req->{body}) {
        $args{content} = $req->{body};
    }
    my $res = $self->{http}->request($req->{method}, $req->{url}, \%args);
    return response($res);
}

sub response {
    my ($res) = @_;
    my $out = {
        status => $res->{status},
        reason => $res->{reason},
        headers => $res->{headers} || {},
        body => defined $res->{content} ? $res->{content} : '',
    };
    my $ct = $out->{headers}{'content-type'} || '';
    if ($ct =~ m{json}i && length $out->{body}) {
        $out->{json} = eval { JSON::PP->new->utf8(1)->decode($out->{body}) };
    }
    return $out;
}

# Sign and send in one go.
sub request {
    my ($self, %o) = @_;
    my $chunked = delete $o{chunked};
    return $self->send_request($self->sign_request(%o), chunked => $chunked);
}

sub post {
    my ($self, $path, $body, %o) = @_;
    return $self->request(method => 'POST', path => $path, body => $body, %o);
}

sub start {
    my ($self, $body, %o) = @_;
    return $self->post('sessions', $body, %o);
}

sub reading {
    my ($self, $sid, $body, %o) = @_;
    return $self->post('sessions/' . uri_escape($sid) . '/readings',
        $body, %o);
}

sub stop {
    my ($self, $sid, $body, %o) = @_;
    return $self->post('sessions/' . uri_escape($sid) . '/stop', $body, %o);
}

sub uri_escape {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9._~!\$&'()*+,;=:@-])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

# RFC 3339 UTC with milliseconds, as evbill renders times.
sub rfc3339 {
    my ($t) = @_;
    my $ms = int(($t - int $t) * 1000 + 0.5);
    my $s = int $t;
    if ($ms >= 1000) { $s++; $ms -= 1000 }
    my @g = gmtime $s;
    return sprintf('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', $g[5] + 1900,
        $g[4] + 1, $g[3], $g[2], $g[1], $g[0], $ms);
}

1;
