# What is changed while bh_audit is not preloaded must not stay unseen
# once it is preloaded again.  Without the preload the library's hooks
# are absent, so what only they refuse (for superusers too: replacing the
# extension's functions, putting one of its tables in an inheritance tree
# or making it unlogged; a tagged table's patient column dropped) or
# record (a tagged table dropped, its id column renamed, a partition
# detached from it, capture switched off for a role) is neither refused
# nor recorded then (docs/operations.md, "Without the preload").  After
# the restart with the preload, each such change (made: nothing refuses
# it) must be reported by capture_status(), in its exact words: a capture
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
# for 3, 4 and 4b).  Without the library nothing refuses them: each is
# made, and each must then be reported below.
my ($ret, $out, $err);
# 1. a capture trigger function replaced by a no-op
($ret, $out, $err) = $node->psql('postgres', q{
CREATE OR REPLACE FUNCTION bh_audit._capture_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$});
is($ret, 0, 'without the preload, not refused: replacing _capture_truncate()') or diag($err);
# 2. the ledger made the child of a table of the superuser's
($ret, $out, $err) = $node->psql('postgres', q{
CREATE TABLE ledger_parent (LIKE bh_audit.events);
ALTER TABLE bh_audit.events INHERIT ledger_parent});
is($ret, 0, 'without the preload, not refused: bh_audit.events INHERIT') or diag($err);
# 2b. the queue made unlogged (refused for superusers too with the preload:
# a crash would empty it of committed events not sealed yet)
($ret, $out, $err) = $node->psql('postgres', 'ALTER TABLE bh_audit.queue SET UNLOGGED');
is($ret, 0, 'without the preload, not refused: bh_audit.queue SET UNLOGGED') or diag($err);
# 3. a tagged table dropped
($ret, $out, $err) = $node->psql('postgres', 'DROP TABLE doomed');
is($ret, 0, 'without the preload, not refused: DROP TABLE doomed') or diag($err);
# 4. the patient column of a tagged table dropped, the id column of
# another renamed (with the preload: refused, 2BP01; recorded, the tag
# following the new name)
($ret, $out, $err) = $node->psql('postgres', 'ALTER TABLE visits DROP COLUMN pid');
is($ret, 0, 'without the preload, not refused: DROP COLUMN pid') or diag($err);
($ret, $out, $err) = $node->psql('postgres', 'ALTER TABLE notes RENAME COLUMN id TO note_id');
is($ret, 0, 'without the preload, not refused: RENAME COLUMN id') or diag($err);
# 4b. a partition of a tagged table detached (with the preload: recorded,
# partition_detached; its rows are not captured any more)
($ret, $out, $err) = $node->psql('postgres', 'ALTER TABLE visits_all DETACH PARTITION visits_a');
is($ret, 0, 'without the preload, not refused: DETACH PARTITION visits_a') or diag($err);
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
is($ret, 0, 'without the preload, not refused: ALTER ROLE nurse SET bh_audit.enabled = off') or diag($err);

# The preload back.
$node->safe_psql('postgres', 'ALTER SYSTEM RESET shared_preload_libraries');
$node->restart;
is($node->safe_psql('postgres', 'SELECT bh_audit._preloaded()'), 't',
	'bh_audit is preloaded again');
my $status = $node->safe_psql('postgres',
	q{SELECT string_agg(coalesce(tbl::text, '-') || ': ' || problem, E'\n' ORDER BY tbl::text, problem)
	    FROM bh_audit.capture_status()});
note("capture_status():\n$status");

# What capture_status() reports of one table ('-' for none), in order.
sub problems_of
{
	my ($tbl) = @_;
	return $node->safe_psql('postgres', qq{
SELECT string_agg(problem, E'\n' ORDER BY problem) FROM bh_audit.capture_status()
 WHERE tbl IS NOT DISTINCT FROM $tbl});
}
my $replaced_trigger = q{truncate trigger is not bh_audit's: its function bh_audit._capture_truncate() was replaced};

# 1. The capture trigger function is not the library's any more, and
# capture_status() says so, of the function and of the TRUNCATE trigger of
# each tagged table (notes and visits with their column gone, below).
is($node->safe_psql('postgres', q{
SELECT l.lanname || ' ' || p.prosrc
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.oid = 'bh_audit._capture_truncate()'::regprocedure}),
	'plpgsql BEGIN RETURN NULL; END', 'the capture trigger function was replaced');
is(problems_of('NULL'),
	"ALTER ROLE nurse SET bh_audit.enabled = 'off': capture is off in those sessions\n"
	  . 'function bh_audit._capture_truncate() was replaced: it is not bh_audit\'s C function bh_audit_capture_truncate',
	'capture_status() reports the replaced capture trigger function (and, 6, the role\'s setting)');
foreach my $t ('patients', 'visits_all')
{
	is(problems_of("'$t'::regclass"), $replaced_trigger,
		"a capture trigger function replaced without the preload is reported by capture_status() for $t");
}

# 2. The ledger is the child of ledger_parent, and capture_status() says so.
is($node->safe_psql('postgres', q{
SELECT string_agg(inhparent::regclass::text, ',') FROM pg_inherits WHERE inhrelid = 'bh_audit.events'::regclass}),
	'ledger_parent', 'bh_audit.events is a child of ledger_parent');
is(problems_of(q{'bh_audit.events'::regclass}),
	'inherits from public.ledger_parent: statements on that table reach its rows past bh_audit\'s guards',
	'bh_audit.events made a child without the preload is reported by capture_status()');

# 2b. The queue is unlogged, and capture_status() says so.
is($node->safe_psql('postgres', q{
SELECT relpersistence FROM pg_class WHERE oid = 'bh_audit.queue'::regclass}),
	'u', 'bh_audit.queue is unlogged');
is(problems_of(q{'bh_audit.queue'::regclass}),
	'is unlogged: a crash or an immediate shutdown empties it (ALTER TABLE ... SET LOGGED)',
	'bh_audit.queue made unlogged without the preload is reported by capture_status()');

# 3. The tag of the dropped table is left, and capture_status() names it.
is($node->safe_psql('postgres', q{
SELECT string_agg(t.tbl::oid::text, ',') FROM bh_audit.tags t
 WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.tbl)}),
	$doomed, 'the tag of the dropped table is left, the only one of a table that is gone');
is(problems_of($doomed),
	"tagged table no longer exists (its tag names OID $doomed, which another table may take): bh_audit.untag_table($doomed) removes the tag",
	'the tag of a table dropped without the preload is reported by capture_status()');

# 3b. That tag is removed by untag_table() of its OID, which records it;
# capture_status() no longer names it, and tagged_tables never showed it.
is($node->safe_psql('postgres', qq{SELECT count(*) FROM bh_audit.tagged_tables WHERE tbl = $doomed}), '0',
	'tagged_tables leaves out the tag of a table that is gone');
($ret, $out, $err) = $node->psql('postgres', qq{SELECT bh_audit.untag_table(${doomed}::regclass)});
is($ret, 0, "untag_table($doomed) of a table that is gone succeeds") or diag($err);
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT (SELECT count(*) FROM bh_audit.tags WHERE tbl = $doomed)
    || ' ' || (SELECT count(*) FROM bh_audit.capture_status() WHERE tbl = $doomed)
    || ' ' || (SELECT string_agg(action || ' ' || (event -> 'metadata' ->> 'change') || ' '
                                 || (event -> 'metadata' ->> 'id_column'), ',')
                 FROM bh_audit.events WHERE resource_id = '$doomed')}),
	'0 0 DELETE untag_table id',
	'untag_table() of the OID of a table that is gone removes its tag and records it');

# 4. The tags name columns their tables lack, and capture_status() reports
# the column that is gone: otherwise reads of visits are not captured at
# all any more and the events of notes have no resource.id, with no sign.
is(problems_of(q{'visits'::regclass}),
	"the tag's patient column pid is gone (dropped or renamed): its reads are not captured; untag the table and tag it again\n"
	  . $replaced_trigger,
	'the patient column of tagged table visits, gone without the preload, is reported by capture_status()');
is(problems_of(q{'notes'::regclass}),
	"the tag's id column id is gone (dropped or renamed): its events name no record; untag the table and tag it again\n"
	  . $replaced_trigger,
	'the id column of tagged table notes, gone without the preload, is reported by capture_status()');

# 4b. The partition is detached, its detach is in no event (nothing
# recorded it), and capture_status() names it (it keeps the TRUNCATE
# trigger the extension gave it): otherwise its reads and writes are not
# captured any more and nothing says since when.
is($node->safe_psql('postgres', q{
SELECT (SELECT count(*) FROM pg_inherits WHERE inhrelid = 'visits_a'::regclass)
    || ' ' || (SELECT count(*) FROM bh_audit.events
                WHERE event -> 'metadata' ->> 'change' = 'partition_detached')}),
	'0 0', 'visits_a is detached, and no event recorded it');
is(problems_of(q{'visits_a'::regclass}),
	"not tagged nor a partition of a tagged table, but it has bh_audit's truncate trigger (a partition detached?): its changes are not captured",
	'a partition of a tagged table detached without the preload is reported by capture_status()');

# 6. A session of nurse's: capture is off for nurse (its read is not
# captured, no event recorded the setting), and capture_status() says so
# (checked with the function's, 1, above).
my $mark = bh_seal_mark($node, 'postgres');
$node->safe_psql('postgres', 'SELECT * FROM patients', extra_params => [ '-U', 'nurse' ]);
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT (SELECT count(*) FROM bh_audit.events WHERE seq > $mark AND actor_id = 'nurse' AND action = 'READ')
    || ' ' || (SELECT count(*) FROM bh_audit.events WHERE resource_id = 'bh_audit.enabled')}),
	'0 0', 'capture switched off for a role without the preload: in force, recorded by no event');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM bh_audit.capture_status() WHERE problem LIKE '%bh_audit.enabled%'}),
	'1', 'capture switched off for a role without the preload is reported by capture_status()');
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
# captures wait in the ring, which goes with it at exit: they are lost,
# and counted (docs/operations.md): the next server's sealer records them
# in an EventsLost event, none is chained as a READ.
$mark = bh_seal_mark($node, 'postgres');
$node->stop;
my ($sout, $serr) = ('', '');
IPC::Run::run([ 'postgres', '--single', '-D', $node->data_dir, 'postgres' ],
	'<', \"SELECT * FROM patients\nSELECT ring_events FROM bh_audit.stats()\n",
	'>', \$sout, '2>', \$serr);
note("single-user backend: $sout $serr");
# one READ event of each patient read, p1 and p2
like($sout, qr/ring_events = "2"/, 'the single-user backend holds its two reads in its ring');
$node->start;
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT (SELECT count(*) FROM bh_audit.events
         WHERE seq > $mark AND action = 'READ' AND event -> 'metadata' ->> 'table' = 'public.patients')
    || ' ' || (SELECT coalesce(sum((event -> 'metadata' ->> 'events_lost_in_ring')::int), 0) FROM bh_audit.events
                WHERE seq > $mark AND error_type = 'EventsLost')}),
	'0 2', 'the reads of a single-user backend are not chained, and counted as lost (2)');
$node->stop;
done_testing();
