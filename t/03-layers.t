#!/usr/bin/perl
# tools/check-layers.sh: the include direction of the layers holds in
# the tree, and the check fails on an include that breaks it.

use strict;
use warnings;
use Test::More;
use FindBin;
use File::Temp qw(tempdir);
use File::Copy qw(copy);
use File::Path qw(make_path);

my $top = "$FindBin::Bin/..";
my $out = `$top/tools/check-layers.sh 2>&1`;
is($?, 0, 'the tree keeps the include direction') or diag($out);

# a copy of the tree's sources with one bad include at a time
sub copy_tree {
    my $d = tempdir(CLEANUP => 1);
    for my $sub (qw(tools src/core src/ops src/http lmdb)) {
        make_path("$d/$sub");
        for my $f (glob "$top/$sub/*") {
            next unless -f $f;
            my ($base) = $f =~ m{([^/]+)$};
            copy($f, "$d/$sub/$base") or die "copy $f: $!";
        }
    }
    chmod 0755, "$d/tools/check-layers.sh";
    return $d;
}

my @breaks = (
    [ 'lmdb/evb_bad.c', '#include "../src/core/evb_bill.h"',
      'lmdb/ includes billing' ],
    [ 'lmdb/evb_bad.c', '#include <openssl/evp.h>', 'lmdb/ includes OpenSSL' ],
    [ 'lmdb/evb_bad.c', '#include "../src/ops/evb_ops.h"',
      'lmdb/ includes ops' ],
    [ 'src/core/evb_bad.c', '#include <lmdb.h>', 'src/core includes LMDB' ],
    [ 'src/core/evb_bad.c', '#include <ngx_core.h>',
      'src/core includes nginx' ],
    [ 'src/core/evb_bad.c', '#include "../ops/evb_ops.h"',
      'src/core includes ops' ],
    [ 'src/ops/evb_bad.c', '#include <ngx_http.h>', 'src/ops includes nginx' ],
    [ 'src/ops/evb_bad.c', '#include <lmdb.h>',
      'src/ops includes LMDB itself' ],
);

for my $b (@breaks) {
    my ($file, $line, $name) = @$b;
    my $d = copy_tree();
    open my $fh, '>', "$d/$file" or die "$d/$file: $!";
    print $fh "$line\n";
    close $fh;
    my $o = `$d/tools/check-layers.sh 2>&1`;
    isnt($?, 0, "fails when $name") or diag($o);
    like($o, qr/\Q$file\E/, "... and names $file");
}

done_testing;
