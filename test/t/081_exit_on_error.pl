# A failed statement under exit_on_error.  exit_on_error is a user's
# setting (SET, PGOPTIONS, ALTER ROLE ... SET): with it on, PostgreSQL
# raises every ERROR as FATAL, and the session ends instead of the
# statement.  What the statement did is recorded all the same, exactly as
# without the setting: its FAILURE, the READ of the row it was evaluating
# when it failed (the error may show that row's value), the READs of the
# rows it produced before, and the READs of the statements before it in
# its transaction; failing in the executor, in parse analysis, in the
# planner, at EXECUTE, at COMMIT, in a function, or refused a function of
# bh_audit's.  Before, nothing of it was recorded (but the reads of the
# rows produced before the error).  Each statement runs first without
# exit_on_error, whose events the test states, then with it set each of
# the three ways; the events are compared, field for field, once the
# session's process has exited (the events of a FATAL error are pushed as
# it exits, after the client got the error).  A session that
# pg_terminate_backend() ends is still no failed statement.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('exit_on_error');
$node->safe_psql('postgres', q{
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id text, body text);
INSERT INTO notes SELECT g, 'pat_' || g % 5, 'b' || g FROM generate_series(1, 20) g;
SELECT bh_audit.tag_table('public.notes', 'Note', 'note_id', 'patient_id');
CREATE ROLE app LOGIN;
GRANT SELECT, INSERT ON notes TO app;
-- a deferred unique constraint, checked at COMMIT
CREATE TABLE visits (visit_id int UNIQUE DEFERRABLE INITIALLY DEFERRED, patient_id text);
SELECT bh_audit.tag_table('public.visits', 'Encounter', 'visit_id', 'patient_id');
GRANT SELECT, INSERT ON visits TO app;
-- a function's statement failing, under an exception block that does not
-- match its error
CREATE FUNCTION body_sum(id int) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  RETURN (SELECT sum(body::int) FROM notes WHERE note_id = id);
EXCEPTION WHEN division_by_zero THEN RETURN -1;
END $$;
SELECT bh_audit.seal();
});

# The events since mark, one line each, sorted (a statement's READ events
# come in no set order): action, outcome, error_type, patient,
# error_message, shown_in_error.
sub events_since
{
	my ($mark) = @_;
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT line FROM (
  SELECT concat_ws('|', action, outcome, coalesce(error_type, '-'), coalesce(patient_id, '-'),
                   coalesce(event -> 'outcome' ->> 'error_message', '-'),
                   coalesce(event -> 'metadata' ->> 'shown_in_error', '-')) COLLATE "C" AS line
    FROM bh_audit.events
   WHERE seq > $mark AND actor_id = 'app') e
 ORDER BY line});
}

# Run a script as app (a session of its own, exit_on_error set or not by
# how), wait for the session's process to be gone, return its events (as
# events_since and whole_events_since).
sub run_as_app
{
	my ($how, $script) = @_;
	my $mark = bh_seal_mark($node, 'postgres');
	my ($out, $err) = ('', '');

	$node->safe_psql('postgres', 'ALTER ROLE app SET exit_on_error = on')
	  if $how eq 'ALTER ROLE';
	{
		local $ENV{PGOPTIONS} = $how eq 'PGOPTIONS' ? '-c exit_on_error=on' : '';
		$node->psql('postgres',
			($how eq 'SET' ? "SET exit_on_error = on;\n" : '') . $script,
			stdout => \$out, stderr => \$err,
			extra_params => [ '-U', 'app', '-v', 'ON_ERROR_STOP=1' ]);
	}
	$node->safe_psql('postgres', 'ALTER ROLE app RESET exit_on_error')
	  if $how eq 'ALTER ROLE';
	if ($how eq 'off')
	{
		like($err, qr/^psql:.*ERROR:/m, "$how: the statement fails with an ERROR");
	}
	else
	{
		like($err, qr/^psql:.*FATAL:/m, "$how: the statement fails with FATAL");
	}
	ok($node->poll_query_until('postgres',
			"SELECT count(*) = 0 FROM pg_stat_activity WHERE usename = 'app'"),
		"$how: the session has exited");
	return (events_since($mark), whole_events_since($mark));
}

# The same events whole, but for what differs from one event to the next
# (event_id, timestamp, integrity), sorted.
sub whole_events_since
{
	my ($mark) = @_;
	return $node->safe_psql('postgres', qq{
SELECT string_agg(e, E'\\n' ORDER BY e) FROM (
  SELECT (event - 'event_id' - 'timestamp' - 'integrity')::text COLLATE "C" AS e
    FROM bh_audit.events
   WHERE seq > $mark AND actor_id = 'app') x});
}

my @cases = (
	[
		'a filter failing on a row',
		"SELECT * FROM notes WHERE patient_id = 'pat_3' AND body::int > 0;",
		"READ|FAILURE|invalid_text_representation|-|invalid input syntax for type integer: \"\"|-\n"
		  . 'READ|SUCCESS|-|pat_3|-|-'
	],
	[
		'a division by zero in the target list',
		'SELECT note_id, 1 / (5 - note_id) FROM notes ORDER BY note_id;',
		"READ|FAILURE|division_by_zero|-|division by zero|-\n"
		  . join("\n", map { "READ|SUCCESS|-|pat_$_|-|-" } 0 .. 4)
	],
	[
		'a failure in parse analysis',
		'SELECT nosuchcol FROM notes;',
		'READ|FAILURE|undefined_column|-|column "" does not exist|-'
	],
	[
		'a failure while planning',
		'SELECT * FROM notes WHERE note_id = 1 / 0;',
		'READ|FAILURE|division_by_zero|-|division by zero|-'
	],
	[
		'an EXECUTE whose parameter does not convert',
		"PREPARE p(int) AS SELECT * FROM notes WHERE note_id = \$1;\nEXECUTE p('x');",
		"READ|FAILURE|invalid_text_representation|-|invalid input syntax for type integer: \"\"|-"
	],
	[
		'an INSERT violating the primary key',
		"INSERT INTO notes VALUES (1, 'pat_1', 'again');",
		"CREATE|FAILURE|unique_violation|-|duplicate key value violates unique constraint \"\"|-"
	],
	[
		"a function's statement failing on a row",
		'SELECT body_sum(3);',
		"READ|FAILURE|invalid_text_representation|-|invalid input syntax for type integer: \"\"|-\n"
		  . 'READ|SUCCESS|-|pat_3|-|-'
	],
	[
		"a function's statement failing in parse analysis",
		"DO \$\$BEGIN PERFORM nosuchcol FROM notes; EXCEPTION WHEN division_by_zero THEN NULL; END\$\$;",
		'READ|FAILURE|undefined_column|-|column "" does not exist|-'
	],
	[
		"a refused call of one of bh_audit's functions",
		'SELECT bh_audit.stats();',
		'READ|DENIED|PermissionDenied|-|permission denied for function stats|-'
	],
	[
		'a deferred unique constraint failing at COMMIT',
		"BEGIN;\nINSERT INTO visits VALUES (1, 'pat_1');\nINSERT INTO visits VALUES (1, 'pat_2');\nCOMMIT;",
		"CREATE|FAILURE|unique_violation|-|duplicate key value violates unique constraint \"\"|-\n"
		  . 'READ|SUCCESS|-|-|-|unique_violation'
	],
	[
		'a failure after a read in a transaction',
		"BEGIN;\nSELECT body FROM notes WHERE note_id = 2;\n"
		  . "SELECT body::int FROM notes WHERE note_id = 8;",
		"READ|FAILURE|invalid_text_representation|-|invalid input syntax for type integer: \"\"|-\n"
		  . "READ|SUCCESS|-|pat_2|-|-\n"
		  . 'READ|SUCCESS|-|pat_3|-|-'
	],
);

foreach my $case (@cases)
{
	my ($name, $script, $expected) = @$case;

	my ($events, $whole) = run_as_app('off', $script);
	is($events, $expected, "$name: the events without exit_on_error");
	foreach my $how ('SET', 'PGOPTIONS', 'ALTER ROLE')
	{
		my ($events_on, $whole_on) = run_as_app($how, $script);
		is($events_on, $expected, "$name: the same events with exit_on_error on ($how)");
		is($whole_on, $whole, "$name: field for field ($how)");
	}
}

# A session that pg_terminate_backend() ends while its statement runs is
# no failed statement, with exit_on_error as without (038): the rows its
# scan produced are read, and nothing else is recorded.
{
	my $mark = bh_seal_mark($node, 'postgres');
	my $reader = $node->background_psql('postgres', on_error_stop => 0,
		extra_params => [ '-U', 'app' ]);
	$reader->query_until(qr/started/, q{
SET exit_on_error = on;
SET application_name = 'victim';
\echo started
SELECT note_id, pg_sleep(0.5) FROM (SELECT note_id FROM notes ORDER BY body, patient_id OFFSET 0) s;
});
	ok($node->poll_query_until('postgres', q{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE application_name = 'victim' AND wait_event = 'PgSleep'}),
		'terminated: the reader runs its statement');
	$node->safe_psql('postgres', q{
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'victim'});
	ok($node->poll_query_until('postgres',
			"SELECT count(*) = 0 FROM pg_stat_activity WHERE usename = 'app'"),
		'terminated: the session has exited');
	eval { $reader->quit; };
	is(events_since($mark), join("\n", map { "READ|SUCCESS|-|pat_$_|-|-" } 0 .. 4),
		'terminated under exit_on_error: the rows its scan produced are read, no FAILURE');
}

# The ledger holds no value of the rows the errors showed.
is($node->safe_psql('postgres', q{
SELECT count(*) FROM bh_audit.events
 WHERE strpos(event::text, '"b3"') > 0 OR strpos(event::text, 'again') > 0}),
	'0', 'no value of a row in any event');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');

$node->stop;
done_testing();
