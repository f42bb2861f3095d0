# Left open (operations.md): a home's row restored by itself (pg_restore
# --data-only -t ledger_home) into a database created from a template that
# holds the extension, then a change rewriting the database's pg_database
# row (GRANT ... ON DATABASE), then the ledger's rows (-t events).  The
# ledger's rows take the home's rows older than the pg_database row for
# ones CREATE DATABASE copied from the template (home.c
# bh_home_mark_carried): the restored row, naming clinic, goes with the
# template's, and the continuation names "unknown".  PostgreSQL keeps no
# creation transaction of a database that would tell the restored row from
# a copied one.  Without the GRANT (r_plain, as t/241's case 3) it names
# clinic.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $moves = q{event->'metadata'->>'change' = 'ledger_continued'};

my $node = bh_node('home_row_before_grant', extension => 0);
$node->safe_psql('template1', 'CREATE EXTENSION bh_audit');
$node->safe_psql('postgres', 'CREATE DATABASE clinic');
$node->append_conf('postgresql.conf', "bh_audit.database = 'clinic'");
$node->restart;
bh_notes_ledger($node, 'clinic');
my $dump = "$PostgreSQL::Test::Utils::tmp_check/clinic.dump";
$node->command_ok(['pg_dump', '-Fc', '-d', $node->connstr('clinic'), '-f', $dump], 'pg_dump of clinic');

foreach my $case (['r_plain', ''], ['r_granted', 'GRANT CONNECT ON DATABASE r_granted TO PUBLIC'])
{
	my ($db, $change) = @$case;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->command_ok(['pg_restore', '--exit-on-error', '--data-only', '-t', 'ledger_home',
			'-d', $node->connstr($db), $dump], "$db: the home's row restored");
	$node->safe_psql('postgres', $change) if $change;
	$node->command_ok(['pg_restore', '--exit-on-error', '--data-only', '-t', 'events',
			'-d', $node->connstr($db), $dump], "$db: then the ledger's rows");
	$node->append_conf('postgresql.conf', "bh_audit.database = '$db'");
	$node->restart;
	$node->safe_psql($db, 'SELECT bh_audit.seal()');
  TODO:
	{
		local $TODO = $change
		  ? 'a pg_database row changed after the home\'s row was restored by itself makes that row '
		  . 'look copied: the continuation names unknown'
		  : undef;
		is($node->safe_psql($db,
				"SELECT count(*), string_agg(event->'metadata'->>'previous_database', ',') FROM bh_audit.events WHERE $moves"),
			'1|clinic', "$db: one continuation, naming clinic");
	}
	bh_chain_valid($node, $db);
}

$node->stop;
done_testing();
