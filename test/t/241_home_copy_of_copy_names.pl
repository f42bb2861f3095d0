# A copy of a database whose queue holds its own events while its ledger
# is empty and its home names the template it was created from (the
# extension in template1: every database created since holds it, with
# template1 as its home).  CREATE DATABASE copy TEMPLATE clinic: the
# copy's first seal records the fork (ledger_continued at head_seq 0), and
# that event must name where the events it continues were queued, clinic,
# as t/237's does: the auditor looks there for the other ledger holding
# them.  home.c takes the previous home from the home's row instead, which
# names template1, a database that never held those events.
#
# Case 2, the same cause: a ledger restored without its home's row
# (pg_restore --data-only -t events, as t/238) into a database created from
# that template1.  Its previous home is "unknown" (t/238), but home.c names
# the home's row, template1, whose ledger is empty: the mark counts as the
# previous home only when no row names another database.
#
# Case 3: the same restore after one of the home's row (-t ledger_home,
# then -t events): the previous home is clinic, the row restored, which
# the ledger's rows keep (only the row CREATE DATABASE copied goes).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('copy_of_copy', extension => 0);
$node->safe_psql('template1', 'CREATE EXTENSION bh_audit');
$node->safe_psql('postgres', 'CREATE DATABASE clinic');
my $clinic_oid = $node->safe_psql('postgres', "SELECT oid FROM pg_database WHERE datname = 'clinic'");
bh_queued_unsealed($node, 'clinic');
$node->safe_psql('postgres', 'CREATE DATABASE copy1 TEMPLATE clinic');

bh_seal_in($node, 'copy1');
is(bh_continued($node, 'copy1', 'count(*)'), '1',
	'the copy records one continuation');
is( bh_continued($node, 'copy1',
		"seq = 1, event->'metadata'->>'previous_database', event->'metadata'->>'previous_database_oid'"),
	"t|clinic|$clinic_oid",
	'naming clinic, where the events it continues were queued');
bh_chain_valid($node, 'copy1');

# Case 2: clinic's ledger (sealed now) restored without its home's row into
# r1, created from template1 (its home row: template1).
bh_seal_in($node, 'clinic');
my $dump = "$PostgreSQL::Test::Utils::tmp_check/clinic.dump";
$node->command_ok(['pg_dump', '-Fc', '-d', $node->connstr('clinic'), '-f', $dump], 'pg_dump of clinic');
$node->safe_psql('postgres', 'CREATE DATABASE r1');
$node->command_ok(['pg_restore', '--exit-on-error', '--data-only', '-t', 'events',
		'-d', $node->connstr('r1'), $dump], 'its ledger restored without the home\'s row');
bh_seal_in($node, 'r1');
is(bh_continued($node, 'r1', 'count(*)'), '1',
	'r1 records one continuation');
is( bh_continued($node, 'r1',
		"event->'metadata'->>'previous_database', event->'metadata'->>'previous_database_oid'"),
	'unknown|0', 'naming an unknown previous home, not template1');
bh_chain_valid($node, 'r1');

# Case 3: the same, with the home's row restored too: it names clinic,
# whatever row the database had from template1.
$node->safe_psql('postgres', 'CREATE DATABASE r2');
$node->command_ok(['pg_restore', '--exit-on-error', '--data-only', '-t', 'ledger_home',
		'-d', $node->connstr('r2'), $dump], 'the home\'s row restored');
$node->command_ok(['pg_restore', '--exit-on-error', '--data-only', '-t', 'events',
		'-d', $node->connstr('r2'), $dump], 'then the ledger\'s rows');
bh_seal_in($node, 'r2');
is( bh_continued($node, 'r2',
		"count(*), string_agg(event->'metadata'->>'previous_database', ','),
		 string_agg(event->'metadata'->>'previous_database_oid', ',')"),
	"1|clinic|$clinic_oid", 'r2 records one continuation, naming clinic');
bh_chain_valid($node, 'r2');

$node->stop;
done_testing();
