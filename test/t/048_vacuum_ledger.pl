# A VACUUM of the ledger runs beside the sealer: sealing goes on while it
# runs (a slow one here, as an anti-wraparound VACUUM of a large ledger
# would be, which nothing cancels), and the VACUUM is not cancelled by the
# sealer.  The sealer's lock that keeps a second sealer out is its own, not
# a table lock on bh_audit.events.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = bh_node('vacuum_ledger');
$node->safe_psql('postgres', q{
SELECT count(bh_audit.emit('READ', 'Patient', 'pat_' || g, 'pat_' || g))
  FROM generate_series(1, 3000) g;
SELECT bh_audit.seal();
});
my $before = $node->safe_psql('postgres', 'SELECT max(seq) FROM bh_audit.events');
cmp_ok($before, '>=', 3000, 'the ledger holds the events');

# A VACUUM slowed down to a crawl (a sleep after every page).
my $vacuum = $node->background_psql('postgres');
$vacuum->query_safe("SET application_name = 'slow_vacuum'");
$vacuum->query_safe('SET vacuum_cost_delay = 100');
$vacuum->query_safe('SET vacuum_cost_limit = 1');
$vacuum->query_until(qr/started/, q{
\echo started
VACUUM (FREEZE, DISABLE_PAGE_SKIPPING) bh_audit.events;
});
my $running = 0;
for (1 .. 200)
{
	$running = $node->safe_psql('postgres', q{
SELECT count(*) FROM pg_stat_progress_vacuum p JOIN pg_stat_activity a USING (pid)
 WHERE a.application_name = 'slow_vacuum' AND p.relid = 'bh_audit.events'::regclass});
	last if $running eq '1';
	usleep(50_000);
}
is($running, '1', 'the VACUUM of the ledger is running');

# Sealing goes on meanwhile (before, the sealer waited for the VACUUM).
my ($ret, $out, $err) = $node->psql('postgres', q{
SET statement_timeout = '30s';
SELECT count(bh_audit.emit('READ', 'Patient', 'pat_v' || g, 'pat_v' || g))
  FROM generate_series(1, 10) g;
SELECT bh_audit.seal() >= 0;
SELECT max(seq) FROM bh_audit.events;
});
is($ret, 0, 'seal() returns while the VACUUM runs') or diag($err);
like($out, qr/\n(\d+)$/, 'the ledger grew');
my ($after) = $out =~ /\n(\d+)$/;
is($after - $before, 10, 'the ten new events were sealed');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM pg_stat_progress_vacuum p JOIN pg_stat_activity a USING (pid)
 WHERE a.application_name = 'slow_vacuum'}), '1',
	'the VACUUM was still running, not cancelled');

$node->safe_psql('postgres',
	"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'slow_vacuum'");
# (the cancel ends that psql: ON_ERROR_STOP)
eval { $vacuum->quit; };
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');
$node->stop;
done_testing();
