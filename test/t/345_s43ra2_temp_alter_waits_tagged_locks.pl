# An ALTER of a session's own temporary table must not wait for the locks
# other sessions hold on tagged tables, nor deadlock with them.  Since every
# object PostgreSQL's post-alter hook names is checked after the statement
# (config_guard.c bh_note_altered(), bh_check_replaced()), the temporary
# table "reaches a temporary object" (itself) and every tagged table and
# partition was then opened (column_guard.c bh_check_temp_columns(),
# AccessShareLock) to walk it: an ALTER TABLE ... RENAME COLUMN of a
# staging table waited behind a migration's (or VACUUM FULL's, CLUSTER's)
# ACCESS EXCLUSIVE lock on any tagged table, and two sessions each holding
# one tagged table's lock deadlocked on their temporary tables' ALTERs.
# The same for CREATE TEMP TABLE with a serial column.  Objects of a
# temporary schema are not walked from (no tagged table can depend on one).
# 1b: an ALTER of an untagged permanent table with a column of a temporary
# row type reaches a temporary object too; only the tagged tables that may
# reach the altered table by pg_depend (column_guard.c
# bh_objects_reaching(), read from the catalogs, locking none) are opened,
# none here.  Before this check: the ALTERs took no lock on a tagged table.
# 1d: a tagged table that does reach the altered object (a generated column
# calling the function replaced) is still opened, under its lock, and
# refused.
# 3: a tagged table dropped by another session while the check waits to
# open it is skipped, not an error ("cache lookup failed for relation").
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('temp_alter_waits_tagged_locks');
$node->safe_psql('postgres', q{
CREATE SCHEMA app;
CREATE TABLE app.visits (id int PRIMARY KEY, patient_id text, note text);
CREATE TABLE app.labs (id int PRIMARY KEY, patient_id text, note text);
SELECT bh_audit.tag_table('app.visits', 'Visit', 'id', 'patient_id');
SELECT bh_audit.tag_table('app.labs', 'Lab', 'id', 'patient_id');
});

# 1. A migration holds ACCESS EXCLUSIVE on app.visits; another session
# renames a column of its own temporary table.
my $migration = $node->background_psql('postgres');
$migration->query_safe('BEGIN');
$migration->query_safe('LOCK TABLE app.visits IN ACCESS EXCLUSIVE MODE');

my ($ret, $stdout, $stderr) = $node->psql('postgres', q{
CREATE TEMP TABLE stage (a int, b text);
SET lock_timeout = '3s';
ALTER TABLE stage RENAME COLUMN b TO c;
ALTER TABLE stage SET (autovacuum_enabled = false);
SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
  WHERE attrelid = 'stage'::regclass AND attnum > 0;
});
is($stderr, '', 'no error from the ALTERs of the temporary table (another session locks a tagged table)');
is($stdout, 'a,c', 'the temporary table renamed while app.visits is locked by a migration');

# 1b. The same for an untagged permanent table that PostgreSQL lets have a
# column of a temporary row type (no tagged table reaches it): its ALTER
# "reaches a temporary object" too.
($ret, $stdout, $stderr) = $node->psql('postgres', q{
CREATE TEMP TABLE trow (z int);
CREATE TABLE public.scratch (a int, b text, r trow);
SET lock_timeout = '3s';
ALTER TABLE public.scratch RENAME COLUMN b TO c;
SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
  WHERE attrelid = 'public.scratch'::regclass AND attnum > 0;
});
is($stderr, '', 'no error from the ALTER of an untagged table reaching no tagged one (another session locks a tagged table)');
is($stdout, 'a,c,r', 'the untagged table renamed while app.visits is locked by a migration');

# 1c. Nor a CREATE TEMP TABLE with a serial column (its ALTER SEQUENCE ...
# OWNED BY alters the new temporary sequence).
($ret, $stdout, $stderr) = $node->psql('postgres', q{
SET lock_timeout = '3s';
CREATE TEMP TABLE stage_serial (id serial, a int);
SELECT count(*) FROM pg_class WHERE relname = 'stage_serial_id_seq';
});
is($stderr, '', 'no error from CREATE TEMP TABLE with a serial column (another session locks a tagged table)');
is($stdout, '1', 'the temporary table with its sequence created while app.visits is locked by a migration');
$migration->query_safe('COMMIT');

# 1d. A tagged table that does reach the object altered (a generated column
# calling the function replaced) is opened, and waits for its lock: the
# check is not skipped for it.  Once the lock is free, refused.
$node->safe_psql('postgres', q{
CREATE FUNCTION public.shout(t text) RETURNS text LANGUAGE sql IMMUTABLE RETURN upper(t);
CREATE TABLE app.shouts (id int PRIMARY KEY, patient_id text, body text,
  loud text GENERATED ALWAYS AS (public.shout(body)) STORED);
SELECT bh_audit.tag_table('app.shouts', 'Shout', 'id', 'patient_id');
});
my $replace_shout = q{
CREATE FUNCTION pg_temp.up(t text) RETURNS text LANGUAGE sql IMMUTABLE RETURN upper(t);
SET lock_timeout = '1s';
CREATE OR REPLACE FUNCTION public.shout(t text) RETURNS text LANGUAGE sql IMMUTABLE
  BEGIN ATOMIC SELECT pg_temp.up(t); END;
};
$migration->query_safe('BEGIN');
$migration->query_safe('LOCK TABLE app.shouts IN ACCESS EXCLUSIVE MODE');
($ret, $stdout, $stderr) = $node->psql('postgres', $replace_shout);
like($stderr, qr/ERROR:  canceling statement due to lock timeout/,
	'replacing a function a tagged generated column calls waits for that table\'s lock');
$migration->query_safe('COMMIT');
($ret, $stdout, $stderr) = $node->psql('postgres', $replace_shout);
like($stderr, qr/ERROR:  generated column "loud" of tagged table "shouts" cannot depend on temporary function pg_temp_\d+\.up\(text\)/,
	'and, once free, refused');

# 2. Two sessions, each holding one tagged table's lock, each ALTER their
# own temporary table: no deadlock.
my $s1 = $node->background_psql('postgres', on_error_stop => 0);
my $s2 = $node->background_psql('postgres', on_error_stop => 0);
$s1->query_safe('CREATE TEMP TABLE st1 (a int, b text)');
$s2->query_safe('CREATE TEMP TABLE st2 (a int, b text)');
$s1->query_safe("SET deadlock_timeout = '100ms'");
$s2->query_safe("SET deadlock_timeout = '100ms'");
$s1->query_safe('BEGIN');
$s1->query_safe('LOCK TABLE app.visits IN ACCESS EXCLUSIVE MODE');
$s2->query_safe('BEGIN');
$s2->query_safe('LOCK TABLE app.labs IN ACCESS EXCLUSIVE MODE');
# s1's ALTER (waits on app.labs if it walks it), sent without waiting
$s1->query_until(qr/sent/, "\\echo sent\nALTER TABLE st1 RENAME COLUMN b TO c;\n");
sleep 1;
my $r2 = $s2->query("ALTER TABLE st2 RENAME COLUMN b TO c; SELECT 'ok'");
my $e2 = $s2->{stderr};
my $r1 = $s1->query("SELECT 'ok'");
my $e1 = $s1->{stderr};
unlike("$e1 $e2", qr/deadlock/, 'no deadlock between two sessions altering their own temporary tables');
$s1->query('COMMIT');
$s2->query('COMMIT');
$s1->quit;
$s2->quit;
$migration->quit;

# 3. A tagged table dropped by another session while the check waits for
# its lock (a generated column of it calls the function replaced, which
# then calls one of pg_temp) is skipped, not an error ("cache lookup
# failed for relation"); the statement goes through (nothing left to
# refuse).
$node->safe_psql('postgres', q{
CREATE FUNCTION public.calls_temp(t text) RETURNS text LANGUAGE sql IMMUTABLE RETURN t;
CREATE TABLE app.gone (id int PRIMARY KEY, patient_id text, body text,
  g text GENERATED ALWAYS AS (public.calls_temp(body)) STORED);
SELECT bh_audit.tag_table('app.gone', 'Gone', 'id', 'patient_id');
});
my $dropper = $node->background_psql('postgres');
my $walker = $node->background_psql('postgres', on_error_stop => 0);
$walker->query_safe('CREATE FUNCTION pg_temp.one(t text) RETURNS text LANGUAGE sql IMMUTABLE RETURN t');
my $walker_pid = $walker->query_safe('SELECT pg_backend_pid()');
$dropper->query_safe('BEGIN');
$dropper->query_safe('LOCK TABLE app.gone IN ACCESS EXCLUSIVE MODE');
$walker->query_until(qr/sent/, "\\echo sent\nCREATE OR REPLACE FUNCTION public.calls_temp(t text) RETURNS text LANGUAGE sql IMMUTABLE BEGIN ATOMIC SELECT pg_temp.one(t); END;\n");
ok($node->poll_query_until('postgres', qq{
SELECT EXISTS (SELECT FROM pg_locks WHERE pid = $walker_pid AND NOT granted
  AND relation = 'app.gone'::regclass)}), 'the check waits for the lock of the tagged table it reaches');
$dropper->query_safe('DROP TABLE app.gone');
$dropper->query_safe('COMMIT');
my $after = $walker->query("SELECT 'after'");
is($walker->{stderr}, '', 'no error from replacing the function as another session drops the tagged table');
is($after, 'after', 'the walker goes on');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM pg_depend WHERE classid = 'pg_proc'::regclass
  AND objid = 'public.calls_temp(text)'::regprocedure AND refclassid = 'pg_proc'::regclass
  AND refobjid IN (SELECT oid FROM pg_proc WHERE pronamespace::regnamespace::text LIKE 'pg_temp%')}),
	'1', 'the function replaced, calling the temporary one');
$walker->quit;
$dropper->quit;

done_testing();
