# A column of a tagged table that PostgreSQL drops with the session's
# temporary objects when the session ends is recorded as a DROP COLUMN is
# (t/299): one UPDATE event, statement "session end", also when the session
# ends by FATAL (pg_terminate_backend(), here the session's own) while a
# utility statement runs (a DO block): proc_exit() does not unwind the
# statement, and the guard forgets it at the exit's abort
# (config_guard.c's bh_guard_exit_abort()); the column's dependency on the
# temporary function is given by hand, depend_on_temp() (t/299).  And after
# a crash, the next session given the dead session's temporary schema
# cleans it out in its first CREATE TEMP TABLE (second part): the drop of
# the column is the server's clean-up of the dead session's objects, not
# that session's write.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('main', conf => q{restart_after_crash = on});
bh_clinic_notes($node);
bh_temp_dependency_function($node);

my $mark = bh_seal_mark($node, 'postgres');
my ($ret, $err) = bh_masked_session($node, q{
DO $$BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(10); END$$;
});
like($err, qr/terminating connection due to administrator command/,
	'the session ends by FATAL inside the DO block');
bh_masked_dropped($node, $mark,
	'the column\'s drop at the FATAL session end: one UPDATE event naming it');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');
my $out;
($ret, $out, $err) = $node->psql('postgres', q{CREATE TEMP TABLE scratch (x int)},
	extra_params => [ '-U', 'clinic_owner' ]);
is($ret, 0, 'a later session creates a temporary table') or diag($err);


# The session's backend killed (a crash): its temporary schema keeps the
# function and the column until the next backend given that schema cleans
# it out (InitTempTableNamespace() -> RemoveTempRelations()), inside that
# session's first CREATE TEMP TABLE.  Before, the drop was noted for that
# statement: recorded as the write of an unrelated session (its db_user,
# its actor, statement "CREATE TABLE").  Now the server's own event, as
# the sealer's (actor postgresql-server, service, no end-user context,
# db_user the bootstrap superuser), statement "temporary schema cleanup",
# naming the schema cleaned and the login whose statement made PostgreSQL
# clean it (triggered_by).
$node->safe_psql('postgres', q{CREATE ROLE bystander LOGIN});
$mark = bh_seal_mark($node, 'postgres');
my $bg = $node->background_psql('postgres', on_error_stop => 1,
	extra_params => [ '-U', 'clinic_owner' ]);
$bg->query_safe(q{
CREATE FUNCTION pg_temp.mask_tmp(text) RETURNS text IMMUTABLE
  LANGUAGE sql AS $$SELECT upper($1)$$});
$bg->query_safe(q{ALTER TABLE clinic.notes ADD COLUMN masked2 text GENERATED ALWAYS AS (upper(body)) STORED});
$bg->query_safe(q{ALTER TABLE clinic.notes ADD COLUMN masked3 text GENERATED ALWAYS AS (upper(body || 'x')) STORED});
$bg->query_safe(q{SELECT depend_on_temp('pg_temp.mask_tmp(text)', 'clinic.notes', 'masked2', 'masked3')});
my $schema = bh_crash_session($node, $bg, 'postgres');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM pg_attribute
 WHERE attrelid = 'clinic.notes'::regclass AND attname IN ('masked2', 'masked3') AND NOT attisdropped}),
	'2', 'the crash left the columns behind');
# A session is given the temporary schema of its backend id, the lowest
# free at its login, which a session of the test's own still exiting, or a
# worker of the server's, may hold: the bystander's session is one given
# the dead session's (bh_session_given).
bh_cleaned_out_by($node, 'postgres', $schema, 'bystander',
	settings => [ q{SET bh_audit.actor_id = 'bystander_actor'},
		q{SET bh_audit.request_id = 'req-bystander'} ]);
is($node->safe_psql('postgres', q{
SELECT count(*) FROM pg_attribute
 WHERE attrelid = 'clinic.notes'::regclass AND attname IN ('masked2', 'masked3') AND NOT attisdropped}),
	'0', 'it cleaned the columns out');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws('|', action, event -> 'actor' ->> 'subject_id',
                            event -> 'actor' ->> 'subject_type',
                            event -> 'metadata' ->> 'db_user',
                            coalesce(event -> 'metadata' ->> 'db_role', '-'),
                            event -> 'metadata' ->> 'statement',
                            event -> 'metadata' ->> 'temp_schema',
                            event -> 'metadata' ->> 'triggered_by',
                            event -> 'metadata' ->> 'dropped_columns',
                            event -> 'metadata' ->> 'row_count_estimate',
                            event ? 'correlation'), ';' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note' AND action <> 'READ'}),
	"UPDATE|postgresql-server|service|postgres|-|temporary schema cleanup|$schema|bystander|masked3,masked2|2|f",
	'the dead session\'s columns cleaned out by a later session: one event of the server\'s clean-up, not that session\'s write');
is($node->safe_psql('postgres', qq{
SELECT count(*) FILTER (WHERE NOT bh_audit.validate_event(event)) || '/' || count(*)
  FROM bh_audit.events WHERE seq > $mark}),
	'0/' . $node->safe_psql('postgres', "SELECT count(*) FROM bh_audit.events WHERE seq > $mark"),
	'the events validate against the schema');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');

done_testing();
