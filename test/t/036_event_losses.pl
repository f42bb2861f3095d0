# Losses are recorded in the ledger itself: events left in the ring when
# shared memory goes (a crash restart, an immediate shutdown), events
# dropped (a full ring under on_ring_full = drop), and a server that
# stopped without shutting down (the postmaster killed: what its ring held
# is unknown) each become one AuditLog FAILURE event with error_type
# EventsLost and the numbers in its metadata, chained like any other; a
# clean stop with nothing lost records nothing.
#
# Events go in through the test-only ring_push(json); the
# sealer is held back by a session holding bh_audit.events in ACCESS
# EXCLUSIVE mode (its first step in a batch is to lock it).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = bh_node('losses', database => 'clinic', conf => q{
bh_audit.ring_size = '64kB'
# capture off: only this test's events go into the ring
bh_audit.enabled = off
restart_after_crash = on
});

bh_event_function($node, 'clinic', 'loss_tester');
bh_losses_view($node, 'clinic');

# The events counted as dropped by the loss events after seq $mark (the
# sealer may record drops in several loss events, as they happen while a
# batch starts, but each drop once).
sub drops_since
{
	my ($mark) = @_;
	return $node->safe_psql('clinic', qq{
SELECT coalesce(sum((meta ->> 'events_dropped')::bigint), 0) FROM losses WHERE seq > $mark});
}

sub sealed
{
	my ($prefix) = @_;
	return $node->safe_psql('clinic',
		"SELECT count(*) FROM bh_audit.events WHERE resource_id LIKE '$prefix%'");
}

sub seal
{
	$node->safe_psql('clinic', 'SELECT bh_audit.seal()');
}


seal();
is(bh_loss_lines($node, 'clinic'), '', 'a new ledger records no loss');

# (1) A backend crashes while 7 events wait in the ring: the postmaster
# reinitialises shared memory, and the 7 events are gone.
my $blocker = bh_hold_sealer($node, 'clinic', mode => 'ACCESS EXCLUSIVE');
$node->safe_psql('clinic',
	"SELECT ring_push(ev('cr' || i)) FROM generate_series(1, 7) i");
is($node->safe_psql('clinic', 'SELECT ring_events FROM bh_audit.stats()'),
	'7', 'seven events wait in the ring');
my $victim = $blocker->query_safe('SELECT pg_backend_pid()');
chomp $victim;
ok(bh_crash_restart($node, $victim, 'clinic'),
	'the postmaster reinitialises shared memory after the crash, and accepts connections again');
eval { $blocker->quit };
seal();
is(sealed('cr'), '0', 'the seven events did not reach the chain');
is(bh_loss_lines($node, 'clinic'), '7||', 'one loss event says 7 events were lost in the ring');
is($node->safe_psql('clinic', q{
SELECT concat_ws(' ', action, resource_type, resource_id, outcome, error_type, actor_id,
                 event -> 'actor' ->> 'subject_type', event -> 'action' ->> 'phi_touched',
                 event -> 'action' ->> 'data_classification',
                 bh_audit.validate_event(event))
  FROM bh_audit.events WHERE error_type = 'EventsLost'}),
	'OTHER AuditLog bh_audit.events FAILURE EventsLost postgresql-server service false NONE t',
	'it is a valid AuditLog FAILURE recorded by the server');
is($node->safe_psql('clinic', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');

# (2) An immediate shutdown with 4 events in the ring.
$blocker = bh_hold_sealer($node, 'clinic', mode => 'ACCESS EXCLUSIVE');
$node->safe_psql('clinic',
	"SELECT ring_push(ev('im' || i)) FROM generate_series(1, 4) i");
$node->stop('immediate');
eval { $blocker->quit };
$node->start;
seal();
is(sealed('im'), '0', 'the four events did not reach the chain');
is(bh_loss_lines($node, 'clinic'), "7||\n4||", 'an immediate shutdown records the 4 events it lost');

# (3) A fast shutdown drains the ring: nothing lost, nothing recorded.
$node->safe_psql('clinic',
	"SELECT ring_push(ev('fs' || i)) FROM generate_series(1, 5) i");
$node->stop('fast');
$node->start;
seal();
is(sealed('fs'), '5', 'a fast shutdown chains the ring');
is(bh_loss_lines($node, 'clinic'), "7||\n4||", 'and records no loss');

# (4) Drops: a full ring under on_ring_full = drop.  Every dropped event
# is accounted for, once.
my $mark = bh_last_seq($node, 'clinic');
$blocker = bh_hold_sealer($node, 'clinic', mode => 'ACCESS EXCLUSIVE');
my $before = $node->safe_psql('clinic', 'SELECT events_dropped_total FROM bh_audit.stats()');
my ($ret, $out, $err) = $node->psql('clinic', q{
SET bh_audit.on_ring_full = drop;
SELECT ring_push(ev('dr' || i)) FROM generate_series(1, 500) i;
});
is($ret, 0, 'pushing into a full ring under drop succeeds');
my $dropped = $node->safe_psql('clinic', 'SELECT events_dropped_total FROM bh_audit.stats()')
  - $before;
cmp_ok($dropped, '>', 0, "some events were dropped ($dropped)");
$blocker->query_safe('COMMIT');
$blocker->quit;
seal();
is(sealed('dr'), 500 - $dropped, 'the others are chained');
is(drops_since($mark), $dropped, "the loss events count the $dropped dropped events");
seal();
$node->safe_psql('clinic',
	"SELECT ring_push(ev('after' || i)) FROM generate_series(1, 3) i");
seal();
is(drops_since($mark), $dropped, 'they are recorded once');
like(bh_loss_lines($node, 'clinic'), qr/\A7\|\|\n4\|\|\n(?:\|\d+\|\n?)+\z/, 'as drops only');

# (5) Drops not yet recorded when the server stops are recorded after it
# starts again (or by the final drain): once, whichever it is.
$mark = bh_last_seq($node, 'clinic');
$blocker = bh_hold_sealer($node, 'clinic', mode => 'ACCESS EXCLUSIVE');
($ret, $out, $err) = $node->psql('clinic', q{
SET bh_audit.on_ring_full = drop;
SELECT ring_push(ev('ds' || i)) FROM generate_series(1, 500) i;
});
my $dropped2 = $node->safe_psql('clinic', 'SELECT events_dropped_total FROM bh_audit.stats()')
  - $before - $dropped;
cmp_ok($dropped2, '>', 0, "more events were dropped ($dropped2)");
$node->stop('fast');
eval { $blocker->quit };
$node->start;
seal();
is(sealed('ds'), 500 - $dropped2, 'the events that fitted are chained');
is(drops_since($mark), $dropped2,
	"the loss events count the $dropped2 dropped before the stop, once");

# (6) The postmaster is killed: nothing could count the ring, so the loss
# event says the server stopped uncleanly, without a number.
my $n_before = $node->safe_psql('clinic', 'SELECT count(*) FROM losses');
# A new postmaster refuses to start while the old one's pid exists (its
# lock file) or a process still holds the old shared memory (every such
# process is in pg_stat_activity): wait until they are all gone (reaped).
my @pids = split /\n/, $node->safe_psql('clinic', 'SELECT pid FROM pg_stat_activity');
push @pids, (split /\n/, slurp_file($node->data_dir . '/postmaster.pid'))[0];
$node->kill9;
# the children notice the postmaster's death and leave
my $deadline = time() + $PostgreSQL::Test::Utils::timeout_default;
usleep(100_000) while grep({ kill(0, $_) } @pids) && time() < $deadline;
ok(!grep({ kill(0, $_) } @pids), 'the killed server\'s processes are gone');
$node->start;
seal();
is($node->safe_psql('clinic', q{
SELECT concat_ws('|', meta ->> 'unclean_stops', meta ? 'events_lost_in_ring', meta ? 'events_dropped')
  FROM losses ORDER BY seq DESC LIMIT 1}),
	'1|f|f', 'a killed postmaster is recorded as one unclean stop');
is($node->safe_psql('clinic', 'SELECT count(*) FROM losses'),
	$n_before + 1, 'as one loss event');
$node->stop('fast');
$node->start;
seal();
is($node->safe_psql('clinic', 'SELECT count(*) FROM losses'),
	$n_before + 1, 'a clean restart after it records nothing more');
bh_chain_valid($node, 'clinic');

$node->stop;
done_testing();
