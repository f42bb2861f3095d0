# A failure at Bind (a parameter that does not convert) comes before any
# table is opened and before PostgreSQL analyses the statement again: it
# is recognised by the statement's text, noted with the tagged table that
# its latest analysis found, under the search_path, role and catalog of
# that analysis.  The note must never name a table the failing statement
# does not name:
#  - two texts are two statements, even when a 32-bit hash of both is the
#    same;
#  - after ALTER SCHEMA ... RENAME and a new schema of the old name, or
#    ALTER TABLE ... SET SCHEMA and a new table of the old name, the text
#    names the new, untagged table, not the moved tagged one;
#  - a text whose latest analysis under this search_path found an
#    untagged table first (one that shadows a tagged table of the same
#    name later in the path) names no tagged table there.
# pgbench -M prepared parses each command when it first runs it and binds
# it again in later transactions; :n counts the transactions of a run.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('bind_notes');
$node->safe_psql('postgres', q{
CREATE SCHEMA ta; CREATE SCHEMA tc; CREATE SCHEMA ra; CREATE SCHEMA sa; CREATE SCHEMA sx;
CREATE TABLE ta.notes (note_id int PRIMARY KEY, patient_id text, body text);
CREATE TABLE tc.notes (note_id int PRIMARY KEY, patient_id text, body text);
CREATE TABLE ra.notes (note_id int PRIMARY KEY, patient_id text, body text);
CREATE TABLE sa.notes (note_id int PRIMARY KEY, patient_id text, body text);
SELECT bh_audit.tag_table('ta.notes', 'Note', 'note_id', 'patient_id');
SELECT bh_audit.tag_table('ra.notes', 'Note', 'note_id', 'patient_id');
SELECT bh_audit.tag_table('sa.notes', 'Note', 'note_id', 'patient_id');
CREATE SEQUENCE runs;
});

# One pgbench session of $n transactions running $body, whose last Bind
# fails ('x' for an integer); the earlier ones bind 9.  Returns its
# failures, "actor action outcome table" in the order recorded.
sub run_session
{
	my ($name, $n, $body) = @_;
	my $mark = bh_seal_mark($node, 'postgres');

	bh_bind_fails_last($node, $name, $n, $body, actor => 0);
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT string_agg(actor_id || ' ' || action || ' ' || outcome || ' '
                  || (event -> 'metadata' ->> 'table'), ', ' ORDER BY seq)
  FROM bh_audit.events
 WHERE seq > $mark AND outcome <> 'SUCCESS'});
}

# Two texts of the same length whose 32-bit hash (hash_any, as hashtext()
# computes it) is the same: one on ta.notes (tagged), one on tc.notes.
my ($a, $b) = split /\|/, $node->safe_psql('postgres', q{
WITH a AS (SELECT i, hashtext(format('SELECT body FROM ta.notes WHERE note_id = $1 AND %s <> 0;', i)) AS h
             FROM generate_series(1000000, 1262143) i),
     b AS (SELECT i, hashtext(format('SELECT body FROM tc.notes WHERE note_id = $1 AND %s <> 0;', i)) AS h
             FROM generate_series(1000000, 1262143) i)
SELECT a.i, b.i FROM a JOIN b USING (h) ORDER BY a.i, b.i LIMIT 1});
ok(defined $b, "texts of the same 32-bit hash: ta $a, tc $b");
is(run_session('collision', 2, qq{BEGIN;
SELECT bh_audit.set_context(actor_id => 'collide');
SELECT body FROM tc.notes WHERE note_id = :v AND $b <> 0;
SELECT body FROM ta.notes WHERE note_id = :n AND $a <> 0;
COMMIT;
}), '', 'a failing Bind on tc.notes is not taken for the statement on ta.notes');

# The schema renamed, a new one of its name: the text names the new table.
is(run_session('renamed', 2, q{\if :n = 2
ALTER SCHEMA ra RENAME TO ra_old;
CREATE SCHEMA ra;
CREATE TABLE ra.notes (note_id int PRIMARY KEY, patient_id text, body text);
\endif
BEGIN;
SELECT bh_audit.set_context(actor_id => 'renamed');
SELECT body FROM ra.notes WHERE note_id = :v;
COMMIT;
}), '', 'after ALTER SCHEMA ... RENAME: no FAILURE on ra_old.notes');

# The table moved to another schema, a new one of its name: likewise.
{
	local $ENV{PGOPTIONS} = '-c search_path=sa';
	is(run_session('moved', 2, q{\if :n = 2
ALTER TABLE sa.notes SET SCHEMA sx;
CREATE TABLE sa.notes (note_id int PRIMARY KEY, patient_id text, body text);
\endif
BEGIN;
SELECT bh_audit.set_context(actor_id => 'moved');
SELECT body FROM notes WHERE note_id = :v;
COMMIT;
}), '', 'after ALTER TABLE ... SET SCHEMA: no FAILURE on sx.notes');
}

# Analysed under ta (ta.notes), then under tc, ta (tc.notes, untagged,
# first): its failing Bind under tc, ta is no failure on ta.notes; under
# ta again (not analysed again: the Bind fails first) it is.
{
	local $ENV{PGOPTIONS} = '-c search_path=ta';
	is(run_session('shadowed', 3, q{BEGIN;
SELECT set_config('search_path', CASE WHEN :n = 1 THEN 'ta' ELSE 'tc, ta' END, true);
SELECT bh_audit.set_context(actor_id => 'shadowed');
SELECT body FROM notes WHERE note_id = :v;
COMMIT;
}), '', 'a Bind failing where an untagged table shadows the tagged one: no FAILURE');
	is(run_session('unshadowed', 3, q{BEGIN;
SELECT set_config('search_path', CASE WHEN :n = 2 THEN 'tc, ta' ELSE 'ta' END, true);
SELECT bh_audit.set_context(actor_id => 'unshadowed');
SELECT body FROM notes WHERE note_id = :v;
COMMIT;
}), 'unshadowed READ FAILURE ta.notes',
		'the same text failing under ta: a FAILURE on ta.notes');
}

$node->stop;
done_testing();
