#!/usr/bin/perl

# Runs the C unit tests of src/core and lmdb/ (build/unit/test_*), each a
# TAP stream of its own, as subtests of this file.

use strict;
use warnings;

use FindBin;
use Test::More;

my $root = "$FindBin::Bin/..";
my @bins = sort glob("$root/build/unit/test_*");

plan skip_all => 'unit tests not built (make unit)' unless @bins;

chdir $root or die "chdir $root: $!";

for my $bin (@bins) {
    (my $name = $bin) =~ s{.*/}{};

    subtest $name => sub {
        open(my $fh, '-|', $bin) or die "cannot run $bin: $!";

        my ($planned, $seen) = (0, 0);

        while (my $line = <$fh>) {
            chomp $line;

            if ($line =~ /^1\.\.(\d+)/) {
                $planned = $1;

            } elsif ($line =~ /^(not )?ok \d+\s*-?\s*(.*)$/) {
                $seen++;
                ok(!defined $1, $2);

            } elsif ($line =~ /^#/) {
                diag($line);
            }
        }

        close $fh;
        my $status = $? >> 8;

        is($status, 0, "$name exit status");
        is($seen, $planned, "$name ran all $planned planned tests")
            if $planned;
        done_testing();
    };
}

done_testing();
