# bh_audit.log_connections: successful and failed logins to the cluster are
# LOGIN events (HIPAA 164.308(a)(5)(ii)(C) log-in monitoring), with the role
# and the client address in metadata, and never the password.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('logins', conf => q{
bh_audit.log_connections = on
password_encryption = 'scram-sha-256'
});
$node->safe_psql('postgres', q{
CREATE ROLE clinician LOGIN PASSWORD 'correct-horse';
CREATE DATABASE clinic;
});
# Password authentication for clinician, trust for the test's own superuser.
unlink($node->data_dir . '/pg_hba.conf');
$node->append_conf('pg_hba.conf', "local all clinician scram-sha-256\nlocal all all trust\n");
$node->reload;

my $before = $node->safe_psql('postgres', "SELECT count(*) FROM bh_audit.events WHERE action = 'LOGIN'");

$ENV{PGPASSWORD} = 'correct-horse';
my ($ret, $out, $err) = $node->psql('clinic', 'SELECT 1', extra_params => ['-U', 'clinician']);
is($ret, 0, 'a good password logs in');
$ENV{PGPASSWORD} = 'SSN_123-45-6789';
($ret, $out, $err) = $node->psql('clinic', 'SELECT 1', extra_params => ['-U', 'clinician']);
isnt($ret, 0, 'a wrong password is refused');
delete $ENV{PGPASSWORD};

$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
my $rows = $node->safe_psql('postgres', qq{
SELECT outcome, coalesce(error_type, '-'), actor_id, event->'metadata'->>'role',
       event->'metadata'->>'database', event->'metadata'->>'client_addr'
  FROM bh_audit.events
 WHERE action = 'LOGIN' AND actor_id = 'clinician' ORDER BY seq});
is($rows, "SUCCESS|-|clinician|clinician|clinic|[local]\nFAILURE|AuthenticationFailed|clinician|clinician|clinic|[local]",
	'one LOGIN event per attempt, SUCCESS and FAILURE');
cmp_ok($node->safe_psql('postgres', "SELECT count(*) FROM bh_audit.events WHERE action = 'LOGIN'"),
	'>', $before + 1, 'the test harness logins are recorded too');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM bh_audit.events WHERE strpos(event::text, 'correct-horse') > 0 OR strpos(event::text, '123-45-6789') > 0"),
	'0', 'no password in any event');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS', 'the chain verifies');

# Off: no LOGIN events.
$node->safe_psql('postgres', 'ALTER SYSTEM SET bh_audit.log_connections = off');
$node->reload;
sleep(1);
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
my $n = $node->safe_psql('postgres', "SELECT count(*) FROM bh_audit.events WHERE action = 'LOGIN'");
$node->safe_psql('clinic', 'SELECT 1');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', "SELECT count(*) FROM bh_audit.events WHERE action = 'LOGIN'"),
	$n, 'with log_connections off, logins are not recorded');

$node->stop;
done_testing();
