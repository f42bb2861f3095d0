# A clean shutdown stops the sealer after its final drain of the ring;
# sessions that end after that push their events into a ring nobody
# empties.  A session connected with replication=database (a walsender,
# which runs SQL too, and whose reads of tagged tables are captured) is no
# session a smart shutdown waits for: the postmaster stops the background
# workers, the sealer among them, as soon as the normal backends are gone,
# and terminates the walsender only later (the checkpointer's
# WalSndInitStopping).  The sealer cannot wait for it.  So the walsender's
# statement's READ events, flushed by its abort, cannot be chained; what
# can be done is that they do not hold the shutdown up (a push that finds
# the ring full used to wait bh_audit.ring_wait_timeout for a sealer that
# had exited) and that every one of them is accounted for, once: those that
# found room in the ring as events_lost_in_ring, the others as
# events_dropped, in the EventsLost event after the restart.
#
# The same for a fast shutdown, where sessions are terminated at the same
# time as the sealer: each of the session's events is sealed (pushed before
# the final drain ended) or accounted as lost, once.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = bh_node('smart_walsender', init => { allows_streaming => 1 }, conf => q{
bh_audit.ring_size = '64kB'
bh_audit.ring_wait_timeout = '20s'
});
$node->safe_psql('postgres', q{
CREATE TABLE pt (id int PRIMARY KEY, pid text);
INSERT INTO pt SELECT g, 'p' || g FROM generate_series(1, 500) g;
SELECT bh_audit.tag_table('pt', 'Patient', 'id', 'pid');
SELECT bh_audit.seal();
});

# Reads the 500 patients (500 READ events, held until the statement ends,
# far more than the ring holds), then sleeps until the shutdown ends it.
my $statement =
  'WITH r AS MATERIALIZED (SELECT count(pid) FROM pt) SELECT pg_sleep(60) FROM r';

# Stops the node in $mode while a session of $connopt runs $statement;
# returns how long the stop took and what the EventsLost event recorded
# after the restart, with the session's READ events that were sealed.
sub stop_during_statement
{
	my ($mode, $connopt, $backend_type) = @_;
	my $mark = $node->safe_psql('postgres', 'SELECT max(seq) FROM bh_audit.events');
	my $log_offset = -s $node->logfile;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-At', '-d', $node->connstr('postgres') . $connopt, '-c', $statement ],
		'>', \$out, '2>', \$err);
	ok( $node->poll_query_until('postgres', qq{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE backend_type = '$backend_type' AND wait_event = 'PgSleep'}),
		"$mode: the $backend_type has read the table and sleeps");

	my $t0 = time();
	$node->stop($mode);
	my $took = time() - $t0;
	$h->finish;
	note("$mode shutdown took $took s; session: $err");
	my $log = slurp_file($node->logfile, $log_offset);

	$node->start;
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	my $lost = $node->safe_psql('postgres', qq{
SELECT coalesce((m ->> 'events_lost_in_ring')::int, 0) || ' '
       || coalesce((m ->> 'events_dropped')::int, 0) || ' '
       || coalesce((m ->> 'events_lost_in_sessions')::int, 0)
  FROM (SELECT event -> 'metadata' AS m FROM bh_audit.events
         WHERE seq > $mark AND error_type = 'EventsLost') e});
	my $sealed = $node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events
 WHERE seq > $mark AND action = 'READ' AND resource_type = 'Patient'});
	return ($took, $lost, $sealed, $log);
}

my ($took, $lost, $sealed, $log) =
  stop_during_statement('smart', ' replication=database', 'walsender');
cmp_ok($took, '<', 10,
	"smart: the shutdown does not wait ring_wait_timeout (20 s) for a sealer that is gone ($took s)");
like($log, qr/WARNING:  bh_audit dropped an audit event: the event ring is full, and the sealer has stopped for the server's shutdown/,
	'smart: the walsender drops what does not fit at once, with a WARNING');
is($sealed, '0', 'smart: none of the walsender\'s reads is chained (it ended after the final drain)');
my ($in_ring, $dropped, $in_sessions) = split / /, $lost;
cmp_ok($in_ring, '>', 0, "smart: $in_ring were left in the ring");
is($in_ring + $dropped, 500,
	"smart: all 500 are accounted, once: $in_ring lost in the ring and $dropped dropped");
is($in_sessions, 0, 'smart: none is counted as held by the session too');

($took, $lost, $sealed, $log) = stop_during_statement('fast', '', 'client backend');
cmp_ok($took, '<', 10, "fast: the shutdown takes seconds ($took s)");
($in_ring, $dropped, $in_sessions) = split / /, ($lost eq '' ? '0 0 0' : $lost);
is($sealed + $in_ring + $dropped, 500,
	"fast: each of the session's 500 reads is chained or accounted, once: $sealed chained, $in_ring lost in the ring, $dropped dropped");
is($in_sessions, 0, 'fast: none is counted as held by the session too');

is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');
$node->stop;
done_testing();
