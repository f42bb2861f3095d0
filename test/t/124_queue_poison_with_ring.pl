# A bad queue row (099) or a bad ring event (120) in batches that also held
# events of the other source: both accounts note the failed batches, and
# after two of them the ring's events those batches held are taken first in
# one batch of their own, which tells which source is to blame; only that
# one's are then taken one per batch.
#
# A bad queue row: the ring's events commit together, then the row fails
# twice alone and is discarded, four failed batches in all.  (From f0eb07e
# every ring event the failed batches held, up to bh_audit.seal_batch_size,
# was sealed in a transaction of its own before the queue's rows were
# taken, none of them bad: 2000 batches here, while the ring filled, readers
# waited and no write was sealed.)
#
# A bad ring event: that batch fails too, the ring's events are taken one
# by one and the bad one is discarded after failing twice alone, five
# failed batches in all; the queue's rows are not suspected any more and
# are sealed together, not one per batch.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $db = 'postgres';
my $node = bh_node('queue_poison_ring', conf => q{
bh_audit.validation_mode = 'log_and_emit'
fsync = on
});
bh_event_function($node, $db, 'ring_tester');
bh_queue_raw_function($node, $db);
$node->safe_psql($db, q{
SELECT bh_audit.emit('READ', 'Patient', 'seed', 'seed', 'SUCCESS');
SELECT bh_audit.seal();
});
# a patient_id of 3200 characters: too long for the ledger's btree index
my $long = q{(SELECT string_agg(md5(g::text), '') FROM generate_series(1, 100) g)};
my $bad = $node->safe_psql($db, qq{
SELECT jsonb_set(jsonb_set(event, '{event_id}', to_jsonb(gen_random_uuid()::text)),
                 '{resource,patient_id}', to_jsonb($long))::text
  FROM bh_audit.events WHERE resource_id = 'seed'});
$bad =~ s/'/''/g;

sub wait_empty
{
	my $deadline = time() + 180;
	while ($node->safe_psql($db, 'SELECT ring_events FROM bh_audit.stats()') ne '0'
		|| $node->safe_psql($db, 'SELECT count(*) FROM bh_audit.queue') ne '0')
	{
		last if time() > $deadline;
		select(undef, undef, undef, 0.2);
	}
	return;
}

sub failed_batches
{
	my ($log) = @_;
	my @failed = ($log =~ /ERROR:  index row size \d+ exceeds btree version 4 maximum 2704/g);
	return scalar(@failed);
}

# 1. A bad queue row, 2000 good ring events
my $dropped_before = $node->safe_psql($db, 'SELECT events_dropped_total FROM bh_audit.stats()');
my $log_offset = -s $node->logfile;
my $sealer = bh_stop_sealer($node, $db);
$node->safe_psql($db, "SELECT queue_raw('$bad')");
$node->safe_psql($db, q{SELECT count(ring_push(ev('ring_' || g))) FROM generate_series(1, 2000) g});
my $mark = $node->safe_psql($db, 'SELECT max(seq) FROM bh_audit.events');
my $xid0 = $node->safe_psql($db, 'SELECT txid_current()');
my $t0 = time();
kill 'CONT', $sealer;
wait_empty();
my $elapsed = time() - $t0;
my $xids = $node->safe_psql($db, 'SELECT txid_current()') - $xid0;
is($node->safe_psql($db, "SELECT count(*) FROM bh_audit.events WHERE seq > $mark AND resource_id LIKE 'ring_%'"),
	'2000', 'the ring events are sealed');
is($node->safe_psql($db, "SELECT count(DISTINCT xmin::text) FROM bh_audit.events WHERE seq > $mark AND resource_id LIKE 'ring_%'"),
	'1', "the ring's 2000 events are sealed in one batch, not one per event");
cmp_ok($xids, '<', 20, "transactions used meanwhile: $xids");
my $log = slurp_file($node->logfile, $log_offset);
is(failed_batches($log), 4, 'four batches failed: two holding everything, two holding the bad row alone');
like($log,
	qr/WARNING:  bh_audit sealer discarded a queued row of 1 event that it could not seal\n[^\n]*DETAIL:  4 batches holding it failed on a data error/,
	'the bad row is discarded');
is($node->safe_psql($db, 'SELECT events_dropped_total FROM bh_audit.stats()'),
	$dropped_before + 1, 'its event alone is dropped');
note("took $elapsed s");

# 2. A bad ring event behind ten good ones, five queue rows
$dropped_before = $node->safe_psql($db, 'SELECT events_dropped_total FROM bh_audit.stats()');
$log_offset = -s $node->logfile;
$sealer = bh_stop_sealer($node, $db);
foreach my $i (1 .. 5)
{
	$node->safe_psql($db, "SELECT bh_audit.emit('READ', 'Patient', 'q$i', 'q$i', 'SUCCESS')");
}
$node->safe_psql($db, qq{
SELECT count(ring_push(ev('good_before_' || g))) FROM generate_series(1, 10) g;
SELECT ring_push(jsonb_set(ev('poison')::jsonb, '{resource,patient_id}', to_jsonb($long))::json);
SELECT count(ring_push(ev('good_after_' || g))) FROM generate_series(1, 5) g;
});
kill 'CONT', $sealer;
wait_empty();
is($node->safe_psql($db, q{SELECT count(*) FROM bh_audit.events WHERE resource_id LIKE 'good_%'}),
	'15', 'the good ring events are sealed');
is($node->safe_psql($db, q{SELECT count(*) FROM bh_audit.events WHERE resource_id LIKE 'q_'}),
	'5', 'and the queued ones');
is($node->safe_psql($db, q{SELECT count(DISTINCT xmin::text) FROM bh_audit.events WHERE resource_id LIKE 'q_'}),
	'1', 'the queue rows are sealed in one batch, not one per row');
$log = slurp_file($node->logfile, $log_offset);
is(failed_batches($log), 5,
	"five batches failed: two holding everything, one the ring's events, two the bad event alone");
like($log,
	qr/WARNING:  bh_audit sealer discarded an event of the ring that it could not seal\n[^\n]*DETAIL:  5 batches holding it failed on a data error/,
	'the bad event is discarded');
is($node->safe_psql($db, 'SELECT events_dropped_total FROM bh_audit.stats()'),
	$dropped_before + 1, 'it alone is dropped');
is($node->safe_psql($db, 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');
done_testing();
