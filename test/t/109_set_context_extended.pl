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
	my ($mode, $sql, $name) = @_;
	my $file = "$PostgreSQL::Test::Utils::tmp_check/$name.sql";
	PostgreSQL::Test::Utils::append_to_file($file, "$sql\n");
	my ($stdout, $stderr);
	IPC::Run::run(
		[
			'pgbench', '-n', '-M', $mode, '-t', '1', '-f', $file,
			'-h', $node->host, '-p', $node->port, 'postgres'
		],
		'>', \$stdout, '2>', \$stderr);
	return $stderr;
}

my $warning = qr/WARNING:  bh_audit\.set_context\(\) can only be used in transaction blocks/;
my $call = q{SELECT bh_audit.set_context(actor_id => 'dr_ext');};

like(run_pgbench('simple', $call, 'simple'), $warning,
	'simple protocol: set_context() in autocommit warns');
like(run_pgbench('extended', q{SET LOCAL bh_audit.actor_id = 'dr_ext';}, 'setlocal'),
	qr/WARNING:  SET LOCAL can only be used in transaction blocks/,
	'extended protocol: SET LOCAL in autocommit warns (PostgreSQL)');
like(run_pgbench('extended', $call, 'extended'), $warning,
	'extended protocol: set_context() in autocommit warns as SET LOCAL does');
like(run_pgbench('prepared', $call, 'prepared'), $warning,
	'extended protocol, named prepared statement: set_context() in autocommit warns');

$node->stop;
done_testing();
