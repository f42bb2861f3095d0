# An end-user context setting made only of blanks in postgresql.conf (a
# default for every session) is refused as the server starts or reloads,
# with a WARNING (LOG on reload) that names the setting and not the value,
# and the value before it is kept (empty at start: the login is the
# actor), as for any value the setting's check refuses.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('s44f_context_blank_conf',
	conf => "bh_audit.actor_id = '   '\nbh_audit.request_id = '\t'\n");

# The actor's subject_id and the request id of an event queued now.
sub actor_request
{
	return $node->safe_psql('postgres', q{
BEGIN;
SELECT bh_audit.emit('READ', 'S44fThing') IS NULL;
SELECT (e -> 'actor' ->> 'subject_id') = session_user AS login,
       coalesce(e -> 'correlation' ->> 'request_id', '-') FROM bh_audit.pending_events() e;
ROLLBACK;}, extra_params => [ '-t', '-A' ]);
}

is($node->safe_psql('postgres',
		q{SELECT current_setting('bh_audit.actor_id') || '|' || current_setting('bh_audit.request_id')}),
	'|', 'blank values in postgresql.conf are not taken at start');
my $log = slurp_file($node->logfile);
like($log, qr/WARNING:  bh_audit\.actor_id shows no character/,
	'the server log names bh_audit.actor_id refused at start');
like($log, qr/WARNING:  bh_audit\.request_id shows no character/,
	'and bh_audit.request_id');
unlike($log, qr/"   "|invalid value for parameter "bh_audit\.actor_id"/,
	'the value is not echoed');
like(actor_request(), qr/^f\nt\|-$/m, 'the login is the actor, no request id');

$node->append_conf('postgresql.conf',
	"bh_audit.actor_id = 'conf_actor'\nbh_audit.request_id = 'conf-req'\n");
$node->reload;
$node->poll_query_until('postgres',
	q{SELECT current_setting('bh_audit.actor_id') = 'conf_actor'})
  or die 'the reload was not taken';

my $log_at = -s $node->logfile;
$node->append_conf('postgresql.conf', "bh_audit.actor_id = ' \t '\n");
$node->reload;
ok($node->wait_for_log(qr/LOG:  bh_audit\.actor_id shows no character/, $log_at),
	'a blank value is refused at reload, in the log (the postmaster\'s LOG line)');
is($node->safe_psql('postgres', 'SHOW bh_audit.actor_id'), 'conf_actor',
	'the value before the reload is kept');
like(actor_request(), qr/^f\nf\|conf-req$/m, 'and events name it');

$node->stop;
done_testing();
