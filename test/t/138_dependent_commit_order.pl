# A transaction (Y) that waited for another's row lock commits after it (X),
# and changes the row X changed (note 1 moved pA -> pM by X, prepared, then
# pM -> pN by Y), while the sealer works through a backlog a few events per
# batch.  The sealer continues a pass of batches after the highest queue id
# it took; X's queue row, written at PREPARE and visible only at COMMIT
# PREPARED, is behind that id, found at the pass's end: Y's events may be
# chained before X's (operations.md, "Chain order and time order").  What
# must hold whatever the order: each change is one event per patient side,
# none lost or doubled, their ts in the order the changes were made, and the
# chain verifies.
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
# (the sealer's first batch takes two rows of the backlog: its mark is then past X)
select(undef, undef, undef, 0.2);
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

my $order = $node->safe_psql('postgres', qq{
SELECT string_agg(actor_id || ':' || patient_id || ':' || (event->'metadata'->>'patient_moved'), ' ' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note' AND resource_id = '1'});
note("chain order of note 1's events: $order");
is($node->safe_psql('postgres', qq{
SELECT string_agg(actor_id || ':' || patient_id || ':' || (event->'metadata'->>'patient_moved'), ' '
                  ORDER BY ts, actor_id, event->'metadata'->>'patient_moved' DESC)
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note' AND resource_id = '1'}),
	'X:pM:to X:pA:from Y:pN:to Y:pM:from',
	'each move is one event per patient, X\'s before Y\'s by ts');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note' AND resource_id = '2'}),
	'20000', 'the backlog is sealed whole');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS', 'the chain verifies');
done_testing();
