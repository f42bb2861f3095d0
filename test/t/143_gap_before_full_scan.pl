# The sealer takes the rows of queue ids it noted (a transaction still
# committing when a batch went past its id) ahead of the scan after its
# mark; taking one must not move the mark: a pass's scan from the queue's
# start must still begin at the start, or a committed row below the noted
# id that this sealer process never noted (here: prepared before the
# sealer restarted) is skipped, and seal() returns with it still queued.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('gaplower', conf => "max_prepared_transactions = 2");
$node->safe_psql('postgres', q{
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id text, body text);
INSERT INTO notes VALUES (1, 'pA', 'x'), (2, 'pB', 'y'), (3, 'pC', 'z');
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id');
SELECT bh_audit.seal();
BEGIN;
UPDATE notes SET body = 'p1' WHERE note_id = 1;
PREPARE TRANSACTION 'p1';
});
# a new sealer process (its noted ids are process-local), waited for
my $old = $node->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer'});
$node->safe_psql('postgres', "SELECT pg_terminate_backend($old)");
ok($node->poll_query_until('postgres', qq{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE backend_type = 'bh_audit sealer' AND pid <> $old AND state = 'idle'}),
	'a new sealer process runs');
$node->safe_psql('postgres', q{
UPDATE notes SET body = 'c1' WHERE note_id = 3;
SELECT bh_audit.seal();
BEGIN;
UPDATE notes SET body = 'p2' WHERE note_id = 2;
PREPARE TRANSACTION 'p2';
UPDATE notes SET body = 'c2' WHERE note_id = 3;
SELECT bh_audit.seal();
});
$node->safe_psql('postgres', q{COMMIT PREPARED 'p1'; COMMIT PREPARED 'p2';});
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', 'SELECT queued_events FROM bh_audit.stats()'), '0',
	'seal() returned with nothing committed before it left in the queue');
is($node->safe_psql('postgres', q{SELECT count(*) FROM bh_audit.events WHERE resource_type = 'Note' AND resource_id = '1' AND action = 'UPDATE'}),
	'1', 'p1 (committed before seal()) is sealed when seal() returns');
is($node->safe_psql('postgres', q{SELECT count(*) FROM bh_audit.events WHERE resource_type = 'Note' AND resource_id = '2' AND action = 'UPDATE'}),
	'1', 'p2 (the noted id) is sealed once');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS', 'the chain verifies');
done_testing();
