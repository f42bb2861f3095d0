# A queue row whose id the sealer noted (its transaction still committing
# when a batch went past it) and that commits before the batch that ends a
# pass (a scan from the queue's start) is taken once, in id order, by that
# scan: the sealer process goes on without an error (before, the row was
# taken first as a noted one and then met again by the scan under the same
# snapshot, and its second delete ended the process: "tuple already updated
# by self", its noted ids lost).  Same steps as t/143.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('gaptwice', conf => "max_prepared_transactions = 2");
$node->safe_psql('postgres', q{
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id text, body text);
INSERT INTO notes VALUES (1, 'pA', 'x'), (2, 'pB', 'y'), (3, 'pC', 'z');
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id');
SELECT bh_audit.seal();
UPDATE notes SET body = 'c0' WHERE note_id = 3;
SELECT bh_audit.seal();
});
my $pid = $node->safe_psql('postgres', 'SELECT sealer_pid FROM bh_audit.stats()');
my $logstart = -s $node->logfile;
$node->safe_psql('postgres', q{
BEGIN;
UPDATE notes SET body = 'p2' WHERE note_id = 2;
PREPARE TRANSACTION 'p2';
UPDATE notes SET body = 'c2' WHERE note_id = 3;
SELECT bh_audit.seal();
});
$node->safe_psql('postgres', q{COMMIT PREPARED 'p2';});
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', q{SELECT count(*) FROM bh_audit.events WHERE resource_type = 'Note' AND resource_id = '2' AND action = 'UPDATE'}),
	'1', 'p2 (the noted id) is sealed once');
my $log = slurp_file($node->logfile, $logstart);
unlike($log, qr/tuple already updated by self/, 'the sealer does not fail taking the noted row again');
is($node->safe_psql('postgres', 'SELECT sealer_pid FROM bh_audit.stats()'), $pid, 'the same sealer process');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS', 'the chain verifies');
done_testing();
