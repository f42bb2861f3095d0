# Row-level security through a helper function, as Supabase recommends for
# policies (a SECURITY DEFINER function, given the row's patient, that looks
# the caller up in an assignments table): the policy is the table owner's
# (only the owner may CREATE POLICY) and the reader neither chose nor can
# change it.  The function itself belongs to another role than the table's
# owner (the API's schema owner, a separate migration role).
#
# read-capture.md: "rows a row-level security policy hides from the reader
# are never read through its function"; "Not counted: ... in the query of a
# user other than the table's owner, the owner's own functions — a row-level
# security policy's, the application's: the reader did not choose them".
# A clinician shown 5 of 20 patients must be recorded reading those 5; the
# helper being owned by another role than the table made every row the
# policy examined a READ of the clinician (20 patients).  The helper sets
# its search_path (pg_catalog, pg_temp, as PostgreSQL advises for SECURITY
# DEFINER functions): one that resolves names by the reader's search_path,
# or with the session's temporary schema first (SET search_path = ''), can
# be steered by the reader, and every row the policy examined is read.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('rls_helper_function_reads');
$node->safe_psql('postgres', q{
CREATE ROLE clinic_owner NOLOGIN;
CREATE ROLE api_owner NOLOGIN;
CREATE ROLE authenticator LOGIN NOINHERIT;
CREATE ROLE web_user NOLOGIN;
GRANT web_user TO authenticator;
CREATE SCHEMA clinic AUTHORIZATION clinic_owner;
CREATE SCHEMA helpers AUTHORIZATION api_owner;
GRANT USAGE ON SCHEMA clinic, helpers TO web_user, api_owner, clinic_owner;
SET ROLE clinic_owner;
CREATE TABLE clinic.notes (note_id int PRIMARY KEY, patient_id text, body text);
CREATE TABLE clinic.assignments (clinician text, patient_id text);
INSERT INTO clinic.notes SELECT i, 'pat_' || lpad((1 + (i - 1) % 20)::text, 3, '0'), 'body'
  FROM generate_series(1, 60) i;
INSERT INTO clinic.assignments SELECT 'dr_rivera', 'pat_' || lpad(i::text, 3, '0')
  FROM generate_series(1, 5) i;
GRANT SELECT ON clinic.assignments TO api_owner;
GRANT SELECT ON clinic.notes TO web_user;
RESET ROLE;
SET ROLE api_owner;
CREATE FUNCTION helpers.is_assigned(pid text) RETURNS boolean LANGUAGE sql STABLE
  SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM clinic.assignments a
                  WHERE a.clinician = current_setting('request.jwt.claims', true)::json ->> 'sub'
                    AND a.patient_id = pid) $$;
GRANT EXECUTE ON FUNCTION helpers.is_assigned(text) TO web_user;
RESET ROLE;
SET ROLE clinic_owner;
ALTER TABLE clinic.notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY assigned ON clinic.notes USING (helpers.is_assigned(patient_id));
RESET ROLE;
SELECT bh_audit.tag_table('clinic.notes', 'Note', 'note_id', 'patient_id');
});

my $out = $node->safe_psql('postgres', q{
BEGIN;
SELECT set_config('role', 'web_user', true),
       set_config('request.jwt.claims', '{"sub":"dr_rivera","role":"web_user"}', true),
       set_config('bh_audit.actor_id', 'dr_rivera', true) \g /dev/null
SELECT count(DISTINCT patient_id) FROM clinic.notes;
COMMIT;}, extra_params => [ '-U', 'authenticator' ]);
is($out, '5', 'RLS shows dr_rivera 5 patients');

$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', q{
SELECT string_agg(patient_id, ',' ORDER BY patient_id) FROM bh_audit.events
 WHERE action = 'READ' AND resource_type = 'Note' AND actor_id = 'dr_rivera'}),
	'pat_001,pat_002,pat_003,pat_004,pat_005',
	'dr_rivera is recorded reading the 5 patients the policy showed, not every row it examined');

# The patients an actor is recorded reading by one statement run as role.
sub reads
{
	my ($actor, $role, $query) = @_;
	$node->safe_psql('postgres', qq{
BEGIN;
SELECT set_config('role', '$role', true),
       set_config('request.jwt.claims', '{"sub":"dr_rivera","role":"$role"}', true),
       set_config('bh_audit.actor_id', '$actor', true) \\g /dev/null
$query \\g /dev/null
COMMIT;}, extra_params => [ '-U', 'authenticator' ]);
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT coalesce(string_agg(patient_id, ',' ORDER BY patient_id), '') FROM bh_audit.events
 WHERE action = 'READ' AND resource_type = 'Note' AND actor_id = '$actor'});
}

$node->safe_psql('postgres', q{
CREATE SCHEMA mine AUTHORIZATION web_user;
SET ROLE web_user;
CREATE FUNCTION mine.peek(pid text) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN RETURN false; END $$;
RESET ROLE;
GRANT api_owner TO authenticator;
GRANT SELECT ON clinic.notes TO api_owner;
-- partitioned: the policy is the partitioned table's
SET ROLE clinic_owner;
CREATE TABLE clinic.pnotes (note_id int, patient_id text, body text) PARTITION BY HASH (note_id);
CREATE TABLE clinic.pnotes_0 PARTITION OF clinic.pnotes FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE clinic.pnotes_1 PARTITION OF clinic.pnotes FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO clinic.pnotes SELECT * FROM clinic.notes;
ALTER TABLE clinic.pnotes ENABLE ROW LEVEL SECURITY;
CREATE POLICY assigned ON clinic.pnotes USING (helpers.is_assigned(patient_id));
GRANT SELECT ON clinic.pnotes TO web_user;
RESET ROLE;
SELECT bh_audit.tag_table('clinic.pnotes', 'Note', 'note_id', 'patient_id');
-- a view choosing rows with a function of api_owner's that no policy calls
SET ROLE api_owner;
CREATE FUNCTION helpers.is_odd(pid text) RETURNS boolean LANGUAGE plpgsql
  AS $$ BEGIN RETURN right(pid, 1)::int % 2 = 1; END $$;
RESET ROLE;
CREATE VIEW mine.odd_notes WITH (security_invoker = on) AS
  SELECT * FROM clinic.notes WHERE helpers.is_odd(patient_id);
GRANT SELECT ON mine.odd_notes TO web_user;
});

# The reader's own function in their WHERE is shown the rows the policy
# let through (its conditions come first): those patients only.
is(reads('reader_fn', 'web_user', 'SELECT * FROM clinic.notes WHERE mine.peek(body)'),
	'pat_001,pat_002,pat_003,pat_004,pat_005',
	"the reader's own function reads the rows the policy showed, not those it hid");

# The policy's helper called again in the reader's WHERE is given rows the
# policy showed (and gave it already); neither chosen nor changeable by the
# reader, as in the policy: the rows it rejects are not reads.
is(reads('reader_helper', 'web_user',
		'SELECT * FROM clinic.notes WHERE NOT helpers.is_assigned(patient_id)'),
	'', "the policy's helper in the reader's own WHERE: no row read (none produced)");

# An UPDATE's scan of the table it changes: the policy's helper given each
# row shows the reader none (no row updated, none read).
$node->safe_psql('postgres', 'GRANT UPDATE ON clinic.notes TO web_user');
is(reads('updater', 'web_user', q{UPDATE clinic.notes SET body = body WHERE body LIKE 'nothing%'}),
	'', "an UPDATE through the policy's helper reads no row it did not update");

# A reader who may replace the helper (its owner) chose what the policy
# runs on every row: every row it examined is a read.
is(reads('helper_owner', 'api_owner', 'SELECT count(*) FROM clinic.notes'),
	join(',', map { sprintf('pat_%03d', $_) } 1 .. 20),
	"the helper's owner reads every row the policy examined");

# The helper with SET search_path = '' (the session's temporary schema,
# the reader's, first for types) or none (the reader's search_path): the
# reader can steer it, every row the policy examined is read.
$node->safe_psql('postgres', q{ALTER FUNCTION helpers.is_assigned(text) SET search_path = ''});
is(reads('unpinned_empty', 'web_user', 'SELECT count(*) FROM clinic.notes'),
	join(',', map { sprintf('pat_%03d', $_) } 1 .. 20),
	"a helper pinned to '': every row the policy examined is read");
$node->safe_psql('postgres', q{ALTER FUNCTION helpers.is_assigned(text) RESET search_path});
is(reads('unpinned', 'web_user', 'SELECT count(*) FROM clinic.notes'),
	join(',', map { sprintf('pat_%03d', $_) } 1 .. 20),
	"a helper without SET search_path: every row the policy examined is read");
$node->safe_psql('postgres',
	q{ALTER FUNCTION helpers.is_assigned(text) SET search_path = pg_catalog, pg_temp});

# A partitioned table's policy, applied to the rows of its partitions.
is(reads('partitioned', 'web_user', 'SELECT count(*) FROM clinic.pnotes'),
	'pat_001,pat_002,pat_003,pat_004,pat_005',
	"a partitioned table's policy helper: the 5 patients it showed");
# ... and each table's own, in a UNION ALL of both
is(reads('union', 'web_user', q{SELECT count(*) FROM (SELECT patient_id FROM clinic.notes
  UNION ALL SELECT patient_id FROM clinic.pnotes) u}),
	join(',', map { ("pat_00$_") x 2 } 1 .. 5),
	'a UNION ALL of both: the 5 patients their policies showed, in each table');

# A security_invoker view's condition is no policy: a function there of
# another role's than the table owner's makes every row it examined a read
# (after the policy: the 5 patients, of whom it returned 3).
is(reads('view', 'web_user', 'SELECT * FROM mine.odd_notes'),
	'pat_001,pat_002,pat_003,pat_004,pat_005',
	"a view's function of another role's: the rows it examined are read");

$node->stop;
done_testing();
