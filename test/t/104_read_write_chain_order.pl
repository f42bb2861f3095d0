# A session's read and its write in one transaction are chained in the
# order the statements ran, whichever comes first, and the ledger's ts
# orders them the same way: the documented patient-history query (ORDER BY
# ts, or ts, seq) shows them as they happened.  The read reaches the ring at
# the end of its SELECT, the write's event is made when its UPDATE ends and
# queued at COMMIT; the sealer merges the two by timestamp.  Event
# timestamps carry microseconds: a read and a write made within one
# millisecond (most of these requests) still have distinct timestamps in
# the order they were made.  The sealer is stopped while the requests run,
# so that all their events meet in one batch (merging is within a batch).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('read_write_chain_order');
$node->safe_psql('postgres', q{
CREATE SCHEMA clinic;
CREATE TABLE clinic.therapy_notes (note_id int PRIMARY KEY, patient_id text, body text);
INSERT INTO clinic.therapy_notes VALUES (1, 'p-1', 'v0');
SELECT bh_audit.tag_table('clinic.therapy_notes', 'Note', 'note_id', 'patient_id');
SELECT bh_audit.seal() >= 0;
});

my $n = 200;
my $script = '';
for my $i (1 .. $n)
{
	$script .= qq{BEGIN;
SELECT bh_audit.set_context(actor_id => 'dr', request_id => 'rw-$i');
SELECT body FROM clinic.therapy_notes WHERE note_id = 1;
UPDATE clinic.therapy_notes SET body = 'v$i' WHERE note_id = 1;
COMMIT;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'dr', request_id => 'wr-$i');
UPDATE clinic.therapy_notes SET body = 'w$i' WHERE note_id = 1;
SELECT body FROM clinic.therapy_notes WHERE note_id = 1;
COMMIT;
};
}

my $sealer = bh_stop_sealer($node, 'postgres');
$node->safe_psql('postgres', $script);
kill 'CONT', $sealer;
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');

# every request has its two events, READ and UPDATE
is($node->safe_psql('postgres', q{
SELECT count(DISTINCT request_id), count(*) FILTER (WHERE action = 'READ'),
       count(*) FILTER (WHERE action = 'UPDATE')
  FROM (SELECT event #>> '{correlation,request_id}' AS request_id, action FROM bh_audit.events
         WHERE resource_type = 'Note'
           AND event #>> '{correlation,request_id}' ~ '^(rw|wr)-') e}),
	(2 * $n) . '|' . (2 * $n) . '|' . (2 * $n),
	'each request has one READ and one UPDATE');

# the requests whose events are not chained in statement order, by seq
my $order = q{
SELECT string_agg(request_id, ' ' ORDER BY request_id)
  FROM (SELECT event #>> '{correlation,request_id}' AS request_id,
               string_agg(action, ',' ORDER BY %s) AS actions
          FROM bh_audit.events
         WHERE resource_type = 'Note' AND event #>> '{correlation,request_id}' ~ '^(rw|wr)-'
         GROUP BY 1) r
 WHERE actions <> CASE WHEN request_id LIKE 'rw-%%' THEN 'READ,UPDATE'
                       ELSE 'UPDATE,READ' END};
is($node->safe_psql('postgres', sprintf($order, 'seq')), '',
	'by seq, every request has its events in statement order');
is($node->safe_psql('postgres', sprintf($order, 'ts, seq')), '',
	'by ts, seq, every request has its events in statement order');

# by ts alone: no request's two events share a timestamp
is($node->safe_psql('postgres', q{
SELECT count(*) FROM (SELECT event #>> '{correlation,request_id}', count(DISTINCT ts) AS n
                        FROM bh_audit.events
                       WHERE resource_type = 'Note' AND event #>> '{correlation,request_id}' ~ '^(rw|wr)-'
                       GROUP BY 1) r
 WHERE n <> 2}), '0', 'no request has two events with one timestamp');
is($node->safe_psql('postgres', sprintf($order, 'ts')), '',
	'by ts, every request has its events in statement order');

# the events' timestamps carry microseconds, and ts is their instant
is($node->safe_psql('postgres', q{
SELECT count(*) FILTER (WHERE event ->> 'timestamp' !~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$'),
       count(*) FILTER (WHERE ts <> (event ->> 'timestamp')::timestamptz),
       count(*) FILTER (WHERE extract(microseconds FROM ts)::int % 1000 <> 0) > 0
  FROM bh_audit.events
 WHERE resource_type = 'Note' AND event #>> '{correlation,request_id}' ~ '^(rw|wr)-'}),
	'0|0|t', 'the timestamps are printed with microseconds, and ts keeps them');

is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');

$node->stop;
done_testing();
