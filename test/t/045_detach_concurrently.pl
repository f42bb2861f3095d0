# DETACH PARTITION ... CONCURRENTLY of a partition of a tagged table.  Its
# first transaction marks the detach pending; its second waits for every
# transaction using the parent.  Meanwhile, and after a second transaction
# that is cancelled (until ... FINALIZE), the partition is still one: a
# transaction older than the detach reaches it through the parent, and
# anyone directly; its capture triggers fire, and it is captured under the
# parent's tag, reads and writes, until the detach completes.  Then it
# keeps no capture trigger and can be tagged on its own.  A partition whose
# detach is pending cannot be tagged, nor can a table above it (PostgreSQL
# gives it none of its parent's triggers); untag_table() of the parent
# removes its triggers too; capture_status() checks it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('detachconc');
$node->safe_psql('postgres', q{
CREATE TABLE dz (id int, pat text) PARTITION BY RANGE (id);
CREATE TABLE dz_1 PARTITION OF dz FOR VALUES FROM (0) TO (10);
CREATE TABLE dz_2 PARTITION OF dz FOR VALUES FROM (10) TO (20);
CREATE TABLE dz_3 PARTITION OF dz FOR VALUES FROM (20) TO (30);
SELECT bh_audit.tag_table('dz', 'DZ', 'id', 'pat');
INSERT INTO dz VALUES (1, 'a'), (11, 'b'), (21, 'c');
});

my $mark;
sub set_mark
{
	$mark = bh_seal_mark($node, 'postgres');
}

# The events since the mark: resource type, action, patient,
# metadata.table (and .change, .partition), sorted (reads and writes reach
# the trail by different paths: their order is not the statements').
sub events_since
{
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return join("\n", sort split /\n/, $node->safe_psql('postgres', qq{
SELECT concat_ws('|', resource_type, action, coalesce(patient_id, '-'), event -> 'metadata' ->> 'table',
                 event -> 'metadata' ->> 'change', event -> 'metadata' ->> 'partition')
  FROM bh_audit.events
 WHERE seq > $mark}));
}

sub sorted
{
	return join("\n", sort @_);
}

sub capture_triggers
{
	my ($table) = @_;
	return $node->safe_psql('postgres', qq{
SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger
 WHERE tgrelid = '$table'::regclass AND tgname LIKE 'bh_audit%'});
}

# Hold the parent in a transaction, start DETACH ... CONCURRENTLY of part
# in another session, and wait until its first transaction has committed
# and its second waits for the holder.
sub detach_waiting
{
	my ($detacher, $part) = @_;
	$detacher->query_until(qr/detaching/, qq{
\\echo detaching
ALTER TABLE dz DETACH PARTITION $part CONCURRENTLY;
});
	ok($node->poll_query_until('postgres', qq{
SELECT (SELECT inhdetachpending FROM pg_inherits WHERE inhrelid = '$part'::regclass)
   AND EXISTS (SELECT FROM pg_stat_activity
                WHERE wait_event_type = 'Lock' AND query LIKE '%DETACH PARTITION $part%')}),
		"the detach of $part is pending and waits for the older transaction");
}

# A repeatable read transaction older than the detach: it reads and writes
# the partition through the parent, all captured under the parent's tag.
set_mark();
my $older = $node->background_psql('postgres');
$older->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$older->query_safe('SELECT count(*) FROM dz WHERE id = 11');
my $detacher = $node->background_psql('postgres');
detach_waiting($detacher, 'dz_1');
is($older->query_safe('SELECT string_agg(pat, \',\' ORDER BY id) FROM dz'), 'a,b,c',
	'the older transaction still reads the partition being detached through the parent');
$older->query_safe(q{INSERT INTO dz VALUES (2, 'hw')});
$older->query_safe(q{UPDATE dz SET pat = 'hu' WHERE id = 1});
$older->query_safe('DELETE FROM dz WHERE id = 2');
$older->query_safe('COMMIT');
$older->quit;
$detacher->query_safe('SELECT 1');	# the detach completed
$detacher->quit;
is(events_since(), sorted(
	'AuditConfiguration|UPDATE|-|public.dz|partition_detached|public.dz_1',
	'DZ|READ|b|public.dz',
	'DZ|READ|a|public.dz',
	'DZ|READ|b|public.dz',
	'DZ|READ|c|public.dz',
	'DZ|CREATE|hw|public.dz_1',
	'DZ|UPDATE|hu|public.dz_1',
	'DZ|UPDATE|a|public.dz_1',
	'DZ|DELETE|hw|public.dz_1'),
	'the older transaction\'s read of the partition and its three writes are captured');
is(capture_triggers('dz_1'), '', 'the detached table keeps no capture trigger');
set_mark();
$node->safe_psql('postgres', q{INSERT INTO dz_1 VALUES (3, 'x'); SELECT * FROM dz_1});
is(events_since(), '', 'the detached table is not captured any more');

# A detach whose second transaction is cancelled: the partition stays
# pending until FINALIZE, with its triggers, captured as a partition.
set_mark();
my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN');
$holder->query_safe('SELECT count(*) FROM dz');
# (cancelled once it waits for the holder, in its second transaction: a
# statement_timeout could fire in its first on a loaded machine)
my ($ret, $out, $err);
(undef, $err) = bh_cancel_waiting($node, 'postgres',
	'ALTER TABLE dz DETACH PARTITION dz_2 CONCURRENTLY', 'Lock');
like($err, qr/canceling statement due to user request/, 'the detach of dz_2 is cancelled');
$holder->query_safe('COMMIT');
is($node->safe_psql('postgres',
	q{SELECT inhdetachpending FROM pg_inherits WHERE inhrelid = 'dz_2'::regclass}),
	't', 'dz_2 stays a partition whose detach is pending');
$node->safe_psql('postgres', q{
INSERT INTO dz_2 VALUES (12, 'd');
SELECT pat FROM dz_2 WHERE id = 12;
UPDATE dz_2 SET pat = 'e' WHERE id = 12;
DELETE FROM dz_2 WHERE id = 12;
TRUNCATE dz_2;
SELECT pat FROM dz;
});
is(events_since(), sorted(
	'AuditConfiguration|UPDATE|-|public.dz|partition_detached|public.dz_2',
	'DZ|READ|b|public.dz',
	'DZ|READ|c|public.dz',
	'DZ|CREATE|d|public.dz_2',
	'DZ|READ|d|public.dz',
	'DZ|UPDATE|e|public.dz_2',
	'DZ|UPDATE|d|public.dz_2',
	'DZ|DELETE|e|public.dz_2',
	'DZ|DELETE|-|public.dz_2',
	'DZ|READ|c|public.dz'),
	'the pending partition\'s direct reads and writes (and TRUNCATE) are captured under the parent\'s tag');
is($node->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.capture_status()'), '0',
	'capture_status(): complete');

# capture_status() checks the pending partition's triggers too.
$node->safe_psql('postgres', 'DROP TRIGGER bh_audit_capture_truncate ON dz_2');
is($node->safe_psql('postgres', q{SELECT tbl || '|' || problem FROM bh_audit.capture_status()}),
	'dz_2|truncate trigger missing', 'capture_status(): the pending partition\'s missing trigger');
# (PostgreSQL lets no ALTER TABLE make it ENABLE ALWAYS again)
$node->safe_psql('postgres', q{
CREATE TRIGGER bh_audit_capture_truncate BEFORE TRUNCATE ON dz_2
    FOR EACH STATEMENT EXECUTE FUNCTION bh_audit._capture_truncate();
});
is($node->safe_psql('postgres', q{SELECT tbl || '|' || problem FROM bh_audit.capture_status()}),
	'dz_2|truncate trigger not enabled ALWAYS (skipped under session_replication_role = replica)',
	'capture_status(): the pending partition\'s trigger created again, not enabled ALWAYS');

# It cannot be tagged on its own: a clear error.
($ret, $out, $err) = $node->psql('postgres',
	q{SELECT bh_audit.tag_table('dz_2', 'DZ2', 'id', 'pat')});
like($err, qr/ERROR:  table "dz_2" is being detached from "dz"\n.*\nHINT:  Complete the detach first: ALTER TABLE public\.dz DETACH PARTITION public\.dz_2 FINALIZE\./,
	'tag_table() of the pending partition: refused, naming it');

# untag_table() of the parent removes the pending partition's triggers
# too; the parent cannot be tagged again until the detach completes.
$node->safe_psql('postgres', q{SELECT bh_audit.untag_table('dz')});
is($node->safe_psql('postgres', q{
SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'bh_audit%'}), '0',
	'untag_table(): no capture trigger left, on the pending partition neither');
($ret, $out, $err) = $node->psql('postgres',
	q{SELECT bh_audit.tag_table('dz', 'DZ', 'id', 'pat')});
like($err, qr/ERROR:  table "dz_2" is being detached from "dz"\nDETAIL:  A partition whose detach is pending gets no trigger of its parent: its rows would not be captured\.\nHINT:  Complete the detach first: ALTER TABLE public\.dz DETACH PARTITION public\.dz_2 FINALIZE\./,
	'tag_table() of the parent of a pending partition: refused, naming it');
$node->safe_psql('postgres', 'ALTER TABLE dz DETACH PARTITION dz_2 FINALIZE');
$node->safe_psql('postgres', q{
SELECT bh_audit.tag_table('dz', 'DZ', 'id', 'pat');
SELECT bh_audit.tag_table('dz_2', 'DZ2', 'id', 'pat');
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.capture_status()'), '0',
	'after FINALIZE both are tagged, capture complete');

# FINALIZE under a tagged parent: the table keeps no capture trigger, and
# can be tagged on its own.
$holder->query_safe('BEGIN');
$holder->query_safe('SELECT count(*) FROM dz');
# (cancelled once it waits for the holder, in its second transaction)
(undef, $err) = bh_cancel_waiting($node, 'postgres',
	'ALTER TABLE dz DETACH PARTITION dz_3 CONCURRENTLY', 'Lock');
like($err, qr/canceling statement due to user request/, 'the detach of dz_3 is cancelled');
$holder->query_safe('COMMIT');
$holder->quit;
is(capture_triggers('dz_3'), 'bh_audit_capture_row,bh_audit_capture_truncate',
	'the pending partition keeps its capture triggers');
$node->safe_psql('postgres', 'ALTER TABLE dz DETACH PARTITION dz_3 FINALIZE');
is(capture_triggers('dz_3'), '', 'FINALIZE: the detached table keeps no capture trigger');
set_mark();
$node->safe_psql('postgres', q{
INSERT INTO dz_3 VALUES (22, 'f');
SELECT bh_audit.tag_table('dz_3', 'DZ3', 'id', 'pat');
INSERT INTO dz_3 VALUES (23, 'g');
});
is(events_since(), sorted(
	'AuditConfiguration|CREATE|-|public.dz_3|tag_table',
	'DZ3|CREATE|g|public.dz_3'),
	'the detached table is captured only once tagged on its own');

done_testing();
