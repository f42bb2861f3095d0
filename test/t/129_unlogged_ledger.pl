# The extension's own tables cannot be made unlogged, nor given another
# access method.  A DBA short of disk or WAL might try ALTER TABLE
# bh_audit.events (or bh_audit.queue) SET UNLOGGED; PostgreSQL accepts it,
# and the next crash or immediate shutdown empties the table: every sealed
# event, or every committed write's event not yet sealed, is gone, nothing
# in the chain says so (it starts again at seq 1 and verifies), and no
# event recorded the ALTER.  bh_audit.tags made unlogged is emptied the
# same way: every table is untagged by the crash, without an event.  The
# same for the ledger's home, and the queue's identity sequence would start
# again at 1.  bh_audit refuses SET UNLOGGED of a tagged table for the same
# reason.  Another access method decides how the rows are kept; the
# extension writes the queue's as heap tuples.  Nor can they join an
# inheritance tree or a partitioned table: a child's rows would be read as
# the ledger's (verification reading the ledger alone would pass), and a
# DELETE of a parent deletes ledger rows past its statement-level
# append-only guard, without an event.  Each refusal is checked with its
# SQLSTATE and message, and the tables stay as they were; then a committed
# write queued at an immediate shutdown is sealed after it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('unlogged_ledger', database => 'clinic');
$node->safe_psql('clinic', q{
CREATE TABLE obs (id int PRIMARY KEY, patient_id text, note text);
INSERT INTO obs SELECT g, 'P' || g, 'n' FROM generate_series(1, 10) g;
SELECT bh_audit.tag_table('obs', 'Observation', 'id', 'patient_id');
SELECT * FROM obs WHERE id <= 5;
SELECT bh_audit.seal();
CREATE ACCESS METHOD heap2 TYPE TABLE HANDLER heap_tableam_handler;
});
is($node->safe_psql('clinic', q{
SELECT string_agg(action || ' ' || patient_id, ',' ORDER BY patient_id) FROM bh_audit.events
 WHERE resource_type = 'Observation'}),
	'READ P1,READ P2,READ P3,READ P4,READ P5', 'the reads of the five patients are sealed');

# The ERROR line of a statement (SQLSTATE and message), or its output.
sub error_of
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('clinic', "\\set VERBOSITY verbose\n$sql");
	return $ret == 0 ? "succeeded: $out" : ($err =~ /^(?:psql:\S+ )?(ERROR:.*)$/m)[0];
}

for my $t ('events', 'queue', 'tags', 'ledger_home')
{
	is(error_of("ALTER TABLE bh_audit.$t SET UNLOGGED"),
		"ERROR:  0A000: cannot make bh_audit.$t unlogged",
		"ALTER TABLE bh_audit.$t SET UNLOGGED is refused");
	is(error_of("ALTER TABLE bh_audit.$t SET ACCESS METHOD heap2"),
		"ERROR:  0A000: cannot change the access method of bh_audit.$t",
		"ALTER TABLE bh_audit.$t SET ACCESS METHOD is refused");
	is($node->safe_psql('clinic',
			"SELECT relpersistence::text || ' ' || amname FROM pg_class JOIN pg_am a ON a.oid = relam WHERE pg_class.oid = 'bh_audit.$t'::regclass"),
		'p heap', "bh_audit.$t stays a logged heap table");
}
for my $stmt ('ALTER SEQUENCE', 'ALTER TABLE')
{
	is(error_of("$stmt bh_audit.queue_id_seq SET UNLOGGED"),
		'ERROR:  0A000: cannot make the identity sequence of bh_audit.queue unlogged',
		"$stmt of the queue's identity sequence SET UNLOGGED is refused");
}
is($node->safe_psql('clinic',
		q{SELECT relpersistence FROM pg_class WHERE oid = 'bh_audit.queue_id_seq'::regclass}),
	'p', "the queue's identity sequence stays logged");

# Inheritance and partitioning, either way, plain and foreign children.
$node->safe_psql('clinic', q{
CREATE TABLE public.base (seq bigint);
CREATE TABLE public.ranges (LIKE bh_audit.events INCLUDING GENERATED) PARTITION BY RANGE (seq);
CREATE FOREIGN DATA WRAPPER nowhere;
CREATE SERVER far FOREIGN DATA WRAPPER nowhere;
});
for my $t ('events', 'queue', 'tags', 'ledger_home')
{
	is(error_of("CREATE TABLE public.kid () INHERITS (bh_audit.$t)"),
		"ERROR:  0A000: cannot inherit from bh_audit.$t",
		"a child of bh_audit.$t is refused");
	is(error_of("CREATE FOREIGN TABLE public.kid () INHERITS (bh_audit.$t) SERVER far"),
		"ERROR:  0A000: cannot inherit from bh_audit.$t",
		"a foreign child of bh_audit.$t is refused");
	is(error_of("ALTER TABLE bh_audit.$t INHERIT public.base"),
		"ERROR:  0A000: bh_audit.$t cannot be a child or a partition of another table",
		"bh_audit.$t made a child is refused");
}
is(error_of("ALTER TABLE public.ranges ATTACH PARTITION bh_audit.events FOR VALUES FROM (0) TO (1000000)"),
	'ERROR:  0A000: bh_audit.events cannot be a child or a partition of another table',
	'bh_audit.events attached as a partition is refused');
is($node->safe_psql('clinic',
		q{SELECT count(*) FROM pg_inherits WHERE inhrelid IN ('bh_audit.events'::regclass, 'bh_audit.queue'::regclass, 'bh_audit.tags'::regclass, 'bh_audit.ledger_home'::regclass) OR inhparent IN ('bh_audit.events'::regclass, 'bh_audit.queue'::regclass, 'bh_audit.tags'::regclass, 'bh_audit.ledger_home'::regclass)}),
	'0', 'no table of the extension is in an inheritance tree');

# A committed write waiting in the queue (the sealer held back by a lock on
# the ledger), then an immediate shutdown.  The ledger as it is before:
# every event, seq and hash.
$node->safe_psql('clinic', 'SELECT bh_audit.seal()');
my ($max_seq, $ledger_before) = split /\|/, $node->safe_psql('clinic', q{
SELECT max(seq), count(*) || ' ' || md5(string_agg(seq || ':' || event_hash, ',' ORDER BY seq))
  FROM bh_audit.events});
my $lock = $node->background_psql('clinic');
$lock->query_safe('BEGIN; LOCK bh_audit.events IN ACCESS EXCLUSIVE MODE');
$node->safe_psql('clinic', q{UPDATE obs SET note = 'changed' WHERE id = 1});
is($node->safe_psql('clinic', 'SELECT queued_events FROM bh_audit.stats()'),
	'1', 'the write waits in the queue');
$node->stop('immediate');
eval { $lock->quit };
$node->start;
$node->safe_psql('clinic', 'SELECT bh_audit.seal()');
is($node->safe_psql('clinic', qq{
SELECT count(*) || ' ' || md5(string_agg(seq || ':' || event_hash, ',' ORDER BY seq))
  FROM bh_audit.events WHERE seq <= $max_seq}),
	$ledger_before, 'the sealed events survive the immediate shutdown, each as it was');
is($node->safe_psql('clinic',
		q{SELECT count(*) FROM bh_audit.events WHERE action = 'UPDATE' AND resource_id = '1'}),
	'1', 'the committed write is sealed after the restart');
is($node->safe_psql('clinic', 'SELECT count(*) FROM bh_audit.tags'),
	'1', 'the table is still tagged after the restart');
is($node->safe_psql('clinic', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');
$node->stop;
done_testing();
