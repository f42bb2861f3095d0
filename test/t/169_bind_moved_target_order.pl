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
$node->safe_psql('postgres', q{
CREATE SCHEMA sx; CREATE SCHEMA sy; CREATE SCHEMA bv;
CREATE TABLE sx.a (id int PRIMARY KEY, patient text);
CREATE TABLE sy.a (id int PRIMARY KEY, patient text);
INSERT INTO sx.a VALUES (1, 'x'); INSERT INTO sy.a VALUES (1, 'y');
SELECT bh_audit.tag_table('sx.a', 'SxA', 'id', 'patient');
SELECT bh_audit.tag_table('sy.a', 'SyA', 'id', 'patient');
CREATE VIEW bv.ve AS SELECT seq FROM bh_audit.events;
CREATE SEQUENCE runs;
});

my $mark;
sub failures_since
{
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws('|', actor_id, action, outcome,
                            event -> 'metadata' ->> 'table'),
                  E'\n' ORDER BY actor_id, event -> 'metadata' ->> 'table')
  FROM bh_audit.events
 WHERE seq > $mark AND outcome <> 'SUCCESS'});
}

sub run_session
{
	my ($name, $body) = @_;
	$node->safe_psql('postgres', 'ALTER SEQUENCE public.runs RESTART');
	$node->pgbench("-n -M prepared -t 2", 2, [qr{}],
		[qr{invalid input syntax for type}], "$name: the last Bind fails",
		{ "169_$name" => "SELECT nextval('public.runs') AS n \\gset\n"
			  . "SELECT CASE WHEN :n = 2 THEN 'x' ELSE '9' END AS v \\gset\n"
			  . "BEGIN;\nSELECT bh_audit.set_context(actor_id => '$name');\n"
			  . "SELECT set_config('search_path', CASE WHEN :n = 1 THEN 'sx, public' ELSE 'sy, public' END, true);\n"
			  . $body . "COMMIT;\n" });
}

sub run_execute
{
	my ($name, $sql) = @_;
	$node->psql('postgres', qq{
SET search_path = sx, public;
PREPARE q(int) AS $sql;
SET search_path = sy, public;
BEGIN; SELECT bh_audit.set_context(actor_id => '$name'); EXECUTE q('x'); ROLLBACK;
});
}

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
for my $c (@cases)
{
	my ($name, $sql, $want) = @$c;
	$mark = bh_seal_mark($node, 'postgres');
	run_execute("e_$name", sprintf($sql, '$1'));
	is(failures_since(), "e_$name|" . sprintf($want, "e_$name"), "EXECUTE: $name");
	$mark = bh_seal_mark($node, 'postgres');
	run_session("b_$name", sprintf($sql, ':v') . ";\n");
	is(failures_since(), "b_$name|" . sprintf($want, "b_$name"), "Bind: $name, as at EXECUTE");
}

# 4. the ledger through a view, search_path left alone
$mark = bh_seal_mark($node, 'postgres');
$node->psql('postgres', q{
PREPARE qe(bigint) AS SELECT seq FROM bv.ve WHERE seq = $1;
BEGIN; SELECT bh_audit.set_context(actor_id => 'e_ledger_view'); EXECUTE qe('x'); ROLLBACK;
});
is(failures_since(), "e_ledger_view|READ|FAILURE|bh_audit.events", 'EXECUTE: ledger_view');
$mark = bh_seal_mark($node, 'postgres');
$node->safe_psql('postgres', 'ALTER SEQUENCE public.runs RESTART');
$node->pgbench("-n -M prepared -t 2", 2, [qr{}], [qr{invalid input syntax for type}],
	"b_ledger_view: the last Bind fails",
	{ "169_ledger_view" => "SELECT nextval('public.runs') AS n \\gset\n"
		  . "SELECT CASE WHEN :n = 2 THEN 'x' ELSE '9' END AS v \\gset\n"
		  . "BEGIN;\nSELECT bh_audit.set_context(actor_id => 'b_ledger_view');\n"
		  . "SELECT seq FROM bv.ve WHERE seq = :v;\nCOMMIT;\n" });
is(failures_since(), "b_ledger_view|READ|FAILURE|bh_audit.events", 'Bind: ledger_view, as at EXECUTE');
# the same view at EXECUTE under a search_path changed since the PREPARE
$mark = bh_seal_mark($node, 'postgres');
$node->psql('postgres', q{
SET search_path = sx, public;
PREPARE qp(bigint) AS SELECT seq FROM bv.ve WHERE seq = $1;
SET search_path = sy, public;
BEGIN; SELECT bh_audit.set_context(actor_id => 'e_ledger_view_path'); EXECUTE qp('x'); ROLLBACK;
});
is(failures_since(), "e_ledger_view_path|READ|FAILURE|bh_audit.events",
	'EXECUTE under another search_path: ledger_view');
$mark = bh_seal_mark($node, 'postgres');
run_session('b_ledger_view_path', "SELECT seq FROM bv.ve WHERE seq = :v;\n");
is(failures_since(), "b_ledger_view_path|READ|FAILURE|bh_audit.events",
	'Bind under another search_path: ledger_view, as at EXECUTE');

$node->stop;
done_testing();
