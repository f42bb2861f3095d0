# A non-recursive WITH query's own body (and an earlier
# sibling's) does not see its name: WITH notes AS (SELECT * FROM notes) reads
# the table notes.  Under another search_path the EXECUTE failing on its
# parameters must be recorded on the table the new analysis finds.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('execute_cte_self_ref');
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
	my $mark = (split /\n/, $node->safe_psql('postgres',
		'SELECT bh_audit.seal(); SELECT coalesce(max(seq), 0) FROM bh_audit.events'))[-1];
	$node->psql('postgres', $sql, on_error_stop => 0);
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT string_agg(actor_id || ' ' || (event -> 'metadata' ->> 'table') || ' ' || action,
                  ', ' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND outcome <> 'SUCCESS'});
}

my $prep = q{
SET search_path = ta;
PREPARE w(int) AS WITH notes AS (SELECT * FROM notes) SELECT count(*) FROM notes WHERE note_id = $1;
PREPARE v(int) AS WITH a AS (SELECT * FROM notes), notes AS (SELECT 1 AS note_id)
  SELECT count(*) FROM a WHERE note_id = $1;
};

is(failures($prep . q{
BEGIN; SELECT bh_audit.set_context(actor_id => 'same_w'); EXECUTE w('x'); ROLLBACK;
BEGIN; SELECT bh_audit.set_context(actor_id => 'same_v'); EXECUTE v('x'); ROLLBACK;
}), 'same_w ta.notes READ, same_v ta.notes READ',
	'same path: the WITH query\'s body reads the table notes');

is(failures($prep . q{
BEGIN; SET LOCAL search_path = tb; SELECT bh_audit.set_context(actor_id => 'x_w'); EXECUTE w('x'); ROLLBACK;
}), 'x_w tb.notes READ',
	'another path: WITH notes AS (SELECT * FROM notes): the inner notes is the table');

is(failures($prep . q{
BEGIN; SET LOCAL search_path = tb; SELECT bh_audit.set_context(actor_id => 'x_v'); EXECUTE v('x'); ROLLBACK;
}), 'x_v tb.notes READ',
	'another path: a later sibling WITH query does not hide the table in an earlier one');

$node->stop;
done_testing();
