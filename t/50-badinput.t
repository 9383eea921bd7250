#!/usr/bin/perl
# Bad input: every malformed or invalid body answers its problem type
# and writes nothing.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;

my $t = Evbill::Test->new;
$t->write_conf($t->std_conf);
$t->run;

my $c = $t->charger(id => 'BAD-1');
my $sid = 'bad-sess';
is($c->start($t->start_body(session_id => $sid))->{status}, 201, 'start');
my $rpath = "sessions/$sid/readings";

# Post a raw body (signed as it is) and expect a problem; store unchanged.
# With ptr, the refusal is a field's: the problem's errors list it first,
# at that JSON Pointer, with the problem's own type.
sub bad {
    my ($path, $body, $status, $type, $name, %o) = @_;
    my $ptr = delete $o{ptr};
    $t->store_unchanged(sub {
        my $r = $c->post($path, $body, %o);
        is_problem($r, $status, $type, $name);
        if (defined $ptr) {
            my $e = ($r->{json}{errors} // [])->[0] // {};
            is($e->{pointer}, $ptr, "$name: errors[0] at '$ptr'");
            is($e->{type}, "urn:evbill:problem:$type", "$name: its type");
            ok(defined $e->{detail} && length $e->{detail},
                "$name: its detail");
        } else {
            ok(!exists $r->{json}{errors}, "$name: no field errors");
        }
    }, "$name: store unchanged");
}

sub good {
    my ($path, $body, $name, %o) = @_;
    my $r = $c->post($path, $body, %o);
    ok($r->{status} == 200 || $r->{status} == 201, "accepted: $name")
        or diag("$r->{status} $r->{body}");
    return $r;
}

my $seq = 0;
sub rd { $t->json->encode($t->reading_body($seq + 1, @_)) }
sub rd_raw {    # a reading body with raw JSON pieces substituted
    my (%raw) = @_;
    my %b = (seq => $seq + 1,
        timestamp => '"' . Evbill::Test::ts_plus('2026-11-25T10:00:00Z',
            60 * ($seq + 1)) . '"',
        energy_wh => 1000 + 100 * ($seq + 1));
    %b = (%b, %raw);
    return '{' . join(',', map { "\"$_\":$b{$_}" } grep { defined $b{$_} }
        sort keys %b) . '}';
}

# --- syntax ----------------------------------------------------------

bad($rpath, '{"seq":1,', 400, 'malformed-json', 'truncated JSON');
my $full = rd();
bad($rpath, substr($full, 0, length($full) - 5), 400, 'malformed-json',
    'valid reading cut short');
bad($rpath, "{'seq': 1}", 400, 'malformed-json', 'single quotes');
bad($rpath, '{"seq":1}}', 400, 'malformed-json', 'trailing garbage');
bad($rpath, '{"seq":1} {"seq":2}', 400, 'malformed-json', 'two documents');
bad($rpath, '', 400, 'malformed-json', 'empty body');
bad("sessions/$sid/stop", '', 400, 'malformed-json',
    'empty stop body (Content-Length: 0)');
bad($rpath, 'null', 400, 'invalid-type', 'JSON null', ptr => '');
bad($rpath, '[1,2]', 400, 'invalid-type', 'top-level array', ptr => '');
bad($rpath, '"reading"', 400, 'invalid-type', 'top-level string', ptr => '');
bad($rpath, rd_raw(seq => '01'), 400, 'malformed-json', 'leading zero');
bad($rpath, rd_raw(seq => 'NaN'), 400, 'malformed-json', 'NaN');

# --- types and fields ------------------------------------------------

bad($rpath, rd_raw(seq => '"1"'), 400, 'invalid-type', 'seq as a string',
    ptr => '/seq');
bad($rpath, rd_raw(energy_wh => 'true'), 400, 'invalid-type', 'energy_wh boolean',
    ptr => '/energy_wh');
bad($rpath, rd_raw(energy_wh => 'null'), 400, 'invalid-type', 'energy_wh null',
    ptr => '/energy_wh');
bad($rpath, rd_raw(timestamp => '1764064800'), 400, 'invalid-type',
    'timestamp as a number', ptr => '/timestamp');
bad($rpath, rd_raw(power_w => '"11kW"'), 400, 'invalid-type', 'power_w string',
    ptr => '/power_w');
bad($rpath, rd_raw(current_a => '"16"'), 400, 'invalid-type', 'current_a string',
    ptr => '/current_a');
# more decimals than allowed break the field's rule (as for prices);
# only a value too large is out of range
bad($rpath, rd_raw(current_a => '16.1234567'), 400, 'invalid-value',
    'current_a with 7 decimals', ptr => '/current_a');
bad($rpath, rd_raw(current_a => '1e30'), 400, 'number-out-of-range',
    'current_a above 64 bits', ptr => '/current_a');
bad($rpath, rd_raw(ocmf => '{"a":1}'), 400, 'invalid-type', 'ocmf object',
    ptr => '/ocmf');
bad($rpath, '{"readings":{"seq":1}}', 400, 'invalid-type', 'readings an object',
    ptr => '/readings');
bad($rpath, '{"readings":[1]}', 400, 'invalid-type', 'readings of numbers',
    ptr => '/readings/0');
bad($rpath, rd_raw(state => '"flying"'), 400, 'invalid-value', 'state unknown',
    ptr => '/state');
bad($rpath, rd_raw(timestamp => '"yesterday"'), 400, 'invalid-value',
    'timestamp not RFC 3339', ptr => '/timestamp');
bad($rpath, rd_raw(timestamp => '"2026-13-01T00:00:00Z"'), 400,
    'invalid-value', 'month 13', ptr => '/timestamp');
bad($rpath, rd_raw(timestamp => '"2026-11-25T10:00:00"'), 400,
    'invalid-value', 'timestamp without zone', ptr => '/timestamp');
bad($rpath, rd_raw(seq => undef), 400, 'missing-field', 'seq missing',
    ptr => '/seq');
bad($rpath, rd_raw(timestamp => undef), 400, 'missing-field', 'timestamp missing',
    ptr => '/timestamp');
bad($rpath, rd_raw(energy_wh => undef), 400, 'missing-field', 'energy_wh missing',
    ptr => '/energy_wh');
bad($rpath, '{}', 400, 'missing-field', 'empty object', ptr => '/seq');

# numbers
bad($rpath, rd_raw(energy_wh => '18446744073709551616'), 400,
    'number-out-of-range', 'energy_wh 2^64', ptr => '/energy_wh');
bad($rpath, rd_raw(energy_wh => '9223372036854775808'), 400,
    'number-out-of-range', 'energy_wh 2^63', ptr => '/energy_wh');
bad($rpath, rd_raw(seq => '99999999999999999999999'), 400,
    'number-out-of-range', 'seq beyond 64 bits', ptr => '/seq');
bad($rpath, rd_raw(energy_wh => '-18446744073709551617'), 400,
    'number-out-of-range', 'energy_wh -2^64-1', ptr => '/energy_wh');
bad($rpath, rd_raw(energy_wh => '1500.5'), 400, 'not-an-integer', 'energy_wh 1500.5',
    ptr => '/energy_wh');
bad($rpath, rd_raw(seq => '1.5'), 400, 'not-an-integer', 'seq 1.5',
    ptr => '/seq');
bad($rpath, rd_raw(power_w => '11000.25'), 400, 'not-an-integer', 'power_w fraction',
    ptr => '/power_w');
{
    my $r = $c->post($rpath, rd_raw(seq => '0'));
    my $ty = ($r->{json}{type} // '') =~ s/^urn:evbill:problem://r;
    is_problem($r, 400, $ty =~ /^(invalid-value|number-out-of-range)$/ ? $ty
        : 'invalid-value', 'seq 0');
}

# encodings
bad($rpath, rd_raw(ocmf => "\"OCMF\xff\xfe\""), 400, 'invalid-encoding',
    'non-UTF-8 bytes in a string');
bad($rpath, rd_raw(ocmf => "\"\xc3\x28\""), 400, 'invalid-encoding',
    'invalid UTF-8 sequence');
bad($rpath, rd_raw(ocmf => "\"\xed\xa0\x80\""), 400, 'invalid-encoding',
    'UTF-8 encoded surrogate');
bad($rpath, rd_raw(ocmf => '"a\u0000b"'), 400, 'invalid-encoding',
    'escaped NUL in a string');
bad($rpath, rd_raw(ocmf => "\"a\x00b\""), 400, 'malformed-json',
    'raw NUL byte in a string');
bad($rpath, rd_raw("\xffkey" => '1'), 400, 'invalid-encoding',
    'non-UTF-8 key');

# duplicate keys
bad($rpath, rd_raw() =~ s/^\{/{"seq":7,/r, 400, 'duplicate-key', 'seq twice');
bad($rpath, '{"readings":[' . rd_raw(foo => '1', bar => '2') =~ s/^\{/{"foo":3,/r
    . ']}', 400, 'duplicate-key', 'unknown key twice, inside a batch');

# depth: 32 levels is the limit
sub nested { my ($n) = @_; ('[' x $n) . (']' x $n) }
bad($rpath, rd_raw(x => nested(100)), 400, 'nesting-too-deep', 'depth 101');
bad($rpath, rd_raw(x => nested(32)), 400, 'nesting-too-deep', 'depth 33');
good($rpath, rd_raw(x => nested(31)), 'depth 32 (an ignored field)');
$seq++;

# unknown fields are ignored
my $r = good($rpath, rd_raw(foo => '"bar"', meter => '{"x":[1,2,{"y":null}]}'),
    'unknown fields');
$seq++;
is($r->{json}{last_seq}, $seq, 'unknown fields: stored');

# limits
my $big = 'O' x 16384;
good($rpath, rd_raw(ocmf => "\"$big\""), 'ocmf of 16384 bytes');
$seq++;
bad($rpath, rd_raw(ocmf => "\"${big}X\""), 400, 'invalid-value',
    'ocmf of 16385 bytes', ptr => '/ocmf');
bad($rpath, { readings => [ map { $t->reading_body($seq + $_) } 1 .. 1001 ] },
    400, 'invalid-value', 'batch of 1001 readings', ptr => '/readings');
bad($rpath, { readings => [] }, 400, 'invalid-value', 'batch of none',
    ptr => '/readings');
$r = good($rpath, { readings => [ map { $t->reading_body($seq + $_) } 1 .. 1000 ] },
    'batch of 1000 readings');
is($r->{json}{accepted}, 1000, '1000 accepted');
$seq += 1000;

# --- start and stop bodies -------------------------------------------

my $sb = $t->start_body(session_id => 'bad-start');
sub without { my ($h, $k) = @_; my %c = %$h; delete $c{$k}; \%c }
bad('sessions', { %$sb, session_id => undef }, 400, 'invalid-type',
    'start with session_id null', ptr => '/session_id');
bad('sessions', without($sb, 'session_id'), 400, 'missing-field', 'start without session_id',
    ptr => '/session_id');
bad('sessions', without($sb, 'id_token'), 400, 'missing-field', 'start without id_token',
    ptr => '/id_token');
bad('sessions', without($sb, 'connector_id'), 400, 'missing-field', 'start without connector_id',
    ptr => '/connector_id');
bad('sessions', without($sb, 'timestamp'), 400, 'missing-field', 'start without timestamp',
    ptr => '/timestamp');
bad('sessions', without($sb, 'meter_start_wh'), 400, 'missing-field', 'start without meter_start_wh',
    ptr => '/meter_start_wh');
bad('sessions', { %$sb, connector_id => '1' }, 400, 'invalid-type', 'connector_id a string',
    ptr => '/connector_id');
bad('sessions', { %$sb, id_token => 42 }, 400, 'invalid-type', 'id_token a number',
    ptr => '/id_token');
bad('sessions', { %$sb, token_type => 'CARD' }, 400, 'invalid-value', 'unknown token_type',
    ptr => '/token_type');
bad('sessions', { %$sb, session_id => 'x' x 65 }, 400, 'invalid-value', 'session_id of 65',
    ptr => '/session_id');
# session_id and id_token reach the CDR: OCPI CiString(36)
bad('sessions', { %$sb, session_id => 'x' x 37 }, 400, 'invalid-value', 'session_id of 37',
    ptr => '/session_id');
bad('sessions', { %$sb, id_token => 'T' x 37 }, 400, 'invalid-value', 'id_token of 37',
    ptr => '/id_token');
bad('sessions', { %$sb, id_token => "T\x{e9}" }, 400, 'invalid-value',
    'id_token not ASCII', ptr => '/id_token');
bad('sessions', { %$sb, id_token => "T\tX" }, 400, 'invalid-value',
    'id_token with a tab', ptr => '/id_token');
bad('sessions', { %$sb, session_id => '' }, 400, 'invalid-value', 'empty session_id',
    ptr => '/session_id');
bad('sessions', { %$sb, session_id => 'a/b' }, 400, 'invalid-value', "session_id with '/'",
    ptr => '/session_id');
# nginx normalises "." and ".." out of a path: such a session could never
# be addressed again
bad('sessions', { %$sb, session_id => '.' }, 400, 'invalid-value', 'session_id "."',
    ptr => '/session_id');
bad('sessions', { %$sb, session_id => '..' }, 400, 'invalid-value', 'session_id ".."',
    ptr => '/session_id');
bad('sessions', { %$sb, tariff_id => '..' }, 400, 'invalid-value', 'tariff_id ".."',
    ptr => '/tariff_id');
bad('sessions', { %$sb, session_id => "a\tb" }, 400, 'invalid-value', 'session_id with a tab',
    ptr => '/session_id');
bad('sessions', { %$sb, session_id => "caf\x{e9}" }, 400, 'invalid-value',
    'session_id not ASCII', ptr => '/session_id');
bad('sessions', { %$sb, id_token => 'T' x 256 }, 400, 'invalid-value', 'id_token of 256',
    ptr => '/id_token');
bad('sessions', { %$sb, tariff_id => 'x' x 65 }, 400, 'invalid-value', 'tariff_id of 65',
    ptr => '/tariff_id');
bad('sessions', { %$sb, tariff_id => 'x' x 37 }, 400, 'invalid-value',
    'tariff_id of 37 (no tariff has a longer id than 36)', ptr => '/tariff_id');
bad('sessions', '{"session_id":"a","session_id":"b"}', 400, 'duplicate-key',
    'start with a duplicate key');
# the entries above were refused: the id is free
$r = $c->start({ %$sb, foo => [1, 2] });
is($r->{status}, 201, 'start with an unknown field accepted');
$r = $c->start($t->start_body(session_id => 'x' x 36));
is($r->{status}, 201, 'session_id of 36 accepted');
$r = $c->start($t->start_body(id_token => 'T' x 36));
is($r->{status}, 201, 'id_token of 36 accepted');
bad('sessions/bad-start/stop', { timestamp => '2026-11-25T12:00:00Z' }, 400,
    'missing-field', 'stop without meter_stop_wh', ptr => '/meter_stop_wh');
bad('sessions/bad-start/stop', { meter_stop_wh => 2000 }, 400,
    'missing-field', 'stop without timestamp', ptr => '/timestamp');
bad('sessions/bad-start/stop', { timestamp => '2026-11-25T12:00:00Z',
    meter_stop_wh => 2000.5 }, 400, 'not-an-integer', 'stop meter_stop_wh 2000.5',
    ptr => '/meter_stop_wh');
bad('sessions/bad-start/stop', { timestamp => '2026-11-25T12:00:00Z',
    meter_stop_wh => 2000, reason => 'R' x 65 }, 400, 'invalid-value',
    'stop reason too long', ptr => '/reason');

# --- media type, size, method ----------------------------------------

bad($rpath, rd(), 415, 'unsupported-media-type', 'text/plain',
    content_type => 'text/plain');
bad($rpath, rd(), 415, 'unsupported-media-type', 'no Content-Type',
    content_type => undef,
    components => [qw(@method @target-uri content-digest)]);
bad($rpath, rd(), 415, 'unsupported-media-type', 'application/jsonx',
    content_type => 'application/jsonx');
good($rpath, rd_raw(), 'application/json; charset=utf-8',
    content_type => 'application/json; charset=utf-8');
$seq++;
good($rpath, rd_raw(), 'Application/JSON', content_type => 'Application/JSON');
$seq++;

my $huge = $t->json->encode($t->reading_body($seq + 1, ocmf => 'Z' x (300 * 1024)));
bad($rpath, $huge, 413, 'body-too-large', 'body over client_max_body_size');
$t->store_unchanged(sub {
    my $r = $c->request(method => 'POST', path => $rpath, body => $huge,
        chunked => 1);
    is_problem($r, 413, 'body-too-large', 'chunked body over the limit');
}, 'chunked too large: store unchanged');
$r = $c->request(method => 'POST', path => $rpath, body => rd(), chunked => 1);
is($r->{status}, 200, 'chunked body under the limit accepted')
    or diag("$r->{status} $r->{body}");
$seq++;

for my $m (qw(GET PUT DELETE PATCH)) {
    $t->store_unchanged(sub {
        my $r = $c->request(method => $m, path => $rpath, body => rd());
        is_problem($r, 405, 'method-not-allowed', "$m readings");
        like($r->{headers}{allow} // '', qr/\bPOST\b/, "$m: Allow: POST");
    });
}

# --- admin bodies ----------------------------------------------------

$t->store_unchanged(sub {
    is_problem($t->admin('PUT', 'chargers/BAD-2', '{"location":'), 400,
        'malformed-json', 'admin: truncated JSON');
    is_problem($t->admin('PUT', 'chargers/BAD-2', '{"evse_uid":"a","evse_uid":"b"}'),
        400, 'duplicate-key', 'admin: duplicate key');
    is_problem($t->http('PUT', '/admin/chargers/BAD-2', body =>
        $t->json->encode($t->default_charger_body),
        headers => { 'content-type' => 'text/plain' }), 415,
        'unsupported-media-type', 'admin: text/plain');
    my $big = $t->default_charger_body;
    $big->{location}{name} = 'N' x (300 * 1024);
    is_problem($t->put_charger('BAD-2', $big), 413, 'body-too-large',
        'admin: body over client_max_body_size');
}, 'admin bad bodies: store unchanged');

# --- every bad field, with its JSON Pointer -----------------------------

sub errors_at {
    my ($r) = @_;
    return { map { ($_->{pointer} => $_->{type} =~ s/^urn:evbill:problem://r) }
        @{ $r->{json}{errors} // [] } };
}

$t->store_unchanged(sub {
    my $r = $c->post($rpath, { readings => [
        $t->reading_body($seq + 1),
        { %{ $t->reading_body($seq + 2) }, energy_wh => -1, state => 'x' },
        { %{ $t->reading_body($seq + 3) }, timestamp => 'yesterday' } ] });
    is_problem($r, 400, 'invalid-value', 'a batch with three bad fields');
    like($r->{json}{detail}, qr/^readings\[1\]\.energy_wh: /,
        'batch: the detail is the first refusal, as before');
    is_deeply(errors_at($r), {
        '/readings/1/energy_wh' => 'invalid-value',
        '/readings/1/state' => 'invalid-value',
        '/readings/2/timestamp' => 'invalid-value' },
        'batch: every bad field at its pointer');

    $r = $c->post('sessions', { connector_id => 0, id_token => 7,
        timestamp => 'now', meter_start_wh => 1 });
    is_problem($r, 400, 'missing-field', 'a start with four bad fields');
    is_deeply(errors_at($r), { '/session_id' => 'missing-field',
        '/connector_id' => 'invalid-value', '/id_token' => 'invalid-type',
        '/timestamp' => 'invalid-value' }, 'start: every bad field');

    $r = $c->post("sessions/$sid/stop", { meter_stop_wh => 'x',
        reason => 'R' x 65 });
    is_problem($r, 400, 'missing-field', 'a stop with three bad fields');
    is_deeply(errors_at($r), { '/timestamp' => 'missing-field',
        '/meter_stop_wh' => 'invalid-type', '/reason' => 'invalid-value' },
        'stop: every bad field');
}, 'field errors: store unchanged');

$t->store_unchanged(sub {
    my $b = $t->default_charger_body;
    $b->{location}{country} = 'de';
    $b->{location}{coordinates}{latitude} = '91.00000';
    delete $b->{evse_id};
    $b->{connector}{power_type} = 'AC';
    $b->{keys} = [ { id => 'k1', secret => 'eA==' }, 'k2' ];
    my $r = $t->put_charger('BAD-3', $b);
    is_problem($r, 400, 'invalid-value', 'admin: a charger with bad fields');
    like($r->{json}{detail}, qr/^location\.country: /,
        'admin charger: the detail is the first refusal');
    is_deeply(errors_at($r), {
        '/location/country' => 'invalid-value',
        '/location/coordinates/latitude' => 'invalid-value',
        '/evse_id' => 'missing-field',
        '/connector/power_type' => 'invalid-value',
        '/keys/0/secret' => 'invalid-value',
        '/keys/1' => 'invalid-type' },
        'admin charger: every bad field at its pointer');

    # OCPI 2.2.1's limits on what reaches a CDR (issue 9)
    $b = $t->default_charger_body;
    $b->{location}{id} = 'L' x 37;
    $b->{location}{address} = 'A' x 46;
    $b->{location}{city} = 'C' x 46;
    $b->{location}{postal_code} = '12345678901';
    $b->{location}{name} = "Depot\nNord";
    $b->{evse_uid} = 'E' x 37;
    $b->{evse_id} = 'DE*EXA*' . ('1' x 42);
    $b->{connector}{standard} = 'T2';
    $b->{tariff_id} = 'T' x 37;
    $r = $t->put_charger('BAD-4', $b);
    is_problem($r, 400, 'invalid-value', 'admin: a charger beyond OCPI limits');
    like($r->{json}{detail}, qr/^location\.id: /,
        'OCPI limits: the detail is the first refusal');
    is_deeply(errors_at($r), {
        '/location/id' => 'invalid-value',
        '/location/name' => 'invalid-value',
        '/location/address' => 'invalid-value',
        '/location/city' => 'invalid-value',
        '/location/postal_code' => 'invalid-value',
        '/evse_uid' => 'invalid-value',
        '/evse_id' => 'invalid-value',
        '/connector/standard' => 'invalid-value',
        '/tariff_id' => 'invalid-value' },
        'OCPI limits: every field at its pointer');

    $r = $t->admin('PUT', 'chargers/BAD-1/keys/k9', { secret => 5 });
    is_problem($r, 400, 'invalid-type', 'admin: a key with a number secret');
    is_deeply(errors_at($r), { '/secret' => 'invalid-type' },
        'admin key: /secret');

    $r = $t->admin('PUT', 'chargers/BAD-1/keys/k9', []);
    is_problem($r, 400, 'invalid-type', 'admin: a key body not an object');
    is_deeply(errors_at($r), { '' => 'invalid-type' },
        'admin key: the whole body, pointer ""');
}, 'admin field errors: store unchanged');

# the dry run: each refusal names its field
{
    my $tariff = { country_code => 'DE', party_id => 'EXA', id => 'T',
        currency => 'EUR', last_updated => '2026-01-01T00:00:00Z',
        elements => [{ price_components => [{ type => 'ENERGY',
            price => 0.25, step_size => 1 }] }] };
    my $period = { start_date_time => '2026-01-01T00:00:00Z',
        dimensions => [{ type => 'ENERGY', volume => 2 }] };
    my $req = sub {
        my (%o) = @_;
        my $q = { time_zone => 'Europe/Berlin', tariffs => [$tariff],
            session => { start_date_time => '2026-01-01T00:00:00Z',
                end_date_time => '2026-01-01T01:00:00Z',
                charging_periods => [ $period, $period ] } };
        $o{$_}->($q) for sort keys %o;
        return $q;
    };
    my @cases = (
        [ 'not an object', [], 'invalid-type', '' ],
        [ 'policy', $req->(a => sub { $_[0]{policy} = 1 }),
          'invalid-type', '/policy' ],
        [ 'rounding', $req->(a => sub { $_[0]{policy} = { rounding => 'up' } }),
          'invalid-value', '/policy/rounding' ],
        [ 'no_step_size', $req->(a => sub {
              $_[0]{policy} = { no_step_size => 1 } }),
          'invalid-type', '/policy/no_step_size' ],
        [ 'ignore_min_max', $req->(a => sub {
              $_[0]{policy} = { ignore_min_max => 'yes' } }),
          'invalid-type', '/policy/ignore_min_max' ],
        [ 'no time_zone', $req->(a => sub { delete $_[0]{time_zone} }),
          'missing-field', '/time_zone' ],
        [ 'time_zone a number', $req->(a => sub { $_[0]{time_zone} = 1 }),
          'invalid-type', '/time_zone' ],
        [ 'unknown zone', $req->(a => sub { $_[0]{time_zone} = 'Mars/Base' }),
          'unknown-time-zone', '/time_zone' ],
        [ 'no tariffs', $req->(a => sub { delete $_[0]{tariffs} }),
          'missing-field', '/tariffs' ],
        [ 'tariffs an object', $req->(a => sub { $_[0]{tariffs} = {} }),
          'invalid-type', '/tariffs' ],
        [ 'bad tariff', $req->(a => sub { $_[0]{tariffs} = [ $tariff,
              { %$tariff, currency => 5 } ] }),
          'invalid-type', '/tariffs/1/currency' ],
        [ 'no session', $req->(a => sub { delete $_[0]{session} }),
          'missing-field', '/session' ],
        [ 'session a string', $req->(a => sub { $_[0]{session} = 's' }),
          'invalid-type', '/session' ],
        [ 'no start', $req->(a => sub {
              delete $_[0]{session}{start_date_time} }),
          'missing-field', '/session/start_date_time' ],
        [ 'bad end', $req->(a => sub {
              $_[0]{session}{end_date_time} = 'later' }),
          'invalid-value', '/session/end_date_time' ],
        [ 'end before start', $req->(a => sub {
              $_[0]{session}{end_date_time} = '2025-01-01T00:00:00Z' }),
          'invalid-value', '/session/end_date_time' ],
        [ 'no periods', $req->(a => sub {
              delete $_[0]{session}{charging_periods} }),
          'missing-field', '/session/charging_periods' ],
        [ 'periods an object', $req->(a => sub {
              $_[0]{session}{charging_periods} = {} }),
          'invalid-type', '/session/charging_periods' ],
        [ 'a period not an object', $req->(a => sub {
              $_[0]{session}{charging_periods}[1] = 3 }),
          'invalid-type', '/session/charging_periods/1' ],
        [ 'a period without start', $req->(a => sub {
              $_[0]{session}{charging_periods}[1] = { dimensions => [] } }),
          'missing-field', '/session/charging_periods/1/start_date_time' ],
        [ 'tariff_id a number', $req->(a => sub {
              $_[0]{session}{charging_periods}[1] = { %$period,
                  tariff_id => 1 } }),
          'invalid-type', '/session/charging_periods/1/tariff_id' ],
        [ 'no dimensions', $req->(a => sub {
              $_[0]{session}{charging_periods}[1] = {
                  start_date_time => '2026-01-01T00:30:00Z' } }),
          'missing-field', '/session/charging_periods/1/dimensions' ],
        [ 'dimensions an object', $req->(a => sub {
              $_[0]{session}{charging_periods}[1] = { %$period,
                  dimensions => {} } }),
          'invalid-type', '/session/charging_periods/1/dimensions' ],
        [ 'a bad dimension', $req->(a => sub {
              $_[0]{session}{charging_periods}[1] = { %$period,
                  dimensions => [ { type => 'ENERGY' } ] } }),
          'invalid-type', '/session/charging_periods/1/dimensions/0' ],
        [ 'an energy volume too fine', $req->(a => sub {
              $_[0]{session}{charging_periods}[0] = { %$period,
                  dimensions => [ { type => 'TIME', volume => 1 },
                                  { type => 'ENERGY',
                                    volume => 0.0000000001 } ] } }),
          'number-out-of-range',
          '/session/charging_periods/0/dimensions/1/volume' ],
        [ 'an unknown tariff_id', $req->(a => sub {
              $_[0]{session}{charging_periods}[1] = { %$period,
                  start_date_time => '2026-01-01T00:30:00Z',
                  tariff_id => 'NOPE' } }),
          'no-tariff', '/session/charging_periods/1/tariff_id' ],
    );
    $t->store_unchanged(sub {
        for my $k (@cases) {
            my ($name, $body, $type, $ptr) = @$k;
            my $r = $t->admin('POST', 'rate', $body);
            is_problem($r, $type eq 'no-tariff'
                ? 422 : 400, $type, "rate: $name");
            my $e = ($r->{json}{errors} // [])->[0] // {};
            is($e->{pointer}, $ptr, "rate: $name: errors[0] at '$ptr'");
            is($e->{type}, "urn:evbill:problem:$type", "rate: $name: type");
        }
    }, 'dry-run refusals: store unchanged');
}

my $sess = $t->get_session('BAD-1', $sid);
is($sess->{json}{last_seq}, $seq, "exactly the accepted readings (last_seq $seq)");
is(scalar @{ $sess->{json}{readings} || [] }, $seq, "$seq readings stored");

$t->finish;
done_testing;
