# A ring event that the sealer cannot insert (a data error: a patient_id
# too long for the ledger's btree index, let through by runtime validation
# under log_and_emit, as 099 does for a queue row) must not stop the sealer
# for long, wherever it is in the ring.  After two failed batches the ring's
# events up to the last one those batches held are taken one per batch, so
# the bad event behind ten good ones is found in one pass: it fails twice
# alone and is discarded, four failed batches in all, as for a bad queue
# row in the middle of a batch (099).  (The failures used to be counted
# against the event at the ring's tail only: a batch holding the tail alone
# succeeded, the count started again, and a bad event behind N good ones
# cost 2N + 4 failed batches, each ending the sealer's process: 24 and
# ~25 s here.)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $db = 'postgres';
my $node = bh_node('ring_poison', conf => q{
bh_audit.ring_size = '64kB'
bh_audit.enabled = off
bh_audit.validation_mode = 'log_and_emit'
});
bh_event_function($node, $db, 'ring_tester');

my $dropped_before =
  $node->safe_psql($db, 'SELECT events_dropped_total FROM bh_audit.stats()');
my $log_offset = -s $node->logfile;

# Ten good events, the bad one, five good ones, all in the ring while the
# sealer is stopped, so that its first batch holds them all.
my $sealer = bh_stop_sealer($node, $db);
$node->safe_psql($db, q{
SELECT count(ring_push(ev('good_before_' || g))) FROM generate_series(1, 10) g;
SELECT ring_push(jsonb_set(ev('poison')::jsonb, '{resource,patient_id}',
       to_jsonb((SELECT string_agg(md5(g::text), '') FROM generate_series(1, 100) g)))::json);
SELECT count(ring_push(ev('good_after_' || g))) FROM generate_series(1, 5) g;
});
is($node->safe_psql($db, 'SELECT ring_events FROM bh_audit.stats()'),
	'16', 'sixteen events wait in the ring');
my $t0 = time();
kill 'CONT', $sealer;

my $after = q{SELECT count(*) FROM bh_audit.events WHERE resource_id LIKE 'good_after_%'};
my $deadline = time() + 120;
while ($node->safe_psql($db, $after) ne '5' && time() < $deadline)
{
	select(undef, undef, undef, 0.2);
}
my $elapsed = time() - $t0;
is($node->safe_psql($db, $after), '5', 'the events behind the bad one are sealed');
is($node->safe_psql($db,
		q{SELECT count(*) FROM bh_audit.events WHERE resource_id LIKE 'good_before_%'}),
	'10', 'and those before it');
is($node->safe_psql($db, 'SELECT events_dropped_total FROM bh_audit.stats()'),
	$dropped_before + 1, 'the bad event alone is dropped');

my $log = slurp_file($node->logfile, $log_offset);
like($log,
	qr/WARNING:  bh_audit sealer discarded an event of the ring that it could not seal\n[^\n]*DETAIL:  4 batches holding it failed on a data error/,
	'the sealer says so in the log');
my @failed = ($log =~ /ERROR:  index row size \d+ exceeds btree version 4 maximum 2704/g);
is(scalar(@failed), 4,
	'four batches failed: two holding every event, two holding the bad one alone');
cmp_ok($elapsed, '<', 10, "the sealer is held up for seconds, not ~2 s per event before it ($elapsed s)");
is($node->safe_psql($db, 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');

done_testing();
