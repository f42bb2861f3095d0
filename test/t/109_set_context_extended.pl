# bh_audit.set_context() called on its own outside a transaction block
# warns as SET LOCAL does there (docs/sql-reference.md, tagging.md): its
# context ends with the statement, and the statements after it record the
# login.  Most drivers (libpq's PQexecParams, JDBC, node-postgres,
# psycopg 3, DBD::Pg) send every statement through the extended query
# protocol, Parse/Bind/Execute/Sync: the warning must come there too, as
# PostgreSQL's own for SET LOCAL does.  (Within a pipeline, before its Sync,
# the context does hold for the statements after it; SET LOCAL warns
# there as well.)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('ctx_extended');

sub run_pgbench
{
	my ($mode, $sql) = @_;
	return (bh_pgbench_script($node, 'postgres', $mode, "$sql\n"))[2];
}

my $warning = qr/WARNING:  bh_audit\.set_context\(\) can only be used in transaction blocks/;
my $call = q{SELECT bh_audit.set_context(actor_id => 'dr_ext');};

like(run_pgbench('simple', $call), $warning,
	'simple protocol: set_context() in autocommit warns');
like(run_pgbench('extended', q{SET LOCAL bh_audit.actor_id = 'dr_ext';}),
	qr/WARNING:  SET LOCAL can only be used in transaction blocks/,
	'extended protocol: SET LOCAL in autocommit warns (PostgreSQL)');
like(run_pgbench('extended', $call), $warning,
	'extended protocol: set_context() in autocommit warns as SET LOCAL does');
like(run_pgbench('prepared', $call), $warning,
	'extended protocol, named prepared statement: set_context() in autocommit warns');

$node->stop;
done_testing();
