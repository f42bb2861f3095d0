# The sealer and a synchronous standby that is not connected.
#
# (a) A batch's commit waits for the standby (synchronous_standby_names
#     set, synchronous_commit = on) like any other commit.  Before, the
#     sealer could not be stopped while it waited: pg_terminate_backend()
#     on it did nothing, and a fast shutdown never finished ("server does
#     not shut down"), only an immediate one, which lost the ring.  Now a
#     SIGTERM makes it leave that wait, as a backend does (its batch stays
#     committed locally), say so in a WARNING, and drain the queue and the
#     ring without waiting for a standby any more.
# (b) A new cluster's sealer whose first batch committed but then waited
#     for the standby, stopped by an immediate shutdown: its next start
#     recorded a false EventsLost "no account found: started from a backup
#     or a copy of the data directory" (the ledger was empty at that first
#     batch; the start without an account was dismissed only once the
#     commit returned).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $sealer_waits = q{SELECT count(*) = 1 FROM pg_stat_activity
 WHERE backend_type = 'bh_audit sealer' AND wait_event = 'SyncRep'};

# ---- (a) ----
my $node = bh_node('sync_stall', database => 'probe',
	init => { allows_streaming => 1 });
bh_event_function($node, 'probe', 'dr-sync');
$node->safe_psql('probe', q{
ALTER SYSTEM SET synchronous_standby_names = 'nostandby';
SELECT pg_reload_conf();
});
# the sealer re-reads the configuration at its next round (a SIGHUP wakes it)
$node->poll_query_until('probe', q{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE backend_type = 'bh_audit sealer' AND state = 'idle'});
sleep(1);

$node->safe_psql('probe', q{SELECT ring_push(ev('first'))});
ok($node->poll_query_until('probe', $sealer_waits),
	'the sealer waits for the synchronous standby after its batch');
$node->safe_psql('probe', q{SELECT ring_push(ev('second'))});
my $pid = $node->safe_psql('probe',
	q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer'});
my $log_at = -s $node->logfile;
is($node->safe_psql('probe', "SELECT pg_terminate_backend($pid)"),
	't', 'pg_terminate_backend() on the waiting sealer');
ok( $node->poll_query_until(
		'probe',
		qq{SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid}),
	'the terminated sealer exits');
my $log = slurp_file($node->logfile, $log_at);
like($log,
	qr/WARNING:  bh_audit sealer stops waiting for synchronous replication of its batch/,
	'the sealer says it left the wait');
like($log,
	qr/LOG:  bh_audit sealer stopping: the queue and the ring are drained/,
	'the sealer drained the ring before it exited');
is( $node->safe_psql(
		'probe',
		q{SELECT string_agg(resource_id, ',' ORDER BY seq) FROM bh_audit.events
		   WHERE actor_id = 'dr-sync'}),
	'first,second',
	'the batch it waited for and the event pushed meanwhile are in the ledger');

# A new sealer waits again (the setting is the DBA's); a fast shutdown ends
# its wait and finishes.
$node->safe_psql('probe', q{SELECT ring_push(ev('third'))});
ok($node->poll_query_until('probe', $sealer_waits),
	'the restarted sealer waits for the standby again');
$node->safe_psql('probe', q{SELECT ring_push(ev('fourth'))});
$log_at = -s $node->logfile;
my $started = time;
{
	local $ENV{PGCTLTIMEOUT} = 60;
	ok($node->stop('fast', fail_ok => 1), 'a fast shutdown finishes');
}
cmp_ok(time - $started, '<', 30, '... in well under its timeout');
$log = slurp_file($node->logfile, $log_at);
like($log,
	qr/WARNING:  bh_audit sealer stops waiting for synchronous replication of its batch/,
	'the sealer left its wait at the shutdown');
like($log,
	qr/LOG:  bh_audit sealer stopping: the queue and the ring are drained/,
	'the sealer drained the ring at the shutdown');

$node->append_conf('postgresql.auto.conf', "synchronous_standby_names = ''\n");
$node->start;
$node->safe_psql('probe', 'SELECT bh_audit.seal()');
is( $node->safe_psql(
		'probe',
		q{SELECT string_agg(resource_id, ',' ORDER BY seq) FROM bh_audit.events
		   WHERE actor_id = 'dr-sync'}),
	'first,second,third,fourth',
	'every event is in the ledger after the restart');
is($node->safe_psql('probe', q{SELECT count(*) FROM bh_audit.events WHERE error_type = 'EventsLost'}),
	'0', 'nothing was lost');
is($node->safe_psql('probe', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');
$node->stop;

# ---- (b) ----
# The sealer's database appears at once, complete, by a rename: its first
# batch, after the connection back-off, holds the tag event.  Clients
# commit locally; the sealer (the bootstrap superuser in that database)
# waits for the standby.
my $fresh = bh_node('fresh_sync', database => 'probe', create_database => 0,
	init => { allows_streaming => 1 },
	extension => 0, conf => q{
synchronous_standby_names = 'nostandby'
synchronous_commit = local
});
$fresh->safe_psql('postgres', q{
CREATE DATABASE probe_setup;
ALTER ROLE CURRENT_USER IN DATABASE probe_setup SET synchronous_commit = on;
});
$fresh->safe_psql('probe_setup', q{
SET synchronous_commit = local;
SET client_min_messages = error;
CREATE EXTENSION bh_audit;
CREATE TABLE patients (id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('patients', 'Patient', 'id', 'patient_id');
});
$fresh->safe_psql('postgres', 'ALTER DATABASE probe_setup RENAME TO probe');
ok($fresh->poll_query_until('postgres', $sealer_waits),
	"the new cluster's sealer waits for the standby after its first batch");
$fresh->stop('immediate');
$fresh->append_conf('postgresql.conf', "synchronous_standby_names = ''\n");
$fresh->start;
$fresh->safe_psql('probe', 'SELECT bh_audit.seal()');
is( $fresh->safe_psql(
		'probe',
		q{SELECT string_agg(seq || ' ' || action || ' ' || resource_type || ' '
		                    || coalesce(error_type, '-'), E'\n' ORDER BY seq)
		    FROM bh_audit.events}),
	'1 CREATE AuditConfiguration -',
	'the ledger holds the tag event and no EventsLost');
unlike(slurp_file($fresh->logfile),
	qr/ring of an earlier server is not known/,
	'no start without an account is reported');
$fresh->stop;

done_testing();
