# A server that starts where the ring of the server it came from is not
# known records so in the chain: one EventsLost event whose metadata says
# why (ring_account), and a LOG line; after recovery also the timeline the
# server is on and what its history file says of the switch into it (the
# departure from the previous timeline: t/097).
#  - a base backup restored and started: pg_stat_tmp (and the account of
#    lost events in it) is left out of base backups, so what the original's
#    ring held at the backup's end is gone from the copy;
#  - a point-in-time recovery to a restore point: what the ring held there
#    is gone;
#  - a standby promoted: what the former primary's ring held at the
#    failover is gone.
# Never on a fresh install (no account yet, but nothing chained either),
# nor on a clean restart or a crash restart of an ordinary server, whose
# losses are counted as before.
#
# Events go into the ring through the test-only ring_push(json); the sealer
# is held back by a session holding bh_audit.events in ACCESS EXCLUSIVE
# mode.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $copy_reason = 'no account found: started from a backup or a copy of the data directory';
my $recovery_reason =
  "recovery ended (promotion, or a recovery target): the previous server's ring is not known";

# The loss events' metadata (db_user: the sealer's session user, as in every
# event it records).
my $crash = '{"db_user": "postgres", "events_lost_in_ring": 3}';
my $copied = qq({"db_user": "postgres", "ring_account": "$copy_reason"});

# After recovery ended, with the timeline the server is on (2) and what its
# history file says of the switch into it.
sub promoted
{
	my ($node) = @_;
	my ($parent, $switch, $reason) = bh_timeline_switch($node, 2);
	$reason =~ s/"/\\"/g;
	return qq({"db_user": "postgres", "timeline": 2, "recovery_end": "$reason", )
	  . qq("ring_account": "$recovery_reason", "previous_timeline": $parent, )
	  . qq("timeline_switch_lsn": "$switch"});
}

my $primary = bh_node('primary', init => { allows_streaming => 1, has_archiving => 1 }, conf => q{
bh_audit.ring_size = '64kB'
# capture off: only this test's events go into the ring
bh_audit.enabled = off
restart_after_crash = on
});
bh_event_function($primary, 'postgres', 'ring_tester');
bh_losses_view($primary, 'postgres');

# Seal, then the loss events' metadata, one line each.
sub losses
{
	my ($node) = @_;
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres',
		q{SELECT string_agg(meta::text, E'\n' ORDER BY seq) FROM losses});
}

sub sealed
{
	my ($node, $prefix) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM bh_audit.events WHERE resource_id LIKE '$prefix%'");
}

# (1) A fresh install: no account was found at the first start, but the
# ledger was empty: nothing to report.
$primary->safe_psql('postgres',
	"SELECT bh_audit.emit('READ', 'Patient', 'p' || i, 'p' || i) FROM generate_series(1, 5) i");
is(losses($primary), '', 'a fresh install records no loss');
is(sealed($primary, 'p'), '5', 'its events are chained');

# (2) A clean restart records nothing.
$primary->restart;
is(losses($primary), '', 'a clean restart records no loss');

# (3) A crash restart with 3 events in the ring: counted as before, and
# nothing about an unknown ring.
my $blocker = bh_hold_sealer($primary, 'postgres', mode => 'ACCESS EXCLUSIVE');
$primary->safe_psql('postgres', "SELECT ring_push(ev('cr' || i)) FROM generate_series(1, 3) i");
my $victim = $blocker->query_safe('SELECT pg_backend_pid()');
chomp $victim;
ok(bh_crash_restart($primary, $victim, 'postgres'),
	'the postmaster reinitialises shared memory after the crash, and accepts connections again');
eval { $blocker->quit };
is(losses($primary), $crash,
	'a crash restart records the 3 events lost in the ring, and nothing else');
$primary->restart;
is(losses($primary), $crash, 'a clean restart after it records nothing');
unlike(slurp_file($primary->logfile), qr/ring of an earlier server is not known/,
	'the server log never said that an earlier ring is not known');

# (4) A base backup taken while 2 reads wait in the ring, restored and
# started: the copy has no account, and the reads are not in its ledger.
$blocker = bh_hold_sealer($primary, 'postgres', mode => 'ACCESS EXCLUSIVE');
$primary->safe_psql('postgres', "SELECT ring_push(ev('bb' || i)) FROM generate_series(1, 2) i");
$primary->backup('b');
$blocker->query_safe('COMMIT');
$blocker->quit;
is(losses($primary), $crash, 'the backup records nothing on the primary');
is(sealed($primary, 'bb'), '2', 'where the two reads are chained');

my $copy = PostgreSQL::Test::Cluster->new('copy');
$copy->init_from_backup($primary, 'b');
$copy->start;
is(losses($copy), "$crash\n$copied",
	'the restored copy records one loss event: no account found');
is(sealed($copy, 'bb'), '0', 'the two reads are not in the copy\'s ledger');
like(slurp_file($copy->logfile),
	qr/LOG:  bh_audit sealer records in the chain that the ring of an earlier server is not known: \Q$copy_reason\E/,
	'the copy\'s server log says so');
is($copy->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the copy\'s chain verifies');
is($copy->safe_psql('postgres', q{
SELECT concat_ws(' ', action, resource_type, resource_id, outcome, error_type, actor_id,
                 bh_audit.validate_event(event))
  FROM bh_audit.events WHERE event -> 'metadata' ? 'ring_account'}),
	'OTHER AuditLog bh_audit.events FAILURE EventsLost postgresql-server t',
	'it is a valid AuditLog FAILURE recorded by the server');
$copy->restart;
is(losses($copy), "$crash\n$copied",
	'a clean restart of the copy records nothing more');
$copy->stop('immediate');
$copy->start;
is(losses($copy), "$crash\n$copied",
	'nor does an immediate stop with an empty ring');
# An account written before ring_account existed ("bh_audit losses 1",
# without its two fields) is still read.
$copy->stop;
my $account = $copy->data_dir . '/pg_stat_tmp/bh_audit_losses';
is(slurp_file($account), "bh_audit losses 3\nstopped 0 0 0 0 0 0\n",
	'a clean stop leaves "stopped", nothing pending');
PostgreSQL::Test::Utils::append_to_file($account . '.new', "bh_audit losses 1\nstopped 2 0 0\n");
rename($account . '.new', $account) or die "rename: $!";
$copy->start;
is(losses($copy), "$crash\n$copied\n" . '{"db_user": "postgres", "events_lost_in_ring": 2}',
	'an account of the earlier format is read');
$copy->stop;

# (5) A point-in-time recovery to a restore point made while a read waits
# in the ring.
$primary->backup('p');
$blocker = bh_hold_sealer($primary, 'postgres', mode => 'ACCESS EXCLUSIVE');
$primary->safe_psql('postgres', q{SELECT ring_push(ev('rp1')); SELECT pg_create_restore_point('rp')});
is($primary->safe_psql('postgres', 'SELECT ring_events FROM bh_audit.stats()'), '1',
	'the read waited in the ring at the restore point');
$blocker->query_safe('COMMIT');
$blocker->quit;
is(losses($primary), $crash, 'then it is chained on the primary, no loss recorded');
is(sealed($primary, 'rp'), '1', 'there');
my $walfile = $primary->safe_psql('postgres', 'SELECT pg_walfile_name(pg_switch_wal())');
ok($primary->poll_query_until('postgres',
		"SELECT '$walfile' <= last_archived_wal FROM pg_stat_archiver"),
	'the WAL up to the restore point is archived');
my $pitr = PostgreSQL::Test::Cluster->new('pitr');
$pitr->init_from_backup($primary, 'p', has_restoring => 1);
$pitr->append_conf('postgresql.conf', "recovery_target_name = 'rp'\nrecovery_target_action = 'promote'\n");
$pitr->start;
ok($pitr->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()'),
	'the recovered server leaves recovery at the restore point');
my $promoted = promoted($pitr);
like($promoted, qr/"recovery_end": "at restore point \\"rp\\"", .* "previous_timeline": 1, /,
	'the recovered server left timeline 1 at the restore point');
is(losses($pitr), "$crash\n$promoted",
	'it records one loss event: recovery ended');
is(sealed($pitr, 'rp'), '0', 'the read is not in its ledger');
is($pitr->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'its chain verifies');
$pitr->stop;

# (6) A standby, promoted after the primary stopped with 2 events in its
# ring.  The standby's own restarts record nothing (it does not seal).
$primary->backup('s');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 's', has_streaming => 1);
$standby->start;
$standby->restart;
$primary->safe_psql('postgres',
	"SELECT bh_audit.emit('READ', 'Patient', 'late', 'late'); SELECT bh_audit.seal();");
$primary->wait_for_catchup($standby);
$blocker = bh_hold_sealer($primary, 'postgres', mode => 'ACCESS EXCLUSIVE');
$primary->safe_psql('postgres', "SELECT ring_push(ev('fo' || i)) FROM generate_series(1, 2) i");
$primary->stop('immediate');
eval { $blocker->quit };
$standby->promote;
$promoted = promoted($standby);
like($promoted, qr/"recovery_end": "no recovery target specified", .* "previous_timeline": 1, /,
	'the promoted standby left timeline 1 without a recovery target');
is(losses($standby), "$crash\n$promoted",
	'the promoted standby records one loss event: recovery ended');
is(sealed($standby, 'late'), '1', 'it has what the primary chained');
is(sealed($standby, 'fo'), '0', 'but not what the primary\'s ring held');
like(slurp_file($standby->logfile),
	qr/LOG:  bh_audit sealer records in the chain that the ring of an earlier server is not known: \Q$recovery_reason\E/,
	'the promoted standby\'s server log says so');
is($standby->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'its chain verifies');
$standby->restart;
is(losses($standby), "$crash\n$promoted",
	'a clean restart of the promoted standby records nothing more');

# (7) A dump of that ledger restored into a new cluster, which has no
# account either (its first start), before its sealer first looks: the
# ledger came from another cluster, not with its server's files — no
# unknown ring to report, and home.c records where the ledger continued.
my $dump = "$PostgreSQL::Test::Utils::tmp_check/promoted.dump";
$standby->command_ok(['pg_dump', '-Fc', '-d', $standby->connstr('postgres'), '-f', $dump],
	'pg_dump of the promoted standby');
$standby->stop;
my $fresh = bh_node('fresh', database => 'restored', create_database => 0,
	extension => 0);
$fresh->safe_psql('postgres', 'CREATE DATABASE staging');
$fresh->command_ok(['pg_restore', '--exit-on-error', '-d', $fresh->connstr('staging'), $dump],
	'restored while it is not the sealer\'s database');
$fresh->safe_psql('postgres', 'ALTER DATABASE staging RENAME TO restored');
$fresh->restart;
ok( $fresh->poll_query_until('restored',
		q{SELECT count(*) = 1 FROM bh_audit.events
		   WHERE event -> 'metadata' ->> 'change' = 'ledger_continued'}),
	'the new cluster\'s sealer records where the ledger continued');
$fresh->safe_psql('restored', 'SELECT bh_audit.seal()');
is( $fresh->safe_psql('restored',
		q{SELECT string_agg(event -> 'metadata' ->> 'ring_account', ',')
		    FROM bh_audit.events WHERE error_type = 'EventsLost'}),
	$recovery_reason, 'and no unknown ring: only the promoted standby\'s, restored');
is($fresh->safe_psql('restored', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the continued chain verifies');

$fresh->stop;
done_testing();
