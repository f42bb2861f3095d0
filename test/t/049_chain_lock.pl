# A row that continues the chain from outside the sealer (a restore, a
# replicated row, a superuser's INSERT through the ledger's guard) takes
# the sealer's chain lock: a batch of the sealer waits for that transaction
# instead of reading the same head and failing on the primary key (a batch
# that fails on a data error four times discards the ring event it holds).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = bh_node('chain_lock');
$node->safe_psql('postgres', q{
SELECT bh_audit.emit('READ', 'Patient', 'pat_1', 'pat_1');
SELECT bh_audit.seal();
});
my $log_start = -s $node->logfile;

# A row that continues the chain, left uncommitted.
my $forger = $node->background_psql('postgres');
$forger->query_safe('BEGIN');
$forger->query_safe(q{
INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
SELECT h.seq + 1, f.event, 'sha256', h.event_hash, bh_audit.event_hash(f.event::json, h.event_hash)
  FROM bh_audit.chain_head() h,
       LATERAL (SELECT jsonb_set(event, '{event_id}', to_jsonb(gen_random_uuid()::text)) AS event
                  FROM bh_audit.events WHERE seq = 1) f});
my $forged_seq = $forger->query_safe('SELECT max(seq) FROM bh_audit.events');

# An event to seal meanwhile: the sealer waits for the forger's lock.
$node->safe_psql('postgres', q{SELECT bh_audit.emit('READ', 'Patient', 'pat_2', 'pat_2')});
my $waiting = '';
for (1 .. 200)
{
	$waiting = $node->safe_psql('postgres', q{
SELECT wait_event_type || ':' || wait_event FROM pg_stat_activity
 WHERE backend_type = 'bh_audit sealer'});
	last if $waiting eq 'Lock:advisory';
	usleep(50_000);
}
is($waiting, 'Lock:advisory', 'the sealer waits for the chain lock');
$forger->query_safe('COMMIT');
$forger->quit;

$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres',
		q{SELECT seq FROM bh_audit.events WHERE patient_id = 'pat_2'}),
	$forged_seq + 1, 'the event is sealed after the committed row');
is($node->safe_psql('postgres', 'SELECT events_dropped_total FROM bh_audit.stats()'),
	'0', 'nothing dropped');
unlike(slurp_file($node->logfile, $log_start), qr/duplicate key value violates unique constraint "events_pkey"/,
	'no batch failed on the primary key');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');
# seal() in the transaction that added such a row would wait for itself:
# it says so at once.
my ($ret, $out, $err) = $node->psql('postgres', q{
SET statement_timeout = '30s';
BEGIN;
INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
SELECT h.seq + 1, f.event, 'sha256', h.event_hash, bh_audit.event_hash(f.event::json, h.event_hash)
  FROM bh_audit.chain_head() h,
       LATERAL (SELECT jsonb_set(event, '{event_id}', to_jsonb(gen_random_uuid()::text)) AS event
                  FROM bh_audit.events WHERE seq = 1) f;
SELECT bh_audit.seal();
ROLLBACK;
});
like($err, qr/bh_audit\.seal\(\) cannot wait for the sealer in a transaction that added a row to bh_audit\.events itself/,
	'seal() refuses to wait for its own transaction');
$node->safe_psql('postgres', q{SELECT bh_audit.emit('READ', 'Patient', 'pat_3', 'pat_3')});
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', q{SELECT count(*) FROM bh_audit.events WHERE patient_id = 'pat_3'}),
	'1', 'and the sealer goes on');

$node->stop;
done_testing();
