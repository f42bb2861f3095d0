# A statement that waits for a row another transaction changed re-checks the
# row's newest version in a separate copy of its plan (EvalPlanQual).  The
# subqueries of that copy (a SubPlan in the filter, the new values or the
# output) run again for real, on the newest version's values: their scans
# of a tagged table may produce other rows than the first evaluation did,
# and those rows' values are what the statement writes and returns.  Each
# such row is a read of its patient.  Here the untagged plain row's value
# (the length of v) picks the note a subquery reads: v1 -> note 2 at first,
# the concurrent update makes it note 5 (or 4), whose body is returned.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('epqsub');
$node->safe_psql('postgres', q{
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id text, body text);
INSERT INTO notes SELECT i, 'p' || i, 'body of ' || i FROM generate_series(1, 6) i;
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id', capture_writes => false);
CREATE TABLE plain (id int PRIMARY KEY, v text);
INSERT INTO plain VALUES (1, 'v1');
});

# Another transaction sets plain.v to $v and holds the change while
# $statement waits for it; then commits.  Returns the statement's output and
# the patients read since.  $fails: the statement is to fail (its error is
# not the output).
sub run_after_concurrent_change
{
	my ($v, $statement, $what, $fails) = @_;
	$node->safe_psql('postgres', "UPDATE plain SET v = 'v1' WHERE id = 1");
	my $mark = bh_seal_mark($node, 'postgres');
	my $out = "$PostgreSQL::Test::Utils::tmp_check/out_$v";

	bh_while_change_held($node, qq{UPDATE plain SET v = '$v' WHERE id = 1},
		"\\o $out\n$statement\n\\o", $what, fails => $fails);
	return (slurp_file($out), bh_reads_since($node, $mark, 'Note'));
}

# UPDATE of the untagged table, its new value and RETURNING from a subquery
# of the tagged one: note 5's body is written and returned.
my ($out, $reads) = run_after_concurrent_change('vvvvv',
	'UPDATE plain p SET v = (SELECT n.body FROM notes n WHERE n.note_id = length(p.v)) WHERE p.id = 1 RETURNING v;',
	'UPDATE with a subquery');
like($out, qr/body of 5/, 'UPDATE: the re-check wrote and returned note 5\'s body');
like($reads, qr/(^|,)p5(,|$)/, 'UPDATE: note 5\'s patient is read');

# SELECT ... FOR UPDATE returning a subquery's value: note 4's body.
($out, $reads) = run_after_concurrent_change('vvvv',
	'SELECT p.id, (SELECT n.body FROM notes n WHERE n.note_id = length(p.v)) FROM plain p WHERE p.id = 1 FOR UPDATE;',
	'FOR UPDATE with a subquery');
like($out, qr/body of 4/, 'FOR UPDATE: the re-check returned note 4\'s body');
like($reads, qr/(^|,)p4(,|$)/, 'FOR UPDATE: note 4\'s patient is read');

# MERGE: its join's condition, a subquery of the tagged table, is run again
# by the re-check of the row it updates (its actions are not: the node
# evaluates them itself, on the newest version): note 5's patient is read.
(undef, $reads) = run_after_concurrent_change('vvvvv',
	"MERGE INTO plain p USING (VALUES (1)) s (id) ON p.id = s.id\n"
	  . "  AND (SELECT n.body FROM notes n WHERE n.note_id = length(p.v)) IS NOT NULL\n"
	  . "  WHEN MATCHED THEN UPDATE SET v = 'merged';",
	'MERGE with a subquery');
is($node->safe_psql('postgres', 'SELECT v FROM plain WHERE id = 1'), 'merged',
	'MERGE: the re-check kept the row matched');
like($reads, qr/(^|,)p5(,|$)/, 'MERGE: note 5\'s patient is read');

# The re-check fails on the row its subquery is evaluating (note 3: a
# division by zero): that row is read, as a row a statement's scan was
# evaluating when it failed.
($out, $reads) = run_after_concurrent_change('vvv',
	'SELECT p.id, (SELECT 1 / (n.note_id - 3) FROM notes n WHERE n.note_id = length(p.v)) FROM plain p WHERE p.id = 1 FOR UPDATE;',
	'a failing FOR UPDATE with a subquery', 1);
like($reads, qr/(^|,)p3(,|$)/, 'failed re-check: the row its subquery was evaluating is read');

# An InitPlan the statement never runs (no row of plain passes the index
# condition, the filter using it is never evaluated) reads nothing, also
# when the re-check plan is made before the statement runs.
foreach my $case (
	[ 'FOR UPDATE', 'SELECT p.id, (SELECT n.body FROM notes n WHERE n.note_id = length(p.v)) FROM plain p WHERE p.id = 7 AND p.v = (SELECT body FROM notes WHERE note_id = 6) FOR UPDATE' ],
	[ 'UPDATE', 'UPDATE plain p SET v = (SELECT n.body FROM notes n WHERE n.note_id = length(p.v)) WHERE p.id = 7 AND p.v = (SELECT body FROM notes WHERE note_id = 6)' ])
{
	my ($what, $statement) = @$case;
	my $mark = bh_seal_mark($node, 'postgres');
	$node->safe_psql('postgres', $statement);
	is(bh_reads_since($node, $mark, 'Note'), '', "$what: an InitPlan never run reads nothing");
}

# Control: without a concurrent change, the subquery's one note is read.
$node->safe_psql('postgres', "UPDATE plain SET v = 'v1' WHERE id = 1");
my $mark = bh_seal_mark($node, 'postgres');
is($node->safe_psql('postgres',
		'SELECT (SELECT n.body FROM notes n WHERE n.note_id = length(p.v)) FROM plain p WHERE p.id = 1 FOR UPDATE'),
	'body of 2', 'uncontended: note 2\'s body');
is(bh_reads_since($node, $mark, 'Note'), 'p2', 'uncontended: note 2\'s patient is read');

$node->stop;
done_testing();
