# A statement with parameters failing at Bind (pgbench -M prepared, the
# last run's parameter does not convert) under a search_path other than the
# one it was prepared under records what its failure at EXECUTE records
# (docs/read-capture.md "At EXECUTE and at Bind"): each name of the text
# stands for the table it resolves to now, with the action of its place.
# 1. The target's name moved (prepared under sx, bound under sy) to the
#    table the statement reads, the read coming first in the text (a CTE, a
#    sublink, a data-modifying WITH): the command's action (CREATE, UPDATE).
# 2. A read's name moved to another table (INSERT INTO sx.a SELECT ... FROM
#    a, bound under sy): CREATE on sx.a, READ on sy.a.
# 3. A read locked FOR UPDATE, its name moved: READ, as at EXECUTE.
# 4. A view over the ledger: READ FAILURE on bh_audit.events, at Bind as at
#    EXECUTE, also under a search_path changed since the PREPARE.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('bind_moved_order');
bh_moved_path_tables($node);

my @cases = (
	[ 'cte_ins', 'WITH r AS (SELECT id + 10 AS id, patient FROM sy.a WHERE id = %s) INSERT INTO a SELECT * FROM r',
	  "CREATE|FAILURE|sy.a" ],
	[ 'upd_sub', "UPDATE a SET patient = 'z' WHERE id IN (SELECT id FROM sy.a WHERE id = %s)",
	  "UPDATE|FAILURE|sy.a" ],
	[ 'dmwith', "WITH s AS (SELECT * FROM sy.a WHERE id = %s), d AS (UPDATE a SET patient = 'q' WHERE id IN (SELECT id FROM s) RETURNING 1) SELECT count(*) FROM d",
	  "UPDATE|FAILURE|sy.a" ],
	[ 'read_moved', 'INSERT INTO sx.a SELECT id + 10, patient FROM a WHERE id = %s',
	  "CREATE|FAILURE|sx.a\n%s|READ|FAILURE|sy.a" ],
	[ 'lock_moved', 'SELECT patient FROM a WHERE id = %s FOR UPDATE',
	  "READ|FAILURE|sy.a" ],
);
bh_bind_as_execute($node, @$_) for @cases;

# 4. the ledger through a view, search_path left alone
my $mark = bh_seal_mark($node, 'postgres');
$node->psql('postgres', q{
PREPARE qe(bigint) AS SELECT seq FROM bv.ve WHERE seq = $1;
BEGIN; SELECT bh_audit.set_context(actor_id => 'e_ledger_view'); EXECUTE qe('x'); ROLLBACK;
});
is(bh_failures_since($node, 'postgres', $mark, message => 0, error_type => 0),
	"e_ledger_view|READ|FAILURE|bh_audit.events", 'EXECUTE: ledger_view');
$mark = bh_seal_mark($node, 'postgres');
bh_bind_fails_last($node, 'b_ledger_view', 2, "SELECT seq FROM bv.ve WHERE seq = :v;\n");
is(bh_failures_since($node, 'postgres', $mark, message => 0, error_type => 0),
	"b_ledger_view|READ|FAILURE|bh_audit.events", 'Bind: ledger_view, as at EXECUTE');
# the same view under a search_path changed since the PREPARE
bh_bind_as_execute($node, 'ledger_view_path', 'SELECT seq FROM bv.ve WHERE seq = %s',
	'READ|FAILURE|bh_audit.events');

$node->stop;
done_testing();
