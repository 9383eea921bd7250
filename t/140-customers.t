#!/usr/bin/perl
# Who is billed (issue 9): admin customers and tokens.  CRUD, the list,
# retiring, and every refusal with its status, problem type, JSON
# Pointer, and an unchanged store.

use strict;
use warnings;
use utf8;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;

my $t = Evbill::Test->new;
$t->write_conf($t->std_conf);
$t->run;

sub customer {
    my (%o) = @_;
    my $b = {
        name => 'Müller & Söhne GmbH',
        email => 'rechnung@mueller.example',
        address => { street => 'Hauptstraße 5', city => 'Köln',
                     postal_code => '50667', country => 'DE' },
        vat_id => 'DE123456789',
        invoicing => 'monthly',
        payment_terms_days => 30,
        language => 'de',
    };
    for (keys %o) {
        if (defined $o{$_}) { $b->{$_} = $o{$_} } else { delete $b->{$_} }
    }
    return $b;
}

sub errors_at {
    my ($r) = @_;
    return { map { ($_->{pointer} => $_->{type} =~ s/^urn:evbill:problem://r) }
        @{ $r->{json}{errors} // [] } };
}

# refused, with its problem, pointer (undef: none) and an unchanged store
sub refused {
    my ($method, $path, $body, $status, $type, $ptr, $name) = @_;
    $t->store_unchanged(sub {
        my $r = $t->admin($method, $path, $body);
        is_problem($r, $status, $type, $name);
        if (defined $ptr) {
            my $e = errors_at($r);
            is($e->{$ptr}, $type, "$name: $type at $ptr")
                or diag($r->{body});
        }
    }, "$name: store unchanged");
}

# --- customers ---------------------------------------------------------

my $r = $t->admin('PUT', 'customers/C-1', customer());
is($r->{status}, 201, 'PUT a new customer: 201') or diag($r->{body});
my $c = $r->{json} || {};
is($c->{customer_id}, 'C-1', 'customer_id');
is($c->{name}, 'Müller & Söhne GmbH', 'name (UTF-8)');
is_deeply($c->{address}, { street => 'Hauptstraße 5', city => 'Köln',
    postal_code => '50667', country => 'DE' }, 'address');
is($c->{vat_id}, 'DE123456789', 'vat_id');
is($c->{invoicing}, 'monthly', 'invoicing');
is($c->{payment_terms_days}, 30, 'payment_terms_days');
is($c->{language}, 'de', 'language');
is($c->{retired}, JSON::PP::false, 'not retired');
my $created = $c->{created_at};
like($created, qr/^\d{4}-\d\d-\d\dT/, 'created_at');

$t->store_unchanged(sub {
    $r = $t->admin('PUT', 'customers/C-1', customer());
    is($r->{status}, 200, 'the same PUT again: 200');
}, 'a replayed PUT writes nothing');

$r = $t->admin('PUT', 'customers/C-2', customer(vat_id => undef,
    payment_terms_days => undef, language => undef,
    invoicing => 'per_session', name => 'Erika Mustermann',
    address => { street => 'Heidestrasse 17', city => 'Dublin',
                 country => 'IE' }));
is($r->{status}, 201, 'PUT a customer with only the required fields');
$c = $r->{json} || {};
is($c->{language}, 'en', 'language defaults to en');
ok(exists $c->{payment_terms_days} && !defined $c->{payment_terms_days},
    'payment terms: null (the seller\'s)');
ok(!defined $c->{vat_id}, 'no vat_id');
ok(!defined $c->{address}{postal_code}, 'no postal code (Ireland, say)');

sleep 1.1;
$r = $t->admin('PUT', 'customers/C-1', customer(name => 'Müller AG'));
is($r->{status}, 200, 'PUT a change: 200');
is($r->{json}{name}, 'Müller AG', '... stored');
is($r->{json}{created_at}, $created, '... created_at kept');
isnt($r->{json}{updated_at}, $created, '... updated_at moved');

$r = $t->admin('GET', 'customers/C-1');
is($r->{status}, 200, 'GET customer');
is($r->{json}{name}, 'Müller AG', 'GET: as stored');

for my $i (3 .. 5) {
    is($t->admin('PUT', "customers/C-$i", customer())->{status}, 201,
        "PUT C-$i");
}

# the list, in id order, by pages
my @ids;
my $next;
my $pages = 0;
do {
    my $q = 'customers?limit=2' . (defined $next ? "&after=$next" : '');
    $r = $t->admin('GET', $q);
    is($r->{status}, 200, "GET $q");
    push @ids, map { $_->{customer_id} } @{ $r->{json}{items} || [] };
    $next = $r->{json}{next};
    $pages++;
} while (defined $next && $pages < 10);
is_deeply(\@ids, [ qw(C-1 C-2 C-3 C-4 C-5) ], 'every customer once, in order');
is($pages, 3, 'three pages of two');
$r = $t->admin('GET', 'customers');
is(scalar @{ $r->{json}{items} || [] }, 5, 'GET customers: all five');
ok(exists $r->{json}{next} && !defined $r->{json}{next}, 'next: null');

refused('GET', 'customers?limit=0', undef, 400, 'invalid-query', undef,
    'list: limit 0');
refused('GET', 'customers?limit=1001', undef, 400, 'invalid-query', undef,
    'list: limit 1001');
refused('GET', 'customers?after=zz', undef, 400, 'invalid-query', undef,
    'list: a cursor it never returned');
refused('GET', 'customers/NOPE', undef, 404, 'unknown-customer', undef,
    'GET an unknown customer');
refused('DELETE', 'customers/NOPE', undef, 404, 'unknown-customer', undef,
    'DELETE an unknown customer');

# every refusal of a body
my @bad = (
    [ 'no name', customer(name => undef), 'missing-field', '/name' ],
    [ 'empty name', customer(name => ''), 'invalid-value', '/name' ],
    [ 'name of 201 characters', customer(name => 'é' x 201),
      'invalid-value', '/name' ],
    [ 'name with a newline', customer(name => "A\nB"), 'invalid-value',
      '/name' ],
    [ 'name with a C0 control', customer(name => "A\x01B"),
      'invalid-value', '/name' ],
    [ 'name with DEL', customer(name => "A\x7fB"), 'invalid-value', '/name' ],
    [ 'name with a C1 control', customer(name => "A\x{85}B"),
      'invalid-value', '/name' ],
    [ 'name with U+FFFE', customer(name => "A\x{fffe}B"), 'invalid-value',
      '/name' ],
    [ 'name with U+FFFF', customer(name => "A\x{ffff}B"), 'invalid-value',
      '/name' ],
    [ 'name a number', customer(name => 7), 'invalid-type', '/name' ],
    [ 'no email', customer(email => undef), 'missing-field', '/email' ],
    [ 'email without @', customer(email => 'nobody'), 'invalid-value',
      '/email' ],
    [ 'email with a space', customer(email => 'a b@c.de'), 'invalid-value',
      '/email' ],
    [ 'email too long', customer(email => ('a' x 250) . '@b.de'),
      'invalid-value', '/email' ],
    [ 'no address', customer(address => undef), 'missing-field',
      '/address' ],
    [ 'address a string', customer(address => 'Köln'), 'invalid-type',
      '/address' ],
    [ 'no street', customer(address => { city => 'K', country => 'DE' }),
      'missing-field', '/address/street' ],
    [ 'street with a tab', customer(address => { street => "A\tB",
      city => 'K', country => 'DE' }), 'invalid-value', '/address/street' ],
    [ 'city of 101', customer(address => { street => 'S',
      city => 'C' x 101, country => 'DE' }), 'invalid-value',
      '/address/city' ],
    [ 'postal code of 21', customer(address => { street => 'S',
      city => 'C', postal_code => '1' x 21, country => 'DE' }),
      'invalid-value', '/address/postal_code' ],
    [ 'country not a code', customer(address => { street => 'S',
      city => 'C', country => 'XX' }), 'invalid-value', '/address/country' ],
    [ 'country lower case', customer(address => { street => 'S',
      city => 'C', country => 'de' }), 'invalid-value', '/address/country' ],
    [ 'country alpha-3', customer(address => { street => 'S',
      city => 'C', country => 'DEU' }), 'invalid-value',
      '/address/country' ],
    [ 'unknown address field', customer(address => { street => 'S',
      city => 'C', country => 'DE', region => 'NRW' }), 'invalid-value',
      '/address/region' ],
    [ 'vat_id without prefix', customer(vat_id => '123456789'),
      'invalid-value', '/vat_id' ],
    [ 'vat_id with a space', customer(vat_id => 'DE 123456789'),
      'invalid-value', '/vat_id' ],
    [ 'no invoicing', customer(invoicing => undef), 'missing-field',
      '/invoicing' ],
    [ 'invoicing weekly', customer(invoicing => 'weekly'), 'invalid-value',
      '/invoicing' ],
    [ 'terms 366', customer(payment_terms_days => 366),
      'number-out-of-range', '/payment_terms_days' ],
    [ 'terms -1', customer(payment_terms_days => -1), 'number-out-of-range',
      '/payment_terms_days' ],
    [ 'terms 1.5', customer(payment_terms_days => 1.5), 'not-an-integer',
      '/payment_terms_days' ],
    [ 'terms a string', customer(payment_terms_days => '30'),
      'invalid-type', '/payment_terms_days' ],
    [ 'language fr', customer(language => 'fr'), 'invalid-value',
      '/language' ],
    [ 'unknown field', customer(phone => '+49 1'), 'invalid-value',
      '/phone' ],
    [ 'a key with a slash', { %{ customer() }, 'a/b' => 1 },
      'invalid-value', '/a~1b' ],
);
for my $b (@bad) {
    my ($name, $body, $type, $ptr) = @$b;
    refused('PUT', 'customers/C-BAD', $body, 400, $type, $ptr, $name);
}
refused('PUT', 'customers/C-BAD', [], 400, 'invalid-type', '',
    'a body that is not an object');
refused('PUT', 'customers/C-BAD', '{"name":', 400, 'malformed-json', undef,
    'malformed JSON');
$t->store_unchanged(sub {
    is_problem($t->http('PUT', '/admin/customers/C-BAD',
        body => $t->json->encode(customer()),
        headers => { 'content-type' => 'text/plain' }), 415,
        'unsupported-media-type', 'text/plain body');
}, 'text/plain: store unchanged');
refused('PUT', 'customers/' . ('x' x 65), customer(), 400, 'invalid-value',
    undef, 'a customer id of 65');
$r = $t->admin('PUT', 'customers/C-BAD', customer(name => undef,
    email => 'x', language => 'fr'));
is_deeply(errors_at($r), { '/name' => 'missing-field',
    '/email' => 'invalid-value', '/language' => 'invalid-value' },
    'every bad field is listed');
like($r->{json}{detail}, qr/^name: /, 'the detail names the first');
is_problem($t->admin('GET', 'customers/C-BAD'), 404, 'unknown-customer',
    'nothing of a refused PUT is stored');

# at the limits
$r = $t->admin('PUT', 'customers/C-MAX', customer(name => 'é' x 200,
    payment_terms_days => 365, address => { street => 'S' x 200,
    city => 'C' x 100, postal_code => 'P' x 20, country => 'ZW' }));
is($r->{status}, 201, 'at every limit: 201') or diag($r->{body});
is($t->admin('PUT', 'customers/C-ZERO', customer(payment_terms_days => 0))
    ->{status}, 201, 'payment terms 0 (due at once)');

# --- tokens ------------------------------------------------------------

my $tok = { customer_id => 'C-1', type => 'RFID',
    contract_id => 'DE-EXA-C12345678-X',
    issuer => { country_code => 'NL', party_id => 'ABC' } };
$r = $t->admin('PUT', 'tokens/04A2B3C4', $tok);
is($r->{status}, 201, 'PUT a token: 201') or diag($r->{body});
is_deeply({ map { $_ => $r->{json}{$_} } qw(uid type customer_id
    contract_id issuer) }, { uid => '04A2B3C4', %$tok }, 'token as stored');
$t->store_unchanged(sub {
    is($t->admin('PUT', 'tokens/04A2B3C4', $tok)->{status}, 200,
        'the same PUT again: 200');
}, 'a replayed token PUT writes nothing');
$r = $t->admin('GET', 'tokens/04a2b3c4');
is($r->{status}, 200, 'GET a token in other case (CiString)');
is($r->{json}{uid}, '04A2B3C4', '... the same token');
$r = $t->admin('PUT', 'tokens/APP-1', { customer_id => 'C-2',
    type => 'APP_USER' });
is($r->{status}, 201, 'a token without contract id and issuer');
ok(!defined $r->{json}{issuer} && !defined $r->{json}{contract_id},
    '... null issuer and contract id (the CPO\'s, the uid)');
$r = $t->admin('PUT', 'tokens/APP-1', { customer_id => 'C-3',
    type => 'APP_USER' });
is($r->{status}, 200, 'a token moves to another customer');
is($r->{json}{customer_id}, 'C-3', '... stored');

refused('PUT', 'tokens/T-X', { %$tok, customer_id => 'NOPE' }, 404,
    'unknown-customer', undef, 'a token of an unknown customer');
refused('GET', 'tokens/NOPE', undef, 404, 'unknown-token', undef,
    'GET an unknown token');

my @tbad = (
    [ 'no customer_id', { %$tok, customer_id => undef }, 'missing-field',
      '/customer_id' ],
    [ 'customer_id with a slash', { %$tok, customer_id => 'a/b' },
      'invalid-value', '/customer_id' ],
    [ 'no type', { %$tok, type => undef }, 'missing-field', '/type' ],
    [ 'type CARD', { %$tok, type => 'CARD' }, 'invalid-value', '/type' ],
    [ 'contract_id of 37', { %$tok, contract_id => 'C' x 37 },
      'invalid-value', '/contract_id' ],
    [ 'contract_id not ASCII', { %$tok, contract_id => 'Ü' },
      'invalid-value', '/contract_id' ],
    [ 'issuer a string', { %$tok, issuer => 'NL' }, 'invalid-type',
      '/issuer' ],
    [ 'issuer without party', { %$tok, issuer => { country_code => 'NL' } },
      'missing-field', '/issuer/party_id' ],
    [ 'issuer country XX', { %$tok, issuer => { country_code => 'XX',
      party_id => 'ABC' } }, 'invalid-value', '/issuer/country_code' ],
    [ 'issuer party of 4', { %$tok, issuer => { country_code => 'NL',
      party_id => 'ABCD' } }, 'invalid-value', '/issuer/party_id' ],
    [ 'issuer party lower case', { %$tok, issuer => { country_code => 'NL',
      party_id => 'abc' } }, 'invalid-value', '/issuer/party_id' ],
    [ 'unknown field', { %$tok, owner => 'x' }, 'invalid-value', '/owner' ],
);
for my $b (@tbad) {
    my ($name, $body, $type, $ptr) = @$b;
    my %b = %$body;
    delete @b{ grep { !defined $b{$_} } keys %b };
    refused('PUT', 'tokens/T-BAD', \%b, 400, $type, $ptr, "token: $name");
}
refused('PUT', 'tokens/' . ('U' x 37), $tok, 400, 'invalid-value', undef,
    'token: a uid of 37 (OCPI CiString(36))');
is($t->admin('PUT', 'tokens/' . ('U' x 36), $tok)->{status}, 201,
    'token: a uid of 36');

# retiring a customer
$r = $t->admin('DELETE', 'customers/C-2');
is($r->{status}, 200, 'DELETE (retire) a customer: 200');
is($r->{json}{retired}, JSON::PP::true, '... retired');
like($r->{json}{retired_at}, qr/^\d{4}-/, '... retired_at');
is($t->admin('GET', 'customers/C-2')->{json}{name}, 'Erika Mustermann',
    'a retired customer stays (invoices made name it)');
$t->store_unchanged(sub {
    is($t->admin('DELETE', 'customers/C-2')->{status}, 200,
        'DELETE again: 200');
}, 'retiring again writes nothing');
refused('PUT', 'tokens/T-R', { customer_id => 'C-2', type => 'RFID' }, 409,
    'customer-retired', undef, 'a new token of a retired customer');
$r = $t->admin('PUT', 'customers/C-2', customer(name => 'Erika Mustermann'));
is($r->{status}, 200, 'PUT revives a retired customer');
is($r->{json}{retired}, JSON::PP::false, '... not retired');
ok(!exists $r->{json}{retired_at}, '... no retired_at');

# deleting a token
$r = $t->admin('DELETE', 'tokens/04a2b3c4');
is($r->{status}, 200, 'DELETE a token (other case)');
is_deeply($r->{json}, { uid => '04a2b3c4', deleted => JSON::PP::true },
    '... answers the uid, deleted');
refused('GET', 'tokens/04A2B3C4', undef, 404, 'unknown-token', undef,
    'the deleted token is gone');
refused('DELETE', 'tokens/04A2B3C4', undef, 404, 'unknown-token', undef,
    'DELETE it again');

$t->check_alerts;
$t->finish;
done_testing;
