# The sealer: waits quietly for the extension, seals promptly, is restarted
# when it dies, and continues the chain after restarts and crashes without
# forking it or losing a committed event.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = bh_node('sealer', database => 'clinic', extension => 0,
	conf => 'max_prepared_transactions = 2');

# Before CREATE EXTENSION: connected, idle, and silent.
ok($node->poll_query_until('clinic',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer' AND datname = 'clinic'"),
	'the sealer connects to bh_audit.database');
sleep(2);
my $log = slurp_file($node->logfile);
unlike($log, qr/(ERROR|FATAL):.*(bh_audit|relation .* does not exist)/,
	'the sealer waits without errors before CREATE EXTENSION');

$node->safe_psql('clinic', 'CREATE EXTENSION bh_audit');

# Sealed without seal(): woken at commit.  The sealer naps 500 ms when
# nobody wakes it (BH_SEALER_NAPTIME_MS) and lets events gather for 50 ms
# after a commit woke it.  Each of five rounds measures inside one session
# (no process start in the interval): seal() first, so that the sealer has
# just begun a nap, then one event committed and the ledger polled every
# 5 ms.  Woken at commit, an event is chained in about 60 ms; left to the
# nap, after about 500 ms.  The median is below 300 ms.
my $lat = $node->safe_psql('clinic', q{
CREATE TEMP TABLE latency (round int, seconds float8);
DO $$
DECLARE
	t0 timestamptz;
	seen boolean;
BEGIN
	FOR i IN 1 .. 5 LOOP
		PERFORM bh_audit.seal();
		COMMIT;
		PERFORM bh_audit.emit('READ', 'Patient', 'p' || i, 'p' || i);
		t0 := clock_timestamp();
		COMMIT;
		LOOP
			seen := EXISTS (SELECT FROM bh_audit.events WHERE resource_id = 'p' || i);
			EXIT WHEN seen OR clock_timestamp() - t0 > interval '10 s';
			PERFORM pg_sleep(0.005);
		END LOOP;
		INSERT INTO latency
			VALUES (i, CASE WHEN seen THEN extract(epoch FROM clock_timestamp() - t0) ELSE 99 END);
		COMMIT;
	END LOOP;
END
$$;
SELECT string_agg(round(seconds::numeric, 3)::text, ' ' ORDER BY round) FROM latency;
});
my @lat = split / /, $lat;
is(scalar(@lat), 5, 'five rounds measured');
my @sorted = sort { $a <=> $b } @lat;
note("seal latency (s): $lat");
cmp_ok($sorted[2], '<', 0.3,
	'a committed event is sealed when its commit wakes the sealer, not after its nap (median of 5)');

# seal() returns only once everything committed before it is sealed.
$node->safe_psql('clinic',
	"SELECT bh_audit.emit('READ', 'Patient', 'q' || i, 'q' || i) FROM generate_series(1, 300) i");
# (two statements: a statement's snapshot is taken before seal() runs)
$node->safe_psql('clinic', 'SELECT bh_audit.seal()');
my $res = $node->safe_psql('clinic',
	'SELECT (SELECT count(*) FROM bh_audit.queue), (SELECT count(*) FROM bh_audit.events)');
is($res, '0|305', 'seal() waits until the queue is empty');

# seal() elsewhere is a clear error.
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT bh_audit.seal()');
isnt($ret, 0, 'no bh_audit outside its database');

# Stop with events queued; after a restart the chain continues.
$node->safe_psql('clinic',
	"SELECT bh_audit.emit('READ', 'Patient', 'r' || i, 'r' || i) FROM generate_series(1, 50) i");
$node->restart;
$node->safe_psql('clinic', "SELECT bh_audit.emit('READ', 'Patient', 'after', 'after')");
$node->safe_psql('clinic', 'SELECT bh_audit.seal()');
is($node->safe_psql('clinic',
		'SELECT count(*), min(seq), max(seq), count(DISTINCT event_id) FROM bh_audit.events'),
	'356|1|356|356', 'after a restart: every event once, seq dense');
is($node->safe_psql('clinic', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies after a restart');

# Kill the sealer: the postmaster restarts it and it picks up the work.
my $pid = $node->safe_psql('clinic', 'SELECT sealer_pid FROM bh_audit.stats()');
ok($pid > 0, 'the sealer runs');
kill 'TERM', $pid;
ok($node->poll_query_until('clinic',
		"SELECT sealer_pid IS NOT NULL AND sealer_pid <> $pid FROM bh_audit.stats()"),
	'a killed sealer is restarted');
$node->safe_psql('clinic', "SELECT bh_audit.emit('READ', 'Patient', 'k', 'k')");
$node->safe_psql('clinic', 'SELECT bh_audit.seal()');
is($node->safe_psql('clinic', 'SELECT count(*), max(seq) FROM bh_audit.events'),
	'357|357', 'the restarted sealer continues the chain');

# Crash in the middle of sealing a large queue.
$node->safe_psql('clinic',
	"SELECT bh_audit.emit('READ', 'Patient', 'c' || i, 'c' || i) FROM generate_series(1, 30000) i");
usleep(200_000);
$node->stop('immediate');
$node->start;
$node->safe_psql('clinic', 'SELECT bh_audit.seal()');
is($node->safe_psql('clinic',
		'SELECT count(*), min(seq), max(seq), count(DISTINCT event_id) FROM bh_audit.events'),
	'30357|1|30357|30357', 'after a crash: every committed event sealed once, no fork');
is($node->safe_psql('clinic',
		'SELECT count(*) FROM bh_audit.events e JOIN bh_audit.events p ON p.seq = e.seq - 1 WHERE e.prev_event_hash <> p.event_hash'),
	'0', 'every event links to its predecessor');
is($node->safe_psql('clinic', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies after a crash');
is($node->safe_psql('clinic', 'SELECT queued_events FROM bh_audit.stats()'),
	'0', 'nothing left in the queue');

# Prepared transactions: the events a transaction holds are written at
# PREPARE, invisible to the sealer until COMMIT PREPARED, and gone with
# ROLLBACK PREPARED.  They count as emitted once COMMIT PREPARED ran.
my $emitted = sub {
	return $node->safe_psql('clinic', 'SELECT events_emitted_total FROM bh_audit.stats()');
};
my $emitted_before = $emitted->();
$node->safe_psql('clinic',
	q{BEGIN; SELECT bh_audit.emit('READ', 'Prepared', 'kept', 'p1'); PREPARE TRANSACTION 'bh_kept'});
$node->safe_psql('clinic',
	q{BEGIN; SELECT bh_audit.emit('READ', 'Prepared', 'dropped', 'p2'); PREPARE TRANSACTION 'bh_dropped'});
# A PREPARE that fails after its events were written (no prepared
# transaction left: max_prepared_transactions = 2) is a rollback.
($ret, $out, $err) = $node->psql('clinic',
	q{BEGIN; SELECT bh_audit.emit('READ', 'Prepared', 'failed', 'p3'); PREPARE TRANSACTION 'bh_failed'});
like($err, qr/maximum number of prepared transactions reached/, 'a third PREPARE fails');
$node->safe_psql('clinic', 'SELECT bh_audit.seal()');
is($node->safe_psql('clinic',
		"SELECT count(*) FROM bh_audit.events WHERE resource_type = 'Prepared'"),
	'0', 'prepared events are not sealed before COMMIT PREPARED');
is($emitted->() - $emitted_before, 0, 'nor counted as emitted');
$node->safe_psql('clinic', "COMMIT PREPARED 'bh_kept'");
$node->safe_psql('clinic', "ROLLBACK PREPARED 'bh_dropped'");
is($emitted->() - $emitted_before, 1, 'COMMIT PREPARED counts them, ROLLBACK PREPARED does not');
$node->safe_psql('clinic', 'SELECT bh_audit.seal()');
is($node->safe_psql('clinic',
		"SELECT string_agg(resource_id, ',') FROM bh_audit.events WHERE resource_type = 'Prepared'"),
	'kept', 'COMMIT PREPARED: sealed; ROLLBACK PREPARED: gone');

# bh_audit.enabled switched in the configuration file (no session makes
# the switch): the sealer records each switch it reads, at a reload and at
# its start, as the server's own AuditConfiguration event.
my $switches = q{SELECT string_agg(event -> 'metadata' ->> 'change' || '=' || (event -> 'metadata' ->> 'value')
                                   || '/' || actor_id || '/' || (event -> 'actor' ->> 'subject_type'), ';' ORDER BY seq)
                   FROM bh_audit.events
                  WHERE resource_type = 'AuditConfiguration' AND resource_id = 'bh_audit.enabled'};
is($node->safe_psql('clinic', $switches), '', 'no switch recorded before');
$node->append_conf('postgresql.conf', "bh_audit.enabled = off\n");
$node->reload;
ok($node->poll_query_until('clinic',
		q{SELECT count(*) = 1 FROM bh_audit.events WHERE resource_id = 'bh_audit.enabled'}),
	'a reload that switches capture off is recorded');
$node->safe_psql('clinic', "SELECT bh_audit.emit('READ', 'Patient', 'off', 'off')");
# A database's settings (its owner may make them) do not reach the server's
# own events: no end-user context.
$node->safe_psql('clinic',
	q{ALTER DATABASE clinic SET bh_audit.actor_roles = 'forged';
	  ALTER DATABASE clinic SET bh_audit.actor_org_id = 'org-forged';
	  ALTER DATABASE clinic SET bh_audit.request_id = 'req-forged'});
# (each such default given to the database's sessions is recorded)
is( $node->safe_psql('clinic',
		q{SELECT bh_audit.seal() >= 0;
		  SELECT string_agg(resource_id || '=' || (event -> 'metadata' ->> 'value') || '@'
		                    || (event -> 'metadata' ->> 'setting_database'), ';' ORDER BY seq)
		    FROM bh_audit.events
		   WHERE resource_type = 'AuditConfiguration' AND event -> 'metadata' ->> 'change' = 'ALTER DATABASE'}),
	"t\nbh_audit.actor_roles=forged\@clinic;bh_audit.actor_org_id=org-forged\@clinic;"
	  . "bh_audit.request_id=req-forged\@clinic",
	"the database's defaults are recorded");
$node->restart;
# (the sealer reads the setting as it starts: switch it on only after that)
ok($node->poll_query_until('clinic',
		q{SELECT count(*) = 2 FROM bh_audit.events WHERE resource_id = 'bh_audit.enabled'}),
	'starting with capture off is recorded by the sealer as it starts');
$node->append_conf('postgresql.conf', "bh_audit.enabled = on\n");
$node->reload;
ok($node->poll_query_until('clinic',
		q{SELECT count(*) = 3 FROM bh_audit.events WHERE resource_id = 'bh_audit.enabled'}),
	'starting with capture off, and switching it on again, are recorded');
is($node->safe_psql('clinic', $switches),
	'configuration file=off/postgresql-server/service;'
	  . 'server configuration, at sealer start=off/postgresql-server/service;'
	  . 'configuration file=on/postgresql-server/service',
	'each switch: how, the value, the server as the actor');
is($node->safe_psql('clinic',
		q{SELECT count(*) FROM bh_audit.events WHERE resource_id = 'bh_audit.enabled'
		     AND (event -> 'actor' ? 'roles' OR event -> 'actor' ? 'org_id' OR event ? 'correlation')}),
	'0', "a database's context settings are not the server's");
$node->safe_psql('clinic', 'ALTER DATABASE clinic RESET ALL');
is($node->safe_psql('clinic', "SELECT count(*) FROM bh_audit.events WHERE resource_id = 'off'"),
	'1', 'emit() still records while capture is off');
is($node->safe_psql('clinic', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');

$node->stop;
done_testing();
