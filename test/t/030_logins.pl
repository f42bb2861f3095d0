# bh_audit.log_connections: successful and failed logins to the cluster are
# LOGIN events (HIPAA 164.308(a)(5)(ii)(C) log-in monitoring), with the role
# and the client address in metadata, and never the password.  A SUCCESS is a
# session that really started: a login refused after authentication (a
# NOLOGIN role, connection limits, an unknown role or database, no CONNECT
# privilege, reserved slots) or by pg_hba.conf is a FAILURE with the
# condition name of its SQLSTATE; a client that hangs up before it answers
# the password request (psql asking for the password) is no event.
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
CREATE ROLE blocked LOGIN;
CREATE ROLE unlisted LOGIN;
CREATE ROLE dormant NOLOGIN;
CREATE ROLE capped LOGIN CONNECTION LIMIT 0;
CREATE ROLE visitor LOGIN;
CREATE ROLE auditor LOGIN SUPERUSER;
CREATE DATABASE clinic;
CREATE DATABASE closed CONNECTION LIMIT 0;
CREATE DATABASE frozen ALLOW_CONNECTIONS false;
CREATE DATABASE private;
REVOKE CONNECT ON DATABASE private FROM PUBLIC;
});
my $superuser = $node->safe_psql('postgres', 'SELECT current_user');
# Password authentication for clinician, a reject line for blocked, trust
# for the test's own superuser and the roles refused after authentication;
# no line at all for unlisted.
unlink($node->data_dir . '/pg_hba.conf');
$node->append_conf('pg_hba.conf',
	"local all blocked reject\n"
	  . "local all clinician scram-sha-256\n"
	  . "local all $superuser,dormant,capped,ghost,visitor,auditor trust\n");
$node->reload;
$ENV{PGPASSFILE} = '/nonexistent';

$ENV{PGPASSWORD} = 'correct-horse';
my ($ret, $out, $err) = bh_login($node, 'clinic', '-U', 'clinician');
is($ret, 0, 'a good password logs in');
$ENV{PGPASSWORD} = 'SSN_123-45-6789';
($ret, $out, $err) = bh_login($node, 'clinic', '-U', 'clinician');
isnt($ret, 0, 'a wrong password is refused');
delete $ENV{PGPASSWORD};

# (a refused login's FAILURE is pushed as its process exits, after the
# client got the error: each check waits for the events it expects)
bh_wait_sealed($node, 'postgres', "action = 'LOGIN' AND actor_id = 'clinician'", 2);
my $rows = $node->safe_psql('postgres', qq{
SELECT outcome, coalesce(error_type, '-'), actor_id, event->'metadata'->>'role',
       event->'metadata'->>'database', event->'metadata'->>'client_addr'
  FROM bh_audit.events
 WHERE action = 'LOGIN' AND actor_id = 'clinician' ORDER BY seq});
is($rows, "SUCCESS|-|clinician|clinician|clinic|[local]\nFAILURE|AuthenticationFailed|clinician|clinician|clinic|[local]",
	'one LOGIN event per attempt, SUCCESS and FAILURE');

# The LOGIN events of a role, in order: outcome, error_type, error_message,
# actor, role, database, client address; once at least $n are sealed.
sub logins
{
	my ($role, $n) = @_;
	bh_wait_sealed($node, 'postgres',
		"action = 'LOGIN' AND event->'metadata'->>'role' = '$role'", $n);
	return $node->safe_psql('postgres', qq{
SELECT outcome, coalesce(error_type, '-'), coalesce(event->'outcome'->>'error_message', '-'),
       actor_id, event->'metadata'->>'role', coalesce(event->'metadata'->>'database', '-'),
       event->'metadata'->>'client_addr'
  FROM bh_audit.events
 WHERE action = 'LOGIN' AND event->'metadata'->>'role' = '$role' ORDER BY seq});
}

# A login of role to db that does not start a session (psql -w: never prompts).
sub refused
{
	my ($role, $db, $name) = @_;
	my ($r, $o, $e) = bh_login($node, $db, '-U', $role, '-w');
	isnt($r, 0, "$name: refused");
	return $e;
}

# psql asking for a password first connects without one and hangs up at the
# prompt; with -w it gives up there.  No event: nothing was attempted.
my $e = refused('clinician', 'clinic', 'no password');
like($e, qr/no password supplied/, 'psql had no password to send');
is(logins('clinician', 2),
	"SUCCESS|-|-|clinician|clinician|clinic|[local]\n"
	  . "FAILURE|AuthenticationFailed|authentication failed|clinician|clinician|clinic|[local]",
	'a client that hangs up at the password request is no event');

# Refused by pg_hba.conf, before authentication: a reject line, no line.
$e = refused('blocked', 'clinic', 'reject line');
like($e, qr/pg_hba.conf rejects connection/, 'a reject line');
is(logins('blocked', 1),
	'FAILURE|invalid_authorization_specification|pg_hba.conf rejects connection for host "", no encryption|blocked|blocked|clinic|[local]',
	'a pg_hba.conf reject line is a FAILURE');
$e = refused('unlisted', 'clinic', 'no pg_hba.conf line');
like($e, qr/no pg_hba.conf entry/, 'no pg_hba.conf line');
is(logins('unlisted', 1),
	'FAILURE|invalid_authorization_specification|no pg_hba.conf entry for host "", no encryption|unlisted|unlisted|clinic|[local]',
	'no matching pg_hba.conf line is a FAILURE');

# Refused after authentication: the role.
$e = refused('dormant', 'clinic', 'NOLOGIN role');
like($e, qr/not permitted to log in/, 'a NOLOGIN role');
is(logins('dormant', 1),
	'FAILURE|invalid_authorization_specification|role "" is not permitted to log in|dormant|dormant|clinic|[local]',
	'a NOLOGIN role is a FAILURE, no SUCCESS');
$e = refused('capped', 'clinic', 'CONNECTION LIMIT 0 role');
like($e, qr/too many connections for role/, 'a role at its connection limit');
is(logins('capped', 1),
	'FAILURE|too_many_connections|too many connections for role ""|capped|capped|clinic|[local]',
	'a role at its connection limit is a FAILURE, no SUCCESS');
$e = refused('ghost', 'clinic', 'unknown role');
like($e, qr/role "ghost" does not exist/, 'an unknown role under trust');
is(logins('ghost', 1),
	'FAILURE|invalid_authorization_specification|role "" does not exist|ghost|ghost|clinic|[local]',
	'an unknown role is a FAILURE, no SUCCESS');

# Refused after authentication: the database.  (Each refusal's FAILURE is
# pushed as its process exits, after psql got the error: waited for, so
# that the next login's events come after it.)
refused('visitor', 'nowhere', 'unknown database');
bh_wait_sealed($node, 'postgres', "action = 'LOGIN' AND event->'metadata'->>'role' = 'visitor'", 1);
refused('visitor', 'closed', 'database at its connection limit');
bh_wait_sealed($node, 'postgres', "action = 'LOGIN' AND event->'metadata'->>'role' = 'visitor'", 2);
refused('visitor', 'frozen', 'database not accepting connections');
bh_wait_sealed($node, 'postgres', "action = 'LOGIN' AND event->'metadata'->>'role' = 'visitor'", 3);
refused('visitor', 'private', 'no CONNECT privilege');
bh_wait_sealed($node, 'postgres', "action = 'LOGIN' AND event->'metadata'->>'role' = 'visitor'", 4);
($ret, $out, $err) = bh_login($node, 'clinic', '-U', 'visitor', '-w');
is($ret, 0, 'visitor logs in to clinic');
is(logins('visitor', 5),
	join("\n",
		'FAILURE|invalid_catalog_name|database "" does not exist|visitor|visitor|nowhere|[local]',
		'FAILURE|too_many_connections|too many connections for database ""|visitor|visitor|closed|[local]',
		'FAILURE|object_not_in_prerequisite_state|database "" is not currently accepting connections|visitor|visitor|frozen|[local]',
		'FAILURE|insufficient_privilege|permission denied for database ""|visitor|visitor|private|[local]',
		'SUCCESS|-|-|visitor|visitor|clinic|[local]'),
	'refusals for the database are FAILUREs; a session that starts is one SUCCESS');

# The client's startup options apply after authentication: an end user they
# assert is not the login's actor, and one that is refused ends the startup
# (a FAILURE, no SUCCESS).  A superuser's option turning log_connections off
# comes too late for its own login.
{
	local $ENV{PGOPTIONS} = '-c bh_audit.actor_id=someone_else';
	($ret, $out, $err) = bh_login($node, 'clinic', '-U', 'visitor', '-w');
	is($ret, 0, 'visitor logs in asserting an end user');
}
{
	local $ENV{PGOPTIONS} = '-c no_such_setting=1';
	$e = refused('visitor', 'clinic', 'an unknown startup option');
	like($e, qr/unrecognized configuration parameter/, 'an unknown startup option');
}
# (psql tries such a login twice)
like(logins('visitor', 7),
	qr/\nSUCCESS\|-\|-\|visitor\|visitor\|clinic\|\[local\]\nSUCCESS\|-\|-\|visitor\|visitor\|clinic\|\[local\](\nFAILURE\|undefined_object\|unrecognized configuration parameter ""\|visitor\|visitor\|clinic\|\[local\])+$/,
	'the login is recorded as authentication saw it; a refused startup option is a FAILURE');
{
	local $ENV{PGOPTIONS} = '-c bh_audit.log_connections=off';
	($ret, $out, $err) = bh_login($node, 'clinic', '-U', 'auditor', '-w');
	is($ret, 0, 'a superuser logs in turning log_connections off');
}
is(logins('auditor', 1), 'SUCCESS|-|-|auditor|auditor|clinic|[local]',
	'its own login is recorded');
# the test harness's: after the mark, one session, then the one sealing,
# which reads them too (a session of its own for the read would have its
# login in the ring, chained or not by then as the sealer went)
my $harness_mark = bh_seal_mark($node, 'postgres');
$node->safe_psql('postgres', 'SELECT 1');
is($node->safe_psql('postgres', qq{
SELECT bh_audit.seal() >= 0;
SELECT string_agg(outcome || ' ' || actor_id || ' ' || (event -> 'metadata' ->> 'database'), ',' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $harness_mark AND action = 'LOGIN'}),
	"t\nSUCCESS $superuser postgres,SUCCESS $superuser postgres",
	'the test harness logins are recorded too, each session once');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM bh_audit.events WHERE strpos(event::text, 'correct-horse') > 0 OR strpos(event::text, '123-45-6789') > 0"),
	'0', 'no password in any event');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS', 'the chain verifies');

# A refusal that is not reported to the server log is still a FAILURE,
# without its reason.
$node->safe_psql('postgres', 'ALTER SYSTEM SET log_min_messages = panic');
$node->reload;
ok($node->poll_query_until('postgres',
		"SELECT current_setting('log_min_messages') = 'panic'"),
	'new sessions have log_min_messages = panic');
refused('dormant', 'clinic', 'NOLOGIN role, FATAL errors not logged');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET log_min_messages');
$node->reload;
is(logins('dormant', 2),
	'FAILURE|invalid_authorization_specification|role "" is not permitted to log in|dormant|dormant|clinic|[local]' . "\n"
	  . 'FAILURE|LoginFailed|login failed|dormant|dormant|clinic|[local]',
	'a refusal not logged is a FAILURE LoginFailed');

# Connection slots reserved for superusers: a refusal after authentication.
# (ten slots, nine of them reserved: a session held leaves eight)
$node->safe_psql('postgres', 'ALTER SYSTEM SET max_connections = 10');
$node->safe_psql('postgres', 'ALTER SYSTEM SET superuser_reserved_connections = 9');
$node->restart;
my $visitor_logins = scalar(my @l = split /\n/, logins('visitor', 0));
my $held = $node->background_psql('postgres');
$e = refused('visitor', 'clinic', 'reserved connection slots');
like($e, qr/remaining connection slots are reserved/, 'the slots left are reserved');
$held->quit;
like(logins('visitor', $visitor_logins + 1),
	qr/\nFAILURE\|too_many_connections\|remaining connection slots are reserved for non-replication superuser connections\|visitor\|visitor\|clinic\|\[local\]$/,
	'a login refused for reserved slots is a FAILURE');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET superuser_reserved_connections');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET max_connections');
$node->restart;

# With log_hostname = on, PostgreSQL's remote_host is the name the client
# address's reverse DNS gives (127.0.0.1: localhost here), which whoever
# controls that DNS chooses: client_addr stays the numeric address.
$node->safe_psql('postgres', "ALTER SYSTEM SET listen_addresses = '127.0.0.1'");
$node->safe_psql('postgres', 'ALTER SYSTEM SET log_hostname = on');
$node->append_conf('pg_hba.conf', "host all visitor 127.0.0.1/32 trust\n");
$node->restart;
$visitor_logins = scalar(@l = split /\n/, logins('visitor', 0));
($ret, $out, $err) = bh_login($node, 'clinic', '-d',
	'host=127.0.0.1 port=' . $node->port . ' dbname=clinic', '-U', 'visitor');
is($ret, 0, 'a login over TCP with log_hostname = on') or diag($err);
like(logins('visitor', $visitor_logins + 1),
	qr/\nSUCCESS\|-\|-\|visitor\|visitor\|clinic\|127\.0\.0\.1$/,
	'its client_addr is the numeric address, not the reverse DNS name');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET log_hostname');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET listen_addresses');
$node->restart;
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS', 'the chain still verifies');

# Off: no LOGIN events.
$node->safe_psql('postgres', 'ALTER SYSTEM SET bh_audit.log_connections = off');
$node->reload;
ok($node->poll_query_until('postgres',
		"SELECT current_setting('bh_audit.log_connections') = 'off'"),
	'new sessions have bh_audit.log_connections = off');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
my $n = $node->safe_psql('postgres', "SELECT count(*) FROM bh_audit.events WHERE action = 'LOGIN'");
$node->safe_psql('clinic', 'SELECT 1');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', "SELECT count(*) FROM bh_audit.events WHERE action = 'LOGIN'"),
	$n, 'with log_connections off, logins are not recorded');

$node->stop;
done_testing();
