# SELECT ... FOR UPDATE / FOR SHARE on a row another transaction changed
# meanwhile: PostgreSQL waits, locks the row's newest version and returns
# that one (it re-checks it in a separate plan, not the scan that produced
# the old version).  The patient of the version returned is read: after a
# concurrent move of the row to another patient, the new patient's READ is
# recorded (the old one's may be too: the scan produced that version).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('epq');
$node->safe_psql('postgres', q{
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id text, body text);
INSERT INTO notes VALUES (1, 'p_old', 'x'), (2, 'p_two', 'y');
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id', capture_writes => false);
});

# Another transaction moves note $id to patient $moved and holds the change
# while $statement (run in a session of its own) waits for it; then commits.
# Returns the patients read since, after checking that the statement waited.
sub reads_after_concurrent_move
{
	my ($id, $moved, $statement, $what) = @_;
	my $mark = bh_seal_mark($node, 'postgres');

	bh_while_change_held($node,
		qq{UPDATE notes SET patient_id = '$moved' WHERE note_id = $id}, $statement, $what);
	return bh_reads_since($node, $mark, 'Note');
}

foreach my $lock ('FOR UPDATE', 'FOR SHARE')
{
	$node->safe_psql('postgres', "UPDATE notes SET patient_id = 'p_old' WHERE note_id = 1");
	like(reads_after_concurrent_move(1, 'p_new',
			"SELECT note_id, patient_id FROM notes WHERE note_id = 1 $lock;", $lock),
		qr/(^|,)p_new(,|$)/,
		"$lock: the patient of the version returned is read");
}

# DELETE ... RETURNING of a row another transaction moved meanwhile: the
# version deleted and returned is the newest one, and its patient is read,
# also when the DELETE is rolled back.
$node->safe_psql('postgres', "UPDATE notes SET patient_id = 'p_old' WHERE note_id = 1");
is(reads_after_concurrent_move(1, 'p_moved',
		"BEGIN;\nDELETE FROM notes WHERE note_id = 1 RETURNING patient_id;\nROLLBACK;",
		'DELETE ... RETURNING'),
	'p_moved',
	'DELETE ... RETURNING: the patient of the version deleted and returned is read');

# UPDATE ... RETURNING moving a row another transaction changed meanwhile:
# the version it updated is the newest one, whose data it returns: that
# version's patient is read (and the new one's).
$node->safe_psql('postgres', "UPDATE notes SET patient_id = 'p_base' WHERE note_id = 2");
is(reads_after_concurrent_move(2, 'p_between',
		"BEGIN;\nUPDATE notes SET patient_id = 'p_after' WHERE note_id = 2 RETURNING body;\nROLLBACK;",
		'UPDATE ... RETURNING'),
	'p_after,p_between',
	'UPDATE ... RETURNING: the patients of the version updated and of the new one are read');
$node->safe_psql('postgres', "UPDATE notes SET patient_id = 'p_two' WHERE note_id = 2");

# The same through a filter calling a user's function, which sees every
# row the scan examines (all of them are read): the scan's wrapper filters
# the rows itself, while the re-check of the newest version runs the
# plan's own filter in its separate plan — the new version passes it and
# is returned, its patient read.
$node->safe_psql('postgres', q{
UPDATE notes SET patient_id = 'p_old' WHERE note_id = 1;
CREATE FUNCTION keep(text) RETURNS bool LANGUAGE plpgsql AS $$BEGIN RETURN $1 = 'x'; END$$;
});
is(reads_after_concurrent_move(1, 'p_epq',
		'SELECT note_id FROM notes WHERE keep(body) FOR UPDATE;',
		'FOR UPDATE filtered by a user\'s function'),
	'p_epq,p_old,p_two',
	'FOR UPDATE filtered by a user\'s function: every row examined and the version returned are read');
is($node->safe_psql('postgres', 'SELECT note_id, patient_id FROM notes WHERE keep(body) FOR UPDATE'),
	'1|p_epq', 'the filter still applies');

# MERGE: a matched row that no action changes is read.  The first action's
# condition passes on the version the join produced, whose update meets the
# concurrent move: the WHEN MATCHED conditions are given the newest version,
# which it no longer passes, and DO NOTHING leaves the row as it is.  Both
# versions are read (sql/99_miss_merge_matched_untouched.sql).
$node->safe_psql('postgres', "UPDATE notes SET patient_id = 'p_old' WHERE note_id = 1");
is(reads_after_concurrent_move(1, 'p_merge',
		"MERGE INTO notes t USING (VALUES (1)) s (id) ON t.note_id = s.id\n"
		  . "  WHEN MATCHED AND t.patient_id = 'p_old' THEN UPDATE SET body = 'z'\n"
		  . "  WHEN MATCHED THEN DO NOTHING;",
		'MERGE'),
	'p_merge,p_old',
	'MERGE leaving a concurrently moved row as it is: the versions it was given are read');
is($node->safe_psql('postgres', 'SELECT body FROM notes WHERE note_id = 1'),
	'x', 'the MERGE left the row as it is');

# Without a concurrent change nothing more is attributed: one READ.
my $mark = bh_seal_mark($node, 'postgres');
$node->safe_psql('postgres', 'SELECT * FROM notes WHERE note_id = 2 FOR UPDATE');
is(bh_reads_since($node, $mark, 'Note'), 'p_two', 'an uncontended FOR UPDATE reads its row\'s patient once');

is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');
$node->stop;
done_testing();
