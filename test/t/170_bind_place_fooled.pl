# A statement with parameters failing at Bind (pgbench -M prepared, the
# last run's parameter does not convert) under a search_path other than the
# one it was prepared under records what its failure at EXECUTE records
# (docs/read-capture.md "At EXECUTE and at Bind"), each table with the
# action of the place its name has in the text, however the text is spelled:
# 1. A SELECT whose column label or alias is spelled like a command
#    (patient AS "delete", AS delete, sy.a AS update): READ.
# 2. A writing statement with such a label or alias: the command's action
#    on its target only, READ on the table read.
# 3. Comments, ONLY, MERGE, ON CONFLICT DO UPDATE, a dollar-quoted constant,
#    FOR NO KEY UPDATE: as at EXECUTE.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('bind_place_fooled');
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
		{ "170_$name" => "SELECT nextval('public.runs') AS n \\gset\n"
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
	[ 'alias_delete', 'SELECT patient AS "delete" FROM a WHERE id = %s',
	  "READ|FAILURE|sy.a" ],
	[ 'alias_delete_bare', 'SELECT patient AS delete FROM a WHERE id = %s',
	  "READ|FAILURE|sy.a" ],
	[ 'alias_update', 'SELECT u.patient FROM sy.a AS u, sy.a AS update, a WHERE a.id = u.id AND u.id = %s',
	  "READ|FAILURE|sy.a" ],
	[ 'comment_ins', 'INSERT /* x */ INTO a SELECT id + 10, patient FROM sy.a WHERE id = %s',
	  "CREATE|FAILURE|sy.a" ],
	[ 'upd_only', "UPDATE ONLY a SET patient = 'z' WHERE id IN (SELECT id FROM sy.a WHERE id = %s)",
	  "UPDATE|FAILURE|sy.a" ],
	[ 'merge', "MERGE INTO a USING (SELECT id FROM sy.a WHERE id = %s) s ON a.id = s.id WHEN MATCHED THEN UPDATE SET patient = 'm'",
	  "UPDATE|FAILURE|sy.a" ],
	[ 'on_conflict', "INSERT INTO sx.a SELECT id, patient FROM a WHERE id = %s ON CONFLICT (id) DO UPDATE SET patient = 'c'",
	  "CREATE|FAILURE|sx.a\n%s|READ|FAILURE|sy.a" ],
	[ 'dollar', 'SELECT patient FROM a WHERE id = %s AND patient <> $q$INSERT INTO a$q$',
	  "READ|FAILURE|sy.a" ],
	[ 'nokey', 'SELECT patient FROM a WHERE id = %s FOR NO KEY UPDATE',
	  "READ|FAILURE|sy.a" ],
	[ 'label_update', 'SELECT x.patient FROM sy.a x, (SELECT 1 AS "update") "update" WHERE x.id = %s',
	  "READ|FAILURE|sy.a" ],
	[ 'ins_label_delete', 'INSERT INTO sx.a SELECT id + 20, patient AS "delete" FROM a WHERE id = %s',
	  "CREATE|FAILURE|sx.a\n%s|READ|FAILURE|sy.a" ],
	[ 'upd_alias_update', "UPDATE sx.a AS t SET patient = 'u' FROM sy.a AS update, a WHERE t.id = a.id AND a.id = %s",
	  "UPDATE|FAILURE|sx.a\n%s|READ|FAILURE|sy.a" ],
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
$node->stop;
done_testing();
