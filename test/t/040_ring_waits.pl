# A statement's READ events and a full ring (bh_audit.on_ring_full = wait):
#  - an emission cut short by an error (a cancel while waiting for room)
#    goes on at the abort from where it stopped: every event is
#    pushed at most once, and what did not make it is counted as dropped
#    exactly once (events_dropped_total and the chain's EventsLost event);
#  - bh_audit.ring_wait_timeout bounds the waiting of one statement, and
#    of one transaction end, while the sealer makes no progress, over all
#    their events, not each event's: once it ran out, or a wait was
#    cancelled, the statement's other events are dropped at once; while
#    the sealer makes progress, nothing is dropped;
#  - a cancel or terminate request ends a wait that holds interrupts (an
#    abort's), and a terminate ends the session's waiting altogether;
#  - under on_ring_full = error, the abort does not push again the event
#    refused, nor the ones before it.
#
# The sealer is held back by a session holding an EXCLUSIVE lock on
# bh_audit.events (the sealer cannot write the ledger while it is held).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = bh_node('ring_waits', conf => q{
bh_audit.ring_size = '64kB'
});
$node->safe_psql('postgres', q{
CREATE TABLE t (id int PRIMARY KEY, patient_id text);
INSERT INTO t SELECT g, 'P' || g FROM generate_series(1, 200) g;
SELECT bh_audit.tag_table('t', 'Note', 'id', 'patient_id');
SELECT bh_audit.seal();
});

# The events of t sealed after seq $mark: "events|patients|failures".
sub sealed_reads
{
	my ($mark) = @_;
	return $node->safe_psql('postgres', qq{
SELECT count(*) FILTER (WHERE outcome = 'SUCCESS') || '|' ||
       count(DISTINCT patient_id) FILTER (WHERE outcome = 'SUCCESS') || '|' ||
       count(*) FILTER (WHERE outcome = 'FAILURE')
  FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'Note' AND action = 'READ'});
}

# The pid of the session whose application_name is $name (empty: gone).
sub pid_of
{
	my ($name) = @_;
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE application_name = '$name'");
}

# Cancel the statement of the session named $name once pg_stat_activity
# shows it waiting for room (a statement_timeout could fire before the
# wait on a loaded machine).
sub cancel_waiting
{
	my ($name) = @_;
	ok($node->poll_query_until('postgres', qq{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE application_name = '$name' AND wait_event_type = 'Extension'}),
		"$name: the statement waits for room");
	$node->safe_psql('postgres', "SELECT pg_cancel_backend(pid) FROM pg_stat_activity
 WHERE application_name = '$name'");
	return;
}

# ---------------------------------------------------------------------------
# (1) An emission cut short by a cancel while it waits for room: the abort
# does not push the statement's events again.
my $mark = bh_last_seq($node, 'postgres');
my $before = bh_dropped($node, 'postgres');
my $blocker = bh_hold_sealer($node, 'postgres');
my $log_offset = -s $node->logfile;
my $reader = $node->background_psql('postgres', on_error_stop => 0);
$reader->query_safe("SET application_name = 'r_cut'");
$reader->query_safe('SET bh_audit.on_ring_full = wait');
$reader->query_safe("SET bh_audit.ring_wait_timeout = '60s'");
my $t0 = time();
$reader->query_until(qr/started/, q{
\echo started
SELECT count(*) FROM t;
});
cancel_waiting('r_cut');
# Released once the statement was cancelled: its abort's FAILURE finds room.
$node->wait_for_log(qr/ERROR:  canceling statement due to user request/, $log_offset);
$blocker->query_safe('COMMIT');
$blocker->quit;
my ($out, $ret) = $reader->query("SELECT 'next'");
my $elapsed = time() - $t0;
like($reader->{stderr}, qr/canceling statement due to user request/,
	'the statement waiting for room is cancelled');
note "the session went on after ${elapsed}s";
$reader->quit;
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
my $lost = bh_dropped($node, 'postgres') - $before;
my ($events, $patients, $failures) = split /\|/, sealed_reads($mark);
cmp_ok($events, '>', 0, "some of its READ events were sealed ($events)");
cmp_ok($lost, '>', 0, "some were dropped ($lost)");
is($events, $patients, 'no patient was recorded twice');
is($events + $lost, 200,
	'sealed and dropped make the 200 patients read, each counted once');
is($failures, '1', 'the statement\'s FAILURE is recorded');
bh_wait_lost($node, 'postgres', $mark, $lost);
is(bh_lost_recorded($node, 'postgres', $mark), $lost,
	"the chain's EventsLost events count the $lost dropped events, once");

# ---------------------------------------------------------------------------
# From here the sealer stays held back and the ring full.
$mark = bh_last_seq($node, 'postgres');
my $start_dropped = bh_dropped($node, 'postgres');
$blocker = bh_hold_sealer($node, 'postgres',
	fill => "SELECT count(*) FROM t;\nSELECT count(*) FROM t;");

# (2) A statement with 10 events waits ring_wait_timeout once, not 10
# times: the other 9 are dropped at once, with a single WARNING.  (The
# time is what is checked here: 1 s once, under 10 s in all, which waiting
# once per event would take.)
$before = bh_dropped($node, 'postgres');
$t0 = time();
my $err;
($ret, $out, $err) = $node->psql('postgres', q{
SET bh_audit.on_ring_full = wait;
SET bh_audit.ring_wait_timeout = '1s';
SELECT count(*) FROM t WHERE id <= 10;
}, timeout => 120);
$elapsed = time() - $t0;
is($ret, 0, 'the statement succeeds');
cmp_ok($elapsed, '>=', 0.95, "it waited for room ($elapsed s)");
cmp_ok($elapsed, '<', 10, 'for ring_wait_timeout in all, not once per event');
is(bh_dropped($node, 'postgres') - $before, 10, 'its 10 events are counted as dropped');
my @warnings = ($err =~ /WARNING:  bh_audit dropped an audit event/g);
is(scalar(@warnings), 1, 'with one WARNING');

# (3) The same at a transaction's abort (the reads of an open cursor,
# flushed by ROLLBACK with interrupts held).
$before = bh_dropped($node, 'postgres');
$t0 = time();
($ret, $out, $err) = $node->psql('postgres', q{
SET bh_audit.on_ring_full = wait;
SET bh_audit.ring_wait_timeout = '1s';
BEGIN;
DECLARE c CURSOR FOR SELECT * FROM t WHERE id <= 10;
FETCH ALL FROM c;
ROLLBACK;
}, timeout => 120);
$elapsed = time() - $t0;
is($ret, 0, 'the cursor\'s transaction rolls back');
cmp_ok($elapsed, '<', 10, "its abort waits ring_wait_timeout in all ($elapsed s)");
is(bh_dropped($node, 'postgres') - $before, 10, 'its 10 events are counted as dropped');

# (4) on_ring_full = error: the statement fails on its first event, and
# the abort does not push it again; its other events and its FAILURE find
# the ring full (dropped: no error can be raised there).
$before = bh_dropped($node, 'postgres');
($ret, $out, $err) = $node->psql('postgres', q{
\set VERBOSITY verbose
SET bh_audit.on_ring_full = error;
SELECT count(*) FROM t WHERE id <= 10;
}, timeout => 120);
like($err, qr/ERROR:  53000: bh_audit event ring is full/, 'the statement fails with 53000');
is(bh_dropped($node, 'postgres') - $before, 11,
	'its 10 READ events and its FAILURE are counted as dropped, once');

# (5) A statement cancelled while it waits for room: its other events are
# dropped at once; its FAILURE waits at the abort (interrupts
# held, ring_wait_timeout 300 s, longer than the test's waits for a
# session: only a request ends that wait in time), but a cancel request
# ends it.  The request is sent once the statement was cancelled (its
# ERROR is in the server's log) and its session waits again (the abort's
# wait).
sub cancelled_reader
{
	my ($name) = @_;
	my $offset = -s $node->logfile;
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	$s->query_safe("SET application_name = '$name'");
	$s->query_safe('SET bh_audit.on_ring_full = wait');
	$s->query_safe("SET bh_audit.ring_wait_timeout = '300s'");
	$s->query_until(qr/started/, q{
\echo started
SELECT count(*) FROM t WHERE id <= 5;
});
	cancel_waiting($name);
	$node->wait_for_log(qr/ERROR:  canceling statement due to user request/, $offset);
	ok($node->poll_query_until('postgres', qq{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE application_name = '$name' AND wait_event_type = 'Extension'}),
		"$name: the statement was cancelled, and its abort waits for room");
	return $s;
}

$before = bh_dropped($node, 'postgres');
$reader = cancelled_reader('r_cancel');
my $pid = pid_of('r_cancel');
$t0 = time();
$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
($out, $ret) = $reader->query("SELECT 'next'");
$elapsed = time() - $t0;
like($out, qr/next/, 'the session goes on after the cancel');
cmp_ok($elapsed, '<', 60, "a cancel ends the abort's wait ($elapsed s)");
is(bh_dropped($node, 'postgres') - $before, 6,
	'its 5 READ events and its FAILURE are counted as dropped, once');
$reader->quit;

# (6) The same with a terminate request: the session ends.
$before = bh_dropped($node, 'postgres');
$reader = cancelled_reader('r_term');
$pid = pid_of('r_term');
$t0 = time();
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid"),
	'the terminated session ends');
$elapsed = time() - $t0;
cmp_ok($elapsed, '<', 60, "a terminate ends the abort's wait ($elapsed s)");
is(bh_dropped($node, 'postgres') - $before, 6,
	'its 5 READ events and its FAILURE are counted as dropped, once');
eval { $reader->quit };

# (7) A terminate while the statement itself waits (no statement_timeout;
# ring_wait_timeout 300 s, as in (5)),
# in a transaction with an open cursor: the session ends at once, the
# abort waiting no more for the cursor's reads either, and each of the
# statement's 5 events and the cursor's 5 is counted once.
$before = bh_dropped($node, 'postgres');
$reader = $node->background_psql('postgres', on_error_stop => 0);
$reader->query_safe("SET application_name = 'r_wait'");
$reader->query_safe('SET bh_audit.on_ring_full = wait');
$reader->query_safe("SET bh_audit.ring_wait_timeout = '300s'");
$reader->query_safe('BEGIN');
$reader->query_safe('DECLARE c CURSOR FOR SELECT * FROM t WHERE id > 195');
$reader->query_safe('FETCH ALL FROM c');
$reader->query_until(qr/started/, q{
\echo started
SELECT count(*) FROM t WHERE id <= 5;
});
ok($node->poll_query_until('postgres', q{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE application_name = 'r_wait' AND wait_event_type = 'Extension'}),
	'the statement waits for room');
$pid = pid_of('r_wait');
$t0 = time();
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid"),
	'the terminated session ends');
$elapsed = time() - $t0;
cmp_ok($elapsed, '<', 60, "promptly, not at ring_wait_timeout ($elapsed s)");
is(bh_dropped($node, 'postgres') - $before, 10, 'the 10 events are counted as dropped, once');
eval { $reader->quit };

# Released, the sealer chains what the ring held and accounts for every
# drop once.
my $all_dropped = bh_dropped($node, 'postgres') - $start_dropped;
$blocker->query_safe('COMMIT');
$blocker->quit;
bh_wait_lost($node, 'postgres', $mark, $all_dropped);
is(bh_lost_recorded($node, 'postgres', $mark), $all_dropped,
	"the chain's EventsLost events count the $all_dropped dropped events, once");
($events, $patients, $failures) = split /\|/, sealed_reads($mark);
is($events + $failures + $all_dropped, 400 + 10 + 10 + 11 + 6 + 6 + 10,
	'every event of these statements is either sealed or counted as dropped');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');

# (8) A sealer making progress: only time without progress counts, so a
# statement with far more events than the ring holds (200,000 in a 64 kB
# ring) waits, in all, longer than ring_wait_timeout while the sealer
# takes them: nothing dropped, every patient sealed once.  The waiting is
# made by the test, not measured: the sealer is held back five times for
# 2 s while the statement waits for room (checked before and after each
# hold), and let go each time until it has chained a batch; 10 s of
# waiting in all, more than ring_wait_timeout (8 s), each stretch without
# progress some 6 s shorter than it (a stalled machine's margin).
$node->safe_psql('postgres', q{
CREATE TABLE many (id int PRIMARY KEY, patient_id text);
INSERT INTO many SELECT g, 'M' || g FROM generate_series(1, 200000) g;
SELECT bh_audit.tag_table('many', 'Many', 'id', 'patient_id');
SELECT bh_audit.seal();
});
$mark = bh_last_seq($node, 'postgres');
$before = bh_dropped($node, 'postgres');
my $many_waits = q{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE application_name = 'r_many' AND wait_event_type = 'Extension'};
$reader = $node->background_psql('postgres', on_error_stop => 0);
$reader->query_safe("SET application_name = 'r_many'");
$reader->query_safe('SET bh_audit.on_ring_full = wait');
$reader->query_safe("SET bh_audit.ring_wait_timeout = '8s'");
$reader->query_safe('SET bh_audit.max_patients_per_statement = 200000');
$blocker = bh_hold_sealer($node, 'postgres');
$reader->query_until(qr/started/, "\\echo started\nSELECT count(*) FROM many;\n");
my ($held, $holds) = (0, 0);
for my $round (1 .. 5)
{
	last unless $node->poll_query_until('postgres', $many_waits);
	my $h0 = time();
	usleep(2_000_000);
	last unless $node->safe_psql('postgres', $many_waits) eq 't';
	$held += time() - $h0;
	$holds++;
	last if $round == 5;
	# (let go until it has chained a batch, then held again by the same
	# session: a short stretch, for the statement to outlast five holds)
	my $seq = bh_last_seq($node, 'postgres');
	$blocker->query_safe('COMMIT');
	my $until = time() + $PostgreSQL::Test::Utils::timeout_default;
	usleep(10_000)
	  until $blocker->query_safe("SELECT coalesce(max(seq), 0) > $seq FROM bh_audit.events") eq 't'
	  || time() > $until;
	$blocker->query_safe('BEGIN');
	$blocker->query_safe('LOCK TABLE bh_audit.events IN EXCLUSIVE MODE');
}
$blocker->query_safe('COMMIT');
$blocker->quit;
is($holds, 5, 'the statement waited for room through five holds of the sealer');
cmp_ok($held, '>', 8, "it waited longer in all than ring_wait_timeout ($held s)");
$out = $reader->query("SELECT 'done'");
like($out, qr/^200000\ndone$/, 'the statement with 200,000 events succeeds');
is($reader->{stderr}, '', 'with no WARNING');
$reader->quit;
is(bh_dropped($node, 'postgres') - $before, 0, 'nothing is dropped while the sealer makes progress');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT count(*) || '|' || count(DISTINCT patient_id) FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'Many' AND action = 'READ'}),
	'200000|200000', 'every patient read is sealed once');

$node->stop;
done_testing();
