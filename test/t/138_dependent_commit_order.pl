# A transaction (Y) that waited for another's row lock commits after it (X),
# and changes the row X changed (note 1 moved pA -> pM by X, prepared, then
# pM -> pN by Y), while the sealer works through a backlog a few events per
# batch.  The sealer continues a pass of batches after the highest queue id
# it took, but notes the ids it went past without a visible row (X's queue
# row, written at PREPARE, is visible only at COMMIT PREPARED) and takes
# them first once they commit: X's events are chained before Y's, by seq
# as by ts.  Each change is one event per patient side, none lost or
# doubled, and the chain verifies.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('commit_order',
	conf => "max_prepared_transactions = 2\nbh_audit.seal_batch_size = 2");
$node->safe_psql('postgres', q{
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id text, body text);
INSERT INTO notes VALUES (1, 'pA', 'x'), (2, 'pB', 'y');
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id');
SELECT bh_audit.seal();
});
my $mark = $node->safe_psql('postgres', 'SELECT max(seq) FROM bh_audit.events');

# X: queued at PREPARE, not visible until COMMIT PREPARED
$node->safe_psql('postgres', q{
BEGIN;
SELECT bh_audit.set_context(actor_id => 'X');
UPDATE notes SET patient_id = 'pM' WHERE note_id = 1;
PREPARE TRANSACTION 'x';
});

# a backlog of other writes, each its own queue row, with a higher id
my $pid = bh_stop_sealer($node, 'postgres');
$node->safe_psql('postgres', q{
DO $$ BEGIN
  FOR i IN 1..20000 LOOP
    UPDATE notes SET body = 'b' || i WHERE note_id = 2;
    COMMIT;
  END LOOP;
END $$;
});
kill 'CONT', $pid;
# (the sealer's first batch takes two rows of the backlog: its mark is then
# past X; waited for, a fixed pause could end before it on a loaded machine)
ok($node->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM bh_audit.events WHERE seq > $mark AND resource_id = '2'"),
	'the sealer has sealed a batch of the backlog');
# the sealer drains the backlog two events a batch; meanwhile X commits,
# then Y, which needs X's row lock, changes the row X changed
$node->safe_psql('postgres', q{COMMIT PREPARED 'x'});
$node->safe_psql('postgres', q{
BEGIN;
SELECT bh_audit.set_context(actor_id => 'Y');
UPDATE notes SET patient_id = 'pN' WHERE note_id = 1;
COMMIT;
});
cmp_ok($node->safe_psql('postgres', 'SELECT queued_events FROM bh_audit.stats()'), '>', 0,
	'X and Y committed while the backlog was being sealed');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');

is($node->safe_psql('postgres', qq{
SELECT string_agg(actor_id || ':' || patient_id || ':' || (event->'metadata'->>'patient_moved'), ' ' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note' AND resource_id = '1'}),
	'X:pM:to X:pA:from Y:pN:to Y:pM:from',
	'X\'s events are chained before those of Y, which waited for X and committed after it');
is($node->safe_psql('postgres', qq{
SELECT string_agg(actor_id || ':' || patient_id || ':' || (event->'metadata'->>'patient_moved'), ' '
                  ORDER BY ts, actor_id, event->'metadata'->>'patient_moved' DESC)
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note' AND resource_id = '1'}),
	'X:pM:to X:pA:from Y:pN:to Y:pM:from',
	'each move is one event per patient, X\'s before Y\'s by ts');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note' AND resource_id = '2'}),
	'20000', 'the backlog is sealed whole');
# A transaction left prepared holds no one up: the writes committed after
# it are sealed meanwhile, and once it is rolled back (its queue row never
# to be visible) sealing goes on; committed later, its events are sealed.
$node->safe_psql('postgres', q{
INSERT INTO notes VALUES (3, 'pC', 'c'), (4, 'pD', 'd');
BEGIN;
UPDATE notes SET body = 'z' WHERE note_id = 3;
PREPARE TRANSACTION 'z';
BEGIN;
UPDATE notes SET body = 'v' WHERE note_id = 4;
PREPARE TRANSACTION 'v';
});
$mark = $node->safe_psql('postgres', 'SELECT bh_audit.seal() >= 0; SELECT max(seq) FROM bh_audit.events');
$mark = (split /\n/, $mark)[-1];
$node->safe_psql('postgres', q{
UPDATE notes SET body = 'w' WHERE note_id = 1;
SELECT bh_audit.seal();
});
is($node->safe_psql('postgres', qq{
SELECT string_agg(action || ':' || resource_id, ' ' ORDER BY seq) FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'Note'}), 'UPDATE:1',
	'a write committed after two prepared transactions is sealed while they wait');
$node->safe_psql('postgres', q{
ROLLBACK PREPARED 'z';
COMMIT PREPARED 'v';
UPDATE notes SET body = 'u' WHERE note_id = 1;
SELECT bh_audit.seal();
});
is($node->safe_psql('postgres', qq{
SELECT string_agg(action || ':' || resource_id, ' ' ORDER BY seq) FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'Note'}), 'UPDATE:1 UPDATE:4 UPDATE:1',
	'the one rolled back leaves nothing, the one committed is sealed before what follows it');
is($node->safe_psql('postgres', 'SELECT queued_events FROM bh_audit.stats()'), '0',
	'the queue is empty');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS', 'the chain verifies');
done_testing();
