# A ledger restored without its home's row: the ledger's rows restored by a
# restore that leaves bh_audit.ledger_home's data out (pg_restore -t
# events, a data-only restore of the ledger alone, a dump taken with
# --exclude-table-data) came from another database and cluster all the
# same.  Continuing them forks the ledger as a full restore does, and the
# sealer should record it: its continuation must not depend on the one row
# that says where the ledger was sealed.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $moves = q{event->'metadata'->>'change' = 'ledger_continued'};
my $trail = q{SELECT string_agg(seq || ':' || coalesce(resource_id, '') || ':'
  || coalesce(event->'metadata'->>'change', ''), ' ' ORDER BY seq) FROM bh_audit.events};

my $node = bh_node('nohome_a', database => 'clinic');
$node->safe_psql('clinic',
	"SELECT bh_audit.emit('READ', 'Patient', 'p' || i, 'p' || i) FROM generate_series(1, 3) i");
$node->safe_psql('clinic', 'SELECT bh_audit.seal()');
my $head = $node->safe_psql('clinic', 'SELECT max(seq) FROM bh_audit.events');
my $dump = "$PostgreSQL::Test::Utils::tmp_check/clinic.dump";
$node->command_ok(['pg_dump', '-Fc', '-d', $node->connstr('clinic'), '-f', $dump], 'pg_dump');
my $dump_nohome = "$PostgreSQL::Test::Utils::tmp_check/clinic_nohome.dump";
$node->command_ok(['pg_dump', '-Fc', '--exclude-table-data=bh_audit.ledger_home',
		'-d', $node->connstr('clinic'), '-f', $dump_nohome], 'pg_dump without the home\'s data');

my $node2 = bh_node('nohome_b', database => 'postgres', extension => 0);

# Case 1: schema first, then the ledger's rows alone (pg_restore -t events).
$node2->safe_psql('postgres', 'CREATE DATABASE r1');
$node2->command_ok(['pg_restore', '--exit-on-error', '--schema-only', '-d', $node2->connstr('r1'), $dump],
	'schema-only restore');
$node2->command_ok(['pg_restore', '--exit-on-error', '--data-only', '-t', 'events', '-d', $node2->connstr('r1'), $dump],
	'the ledger\'s rows restored alone');
# Case 2: a dump without the home's row, restored whole.
$node2->safe_psql('postgres', 'CREATE DATABASE r2');
$node2->command_ok(['pg_restore', '--exit-on-error', '-d', $node2->connstr('r2'), $dump_nohome],
	'restore of the dump without the home\'s row');

for my $db ('r1', 'r2')
{
	is($node2->safe_psql($db, 'SELECT count(*) FROM bh_audit.events'), $head, "$db: the ledger restored");
	$node2->append_conf('postgresql.conf', "bh_audit.database = '$db'");
	$node2->restart;
	$node2->safe_psql($db, "SELECT bh_audit.emit('READ', 'Patient', 'n1', 'n1')");
	$node2->safe_psql($db, 'SELECT bh_audit.seal()');
	is($node2->safe_psql($db, "SELECT count(*) FROM bh_audit.events WHERE $moves"), '1',
		"$db: the sealer records one continuation of the restored ledger")
	  or diag "$db: " . $node2->safe_psql($db, $trail);
	is( $node2->safe_psql($db,
			"SELECT seq, event->'metadata'->>'head_seq' FROM bh_audit.events WHERE $moves"),
		($head + 1) . "|$head", "$db: at the restored head, before the new event");
	is( $node2->safe_psql($db,
			"SELECT event->'metadata'->>'previous_database', event->'metadata'->>'previous_database_oid',
			        event->'metadata'->>'previous_system_identifier'
			   FROM bh_audit.events WHERE $moves"),
		'unknown|0|0', "$db: from a home the restore did not say: unknown");
	is($node2->safe_psql($db, 'SELECT result FROM bh_audit.verify_chain()'), 'PASS', "$db: the chain verifies");
}

$node2->stop;
$node->stop;
done_testing();
