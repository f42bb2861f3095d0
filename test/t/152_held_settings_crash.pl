# A stored bh_audit setting changed while connected to another database
# than bh_audit.database is recorded through the ring once its transaction
# has committed (emit.c, bh_ring_at_commit / bh_ring_held_push).  Between
# the commit record and that push the event is held only in the backend's
# memory: its count is in the backend's slot of the loss account from
# pre-commit until it is pushed, so a crash restart or an immediate
# shutdown in between leaves an EventsLost event that counts it, never a
# committed change (here: capture switched off for a role) without a trace.
# The window is wide whenever the commit waits for a synchronous standby
# (the wait is in RecordTransactionCommit, before XACT_EVENT_COMMIT; it
# needs max_wal_senders > 0: allows_streaming); an absent standby makes it
# as wide as the test needs.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('held_settings_crash', init => { allows_streaming => 1 },
	conf => "restart_after_crash = on\n");
$node->safe_psql('postgres', q{
CREATE DATABASE other;
CREATE ROLE clerk LOGIN;
});
my $mark = bh_seal_mark($node, 'postgres');

# every commit now waits for a synchronous standby that never comes
$node->safe_psql('postgres', q{ALTER SYSTEM SET synchronous_standby_names = 'nostandby'});
$node->reload;

my $s = $node->background_psql('other', on_error_stop => 0);
$s->query_until(qr/start/, q{
\echo start
ALTER ROLE clerk IN DATABASE postgres SET bh_audit.enabled = off;
});
ok($node->poll_query_until('postgres',
		q{SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event = 'SyncRep'}),
	'the ALTER ROLE has committed locally and waits for the standby');

$node->stop('immediate');
eval { $s->quit };
# no synchronous standby from now on (the sealer's commits would wait too)
my $auto = $node->data_dir . '/postgresql.auto.conf';
my $conf = slurp_file($auto);
$conf =~ s/^synchronous_standby_names.*$//mg;
open(my $fh, '>', $auto) or die;
print $fh $conf;
close $fh;
$node->start;
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');

is($node->safe_psql('postgres', q{
SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
 WHERE r.rolname = 'clerk'}),
	'bh_audit.enabled=off', 'the change committed: capture is off for clerk');

my $recorded = $node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'AuditConfiguration' AND resource_id = 'bh_audit.enabled'});
my $counted = $node->safe_psql('postgres', qq{
SELECT coalesce(sum(coalesce((event -> 'metadata' ->> 'events_lost_in_sessions')::bigint, 0)
                    + coalesce((event -> 'metadata' ->> 'events_lost_in_ring')::bigint, 0)), 0)
  FROM bh_audit.events WHERE seq > $mark AND error_type = 'EventsLost'});
is("$recorded|$counted", '0|1',
	'the change held for the ring when the server stopped is counted as lost in a session');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS', 'the chain verifies');

$node->stop;
done_testing();
