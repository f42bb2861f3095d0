# Partitions of a tagged table created and dropped while other sessions'
# statements refresh their tag caches.  A session's tag cache walks the
# partition tree of each tagged table without locking the partitions (a
# lock taken by the planner hook of every statement would be held to the
# end of the transaction and wait behind any DDL on any partition): a
# partition dropped during the walk must be skipped, never looked up as
# if it were there ("cache lookup failed for relation", or a crash on its
# missing name), and the cache must end up as the catalog is: the dropped
# partition gone, a partition created afterwards captured.
#
# First deterministically: the walk of a session loading its cache is
# held, between finding a partition and reading it, on the schema the
# partition lives in (another session holds pg_namespace, which a DROP
# TABLE does not need), while the partition is dropped.  Then by load:
# pgbench clients running SELECT 1, and a session looping over the same
# statements, while another creates and drops a partition for ten seconds.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('partchurn');
$node->safe_psql('postgres', q{
CREATE SCHEMA other;
CREATE TABLE parted (id int, patient_id text, v text) PARTITION BY RANGE (id);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (1000);
INSERT INTO parted VALUES (1, 'p1', 'one');
SELECT bh_audit.tag_table('public.parted', 'Part', 'id', 'patient_id');
CREATE TABLE plain (id int);
});

# The events of resource type Part after seq $mark, as action|patient.
sub part_events
{
	my ($mark) = @_;
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT action || '|' || coalesce(patient_id, '') FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'Part' ORDER BY seq});
}

sub last_seq
{
	return bh_seal_mark($node, 'postgres');
}

# --- The walk held on a partition that is dropped meanwhile ---

$node->safe_psql('postgres',
	'CREATE TABLE other.parted_held PARTITION OF parted FOR VALUES FROM (2000) TO (3000)');

my $reader = $node->background_psql('postgres', on_error_stop => 0);
$reader->query_safe('SELECT count(*) FROM plain');
my $dropper = $node->background_psql('postgres');

# A change of schema "other" reloads every session's cache and leaves the
# schema out of their catalog caches: the reader's load reads it again
# when it reaches the partition.  The dropper creates and drops another
# partition there first, so that it needs no lock on pg_namespace to drop
# one.
$node->safe_psql('postgres', 'GRANT USAGE ON SCHEMA other TO PUBLIC');
$dropper->query_safe(
	q{CREATE TABLE other.warm PARTITION OF parted FOR VALUES FROM (9000) TO (9001)});
$dropper->query_safe('DROP TABLE other.warm');
# (polled from a session connected before: a new one needs pg_namespace)
my $poller = $node->background_psql('postgres');
$poller->query_safe('SET bh_audit.enabled = off');
my $waiting = q{SELECT count(*) FROM pg_catalog.pg_lock_status()
 WHERE NOT granted AND relation = 'pg_catalog.pg_namespace'::pg_catalog.regclass};
$poller->query_safe($waiting);
my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN');
$holder->query_safe('LOCK TABLE pg_catalog.pg_namespace IN ACCESS EXCLUSIVE MODE');

$reader->query_until(qr/loading/, q{
\echo loading
SELECT 1 AS after_drop;
});
my $waits = 0;
foreach my $try (1 .. 100 * $PostgreSQL::Test::Utils::timeout_default)
{
	last if ($waits = $poller->query_safe($waiting)) eq '1';
	select(undef, undef, undef, 0.01);
}
is($waits, '1', 'the reader\'s cache load waits for pg_namespace in the middle of its walk');
$poller->quit;
$dropper->query_safe('DROP TABLE other.parted_held');
$holder->query_safe('COMMIT');
$holder->quit;

my $answer = $reader->query('SELECT 2 AS next');
is($answer, "1\n2", 'the reader\'s statement waiting in its load, and its next, answer');
like($reader->{stderr}, qr/^$/,
	'the walk that found the partition dropped raises no error') or diag($reader->{stderr});
$reader->{stderr} = '';

# Its cache is as the catalog: a partition created now is captured.
$dropper->query_safe(q{
CREATE TABLE other.parted_new PARTITION OF parted FOR VALUES FROM (3000) TO (4000);
INSERT INTO parted VALUES (3001, 'p3001', 'new');
});
my $mark = last_seq();
$reader->query_safe('SELECT patient_id FROM other.parted_new WHERE id = 3001');
$reader->query_safe('SELECT patient_id FROM parted WHERE id = 1');
is(part_events($mark), "READ|p3001\nREAD|p1",
	'the reader captures reads of a partition created after the drop, and of the others');
$dropper->quit;

# --- Partitions created and dropped under load ---

my $script = "$PostgreSQL::Test::Utils::tmp_check/076_select1.sql";
PostgreSQL::Test::Utils::append_to_file($script, "SELECT 1;\n");
my ($bench_out, $bench_err) = ('', '');
my $bench = IPC::Run::start(
	[
		'pgbench', '-n', '-c', '2', '-T', '10', '-f', $script,
		'-h', $node->host, '-p', $node->port, 'postgres'
	],
	'>', \$bench_out, '2>', \$bench_err);

# A session that stays: its statements (each in its own transaction, each
# planned anew) go through the churn, and its cache is checked after.
$reader->query_until(qr/watching/, q{
\echo watching
DO $$
DECLARE
  stop timestamptz := clock_timestamp() + interval '10 s';
BEGIN
  WHILE clock_timestamp() < stop LOOP
    EXECUTE 'SELECT 1';
    COMMIT;
  END LOOP;
END $$;
});

my ($rc, $churn_out, $churn_err) = $node->psql('postgres', q{
DO $$
DECLARE
  stop timestamptz := clock_timestamp() + interval '10 s';
  n int := 0;
BEGIN
  WHILE clock_timestamp() < stop LOOP
    CREATE TABLE parted_x PARTITION OF parted FOR VALUES FROM (5000) TO (6000);
    COMMIT;
    DROP TABLE parted_x;
    COMMIT;
    n := n + 1;
  END LOOP;
  RAISE NOTICE 'churned % partitions', n;
END $$;
});
is($rc, 0, 'the session creating and dropping partitions ran to its end')
  or diag($churn_err);
like($churn_err, qr/churned \d+ partitions/, 'it churned partitions');
note($churn_err);

$bench->finish;
is($bench->result(0), 0, 'pgbench ends without a failed client') or diag($bench_err);
unlike($bench_err, qr/ERROR|abort/, 'no SELECT 1 fails') or diag($bench_err);
like($bench_out, qr/number of failed transactions: 0 /, 'pgbench counts no failed transaction')
  or diag($bench_out);
note($bench_out);

my @log = split /\n/, slurp_file($node->logfile);
is(join("\n", grep { /terminated by signal/ } @log), '', 'no backend crashed');
is(join("\n", grep { /cache lookup failed/ } @log), '',
	'no statement failed on a dropped partition');

# The session that went through the churn: its loop ended without error,
# and its cache is as the catalog.
$answer = $reader->query('SELECT 3 AS after_churn');
is($answer, '3', 'the session looping through the churn goes on');
like($reader->{stderr}, qr/^$/, 'its loop raised no error') or diag($reader->{stderr});
$node->safe_psql('postgres', q{
CREATE TABLE parted_later PARTITION OF parted FOR VALUES FROM (7000) TO (8000);
INSERT INTO parted VALUES (7001, 'p7001', 'later');
CREATE TABLE parted_x (id int, patient_id text);
INSERT INTO parted_x VALUES (5001, 'notphi');
});
$mark = last_seq();
$reader->query_safe('SELECT patient_id FROM parted WHERE id = 7001');
$reader->query_safe('SELECT patient_id FROM parted_later WHERE id = 7001');
$reader->query_safe('SELECT patient_id FROM parted_x WHERE id = 5001');
is(part_events($mark), "READ|p7001\nREAD|p7001",
	'after the churn, the partition created later is captured, and the untagged table that took the dropped partition\'s name is not');
$reader->quit;

done_testing();
