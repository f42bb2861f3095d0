# bh_audit.seal() under a load that never lets the queue or the ring run
# empty returns once what was committed (or pushed) before it was called is
# in the ledger, not when the load stops:
#  - a role without privileges flooding caught denials (a DENIED event each,
#    through the ring), with a session reading a tagged table in a loop;
#  - a write load (every transaction queues events);
#  - several sessions calling seal() at once under the flood.
# Each load runs until the test stops it (a row in load_stop; at most the
# harness's timeout): seal() must return, with the marker row inserted just
# before it in the ledger, while the load still runs.  A seal() that waited
# for the load to end would not return before the test's own timeout.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = bh_node('seal_under_load', database => 'probe');
$node->safe_psql('probe', q{
CREATE TABLE notes (id bigserial PRIMARY KEY, patient_id text, body text);
INSERT INTO notes (patient_id, body) SELECT 'P' || g, 'b' FROM generate_series(1, 20) g;
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id');
CREATE ROLE alice LOGIN;
CREATE TABLE load_stop (x int);
GRANT SELECT ON load_stop TO PUBLIC;
SELECT bh_audit.seal();
});

my $load_s = $PostgreSQL::Test::Utils::timeout_default;

# A psql running the statements @sql (each its own transaction) as $role
# in the background.
sub start_load
{
	my ($role, @sql) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-U', $role,
			'-d', $node->connstr('probe'), map { ('-c', $_) } @sql ],
		'>', \$out, '2>', \$err);
	return { h => $h, out => \$out, err => \$err };
}

# A DO block looping over $body until load_stop has a row (for $load_s
# seconds at most).
sub loop_sql
{
	my ($body) = @_;
	return qq{DO \$\$ DECLARE stop timestamptz := clock_timestamp() + interval '$load_s s';
BEGIN WHILE clock_timestamp() < stop AND NOT EXISTS (SELECT FROM load_stop) LOOP $body END LOOP; END \$\$;};
}

# Wait until $n more events than $from have been sealed
# (events_sealed_total): the load runs at full speed.
sub sealed_total
{
	return $node->safe_psql('probe', 'SELECT events_sealed_total FROM bh_audit.stats()');
}

sub wait_sealed_total
{
	my ($from, $n) = @_;
	return $node->poll_query_until('probe',
		"SELECT events_sealed_total >= $from + $n FROM bh_audit.stats()");
}

sub count_where
{
	my ($where) = @_;
	return $node->safe_psql('probe', "SELECT count(*) FROM bh_audit.events WHERE $where");
}

# The flood's sessions still running their loop.
sub flooding
{
	return $node->safe_psql('probe', q{
SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'DO %'});
}

# Insert a marker row, call seal() and time it; returns (seconds, result).
sub timed_seal
{
	my ($marker) = @_;
	$node->safe_psql('probe',
		"INSERT INTO notes (patient_id, body) VALUES ('$marker', 'm')");
	my $t0 = time();
	my $r = $node->safe_psql('probe', 'SELECT bh_audit.seal()');
	return (time() - $t0, $r);
}

# ---------------------------------------------------------------------------
# (1) Denials and reads, all through the ring.
my $denied0 = count_where("outcome = 'DENIED'");
my $reads0 = count_where("action = 'READ' AND outcome = 'SUCCESS'");
my @loads = (
	start_load('alice',
		loop_sql('BEGIN PERFORM * FROM notes; EXCEPTION WHEN others THEN NULL; END;')),
	start_load('alice',
		loop_sql('BEGIN PERFORM * FROM notes; EXCEPTION WHEN others THEN NULL; END;')),
	start_load('postgres', loop_sql('PERFORM * FROM notes WHERE id = 1;')));
# (the three running, waited for: a loaded machine may start them late)
ok($node->poll_query_until('probe', q{
SELECT count(*) = 3 FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'DO %'}),
	'the flood runs');
ok($node->poll_query_until('probe', qq{
SELECT count(*) FILTER (WHERE outcome = 'DENIED') > $denied0 + 1000
   AND count(*) FILTER (WHERE action = 'READ' AND outcome = 'SUCCESS') > $reads0 + 1000
  FROM bh_audit.events}),
	'the flood has had 1,000 denials and 1,000 reads sealed');
my ($took, $sealed) = timed_seal('marker_ring');
my $running = flooding();
note(sprintf('seal() under a flood of denials and reads returned in %.1f s', $took));
is($running, 3, 'seal() under a flood of denials and reads returned while the flood still ran');
is(count_where("patient_id = 'marker_ring' AND action = 'CREATE'"), 1,
	'the marker inserted before seal() is in the ledger when it returns');
cmp_ok($sealed, '>', 0, 'seal() reports the events chained while it waited');

# several seal() at once, each with its own marker
my @seals;
for my $i (1 .. 3)
{
	push @seals, start_load('postgres',
		"INSERT INTO notes (patient_id, body) VALUES ('marker_many$i', 'm')",
		'SELECT bh_audit.seal()',
		"SELECT count(*) FROM bh_audit.events WHERE patient_id = 'marker_many$i' AND action = 'CREATE'");
}
my $t0 = time();
$_->{h}->finish for @seals;
note(sprintf('three concurrent seal() under the flood returned in %.1f s', time() - $t0));
is(join(',', map { (split /\n/, ${ $_->{out} })[-1] } @seals), '1,1,1',
	'each found its own marker in the ledger');
is(flooding(), 3, 'three concurrent seal() returned while the flood still ran');

$node->safe_psql('probe', 'INSERT INTO load_stop VALUES (1)');
$_->{h}->finish for @loads;
is(join('', map { ${ $_->{err} } } @loads), '', 'the flood sessions ran without errors');
cmp_ok(count_where("outcome = 'DENIED'") - $denied0, '>', 1000,
	'the flood was of denials');
cmp_ok(count_where("action = 'READ' AND outcome = 'SUCCESS'") - $reads0, '>', 1000,
	'and of reads');

# ---------------------------------------------------------------------------
# (2) A write load: every transaction queues events (four sessions, a
# transaction of five rows after another).
$node->safe_psql('probe', 'TRUNCATE load_stop');
my @writes = map {
	start_load('postgres',
		loop_sql(q{INSERT INTO notes (patient_id, body) SELECT 'W' || g, 'w' FROM generate_series(1, 5) g; COMMIT;}))
} 1 .. 4;
ok($node->poll_query_until('probe', q{
SELECT count(*) = 4 FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'DO %'}),
	'the write load runs');
ok(wait_sealed_total(sealed_total(), 1000), 'the write load has had 1,000 events sealed');
($took, $sealed) = timed_seal('marker_queue');
note(sprintf('seal() under a write load returned in %.1f s', $took));
is(flooding(), '4', 'seal() under a write load returned while the load still ran (its four sessions)');
is(count_where("patient_id = 'marker_queue' AND action = 'CREATE'"), 1,
	'the marker inserted before seal() is in the ledger when it returns');
$node->safe_psql('probe', 'INSERT INTO load_stop VALUES (1)');
$_->{h}->finish for @writes;
is(join('', map { ${ $_->{err} } } @writes), '', 'the write load ran without errors');
my $written = $node->safe_psql('probe', "SELECT count(*) FROM notes WHERE patient_id LIKE 'W%'");

# Once the loads are over, everything is sealed and the chain holds.
$node->safe_psql('probe', 'SELECT bh_audit.seal()');
is($node->safe_psql('probe', 'SELECT count(*) FROM bh_audit.queue'), '0',
	'the queue is empty after a seal() without load');
is($node->safe_psql('probe', 'SELECT ring_events FROM bh_audit.stats()'), '0',
	'and so is the ring');
is($node->safe_psql('probe', "SELECT count(*) FROM bh_audit.events WHERE patient_id LIKE 'W%' AND action = 'CREATE'"),
	$written, 'every write of the load is sealed');
is($node->safe_psql('probe', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');

done_testing();
