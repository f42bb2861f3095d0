# A filter that calls a user's function shows it every row the scan examines,
# and each is read (docs/read-capture.md).  A statement that waits for a row
# another transaction changed re-checks the row's newest version in a
# separate copy of its plan (EvalPlanQual), whose filter gives that version
# to the function too: when the function then rejects it, nothing returns
# or changes it, but the function has seen it (here it raises a NOTICE with
# the patient id).  The newest version's patient is read: SELECT ... FOR
# UPDATE, UPDATE, DELETE and MERGE (whose target scan reads each row it
# produces, in the re-check too: its wrapper of the matched rows a MERGE
# leaves as they are does not read them again).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('epqshown');
$node->safe_psql('postgres', q{
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id text, body text);
INSERT INTO notes VALUES (1, 'p_old', 'x'), (2, 'p_two', 'y');
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id', capture_writes => false);
CREATE FUNCTION keep(text) RETURNS bool LANGUAGE plpgsql
  AS $$BEGIN RAISE NOTICE 'seen %', $1; RETURN $1 <> 'p_new'; END$$;
});

# Another transaction moves note 1 to p_new and holds the change while
# $statement waits for it; then commits.  Returns the NOTICEs the waiting
# session got and the patients read since.
sub run_after_concurrent_move
{
	my ($statement, $what) = @_;
	$node->safe_psql('postgres', "UPDATE notes SET patient_id = 'p_old' WHERE note_id = 1");
	my $mark = bh_seal_mark($node, 'postgres');

	my $notices = bh_while_change_held($node,
		q{UPDATE notes SET patient_id = 'p_new' WHERE note_id = 1}, $statement, $what);
	return ($notices, bh_reads_since($node, $mark, 'Note'));
}

foreach my $case (
	[ 'FOR UPDATE', 'SELECT note_id FROM notes WHERE note_id = 1 AND keep(patient_id) FOR UPDATE;' ],
	[ 'UPDATE', "UPDATE notes SET body = 'z' WHERE note_id = 1 AND keep(patient_id);" ],
	[ 'DELETE', 'DELETE FROM notes WHERE note_id = 1 AND keep(patient_id);' ],
	[ 'MERGE', "MERGE INTO notes t USING (VALUES (1)) s (id) ON t.note_id = s.id AND keep(t.patient_id)\n"
		  . "  WHEN MATCHED THEN UPDATE SET body = 'z';" ])
{
	my ($what, $statement) = @$case;
	my ($notices, $reads) = run_after_concurrent_move($statement, $what);
	like($notices, qr/seen p_new/, "$what: the function was given the newest version");
	like($reads, qr/(^|,)p_new(,|$)/, "$what: the newest version's patient is read");
	like($reads, qr/(^|,)p_old(,|$)/, "$what: the version the scan examined is read");
}

$node->stop;
done_testing();
