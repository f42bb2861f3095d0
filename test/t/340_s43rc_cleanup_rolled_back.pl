# The clean-up of a crashed session's temporary schema, done inside the
# next session's first CREATE TEMP TABLE, is rolled back with it: under a
# savepoint rolled back (ROLLBACK TO), the tagged column it dropped is back
# and nothing was dropped.  config_guard.c's bh_guard_noting() notes the
# drop in the transaction-wide bh_session_end (cleaned_schema), recorded at
# the top transaction's pre-commit, which no subtransaction's abort
# forgets: the commit recorded a drop ("temporary schema cleanup") that
# never happened, and the clean-up that does drop the column later is
# recorded once more.  Before (noted for the running statement), the
# statement's event went with the subtransaction.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('main', conf => q{restart_after_crash = on});
bh_clinic_notes($node);
$node->safe_psql('postgres', q{CREATE ROLE bystander LOGIN});
bh_temp_dependency_function($node);
my $mark = bh_seal_mark($node, 'postgres');
my $bg = $node->background_psql('postgres', on_error_stop => 1,
	extra_params => [ '-U', 'clinic_owner' ]);
$bg->query_safe(q{
CREATE FUNCTION pg_temp.mask_tmp(text) RETURNS text IMMUTABLE
  LANGUAGE sql AS $$SELECT upper($1)$$});
# a generated column calling it is refused (column_guard.c): the
# dependency given by hand (BhAuditTest.pm)
$bg->query_safe(q{ALTER TABLE clinic.notes ADD COLUMN masked text GENERATED ALWAYS AS (upper(body)) STORED});
$bg->query_safe(q{SELECT depend_on_temp('pg_temp.mask_tmp(text)', 'clinic.notes', 'masked')});
my $schema = bh_crash_session($node, $bg, 'postgres');
# A session is given the temporary schema of its backend id, the lowest
# free at its login, which a session of the test's own still exiting, or a
# worker of the server's, may hold: each later session is one given the
# dead session's (bh_session_given), else it would clean out another
# schema, and the checks that nothing was dropped would pass for nothing.
my $by = bh_session_given($node, 'postgres', $schema, [ '-U', 'bystander' ]);
my ($out, $ret) = $by->query(q{
BEGIN;
SAVEPOINT s;
CREATE TEMP TABLE scratch (x int);
ROLLBACK TO s;
COMMIT;
});
is($ret, 0, 'a later session\'s CREATE TEMP TABLE rolled back to a savepoint') or diag($by->{stderr});
$by->quit;
is($node->safe_psql('postgres', q{
SELECT count(*) FROM pg_attribute
 WHERE attrelid = 'clinic.notes'::regclass AND attname = 'masked' AND NOT attisdropped}),
	'1', 'the column is still there');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'Note' AND action = 'UPDATE'}),
	'0', 'no drop recorded: the clean-up was rolled back');

# the same in a PL/pgSQL exception block that catches an error after it
$by = bh_session_given($node, 'postgres', $schema, [ '-U', 'bystander' ]);
($out, $ret) = $by->query(q{
DO $$BEGIN
  CREATE TEMP TABLE scratch (x int);
  RAISE EXCEPTION 'undo';
EXCEPTION WHEN raise_exception THEN NULL;
END$$;
});
is($ret, 0, 'a later session\'s CREATE TEMP TABLE undone by an exception block') or diag($by->{stderr});
$by->quit;
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'Note' AND action = 'UPDATE'}) . '|' .
   $node->safe_psql('postgres', q{
SELECT count(*) FROM pg_attribute
 WHERE attrelid = 'clinic.notes'::regclass AND attname = 'masked' AND NOT attisdropped}),
	'0|1', 'no drop recorded, the column there: the exception block undid the clean-up');

# the clean-up done: recorded once
bh_cleaned_out_by($node, 'postgres', $schema, 'bystander',
	given => 'a later session was given the dead session\'s schema');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws('|', action, event -> 'actor' ->> 'subject_id',
                            event -> 'metadata' ->> 'statement',
                            event -> 'metadata' ->> 'dropped_columns'), ';' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note' AND action = 'UPDATE'}),
	'UPDATE|postgresql-server|temporary schema cleanup|masked',
	'the column\'s drop recorded once, by the clean-up that dropped it');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');
done_testing();
