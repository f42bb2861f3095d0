# bh_audit beside pgaudit, preloaded in either order ('pgaudit,bh_audit'
# and 'bh_audit,pgaudit'), with pgaudit's session logging of reads and
# writes and its object logging (pgaudit.role):
#  - a role's allowed SELECT, UPDATE, INSERT and DELETE of a tagged table
#    succeed, without a crash of the server (bh_audit's check of a
#    statement's privileges, made before the executor's own, does not run
#    pgaudit's permission hook before pgaudit's executor hook has started
#    the statement), and record exactly their events;
#  - refused statements, for want of a table privilege or of a column
#    privilege, are one DENIED event each, and what column privileges allow
#    (an allowed column, count(*), a view's owner's privileges) none;
#  - pgaudit logs each statement once, and the tagged table once per
#    statement in its object log (its hook is not run a second time).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

sub check_order
{
	my ($name, $order) = @_;
	my $node = bh_node($name, conf => qq{
shared_preload_libraries = '$order'
pgaudit.log = 'read, write'
pgaudit.role = 'auditor'
});
	$node->safe_psql('postgres', q{
CREATE TABLE notes (note_id bigint PRIMARY KEY, patient_id text, body text);
INSERT INTO notes VALUES (1, 'pat_1', 'a'), (2, 'pat_2', 'b');
SELECT bh_audit.tag_table('public.notes', 'Note', 'note_id', 'patient_id');
CREATE VIEW note_ids AS SELECT note_id, patient_id FROM notes;
CREATE ROLE auditor NOLOGIN;
GRANT SELECT ON notes TO auditor;
CREATE ROLE doc LOGIN;
GRANT SELECT, INSERT, UPDATE, DELETE ON notes TO doc;
CREATE ROLE clerk LOGIN;
GRANT SELECT (note_id, patient_id), INSERT (note_id, patient_id), UPDATE (body)
   ON notes TO clerk;
CREATE ROLE nobody LOGIN;
GRANT SELECT ON note_ids TO nobody;
});
	my $pid = $node->safe_psql('postgres', 'SELECT pg_backend_pid()');
	my $watcher = $node->background_psql('postgres');
	my $watcher_pid = $watcher->query_safe('SELECT pg_backend_pid()');
	my $log_start = -s $node->logfile;

	# Runs sql as role; checks that it succeeds or fails as expected, that
	# its events on the tagged table are exactly events ("action outcome
	# patient", in order), and that pgaudit logged it once (and the tagged
	# table once in its object log, if objects is 1).
	my $check = sub {
		my ($role, $sql, $allowed, $events, $objects) = @_;
		my $what = "$order: $role: $sql";
		my $mark = bh_seal_mark($node, 'postgres');
		my $log_offset = -s $node->logfile;
		my ($ret, $stdout, $stderr) = $node->psql('postgres', $sql,
			extra_params => [ '-U', $role ]);
		if ($allowed)
		{
			is($ret, 0, "$what: allowed") or diag($stderr);
		}
		else
		{
			like($stderr, qr/permission denied for table notes/, "$what: refused");
		}
		my $log = slurp_file($node->logfile, $log_offset);
		$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
		is($node->safe_psql('postgres', qq{
SELECT string_agg(action || ' ' || outcome || ' ' || coalesce(patient_id, '-'), ', ' ORDER BY patient_id, seq)
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note'}),
			$events, "$what: its events");
		my $quoted = quotemeta($sql);
		my @session = $log =~ /AUDIT: SESSION,[^\n]*$quoted/g;
		is(scalar(@session), $allowed ? 1 : 0, "$what: pgaudit's session log");
		if (defined $objects)
		{
			my @object = $log =~ /AUDIT: OBJECT,[^\n]*,TABLE,public\.notes,"?$quoted/g;
			is(scalar(@object), $objects, "$what: pgaudit's object log names notes once");
		}
	};

	# allowed, table privileges
	$check->('doc', 'SELECT * FROM notes WHERE note_id = 1', 1,
		'READ SUCCESS pat_1', 1);
	$check->('doc', q{UPDATE notes SET body = 'c' WHERE note_id = 1}, 1,
		'UPDATE SUCCESS pat_1');
	$check->('doc', q{INSERT INTO notes VALUES (3, 'pat_3', 'd')}, 1,
		'CREATE SUCCESS pat_3');
	$check->('doc', 'DELETE FROM notes WHERE note_id = 3', 1,
		'DELETE SUCCESS pat_3');
	# allowed, column privileges
	$check->('clerk', 'SELECT note_id, patient_id FROM notes WHERE note_id = 2', 1,
		'READ SUCCESS pat_2', 1);
	$check->('clerk', 'SELECT count(*) FROM notes', 1,
		'READ SUCCESS pat_1, READ SUCCESS pat_2', 1);
	$check->('clerk', q{UPDATE notes SET body = 'e' WHERE note_id = 2}, 1,
		'UPDATE SUCCESS pat_2');
	$check->('clerk', q{INSERT INTO notes (note_id, patient_id) VALUES (4, 'pat_4')}, 1,
		'CREATE SUCCESS pat_4');
	# allowed through a view, with its owner's privileges
	$check->('nobody', 'SELECT patient_id FROM note_ids WHERE note_id = 1', 1,
		'READ SUCCESS pat_1', 1);

	# refused, column privileges
	$check->('clerk', 'SELECT body FROM notes', 0, 'READ DENIED -');
	$check->('clerk', 'SELECT notes FROM notes', 0, 'READ DENIED -');
	$check->('clerk', q{UPDATE notes SET patient_id = 'x' WHERE note_id = 2}, 0,
		'UPDATE DENIED -');
	$check->('clerk', q{INSERT INTO notes VALUES (5, 'pat_5', 'f')}, 0,
		'CREATE DENIED -');
	$check->('clerk', 'DELETE FROM notes WHERE note_id = 4', 0, 'DELETE DENIED -');
	# refused, table privileges (a self-join: one denial)
	$check->('nobody', 'SELECT * FROM notes a JOIN notes b USING (note_id)', 0,
		'READ DENIED -');
	$check->('nobody', 'DELETE FROM notes', 0, 'DELETE DENIED -');

	is($watcher->query_safe('SELECT pg_backend_pid()'), $watcher_pid,
		"$order: the server was not restarted");
	$watcher->quit;
	unlike(slurp_file($node->logfile, $log_start), qr/terminated by signal/,
		"$order: no backend crashed");
	is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
		'PASS', "$order: the chain verifies");
	$node->stop;
	return;
}

check_order('pgaudit_first', 'pgaudit,bh_audit');
check_order('pgaudit_last', 'bh_audit,pgaudit');
done_testing();
