#!/usr/bin/perl
# POST sessions/{charger_id}/{session_id}/void {"reason"}: an operator
# closes an active (or stuck) session without a price or a CDR; refusals
# change nothing.

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

my $c = $t->charger(id => 'VOID-1');
is($c->start($t->start_body(session_id => 'v1'))->{status}, 201, 'start v1');
is($c->reading('v1', $t->reading_body(1, energy_wh => 1500,
    timestamp => '2026-11-25T10:05:00Z'))->{status}, 200, 'a reading');
is($c->start($t->start_body(session_id => 'v2'))->{status}, 201, 'start v2');
is($c->stop('v2', { timestamp => '2026-11-25T10:10:00Z',
    meter_stop_wh => 1200 })->{status}, 200, 'stop v2');

sub void {
    my ($charger, $sid, $body, %o) = @_;
    return $t->admin('POST', "sessions/$charger/$sid/void", $body, %o);
}

sub has_pointer {
    my ($r, $ptr, $name) = @_;
    my $errors = ref $r->{json} eq 'HASH' ? $r->{json}{errors} : undef;
    my @hit = grep { ($_->{pointer} // '') eq $ptr }
        @{ ref $errors eq 'ARRAY' ? $errors : [] };
    ok(scalar @hit, "$name: errors[] has $ptr") or diag($r->{body});
}

# refusals: status, problem type, pointer, store unchanged
my @bad = (
    [ {}, 400, 'missing-field', '/reason', 'no reason' ],
    [ { reason => '' }, 400, 'invalid-value', '/reason', 'empty reason' ],
    [ { reason => 'x' x 201 }, 400, 'invalid-value', '/reason',
      '201 characters' ],
    [ { reason => "two\nlines" }, 400, 'invalid-value', '/reason',
      'a control character' ],
    [ { reason => 42 }, 400, 'invalid-type', '/reason', 'a number' ],
    [ { reason => 'ok', extra => 1 }, 400, 'invalid-value', '/extra',
      'an unknown field' ],
);

for my $b (@bad) {
    my ($body, $status, $type, $ptr, $name) = @$b;
    $t->store_unchanged(sub {
        my $r = void('VOID-1', 'v1', $body);
        is_problem($r, $status, $type, "void, $name: $status $type");
        has_pointer($r, $ptr, "void, $name");
    }, "void, $name: store unchanged");
}

$t->store_unchanged(sub {
    is_problem(void('VOID-1', 'v1', '{"reason":'), 400, 'malformed-json',
        'void, malformed JSON');
    is_problem(void('VOID-1', 'nope', { reason => 'stuck' }), 404,
        'unknown-session', 'void, unknown session: 404');
    is_problem(void('NOPE-1', 'v1', { reason => 'stuck' }), 404,
        'unknown-session', 'void, unknown charger: 404');
    is_problem(void('VOID-1', 'v2', { reason => 'stuck' }), 409,
        'session-stopped', 'void a stopped session: 409');
    my $r = $t->admin('GET', 'sessions/VOID-1/v1/void');
    is_problem($r, 405, 'method-not-allowed', 'GET void: 405');
    like($r->{headers}{allow} // '', qr/^POST$/, 'Allow: POST');
}, 'void refusals: store unchanged');

is($t->get_session('VOID-1', 'v1')->{json}{state}, 'active',
    'v1 still active after the refusals');

# the void
my $reason = 'Zähler getauscht, Messwerte verloren';
my $before = $t->txn_id;
my $r = void('VOID-1', 'v1', { reason => $reason });
is($r->{status}, 200, 'void v1: 200') or diag($r->{body});
my $s = $r->{json} || {};
is($s->{state}, 'stopped', 'state stopped');
is($s->{stop_reason}, 'voided', 'stop_reason voided');
is($s->{void_reason}, $reason, 'void_reason as sent');
is($s->{stopped_at}, '2026-11-25T10:05:00.000Z', 'closed at the last reading');
is($s->{meter_stop_wh}, 1500, 'at the last register');
ok(!defined $s->{cost}, 'no price');
ok($t->txn_id > $before, 'stored');

my $g = $t->get_session('VOID-1', 'v1')->{json} || {};
is($g->{stop_reason}, 'voided', 'GET session: voided');
is($g->{void_reason}, $reason, 'GET session: void_reason');
is(scalar @{ $g->{readings} || [] }, 1, 'GET session: the reading kept');

my $l = $t->list_sessions(state => 'stopped')->{json} || {};
my ($li) = grep { $_->{session_id} eq 'v1' } @{ $l->{items} || $l->{sessions} || [] };
is($li && $li->{void_reason}, $reason, 'the list shows it among the stopped');

$t->store_unchanged(sub {
    is_problem($t->admin('GET', 'cdrs/VOID-1/v1'), 404, 'unknown-cdr',
        'no CDR for a voided session');
    is_problem(void('VOID-1', 'v1', { reason => 'again' }), 409,
        'session-stopped', 'a second void: 409');
    is_problem($c->reading('v1', $t->reading_body(2)), 409,
        'session-stopped', 'a new reading after the void: 409');
    is_problem($c->stop('v1', { timestamp => '2026-11-25T10:20:00Z',
        meter_stop_wh => 1600 }), 409, 'stop-conflict',
        'a stop after the void: 409');
}, 'after the void: store unchanged');

# 200 characters of two bytes each are 200 characters
is($c->start($t->start_body(session_id => 'v3'))->{status}, 201, 'start v3');
$r = void('VOID-1', 'v3', { reason => 'ä' x 200 });
is($r->{status}, 200, 'void with 200 two-byte characters') or diag($r->{body});

$t->finish;
done_testing;
