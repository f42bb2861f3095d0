# bh_audit.seal() under a load that never lets the queue or the ring run
# empty returns once what was committed (or pushed) before it was called is
# in the ledger, not when the load stops:
#  - a role without privileges flooding caught denials (a DENIED event each,
#    through the ring), with a session reading a tagged table in a loop;
#  - a write load (every transaction queues events);
#  - several sessions calling seal() at once under the flood.
# Each load runs for 30 s; seal() must return within 10 s, with the marker
# row inserted just before it in the ledger, while the load still runs.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = bh_node('seal_under_load', database => 'probe');
$node->safe_psql('probe', q{
CREATE TABLE notes (id bigserial PRIMARY KEY, patient_id text, body text);
INSERT INTO notes (patient_id, body) SELECT 'P' || g, 'b' FROM generate_series(1, 20) g;
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id');
CREATE ROLE alice LOGIN;
SELECT bh_audit.seal();
});

my $load_s = 30;

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

# A DO block looping over $body for $load_s seconds.
sub loop_sql
{
	my ($body) = @_;
	return qq{DO \$\$ DECLARE stop timestamptz := clock_timestamp() + interval '$load_s s';
BEGIN WHILE clock_timestamp() < stop LOOP $body END LOOP; END \$\$;};
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
my $started = time();
# (the three running, waited for: a loaded machine may start them late)
ok($node->poll_query_until('probe', q{
SELECT count(*) = 3 FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'DO %'}),
	'the flood runs');
sleep 2;
my ($took, $sealed) = timed_seal('marker_ring');
my $running = flooding();
cmp_ok($took, '<', 10,
	sprintf('seal() under a flood of denials and reads returned in %.1f s', $took));
is($running, 3, 'while the flood still ran');
cmp_ok(time() - $started, '<', $load_s, 'well before the flood ended');
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
my $many = time() - $t0;
cmp_ok($many, '<', 10,
	sprintf('three concurrent seal() under the flood returned in %.1f s', $many));
is(join(',', map { (split /\n/, ${ $_->{out} })[-1] } @seals), '1,1,1',
	'each found its own marker in the ledger');
is(flooding(), 3, 'the flood still ran');

$_->{h}->finish for @loads;
is(join('', map { ${ $_->{err} } } @loads), '', 'the flood sessions ran without errors');
cmp_ok(count_where("outcome = 'DENIED'") - $denied0, '>', 1000,
	'the flood was of denials');
cmp_ok(count_where("action = 'READ' AND outcome = 'SUCCESS'") - $reads0, '>', 1000,
	'and of reads');

# ---------------------------------------------------------------------------
# (2) A write load: every transaction queues events.
my $script = "$PostgreSQL::Test::Utils::tmp_check/notes_load.sql";
PostgreSQL::Test::Utils::append_to_file($script,
	q{INSERT INTO notes (patient_id, body) SELECT 'W' || g, 'w' FROM generate_series(1, 5) g;});
my ($w_out, $w_err) = ('', '');
my $writes = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '4', '-j', '4', '-T', $load_s, '-f', $script, '-d',
		$node->connstr('probe') ],
	'>', \$w_out, '2>', \$w_err);
$started = time();
ok($node->poll_query_until('probe',
		"SELECT count(*) = 4 FROM pg_stat_activity WHERE query LIKE 'INSERT INTO notes (patient_id, body) SELECT ''W''%'"),
	'the write load runs');
sleep 2;
($took, $sealed) = timed_seal('marker_queue');
cmp_ok($took, '<', 10,
	sprintf('seal() under a write load returned in %.1f s', $took));
is($node->safe_psql('probe',
		"SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'INSERT INTO notes (patient_id, body) SELECT ''W''%'"),
	'4', 'while the write load still ran (its four sessions)');
cmp_ok(time() - $started, '<', $load_s, 'well before it ended');
is(count_where("patient_id = 'marker_queue' AND action = 'CREATE'"), 1,
	'the marker inserted before seal() is in the ledger when it returns');
$writes->finish;
my ($committed) = $w_out =~ /number of transactions actually processed: (\d+)/;
ok(defined $committed && $committed > 0, 'the write load ran')
  or diag($w_out . $w_err);

# Once the loads are over, everything is sealed and the chain holds.
$node->safe_psql('probe', 'SELECT bh_audit.seal()');
is($node->safe_psql('probe', 'SELECT count(*) FROM bh_audit.queue'), '0',
	'the queue is empty after a seal() without load');
is($node->safe_psql('probe', 'SELECT ring_events FROM bh_audit.stats()'), '0',
	'and so is the ring');
is($node->safe_psql('probe', "SELECT count(*) FROM bh_audit.events WHERE patient_id LIKE 'W%'"),
	5 * $committed, 'every write of the load is sealed');
is($node->safe_psql('probe', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');

done_testing();
