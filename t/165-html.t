#!/usr/bin/perl
# The HTML invoice of evb_invoice_render_html (issue 9): every sample of
# build/evbill-invoice-sample is one self-contained page (no scripts, no
# external assets, A4 print rules, the document's language); an English
# invoice, a German invoice and a credit note print to PDF in headless
# Chromium, and the PDF's text has the number, dates, VAT lines and
# totals in the language's formats.  Chromium starts three times.

use strict;
use warnings;
use utf8;
use Test::More;
use FindBin;
use File::Temp qw(tempdir);
use Encode qw(decode);
use lib "$FindBin::Bin/lib";
use Evbill::Invoice qw(html_pdf_text);

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my $tool = "$FindBin::Bin/../build/evbill-invoice-sample";
my $dir = tempdir('evbill-html-t-XXXXXX', TMPDIR => 1, CLEANUP => 1);

ok(-x $tool, 'build/evbill-invoice-sample built') or BAIL_OUT('make all');
my @names = split /\n/, `$tool $dir`;
is($?, 0, 'the sample tool exits 0');

sub slurp {
    my ($f) = @_;
    open my $in, '<:raw', $f or die "$f: $!";
    local $/;
    return decode('UTF-8', scalar <$in>);
}

# self-contained, in its language, for phones and A4
for my $n (@names) {
    my $h = slurp("$dir/$n.html");
    my $lang = $n =~ /-de-/ ? 'de' : 'en';
    like($h, qr{\A<!DOCTYPE html>\n<html lang="$lang">}, "$n: HTML5, $lang");
    unlike($h, qr{<script|<link|<img|<iframe|\bsrc=|\bhref=|url\(|\@import}i,
        "$n: no scripts, no external assets");
    like($h, qr{<meta name="viewport" content="width=device-width},
        "$n: phone viewport");
    like($h, qr{\@page\{size:A4;}, "$n: A4 page");
    like($h, qr{\@media print\{}, "$n: print rules");
}

my %h = map { $_ => slurp("$dir/$_.html") } @names;
like($h{'invoice-en-vat-rates'}, qr{Fleet &lt;Logistics&gt; Ltd},
    'text is HTML-escaped');
like($h{'invoice-en-jpy'}, qr{<td class="n">1,502</td>},
    'JPY: whole yen with a thousands separator');
like($h{'invoice-de-adhoc'}, qr{<strong>Ad-hoc-Kunde</strong><br>AT},
    'ad hoc buyer: fixed name, location\'s country');
like($h{'invoice-de-exempt'}, qr{Steuerfrei<span class="sub">Steuerbefreit},
    'E: the exemption reason in the VAT breakdown');
like($h{'invoice-en-min-price'}, qr{Charge: tariff minimum price},
    'min_price: a charge');
like($h{'invoice-de-max-price'}, qr{Nachlass: Höchstpreis des Tarifs},
    'max_price: an allowance');
ok(index($h{'invoice-en-vat-rates'}, '<section class="status due">'
    . '<strong>Open</strong>, due on 20 December 2026<br>Credited: '
    . "1.19\x{a0}EUR (CN-2026-000001)</section>") >= 0,
    'payment status: open, partly credited');
like($h{'invoice-de-exempt'}, qr{<section class="status paid"><strong>Bezahlt},
    'payment status: paid (de)');
like($h{'invoice-de-exempt'}, qr{<strong>Bezahlt</strong>: [^<]+ per Karte visa mit Endziffern 4242</section>},
    'payment status: the card brand and last 4 (de)');
unlike($h{'creditnote-en-partial'}, qr{class="status},
    'credit note: no status view');

# printed: the text a reader sees
my $en = html_pdf_text("$dir/invoice-en-vat-rates.html");
like($en, qr/INV-2026-000001/, 'en PDF: number');
like($en, qr/Issue date\s+6 December 2026/, 'en PDF: issue date');
like($en, qr/Due date\s+20 December 2026/, 'en PDF: due date');
like($en, qr/VAT 19\s*%\s+13\.14\s+2\.50/, 'en PDF: VAT line 19 %');
like($en, qr/VAT 7\s*%\s+3\.05\s+0\.21/, 'en PDF: VAT line 7 %');
like($en, qr/Total\s+18\.90 EUR/, 'en PDF: total');
like($en, qr/Amount due\s+18\.90 EUR/, 'en PDF: amount due');
like($en, qr/Energy\s+23\.456789\s+kWh\s+0\.39\s+19\s*%\s+9\.15/,
    'en PDF: an energy line');
like($en, qr/Start\s+6 December 2026, 09:20/,
    'en PDF: session start, local time');
like($en, qr/CDR\s+DE\*SNO\*C0000001/, 'en PDF: CDR id');
is(scalar(() = $en =~ /\f/g), 1, 'en PDF: one page (pdftotext ends each with a form feed)');

my $de = html_pdf_text("$dir/invoice-de-max-price.html");
like($de, qr/INV-2026-000007/, 'de PDF: number');
like($de, qr/Rechnungsdatum\s+6\. Dezember 2026/, 'de PDF: issue date');
like($de, qr/Fällig am\s+20\. Dezember 2026/, 'de PDF: due date');
like($de, qr/USt\. 19\s*%\s+48,94\s+9,30/, 'de PDF: VAT line 19 %');
like($de, qr/USt\. 7\s*%\s+11,06\s+0,77/, 'de PDF: VAT line 7 %');
like($de, qr/Nachlässe\s+−20,05 EUR/, 'de PDF: allowances');
like($de, qr/Gesamtbetrag\s+70,07 EUR/, 'de PDF: total');
like($de, qr/Zahlbetrag\s+70,07 EUR/, 'de PDF: amount due');
like($de, qr/Energie\s+95,000\s+kWh\s+0,59\s+19\s*%\s+56,05/,
    'de PDF: decimal commas');
like($de, qr/Ende\s+6\. Dezember 2026, 14:20 Uhr/, 'de PDF: session end');
is(scalar(() = $de =~ /\f/g), 1, 'de PDF: one page');

my $cn = html_pdf_text("$dir/creditnote-en-partial.html");
like($cn, qr/Credit note\s.*CN-2026-000001/s, 'credit note PDF: number');
like($cn, qr/Corrects invoice\s+INV-2026-000001 of 6\s/,
    'credit note PDF: the invoice it corrects');
like($cn, qr/Amount credited\s+1\.19 EUR/, 'credit note PDF: amount');

done_testing;
