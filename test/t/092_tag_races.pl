# tag_table() and untag_table() racing another transaction over the same
# table.  Each locks the table before it looks at the tag catalog (an
# untagging first looks whether the table is tagged at all, without a
# lock, so that it queues for no lock of a table it cannot untag), and
# looks again once the lock is granted: the session that waited gets the
# documented error (already tagged, not tagged, the table does not
# exist), never a raw one (a duplicate key of the catalog, a trigger that
# is not there, a relation OID that cannot be opened).  Under REPEATABLE
# READ the tagging committed during the wait is not in the transaction's
# snapshot: a serialization failure.  Tags, capture triggers and
# capture_status() stay consistent, with one AuditConfiguration event per
# call that succeeded.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('tagraces');
$node->safe_psql('postgres', q{
CREATE TABLE public.t4 (id int PRIMARY KEY, patient_id int);
CREATE TABLE public.t5 (id int PRIMARY KEY, patient_id int);
CREATE TABLE public.t6 (id int PRIMARY KEY, patient_id int);
CREATE TABLE public.t7 (id int PRIMARY KEY, patient_id int);
});

my $tag4 = q{SELECT bh_audit.tag_table('public.t4', 'Four', 'id', 'patient_id')};

my $b = $node->background_psql('postgres');
my $c = $node->background_psql('postgres', on_error_stop => 0);
my $cpid = $c->query_safe('SELECT pg_backend_pid()');

# Run SQL in session C until it waits for a lock, let B commit, and return
# C's outcome: "ok", or the SQLSTATE and message of its error.
sub race
{
	my ($sql, $what) = @_;
	$c->query_until(qr/started/, "\\echo started\n$sql;\n");
	ok( $node->poll_query_until('postgres', qq{
		SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $cpid}),
		"$what: the second session waits for the first");
	$b->query_safe('COMMIT');
	# (a meta-command: it runs in a transaction the error aborted)
	my $out = $c->query(q{\echo :SQLSTATE :LAST_ERROR_MESSAGE});
	$c->{stderr} = '';
	$out = (split /\n/, $out)[-1];
	$out = 'ok' if $out =~ /^00000 /;
	return $out;
}

# Run SQL in session C, which does not wait: "ok", or its error.
sub at_once
{
	my ($sql) = @_;
	$c->{stderr} = '';
	$c->query("$sql;");
	my $failed = $c->{stderr} =~ /ERROR:/;
	my $out = $c->query(q{\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE});
	$c->{stderr} = '';
	return $failed ? (split /\n/, $out)[-1] : 'ok';
}

# One row per tag of these tables, their capture triggers, capture_status()
# and the AuditConfiguration events of each, as "table|tags|triggers|events".
sub state
{
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', q{
SELECT n || '|' ||
       (SELECT count(*) FROM bh_audit.tags WHERE tbl::oid = c.oid) || '|' ||
       (SELECT count(*) FROM pg_trigger WHERE tgrelid = c.oid AND tgname LIKE 'bh_audit_capture%') || '|' ||
       (SELECT count(*) FROM bh_audit.events
         WHERE resource_type = 'AuditConfiguration' AND resource_id = 'public.' || n
           AND event -> 'metadata' ->> 'change' IN ('tag_table', 'untag_table'))
  FROM unnest(ARRAY['t4', 't5', 't6', 't7']) n
  LEFT JOIN pg_class c ON c.oid = to_regclass('public.' || n)
 ORDER BY n});
}

# Two taggings of one table: the second waits, then finds it tagged.
$b->query_safe('BEGIN');
$b->query_safe($tag4);
is(race($tag4, 'tag against tag'),
	'42710 table "public.t4" is already tagged',
	'a tag_table() that waited for another one is told the table is already tagged');
is(state(), "t4|1|2|1\nt5|0|0|0\nt6|0|0|0\nt7|0|0|0",
	'one tag, its two triggers, one event');

# Two untaggings: the second waits, then finds it not tagged.
$b->query_safe('BEGIN');
$b->query_safe(q{SELECT bh_audit.untag_table('public.t4')});
is(race(q{SELECT bh_audit.untag_table('public.t4')}, 'untag against untag'),
	'42704 table "public.t4" is not tagged',
	'an untag_table() that waited for another one is told the table is not tagged');
is(state(), "t4|0|0|2\nt5|0|0|0\nt6|0|0|0\nt7|0|0|0",
	'no tag, no trigger, one event more');

# An untagging does not wait for a tagging not committed yet: the table is
# not tagged (it looks before it locks); once that commits, it untags.
$b->query_safe('BEGIN');
$b->query_safe($tag4);
is(at_once(q{SELECT bh_audit.untag_table('public.t4')}),
	'42704 table "public.t4" is not tagged',
	'an untag_table() during an uncommitted tag_table() finds the table not tagged, without waiting');
$b->query_safe('COMMIT');
is(at_once(q{SELECT bh_audit.untag_table('public.t4')}), 'ok',
	'once the tagging committed, untag_table() untags the table');
is(state(), "t4|0|0|4\nt5|0|0|0\nt6|0|0|0\nt7|0|0|0",
	'no tag, no trigger, an event for each');

# A tagging waits for a DROP TABLE, and then reports the table gone.
$b->query_safe('BEGIN');
$b->query_safe('DROP TABLE public.t4');
is(race($tag4, 'tag against drop'),
	'42P01 relation "public.t4" does not exist',
	'a tag_table() that waited for a DROP TABLE is told the relation does not exist');

# So does an untagging, of a tagged table (the drop removes its tag).
$node->safe_psql('postgres', q{SELECT bh_audit.tag_table('public.t5', 'Five', 'id', 'patient_id')});
$b->query_safe('BEGIN');
$b->query_safe('DROP TABLE public.t5');
is(race(q{SELECT bh_audit.untag_table('public.t5')}, 'untag against drop'),
	'42P01 relation "public.t5" does not exist',
	'an untag_table() that waited for a DROP TABLE is told the relation does not exist');
is(state(), "t4|0|0|4\nt5|0|0|1\nt6|0|0|0\nt7|0|0|0",
	'nothing left of the dropped tables but the tagging\'s event');

# REPEATABLE READ: the tagging committed during the wait is not in the
# snapshot the catalog change would use.
$node->safe_psql('postgres', q{SELECT bh_audit.tag_table('public.t6', 'Six', 'id', 'patient_id')});
$c->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$b->query_safe('BEGIN');
$b->query_safe(q{SELECT bh_audit.tag_table('public.t7', 'Seven', 'id', 'patient_id')});
is(race(q{SELECT bh_audit.tag_table('public.t7', 'Seven', 'id', 'patient_id')},
		'repeatable read tag against tag'),
	'40001 could not serialize access due to a concurrent change of the tagging of table "public.t7"',
	'a repeatable read tag_table() that waited for a tag_table() fails to serialize');
$c->query_safe('ROLLBACK');
# retried, it is told what is so
$c->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$c->query(q{SELECT bh_audit.untag_table('public.t6')});
is($c->{stderr}, '', 'the retried untag_table() untags the table');
$c->query_safe('COMMIT');
is(state(), "t4|0|0|4\nt5|0|0|1\nt6|0|0|2\nt7|1|2|1",
	'tags, triggers and events as the calls that succeeded left them');
is($node->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.capture_status()'),
	'0', 'capture_status() reports nothing');

# untag_table() of a table tagged for reads only locks it SHARE ROW
# EXCLUSIVE (no trigger to drop).  Untagged and tagged again with capture
# triggers while it waited, the table would need DROP TRIGGER's ACCESS
# EXCLUSIVE, a raised lock that deadlocks with a reader going on to write
# (test/isolation/specs/retag_during_untag.spec): it fails to serialize
# instead, changing nothing, and retried, untags the table.
$node->safe_psql('postgres', q{
CREATE TABLE public.t8 (id int PRIMARY KEY, patient_id int);
SELECT bh_audit.tag_table('public.t8', 'Eight', 'id', 'patient_id', capture_writes => false);
});
$b->query_safe('BEGIN');
$b->query_safe(q{SELECT bh_audit.untag_table('public.t8')});
$b->query_safe(q{SELECT bh_audit.tag_table('public.t8', 'Eight', 'id', 'patient_id')});
is(race(q{SELECT bh_audit.untag_table('public.t8')}, 'untag against untag and re-tag with triggers'),
	'40001 could not serialize access due to a concurrent change of the tagging of table "public.t8"',
	'an untag_table() that waited with the weaker lock for a re-tagging with capture triggers fails to serialize');
is($node->safe_psql('postgres', q{SELECT (SELECT count(*) FROM bh_audit.tags WHERE tbl = 'public.t8'::regclass)
  || '|' || (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'public.t8'::regclass AND tgname LIKE 'bh_audit_capture%')}),
	'1|2', 'the re-tagging stands, with its triggers');
is(at_once(q{SELECT bh_audit.untag_table('public.t8')}), 'ok',
	'retried, untag_table() untags the table');
is($node->safe_psql('postgres', q{SELECT (SELECT count(*) FROM bh_audit.tags WHERE tbl = 'public.t8'::regclass)
  || '|' || (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'public.t8'::regclass AND tgname LIKE 'bh_audit_capture%')}),
	'0|0', 'no tag, no trigger left');

# untag_table() of a table that is not tagged (here an untagged partition
# of a tagged table, which has the cloned capture trigger) fails at once,
# without queueing for the table's lock behind another transaction.
$node->safe_psql('postgres', q{
CREATE TABLE public.pt (id int, patient_id int, region int) PARTITION BY LIST (region);
CREATE TABLE public.pt1 PARTITION OF public.pt FOR VALUES IN (1);
SELECT bh_audit.tag_table('public.pt', 'Part', 'id', 'patient_id');
});
$b->query_safe('BEGIN');
$b->query_safe('LOCK TABLE public.pt1 IN ACCESS SHARE MODE');
$c->query_safe("SET lock_timeout = '5s'");
is(at_once(q{SELECT bh_audit.untag_table('public.pt1')}), '42704 table "public.pt1" is not tagged',
	'untag_table() of an untagged partition fails without waiting for its lock');
$b->query_safe('ROLLBACK');

# untag_table() of a materialized view (tagged with the defaults: it gets no
# capture trigger) does not wait for its readers.
$node->safe_psql('postgres', q{
CREATE MATERIALIZED VIEW public.mv AS SELECT id, patient_id FROM public.pt;
SELECT bh_audit.tag_table('public.mv', 'MV', 'id', 'patient_id');
});
$b->query_safe('BEGIN');
$b->query_safe('SELECT count(*) FROM public.mv');
is(at_once(q{SELECT bh_audit.untag_table('public.mv')}), 'ok',
	'untag_table() of a materialized view does not wait for a reader');
$b->query_safe('COMMIT');

$b->quit;
$c->quit;
done_testing();
