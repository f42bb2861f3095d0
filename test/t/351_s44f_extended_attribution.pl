# What drivers do every day, over the extended query protocol: the same
# prepared statements run again and again with other parameters (pgbench
# -M extended: unnamed statements; -M prepared: named ones, planned
# generically here), each transaction stating its end user by
# set_context() with bound parameters.  Every READ and UPDATE event must
# name the patient of that execution's rows and the actor and request of
# that execution's transaction, and a statement after the transaction
# (autocommit) the login, with no request id: no context carried over.
# Within a pipeline (the statements sent before one Sync), the context
# holds until the Sync, and not for the next pipeline; in a string of
# statements sent as one simple query, a SET LOCAL holds for the string
# only.  Every event validates.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('extended_attribution');
$node->safe_psql('postgres', q{
CREATE TABLE patients (patient_id text PRIMARY KEY, name text);
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id text NOT NULL REFERENCES patients, body text);
CREATE INDEX ON notes (patient_id);
INSERT INTO patients SELECT 'pat_' || i, 'name ' || i FROM generate_series(1, 5) i;
INSERT INTO notes SELECT i, 'pat_' || (1 + i % 5), 'b' FROM generate_series(1, 50) i;
ANALYZE patients, notes;
-- what each transaction of the runs below did, in order (not tagged);
-- note n is patient pat_(1 + n % 5)'s, and stays so
CREATE TABLE expected (id bigserial PRIMARY KEY, actor text, patient text, request text, what text);
SELECT bh_audit.tag_table('patients', 'Patient', 'patient_id', 'patient_id');
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id');
});

# The events since $mark of resource type $type and action $action, one
# "actor patient request" each, in chain order.
sub events_since
{
	my ($mark, $type, $action) = @_;

	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws(' ', actor_id, patient_id,
                            coalesce(event -> 'correlation' ->> 'request_id', '-')),
                  ',' ORDER BY seq)
  FROM bh_audit.events
 WHERE seq > $mark AND resource_type = '$type' AND action = '$action'});
}

sub expected_of
{
	my ($what) = @_;

	return $node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws(' ', actor, patient, request), ',' ORDER BY id)
  FROM expected WHERE what = '$what'});
}

sub invalid_since
{
	my ($mark) = @_;

	return $node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events
 WHERE seq > $mark AND NOT bh_audit.validate_event(event)});
}

foreach my $mode (qw(extended prepared))
{
	my $mark = bh_seal_mark($node, 'postgres');
	my ($ret, $out, $err) = bh_pgbench_script($node, 'postgres', $mode, q{
\set p random(1, 5)
\set a random(1, 3)
\set n random(1, 50)
\set q random(1, 5)
SET plan_cache_mode = force_generic_plan;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'user_' || :a, roles => ARRAY['role_' || :a], request_id => 'req_' || :a || '_' || :p);
SELECT n.note_id, p.name FROM notes n JOIN patients p USING (patient_id) WHERE n.patient_id = 'pat_' || :p;
INSERT INTO expected (actor, patient, request, what) VALUES ('user_' || :a, 'pat_' || :p, 'req_' || :a || '_' || :p, 'READ');
UPDATE notes SET body = 'by ' || :a WHERE note_id = :n;
INSERT INTO expected (actor, patient, request, what) VALUES ('user_' || :a, 'pat_' || (1 + :n % 5), 'req_' || :a || '_' || :p, 'UPDATE');
COMMIT;
SELECT count(*) FROM notes WHERE patient_id = 'pat_' || :q;
INSERT INTO expected (actor, patient, request, what) VALUES ('postgres', 'pat_' || :q, '-', 'READ_AFTER');
}, transactions => 30);
	is($ret, 0, "$mode: the run succeeded") or diag $err;
	unlike($err, qr/WARNING/, "$mode: no warning (set_context() in a transaction block)");

	my $reads = expected_of('READ');
	my @after = split /,/, expected_of('READ_AFTER');
	my @in = split /,/, $reads;
	# each transaction's read, then the read after it
	my $want_notes = join ',', map { ($in[$_], $after[$_]) } 0 .. $#in;
	is(scalar(@in), 30, "$mode: 30 transactions logged");
	is(events_since($mark, 'Note', 'READ'), $want_notes,
		"$mode: each READ of notes names that execution's patient, actor and request; the autocommit read after it the login");
	is(events_since($mark, 'Patient', 'READ'), $reads,
		"$mode: the joined patients' READ names the same patient, actor and request");
	is(events_since($mark, 'Note', 'UPDATE'), expected_of('UPDATE'),
		"$mode: each UPDATE names the row's patient and its transaction's actor and request");
	is(invalid_since($mark), '0', "$mode: every event validates");
	$node->safe_psql('postgres', 'TRUNCATE expected');
}

# Pipelines: a set_context() before the Sync holds for the statements after
# it in that pipeline (it warns: its transaction ends at the Sync), not for
# the next pipeline or the statements after it; one in an explicit
# transaction of a pipeline ends with that transaction's COMMIT.
foreach my $mode (qw(extended prepared))
{
	my $mark = bh_seal_mark($node, 'postgres');
	my ($ret, $out, $err) = bh_pgbench_script($node, 'postgres', $mode, q{
\startpipeline
SELECT bh_audit.set_context(actor_id => 'pipe_1', request_id => 'rp_1');
SELECT count(*) FROM notes WHERE patient_id = 'pat_1';
\endpipeline
SELECT count(*) FROM notes WHERE patient_id = 'pat_2';
\startpipeline
BEGIN;
SELECT bh_audit.set_context(actor_id => 'pipe_2', request_id => 'rp_2');
SELECT count(*) FROM notes WHERE patient_id = 'pat_3';
COMMIT;
SELECT count(*) FROM notes WHERE patient_id = 'pat_4';
\endpipeline
\startpipeline
SELECT count(*) FROM notes WHERE patient_id = 'pat_5';
\endpipeline
});
	is($ret, 0, "$mode pipeline: the run succeeded") or diag $err;
	is(events_since($mark, 'Note', 'READ'),
		'pipe_1 pat_1 rp_1,postgres pat_2 -,pipe_2 pat_3 rp_2,postgres pat_4 -,postgres pat_5 -',
		"$mode pipeline: the context holds until the Sync or the COMMIT, not after");
}

# A string of statements sent as one simple query: a SET LOCAL or a
# set_context() in it holds for the statements after it in the string (its
# implicit transaction), a COMMIT in it ends it, and the next query is the
# login's.
sub simple_query
{
	my ($sql) = @_;
	my ($out, $err);

	IPC::Run::run(
		[ 'psql', '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'), '-c', $sql ],
		'<', \undef, '>', \$out, '2>', \$err);
	is($?, 0, "one query string ran: $sql") or diag $err;
}

my $mark = bh_seal_mark($node, 'postgres');
simple_query(q{SET LOCAL bh_audit.actor_id = 'multi_1'; SELECT count(*) FROM notes WHERE patient_id = 'pat_1'; SELECT count(*) FROM notes WHERE patient_id = 'pat_2'});
simple_query(q{SELECT count(*) FROM notes WHERE patient_id = 'pat_3'});
simple_query(q{SELECT bh_audit.set_context(actor_id => 'multi_2'); SELECT count(*) FROM notes WHERE patient_id = 'pat_4'; COMMIT; SELECT count(*) FROM notes WHERE patient_id = 'pat_5'});
is(events_since($mark, 'Note', 'READ'),
	'multi_1 pat_1 -,multi_1 pat_2 -,postgres pat_3 -,multi_2 pat_4 -,postgres pat_5 -',
	'one query string: the context holds for the string until its COMMIT');
is(invalid_since($mark), '0', 'every event validates');

$node->stop;
done_testing();
