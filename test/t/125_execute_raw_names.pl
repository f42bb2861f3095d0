# An EXECUTE that fails on its parameters under another search_path than
# the one its statement was analysed under is recorded on the tagged table
# that PostgreSQL's new analysis will find (bh_prepared_relids_now walks the raw
# parse tree).  A WITH query's name hides a table only where the WITH is in
# scope, and never the target of INSERT/UPDATE/DELETE/MERGE; a name in
# FOR UPDATE OF is a reference to a FROM item, not a relation.  The same
# statements EXECUTEd under the path they were prepared under are
# recorded from their analysis: both must agree.
# A non-recursive WITH query's own body (and an earlier sibling's) does not
# see its name either: WITH notes AS (SELECT * FROM notes) reads the table.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('execute_raw_names');
$node->safe_psql('postgres', q{
CREATE SCHEMA ta; CREATE SCHEMA tb;
CREATE TABLE ta.notes (note_id int PRIMARY KEY, patient_id text);
CREATE TABLE tb.notes (note_id int PRIMARY KEY, patient_id text);
CREATE TABLE public.plain (a int);
SELECT bh_audit.tag_table('ta.notes', 'NoteA', 'note_id', 'patient_id');
SELECT bh_audit.tag_table('tb.notes', 'NoteB', 'note_id', 'patient_id');
});

sub failures
{
	my ($sql) = @_;
	my $mark = bh_seal_mark($node, 'postgres');
	$node->psql('postgres', $sql, on_error_stop => 0);
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT string_agg(actor_id || ' ' || (event -> 'metadata' ->> 'table') || ' ' || action,
                  ', ' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND outcome <> 'SUCCESS'});
}

my $prep = q{
SET search_path = ta;
PREPARE i(int) AS WITH notes AS (SELECT 1 AS x) INSERT INTO notes (note_id) VALUES ($1);
PREPARE s(int) AS SELECT count(*) FROM notes WHERE note_id = $1
  AND EXISTS (WITH notes AS (SELECT 1 AS x) SELECT x FROM notes);
PREPARE f(int) AS SELECT * FROM public.plain AS notes WHERE a = $1 FOR UPDATE OF notes;
EXECUTE s(1);
};

# control: under the path of the analysis, the analysis' tables
is(failures($prep . q{
BEGIN; SELECT bh_audit.set_context(actor_id => 'same_i'); EXECUTE i('x'); ROLLBACK;
BEGIN; SELECT bh_audit.set_context(actor_id => 'same_s'); EXECUTE s('x'); ROLLBACK;
BEGIN; SELECT bh_audit.set_context(actor_id => 'same_f'); EXECUTE f('x'); ROLLBACK;
}), 'same_i ta.notes CREATE, same_s ta.notes READ',
	'same path: the INSERT target and the outer name are tables, FOR UPDATE OF names none');

is(failures($prep . q{
BEGIN; SET LOCAL search_path = tb; SELECT bh_audit.set_context(actor_id => 'x_i'); EXECUTE i('x'); ROLLBACK;
}), 'x_i tb.notes CREATE',
	'another path: a WITH query named like the INSERT target does not hide the target');

is(failures($prep . q{
BEGIN; SET LOCAL search_path = tb; SELECT bh_audit.set_context(actor_id => 'x_s'); EXECUTE s('x'); ROLLBACK;
}), 'x_s tb.notes READ',
	'another path: a WITH query inside a subquery does not hide the outer table');

is(failures($prep . q{
BEGIN; SET LOCAL search_path = tb; SELECT bh_audit.set_context(actor_id => 'x_f'); EXECUTE f('x'); ROLLBACK;
}), '',
	'another path: FOR UPDATE OF notes (an alias of public.plain) is no failure on tb.notes');

my $prep_cte = q{
SET search_path = ta;
PREPARE w(int) AS WITH notes AS (SELECT * FROM notes) SELECT count(*) FROM notes WHERE note_id = $1;
PREPARE v(int) AS WITH a AS (SELECT * FROM notes), notes AS (SELECT 1 AS note_id)
  SELECT count(*) FROM a WHERE note_id = $1;
};

is(failures($prep_cte . q{
BEGIN; SELECT bh_audit.set_context(actor_id => 'same_w'); EXECUTE w('x'); ROLLBACK;
BEGIN; SELECT bh_audit.set_context(actor_id => 'same_v'); EXECUTE v('x'); ROLLBACK;
}), 'same_w ta.notes READ, same_v ta.notes READ',
	'same path: the WITH query\'s body reads the table notes');

is(failures($prep_cte . q{
BEGIN; SET LOCAL search_path = tb; SELECT bh_audit.set_context(actor_id => 'x_w'); EXECUTE w('x'); ROLLBACK;
}), 'x_w tb.notes READ',
	'another path: WITH notes AS (SELECT * FROM notes): the inner notes is the table');

is(failures($prep_cte . q{
BEGIN; SET LOCAL search_path = tb; SELECT bh_audit.set_context(actor_id => 'x_v'); EXECUTE v('x'); ROLLBACK;
}), 'x_v tb.notes READ',
	'another path: a later sibling WITH query does not hide the table in an earlier one');

$node->stop;
done_testing();
