# tagging.md: under bh_audit.on_ring_full = error, a full ring fails a
# change of a stored setting made outside bh_audit.database before the
# change.  The events a transaction will push at its commit count
# together: with room for one setting event but not two, a RESET ALL that
# removes three settings, or a transaction whose second ALTER would add a
# second event, fails, and nothing is changed or dropped.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('probe_ring_room', conf => "bh_audit.ring_size = '64kB'\n");
$node->safe_psql('postgres', q{CREATE DATABASE other; CREATE ROLE sneak LOGIN;});
bh_event_function($node, 'other', 'filler');
$node->safe_psql('postgres', q{
ALTER ROLE sneak SET bh_audit.actor_id = 'a';
ALTER ROLE sneak SET bh_audit.actor_org_id = 'b';
ALTER ROLE sneak SET bh_audit.owner_org_id = 'c';
SELECT bh_audit.seal();});
my $sealer = bh_stop_sealer($node, 'postgres');
# leave 904 bytes free: room for one setting event, not two
$node->psql('other', q{SELECT ring_push(ev(repeat('a',7900))), ring_push(ev(repeat('b',7900))),
 ring_push(ev(repeat('c',7900))), ring_push(ev(repeat('d',7787)))});
my $dropped = $node->safe_psql('postgres', 'SELECT events_dropped_total FROM bh_audit.stats()');
my ($rc, $out, $err) = $node->psql('other',
	q{SET bh_audit.on_ring_full = error; ALTER ROLE sneak RESET ALL});
kill 'CONT', $sealer;
my $now = $node->safe_psql('postgres', 'SELECT events_dropped_total FROM bh_audit.stats()');
my $left = $node->safe_psql('postgres',
	q{SELECT count(*) FROM pg_db_role_setting WHERE setrole = 'sneak'::regrole});
like($err, qr/bh_audit event ring is full/, 'RESET ALL of three settings fails: room for one event only');
is($now, $dropped, 'no event dropped');
is($left, '1', 'the settings are left as they were');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
$sealer = bh_stop_sealer($node, 'postgres');
$node->psql('other', q{SELECT ring_push(ev(repeat('a',7900))), ring_push(ev(repeat('b',7900))),
 ring_push(ev(repeat('c',7900))), ring_push(ev(repeat('d',7787)))});
$dropped = $node->safe_psql('postgres', 'SELECT events_dropped_total FROM bh_audit.stats()');
($rc, $out, $err) = $node->psql('other', q{
SET bh_audit.on_ring_full = error;
BEGIN;
ALTER ROLE sneak SET bh_audit.actor_type = 'service';
ALTER ROLE sneak SET bh_audit.actor_roles = 'x';
COMMIT;});
kill 'CONT', $sealer;
like($err, qr/bh_audit event ring is full/, 'the second ALTER of a transaction fails: room for one event only');
is($node->safe_psql('postgres', q{
SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting WHERE setrole = 'sneak'::regrole}),
	'bh_audit.actor_id=a,bh_audit.actor_org_id=b,bh_audit.owner_org_id=c', 'and the first is rolled back with it');
is($node->safe_psql('postgres', 'SELECT events_dropped_total FROM bh_audit.stats()'), $dropped,
	'no event dropped');
$node->stop;
done_testing();
