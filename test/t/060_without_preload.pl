# The extension installed, then the server restarted without bh_audit in
# shared_preload_libraries (a DBA's ALTER SYSTEM here): nothing crashes the
# server.  emit(), tagging and writes to tagged tables are refused with
# SQLSTATE 55000 (fail closed: a tagged table's writes would leave no
# event), the ledger's guard still refuses every change, capture_status()
# says that capture is off, and every other function of the extension
# either works (pure ones, and reading the ledger) or fails cleanly.  The
# ALTER SYSTEM that removed the preload is in the chain; once the library
# is preloaded again, capture works as before.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('without_preload');
bh_event_function($node, 'postgres', 'tester');
$node->safe_psql('postgres', q{
CREATE ROLE clerk LOGIN;
CREATE TABLE patients (id text PRIMARY KEY, name text);
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON patients TO clerk;
INSERT INTO patients VALUES ('p1', 'Ann'), ('p2', 'Bob');
SELECT bh_audit.tag_table('patients', 'Patient', 'id', 'id');
SELECT bh_audit.emit('READ', 'PatientRecord', 'before', 'pat_0');
SELECT bh_audit.seal();
-- test hooks of the library that the install script does not declare
CREATE FUNCTION queue_raw(event text) RETURNS boolean
AS '$libdir/bh_audit', 'bh_audit_test_queue_event' LANGUAGE C STRICT;
-- an untagged table of its own, for tag_table()
CREATE TABLE scratch (x int);
});
# The DBA preloads another library instead (recorded: the hook still runs).
$node->safe_psql('postgres', "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
$node->restart;
is($node->safe_psql('postgres', 'SHOW shared_preload_libraries'), 'pg_stat_statements',
	'the server runs without bh_audit preloaded');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM bh_audit.events WHERE resource_id = 'shared_preload_libraries'}),
	'1', 'the ALTER SYSTEM that removed the preload is in the chain');
my $events_before = $node->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.events');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer'"),
	'0', 'no sealer runs');

my $log_offset = -s $node->logfile;
my $postmaster = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');
# A session that a server crash would end.
my $witness = $node->background_psql('postgres');
my $witness_pid = $witness->query_safe('SELECT pg_backend_pid()');

my $table = q{SELECT string_agg(id || ':' || name, ',' ORDER BY id) FROM patients};
my $table_before = $node->safe_psql('postgres', $table);

# Run sql as user; returns (exit code, stdout, stderr), errors verbose.
sub run_as
{
	my ($user, $sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql",
		extra_params => [ '-U', $user ]);
	return ($ret, $out, $err);
}

my $not_loaded = qr/ERROR:  55000: bh_audit is not loaded through shared_preload_libraries/;

# emit() by any role.
my ($ret, $out, $err) = run_as('clerk',
	q{SELECT bh_audit.emit('EXPORT', 'PatientRecord', 'e1', 'pat_1')});
isnt($ret, 0, 'emit() by a non-superuser fails');
like($err, $not_loaded, 'emit(): SQLSTATE 55000, the library is not preloaded');
like($err, qr/HINT:  Add bh_audit to shared_preload_libraries/, 'the hint names the setting');

# Writes to a tagged table are refused and change nothing.
foreach my $write (
	q{INSERT INTO patients VALUES ('p3', 'Cy')},
	q{UPDATE patients SET name = 'Ann B' WHERE id = 'p1'},
	q{DELETE FROM patients WHERE id = 'p2'},
	q{TRUNCATE patients},
	"COPY patients FROM STDIN;\np5\tEd\n\\.\n")
{
	my ($statement) = $write =~ /^([^;]*)/;
	($ret, $out, $err) = run_as('clerk', $write);
	isnt($ret, 0, "refused: $statement");
	like($err, $not_loaded, "$statement: SQLSTATE 55000");
}
is($node->safe_psql('postgres', $table), $table_before, 'the tagged table is unchanged');

# The ledger's guard refuses a superuser's changes as before.
foreach my $change ('UPDATE bh_audit.events SET seq = seq',
	'DELETE FROM bh_audit.events', 'TRUNCATE bh_audit.events')
{
	my ($op) = $change =~ /^(\w+)/;
	($ret, $out, $err) = run_as('postgres', $change);
	isnt($ret, 0, "refused: $change");
	like($err, qr/ERROR:  42501: $op on "bh_audit.events" is not allowed: the audit ledger is append-only/,
		"$change: the ledger is append-only");
}
($ret, $out, $err) = run_as('postgres', q{
INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
SELECT seq + 1, event, hash_alg, event_hash, event_hash FROM bh_audit.events ORDER BY seq DESC LIMIT 1});
isnt($ret, 0, 'an INSERT into the ledger is refused');
like($err, $not_loaded, 'INSERT into the ledger: SQLSTATE 55000');
is($node->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.events'), $events_before,
	'the ledger is unchanged');

# capture_status() says capture is off (to its readers too).
$node->safe_psql('postgres', 'GRANT bh_audit_reader TO clerk');
($ret, $out, $err) = run_as('clerk', 'SELECT * FROM bh_audit.capture_status()');
is($ret, 0, 'capture_status() runs') or diag($err);
is($out,
	'|bh_audit is not loaded through shared_preload_libraries: reads, denials and failures are not captured, and writes to tagged tables are refused, until it is preloaded again',
	'capture_status() reports the missing preload');
$node->safe_psql('postgres', 'REVOKE bh_audit_reader FROM clerk');

# Every function of the extension (and the library's test hooks): how it
# is reached, and what it does without the preload: 'ok' with its output,
# or 'fails' with the error expected.  Trigger functions are reached
# through the tables that fire them.
my $aligned = q{SELECT seq = (SELECT max(seq) FROM bh_audit.events) FROM bh_audit.chain_head()};
my %calls = (
	'bh_audit._check_preloaded()' => [ 'SELECT bh_audit._check_preloaded()',
		fails => qr/ERROR:  55000: bh_audit must be loaded via shared_preload_libraries/ ],
	'bh_audit._preloaded()' => [ 'SELECT bh_audit._preloaded()', ok => 'f' ],
	'bh_audit._login()' => [ 'SELECT bh_audit._login()', ok => 'postgres' ],
	# (no sealer is expected without the library: capture_status() says why)
	'bh_audit._sealer_absence()' => [ 'SELECT bh_audit._sealer_absence() IS NULL', ok => 't' ],
	'bh_audit._server_enabled()' => [ 'SELECT bh_audit._server_enabled() IS NULL', ok => 't' ],
	'bh_audit.event_timestamp(text)' => [
		q{SELECT bh_audit.event_timestamp('2024-01-02T03:04:05.678Z') = '2024-01-02 03:04:05.678+00'},
		ok => 't' ],
	'bh_audit.canonical_json(json)' => [
		q{SELECT bh_audit.canonical_json('{"b": 1, "a": [true, null]}')},
		ok => '{"a":[true,null],"b":1}' ],
	'bh_audit.event_hash(json,text,text)' => [
		q{SELECT bh_audit.event_hash('{"a": 1}') = encode(sha256('{"a":1}'), 'hex')}, ok => 't' ],
	'bh_audit.emit(text,text,text,text,text,text,text,jsonb,text,boolean,text)' => [
		q{SELECT bh_audit.emit('READ', 'PatientRecord')}, fails => $not_loaded ],
	'bh_audit.set_context(text,text,text[],text,text,text,text,text)' => [
		q{SELECT bh_audit.set_context(actor_id => 'dr_who')}, fails => $not_loaded ],
	'bh_audit.tag_table(regclass,text,name,name,text,boolean,boolean,boolean)' => [
		q{SELECT bh_audit.tag_table('scratch', 'Scratch', 'x')}, fails => $not_loaded ],
	'bh_audit.untag_table(regclass)' => [
		q{SELECT bh_audit.untag_table('patients')}, fails => $not_loaded ],
	'bh_audit.capture_status()' => [
		'SELECT count(*) FROM bh_audit.capture_status() WHERE tbl IS NULL', ok => '1' ],
	'bh_audit._capture_row()' => [
		q{INSERT INTO patients VALUES ('p4', 'Di')}, fails => $not_loaded ],
	'bh_audit._capture_truncate()' => [ 'TRUNCATE patients', fails => $not_loaded ],
	'bh_audit.pending_events()' => [
		'SELECT count(*) FROM bh_audit.pending_events()', fails => $not_loaded ],
	'bh_audit.seal()' => [ 'SELECT bh_audit.seal()', fails => $not_loaded ],
	'bh_audit.verify_chain(bigint,bigint,text)' => [
		'SELECT result, events_scanned FROM bh_audit.verify_chain()', ok => "PASS|$events_before" ],
	'bh_audit.chain_failures(bigint,bigint,text)' => [
		'SELECT count(*) FROM bh_audit.chain_failures()', ok => '0' ],
	'bh_audit.chain_head()' => [ $aligned, ok => 't' ],
	'bh_audit.export_jsonl(bigint,bigint)' => [
		'SELECT count(*) FROM bh_audit.export_jsonl()', ok => $events_before ],
	'bh_audit.sanitize_error_message(text,integer)' => [
		q{SELECT bh_audit.sanitize_error_message('mail  a@b.org now')},
		ok => 'mail [REDACTED-EMAIL] now' ],
	'bh_audit.validate_event(jsonb,text)' => [
		q{SELECT bh_audit.validate_event('{}', '1.1')}, ok => 'f' ],
	'bh_audit.validation_errors(jsonb,text)' => [
		q{SELECT count(*) > 0 FROM bh_audit.validation_errors('{}', '1.1')}, ok => 't' ],
	'bh_audit.stats()' => [ 'SELECT * FROM bh_audit.stats()', fails => $not_loaded ],
	'bh_audit._refuse_change()' => [ 'DELETE FROM bh_audit.events',
		fails => qr/ERROR:  42501: DELETE on "bh_audit.events" is not allowed/ ],
	'bh_audit._check_append()' => [
		q{INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
		  SELECT seq + 1, event, hash_alg, event_hash, event_hash FROM bh_audit.events ORDER BY seq DESC LIMIT 1},
		fails => $not_loaded ],
	# (the pass-through triggers of the replication guard, on the queue, in a
	# transaction rolled back: they fire on the extension's tables only)
	'bh_audit._skip_applied()' => [
		q{BEGIN; ALTER TABLE bh_audit.queue DISABLE TRIGGER queue_restored;
		  INSERT INTO bh_audit.queue (events) VALUES (ARRAY['{}'::jsonb]), (ARRAY['{}'::jsonb]);
		  SELECT count(*) FROM bh_audit.queue WHERE events = ARRAY['{}'::jsonb]; ROLLBACK},
		ok => '2' ],
	'bh_audit._keep_on_truncate()' => [
		'BEGIN; TRUNCATE bh_audit.queue; SELECT count(*) FROM bh_audit.queue; ROLLBACK', ok => '0' ],
	'bh_audit._tags_changed()' => [ 'TRUNCATE bh_audit.tags', fails => $not_loaded ],
	# (a restore's row of the ledger's home, naming another database)
	'bh_audit._home_restored()' => [
		q{INSERT INTO bh_audit.ledger_home VALUES (1, 'elsewhere', 1)}, fails => $not_loaded ],
	'bh_audit._queue_restored()' => [
		q{INSERT INTO bh_audit.queue (events) VALUES (ARRAY['{}'::jsonb])}, fails => $not_loaded ],
	# (the queue's refusal of a value that is no JSON object needs nothing
	# of the library's start-up: it refuses without the preload too)
	'bh_audit._check_queued()' => [
		q{INSERT INTO bh_audit.queue (events) VALUES (ARRAY['42'::jsonb])},
		fails => qr/ERROR:  23514: bh_audit.queue takes JSON objects only: event 1 of the row with id \d+ is a JSON number/ ],
	# the library's test hooks
	'ring_push(json)' => [ q{SELECT ring_push(ev('r1'))}, fails => $not_loaded ],
	'queue_raw(text)' => [ q{SELECT queue_raw(ev('q1')::text)}, fails => $not_loaded ],
);

my @functions = split /\n/, $node->safe_psql('postgres', q{
SELECT p.oid::regprocedure
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'bh_audit'
 ORDER BY 1::text});
push @functions, 'ring_push(json)', 'queue_raw(text)';
is_deeply([ sort @functions ], [ sort keys %calls ],
	'every function of the extension is tried below');

foreach my $f (@functions)
{
	my ($sql, $expect, $what) = @{ $calls{$f} // next };
	($ret, $out, $err) = run_as('postgres', $sql);
	if ($expect eq 'ok')
	{
		is($ret, 0, "$f works without the preload") or diag($err);
		is($out, $what, "$f: its result");
	}
	else
	{
		isnt($ret, 0, "$f fails without the preload");
		like($err, $what, "$f: the error expected");
	}
}
is($node->safe_psql('postgres', $table), $table_before, 'the tagged table is still unchanged');
is($node->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.events'), $events_before,
	'the ledger is still unchanged');
is($node->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.tags'), '1',
	'the tag is still there');

# EXECUTE on the trail's functions granted more widely than the reader
# role: each refuses a caller without SELECT on the ledger itself (42501,
# docs/sql-reference.md), without the preload too; there is no ring to
# record the refusal in, and it is not recorded.
my @trail = (
	'bh_audit.verify_chain(bigint,bigint,text)' => 'SELECT * FROM bh_audit.verify_chain()',
	'bh_audit.chain_failures(bigint,bigint,text)' => 'SELECT * FROM bh_audit.chain_failures()',
	'bh_audit.chain_head()' => 'SELECT * FROM bh_audit.chain_head()',
	'bh_audit.export_jsonl(bigint,bigint)' => 'SELECT bh_audit.export_jsonl()');
while (my ($f, $sql) = splice @trail, 0, 2)
{
	# (psql, not safe_psql: a server that crashed fails the checks below)
	$node->psql('postgres', "GRANT EXECUTE ON FUNCTION $f TO clerk");
	($ret, $out, $err) = run_as('clerk', $sql);
	$node->psql('postgres', "REVOKE EXECUTE ON FUNCTION $f FROM clerk");
	isnt($ret, 0, "$f, EXECUTE granted to a role without SELECT on the ledger: refused");
	like($err, qr/ERROR:  42501: permission denied for table events/,
		"$f: the refusal is PostgreSQL's 42501");
}

# Nothing of the above crashed the server.
is($witness->query_safe('SELECT pg_backend_pid()'), $witness_pid,
	'a session that was connected throughout is still served');
$witness->quit;
is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'), $postmaster,
	'the server did not restart');
my $log = slurp_file($node->logfile, $log_offset);
unlike($log, qr/terminated by signal|reinitializing|server process .* exited/,
	'no server process died');

# The library preloaded again: capture works, and the chain holds the
# ALTER SYSTEM that removed it.
$node->safe_psql('postgres', 'ALTER SYSTEM RESET shared_preload_libraries');
$node->restart;
is($node->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.capture_status()'), '0',
	'capture_status() is empty again');
$node->safe_psql('postgres', q{INSERT INTO patients VALUES ('p3', 'Cy')},
	extra_params => [ '-U', 'clerk' ]);
$node->safe_psql('postgres', q{SELECT bh_audit.emit('EXPORT', 'PatientRecord', 'e2', 'pat_2')},
	extra_params => [ '-U', 'clerk' ]);
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', q{
SELECT string_agg(action || ':' || resource_type || ':' || coalesce(resource_id, '') || ':' || actor_id,
                  ',' ORDER BY seq)
  FROM bh_audit.events WHERE actor_id = 'clerk'}),
	'CREATE:Patient:p3:clerk,EXPORT:PatientRecord:e2:clerk',
	'a write and an emit() are captured again');
is($node->safe_psql('postgres', q{
SELECT action, outcome, actor_id, event -> 'metadata' ->> 'change', event -> 'metadata' ->> 'statement',
       event -> 'metadata' ->> 'setting', event -> 'metadata' ->> 'value', event -> 'action' ->> 'phi_touched',
       event -> 'action' ->> 'data_classification'
  FROM bh_audit.events
 WHERE resource_type = 'AuditConfiguration' AND resource_id = 'shared_preload_libraries'}),
	'UPDATE|SUCCESS|postgres|preload_removed|ALTER SYSTEM|shared_preload_libraries|pg_stat_statements|false|NONE',
	'the event of the ALTER SYSTEM that removed the preload');
is($node->safe_psql('postgres', q{
SELECT string_agg(action || ':' || resource_id, ',' ORDER BY seq) FROM bh_audit.events
 WHERE seq > (SELECT seq FROM bh_audit.events WHERE resource_id = 'shared_preload_libraries')
   AND resource_type = 'Patient'}),
	'CREATE:p3', 'none of the refused writes was recorded');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');
$node->stop;
done_testing();
