#!/usr/bin/perl
# The driver API and receipt links (issue 10): two customers with
# interleaved sessions each see only their own sessions, invoices and
# credit notes, newest first, in the driver's view; another customer's
# session, invoice or credit note answers byte for byte as a missing one
# (status, headers, body) in every format, and no identity is 401;
# receipt links from the stop answer and the admin invoice open the
# invoice on the public location, and a tampered signature, a tampered
# number, an expired link, another invoice's link or missing parameters
# answer exactly as a missing invoice; nginx -t checks the directives.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;
use Evbill::ExactJSON qw(jdecode);
use Digest::SHA qw(hmac_sha256);
use MIME::Base64 qw(encode_base64url);
use JSON::PP;

my $t = Evbill::Test->new;
$t->allow_alerts(qr/receipt/);

{
    local $/;
    open my $f, '<', "$FindBin::Bin/fixtures/invoice/seller.json" or die;
    $t->write_file('seller.json', <$f>);
}

my $KEY = join '', map { chr(int rand 256) } 1 .. 40;
$t->write_file('receipt.key', $KEY, 0600);

my $APP = 'location /app/ { evbill_app_api; '
    . 'evbill_customer $http_x_test_customer; } '
    . 'location /public/ { evbill_app_api public; }';
my $RECEIPTS = 'evbill_receipt_key_file %%TESTDIR%%/receipt.key; '
    . 'evbill_receipt_base http://127.0.0.1:%%PORT%%/public/receipts/; '
    . 'evbill_receipt_ttl 1h;';

# --- nginx -t ---------------------------------------------------------------

sub conf_fails {
    my ($http, $re, $name) = @_;
    $t->write_conf($t->std_conf(server => $APP,
        http => "evbill_seller_file %%TESTDIR%%/seller.json; $http"));
    my ($rc, $out) = $t->test_config;
    ok($rc != 0 && $out =~ /\[emerg\]/ && $out =~ $re, "nginx -t: $name")
        or diag($out);
}

$t->write_file('short.key', 'x' x 31, 0600);
$t->write_file('open.key', 'y' x 32, 0644);
$t->write_file('long.key', 'z' x 1025, 0600);

conf_fails('evbill_receipt_key_file %%TESTDIR%%/short.key; '
    . 'evbill_receipt_base https://ev.example/public/receipts/;',
    qr/receipt key file ".*short\.key" must hold 32 to 1024 bytes/,
    'a key of 31 bytes');
conf_fails('evbill_receipt_key_file %%TESTDIR%%/long.key; '
    . 'evbill_receipt_base https://ev.example/public/receipts/;',
    qr/must hold 32 to 1024 bytes/, 'a key of more than 1024 bytes');
conf_fails('evbill_receipt_key_file %%TESTDIR%%/open.key; '
    . 'evbill_receipt_base https://ev.example/public/receipts/;',
    qr/receipt key file ".*open\.key" is accessible by group or others/,
    'a key file others can read');
conf_fails('evbill_receipt_key_file %%TESTDIR%%/none.key; '
    . 'evbill_receipt_base https://ev.example/public/receipts/;',
    qr/cannot open receipt key file ".*none\.key"/, 'a missing key file');
conf_fails('evbill_receipt_key_file %%TESTDIR%%/receipt.key;',
    qr/"evbill_receipt_key_file" needs "evbill_receipt_base"/,
    'a key without a base');
conf_fails('evbill_receipt_base https://ev.example/public/receipts/;',
    qr/"evbill_receipt_base" needs "evbill_receipt_key_file"/,
    'a base without a key');
conf_fails('evbill_receipt_key_file %%TESTDIR%%/receipt.key; '
    . 'evbill_receipt_base https://ev.example/public/receipts;',
    qr/"evbill_receipt_base" must be an absolute http\(s\) URL ending in '\/'/,
    'a base without a final /');
conf_fails('evbill_receipt_key_file %%TESTDIR%%/receipt.key; '
    . 'evbill_receipt_base /public/receipts/;',
    qr/must be an absolute http\(s\) URL/, 'a relative base');
conf_fails('evbill_receipt_key_file %%TESTDIR%%/receipt.key; '
    . 'evbill_receipt_base https://ev.example/r?x=1/;',
    qr/holds a character a link cannot carry/, 'a base with a query');
conf_fails('evbill_receipt_key_file %%TESTDIR%%/receipt.key; '
    . 'evbill_receipt_key_file %%TESTDIR%%/receipt.key; '
    . 'evbill_receipt_base https://ev.example/public/receipts/;',
    qr/"evbill_receipt_key_file" directive is duplicate/, 'a key twice');
conf_fails('evbill_receipt_key_file %%TESTDIR%%/receipt.key; '
    . 'evbill_receipt_base https://ev.example/public/receipts/; '
    . 'evbill_receipt_ttl 0;',
    qr/"evbill_receipt_ttl" directive must be between 1s and 3650d/,
    'ttl 0');
conf_fails('evbill_receipt_key_file %%TESTDIR%%/receipt.key; '
    . 'evbill_receipt_base https://ev.example/public/receipts/; '
    . 'evbill_receipt_ttl 3651d;',
    qr/"evbill_receipt_ttl" directive must be between 1s and 3650d/,
    'ttl 3651d');

$t->write_conf($t->std_conf(server => $APP,
    http => "evbill_seller_file %%TESTDIR%%/seller.json; $RECEIPTS"));
my ($rc, $out) = $t->test_config;
is($rc, 0, 'nginx -t: the receipt directives') or diag($out);
$t->run;

# --- customers, tokens, interleaved sessions --------------------------------

my $json = JSON::PP->new->utf8->canonical;

sub xreq {
    my ($m, $path, $body, %o) = @_;
    my $r = $t->admin($m, $path, defined $body && ref $body
        ? $json->encode($body) : $body, %o);
    $r->{x} = ($r->{body} =~ /^\{/) ? eval { jdecode($r->{body}) } : undef;
    return $r;
}

sub app {
    my ($who, $path, %h) = @_;
    my %headers = %h;
    $headers{'x-test-customer'} = $who if defined $who;
    return $t->http('GET', "/app/$path", headers => \%headers);
}

for my $c (qw(C-A C-B C-AB)) {
    is(xreq('PUT', "customers/$c", { name => "Customer $c",
        email => 'x@example.com', address => { street => 'Weg 1',
        city => 'Bonn', postal_code => '53111', country => 'DE' },
        invoicing => 'per_session' })->{status}, 201, "customer $c");
    is(xreq('PUT', "tokens/TOK-$c", { customer_id => $c, type => 'RFID' })
        ->{status}, 201, "token of $c");
}

is(xreq('PUT', 'tariffs/T1', '{"country_code":"DE","party_id":"EXA",'
    . '"id":"T1","currency":"EUR","last_updated":"2026-01-01T00:00:00Z",'
    . '"elements":[{"price_components":[{"type":"ENERGY","price":0.30,'
    . '"vat":19,"step_size":1}]}]}')->{status}, 201, 'tariff');

my $c = $t->charger(id => 'CH-1', body => { tariff_id => 'T1' });
my %stop;

sub session {
    my ($sid, $who, $start, $stop) = @_;
    my $r = $c->start($t->start_body(session_id => $sid, timestamp => $start,
        meter_start_wh => 1000, id_token => $who ? "TOK-$who" : 'PAY-1',
        token_type => $who ? 'RFID' : 'AD_HOC_USER'));
    is($r->{status}, 201, "$sid: start") or diag($r->{body});
    $r = $c->reading($sid, { seq => 1, timestamp =>
        Evbill::Test::ts_plus($start, 600), energy_wh => 3000 });
    is($r->{status}, 200, "$sid: reading") or diag($r->{body});
    return unless $stop;
    $r = $c->stop($sid, { timestamp => Evbill::Test::ts_plus($start, 600),
        meter_stop_wh => 3000 });
    is($r->{status}, 200, "$sid: stop") or diag($r->{body});
    $stop{$sid} = jdecode($r->{body});
}

session('A1', 'C-A', '2026-11-20T10:00:00Z', 1);
session('B1', 'C-B', '2026-11-20T10:05:00Z', 1);
session('A2', 'C-A', '2026-11-20T10:10:00Z', 1);
session('B2', 'C-B', '2026-11-20T10:15:00Z', 1);
session('X1', undef, '2026-11-20T10:20:00Z', 1);
session('AB1', 'C-AB', '2026-11-20T10:30:00Z', 1);   # C-A is its prefix
session('A3', 'C-A', '2026-11-20T11:00:00Z', 0);     # still charging

my %inv = map { $_ => xreq('GET', "sessions/CH-1/$_")->{x}{invoice} }
    qw(A1 A2 B1 B2 X1);
ok($inv{$_}, "$_ has an invoice") for sort keys %inv;

# --- lists: own only, newest first ------------------------------------------

my $r = app('C-A', 'sessions');
is($r->{status}, 200, 'A: GET sessions');
is_deeply([ map { $_->{session_id} } @{ $r->{json}{items} } ],
    [qw(A3 A2 A1)], "A's own sessions, newest first");
ok(exists $r->{json}{next} && !defined $r->{json}{next}, '... next null');

$r = app('C-B', 'sessions');
is_deeply([ map { $_->{session_id} } @{ $r->{json}{items} } ],
    [qw(B2 B1)], "B's own sessions, newest first");
$r = app('C-AB', 'sessions');
is_deeply([ map { $_->{session_id} } @{ $r->{json}{items} } ],
    [qw(AB1)], "C-AB's: none of C-A's, whose id is its prefix");

$r = app('C-A', 'sessions?limit=2');
is_deeply([ map { $_->{session_id} } @{ $r->{json}{items} } ],
    [qw(A3 A2)], 'A, limit 2: the first page');
ok($r->{json}{next}, '... with a cursor');
$r = app('C-A', "sessions?limit=2&after=$r->{json}{next}");
is_deeply([ map { $_->{session_id} } @{ $r->{json}{items} } ],
    [qw(A1)], '... the second page');
ok(!defined $r->{json}{next}, '... the end');

is_deeply(app('C-NOBODY', 'sessions')->{json}, { items => [], next => undef },
    'a customer without sessions: an empty list');
is_problem(app('C-A', 'sessions?limit=0'), 400, 'invalid-query', 'limit 0');
is_problem(app('C-A', 'sessions?after=zz'), 400, 'invalid-query',
    'a bad cursor');

$r = app('C-A', 'invoices');
is($r->{status}, 200, 'A: GET invoices');
is_deeply([ map { $_->{number} } @{ $r->{json}{items} } ],
    [ $inv{A2}, $inv{A1} ], "A's own invoices, newest first");
ok(!grep({ exists $_->{customer_id} || exists $_->{cdr_id} }
    @{ $r->{json}{items} }), '... no internal fields');
$r = app('C-B', 'invoices');
is_deeply([ map { $_->{number} } @{ $r->{json}{items} } ],
    [ $inv{B2}, $inv{B1} ], "B's own invoices");
$r = app('C-A', 'invoices?limit=1');
is(scalar @{ $r->{json}{items} }, 1, 'invoices, limit 1');
$r = app('C-A', "invoices?limit=1&cursor=$r->{json}{next}");
is_deeply([ map { $_->{number} } @{ $r->{json}{items} } ], [ $inv{A1} ],
    '... the next page');

# --- one session: the driver's view -----------------------------------------

$r = app('C-A', 'sessions/CH-1/A1');
is($r->{status}, 200, 'A: own stopped session');
is_deeply([ sort keys %{ $r->{json} } ], [ sort qw(charger_id session_id
    state connector_id started_at stopped_at energy_wh cost) ],
    '... the driver view: no token, keys, meter values or marks');
is($r->{json}{state}, 'stopped', '... stopped');
is($r->{json}{energy_wh} + 0, 2000, '... its energy');
ok($r->{json}{cost}, '... its cost');

$r = app('C-A', 'sessions/CH-1/A3');
is($r->{json}{state}, 'active', 'A: own active session');
ok($r->{json}{cost} && $r->{json}{cost}{total_cost}, '... the live cost')
    or diag($r->{body});
is($r->{json}{stopped_at}, undef, '... not stopped');

# a voided session: only its state says so
session('A4', 'C-A', '2026-11-20T08:00:00Z', 0);
is(xreq('POST', 'sessions/CH-1/A4/void', { reason => 'meter swapped' })
    ->{status}, 200, 'A4 voided by the operator');
$r = app('C-A', 'sessions/CH-1/A4');
is($r->{json}{state}, 'voided', 'A: own voided session: state voided');
is($r->{json}{cost}, undef, '... no cost');
unlike($r->{body}, qr/meter swapped|void_reason|stop_reason/,
    '... nothing else of the void');
is_deeply([ map { $_->{session_id} } @{ app('C-A', 'sessions')->{json}{items} } ],
    [qw(A3 A2 A1 A4)], "... and last in A's list");

# --- another customer's object answers as a missing one ---------------------

sub same_answer {
    my ($x, $y, $name) = @_;
    my %hx = %{ $x->{headers} };
    my %hy = %{ $y->{headers} };
    delete @hx{qw(date)};
    delete @hy{qw(date)};
    ok($x->{status} == $y->{status} && $x->{body} eq $y->{body}
        && $json->encode(\%hx) eq $json->encode(\%hy), $name)
        or diag("$x->{status} $x->{body} " . $json->encode(\%hx)
            . "\nvs $y->{status} $y->{body} " . $json->encode(\%hy));
}

my $missing = app('C-A', 'sessions/CH-1/NOPE');
is_problem($missing, 404, 'unknown-session', 'a missing session: 404');
same_answer(app('C-A', 'sessions/CH-1/B1'), $missing,
    "B's session to A: as a missing one");
same_answer(app('C-A', 'sessions/CH-1/X1'), $missing,
    "an ad hoc session to A: as a missing one");
same_answer(app('C-A', 'sessions/CH-NONE/A1'), $missing,
    'a missing charger: the same');
same_answer(app('C-B', 'sessions/CH-1/A3'), app('C-B', 'sessions/CH-1/NOPE'),
    "A's active session to B: as a missing one");

my @fmts = ([ '', {} ], [ '.json', {} ], [ '.html', {} ], [ '.xml', {} ],
    [ '', { accept => 'text/html' } ], [ '', { accept => 'application/xml' } ]);

for my $f (@fmts) {
    my ($ext, $h) = @$f;
    my $name = $ext || ($h->{accept} ? "Accept $h->{accept}" : 'JSON');
    my $own = app('C-A', "invoices/$inv{A1}$ext", %$h);
    is($own->{status}, 200, "A: own invoice ($name)");
    my $miss = app('C-A', "invoices/INV-1999-999999$ext", %$h);
    is_problem($miss, 404, 'unknown-invoice', "a missing invoice ($name)");
    same_answer(app('C-A', "invoices/$inv{B1}$ext", %$h), $miss,
        "B's invoice to A ($name): as a missing one");
    same_answer(app('C-A', "invoices/$inv{X1}$ext", %$h), $miss,
        "an ad hoc invoice to A ($name): as a missing one");
}
like(app('C-A', "invoices/$inv{A1}.html")->{body}, qr/\Q$inv{A1}\E/,
    'the HTML invoice names its number');
like(app('C-A', "invoices/$inv{A1}.xml")->{body}, qr/<cbc:ID>\Q$inv{A1}\E/,
    'the UBL invoice too');

$r = xreq('PUT', "invoices/$inv{A1}/credits/c1", { reason => 'goodwill' });
ok($r->{status} == 201 || $r->{status} == 200, 'a credit note for A1')
    or diag($r->{body});
my $cn = $r->{x}{number};
ok($cn, '... numbered');

for my $f (@fmts) {
    my ($ext, $h) = @$f;
    my $name = $ext || ($h->{accept} ? "Accept $h->{accept}" : 'JSON');
    is(app('C-A', "credit-notes/$cn$ext", %$h)->{status}, 200,
        "A: own credit note ($name)");
    my $miss = app('C-B', "credit-notes/CN-1999-999999$ext", %$h);
    is_problem($miss, 404, 'unknown-credit-note',
        "a missing credit note ($name)");
    same_answer(app('C-B', "credit-notes/$cn$ext", %$h), $miss,
        "A's credit note to B ($name): as a missing one");
}

# no identity: 401 for every endpoint, whatever exists
for my $p ('sessions', 'sessions/CH-1/A1', 'sessions/CH-1/NOPE', 'invoices',
    "invoices/$inv{A1}", 'invoices/INV-1999-999999', "credit-notes/$cn")
{
    my $x = app(undef, $p);
    is_problem($x, 401, 'unauthenticated', "no identity, GET $p: 401");
    same_answer($x, app(undef, 'sessions'), "... the same answer");
}

# --- receipt links ----------------------------------------------------------

my $base = $t->base_url . '/public/receipts/';
my $link = $stop{A1}{receipt};
ok($link, 'the stop answer carries the receipt link') or diag(explain($stop{A1}));
my ($num, $exp, $sig) = ($link // '') =~
    m{^\Q$base\E([^?]+)\?expires=(\d+)&sig=([A-Za-z0-9_-]{43})$};
is($num, $inv{A1}, "... to the session's invoice");

my $admin_inv = xreq('GET', "invoices/$inv{A1}")->{x};
is($admin_inv->{receipt}, $link, 'admin GET invoices/{n}: the same link');
my $issued = $admin_inv->{issued_at};
my ($y, $mo, $d, $hh, $mi, $ss) =
    $issued =~ /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)/;
require Time::Local;
is($exp, Time::Local::timegm($ss, $mi, $hh, $d, $mo - 1, $y) + 3600,
    'expires = issue time + evbill_receipt_ttl');
is($sig, encode_base64url(hmac_sha256("$num\n$exp", $KEY)),
    'sig = base64url(HMAC-SHA256(key, number LF expires))');
ok($stop{X1}{receipt}, 'the ad hoc stop answer carries one too');
ok(!exists xreq('GET', "credit-notes/$cn")->{x}{receipt},
    'a credit note has none');

sub public { $t->http('GET', $_[0], headers => $_[1] || {}) }

$r = public($link);
is($r->{status}, 200, 'the link opens the invoice');
is($r->{json}{number}, $inv{A1}, '... JSON without an Accept');
like(public($link, { accept => 'text/html,application/xhtml+xml,*/*;q=0.8' })
    ->{headers}{'content-type'}, qr{^text/html}, "... HTML for a browser");
my $xl = $link;
$xl =~ s/\?/.xml?/;
like(public($xl)->{body}, qr/<cbc:ID>\Q$inv{A1}\E/, '... UBL by extension');
is(public($stop{X1}{receipt})->{status}, 200, 'the ad hoc link opens');

sub link_for {
    my ($n, $e) = @_;
    return "$base$n?expires=$e&sig="
        . encode_base64url(hmac_sha256("$n\n$e", $KEY));
}

my $later = time + 3600;
my $miss = public(link_for('INV-1999-999999', $later));
is_problem($miss, 404, 'unknown-invoice',
    'a well signed link to a missing invoice: 404');

(my $badsig = $link) =~ s/sig=(.)/'sig=' . ($1 eq 'A' ? 'B' : 'A')/e;
my ($bnum) = $stop{B1}{receipt} =~ m{receipts/([^?]+)};
(my $othernum = $link) =~ s/\Q$num\E/$bnum/;
(my $otherlink = $stop{B1}{receipt}) =~ s/\Q$bnum\E/$num/;
(my $longer = $link) =~ s/expires=(\d+)/'expires=' . ($1 + 1)/e;
(my $zero = $link) =~ s/expires=/expires=0/;

my @bad = (
    [ $badsig, 'a tampered signature' ],
    [ $othernum, 'a tampered number' ],
    [ $otherlink, "another invoice's link on this number" ],
    [ $longer, 'a tampered expiry' ],
    [ $zero, 'the expiry with a leading zero' ],
    [ link_for($num, time - 10), 'an expired link' ],
    [ "$base$num", 'no parameters' ],
    [ "$base$num?expires=$exp", 'no sig' ],
    [ "$base$num?sig=$sig", 'no expires' ],
    [ "$base$num?expires=$exp&sig=", 'an empty sig' ],
    [ "$base$num?expires=-5&sig=$sig", 'a negative expiry' ],
);

for my $b (@bad) {
    my ($u, $name) = @$b;
    $t->store_unchanged(sub {
        same_answer(public($u), $miss, "$name: as a missing invoice");
    }, "$name: store unchanged");
}

(my $bl = $link) =~ s/sig=/sig=x/;
same_answer(public($bl, { accept => 'text/html' }), public(link_for(
    'INV-1999-999999', $later), { accept => 'text/html' }),
    'a bad link with Accept text/html: as a missing invoice');

# a stop that makes no invoice (a roaming token) carries no receipt
$r = $c->start($t->start_body(session_id => 'R2', id_token => 'ROAM-1',
    timestamp => '2026-11-20T12:00:00Z', meter_start_wh => 1000));
is($r->{status}, 201, 'R2 (roaming): start');
$r = $c->stop('R2', { timestamp => '2026-11-20T12:10:00Z',
    meter_stop_wh => 3000 });
is($r->{status}, 200, 'R2: stop');
ok(!xreq('GET', 'sessions/CH-1/R2')->{x}{invoice}, 'R2: no invoice');
ok(!exists jdecode($r->{body})->{receipt}, '... and no receipt');
$t->finish;

# a new key: every link issued before answers as a missing invoice
my $KEY2 = join '', map { chr(int rand 256) } 1 .. 32;
$t->write_file('receipt.key', $KEY2, 0600);
$t->run;
$miss = public("$base" . 'INV-1999-999999?expires=' . $later . '&sig='
    . encode_base64url(hmac_sha256("INV-1999-999999\n$later", $KEY2)));
is_problem($miss, 404, 'unknown-invoice', 'new key: a missing invoice');
same_answer(public($link), $miss,
    'new key: the old link answers as a missing invoice');
my $new = xreq('GET', "invoices/$inv{A1}")->{x}{receipt};
isnt($new, $link, 'the admin API shows a new link');
is(public($new)->{status}, 200, '... which opens the invoice');
$t->finish;

# without the receipt directives: no links, receipts/ answers 404
$t->write_conf($t->std_conf(server => $APP,
    http => 'evbill_seller_file %%TESTDIR%%/seller.json;'));
$t->run;
ok(!exists xreq('GET', "invoices/$inv{A1}")->{x}{receipt},
    'no receipt directives: the admin invoice has no receipt');
$r = $c->start($t->start_body(session_id => 'N1', id_token => 'TOK-C-A',
    timestamp => '2026-11-20T13:00:00Z', meter_start_wh => 1000));
$r = $c->stop('N1', { timestamp => '2026-11-20T13:10:00Z',
    meter_stop_wh => 3000 });
is($r->{status}, 200, 'N1: stop');
ok(xreq('GET', 'sessions/CH-1/N1')->{x}{invoice}, 'N1: invoiced');
ok(!exists jdecode($r->{body})->{receipt}, '... the stop answer has no receipt');
same_answer(public($new), public("${base}INV-1999-999999?expires=$later"
    . '&sig=x'), 'a link answers as a missing invoice');
is_problem(public($new), 404, 'unknown-invoice', '... 404 unknown-invoice');

$t->finish;
done_testing;
