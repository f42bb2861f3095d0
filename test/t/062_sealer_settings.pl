# The sealer is a session of its database, so it gets the settings that
# the database's owner (ALTER DATABASE ... SET) or a role gives it; none of
# them may cost the chain an event or stall it:
#  - synchronous_commit = off: a batch is on disk before the sealer lets go
#    of what it took from the ring.  Before, an asynchronous commit was
#    followed at once by the ring's consume: an immediate stop right after
#    lost the batch's READ events without a trace (no EventsLost), and the
#    next event took the lost events' seq again;
#  - vacuum_cost_delay / vacuum_cost_limit: the sealer's own vacuum of the
#    queue is not throttled.  Before, it slept in VacuumDelay for half a
#    minute on a queue of 89 pages, sealing nothing, while the ring filled;
#  - lock_timeout (before, a batch waiting for a lock failed and the
#    sealer restarted, again and again while the lock was held), role
#    (before, the sealer acted as that role, and its vacuum of the queue
#    was skipped with a WARNING), default_transaction_read_only,
#    default_transaction_isolation: ignored by the sealer;
# and the sealer and the writers keep their locks on the queue and the
# ledger until they commit: a CLUSTER or VACUUM FULL of the queue under
# write load waits for them instead of copying rows whose insert or delete
# is still in progress (before, WARNINGs "concurrent insert in progress
# within table "queue"", and "concurrent delete", by the hundred).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

# A WAL writer that flushes at most every 10 s (or after 1 MB): an
# asynchronous commit stays in memory for seconds.  No background writer
# and no autovacuum to flush WAL in between.
my $node = bh_node('sealer_settings', database => 'probe', conf => q{
wal_writer_delay = '10s'
bgwriter_lru_maxpages = 0
autovacuum = off
});
$node->safe_psql('probe', q{
CREATE ROLE clerk LOGIN;
CREATE TABLE patients (id int PRIMARY KEY, patient_id text, name text);
INSERT INTO patients SELECT g, 'P' || g, 'name ' || g FROM generate_series(1, 100) g;
SELECT bh_audit.tag_table('patients', 'Patient', 'id', 'patient_id');
CREATE TABLE notes (note_id serial PRIMARY KEY, patient_id int, body text);
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id', capture_reads => false);
GRANT SELECT ON patients TO clerk;
GRANT INSERT ON notes TO clerk;
GRANT USAGE ON SEQUENCE notes_note_id_seq TO clerk;
ALTER DATABASE probe SET synchronous_commit = off;
});
$node->restart;

# clerk reads patients $from .. $to, one statement (one READ event) each,
# and waits until all its reads so far are sealed.
sub reads
{
	my ($from, $to) = @_;
	$node->safe_psql('probe',
		join('', map { "SELECT name FROM patients WHERE id = $_;\n" } $from .. $to),
		extra_params => [ '-U', 'clerk' ]);
	return bh_wait_sealed($node, 'probe',
		q{resource_type = 'Patient' AND action = 'READ'}, $to);
}

# The sealed chain up to seq $mark, one line per event.
sub chain_to
{
	my ($mark) = @_;
	return $node->safe_psql('probe', qq{
SELECT string_agg(seq || ' ' || event_hash, E'\n' ORDER BY seq)
  FROM bh_audit.events WHERE seq <= $mark});
}

# (a) synchronous_commit = off.  The first reads' batch is flushed by the
# WAL writer (waited for), which flushes again only 10 s later: the second
# reads' batch, sealed right after, is in no WAL file unless the sealer
# flushed it.
is(reads(1, 30), 30, 'the first 30 reads are sealed');
my $written = $node->safe_psql('probe', 'SELECT pg_current_wal_insert_lsn()');
ok($node->poll_query_until('probe',
		"SELECT pg_current_wal_flush_lsn() >= '$written'::pg_lsn"),
	'their batch is flushed');
is(reads(31, 60), 60, 'the next 30 reads are sealed');
my $mark = $node->safe_psql('probe', 'SELECT max(seq) FROM bh_audit.events');
my $chain = chain_to($mark);

$node->stop('immediate');
$node->start;
is($node->safe_psql('probe', 'SELECT max(seq) FROM bh_audit.events'), $mark,
	'after an immediate stop the chain ends where it ended');
is(chain_to($mark), $chain, 'with the same events');
is($node->safe_psql('probe', q{
SELECT count(*), count(DISTINCT patient_id) FROM bh_audit.events
 WHERE resource_type = 'Patient' AND action = 'READ'}),
	'60|60', 'every read is in the ledger, once');
is($node->safe_psql('probe', q{SELECT count(*) FROM bh_audit.events WHERE error_type = 'EventsLost'}),
	'0', 'nothing was lost');
is($node->safe_psql('probe', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');
is(reads(61, 61), 61, 'a later read is sealed');
is($node->safe_psql('probe', q{
SELECT seq FROM bh_audit.events WHERE resource_type = 'Patient' AND patient_id = 'P61'}),
	$mark + 1, 'after the last event sealed before the stop');

# (b) the sealer's vacuum of the queue is not throttled.
$node->safe_psql('probe', q{
ALTER DATABASE probe SET vacuum_cost_delay = '100ms';
ALTER DATABASE probe SET vacuum_cost_limit = 1;
});
$node->restart;
is($node->safe_psql('probe', 'SHOW vacuum_cost_delay'), '100ms',
	"the database's settings apply to its sessions");

my $script = "$PostgreSQL::Test::Utils::tmp_check/notes.sql";
PostgreSQL::Test::Utils::append_to_file($script,
	q{INSERT INTO notes (patient_id, body) VALUES (1 + (random() * 99)::int, 'x');});

# Writes of one queue row each, in $n transactions; returns the vacuum
# count of the queue before them.
sub writes
{
	my ($n) = @_;
	my $vacuums = $node->safe_psql('probe',
		q{SELECT vacuum_count FROM pg_stat_all_tables WHERE relid = 'bh_audit.queue'::regclass});
	my ($out, $err) = run_command([ 'pgbench', '-n', '-c', '2', '-j', '2', '-t', $n / 2,
			'-f', $script, '-d', $node->connstr('probe') ]);
	like($out, qr{actually processed: $n/$n}, "$n write transactions")
	  or diag($out . $err);
	return $vacuums;
}

# 1,200 rows: more than the 1,024 deleted rows after which the sealer
# vacuums the queue.
my $mark_b = $node->safe_psql('probe', 'SELECT max(seq) FROM bh_audit.events');
my $vacuums = writes(1200);
# the sealer's wait events over 5 s
my %waits;
my $until = time() + 5;
while (time() < $until)
{
	$waits{ $node->safe_psql('probe',
		q{SELECT coalesce(wait_event, 'none') FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer'}) }++;
	usleep(20_000);
}
ok(!exists $waits{VacuumDelay}, 'the sealer never waits in VacuumDelay')
  or diag(explain \%waits);
my $start = time();
$node->safe_psql('probe', 'SELECT bh_audit.seal()');
cmp_ok(time() - $start, '<', 3, 'seal() returns at once');
is($node->safe_psql('probe', qq{
SELECT count(*) FROM bh_audit.events
 WHERE seq > $mark_b AND resource_type = 'Note' AND action = 'CREATE'}),
	'1200', 'every insert is sealed');
ok($node->poll_query_until('probe',
		qq{SELECT vacuum_count > $vacuums FROM pg_stat_all_tables WHERE relid = 'bh_audit.queue'::regclass}),
	'the sealer vacuumed the queue');
$node->safe_psql('probe', q{
ALTER DATABASE probe RESET vacuum_cost_delay;
ALTER DATABASE probe RESET vacuum_cost_limit;
});
$node->restart;

# (c) CLUSTER and VACUUM FULL of the queue under a load of writes of 20
# rows each: each waits for the writers and the sealer to commit.
my $script20 = "$PostgreSQL::Test::Utils::tmp_check/notes20.sql";
PostgreSQL::Test::Utils::append_to_file($script20,
	q{INSERT INTO notes (patient_id, body) SELECT 1 + (random() * 99)::int, 'x' FROM generate_series(1, 20);});
my $mark_c = $node->safe_psql('probe', 'SELECT max(seq) FROM bh_audit.events');
my $before = $node->safe_psql('probe', 'SELECT count(*) FROM notes');
my ($load_out, $load_err) = ('', '');
my $load = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '4', '-j', '4', '-T', '6', '-f', $script20, '-d',
		$node->connstr('probe') ],
	'>', \$load_out, '2>', \$load_err);
my $warnings = '';
my $rewrites = 0;
$until = time() + 5;
while (time() < $until)
{
	my ($ret, $stdout, $stderr) = $node->psql('probe',
		"CLUSTER bh_audit.queue USING queue_pkey;\nVACUUM FULL bh_audit.queue;\n" x 10,
		on_error_stop => 1);
	is($ret, 0, 'CLUSTER and VACUUM FULL of the queue') if $ret != 0;
	$warnings .= $stderr;
	$rewrites += 20;
}
$load->finish;
my ($committed) = $load_out =~ /number of transactions actually processed: (\d+)/;
ok(defined $committed && $committed > 0,
	"a write load ran ($rewrites rewrites of the queue meanwhile)")
  or diag($load_out . $load_err);
my $concurrent = () = $warnings =~ /concurrent (?:delete|insert) in progress/g;
is($concurrent, 0, 'no rewrite of the queue met a delete or an insert in progress')
  or diag(substr($warnings, 0, 500));
$node->safe_psql('probe', 'SELECT bh_audit.seal()');
is($node->safe_psql('probe', 'SELECT count(*) FROM notes') - $before, 20 * $committed,
	'the committed inserts are in the table');
is($node->safe_psql('probe', qq{
SELECT count(*) FROM bh_audit.events
 WHERE seq > $mark_c AND resource_type = 'Note' AND action = 'CREATE'}),
	20 * $committed, 'one event per inserted row');

# (d) lock_timeout, a role, read-only and serializable defaults: the test's
# own sessions set them back (PGOPTIONS), the sealer ignores them.  A lock
# on the ledger makes it wait (for good: no error, no restart), and its
# vacuum of the queue runs (as a role that does not own
# the queue it would be skipped with a WARNING).
$node->safe_psql('probe', q{
ALTER DATABASE probe SET lock_timeout = '1ms';
ALTER DATABASE probe SET role = 'clerk';
ALTER DATABASE probe SET default_transaction_read_only = on;
ALTER DATABASE probe SET default_transaction_isolation = 'serializable';
});
$ENV{PGOPTIONS} = '-c default_transaction_read_only=off -c lock_timeout=0'
  . ' -c default_transaction_isolation=read\ committed -c role=none';
$node->restart;
is($node->safe_psql('probe', q{
SELECT current_setting('role'), current_setting('lock_timeout'), rolname
  FROM pg_db_role_setting, unnest(setconfig) c, pg_roles
 WHERE c = 'role=clerk' AND rolname = 'clerk'}),
	'none|0|clerk', "the database's settings are there, this session's override them");
my $log_offset = -s $node->logfile;
my $sealer = $node->safe_psql('probe',
	q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer'});
my $mark_d = $node->safe_psql('probe', 'SELECT max(seq) FROM bh_audit.events');

my $locker = $node->background_psql('probe');
$locker->query_safe('BEGIN');
$locker->query_safe('LOCK TABLE bh_audit.events IN ACCESS EXCLUSIVE MODE');
$node->safe_psql('probe', 'SELECT name FROM patients WHERE id = 99',
	extra_params => [ '-U', 'clerk' ]);
ok($node->poll_query_until('probe',
		q{SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer'}),
	'the sealer waits for the lock');
is($node->safe_psql('probe',
		q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer'}),
	$sealer, 'the same sealer, not a new one');
$locker->query_safe('COMMIT');
$locker->quit;
$vacuums = writes(1200);
$node->safe_psql('probe', 'SELECT bh_audit.seal()');
is($node->safe_psql('probe', qq{
SELECT count(*) FILTER (WHERE resource_type = 'Note' AND action = 'CREATE'),
       count(*) FILTER (WHERE resource_type = 'Patient' AND action = 'READ')
  FROM bh_audit.events WHERE seq > $mark_d}),
	'1200|1', 'the read and every insert are sealed');
ok($node->poll_query_until('probe',
		qq{SELECT vacuum_count > $vacuums FROM pg_stat_all_tables WHERE relid = 'bh_audit.queue'::regclass}),
	'the sealer vacuumed the queue');
is($node->safe_psql('probe',
		q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer'}),
	$sealer, 'the same sealer runs');
my $log = substr(slurp_file($node->logfile), $log_offset);
unlike($log, qr/(?:ERROR|WARNING):/, 'no error or warning in the log')
  or diag(join("\n", grep { /ERROR|WARNING/ } split /\n/, $log));
is($node->safe_psql('probe', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');

# (e) session_authorization, which a database's owner may set as well: the
# sealer connects as the bootstrap superuser and stays that session, so its
# vacuum of the queue runs (as clerk it would be skipped with a WARNING).
my $superuser = $node->safe_psql('probe', 'SELECT current_user');
$node->safe_psql('probe', q{ALTER DATABASE probe SET session_authorization = 'clerk'});
$ENV{PGOPTIONS} .= " -c session_authorization=$superuser";
$node->restart;
is($node->safe_psql('probe', q{
SELECT count(*) FROM pg_db_role_setting, unnest(setconfig) c
 WHERE c = 'session_authorization=clerk'}),
	'1', "the database's session_authorization is set");
$log_offset = -s $node->logfile;
$vacuums = writes(1200);
$node->safe_psql('probe', 'SELECT bh_audit.seal()');
ok($node->poll_query_until('probe',
		qq{SELECT vacuum_count > $vacuums FROM pg_stat_all_tables WHERE relid = 'bh_audit.queue'::regclass}),
	'the sealer vacuumed the queue as the superuser');
$log = substr(slurp_file($node->logfile), $log_offset);
unlike($log, qr/(?:ERROR|WARNING):/, 'no error or warning in the log')
  or diag(join("\n", grep { /ERROR|WARNING/ } split /\n/, $log));

$node->stop;
done_testing();
