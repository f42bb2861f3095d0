# A sealer that refused the ledger (a column whose type a superuser
# changed) exits, and the postmaster starts another a second later.  When
# no sealer has run for a while since that refusal, with nothing sealed
# since, seal() says the refusal, not "no sealer is running": the sealer is
# gone because of the ledger, and the DBA must repair it.  (The postmaster
# is held with SIGSTOP, so that no new sealer starts.)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = bh_node('seal_refusal_absent');
$node->safe_psql('postgres', q{
SELECT bh_audit.emit('READ', 'Doc', 'before', 'p1');
SELECT bh_audit.seal();
});

my $log_start = -s $node->logfile;
$node->safe_psql('postgres', q{
ALTER TABLE bh_audit.events ALTER COLUMN seq TYPE numeric;
SELECT bh_audit.emit('READ', 'Doc', 'during', 'p1');
});
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT bh_audit.seal()');
is($ret, 3, 'seal() fails while the ledger is altered');
like($err, qr/the sealer does not seal/, 'seal() says the sealer does not seal');

# a session opened before: a held postmaster starts no backend either
my $bg = bh_seal_session($node, 'postgres');

# wait until no sealer process runs, then hold the postmaster
my $pm = $node->{_pid};
END { kill 'CONT', $pm if $pm; }
my $deadline = time() + 60;
my $gone = 0;
while (time() < $deadline)
{
	if (`pgrep -f 'bh_audit sealer' -P $pm` eq '')
	{
		kill 'STOP', $pm;
		if (`pgrep -f 'bh_audit sealer' -P $pm` eq '') { $gone = 1; last; }
		kill 'CONT', $pm;
	}
	usleep(20_000);
}
ok($gone, 'no sealer runs, the postmaster held');

# seal() waits for the absence (5 s) to count, then says why
my $said = $bg->query_safe('SELECT pg_temp.try_seal()');
kill 'CONT', $pm;
$bg->quit;
like($said, qr/^bh_audit\.seal\(\) cannot wait: the sealer does not seal\ncolumn "seq" of bh_audit\.events has type numeric, not bigint; events wait in the queue and the ring\./,
	'seal() says the refusal, not that no sealer runs');

# repaired, everything is sealed and the chain holds
$node->safe_psql('postgres', 'ALTER TABLE bh_audit.events ALTER COLUMN seq TYPE bigint');
# (the restarted sealer may chain them before the call: how many the call
# counts varies; nothing left waiting is what holds)
($ret, $out, $err) = $node->psql('postgres', 'SELECT bh_audit.seal() >= 0');
is($out, 't', 'sealed once repaired');
is($node->safe_psql('postgres', 'SELECT queued_events, ring_events FROM bh_audit.stats()'),
	'0|0', 'nothing is left waiting once repaired');
is($node->safe_psql('postgres',
	q{SELECT result FROM bh_audit.verify_chain()}), 'PASS', 'the chain verifies');

$node->stop;
done_testing();
