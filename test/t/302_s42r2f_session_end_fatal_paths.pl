# Columns of tagged tables dropped with the session's temporary objects at
# its end are recorded, one UPDATE event per table naming its columns
# (statement "session end"), however the session ends: a plain disconnect;
# a FATAL inside a CALL after the procedure's COMMIT; a FATAL in a DO block
# run by a DO block (nested guards); a FATAL inside a PL/pgSQL exception
# block (a subtransaction); a FATAL after errors rolled back (a failed
# statement, ROLLBACK TO SAVEPOINT) in the session.  config_guard.c's
# bh_guard_exit_abort() forgets the running statements at the exit's abort,
# and bh_guard_noting() notes the drops for the clean-up transaction.  The
# columns' dependency on the temporary function: given by hand
# (depend_on_temp(), t/299).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('main');
$node->safe_psql('postgres', q{
CREATE ROLE clinic_owner LOGIN;
CREATE SCHEMA clinic AUTHORIZATION clinic_owner;
CREATE TABLE clinic.notes (id int PRIMARY KEY, patient_id text, body text);
CREATE TABLE clinic.labs (id int PRIMARY KEY, patient_id text, body text);
ALTER TABLE clinic.notes OWNER TO clinic_owner;
ALTER TABLE clinic.labs OWNER TO clinic_owner;
INSERT INTO clinic.notes VALUES (1, 'pat_1', 'a'), (2, 'pat_2', 'b');
INSERT INTO clinic.labs VALUES (1, 'pat_1', 'a');
SELECT bh_audit.tag_table('clinic.notes', 'Note', 'id', 'patient_id');
SELECT bh_audit.tag_table('clinic.labs', 'Lab', 'id', 'patient_id');
CREATE PROCEDURE clinic.commit_then_die() LANGUAGE plpgsql AS $$
BEGIN COMMIT; PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(10); END$$;
GRANT EXECUTE ON PROCEDURE clinic.commit_then_die() TO clinic_owner;
});
bh_temp_dependency_function($node);

my $case = sub {
	my ($name, $sql) = @_;
	my $mark = bh_seal_mark($node, 'postgres');
	my ($ret, $out, $err) = $node->psql('postgres', qq{
CREATE FUNCTION pg_temp.mask_tmp(text) RETURNS text IMMUTABLE
  LANGUAGE sql AS \$\$SELECT upper(\$1)\$\$;
ALTER TABLE clinic.notes ADD COLUMN m1 text GENERATED ALWAYS AS (upper(body)) STORED,
                         ADD COLUMN m2 text GENERATED ALWAYS AS (upper(body)) STORED;
ALTER TABLE clinic.labs ADD COLUMN m3 text GENERATED ALWAYS AS (upper(body)) STORED;
SELECT depend_on_temp('pg_temp.mask_tmp(text)', 'clinic.notes', 'm1', 'm2');
SELECT depend_on_temp('pg_temp.mask_tmp(text)', 'clinic.labs', 'm3');
$sql
}, extra_params => [ '-U', 'clinic_owner', '-v', 'ON_ERROR_STOP=1' ]);
	bh_wait_temp_dropped($node, 'clinic_owner', 'mask_tmp',
		"$name: the temporary schema was not emptied: $err");
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	is($node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws('|', resource_type, action, event -> 'metadata' ->> 'statement',
         (SELECT string_agg(c, ',' ORDER BY c)
            FROM unnest(string_to_array(event -> 'metadata' ->> 'dropped_columns', ',')) c)), ';' ORDER BY resource_type)
  FROM bh_audit.events WHERE seq > $mark AND resource_type IN ('Note', 'Lab') AND action <> 'READ'}),
		'Lab|UPDATE|session end|m3;Note|UPDATE|session end|m1,m2', $name);
};

$case->('plain disconnect', '');
$case->('CALL, COMMIT inside, then FATAL', 'CALL clinic.commit_then_die();');
$case->('FATAL in nested DO', q{DO $o$BEGIN EXECUTE $i$DO $x$BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(10); END$x$$i$; END$o$;});
$case->('FATAL inside an exception block (subtransaction)', q{DO $$BEGIN BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(10); EXCEPTION WHEN division_by_zero THEN NULL; END; END$$;});
$case->('FATAL in explicit transaction after an error', q{\set ON_ERROR_STOP 0
BEGIN; SELECT 1/0; ROLLBACK; BEGIN; SAVEPOINT a; SELECT 1/0; ROLLBACK TO a; DO $$BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(10); END$$;});
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS', 'chain');
is($node->safe_psql('postgres', q{SELECT count(*) FROM bh_audit.events e WHERE NOT bh_audit.validate_event(e.event)}), '0', 'events valid');
done_testing();
