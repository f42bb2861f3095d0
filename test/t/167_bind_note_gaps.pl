# A statement with parameters failing at Bind (extended query protocol; a
# parameter that does not convert) records a FAILURE on each tagged table
# as its EXECUTE does: through an untagged partitioned table, on each
# partition tagged on its own under it, also once the search_path changed
# since the statement's analysis (the names qualified: the same tables; the
# note's partitions are looked up by the name of the partitioned table the
# text names); two tagged tables of the same name in two schemas
# (INSERT INTO bx.a ... FROM by.a) each with its own action under a changed
# search_path; a table tagged between the Parse and the failing Bind, as
# well as the one tagged at the analysis.  pgbench -M prepared sends its
# variables as parameters of prepared statements; :n counts the
# transactions of a run, and the last Bind fails ('x' for an integer).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('bind_note_gaps');
bh_bind_tables($node);

my $mark;
my $msg = 'invalid input syntax for type integer: ""';
$mark = bh_seal_mark($node, 'postgres');
bh_bind_fails_last($node, 'b_parent_same', 2, "SELECT patient FROM bx.parent WHERE id = :v;\n");
bh_bind_fails_last($node, 'b_parent_moved', 2, q{SELECT set_config('search_path', CASE WHEN :n = 1 THEN 'public' ELSE 'bx, public' END, true);
SELECT patient FROM bx.parent WHERE id = :v;
});
is(bh_failures_since($node, 'postgres', $mark), join("\n",
	"b_parent_moved|READ|FAILURE|invalid_text_representation|bx.p1|$msg",
	"b_parent_moved|READ|FAILURE|invalid_text_representation|bx.p2|$msg",
	"b_parent_same|READ|FAILURE|invalid_text_representation|bx.p1|$msg",
	"b_parent_same|READ|FAILURE|invalid_text_representation|bx.p2|$msg"),
	'through the partitioned table, also under another search_path');

# bx.c untagged at the Parse (first transaction), tagged before the Bind
# that fails (second): as EXECUTE records, both tables.
$node->safe_psql('postgres', 'CREATE TABLE bx.c (id int PRIMARY KEY, patient text)');
$mark = bh_seal_mark($node, 'postgres');
bh_bind_fails_last($node, 'b_tagged_between', 2, q{SELECT a.patient FROM bx.a JOIN bx.c USING (id) WHERE a.id = :v;
SELECT CASE WHEN :n = 1 THEN bh_audit.tag_table('bx.c', 'BxC', 'id', 'patient') END;
});
is(bh_failures_since($node, 'postgres', $mark), join("\n",
	"b_tagged_between|READ|FAILURE|invalid_text_representation|bx.a|$msg",
	"b_tagged_between|READ|FAILURE|invalid_text_representation|bx.c|$msg"),
	'a table tagged between Parse and Bind');

# Two tables named "a" (bx.a written, by.a read), the search_path changed
# since the analysis: the name "a" resolves to both in the text, each
# keeps the action the analysis found it with (not CREATE on by.a).
$mark = bh_seal_mark($node, 'postgres');
bh_bind_fails_last($node, 'b_same_name_moved', 2, q{SELECT set_config('search_path', CASE WHEN :n = 1 THEN 'public' ELSE 'bx, public' END, true);
INSERT INTO bx.a SELECT id + 10, patient FROM by.a WHERE id = :v;
});
is(bh_failures_since($node, 'postgres', $mark), join("\n",
	"b_same_name_moved|CREATE|FAILURE|invalid_text_representation|bx.a|$msg",
	"b_same_name_moved|READ|FAILURE|invalid_text_representation|by.a|$msg"),
	'two tables of one name under another search_path: each its own action');
$node->stop;
done_testing();
