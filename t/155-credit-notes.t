#!/usr/bin/perl
# Credit notes (issue 9): PUT invoices/{number}/credits/{credit_id}
# {"reason", "lines"?}: partial and whole credits with their own numbers,
# a credit CDR (credit, credit_reference_id, negated totals) and, when
# something is left, a corrected CDR; retries make nothing twice; every
# refusal with its status, problem type and an unchanged store; the
# credit notes of a fully credited invoice add up to it exactly.

use strict;
use warnings;
use utf8;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;
use Evbill::ExactJSON qw(jdecode num);
use Evbill::Invoice qw(validate_ubl);

my $t = Evbill::Test->new;
$t->write_file('seller.json',
    $t->read_file("$FindBin::Bin/fixtures/invoice/seller.json"));
$t->write_conf($t->std_conf(workers => 2,
    http => 'evbill_seller_file %%TESTDIR%%/seller.json;'));
$t->run;

sub xreq {
    my ($method, $path, $body, %o) = @_;
    my $r = $t->admin($method, $path, $body, %o);
    $r->{x} = ($r->{body} =~ /^\{/) ? eval { jdecode($r->{body}) } : undef;
    return $r;
}

sub cents {
    my ($v) = @_;
    $v = num($v) // return undef;
    my ($s, $i, $f) = $v =~ /^(-?)(\d+)(?:\.(\d+))?$/ or return undef;
    $f = substr(($f // '') . '00', 0, 2);
    return ($s ? -1 : 1) * ($i * 100 + $f);
}

sub make_invoice {
    my ($tariff, $sid) = @_;
    my $c = $t->charger(id => "CR-$sid", body => { tariff_id => $tariff });
    is($c->start($t->start_body(session_id => $sid,
        token_type => 'AD_HOC_USER'))->{status}, 201, "$sid: start");
    is($c->stop($sid, { timestamp => '2026-11-25T10:30:00Z',
        meter_stop_wh => 5500 })->{status}, 200, "$sid: stop");
    my $s = xreq('GET', "sessions/CR-$sid/$sid")->{x} || {};
    ok($s->{invoice}, "$sid: invoiced") or diag(explain($s));
    return ($s->{invoice}, "CR-$sid", $sid);
}

is($t->admin('PUT', 'tariffs/THREE', '{"country_code":"DE","party_id":"EXA",'
    . '"id":"THREE","currency":"EUR","last_updated":"2026-01-01T00:00:00Z",'
    . '"elements":[{"price_components":[{"type":"ENERGY","price":0.335,'
    . '"vat":19,"step_size":1},{"type":"FLAT","price":0.505,"vat":7,'
    . '"step_size":0},{"type":"TIME","price":1.20,"vat":19,'
    . '"step_size":60}]}]}')->{status}, 201, 'PUT tariff THREE');

my ($num, $charger, $sid) = make_invoice('THREE', 'c1');
my $inv = xreq('GET', "invoices/$num")->{x};
is(scalar @{ $inv->{lines} }, 3, 'the invoice has three lines');
my %line = map { num($_->{id}) => $_ } @{ $inv->{lines} };
my ($flat) = map { num($_->{id}) } grep { $_->{dimension} eq 'FLAT' }
    @{ $inv->{lines} };
my @others = grep { $_ != $flat } sort keys %line;
my $payable = num($inv->{totals}{payable});
my $cdr = xreq('GET', "cdrs/$charger/$sid")->{x};

# --- refusals: status, type, nothing stored ---------------------------------

my @bad = (
    [ 'invoices/INV-1999-000009/credits/x', { reason => 'r' }, 404,
      'unknown-invoice', 'an unknown invoice' ],
    [ "invoices/$num/credits/x", {}, 400, 'missing-field', 'no reason' ],
    [ "invoices/$num/credits/x", { reason => 5 }, 400, 'invalid-type',
      'a number as reason' ],
    [ "invoices/$num/credits/x", { reason => '' }, 400, 'invalid-value',
      'an empty reason' ],
    [ "invoices/$num/credits/x", { reason => "a\x{0007}b" }, 400,
      'invalid-value', 'a control character' ],
    [ "invoices/$num/credits/x", { reason => "a\x{FFFE}b" }, 400,
      'invalid-value', 'U+FFFE, which XML forbids' ],
    [ "invoices/$num/credits/x", { reason => 'r', lines => 2 }, 400,
      'invalid-type', 'lines not an array' ],
    [ "invoices/$num/credits/x", { reason => 'r', lines => [] }, 400,
      'invalid-value', 'no lines' ],
    [ "invoices/$num/credits/x", { reason => 'r', lines => [0] }, 400,
      'invalid-value', 'line 0' ],
    [ "invoices/$num/credits/x", { reason => 'r', lines => [1, 1] }, 400,
      'invalid-value', 'a line twice' ],
    [ "invoices/$num/credits/x", { reason => 'r', amount => 1 }, 400,
      'invalid-value', 'an unknown field' ],
    [ "invoices/$num/credits/x", '{"reason":', 400, 'malformed-json',
      'malformed JSON' ],
    [ "invoices/$num/credits/x", { reason => 'r', lines => [4] }, 422,
      'unknown-invoice-line', 'a line the invoice does not have' ],
);

for my $b (@bad) {
    my ($path, $body, $status, $type, $name) = @$b;
    $t->store_unchanged(sub {
        is_problem(xreq('PUT', $path, $body), $status, $type,
            "$name: $status $type");
    }, "$name: store unchanged");
}

$t->store_unchanged(sub {
    is_problem(xreq('PUT', "invoices/$num/credits/x", { reason => 'r' },
        headers => { 'content-type' => 'text/plain' }), 415,
        'unsupported-media-type', 'not JSON: 415');
}, 'not JSON: store unchanged');

# --- a partial credit ------------------------------------------------------

my $r = xreq('PUT', "invoices/$num/credits/p1",
    { reason => 'Start fee waived', lines => [$flat] });
is($r->{status}, 201, 'a partial credit: 201') or diag($r->{body});
my $cn1 = $r->{x} || {};
like($cn1->{number}, qr/^CN-\d{4}-000001$/, '... a number of its own series');
is($cn1->{type}, 'credit_note', '... a credit note');
is($cn1->{invoice_number}, $num, '... referring to the invoice');
is($cn1->{invoice_issue_date}, $inv->{issue_date}, '... and its date');
is($cn1->{reason}, 'Start fee waived', '... with the reason');
is_deeply([ map { num($_->{id}) } @{ $cn1->{lines} } ], [ $flat ],
    '... crediting the start fee line');
is(num($cn1->{lines}[0]{net_amount}), num($line{$flat}{net_amount}),
    '... its whole amount');
is(num($cn1->{totals}{payable}), '0.55', '... 0.51 + 7 % = 0.55');

# retries answer the same credit note and store nothing
$t->store_unchanged(sub {
    $r = xreq('PUT', "invoices/$num/credits/p1",
        { reason => 'Start fee waived', lines => [$flat] });
}, 'a retry: store unchanged');
is($r->{status}, 200, 'a retry: 200');
is($r->{x}{number}, $cn1->{number}, '... the same credit note');

$t->store_unchanged(sub {
    is_problem(xreq('PUT', "invoices/$num/credits/p1",
        { reason => 'Start fee waived', lines => [$others[0]] }), 409,
        'credit-conflict', 'the same credit_id, other lines: 409');
}, 'a conflicting retry: store unchanged');

$t->store_unchanged(sub {
    is_problem(xreq('PUT', "invoices/$num/credits/p2",
        { reason => 'again', lines => [$flat, $others[0]] }), 422,
        'credit-exceeded', 'the start fee again: 422 credit-exceeded');
}, 'over-credit: store unchanged');

# the CDRs: the credit CDR negates the original, the corrected one holds
# what is left
my $cd = xreq('GET', "credit-notes/$cn1->{number}/cdrs")->{x} || {};
my $cc = $cd->{credit_cdr} || {};
ok($cc->{credit}, 'credit CDR: credit true');
is($cc->{credit_reference_id}, $cdr->{id}, 'credit CDR: refers to the CDR');
isnt($cc->{id}, $cdr->{id}, 'credit CDR: an id of its own');
ok(length($cc->{id} // '') <= 39, 'credit CDR: id within CiString(39)');
is(cents($cc->{total_cost}{incl_vat}), -cents($cdr->{total_cost}{incl_vat}),
    'credit CDR: total negated');
is(cents($cc->{total_energy_cost}{excl_vat}),
    -cents($cdr->{total_energy_cost}{excl_vat}),
    'credit CDR: energy cost negated');
is($cc->{session_id}, $cdr->{session_id}, 'credit CDR: the same session');
is($cc->{invoice_reference_id}, $cn1->{number},
    'credit CDR: refers to the credit note');
my $rc = $cd->{corrected_cdr} || {};
ok($rc->{id} && !$rc->{credit}, 'a corrected CDR');
is($rc->{invoice_reference_id}, $num, 'corrected CDR: refers to the invoice');
is(cents($rc->{total_cost}{incl_vat}),
    cents($inv->{totals}{payable}) - cents($cn1->{totals}{payable}),
    'corrected CDR: what is left');
is(cents($rc->{total_fixed_cost}{excl_vat}), 0,
    'corrected CDR: no start fee left');

$inv = xreq('GET', "invoices/$num")->{x};
is($inv->{status}{state}, 'due', 'the invoice: still due');
is(num($inv->{status}{credited}), '0.55', '... 0.55 credited');
is_deeply($inv->{status}{credit_notes}, [ $cn1->{number} ],
    '... by the credit note');

# --- the rest, whole ---------------------------------------------------------

$r = xreq('PUT', "invoices/$num/credits/w1", { reason => 'Goodwill' });
is($r->{status}, 201, 'crediting the rest: 201') or diag($r->{body});
my $cn2 = $r->{x} || {};
is_deeply([ map { num($_->{id}) } @{ $cn2->{lines} } ], \@others,
    '... the lines left');
is(cents($cn1->{totals}{payable}) + cents($cn2->{totals}{payable}),
    cents($inv->{totals}{payable}), 'the credit notes add up to the invoice');
$cd = xreq('GET', "credit-notes/$cn2->{number}/cdrs")->{x} || {};
is($cd->{credit_cdr}{credit_reference_id}, (xreq('GET',
    "credit-notes/$cn1->{number}/cdrs")->{x} || {})->{corrected_cdr}{id},
    'its credit CDR credits the corrected CDR');
is($cd->{corrected_cdr}, undef, 'nothing left: no corrected CDR');

$inv = xreq('GET', "invoices/$num")->{x};
is($inv->{status}{state}, 'credited', 'the invoice: credited');
is(num($inv->{status}{credited}), num($inv->{totals}{payable}),
    '... in full');
is(scalar @{ $inv->{status}{credit_notes} }, 2, '... by two credit notes');
is(num($inv->{totals}{payable}), $payable,
    '... the document itself unchanged');

$t->store_unchanged(sub {
    is_problem(xreq('PUT', "invoices/$num/credits/w2", { reason => 'more' }),
        422, 'credit-exceeded', 'credited in full: 422 credit-exceeded');
}, 'nothing left: store unchanged');

# the credit note in every format
for my $f ([ '', qr{^application/json} ], [ '.html', qr{^text/html} ],
           [ '.xml', qr{^application/xml} ])
{
    $r = xreq('GET', "credit-notes/$cn2->{number}$f->[0]");
    is($r->{status}, 200, "GET credit-notes/N$f->[0]: 200");
    like($r->{headers}{'content-type'}, $f->[1], '... its type');
}

# --- min_price: the last credit note takes the charge -----------------------

is($t->admin('PUT', 'tariffs/MIN', '{"country_code":"DE","party_id":"EXA",'
    . '"id":"MIN","currency":"EUR","last_updated":"2026-01-01T00:00:00Z",'
    . '"min_price":{"excl_vat":5.00,"incl_vat":5.95},"elements":[{'
    . '"price_components":[{"type":"ENERGY","price":0.10,"vat":19,'
    . '"step_size":1},{"type":"FLAT","price":0.20,"vat":19,'
    . '"step_size":0}]}]}')->{status}, 201, 'PUT tariff MIN');
my ($num2) = make_invoice('MIN', 'c2');
my $inv2 = xreq('GET', "invoices/$num2")->{x};
my $a = xreq('PUT', "invoices/$num2/credits/a", { reason => 'part',
    lines => [1] })->{x} || {};
is(num($a->{totals}{charge_total}), '0.00', 'a partial credit takes no '
    . 'charge');
my $b = xreq('PUT', "invoices/$num2/credits/b", { reason => 'rest' })->{x}
    || {};
is(num($b->{totals}{charge_total}), num($inv2->{totals}{charge_total}),
    'the last credit takes the min_price charge');
is(cents($a->{totals}{payable}) + cents($b->{totals}{payable}),
    cents($inv2->{totals}{payable}), 'min_price: credits add up exactly');
like($b->{number}, qr/^CN-\d{4}-000004$/, 'the credit note series goes on');
is($t->store_stat->{credit_notes}, 4, 'GET store: 4 credit notes');

# --- every invoice and credit note made here: UBL 2.1 and EN 16931 --------------

my (@paths, %seen);
for my $i (@{ xreq('GET', 'invoices?limit=100')->{x}{items} || [] }) {
    push @paths, "invoices/$i->{number}.xml";
    my $full = xreq('GET', "invoices/$i->{number}")->{x} || {};
    push @paths, map { "credit-notes/$_.xml" }
        grep { !$seen{$_}++ } @{ $full->{status}{credit_notes} || [] };
}
is(scalar(grep { m{^credit-notes/} } @paths), 4,
    'the invoices name the 4 credit notes');
my @files;
for my $p (@paths) {
    (my $f = $p) =~ s{/}{-}g;
    my $r = $t->admin('GET', $p);
    is($r->{status}, 200, "GET $p");
    $t->write_file($f, $r->{body});
    push @files, $t->dir . "/$f";
}
my $v = validate_ubl(@files);
is_deeply($v->{$_}, [], "$_: UBL 2.1 schema and EN 16931 rules")
    or diag(join "\n", @{ $v->{$_} || [] }) for @files;

$t->finish;
done_testing;
