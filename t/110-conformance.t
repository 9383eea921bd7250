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
use JSON::PP;
use Math::BigInt;

my $DIR = "$Evbill::Test::TOP/../shared/conformance/ocpi-tariffs";
my @files = sort glob("$DIR/*.json");
plan(skip_all => "no conformance cases in $DIR") unless @files;

# ---------------------------------------------------------------------
# JSON with numbers kept as their text: every number token becomes the
# string "\x{1}N<token>", and encode() turns such strings back into the
# bare token, so a tariff goes out exactly as the case file wrote it.

my $JS = JSON::PP->new->utf8(1)->canonical(1);

sub jdecode {
    my ($text) = @_;
    $text =~ s{("(?:[^"\\]|\\.)*")|(-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)}
              {defined $1 ? $1 : "\"\\u0001N$2\""}ge;
    return $JS->decode($text);
}

sub jencode {
    my ($v) = @_;
    my $text = $JS->encode($v);
    $text =~ s{"\\u0001N([^"]+)"}{$1}g;
    $text =~ s{"\x{1}N([^"]+)"}{$1}g;
    return $text;
}

sub num {
    my ($v) = @_;
    return undef unless defined $v && !ref $v;
    $v =~ s/^\x{1}N//;
    return $v;
}

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
    my ($exp, $ans, $cmp) = @_;
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

    # `rounded` is the same totals, each rounded half-up to cents (every
    # case is in EUR and the deployment's policy is half_up)
    my $r = $ans->{rounded};
    if (ref $r ne 'HASH') {
        push @bad, 'rounded: missing';
        return @bad;
    }
    for my $k (@PRICES) {
        next unless ref $ans->{$k} eq 'HASH';
        for my $side (qw(excl_vat incl_vat)) {
            my $v = num($ans->{$k}{$side});
            my $rv = ref $r->{$k} eq 'HASH' ? num($r->{$k}{$side}) : undef;
            next if !defined $v && !defined $rv;
            my $x = fixed($v, $SCALE);
            my $y = fixed($rv, $SCALE);
            unless (defined $x && defined $y
                    && round_to($x, $SCALE, 2) == $y
                    && defined $rv && $rv =~ /\.[0-9]{2}$/)
            {
                push @bad, "rounded.$k.$side: " . ($rv // 'missing')
                    . " for $k.$side " . ($v // 'missing');
            }
        }
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
            my @bad = mismatches($exp, $ans, $cmp);
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
