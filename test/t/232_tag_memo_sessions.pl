# The tag cache's answer for the relation asked about last (its memo) must
# be the hash table's: a session that read a table over and over takes in
# every other session's (and its own) change of tagging, of the table's
# name or columns, of its partition tree and of the views over it, at its
# next statement.  Each step reads the table twice first (the second
# look-ups are answered by the memo), then changes it, then reads again.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('tagmemo');
$node->safe_psql('postgres', q{
CREATE SCHEMA clin;
CREATE TABLE clin.a (id int PRIMARY KEY, patient_id int);
INSERT INTO clin.a VALUES (1, 11);
CREATE TABLE clin.u (id int PRIMARY KEY, patient_id int);
INSERT INTO clin.u VALUES (1, 21);
CREATE TABLE clin.w (id int PRIMARY KEY, patient_id int);
INSERT INTO clin.w VALUES (1, 31);
CREATE VIEW clin.v AS SELECT id, patient_id FROM clin.w;
CREATE TABLE clin.p (id int, patient_id int) PARTITION BY RANGE (id);
CREATE TABLE clin.p1 PARTITION OF clin.p FOR VALUES FROM (0) TO (100);
INSERT INTO clin.p VALUES (1, 41);
CREATE TABLE clin.s (id int PRIMARY KEY, patient_id int);
INSERT INTO clin.s VALUES (1, 51);
CREATE TABLE clin.marker (id int PRIMARY KEY, patient_id int);
INSERT INTO clin.marker VALUES (1, 99);
SELECT bh_audit.tag_table('clin.a', 'A', 'id', 'patient_id');
SELECT bh_audit.tag_table('clin.p', 'P', 'id', 'patient_id');
SELECT bh_audit.tag_table('clin.s', 'S', 'id', 'patient_id');
SELECT bh_audit.tag_table('clin.marker', 'Marker', 'id', 'patient_id');
});
my $mark = bh_seal_mark($node, 'postgres');

my $r = $node->background_psql('postgres');
$r->query_safe("SET application_name = 'memo_reader'");
my $twice = sub {
	my ($q) = @_;
	$r->query_safe($q) for 1 .. 2;
};
my $other = sub { $node->safe_psql('postgres', $_[0]); };
my @want;

# 1. untagged by another session
$twice->('SELECT patient_id FROM clin.a WHERE id = 1');
push @want, ('A|11|clin.a') x 2;
$other->(q{SELECT bh_audit.untag_table('clin.a')});
$r->query_safe('SELECT patient_id FROM clin.a WHERE id = 1');

# 2. tagged again, as another resource type
$twice->('SELECT patient_id FROM clin.a WHERE id = 1');
$other->(q{SELECT bh_audit.tag_table('clin.a', 'A2', 'id', 'patient_id')});
$r->query_safe('SELECT patient_id FROM clin.a WHERE id = 1');
push @want, 'A2|11|clin.a';

# 3. renamed, and its patient column renamed
$twice->('SELECT patient_id FROM clin.a WHERE id = 1');
push @want, ('A2|11|clin.a') x 2;
$other->('ALTER TABLE clin.a RENAME TO b');
$r->query_safe('SELECT patient_id FROM clin.b WHERE id = 1');
push @want, 'A2|11|clin.b';
$other->('ALTER TABLE clin.b RENAME COLUMN patient_id TO pid');
$r->query_safe('SELECT pid FROM clin.b WHERE id = 1');
push @want, 'A2|11|clin.b';

# 4. dropped, and another table made with its name
$twice->('SELECT pid FROM clin.b WHERE id = 1');
push @want, ('A2|11|clin.b') x 2;
$other->(q{DROP TABLE clin.b;
CREATE TABLE clin.b (id int PRIMARY KEY, pid int); INSERT INTO clin.b VALUES (1, 12)});
$r->query_safe('SELECT pid FROM clin.b WHERE id = 1');

# 5. an untagged table tagged by another session
$twice->('SELECT patient_id FROM clin.u WHERE id = 1');
$other->(q{SELECT bh_audit.tag_table('clin.u', 'U', 'id', 'patient_id')});
$r->query_safe('SELECT patient_id FROM clin.u WHERE id = 1');
push @want, 'U|21|clin.u';

# 6. a view over an untagged table, the table tagged
$twice->('SELECT patient_id FROM clin.v WHERE id = 1');
$other->(q{SELECT bh_audit.tag_table('clin.w', 'W', 'id', 'patient_id')});
$r->query_safe('SELECT patient_id FROM clin.v WHERE id = 1');
push @want, 'W|31|clin.w';

# 7. a partition of a tagged table, detached and attached again
$twice->('SELECT patient_id FROM clin.p1 WHERE id = 1');
push @want, ('P|41|clin.p') x 2;
$other->('ALTER TABLE clin.p DETACH PARTITION clin.p1');
$twice->('SELECT patient_id FROM clin.p1 WHERE id = 1');
$other->('ALTER TABLE clin.p ATTACH PARTITION clin.p1 FOR VALUES FROM (0) TO (100)');
$r->query_safe('SELECT patient_id FROM clin.p1 WHERE id = 1');
push @want, 'P|41|clin.p';

# 8. its parent untagged, then the partition tagged on its own
$twice->('SELECT patient_id FROM clin.p1 WHERE id = 1');
push @want, ('P|41|clin.p') x 2;
$other->(q{SELECT bh_audit.untag_table('clin.p')});
$r->query_safe('SELECT patient_id FROM clin.p1 WHERE id = 1');
$other->(q{SELECT bh_audit.tag_table('clin.p1', 'P1', 'id', 'patient_id')});
$r->query_safe('SELECT patient_id FROM clin.p1 WHERE id = 1');
push @want, 'P1|41|clin.p1';

# 9. its own transaction: untagged in a savepoint rolled back, tagged in one
$r->query_safe('BEGIN');
$twice->('SELECT patient_id FROM clin.s WHERE id = 1');
push @want, ('S|51|clin.s') x 2;
$r->query_safe('SAVEPOINT x');
$r->query_safe(q{SELECT bh_audit.untag_table('clin.s')});
$r->query_safe('SELECT patient_id FROM clin.s WHERE id = 1');
$r->query_safe('ROLLBACK TO SAVEPOINT x');
$twice->('SELECT patient_id FROM clin.s WHERE id = 1');
push @want, ('S|51|clin.s') x 2;
$r->query_safe('COMMIT');
$r->query_safe('BEGIN');
$other->('CREATE TABLE clin.t (id int PRIMARY KEY, patient_id int); INSERT INTO clin.t VALUES (1, 61)');
$twice->('SELECT patient_id FROM clin.t WHERE id = 1');
$r->query_safe('SAVEPOINT y');
$r->query_safe(q{SELECT bh_audit.tag_table('clin.t', 'T', 'id', 'patient_id')});
$r->query_safe('SELECT patient_id FROM clin.t WHERE id = 1');
push @want, 'T|61|clin.t';
$r->query_safe('ROLLBACK TO SAVEPOINT y');
$twice->('SELECT patient_id FROM clin.t WHERE id = 1');
$r->query_safe('COMMIT');

# 10. ANALYZE of the table (its entry re-resolved), then read again
$twice->('SELECT patient_id FROM clin.s WHERE id = 1');
push @want, ('S|51|clin.s') x 2;
$other->('ANALYZE clin.s');
$r->query_safe('SELECT patient_id FROM clin.s WHERE id = 1');
push @want, 'S|51|clin.s';

# 11. tagged by another session while its transaction holds the table's
# lock (tag_table() does not wait for readers), in REPEATABLE READ, by a
# prepared statement whose plan stays valid
$other->('CREATE TABLE clin.h (id int PRIMARY KEY, patient_id int); INSERT INTO clin.h VALUES (1, 71)');
$r->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$r->query_safe('PREPARE q AS SELECT patient_id FROM clin.h WHERE id = 1');
$twice->('EXECUTE q');
$other->(q{SELECT bh_audit.tag_table('clin.h', 'H', 'id', 'patient_id')});
$twice->('EXECUTE q');
push @want, ('H|71|clin.h') x 2;
$r->query_safe('COMMIT');
$r->query_safe('DEALLOCATE q');

# 12. a tagged temporary table read, then dropped at COMMIT (ON COMMIT
# DROP), where the cache is not loaded again: the drop is the tagged table's
$r->query_safe('BEGIN');
$r->query_safe('CREATE TEMP TABLE scratch (id int, patient_id int) ON COMMIT DROP');
$r->query_safe('INSERT INTO scratch VALUES (1, 81)');
$r->query_safe(q{SELECT bh_audit.tag_table('scratch', 'Scratch', 'id', 'patient_id')});
$twice->('SELECT patient_id FROM scratch WHERE id = 1');
push @want, ('Scratch|81|pg_temp.scratch') x 2;
$r->query_safe('COMMIT');

$r->query_safe('SELECT patient_id FROM clin.marker WHERE id = 1');
push @want, 'Marker|99|clin.marker';
$r->quit;

bh_wait_sealed($node, 'postgres', "seq > $mark AND resource_type = 'Marker'", 1);
is($node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws('|', resource_type, patient_id,
                            regexp_replace(event -> 'metadata' ->> 'table', '^pg_temp_[0-9]+', 'pg_temp')),
                 E'\n' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND action = 'READ'}),
	join("\n", @want), 'every read as the tagging stood at its statement');
is($node->safe_psql('postgres', qq{
SELECT string_agg(action || '|' || (event -> 'metadata' ->> 'change'), ',' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'AuditConfiguration'
   AND resource_id LIKE '%.scratch'}),
	'CREATE|tag_table,DELETE|tagged_table_dropped',
	'the temporary table read last is recorded as dropped at commit');

done_testing();
