# Pipeline mode of the extended query protocol, as drivers use it
# (psycopg 3, JDBC batches, asyncpg, pgx): several Parse/Bind/Execute
# before one Sync, the statements up to the Sync one implicit transaction
# (unless the pipeline holds its own BEGIN ... COMMIT), and after an error
# the server skipping every message up to the Sync.  pgbench -M extended
# (unnamed statements) and -M prepared (named ones, all prepared before the
# pipeline starts) send \startpipeline ... \endpipeline so.  On tagged
# tables with a patient column, each event must be exactly what the same
# statements record in a transaction block (docs/read-capture.md,
# "Pipelines"):
#  - one READ per (statement, table, patient), with the context that an
#    earlier statement of the pipeline set (set_context(), SET LOCAL: both
#    warn in the implicit transaction and hold until the Sync; in an
#    explicit BEGIN they do not warn and hold until its COMMIT);
#  - a failing statement: the reads before it and its own (the row it was
#    evaluating, its FAILURE) recorded, nothing for the statements skipped
#    after it, the pipeline's writes rolled back and without events (those
#    of a transaction a COMMIT in the pipeline ended before stay);
#  - writes of a pipeline that commits recorded, none of one whose explicit
#    ROLLBACK comes last (its reads recorded);
#  - an error at the Sync's commit or at an explicit COMMIT (a deferred
#    foreign key): a FAILURE on each tagged table the transaction wrote;
#  - a denial, a Bind failure, an error at planning, in parse analysis, in
#    a lock wait; an error outside any tagged table after a read: the read
#    only.
# A client of the test's own then speaks the protocol itself for what
# libpq does not send: portals fetched a few rows at a time (Execute with a
# row limit), one READ per patient however many Executes, recorded as the
# portal closes; a session going on after a pipeline's error; a
# transaction over two pipelines; a client gone before its Sync; a backend
# terminated in a pipeline.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use IO::Socket::UNIX;

my $node = bh_node('pipeline', init => { extra => [ '--locale=C', '--encoding=UTF8' ] });
$node->safe_psql('postgres', q{
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id text, body text);
INSERT INTO notes VALUES (1, 'p1', 'a'), (2, 'p2', 'b'), (3, 'p3', 'c'), (4, 'p1', 'd');
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id');
CREATE TABLE visits (visit_id int PRIMARY KEY, patient_id text);
INSERT INTO visits VALUES (1, 'p1'), (2, 'p2');
SELECT bh_audit.tag_table('visits', 'Visit', 'visit_id', 'patient_id');
CREATE TABLE patients (patient_id text PRIMARY KEY);
INSERT INTO patients VALUES ('p1');
CREATE TABLE consents (consent_id int PRIMARY KEY,
                       patient_id text REFERENCES patients DEFERRABLE INITIALLY DEFERRED);
SELECT bh_audit.tag_table('consents', 'Consent', 'consent_id', 'patient_id');
CREATE TABLE plain (id int);
INSERT INTO plain VALUES (1);
CREATE TABLE plain2 (id int, patient_id text);
INSERT INTO plain2 VALUES (1, 'p1'), (2, 'p2');
-- scanned by the portals of the raw protocol client below: never
-- updated, its seq scan returns the rows in this order
CREATE TABLE charts (chart_id int, patient_id text);
INSERT INTO charts VALUES (1, 'p1'), (2, 'p2'), (3, 'p3'), (4, 'p1'), (5, 'p4');
SELECT bh_audit.tag_table('charts', 'Chart', 'chart_id', 'patient_id');
CREATE ROLE reader LOGIN;
GRANT SELECT ON visits TO reader;
});

my $ctx_warning = qr/WARNING:  bh_audit\.set_context\(\) can only be used in transaction blocks/;

# The events after $mark, one line each in chain order: actor, resource
# type, action, outcome, error type, patient, request id, db_role,
# further_patients and the failure's message ('-' for what is absent).
sub events_since
{
	my ($mark) = @_;

	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws(' ', actor_id, resource_type, action, outcome,
                            coalesce(error_type, '-'), coalesce(patient_id, '-'),
                            coalesce(event -> 'correlation' ->> 'request_id', '-'),
                            coalesce(nullif(event -> 'metadata' ->> 'db_role', ''), '-'),
                            coalesce(event -> 'metadata' ->> 'further_patients', '-'),
                            coalesce(event -> 'outcome' ->> 'error_message', '-')),
                  E'\\n' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark});
}

# notes as the set-up made it, before each pipeline.
sub reset_notes
{
	$node->safe_psql('postgres', q{
DELETE FROM notes WHERE note_id > 4;
UPDATE notes n SET patient_id = o.patient_id, body = o.body
  FROM (VALUES (1, 'p1', 'a'), (2, 'p2', 'b'), (3, 'p3', 'c'), (4, 'p1', 'd')) o (note_id, patient_id, body)
 WHERE n.note_id = o.note_id AND (n.patient_id, n.body) IS DISTINCT FROM (o.patient_id, o.body);
});
	return;
}

sub notes_rows
{
	return $node->safe_psql('postgres',
		q{SELECT string_agg(note_id || ':' || body, ',' ORDER BY note_id) FROM notes});
}

# Runs the pgbench script under $mode (once), waits until its session has
# ended (its abort, after an error, is over), and returns the exit code,
# pgbench's errors and the events recorded since.
sub pipeline
{
	my ($mode, $script, %opt) = @_;

	reset_notes();
	my $mark = bh_seal_mark($node, 'postgres');
	my ($ret, $out, $err) = bh_pgbench_script($node, 'postgres', $mode, $script, %opt);
	$node->poll_query_until('postgres',
		q{SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'pgbench'})
	  or die 'pgbench still connected';
	return ($ret, $err, events_since($mark));
}

my $lines = sub { join "\n", @_ };

foreach my $mode (qw(extended prepared))
{
	my ($ret, $err, $events);

	# (1) Reads of several statements in one committed pipeline, the
	# context set by earlier statements of its implicit transaction; the
	# statement after the Sync is the login's.
	($ret, $err, $events) = pipeline($mode, q{
\startpipeline
SELECT bh_audit.set_context(actor_id => 'pa_1', request_id => 'ra_1');
SELECT count(*) FROM notes WHERE patient_id IN ('p1', 'p2');
SET LOCAL bh_audit.actor_id = 'pa_2';
SELECT body FROM notes WHERE note_id = 3;
SELECT body FROM notes WHERE patient_id = 'p1';
\endpipeline
SELECT body FROM notes WHERE note_id = 2;
});
	is($ret, 0, "$mode (1): the pipeline commits") or diag $err;
	like($err, $ctx_warning, "$mode (1): set_context() warns in the implicit transaction");
	like($err, qr/WARNING:  SET LOCAL can only be used in transaction blocks/,
		"$mode (1): so does SET LOCAL (PostgreSQL)");
	is($events, $lines->(
			'pa_1 Note READ SUCCESS - p1 ra_1 - - -',
			'pa_1 Note READ SUCCESS - p2 ra_1 - - -',
			'pa_2 Note READ SUCCESS - p3 ra_1 - - -',
			'pa_2 Note READ SUCCESS - p1 ra_1 - - -',
			'postgres Note READ SUCCESS - p2 - - - -'),
		"$mode (1): one READ per statement and patient, each under the context set before it, none after the Sync");

	# (2) An explicit transaction in the pipeline: no warning, each
	# set_context() holding for the statements after it.
	($ret, $err, $events) = pipeline($mode, q{
\startpipeline
BEGIN;
SELECT bh_audit.set_context(actor_id => 'pb_1', request_id => 'rb_1');
SELECT body FROM notes WHERE note_id = 1;
SELECT bh_audit.set_context(actor_id => 'pb_2');
SELECT body FROM notes WHERE note_id = 2;
SELECT count(*) FROM visits WHERE visit_id = 2;
COMMIT;
\endpipeline
});
	is($ret, 0, "$mode (2): the pipeline commits") or diag $err;
	unlike($err, qr/WARNING/, "$mode (2): no warning in an explicit transaction");
	is($events, $lines->(
			'pb_1 Note READ SUCCESS - p1 rb_1 - - -',
			'pb_2 Note READ SUCCESS - p2 rb_1 - - -',
			'pb_2 Visit READ SUCCESS - p2 rb_1 - - -'),
		"$mode (2): each read under the context set before it");

	# (3) A read, a write, then a statement failing on a tagged row: the
	# reads and the FAILURE, no write event; the statements after the error
	# skipped.
	($ret, $err, $events) = pipeline($mode, q{
\startpipeline
SELECT bh_audit.set_context(actor_id => 'pc_1');
SELECT body FROM notes WHERE note_id = 2;
INSERT INTO notes VALUES (10, 'p4', 'x');
SELECT 1 / (note_id - 1) FROM notes WHERE note_id = 1;
SELECT body FROM notes WHERE note_id = 3;
INSERT INTO notes VALUES (11, 'p5', 'y');
\endpipeline
});
	is($ret, 2, "$mode (3): the pipeline fails");
	like($err, qr/ERROR:  division by zero/, "$mode (3): division by zero");
	is($events, $lines->(
			'pc_1 Note READ SUCCESS - p2 - - - -',
			'pc_1 Note READ SUCCESS - p1 - - - -',
			'pc_1 Note READ FAILURE division_by_zero - - - - division by zero'),
		"$mode (3): the read, the failing statement's row and FAILURE; nothing written, nothing of the skipped statements");
	is(notes_rows(), '1:a,2:b,3:c,4:d', "$mode (3): the pipeline's write rolled back");

	# (4) The same in an explicit transaction whose COMMIT is skipped.
	($ret, $err, $events) = pipeline($mode, q{
\startpipeline
BEGIN;
SELECT bh_audit.set_context(actor_id => 'pd_1');
SELECT body FROM notes WHERE note_id = 2;
UPDATE notes SET body = 'q' WHERE note_id = 3;
SELECT 1 / (note_id - 1) FROM notes WHERE note_id = 1;
SELECT body FROM notes WHERE note_id = 4;
COMMIT;
\endpipeline
});
	is($ret, 2, "$mode (4): the pipeline fails");
	is($events, $lines->(
			'pd_1 Note READ SUCCESS - p2 - - - -',
			'pd_1 Note READ SUCCESS - p1 - - - -',
			'pd_1 Note READ FAILURE division_by_zero - - - - division by zero'),
		"$mode (4): the reads and the FAILURE, no UPDATE event");
	is(notes_rows(), '1:a,2:b,3:c,4:d', "$mode (4): the update rolled back");

	# (5) Writes of a pipeline that commits.
	($ret, $err, $events) = pipeline($mode, q{
\startpipeline
SELECT bh_audit.set_context(actor_id => 'pe_1');
INSERT INTO notes VALUES (20, 'p6', 'w');
UPDATE notes SET body = 'u' WHERE note_id = 3;
DELETE FROM notes WHERE note_id = 20;
INSERT INTO notes VALUES (21, 'p7', 'w');
\endpipeline
});
	is($ret, 0, "$mode (5): the pipeline commits") or diag $err;
	is($events, $lines->(
			'pe_1 Note CREATE SUCCESS - p6 - - - -',
			'pe_1 Note UPDATE SUCCESS - p3 - - - -',
			'pe_1 Note DELETE SUCCESS - p6 - - - -',
			'pe_1 Note CREATE SUCCESS - p7 - - - -'),
		"$mode (5): every write recorded, under the pipeline's context");
	is(notes_rows(), '1:a,2:b,3:u,4:d,21:w', "$mode (5): the writes committed");

	# (6) A pipeline whose explicit ROLLBACK comes last: its reads, no writes.
	($ret, $err, $events) = pipeline($mode, q{
\startpipeline
BEGIN;
SELECT bh_audit.set_context(actor_id => 'pf_1');
INSERT INTO notes VALUES (30, 'p7', 'r');
SELECT body FROM notes WHERE note_id = 30;
UPDATE notes SET body = 'r' WHERE note_id = 1;
SELECT count(*) FROM notes WHERE note_id = 2;
ROLLBACK;
\endpipeline
});
	is($ret, 0, "$mode (6): the pipeline runs") or diag $err;
	is($events, $lines->(
			'pf_1 Note READ SUCCESS - p7 - - - -',
			'pf_1 Note READ SUCCESS - p2 - - - -'),
		"$mode (6): the reads survive the ROLLBACK, the writes have no event");
	is(notes_rows(), '1:a,2:b,3:c,4:d', "$mode (6): nothing written");

	# (7) A COMMIT in the pipeline, then a failure: the committed write's
	# event stays, the later write has none.
	($ret, $err, $events) = pipeline($mode, q{
\startpipeline
BEGIN;
SELECT bh_audit.set_context(actor_id => 'pg_1');
INSERT INTO notes VALUES (40, 'p8', 'c');
COMMIT;
SELECT bh_audit.set_context(actor_id => 'pg_2');
SELECT body FROM notes WHERE note_id = 2;
INSERT INTO notes VALUES (41, 'p9', 'c');
SELECT 1 / (note_id - 1) FROM notes WHERE note_id = 1;
\endpipeline
});
	is($ret, 2, "$mode (7): the pipeline fails");
	is($events, $lines->(
			'pg_1 Note CREATE SUCCESS - p8 - - - -',
			'pg_2 Note READ SUCCESS - p2 - - - -',
			'pg_2 Note READ SUCCESS - p1 - - - -',
			'pg_2 Note READ FAILURE division_by_zero - - - - division by zero'),
		"$mode (7): the committed transaction's write, then the second's reads and FAILURE");
	is(notes_rows(), '1:a,2:b,3:c,4:d,40:c', "$mode (7): only the first transaction's write stays");

	# (8) An error at the Sync's commit (a deferred foreign key): a FAILURE
	# on each tagged table written, the reads kept, no write event.
	($ret, $err, $events) = pipeline($mode, q{
\startpipeline
SELECT bh_audit.set_context(actor_id => 'ph_1');
INSERT INTO notes VALUES (50, 'p5', 'k');
SELECT body FROM notes WHERE note_id = 2;
INSERT INTO consents VALUES (1, 'nobody');
SELECT count(*) FROM visits;
\endpipeline
});
	is($ret, 2, "$mode (8): the pipeline fails at its commit");
	like($err, qr/violates foreign key constraint/, "$mode (8): the deferred foreign key");
	is($events, $lines->(
			'ph_1 Note READ SUCCESS - p2 - - - -',
			'ph_1 Visit READ SUCCESS - p1 - - - -',
			'ph_1 Visit READ SUCCESS - p2 - - - -',
			'ph_1 Note CREATE FAILURE foreign_key_violation - - - - insert or update on table ""',
			'ph_1 Consent CREATE FAILURE foreign_key_violation - - - - insert or update on table ""'),
		"$mode (8): the reads, and a FAILURE on each table written");
	is($node->safe_psql('postgres', q{SELECT count(*) FROM consents}) . ' ' . notes_rows(),
		'0 1:a,2:b,3:c,4:d', "$mode (8): nothing written");

	# (9) A denial: a role without SELECT on notes, after its read of visits.
	($ret, $err, $events) = pipeline($mode, q{
\startpipeline
SELECT bh_audit.set_context(actor_id => 'pi_1');
SELECT count(*) FROM visits WHERE visit_id = 1;
SELECT body FROM notes WHERE note_id = 1;
SELECT count(*) FROM visits WHERE visit_id = 2;
\endpipeline
}, user => 'reader');
	is($ret, 2, "$mode (9): the pipeline fails");
	like($err, qr/permission denied for table notes/, "$mode (9): denied");
	is($events, $lines->(
			'pi_1 Visit READ SUCCESS - p1 - - - -',
			'pi_1 Note READ DENIED PermissionDenied - - - - permission denied for table notes'),
		"$mode (9): the read and the denial, nothing of the skipped read");

	# (10) A denial after SET LOCAL ROLE in an explicit transaction.
	($ret, $err, $events) = pipeline($mode, q{
\startpipeline
BEGIN;
SELECT bh_audit.set_context(actor_id => 'pj_1');
SET LOCAL ROLE reader;
SELECT count(*) FROM visits WHERE visit_id = 2;
UPDATE notes SET body = 'z' WHERE note_id = 1;
SELECT count(*) FROM visits WHERE visit_id = 1;
COMMIT;
\endpipeline
});
	is($ret, 2, "$mode (10): the pipeline fails");
	is($events, $lines->(
			'pj_1 Visit READ SUCCESS - p2 - reader - -',
			'pj_1 Note UPDATE DENIED PermissionDenied - - reader - permission denied for table notes'),
		"$mode (10): the read and the denied UPDATE, as the role set");

	# (11) A parameter that does not convert, at Bind, after a read.
	($ret, $err, $events) = pipeline($mode, q{
\startpipeline
SELECT bh_audit.set_context(actor_id => 'pk_1');
SELECT body FROM notes WHERE note_id = 2;
SELECT count(*) FROM visits WHERE visit_id = :v;
SELECT body FROM notes WHERE note_id = 3;
\endpipeline
}, set => 'v=PHI_x');
	is($ret, 2, "$mode (11): the pipeline fails");
	is($events, $lines->(
			'pk_1 Note READ SUCCESS - p2 - - - -',
			'pk_1 Visit READ FAILURE invalid_text_representation - - - - invalid input syntax for type integer: ""'),
		"$mode (11): the read, the Bind failure on the table of the statement bound");

	# (12) An error as the statement is planned (at Bind), after a read.
	($ret, $err, $events) = pipeline($mode, q{
\startpipeline
SELECT bh_audit.set_context(actor_id => 'pl_1');
SELECT body FROM notes WHERE note_id = 2;
SELECT count(*) FROM visits WHERE visit_id = 1 / 0;
\endpipeline
});
	is($ret, 2, "$mode (12): the pipeline fails");
	is($events, $lines->(
			'pl_1 Note READ SUCCESS - p2 - - - -',
			'pl_1 Visit READ FAILURE division_by_zero - - - - division by zero'),
		"$mode (12): the FAILURE is the planned statement's, on its table");

	# (13) An error in a statement on no tagged table, after a read: the
	# read only (as in a string of statements sent as one query).
	($ret, $err, $events) = pipeline($mode, q{
\startpipeline
SELECT bh_audit.set_context(actor_id => 'pm_1');
SELECT body FROM notes WHERE note_id = 2;
SELECT 1 / 0;
\endpipeline
});
	is($ret, 2, "$mode (13): the pipeline fails");
	is($events, 'pm_1 Note READ SUCCESS - p2 - - - -',
		"$mode (13): the read, no FAILURE");

	# (14) max_patients_per_statement counts each statement of the pipeline
	# on its own.
	($ret, $err, $events) = pipeline($mode, q{
\startpipeline
SELECT bh_audit.set_context(actor_id => 'pn_1');
SET LOCAL bh_audit.max_patients_per_statement = 1;
SELECT count(*) FROM notes;
SELECT count(*) FROM notes WHERE note_id < 3;
\endpipeline
});
	is($ret, 0, "$mode (14): the pipeline commits") or diag $err;
	is($events, $lines->(
			'pn_1 Note READ SUCCESS - p1 - - - -',
			'pn_1 Note READ SUCCESS - - - - 2 -',
			'pn_1 Note READ SUCCESS - p1 - - - -',
			'pn_1 Note READ SUCCESS - - - - 1 -'),
		"$mode (14): each statement's patients counted apart");

	# (15) An explicit COMMIT in the pipeline failing (a deferred foreign
	# key): a FAILURE on each tagged table written, the statements after it
	# skipped.
	($ret, $err, $events) = pipeline($mode, q{
\startpipeline
BEGIN;
SELECT bh_audit.set_context(actor_id => 'po_1');
INSERT INTO notes VALUES (60, 'p6', 'k');
INSERT INTO consents VALUES (2, 'nobody');
COMMIT;
SELECT body FROM notes WHERE note_id = 2;
\endpipeline
});
	is($ret, 2, "$mode (15): the COMMIT fails");
	is($events, $lines->(
			'po_1 Note CREATE FAILURE foreign_key_violation - - - - insert or update on table ""',
			'po_1 Consent CREATE FAILURE foreign_key_violation - - - - insert or update on table ""'),
		"$mode (15): a FAILURE on each table written, nothing of the read skipped");
	is(notes_rows(), '1:a,2:b,3:c,4:d', "$mode (15): nothing written");

	# (16) A row moved to another patient, read again in the pipeline's
	# transaction: both patients.
	($ret, $err, $events) = pipeline($mode, q{
\startpipeline
SELECT bh_audit.set_context(actor_id => 'pp_1');
UPDATE notes SET patient_id = 'p9' WHERE note_id = 3;
SELECT body FROM notes WHERE note_id = 3;
\endpipeline
});
	is($ret, 0, "$mode (16): the pipeline commits") or diag $err;
	is($events, $lines->(
			'pp_1 Note UPDATE SUCCESS - p9 - - - -',
			'pp_1 Note UPDATE SUCCESS - p3 - - - -',
			'pp_1 Note READ SUCCESS - p9 - - - -',
			'pp_1 Note READ SUCCESS - p3 - - - -'),
		"$mode (16): the read names the patient the row had before the pipeline moved it");

	# (17) A table tagged and untagged within the pipeline (-M prepared
	# prepared its statements before): read between the two only.
	($ret, $err, $events) = pipeline($mode, q{
\startpipeline
SELECT bh_audit.set_context(actor_id => 'pq_1');
SELECT count(*) FROM plain2;
SELECT bh_audit.tag_table('plain2', 'Plain', 'id', 'patient_id');
SELECT count(*) FROM plain2 WHERE id > 0;
SELECT bh_audit.untag_table('plain2');
SELECT count(*) FROM plain2 WHERE id > 1;
\endpipeline
});
	is($ret, 0, "$mode (17): the pipeline commits") or diag $err;
	is($events, $lines->(
			'pq_1 AuditConfiguration CREATE SUCCESS - - - - - -',
			'pq_1 Plain READ SUCCESS - p1 - - - -',
			'pq_1 Plain READ SUCCESS - p2 - - - -',
			'pq_1 AuditConfiguration DELETE SUCCESS - - - - - -'),
		"$mode (17): the read while tagged only");
}

# Messages of -M extended parsed in the pipeline (-M prepared parses them
# all before it): errors in the parse analysis of a statement, the read's
# portal still open.
my ($ret, $err, $events) = pipeline('extended', q{
\startpipeline
SELECT bh_audit.set_context(actor_id => 'px_1');
SELECT count(*) FROM visits WHERE visit_id = 1;
SELECT nosuch FROM notes;
SELECT body FROM notes WHERE note_id = 3;
\endpipeline
});
is($ret, 2, 'extended (18): the pipeline fails');
is($events, $lines->(
		'px_1 Visit READ SUCCESS - p1 - - - -',
		'px_1 Note READ FAILURE undefined_column - - - - column "" does not exist'),
	'extended (18): the read, and the FAILURE of the statement analysed');

# A lock wait that times out in the parse analysis of a statement on an
# untagged table, the read's portal still open: no failure (the statement
# failing names no tagged table); one of a tagged table's, ended by
# statement_timeout (an error without a position): that table's FAILURE.
my $bg = $node->background_psql('postgres');
$bg->query_safe('BEGIN; LOCK TABLE plain IN ACCESS EXCLUSIVE MODE');
($ret, $err, $events) = pipeline('extended', q{
\startpipeline
SELECT bh_audit.set_context(actor_id => 'py_1');
SET LOCAL lock_timeout = '300ms';
SELECT body FROM notes WHERE note_id = 2;
SELECT count(*) FROM plain;
\endpipeline
});
is($ret, 2, 'extended (19): the pipeline fails');
like($err, qr/lock timeout/, 'extended (19): on the lock of plain');
is($events, 'py_1 Note READ SUCCESS - p2 - - - -',
	'extended (19): a lock wait on an untagged table after a read: the read, no FAILURE');
$bg->query_safe('ROLLBACK; BEGIN; LOCK TABLE visits IN ACCESS EXCLUSIVE MODE');
($ret, $err, $events) = pipeline('extended', q{
\startpipeline
SELECT bh_audit.set_context(actor_id => 'pz_1');
SET LOCAL statement_timeout = '300ms';
SELECT body FROM notes WHERE note_id = 2;
SELECT count(*) FROM visits;
\endpipeline
});
is($ret, 2, 'extended (20): the pipeline fails');
is($events, $lines->(
		'pz_1 Note READ SUCCESS - p2 - - - -',
		'pz_1 Visit READ FAILURE query_canceled - - - - canceling statement due to statement timeout'),
	'extended (20): a statement_timeout in the wait for visits: the FAILURE is on visits');
$bg->query_safe('ROLLBACK');
$bg->quit;

# What libpq cannot send (pgbench neither): a client of its own speaking
# the protocol over the node's Unix socket (trust), as JDBC with a fetch
# size or asyncpg's cursors do: named portals fetched a few rows at a time
# by Execute with a row limit (PortalSuspended), interleaved with other
# statements; a session that goes on after a pipeline's error; an explicit
# transaction spanning pipelines; a client gone before its Sync; a
# backend terminated in a pipeline.
sub pmsg
{
	my ($type, $body) = @_;
	return $type . pack('N', length($body) + 4) . $body;
}
sub p_parse { my ($name, $sql) = @_; return pmsg('P', "$name\0$sql\0" . pack('n', 0)); }
sub p_bind { my ($portal, $stmt) = @_; return pmsg('B', "$portal\0$stmt\0" . pack('n n n', 0, 0, 0)); }
sub p_execute { my ($portal, $rows) = @_; return pmsg('E', "$portal\0" . pack('N', $rows // 0)); }
# an unnamed statement run to its end
sub p_query { my ($sql) = @_; return (p_parse('', $sql), p_bind('', ''), p_execute('')); }

# The server's messages until ReadyForQuery (or until $ncomplete
# CommandComplete), one word each: D (a row), s (PortalSuspended), C:tag,
# E:message (errors), Z:status; ParseComplete, BindComplete and notices
# left out.
sub p_read
{
	my ($sock, $ncomplete) = @_;
	my @got;
	my $complete = 0;

	local $SIG{ALRM} = sub { die "no answer from the server\n" };
	alarm($PostgreSQL::Test::Utils::timeout_default);
	while (1)
	{
		my $hdr;
		read($sock, $hdr, 5) == 5 or die 'connection closed';
		my ($type, $len) = unpack('a N', $hdr);
		my $body = '';
		read($sock, $body, $len - 4) if $len > 4;
		if ($type eq 'E')
		{
			my ($m) = $body =~ /(?:^|\0)M([^\0]*)/;
			push @got, "E:$m";
		}
		push @got, 'D' if $type eq 'D';
		push @got, 's' if $type eq 's';
		push @got, 'C:' . (split /\0/, $body)[0] if $type eq 'C';
		push @got, "Z:$body" if $type eq 'Z';
		$complete++ if $type eq 'C';
		last if $type eq 'Z' || (defined $ncomplete && $complete == $ncomplete);
	}
	alarm(0);
	return join ' ', @got;
}

sub p_connect
{
	my $sock = IO::Socket::UNIX->new(Peer => $node->host . '/.s.PGSQL.' . $node->port)
	  or die "could not connect: $!";
	my $body = pack('N', 196608)
	  . "user\0postgres\0database\0postgres\0application_name\0raw_361\0\0";
	print $sock pack('N', length($body) + 4) . $body;
	p_read($sock);
	return $sock;
}

# Sends the messages and a Sync; returns the answer (p_read).
sub p_pipeline
{
	my ($sock, @messages) = @_;
	print $sock join('', @messages, pmsg('S', ''));
	$sock->flush;
	return p_read($sock);
}

sub raw_gone
{
	$node->poll_query_until('postgres',
		q{SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'raw_361'})
	  or die 'the raw client\'s session is still there';
	return;
}

my $sock = p_connect();
my $mark;
my $set = sub { p_query("SELECT bh_audit.set_context(actor_id => '$_[0]')") };

# (21) A named portal fetched two rows, then an unnamed read and a new
# context, then the rest of the portal: one READ per patient for the
# portal (p1 once), recorded as it closes (the Sync's commit), under the
# context then (as a cursor's); the unnamed read's under its own.
$mark = bh_seal_mark($node, 'postgres');
is(p_pipeline($sock, $set->('ra_1'),
		p_parse('sa', 'SELECT patient_id FROM charts'), p_bind('A', 'sa'), p_execute('A', 2),
		p_query('SELECT count(*) FROM visits WHERE visit_id = 1'),
		$set->('ra_2'),
		p_execute('A')),
	'D C:SELECT 1 D D s D C:SELECT 1 D C:SELECT 1 D D D C:SELECT 3 Z:I',
	'raw (21): the portal suspended after two rows, then run to its end');
is(events_since($mark), $lines->(
		'ra_1 Visit READ SUCCESS - p1 - - - -',
		'ra_2 Chart READ SUCCESS - p1 - - - -',
		'ra_2 Chart READ SUCCESS - p2 - - - -',
		'ra_2 Chart READ SUCCESS - p3 - - - -',
		'ra_2 Chart READ SUCCESS - p4 - - - -'),
	'raw (21): the portal\'s patients once each, the interleaved read apart');

# (22) A portal suspended, then another statement fails: the portal's rows
# read so far recorded, no FAILURE (no tagged table in the failing
# statement), the Execute after the error skipped.  The session goes on:
# its next pipeline is the login's.
$mark = bh_seal_mark($node, 'postgres');
is(p_pipeline($sock, $set->('rb_1'),
		p_parse('sb', 'SELECT patient_id FROM charts'), p_bind('B', 'sb'), p_execute('B', 2),
		p_query('SELECT 1 / 0'),
		p_execute('B')),
	'D C:SELECT 1 D D s E:division by zero Z:I',
	'raw (22): the pipeline fails, the rest skipped');
is(p_pipeline($sock, p_query('SELECT count(*) FROM visits WHERE visit_id = 2')),
	'D C:SELECT 1 Z:I', 'raw (22): the session\'s next pipeline runs');
is(events_since($mark), $lines->(
		'rb_1 Chart READ SUCCESS - p1 - - - -',
		'rb_1 Chart READ SUCCESS - p2 - - - -',
		'postgres Visit READ SUCCESS - p2 - - - -'),
	'raw (22): the rows fetched, then the next pipeline under the login');

# (23) A portal failing in its second Execute, an unnamed read between: its
# rows, the row it failed on and its FAILURE; the unnamed read's portal,
# still open, flushed by the abort.
$mark = bh_seal_mark($node, 'postgres');
is(p_pipeline($sock, $set->('rc_1'),
		p_parse('sc', 'SELECT 1 / (chart_id - 3) FROM charts'), p_bind('C', 'sc'), p_execute('C', 2),
		p_query('SELECT count(*) FROM visits WHERE visit_id = 2'),
		p_execute('C')),
	'D C:SELECT 1 D D s D C:SELECT 1 E:division by zero Z:I',
	'raw (23): the portal fails in its second Execute');
is(events_since($mark), $lines->(
		'rc_1 Chart READ SUCCESS - p1 - - - -',
		'rc_1 Chart READ SUCCESS - p2 - - - -',
		'rc_1 Chart READ SUCCESS - p3 - - - -',
		'rc_1 Chart READ FAILURE division_by_zero - - - - division by zero',
		'rc_1 Visit READ SUCCESS - p2 - - - -'),
	'raw (23): its rows, the failing row, its FAILURE, and the other read');

# (24) An explicit transaction over two pipelines (a driver's savepoint
# around each statement): the error in a savepoint, its pipeline ends
# with the transaction aborted; the next one rolls back to the savepoint
# and commits.  The insert rolled back has no event, the later one has.
$mark = bh_seal_mark($node, 'postgres');
reset_notes();
is(p_pipeline($sock, p_query('BEGIN'), $set->('rd_1'), p_query('SAVEPOINT s'),
		p_query(q{INSERT INTO notes VALUES (70, 'p7', 'x')}),
		p_query('SELECT count(*) FROM visits WHERE visit_id = 2'),
		p_query('SELECT 1 / (chart_id - 1) FROM charts WHERE chart_id = 1'),
		p_query('SELECT count(*) FROM visits WHERE visit_id = 1')),
	'C:BEGIN D C:SELECT 1 C:SAVEPOINT C:INSERT 0 1 D C:SELECT 1 E:division by zero Z:E',
	'raw (24): the first pipeline fails, the transaction aborted');
is(p_pipeline($sock, p_query('ROLLBACK TO s'),
		p_query('SELECT count(*) FROM visits WHERE visit_id = 1'),
		p_query(q{INSERT INTO notes VALUES (71, 'p8', 'y')}), p_query('COMMIT')),
	'C:ROLLBACK D C:SELECT 1 C:INSERT 0 1 C:COMMIT Z:I',
	'raw (24): the second rolls back to the savepoint and commits');
is(events_since($mark), $lines->(
		'rd_1 Visit READ SUCCESS - p2 - - - -',
		'rd_1 Chart READ SUCCESS - p1 - - - -',
		'rd_1 Chart READ FAILURE division_by_zero - - - - division by zero',
		'rd_1 Visit READ SUCCESS - p1 - - - -',
		'rd_1 Note CREATE SUCCESS - p8 - - - -'),
	'raw (24): the reads, the FAILURE, the committed insert only; the context held over both');
is(notes_rows(), '1:a,2:b,3:c,4:d,71:y', 'raw (24): the first insert rolled back');

# (25) A portal opened in a savepoint rolled back, suspended: its rows read
# recorded, under the context when the savepoint was rolled back.
$mark = bh_seal_mark($node, 'postgres');
is(p_pipeline($sock, p_query('BEGIN'), $set->('re_1'), p_query('SAVEPOINT s'),
		p_parse('se', 'SELECT patient_id FROM charts'), p_bind('E', 'se'), p_execute('E', 2),
		p_query('ROLLBACK TO s'), $set->('re_2'), p_query('COMMIT')),
	'C:BEGIN D C:SELECT 1 C:SAVEPOINT D D s C:ROLLBACK D C:SELECT 1 C:COMMIT Z:I',
	'raw (25): the portal dropped by ROLLBACK TO');
is(events_since($mark), $lines->(
		're_1 Chart READ SUCCESS - p1 - - - -',
		're_1 Chart READ SUCCESS - p2 - - - -'),
	'raw (25): the rows it gave recorded');
# (26) A portal closed (Close) after two rows, in an explicit transaction:
# its reads recorded then, under the context then.
$mark = bh_seal_mark($node, 'postgres');
is(p_pipeline($sock, p_query('BEGIN'), $set->('rh_1'),
		p_parse('sh', 'SELECT patient_id FROM charts'), p_bind('H', 'sh'), p_execute('H', 2),
		pmsg('C', "PH\0"), $set->('rh_2'),
		p_query('SELECT count(*) FROM visits WHERE visit_id = 1'), p_query('COMMIT')),
	'C:BEGIN D C:SELECT 1 D D s D C:SELECT 1 D C:SELECT 1 C:COMMIT Z:I',
	'raw (26): the portal closed after two rows');
is(events_since($mark), $lines->(
		'rh_1 Chart READ SUCCESS - p1 - - - -',
		'rh_1 Chart READ SUCCESS - p2 - - - -',
		'rh_2 Visit READ SUCCESS - p1 - - - -'),
	'raw (26): its rows recorded as it closed');
close $sock;
raw_gone();

# (27) A client that sent a pipeline and read its rows (Flush) goes away
# before its Sync: the transaction never ends normally, its reads are
# recorded.
$mark = bh_seal_mark($node, 'postgres');
$sock = p_connect();
print $sock join('', $set->('rf_1'),
	p_query('SELECT patient_id FROM charts WHERE chart_id = 2'),
	p_query('SELECT patient_id FROM charts WHERE chart_id = 3'), pmsg('H', ''));
$sock->flush;
is(p_read($sock, 3), 'D C:SELECT 1 D C:SELECT 1 D C:SELECT 1',
	'raw (27): the rows arrive without a Sync');
close $sock;
raw_gone();
is(events_since($mark), $lines->(
		'rf_1 Chart READ SUCCESS - p2 - - - -',
		'rf_1 Chart READ SUCCESS - p3 - - - -'),
	'raw (27): the reads of the pipeline left without its Sync');

# (28) A backend terminated (pg_terminate_backend) while its pipeline
# sleeps, a portal suspended: the reads so far recorded.
$mark = bh_seal_mark($node, 'postgres');
$sock = p_connect();
print $sock join('', $set->('rg_1'),
	p_query('SELECT patient_id FROM charts WHERE chart_id = 3'),
	p_parse('sg', 'SELECT patient_id FROM charts'), p_bind('G', 'sg'), p_execute('G', 2),
	p_query('SELECT pg_sleep(60)'), pmsg('H', ''));
$sock->flush;
$node->poll_query_until('postgres', q{
SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'raw_361' AND wait_event = 'PgSleep'})
  or die 'the pipeline does not sleep';
$node->safe_psql('postgres',
	q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'raw_361'});
raw_gone();
close $sock;
is(events_since($mark), $lines->(
		'rg_1 Chart READ SUCCESS - p3 - - - -',
		'rg_1 Chart READ SUCCESS - p1 - - - -',
		'rg_1 Chart READ SUCCESS - p2 - - - -'),
	'raw (28): the terminated pipeline\'s reads');

$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres',
		q{SELECT count(*) FROM bh_audit.events WHERE strpos(event::text, 'PHI_x') > 0}),
	'0', 'no parameter value in any event');
bh_events_valid_since($node, 'postgres', 0);
bh_chain_valid($node, 'postgres');

$node->stop;
done_testing();
