# bh_audit.seal() in a REPEATABLE READ transaction: the transaction's first
# read of the ledger after the call warns (seal_wait.c, bh_seal_unseen).  A
# read that a parallel worker makes for the transaction (a user's function
# labelled PARALLEL SAFE reading the ledger, run by a worker: in a database
# with no tagged table the planner keeps it parallel) uses the leader's
# transaction snapshot and misses the sealed events just the same: it must
# warn too.  What seal() remembers is a slot of the leader's backend id in
# shared memory (seal_wait.c, bh_seal_slot), holding the transaction's local
# id, which its workers look at; the first read, the leader's or a
# worker's, marks it warned (before cb5bf32 the call itself warned in a
# transaction block).
# Once a transaction, the leader and its workers together: a worker's
# warning is the last, a leader's read first leaves its workers silent,
# two workers reading give one; a savepoint rolled back after the call
# does not undo it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('seal_read_in_parallel_worker');
$node->safe_psql('postgres', q{
CREATE FUNCTION public.review_count(t text) RETURNS bigint
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT count(*) FROM bh_audit.events WHERE resource_type = t $$;
CREATE FUNCTION public.review_verify() RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT result FROM bh_audit.verify_chain() $$;
SELECT bh_audit.seal();
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.tagged_tables'),
	'0', 'no tagged table: parallel plans are kept');

my $warning = qr/WARNING:  this transaction does not see the events bh_audit.seal\(\) waited for/;
my $session = $node->background_psql('postgres', on_error_stop => 0);
my $spid = $session->query_safe('SELECT pg_backend_pid()');
$session->query_safe('SET force_parallel_mode = on');
# the warnings' CONTEXT lines, which name the parallel worker that gave one
$session->query_safe('\set SHOW_CONTEXT always');

# the warnings a query gives (the session's stderr, taken)
sub warnings_of
{
	my ($query) = @_;
	my $out = $session->query($query);
	my $stderr = $session->{stderr};
	$session->{stderr} = '';
	return ($out, $stderr);
}
# An event of $type queued, and the session's statements @before (its
# transaction's start, taking no snapshot or the one the reads then use),
# then its seal(), with the sealer held back from before the event is
# queued until that seal() waits for it: the event is sealed after the
# transaction's snapshot, however soon the sealer would otherwise chain it
# (it waits 50 ms after a commit wakes it: a test held up longer took the
# snapshot after the event was chained, and the read saw it).
sub sealed_after_snapshot
{
	my ($type, @before) = @_;
	my $blocker = bh_hold_sealer($node, 'postgres');
	$node->safe_psql('postgres', "SELECT bh_audit.emit('OTHER', '$type')");
	$session->query_safe($_) foreach @before;
	$session->query_until(qr/sealing/,
		"\\echo sealing\nSELECT bh_audit.seal() >= 0;\n\\echo sealed\n");
	ok($node->poll_query_until('postgres', qq{
SELECT wait_event_type = 'Extension' FROM pg_stat_activity WHERE pid = $spid}),
		"$type: seal() waits for the sealer held back");
	$blocker->query_safe('COMMIT');
	$blocker->quit;
	like($session->query_until(qr/sealed/, ''), qr/^t\nsealed/,
		"$type: seal() returns once the sealer goes on");
	is($session->{stderr}, '', "$type: seal() says nothing");
	return;
}

like($session->query_safe(
		q{EXPLAIN (COSTS OFF) SELECT public.review_count('SealPar')}),
	qr/Single Copy: true/, 'the function runs in a worker');

# a query on the ledger in a worker
sealed_after_snapshot('SealPar', 'BEGIN ISOLATION LEVEL REPEATABLE READ');
my ($out, $stderr) = warnings_of(q{SELECT public.review_count('SealPar')});
is($out, '0', 'the worker\'s read does not see the sealed event');
like($stderr, $warning, 'the worker\'s read of the ledger warns');
like($stderr, qr/parallel worker/, 'the warning is the worker\'s');
# once a transaction: neither a worker's nor the leader's next read
($out, $stderr) = warnings_of(q{SELECT public.review_count('SealPar')});
unlike($stderr, qr/WARNING/, 'a second read in a worker says nothing');
$session->query_safe('SET LOCAL force_parallel_mode = off');
($out, $stderr) = warnings_of(q{SELECT count(*) FROM bh_audit.events WHERE resource_type = 'SealPar'});
is($out, '0', 'the leader does not see it either');
unlike($stderr, qr/WARNING/, 'the leader\'s read after the worker\'s says nothing');
$session->query_safe('COMMIT');
is($session->query_safe(q{SELECT public.review_count('SealPar')}), '1',
	'the next transaction sees it');

# verify_chain() in a worker
sealed_after_snapshot('SealParVerify', 'BEGIN ISOLATION LEVEL REPEATABLE READ');
($out, $stderr) = warnings_of(q{SELECT public.review_verify()});
is($out, 'PASS', 'verify_chain() in a worker');
like($stderr, $warning, 'verify_chain() in a worker warns');
$session->query_safe('COMMIT');

# the leader told first (its own read of the ledger, run by a worker below
# the Gather that force_parallel_mode adds): the worker says nothing more
like($session->query_safe(
		q{EXPLAIN (COSTS OFF) SELECT count(*) FROM bh_audit.events WHERE resource_type = 'SealParLeader'}),
	qr/Single Copy: true/, 'the ledger is read by a worker');
sealed_after_snapshot('SealParLeader', 'BEGIN ISOLATION LEVEL REPEATABLE READ');
($out, $stderr) = warnings_of(
	q{SELECT count(*) FROM bh_audit.events WHERE resource_type = 'SealParLeader'});
is($out, '0', 'a parallel read of the ledger does not see the sealed event');
is(scalar(() = $stderr =~ /$warning/g), 1, 'and warns once, the leader\'s');
unlike($stderr, qr/parallel worker/, 'its worker says nothing');
$session->query_safe('COMMIT');

# a savepoint rolled back after the call does not undo the sealing: a
# worker's read still warns
sealed_after_snapshot('SealParSavepoint', 'BEGIN ISOLATION LEVEL REPEATABLE READ',
	'SAVEPOINT s');
$session->query_safe('ROLLBACK TO SAVEPOINT s');
($out, $stderr) = warnings_of(q{SELECT public.review_count('SealParSavepoint')});
is($out, '0', 'after a rolled-back savepoint: not seen');
like($stderr, $warning, 'after a rolled-back savepoint: the worker\'s read warns');
$session->query_safe('COMMIT');

# two workers each reading the ledger (a function in a parallel scan's
# output, not in a condition, which the planner would call in the leader
# to estimate it; one row a page, parallel_leader_participation off): one
# warning for the transaction, not one a worker.  The function waits for
# an advisory lock the test holds until both workers wait for it, each on
# its first row (a worker started late on a loaded machine could find
# every page taken).
$node->safe_psql('postgres', q{
CREATE FUNCTION public.review_count_slow(t text) RETURNS bigint
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT pg_catalog.pg_advisory_xact_lock_shared(194);
        SELECT count(*) FROM bh_audit.events WHERE resource_type = t $$;
CREATE TABLE public.review_rows (id int, pad text)
  WITH (fillfactor = 10, parallel_workers = 2);
INSERT INTO public.review_rows SELECT g, repeat('x', 1000) FROM generate_series(1, 20) g;
ANALYZE public.review_rows;
SELECT bh_audit.emit('OTHER', 'SealParTwo');
});
$session->query_safe('SET force_parallel_mode = off');
$session->query_safe('SET parallel_setup_cost = 0');
$session->query_safe('SET parallel_tuple_cost = 0');
$session->query_safe('SET parallel_leader_participation = off');
$session->query_safe('SET max_parallel_workers_per_gather = 2');
$session->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$session->query_safe('SELECT bh_audit.seal()');
my $gate = $node->background_psql('postgres');
$gate->query_safe('SELECT pg_advisory_lock(194)');
my $leader = $session->query_safe('SELECT pg_backend_pid()');
$session->query_until(qr/started/, q{\echo started
EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT id + public.review_count_slow('SealParTwo') FROM public.review_rows;
});
ok($node->poll_query_until('postgres', qq{
SELECT count(*) = 2 FROM pg_stat_activity WHERE leader_pid = $leader AND wait_event = 'advisory'}),
	'both workers wait on their first row');
$gate->query_safe('SELECT pg_advisory_unlock(194)');
$gate->quit;
($out, $stderr) = warnings_of(q{SELECT 'explained'});
like($out, qr/Workers Launched: 2/, 'two workers');
like($out, qr/Parallel Seq Scan on public.review_rows \(actual rows=\d+ loops=2\)\n\s+Output: \(id \+ review_count_slow/,
	'the function runs below the Gather');
like($out, qr/Worker 0:  actual rows=[1-9]/, 'worker 0 read the ledger');
like($out, qr/Worker 1:  actual rows=[1-9]/, 'worker 1 read the ledger');
is(scalar(() = $stderr =~ /$warning/g), 1, 'one warning for the two workers');
like($stderr, qr/parallel worker/, 'a worker\'s');
$session->query_safe('COMMIT');
$session->quit;

$node->stop;
done_testing();
