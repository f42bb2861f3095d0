# The sealer merges queued and ring events by the instants of their
# timestamps, not by their texts: a queue restored from before event
# timestamps carried microseconds holds "…:00.001Z" (milliseconds), which
# is earlier than a ring event's "…:00.001500Z" although it sorts after it
# as text; a queued event with an offset ("…T00:30:00+01:00", 23:30 UTC
# the day before) is earlier than "…T00:00:00.000001Z".  Equal instants
# ("…:00.002Z" and "…:00.002000Z") keep the queued event first, and an
# event whose timestamp does not read compares equal to any.  The sealer
# is stopped while the events gather, so that they meet in one batch.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('merge_mixed_timestamps');
bh_event_function($node, 'postgres', 'merger');
$node->safe_psql('postgres', q{
CREATE FUNCTION at(tag text, ts text) RETURNS json LANGUAGE sql AS
  $$ SELECT (jsonb_set(ev(tag)::jsonb, '{timestamp}', to_jsonb(ts)))::json $$;
SELECT bh_audit.seal() >= 0;
});

my $sealer = bh_stop_sealer($node, 'postgres');
# the ring, in this order
$node->safe_psql('postgres', q{
SELECT ring_push(at('r1', '2030-01-01T00:00:00.000001Z'));
SELECT ring_push(at('r2', '2030-01-01T00:00:00.001500Z'));
SELECT ring_push(at('r3', '2030-01-01T00:00:00.002000Z'));
SELECT ring_push(at('r4', '2030-01-01T00:00:00.003000Z'));
});
# the queue, one row, in this order, as a restore would bring it
$node->safe_psql('postgres', q{
INSERT INTO bh_audit.queue (events)
VALUES (ARRAY[at('q1', '2030-01-01T00:30:00+01:00')::jsonb,
              at('q2', '2030-01-01T00:00:00.001Z')::jsonb,
              at('q3', '2030-01-01T00:00:00.002Z')::jsonb,
              at('q4', '2030-01-01T00:00:00.0025Z')::jsonb]);
});
kill 'CONT', $sealer;
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');

is($node->safe_psql('postgres', q{
SELECT string_agg(resource_id, ' ' ORDER BY seq) FROM bh_audit.events
 WHERE resource_id ~ '^[qr][0-9]$'}),
	'q1 r1 q2 r2 q3 r3 q4 r4',
	'queued and ring events are chained by the instants of their timestamps');

is($node->safe_psql('postgres', q{
SELECT string_agg(resource_id, ' ' ORDER BY ts, seq) FROM bh_audit.events
 WHERE resource_id ~ '^[qr][0-9]$'}),
	'q1 r1 q2 r2 q3 r3 q4 r4', 'ts orders them the same way');

is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');

$node->stop;
done_testing();
