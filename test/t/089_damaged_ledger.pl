# A superuser who switched the guards off and made NULL what the extension's
# own tables hold NOT NULL does not stop the server nor the sealer: the
# sealer goes on (each damage said by a WARNING in the log) and chains the
# events that recorded the tampering; verify_chain() reports the damaged
# event.
#   - the chain head's event_hash made NULL: read as "" (as verification
#     reads it), the chain goes on from it, the head alone fails;
#   - queue rows whose events array, or events in it, are NULL: skipped;
#     so is a queued value that is no JSON object (the queue's trigger
#     queue_objects_only, which refuses it, disabled): never in the ledger;
#   - the ledger's home with a NULL database_name: read as an old name,
#     written again;
#   - a tag row with a NULL in a NOT NULL column: ignored (WARNING) by
#     every session's tag cache.
# No process of the server is terminated by a signal.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('damaged_ledger');
bh_event_function($node, 'postgres', 'ring_actor');
$node->safe_psql('postgres', q{
SELECT bh_audit.emit('READ', 'Patient', 'p' || i, 'p' || i) FROM generate_series(1, 3) i;
SELECT bh_audit.seal();
});
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies before the damage');

# 1. The head's event_hash made NULL, in one transaction: its own
# AuditConfiguration events (the guard switched off and on) come after it.
my $head = $node->safe_psql('postgres', 'SELECT max(seq) FROM bh_audit.events');
$node->safe_psql('postgres', q{
BEGIN;
ALTER TABLE bh_audit.events ALTER COLUMN event_hash DROP NOT NULL;
ALTER TABLE bh_audit.events DISABLE TRIGGER events_append_only;
UPDATE bh_audit.events SET event_hash = NULL WHERE seq = (SELECT max(seq) FROM bh_audit.events);
ALTER TABLE bh_audit.events ENABLE ALWAYS TRIGGER events_append_only;
COMMIT;
});
$node->safe_psql('postgres', q{
SELECT bh_audit.emit('READ', 'Patient', 'after_head', 'after_head');
SELECT bh_audit.seal();
});
is($node->safe_psql('postgres',
		q{SELECT count(*) FROM bh_audit.events WHERE resource_id = 'after_head'}),
	'1', 'an event after the NULL head hash is sealed');
is( $node->safe_psql('postgres',
		qq{SELECT string_agg(coalesce(event -> 'metadata' ->> 'trigger', '') || ':'
		                     || coalesce(event -> 'metadata' ->> 'change', ''), ',' ORDER BY seq)
		     FROM bh_audit.events
		    WHERE seq > $head AND resource_type = 'AuditConfiguration'
		      AND event -> 'metadata' ->> 'trigger' = 'events_append_only'}),
	'events_append_only:disable a ledger trigger,events_append_only:enable a ledger trigger',
	'the tampering\'s own events are chained after the damaged head');
is($node->safe_psql('postgres',
		qq{SELECT prev_event_hash FROM bh_audit.events WHERE seq = $head + 1}),
	'', 'the event after it links to an empty hash');
is( $node->safe_psql('postgres',
		q{SELECT result, chain_gaps, hash_mismatches FROM bh_audit.verify_chain()}),
	'FAIL|0|1', 'verify_chain() fails on one hash mismatch');
is( $node->safe_psql('postgres',
		q{SELECT seq, failure_type, actual FROM bh_audit.chain_failures()}),
	"$head|hash_mismatch|", 'chain_failures() names the damaged head alone');
like(slurp_file($node->logfile),
	qr/WARNING:  the event_hash of the chain's head \(seq $head\) in bh_audit.events is NULL/,
	'the sealer logs a WARNING naming the seq');

# 2. Queue rows with a NULL events array, NULL events, and values that are
# no object beside an object (the trigger that refuses them disabled),
# queued while the sealer is stopped and reads wait in the ring: one batch
# merges them.
$node->safe_psql('postgres', q{
ALTER TABLE bh_audit.queue ALTER COLUMN events DROP NOT NULL;
SELECT bh_audit.seal();
});
my $sealer = bh_stop_sealer($node, 'postgres');
$node->safe_psql('postgres', q{
INSERT INTO bh_audit.queue (events) VALUES (NULL);
INSERT INTO bh_audit.queue (events) VALUES (ARRAY[NULL::jsonb, NULL::jsonb]);
ALTER TABLE bh_audit.queue DISABLE TRIGGER queue_objects_only;
INSERT INTO bh_audit.queue (events)
SELECT ARRAY['[1,2]'::jsonb,
             jsonb_set(jsonb_set(event, '{resource,id}', '"beside"'),
                       '{event_id}', to_jsonb(gen_random_uuid()::text)),
             '42']
  FROM bh_audit.events WHERE resource_id = 'p1';
ALTER TABLE bh_audit.queue ENABLE ALWAYS TRIGGER queue_objects_only;
});
$node->safe_psql('postgres', "SELECT ring_push(ev('ring_$_'))") for 1 .. 3;
my $queue_ids = $node->safe_psql('postgres', q{
SELECT (SELECT id FROM bh_audit.queue WHERE events IS NULL) || ','
       || (SELECT id FROM bh_audit.queue WHERE events = ARRAY[NULL::jsonb, NULL]) || ','
       || (SELECT id FROM bh_audit.queue WHERE events[1] = '[1,2]')});
kill 'CONT', $sealer;
$node->safe_psql('postgres', q{
SELECT bh_audit.emit('READ', 'Patient', 'after_queue', 'after_queue');
SELECT bh_audit.seal();
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.queue'),
	'0', 'the damaged queue rows are taken out of the queue');
is( $node->safe_psql('postgres',
		q{SELECT string_agg(CASE WHEN jsonb_typeof(event) <> 'object' THEN jsonb_typeof(event) ELSE resource_id END,
		                    ',' ORDER BY seq)
		    FROM bh_audit.events
		   WHERE jsonb_typeof(event) <> 'object'
		      OR resource_id IN ('beside', 'ring_1', 'ring_2', 'ring_3', 'after_queue')}),
	'beside,ring_1,ring_2,ring_3,after_queue',
	'the values that are no object are not chained, the object beside them is');
is($node->safe_psql('postgres', "SELECT result FROM bh_audit.verify_chain(from_seq => $head + 1)"),
	'PASS', 'the chain after the damaged head verifies');
my ($null_row, $nulls_row, $non_objects_row) = split /,/, $queue_ids;
my $log = slurp_file($node->logfile);
like($log,
	qr/WARNING:  bh_audit sealer skipped the row of bh_audit.queue with id $null_row: its events are NULL/,
	'the NULL events array is skipped with a WARNING');
like($log,
	qr/WARNING:  bh_audit sealer skipped 2 NULL events of the row of bh_audit.queue with id $nulls_row/,
	'the NULL events are skipped with a WARNING');
like($log,
	qr/WARNING:  bh_audit sealer skipped 2 events of the row of bh_audit.queue with id $non_objects_row: they are not JSON objects/,
	'the values that are no object are skipped with a WARNING');

# 3. The ledger's home with a NULL database_name: read as an old name of
# this database (its OID and cluster are the same) and written again.
$node->safe_psql('postgres', q{
BEGIN;
ALTER TABLE bh_audit.ledger_home ALTER COLUMN database_name DROP NOT NULL;
ALTER TABLE bh_audit.ledger_home DISABLE TRIGGER ledger_home_no_change;
UPDATE bh_audit.ledger_home SET database_name = NULL;
ALTER TABLE bh_audit.ledger_home ENABLE ALWAYS TRIGGER ledger_home_no_change;
COMMIT;
SELECT bh_audit.emit('READ', 'Patient', 'after_home', 'after_home');
SELECT bh_audit.seal();
});
is($node->safe_psql('postgres',
		q{SELECT count(*) FROM bh_audit.events WHERE resource_id = 'after_home'}),
	'1', 'an event after the damaged home is sealed');
is($node->safe_psql('postgres', 'SELECT database_name FROM bh_audit.ledger_home'),
	'postgres', 'the home names the sealer\'s database again');
is( $node->safe_psql('postgres',
		q{SELECT count(*) FROM bh_audit.events WHERE event -> 'metadata' ->> 'change' = 'ledger_continued'}),
	'0', 'no ledger_continued event: the same ledger');
like(slurp_file($node->logfile),
	qr/WARNING:  bh_audit.ledger_home holds a row with a NULL database_name/,
	'the sealer logs a WARNING about the home');

# 4. A tag row with a NULL resource_type: ignored by the tag cache, with a
# WARNING to the session that loads it.
$node->safe_psql('postgres', q{
CREATE TABLE obs (id int PRIMARY KEY, pid text);
INSERT INTO obs VALUES (1, 'pat1');
SELECT bh_audit.tag_table('obs', 'Observation', 'id', 'pid');
ALTER TABLE bh_audit.tags ALTER COLUMN resource_type DROP NOT NULL;
UPDATE bh_audit.tags SET resource_type = NULL WHERE tbl = 'obs'::regclass;
});
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT pid FROM obs');
is($ret, 0, 'a read of the table whose tag row is damaged succeeds');
is($out, 'pat1', 'and returns its row');
like($err,
	qr/WARNING:  bh_audit.tags has a NULL resource_type for table obs: the row is ignored/,
	'the session is told the tag row is ignored');

# Through all of it, no process was terminated by a signal, and the chain
# still fails on the damaged head alone.
unlike(slurp_file($node->logfile), qr/terminated by signal/,
	'no server process was terminated by a signal');
is( $node->safe_psql('postgres',
		q{SELECT string_agg(seq || ':' || failure_type, ',') FROM bh_audit.chain_failures()}),
	"$head:hash_mismatch", 'the damaged head is the only failure');

done_testing();
