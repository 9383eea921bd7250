#!/usr/bin/perl
# Invoices through nginx, end to end (issue 9): the operator's customers
# (per session and monthly, English and German, with their own terms),
# tokens resolved at the start, ad hoc and roaming sessions; every
# invoice and credit note this test makes, fetched as UBL through the
# admin API, passes the UBL 2.1 schema and CEN's EN 16931 rules in one
# validator run; the German customer's HTML invoice printed by headless
# Chromium shows its number, due date, VAT lines and totals.

use strict;
use warnings;
use utf8;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;
use Evbill::ExactJSON qw(jdecode num);
use Evbill::Invoice qw(validate_ubl html_pdf_text);
use Encode qw(encode_utf8);
use JSON::PP;

my $t = Evbill::Test->new;

{
    local $/;
    open my $f, '<', "$FindBin::Bin/fixtures/invoice/seller.json" or die;
    $t->write_file('seller.json', <$f>);
}

$t->write_conf($t->std_conf(workers => 2,
    http => 'evbill_seller_file %%TESTDIR%%/seller.json;'));
$t->run;

my $json = JSON::PP->new->utf8->canonical;

sub xreq {
    my ($m, $path, $body, %o) = @_;
    my $r = $t->admin($m, $path, defined $body && ref $body
        ? $json->encode($body) : $body, %o);
    $r->{x} = ($r->{body} =~ /^\{/) ? eval { jdecode($r->{body}) } : undef;
    return $r;
}

sub tariff {
    my ($id, $currency, $elements, %extra) = @_;
    my $x = join '', map { ",\"$_\":$extra{$_}" } sort keys %extra;
    is(xreq('PUT', "tariffs/$id", '{"country_code":"DE","party_id":"EXA",'
        . '"id":"' . $id . '","currency":"' . $currency . '","last_updated":'
        . '"2026-01-01T00:00:00Z"' . $x . ',"elements":' . $elements . '}')
        ->{status}, 201, "PUT tariff $id");
}

# --- who is billed ------------------------------------------------------------

is(xreq('PUT', 'customers/C-DE', { name => 'Müller Logistik GmbH',
    email => 'rechnung@mueller.example', address => { street =>
    'Hafenstraße 5', city => 'Köln', postal_code => '50667',
    country => 'DE' }, vat_id => 'DE811907980', invoicing => 'per_session',
    payment_terms_days => 30, language => 'de' })->{status}, 201,
    'a German customer, invoiced per session, 30 days');
is(xreq('PUT', 'customers/C-EN', { name => 'Fleet & Co <Ltd>',
    email => 'ap@fleet.example', address => { street => '1 High St',
    city => 'Dublin', country => 'IE' }, invoicing => 'per_session' })
    ->{status}, 201, 'an English customer, seller terms, no VAT id');
is(xreq('PUT', 'customers/C-MONTH', { name => 'Monthly AG',
    email => 'a@monthly.example', address => { street => 'Weg 1',
    city => 'Bonn', postal_code => '53111', country => 'DE' },
    invoicing => 'monthly' })->{status}, 201, 'a monthly customer');
is(xreq('PUT', 'tokens/RFID-DE-1', { customer_id => 'C-DE', type => 'RFID',
    contract_id => 'DE-EXA-C00000001-X' })->{status}, 201, 'token of C-DE');
is(xreq('PUT', 'tokens/APP-EN-1', { customer_id => 'C-EN',
    type => 'APP_USER' })->{status}, 201, 'token of C-EN');
is(xreq('PUT', 'tokens/RFID-M-1', { customer_id => 'C-MONTH',
    type => 'RFID' })->{status}, 201, 'token of C-MONTH');

tariff('TWO', 'EUR', '[{"price_components":[{"type":"ENERGY","price":0.335,'
    . '"vat":19,"step_size":1},{"type":"FLAT","price":0.505,"vat":7,'
    . '"step_size":0}]}]');
tariff('TOD', 'EUR', '[{"price_components":[{"type":"ENERGY","price":0.30,'
    . '"vat":19,"step_size":1}],"restrictions":{"start_time":"08:00",'
    . '"end_time":"20:00"}},{"price_components":[{"type":"ENERGY",'
    . '"price":0.20,"vat":19,"step_size":1}]},{"price_components":[{"type":'
    . '"PARKING_TIME","price":1.50,"vat":19,"step_size":1}]}]');
tariff('MIN', 'EUR', '[{"price_components":[{"type":"ENERGY","price":0.10,'
    . '"vat":19,"step_size":1}]}]',
    min_price => '{"excl_vat":5.00,"incl_vat":5.95}');
tariff('MAX', 'EUR', '[{"price_components":[{"type":"ENERGY","price":2.00,'
    . '"vat":19,"step_size":1},{"type":"FLAT","price":1.00,"vat":7,'
    . '"step_size":0}]}]', max_price => '{"excl_vat":3.00}');
tariff('NOVAT', 'EUR', '[{"price_components":[{"type":"ENERGY",'
    . '"price":0.30,"step_size":1},{"type":"FLAT","price":1.00,"vat":0,'
    . '"step_size":0}]}]');
tariff('JPY', 'JPY', '[{"price_components":[{"type":"ENERGY","price":45,'
    . '"vat":10,"step_size":1}]}]');

my $n = 0;

# one session through the charger API; what the admin API then shows
sub session {
    my (%o) = @_;
    my $c = $t->charger(id => 'DOC-' . ++$n,
        body => { tariff_id => $o{tariff} });
    my $sid = "s$n";
    my $start = $o{start} || '2026-11-25T10:00:00Z';
    my $r = $c->start($t->start_body(session_id => $sid, timestamp => $start,
        meter_start_wh => 1000, id_token => $o{token},
        token_type => $o{type}));
    is($r->{status}, 201, "$o{name}: start") or diag($r->{body});
    my ($live, $last, $seq) = (undef, undef, 0);
    for my $rd (@{ $o{readings} || [ [ 1800, 5500 ] ] }) {
        my %b = (seq => ++$seq, timestamp => Evbill::Test::ts_plus($start,
            $rd->[0]), energy_wh => $rd->[1]);
        $r = $c->reading($sid, \%b);
        is($r->{status}, 200, "$o{name}: reading $seq") or diag($r->{body});
        $live = (eval { jdecode($r->{body}) } || {})->{cost};
        $last = \%b;
    }
    $r = $c->stop($sid, { timestamp => $last->{timestamp},
        meter_stop_wh => $last->{energy_wh} });
    is($r->{status}, 200, "$o{name}: stop") or diag($r->{body});
    my $s = xreq('GET', "sessions/$c->{charger_id}/$sid")->{x} || {};
    return { session => $s, live => $live,
             cdr => xreq('GET', "cdrs/$c->{charger_id}/$sid")->{x},
             invoice => $s->{invoice}
                 ? xreq('GET', "invoices/$s->{invoice}")->{x} : undef };
}

# the German customer, two VAT rates, a price change on the DST day
my $de = session(name => 'C-DE', tariff => 'TOD', token => 'rfid-de-1',
    type => 'RFID', start => '2026-10-25T05:00:00Z',
    readings => [ map { [ $_ * 900, 1000 + $_ * 1500 ] } 1 .. 16 ]);
my $inv = $de->{invoice};
ok($inv, 'C-DE: invoiced (uid matched without case)')
    or diag(explain($de->{session}));
is($de->{session}{customer_id}, 'C-DE', 'the session took its customer');
is($inv->{customer_id} // $inv->{buyer}{customer_id}, 'C-DE',
    'the invoice names the customer') if exists $inv->{customer_id};
is($inv->{buyer}{name}, 'Müller Logistik GmbH', 'the buyer is the customer');
is($inv->{buyer}{vat_id}, 'DE811907980', "... with the customer's VAT id");
ok(!$inv->{buyer_ad_hoc}, '... not ad hoc');
is($inv->{language}, 'de', "the customer's language");
is(num($inv->{payment_terms_days}), 30, "the customer's terms, not the "
    . "seller's 14");
is($de->{cdr}{invoice_reference_id}, $inv->{number}, 'the CDR names it');
is(num($inv->{totals}{payable}), num($de->{cdr}{total_cost}{incl_vat}),
    'payable = the CDR total');
is(num($inv->{totals}{payable}),
    num($de->{live}{rounded}{total_cost}{incl_vat}),
    'payable = the last live cost, rounded');
is($de->{cdr}{cdr_token}{contract_id}, 'DE-EXA-C00000001-X',
    "the CDR's token from the token record");

# the English customer: seller's terms
my $en = session(name => 'C-EN', tariff => 'TWO', token => 'APP-EN-1',
    type => 'APP_USER');
ok($en->{invoice}, 'C-EN: invoiced');
is(num($en->{invoice}{payment_terms_days}), 14, "C-EN: the seller's terms");
is($en->{invoice}{language}, 'en', 'C-EN: English');

# who gets none
my $mo = session(name => 'monthly', tariff => 'TWO', token => 'RFID-M-1',
    type => 'RFID');
ok(!$mo->{invoice}, 'a monthly customer: no invoice at stop');
like($mo->{session}{no_invoice}, qr/monthly/, '... the session says why');
ok($mo->{cdr}, '... a CDR all the same');
my $ro = session(name => 'roaming', tariff => 'TWO', token => 'ROAM-99',
    type => 'RFID');
ok(!$ro->{invoice}, 'a roaming token: no invoice');
ok($ro->{cdr} && !exists $ro->{cdr}{invoice_reference_id},
    '... a CDR without an invoice reference');

# a token retired with its customer after the start keeps its buyer
my $late = $t->charger(id => 'DOC-LATE', body => { tariff_id => 'TWO' });
is(xreq('PUT', 'customers/C-LATE', { name => 'Late GmbH',
    email => 'l@late.example', address => { street => 'Gasse 2',
    city => 'Wien', postal_code => '1010', country => 'AT' },
    invoicing => 'per_session' })->{status}, 201, 'C-LATE');
is(xreq('PUT', 'tokens/LATE-1', { customer_id => 'C-LATE', type => 'RFID' })
    ->{status}, 201, 'token LATE-1');
is($late->start($t->start_body(session_id => 'late', id_token => 'LATE-1'))
    ->{status}, 201, 'late: start');
is(xreq('DELETE', 'customers/C-LATE')->{status}, 200, 'C-LATE retired');
is($late->stop('late', { timestamp => '2026-11-25T10:30:00Z',
    meter_stop_wh => 5500 })->{status}, 200, 'late: stop');
my $ls = xreq('GET', 'sessions/DOC-LATE/late')->{x} || {};
ok($ls->{invoice}, 'a customer retired after the start: still the buyer')
    or diag(explain($ls));

# ad hoc buyers and the EN 16931 cases
my @more;
push @more, session(name => 'min', tariff => 'MIN', token => 'PAY-1',
    type => 'AD_HOC_USER');
push @more, session(name => 'max', tariff => 'MAX', token => 'PAY-2',
    type => 'AD_HOC_USER');
push @more, session(name => 'novat', tariff => 'NOVAT',
    token => 'PAY-3', type => 'AD_HOC_USER');
push @more, session(name => 'jpy', tariff => 'JPY', token => 'PAY-4',
    type => 'AD_HOC_USER');
ok($_->{invoice}, "$_->{invoice}{number}: invoiced") for @more;
is(num($more[1]{invoice}{totals}{allowance_total}) > 0 ? 1 : 0, 1,
    'max_price: an allowance');

# credit notes: a partial one of the German invoice, a whole one of the
# English one
my $cn1 = xreq('PUT', "invoices/$inv->{number}/credits/p1",
    { reason => 'Ladepunkt defekt', lines => [ 1 ] });
ok($cn1->{status} == 200 || $cn1->{status} == 201, 'a partial credit note')
    or diag($cn1->{body});
my $cn2 = xreq('PUT', "invoices/$en->{invoice}{number}/credits/all",
    { reason => 'Goodwill' });
ok($cn2->{status} == 200 || $cn2->{status} == 201, 'a whole credit note')
    or diag($cn2->{body});
my @cns = grep { defined } map { $_->{x}{number} } $cn1, $cn2;
is(scalar @cns, 2, 'two credit note numbers');

# --- every document, as the API serves it, through the validators --------------

my @docs;
my $list = xreq('GET', 'invoices?limit=100')->{x}{items} || [];
cmp_ok(scalar @$list, '>=', 7, scalar(@$list) . ' invoices listed');
for my $i (@$list) {
    push @docs, [ "invoices/$i->{number}.xml", "inv-$i->{number}.xml" ];
}
push @docs, map { [ "credit-notes/$_.xml", "cn-$_.xml" ] } @cns;

my @files;
for my $d (@docs) {
    my $r = xreq('GET', $d->[0]);
    is($r->{status}, 200, "GET $d->[0]");
    $t->write_file($d->[1], $r->{body});
    push @files, $t->dir . "/$d->[1]";
}
my $res = validate_ubl(@files);
for my $f (@files) {
    is_deeply($res->{$f}, [], "$f: UBL 2.1 schema and EN 16931 rules")
        or diag(join "\n", @{ $res->{$f} || [] });
}

# --- the German HTML invoice, printed ------------------------------------------

my $h = xreq('GET', "invoices/$inv->{number}.html");
is($h->{status}, 200, 'the HTML invoice');
unlike($h->{body}, qr/<(script|link)\b|\bsrc=["']?https?:/i,
    '... self-contained');
$t->write_file('de.html', $h->{body});
my $text = html_pdf_text($t->dir . '/de.html');
like($text, qr/\Q$inv->{number}\E/, 'PDF: the number');
my ($y, $m, $d) = $inv->{due_date} =~ /^(\d+)-(\d+)-(\d+)$/;
my @monate = qw(Januar Februar März April Mai Juni Juli August September
    Oktober November Dezember);
my $due = ($d + 0) . ". $monate[$m - 1] $y";
like($text, qr/Fällig am\s+\Q$due\E/, "PDF: the due date, German style ($due)");
my $payable = num($inv->{totals}{payable});
(my $de_payable = $payable) =~ s/\./,/;
like($text, qr/\Q$de_payable\E/, "PDF: the amount due ($de_payable)");
like($text, qr/19\s*%/, 'PDF: the VAT rate');
like($text, qr/Müller Logistik GmbH/, 'PDF: the buyer');
like($text, qr/Rechnung/, 'PDF: in German');

$t->finish;
done_testing;
