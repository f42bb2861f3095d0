# db_role of the events of a statement that fails: its FAILURE, like its
# READs, names the role the statement ran as (read-capture.md, "Failed
# access"), also when the error comes from inside a SECURITY DEFINER
# function the statement called, whose role PostgreSQL restores only as the
# transaction aborts, after the failure is recorded.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('role_noting_review');
$node->safe_psql('postgres', q{
CREATE ROLE clinic_owner NOLOGIN;
CREATE ROLE helper_owner NOLOGIN;
CREATE ROLE web_user NOLOGIN;
CREATE ROLE other_role NOLOGIN;
CREATE ROLE app LOGIN;
GRANT web_user, other_role TO app;
CREATE SCHEMA clinic AUTHORIZATION clinic_owner;
CREATE SCHEMA helpers AUTHORIZATION helper_owner;
GRANT USAGE ON SCHEMA clinic, helpers TO web_user, other_role, helper_owner;
SET ROLE clinic_owner;
CREATE TABLE clinic.notes (note_id int PRIMARY KEY, patient_id text, body text);
INSERT INTO clinic.notes SELECT i, 'pat_' || lpad(i::text, 3, '0'), 'body' FROM generate_series(1, 5) i;
GRANT SELECT ON clinic.notes TO web_user, other_role, helper_owner;
RESET ROLE;
SELECT bh_audit.tag_table('clinic.notes', 'Note', 'note_id', 'patient_id');
SET ROLE helper_owner;
-- a SECURITY DEFINER validation helper (no table read) that raises on one row
CREATE FUNCTION helpers.check_note(id int) RETURNS int LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN IF id = 3 THEN RAISE EXCEPTION 'note % not allowed', id; END IF; RETURN id; END $$;
GRANT EXECUTE ON FUNCTION helpers.check_note(int) TO web_user;
RESET ROLE;
-- an invoker function switching role for the transaction, then failing
CREATE FUNCTION public.switch_and_fail(id int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN IF id = 3 THEN PERFORM set_config('role', 'other_role', true); PERFORM 1/0; END IF; RETURN id; END $$;
});

my $mark = 0;
sub events
{
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	my $rows = $node->safe_psql('postgres', qq{
SELECT action, coalesce(patient_id, ''), outcome,
       event -> 'metadata' ->> 'db_user', coalesce(event -> 'metadata' ->> 'db_role', '-')
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note'
 ORDER BY outcome, patient_id});
	$mark = $node->safe_psql('postgres', 'SELECT max(seq) FROM bh_audit.events');
	return $rows;
}
sub run
{
	my ($sql) = @_;
	my ($out, $err);
	$node->psql('postgres', $sql, stdout => \$out, stderr => \$err,
		extra_params => [ '-U', 'app' ]);
	return $err;
}

events();
# 1. web_user's statement reads notes and calls a SECURITY DEFINER helper
# that raises on the third row: the statement ran as web_user.
like(run(q{BEGIN; SET LOCAL ROLE web_user;
SELECT helpers.check_note(note_id) FROM clinic.notes ORDER BY note_id;
COMMIT;}), qr/not allowed/, 'the helper raises');
my $ev = events();
diag("case 1:\n$ev");
my @failure = grep { /\|FAILURE\|/ } split /\n/, $ev;
my @reads = grep { /\|SUCCESS\|/ } split /\n/, $ev;
is(scalar(grep { /\|web_user$/ } @reads), scalar(@reads), 'case 1: READs name web_user');
is(join("\n", @failure), 'READ||FAILURE|app|web_user',
	'case 1: the FAILURE of web_user\'s statement names web_user, as its READs do (docs/read-capture.md "Failed access")');

# 2. same with a session-level SET ROLE (no abort restoring anything)
like(run(q{SET ROLE web_user;
SELECT helpers.check_note(note_id) FROM clinic.notes ORDER BY note_id;}), qr/not allowed/, 'raises');
$ev = events();
diag("case 2:\n$ev");
@failure = grep { /\|FAILURE\|/ } split /\n/, $ev;
is(join("\n", @failure), 'READ||FAILURE|app|web_user', 'case 2: FAILURE names web_user');

# 3. an invoker function switching role then failing mid-statement
like(run(q{BEGIN; SET LOCAL ROLE web_user;
SELECT public.switch_and_fail(note_id) FROM clinic.notes ORDER BY note_id;
COMMIT;}), qr/division by zero/, 'raises');
$ev = events();
diag("case 3:\n$ev");

$node->stop;
done_testing();
