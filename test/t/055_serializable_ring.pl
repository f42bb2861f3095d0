# SERIALIZABLE transactions and a full ring: a serialization failure raised
# in predicate locking leaves a lock of the predicate lock manager held
# until the transaction aborts; recording the statement's failure may wait
# for room in the ring, and the sealer, to make room, splits pages of the
# ledger's indexes, which moves predicate locks while any SERIALIZABLE
# transaction runs.  The failing statement's locks are released before it
# records anything, so the sealer never waits on a session that waits on
# it: under contention nothing is dropped, and every committed transaction
# has its one UPDATE event, every failed attempt its one FAILURE.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('ssi_ring', conf => q{
bh_audit.ring_size = '64kB'
bh_audit.ring_wait_timeout = '5s'
});
$node->safe_psql('postgres', q{
CREATE TABLE obs (id int PRIMARY KEY, patient_id text, v int);
INSERT INTO obs SELECT g, 'P' || g, 0 FROM generate_series(1, 2000) g;
SELECT bh_audit.tag_table('obs', 'Observation', 'id', 'patient_id');
SELECT bh_audit.seal();
});
my $mark = $node->safe_psql('postgres', 'SELECT max(seq) FROM bh_audit.events');

my $script = "$PostgreSQL::Test::Utils::tmp_check/ssi_ring.sql";
PostgreSQL::Test::Utils::append_to_file($script, q{\set r1 random(1, 10)
\set r2 random(1, 10)
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT sum(v) FROM obs WHERE id IN (:r1, :r2);
UPDATE obs SET v = v + 1 WHERE id = :r1;
END;
});
my ($out, $err) = run_command(['pgbench', '-n', '-c', '10', '-j', '4', '-T', '8',
		'--max-tries=50', '-f', $script, '-d', $node->connstr('postgres')]);
my ($committed) = $out =~ /number of transactions actually processed: (\d+)/;
my ($retries) = $out =~ /total number of retries: (\d+)/;
ok(defined $committed && $committed > 0, 'pgbench ran SERIALIZABLE transactions')
  or diag($out . $err);
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');

is($node->safe_psql('postgres', 'SELECT events_dropped_total FROM bh_audit.stats()'),
	'0', 'no event was dropped');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'Observation' AND action = 'UPDATE'
   AND outcome = 'SUCCESS'}),
	$committed, 'one UPDATE event per committed transaction');
# every serialization failure the server raised is one FAILURE event:
# count them in the server's log (pgbench's own counters leave out an
# attempt that fails as the run ends), and pgbench's retries are a floor
my $failures = $node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'Observation' AND outcome = 'FAILURE'
   AND error_type = 'serialization_failure'});
my $raised = () = slurp_file($node->logfile) =~ /ERROR:  could not serialize access/g;
ok($raised >= ($retries // 0) && $raised > 0,
	'the server raised serialization failures, at least one per retry')
  or diag("raised $raised, retries " . ($retries // 'none'));
is($failures, $raised, 'one FAILURE per failed attempt');
unlike(slurp_file($node->logfile), qr/event ring stayed full/,
	'no session waited out bh_audit.ring_wait_timeout');

$node->stop;
done_testing();
