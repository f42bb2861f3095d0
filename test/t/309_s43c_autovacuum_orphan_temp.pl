# autovacuum drops a crashed session's orphaned temporary tables
# (do_autovacuum(): each with CASCADE, no statement running); a tagged
# table's generated column whose expression reaches such a table's row
# type (refused now, column_guard.c: the dependency is given by hand,
# depend_on_temp_type(), standing for one a check misses) goes with it.  Before, its drop was recorded as the "session end" of the autovacuum
# worker (actor its bootstrap superuser login, "human"); it is the server's
# clean-up of a dead session's temporary objects, as when the next session
# given the schema cleans it out (t/300): actor postgresql-server, service,
# statement "temporary schema cleanup", triggered_by "autovacuum".  So is
# the drop of an orphaned temporary table of the dead session's that it
# had tagged (tagged_table_dropped, t/311).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('main', conf => qq{restart_after_crash = on\nautovacuum_naptime = 1\nautovacuum = on});
bh_temp_dependency_function($node);
$node->safe_psql('postgres', q{
CREATE TABLE notes (id int PRIMARY KEY, patient_id text, body text);
INSERT INTO notes VALUES (1, 'pat_1', 'a'), (2, 'pat_2', 'b');
ANALYZE notes;
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id');
});
my $mark = bh_seal_mark($node, 'postgres');
my $bg = $node->background_psql('postgres', on_error_stop => 1);
$bg->query_safe(q{CREATE TEMP TABLE tt (b text)});
$bg->query_safe(q{CREATE TEMP TABLE scratch_notes (id int PRIMARY KEY, patient_id text)});
$bg->query_safe(q{SELECT bh_audit.tag_table('pg_temp.scratch_notes', 'ScratchNote', 'id', 'patient_id')});
$bg->query_safe(q{ALTER TABLE notes ADD COLUMN masked text GENERATED ALWAYS AS (upper(body)) STORED});
$bg->query_safe(q{SELECT depend_on_temp_type('pg_temp.tt', 'notes', 'masked')});
bh_crash_session($node, $bg, 'postgres');
ok($node->poll_query_until('postgres', q{
SELECT count(*) = 0 FROM pg_attribute
 WHERE attrelid = 'notes'::regclass AND attname = 'masked' AND NOT attisdropped}),
	'autovacuum dropped the orphaned table and the column with it');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws('|', action, event -> 'actor' ->> 'subject_id',
                            event -> 'actor' ->> 'subject_type',
                            event -> 'metadata' ->> 'db_user',
                            event -> 'metadata' ->> 'statement',
                            coalesce(event -> 'metadata' ->> 'temp_schema', '-'),
                            event -> 'metadata' ->> 'triggered_by',
                            event -> 'metadata' ->> 'dropped_columns',
                            event -> 'metadata' ->> 'row_count_estimate'), ';' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note' AND action <> 'READ'}),
	'UPDATE|postgresql-server|service|postgres|temporary schema cleanup|-|autovacuum|masked|2',
	'the column autovacuum dropped with the orphaned table: the server\'s clean-up');
ok($node->poll_query_until('postgres', q{
SELECT count(*) = 0 FROM bh_audit.tagged_tables WHERE resource_type = 'ScratchNote'}),
	'autovacuum dropped the orphaned tagged table');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws('|', action, event -> 'metadata' ->> 'change',
                            event -> 'actor' ->> 'subject_id',
                            event -> 'actor' ->> 'subject_type',
                            event -> 'metadata' ->> 'db_user',
                            event -> 'metadata' ->> 'statement',
                            coalesce(event -> 'metadata' ->> 'temp_schema', '-'),
                            event -> 'metadata' ->> 'triggered_by'), ';' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'AuditConfiguration'
   AND event -> 'metadata' ->> 'change' = 'tagged_table_dropped'}),
	'DELETE|tagged_table_dropped|postgresql-server|service|postgres|temporary schema cleanup|-|autovacuum',
	'the orphaned tagged table autovacuum dropped: the server\'s clean-up');
bh_events_valid_since($node, 'postgres', $mark);
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');
done_testing();
