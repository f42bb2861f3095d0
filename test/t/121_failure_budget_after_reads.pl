# ring.c and docs/operations.md: the statement's failure and the end of a
# transaction within it have a budget of waiting for room of their own, as
# large as the statement's, "so that a statement's failure can still be
# recorded after its reads gave up".  A statement's FAILURE is pushed from
# the PG_CATCH of the executor, planner and utility hooks, where the
# transaction still looks in progress; it used to be handed the
# statement's budget there, which its reads had spent, and was dropped at
# once although the sealer came back within the second budget.
#
# The control: the same failure without reads before it waits for room and
# is recorded.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('failure_budget', conf => q{
bh_audit.ring_size = '64kB'
bh_audit.ring_wait_timeout = '5s'
});
$node->safe_psql('postgres', q{
CREATE TABLE pt (id int PRIMARY KEY, pid text);
INSERT INTO pt SELECT g, 'p' || g FROM generate_series(1, 2000) g;
SELECT bh_audit.tag_table('pt', 'Patient', 'id', 'pid');
-- reads 1000 patients (READ events at the inner statement's end), then fails
CREATE FUNCTION reads_then_fails() RETURNS int LANGUAGE plpgsql AS $$
DECLARE n int;
BEGIN
  SELECT count(pid) INTO n FROM pt;
  PERFORM set_config('bh_audit.ring_wait_timeout', '180s', true);
  PERFORM 1 / (id - 1) FROM pt WHERE id = 1;
  RETURN n;
END $$;
CREATE FUNCTION fails() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('bh_audit.ring_wait_timeout', '180s', true);
  PERFORM 1 / (id - 1) FROM pt WHERE id = 1;
  RETURN 0;
END $$;
SELECT bh_audit.seal();
});

sub failures
{
	return $node->safe_psql('postgres', q{
SELECT count(*) FROM bh_audit.events
 WHERE resource_type = 'Patient' AND outcome = 'FAILURE' AND error_type = 'division_by_zero'});
}

# Run $sql with the sealer held back (an EXCLUSIVE lock on the ledger),
# released once the statement's FAILURE waits for room: the statement's
# session waits for room (wait_event_type Extension) after the statement's
# reads, if any, gave up (their events counted as dropped), or has ended
# (the FAILURE not waiting at all).  Checks with ok() that it waits.  The
# FAILURE then finds room within its budget: the functions raise
# ring_wait_timeout (5 s, the reads' budget) to 180 s for the rest of the
# transaction before they fail, so that it does not depend on how soon
# the sealer, let go, makes room.
sub with_sealer_held
{
	my ($name, $sql, $reads) = @_;
	# (the ring filled first: what does not fit is dropped)
	my $blocker = bh_hold_sealer($node, 'postgres',
		fill => ($reads ? undef : 'SELECT count(pid) FROM pt WHERE id <= 400'));
	my $dropped0 = bh_dropped($node, 'postgres');
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	$s->query_until(qr/started/, "\\echo started\nSELECT $sql;\n");
	my $waits = qq{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE pid = $pid AND wait_event_type = 'Extension'}
	  . ($reads ? " AND (SELECT events_dropped_total FROM bh_audit.stats()) > $dropped0" : '');
	# (or the statement ended, its FAILURE not waiting: idle after this
	# statement, not idle before it, as the session is until the statement
	# that psql sends after the echo reaches it)
	$node->poll_query_until('postgres', qq{
SELECT ($waits) OR (SELECT state = 'idle' AND query = 'SELECT $sql;'
                      FROM pg_stat_activity WHERE pid = $pid)});
	ok($node->safe_psql('postgres', $waits) eq 't',
		"$name: the FAILURE waits for room" . ($reads ? ', after the reads gave up' : ''));
	$blocker->query_safe('COMMIT');
	$blocker->quit;
	$s->query("SELECT 'done'");
	like($s->{stderr}, qr/division by zero/, "$name: the statement fails");
	$s->quit;
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return;
}

# Control: no reads before the failure; the ring is full, the sealer held
# until the FAILURE waits: it waits for room and is recorded.
my $before = failures();
with_sealer_held('control', 'fails()', 0);
is(failures() - $before, 1, 'control: a FAILURE that finds the ring full waits and is recorded');

# The reads fill the ring and give up after 5 s (ring_wait_timeout); the
# sealer is back once the FAILURE waits, within the abort's (and so the
# failure's) own budget, 180 s by then.  (Handed the statement's spent
# budget, the FAILURE is dropped at once, however large ring_wait_timeout
# is: the session ends without waiting again.)
$before = failures();
with_sealer_held('after reads', 'reads_then_fails()', 1);
is(failures() - $before, 1,
	'a FAILURE after the statement\'s reads gave up is recorded (a budget of its own)');

done_testing();
