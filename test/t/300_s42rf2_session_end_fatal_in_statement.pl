# A column of a tagged table that PostgreSQL drops with the session's
# temporary objects when the session ends is recorded as a DROP COLUMN is
# (t/299): one UPDATE event, statement "session end".  Not when the session
# ends by FATAL (pg_terminate_backend(), here the session's own) while a
# utility statement runs (a DO block, CALL, an ALTER TABLE waiting for a
# lock): proc_exit() does not unwind the statement, so the guard's
# bh_guard_running (config_guard.c) still names that statement's state when
# RemoveTempRelationsCallback drops the temporary schema's objects, and
# bh_note_dropped_column() notes the drop for a statement that never
# records it (in a memory context the exit's abort has deleted): the
# column and its values go with no event.  And after a crash, the next
# session given the dead session's temporary schema is recorded writing
# (the drop of the column) in its first CREATE TEMP TABLE (second part).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('main', conf => q{restart_after_crash = on});
$node->safe_psql('postgres', q{
CREATE ROLE clinic_owner LOGIN;
CREATE SCHEMA clinic AUTHORIZATION clinic_owner;
CREATE TABLE clinic.notes (id int PRIMARY KEY, patient_id text, body text);
ALTER TABLE clinic.notes OWNER TO clinic_owner;
INSERT INTO clinic.notes VALUES (1, 'pat_1', 'a'), (2, 'pat_2', 'b');
ANALYZE clinic.notes;
SELECT bh_audit.tag_table('clinic.notes', 'Note', 'id', 'patient_id');
});

my $mark = bh_seal_mark($node, 'postgres');
my ($ret, $out, $err) = $node->psql('postgres', q{
CREATE FUNCTION pg_temp.mask_tmp(text) RETURNS text IMMUTABLE
  LANGUAGE sql AS $$SELECT upper($1)$$;
ALTER TABLE clinic.notes ADD COLUMN masked text GENERATED ALWAYS AS (pg_temp.mask_tmp(body)) STORED;
DO $$BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(10); END$$;
}, extra_params => [ '-U', 'clinic_owner', '-v', 'ON_ERROR_STOP=1' ]);
like($err, qr/terminating connection due to administrator command/,
	'the session ends by FATAL inside the DO block');
$node->poll_query_until('postgres', q{
SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE usename = 'clinic_owner')
   AND NOT EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'mask_tmp')})
  or diag('the temporary schema was not emptied');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM pg_attribute
 WHERE attrelid = 'clinic.notes'::regclass AND attname = 'masked' AND NOT attisdropped}),
	'0', 'PostgreSQL dropped the column at the session\'s end');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws('|', action, resource_id, event -> 'metadata' ->> 'statement',
                            event -> 'metadata' ->> 'dropped_columns',
                            event -> 'metadata' ->> 'row_count_estimate'), ';')
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note' AND action <> 'READ'}),
	'UPDATE|session end|masked|2',
	'the column\'s drop at the FATAL session end: one UPDATE event naming it');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');
($ret, $out, $err) = $node->psql('postgres', q{CREATE TEMP TABLE scratch (x int)},
	extra_params => [ '-U', 'clinic_owner' ]);
is($ret, 0, 'a later session creates a temporary table') or diag($err);


# The session's backend killed (a crash): its temporary schema keeps the
# function and the column until the next backend given that schema cleans
# it out (InitTempTableNamespace() -> RemoveTempRelations()), inside that
# session's first CREATE TEMP TABLE: bh_note_dropped_column() notes the drop
# for that statement, and the removal of the column's values is recorded as
# a write of an unrelated session (its db_user, its actor, statement
# "CREATE TABLE").  Right: not that session's write (the dead session's
# "session end").
$node->safe_psql('postgres', q{CREATE ROLE bystander LOGIN});
$mark = bh_seal_mark($node, 'postgres');
my $bg = $node->background_psql('postgres', on_error_stop => 1,
	extra_params => [ '-U', 'clinic_owner' ]);
$bg->query_safe(q{
CREATE FUNCTION pg_temp.mask_tmp(text) RETURNS text IMMUTABLE
  LANGUAGE sql AS $$SELECT upper($1)$$});
$bg->query_safe(q{ALTER TABLE clinic.notes ADD COLUMN masked2 text GENERATED ALWAYS AS (pg_temp.mask_tmp(body)) STORED});
my $pid = $bg->query_safe('SELECT pg_backend_pid()');
chomp $pid;
ok(bh_crash_restart($node, $pid, 'postgres'), 'the server restarts after the crash');
eval { $bg->quit };
my $left = $node->safe_psql('postgres', q{
SELECT count(*) FROM pg_attribute
 WHERE attrelid = 'clinic.notes'::regclass AND attname = 'masked2' AND NOT attisdropped});
($ret, $out, $err) = $node->psql('postgres', q{
SET bh_audit.actor_id = 'bystander_actor';
CREATE TEMP TABLE scratch (x int);
}, extra_params => [ '-U', 'bystander' ]);
is($ret, 0, 'a later session creates a temporary table') or diag($err);
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
my $events = $node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws('|', action, event -> 'metadata' ->> 'db_user',
                            event -> 'actor' ->> 'subject_id',
                            event -> 'metadata' ->> 'statement',
                            event -> 'metadata' ->> 'dropped_columns'), ';')
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note' AND action <> 'READ'});
SKIP:
{
	skip 'the crash took the column with it', 1 if $left ne '1';
  TODO:
	{
		local $TODO = 'left open (docs/tagging.md): recorded as the write of the session given the dead session\'s temporary schema';
		unlike($events, qr/bystander/,
			'the dead session\'s column cleaned out by a later session: not recorded as that session\'s write')
		  or diag($events);
	}
}

done_testing();
