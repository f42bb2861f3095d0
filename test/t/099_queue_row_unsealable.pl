# A row of bh_audit.queue that the sealer cannot insert into the ledger (a
# data error: here an event whose patient_id is too long for the ledger's
# index, which runtime validation let through under log_and_emit) does not
# stop the sealer.  Batches holding it fail; after two such failures the
# queue's rows are taken one per batch up to the last row of the failed
# batch, so that the bad row, in the middle of the batch, is found at once;
# failing alone twice more, it is deleted from the queue, with a WARNING,
# and its events are counted as dropped (and recorded by an EventsLost
# event in the chain).  The rows before and after it are all sealed: four
# failed batches in all.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = bh_node('queue_row_unsealable');
my $db = 'postgres';

bh_queue_raw_function($node, $db);
$node->safe_psql($db, q{
SELECT bh_audit.emit('READ', 'Patient', 'seed', 'seed', 'SUCCESS');
SELECT bh_audit.seal();
});

# The bad event: the seed's, with a fresh event_id and a patient_id of 3200
# characters (the btree index on patient_id takes at most 2704 bytes).
my $bad = $node->safe_psql($db, q{
SELECT jsonb_set(jsonb_set(event, '{event_id}', to_jsonb(gen_random_uuid()::text)),
                 '{resource,patient_id}',
                 to_jsonb((SELECT string_agg(md5(g::text), '') FROM generate_series(1, 100) g)))::text
  FROM bh_audit.events WHERE resource_id = 'seed'});
$bad =~ s/'/''/g;

my $dropped_before =
  $node->safe_psql($db, 'SELECT events_dropped_total FROM bh_audit.stats()');
my $log_offset = -s $node->logfile;

# All rows are queued while the sealer is stopped, so that its first batch
# holds them all: three rows before the bad one, the bad row (the bad event
# and a valid one, queued in one transaction), three rows after it (the last
# with two events).
my $sealer = bh_stop_sealer($node, $db);
foreach my $i (1 .. 3)
{
	$node->safe_psql($db, "SELECT bh_audit.emit('READ', 'Patient', 'r$i', 'p$i', 'SUCCESS')");
}
$node->safe_psql($db, qq{
BEGIN;
SELECT queue_raw('$bad');
SELECT bh_audit.emit('READ', 'Patient', 'rb', 'pb', 'SUCCESS');
COMMIT;
});
foreach my $i (4 .. 5)
{
	$node->safe_psql($db, "SELECT bh_audit.emit('READ', 'Patient', 'r$i', 'p$i', 'SUCCESS')");
}
$node->safe_psql($db, q{
BEGIN;
SELECT bh_audit.emit('READ', 'Patient', 'r6', 'p6', 'SUCCESS');
SELECT bh_audit.emit('READ', 'Patient', 'r7', 'p7', 'SUCCESS');
COMMIT;
});
is($node->safe_psql($db, 'SELECT count(*) FROM bh_audit.queue'),
	'7', 'seven rows wait in the queue');
kill 'CONT', $sealer;

# A bounded wait: the sealer restarts a second after each failed batch.
my $sealed = q{SELECT count(*) FROM bh_audit.events WHERE resource_id IN ('r6', 'r7')};
my $deadline = time() + 40;
while ($node->safe_psql($db, $sealed) ne '2' && time() < $deadline)
{
	select(undef, undef, undef, 0.2);
}
is($node->safe_psql($db, $sealed), '2', 'the events queued behind the bad row are sealed');

is( $node->safe_psql($db, q{
SELECT string_agg(resource_id || ':' || patient_id, ',' ORDER BY resource_id)
  FROM bh_audit.events WHERE resource_id ~ '^r[0-9b]$'}),
	'r1:p1,r2:p2,r3:p3,r4:p4,r5:p5,r6:p6,r7:p7',
	'every valid event before and after the bad row is sealed, once; the bad row\'s are not');
is($node->safe_psql($db,
		q{SELECT count(*) FROM bh_audit.events WHERE length(patient_id) > 100 OR resource_id = 'rb'}),
	'0', 'neither event of the bad row is in the ledger');

# The discard was counted as its transaction committed, and recorded by the
# batch after it, before those that sealed the rows behind it.
my $losses = q{
SELECT string_agg(event -> 'metadata' ->> 'events_dropped', ',' ORDER BY seq)
  FROM bh_audit.events WHERE error_type = 'EventsLost'};
is($node->safe_psql($db, 'SELECT events_dropped_total FROM bh_audit.stats()'),
	$dropped_before + 2, 'the bad row\'s two events are counted in events_dropped_total');
is($node->safe_psql($db, $losses), '2',
	'one EventsLost event records them: events_dropped = 2');

my $log = slurp_file($node->logfile, $log_offset);
like($log,
	qr/WARNING:  bh_audit sealer discarded a queued row of 2 events that it could not seal\n[^\n]*DETAIL:  4 batches holding it failed on a data error/,
	'the sealer says so in the log');
my @failed = ($log =~ /ERROR:  index row size \d+ exceeds btree version 4 maximum 2704/g);
is(scalar(@failed), 4,
	'four batches failed: two holding every row, two holding the bad row alone');

is($node->safe_psql($db, 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');
my ($ret, $out, $err) = $node->psql($db,
	"SET statement_timeout = '20s'; SELECT bh_audit.seal() >= 0");
is($ret . $out, '0t', 'seal() returns');
is($node->safe_psql($db, 'SELECT queued_events FROM bh_audit.stats()'),
	'0', 'nothing is left in the queue');

# While the rows are taken one per batch, every other batch seals the
# ring's events: a read made then is chained long before the last of the
# rows queued behind a bad row (40,000 events, in rows of a few dozen, all
# in the batch that failed), instead of after all of them.
$node->safe_psql($db, q{
CREATE TABLE notes (id int PRIMARY KEY, patient_id text);
INSERT INTO notes VALUES (1, 'p_ring');
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id');
ALTER SYSTEM SET bh_audit.seal_batch_size = 100000;
SELECT pg_reload_conf();
SELECT bh_audit.seal();
});
$dropped_before = $node->safe_psql($db, 'SELECT events_dropped_total FROM bh_audit.stats()');
$sealer = bh_stop_sealer($node, $db);
$node->safe_psql($db, "SELECT queue_raw('$bad')");
$node->safe_psql($db,
	q{SELECT count(bh_audit.emit('READ', 'Patient', 'q' || i, 'q' || i, 'SUCCESS')) FROM generate_series(1, 40000) i});
my $rows = $node->safe_psql($db, 'SELECT count(*) FROM bh_audit.queue');
cmp_ok($rows, '>', 200, "the events wait in $rows queue rows");
my $watch = $node->background_psql($db);
kill 'CONT', $sealer;
# the bad row discarded, rows still taken one by one: a read made then (the
# rows still queued after it, counted, show that it was)
$deadline = time() + 40;
while ($watch->query_safe('SELECT events_dropped_total FROM bh_audit.stats()') == $dropped_before
	&& time() < $deadline)
{
	select(undef, undef, undef, 0.01);
}
$watch->query_safe(q{SELECT patient_id FROM notes WHERE id = 1});
my $left = $watch->query_safe('SELECT count(*) FROM bh_audit.queue');
cmp_ok($left, '>', 100, "the read is made with rows still to be taken one by one ($left)");
$watch->quit;
is(bh_wait_sealed($node, $db, q{resource_id = 'q40000'}, 1), 1, 'every queued row is sealed');
is($node->safe_psql($db, q{
SELECT (SELECT seq FROM bh_audit.events WHERE action = 'READ' AND patient_id = 'p_ring')
     < (SELECT seq FROM bh_audit.events WHERE resource_id = 'q40000')}),
	't', 'the read made meanwhile is chained before the last of them');

$node->stop;
done_testing();
