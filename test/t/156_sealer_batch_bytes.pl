# A batch takes queue rows until their events reach 64 MB, whatever
# bh_audit.seal_batch_size allows: an UPDATE of a wide table names every
# changed column (here 1,000 names of 60 characters, about 60 kB an event),
# and a batch of 5,000 such events would hold gigabytes for tens of
# seconds while readers wait for the ring's room, which only a batch's
# commit frees.  1,200 of them (about 75 MB) are sealed by two batches
# (two sealing transactions: two xmins in the ledger), all of them, in
# order, the chain intact, and seal() waits for both.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('batchbytes', conf => "bh_audit.seal_batch_size = 5000\n");
$node->safe_psql('postgres', q{
DO $$
BEGIN
  EXECUTE 'CREATE TABLE wide (id int PRIMARY KEY, patient_id text, '
       || (SELECT string_agg(format('%I text', rpad('column_', 56, 'x') || i), ', ')
             FROM generate_series(1, 1000) i) || ')';
END $$;
INSERT INTO wide (id, patient_id) SELECT i, 'p' || i FROM generate_series(1, 1200) i;
SELECT bh_audit.tag_table('wide', 'Wide', 'id', 'patient_id', capture_reads => false);
SELECT bh_audit.seal();
});
my $mark = $node->safe_psql('postgres', 'SELECT max(seq) FROM bh_audit.events');
$node->safe_psql('postgres', q{
DO $$
BEGIN
  EXECUTE 'UPDATE wide SET '
       || (SELECT string_agg(format('%I = ''v''', rpad('column_', 56, 'x') || i), ', ')
             FROM generate_series(1, 1000) i);
END $$;
});
# (the sealer may chain some before the call: how many the call counts
# varies; the count of sealed events below is what holds)
is($node->safe_psql('postgres', 'SELECT bh_audit.seal() >= 0'), 't', 'seal() returns once all are sealed');
is($node->safe_psql('postgres', qq{
SELECT count(*), count(DISTINCT resource_id), min(length(event -> 'metadata' ->> 'changed_columns')) > 59000
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Wide' AND action = 'UPDATE'}),
	'1200|1200|t', 'every UPDATE event is sealed once, each naming 1,000 columns');
is($node->safe_psql('postgres', qq{
SELECT count(DISTINCT xmin::text) FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Wide'}),
	'2', 'by two batches: 64 MB of events each at most');
is($node->safe_psql('postgres', 'SELECT queued_events, events_dropped_total FROM bh_audit.stats()'),
	'0|0', 'nothing left in the queue, nothing dropped');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS', 'the chain verifies');
done_testing();
