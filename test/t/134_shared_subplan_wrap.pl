# A correlated subquery that PostgreSQL copies into several expressions
# keeps one plan state for all copies: under each partition's filter of a
# partitioned table, or in an OR clause the planner also extracts as a
# restriction of one side of a join.  The plan state is reached once per
# copy; its scan of a tagged table (or a LockRows node over it) must be
# wrapped once, else the wrapper calls itself until the stack overflows and
# the server resets every session.  Any role with SELECT can write such a
# statement.  The rows each subquery produced are read once, as usual.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

# (should it crash, the server restarts and the checks after it still run)
my $node = bh_node('shared_subplan_wrap', conf => "restart_after_crash = on\n");
$node->safe_psql('postgres', q{
CREATE SCHEMA clinic;
CREATE TABLE clinic.notes (id int PRIMARY KEY, pid text, body text);
INSERT INTO clinic.notes SELECT i, format('P%s', lpad(i::text, 3, '0')), 'b'
  FROM generate_series(1, 40) i;
SELECT bh_audit.tag_table('clinic.notes', 'Note', 'id', 'pid');
CREATE TABLE clinic.up (id int) PARTITION BY RANGE (id);
CREATE TABLE clinic.up1 PARTITION OF clinic.up FOR VALUES FROM (0) TO (10);
CREATE TABLE clinic.up2 PARTITION OF clinic.up FOR VALUES FROM (10) TO (100);
INSERT INTO clinic.up SELECT generate_series(1, 20);
CREATE TABLE clinic.lookup (k int PRIMARY KEY, label text);
INSERT INTO clinic.lookup SELECT i, 'l' || i FROM generate_series(1, 20) i;
VACUUM ANALYZE clinic.notes, clinic.up, clinic.lookup;
CREATE ROLE reader LOGIN;
GRANT USAGE ON SCHEMA clinic TO reader;
GRANT SELECT ON ALL TABLES IN SCHEMA clinic TO reader;
GRANT UPDATE ON clinic.notes TO reader;
});

my $n = 0;

# Run $sql as reader under a fresh actor: its result and error, and the
# patients of its READ events (first, last, count).
sub run
{
	my ($sql) = @_;
	my $actor = 'sub134-' . ++$n;
	my ($ret, $out, $err) = $node->psql('postgres', "SET bh_audit.actor_id = '$actor'; $sql",
		extra_params => [ '-U', 'reader' ], on_error_stop => 0);
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	my $ev = $node->safe_psql('postgres', qq{
SELECT min(patient_id) || '..' || max(patient_id) || ' ' || count(*) || ' ' || count(DISTINCT patient_id)
  FROM bh_audit.events WHERE actor_id = '$actor' AND action = 'READ' AND outcome = 'SUCCESS'});
	return ($ret, $out, $err, $ev);
}

my ($ret, $out, $err, $ev);

($ret, $out, $err, $ev) = run(q{
SELECT count(*) FROM clinic.up u WHERE (SELECT n.id FROM clinic.notes n WHERE n.id = u.id) > 0});
is($ret, 0, "a subquery under each partition's filter runs [$err]");
is($out, '20', 'and returns its rows');
is($ev, 'P001..P020 20 20', 'each patient its subqueries produced is read once');

($ret, $out, $err, $ev) = run(q{
SELECT count(*) FROM clinic.up u
 WHERE (SELECT n.id FROM clinic.notes n WHERE n.id = u.id FOR UPDATE) > 0});
is($ret, 0, "a locking subquery under each partition's filter runs [$err]");
is($out, '20', 'and returns its rows');
is($ev, 'P001..P020 20 20', 'each patient its locking subqueries produced is read once');

($ret, $out, $err, $ev) = run(q{
SELECT count(*) FROM clinic.lookup a JOIN clinic.lookup b ON a.k = b.k
 WHERE (a.k = 1 AND b.label = 'x')
    OR (SELECT count(*) FROM clinic.notes n WHERE n.id = a.k) > 1});
is($ret, 0, "a subquery in an OR clause also pushed to one side of a join runs [$err]");
is($out, '0', 'and returns its rows');
is($ev, 'P001..P020 20 20', 'each patient its subqueries produced is read once');

# an UPDATE's RETURNING list over the same shared subquery
($ret, $out, $err, $ev) = run(q{BEGIN;
UPDATE clinic.notes t SET body = 'c' FROM clinic.up u
 WHERE t.id = u.id AND (SELECT n.id FROM clinic.notes n WHERE n.id = u.id) > 0;
ROLLBACK});
is($ret, 0, "an UPDATE joining through the partitions runs [$err]");

unlike(slurp_file($node->logfile), qr/terminated by signal/,
	'no backend was terminated by a signal (no server reset)');

$node->stop;
done_testing();
