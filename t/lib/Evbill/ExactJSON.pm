package Evbill::ExactJSON;

# Exact JSON numbers for tests that compare money and volumes to the
# last digit: every number token is decoded as the string "\x{1}N<token>",
# and jencode() writes such strings back as the bare token, so a value
# goes out exactly as it came in.  num() gives the token.

use strict;
use warnings;
use JSON::PP;
use Exporter 'import';

our @EXPORT_OK = qw(jdecode jencode num);

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

1;
