# bh_audit.service_roles in postgresql.conf: a list PostgreSQL cannot split
# (an empty entry) is refused as the server starts or reloads, with a
# WARNING (LOG on reload) naming the setting, and the value before it is
# kept (empty at start), instead of being taken as it is and then matching
# no role, its well-formed names included.  A well-formed list works.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('s42e_service_roles_conf',
	conf => "bh_audit.service_roles = 'clerk,,etl'\n");
$node->safe_psql('postgres', 'CREATE ROLE clerk LOGIN IN ROLE bh_audit_admin');

# The subject_type of an event the login queues.
sub clerk_type
{
	return $node->safe_psql('postgres', q{
BEGIN;
SELECT bh_audit.emit('READ', 'S42eThing') IS NULL;
SELECT e -> 'actor' ->> 'subject_type' FROM bh_audit.pending_events() e;
ROLLBACK;}, extra_params => [ '-U', 'clerk', '-t' ]);
}

is($node->safe_psql('postgres', 'SHOW bh_audit.service_roles'), '',
	'a list with an empty entry in postgresql.conf is not taken at start');
like(slurp_file($node->logfile),
	qr/invalid value for parameter "bh_audit\.service_roles": "clerk,,etl"/,
	'the server log names the setting refused at start');

$node->append_conf('postgresql.conf', "bh_audit.service_roles = 'clerk, etl'\n");
$node->reload;
$node->poll_query_until('postgres',
	q{SELECT current_setting('bh_audit.service_roles') = 'clerk, etl'})
  or die 'the reload was not taken';
like(clerk_type(), qr/^\s*f\s+service\s*$/, 'a well-formed list names the login a service');

my $log_at = -s $node->logfile;
$node->append_conf('postgresql.conf', "bh_audit.service_roles = 'clerk, \"etl'\n");
$node->reload;
ok($node->wait_for_log(
	qr/invalid value for parameter "bh_audit\.service_roles": "clerk, "etl"/, $log_at),
	'a quote left open is refused at reload, in the log');
is($node->safe_psql('postgres', 'SHOW bh_audit.service_roles'), 'clerk, etl',
	'the value before the reload is kept');
like(clerk_type(), qr/^\s*f\s+service\s*$/, 'and the login is a service still');

$node->stop;
done_testing();
