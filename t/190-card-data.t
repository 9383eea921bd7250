#!/usr/bin/perl
# No card data (issue 11): a card number (13 to 19 digits passing Luhn,
# plain or typed in groups) in a free-text field of the admin API, or in
# the seller file, is refused with 422 card-data-refused at its pointer,
# the store unchanged, and the number is neither echoed in the answer
# nor written to any log (info and debug); near misses are accepted, and
# ids are not free text.

use strict;
use warnings;
use utf8;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;
use JSON::PP;

my $SELLER = do {
    local $/;
    open my $f, '<', "$FindBin::Bin/fixtures/invoice/seller.json" or die;
    <$f>;
};

my $t = Evbill::Test->new;
$t->allow_alerts(qr/seller file/);
$t->write_file('seller.json', $SELLER);

# the debug log too: the module's own lines at every level
my $conf = $t->std_conf(
    main => 'error_log %%TESTDIR%%/debug.log debug;',
    http => 'evbill_seller_file %%TESTDIR%%/seller.json;');
$t->write_conf($conf);
$t->run;

# every number refused below, as people type them; none may reach an
# answer or a log, in any grouping
my %PAN = (
    visa      => '4111 1111 1111 1111',
    mc        => '5555-5555-5555-4444',
    amex      => '3782 822463 10005',
    discover  => '6011111111111117',
    visa2     => '4012888888881881',
    jcb       => '3530-1113-3330-0000',
    diners    => '30569309025904',
    visa13    => '4222222222222',
    maestro   => '6799 9901 0000 0000 019',
    unionpay  => '6212345678901265',
);

# the digits with anything of up to 3 non-digits between them
sub pan_re {
    my ($pan) = @_;
    my @d = split //, ($pan =~ s/\D//gr);
    my $re = join('\D{0,3}', @d);
    return qr/$re/;
}

sub no_pan_in {
    my ($text, $what) = @_;
    my @hit = grep { $text =~ pan_re($PAN{$_}) } sort keys %PAN;
    ok(!@hit, "$what holds no card number") or diag("found: @hit");
}

sub errors_at {
    my ($r) = @_;
    return { map { ($_->{pointer} => $_->{type} =~ s/^urn:evbill:problem://r) }
        @{ ref $r->{json} eq 'HASH' ? $r->{json}{errors} // [] : [] } };
}

# 422 card-data-refused at ptr, store unchanged, nothing echoed
sub card_refused {
    my ($method, $path, $body, $ptr, $name) = @_;
    $t->store_unchanged(sub {
        my $r = $t->admin($method, $path, $body);
        is_problem($r, 422, 'card-data-refused', "$name: 422");
        is(errors_at($r)->{$ptr}, 'card-data-refused', "$name: at $ptr")
            or diag($r->{body});
        like($r->{json}{detail} // '', qr/card number/,
            "$name: the detail says why");
        no_pan_in($r->{body}, "$name: the answer");
    }, "$name: store unchanged");
}

sub customer {
    my (%o) = @_;
    my $b = {
        name => 'Erika Mustermann',
        email => 'erika@example.com',
        address => { street => 'Hauptstraße 5', city => 'Köln',
                     postal_code => '50667', country => 'DE' },
        invoicing => 'per_session',
    };
    for (keys %o) {
        if (/^address\.(.*)/) { $b->{address}{$1} = $o{$_} }
        else { $b->{$_} = $o{$_} }
    }
    return $b;
}

# --- customers: name and address ---------------------------------------

card_refused('PUT', 'customers/C-1', customer(name => "Erika $PAN{visa}"),
    '/name', 'customer name');
card_refused('PUT', 'customers/C-1',
    customer('address.street' => "Hauptstraße $PAN{mc}"),
    '/address/street', 'customer street');
card_refused('PUT', 'customers/C-1',
    customer('address.city' => "Köln $PAN{amex}"),
    '/address/city', 'customer city');
card_refused('PUT', 'customers/C-1',
    customer('address.postal_code' => $PAN{discover}),
    '/address/postal_code', 'customer postal code');
# the rule holds for the string as read: JSON escapes do not hide digits
my $escaped = JSON::PP->new->utf8->canonical->encode(customer(name => 'Erika XXXX'));
$escaped =~ s/XXXX/\\u0034\\u0031\\u00311\\u00201111-1111 1111/;
card_refused('PUT', 'customers/C-1', $escaped, '/name',
    'customer name with JSON escapes');
is_problem($t->admin('GET', 'customers/C-1'), 404, 'unknown-customer',
    'no customer was made');

# an existing customer is not changed by a refused update either
my $r = $t->admin('PUT', 'customers/C-2', customer());
is($r->{status}, 201, 'PUT customer C-2: 201') or diag($r->{body});
card_refused('PUT', 'customers/C-2', customer(name => "Erika $PAN{visa2}"),
    '/name', 'customer update');
is($t->admin('GET', 'customers/C-2')->{json}{name}, 'Erika Mustermann',
    'C-2 keeps its name');

# near misses and ids
$r = $t->admin('PUT', 'customers/C-3',
    customer(name => 'Erika 4111 1111 1111 1112',
             'address.street' => 'Postfach 4111-1111-1117',
             'address.postal_code' => '41111111111111111115'));
is($r->{status}, 201, 'near misses (Luhn fails, 12 and 20 digits) pass')
    or diag($r->{body});
$r = $t->admin('PUT', 'customers/5105105105105100', customer());
is($r->{status}, 201, 'a customer id of 16 digits: an id, not free text')
    or diag($r->{body});

# --- charger locations: name and address --------------------------------

sub charger_with {
    my (%loc) = @_;
    my $b = $t->default_charger_body;
    $b->{location}{$_} = $loc{$_} for keys %loc;
    return $b;
}

card_refused('PUT', 'chargers/CARD-CP',
    charger_with(name => "Depot $PAN{jcb}"), '/location/name',
    'location name');
card_refused('PUT', 'chargers/CARD-CP',
    charger_with(address => "Hafenstr. $PAN{diners}"), '/location/address',
    'location address');
card_refused('PUT', 'chargers/CARD-CP',
    charger_with(city => $PAN{visa13}), '/location/city', 'location city');
is_problem($t->get_charger('CARD-CP'), 404, 'unknown-charger',
    'no charger was made');

$r = $t->put_charger('CARD-CP', charger_with(name => 'Depot 4111 1111 1111 1112'));
is($r->{status}, 201, 'a location name with a near miss passes')
    or diag($r->{body});

# --- void reason -------------------------------------------------------------

my $c = $t->charger(id => 'CARD-1');
is($c->start($t->start_body(session_id => 'v1'))->{status}, 201, 'start v1');
card_refused('POST', 'sessions/CARD-1/v1/void',
    { reason => "driver paid with $PAN{maestro}" }, '/reason', 'void reason');
is($t->get_session('CARD-1', 'v1')->{json}{state}, 'active',
    'v1 still active');
$r = $t->admin('POST', 'sessions/CARD-1/v1/void',
    { reason => 'meter swapped, ticket 4111-1111-1111-1112' });
is($r->{status}, 200, 'a void reason with a near miss passes')
    or diag($r->{body});

# --- credit note reason ------------------------------------------------------

is($t->admin('PUT', 'tariffs/FLAT', '{"country_code":"DE","party_id":"EXA",'
    . '"id":"FLAT","currency":"EUR","last_updated":"2026-01-01T00:00:00Z",'
    . '"elements":[{"price_components":[{"type":"ENERGY","price":0.335,'
    . '"vat":19,"step_size":1}]}]}')->{status}, 201, 'PUT tariff FLAT');
my $ci = $t->charger(id => 'CARD-2', body => { tariff_id => 'FLAT' });
is($ci->start($t->start_body(session_id => 'i1',
    token_type => 'AD_HOC_USER'))->{status}, 201, 'start i1');
is($ci->stop('i1', { timestamp => '2026-11-25T10:30:00Z',
    meter_stop_wh => 5500 })->{status}, 200, 'stop i1');
my $num = $t->get_session('CARD-2', 'i1')->{json}{invoice};
ok($num, "i1 invoiced: $num");

card_refused('PUT', "invoices/$num/credits/cr1",
    { reason => "refund to card $PAN{unionpay}" }, '/reason',
    'credit reason');
card_refused('PUT', "invoices/$num/credits/cr1",
    { reason => "refund to $PAN{visa}", lines => [1] }, '/reason',
    'credit reason with lines');
$r = $t->admin('PUT', "invoices/$num/credits/cr1",
    { reason => 'refund to IBAN DE89 3704 0044 0532 0130 00' });
is($r->{status}, 201, 'a credit reason with an IBAN passes (201: the '
    . 'refusals made none)')
    or diag($r->{body});

# --- the logs ----------------------------------------------------------------

$t->stop;

my $log = $t->error_log;
my $debug = $t->read_file('debug.log');
ok(length $debug > 1000, 'the debug log was written (nginx --with-debug)');
no_pan_in($log, 'error.log (info)');
no_pan_in($debug, 'debug.log');

# one info line per refusal, naming the field, never the value
my @refusals = grep { /\[info\].*card-data-refused/ } split /\n/, $log;
is(scalar @refusals, 12, 'each of the 12 refusals logged one info line')
    or diag($log);
is(scalar(grep { /refused \(card-data-refused\) at "\/[a-z_\/]+": a card number in free text \(not logged\)/ }
    @refusals), scalar @refusals, '... each with its pointer and why');

# --- the seller file at nginx -t -------------------------------------------

sub seller_with {
    my (%o) = @_;
    my $s = JSON::PP->new->utf8->decode($SELLER);
    for my $k (keys %o) {
        if ($k =~ /^address\.(.*)/) { $s->{address}{$1} = $o{$k} }
        else { $s->{$k} = $o{$k} }
    }
    return JSON::PP->new->utf8->canonical->encode($s);
}

my @seller_bad = (
    [ { name => "Example $PAN{visa} GmbH" }, 'name' ],
    [ { 'address.street' => "Hauptstrasse $PAN{mc}" }, 'address.street' ],
    [ { 'address.city' => "Berlin $PAN{amex}" }, 'address.city' ],
    [ { 'address.postal_code' => $PAN{discover} }, 'address.postal_code' ],
    [ { vat_exemption_reason => "card $PAN{jcb}" }, 'vat_exemption_reason' ],
);

for my $b (@seller_bad) {
    my ($o, $field) = @$b;
    $t->write_file('error.log', '');
    $t->write_file('seller.json', seller_with(%$o));
    my ($rc, $out) = $t->test_config;
    isnt($rc, 0, "nginx -t: a card number in the seller's $field: fails");
    like($out, qr/\[emerg\].*seller file "[^"]*seller\.json": "\Q$field\E" holds what looks like a card number/,
        "... naming $field") or diag($out);
    no_pan_in($out . $t->error_log, "nginx -t ($field): its output");
}

$t->write_file('seller.json', seller_with(name => 'Example 4111 1111 1111 1112 GmbH',
    registration => 'HRB 4111111111111111', phone => '4111 1111 1111 1111'));
my ($rc, $out) = $t->test_config;
is($rc, 0, 'nginx -t: a near miss in the name, digits in registration and '
    . 'phone (not free text) pass') or diag($out);

$t->finish;
done_testing;
