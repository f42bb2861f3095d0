# Routine partition maintenance of a tagged partitioned table: ATTACH
# PARTITION of a plain, untagged table under it must not wait for an
# open transaction that created a view.  777a137 (taken back) made the
# attach's guard take SHARE ROW EXCLUSIVE on pg_rewrite, which a view's
# creator kept ROW EXCLUSIVE on to its end: the attach waited for any
# open transaction that created any view, holding its locks on the
# parent and the partition.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('attachuntagged', conf => "autovacuum = off\n");
$node->safe_psql('postgres', q{
CREATE SCHEMA clin;
CREATE SCHEMA app;
CREATE TABLE clin.p (id int, patient_id int) PARTITION BY RANGE (id);
CREATE TABLE clin.p1 PARTITION OF clin.p FOR VALUES FROM (0) TO (10);
SELECT bh_audit.tag_table('clin.p', 'P', 'id', 'patient_id');
CREATE TABLE clin.p2 (id int, patient_id int);
});

# an unrelated migration, its view made, left open
my $c = $node->background_psql('postgres');
$c->query_safe('BEGIN');
$c->query_safe('CREATE VIEW app.v AS SELECT 1 AS x');

my ($ret, $out, $err) = $node->psql('postgres', q{SET lock_timeout = '3s';
ALTER TABLE clin.p ATTACH PARTITION clin.p2 FOR VALUES FROM (10) TO (20)});
is($ret, 0, 'an untagged table attached under a tagged partitioned table does not wait for an unrelated open view creation')
	or diag($err);
$c->query_safe('COMMIT');
$c->quit;
is($node->safe_psql('postgres', q{
SELECT count(*) FROM pg_inherits WHERE inhrelid = 'clin.p2'::regclass}),
	'1', 'the partition is attached');

done_testing();
