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
bh_moved_path_tables($node);

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
bh_bind_as_execute($node, @$_) for @cases;
$node->stop;
done_testing();
