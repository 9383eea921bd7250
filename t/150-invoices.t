#!/usr/bin/perl
# Invoices (issue 9): the seller file and the number formats under
# nginx -t; the invoice made at stop (lines per dimension and price, VAT
# per rate, min/max as allowance or charge, categories S, Z and E, the
# ad hoc buyer, due date); its total = the CDR's rounded total = the last
# live cost rounded, across a price change on a DST day; who gets none
# (zero total, unrated, KWD, a roaming token, no seller file); the
# formats by Accept and extension; the listing.

use strict;
use warnings;
use utf8;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;
use Evbill::ExactJSON qw(jdecode num);
use Evbill::Invoice qw(validate_ubl);
use JSON::PP;

my $SELLER = do {
    local $/;
    open my $f, '<', "$FindBin::Bin/fixtures/invoice/seller.json" or die;
    <$f>;
};

my $t = Evbill::Test->new;
$t->allow_alerts(qr/seller file/, qr/nothing\.json/,
    qr/"evbill_(invoice|credit_note)_number"/);

# --- nginx -t: the seller file and the number formats --------------------

sub conf_with {
    my ($http) = @_;
    $t->write_conf($t->std_conf(http => $http));
    return $t->test_config;
}

sub seller_with {
    my (%o) = @_;
    my $s = JSON::PP->new->utf8->decode($SELLER);
    for my $k (keys %o) {
        if ($k =~ /^address\.(.*)/) {
            if (defined $o{$k}) { $s->{address}{$1} = $o{$k} }
            else { delete $s->{address}{$1} }
        } elsif (defined $o{$k}) {
            $s->{$k} = $o{$k};
        } else {
            delete $s->{$k};
        }
    }
    return JSON::PP->new->utf8->canonical->encode($s);
}

my ($rc, $out);

$t->write_file('seller.json', $SELLER);
($rc, $out) = conf_with('evbill_seller_file %%TESTDIR%%/seller.json;');
is($rc, 0, 'nginx -t: a good seller file passes') or diag($out);

$t->write_file('error.log', '');
($rc, $out) = conf_with('');
is($rc, 0, 'nginx -t: no seller file passes');
like($t->error_log, qr/\[notice\].*no "evbill_seller_file": sessions get CDRs and no invoices/,
    '... with a notice that no invoices are made');
like($out, qr/notice: no "evbill_seller_file": sessions get CDRs and no invoices/,
    '... which nginx -t prints on the terminal too');

my @seller_bad = (
    [ { name => undef }, qr/"name" is missing/, 'name missing' ],
    [ { 'address.country' => 'DEU' },
      qr/"address\.country" must be 1 to 2 characters/, 'alpha-3 country' ],
    [ { 'address.country' => 'XQ' },
      qr/"address\.country" must be an ISO 3166-1 alpha-2 code/,
      'unknown country' ],
    [ { time_zone => 'Europe/Atlantis' },
      qr/"time_zone" must be an IANA time zone/, 'no such zone' ],
    [ { payment_terms_days => 366 },
      qr/"payment_terms_days" must be an integer from 0 to 365/,
      'terms 366' ],
    [ { payment_terms_days => -1 },
      qr/"payment_terms_days" must be an integer from 0 to 365/,
      'terms -1' ],
    [ { vat_id => '123456789' },
      qr/"vat_id" must start with a country prefix/, 'VAT id prefix' ],
    [ { email => 'nobody' }, qr/"email" must be an e-mail address/,
      'e-mail' ],
    [ { name => "Evil \x{FFFF} GmbH" },
      qr/"name" must not hold control characters or characters XML 1\.0 forbids/,
      'U+FFFF' ],
    [ { 'address.street' => "Line\x{0001}" },
      qr/"address\.street" must not hold control characters/,
      'a C0 control' ],
    [ { colour => 'red' }, qr/"colour" is not a field of the seller file/,
      'unknown field' ],
);

for my $b (@seller_bad) {
    my ($o, $re, $name) = @$b;
    $t->write_file('seller.json', seller_with(%$o));
    ($rc, $out) = conf_with('evbill_seller_file %%TESTDIR%%/seller.json;');
    isnt($rc, 0, "nginx -t: seller file, $name: fails");
    like($out, qr/\[emerg\].*evbill: seller file "[^"]*seller\.json": .*$re/,
        "... saying which field and why") or diag($out);
}

# several faults: one line each
$t->write_file('seller.json', seller_with(name => undef, email => undef,
    time_zone => 'Mars/Olympus'));
($rc, $out) = conf_with('evbill_seller_file %%TESTDIR%%/seller.json;');
my @lines = grep { /\[emerg\].*seller file/ } split /\n/, $out;
is(scalar @lines, 3, 'nginx -t: three bad fields, three lines')
    or diag($out);

$t->write_file('seller.json', '{"name": ');
($rc, $out) = conf_with('evbill_seller_file %%TESTDIR%%/seller.json;');
like($out, qr/\[emerg\].*seller file .*is not JSON/, 'not JSON: said so');

($rc, $out) = conf_with('evbill_seller_file %%TESTDIR%%/nothing.json;');
like($out, qr/\[emerg\].*nothing\.json/, 'a missing file: said so');

$t->write_file('seller.json', $SELLER);

my @fmt_bad = (
    [ 'evbill_invoice_number INV/%Y/%6N;', qr/no '\/' or '\.'/, 'a slash' ],
    [ 'evbill_invoice_number INV.%6N;', qr/no '\/' or '\.'/, 'a dot' ],
    [ 'evbill_credit_note_number CN-%Y;', qr/must hold the counter/,
      'no counter' ],
    [ 'evbill_invoice_number INV-%Q-%6N;', qr/unknown conversion/,
      'unknown conversion' ],
    [ 'evbill_invoice_number INV-%3N;', qr/unknown conversion/,
      'width 3' ],
    [ 'evbill_invoice_number INV-%6N-%6N;', qr/holds the counter twice/,
      'two counters' ],
    [ 'evbill_invoice_number ' . ('X' x 30) . '-%6N;',
      qr/more than the 39 that a CDR's invoice_reference_id holds/,
      'too long' ],
    [ 'evbill_node_id N1; evbill_invoice_number INV-%Y-%6N;',
      qr/must hold %I: evbill_node_id is set/, 'node id without %I' ],
);

for my $b (@fmt_bad) {
    my ($d, $re, $name) = @$b;
    ($rc, $out) = conf_with("evbill_seller_file %%TESTDIR%%/seller.json; $d");
    isnt($rc, 0, "nginx -t: number format, $name: fails");
    like($out, qr/\[emerg\].*$re.* in \S+\/nginx\.conf:\d+$/m,
        "... saying why, and where") or diag($out);
}

($rc, $out) = conf_with('evbill_seller_file %%TESTDIR%%/seller.json; '
    . 'evbill_node_id N1; evbill_invoice_number R%I%Y%9N; '
    . 'evbill_credit_note_number G_%I_%4N;');
is($rc, 0, 'nginx -t: formats with %I, %Y, %9N and %4N pass') or diag($out);

# --- a running nginx with a seller ----------------------------------------

$t->write_conf($t->std_conf(workers => 2,
    http => 'evbill_seller_file %%TESTDIR%%/seller.json;'));
$t->run;

sub tariff {
    my ($id, $currency, $elements, %extra) = @_;
    my $x = join '', map { ",\"$_\":$extra{$_}" } sort keys %extra;
    my $r = $t->admin('PUT', "tariffs/$id", '{"country_code":"DE",'
        . '"party_id":"EXA","id":"' . $id . '","currency":"' . $currency
        . '","last_updated":"2026-01-01T00:00:00Z"' . $x . ',"elements":'
        . $elements . '}');
    is($r->{status}, 201, "PUT tariff $id") or diag($r->{body});
}

sub xget {
    my ($path, %o) = @_;
    my $r = $t->admin('GET', $path, undef, %o);
    $r->{x} = ($r->{body} =~ /^\{/) ? eval { jdecode($r->{body}) } : undef;
    return $r;
}

my $n = 0;
sub charger_for {
    my ($tariff, %body) = @_;
    $n++;
    return $t->charger(id => "INV-$n", body => { tariff_id => $tariff,
        %body });
}

# one session: start, readings, stop at the last; the last live cost,
# the session, the CDR and the invoice (undef when none)
sub run_session {
    my ($c, %o) = @_;
    my $sid = $o{sid} || 's';
    my $start = $o{start} || '2026-11-25T10:00:00Z';
    my $r = $c->start($t->start_body(session_id => $sid, timestamp => $start,
        meter_start_wh => 1000, token_type => $o{token} || 'AD_HOC_USER'));
    is($r->{status}, 201, "$c->{charger_id}: start") or diag($r->{body});
    my ($live, $last);
    my $seq = 0;
    for my $rd (@{ $o{readings} || [] }) {
        my ($sec, $wh, $state) = @$rd;
        my %b = (seq => ++$seq, timestamp => Evbill::Test::ts_plus($start,
            $sec), energy_wh => $wh);
        $b{state} = $state if $state;
        $r = $c->reading($sid, \%b);
        is($r->{status}, 200, "$c->{charger_id}: reading $seq")
            or diag($r->{body});
        $live = (eval { jdecode($r->{body}) } || {})->{cost};
        $last = \%b;
    }
    my %stop = $last ? (timestamp => $last->{timestamp},
                        meter_stop_wh => $last->{energy_wh})
                     : (timestamp => Evbill::Test::ts_plus($start,
                            $o{secs} || 1800),
                        meter_stop_wh => $o{stop_wh} || 5500);
    $r = $c->stop($sid, \%stop);
    is($r->{status}, 200, "$c->{charger_id}: stop") or diag($r->{body});
    my $s = xget("sessions/$c->{charger_id}/$sid")->{x} || {};
    my $cdr = xget("cdrs/$c->{charger_id}/$sid");
    my $inv = $s->{invoice} ? xget("invoices/$s->{invoice}")->{x} : undef;
    return { live => $live, session => $s, cdr => $cdr->{x},
             cdr_status => $cdr->{status}, invoice => $inv };
}

sub rows {
    my ($inv, $key, @f) = @_;
    return [ map { my $l = $_; join ' ', map { num($l->{$_}) // $l->{$_}
        // '-' } @f } @{ $inv->{$key} || [] } ];
}

# totals: the document adds up, and equals the CDR's rounded total
sub check_totals {
    my ($name, $x) = @_;
    my $inv = $x->{invoice} || {};
    my $tot = $inv->{totals} || {};
    my $cdr_total = $x->{cdr}{total_cost} || {};
    is(num($tot->{payable}), num($cdr_total->{incl_vat}
        // $cdr_total->{excl_vat}), "$name: payable = the CDR's total");
    is(num($tot->{tax_exclusive}), num($cdr_total->{excl_vat}),
        "$name: net total = the CDR's excl_vat");
    is($x->{cdr}{invoice_reference_id}, $inv->{number},
        "$name: the CDR names the invoice");
}

# two VAT rates, an ad hoc buyer, due date = issue + 14 days
tariff('TWO', 'EUR', '[{"price_components":[{"type":"ENERGY","price":0.335,'
    . '"vat":19,"step_size":1},{"type":"FLAT","price":0.505,"vat":7,'
    . '"step_size":0}]}]');
my $x = run_session(charger_for('TWO'));
my $inv = $x->{invoice};
ok($inv, 'two rates: an invoice') or diag(explain($x->{session}));
like($inv->{number}, qr/^INV-\d{4}-000001$/, 'the first number of the year');
is($x->{session}{invoice}, $inv->{number}, 'the session shows its invoice');
is_deeply(rows($inv, 'lines', qw(id dimension quantity unit unit_price
    net_amount vat_category vat_rate)),
    [ '1 ENERGY 4.5 kWh 0.335 1.51 S 19', '2 FLAT 1 each 0.505 0.51 S 7' ],
    'two rates: one line per dimension and price');
is_deeply(rows($inv, 'vat', qw(category rate lines allowance charge taxable
    amount)),
    [ 'S 19 1.51 0.00 0.00 1.51 0.29', 'S 7 0.51 0.00 0.00 0.51 0.04' ],
    'two rates: VAT once per rate');
is(num($inv->{totals}{payable}), '2.35', 'two rates: payable 2.35');
check_totals('two rates', $x);
is($inv->{buyer}{name}, 'Ad hoc customer', 'the ad hoc buyer');
is($inv->{buyer}{address}{country}, 'DE', '... in the location\'s country '
    . '(DEU as alpha-2)');
ok($inv->{buyer_ad_hoc}, '... marked ad hoc');
is($inv->{seller}{vat_id}, 'DE123456789', 'the seller from the file');
is(num($inv->{payment_terms_days}), 14, 'terms from the seller file');
{
    my ($y, $m, $d) = $inv->{issue_date} =~ /^(\d+)-(\d+)-(\d+)$/;
    require Time::Local;
    my @due = gmtime(Time::Local::timegm(0, 0, 12, $d, $m - 1, $y)
        + 14 * 86400);
    is($inv->{due_date}, sprintf('%04d-%02d-%02d', $due[5] + 1900,
        $due[4] + 1, $due[3]), 'due date = issue date + 14 days');
}
is($inv->{status}{state}, 'due', 'status: due');
is($inv->{session}{location}{name}, 'Test Site', 'the location');
is($inv->{session}{cdr_id}, $x->{cdr}{id}, 'the CDR id');

# a price change at 08:00 local on the DST day (Europe/Berlin goes back
# at 01:00 UTC on 2026-10-25), with parking: the invoice equals the CDR
# and the last live cost, rounded
tariff('TOD', 'EUR', '[{"price_components":[{"type":"ENERGY","price":0.30,'
    . '"vat":19,"step_size":1}],"restrictions":{"start_time":"08:00",'
    . '"end_time":"20:00"}},{"price_components":[{"type":"ENERGY",'
    . '"price":0.20,"vat":19,"step_size":1}]},{"price_components":[{"type":'
    . '"PARKING_TIME","price":1.50,"vat":19,"step_size":1}]}]');
$x = run_session(charger_for('TOD'), start => '2026-10-25T06:00:00Z',
    readings => [ map { [ $_ * 600, 1000 + $_ * 1234 ] } 1 .. 12 ],
    sid => 'dst');
$inv = $x->{invoice};
ok($inv, 'DST day: an invoice');
is_deeply([ sort map { "$_->{dimension} " . num($_->{unit_price}) }
    @{ $inv->{lines} || [] } ], [ 'ENERGY 0.20', 'ENERGY 0.30' ],
    'DST day: the energy at two prices, two lines')
    or diag(explain($inv->{lines}));
check_totals('DST day', $x);
is(num($inv->{totals}{payable}), num($x->{live}{rounded}{total_cost}{incl_vat}),
    'DST day: payable = the last live cost, rounded');

# min_price: the clamp as a charge on the rate
tariff('MIN', 'EUR', '[{"price_components":[{"type":"ENERGY","price":0.10,'
    . '"vat":19,"step_size":1}]}]',
    min_price => '{"excl_vat":5.00,"incl_vat":5.95}');
$x = run_session(charger_for('MIN'));
$inv = $x->{invoice};
is_deeply(rows($inv, 'vat', qw(category rate lines allowance charge taxable
    amount)), [ 'S 19 0.45 0.00 4.55 5.00 0.95' ],
    'min_price: a charge of 4.55 on the 19 % rate')
    or diag(explain($inv->{vat}));
is(num($inv->{totals}{charge_total}), '4.55', 'min_price: charge total');
check_totals('min_price', $x);

# no VAT at all: category E with the seller's exemption reason; vat 0: Z
tariff('NOVAT', 'EUR', '[{"price_components":[{"type":"ENERGY",'
    . '"price":0.30,"step_size":1},{"type":"FLAT","price":1.00,"vat":0,'
    . '"step_size":0}]}]');
$x = run_session(charger_for('NOVAT'));
$inv = $x->{invoice};
is_deeply(rows($inv, 'lines', qw(dimension vat_category vat_rate)),
    [ 'ENERGY E 0', 'FLAT Z 0' ], 'no VAT: E; vat 0: Z')
    or diag(explain($inv->{lines}));
is_deeply([ sort map { "$_->{category} " . ($_->{exemption_reason} // '-') }
    @{ $inv->{vat} } ], [ 'E Exempt under section 4 UStG', 'Z -' ],
    'E carries the seller\'s exemption reason');
check_totals('no VAT', $x);

# JPY: no decimals
tariff('JPY', 'JPY', '[{"price_components":[{"type":"ENERGY","price":45,'
    . '"vat":10,"step_size":1}]}]');
$x = run_session(charger_for('JPY'));
$inv = $x->{invoice};
is($inv->{currency}, 'JPY', 'JPY: an invoice');
is(num($inv->{totals}{payable}), '223', 'JPY: 4.5 kWh at 45 + 10 %, whole yen');
check_totals('JPY', $x);

# who gets none, and why the session says so
tariff('KWD', 'KWD', '[{"price_components":[{"type":"ENERGY","price":0.1,'
    . '"vat":0,"step_size":1}]}]');
$x = run_session(charger_for('KWD'));
is($x->{cdr_status}, 200, 'KWD: a CDR');
ok(!$x->{invoice}, 'KWD: no invoice');
like($x->{session}{no_invoice}, qr/more than 2 decimals/,
    'KWD: the session says why');
ok(!exists $x->{cdr}{invoice_reference_id}, 'KWD: the CDR names none');

tariff('FREE', 'EUR', '[{"price_components":[{"type":"ENERGY","price":0,'
    . '"vat":19,"step_size":1}]}]');
$x = run_session(charger_for('FREE'));
is($x->{cdr_status}, 200, 'zero total: a CDR');
ok(!$x->{invoice}, 'zero total: no invoice');
like($x->{session}{no_invoice}, qr/total is zero/, 'zero total: said so');

$x = run_session(charger_for('UNDEFINED'));
is($x->{cdr_status}, 404, 'unrated: no CDR');
ok(!$x->{invoice} && !$x->{session}{no_invoice},
    'unrated: no invoice (the cost_error says why)');
ok($x->{session}{cost_error}, '... there is a cost_error');

$x = run_session(charger_for('TWO'), token => 'RFID');
is($x->{cdr_status}, 200, 'roaming token: a CDR');
ok(!$x->{invoice}, 'roaming token: no invoice');
like($x->{session}{no_invoice}, qr/eMSP bills its driver/,
    'roaming token: said so');

# --- formats ----------------------------------------------------------------

my $num = (xget('invoices?limit=1')->{x}{items}[0] || {})->{number};
ok($num, 'the newest invoice') or BAIL_OUT('no invoice');
my $r;

$r = xget("invoices/$num");
is($r->{headers}{'content-type'}, 'application/json', 'no Accept: JSON');
$r = xget("invoices/$num", headers => { accept => 'text/html' });
is($r->{status}, 200, 'Accept: text/html: 200');
like($r->{headers}{'content-type'}, qr{^text/html}, '... text/html');
$r = xget("invoices/$num", headers => { accept => 'application/xml' });
is($r->{status}, 200, 'Accept: application/xml: 200');
is($r->{headers}{'content-type'}, 'application/xml', '... application/xml');
like($r->{body}, qr/^<\?xml/, '... an XML document');
$r = xget("invoices/$num", headers => {
    accept => 'text/plain;q=0.5, application/json' });
is($r->{headers}{'content-type'}, 'application/json',
    'Accept naming JSON among others: JSON');
for my $e ([ json => qr{^application/json} ], [ html => qr{^text/html} ],
           [ xml => qr{^application/xml} ])
{
    $r = xget("invoices/$num.$e->[0]", headers => { accept => 'text/html' });
    is($r->{status}, 200, ".$e->[0]: 200");
    like($r->{headers}{'content-type'}, $e->[1],
        ".$e->[0]: its type, whatever Accept says");
}
is_problem(xget("invoices/$num", headers => { accept => 'image/png' }),
    406, 'not-acceptable', 'Accept: image/png: 406');
is_problem(xget("invoices/$num.pdf"), 406, 'not-acceptable', '.pdf: 406');
is_problem(xget('invoices/INV-1999-000001'), 404, 'unknown-invoice',
    'an unknown number: 404');
is_problem(xget('credit-notes/CN-1999-000001.xml'), 404,
    'unknown-credit-note', 'an unknown credit note: 404');
is($t->admin('HEAD', "invoices/$num")->{status}, 200, 'HEAD: 200');

# --- the listing ------------------------------------------------------------

my $all = xget('invoices')->{x};
is(scalar @{ $all->{items} }, 5, 'GET invoices: the five invoices');
is($all->{next}, undef, '... on one page');
my @numbers = map { $_->{number} } @{ $all->{items} };
is_deeply(\@numbers, [ sort { $b cmp $a } @numbers ], '... newest first');
is_deeply([ keys %{ $all->{items}[0] } ] && [ sort keys %{ $all->{items}[0] } ],
    [ sort qw(number issue_date due_date issued_at buyer currency total
        charger_id session_id cdr_id) ], '... each a summary');

is($t->store_stat->{invoices}, 5, 'GET store: 5 invoices');
is($t->store_stat->{credit_notes}, 0, 'GET store: no credit notes');

# every invoice made here, as the API serves it: UBL 2.1 and EN 16931
{
    my @files;
    for my $num (@numbers) {
        my $r = xget("invoices/$num.xml");
        $t->write_file("$num.xml", $r->{body});
        push @files, $t->dir . "/$num.xml";
    }
    my $v = validate_ubl(@files);
    is_deeply($v->{$_}, [], "$_: UBL 2.1 schema and EN 16931 rules")
        or diag(join "\n", @{ $v->{$_} || [] }) for @files;
}

my (@paged, $cursor);
for (1 .. 10) {
    my $p = xget('invoices?limit=4' . ($cursor ? "&cursor=$cursor" : ''))->{x};
    push @paged, map { $_->{number} } @{ $p->{items} };
    $cursor = $p->{next} or last;
}
is_deeply(\@paged, \@numbers, 'limit and cursor page through them all');

is(scalar @{ xget('invoices?from=2000-01-01&to=2000-01-02')->{x}{items} }, 0,
    'from/to outside: none');
is(scalar @{ xget('invoices?from=2000-01-01T00:00:00Z')->{x}{items} }, 5,
    'from long ago: all');
is(scalar @{ xget('invoices?to=2000-01-01')->{x}{items} }, 0,
    'to long ago: none');
is(scalar @{ xget('invoices?customer=C-1')->{x}{items} }, 0,
    'a customer without invoices: none (ad hoc invoices have no customer)');
is_problem(xget('invoices?limit=0'), 400, 'invalid-query', 'limit 0: 400');
is_problem(xget('invoices?cursor=zz'), 400, 'invalid-query',
    'a bad cursor: 400');
is_problem(xget('invoices?from=yesterday'), 400, 'invalid-query',
    'a bad from: 400');

# --- without a seller file: CDRs only ----------------------------------------

$t->stop;
$t->write_conf($t->std_conf(workers => 1));
$t->run;
$x = run_session(charger_for('TWO'), sid => 'noseller');
is($x->{cdr_status}, 200, 'no seller file: a CDR');
ok(!$x->{invoice} && !$x->{session}{no_invoice}, '... and no invoice');
ok(!exists $x->{cdr}{invoice_reference_id}, '... the CDR names none');
is(scalar @{ xget('invoices')->{x}{items} }, 5,
    '... the earlier invoices stay readable');

# --- the idle sweep closes a session: it is invoiced too -----------------------

$t->stop;
$t->write_conf($t->std_conf(workers => 1, http => 'evbill_seller_file '
    . '%%TESTDIR%%/seller.json; evbill_session_idle_timeout 1s;'));
$t->run;
{
    my $c = charger_for('TWO');
    is($c->start($t->start_body(session_id => 'idle',
        token_type => 'AD_HOC_USER'))->{status}, 201, 'idle: start');
    is($c->reading('idle', { seq => 1, timestamp => '2026-11-25T10:30:00Z',
        energy_wh => 5500 })->{status}, 200, 'idle: a reading');
    my $s = {};
    for (1 .. 40) {
        $s = xget("sessions/$c->{charger_id}/idle")->{x} || {};
        last if ($s->{state} // '') eq 'stopped';
        select(undef, undef, undef, 0.25);
    }
    is($s->{stop_reason}, 'timeout', 'idle: the sweep closed it');
    ok($s->{invoice}, 'idle: invoiced at the sweep\'s close');
    my $i = xget("invoices/$s->{invoice}")->{x} || {};
    is(num($i->{totals}{payable}), num(xget("cdrs/$c->{charger_id}/idle")
        ->{x}{total_cost}{incl_vat}), 'idle: payable = the CDR\'s total');
    like($s->{invoice}, qr/-000006$/, 'idle: the series went on (6)');
}

$t->finish;
done_testing;
