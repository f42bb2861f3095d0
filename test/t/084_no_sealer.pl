# A server whose sealer could not be registered: max_worker_processes too
# small for it (0, or taken by a library loaded before bh_audit).  Before,
# only PostgreSQL's own LOG "too many background workers" said so:
# CREATE EXTENSION succeeded silently, capture_status() returned no rows
# (a healthy server's answer), and bh_audit.seal() waited until cancelled.
# Now the postmaster's log has a WARNING naming bh_audit, CREATE EXTENSION
# warns, capture_status() has a row for bh_audit.events, and seal() fails
# with SQLSTATE 55000.  The same server with room for the sealer has none
# of these.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $problem = 'bh_audit.events|no sealer is running: events are not sealed '
  . '(the bh_audit sealer could not be registered: max_worker_processes is too small)';

my $node = bh_node('no_sealer', extension => 0,
	conf => "max_worker_processes = 0\n");
like(slurp_file($node->logfile),
	qr/WARNING:  the bh_audit sealer could not be registered: no events will be sealed\n.*DETAIL:  max_worker_processes \(0\) leaves no background worker for it\./s,
	'the start says the sealer could not be registered');

my ($ret, $stdout, $stderr) =
  $node->psql('postgres', 'CREATE EXTENSION bh_audit');
is($ret, 0, 'CREATE EXTENSION works');
like($stderr,
	qr/WARNING:  no bh_audit sealer is running: events are not sealed/,
	'CREATE EXTENSION warns that no sealer runs');

is($node->safe_psql('postgres', 'SELECT * FROM bh_audit.capture_status()'),
	$problem, 'capture_status() lists the missing sealer');
is($node->safe_psql('postgres', 'SELECT sealer_pid IS NULL FROM bh_audit.stats()'),
	't', 'stats() has no sealer_pid');

my $started = time;
my $timed_out;
($ret, $stdout, $stderr) = $node->psql('postgres',
	"\\set VERBOSITY verbose\nSELECT bh_audit.seal()",
	timeout => 30, timed_out => \$timed_out);
ok(!$timed_out, 'seal() does not wait until cancelled');
isnt($ret, 0, 'seal() fails');
like($stderr,
	qr/ERROR:  55000: bh_audit.seal\(\) cannot wait: no bh_audit sealer is running/,
	'seal() says no sealer runs (SQLSTATE 55000)');
cmp_ok(time - $started, '<', 10, 'seal() fails within its bound');

# A library before bh_audit takes the only worker.
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pg_prewarm, bh_audit'
max_worker_processes = 1
});
$node->restart;
like(slurp_file($node->logfile),
	qr/DETAIL:  max_worker_processes \(1\) leaves no background worker for it\./,
	'a library registered before bh_audit took the last worker');
is($node->safe_psql('postgres', 'SELECT * FROM bh_audit.capture_status()'),
	$problem, 'capture_status() lists the missing sealer');
($ret, $stdout, $stderr) = $node->psql('postgres', 'SELECT bh_audit.seal()',
	timeout => 30, timed_out => \$timed_out);
like($stderr, qr/ERROR:  bh_audit.seal\(\) cannot wait: no bh_audit sealer is running/,
	'seal() fails');

# Room for the sealer: nothing of the above.
$node->append_conf('postgresql.conf', "max_worker_processes = 8\n");
$node->restart;
unlike(slurp_file($node->logfile), qr/max_worker_processes \(8\)/,
	'nothing logged when the sealer is registered');
is($node->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.capture_status()'),
	'0', 'capture_status() is empty with a sealer');
$node->safe_psql('postgres', q{
CREATE TABLE patients (id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('patients', 'Patient', 'id', 'patient_id');
});
# (the sealer may chain the tagging before seal() is called: it returns 0 or 1)
is($node->safe_psql('postgres', q{
SELECT bh_audit.seal() IN (0, 1);
SELECT count(*) FROM bh_audit.events
 WHERE resource_type = 'AuditConfiguration' AND action = 'CREATE'}),
	"t\n1", 'seal() waits for the sealer, which chained the tagging');
($ret, $stdout, $stderr) = $node->psql('postgres', q{
CREATE DATABASE other;
});
($ret, $stdout, $stderr) = $node->psql('other', 'CREATE EXTENSION bh_audit');
unlike($stderr, qr/no bh_audit sealer is running/,
	'CREATE EXTENSION does not warn while the sealer runs');
$node->stop;

done_testing();
