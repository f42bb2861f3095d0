# sql-reference.md: seal() is refused, rather than waiting for ever, in a
# transaction the sealer would wait for.  Beyond the locks it checks before
# waiting (test/isolation: seal_queue_row_lock), a transaction that updated
# or deleted a queued row (a superuser's) holds the sealer's delete of that
# row: seal() sees the sealer wait for it and fails (55000).  A parallel
# worker (through a function labelled PARALLEL SAFE) can neither see its
# leader's locks nor hold its leader's events: seal() and pending_events()
# are refused there (25000), as emit() is.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('seal_waits_for_me');
# (before any table is tagged: the planner keeps such plans serial then)
$node->safe_psql('postgres', q{
CREATE TABLE par_big AS SELECT g FROM generate_series(1, 1000) g;
ANALYZE par_big;
CREATE FUNCTION par_seal(i int) RETURNS bigint LANGUAGE plpgsql PARALLEL SAFE
    AS $$ BEGIN RETURN bh_audit.seal(); END $$;
CREATE FUNCTION par_pending(i int) RETURNS bigint LANGUAGE plpgsql PARALLEL SAFE
    AS $$ DECLARE n bigint; BEGIN SELECT count(*) INTO n FROM bh_audit.pending_events(); RETURN n; END $$;
});
my $parallel = q{
SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0; SET force_parallel_mode = on;
SET parallel_leader_participation = off; SET statement_timeout = '20s';
};
my ($rc, $out, $err) = $node->psql('postgres', $parallel . q{
BEGIN; LOCK TABLE bh_audit.queue IN SHARE MODE;
SELECT par_seal(g) FROM par_big WHERE g < 2;});
like($err, qr/cannot execute bh_audit\.seal\(\) in a parallel worker/,
	'seal() in a parallel worker is refused');
($rc, $out, $err) = $node->psql('postgres', $parallel . q{
BEGIN; SELECT bh_audit.emit('READ', 'Patient') IS NOT NULL;
SELECT par_pending(g) FROM par_big WHERE g < 2;});
like($err, qr/cannot execute bh_audit\.pending_events\(\) in a parallel worker/,
	'pending_events() in a parallel worker is refused');
# the leader of a parallel query (a function labelled PARALLEL RESTRICTED)
$node->safe_psql('postgres', q{
CREATE FUNCTION lead_seal() RETURNS bigint LANGUAGE sql PARALLEL RESTRICTED AS 'SELECT bh_audit.seal()';
CREATE FUNCTION lead_pending() RETURNS bigint LANGUAGE sql PARALLEL RESTRICTED
    AS 'SELECT count(*) FROM bh_audit.pending_events()';
});
like($node->safe_psql('postgres', $parallel . q{
EXPLAIN (COSTS OFF) SELECT lead_seal(), lead_pending(), count(*) FROM par_big;}),
	qr/Gather/, 'a parallel plan');
is($node->safe_psql('postgres', $parallel . q{
SELECT lead_seal() >= 0, lead_pending(), count(*) FROM par_big;}),
	't|0|1000', 'in the leader of a parallel query, seal() and pending_events() run');

$node->safe_psql('postgres', q{
CREATE TABLE notes (id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id');
});

foreach my $change ('DELETE FROM bh_audit.queue WHERE id = (SELECT min(id) FROM bh_audit.queue)',
	'UPDATE bh_audit.queue SET events = events WHERE id = (SELECT min(id) FROM bh_audit.queue)')
{
	my $sealer = bh_stop_sealer($node, 'postgres');
	$node->safe_psql('postgres',
		'INSERT INTO notes SELECT coalesce(max(id), 0) + 1, \'p\' FROM notes');
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	$s->query_safe('BEGIN');
	$s->query_safe($change);
	kill 'CONT', $sealer;
	my $started = time;
	$s->query(q{SET statement_timeout = '60s'; SELECT bh_audit.seal()});
	like($s->{stderr}, qr/bh_audit\.seal\(\) cannot wait for the sealer, which waits for this transaction/,
		(split / /, $change)[0] . ' of a queued row: seal() is refused');
	cmp_ok(time - $started, '<', 30, '... without waiting for the statement timeout');
	$s->query('ROLLBACK');
	$s->quit;
	is($node->safe_psql('postgres',
		'SELECT bh_audit.seal() >= 0; SELECT count(*) FROM bh_audit.queue'), "t\n0",
		'once it rolled back, the row is sealed');
}

# the sealer waits for a third session that waits for this transaction: an
# ACCESS EXCLUSIVE lock of the queue (a REINDEX, say) queued behind this
# transaction's ROW EXCLUSIVE one, ahead of the sealer
{
	my $sealer = bh_stop_sealer($node, 'postgres');
	$node->safe_psql('postgres', 'UPDATE notes SET patient_id = \'q\'');
	my $a = $node->background_psql('postgres', on_error_stop => 0);
	$a->query_safe('BEGIN');
	$a->query_safe('LOCK TABLE bh_audit.queue IN ROW EXCLUSIVE MODE');
	my $x = $node->background_psql('postgres', on_error_stop => 0);
	$x->query_until(qr/waiting/, q{\echo waiting
BEGIN;
LOCK TABLE bh_audit.queue IN ACCESS EXCLUSIVE MODE;
});
	$node->poll_query_until('postgres', q{
SELECT count(*) > 0 FROM pg_locks WHERE relation = 'bh_audit.queue'::regclass AND NOT granted})
	  or die 'the ACCESS EXCLUSIVE lock does not wait';
	kill 'CONT', $sealer;
	my $started = time;
	$a->query(q{SET statement_timeout = '60s'; SELECT bh_audit.seal()});
	like($a->{stderr}, qr/bh_audit\.seal\(\) cannot wait for the sealer, which waits for this transaction/,
		'the sealer behind another session waiting for this transaction: seal() is refused');
	cmp_ok(time - $started, '<', 30, '... without waiting for the statement timeout');
	$a->query('ROLLBACK');
	$a->quit;
	$x->quit;
	is($node->safe_psql('postgres',
		'SELECT bh_audit.seal() >= 0; SELECT count(*) FROM bh_audit.queue'), "t\n0",
		'then the queue is sealed');
}
$node->stop;
done_testing();
