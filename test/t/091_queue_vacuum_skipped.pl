# The sealer's vacuum of bh_audit.queue, when another vacuum holds the
# queue, is tried again after the next batch instead of waiting for 1,024
# more deleted rows: a long autovacuum run over a large queue (after a
# bulk load) made the sealer skip its vacuum and count anew, so that the
# space of the load's rows was never reused and every further load grew
# the queue again.  The sealer never waits for the lock: it goes on
# sealing while it is held.  Autovacuum's own run over the queue is not
# throttled (autovacuum_vacuum_cost_delay = 0 on the queue and its TOAST
# table), so that it holds the queue for as short a time as the sealer's.
# Autovacuum is off here: only the lock taken by the test holds the queue.
# Any wait for a lock of 10 ms or more is logged (log_lock_waits), so that
# "never waits" is read from the server log, not from a stopwatch.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = bh_node('queue_vacuum_skipped', conf => q{
autovacuum = off
log_lock_waits = on
deadlock_timeout = '10ms'
});

is($node->safe_psql('postgres', q{
SELECT c.reloptions, t.reloptions
  FROM pg_class c JOIN pg_class t ON t.oid = c.reltoastrelid
 WHERE c.oid = 'bh_audit.queue'::regclass}),
	'{toast_tuple_target=8160,autovacuum_vacuum_cost_delay=0}|{autovacuum_vacuum_cost_delay=0}',
	"autovacuum's runs over the queue and its TOAST table are not throttled");

$node->safe_psql('postgres', q{
CREATE TABLE notes (note_id serial PRIMARY KEY, patient_id int, body text);
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id', capture_reads => false);
SELECT bh_audit.seal();
});
my $before = $node->safe_psql('postgres', 'SELECT max(seq) FROM bh_audit.events');

# The queue's vacuum_count, as the sealer last reported it (a fresh
# session: no stats snapshot of an earlier read).
sub vacuums
{
	return $node->safe_psql('postgres', q{
SELECT vacuum_count FROM pg_stat_all_tables WHERE relid = 'bh_audit.queue'::regclass});
}

# Waits (at most 15 seconds) for vacuum_count to pass $n; returns it.
sub vacuums_above
{
	my ($n) = @_;
	my $v;
	for (1 .. 150)
	{
		$v = vacuums();
		last if $v > $n;
		usleep(100_000);
	}
	return $v;
}

# Another session holds the queue as a vacuum would.  (The queue's
# vacuum_count is read once the lock is held: a vacuum of the sealer's
# before is over and counted then, vacuum() reports it before it lets go
# of the lock.)
my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN');
$holder->query_safe('LOCK TABLE bh_audit.queue IN SHARE UPDATE EXCLUSIVE MODE');
my $v0 = vacuums();
my $queue = $node->safe_psql('postgres', q{SELECT 'bh_audit.queue'::regclass::oid});
my $log_offset = -s $node->logfile;

# 1,100 transactions of one queue row each: the sealer's vacuum is due
# (1,024 rows deleted) while the lock is held, and is skipped.
$node->safe_psql('postgres', q{
DO $$
BEGIN
  FOR i IN 1 .. 1100 LOOP
    INSERT INTO notes (patient_id, body) VALUES (i % 100, 'x');
    COMMIT;
  END LOOP;
END $$});
my ($timed_out, $out, $err) = (0, '', '');
my $rc = $node->psql('postgres', 'SELECT bh_audit.seal() >= 0',
	stdout => \$out, stderr => \$err,
	timeout => $PostgreSQL::Test::Utils::timeout_default, timed_out => \$timed_out);
is("$rc|$out|$timed_out", '0|t|0', 'seal() returns while the lock is held');
unlike(slurp_file($node->logfile, $log_offset),
	qr/still waiting for \w+ on relation $queue of database/,
	'the sealer did not wait for the lock (no wait for the queue logged)');
is($node->safe_psql('postgres', qq{
SELECT count(*), count(DISTINCT resource_id) FROM bh_audit.events
 WHERE seq > $before AND resource_type = 'Note' AND action = 'CREATE'}),
	'1100|1100', 'every insert is chained, once');
is($node->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.queue'), '0',
	'the queue is empty');
my $v1 = vacuums();
is($v1, $v0, 'the sealer did not vacuum the queue while the lock was held');
my $waiting = $node->safe_psql('postgres', q{
SELECT count(*) FROM pg_locks
 WHERE relation = 'bh_audit.queue'::regclass AND NOT granted});
is($waiting, '0', 'nobody waits for the lock on the queue');

# The lock is released: the next batch, of one row, vacuums the queue.
$holder->query_safe('COMMIT');
$holder->quit;
$node->safe_psql('postgres', q{
INSERT INTO notes (patient_id, body) VALUES (1, 'y');
SELECT bh_audit.seal();
});
my $v2 = vacuums_above($v1);
is($v2, $v1 + 1, 'the skipped vacuum ran after the next batch, of one row');

is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');

$node->stop;
done_testing();
