# DROP SCHEMA s, bh_audit CASCADE dropping tagged tables of s that have
# foreign keys to, or from, tables of another schema: PostgreSQL locks
# each of those tables when it drops the key (RemoveConstraintById()), so
# the drop takes them first, with the queue (operations.md), and a reader
# of one of them whose first event comes while the drop waits commits (no
# 40P01).  The keys: one referencing the dropped table (o.ref), one of two
# columns referenced by it (o.ref2), one referencing a partitioned tagged
# table (o.ref3: PostgreSQL keeps a key per partition), among many others
# of the database that the drop leaves alone.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('drop_fk');
$node->safe_psql('postgres', q{
CREATE SCHEMA s;
CREATE SCHEMA o;
CREATE TABLE s.tt (id int PRIMARY KEY, pat text);
CREATE TABLE o.ref (id int PRIMARY KEY, tid int REFERENCES s.tt);
CREATE TABLE o.ref2 (a int, b int, PRIMARY KEY (a, b));
CREATE TABLE s.tt2 (id int, pat text, a int, b int, FOREIGN KEY (a, b) REFERENCES o.ref2);
CREATE TABLE s.ptt (id int PRIMARY KEY, pat text) PARTITION BY RANGE (id);
CREATE TABLE s.ptt_a PARTITION OF s.ptt FOR VALUES FROM (0) TO (10);
CREATE TABLE s.ptt_b PARTITION OF s.ptt FOR VALUES FROM (10) TO (20);
CREATE TABLE o.ref3 (id int PRIMARY KEY, pid int REFERENCES s.ptt);
SELECT bh_audit.tag_table('s.tt', 'ST', 'id', 'pat');
SELECT bh_audit.tag_table('s.tt2', 'ST', 'id', 'pat');
SELECT bh_audit.tag_table('s.ptt', 'ST', 'id', 'pat');
CREATE TABLE o.p (id int PRIMARY KEY);
DO $$ BEGIN FOR i IN 1 .. 100 LOOP
  EXECUTE format('CREATE TABLE o.c%s (id int REFERENCES o.p, j int REFERENCES o.p)', i);
END LOOP; END $$;
});
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_constraint WHERE contype = 'f'}),
	'205', 'the foreign keys: 200 among o\'s tables, 5 with s\'s (o.ref3\'s, one per partition too)');
# the monitor in another database (see t/159)
$node->safe_psql('postgres', 'CREATE DATABASE mon');
my $mon = $node->background_psql('mon');

# DROP SCHEMA s, bh_audit CASCADE (in a transaction, rolled back) waits
# for a reader of each table, which PostgreSQL locks when it drops the key;
# the reader's first event, while the drop waits, commits; then the drop
# runs.
my $drop = 'DROP SCHEMA s, bh_audit CASCADE';
bh_drop_waits_for_reader($node, $mon, $drop, 'o.ref');     # referencing the dropped s.tt
bh_drop_waits_for_reader($node, $mon, $drop, 'o.ref2');    # referenced by the dropped s.tt2 (a, b)
bh_drop_waits_for_reader($node, $mon, $drop, 'o.ref3');    # referencing the dropped partitions of s.ptt
$mon->quit;
done_testing();
