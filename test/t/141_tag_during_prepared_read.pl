# tagging.md: "A tag applies to the statements that start after tag_table()
# committed" (and an untagging likewise).  In a transaction that already
# holds a lock on the table (it read it before the change), an EXECUTE of
# a prepared statement takes in no invalidation by itself (its plan is
# valid, its lock already held, no catalog lookup misses): the session
# learns of a committed change of tagging from the shared generation that
# every such change advances after its commit (a prepared one's: after its
# COMMIT PREPARED), read as each statement starts.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('tag_during_prepared_read',
	conf => "max_prepared_transactions = 2\n");
$node->safe_psql('postgres', q{
CREATE TABLE r4 (id int, pid text);
INSERT INTO r4 SELECT g, 'p' || g FROM generate_series(1, 5) g;
CREATE TABLE r5 (id int, pid text, pid2 text);
INSERT INTO r5 SELECT g, 'a' || g, 'b' || g FROM generate_series(1, 5) g;
SELECT bh_audit.tag_table('r5', 'R5a', 'id', 'pid', capture_writes => false);
CREATE TABLE r6 (id int, pid text);
INSERT INTO r6 SELECT g, 'u' || g FROM generate_series(1, 5) g;
SELECT bh_audit.tag_table('r6', 'R6', 'id', 'pid', capture_writes => false);
CREATE TABLE r7 (id int, pid text);
INSERT INTO r7 SELECT g, 'f' || g FROM generate_series(1, 5) g;
CREATE FUNCTION r7_pid(int) RETURNS text LANGUAGE plpgsql
  AS $$BEGIN RETURN (SELECT pid FROM r7 WHERE id = $1); END$$;
CREATE TABLE r9 (id int, pid text);
INSERT INTO r9 SELECT g, 't' || g FROM generate_series(1, 5) g;
});

sub reads_since
{
	my ($mark, $types) = @_;
	my $r = $node->safe_psql('postgres', qq{
SELECT bh_audit.seal() >= 0;
SELECT coalesce(string_agg(resource_type || ':' || patient_id, ',' ORDER BY seq), '')
  FROM bh_audit.events
 WHERE seq > $mark AND action = 'READ' AND resource_type IN ($types)});
	return (split /\n/, $r, 2)[1] // '';
}

my $s = $node->background_psql('postgres');

# tagged while the transaction holds its lock: the EXECUTEs after the commit
# are captured, as the plain SELECT is
my $mark = bh_seal_mark($node, 'postgres');
$s->query_safe('PREPARE q AS SELECT id, pid FROM r4 WHERE id = $1');
$s->query_safe('BEGIN');
$s->query_safe('EXECUTE q(1)');
$node->safe_psql('postgres',
	q{SELECT bh_audit.tag_table('r4', 'R4', 'id', 'pid', capture_writes => false)});
$s->query_safe('EXECUTE q(2)');
$s->query_safe('EXECUTE q(3)');
$s->query_safe('SELECT id, pid FROM r4 WHERE id = 4');
$s->query_safe('COMMIT');
$s->query_safe('EXECUTE q(5)');
is(reads_since($mark, q{'R4'}), 'R4:p2,R4:p3,R4:p4,R4:p5',
	'the EXECUTEs started after the tagging committed are captured');

# untagged and tagged again with another patient column: the EXECUTEs after
# the commit record the new column's values under the new tag
$mark = bh_seal_mark($node, 'postgres');
$s->query_safe('PREPARE q5 AS SELECT id, pid, pid2 FROM r5 WHERE id = $1');
$s->query_safe('BEGIN');
$s->query_safe('EXECUTE q5(1)');
$node->safe_psql('postgres', q{
BEGIN;
SELECT bh_audit.untag_table('r5');
SELECT bh_audit.tag_table('r5', 'R5b', 'id', 'pid2', capture_writes => false);
COMMIT;
});
$s->query_safe('EXECUTE q5(2)');
$s->query_safe('EXECUTE q5(3)');
$s->query_safe('COMMIT');
is(reads_since($mark, q{'R5a', 'R5b'}), 'R5a:a1,R5b:b2,R5b:b3',
	'the EXECUTEs started after the retagging committed use the new patient column');

# untagged: the EXECUTEs after the commit are no longer captured
$mark = bh_seal_mark($node, 'postgres');
$s->query_safe('PREPARE q6 AS SELECT id, pid FROM r6 WHERE id = $1');
$s->query_safe('BEGIN');
$s->query_safe('EXECUTE q6(1)');
$node->safe_psql('postgres', q{SELECT bh_audit.untag_table('r6')});
$s->query_safe('EXECUTE q6(2)');
$s->query_safe('COMMIT');
is(reads_since($mark, q{'R6'}), 'R6:u1',
	'the EXECUTE started after the untagging committed is not captured');

# a function's cached plan, run by a statement that names no table: the
# statement's start takes the tagging in
$mark = bh_seal_mark($node, 'postgres');
$s->query_safe('BEGIN');
$s->query_safe('SELECT r7_pid(1)');
$node->safe_psql('postgres',
	q{SELECT bh_audit.tag_table('r7', 'R7', 'id', 'pid', capture_writes => false)});
$s->query_safe('SELECT r7_pid(2)');
$s->query_safe('COMMIT');
is(reads_since($mark, q{'R7'}), 'R7:f2',
	'a function\'s statement started after the tagging committed is captured');

# tagged in a prepared transaction: captured from the COMMIT PREPARED on,
# not before
$mark = bh_seal_mark($node, 'postgres');
$s->query_safe('PREPARE q9 AS SELECT id, pid FROM r9 WHERE id = $1');
$s->query_safe('BEGIN');
$s->query_safe('EXECUTE q9(1)');
$node->safe_psql('postgres', q{
BEGIN;
SELECT bh_audit.tag_table('r9', 'R9', 'id', 'pid', capture_writes => false);
PREPARE TRANSACTION 'tag_r9';
});
$s->query_safe('EXECUTE q9(2)');
$node->safe_psql('postgres', q{COMMIT PREPARED 'tag_r9'});
$s->query_safe('EXECUTE q9(3)');
$s->query_safe('COMMIT');
is(reads_since($mark, q{'R9'}), 'R9:t3',
	'the EXECUTE started after the COMMIT PREPARED of a tagging is captured');

$s->quit;
done_testing();
