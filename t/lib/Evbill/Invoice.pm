package Evbill::Invoice;

# Checks of the invoice documents the module emits (issue 9):
#
#   use Evbill::Invoice qw(validate_ubl html_pdf_text);
#
#   my $r = validate_ubl(@xml_files);
#   # { $file => [ "BR-CO-16 fatal: [BR-CO-16]-Amount due ...", ... ] }
#   is_deeply($r->{$_}, [], "$_ is EN 16931") for @xml_files;
#
#   my $text = html_pdf_text($html_file);   # Chromium -> PDF -> text
#
# validate_ubl runs xmllint against the UBL 2.1 schema of each document
# (Invoice or CreditNote, from its root element), then CEN's EN 16931
# validation (../shared/en16931/EN16931-UBL-validation.xslt) over all
# files in ONE Saxon-HE run (a directory in, a directory of SVRL out).
# Every file gets a list: schema errors ("schema: ...") and the failed
# assertions flagged fatal or error ("ID flag: text"); warnings are not
# listed.  A validator that does not run gives every file an entry, so a
# test cannot pass by accident.
#
# html_pdf_text prints an HTML file with headless Chromium (--no-sandbox
# and a temporary --user-data-dir, as root needs) to PDF and returns
# `pdftotext -layout`'s text (decoded UTF-8); dies when either fails.
#
# Paths: EVBILL_SHARED (default: ../shared beside the checkout, as CI has
# it), EVBILL_SAXON (/usr/share/java/Saxon-HE.jar), EVBILL_CHROMIUM
# (chromium).

use strict;
use warnings;

use Exporter qw(import);
use File::Basename qw(dirname basename);
use File::Copy qw(copy);
use File::Spec;
use File::Temp qw(tempdir);
use Cwd qw(abs_path);
use Encode qw(decode);

our @EXPORT_OK = qw(validate_ubl html_pdf_text ubl_kind shared_dir
                    saxon_jar);

our $TOP = abs_path(dirname(abs_path(__FILE__)) . '/../../..');

sub shared_dir {
    return $ENV{EVBILL_SHARED} if $ENV{EVBILL_SHARED};
    for my $d ("$TOP/../shared", "$TOP/shared") {
        return abs_path($d) if -d "$d/en16931";
    }
    return "$TOP/../shared";
}

sub saxon_jar { $ENV{EVBILL_SAXON} || '/usr/share/java/Saxon-HE.jar' }

sub _slurp {
    my ($f) = @_;
    open my $in, '<:raw', $f or return undef;
    local $/;
    my $c = <$in>;
    close $in;
    return $c;
}

# 'Invoice', 'CreditNote' or undef, from the root element
sub ubl_kind {
    my ($file) = @_;
    my $c = _slurp($file) // return undef;
    $c =~ s/<\?.*?\?>//gs;
    $c =~ s/<!--.*?-->//gs;
    return $1 if $c =~ /^\s*<(?:[A-Za-z_][\w.-]*:)?(Invoice|CreditNote)\b/;
    return undef;
}

# run a command, stdout and stderr together; returns (exit code, output)
sub _run {
    my (@cmd) = @_;
    my $pid = open(my $out, '-|') // die "fork: $!";
    if (!$pid) {
        open STDERR, '>&', \*STDOUT or die "dup: $!";
        exec @cmd or die "exec $cmd[0]: $!";
    }
    local $/;
    my $text = <$out> // '';
    close $out;
    return ($? >> 8 | ($? & 127), $text);
}

sub validate_ubl {
    my (@files) = @_;
    my %r = map { $_ => [] } @files;
    my $shared = shared_dir();
    my $xsd = "$shared/ubl-2.1/xsd/maindoc";
    my $xslt = "$shared/en16931/EN16931-UBL-validation.xslt";

    # 1. the schema, one xmllint run per document type
    my %by;
    for my $f (@files) {
        my $k = ubl_kind($f);
        if (!defined $k) {
            push @{$r{$f}}, 'schema: not a UBL Invoice or CreditNote';
            next;
        }
        push @{$by{$k}}, $f;
    }

    for my $k (sort keys %by) {
        my ($rc, $out) = _run('xmllint', '--noout', '--schema',
            "$xsd/UBL-$k-2.1.xsd", @{$by{$k}});
        for my $f (@{$by{$k}}) {
            next if $out =~ /^\Q$f\E validates$/m;
            my @e = grep { /^\Q$f\E:/ || /^\Q$f\E fails/ }
                split /\n/, $out;
            @e = ("xmllint exit $rc: $out") unless @e;
            push @{$r{$f}}, map { "schema: $_" } @e;
        }
    }

    # 2. CEN's rules: all files in one Saxon run, directory to directory
    my $tmp = tempdir('evbill-ubl-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    mkdir "$tmp/in" or die "mkdir: $!";
    mkdir "$tmp/out" or die "mkdir: $!";
    my %name;
    my $i = 0;
    for my $f (@files) {
        next unless defined ubl_kind($f);
        # unique names: files of several directories may share one
        my $n = sprintf('%04d-%s', $i++, basename($f));
        $n .= '.xml' unless $n =~ /\.xml$/;
        copy($f, "$tmp/in/$n") or die "copy $f: $!";
        $name{$f} = $n;
    }

    return \%r unless %name;

    my ($rc, $out) = _run('java', '-jar', saxon_jar(), "-s:$tmp/in",
        "-xsl:$xslt", "-o:$tmp/out");

    for my $f (keys %name) {
        my $svrl = _slurp("$tmp/out/$name{$f}");
        if (!defined $svrl || $svrl !~ /<svrl:schematron-output/) {
            push @{$r{$f}}, "saxon: no report (exit $rc): $out";
            next;
        }
        while ($svrl =~ m{<svrl:failed-assert\b([^>]*)>(.*?)
                          </svrl:failed-assert>}gsx)
        {
            my ($attrs, $body) = ($1, $2);
            my ($flag) = $attrs =~ /\bflag="([^"]*)"/;
            $flag //= 'fatal';
            next unless $flag eq 'fatal' || $flag eq 'error';
            my ($id) = $attrs =~ /\bid="([^"]*)"/;
            my ($text) = $body =~ m{<svrl:text>(.*?)</svrl:text>}s;
            $text //= '';
            $text =~ s/\s+/ /g;
            push @{$r{$f}}, sprintf('%s %s: %s', $id // '?', $flag, $text);
        }
    }

    return \%r;
}

sub html_pdf_text {
    my ($html) = @_;
    my $chromium = $ENV{EVBILL_CHROMIUM} || 'chromium';
    my $tmp = tempdir('evbill-pdf-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $pdf = "$tmp/out.pdf";
    my $url = 'file://' . abs_path($html);

    my ($rc, $out) = _run('timeout', '120', $chromium, '--headless',
        '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
        "--user-data-dir=$tmp/profile", '--no-pdf-header-footer',
        "--print-to-pdf=$pdf", $url);
    die "chromium exit $rc: $out" unless -s $pdf;

    ($rc, $out) = _run('pdftotext', '-layout', '-enc', 'UTF-8', $pdf,
        "$tmp/out.txt");
    die "pdftotext exit $rc: $out" if $rc;

    return decode('UTF-8', _slurp("$tmp/out.txt") // '');
}

1;
