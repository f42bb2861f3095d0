# A login's role and database names are the bytes of the client's startup
# packet, in no known encoding.  A failed login whose names are not UTF-8
# (LATIN1 'josé') is chained in a UTF8 ledger with U+FFFD for each such
# byte: the chain verifies, the export passes the independent verifier and
# the ledger survives pg_dump and pg_restore (the raw bytes broke both).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

$ENV{PGCLIENTENCODING} = 'UTF8';

my $node = bh_encoding_node('login_encoding', 'UTF8', undef,
	conf => "bh_audit.log_connections = on\n");

# A failed login (no such role, no such database): no authentication needed.
my ($ret, $out, $err) = bh_login($node, "probe\xe9", '-U', "jos\xe9", '-w');
isnt($ret, 0, 'the login with LATIN1 names is refused');

# (its FAILURE is pushed as the refused process exits, after psql got the
# error)
bh_wait_sealed($node, 'audit', "action = 'LOGIN' AND outcome = 'FAILURE'", 1);
is($node->safe_psql('audit', q{
SELECT encode(convert_to(event->'metadata'->>'role', 'UTF8'), 'hex') || ' ' ||
       encode(convert_to(event->'metadata'->>'database', 'UTF8'), 'hex') || ' ' ||
       encode(convert_to(actor_id, 'UTF8'), 'hex')
  FROM bh_audit.events WHERE action = 'LOGIN' AND outcome = 'FAILURE'}),
	'6a6f73efbfbd 70726f6265efbfbd 6a6f73efbfbd',
	'the LOGIN event is chained, each byte that is not UTF-8 as U+FFFD');
is($node->safe_psql('audit', 'SELECT events_dropped_total FROM bh_audit.stats()'), '0',
	'nothing dropped');
is($node->safe_psql('audit', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');

bh_export_verified($node, 'audit', 'login_encoding');

my $dump = "$PostgreSQL::Test::Utils::tmp_check/login_encoding.dump";
$node->command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('audit'), '-f', $dump ],
	'pg_dump of the ledger');
$node->safe_psql('postgres',
	"CREATE DATABASE restored ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored'), $dump ],
	'pg_restore of the ledger');
is($node->safe_psql('restored',
		"SELECT count(*) FROM bh_audit.events WHERE action = 'LOGIN' AND outcome = 'FAILURE'"),
	'1', 'the LOGIN event is restored');
is($node->safe_psql('restored', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the restored chain verifies');

# A session's context settings from the startup packet are the client's
# bytes too: one that is no text of the database encoding is refused as
# the connection starts, before it could reach an event.
{
	local $ENV{PGOPTIONS} = "-c bh_audit.actor_id=jos\xe9";
	my ($r, $o, $e) = bh_login($node, 'audit');
	isnt($r, 0, 'a context setting that is not UTF-8 ends the connection');
	like($e, qr/invalid value for parameter "bh_audit.actor_id"/, 'naming the setting');
}
{
	local $ENV{PGOPTIONS} = "-c bh_audit.actor_id=jos\xc3\xa9";
	is($node->safe_psql('audit', "SELECT current_setting('bh_audit.actor_id') = 'jos\xc3\xa9'"),
		't', 'a valid one is taken');
}

$node->stop;
done_testing();
