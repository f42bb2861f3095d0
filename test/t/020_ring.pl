# The ring of autonomous events: events pushed in a transaction that rolls
# back are sealed anyway; a full ring drops, errors or waits as
# bh_audit.on_ring_full says; stats() shows what waits in the ring; a clean
# shutdown drains the ring into the chain; an event that cannot be sealed
# does not stop the sealer.
#
# The capture hooks are exercised elsewhere: here events go in through the
# test-only ring_push(json).  The sealer is held back
# deterministically by a session holding an ACCESS EXCLUSIVE lock on
# bh_audit.events (the sealer's first step in a batch is to lock it).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = bh_node('ring', database => 'clinic', conf => q{
bh_audit.ring_size = '64kB'
bh_audit.ring_wait_timeout = '120s'
# capture off: only this test's events go into the ring, so that the
# counters it checks are exact
bh_audit.enabled = off
});

# ev(tag): a complete, schema-valid event for resource id tag.
bh_event_function($node, 'clinic', 'ring_tester');

# stats() columns of interest, as "dropped|ring_events".
sub counters
{
	return $node->safe_psql('clinic',
		'SELECT events_dropped_total, ring_events FROM bh_audit.stats()');
}

# Sealed events whose resource id starts with $prefix.
sub sealed
{
	my ($prefix) = @_;
	return $node->safe_psql('clinic',
		"SELECT count(*) FROM bh_audit.events WHERE resource_id LIKE '$prefix%'");
}

# ---------------------------------------------------------------------------
# The function is for superusers only.
is($node->safe_psql('clinic',
		"SELECT has_function_privilege('public', 'ring_push(json)', 'EXECUTE')"),
	'f', 'ring_push() is not executable by PUBLIC');
{
	my ($r, $o, $e) = $node->psql('clinic', q{
CREATE ROLE ring_granted;
GRANT EXECUTE ON FUNCTION ring_push(json) TO ring_granted;
GRANT EXECUTE ON FUNCTION ev(text) TO ring_granted;
SET ROLE ring_granted;
SELECT ring_push(ev('forged'));
});
	like($e, qr/must be superuser to push a raw event/,
		'and refuses a role granted EXECUTE on it');
	$node->safe_psql('clinic', 'DROP OWNED BY ring_granted; DROP ROLE ring_granted');
}

# (1) The point of the ring: a rollback does not take the events with it.
my ($ret, $out, $err) = $node->psql('clinic', q{
BEGIN;
SELECT ring_push(ev('rb' || i)) FROM generate_series(1, 20) i;
ROLLBACK;
});
is($ret, 0, 'events pushed in a transaction that rolls back');
($ret, $out, $err) = $node->psql('clinic', q{
BEGIN;
SELECT ring_push(ev('err1'));
SELECT 1 / 0;
COMMIT;
});
like($err, qr/division by zero/, 'an event pushed before an error in the same transaction');
$node->safe_psql('clinic', 'SELECT bh_audit.seal()');
is(sealed('rb'), '20', 'all 20 events of the rolled-back transaction are sealed');
is(sealed('err1'), '1', 'the event pushed before the error is sealed');
is($node->safe_psql('clinic', q{
	SELECT string_agg(resource_id, ',' ORDER BY seq) FROM bh_audit.events WHERE resource_id LIKE 'rb%'}),
	join(',', map { "rb$_" } 1 .. 20), 'ring events are chained in ring order');
is(counters(), '0|0', 'nothing dropped, the ring is empty');

# Queued (transactional) and ring events sealed in one batch are chained in
# the order they happened.
my $blocker = bh_hold_sealer($node, 'clinic', mode => 'ACCESS EXCLUSIVE');
$node->safe_psql('clinic', q{
SELECT bh_audit.emit('READ', 'Patient', 'mx1', 'mx1');
SELECT pg_sleep(0.01);
SELECT ring_push(ev('mx2'));
SELECT pg_sleep(0.01);
SELECT ring_push(ev('mx3'));
SELECT pg_sleep(0.01);
SELECT bh_audit.emit('READ', 'Patient', 'mx4', 'mx4');
SELECT pg_sleep(0.01);
SELECT ring_push(ev('mx5'));
SELECT pg_sleep(0.01);
SELECT bh_audit.emit('READ', 'Patient', 'mx6', 'mx6');
});
$blocker->query_safe('COMMIT');
$blocker->quit;
$node->safe_psql('clinic', 'SELECT bh_audit.seal()');
is($node->safe_psql('clinic', q{
	SELECT string_agg(resource_id, ',' ORDER BY seq) FROM bh_audit.events WHERE resource_id LIKE 'mx%'}),
	'mx1,mx2,mx3,mx4,mx5,mx6', 'queued and ring events of one batch are chained in time order');

# (6) ring_events shows what waits in the ring while the sealer is held back.
$blocker = bh_hold_sealer($node, 'clinic', mode => 'ACCESS EXCLUSIVE');
$node->safe_psql('clinic',
	"SELECT ring_push(ev('st' || i)) FROM generate_series(1, 10) i");
is(counters(), '0|10', 'stats().ring_events counts the 10 waiting events');

# (2) drop: with the sealer held back, a tiny ring fills; the rest is
# dropped, counted and warned about, and nothing blocks.
my $t0 = time();
($ret, $out, $err) = $node->psql('clinic', q{
SET bh_audit.on_ring_full = drop;
SELECT count(*) FILTER (WHERE ring_push(ev('d' || i))) FROM generate_series(1, 2000) i;
}, timeout => 60);
my $elapsed = time() - $t0;
is($ret, 0, 'pushing into a full ring with on_ring_full = drop succeeds');
my $stored_d = $out;
cmp_ok($stored_d, '>', 0, "some events fit in the ring ($stored_d)");
cmp_ok($stored_d, '<', 2000, 'the others did not');
cmp_ok($elapsed, '<', 30, 'nothing blocked');
like($err, qr/WARNING:  bh_audit dropped an audit event: the event ring is full/,
	'a WARNING says that events were dropped');
unlike($err, qr/\bd\d+\b/, 'the WARNING carries no event content');
my $dropped = 2000 - $stored_d;
is(counters(), "$dropped|" . (10 + $stored_d),
	"events_dropped_total counts the $dropped dropped events; ring_events the stored ones");

# (3) error: the statement fails with SQLSTATE 53000.
($ret, $out, $err) = $node->psql('clinic', q{
\set VERBOSITY verbose
SET bh_audit.on_ring_full = error;
SELECT ring_push(ev('e1'));
}, timeout => 60);
isnt($ret, 0, 'pushing into a full ring with on_ring_full = error fails');
like($err, qr/ERROR:  53000: bh_audit event ring is full/, 'with SQLSTATE 53000 and a clear message');
like($err, qr/HINT:  .*bh_audit\.ring_size/, 'and a hint');
$dropped++;
is(counters(), "$dropped|" . (10 + $stored_d), 'the refused event is counted as dropped');

# on_ring_full is for superusers only.
$node->safe_psql('clinic', 'CREATE ROLE plain LOGIN');
($ret, $out, $err) = $node->psql('clinic', 'SET bh_audit.on_ring_full = drop',
	extra_params => [ '-U', 'plain' ]);
like($err, qr/permission denied to set parameter "bh_audit.on_ring_full"/,
	'on_ring_full cannot be set by an ordinary role');

# (4) wait: the pusher blocks until the sealer can proceed, then everything
# is stored and sealed.
my $waiter = $node->background_psql('clinic');
$waiter->query_safe('SET bh_audit.on_ring_full = wait');
$waiter->query_until(qr/started/, q{
\echo started
SELECT 'stored=' || count(*) FILTER (WHERE ring_push(ev('w' || i))) FROM generate_series(1, 300) i;
});
ok($node->poll_query_until('clinic', q{
	SELECT count(*) = 1 FROM pg_stat_activity
	 WHERE wait_event_type = 'Extension' AND query LIKE '%ev(''w''%' AND state = 'active'}),
	'the pusher waits for room in the ring');
sleep(1);
is($node->safe_psql('clinic', q{
	SELECT count(*) FROM pg_stat_activity
	 WHERE wait_event_type = 'Extension' AND query LIKE '%ev(''w''%' AND state = 'active'}),
	'1', 'and keeps waiting while the sealer is held back');
$blocker->query_safe('COMMIT');
$blocker->quit;
my $wout = $waiter->query_safe("SELECT 'done'");
like($wout, qr/stored=300/, 'released, the pusher stored all 300 events');
$waiter->quit;
$node->safe_psql('clinic', 'SELECT bh_audit.seal()');
is(sealed('w'), '300', 'and all 300 are sealed');
is(sealed('st'), '10', 'the events waiting during the test are sealed');
is(sealed('d'), $stored_d, 'the events stored under drop are sealed');
is(sealed('e1'), '0', 'the refused event is not');
is(counters(), "$dropped|0", 'the ring is empty; nothing more dropped');

# Giving up: with the sealer held back and no progress within
# ring_wait_timeout, a waiting pusher drops the event with a WARNING.
$blocker = bh_hold_sealer($node, 'clinic', mode => 'ACCESS EXCLUSIVE');
($ret, $out, $err) = $node->psql('clinic', q{
SET bh_audit.on_ring_full = drop;
SELECT count(*) FILTER (WHERE ring_push(ev('f' || i))) FROM generate_series(1, 1000) i;
}, timeout => 60);
my $stored_f = $out;
$dropped += 1000 - $stored_f;
$t0 = time();
($ret, $out, $err) = $node->psql('clinic', q{
SET bh_audit.on_ring_full = wait;
SET bh_audit.ring_wait_timeout = '1s';
SELECT ring_push(ev('g1'));
}, timeout => 60);
$elapsed = time() - $t0;
is($out, 'f', 'a waiting pusher gives up when the sealer makes no progress');
cmp_ok($elapsed, '>=', 0.9, 'after ring_wait_timeout');
like($err, qr/WARNING:  bh_audit dropped an audit event: the event ring stayed full/,
	'with a WARNING');
$dropped++;
is(counters(), "$dropped|$stored_f", 'and counts it as dropped');
$blocker->query_safe('COMMIT');
$blocker->quit;
$node->safe_psql('clinic', 'SELECT bh_audit.seal()');
is(sealed('f'), $stored_f, 'the events stored meanwhile are sealed');

# Many producers at once into the tiny ring (wait): every event is stored
# and sealed exactly once, in a chain that verifies.
$node->pgbench(
	'-n -c 8 -j 4 -t 250 -h ' . $node->host . ' -p ' . $node->port . ' clinic',
	0,
	[qr{processed: 2000/2000}],
	[qr{^$}],
	'8 concurrent pushers, 2000 events through a 64kB ring',
	{ 'ring_push' => q{SELECT ring_push(ev('cc'));} });
$node->safe_psql('clinic', 'SELECT bh_audit.seal()');
is(sealed('cc'), '2000', 'all 2000 concurrently pushed events are sealed');
is($node->safe_psql('clinic',
		"SELECT count(DISTINCT event_id) FROM bh_audit.events WHERE resource_id = 'cc'"),
	'2000', 'each once');
is(counters(), "$dropped|0", 'none dropped; the ring is empty');
is($node->safe_psql('clinic', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');

# (5) A clean (fast) shutdown drains the ring into the chain.
$blocker = bh_hold_sealer($node, 'clinic', mode => 'ACCESS EXCLUSIVE');
$node->safe_psql('clinic',
	"SELECT ring_push(ev('sd' || i)) FROM generate_series(1, 50) i");
is(counters(), "$dropped|50", '50 events wait in the ring at shutdown');
my $log_offset = -s $node->logfile;
$node->stop('fast');
eval { $blocker->quit };
ok(slurp_file($node->logfile, $log_offset) =~
	  qr/bh_audit sealer stopping: the queue and the ring are drained/,
	'the sealer drained the ring before stopping');
$node->start;
is(sealed('sd'), '50', 'after the restart all 50 events are in the chain');
is($node->safe_psql('clinic', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'and the chain verifies');
is($node->safe_psql('clinic',
		'SELECT count(*) = count(DISTINCT event_id) FROM bh_audit.events'),
	't', 'no event was sealed twice');

# pg_terminate_backend() on the sealer: it drains, exits, and is restarted.
my $pid = $node->safe_psql('clinic', 'SELECT sealer_pid FROM bh_audit.stats()');
$node->safe_psql('clinic', "SELECT pg_terminate_backend($pid)");
ok($node->poll_query_until('clinic',
		"SELECT sealer_pid IS NOT NULL AND sealer_pid <> $pid FROM bh_audit.stats()"),
	'a terminated sealer is restarted');

# (7) An event that cannot be sealed (its event_id is not a uuid: the
# ledger's generated column rejects it) is discarded by the batch that
# takes it, so the events behind it are sealed — also when the sealer's
# database sets exit_on_error, which the sealer ignores (it would end the
# sealer at that event, again and again).
$node->safe_psql('clinic', 'ALTER DATABASE clinic SET exit_on_error = on');
$pid = $node->safe_psql('clinic', 'SELECT sealer_pid FROM bh_audit.stats()');
$node->safe_psql('clinic', "SELECT pg_terminate_backend($pid)");
ok($node->poll_query_until('clinic',
		"SELECT sealer_pid IS NOT NULL AND sealer_pid <> $pid FROM bh_audit.stats()"),
	'the sealer is restarted with the database setting exit_on_error');
$pid = $node->safe_psql('clinic', 'SELECT sealer_pid FROM bh_audit.stats()');
my $before = $node->safe_psql('clinic', 'SELECT events_dropped_total FROM bh_audit.stats()');
$log_offset = -s $node->logfile;
$node->safe_psql('clinic', q{
SELECT ring_push(
  (jsonb_set(ev('poison')::jsonb, '{event_id}', '"not-a-uuid"'))::json);
SELECT ring_push(ev('after_poison'));
});
ok($node->poll_query_until('clinic',
		"SELECT count(*) = 1 FROM bh_audit.events WHERE resource_id = 'after_poison'"),
	'the event behind an unsealable one is sealed');
# (counted, and logged, once the batch committed)
$node->poll_query_until('clinic',
	"SELECT events_dropped_total >= $before + 1 FROM bh_audit.stats()");
is($node->safe_psql('clinic', 'SELECT events_dropped_total FROM bh_audit.stats()'),
	$before + 1, 'the unsealable event is counted as dropped');
is(sealed('poison'), '0', 'and not in the chain');
is($node->safe_psql('clinic', 'SELECT sealer_pid FROM bh_audit.stats()'), $pid,
	'the same sealer runs on');
$node->safe_psql('clinic', 'ALTER DATABASE clinic RESET exit_on_error');
ok(eval {
		$node->wait_for_log(
			qr/WARNING:  bh_audit sealer discarded 1 event it could not seal/, $log_offset);
		1;
	},
	'the sealer says so in the log');
is($node->safe_psql('clinic', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');

$node->stop;
done_testing();
