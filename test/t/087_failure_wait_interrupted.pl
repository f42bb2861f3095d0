# A statement's FAILURE whose wait for room in a full ring
# (bh_audit.on_ring_full = wait) is ended by a cancel or terminate request
# (pg_cancel_backend(), pg_terminate_backend()) is dropped, and counted
# once: in events_dropped_total and in the chain's EventsLost events, and
# it is not pushed again at the abort.  So for the failures recorded from
# the PG_CATCH of the executor (a unique violation), of the planner (a
# division by zero folded in planning), of the utility hook (an EXECUTE
# whose parameter does not convert) and from the abort (a statement that
# fails in parse analysis).  A cancel request that ends such a wait (in a
# PG_CATCH or an abort, where interrupts are not serviced) is serviced
# where PostgreSQL services it next: the client is told the statement's
# own error.  Controls: the same failure given up after ring_wait_timeout
# with no request is counted once too; and with room in the ring each
# failure is recorded exactly once.
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

my $node = bh_node('failure_wait_interrupted', conf => q{
bh_audit.ring_size = '64kB'
});
$node->safe_psql('postgres', q{
CREATE TABLE notes (id bigint PRIMARY KEY, patient_id text NOT NULL, body text);
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id');
INSERT INTO notes VALUES (0, 'P0', 'b');
CREATE TABLE t (id int PRIMARY KEY, patient_id text);
INSERT INTO t SELECT g, 'T' || g FROM generate_series(1, 200) g;
SELECT bh_audit.tag_table('t', 'Chart', 'id', 'patient_id');
SELECT bh_audit.seal();
});

# The FAILURE events of notes sealed after seq $mark, "error_type:count"
# in order of error_type.
sub failures
{
	my ($mark) = @_;
	return $node->safe_psql('postgres', qq{
SELECT coalesce(string_agg(error_type || ':' || n, ',' ORDER BY error_type), '')
  FROM (SELECT error_type, count(*) AS n FROM bh_audit.events
         WHERE seq > $mark AND resource_type = 'Note' AND outcome = 'FAILURE'
         GROUP BY error_type) f});
}

# Everything dropped before is in the chain: a mark after which the
# EventsLost events count only what follows.
bh_wait_lost($node, 'postgres', 0, bh_dropped($node, 'postgres'));
my $mark = bh_last_seq($node, 'postgres');
my $start_dropped = bh_dropped($node, 'postgres');

# The ring filled (dropping what does not fit, at once).
my $blocker = bh_hold_sealer($node, 'postgres',
	fill => "SELECT count(*) FROM t;\nSELECT count(*) FROM t;");
cmp_ok(bh_dropped($node, 'postgres'), '>', $start_dropped, 'the ring is full');

# A session that runs $sql (after @setup), whose failure waits for room.
sub waiting
{
	my ($name, $sql, @setup) = @_;
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	$s->query_safe("SET application_name = '$name'");
	$s->query_safe('SET bh_audit.on_ring_full = wait');
	$s->query_safe("SET bh_audit.ring_wait_timeout = '60s'");
	$s->query_safe($_) for @setup;
	$s->query_until(qr/started/, "\\echo started\n$sql;\n");
	ok($node->poll_query_until('postgres', qq{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE application_name = '$name' AND wait_event_type = 'Extension'}),
		"$name: the failure waits for room");
	return $s;
}

sub pid_of
{
	my ($name) = @_;
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE application_name = '$name'");
}

my @cases = (
	[ 'executor', q{INSERT INTO notes VALUES (0, 'P9', 'b')},
		qr/duplicate key value violates unique constraint/ ],
	[ 'planner', q{SELECT * FROM notes WHERE id = 1 / 0},
		qr/division by zero/ ],
	[ 'utility', q{EXECUTE p('abc')},
		qr/invalid input syntax for type bigint/,
		q{PREPARE p(bigint) AS SELECT * FROM notes WHERE id = $1} ],
	[ 'abort', q{SELECT * FROM notes WHERE id = 'abc'},
		qr/invalid input syntax for type bigint/ ],
);

for my $case (@cases)
{
	my ($path, $sql, $error, @setup) = @$case;

	# A cancel request: the wait ends, the session goes on.
	my $before = bh_dropped($node, 'postgres');
	my $s = waiting("${path}_cancel", $sql, @setup);
	my $pid = pid_of("${path}_cancel");
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
	my ($out) = $s->query("SELECT 'next'");
	like($out, qr/next/, "$path, cancel: the session goes on");
	like($s->{stderr}, $error, "$path, cancel: the client is told the statement's error");
	unlike($s->{stderr}, qr/canceling statement/,
		"$path, cancel: not replaced by the cancel");
	is(bh_dropped($node, 'postgres') - $before, 1, "$path, cancel: the FAILURE is counted as dropped once");
	$s->quit;

	# A terminate request: the session ends.
	$before = bh_dropped($node, 'postgres');
	$s = waiting("${path}_terminate", $sql, @setup);
	$pid = pid_of("${path}_terminate");
	$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
	ok($node->poll_query_until('postgres',
			"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid"),
		"$path, terminate: the session ends");
	is(bh_dropped($node, 'postgres') - $before, 1,
		"$path, terminate: the FAILURE is counted as dropped once");
	eval { $s->quit };
}

# Control: no request, the wait runs out of ring_wait_timeout.
my $before = bh_dropped($node, 'postgres');
my ($ret, $out, $err) = $node->psql('postgres', q{
SET bh_audit.on_ring_full = wait;
SET bh_audit.ring_wait_timeout = '1s';
INSERT INTO notes VALUES (0, 'P9', 'b');
}, timeout => 120);
like($err, qr/duplicate key value violates unique constraint/,
	'timeout: the client is told the statement\'s error');
is(bh_dropped($node, 'postgres') - $before, 1, 'timeout: the FAILURE is counted as dropped once');

# Released, the sealer chains what the ring held: none of those failures
# is in the chain, and every drop is counted in it once.
my $all_dropped = bh_dropped($node, 'postgres') - $start_dropped;
$blocker->query_safe('COMMIT');
$blocker->quit;
bh_wait_lost($node, 'postgres', $mark, $all_dropped);
is(bh_lost_recorded($node, 'postgres', $mark), $all_dropped,
	"the chain's EventsLost events count the $all_dropped dropped events, once");
is(failures($mark), '', 'no FAILURE of notes is in the chain');

# Control: with room in the ring, each failure is recorded exactly once.
$mark = bh_last_seq($node, 'postgres');
for my $case (@cases)
{
	my ($path, $sql, $error, @setup) = @$case;
	($ret, $out, $err) = $node->psql('postgres', join(";\n", @setup, $sql) . ";\n");
	like($err, $error, "$path, room: the statement fails");
}
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is(failures($mark), 'division_by_zero:1,invalid_text_representation:2,unique_violation:1',
	'with room, each failure is recorded once');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');

$node->stop;
done_testing();
