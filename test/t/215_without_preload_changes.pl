# What is changed while bh_audit is not preloaded must not stay unseen
# once it is preloaded again.  Without the preload the library's hooks
# are absent, so what only they refuse (for superusers too: replacing the
# extension's functions, putting one of its tables in an inheritance tree
# or making it unlogged; a tagged table's patient column dropped) or
# record (a tagged table dropped, its id column renamed, a partition
# detached from it, capture switched off for a role) is neither refused
# nor recorded then (docs/operations.md, "Without the preload").  After
# the restart with the preload, each such change must either not have
# happened or be reported by capture_status() (or be recorded): a capture
# trigger function that is not the library's any more records nothing, a
# parent of bh_audit.events deletes ledger rows past the append-only
# guard, an unlogged queue loses its committed events at a crash, a tag
# left behind by a dropped table names an OID that another table may take
# (also in a restore of the database), a tag naming a column that is gone
# captures no reads of its table, a detached partition is not captured
# any more, and the role's sessions capture nothing.  A write that no
# trigger refuses (the REFRESH of a tagged materialized view) is neither
# refused nor recorded meanwhile, as documented (nothing of it is left to
# detect afterwards).  Last, a single-user backend (preloaded, but with no
# sealer beside it) must not lose the events it captured silently.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('without_preload_changes');
$node->safe_psql('postgres', q{
CREATE ROLE nurse LOGIN;
CREATE TABLE patients (id text PRIMARY KEY, name text);
INSERT INTO patients VALUES ('p1', 'Ann'), ('p2', 'Bob');
SELECT bh_audit.tag_table('patients', 'Patient', 'id', 'id');
CREATE TABLE doomed (id text PRIMARY KEY, name text);
INSERT INTO doomed VALUES ('d1', 'Cy');
SELECT bh_audit.tag_table('doomed', 'Patient', 'id', 'id');
CREATE TABLE visits (id text PRIMARY KEY, pid text, note text);
INSERT INTO visits VALUES ('v1', 'pa', 'n1');
SELECT bh_audit.tag_table('visits', 'Encounter', 'id', 'pid');
CREATE TABLE notes (id text PRIMARY KEY, pid text);
INSERT INTO notes VALUES ('n1', 'pa');
SELECT bh_audit.tag_table('notes', 'Encounter', 'id', 'pid');
CREATE TABLE visits_all (id text, pid text) PARTITION BY LIST (id);
CREATE TABLE visits_a PARTITION OF visits_all FOR VALUES IN ('a');
INSERT INTO visits_all VALUES ('a', 'pa');
SELECT bh_audit.tag_table('visits_all', 'Encounter', 'id', 'pid');
GRANT SELECT ON patients TO nurse;
CREATE MATERIALIZED VIEW patient_list AS SELECT id, name FROM patients;
SELECT bh_audit.tag_table('patient_list', 'Patient', 'id', 'id');
SELECT bh_audit.emit('READ', 'PatientRecord', 'before', 'pat_0');
SELECT bh_audit.seal();
});
my $doomed = $node->safe_psql('postgres', q{SELECT 'doomed'::regclass::oid});
my $events_before = $node->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.events');

# The preload removed (recorded; another library preloaded instead), the
# server restarted.
$node->safe_psql('postgres', q{ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'});
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
$events_before++;
$node->restart;
is($node->safe_psql('postgres', 'SELECT bh_audit._preloaded()'), 'f',
	'the server runs without bh_audit preloaded');

# Changes made meanwhile (by a superuser here; the table owner's would do
# for 3, 4 and 4b): psql, not safe_psql (refusing them is one correct outcome).
my ($ret, $out, $err);
# 1. a capture trigger function replaced by a no-op
($ret, $out, $err) = $node->psql('postgres', q{
CREATE OR REPLACE FUNCTION bh_audit._capture_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$});
note("replacing _capture_truncate(): $ret $err");
# 2. the ledger made the child of a table of the superuser's
($ret, $out, $err) = $node->psql('postgres', q{
CREATE TABLE ledger_parent (LIKE bh_audit.events);
ALTER TABLE bh_audit.events INHERIT ledger_parent});
note("bh_audit.events INHERIT: $ret $err");
# 2b. the queue made unlogged (refused for superusers too with the preload:
# a crash would empty it of committed events not sealed yet)
($ret, $out, $err) = $node->psql('postgres', 'ALTER TABLE bh_audit.queue SET UNLOGGED');
note("bh_audit.queue SET UNLOGGED: $ret $err");
# 3. a tagged table dropped
($ret, $out, $err) = $node->psql('postgres', 'DROP TABLE doomed');
note("DROP TABLE doomed: $ret $err");
# 4. the patient column of a tagged table dropped, the id column of
# another renamed (with the preload: refused, 2BP01; recorded, the tag
# following the new name)
($ret, $out, $err) = $node->psql('postgres', 'ALTER TABLE visits DROP COLUMN pid');
note("DROP COLUMN pid: $ret $err");
($ret, $out, $err) = $node->psql('postgres', 'ALTER TABLE notes RENAME COLUMN id TO note_id');
note("RENAME COLUMN id: $ret $err");
# 4b. a partition of a tagged table detached (with the preload: recorded,
# partition_detached; its rows are not captured any more)
($ret, $out, $err) = $node->psql('postgres', 'ALTER TABLE visits_all DETACH PARTITION visits_a');
note("DETACH PARTITION visits_a: $ret $err");
# 5. A tagged materialized view refreshed: a write (with the preload, an
# UPDATE event of the view, docs/tagging.md).  Without it no trigger fails
# closed (a materialized view has none) and no hook sees the statement,
# and nothing afterwards tells that it ran: neither refused nor recorded,
# as docs/operations.md ("Without the preload") says.  Checked below: no
# event of the view.
($ret, $out, $err) = $node->psql('postgres', 'REFRESH MATERIALIZED VIEW patient_list');
is($ret, 0, 'REFRESH of a tagged materialized view without the preload is not refused (documented)');

# 6. capture switched off for a role's sessions (with the preload: recorded
# before it runs, docs/tagging.md)
($ret, $out, $err) = $node->psql('postgres', 'ALTER ROLE nurse SET bh_audit.enabled = off');
note("ALTER ROLE nurse SET bh_audit.enabled = off: $ret $err");

# The preload back.
$node->safe_psql('postgres', 'ALTER SYSTEM RESET shared_preload_libraries');
$node->restart;
is($node->safe_psql('postgres', 'SELECT bh_audit._preloaded()'), 't',
	'bh_audit is preloaded again');
my $status = $node->safe_psql('postgres',
	q{SELECT string_agg(coalesce(tbl::text, '-') || ': ' || problem, E'\n' ORDER BY tbl::text, problem)
	    FROM bh_audit.capture_status()});
note("capture_status():\n$status");

# 1. The capture trigger function is the library's, or capture_status()
# says that the table's TRUNCATE trigger is not bh_audit's.
my $replaced = $node->safe_psql('postgres', q{
SELECT l.lanname <> 'c' OR p.prosrc <> 'bh_audit_capture_truncate'
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.oid = 'bh_audit._capture_truncate()'::regprocedure});
my $reported = $node->safe_psql('postgres', q{
SELECT count(*) FROM bh_audit.capture_status()
 WHERE tbl = 'patients'::regclass AND problem LIKE 'truncate trigger%'});
ok($replaced eq 'f' || $reported > 0,
	'a capture trigger function replaced without the preload is reported by capture_status()')
  or diag("replaced: $replaced, capture_status():\n$status");

# 2. The ledger is in no inheritance tree, or capture_status() says so.
my $inherits = $node->safe_psql('postgres', q{
SELECT count(*) FROM pg_inherits WHERE inhrelid = 'bh_audit.events'::regclass});
$reported = $node->safe_psql('postgres', q{
SELECT count(*) FROM bh_audit.capture_status()
 WHERE tbl = 'bh_audit.events'::regclass AND problem LIKE '%inherit%'});
ok($inherits == 0 || $reported > 0,
	'bh_audit.events made a child without the preload is reported by capture_status()')
  or diag("inherits: $inherits, capture_status():\n$status");

# 2b. The queue is logged, or capture_status() says it is not.
my $unlogged = $node->safe_psql('postgres', q{
SELECT relpersistence = 'u' FROM pg_class WHERE oid = 'bh_audit.queue'::regclass});
$reported = $node->safe_psql('postgres', q{
SELECT count(*) FROM bh_audit.capture_status() WHERE tbl = 'bh_audit.queue'::regclass});
ok($unlogged eq 'f' || $reported > 0,
	'bh_audit.queue made unlogged without the preload is reported by capture_status()')
  or diag("unlogged: $unlogged, capture_status():\n$status");

# 3. No tag names a table that is gone, or capture_status() names it.
my $dangling = $node->safe_psql('postgres', q{
SELECT count(*) FROM bh_audit.tags t WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.tbl)});
$reported = $node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.capture_status() WHERE tbl = $doomed});
ok($dangling == 0 || $reported > 0,
	'the tag of a table dropped without the preload is removed or reported by capture_status()')
  or diag("tags of dropped tables: $dangling, capture_status():\n$status");

# 3b. That tag is removed by untag_table() of its OID, which records it;
# capture_status() no longer names it, and tagged_tables never showed it.
is($node->safe_psql('postgres', qq{SELECT count(*) FROM bh_audit.tagged_tables WHERE tbl = $doomed}), '0',
	'tagged_tables leaves out the tag of a table that is gone');
($ret, $out, $err) = $node->psql('postgres', qq{SELECT bh_audit.untag_table(${doomed}::regclass)});
note("untag_table($doomed): $ret $err");
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT (SELECT count(*) FROM bh_audit.tags WHERE tbl = $doomed)
    || ' ' || (SELECT count(*) FROM bh_audit.capture_status() WHERE tbl = $doomed)
    || ' ' || (SELECT string_agg(action || ' ' || (event -> 'metadata' ->> 'change') || ' '
                                 || (event -> 'metadata' ->> 'id_column'), ',')
                 FROM bh_audit.events WHERE resource_id = '$doomed')}),
	'0 0 DELETE untag_table id',
	'untag_table() of the OID of a table that is gone removes its tag and records it');

# 4. A tag names columns its table has, or capture_status() reports the
# column that is gone: otherwise reads of visits are not captured at all
# any more and the events of notes have no resource.id, with no sign.
foreach my $t ([ 'visits', 'patient' ], [ 'notes', 'id' ])
{
	my ($table, $what) = @$t;
	my $gone = $node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.tags t
 WHERE t.tbl = '$table'::regclass
   AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                    WHERE a.attrelid = t.tbl AND NOT a.attisdropped
                      AND a.attname = t.${what}_column)});
	$reported = $node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.capture_status() WHERE tbl = '$table'::regclass});
	ok($gone == 0 || $reported > 0,
		"the $what column of tagged table $table, gone without the preload, is reported by capture_status()")
	  or diag("capture_status():\n$status");
}

# 4b. The partition is still one of the tagged table's, or its detach is
# in the chain, or capture_status() names it (it keeps the TRUNCATE
# trigger the extension gave it): otherwise its reads and writes are not
# captured any more and nothing says since when.
my $attached = $node->safe_psql('postgres', q{
SELECT count(*) FROM pg_inherits WHERE inhrelid = 'visits_a'::regclass});
my $detach = $node->safe_psql('postgres', q{
SELECT count(*) FROM bh_audit.events WHERE event -> 'metadata' ->> 'change' = 'partition_detached'});
$reported = $node->safe_psql('postgres', q{
SELECT count(*) FROM bh_audit.capture_status() WHERE tbl = 'visits_a'::regclass});
ok($attached > 0 || $detach > 0 || $reported > 0,
	'a partition of a tagged table detached without the preload is recorded or reported by capture_status()')
  or diag("capture_status():\n$status");

# 6. A session of nurse's: its read is captured, or an event (or
# capture_status()) says that capture is off for nurse.
my $mark = bh_seal_mark($node, 'postgres');
$node->safe_psql('postgres', 'SELECT * FROM patients', extra_params => [ '-U', 'nurse' ]);
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
my $read = $node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events WHERE seq > $mark AND actor_id = 'nurse' AND action = 'READ'});
my $switch = $node->safe_psql('postgres', q{
SELECT count(*) FROM bh_audit.events WHERE resource_id = 'bh_audit.enabled'});
$reported = $node->safe_psql('postgres', q{
SELECT count(*) FROM bh_audit.capture_status() WHERE problem LIKE '%bh_audit.enabled%'});
ok($read > 0 || $switch > 0 || $reported > 0,
	'capture switched off for a role without the preload is recorded, reported, or not in force')
  or diag("nurse's reads: $read, bh_audit.enabled events: $switch, capture_status():\n$status");

# 5. The REFRESH made without the preload left no event (documented);
# the one made with it is recorded.
my $refreshes = q{
SELECT count(*) FROM bh_audit.events
 WHERE action = 'UPDATE' AND event -> 'metadata' ->> 'statement' = 'REFRESH MATERIALIZED VIEW'};
is($node->safe_psql('postgres', $refreshes), '0',
	'REFRESH of a tagged materialized view without the preload is not recorded (documented)');
$node->safe_psql('postgres', 'REFRESH MATERIALIZED VIEW patient_list');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', $refreshes), '1',
	'REFRESH of a tagged materialized view with the preload is recorded');

# The ledger holds every event sealed before.
is($node->safe_psql('postgres', "SELECT count(*) >= $events_before FROM bh_audit.events"), 't',
	'the ledger still holds its events');

# 7. A single-user backend (postgres --single, for a VACUUM that the
# server refuses to run otherwise, say) loads the library through
# shared_preload_libraries, but no sealer runs beside it: the reads it
# captures wait in the ring, which dies with it.  They must be chained
# afterwards, or counted as lost (an EventsLost event), not vanish.
$mark = bh_seal_mark($node, 'postgres');
$node->stop;
my ($sout, $serr) = ('', '');
IPC::Run::run([ 'postgres', '--single', '-D', $node->data_dir, 'postgres' ],
	'<', \"SELECT * FROM patients\nSELECT ring_events FROM bh_audit.stats()\n",
	'>', \$sout, '2>', \$serr);
note("single-user backend: $sout $serr");
$node->start;
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
$read = $node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events
 WHERE seq > $mark AND action = 'READ' AND event -> 'metadata' ->> 'table' = 'public.patients'});
my $lost = $node->safe_psql('postgres', qq{
SELECT coalesce(sum((event -> 'metadata' ->> 'events_lost_in_ring')::int), 0) FROM bh_audit.events
 WHERE seq > $mark AND error_type = 'EventsLost'});
ok($read > 0 || $lost > 0,
	'the reads of a single-user backend are chained afterwards or counted as lost')
  or diag("reads: $read, counted lost: $lost");
$node->stop;
done_testing();
