# Failures while waiting for a lock on a tagged table.  A statement that
# waits for a lock another session holds (a migration, VACUUM FULL, LOCK
# TABLE) and is cancelled by lock_timeout or a cancel request (the same
# interrupt as statement_timeout's: t/173, t/179, t/183 end waits by it)
# fails before the executor, holding no lock on the table: in parse
# analysis, in the rewriter (a view), in a function preparing its
# statement, or when a prepared statement's plan takes its locks.  It is a
# failed access all the same, recorded as FAILURE on the tagged table the
# statement names or reads through a view, with the statement's action.
# DDL waiting on a tagged table, a wait on an untagged table, and a slow or
# waiting query that merely has a column named like a tagged table record
# nothing.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('lockwait');
$node->safe_psql('postgres', q{
CREATE SCHEMA clin;
CREATE TABLE clin.notes (note_id int PRIMARY KEY, patient_id int, body text);
INSERT INTO clin.notes VALUES (1, 10, 'x'), (2, 20, 'y');
CREATE TABLE clin.visits (visit_id int, patient_id int);
CREATE VIEW clin.notes_v AS SELECT note_id, patient_id FROM clin.notes;
CREATE TABLE clin.plain (id int);
CREATE TABLE clin.summary (id int, notes int);
INSERT INTO clin.summary VALUES (1, 0);
CREATE FUNCTION clin.count_notes() RETURNS bigint LANGUAGE plpgsql
    AS $$ BEGIN RETURN (SELECT count(*) FROM clin.notes); END $$;
CREATE FUNCTION clin.add_note() RETURNS void LANGUAGE plpgsql
    AS $$ BEGIN INSERT INTO clin.notes VALUES (9, 90, 'PHI_lock_fn'); END $$;
SELECT bh_audit.tag_table('clin.notes', 'Note', 'note_id', 'patient_id');
SELECT bh_audit.tag_table('clin.visits', 'Visit', 'visit_id', 'patient_id');
});

my $mark;
sub set_mark
{
	$mark = bh_seal_mark($node, 'postgres');
}

sub events_since
{
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT action, outcome, coalesce(error_type, '-'), coalesce(patient_id, '-'),
       event -> 'outcome' ->> 'error_message'
  FROM bh_audit.events
 WHERE seq > $mark AND resource_type IN ('Note', 'Visit') ORDER BY seq});
}

# Sessions that start before the lock is taken: one prepares a statement,
# one names the table without its schema.
my $prepared = $node->background_psql('postgres', on_error_stop => 0);
$prepared->query_safe(
	'PREPARE by_id(int) AS SELECT body FROM clin.notes WHERE note_id = $1');
$prepared->query_safe('EXECUTE by_id(1)');
my $cached = $node->background_psql('postgres', on_error_stop => 0);
$cached->query_safe('SELECT clin.count_notes()');	# its statement's plan is cached
my $unqualified = $node->background_psql('postgres', on_error_stop => 0);
$unqualified->query_safe('SET search_path = clin, public');
$unqualified->query_safe('SELECT count(*) FROM notes');

set_mark();

# Another session holds the tables, as a migration would.
my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN');
$holder->query_safe('LOCK TABLE clin.notes, clin.plain IN ACCESS EXCLUSIVE MODE');
$holder->query_safe('UPDATE clin.summary SET notes = 1 WHERE id = 1');

my @cases = (
	[ 'a read', q{SET lock_timeout = '100ms'; SELECT body FROM clin.notes WHERE note_id = 1},
		'lock timeout' ],
	# (cancelled once pg_stat_activity shows it waiting: a statement_timeout
	# may fire before the wait on a loaded machine)
	[ 'an update, cancelled by a cancel request',
		q{UPDATE clin.notes SET body = 'PHI_lock_upd' WHERE note_id = 1},
		'user request', 'Lock' ],
	[ 'a read through a view', q{SET lock_timeout = '100ms'; SELECT * FROM clin.notes_v},
		'lock timeout' ],
	[ 'a function reading the table', q{SET lock_timeout = '100ms'; SELECT clin.count_notes()},
		'lock timeout' ],
	[ 'a function writing the table', q{SET lock_timeout = '100ms'; SELECT clin.add_note()},
		'lock timeout' ],
	[ 'an export', q{SET lock_timeout = '100ms'; COPY clin.notes TO STDOUT}, 'lock timeout' ],
	[ 'an insert', q{SET lock_timeout = '100ms'; INSERT INTO clin.notes VALUES (3, 30, 'PHI_lock_ins')},
		'lock timeout' ],
	[ 'a read for update',
		q{SET lock_timeout = '100ms'; SELECT * FROM clin.notes WHERE body = 'PHI_lock_fu' FOR UPDATE},
		'lock timeout' ],
	[ 'DDL on the tagged table', q{SET lock_timeout = '100ms'; ALTER TABLE clin.notes ADD COLUMN extra int},
		'lock timeout' ],
	[ 'a read of an untagged table', q{SET lock_timeout = '100ms'; SELECT * FROM clin.plain},
		'lock timeout' ],
	# a column that has a tagged table's name: no lock wait, or another
	# transaction's row lock, is no wait on the tagged table
	[ 'a slow read of an untagged column "notes"',
		q{SET statement_timeout = '100ms'; SELECT notes, pg_sleep(1) FROM clin.summary},
		'statement timeout' ],
	[ 'an update of an untagged column "notes" waiting for a row',
		q{SET lock_timeout = '100ms'; UPDATE clin.summary SET notes = 2 WHERE id = 1},
		'lock timeout' ]);
foreach my $case (@cases)
{
	my ($name, $sql, $why, $wait) = @$case;
	my $err;
	if ($wait)
	{
		(undef, $err) = bh_cancel_waiting($node, 'postgres', $sql, $wait);
	}
	else
	{
		(undef, undef, $err) = $node->psql('postgres', $sql);
	}
	like($err, qr/canceling statement due to $why/, "$name waits and is cancelled");
}

# A wait that a PL/pgSQL exception block catches is recorded too.
my ($ret, $out, $err) = $node->psql('postgres', q{
SET lock_timeout = '100ms';
DO $$ BEGIN
    PERFORM * FROM clin.notes WHERE note_id = 2;
EXCEPTION WHEN lock_not_available THEN RAISE NOTICE 'caught';
END $$;
});
is($ret, 0, 'a caught lock timeout ends the block normally');
like($err, qr/NOTICE:  caught/, 'the exception block caught it');

# A prepared statement whose plan takes its locks at EXECUTE.
$out = $prepared->query(q{SET lock_timeout = '100ms'; EXECUTE by_id(2)});
like($prepared->{stderr}, qr/canceling statement due to lock timeout/,
	'a prepared statement waits and is cancelled');
$prepared->{stderr} = '';

# A function whose statement's plan is cached takes its locks as the plan
# is reused, outside parse analysis, with no position: its statement is in
# the error's context.
$cached->query(q{SET lock_timeout = '100ms'; SELECT clin.count_notes()});
like($cached->{stderr}, qr/canceling statement due to lock timeout/,
	'a function with a cached plan waits and is cancelled');
$cached->{stderr} = '';

# The tag cache of the unqualified session is invalidated (ANALYZE of a
# tagged table) before its statement, which names the table without its
# schema: no hook reloads the cache before the wait.
$node->safe_psql('postgres', 'ANALYZE clin.visits');
$unqualified->query(q{SET lock_timeout = '100ms'; SELECT * FROM notes});
like($unqualified->{stderr}, qr/canceling statement due to lock timeout/,
	'an unqualified read after an invalidation waits and is cancelled');
$unqualified->{stderr} = '';

# A wait after a failure rolled back to a savepoint (psql's
# ON_ERROR_ROLLBACK, a driver's autosave): PostgreSQL's recovery from the
# first error emptied the error context stack, and an unqualified name
# waits in parse analysis before any hook of the statement.
my $autosave = $node->background_psql('postgres', on_error_stop => 0);
$autosave->query_safe('SET search_path = clin, public');
$autosave->query(q{BEGIN; SAVEPOINT s; SELECT 1/0; ROLLBACK TO s;
SET LOCAL lock_timeout = '100ms'; SELECT * FROM notes WHERE note_id = 2});
like($autosave->{stderr}, qr/canceling statement due to lock timeout/,
	'a read after a failure rolled back to a savepoint waits and is cancelled');
$autosave->{stderr} = '';
$autosave->query_safe('ROLLBACK');
$autosave->quit;

$holder->query_safe('COMMIT');
$holder->quit;

my $lt = 'canceling statement due to lock timeout';
is(events_since(), join("\n",
	"READ|FAILURE|lock_not_available|-|$lt",
	"UPDATE|FAILURE|query_canceled|-|canceling statement due to user request",
	"READ|FAILURE|lock_not_available|-|$lt",
	"READ|FAILURE|lock_not_available|-|$lt",
	"CREATE|FAILURE|lock_not_available|-|$lt",
	"EXPORT|FAILURE|lock_not_available|-|$lt",
	"CREATE|FAILURE|lock_not_available|-|$lt",
	"READ|FAILURE|lock_not_available|-|$lt",
	"READ|FAILURE|lock_not_available|-|$lt",
	"READ|FAILURE|lock_not_available|-|$lt",
	"READ|FAILURE|lock_not_available|-|$lt",
	"READ|FAILURE|lock_not_available|-|$lt",
	"READ|FAILURE|lock_not_available|-|$lt"),
	'one FAILURE per cancelled wait on the tagged table, with the statement\'s action; '
	  . 'none for DDL, the untagged table or a column of the same name');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events
 WHERE seq > $mark AND outcome = 'FAILURE' AND resource_type NOT IN ('Note', 'Visit')}),
	'0', 'no FAILURE on anything else');
is($node->safe_psql('postgres', qq{
SELECT DISTINCT metadata_table FROM (
  SELECT event -> 'metadata' ->> 'table' AS metadata_table FROM bh_audit.events
   WHERE seq > $mark AND outcome = 'FAILURE') t}),
	'clin.notes', 'each names the table waited for');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM bh_audit.events WHERE strpos(event::text, 'PHI_lock') > 0"),
	'0', 'no value of a waiting statement in any event');

# Released, the same statements succeed and read as usual.
$prepared->query_safe('RESET lock_timeout');
$prepared->query_safe('EXECUTE by_id(2)');
$prepared->quit;
$cached->quit;
$unqualified->query_safe('RESET lock_timeout');
$unqualified->query_safe('SELECT * FROM notes WHERE note_id = 1');
$unqualified->quit;
set_mark();
$node->safe_psql('postgres', 'SELECT body FROM clin.notes WHERE note_id = 1');
is(events_since(), 'READ|SUCCESS|-|10|', 'after the wait, a read is a read');

# A cancel that ends no lock wait, after a failed one: PostgreSQL leaves
# the failed wait's outcome in the backend's PGPROC until its next wait.
# A statement naming the tagged table only by a column's name, cancelled
# by statement_timeout as it is planned (an IMMUTABLE function folded,
# sleeping; no portal runs yet), after a lock_timeout on the untagged table
# in an earlier statement of the session, or in the same statement (in
# that function, caught): no FAILURE.  The same session's cancel of a wait
# of its own on the tagged table: its FAILURE.
$node->safe_psql('postgres', q{
CREATE FUNCTION clin.slow_one() RETURNS int LANGUAGE plpgsql IMMUTABLE
    AS $$ BEGIN PERFORM pg_sleep(2); RETURN 1; END $$;
CREATE FUNCTION clin.caught_then_slow() RETURNS int LANGUAGE plpgsql IMMUTABLE
    AS $$ BEGIN
    BEGIN PERFORM * FROM clin.plain;
    EXCEPTION WHEN lock_not_available THEN NULL;
    END;
    PERFORM pg_sleep(2); RETURN 1; END $$;
});
set_mark();
$holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN');
$holder->query_safe('LOCK TABLE clin.notes, clin.plain IN ACCESS EXCLUSIVE MODE');
my $stale = $node->background_psql('postgres', on_error_stop => 0);
$stale->query_safe('SET search_path = clin, public');
$stale->query(q{SET lock_timeout = '100ms'; SELECT * FROM plain});
like($stale->{stderr}, qr/canceling statement due to lock timeout/,
	'stale: a read of the untagged table waits and is cancelled');
$stale->{stderr} = '';
$stale->query(q{SET statement_timeout = '300ms'; SELECT notes FROM summary WHERE id = slow_one()});
like($stale->{stderr}, qr/canceling statement due to statement timeout/,
	'stale: a later statement is cancelled as it is planned');
$stale->{stderr} = '';
$stale->query(q{SELECT notes FROM summary WHERE id = caught_then_slow()});
like($stale->{stderr}, qr/canceling statement due to statement timeout/,
	'stale: a statement catching a wait\'s lock_timeout is cancelled later as it is planned');
$stale->{stderr} = '';
# (cancelled once pg_stat_activity shows it waiting: its statement_timeout
# may fire before the wait on a loaded machine)
my $stale_pid = $stale->query_safe('SET statement_timeout = 0; SET lock_timeout = 0; SELECT pg_backend_pid()');
$stale->query_until(qr/started/, "\\echo started\nSELECT * FROM notes WHERE note_id = 1;\n");
ok($node->poll_query_until('postgres', qq{
SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $stale_pid}),
	'stale: a read of the tagged table waits');
$node->safe_psql('postgres', "SELECT pg_cancel_backend($stale_pid)");
$stale->query("SELECT 'next'");
like($stale->{stderr}, qr/canceling statement due to user request/,
	'stale: a read of the tagged table waits and is cancelled');
$stale->{stderr} = '';
$stale->quit;
$holder->query_safe('COMMIT');
$holder->quit;
is(events_since(), 'READ|FAILURE|query_canceled|-|canceling statement due to user request',
	'a cancel is taken for the end of a wait of its own statement only, '
	  . 'not of one an earlier error ended');

is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');
done_testing();
