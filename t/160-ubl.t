#!/usr/bin/perl
# The UBL 2.1 documents of evb_invoice_render_ubl (issue 9): the samples
# of build/evbill-invoice-sample (several VAT rates, E, Z, JPY, the ad
# hoc buyer, min and max clamps, a partial credit note, en and de) pass
# the UBL 2.1 schema and CEN's EN 16931 rules with no fatal assertion;
# broken documents are reported (the validators really run); CEN's own
# examples pass the same helper.  One Saxon run for all documents.

use strict;
use warnings;
use Test::More;
use FindBin;
use File::Temp qw(tempdir);
use lib "$FindBin::Bin/lib";
use Evbill::Invoice qw(validate_ubl shared_dir);

my $top = "$FindBin::Bin/..";
my $tool = "$top/build/evbill-invoice-sample";
my $dir = tempdir('evbill-ubl-t-XXXXXX', TMPDIR => 1, CLEANUP => 1);

sub slurp {
    my ($f) = @_;
    open my $in, '<:raw', $f or die "$f: $!";
    local $/;
    return scalar <$in>;
}

sub spew {
    my ($f, $c) = @_;
    open my $out, '>:raw', $f or die "$f: $!";
    print $out $c;
    close $out or die "$f: $!";
}

ok(-x $tool, 'build/evbill-invoice-sample built') or BAIL_OUT('make all');

my @names = split /\n/, `$tool $dir`;
is($?, 0, 'the sample tool exits 0');
is_deeply([sort @names], [sort qw(
    invoice-en-vat-rates creditnote-en-partial invoice-de-exempt
    invoice-en-zero-rated invoice-en-jpy invoice-de-adhoc
    invoice-en-min-price invoice-de-max-price invoice-en-two-sessions)],
    'the samples written');

my %x = map { $_ => slurp("$dir/$_.xml") } @names;

# what each sample is for, in the document
like($x{'invoice-en-vat-rates'},
    qr{<cbc:Percent>19</cbc:Percent>.*<cbc:Percent>7</cbc:Percent>}s,
    'several rates: a breakdown per rate');
like($x{'invoice-en-vat-rates'},
    qr{<cbc:Name>Fleet &lt;Logistics&gt; Ltd</cbc:Name>},
    'text is XML-escaped');
like($x{'invoice-en-vat-rates'}, qr{<cbc:DueDate>2026-12-20</cbc:DueDate>},
    'invoice: due date (BT-9)');
like($x{'invoice-en-vat-rates'},
    qr{<cbc:PaymentMeansCode>58</cbc:PaymentMeansCode>.*
       <cbc:ID>DE89370400440532013000</cbc:ID>}sx,
    'seller IBAN as SEPA transfer (BG-16)');
like($x{'invoice-en-vat-rates'},
    qr{<cbc:InvoicedQuantity[ ]unitCode="KWH">23\.456789<.*
       <cbc:InvoicedQuantity[ ]unitCode="HUR">1\.5<.*
       <cbc:InvoicedQuantity[ ]unitCode="HUR">0\.508333<}sx,
    'quantities: kWh and hours');
like($x{'invoice-en-vat-rates'},
    qr{<cac:InvoicePeriod><cbc:StartDate>2026-12-06</cbc:StartDate>}
    , 'the session as the invoicing period');
like($x{'invoice-en-vat-rates'},
    qr{<cac:DeliveryLocation><cbc:ID>DE\*SNO\*E0042\*1</cbc:ID>},
    'the EVSE as the delivery location');
like($x{'invoice-en-vat-rates'},
    qr{<cac:AdditionalDocumentReference><cbc:ID>DE\*SNO\*C0000001<},
    'the CDR id as a supporting document');
like($x{'invoice-en-vat-rates'},
    qr{<cbc:Note>Charging[ ]session[ ]DE\*SNO\*C0000001[ ]at[ ]charger[ ]
       CP-HH-0042,.*[ ]2026-12-06[ ]09:20[ ]to[ ]2026-12-06[ ]10:55[ ]
       \(Europe/Berlin\)}x,
    'the session in the note, local times');
like($x{'invoice-de-exempt'},
    qr{<cbc:ID>E</cbc:ID><cbc:Percent>0</cbc:Percent>
       <cbc:TaxExemptionReason>Steuerbefreit[ ]nach}x,
    'no VAT: category E with the seller\'s reason');
like($x{'invoice-en-zero-rated'}, qr{<cbc:ID>Z</cbc:ID>}, 'vat 0: Z');
unlike($x{'invoice-en-zero-rated'}, qr{PaymentMeans},
    'no IBAN: no payment means');
unlike($x{'invoice-en-jpy'}, qr{currencyID="JPY">\d+\.},
    'JPY: amounts without decimals');
like($x{'invoice-en-jpy'},
    qr{<cbc:PayableAmount currencyID="JPY">\d+</cbc:PayableAmount>},
    'JPY: payable');
like($x{'invoice-de-adhoc'},
    qr{<cac:AccountingCustomerParty><cac:Party><cac:PartyName>
       <cbc:Name>Ad-hoc-Kunde</cbc:Name></cac:PartyName><cac:PostalAddress>
       <cac:Country><cbc:IdentificationCode>AT</cbc:IdentificationCode>}x,
    'ad hoc buyer: fixed name, the location\'s country');
like($x{'invoice-de-adhoc'}, qr{<cbc:PrepaidAmount currencyID="EUR">8\.50<}
    , 'ad hoc: prepaid');
like($x{'invoice-en-min-price'},
    qr{<cac:AllowanceCharge><cbc:ChargeIndicator>true<.*
       <cbc:Amount[ ]currencyID="EUR">4\.53</cbc:Amount>}sx,
    'min_price: a document-level charge');
is(() = $x{'invoice-de-max-price'} =~
    /<cbc:ChargeIndicator>false</g, 2,
    'max_price: an allowance per VAT rate');
like($x{'creditnote-en-partial'},
    qr{^<CreditNote[ ].*<cbc:CreditNoteTypeCode>381<.*
       <cac:BillingReference><cac:InvoiceDocumentReference>
       <cbc:ID>INV-2026-000001</cbc:ID><cbc:IssueDate>2026-12-06<}smx,
    'credit note: refers to the invoice (BT-25, BT-26)');
like($x{'creditnote-en-partial'},
    qr{<cbc:Note>Start fee charged in error}, 'credit note: the reason');
like($x{'invoice-en-two-sessions'},
    qr{<cbc:ID>2</cbc:ID><cbc:Note>Charging session CP-HH-0043/DE\*SNO\*C0000011 \(late\)</cbc:Note>},
    'two sessions: each line names its session (BT-127), a late one says so');
unlike($x{'invoice-en-two-sessions'}, qr{InvoicePeriod|<cac:Delivery>},
    'two sessions: no session at document level');
is(() = $x{'creditnote-en-partial'} =~ /<cac:CreditNoteLine>/g, 1,
    'partial credit note: one line');

# broken documents, which the validators must report
(my $totals = $x{'invoice-en-vat-rates'})
    =~ s{<cbc:PayableAmount currencyID="EUR">[0-9.]+<}
        {<cbc:PayableAmount currencyID="EUR">999.99<};
spew("$dir/broken-totals.xml", $totals);
(my $order = $x{'invoice-en-zero-rated'})
    =~ s{(<cbc:IssueDate>[^<]*</cbc:IssueDate>)(<cbc:DueDate>[^<]*</cbc:DueDate>)}
        {$2$1};
spew("$dir/broken-order.xml", $order);
(my $vat = $x{'invoice-de-max-price'})
    =~ s{(<cbc:TaxAmount currencyID="EUR">)9\.30<}{${1}9.99<};
spew("$dir/broken-vat.xml", $vat);

my @cen = glob(shared_dir() . '/en16931/examples/*.xml');
is(scalar @cen, 3, 'CEN examples found');

my @all = ((map { "$dir/$_.xml" } @names),
    map({ "$dir/broken-$_.xml" } qw(totals order vat)), @cen);

my $t0 = time;
my $r = validate_ubl(@all);
note(sprintf('validate_ubl: %d documents in %d s', scalar @all,
    time - $t0));

for my $n (@names) {
    is_deeply($r->{"$dir/$n.xml"}, [], "$n: UBL 2.1 schema and EN 16931")
        or diag(join("\n", @{$r->{"$dir/$n.xml"}}));
}

for my $f (@cen) {
    is_deeply($r->{$f}, [], "CEN example $f passes the helper")
        or diag(join("\n", @{$r->{$f}}));
}

ok((grep { /^BR-CO-16 fatal/ } @{$r->{"$dir/broken-totals.xml"}}),
    'changed payable amount: BR-CO-16 reported')
    or diag(explain($r->{"$dir/broken-totals.xml"}));
ok((grep { /^schema: / } @{$r->{"$dir/broken-order.xml"}}),
    'elements out of order: schema error reported')
    or diag(explain($r->{"$dir/broken-order.xml"}));
ok((grep { /^BR-(?:S-09|CO-14) fatal/ } @{$r->{"$dir/broken-vat.xml"}}),
    'changed VAT amount: reported')
    or diag(explain($r->{"$dir/broken-vat.xml"}));

done_testing;
