# A sealer batch takes its chain lock, the queue's lock and (when it may
# write) the ledger's together, never waiting for one while holding another
# (sealer.c, bh_seal_lock(); extension_drop.c, bh_lock_together()).  While
# a session holds a lock on the ledger that keeps out the batch's writes:
# - the sealer waits in a lock wait, not a busy loop (its CPU time over a
#   few seconds stays small), holding neither the queue's lock nor the
#   chain lock;
# - the queued event is sealed once the lock is let go of;
# - the ring filling meanwhile (on_ring_full = wait) only makes a reader
#   wait, which goes on once the lock is let go of;
# - a fast stop while the sealer waits ends, and the event is sealed after
#   the start;
# - after a batch the sealer holds no lock on the ledger or the queue.
# A DROP EXTENSION racing the waiting sealer leaves no ERROR of the sealer.
# And a batch that looked idle before its wait but has a loss to record
# after it does not wait for the ledger's lock while holding the queue's
# (first section).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = bh_node('sealer_lock_rounds', conf => q{
bh_audit.ring_size = '64kB'
bh_audit.ring_wait_timeout = '120s'
bh_audit.on_ring_full = wait
});
bh_queue_table($node, 'postgres', 226);
my $k = 0;

sub sealer_pid
{
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer'");
}

# CPU ticks (utime + stime) of a process
sub ticks
{
	my ($pid) = @_;
	my $stat = slurp_file("/proc/$pid/stat");
	$stat =~ s/^.*\)\s+//;
	my @f = split /\s+/, $stat;
	return $f[11] + $f[12];
}

sub sealed
{
	my ($id) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM bh_audit.events WHERE resource_type = 'Patient226' AND resource_id = '$id'");
}

sub wait_sealed
{
	my ($id) = @_;
	for (1 .. 300)
	{
		return 1 if sealed($id) > 0;
		usleep(100_000);
	}
	return 0;
}

sub sealer_waits_lock
{
	return bh_poll_session($node->background_psql('postgres'), q{
SELECT count(*) FROM pg_stat_activity
 WHERE backend_type = 'bh_audit sealer' AND wait_event_type = 'Lock'}, '1', 100);
}

sub all_locks
{
	return $node->safe_psql('postgres', q{
SELECT string_agg(l.locktype || ':' || coalesce(l.relation::regclass::text, l.objid::text, '') || ':' || l.mode || ':' || l.granted, ' ')
  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE a.backend_type = 'bh_audit sealer'});
}

sub sealer_locks
{
	my ($pid) = @_;
	return $node->safe_psql('postgres', qq{
SELECT coalesce(string_agg(c.relname || ':' || l.mode, ',' ORDER BY c.relname, l.mode), '')
  FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
 WHERE l.pid = $pid AND l.granted
   AND c.relname IN ('events', 'queue')
   AND c.relnamespace = 'bh_audit'::regnamespace});
}

# --- an idle batch that finds a loss to record after its wait ---------------
# The batch looks for work before it takes its locks: nothing then, it
# takes the chain lock and the queue's only.  It waits for the queue's (a
# superuser's LOCK ... IN SHARE MODE); meanwhile an event is dropped (larger
# than a quarter of the ring: the ring stays empty) and another transaction
# locks the ledger IN SHARE MODE.  Once the queue's lock is free the batch
# has a loss to record: it must not wait for the ledger's lock holding the
# queue's (the ledger's holder going on to lock the queue would deadlock
# with it, one of the two failing).
bh_event_function($node, 'postgres', 'sealer226');
{
	my $log_offset = -s $node->logfile;
	my $qholder = $node->background_psql('postgres');
	$qholder->query_safe('BEGIN');
	$qholder->query_safe('LOCK TABLE bh_audit.queue IN SHARE MODE');
	my $sealcall = $node->background_psql('postgres', on_error_stop => 0);
	$sealcall->query_until(qr/started/, "\\echo started\nSELECT bh_audit.seal();\n");
	ok(sealer_waits_lock(), 'an idle batch waits for the queue\'s lock');
	$node->safe_psql('postgres', "SELECT ring_push(ev(repeat('x', 20000)))");
	my $lholder = $node->background_psql('postgres', on_error_stop => 0);
	$lholder->query_safe("SET deadlock_timeout = '100ms'");
	$lholder->query_safe('BEGIN');
	$lholder->query_safe('LOCK TABLE bh_audit.events IN SHARE MODE');
	$qholder->query_safe('COMMIT');
	$qholder->quit;
	ok(bh_poll_session($node->background_psql('postgres'), q{
SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE a.backend_type = 'bh_audit sealer' AND NOT l.granted
   AND l.relation = 'bh_audit.events'::regclass}, '1', 300),
		'the batch waits for the ledger\'s lock');
	diag('sealer locks: ' . all_locks());
	my $pid = sealer_pid();
	is(sealer_locks($pid), '',
		'waiting for the ledger\'s lock, the batch holds no lock on the queue');
	my ($out, $err) = ('', '');
	$lholder->{stdout} = '';
	$lholder->{stderr} = '';
	$out = $lholder->query('LOCK TABLE bh_audit.queue IN SHARE MODE');
	$err = $lholder->{stderr};
	unlike($err // '', qr/deadlock/, 'the ledger\'s holder then locks the queue without a deadlock');
	$lholder->query('COMMIT');
	$lholder->quit;
	$sealcall->quit;
	is($node->safe_psql('postgres',
			"SELECT count(*) FROM bh_audit.events WHERE error_type = 'EventsLost'"),
		'1', 'the loss is recorded');
	my $log = slurp_file($node->logfile, $log_offset);
	unlike($log, qr/deadlock detected/, 'no deadlock in the log');
}

# --- a SHARE lock on the ledger for a while ---------------------------------
my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN');
$holder->query_safe('LOCK TABLE bh_audit.events IN SHARE MODE');
$k++;
$node->safe_psql('postgres', "INSERT INTO t226.pat VALUES ($k, 'x')");
ok(sealer_waits_lock(), 'the sealer waits for the lock on the ledger');
my $pid = sealer_pid();
is(sealer_locks($pid), '', 'waiting, the sealer holds no lock on the ledger or the queue');
my $t0 = ticks($pid);
sleep 5;
my $used = ticks($pid) - $t0;
cmp_ok($used, '<', 50, "the waiting sealer does not spin (ticks in 5 s: $used)");

# the ring fills while the sealer waits: a reader waits for room
my $reader = $node->background_psql('postgres', on_error_stop => 0);
$reader->query_until(qr/started/, q{\echo started
DO $$BEGIN FOR i IN 1..3000 LOOP PERFORM * FROM t226.pat; END LOOP; END$$;
});
usleep(500_000);
$holder->query_safe('COMMIT');
ok(wait_sealed($k), 'the queued event is sealed once the lock is let go of');
$reader->quit;
ok(bh_poll_session($node->background_psql('postgres'), q{
SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%1..3000 LOOP%'
   AND state = 'active' AND pid <> pg_backend_pid()}, '0', 300),
	'the reader waiting for room in the ring went on');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
$pid = sealer_pid();
is(sealer_locks($pid), '', 'after a batch the sealer holds no lock on the ledger or the queue');

# --- fast stop while the sealer waits ---------------------------------------
$holder = $node->background_psql('postgres', on_error_stop => 0);
$holder->query_safe('BEGIN');
$holder->query_safe('LOCK TABLE bh_audit.events IN SHARE MODE');
$k++;
$node->safe_psql('postgres', "INSERT INTO t226.pat VALUES ($k, 'x')");
ok(sealer_waits_lock(), 'the sealer waits again');
my $start = time();
$node->stop('fast');
cmp_ok(time() - $start, '<', 30, 'a fast stop while the sealer waits ends');
$node->start;
ok(wait_sealed($k), 'the event queued before the stop is sealed after the start');
eval { $holder->quit };

# --- DROP EXTENSION racing the waiting sealer --------------------------------
my $log_offset = -s $node->logfile;
$holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN');
$holder->query_safe('LOCK TABLE bh_audit.events IN SHARE MODE');
$k++;
$node->safe_psql('postgres', "INSERT INTO t226.pat VALUES ($k, 'x')");
ok(sealer_waits_lock(), 'the sealer waits before the drop');
my $dropper = $node->background_psql('postgres', on_error_stop => 0);
$dropper->query_until(qr/started/, "\\echo started\nDROP EXTENSION bh_audit CASCADE;\n");
usleep(1_000_000);
$holder->query_safe('COMMIT');
$dropper->quit;
usleep(2_000_000);
my $log = slurp_file($node->logfile, $log_offset);
my @errs = grep { /ERROR/ } split /\n/, $log;
is(join("\n", @errs), '', 'no ERROR in the log around a drop racing the sealer');

done_testing();
