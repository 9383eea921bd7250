#!/usr/bin/perl
# Every case of ../shared/conformance/ocpi-tariffs/*.json through admin
# POST rate, per its MANIFEST: the priced cases (status ok, erratum*, or
# with spec_expected) must match every total they state at their
# `compare` precision (refcalc_opts sent as "policy", except for a case
# with spec_expected, which must be met without it); the negative-VAT
# case is refused as tariff-negative-price at the vat, the GIREVE case as
# invalid-tariff naming the extension (the decisions of
# t/unit/test_conformance.c).  Numbers are compared as exact decimals:
# they are never read as Perl floats.

use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Evbill::Test;
use Evbill::ExactJSON qw(jdecode jencode num);
use JSON::PP;
use Math::BigInt;

my $DIR = "$Evbill::Test::TOP/../shared/conformance/ocpi-tariffs";
my @files = sort glob("$DIR/*.json");
plan(skip_all => "no conformance cases in $DIR") unless @files;

# ---------------------------------------------------------------------
# Numbers kept as their text: Evbill::ExactJSON.




# A decimal (optionally with an exponent) as an integer at 10^-$scale;
# undef if it has more digits than that.
sub fixed {
    my ($s, $scale) = @_;
    return undef unless defined $s;
    my ($sign, $int, $frac, $exp) =
        $s =~ /^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/
        or return undef;
    $frac = '' unless defined $frac;
    $exp = 0 unless defined $exp;
    my $digits = $int . $frac;
    my $shift = $scale - length($frac) + $exp;
    my $n = Math::BigInt->new($digits);
    if ($shift >= 0) {
        $n->bmul(Math::BigInt->new(10)->bpow($shift));
    } else {
        my $d = Math::BigInt->new(10)->bpow(-$shift);
        my ($q, $r) = $n->copy->bdiv($d);
        return undef unless $r->is_zero;
        $n = $q;
    }
    $n->bneg if $sign eq '-';
    return $n;
}

# Integer at 10^-$scale rounded half away from zero to $digits decimals
# (still at 10^-$scale).
sub round_to {
    my ($n, $scale, $digits) = @_;
    return $n->copy if $digits >= $scale;
    my $f = Math::BigInt->new(10)->bpow($scale - $digits);
    my $a = $n->copy->babs;
    my ($q, $r) = $a->copy->bdiv($f);
    $q->binc if $r->copy->bmul(2) >= $f;
    $q->bmul($f);
    $q->bneg if $n->is_neg;
    return $q;
}

my $SCALE = 12;

sub precision {
    my ($cmp, $want) = @_;
    return 2 if $cmp eq '2dp';
    return 4 if $cmp eq '4dp';
    my ($frac) = $want =~ /\.([0-9]+)/;
    return defined $frac ? length $frac : 0;
}

# (ok, message) for one expected decimal against the answer's number.
sub same {
    my ($want, $got, $cmp) = @_;
    my $w = fixed($want, $SCALE);
    my $g = fixed(num($got), $SCALE);
    return (0, "expected '$want' unreadable") unless defined $w;
    return (0, 'answer ' . (defined $got ? "'" . num($got) . "'" : 'missing')
        . " unreadable") unless defined $g;
    my $d = precision($cmp, $want);
    return (1, '') if round_to($w, $SCALE, $d) == round_to($g, $SCALE, $d);
    return (0, "want $want, got " . num($got) . " ($cmp)");
}

my @PRICES = qw(total_cost total_energy_cost total_time_cost
    total_parking_cost total_fixed_cost total_reservation_cost);
my @QTY = qw(total_energy total_time total_parking_time);

# The list of mismatches of an answer against a case's expected totals.
sub mismatches {
    my ($exp, $ans, $cmp, $tariff) = @_;
    my @bad;
    for my $k (@PRICES) {
        my $w = $exp->{$k} or next;
        my $g = $ans->{$k};
        if (ref $g ne 'HASH') {
            push @bad, "$k: missing from the answer";
            next;
        }
        for my $side (qw(excl_vat incl_vat)) {
            next unless defined $w->{$side} && !ref $w->{$side};
            my ($ok, $m);
            if (defined $g->{$side}) {
                ($ok, $m) = same($w->{$side}, $g->{$side}, $cmp);
            } elsif ($side eq 'incl_vat') {
                # no component carried VAT: incl_vat is left out, and
                # the case must then state incl == excl
                my ($o1) = same($w->{incl_vat}, $g->{excl_vat}, $cmp);
                my ($o2) = same($w->{excl_vat}, $g->{excl_vat}, $cmp);
                ($ok, $m) = ($o1 && $o2,
                    "want incl $w->{incl_vat}, answer has no incl_vat "
                    . "(excl " . (num($g->{excl_vat}) // 'missing') . ")");
            } else {
                ($ok, $m) = (0, 'missing from the answer');
            }
            push @bad, "$k.$side: $m" unless $ok;
        }
    }
    for my $k (@QTY) {
        next unless defined $exp->{$k} && !ref $exp->{$k};
        my ($ok, $m) = same($exp->{$k}, $ans->{$k}, $cmp);
        push @bad, "$k: $m" unless $ok;
    }
    if (ref $exp->{warnings} eq 'ARRAY') {
        my %have = map { ($_->{code} // '') => 1 }
            grep { ref $_ eq 'HASH' } @{ $ans->{warnings} || [] };
        for my $w (@{ $exp->{warnings} }) {
            push @bad, "warning $w not reported" unless $have{$w};
        }
    }

    # `rounded` follows the billing rule (docs/rating.md, every case is
    # in EUR under half_up): each line is its exact cost rounded to
    # cents, a dimension the sum of its lines, the net total the sum of
    # the rates' taxable amounts (lines + min/max adjustment), VAT per
    # rate on its taxable amount, incl. = net + VAT
    push @bad, rounded_rule($ans, $tariff);
    return @bad;
}

sub cents { my ($v) = @_; return fixed(num($v), $SCALE) }

sub rounded_rule {
    my ($ans, $tariff) = @_;
    my (@bad, %dim, %rate);
    my $r = $ans->{rounded};
    return ('rounded: missing') if ref $r ne 'HASH';
    return ('rounded.lines/vat: missing')
        if ref $r->{lines} ne 'ARRAY' || ref $r->{vat} ne 'ARRAY';
    my $zero = Math::BigInt->new(0);
    for my $l (@{ $r->{lines} }) {
        my $amt = cents($l->{amount});
        my $ex = cents($l->{cost}{excl_vat});
        push @bad, "line $l->{dimension}: amount "
            . (num($l->{amount}) // 'missing') . ' is not its cost '
            . (num($l->{cost}{excl_vat}) // 'missing') . ' in cents'
            unless defined $amt && defined $ex
                && round_to($ex, $SCALE, 2) == $amt;
        my $k = $l->{reservation} ? 'total_reservation_cost'
            : { ENERGY => 'total_energy_cost', TIME => 'total_time_cost',
                PARKING_TIME => 'total_parking_cost',
                FLAT => 'total_fixed_cost' }->{ $l->{dimension} // '' };
        $dim{$k} = ($dim{$k} // $zero) + ($amt // 0);
        my $vk = defined $l->{vat} ? num($l->{vat}) : '-';
        $rate{$vk} = ($rate{$vk} // $zero) + ($amt // 0);
    }
    for my $k (@PRICES) {
        next if $k eq 'total_cost';
        my $v = $r->{$k}{excl_vat};
        push @bad, "rounded.$k.excl_vat " . (num($v) // 'missing')
            . ' is not the sum of its lines'
            unless defined $v && num($v) =~ /\.[0-9]{2}$/
                && cents($v) == ($dim{$k} // $zero);
    }
    my ($net, $vat) = ($zero->copy, $zero->copy);
    for my $g (@{ $r->{vat} }) {
        my $vk = defined $g->{vat} ? num($g->{vat}) : '-';
        push @bad, "vat $vk: lines " . num($g->{lines})
            unless cents($g->{lines}) == ($rate{$vk} // $zero);
        push @bad, "vat $vk: taxable is not lines + adjustment"
            unless cents($g->{taxable})
                == cents($g->{lines}) + cents($g->{adjustment});
        # an incl. bound moves the VAT itself: checked by its sum below
        my $ib = grep { ref $tariff->{$_} eq 'HASH'
                        && (defined $tariff->{$_}{incl_vat}
                            || defined $tariff->{$_}{after_taxes}) }
                 qw(min_price max_price);
        if ($vk ne '-' && !$ib) {
            # exact at 10^-12: cents times a rate of at most 6 decimals
            my $x = cents($g->{taxable})->copy->bmul(fixed($vk, 6));
            my $q = scalar $x->bdiv(Math::BigInt->new(10)->bpow(8));
            my $want = round_to($q, $SCALE, 2);
            push @bad, "vat $vk: amount " . num($g->{amount})
                . " is not the rate on " . num($g->{taxable})
                unless cents($g->{amount}) == $want;
        }
        $net += cents($g->{taxable});
        $vat += cents($g->{amount}) if defined $g->{amount};
    }
    push @bad, 'rounded.total_cost.excl_vat is not the sum of the rates'
        unless cents($r->{total_cost}{excl_vat}) == $net;
    if (defined $r->{total_cost}{incl_vat}) {
        push @bad, 'rounded.total_cost.incl_vat is not net + VAT'
            unless cents($r->{total_cost}{incl_vat}) == $net + $vat;
    }
    return @bad;
}

# ---------------------------------------------------------------------

my $t = Evbill::Test->new;
$t->write_conf($t->std_conf(workers => 1));
$t->run;

my ($ncases, $npriced, $npriced_ok) = (0, 0, 0);
my $txn0 = $t->txn_id;

for my $file (@files) {
    open my $f, '<:raw', $file or die "$file: $!";
    my $text = do { local $/; <$f> };
    close $f;
    my $root = eval { jdecode($text) };
    ok($root && ref $root->{cases} eq 'ARRAY', "$file reads as a case file")
        or next;
    (my $name = $file) =~ s{.*/}{};
    note("$name: " . scalar(@{ $root->{cases} }) . " cases");

    for my $c (@{ $root->{cases} }) {
        $ncases++;
        my $id = $c->{id} // '?';
        my $status = $c->{status} // '';
        my $cmp = $c->{compare} // '2dp';
        my $spec = $c->{spec_expected};
        my $exp = $spec || $c->{expected} || {};
        my $priced = $spec || $status eq 'ok' || $status =~ /^erratum/;

        my %req = (time_zone => $c->{time_zone}, tariffs => $c->{tariffs},
            session => $c->{session});
        $req{policy} = $c->{refcalc_opts} if $c->{refcalc_opts} && !$spec;
        my $res = $t->http('POST', '/admin/rate', body => jencode(\%req));
        my $ans = length $res->{body} ? eval { jdecode($res->{body}) } : undef;

        if ($priced) {
            $npriced++;
            if ($res->{status} != 200 || ref $ans ne 'HASH') {
                ok(0, $id);
                diag("$id: expected $exp->{total_cost}{excl_vat}"
                    . (defined $exp->{total_cost}{incl_vat}
                       ? "/$exp->{total_cost}{incl_vat}" : '')
                    . ", got $res->{status} " . substr($res->{body}, 0, 300));
                next;
            }
            my @bad = mismatches($exp, $ans, $cmp,
                ref $c->{tariffs} eq 'ARRAY' ? $c->{tariffs}[0] : {});
            # what the billing rule changes against rounding each total
            # on its own (docs/rating.md: such cases are reported)
            for my $side (qw(excl_vat incl_vat)) {
                my $x = cents($ans->{total_cost}{$side}) // next;
                my $y = cents(($ans->{rounded}{total_cost} || {})->{$side})
                    // next;
                note("$id: rounded total_cost.$side "
                    . num($ans->{rounded}{total_cost}{$side})
                    . ' (line by line), ' . num($ans->{total_cost}{$side})
                    . ' rounded on its own would be different')
                    if round_to($x, $SCALE, 2) != $y;
            }
            ok(!@bad, $id) and $npriced_ok++;
            diag("$id: $_") for @bad;
            diag("$id: total_cost got " . jencode($ans->{total_cost})
                . ', expected ' . jencode($exp->{total_cost})) if @bad;
            next;
        }

        if ($status =~ /^policy/) {
            # a negative VAT rate is a malformed tariff: refused, with
            # the offending field, rather than priced
            my $e = ref $ans eq 'HASH' && ref $ans->{errors} eq 'ARRAY'
                ? $ans->{errors} : [];
            my $good = $res->{status} == 400
                && ($res->{headers}{'content-type'} // '')
                   =~ m{^application/problem\+json}
                && ($ans->{type} // '') eq
                   'urn:evbill:problem:tariff-negative-price'
                && @$e >= 1
                && ($e->[0]{pointer} // '') eq
                   '/tariffs/0/elements/0/price_components/0/vat'
                && ($e->[0]{type} // '') eq
                   'urn:evbill:problem:tariff-negative-price';
            ok($good, "$id: refused as tariff-negative-price at the vat");
            diag("$id: expected 400 tariff-negative-price at "
                . "/tariffs/0/elements/0/price_components/0/vat, got "
                . "$res->{status} " . substr($res->{body}, 0, 400))
                unless $good;
            next;
        }

        if ($status eq 'non-standard') {
            # GIREVE's rounding extension would change the bill (5.91
            # instead of plain OCPI's 5.90): refused, naming it
            my $good = $res->{status} == 400
                && ($res->{headers}{'content-type'} // '')
                   =~ m{^application/problem\+json}
                && ($ans->{type} // '') eq 'urn:evbill:problem:invalid-tariff'
                && ($ans->{detail} // '') =~ /GIREVE/
                && ($ans->{detail} // '') =~ /price_round/;
            ok($good, "$id: refused as invalid-tariff naming the extension");
            diag("$id: expected 400 invalid-tariff naming GIREVE's "
                . "price_round, got $res->{status} "
                . substr($res->{body}, 0, 400)) unless $good;
            next;
        }

        ok(0, "$id: status '$status' has no rule in this test");
    }
}

is($ncases, 43, '43 cases run (the MANIFEST)');
is($npriced, 41, '41 priced cases');
is($npriced_ok, $npriced, "conformance: $npriced_ok/$npriced priced cases "
    . 'match');
is($t->txn_id, $txn0, 'the dry run stores nothing');

# the policy switch changes the bill: the one ok case that needs
# no_step_size gives the step_size price without it
{
    my ($file) = grep { /ocpi_kit/ } @files;
    my $root = jdecode(do { local (@ARGV, $/) = $file; <> });
    my ($c) = grep { $_->{refcalc_opts} && $_->{refcalc_opts}{no_step_size} }
        @{ $root->{cases} };
    if ($c) {
        my %req = (time_zone => $c->{time_zone}, tariffs => $c->{tariffs},
            session => $c->{session});
        my $a = jdecode($t->http('POST', '/admin/rate',
            body => jencode(\%req))->{body});
        my ($same) = same($c->{expected}{total_cost}{excl_vat},
            $a->{total_cost}{excl_vat}, '2dp');
        ok(!$same, "$c->{id}: without the policy, step_size is applied ("
            . (num($a->{total_cost}{excl_vat}) // 'none') . ')');
        $req{policy} = { no_step_size => JSON::PP::true, rounding => 'nope' };
        is_problem($t->http('POST', '/admin/rate', body => jencode(\%req)),
            400, 'invalid-value', 'an unknown rounding policy is refused');
    } else {
        fail('the no_step_size case is in the corpus');
    }
}

$t->finish;
done_testing;
