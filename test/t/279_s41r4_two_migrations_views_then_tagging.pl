# Two migrations run at once, each in one transaction that creates a view
# and then tags a table (a view over nothing tagged yet, then the tagging):
# both should commit.  777a137 (taken back) made the view's creation keep
# ROW EXCLUSIVE on pg_rewrite until its transaction ended and tag_table()
# take SHARE ROW EXCLUSIVE on it, an upgrade that each session made while
# the other held ROW EXCLUSIVE: PostgreSQL detected a deadlock and
# cancelled one migration.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('twomigrations', conf => "autovacuum = off\ndeadlock_timeout = '200ms'\n");
$node->safe_psql('postgres', q{
CREATE SCHEMA clin;
CREATE TABLE clin.a (id int PRIMARY KEY, patient_id int);
CREATE TABLE clin.b (id int PRIMARY KEY, patient_id int);
});

my $m1 = $node->background_psql('postgres', on_error_stop => 0);
my $m2 = $node->background_psql('postgres', on_error_stop => 0);
$m1->query_safe("SET lock_timeout = '20s'");
$m2->query_safe("SET lock_timeout = '20s'");
$m1->query_safe('BEGIN');
$m1->query_safe('CREATE VIEW clin.av AS SELECT id FROM clin.a');
$m2->query_safe('BEGIN');
$m2->query_safe('CREATE VIEW clin.bv AS SELECT id FROM clin.b');
my $pid1 = $m1->query_safe('SELECT pg_backend_pid()');
# the first migration's tagging, in the background
$m1->query_until(qr/started/, "\\echo started\n"
	. "SELECT bh_audit.tag_table('clin.a', 'A', 'id', 'patient_id');\n"
	. "COMMIT;\n\\echo m1done\n");
# (it waits for the other's view now; it committed at once before 777a137)
$node->poll_query_until('postgres', qq{
SELECT wait_event_type = 'Lock' OR query LIKE 'COMMIT%'
  FROM pg_stat_activity WHERE pid = $pid1});
# the second migration's tagging
$m2->query(q{SELECT bh_audit.tag_table('clin.b', 'B', 'id', 'patient_id')});
my $err2 = $m2->{stderr};
$m2->{stderr} = '';
$m2->query('COMMIT');
$m1->query_until(qr/m1done/, '');
my $err1 = $m1->{stderr};
$m1->quit;
$m2->quit;

unlike($err1 . $err2, qr/deadlock detected/,
	'two migrations that create a view and then tag a table do not deadlock');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM pg_class WHERE relname IN ('av', 'bv') AND relnamespace = 'clin'::regnamespace}),
	'2', 'both migrations committed their view');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM bh_audit.tagged_tables WHERE resource_type IN ('A', 'B')}),
	'2', 'both migrations committed their tagging');

done_testing();
