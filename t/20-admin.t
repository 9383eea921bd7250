#!/usr/bin/perl
# Admin API: chargers, keys and rotation, session listing.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;
use MIME::Base64;

my $t = Evbill::Test->new;
$t->write_conf($t->std_conf(server => 'location /admin-denied/ { deny all; evbill_admin_api; }'));
$t->run;

my $s1 = Evbill::Test::random_secret();
my $s2 = Evbill::Test::random_secret();

# --- chargers --------------------------------------------------------

my $body = $t->default_charger_body;
$body->{keys} = [ { id => 'adm-k1', secret => encode_base64($s1, '') } ];

my $r = $t->put_charger('DE*EXA*C1', $body);
is($r->{status}, 201, 'PUT new charger: 201');
like($r->{headers}{'content-type'} || '', qr{^application/json}, 'json');
my $c = $r->{json} || {};
is($c->{charger_id}, 'DE*EXA*C1', 'charger_id');
is_deeply($c->{location}, $body->{location}, 'location echoed');
is_deeply($c->{connector}, $body->{connector}, 'connector echoed');
is($c->{evse_uid}, 'EVSE1', 'evse_uid');
is($c->{evse_id}, 'DE*EXA*E0001*1', 'evse_id');
is($c->{tariff_id}, 'TARIFF1', 'tariff_id');
ok(defined $c->{retired} && !$c->{retired}, 'not retired');
like($c->{created_at} || '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
    'created_at rendered');
is(ref $c->{keys}, 'ARRAY', 'keys listed');
is($c->{keys}[0]{id}, 'adm-k1', 'key id');
is($c->{keys}[0]{state}, 'active', 'key active');
my $b64 = encode_base64($s1, '');
unlike($r->{body}, qr/\Q$b64\E|secret/i, 'no secret in the answer');

$r = $t->put_charger('DE*EXA*C1', $body);
is($r->{status}, 200, 'PUT same charger again: 200');

$body->{location}{name} = 'Renamed Site';
$r = $t->put_charger('DE*EXA*C1', $body);
is($r->{status}, 200, 'PUT changed charger: 200');
$r = $t->get_charger('DE*EXA*C1');
is($r->{status}, 200, 'GET charger');
is($r->{json}{location}{name}, 'Renamed Site', 'update stored');
is($r->{json}{created_at}, $c->{created_at}, 'created_at kept');
ok(($r->{json}{updated_at} || '') ge $c->{created_at}, 'updated_at');
unlike($r->{body}, qr/\Q$b64\E|secret/i, 'GET: no secret');

# percent-decoded id: %2A is '*'
$r = $t->get('/admin/chargers/DE%2AEXA%2AC1');
is($r->{json}{charger_id}, 'DE*EXA*C1', 'percent-decoded charger id');

is_problem($t->get_charger('nosuch'), 404, 'unknown-charger', 'GET unknown charger');

# bad charger bodies
for my $case (
    [ 'missing location', sub { delete $_[0]{location} }, 400, 'missing-field' ],
    [ 'missing evse_uid', sub { delete $_[0]{evse_uid} }, 400, 'missing-field' ],
    [ 'location not an object', sub { $_[0]{location} = 'x' }, 400, 'invalid-type' ],
    [ 'max power a string', sub { $_[0]{connector}{max_electric_power} = '22' },
      400, 'invalid-type' ],
    [ 'short secret', sub { $_[0]{keys} = [ { id => 'kshort',
        secret => encode_base64('x' x 16, '') } ] }, 400, 'invalid-value' ],
    [ 'secret not base64', sub { $_[0]{keys} = [ { id => 'kbad',
        secret => '!!!notbase64!!!' } ] }, 400, 'invalid-value' ],
) {
    my ($name, $mut, $st, $type) = @$case;
    my $b = $t->default_charger_body;
    $mut->($b);
    $t->store_unchanged(sub {
        is_problem($t->put_charger('DE*EXA*BAD', $b), $st, $type,
            "PUT charger: $name");
    }, "$name: store unchanged");
}
is_problem($t->get_charger('DE*EXA*BAD'), 404, 'unknown-charger',
    'rejected charger not created');

# an id of 65 characters
$t->store_unchanged(sub {
    my $r = $t->put_charger('x' x 65, $t->default_charger_body);
    ok($r->{status} == 400 || $r->{status} == 404, 'charger id of 65 chars refused')
        or diag("$r->{status} $r->{body}");
});
$r = $t->put_charger('x' x 64, $t->default_charger_body);
is($r->{status}, 201, 'charger id of 64 chars accepted');

# --- keys ------------------------------------------------------------

# the same key id with another secret
my $b2 = $t->default_charger_body;
$b2->{keys} = [ { id => 'adm-k1', secret => encode_base64($s2, '') } ];
$t->store_unchanged(sub {
    is_problem($t->put_charger('DE*EXA*C1', $b2), 409, 'key-conflict',
        'PUT charger: existing key id, other secret');
});
# a key id owned by another charger
$t->store_unchanged(sub {
    is_problem($t->put_charger('DE*EXA*C2', { %$b2, keys => [
        { id => 'adm-k1', secret => encode_base64($s1, '') } ] }),
        409, 'key-conflict', 'PUT charger: key id of another charger');
});
is_problem($t->get_charger('DE*EXA*C2'), 404, 'unknown-charger',
    'conflicting charger not created');

$r = $t->put_key('DE*EXA*C1', 'adm-k2', $s2);
is($r->{status}, 201, 'PUT new key: 201');
is($r->{json}{id}, 'adm-k2', 'key id in answer') if $r->{json};
unlike($r->{body}, qr/secret/i, 'no secret in key answer');
is($t->put_key('DE*EXA*C1', 'adm-k2', $s2)->{status}, 200,
    'PUT same key again: 200');
$t->store_unchanged(sub {
    is_problem($t->put_key('DE*EXA*C1', 'adm-k2', $s1), 409, 'key-conflict',
        'PUT key with another secret');
});
$r = $t->put_charger('DE*EXA*C3', $t->default_charger_body);
is($r->{status}, 201, 'second charger');
$t->store_unchanged(sub {
    is_problem($t->put_key('DE*EXA*C3', 'adm-k2', $s2), 409, 'key-conflict',
        'PUT key id owned by another charger');
});
$t->store_unchanged(sub {
    is_problem($t->put_key('nosuch', 'adm-k9', $s2), 404, 'unknown-charger',
        'PUT key on unknown charger');
});
$t->store_unchanged(sub {
    is_problem($t->admin('PUT', 'chargers/DE*EXA*C1/keys/adm-k9',
        { secret => encode_base64('short', '') }), 400, 'invalid-value',
        'PUT key with a short secret');
});
$t->store_unchanged(sub {
    is_problem($t->admin('PUT', 'chargers/DE*EXA*C1/keys/adm-k9', {}),
        400, 'missing-field', 'PUT key without secret');
});

# --- rotation --------------------------------------------------------

my $c1 = $t->client(key_id => 'adm-k1', secret => $s1);
my $c2 = $t->client(key_id => 'adm-k2', secret => $s2);
$r = $c1->start($t->start_body(session_id => 'rot-1'));
is($r->{status}, 201, 'old key signs') or diag($r->{body});
$r = $c2->start($t->start_body(session_id => 'rot-2',
    timestamp => '2026-11-25T10:01:00Z'));
is($r->{status}, 201, 'new key signs while the old one still does')
    or diag($r->{body});
is($r->{json}{charger_id}, 'DE*EXA*C1', 'new key speaks for the charger');

$r = $t->admin('DELETE', 'chargers/DE*EXA*C1/keys/adm-k1');
is($r->{status}, 200, 'DELETE key: 200');
is($r->{json}{id}, 'adm-k1', 'retired key id');
is($r->{json}{state}, 'retired', 'retired key state');
like($r->{json}{retired_at} || '', qr/Z$/, 'retired_at');

$t->store_unchanged(sub {
    is_problem($c1->start($t->start_body(session_id => 'rot-3')), 401,
        'signature-invalid', 'retired key: 401');
});
$r = $c2->start($t->start_body(session_id => 'rot-4',
    timestamp => '2026-11-25T10:02:00Z'));
is($r->{status}, 201, 'new key still works');

$r = $t->get_charger('DE*EXA*C1');
my %ks = map { $_->{id} => $_ } @{ $r->{json}{keys} || [] };
is($ks{'adm-k1'}{state}, 'retired', 'GET: old key retired');
ok($ks{'adm-k1'}{retired_at}, 'GET: retired_at');
is($ks{'adm-k2'}{state}, 'active', 'GET: new key active');
ok(!exists $ks{'adm-k2'}{retired_at}, 'GET: no retired_at on active key');

is_problem($t->admin('DELETE', 'chargers/DE*EXA*C1/keys/nosuch'), 404,
    'unknown-key', 'DELETE unknown key');
is_problem($t->admin('DELETE', 'chargers/DE*EXA*C3/keys/adm-k2'), 404,
    'unknown-key', 'DELETE key through another charger');

# --- retiring a charger ----------------------------------------------

my $c4 = $t->charger(id => 'DE*EXA*C4');
$r = $c4->start($t->start_body(session_id => 'ret-1'));
is($r->{status}, 201, 'charger to retire works');
$r = $t->admin('DELETE', 'chargers/DE*EXA*C4');
is($r->{status}, 200, 'DELETE charger: 200');
ok($r->{json}{retired}, 'retired: true');
$t->store_unchanged(sub {
    is_problem($c4->reading('ret-1', $t->reading_body(1)), 401,
        'signature-invalid', 'retired charger: its key answers 401');
});
$r = $t->get_charger('DE*EXA*C4');
is($r->{status}, 200, 'retired charger still readable');
ok($r->{json}{retired}, 'GET: retired');
is($t->get_session('DE*EXA*C4', 'ret-1')->{status}, 200, 'history stays');
is_problem($t->admin('DELETE', 'chargers/nosuch'), 404, 'unknown-charger',
    'DELETE unknown charger');
$t->store_unchanged(sub {
    is_problem($t->put_key('DE*EXA*C4', 'k-after', $s2), 409,
        'charger-retired', 'PUT key on a retired charger');
});

# --- sessions listing ------------------------------------------------

my $lc = $t->charger(id => 'LIST1');
my @ids;
for my $i (1 .. 5) {
    my $sid = "L$i";
    push @ids, $sid;
    my $r = $lc->start($t->start_body(session_id => $sid,
        timestamp => sprintf('2026-11-25T1%d:00:00Z', $i)));
    is($r->{status}, 201, "start $sid");
}
for my $sid (qw(L1 L3)) {
    $r = $lc->stop($sid, { timestamp => '2026-11-25T19:00:00Z',
        meter_stop_wh => 2000 });
    is($r->{status}, 200, "stop $sid");
}

$r = $t->list_sessions(charger_id => 'LIST1');
is($r->{status}, 200, 'list sessions');
is_deeply([ map { $_->{session_id} } @{ $r->{json}{items} || [] } ],
    [qw(L5 L4 L3 L2 L1)], 'newest first');
ok(exists $r->{json}{next} && !defined $r->{json}{next}, 'next: null');
ok(!exists $r->{json}{items}[0]{readings}, 'no readings in the list');

my @seen;
my $after;
my $pages = 0;
while ($pages++ < 10) {
    my $r = $t->list_sessions(charger_id => 'LIST1', limit => 2,
        (defined $after ? (after => $after) : ()));
    is($r->{status}, 200, "page $pages");
    my @items = @{ $r->{json}{items} || [] };
    ok(@items <= 2, "page $pages: at most 2 items");
    push @seen, map { $_->{session_id} } @items;
    $after = $r->{json}{next};
    last unless defined $after;
}
is_deeply(\@seen, [qw(L5 L4 L3 L2 L1)], 'cursor walks all, no repeats');

$r = $t->list_sessions(charger_id => 'LIST1', state => 'stopped');
is_deeply([ map { $_->{session_id} } @{ $r->{json}{items} || [] } ],
    [qw(L3 L1)], 'state=stopped');
$r = $t->list_sessions(charger_id => 'LIST1', state => 'active');
is_deeply([ map { $_->{session_id} } @{ $r->{json}{items} || [] } ],
    [qw(L5 L4 L2)], 'state=active');
ok(!grep({ $_->{state} ne 'active' } @{ $r->{json}{items} || [] }),
    'active items are active');

$r = $t->list_sessions(charger_id => 'LIST1', state => 'active', limit => 1);
is(scalar @{ $r->{json}{items} || [] }, 1, 'filter + limit');
my $n = $r->{json}{next};
ok(defined $n, 'next given');
$r = $t->list_sessions(charger_id => 'LIST1', state => 'active', limit => 5,
    after => $n);
is_deeply([ map { $_->{session_id} } @{ $r->{json}{items} || [] } ],
    [qw(L4 L2)], 'filter + cursor');

$r = $t->list_sessions();
my %all = map { ("$_->{charger_id}/$_->{session_id}" => 1) }
    @{ $r->{json}{items} || [] };
ok($all{'LIST1/L1'} && $all{'DE*EXA*C1/rot-2'} && $all{'DE*EXA*C4/ret-1'},
    'without charger_id: all chargers');

# without a limit a page holds 100 (EVB_LIST_LIMIT_DEFAULT), with a cursor
{
    my $hc = $t->charger(id => 'LIST100');
    my $started = 0;
    for my $i (1 .. 101) {
        $started++ if $hc->start($t->start_body(session_id => "H$i",
            timestamp => Evbill::Test::ts_plus('2026-11-25T10:00:00Z',
                60 * $i)))->{status} == 201;
    }
    is($started, 101, '101 sessions started');
    my $r = $t->list_sessions(charger_id => 'LIST100');
    is(scalar @{ $r->{json}{items} || [] }, 100, 'default page: 100 items');
    ok(defined $r->{json}{next}, 'default page: next given');
    $r = $t->list_sessions(charger_id => 'LIST100', after => $r->{json}{next});
    is(scalar @{ $r->{json}{items} || [] }, 1, 'and the 101st after it');
}
$r = $t->list_sessions(charger_id => 'nosuch');
is($r->{status}, 200, 'unknown charger: empty list');
is_deeply($r->{json}{items}, [], 'empty items');

for my $q ('limit=0', 'limit=1001', 'limit=abc', 'limit=-1', 'limit=',
           'state=running', 'after=%%%', 'after=garbage!') {
    is_problem($t->get("/admin/sessions?charger_id=LIST1&$q"), 400,
        'invalid-query', "invalid query $q");
}
is($t->list_sessions(limit => 1000)->{status}, 200, 'limit=1000 allowed');

# single session
$r = $t->get_session('LIST1', 'L3');
is($r->{status}, 200, 'GET session');
is($r->{json}{state}, 'stopped', 'state');
is_deeply($r->{json}{readings}, [], 'readings: []');
is_problem($t->get_session('LIST1', 'nosuch'), 404, 'unknown-session',
    'GET unknown session');
is_problem($t->get_session('nosuch', 'L3'), 404, 'unknown-session',
    'GET session of unknown charger');

# --- store, methods, paths, access -----------------------------------

my $st = $t->store_stat;
for my $f (qw(schema_version txn_id map_size map_used chargers keys sessions
              readings readers_used max_readers)) {
    ok(defined $st->{$f}, "store: $f");
}
is($st->{map_size}, 64 * 1024 * 1024, 'map_size is size=64m');
ok($st->{chargers} >= 5 && $st->{sessions} >= 9, 'store counts');

$r = $t->admin('POST', 'chargers/DE*EXA*C1', $body);
is_problem($r, 405, 'method-not-allowed', 'POST on a charger');
is($r->{headers}{allow}, 'GET, HEAD, PUT, DELETE',
    'Allow lists every method that works on a charger, HEAD too');
$r = $t->admin('PUT', 'store', {});
is_problem($r, 405, 'method-not-allowed', 'PUT store');
is($r->{headers}{allow}, 'GET, HEAD', 'Allow: GET, HEAD on store');
is($t->admin('HEAD', 'store')->{status}, 200, 'and HEAD works there');
$r = $t->admin('DELETE', 'tariffs/T1');
is_problem($r, 405, 'method-not-allowed', 'DELETE a tariff');
is($r->{headers}{allow}, 'GET, HEAD, PUT', 'Allow: GET, HEAD, PUT on a tariff');
# every row of the routes table: Allow from the table, HEAD where GET is
my @allow = (
    [ 'chargers/DE*EXA*C1/keys/k1', 'GET',    'PUT, DELETE' ],
    [ 'sessions/LIST1/L3',          'PUT',    'GET, HEAD' ],
    [ 'sessions',                   'POST',   'GET, HEAD' ],
    [ 'tariffs/T1/versions/1',      'PUT',    'GET, HEAD' ],
    [ 'rate',                       'GET',    'POST' ],
    [ 'cdrs/LIST1/L3',              'DELETE', 'GET, HEAD' ],
    [ 'customers',                  'POST',   'GET, HEAD' ],
    [ 'customers/C1',               'POST',   'GET, HEAD, PUT, DELETE' ],
    [ 'tokens/T1',                  'POST',   'GET, HEAD, PUT, DELETE' ],
);
for my $a (@allow) {
    my ($path, $m, $allow) = @$a;
    $r = $t->admin($m, $path);
    is_problem($r, 405, 'method-not-allowed', "$m $path");
    is($r->{headers}{allow}, $allow, "Allow: $allow on $path");
}
$r = $t->admin('OPTIONS', 'store');
is_problem($r, 405, 'method-not-allowed', 'OPTIONS store');
is($r->{headers}{allow}, 'GET, HEAD', 'Allow on OPTIONS too');
is($t->admin('HEAD', 'sessions')->{status}, 200, 'HEAD on the session list');
is($t->admin('HEAD', 'tariffs/T1')->{status}, 404,
    'HEAD on an unknown tariff: 404, not 405');
is($t->admin('HEAD', 'sessions/LIST1/L3')->{status}, 200,
    'HEAD on a session');
# a bad id in the path is refused before the method (as before)
is_problem($t->admin('POST', 'chargers/a%01b'), 400, 'invalid-value',
    'bad charger id before the method check');
is_problem($t->get('/admin/nothing'), 404, 'not-found', 'unknown admin path');
is_problem($t->get('/admin/store/x'), 404, 'not-found', 'store has no child');
is_problem($t->get('/admin/chargers/a/b/c/d/e/f/g/h/i'), 404, 'not-found',
    'a path deeper than any route');
is_problem($t->get('/admin/chargers'), 404, 'not-found', 'no charger id');
$r = $t->get('/admin-denied/store');
is($r->{status}, 403, 'nginx access control applies to the admin API');

$t->finish;
done_testing;
