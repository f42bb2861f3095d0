# A cursor over a tagged table outlives the subtransaction that opened it:
# a RELEASE (or the end of a PL/pgSQL block with an exception handler)
# hands it to the enclosing subtransaction, as PostgreSQL hands over the
# portal, and a rollback of that one closes it without ExecutorEnd.  Its
# READ events are recorded then, once, and nothing of its executor state is
# used afterwards: the server runs with MALLOC_PERTURB_, so memory used after
# it was freed holds garbage, and a session looking at it (switching capture
# off, untagging a table: both look for statements still running) would
# crash.  A cursor whose FETCH failed (PostgreSQL closes it without
# ExecutorEnd too) likewise.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

# inherited by the server (PostgreSQL::Test::Cluster starts it with %ENV)
$ENV{MALLOC_PERTURB_} = '85';

my $node = bh_node('cursor_subxacts');
$node->safe_psql('postgres', q{
CREATE TABLE pt (id int PRIMARY KEY, pid text, v text);
INSERT INTO pt SELECT g, 'p' || (g % 5), 'x' FROM generate_series(1, 100) g;
SELECT bh_audit.tag_table('pt', 'Patient', 'id', 'pid');
SELECT bh_audit.seal();
});

my $mark;

sub mark
{
	$mark = bh_seal_mark($node, 'postgres');
}

# the READ events of pt since the mark, sealed from another session
sub reads
{
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT coalesce(string_agg(patient_id, ',' ORDER BY patient_id), '')
  FROM bh_audit.events
 WHERE seq > $mark AND action = 'READ' AND resource_type = 'Patient'});
}

# the session runs a statement and is still there
sub survives
{
	my ($session, $sql, $name) = @_;
	my $ok = eval { $session->query_safe($sql); 1 };
	ok($ok, $name) or diag($@);
	return $ok;
}

# 1. Opened in savepoint a, handed to p by RELEASE a, closed by ROLLBACK TO p.
mark();
my $s = $node->background_psql('postgres');
$s->query_safe(q{
BEGIN;
SAVEPOINT p;
SAVEPOINT a;
DECLARE c CURSOR FOR SELECT * FROM pt;
FETCH 1 FROM c;
RELEASE a;
ROLLBACK TO p;
});
is(reads(), 'p1', 'ROLLBACK TO p records the READ of the cursor it closes');
survives($s, 'SET bh_audit.enabled = off',
	'capture is switched off afterwards (no statement of the cursor is left)');
survives($s, 'RESET bh_audit.enabled; COMMIT', 'and the transaction commits');
is(reads(), 'p1', 'the cursor is recorded once');

# 2. The same two levels deeper, and untag_table() looking for running writes.
mark();
$s->query_safe(q{
BEGIN;
SAVEPOINT p;
SAVEPOINT a;
SAVEPOINT b;
DECLARE c CURSOR FOR SELECT * FROM pt WHERE id IN (2, 3) ORDER BY id;
FETCH 2 FROM c;
RELEASE b;
RELEASE a;
SAVEPOINT q;
DECLARE d CURSOR FOR SELECT * FROM pt WHERE id = 4;
FETCH 1 FROM d;
RELEASE q;
});
is(reads(), '', 'released savepoints hand their cursors on: nothing recorded yet');
$s->query_safe('ROLLBACK TO p');
is(reads(), 'p2,p3,p4', 'ROLLBACK TO p records both');
survives($s, q{
SELECT bh_audit.untag_table('pt');
SELECT bh_audit.tag_table('pt', 'Patient', 'id', 'pid');
COMMIT}, 'the table is untagged and tagged again afterwards');
is(reads(), 'p2,p3,p4', 'each cursor is recorded once');

# 3. PL/pgSQL: a cursor opened in a block with an exception handler, inside
# another one that is then rolled back.
mark();
survives($s, q{
DO $$
DECLARE
    c refcursor := 'plc';
    r record;
BEGIN
    BEGIN
        BEGIN
            OPEN c FOR SELECT * FROM pt WHERE id = 6;
            FETCH c INTO r;
        EXCEPTION WHEN division_by_zero THEN NULL;
        END;
        BEGIN
            BEGIN
                OPEN c FOR SELECT * FROM pt WHERE id IN (1, 1);
            EXCEPTION WHEN division_by_zero THEN NULL;
            END;
        EXCEPTION WHEN duplicate_cursor THEN NULL;
        END;
        RAISE EXCEPTION 'undo' USING ERRCODE = 'P0001';
    EXCEPTION WHEN raise_exception THEN
        PERFORM set_config('bh_audit.enabled', 'off', false);
        PERFORM set_config('bh_audit.enabled', 'on', false);
    END;
END $$}, 'a function switches capture off and on after its blocks are rolled back');
is(reads(), 'p1', 'the cursor of the rolled-back blocks is recorded once');

# 4. A cursor whose FETCH failed (inside an exception block), then closed:
# PostgreSQL drops it without ExecutorEnd.
mark();
$s->query_safe(q{
BEGIN;
DECLARE f CURSOR FOR SELECT id, 10 / (id - 3) FROM pt;
DO $$
DECLARE c refcursor := 'f'; r record;
BEGIN
    LOOP
        FETCH c INTO r;
    END LOOP;
EXCEPTION WHEN division_by_zero THEN NULL;
END $$;
CLOSE f;
});
survives($s, 'SET bh_audit.enabled = off; RESET bh_audit.enabled',
	'capture is switched off after the failed cursor is closed');
survives($s, 'COMMIT', 'and the transaction commits');
is(reads(), 'p1,p2,p3', 'the failed cursor\'s reads are recorded once');

$s->quit;
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server runs');
unlike(slurp_file($node->logfile), qr/terminated by signal/,
	'no backend crashed');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');

$node->stop;
done_testing();
