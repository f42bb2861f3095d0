# The ledger's home: the database (by OID, in a cluster by its system
# identifier) that last sealed it, kept in bh_audit.ledger_home.  A sealer
# that starts sealing a ledger last sealed elsewhere — a TEMPLATE copy of
# the sealer's database, a pg_dump restored into another cluster — records
# where it continued (one AuditConfiguration event, change
# 'ledger_continued'), and the ledger's home is its database from then on.
# Genesis and an ordinary restart, clean or not, record nothing.  In a
# database that holds the extension but is not the sealer's,
# capture_status() says that its queued events are never sealed.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $moves = "SELECT count(*) FROM bh_audit.events WHERE event->'metadata'->>'change' = 'ledger_continued'";

# The expected metadata of a continuation, computed in the current database
# (the previous home given), with the db_user of the sealer's events.
sub continued_metadata
{
	my ($prev_db, $prev_oid, $prev_sysid, $head) = @_;
	return qq{SELECT jsonb_build_object(
  'change', 'ledger_continued',
  'previous_database', '$prev_db', 'previous_database_oid', $prev_oid,
  'previous_system_identifier', '$prev_sysid',
  'current_database', current_database(),
  'current_database_oid', (SELECT oid::bigint FROM pg_database WHERE datname = current_database()),
  'current_system_identifier', (SELECT system_identifier::text FROM pg_control_system()),
  'head_seq', $head,
  'db_user', (SELECT rolname FROM pg_roles WHERE oid = 10))};
}

my $node = bh_node('home', database => 'probe');
my $sysid = $node->safe_psql('postgres', 'SELECT system_identifier FROM pg_control_system()');
my $probe_oid = $node->safe_psql('postgres', "SELECT oid FROM pg_database WHERE datname = 'probe'");
$node->safe_psql('probe', "SELECT bh_audit.emit('READ', 'Patient', 'p' || i, 'p' || i) FROM generate_series(1, 3) i");
$node->safe_psql('probe', 'SELECT bh_audit.seal()');

# Genesis: the home is the database of CREATE EXTENSION, and nothing says so.
is($node->safe_psql('probe', $moves), '0', 'genesis records no continuation');
is($node->safe_psql('probe', 'SELECT database_name, database_oid, system_identifier FROM bh_audit.ledger_home'),
	"probe|$probe_oid|$sysid", 'the ledger\'s home is the database of CREATE EXTENSION');

# Protected like the extension's other tables.
my ($ret, $out, $err) = $node->psql('probe', "UPDATE bh_audit.ledger_home SET database_name = 'elsewhere'");
like($err, qr/UPDATE on "bh_audit\.ledger_home" is not allowed/, 'its row cannot be changed');
($ret, $out, $err) = $node->psql('probe', 'TRUNCATE bh_audit.ledger_home');
like($err, qr/TRUNCATE on "bh_audit\.ledger_home" is not allowed/, 'nor removed');
# a row naming this database itself is not a restore's: it changes nothing
$node->safe_psql('probe', "INSERT INTO bh_audit.ledger_home VALUES ($probe_oid, 'probe', $sysid)");
is($node->safe_psql('probe', 'SELECT count(*) FROM bh_audit.ledger_home'), '1',
	'a row naming the home itself is skipped');

# Ordinary restarts, clean and after a crash: the same ledger.
$node->restart;
$node->stop('immediate');
$node->start;
$node->safe_psql('probe', "SELECT bh_audit.emit('READ', 'Patient', 'p4', 'p4')");
$node->safe_psql('probe', 'SELECT bh_audit.seal()');
is($node->safe_psql('probe', "SELECT count(*), ($moves) FROM bh_audit.events"), '4|0',
	'a restart and a crash restart record no continuation');

# Copies of the sealer's database (no session may be in a template: the
# sealer is moved away meanwhile).
$node->append_conf('postgresql.conf', "bh_audit.database = 'postgres'");
$node->restart;
$node->safe_psql('postgres', 'CREATE DATABASE copy1 TEMPLATE probe');
$node->safe_psql('postgres', 'CREATE DATABASE copy2 TEMPLATE probe');
my $copy1_oid = $node->safe_psql('postgres', "SELECT oid FROM pg_database WHERE datname = 'copy1'");
$node->append_conf('postgresql.conf', "bh_audit.database = 'probe'");
$node->restart;
$node->safe_psql('probe', 'SELECT bh_audit.seal()');
is($node->safe_psql('probe', "SELECT count(*), ($moves) FROM bh_audit.events"), '4|0',
	'back in its own database the sealer records nothing');

# capture_status(): in a database that is not the sealer's, queued events
# are never sealed; in the sealer's, nothing to report.
is($node->safe_psql('copy2', 'SELECT tbl, problem FROM bh_audit.capture_status()'),
	'bh_audit.queue|events queued here are not sealed: bh_audit.database is "probe"',
	'capture_status() in a copy says its queue is not sealed');
is($node->safe_psql('probe', 'SELECT count(*) FROM bh_audit.capture_status()'), '0',
	'and nothing in the sealer\'s database');

# The sealer moved to a TEMPLATE copy: its first batch records where it
# continued, chained after the head both ledgers share.
my $probe_head = $node->safe_psql('probe', 'SELECT event_hash FROM bh_audit.chain_head()');
$node->append_conf('postgresql.conf', "bh_audit.database = 'copy1'");
$node->restart;
$node->safe_psql('copy1', 'SELECT bh_audit.seal()');
is($node->safe_psql('copy1', "SELECT count(*), ($moves) FROM bh_audit.events"), '5|1',
	'the sealer in the copy records one continuation');
is($node->safe_psql('copy1', q{
SELECT seq, action, resource_type, resource_id, outcome, prev_event_hash = '} . $probe_head . q{'
  FROM bh_audit.events WHERE seq = 5}),
	'5|UPDATE|AuditConfiguration|bh_audit.events|SUCCESS|t',
	'as an AuditConfiguration event after the shared head');
is($node->safe_psql('copy1',
		'SELECT event->\'metadata\' = (' . continued_metadata('probe', $probe_oid, $sysid, 4)
		  . ') FROM bh_audit.events WHERE seq = 5'),
	't', 'naming the previous and the current database, OID and system identifier, and the head');
is($node->safe_psql('copy1', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the copy\'s chain verifies');
is($node->safe_psql('copy1', 'SELECT database_name, database_oid, system_identifier FROM bh_audit.ledger_home'),
	"copy1|$copy1_oid|$sysid", 'the copy is the ledger\'s home now');
$node->safe_psql('copy1', "SELECT bh_audit.emit('READ', 'Patient', 'p6', 'p6')");
$node->restart;
$node->safe_psql('copy1', 'SELECT bh_audit.seal()');
is($node->safe_psql('copy1', "SELECT count(*), ($moves) FROM bh_audit.events"), '6|1',
	'and its restart records nothing more');
is($node->safe_psql('probe', 'SELECT tbl, problem FROM bh_audit.capture_status()'),
	'bh_audit.queue|events queued here are not sealed: bh_audit.database is "copy1"',
	'capture_status() in the old database says so now');

# pg_dump of the ledger restored into another cluster, into the sealer's
# database there: one continuation, at the restored head.
my $dump = "$PostgreSQL::Test::Utils::tmp_check/copy1.dump";
$node->command_ok(['pg_dump', '-Fc', '-d', $node->connstr('copy1'), '-f', $dump], 'pg_dump');
my $copy1_count = $node->safe_psql('copy1', 'SELECT count(*) FROM bh_audit.events');
my $node2 = bh_node('home_b', database => 'restored', extension => 0);
$node2->command_ok(['pg_restore', '--exit-on-error', '-d', $node2->connstr('restored'), $dump],
	'pg_restore into another cluster');
$node2->safe_psql('restored', 'SELECT bh_audit.seal()');
my $n2 = $copy1_count + 1;
is($node2->safe_psql('restored', "SELECT count(*), ($moves) FROM bh_audit.events"), "$n2|2",
	'the restored ledger records one continuation more');
is($node2->safe_psql('restored',
		'SELECT event->\'metadata\' = (' . continued_metadata('copy1', $copy1_oid, $sysid, $copy1_count)
		  . ") FROM bh_audit.events WHERE seq = $n2"),
	't', 'from the dumped database and cluster to this one');
isnt($node2->safe_psql('restored', 'SELECT system_identifier FROM pg_control_system()'), $sysid,
	'(another cluster)');
is($node2->safe_psql('restored', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the restored chain verifies');
is($node2->safe_psql('restored', 'SELECT database_name FROM bh_audit.ledger_home'), 'restored',
	'its home is the restored database');
$node2->restart;
$node2->safe_psql('restored', "SELECT bh_audit.emit('READ', 'Patient', 'p7', 'p7')");
$node2->safe_psql('restored', 'SELECT bh_audit.seal()');
is($node2->safe_psql('restored', "SELECT count(*), ($moves) FROM bh_audit.events"), ($n2 + 1) . '|2',
	'a restart there records nothing more');

# (last: the denial is an event of the sealer's chain)
$node->safe_psql('postgres', 'CREATE ROLE alice LOGIN');
($ret, $out, $err) = $node->psql('probe', 'SELECT * FROM bh_audit.ledger_home',
	extra_params => [ '-U', 'alice' ]);
like($err, qr/permission denied for table ledger_home/, 'no role may read the ledger\'s home');

$node2->stop;
$node->stop;
done_testing();
