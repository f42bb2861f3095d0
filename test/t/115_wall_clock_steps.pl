# The wall clock stepping while the server runs (an NTP step, a VM resumed,
# an administrator's date -s): what bh_audit times must be timed on the
# monotonic clock, so that a step neither turns a bounded wait into an
# unbounded one nor cuts it short.
#  (1) bh_audit.ring_wait_timeout: a statement waiting for room in a full
#      ring gives up after ring_wait_timeout while the sealer makes no
#      progress (operations.md, "The ring"), not an hour later when the
#      clock steps back an hour meanwhile, nor at once when it steps
#      forward.
#  (2) a sealer gone: once no sealer has run for 5 seconds, capture_status()
#      has its row and seal() fails with 55000 "within a second or so"
#      (operations.md, "The sealer"), also when the clock stepped back
#      just after the sealer exited.  The postmaster times the sealer's
#      restart by the wall clock: stepped back an hour after the exit, it
#      starts no sealer until the clock is put right (that is PostgreSQL's
#      doing; bh_audit must say that none runs meanwhile).
#  (3) the order of the chain (seq) and the events' timestamps (ts): a
#      review continues by seq, not by ts (docs/compliance-mapping.md).
#  (4) the sealer's pause before it connects again after a failed
#      connection (2 s, 4 s, ... 30 s) is not stretched by a step back.
#
# The clock is moved by a small LD_PRELOAD shim (compiled here with the C
# compiler Perl was built with: build-essential) that adds the number of
# seconds written in a file to CLOCK_REALTIME, gettimeofday() and time() of
# every server process, read at every call; CLOCK_MONOTONIC is left alone,
# as an NTP step leaves it.  (libfaketime does not do: server processes
# forked by the postmaster from its signal handlers, the sealer among them,
# keep the real time.)  This script's own clock is the real one.
use strict;
use warnings;
use Config;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $dir = PostgreSQL::Test::Utils::tempdir;
my $shim = "$dir/ftshim.so";
my $offset_file = "$dir/clock_offset";
open(my $c, '>', "$dir/ftshim.c") or die;
print $c <<'EOC';
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
static int fd = -1;
static long long last_off = 0;
static long long get_off(void)
{
	char buf[64];
	ssize_t n;
	if (fd < 0) return 0;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n > 0) { buf[n] = 0; last_off = strtoll(buf, NULL, 10); }
	return last_off;
}
__attribute__((constructor)) static void init(void)
{
	const char *f = getenv("FTSHIM_FILE");
	if (f) fd = open(f, O_RDONLY | O_CLOEXEC);
}
int clock_gettime(clockid_t clk, struct timespec *ts)
{
	int r = syscall(SYS_clock_gettime, clk, ts);
	if (r == 0 && (clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_COARSE))
		ts->tv_sec += get_off();
	return r;
}
int gettimeofday(struct timeval *tv, void *tz)
{
	struct timespec ts;
	int r = syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts);
	(void) tz;
	if (r == 0 && tv) { tv->tv_sec = ts.tv_sec + get_off(); tv->tv_usec = ts.tv_nsec / 1000; }
	return r;
}
time_t time(time_t *t)
{
	struct timespec ts;
	time_t v;
	syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts);
	v = ts.tv_sec + get_off();
	if (t) *t = v;
	return v;
}
EOC
close($c);
my $cc = $Config{cc} || 'cc';
system("$cc -O2 -shared -fPIC -o $shim $dir/ftshim.c") == 0
  or die "the clock shim does not compile with $cc";

sub set_clock_offset
{
	my ($seconds) = @_;
	open(my $f, '>', $offset_file) or die;
	print $f "$seconds\n";
	close($f);
	return;
}

# Run $code with the shim preloaded into the server processes it starts.
sub with_shim
{
	my ($code) = @_;
	local $ENV{LD_PRELOAD} = $shim . ($ENV{LD_PRELOAD} ? " $ENV{LD_PRELOAD}" : '');
	local $ENV{FTSHIM_FILE} = $offset_file;
	return $code->();
}

set_clock_offset(0);
my $node = with_shim(sub {
	bh_node('wall_clock_steps', conf => q{
bh_audit.ring_size = '64kB'
});
});
$node->safe_psql('postgres', q{
CREATE TABLE t (id int PRIMARY KEY, patient_id text);
INSERT INTO t SELECT g, 'P' || g FROM generate_series(1, 200) g;
SELECT bh_audit.tag_table('t', 'Note', 'id', 'patient_id');
SELECT bh_audit.seal();
});
set_clock_offset(-60);
my $server_epoch = $node->safe_psql('postgres', 'SELECT extract(epoch FROM now())');
cmp_ok(abs($server_epoch - (time() - 60)), '<', 5,
	'the server runs 60 s behind (the shim works)');
set_clock_offset(0);

# Whether the session named $name runs a statement waiting for room.
sub waits_for_room
{
	my ($name) = @_;
	return $node->safe_psql('postgres', qq{
SELECT count(*) FROM pg_stat_activity
 WHERE application_name = '$name' AND state = 'active' AND wait_event_type = 'Extension'})
	  eq '1';
}

# Whether the session named $name is idle (its statement ended).
sub idle
{
	my ($name) = @_;
	return $node->safe_psql('postgres',
		"SELECT state FROM pg_stat_activity WHERE application_name = '$name'")
	  eq 'idle';
}

# Start "SELECT count(*) FROM t WHERE id <= 10" (10 READ events) in a new
# session named $name, under on_ring_full = wait and the ring_wait_timeout
# $timeout, and wait until it waits for room; returns the session and the
# time the statement was sent.
sub start_waiting_reader
{
	my ($name, $timeout) = @_;
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	$s->query_safe("SET application_name = '$name'");
	$s->query_safe('SET bh_audit.on_ring_full = wait');
	$s->query_safe("SET bh_audit.ring_wait_timeout = '$timeout'");
	my $t0 = time();
	$s->query_until(qr/started/, q{
\echo started
SELECT count(*) FROM t WHERE id <= 10;
});
	usleep(50_000) until waits_for_room($name) || time() - $t0 > 30;
	return ($s, $t0);
}

# Wait (at most until $t0 + $limit s) for the session named $name to end
# its statement; returns the seconds from $t0 until it did.
sub wait_idle
{
	my ($name, $t0, $limit) = @_;
	usleep(50_000) until idle($name) || time() - $t0 > $limit;
	return time() - $t0;
}

# ---------------------------------------------------------------------------
# (1) ring_wait_timeout while the clock steps.  The sealer is held back by
# an EXCLUSIVE lock on bh_audit.events, and the ring filled (the reads of
# 200 patients twice over, under drop) so that every event finds it full.
my $blocker = bh_hold_sealer($node, 'postgres',
	fill => "SELECT count(*) FROM t;\nSELECT count(*) FROM t;");

# (1a) The clock steps back an hour while a statement waits (2 s).
my $before = bh_dropped($node, 'postgres');
my ($reader, $t0) = start_waiting_reader('back', '2s');
ok(waits_for_room('back'), 'a statement waits for room in the full ring');
set_clock_offset(-3600);
my $elapsed = wait_idle('back', $t0, 20);
set_clock_offset(0);	# releases it if it still waits
cmp_ok($elapsed, '<', 10,
	"the clock stepped back an hour, it gives up after ring_wait_timeout (2 s) all the same ($elapsed s)");
$reader->query('SELECT 1');
like($reader->{stderr},
	qr/WARNING:  bh_audit dropped an audit event: the event ring stayed full for bh_audit.ring_wait_timeout/,
	'and says that it waited ring_wait_timeout');
$reader->quit;
is(bh_dropped($node, 'postgres') - $before, 10, 'its 10 events are counted as dropped');

# (1b) The clock steps forward an hour while a statement waits (10 s: it
# is seen still waiting 1.5 s after the step with time to spare for a
# stalled machine).
$before = bh_dropped($node, 'postgres');
($reader, $t0) = start_waiting_reader('forward', '10s');
ok(waits_for_room('forward'), 'a statement waits for room in the full ring');
set_clock_offset(3600);
usleep(1_500_000);
ok(waits_for_room('forward'),
	'the clock stepped forward an hour, it still waits 1.5 s later');
$elapsed = wait_idle('forward', $t0, 30);
set_clock_offset(0);
cmp_ok($elapsed, '>=', 9.5,
	"it waits ring_wait_timeout (10 s) from the statement's start ($elapsed s)");
cmp_ok($elapsed, '<', 20, 'and then gives up');
$reader->quit;
is(bh_dropped($node, 'postgres') - $before, 10, 'its 10 events are counted as dropped');

$blocker->query_safe('COMMIT');
$blocker->quit;
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');

# ---------------------------------------------------------------------------
# (2) The sealer exits, and once the postmaster has seen it exit (and noted
# the time, by the wall clock, to restart it a second later) the clock
# steps back an hour.
my $sealer = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer'");
like($sealer, qr/^\d+$/, 'a sealer runs');
my $log_offset = -s $node->logfile;
$node->safe_psql('postgres', "SELECT pg_terminate_backend($sealer)");
$node->wait_for_log(
	qr/background worker "bh_audit sealer" \(PID $sealer\) exited with exit code 1/,
	$log_offset);
$t0 = time();
set_clock_offset(-3600);

# seal() called at once waits, and fails once no sealer has run for 5 s.
my ($ret, $out, $err) = $node->psql('postgres', q{
\set VERBOSITY verbose
SET statement_timeout = '30s';
SELECT bh_audit.seal();});
$elapsed = time() - $t0;
like($err, qr/ERROR:  55000: bh_audit.seal\(\) cannot wait: no bh_audit sealer is running/,
	'seal() fails with 55000 instead of waiting');
cmp_ok($elapsed, '>=', 4.5,
	"once no sealer has run for 5 s ($elapsed s after the exit was logged)");
cmp_ok($elapsed, '<', 10, 'not at statement_timeout');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer'"),
	'0', 'no sealer runs: the postmaster waits for its clock to pass the restart time');
my $status = $node->safe_psql('postgres',
	"SELECT problem FROM bh_audit.capture_status() WHERE tbl = 'bh_audit.events'::regclass");
like($status,
	qr/^no sealer is running: events are not sealed \(none has run for \d+ s\)$/,
	'capture_status() says that no sealer runs');
my ($secs) = $status =~ /for (\d+) s/;
cmp_ok($secs // -1, '>=', 5, "for the time since it exited ($status)");
cmp_ok($secs // 1e9, '<', 60, '... by the monotonic clock');

set_clock_offset(0);
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer'"),
	'a sealer runs again once the clock is put right');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');

# ---------------------------------------------------------------------------
# (3) seq and ts along the chain (operations.md, "Chain order and time
# order"): a long transaction's write, stamped when its row changed, is
# sealed at its commit, after a later read of another session; and after
# a step back of the clock events have earlier timestamps than those
# sealed before them.  A review continuing by seq after the last row it
# saw finds both; one continuing by (ts, seq) skips them.
my $writer = $node->background_psql('postgres');
$writer->query_safe('BEGIN');
$writer->query_safe("UPDATE t SET patient_id = 'P1' WHERE id = 1");
usleep(100_000);
$node->safe_psql('postgres', 'SELECT * FROM t WHERE id = 2');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
my ($seen_seq, $seen_ts) = split /\|/, $node->safe_psql('postgres',
	'SELECT seq, ts FROM bh_audit.events ORDER BY seq DESC LIMIT 1');
is($node->safe_psql('postgres',
		"SELECT action || ' ' || patient_id FROM bh_audit.events WHERE seq = $seen_seq"),
	'READ P2', 'the later read is sealed while the writing transaction is open');
$writer->query_safe('COMMIT');
$writer->quit;
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
set_clock_offset(-3600);
$node->safe_psql('postgres', 'SELECT * FROM t WHERE id = 3');
set_clock_offset(0);
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT string_agg(action || ' ' || patient_id, ', ' ORDER BY seq)
  FROM bh_audit.events WHERE resource_type = 'Note' AND seq > $seen_seq}),
	'UPDATE P1, READ P3', 'continuing by seq finds the write and the read sealed since');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events
 WHERE resource_type = 'Note' AND seq > $seen_seq AND ts < '$seen_ts'}),
	'2', 'both with a ts before the last one seen: continuing by (ts, seq) would skip them');

# ---------------------------------------------------------------------------
# (4) The sealer's pause before it connects again after failed connections
# (bh_audit.database does not exist yet; 2 s after the first failure): the
# clock stepping back an hour during the pause does not stretch it.
$node->append_conf('postgresql.conf', "bh_audit.database = 'later'");
$log_offset = -s $node->logfile;
with_shim(sub { $node->restart });
$node->wait_for_log(
	qr/bh_audit sealer connects to database "later" in 2 s \(after 1 failed attempt\)/,
	$log_offset);
$t0 = time();
set_clock_offset(-3600);
$node->safe_psql('postgres', 'CREATE DATABASE later');
my $sealer_in_later = q{
SELECT count(*) FROM pg_stat_activity
 WHERE backend_type = 'bh_audit sealer' AND datname = 'later'};
usleep(100_000)
  until $node->safe_psql('postgres', $sealer_in_later) eq '1' || time() - $t0 > 30;
$elapsed = time() - $t0;
set_clock_offset(0);
cmp_ok($elapsed, '<', 10,
	"the clock stepped back an hour during its 2 s pause, the sealer connects all the same ($elapsed s)");

$node->stop;
done_testing();
