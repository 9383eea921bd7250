#!/usr/bin/perl
# RFC 9421 signatures: every refusal answers 401 with a problem type the
# charger developer can act on; unknown key and wrong MAC look the same.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;
use Digest::SHA qw(sha256);
use MIME::Base64;

my $t = Evbill::Test->new;
$t->write_conf($t->std_conf(window => '300s', server => <<'EOF'));
        location /edge/ {
            evbill_charger_api;
            evbill_signature_origin https://edge.example.net;
        }
EOF
$t->run;

my $c = $t->charger(id => 'SIG-1', key_id => 'sig-key-1');
my $sid = 'sig-sess';
is($c->start($t->start_body(session_id => $sid))->{status}, 201, 'start');
my $seq = 0;
my $path = "sessions/$sid/readings";

# A request for the next reading, signed with %o, that must be refused.
sub refused {
    my ($status, $type, $name, %o) = @_;
    my $body = $t->reading_body($seq + 1);
    my $mod = delete $o{modify};
    my $res;
    $t->store_unchanged(sub {
        my $req = $c->sign_request(method => 'POST', path => $path,
            body => $body, %o);
        $mod->($req) if $mod;
        $res = $c->send_request($req);
        is_problem($res, $status, $type, $name);
    }, "$name: store unchanged");
    return $res;
}

# ... that must be accepted.
sub accepted {
    my ($name, %o) = @_;
    my $cl = delete $o{client} || $c;
    my $body = $t->reading_body(++$seq);
    my $req = $cl->sign_request(method => 'POST', path => $path,
        body => $body, %o);
    my $res = $cl->send_request($req);
    ok($res->{status} == 200 && ($res->{json}{accepted} // 0) == 1,
        "accepted: $name") or diag("$res->{status} $res->{body}\n$req->{base}");
    return $res;
}

accepted('the default profile');
accepted('without content-type covered',
    components => [qw(@method @target-uri content-digest)]);
accepted('@authority and @path instead of @target-uri',
    components => [qw(@method @authority @path content-digest)]);
accepted('components in another order',
    components => [qw(content-digest content-type @path @method @authority)]);
accepted('another label', label => 'charger-7');
accepted('no alg parameter', alg => undef);
accepted('expires in the future', expires => time + 60);
accepted('created 200 s ago', created => time - 200);
accepted('created 200 s ahead', created => time + 200);
accepted('extra parameters (nonce, tag)',
    extra_params => [[nonce => 'abc123'], [tag => 'ev-meter']]);
accepted('@scheme and @query also covered',
    components => [qw(@method @target-uri @scheme @query content-digest)]);

# --- missing and malformed headers ------------------------------------

refused(401, 'signature-missing', 'no signature headers',
    no_signature => 1, no_signature_input => 1);
refused(401, 'signature-missing', 'no Signature header', no_signature => 1);
refused(401, 'signature-missing', 'no Signature-Input header',
    no_signature_input => 1);
refused(401, 'signature-malformed', 'Signature-Input not a dictionary',
    signature_input => 'sig1=("@method" "@target-uri"');
refused(401, 'signature-malformed', 'Signature-Input garbage',
    signature_input => '%%%');
refused(401, 'signature-malformed', 'Signature not a byte sequence',
    signature => 'sig1=:not base64!:');
refused(401, 'signature-malformed', 'Signature label does not match',
    modify => sub { $_[0]{headers}{signature} =~ s/^sig1=/sig2=/ });
refused(401, 'signature-malformed', 'created not an integer',
    params => [[created => \'"now"'], [keyid => 'sig-key-1']]);

# --- profile ---------------------------------------------------------

refused(401, 'signature-incomplete', 'content-digest not covered',
    components => [qw(@method @target-uri content-type)]);
refused(401, 'signature-incomplete', '@method not covered',
    components => [qw(@target-uri content-digest content-type)]);
refused(401, 'signature-incomplete', 'no target covered',
    components => [qw(@method content-digest content-type)]);
refused(401, 'signature-incomplete', '@authority without @path',
    components => [qw(@method @authority content-digest)]);
refused(401, 'signature-incomplete', '@path without @authority',
    components => [qw(@method @path content-digest)]);
refused(401, 'signature-incomplete', 'RFC 9421 B.2.5 component set',
    components => [qw(@authority content-type)]);
refused(401, 'signature-incomplete', 'keyid missing', omit => ['keyid']);
refused(401, 'signature-incomplete', 'created missing', omit => ['created']);
refused(401, 'signature-algorithm', 'alg=hmac-sha512',
    alg => 'hmac-sha512', mac_alg => 'hmac-sha512');
refused(401, 'signature-algorithm', 'alg=rsa-pss-sha512', alg => 'rsa-pss-sha512');
refused(401, 'signature-component-missing', 'covered header not sent',
    headers => { 'x-evbill-extra' => 'yes' },
    components => [qw(@method @target-uri content-digest x-evbill-extra)],
    modify => sub { delete $_[0]{headers}{'x-evbill-extra'} });

# --- digest ----------------------------------------------------------

refused(401, 'content-digest-missing', 'Content-Digest absent',
    modify => sub { delete $_[0]{headers}{'content-digest'} });
refused(401, 'content-digest-missing', 'Content-Digest without sha-256',
    digest => 'md5=:' . encode_base64('x' x 16, '') . ':');
refused(401, 'content-digest-malformed', 'Content-Digest not a byte sequence',
    digest => 'sha-256=abc');
refused(401, 'content-digest-malformed', 'Content-Digest bad base64',
    digest => 'sha-256=:%%%:');
refused(401, 'content-digest-mismatch', 'body changed after signing',
    tamper_body => $t->json->encode($t->reading_body($seq + 1, energy_wh => 1)));
refused(401, 'content-digest-mismatch', 'digest of another body, signed',
    digest => 'sha-256=:' . encode_base64(sha256('{}'), '') . ':');

# --- time ------------------------------------------------------------

refused(401, 'signature-time-window', 'created 400 s ago', created => time - 400);
refused(401, 'signature-time-window', 'created 400 s ahead', created => time + 400);
refused(401, 'signature-time-window', 'expired', created => time - 10,
    expires => time - 2);

# --- unknown key and wrong MAC ---------------------------------------

my $wrong = $t->client(key_id => 'sig-key-1',
    secret => Evbill::Test::random_secret());
my $unknown = $t->client(key_id => 'no-such-key-4711',
    secret => Evbill::Test::random_secret());

my $off = length $t->error_log;
my $r1 = refused(401, 'signature-invalid', 'unknown key id',
    key_id => 'no-such-key-4711');
my $log1 = substr($t->error_log, $off);
$off = length $t->error_log;
my $r2 = refused(401, 'signature-invalid', 'wrong MAC',
    secret => Evbill::Test::random_secret());
my $log2 = substr($t->error_log, $off);
is($r1->{body}, $r2->{body}, 'unknown key and wrong MAC: identical body');
is(($r1->{headers}{'content-type'} // ''), ($r2->{headers}{'content-type'} // ''),
    'identical content type');
like($log1, qr/\[info\].*no-such-key-4711/, 'log names the unknown key id');
like($log1, qr/\[info\].*(unknown|no known|not found|no such)/i,
    'log says the key is unknown');
like($log2, qr/\[info\].*sig-key-1/, 'log names the key of the bad MAC');
like($log2, qr/\[info\].*(MAC|mismatch|does not verify)/i, 'log says the MAC is wrong');
unlike($log2, qr/\[info\].*(unknown key|no known)/i, 'MAC case not logged as unknown');

# One refusal, one error-log line: no second line from the handler, no
# signature base spread over physical lines (that is for debug only).
sub one_line {
    my ($log, $name) = @_;
    my @l = split /\n/, $log;
    my @ev = grep { /evbill/ } @l;
    is(scalar @ev, 1, "$name: exactly one evbill line in the error log")
        or diag($log);
    is(scalar(grep { !m{^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d } } @l), 0,
        "$name: no continuation lines") or diag($log);
}
one_line($log1, 'unknown key');
one_line($log2, 'wrong MAC');
unlike($log2, qr/signature base/, 'the signature base is not logged at info');
$off = length $t->error_log;
refused(401, 'signature-missing', 'no signature (log check)', no_signature => 1);
one_line(substr($t->error_log, $off), 'missing signature');

refused(401, 'signature-invalid', 'MAC truncated to 16 bytes',
    modify => sub { $_[0]{headers}{signature} =~
        s/=:([^:]+):/'=:' . encode_base64(substr(decode_base64($1), 0, 16), '') . ':'/e });
refused(401, 'signature-invalid', 'signed another method', sign_method => 'PUT');
refused(401, 'signature-invalid', 'signed another target',
    target_uri => $t->base_url . '/charger/sessions/other/readings');
refused(401, 'signature-invalid', 'signed another path', sign_path => '/charger/sessions');
refused(401, 'signature-invalid', 'signed another authority',
    sign_authority => 'evil.example.net');
refused(401, 'signature-invalid', 'signed https but sent over http',
    origin => 'https://127.0.0.1:' . $t->port);
refused(401, 'signature-invalid', 'signature-params changed after signing',
    modify => sub { $_[0]{headers}{'signature-input'} =~ s/;alg=/;tag="x";alg=/ });

# --- several signatures -----------------------------------------------

accepted('first signature unknown key, second valid', key_id => 'no-such-key-1',
    secret => 'nope' x 8, label => 'a',
    more_signatures => [ { label => 'b', key_id => 'sig-key-1',
                           secret => $c->secret } ]);
accepted('first valid, second unknown key',
    more_signatures => [ { label => 'sig2', key_id => 'no-such-key-2',
                           secret => 'x' x 32 } ]);
accepted('first outside the profile, second valid',
    components => [qw(@method @target-uri)], label => 'a',
    more_signatures => [ { label => 'b' } ]);
refused(401, 'signature-invalid',
    'first known key with a bad MAC decides, a valid second does not help',
    secret => 'bad' x 11, label => 'a',
    more_signatures => [ { label => 'b', secret => $c->secret } ]);

# --- origin ----------------------------------------------------------

my $edge = Evbill::Client->new(url => $t->base_url . '/edge/',
    key_id => 'sig-key-1', secret => $c->secret,
    origin => 'https://edge.example.net');
accepted('evbill_signature_origin: the public target', client => $edge);
my $req = $edge->sign_request(path => $path, body => $t->reading_body($seq + 1));
like($req->{base}, qr{"\@target-uri": https://edge\.example\.net/edge/sessions/},
    'edge client signs the public URI');
accepted('evbill_signature_origin with @authority/@path', client => $edge,
    components => [qw(@method @authority @path content-digest)]);
$t->store_unchanged(sub {
    my $raw = Evbill::Client->new(url => $t->base_url . '/edge/',
        key_id => 'sig-key-1', secret => $c->secret);
    is_problem($raw->post($path, $t->reading_body($seq + 1)), 401,
        'signature-invalid', 'evbill_signature_origin: the raw http URI refused');
});

my $sess = $t->get_session('SIG-1', $sid);
is($sess->{json}{last_seq}, $seq, "exactly the accepted readings ($seq)");

$t->finish;
done_testing;
